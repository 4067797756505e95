"""Unit-level bootstrap: the closed-form weighted-sum path equals resampling rows for real."""

from __future__ import annotations

import numpy as np
import pytest
from _agreement_data import random_ratings

from calib.agreement import (
    bootstrap_ci,
    fleiss_kappa,
    icc,
    krippendorff_alpha,
    mean_pairwise_kappa,
    percent_agreement,
)
from calib.agreement._core import draw_indices
from calib.errors import DataValidationError

krippendorff = pytest.importorskip("krippendorff")


def _loop(x, func, n_boot, seed):
    idx = np.concatenate(list(draw_indices(np.random.default_rng(seed), len(x), n_boot)))
    return np.array([func(x[i]) for i in idx])


def test_alpha_bootstrap_equals_reference_package_on_each_resample():
    x = random_ratings(1, n_units=60, n_raters=4, missing=0.2)
    r = bootstrap_ci(x, "krippendorff_alpha", n_boot=40, seed=3, level="ordinal")
    ref = _loop(
        x, lambda m: krippendorff.alpha(reliability_data=m.T, level_of_measurement="ordinal"), 40, 3
    )
    np.testing.assert_allclose(r.distribution, ref, atol=1e-9)
    assert r.estimate == pytest.approx(krippendorff_alpha(x, "ordinal"), abs=1e-12)
    lo, hi = np.quantile(ref, [0.025, 0.975])
    assert (r.low, r.high) == pytest.approx((lo, hi), abs=1e-9)


@pytest.mark.parametrize(
    "name, options, func",
    [
        (
            "fleiss_kappa",
            {"weights": "quadratic"},
            lambda m: fleiss_kappa(m, "quadratic", categories=[1, 2, 3, 4, 5]),
        ),
        ("percent_agreement", {"tolerance": 1}, lambda m: percent_agreement(m, 1)),
        ("icc", {"form": "ICC2"}, lambda m: icc(m, "ICC2")),
        (
            "mean_pairwise_kappa",
            {"categories": [1, 2, 3, 4, 5]},
            lambda m: mean_pairwise_kappa(m, categories=[1, 2, 3, 4, 5]),
        ),
    ],
)
def test_fast_paths_equal_row_resampling(name, options, func):
    x = random_ratings(2, n_units=50, n_raters=3, missing=0.1)
    if name == "fleiss_kappa":
        options = {**options, "categories": [1, 2, 3, 4, 5]}
    r = bootstrap_ci(x, name, n_boot=25, seed=7, **options)
    np.testing.assert_allclose(r.distribution, _loop(x, func, 25, 7), atol=1e-9)


def test_callable_statistic_and_bca():
    x = random_ratings(4, n_units=40, n_raters=3, missing=0.1)
    fast = bootstrap_ci(x, "krippendorff_alpha", n_boot=60, seed=1, method="bca", level="interval")
    slow = bootstrap_ci(
        x,
        lambda m: krippendorff_alpha(m, "interval", allow_wide=True),
        n_boot=60,
        seed=1,
        method="bca",
    )
    assert (fast.low, fast.high) == pytest.approx((slow.low, slow.high), abs=1e-9)
    assert fast.low < fast.estimate < fast.high


def test_deterministic_and_reasonable_coverage():
    # SYNTHETIC check: 95% intervals from 30 synthetic samples of the same population should
    # mostly cover the large-sample alpha; a loose bound (>= 22 of 30) so it cannot flake.
    pop = random_ratings(99, n_units=20000, n_raters=3, missing=0.0)
    truth = krippendorff_alpha(pop, "interval")
    rng = np.random.default_rng(0)
    hits = 0
    for s in range(30):
        sample = pop[rng.choice(len(pop), 150, replace=False)]
        r = bootstrap_ci(sample, "krippendorff_alpha", n_boot=300, seed=s, level="interval")
        hits += r.low <= truth <= r.high
    assert hits >= 22
    a = bootstrap_ci(pop[:200], n_boot=50, seed=5)
    b = bootstrap_ci(pop[:200], n_boot=50, seed=5)
    np.testing.assert_array_equal(a.distribution, b.distribution)


def test_bad_arguments():
    x = random_ratings(0)
    with pytest.raises(DataValidationError, match="statistic"):
        bootstrap_ci(x, "cronbach")
    with pytest.raises(DataValidationError, match="n_boot"):
        bootstrap_ci(x, n_boot=0)
    with pytest.raises(DataValidationError, match="method"):
        bootstrap_ci(x, method="basic")
