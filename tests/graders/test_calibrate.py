"""Threshold calibration: isotonic and cumulative-logit fits against independent oracles."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from calib.errors import ConfigError
from calib.graders.calibrate import (
    calibrate_rule_grader,
    fit_isotonic_thresholds,
    fit_ordinal,
    fit_qwk_thresholds,
    fit_thresholds,
)
from calib.graders.rules import RuleGrader
from calib.rubric import load_rubric

ROOT = Path(__file__).resolve().parents[2]


def test_ordinal_fit_matches_statsmodels_ordered_model():
    om = pytest.importorskip("statsmodels.miscmodels.ordinal_model")
    rng = np.random.default_rng(7)
    x = rng.normal(2, 1.5, 500)
    latent = 1.3 * x + rng.logistic(size=500)
    y = 1 + np.searchsorted([1.0, 2.5, 4.0], latent)
    got = fit_ordinal(x, y, [1, 2, 3, 4])
    ref = om.OrderedModel(y, x[:, None], distr="logit").fit(method="bfgs", disp=False, maxiter=2000)
    slope = ref.params[0]
    cuts = ref.model.transform_threshold_params(ref.params)[1:-1]
    assert got["slope"] == pytest.approx(slope, abs=1e-3)
    np.testing.assert_allclose(got["cutpoints"], cuts, atol=1e-3)
    assert got["loglik"] == pytest.approx(ref.llf, abs=1e-4)
    np.testing.assert_allclose(got["thresholds"], cuts / slope, atol=1e-3)


def test_isotonic_thresholds_match_sklearn_isotonic_predictions():
    iso = pytest.importorskip("sklearn.isotonic")
    rng = np.random.default_rng(8)
    x = np.round(rng.normal(2, 1, 400), 2)
    y = np.clip(np.floor(0.8 * x + rng.normal(0, 0.7, 400) + 0.5), 1, 4)
    th = fit_isotonic_thresholds(x, y, [1, 2, 3, 4])
    ours = 1 + np.searchsorted(th, x, side="right")
    ref = iso.IsotonicRegression(increasing=True).fit(x, y).predict(x)
    np.testing.assert_array_equal(ours, np.clip(np.floor(ref + 0.5), 1, 4))


def _qwk(h, p):
    from sklearn.metrics import cohen_kappa_score

    return cohen_kappa_score(h, p, weights="quadratic", labels=[1, 2, 3, 4])


def test_qwk_thresholds_reach_the_brute_force_optimum():
    # oracle: exhaustive search over every ordered triple of candidate cut points, QWK from
    # scikit-learn's cohen_kappa_score (independent of calib's moment formula)
    import itertools

    pytest.importorskip("sklearn")
    rng = np.random.default_rng(9)
    x = rng.integers(0, 12, 60).astype(float)
    h = np.clip(np.floor(x / 3 + rng.normal(0, 0.9, 60) + 0.5), 1, 4)
    xs = np.unique(x)
    cand = np.concatenate([[xs[0] - 1], (xs[:-1] + xs[1:]) / 2, [xs[-1] + 1]])
    best = max(
        _qwk(h, 1 + np.searchsorted(np.array(c), x, side="right"))
        for c in itertools.combinations(cand, 3)
    )
    th = fit_qwk_thresholds(x, h, [1, 2, 3, 4])
    got = _qwk(h, 1 + np.searchsorted(th, x, side="right"))
    iso = _qwk(h, 1 + np.searchsorted(fit_isotonic_thresholds(x, h, [1, 2, 3, 4]), x, side="right"))
    assert got >= iso - 1e-12
    assert got == pytest.approx(best, abs=1e-9)


def test_fit_thresholds_rejects_unknown_method():
    with pytest.raises(ConfigError, match="method"):
        fit_thresholds(np.arange(10.0), np.arange(10.0) % 4 + 1, [1, 2, 3, 4], method="magic")


@pytest.fixture(scope="module")
def sim():
    from calib.simulate import SimulationConfig, simulate_dataset

    return simulate_dataset(SimulationConfig(n_transcripts=80, seed=13))  # SYNTHETIC


@pytest.mark.filterwarnings("ignore::calib.errors.CalibWarning")  # ordinal falls back on thin folds
@pytest.mark.parametrize("method", ["isotonic", "ordinal", "qwk"])
def test_calibrate_rule_grader_writes_a_loadable_config(sim, method):
    rubric = load_rubric(ROOT / "rubrics" / "ml_interview_v1.yaml")
    g = RuleGrader.from_rubric(rubric)
    res = calibrate_rule_grader(
        g, sim.transcripts, sim.ratings, rubric, method=method, folds=3, seed=2
    )
    assert set(res.cv.columns) == {
        "dimension",
        "N",
        "wtkappa_before",
        "wtkappa_after",
        "exact_agr_before",
        "exact_agr_after",
    }
    assert len(res.cv) >= 7
    for th in res.config["thresholds"].values():
        assert len(th) == 3 and np.all(np.diff(th) > 0)
    fitted = RuleGrader.from_rubric(rubric, res.config)
    assert fitted.rater_id != g.rater_id
    again = calibrate_rule_grader(
        g, sim.transcripts, sim.ratings, rubric, method=method, folds=3, seed=2
    )
    assert again.config == res.config
    out = fitted.grade(sim.transcripts, rubric).ratings
    assert set(out.score.dropna().unique()) <= {1.0, 2.0, 3.0, 4.0}


def test_calibrate_argument_errors(sim):
    rubric = load_rubric(ROOT / "rubrics" / "ml_interview_v1.yaml")
    g = RuleGrader.from_rubric(rubric)
    with pytest.raises(ConfigError, match="folds"):
        calibrate_rule_grader(g, sim.transcripts, sim.ratings, rubric, folds=1)
    with pytest.raises(ConfigError, match="method"):
        calibrate_rule_grader(g, sim.transcripts, sim.ratings, rubric, method="svm")
