"""Cronbach's (1955) accuracy components.

Formulas: Cronbach, L. J. (1955), Psychological Bulletin 52(3), 177-193, pp. 179-180; squared and
rooted forms as in Sulsky & Balzer (1988), Journal of Applied Psychology 73(3), 497-506.
Checked (1) against a worked example computed by hand from the definitions, (2) against
planted effects in SYNTHETIC interviewer data, (3) on the identity E² + DE² + SA² + DA² = MSD.
"""

from __future__ import annotations

import numpy as np
import pytest

from calib.errors import DataValidationError
from calib.training import cronbach_components


def test_worked_example_by_hand():
    # 3 transcripts (rows) x 2 dimensions (columns).
    x = [[4, 2], [3, 3], [1, 2]]  # the interviewer
    t = [[3, 2], [3, 2], [2, 1]]  # the reference
    # Grand means: x.. = 15/6 = 5/2, t.. = 13/6.  E² = (5/2 - 13/6)² = (1/3)² = 1/9.
    # Row means x_j. = 3, 3, 3/2;  t_j. = 5/2, 5/2, 3/2.
    #   (x_j. - x..) = 1/2, 1/2, -1;  (t_j. - t..) = 1/3, 1/3, -2/3
    #   differences 1/6, 1/6, -1/3 -> squares 1/36, 1/36, 4/36 -> mean DE² = 6/108 = 1/18.
    # Column means x_.k = 8/3, 7/3;  t_.k = 8/3, 5/3.
    #   (x_.k - x..) = 1/6, -1/6;  (t_.k - t..) = 1/2, -1/2
    #   differences -1/3, 1/3 -> mean of squares SA² = 1/9.
    # Interaction residuals r_jk = y_jk - y_j. - y_.k + y..:
    #   x: [[5/6, -5/6], [-1/6, 1/6], [-2/3, 2/3]];  t: all 0 (t is additive).
    #   squares 25/36, 25/36, 1/36, 1/36, 16/36, 16/36 -> sum 84/36, mean DA² = 84/216 = 7/18.
    # Check: 1/9 + 1/18 + 1/9 + 7/18 = 12/18 = 2/3 = mean((x - t)²) = (1+0+0+1+1+1)/6.
    c = cronbach_components(x, t)
    assert c.elevation == pytest.approx(1 / 9)
    assert c.differential_elevation == pytest.approx(1 / 18)
    assert c.stereotype_accuracy == pytest.approx(1 / 9)
    assert c.differential_accuracy == pytest.approx(7 / 18)
    assert c.mean_squared_deviation == pytest.approx(2 / 3)
    assert c.signed_elevation == pytest.approx(1 / 3)
    r = c.rooted()
    assert r["elevation"] == pytest.approx(1 / 3)
    assert r["differential_accuracy"] == pytest.approx(np.sqrt(7 / 18))


def _reference(rng, n=12, m=8):
    return rng.integers(1, 5, size=(n, m)).astype(float)


def test_planted_elevation_error():
    """An interviewer who scores 0.8 levels high everywhere: elevation carries the error."""
    rng = np.random.default_rng(3)
    t = _reference(rng)
    x = t + 0.8 + rng.normal(0, 0.05, t.shape)
    r = cronbach_components(x, t).rooted()
    assert r["elevation"] == pytest.approx(0.8, abs=0.03)
    for k in ("differential_elevation", "stereotype_accuracy", "differential_accuracy"):
        assert r[k] < 0.1, k


