"""Accuracy against the reference: agreement, bias with CIs, planted SYNTHETIC interviewers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from calib.errors import DataValidationError
from calib.training import accuracy_against_reference, bias_by_dimension, simulate_round


def test_bias_ci_matches_scipy_one_sample_t():
    rng = np.random.default_rng(1)
    dev = rng.normal(0.4, 0.7, 9)
    cells = pd.DataFrame({"rater_id": "a", "dimension": "d", "deviation": dev})
    got = bias_by_dimension(cells, ["d"], confidence=0.9).iloc[0]
    ci = stats.ttest_1samp(dev, 0).confidence_interval(0.9)
    assert got["bias"] == pytest.approx(dev.mean())
    assert got["ci_low"] == pytest.approx(ci.low)
    assert got["ci_high"] == pytest.approx(ci.high)


def test_bias_words():
    cells = pd.DataFrame(
        {
            "rater_id": "a",
            "dimension": ["d"] * 4 + ["e"] * 4,
            "deviation": [1, 1, 1.5, 0.5, 1, -1, 0, 0],
        }
    )
    b = bias_by_dimension(cells, ["d", "e"]).set_index("dimension")
    assert "more lenient than the reference" in b.loc["d", "text"]
    assert "no clear bias" in b.loc["e", "text"]


def test_sample_round_experts_excluded_and_figures(expert_set, sample_tables):
    ratings = sample_tables[0]
    res = accuracy_against_reference(ratings, expert_set)
    # the experts set the reference: they are not scored against themselves
    assert set(res.summary["rater_id"]) == {"r01", "r02", "r03", "r04", "r05", "r06"}
    assert set(res.excluded["rater_id"]) == {"r07", "r08"}
    # independent recomputation of r01's exact / within-one agreement from the raw tables
    r01 = ratings[ratings["rater_id"] == "r01"].merge(
        expert_set.reference, on=["transcript_id", "dimension"]
    )
    dev = r01["score"] - r01["reference_score"]
    row = res.summary.set_index("rater_id").loc["r01"]
    assert row["n_cells"] == len(r01) == 64
    assert row["exact"] == pytest.approx((dev.abs() <= 0.5).mean())
    assert row["within_one"] == pytest.approx((dev.abs() <= 1.5).mean())
    assert row["mean_deviation"] == pytest.approx(dev.mean())
    # planted in the sample: r01 severe (+0.6 severity = lower scores), r02 lenient (-0.5)
    s = res.summary.set_index("rater_id")
    assert s.loc["r01", "mean_deviation"] < -0.2
    assert s.loc["r02", "mean_deviation"] > 0.2
    assert "Agreed exactly" in s.loc["r01", "summary_text"]


def test_planted_interviewers_recovered(expert_set, sample_tables):
    rubric = sample_tables[2]
    sim = simulate_round(
        expert_set,
        rubric,
        {
            "elev": {"elevation": 1.0, "noise": 0.2},
            "diff": {"noise": 1.0},
            "clean": {"noise": 0.2},
            "dimbias": {"dimension_bias": {"tradeoffs": -1.0}, "noise": 0.2},
        },
        seed=5,
    )
    res = accuracy_against_reference(sim, expert_set)
    s = res.summary.set_index("rater_id")
    # elevation error: elevation is the largest component and the mean deviation is positive
    comps = ["elevation", "differential_elevation", "stereotype_accuracy", "differential_accuracy"]
    assert s.loc["elev", comps].idxmax() == "elevation"
    assert s.loc["elev", "mean_deviation"] > 0.5
    # differential (random ranking) error: DA is the largest component, elevation small
    assert s.loc["diff", comps].idxmax() == "differential_accuracy"
    assert s.loc["diff", "differential_accuracy"] > 2 * s.loc["clean", "differential_accuracy"]
    assert s.loc["diff", "elevation"] < 0.3
    assert s.loc["clean", "within_one"] > 0.95
    b = res.bias.set_index(["rater_id", "dimension"])
    assert b.loc[("dimbias", "tradeoffs"), "ci_high"] < 0
    assert "harsher" in b.loc[("dimbias", "tradeoffs"), "text"]
    assert b.loc[("dimbias", "data"), "ci_low"] <= 0 <= b.loc[("dimbias", "data"), "ci_high"]


def test_no_ratings_of_the_set(expert_set, sample_tables):
    ratings = sample_tables[0]
    other = ratings[~ratings["transcript_id"].isin(expert_set.transcript_ids)]
    with pytest.raises(DataValidationError, match="no interviewer ratings"):
        accuracy_against_reference(other, expert_set)
    with pytest.raises(DataValidationError, match="zz"):
        accuracy_against_reference(ratings, expert_set, raters=["zz"])


def test_consensus_raters_are_not_scored_against_themselves(sample_tables):
    from calib.training import build_reference_set

    ratings, transcripts, rubric = sample_tables
    rs = build_reference_set(ratings, transcripts, rubric, n=8)
    with pytest.raises(DataValidationError, match="by raters who set its reference"):
        accuracy_against_reference(ratings, rs)


def test_partial_scoring(expert_set, sample_tables):
    """An interviewer who skipped cells: agreement on what was scored, Cronbach on the complete
    transcripts, coverage below 1."""
    sim = simulate_round(expert_set, sample_tables[2], {"p": {"noise": 0.2}}, seed=1)
    first = expert_set.transcript_ids[0]
    drop = (sim["transcript_id"] == first) & (sim["dimension"] == "data")
    res = accuracy_against_reference(sim[~drop], expert_set)
    s = res.summary.iloc[0]
    assert s["n_cells"] == 63 and s["coverage"] == pytest.approx(63 / 64)
    assert s["n_complete_transcripts"] == 7 and np.isfinite(s["differential_accuracy"])
