"""ICC against Shrout & Fleiss (1979) Table 4 and pingouin's intraclass_corr."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _agreement_data import SHROUT_FLEISS_1979

from calib.agreement import icc, icc_table
from calib.errors import CalibWarning, DataValidationError

pg = pytest.importorskip("pingouin")

# pingouin >= 0.6 labels (McGraw & Wong); before 0.6 they were ICC1, ICC2, ... (the rename trap)
PG_LABELS = {
    "ICC1": "ICC(1,1)",
    "ICC2": "ICC(A,1)",
    "ICC3": "ICC(C,1)",
    "ICC1k": "ICC(1,k)",
    "ICC2k": "ICC(A,k)",
    "ICC3k": "ICC(C,k)",
}


def _pingouin(x: np.ndarray) -> pd.DataFrame:
    long = (
        pd.DataFrame(x)
        .rename_axis("target")
        .reset_index()
        .melt(id_vars="target", var_name="rater", value_name="score")
    )
    old = pg.options.get("round")
    pg.options["round"] = None
    try:
        res = pg.intraclass_corr(long, targets="target", raters="rater", ratings="score")
    finally:
        pg.options["round"] = old
    return res.set_index("Type")


# Shrout & Fleiss (1979), Psychological Bulletin 86(2), Table 4 (p. 424): ICC(1,1) = .17,
# ICC(2,1) = .29, ICC(3,1) = .71, ICC(1,4) = .44, ICC(2,4) = .62, ICC(3,4) = .91.
@pytest.mark.parametrize(
    "form, published",
    [
        ("ICC1", 0.17),
        ("ICC2", 0.29),
        ("ICC3", 0.71),
        ("ICC1k", 0.44),
        ("ICC2k", 0.62),
        ("ICC3k", 0.91),
    ],
)
def test_shrout_fleiss_table4(form, published):
    assert round(icc(SHROUT_FLEISS_1979, form), 2) == published


def test_shrout_fleiss_ci_match_pingouin():
    # pingouin (validated against R psych::ICC) rounds its CI95 to 2 decimals
    ours = icc_table(SHROUT_FLEISS_1979)
    ref = _pingouin(SHROUT_FLEISS_1979)
    for form, label in PG_LABELS.items():
        lo, hi = ref.loc[label, "CI95"]
        assert ours.loc[form, "ci_low"] == pytest.approx(lo, abs=0.005 + 1e-12)
        assert ours.loc[form, "ci_high"] == pytest.approx(hi, abs=0.005 + 1e-12)
        assert ours.loc[form, "icc"] == pytest.approx(ref.loc[label, "ICC"], abs=1e-12)
        assert ours.loc[form, "F"] == pytest.approx(ref.loc[label, "F"], abs=1e-9)
        assert ours.loc[form, "pval"] == pytest.approx(ref.loc[label, "pval"], abs=1e-12)
        assert ours.loc[form, "df2"] == ref.loc[label, "df2"]


@pytest.mark.parametrize("seed", range(4))
def test_random_matches_pingouin(seed):
    rng = np.random.default_rng(seed)  # SYNTHETIC targets x raters with rater offsets
    x = (
        rng.normal(size=(40, 3 + seed))
        + rng.normal(size=(40, 1)) * (1 + seed)
        + rng.normal(size=(1, 3 + seed))
    )
    ours = icc_table(x)
    ref = _pingouin(x)
    for form, label in PG_LABELS.items():
        assert ours.loc[form, "icc"] == pytest.approx(ref.loc[label, "ICC"], abs=1e-9)
        assert icc(x, form) == pytest.approx(ref.loc[label, "ICC"], abs=1e-9)


def test_complete_case_is_explicit():
    x = SHROUT_FLEISS_1979.copy()
    x_missing = np.vstack([x, [[np.nan, 3, 4, 5]]])
    assert icc(x_missing, "ICC2") == pytest.approx(icc(x, "ICC2"), abs=1e-12)
    assert icc_table(x_missing)["n_units"].iloc[0] == 6
    with pytest.raises(DataValidationError, match="missing ratings"):
        icc(x_missing, "ICC2", missing="raise")


def test_icc_degenerate_and_bad_form():
    with pytest.raises(DataValidationError, match="form"):
        icc(SHROUT_FLEISS_1979, "ICC4")
    with pytest.warns(CalibWarning, match="complete unit"):
        assert np.isnan(icc([[1, 2], [np.nan, 3], [4, np.nan]], "ICC2"))
    with pytest.warns(CalibWarning, match="no variance"):
        assert np.isnan(icc(np.full((5, 3), 2.0), "ICC2"))
    with pytest.raises(DataValidationError, match="data.T"):
        icc(SHROUT_FLEISS_1979.T)


def test_zero_between_target_variance_gives_nan_not_zero_division():
    """Every target gets the same scores (MSR = 0): forms dividing by MSR are undefined. icc and
    icc_table agree, return NaN with a CalibWarning, and never raise ZeroDivisionError
    (a regression seen on a 30-transcript store). Defined forms keep their formula values,
    e.g. ICC1 = -1/(k-1) (Shrout & Fleiss 1979, eq. for ICC(1,1) with BMS = 0)."""
    import warnings as _w

    from calib.agreement import icc, icc_table
    from calib.errors import CalibWarning

    data = np.array([[1, 2, 3], [1, 2, 3], [1, 2, 3.0]])
    with pytest.warns(CalibWarning):
        table = icc_table(data)
    with _w.catch_warnings():
        _w.simplefilter("ignore", CalibWarning)
        single = [icc(data, form=f) for f in table.index]
    np.testing.assert_allclose(table["icc"].to_numpy(), single, equal_nan=True)
    assert table.loc["ICC1", "icc"] == pytest.approx(-0.5)
    assert np.isnan(table.loc["ICC1k", "icc"]) and np.isnan(table.loc["ICC3k", "icc"])
