"""Length-only baseline grader."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calib.errors import ConfigError, GraderError
from calib.graders.baseline import LengthGrader, quantile_thresholds
from calib.graders.rules import candidate_word_counts
from calib.graders.validate import cross_fitted_length_scores
from calib.rubric import load_rubric

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "handwritten_transcripts.json"


@pytest.fixture(scope="module")
def rubric():
    return load_rubric(ROOT / "rubrics" / "ml_interview_v1.yaml")


@pytest.fixture(scope="module")
def transcripts():
    return pd.DataFrame(json.loads(FIXTURES.read_text())["transcripts"])


def test_quantile_thresholds_reproduce_the_human_score_distribution():
    rng = np.random.default_rng(4)
    words = rng.permutation(np.arange(1000, dtype=float))  # distinct lengths: no ties
    human = rng.choice([1, 2, 3, 4], size=1000, p=[0.1, 0.3, 0.4, 0.2]).astype(float)
    th = quantile_thresholds(words, human, [1, 2, 3, 4])
    assert np.all(np.diff(th) > 0)
    pred = 1 + np.searchsorted(th, words, side="right")
    np.testing.assert_allclose(
        np.bincount(pred, minlength=5)[1:] / 1000,
        np.bincount(human.astype(int), minlength=5)[1:] / 1000,
        atol=0.002,
    )


def test_unused_level_gets_an_empty_interval():
    th = quantile_thresholds(
        np.arange(10.0), np.array([1, 1, 1, 1, 1, 4, 4, 4, 4, 4.0]), [1, 2, 3, 4]
    )
    assert np.all(np.diff(th) > 0) and th[1] - th[0] < 1e-6


@settings(max_examples=50, deadline=None)
@given(
    words=st.lists(st.integers(0, 2000), min_size=5, max_size=60),
    human=st.lists(st.integers(1, 4), min_size=5, max_size=60),
)
def test_baseline_score_is_monotone_in_word_count(words, human):
    th = quantile_thresholds(np.array(words, float), np.array(human, float), [1, 2, 3, 4])
    grid = np.arange(0, 2100, 7)
    pred = 1 + np.searchsorted(th, grid, side="right")
    assert np.all(np.diff(pred) >= 0) and pred.min() >= 1 and pred.max() <= 4


def test_length_grader_scores_only_from_word_count(rubric, transcripts):
    words = candidate_word_counts(transcripts)
    g = LengthGrader({d: [50, 100, 150] for d in rubric.dimension_ids}, min_words=10)
    res = g.grade(transcripts, rubric, run_id="r")
    s = res.ratings.pivot(index="transcript_id", columns="dimension", values="score")
    expected = 1 + np.searchsorted([50, 100, 150], words.loc[s.index], side="right")
    too_short = words.loc[s.index] < 10
    for d in rubric.dimension_ids:
        np.testing.assert_array_equal(s[d][~too_short.to_numpy()], expected[~too_short.to_numpy()])
    short = res.ratings[res.ratings.transcript_id == "hw_too_short"]
    assert short.score.isna().all() and short.unscored_reason.str.startswith("too_short").all()
    assert (res.evidence.signal == "word_count").all()
    assert res.ratings.rater_id.str.fullmatch(r"length-[0-9a-f]{8}").all()
    assert res.summary["scored"] + res.summary["unscored"] == len(res.ratings)


def test_length_grader_identity_and_config_errors(rubric):
    a = LengthGrader({"data": [10, 20, 30]})
    b = LengthGrader.from_config({"thresholds": {"data": [10, 20, 30]}}, rubric)
    c = LengthGrader({"data": [10, 20, 31]})
    assert a.rater_id == b.rater_id != c.rater_id
    with pytest.raises(ConfigError, match="thresholds.data"):
        LengthGrader.from_config({"thresholds": {"data": [30, 20, 10]}}, rubric)
    with pytest.raises(GraderError, match="unknown key"):
        LengthGrader.from_config({"thresholdz": {}}, rubric)
    with pytest.raises(GraderError):
        LengthGrader({})


def test_fit_and_cross_fitting(rubric):
    from calib.graders.validate import human_consensus
    from calib.simulate import SimulationConfig, simulate_dataset

    ds = simulate_dataset(SimulationConfig(n_transcripts=60, seed=3))  # SYNTHETIC
    cons = human_consensus(ds.ratings)
    g = LengthGrader.fit(ds.transcripts, cons, rubric)
    assert set(g.thresholds) == set(rubric.dimension_ids)
    words = candidate_word_counts(ds.transcripts)
    cf = cross_fitted_length_scores(words, cons["data"], [1, 2, 3, 4], folds=5, seed=0)
    assert cf.index.equals(cons["data"].dropna().index) and cf.between(1, 4).all()
    cf2 = cross_fitted_length_scores(words, cons["data"], [1, 2, 3, 4], folds=5, seed=0)
    pd.testing.assert_series_equal(cf, cf2)
