"""The documented rater model is what the generator implements: statsmodels OLS, an independent
estimator, recovers every planted parameter from the continuous judgements (before rounding).

Reference: ordinary least squares as implemented by statsmodels (``statsmodels.api.OLS``); the
planted values are those of ``calib.simulate.default_raters`` (docs/simulate.md, "Default cast").
Each estimate must lie within 4 standard errors of the planted value.
"""

from __future__ import annotations

import numpy as np
import pytest

sm = pytest.importorskip("statsmodels.api")

from calib.simulate import DEFAULT_DIMENSIONS, default_raters  # noqa: E402
from calib.simulate._judge import judge  # noqa: E402

N = 3000  # transcripts; every default rater judges every one (continuous y, SYNTHETIC)


@pytest.fixture(scope="module")
def judged():
    rng = np.random.default_rng(123)
    raters = default_raters()
    D = len(DEFAULT_DIMENSIONS)
    theta = 2.5 + 0.75 * (
        np.sqrt(0.5) * rng.standard_normal((N, 1)) + np.sqrt(0.5) * rng.standard_normal((N, D))
    )
    t_idx = np.repeat(np.arange(N), len(raters))
    r_idx = np.tile(np.arange(len(raters)), N)
    days = rng.uniform(0, 180, size=len(t_idx))
    tier = np.where(rng.random(N) < 0.6, "non_target", "target").astype(object)
    y, _ = judge(
        theta,
        t_idx,
        r_idx,
        days,
        {"school_tier": tier},
        raters,
        DEFAULT_DIMENSIONS,
        {},
        (1, 4),
        np.random.default_rng(7),
    )
    return {
        "theta": theta,
        "t": t_idx,
        "r": r_idx,
        "days": days,
        "tier": tier,
        "y": y,
        "raters": raters,
    }


def _within(fit, name_or_idx, planted, k=4.0):
    est, se = fit.params[name_or_idx], fit.bse[name_or_idx]
    assert abs(est - planted) < k * se, (est, se, planted)


def _rows(j, rater_id):
    ri = [r.rater_id for r in j["raters"]].index(rater_id)
    return j["r"] == ri


def test_severity_and_drift(judged):
    # residual averaged over dimensions = -mean severity + drift * days / 30 + noise
    j = judged
    for rid, drift in [("r01", 0.0), ("r02", 0.0), ("r05", 0.25), ("r07", 0.0)]:
        m = _rows(j, rid)
        planted = next(r for r in j["raters"] if r.rater_id == rid)
        resid = (j["y"][m] - j["theta"][j["t"][m]]).mean(axis=1)
        fit = sm.OLS(resid, sm.add_constant(j["days"][m] / 30.0)).fit()
        _within(fit, 0, -np.mean([planted.severity_for(d) for d in DEFAULT_DIMENSIONS]))
        _within(fit, 1, drift)
    assert (
        abs(
            sm.OLS(
                (j["y"][_rows(j, "r01")] - j["theta"][j["t"][_rows(j, "r01")]]).ravel(),
                np.ones(_rows(j, "r01").sum() * 8),
            )
            .fit()
            .params[0]
            + 0.6
        )
        < 0.02
    )


def test_per_dimension_severity(judged):
    j = judged
    m = _rows(j, "r07")
    r07 = next(r for r in j["raters"] if r.rater_id == "r07")
    resid = j["y"][m] - j["theta"][j["t"][m]]
    for d, dim in enumerate(DEFAULT_DIMENSIONS):
        fit = sm.OLS(resid[:, d], np.ones((resid.shape[0], 1))).fit()
        _within(fit, 0, -r07.severity_for(dim))


def test_central_tendency_slope(judged):
    j = judged
    m = _rows(j, "r04")
    x = j["theta"][j["t"][m]].ravel()
    fit = sm.OLS(j["y"][m].ravel(), sm.add_constant(x)).fit()
    _within(fit, 1, 1 - 0.6)  # y = mid + (1 - ct) * (theta - severity + noise - mid)


def test_halo_weights(judged):
    j = judged
    m = _rows(j, "r03")
    th = j["theta"][j["t"][m]]
    sev = np.array([j["raters"][2].severity_for(d) for d in DEFAULT_DIMENSIONS])
    own = (th - sev).ravel()
    mean = np.repeat((th - sev).mean(axis=1), th.shape[1])
    fit = sm.OLS(j["y"][m].ravel(), np.column_stack([own, mean])).fit()
    _within(fit, 0, 1 - 0.7)
    _within(fit, 1, 0.7)


def test_noise_sd(judged):
    j = judged
    m = _rows(j, "r08")
    r08 = j["raters"][7]
    sev = np.array([r08.severity_for(d) for d in DEFAULT_DIMENSIONS])
    e = (j["y"][m] - j["theta"][j["t"][m]] + sev).ravel()
    # sd of n normal draws has standard error sd / sqrt(2n)
    assert abs(e.std() - r08.noise_sd) < 4 * r08.noise_sd / np.sqrt(2 * e.size)


def test_subgroup_shift(judged):
    j = judged
    m = _rows(j, "r06")
    col = DEFAULT_DIMENSIONS.index("communication")
    r06 = j["raters"][5]
    resid = j["y"][m][:, col] - j["theta"][j["t"][m]][:, col] + r06.severity_for("communication")
    non_target = (j["tier"][j["t"][m]] == "non_target").astype(float)
    fit = sm.OLS(resid, sm.add_constant(non_target)).fit()
    _within(fit, 0, 0.0)
    _within(fit, 1, -0.7)
