"""Certification gate and progress over rounds (SYNTHETIC interviewers planted on the sample's
expert reference set)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from calib.errors import ConfigError
from calib.training import (
    Gate,
    accuracy_against_reference,
    build_training_report,
    certify,
    load_gate,
    simulate_round,
)
from calib.training._progress import RaterGrid, bootstrap_change
from calib.training._report import round_ratings

SAMPLE = Path(__file__).resolve().parents[2] / "datasets" / "sample"


def _summary(**kw):
    base = {
        "rater_id": "a",
        "within_one": 0.95,
        "coverage": 1.0,
        "exact": 0.6,
        "differential_accuracy": 0.4,
    }
    base.update(kw)
    return pd.DataFrame([base])


def _bias(*values):
    return pd.DataFrame(
        {"rater_id": "a", "dimension": [f"d{i}" for i in range(len(values))], "bias": values}
    )


def test_gate_criteria_one_by_one():
    g = Gate()
    assert certify(_summary(), _bias(0.5, -0.5), g).loc[0, "certified"]  # on the boundary: pass
    out = certify(_summary(within_one=0.89), _bias(0.1), g).loc[0]
    assert not out["certified"] and out["failed"] == "within one level 89% < 90%"
    out = certify(_summary(), _bias(0.1, -0.51), g).loc[0]
    assert out["failed"] == "bias on d1 -0.51 beyond ±0.5" and out["worst_dimension"] == "d1"
    out = certify(_summary(coverage=0.9), _bias(0.0), g).loc[0]
    assert out["failed"].startswith("scored 90% of the set")
    strict = Gate(min_exact=0.7, max_differential_accuracy=0.3)
    out = certify(_summary(), _bias(0.0), strict).loc[0]
    assert out["failed"] == "exact agreement 60% < 70%; differential accuracy 0.40 > 0.3"
    off = Gate(min_within_one=None, max_abs_bias=None, min_coverage=None)
    assert certify(_summary(within_one=0.1, coverage=0.2), _bias(3.0), off).loc[0, "certified"]


def test_gate_file(tmp_path):
    (tmp_path / "g.yaml").write_text("min_within_one: 0.8\nmax_abs_bias: 0.4\n")
    assert load_gate(tmp_path / "g.yaml") == Gate(min_within_one=0.8, max_abs_bias=0.4)
    (tmp_path / "g.json").write_text('{"max_differential_accuracy": 0.5}')
    assert load_gate(tmp_path / "g.json").max_differential_accuracy == 0.5
    (tmp_path / "bad.yaml").write_text("min_within: 0.8\n")
    with pytest.raises(ConfigError, match=r"bad.yaml: unknown key\(s\) \['min_within'\]"):
        load_gate(tmp_path / "bad.yaml")
    (tmp_path / "bad2.yaml").write_text("min_within_one: 90\n")
    with pytest.raises(ConfigError, match="bad2.yaml: gate: min_within_one is a share"):
        load_gate(tmp_path / "bad2.yaml")


def test_sample_certification_matches_independent_computation(expert_set, sample_tables):
    """Default gate on the sample round, recomputed from the raw CSV with plain pandas."""
    res = accuracy_against_reference(sample_tables[0], expert_set)
    cert = certify(res.summary, res.bias, Gate()).set_index("rater_id")
    raw = pd.read_csv(SAMPLE / "ratings.csv")
    ids = expert_set.transcript_ids
    raw = raw[raw["transcript_id"].isin(ids)]
    ref = (
        raw[raw["rater_id"].isin(["r07", "r08"])]
        .groupby(["transcript_id", "dimension"])["score"]
        .mean()
    )
    for rater in ["r01", "r02", "r03", "r04", "r05", "r06"]:
        mine = raw[raw["rater_id"] == rater].set_index(["transcript_id", "dimension"])["score"]
        dev = mine - ref.loc[mine.index]
        within = (dev.abs() <= 1.5).mean()
        worst = dev.groupby(level="dimension").mean().abs().max()
        want = within >= 0.9 and worst <= 0.5 and len(dev) == 64
        assert bool(cert.loc[rater, "certified"]) == want, rater
    assert not cert.loc["r02", "certified"]  # the sample's planted lenient rater


def test_bootstrap_matches_scipy_two_sample_percentile():
    """One dimension: the change in within-one agreement is a difference of two independent
    means; compare the CI with scipy.stats.bootstrap (percentile, unpaired)."""
    rng = np.random.default_rng(2)
    t1, t2 = np.full((40, 1), 2.0), np.full((50, 1), 2.0)
    x1 = t1 + rng.choice([0, 1, 2], size=(40, 1), p=[0.4, 0.35, 0.25])
    x2 = t2 + rng.choice([0, 1, 2], size=(50, 1), p=[0.6, 0.35, 0.05])
    mine = bootstrap_change(RaterGrid(x1, t1), RaterGrid(x2, t2), n_boot=4000, seed=1)
    a = (np.abs(x1 - t1) <= 1.5).ravel().astype(float)
    b = (np.abs(x2 - t2) <= 1.5).ravel().astype(float)
    ref = stats.bootstrap(
        (a, b),
        lambda a, b, axis=-1: b.mean(axis=axis) - a.mean(axis=axis),
        paired=False,
        method="percentile",
        n_resamples=20000,
        random_state=3,
    ).confidence_interval
    change, lo, hi = mine["within_one"]
    assert change == pytest.approx(b.mean() - a.mean())
    assert lo == pytest.approx(ref.low, abs=0.02)
    assert hi == pytest.approx(ref.high, abs=0.02)


def test_progress_planted_improvement(expert_set, sample_tables):
    rubric = sample_tables[2]
    r1 = simulate_round(
        expert_set,
        rubric,
        {
            "improves": {"elevation": 1.0, "noise": 0.6},
            "steady": {"noise": 0.25},
            "stuck": {"dimension_bias": {"data": 1.5}, "noise": 0.25},
        },
        seed=1,
    )
    r2 = simulate_round(
        expert_set,
        rubric,
        {
            "improves": {"noise": 0.25},
            "steady": {"noise": 0.25},
            "stuck": {"dimension_bias": {"data": 1.5}, "noise": 0.25},
        },
        seed=2,
    )
    rep = build_training_report(
        [("r1", r1, expert_set), ("r2", r2, expert_set)], rubric, n_boot=400, seed=0
    )
    p = rep.progress.set_index("rater_id")
    assert p.loc["improves", "mean_abs_deviation_ci_high"] < 0
    assert p.loc["improves", "moved_inside"]
    assert "moved inside tolerance" in p.loc["improves", "text"]
    lo, hi = (
        p.loc["steady", "mean_abs_deviation_ci_low"],
        p.loc["steady", "mean_abs_deviation_ci_high"],
    )
    assert lo < 0 < hi
    assert not p.loc["stuck", "certified_last"] and not p.loc["stuck", "moved_inside"]
    assert "bias on data" in p.loc["stuck", "failed_last"]
    # deterministic
    again = build_training_report(
        [("r1", r1, expert_set), ("r2", r2, expert_set)], rubric, n_boot=400, seed=0
    )
    pd.testing.assert_frame_equal(again.progress, rep.progress)


def test_round_ratings_keep_their_own_tag(expert_set):
    df = pd.DataFrame(
        {
            "run_id": [
                f"training:{expert_set.set_id}",
                "training:set-other",
                np.nan,
                "rules-123",
            ]
        }
    )
    assert round_ratings(df, expert_set).index.tolist() == [0, 2, 3]