def test_planted_differential_error():
    """An interviewer who ranks candidates differently within dimensions (double-centred
    error: no overall, per-transcript or per-dimension shift): only DA is large."""
    rng = np.random.default_rng(4)
    t = _reference(rng)
    e = rng.normal(0, 0.9, t.shape)
    e = e - e.mean(axis=1, keepdims=True) - e.mean(axis=0, keepdims=True) + e.mean()
    x = t + e
    c = cronbach_components(x, t)
    assert c.elevation == pytest.approx(0, abs=1e-12)
    assert c.differential_elevation == pytest.approx(0, abs=1e-12)
    assert c.stereotype_accuracy == pytest.approx(0, abs=1e-12)
    assert c.differential_accuracy == pytest.approx(np.mean(e**2))
    assert c.rooted()["differential_accuracy"] > 0.6


def test_planted_stereotype_and_differential_elevation():
    rng = np.random.default_rng(5)
    t = _reference(rng)
    dim_shift = np.array([0.6, -0.6, 0, 0, 0.6, -0.6, 0, 0])  # mean 0: pure stereotype error
    x = t + dim_shift[None, :]
    r = cronbach_components(x, t).rooted()
    assert r["stereotype_accuracy"] == pytest.approx(np.sqrt(np.mean(dim_shift**2)))
    assert r["elevation"] == pytest.approx(0, abs=1e-12)
    assert r["differential_accuracy"] == pytest.approx(0, abs=1e-12)
    halo = np.linspace(-0.5, 0.5, t.shape[0])  # per-transcript shift, mean 0
    r = cronbach_components(t + halo[:, None], t).rooted()
    assert r["differential_elevation"] == pytest.approx(np.sqrt(np.mean(halo**2)))
    assert r["stereotype_accuracy"] == pytest.approx(0, abs=1e-12)


def test_components_sum_to_msd_and_shift_invariance():
    rng = np.random.default_rng(6)
    for _ in range(20):
        n, m = rng.integers(2, 15), rng.integers(2, 9)
        x, t = rng.normal(size=(n, m)), rng.normal(size=(n, m))
        c = cronbach_components(x, t)
        total = (
            c.elevation + c.differential_elevation + c.stereotype_accuracy + c.differential_accuracy
        )
        assert total == pytest.approx(np.mean((x - t) ** 2))
        # adding the same constant to both leaves every component unchanged
        c2 = cronbach_components(x + 2.5, t + 2.5)
        assert c2.differential_accuracy == pytest.approx(c.differential_accuracy)
        assert c2.elevation == pytest.approx(c.elevation)


def test_bad_input():
    with pytest.raises(DataValidationError, match="same shape"):
        cronbach_components([[1, 2]], [[1, 2, 3]])
    with pytest.raises(DataValidationError, match="complete"):
        cronbach_components([[1, np.nan]], [[1, 2]])


def test_against_statsmodels_two_way_anova():
    """Independent implementation: with one observation per cell, the two-way ANOVA of the
    difference table d = x - t (statsmodels OLS, d ~ C(target) + C(dimension)) splits its
    total sum of squares into rows, columns and residual (= interaction). Divided by n*m these
    are DE², SA² and DA²; E² is the squared grand mean."""
    import pandas as pd
    import statsmodels.formula.api as smf
    from statsmodels.stats.anova import anova_lm

    rng = np.random.default_rng(7)
    n, m = 9, 5
    x = rng.integers(1, 5, size=(n, m)).astype(float)
    t = rng.integers(1, 5, size=(n, m)).astype(float)
    d = x - t
    df = pd.DataFrame(
        {"d": d.ravel(), "target": np.repeat(np.arange(n), m), "dim": np.tile(np.arange(m), n)}
    )
    table = anova_lm(smf.ols("d ~ C(target) + C(dim)", data=df).fit(), typ=1)
    c = cronbach_components(x, t)
    assert c.differential_elevation == pytest.approx(table.loc["C(target)", "sum_sq"] / (n * m))
    assert c.stereotype_accuracy == pytest.approx(table.loc["C(dim)", "sum_sq"] / (n * m))
    assert c.differential_accuracy == pytest.approx(table.loc["Residual", "sum_sq"] / (n * m))
    assert c.elevation == pytest.approx(df["d"].mean() ** 2)
