"""agreement_table on a SYNTHETIC long ratings table: equals the statistic functions it wraps."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from _agreement_data import random_ratings

from calib.agreement import (
    ICC_FORMS,
    agreement_table,
    bootstrap_ci,
    crossed_icc,
    interpretation_band,
    krippendorff_alpha,
    mean_pairwise_kappa,
    percent_agreement,
)
from calib.errors import CalibWarning, DataValidationError

DIMS = ["problem_framing", "data", "tradeoffs"]


def _long(seed: int = 0, n_units: int = 40) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """SYNTHETIC long table: 3 raters x n_units transcripts x 3 dimensions, some missing."""
    rows, wides = [], {}
    for d, dim in enumerate(DIMS):
        x = np.clip(random_ratings(seed + d, n_units=n_units, n_raters=3, q=4, missing=0.15), 1, 4)
        wides[dim] = x
        for u in range(n_units):
            for r in range(3):
                if not np.isnan(x[u, r]):
                    rows.append((f"t{u:03d}", f"r{r}", "human", dim, x[u, r]))
    df = pd.DataFrame(
        rows, columns=["transcript_id", "rater_id", "rater_type", "dimension", "score"]
    )
    machine = df[df["rater_id"] == "r0"].assign(rater_id="gpt", rater_type="llm")
    return pd.concat([df, machine], ignore_index=True), wides


def test_values_equal_the_statistic_functions():
    df, wides = _long()
    cats = [1, 2, 3, 4]
    tab = agreement_table(df, categories=cats, n_boot=100, seed=3, dimension_order=DIMS).set_index(
        "dimension"
    )
    assert list(tab.index) == DIMS
    for dim, x in wides.items():
        row = tab.loc[dim]
        assert row["alpha_ordinal"] == pytest.approx(
            krippendorff_alpha(x, "ordinal", cats), abs=1e-12
        )
        assert row["alpha_interval"] == pytest.approx(krippendorff_alpha(x, "interval"), abs=1e-12)
        assert row["qwk_mean"] == pytest.approx(mean_pairwise_kappa(x, categories=cats), abs=1e-12)
        assert row["exact_agreement"] == pytest.approx(percent_agreement(x), abs=1e-12)
        assert row["adjacent_agreement"] == pytest.approx(
            percent_agreement(x, tolerance=1), abs=1e-12
        )
        # 15% missing: an incomplete crossed design -> REML variance components (oracles in
        # test_icc_designs.py)
        ref = crossed_icc(x)
        assert row["icc"] == pytest.approx(ref["icc"], abs=1e-12)
        assert row["icck_low"] == pytest.approx(ref["icck_low"], abs=1e-12)
        assert row["icc_form"] == ICC_FORMS["reml"] and row["icc_n_units"] == ref["icc_n_units"]
        boot = bootstrap_ci(
            x, "krippendorff_alpha", n_boot=100, seed=3, level="ordinal", values=cats
        )
        assert (row["alpha_ordinal_low"], row["alpha_ordinal_high"]) == pytest.approx(
            (boot.low, boot.high), abs=1e-12
        )
        assert row["n_raters"] == 3 and row["band"] == interpretation_band(row["alpha_ordinal"])


def test_rater_type_filter_and_grouping():
    df, _ = _long(1)
    assert (agreement_table(df, n_boot=0)["n_raters"] == 3).all()
    assert (agreement_table(df, rater_type=None, n_boot=0)["n_raters"] == 4).all()
    info = pd.DataFrame(
        {"transcript_id": [f"t{u:03d}" for u in range(40)], "seniority": ["junior", "senior"] * 20}
    )
    tab = agreement_table(df, by="seniority", unit_info=info, n_boot=0)
    assert list(tab.columns[:2]) == ["seniority", "dimension"]
    assert len(tab) == 2 * len(DIMS)
    assert (tab["n_units"] <= 20).all()


def test_bands():
    # Krippendorff (2004), Content Analysis 2nd ed., p. 241
    assert [interpretation_band(a) for a in (0.8, 0.7999, 0.667, 0.6669, np.nan)] == [
        "reliable",
        "tentative",
        "tentative",
        "unreliable",
        "undefined",
    ]


def test_errors_name_the_problem():
    df, _ = _long(2)
    with pytest.raises(DataValidationError, match="t000"):
        agreement_table(pd.concat([df, df.iloc[:1]]), n_boot=0)
    with pytest.raises(DataValidationError, match="missing column"):
        agreement_table(df.drop(columns="score"))
    with pytest.raises(DataValidationError, match="cohort"):
        agreement_table(df, by="cohort", n_boot=0)


def test_single_rater_dimension_warns_not_crashes():
    df, _ = _long(3)
    df = df[~((df["dimension"] == "data") & (df["rater_id"] != "r1"))]
    with pytest.warns(CalibWarning, match="dimension=data"):
        tab = agreement_table(df, n_boot=0)
    assert np.isnan(tab.set_index("dimension").loc["data", "alpha_ordinal"])


def test_deterministic():
    df, _ = _long(4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CalibWarning)
        a = agreement_table(df, n_boot=50, seed=9)
        b = agreement_table(df.sample(frac=1.0, random_state=1), n_boot=50, seed=9)
    pd.testing.assert_frame_equal(a, b)


def test_dimensions_with_different_transcripts_share_resamples():
    # "data" is rated on only 30 of the 40 transcripts: estimates use those 30, and the
    # bootstrap resamples all 40 transcripts jointly (unrated ones contribute nothing)
    df, wides = _long(5)
    keep = ~((df["dimension"] == "data") & (df["transcript_id"] >= "t030"))
    tab = agreement_table(df[keep], categories=[1, 2, 3, 4], n_boot=60, seed=1).set_index(
        "dimension"
    )
    x = wides["data"][:30]
    assert tab.loc["data", "n_units"] == int((~np.isnan(x)).any(axis=1).sum())
    assert tab.loc["data", "alpha_ordinal"] == pytest.approx(
        krippendorff_alpha(x, "ordinal"), abs=1e-12
    )
    padded = np.vstack([x, np.full((10, 3), np.nan)])
    boot = bootstrap_ci(
        padded, "krippendorff_alpha", n_boot=60, seed=1, level="ordinal", values=[1, 2, 3, 4]
    )
    assert (
        tab.loc["data", "alpha_ordinal_low"],
        tab.loc["data", "alpha_ordinal_high"],
    ) == pytest.approx((boot.low, boot.high), abs=1e-12)
