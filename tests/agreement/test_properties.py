"""Hypothesis properties: invariances and degenerate cases of every statistic."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from calib.agreement import (
    brennan_prediger,
    conger_kappa,
    fleiss_kappa,
    gwet_ac,
    icc,
    krippendorff_alpha,
    mean_pairwise_kappa,
    percent_agreement,
)
from calib.errors import CalibWarning

CATS = [1, 2, 3, 4, 5]
STATS = {
    "alpha_nominal": lambda x: krippendorff_alpha(x, "nominal"),
    "alpha_ordinal": lambda x: krippendorff_alpha(x, "ordinal", CATS),
    "alpha_interval": lambda x: krippendorff_alpha(x, "interval"),
    "alpha_ratio": lambda x: krippendorff_alpha(x, "ratio"),
    "fleiss_q": lambda x: fleiss_kappa(x, "quadratic", CATS),
    "gwet": lambda x: gwet_ac(x, None, CATS),
    "bp": lambda x: brennan_prediger(x, "linear", CATS),
    "conger": lambda x: conger_kappa(x, None, CATS),
    "percent": lambda x: percent_agreement(x, 1),
    "qwk": lambda x: mean_pairwise_kappa(x, categories=CATS),
    "icc2": lambda x: icc(x, "ICC2"),
}

cells = st.one_of(st.just(np.nan), st.integers(1, 5).map(float))
matrices = st.integers(2, 5).flatmap(
    lambda r: arrays(np.float64, st.tuples(st.integers(r, 12), st.just(r)), elements=cells)
)
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _quiet(f, x):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CalibWarning)
        return f(x)


@SETTINGS
@given(matrices, st.randoms(use_true_random=False))
def test_invariant_to_permuting_units_and_raters(x, rnd):
    rows = list(range(x.shape[0]))
    cols = list(range(x.shape[1]))
    rnd.shuffle(rows)
    rnd.shuffle(cols)
    y = x[rows][:, cols]
    for name, f in STATS.items():
        a, b = _quiet(f, x), _quiet(f, y)
        assert (np.isnan(a) and np.isnan(b)) or a == pytest.approx(b, abs=1e-9), name


@SETTINGS
@given(matrices)
def test_all_missing_units_are_ignored(x):
    padded = np.vstack([x, np.full((3, x.shape[1]), np.nan)])
    for name, f in STATS.items():
        a, b = _quiet(f, x), _quiet(f, padded)
        assert (np.isnan(a) and np.isnan(b)) or a == pytest.approx(b, abs=1e-9), name


@SETTINGS
@given(st.lists(st.integers(1, 5), min_size=4, max_size=15), st.integers(2, 4))
def test_perfect_agreement_gives_one(truth, n_raters):
    x = np.repeat(np.asarray(truth, dtype=float)[:, None], n_raters, axis=1)
    if len(set(truth)) < 2:
        return
    for level in ("nominal", "ordinal", "interval", "ratio"):
        assert krippendorff_alpha(x, level) == pytest.approx(1.0)
    for f in (fleiss_kappa, gwet_ac, brennan_prediger, conger_kappa):
        assert f(x) == pytest.approx(1.0)
    assert percent_agreement(x) == 1.0


@SETTINGS
@given(st.integers(1, 5), st.integers(4, 10), st.integers(2, 4))
def test_single_category_is_nan_with_warning(value, n_units, n_raters):
    x = np.full((n_units, n_raters), float(value))
    for name, f in STATS.items():
        if name in ("percent", "bp", "gwet"):
            # well defined and 1.0: BP's and Gwet's chance agreement use the full 5-point
            # scale, so one used category is not a 0/0 (the paradox AC1 was built to avoid)
            assert f(x) == pytest.approx(1.0), name
            continue
        with pytest.warns(CalibWarning):
            assert np.isnan(f(x)), name
    assert percent_agreement(x) == 1.0
