"""Many raters (issue 9, part 4): features grow with the rating pairs, not raters^2.

Oracles: scikit-learn's ``cohen_kappa_score`` per rater pair (mean pairwise QWK and linear
kappa on a sparse crowd design), the dense q x q formulation (same resamples), the
``krippendorff`` package (alpha on a wide 0-100 scale through the sparse coincidence path).
Memory and time are measured in bench/bench_crowd.py, not here. All data SYNTHETIC.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
from scipy import sparse
from sklearn.metrics import cohen_kappa_score

import calib.agreement._alpha as alpha_mod
from calib.agreement._alpha import alpha_sums
from calib.agreement._core import draw_weights
from calib.agreement._kappa import pairwise_sums
from calib.agreement._validate import weight_matrix


def _crowd(seed=0, n_units=120, n_raters=60, per_unit=4, q=5):
    rng = np.random.default_rng(seed)
    x = np.full((n_units, n_raters), np.nan)
    level = rng.normal(0, 1, n_units)
    for u in range(n_units):
        js = rng.choice(n_raters // 6, per_unit, replace=False) + 6 * (u % 6)  # pairs recur
        x[u, js] = np.clip(np.round((q + 1) / 2 + level[u] + rng.normal(0, 0.8, per_unit)), 1, q)
    return x


def _sklearn_mean(x, cats, weights):
    ks = []
    for g, h in itertools.combinations(range(x.shape[1]), 2):
        m = ~np.isnan(x[:, [g, h]]).any(axis=1)
        if m.sum() < 2:
            continue
        with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
            warnings.simplefilter("ignore")  # sklearn: undefined kappa -> NaN, skipped below
            k = cohen_kappa_score(x[m, g], x[m, h], labels=cats, weights=weights)
        if np.isfinite(k):
            ks.append(k)
    return np.mean(ks)


@pytest.mark.parametrize("weights", ["quadratic", "linear"])
def test_sparse_pairs_match_sklearn(weights):
    x = _crowd()
    cats = [1, 2, 3, 4, 5]
    st = pairwise_sums(x, weights, cats, allow_wide=True)
    assert st.estimate() == pytest.approx(_sklearn_mean(x, cats, weights), abs=1e-10)
    # only the pairs that meet get columns (60 raters: 1,770 pairs; far fewer meet)
    width = 6 if weights == "quadratic" else len(cats) ** 2
    assert st.features.shape[1] < 1770 * width / 2


def test_quadratic_moments_equal_the_dense_table_on_resamples():
    x = _crowd(seed=3)
    cats = np.array([1.0, 2, 3, 4, 5])
    mom = pairwise_sums(x, "quadratic", cats, allow_wide=True)
    tab = pairwise_sums(x, weight_matrix(cats, "quadratic"), cats, allow_wide=True)
    w = next(draw_weights(np.random.default_rng(0), x.shape[0], 64))
    np.testing.assert_allclose(mom.apply(w), tab.apply(w), atol=1e-10)


def test_wide_scale_alpha_uses_sparse_coincidences(monkeypatch):
    krippendorff = pytest.importorskip("krippendorff")
    rng = np.random.default_rng(1)
    x = np.clip(np.round(50 + rng.normal(0, 20, (80, 1)) + rng.normal(0, 12, (80, 4))), 0, 100)
    x[rng.random(x.shape) < 0.25] = np.nan
    dom = np.arange(0, 101, dtype=float)
    st = alpha_sums(x, "ordinal", dom)
    assert sparse.issparse(st.features)
    ref = krippendorff.alpha(x.T, level_of_measurement="ordinal", value_domain=dom)
    assert st.estimate() == pytest.approx(ref, abs=1e-10)
    monkeypatch.setattr(alpha_mod, "_SPARSE_K", 10_000)  # the dense path, same resamples
    dense = alpha_sums(x, "ordinal", dom)
    w = next(draw_weights(np.random.default_rng(0), x.shape[0], 32))
    np.testing.assert_allclose(st.apply(w), dense.apply(w), atol=1e-12)
