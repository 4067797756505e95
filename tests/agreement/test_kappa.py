"""Kappa family against Fleiss (1971), SAS, R irr, Gwet's irrCAC, scikit-learn and statsmodels.

Gwet's irrCAC 0.4.4 pins scipy 1.12 / pandas 2, so it is not installed next to calib: its
values were generated once by ``tests/agreement/make_irrcac_fixtures.py`` (run in a throwaway
environment) and are read from ``tests/agreement/data/irrcac_0.4.4.json`` together with the
exact input matrices they were computed on.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from _agreement_data import KRIPPENDORFF_2011, random_ratings

from calib.agreement import (
    brennan_prediger,
    cohen_kappa,
    cohen_kappa_ci,
    conger_kappa,
    fleiss_kappa,
    fleiss_kappa_by_category,
    gwet_ac,
    mean_pairwise_kappa,
    percent_agreement,
    scott_pi,
)
from calib.errors import CalibWarning, DataValidationError

sm_tests = pytest.importorskip("statsmodels.stats.tests.test_inter_rater")
sk_metrics = pytest.importorskip("sklearn.metrics")

IRRCAC = json.loads(
    (Path(__file__).resolve().parent / "data" / "irrcac_0.4.4.json").read_text(encoding="utf-8")
)


def _m(rows) -> np.ndarray:
    """A stored input matrix (null = missing rating) as floats with NaN."""
    return np.array([[np.nan if v is None else v for v in row] for row in rows], dtype=float)


def test_irrcac_fixture_inputs_are_the_documented_data():
    # the stored inputs are the seeded matrices the generator script says they are
    for case in IRRCAC["multirater"]["cases"]:
        seed = case["seed"]
        x = random_ratings(seed, n_units=50, n_raters=3 + seed % 3, q=4, missing=0.2)
        np.testing.assert_array_equal(_m(case["x"]), x)
    assert IRRCAC["irrCAC_version"] == "0.4.4"


# ---------------------------------------------------------------- published values
def test_fleiss_1971_diagnoses():
    # Fleiss (1971), Psychological Bulletin 76(5), p. 381: 30 patients x 6 psychiatrists,
    # overall kappa = .430; per-category kappas (Depression .245, Personality disorder .245,
    # Schizophrenia .520, Neurosis .471, Other .566). Data: R irr's `diagnoses`, read from
    # statsmodels' BSD test module rather than copied (irr is GPL).
    x = sm_tests.diagnoses.astype(float)
    assert round(fleiss_kappa(x), 3) == 0.430
    assert fleiss_kappa_by_category(x).round(3).tolist() == [0.245, 0.245, 0.520, 0.471, 0.566]


def test_cohen_1968_weighted_kappa():
    # Cohen, J. (1968). Weighted kappa. Psychological Bulletin 70(4), 213-220, worked example:
    # proportions [[.44, .07, .09], [.05, .20, .05], [.01, .03, .06]] (n = 200), disagreement
    # weights v = [[0, 1, 3], [1, 0, 6], [3, 6, 0]]: kappa = .492, kappa_w = .348; with the
    # asymmetric weights [[0, 1, 4], [1, 0, 6], [2, 2, 0]] (rows = first rater) kappa_w = .353.
    # (Values as quoted in R psych's cohen.kappa examples.) Agreement weights are 1 - v / max v.
    p = np.array([[0.44, 0.07, 0.09], [0.05, 0.20, 0.05], [0.01, 0.03, 0.06]])
    counts = np.rint(p * 200).astype(int)
    a = np.repeat(np.repeat(np.arange(1, 4), 3), counts.ravel())
    b = np.repeat(np.tile(np.arange(1, 4), 3), counts.ravel())
    v = np.array([[0, 1, 3], [1, 0, 6], [3, 6, 0]])
    asym = np.array([[0, 1, 4], [1, 0, 6], [2, 2, 0]])
    assert round(cohen_kappa(a, b), 3) == 0.492
    assert round(cohen_kappa(a, b, weights=1 - v / 6), 3) == 0.348
    assert round(cohen_kappa(a, b, weights=1 - asym / 6), 3) == 0.353


def test_cohen_kappa_sas_ase():
    # SAS PROC FREQ printout reproduced in statsmodels' test_inter_rater.py (table10):
    # simple kappa 0.4842, ASE 0.1380, 95% CI (0.2137, 0.7547); weighted (Cicchetti-Allison =
    # linear) kappa 0.4701, ASE 0.1457, CI (0.1845, 0.7558). ASE is Fleiss, Cohen & Everitt (1969).
    table = np.asarray(sm_tests.table10)
    a = np.repeat(np.repeat(np.arange(3), 3), table.ravel())
    b = np.repeat(np.tile(np.arange(3), 3), table.ravel())
    r = cohen_kappa_ci(a, b)
    assert (round(r.estimate, 4), round(r.se, 4), round(r.low, 4), round(r.high, 4)) == (
        0.4842,
        0.1380,
        0.2137,
        0.7547,
    )
    r = cohen_kappa_ci(a, b, weights="linear")
    assert (round(r.estimate, 4), round(r.se, 4), round(r.low, 4), round(r.high, 4)) == (
        0.4701,
        0.1457,
        0.1845,
        0.7558,
    )


def test_cohen_kappa_r_irr_anxiety():
    # R irr 0.84 kappa2() on irr's `anxiety` (values recorded in statsmodels'
    # test_inter_rater.py::test_cohens_kappa_irr): raters 2-3 unweighted -0.006289308,
    # "equal" (linear) 0.1459075, "squared" (quadratic) 0.2520325. The observed levels are
    # 1, 2, 3, 4, 6 and irr weights by the *rank* of the observed level (it drops the unused 5),
    # so irr's numbers are reproduced on rank-coded ratings; on the values themselves calib
    # weights by value (Gwet 2014, ch. 3) and differs.
    x = sm_tests.anxiety.astype(float)
    ranks = np.searchsorted(np.unique(x[:, 1:]), x[:, 1:]) + 1.0
    assert cohen_kappa(x[:, 1], x[:, 2]) == pytest.approx(-0.006289308, abs=1e-9)
    assert cohen_kappa(ranks[:, 0], ranks[:, 1], weights="linear") == pytest.approx(
        0.1459075, abs=1e-7
    )
    assert cohen_kappa(ranks[:, 0], ranks[:, 1], weights="quadratic") == pytest.approx(
        0.2520325, abs=1e-7
    )
    assert cohen_kappa(x[:, 1], x[:, 2], weights="linear") != pytest.approx(0.1459075, abs=1e-3)


def test_gwet_handbook_example():
    # Gwet (2014), Handbook of Inter-Rater Reliability, 4th ed., ch. 2 example (4 raters x 12
    # units with missing ratings, the same data as Krippendorff 2011); irrCAC 0.4.4's
    # documented outputs (irrCAC/raw.py module docstring): AC1 = 0.77544, Fleiss' kappa =
    # 0.76117, and with "bipolar" weights AC2 = 0.90037 (custom weights matrix path).
    assert round(gwet_ac(KRIPPENDORFF_2011), 5) == 0.77544
    assert round(fleiss_kappa(KRIPPENDORFF_2011), 5) == 0.76117
    weights = np.array(IRRCAC["bipolar_weights_1_5"])  # irrCAC Weights([1..5]).bipolar()
    assert round(gwet_ac(KRIPPENDORFF_2011, weights=weights), 5) == 0.90037


# ---------------------------------------------------------------- oracles on random data
@pytest.mark.parametrize("case", range(5))
@pytest.mark.parametrize("weights", [None, "linear", "quadratic"])
def test_multirater_match_irrcac(case, weights):
    ref = IRRCAC["multirater"]["cases"][case]
    x = _m(ref["x"])
    cats = IRRCAC["multirater"]["categories"]  # a full scale with an unused level
    w = weights or "identity"
    for ours, method in [
        (fleiss_kappa, "fleiss"),
        (gwet_ac, "gwet"),
        (brennan_prediger, "bp"),
        (conger_kappa, "conger"),
    ]:
        got = ours(x, weights=weights)
        assert got == pytest.approx(ref["values"][f"{method}|{w}|observed"], abs=1e-9), method
        assert ours(x, weights=weights, categories=cats) == pytest.approx(
            ref["values"][f"{method}|{w}|full_scale"], abs=1e-9
        ), method


@pytest.mark.parametrize("seed", range(4))
def test_complete_fleiss_matches_statsmodels(seed):
    x = random_ratings(seed, n_units=40, n_raters=5, missing=0.0)
    from statsmodels.stats.inter_rater import aggregate_raters
    from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss

    table, _ = aggregate_raters(x)
    # statsmodels' fleiss_kappa (complete data only); "randolph" is Brennan-Prediger's free-marginal kappa
    assert fleiss_kappa(x) == pytest.approx(sm_fleiss(table, method="fleiss"), abs=1e-9)
    assert brennan_prediger(x) == pytest.approx(sm_fleiss(table, method="randolph"), abs=1e-9)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("weights", [None, "linear", "quadratic"])
def test_cohen_matches_sklearn(seed, weights):
    x = random_ratings(seed, n_units=70, n_raters=2, q=5, missing=0.1)
    both = ~np.isnan(x).any(axis=1)
    labels = [1, 2, 3, 4, 5]
    ref = sk_metrics.cohen_kappa_score(x[both, 0], x[both, 1], labels=labels, weights=weights)
    assert cohen_kappa(x[:, 0], x[:, 1], weights=weights, labels=labels) == pytest.approx(
        ref, abs=1e-9
    )


def test_sklearn_label_trap():
    # scikit-learn infers the category set from the data; with levels 3-4 of a 1-5 scale
    # unused the quadratic weights change. calib takes the full scale explicitly.
    a = np.array([1, 1, 2, 2, 5, 5, 1, 2, 5, 2])
    b = np.array([1, 2, 2, 1, 5, 5, 1, 2, 2, 2])
    full = sk_metrics.cohen_kappa_score(a, b, weights="quadratic", labels=[1, 2, 3, 4, 5])
    inferred = sk_metrics.cohen_kappa_score(a, b, weights="quadratic")
    assert cohen_kappa(a, b, "quadratic", labels=[1, 2, 3, 4, 5]) == pytest.approx(full, abs=1e-12)
    # sklearn weights by label index, so its inferred-label QWK treats 1,2,5 as 0,1,2: not what
    # a 1-5 rubric means; calib's observed-category default weights by value (1,2,5).
    assert inferred != pytest.approx(full, abs=1e-3)
    assert cohen_kappa(a, b, "quadratic") == pytest.approx(full, abs=1e-12)


def test_two_raters_fleiss_is_scott_and_conger_is_cohen():
    x = random_ratings(3, n_units=60, n_raters=2, missing=0.0)
    for w in (None, "linear", "quadratic"):
        assert fleiss_kappa(x, w) == pytest.approx(scott_pi(x[:, 0], x[:, 1], w), abs=1e-12)
        assert conger_kappa(x, w) == pytest.approx(cohen_kappa(x[:, 0], x[:, 1], w), abs=1e-12)
    assert fleiss_kappa(x) != pytest.approx(cohen_kappa(x[:, 0], x[:, 1]), abs=1e-6)


def test_scott_pi_matches_irrcac_table():
    ref = IRRCAC["scott_table"]  # irrCAC.table.CAC(crosstab).scott() on these 80 x 2 ratings
    x = _m(ref["x"])
    assert scott_pi(x[:, 0], x[:, 1]) == pytest.approx(ref["scott_pi"], abs=1e-9)


def test_percent_agreement_counts_pairs():
    x = _m(IRRCAC["percent_agreement"]["x"])
    # oracle: explicit per-unit pair enumeration (test only)
    per_unit = []
    for row in x:
        v = row[~np.isnan(row)]
        if v.size >= 2:
            d = np.abs(v[:, None] - v[None, :])[np.triu_indices(v.size, 1)]
            per_unit.append([(d == 0).mean(), (d <= 1).mean()])
    exact, adjacent = np.mean(per_unit, axis=0)
    assert percent_agreement(x) == pytest.approx(exact, abs=1e-12)
    assert percent_agreement(x, tolerance=1) == pytest.approx(adjacent, abs=1e-12)
    # irrCAC's p_a (identity weights) is the same quantity
    pa = IRRCAC["percent_agreement"]["pa"]
    assert percent_agreement(x) == pytest.approx(pa, abs=1e-12)


def test_mean_pairwise_qwk_matches_sklearn():
    x = random_ratings(6, n_units=60, n_raters=4, missing=0.25)
    cats = [1, 2, 3, 4, 5]
    ks = []
    for g in range(4):
        for h in range(g + 1, 4):
            m = ~np.isnan(x[:, [g, h]]).any(axis=1)
            ks.append(
                sk_metrics.cohen_kappa_score(x[m, g], x[m, h], labels=cats, weights="quadratic")
            )
    assert mean_pairwise_kappa(x, categories=cats) == pytest.approx(np.mean(ks), abs=1e-9)


def test_category_outside_scale_raises():
    with pytest.raises(DataValidationError, match="not in the category set"):
        fleiss_kappa([[1, 2], [3, 9], [2, 2]], categories=[1, 2, 3, 4])
    with pytest.raises(DataValidationError, match="labels"):
        cohen_kappa([1, 2, 3], [1, 2, 6], labels=[1, 2, 3])


def test_degenerate_kappas():
    one = [[3, 3], [3, 3], [3, 3]]
    for f in (fleiss_kappa, conger_kappa, gwet_ac):
        with pytest.warns(CalibWarning):
            assert np.isnan(f(one))
    # Brennan-Prediger with the full scale is defined even with one observed category
    assert brennan_prediger(one, categories=[1, 2, 3, 4]) == pytest.approx(1.0)
    with pytest.warns(CalibWarning):
        assert np.isnan(cohen_kappa([2, 2, 2], [2, 2, 2]))
    with pytest.raises(DataValidationError, match="both raters"):
        cohen_kappa([1, np.nan], [np.nan, 2])
    with pytest.raises(DataValidationError, match="same length"):
        cohen_kappa([1, 2, 3], [1, 2])
    with pytest.raises(DataValidationError, match="weights"):
        fleiss_kappa([[1, 2], [2, 2], [1, 1]], weights="cubic")


# ---------------------------------------------------------------- analytic variance
def test_gwet_handbook_standard_errors():
    # irrCAC 0.4.4 module docstring (Gwet 2014 handbook example, Krippendorff's data):
    # AC1 se 0.14295, 95% CI (0.46081, 1); Fleiss se 0.15302, CI (0.42438, 1).
    from calib.agreement import chance_corrected_ci

    r = chance_corrected_ci(KRIPPENDORFF_2011, "gwet_ac")
    assert (round(r.se, 5), round(r.low, 5), r.high) == (0.14295, 0.46081, 1.0)
    r = chance_corrected_ci(KRIPPENDORFF_2011, "fleiss_kappa")
    assert (round(r.se, 5), round(r.low, 5), r.high) == (0.15302, 0.42438, 1.0)


@pytest.mark.parametrize("case", range(6))
def test_chance_corrected_se_match_irrcac(case):
    from calib.agreement import chance_corrected_ci

    ref_case = IRRCAC["standard_errors"][case]  # seeds 0-2 x identity/quadratic weights
    x = _m(ref_case["x"])
    weights = None if ref_case["weights"] == "identity" else ref_case["weights"]
    for name, method in [
        ("fleiss_kappa", "fleiss"),
        ("gwet_ac", "gwet"),
        ("brennan_prediger", "bp"),
    ]:
        ref = ref_case["values"][method]
        r = chance_corrected_ci(x, name, weights)
        assert r.se == pytest.approx(ref["se"], abs=1e-9)
        assert (r.low, r.high) == pytest.approx(ref["confidence_interval"], abs=1e-9)
        assert r.estimate == pytest.approx(ref["coefficient_value"], abs=1e-9)


@pytest.mark.parametrize("dataset", ["raw_4raters", "raw_5observers"])
def test_gwet_handbook_datasets(dataset):
    # Gwet (2014) Handbook, ch. 2-3 example data sets as shipped by irrCAC (4 raters x 12 units,
    # scale 1-5; 5 observers x 15 units, scale 0-3, both with missing ratings). irrCAC is Gwet's
    # reference implementation; its Krippendorff alpha with identity / quadratic weights is
    # Krippendorff's nominal / interval alpha.
    from calib.agreement import krippendorff_alpha

    ref = IRRCAC["handbook"][dataset]
    x = _m(ref["x"])
    assert x.shape == {"raw_4raters": (12, 4), "raw_5observers": (15, 5)}[dataset]
    for weights in (None, "linear", "quadratic"):
        w = weights or "identity"
        for ours, method in [
            (fleiss_kappa, "fleiss"),
            (gwet_ac, "gwet"),
            (brennan_prediger, "bp"),
            (conger_kappa, "conger"),
        ]:
            assert ours(x, weights=weights) == pytest.approx(
                ref["values"][f"{method}|{w}"], abs=1e-9
            ), (method, w)
    assert krippendorff_alpha(x, "nominal") == pytest.approx(
        ref["values"]["krippendorff|identity"], abs=1e-9
    )
    assert krippendorff_alpha(x, "interval") == pytest.approx(
        ref["values"]["krippendorff|quadratic"], abs=1e-9
    )


def test_continuous_ratings_are_refused_by_category_statistics():
    x = np.random.default_rng(0).normal(size=(1200, 2))
    with pytest.raises(DataValidationError, match="distinct rating values"):
        fleiss_kappa(x)
