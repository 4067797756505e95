"""The documented generative model, checked on hand-worked cases and on the latent draws."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from calib.errors import ConfigError
from calib.simulate import RaterProfile, SimulationConfig, SubgroupEffect, simulate_dataset
from calib.simulate._judge import judge

DIMS = ("a", "b", "c")


def _judge(theta, rater, days=0.0, noise=None, groups=None, seed=0):
    theta = np.atleast_2d(np.asarray(theta, dtype=float))
    n = theta.shape[0]
    return judge(
        theta,
        np.arange(n),
        np.zeros(n, int),
        np.full(n, days),
        groups or {"g": np.array(["x"] * n, dtype=object)},
        [rater],
        DIMS[: theta.shape[1]],
        noise or {},
        (1, 4),
        np.random.default_rng(seed),
    )


def test_severity_drift_and_rounding_by_hand():
    # y = theta - severity + drift * days / 30 = [2.0, 3.0, 3.9] - 0.6 + 0.3 * 45 / 30
    #   = [1.85, 2.85, 3.75] -> round half up -> [2, 3, 4]
    y, s = _judge(
        [2.0, 3.0, 3.9],
        RaterProfile("r", severity=0.6, drift_per_30_days=0.3, noise_sd=0.0),
        days=45,
    )
    np.testing.assert_allclose(y, [[1.85, 2.85, 3.75]])
    np.testing.assert_array_equal(s, [[2.0, 3.0, 4.0]])


def test_positive_severity_lowers_and_clips():
    _, s = _judge([1.2, 4.6, 2.5], RaterProfile("r", severity=1.0, noise_sd=0.0))
    # [0.2, 3.6, 1.5] -> clip(round) -> [1, 4, 2]
    np.testing.assert_array_equal(s, [[1.0, 4.0, 2.0]])


def test_halo_by_hand():
    # mean = 2.5; y = 0.5 * [1.5, 2.5, 3.5] + 0.5 * 2.5 = [2.0, 2.5, 3.0]
    y, _ = _judge([1.5, 2.5, 3.5], RaterProfile("r", halo=0.5, noise_sd=0.0))
    np.testing.assert_allclose(y, [[2.0, 2.5, 3.0]])


def test_central_tendency_by_hand():
    # y = 2.5 + (1 - 0.6) * ([1.0, 4.0, 3.0] - 2.5) = [1.9, 3.1, 2.7]
    y, s = _judge([1.0, 4.0, 3.0], RaterProfile("r", central_tendency=0.6, noise_sd=0.0))
    np.testing.assert_allclose(y, [[1.9, 3.1, 2.7]])
    np.testing.assert_array_equal(s, [[2.0, 3.0, 3.0]])


def test_halo_applies_before_central_tendency():
    # halo 0.5 then ct 0.5: [1.0, 4.0] -> [1.75, 3.25] -> 2.5 + 0.5 * [-0.75, 0.75] = [2.125, 2.875]
    y, _ = _judge([1.0, 4.0], RaterProfile("r", halo=0.5, central_tendency=0.5, noise_sd=0.0))
    np.testing.assert_allclose(y, [[2.125, 2.875]])


def test_subgroup_shift_only_for_matching_group_and_dimension():
    rater = RaterProfile("r", noise_sd=0.0, subgroup_effects=(SubgroupEffect("g", "x", "b", -0.4),))
    groups = {"g": np.array(["x", "y"], dtype=object)}
    y, _ = _judge([[2.0, 2.0, 2.0], [2.0, 2.0, 2.0]], rater, groups=groups)
    np.testing.assert_allclose(y, [[2.0, 1.6, 2.0], [2.0, 2.0, 2.0]])


def test_noise_sd_is_rater_plus_dimension_in_central_band():
    theta = np.tile([1.2, 2.5, 3.8], (20000, 1))
    y, _ = _judge(theta, RaterProfile("r", noise_sd=0.2), noise={"a": 0.5, "b": 0.5, "c": 0.5})
    sd = (y - theta).std(axis=0)
    # 1.2 and 3.8 lie outside [1.5, 3.5): only the rater's 0.2; 2.5 inside: 0.2 + 0.5 = 0.7.
    np.testing.assert_allclose(sd, [0.2, 0.7, 0.2], rtol=0.03)


def test_base_noise_applies_everywhere_and_adds_to_ambiguity():
    theta = np.tile([1.2, 2.5, 3.8], (20000, 1))
    n = theta.shape[0]
    y, _ = judge(
        theta,
        np.arange(n),
        np.zeros(n, int),
        np.zeros(n),
        {},
        [RaterProfile("r", noise_sd=0.2)],
        DIMS,
        {"b": 0.5},
        (1, 4),
        np.random.default_rng(0),
        base_noise={"a": 0.1, "b": 0.3},
    )
    sd = (y - theta).std(axis=0)
    # a: 0.2 + 0.1 even outside the central band; b (2.5, central): 0.2 + 0.3 + 0.5; c: rater only.
    np.testing.assert_allclose(sd, [0.3, 1.0, 0.2], rtol=0.03)


def test_latent_scores_match_documented_distribution(big_ds):
    th = big_ds.true_scores.pivot(index="transcript_id", columns="dimension", values="true_score")
    cfg = big_ds.config
    assert abs(th.to_numpy().mean() - 2.5) < 0.05
    seniority = big_ds.transcripts.set_index("transcript_id")["metadata"].map(
        lambda m: m["seniority"]
    )
    means = th.mean(axis=1).groupby(seniority).mean()
    assert means["junior"] < means["mid"] < means["senior"]
    assert abs((means["senior"] - means["junior"]) - 0.5) < 0.08
    centred = th - th.groupby(seniority).transform("mean")
    # per-dimension spread: dimension_latent_sd where given (problem_framing, evaluation), else latent_sd
    expected = pd.Series(
        {d: cfg.dimension_latent_sd.get(d, cfg.latent_sd) for d in centred.columns}
    )
    assert set(cfg.dimension_latent_sd) == {"problem_framing", "evaluation"}
    assert (expected > cfg.latent_sd).sum() == 2
    np.testing.assert_allclose(centred.std(ddof=0), expected, atol=0.03)
    c = np.corrcoef(centred.to_numpy().T)
    assert abs(c[np.triu_indices_from(c, 1)].mean() - cfg.general_factor_rho) < 0.04


def test_subgroup_attribute_independent_of_skill(big_ds):
    th = big_ds.true_scores.groupby("transcript_id", sort=False)["true_score"].mean()
    tier = big_ds.transcripts["metadata"].map(lambda m: m["school_tier"]).to_numpy()
    gap = th[tier == "non_target"].mean() - th[tier == "target"].mean()
    assert abs(gap) < 0.08
    assert 0.55 < (tier == "non_target").mean() < 0.65


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_transcripts": 0}, "n_transcripts"),
        ({"n_raters": 1}, "n_raters"),
        ({"raters_per_transcript": (3, 2)}, "raters_per_transcript"),
        ({"n_raters": 2}, "raters_per_transcript"),
        ({"linked_fraction": 1.5}, "linked_fraction"),
        ({"start_date": "2026-07-01"}, "end_date"),
        ({"start_date": "not a date"}, "start_date"),
        ({"seniority_probs": {"junior": 0.5, "mid": 0.2, "senior": 0.2}}, "seniority_probs"),
        ({"dimension_noise": {"tradeoffs": -1.0}}, "dimension_noise"),
        ({"dimension_base_noise": {"data": -0.1}}, "dimension_base_noise"),
        ({"dimension_latent_sd": {"data": -1.0}}, "dimension_latent_sd"),
    ],
)
def test_config_errors_name_the_argument(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        SimulationConfig(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"halo": 1.0}, "halo"),
        ({"central_tendency": -0.1}, "central_tendency"),
        ({"noise_sd": -0.1}, "noise_sd"),
        ({"rater_id": ""}, "rater_id"),
    ],
)
def test_rater_profile_errors(kwargs, match):
    base = {"rater_id": "r01"} | kwargs
    with pytest.raises(ConfigError, match=match):
        RaterProfile(**base)


def test_unknown_dimension_in_custom_cast():
    raters = [RaterProfile("a", severity={"nope": 1.0}), RaterProfile("b"), RaterProfile("c")]
    with pytest.raises(ConfigError, match="nope"):
        simulate_dataset(SimulationConfig(n_transcripts=5, raters=raters))
    with pytest.raises(ConfigError, match="dimension_noise"):
        simulate_dataset(SimulationConfig(n_transcripts=5, dimension_noise={"nope": 0.3}))
    with pytest.raises(ConfigError, match="dimension_base_noise"):
        simulate_dataset(SimulationConfig(n_transcripts=5, dimension_base_noise={"nope": 0.3}))
    with pytest.raises(ConfigError, match="dimension_latent_sd"):
        simulate_dataset(SimulationConfig(n_transcripts=5, dimension_latent_sd={"nope": 1.0}))
    with pytest.raises(ConfigError, match="duplicate"):
        SimulationConfig(raters=[RaterProfile("a"), RaterProfile("a"), RaterProfile("c")])


def test_custom_cast_is_used_and_recorded():
    raters = [
        RaterProfile("ann", severity={"data": 0.3}, role="x"),
        RaterProfile("bob"),
        RaterProfile("cy"),
    ]
    ds = simulate_dataset(SimulationConfig(n_transcripts=30, raters=raters, dimension_noise={}))
    assert set(ds.ratings["rater_id"]) == {"ann", "bob", "cy"}
    assert ds.planted["raters"]["ann"]["severity"]["data"] == 0.3
    assert ds.planted["raters"]["ann"]["severity"]["modeling"] == 0.0
    assert ds.planted["config"]["custom_raters"] is True


def test_mismatched_rubric_falls_back_with_warning(tmp_path):
    """A rubric the phrase banks do not cover falls back to the built-in dimensions, loudly."""
    from pathlib import Path

    from calib.errors import CalibWarning
    from calib.simulate import DEFAULT_DIMENSIONS
    from calib.simulate._dataset import _dimensions_from_rubric

    shipped = Path(__file__).resolve().parents[2] / "rubrics" / "ml_interview_v1.yaml"
    if not shipped.is_file():
        pytest.skip("rubric not present")
    text = shipped.read_text(encoding="utf-8")
    assert 'version: "1.0"' in text
    other = tmp_path / "v2.yaml"
    other.write_text(text.replace('version: "1.0"', 'version: "2.0"', 1), encoding="utf-8")
    with pytest.warns(CalibWarning, match="v2.0"):
        dims, scale = _dimensions_from_rubric(other, 0)
    assert dims == DEFAULT_DIMENSIONS and scale == (1, 4)
    assert _dimensions_from_rubric(shipped, 0) == (DEFAULT_DIMENSIONS, (1, 4))
