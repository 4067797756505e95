"""Krippendorff's alpha against the published worked example and the krippendorff package."""

from __future__ import annotations

import numpy as np
import pytest
from _agreement_data import KRIPPENDORFF_2011, random_ratings

from calib.agreement import krippendorff_alpha
from calib.errors import CalibWarning, DataValidationError

krippendorff = pytest.importorskip("krippendorff")

LEVELS = ["nominal", "ordinal", "interval", "ratio"]


# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability": nominal alpha = 0.743
# (p. 4), ordinal 0.815 (p. 6), interval 0.849 (p. 7), ratio 0.797 (p. 7), all on the
# 4 observers x 12 units example with missing values.
@pytest.mark.parametrize(
    "level, published",
    [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849), ("ratio", 0.797)],
)
def test_krippendorff_2011_published(level, published):
    assert round(krippendorff_alpha(KRIPPENDORFF_2011, level=level), 3) == published


@pytest.mark.parametrize("level", LEVELS)
def test_krippendorff_2011_matches_reference_package(level):
    # krippendorff 0.9 (Castro) takes raters x units: the transposition is the documented trap
    ref = krippendorff.alpha(reliability_data=KRIPPENDORFF_2011.T, level_of_measurement=level)
    assert krippendorff_alpha(KRIPPENDORFF_2011, level=level) == pytest.approx(ref, abs=1e-12)


def test_irrcac_ordinal_weights_are_not_krippendorff_ordinal():
    # Gwet's irrCAC "ordinal" weights give 0.834 on the same data (documented trap in the
    # issue); Krippendorff's rank-based metric gives the published 0.815.
    # irrCAC 0.4.4 value from tests/agreement/data/irrcac_0.4.4.json (make_irrcac_fixtures.py)
    import json
    from pathlib import Path

    ref = json.loads((Path(__file__).resolve().parent / "data" / "irrcac_0.4.4.json").read_text())
    assert ref["krippendorff_2011_ordinal_weights_alpha"] == pytest.approx(0.83364, abs=1e-5)
    assert krippendorff_alpha(KRIPPENDORFF_2011, "ordinal") != pytest.approx(0.83364, abs=1e-3)
    assert krippendorff_alpha(KRIPPENDORFF_2011, "ordinal") == pytest.approx(0.8153875, abs=1e-7)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("level", LEVELS)
def test_random_missing_matches_reference_package(seed, level):
    x = random_ratings(seed, n_units=80, n_raters=3 + seed % 3, q=4 + seed % 3, missing=0.25)
    ref = krippendorff.alpha(reliability_data=x.T, level_of_measurement=level)
    assert krippendorff_alpha(x, level=level) == pytest.approx(ref, abs=1e-9)


@pytest.mark.parametrize("level", LEVELS)
def test_value_domain_with_unused_values(level):
    # the krippendorff package with an explicit value_domain is the oracle; unused values
    # have zero marginal frequency, so alpha is unchanged at every level
    x = random_ratings(11, q=3) + 1  # uses 2..4 only
    dom = [1, 2, 3, 4, 5]
    ref = krippendorff.alpha(reliability_data=x.T, level_of_measurement=level, value_domain=dom)
    assert krippendorff_alpha(x, level=level, values=dom) == pytest.approx(ref, abs=1e-9)
    assert krippendorff_alpha(x, level=level, values=dom) == pytest.approx(
        krippendorff_alpha(x, level=level), abs=1e-12
    )


def test_value_outside_domain_raises():
    with pytest.raises(DataValidationError, match="not in the value domain"):
        krippendorff_alpha([[1, 2], [2, 7], [3, 3]], level="ordinal", values=[1, 2, 3, 4])


def test_transposed_matrix_raises():
    with pytest.raises(DataValidationError, match="data.T"):
        krippendorff_alpha(KRIPPENDORFF_2011.T, level="nominal")
    # explicit opt-in for a genuinely wide matrix
    assert np.isfinite(krippendorff_alpha(KRIPPENDORFF_2011.T, level="nominal", allow_wide=True))


def test_unknown_level_raises():
    with pytest.raises(DataValidationError, match="level"):
        krippendorff_alpha(KRIPPENDORFF_2011, level="metric")
    with pytest.raises(DataValidationError, match="non-negative"):
        krippendorff_alpha(KRIPPENDORFF_2011 - 3, level="ratio")


def test_degenerate_cases():
    with pytest.raises(DataValidationError, match="at least 2 raters"):
        krippendorff_alpha([[1.0], [2.0]])
    with pytest.warns(CalibWarning, match="no unit has two"):
        assert np.isnan(krippendorff_alpha(np.full((3, 2), np.nan)))
    with pytest.warns(CalibWarning, match="no variation"):
        assert np.isnan(krippendorff_alpha([[2, 2], [2, 2], [2, np.nan]]))
    with pytest.warns(CalibWarning, match="no unit has two"):
        assert np.isnan(krippendorff_alpha([[1, np.nan], [np.nan, 2], [3, np.nan]]))


def test_one_unit():
    # decided policy: a single unit with several raters trips the transposition guard; with
    # allow_wide=True alpha is computed from that unit alone, as the reference package does
    one = np.array([[1.0, 2.0, 2.0]])
    with pytest.raises(DataValidationError, match="allow_wide"):
        krippendorff_alpha(one, "nominal")
    ref = krippendorff.alpha(reliability_data=one.T, level_of_measurement="nominal")
    assert krippendorff_alpha(one, "nominal", allow_wide=True) == pytest.approx(ref, abs=1e-12)


def test_dataframe_input_and_no_mutation():
    kripp_example = KRIPPENDORFF_2011.copy()
    import pandas as pd

    before = kripp_example.copy()
    df = pd.DataFrame(kripp_example, columns=list("ABCD"))
    assert krippendorff_alpha(df, "interval") == krippendorff_alpha(kripp_example, "interval")
    np.testing.assert_array_equal(kripp_example, before)


def test_non_integer_values_match_reference():
    rng = np.random.default_rng(5)
    x = np.round(rng.normal(size=(50, 3)) + rng.normal(size=(50, 1)), 1)
    x[rng.random(x.shape) < 0.1] = np.nan
    for level in ("interval", "ordinal"):
        ref = krippendorff.alpha(reliability_data=x.T, level_of_measurement=level)
        assert krippendorff_alpha(x, level) == pytest.approx(ref, abs=1e-9)


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval", "ratio"])
def test_near_continuous_ratings_match_reference(level):
    # > 64 distinct values switches nominal/ordinal/interval to the moment-based path
    # (no K x K coincidence matrix); it must give the reference package's value exactly
    rng = np.random.default_rng(8)
    x = np.round(rng.normal(size=(200, 4)) + rng.normal(size=(200, 1)) + 5, 2)
    x[rng.random(x.shape) < 0.2] = np.nan
    assert np.unique(x[~np.isnan(x)]).size > 64
    ref = krippendorff.alpha(reliability_data=x.T, level_of_measurement=level)
    assert krippendorff_alpha(x, level) == pytest.approx(ref, abs=1e-9)


def test_near_continuous_bootstrap_uses_the_same_alpha():
    from calib.agreement import bootstrap_ci

    rng = np.random.default_rng(9)
    x = np.round(rng.normal(size=(150, 3)) + rng.normal(size=(150, 1)), 3)
    r = bootstrap_ci(x, "krippendorff_alpha", n_boot=30, seed=2, level="ordinal")
    assert r.estimate == pytest.approx(
        krippendorff.alpha(reliability_data=x.T, level_of_measurement="ordinal"), abs=1e-9
    )
    assert r.low < r.estimate < r.high
