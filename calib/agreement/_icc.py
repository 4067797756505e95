"""Intraclass correlations (Shrout & Fleiss 1979 / McGraw & Wong 1996) from ANOVA moments."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from calib.agreement._core import UnitSums
from calib.agreement._validate import as_matrix, warn_nan
from calib.errors import DataValidationError

__all__ = ["icc", "icc_table", "icc_sums", "FORMS"]

FORMS = ("ICC1", "ICC2", "ICC3", "ICC1k", "ICC2k", "ICC3k")
_MCGRAW_WONG = {
    "ICC1": "ICC(1)",
    "ICC2": "ICC(A,1)",
    "ICC3": "ICC(C,1)",
    "ICC1k": "ICC(k)",
    "ICC2k": "ICC(A,k)",
    "ICC3k": "ICC(C,k)",
}


def _complete(data: Any, missing: str, allow_wide: bool) -> tuple[np.ndarray, np.ndarray]:
    """The matrix and its mask of complete units (listwise deletion is applied by the caller)."""
    x = as_matrix(data, allow_wide=allow_wide)
    if missing not in ("complete", "raise"):
        raise DataValidationError(f"missing: must be 'complete' or 'raise', got {missing!r}")
    full = ~np.isnan(x).any(axis=1)
    if missing == "raise" and not full.all():
        raise DataValidationError(
            f"data: {int((~full).sum())} unit(s) have missing ratings (first row {int(np.flatnonzero(~full)[0])}); "
            "ICC needs a complete units x raters design; use missing='complete' to drop them"
        )
    return x, full


def _mean_squares(s: np.ndarray, k: int) -> tuple[np.ndarray, ...]:
    """MSR, MSC, MSE, MSW from summed moments [n, sum x, sum rowsum^2, sum x^2, colsums(k)]."""
    n, tot, rows2, sq = s[:, 0], s[:, 1], s[:, 2], s[:, 3]
    cols = s[:, 4:]
    corr = tot**2 / (n * k)
    sst = sq - corr
    ssr = rows2 / k - corr
    ssc = (cols**2).sum(axis=1) / n - corr
    sse = sst - ssr - ssc
    msr = ssr / (n - 1)
    msc = ssc / (k - 1)
    mse = sse / ((n - 1) * (k - 1))
    msw = (sst - ssr) / (n * (k - 1))
    return n, msr, msc, mse, msw


def _form(form: str, n, k, msr, msc, mse, msw):
    if form == "ICC1":
        return (msr - msw) / (msr + (k - 1) * msw)
    if form == "ICC2":
        return (msr - mse) / (msr + (k - 1) * mse + k * (msc - mse) / n)
    if form == "ICC3":
        return (msr - mse) / (msr + (k - 1) * mse)
    if form == "ICC1k":
        return (msr - msw) / msr
    if form == "ICC2k":
        return (msr - mse) / (msr + (msc - mse) / n)
    return (msr - mse) / msr


def _check_form(form: str) -> None:
    if form not in FORMS:
        raise DataValidationError(f"form: must be one of {FORMS}, got {form!r}")


def icc_sums(
    data: Any, form: str = "ICC2", missing: str = "complete", *, allow_wide: bool = False
) -> UnitSums:
    """Per-unit ANOVA moments (complete units) for the bootstrap (see :mod:`._core`)."""
    _check_form(form)
    x, full = _complete(data, missing, allow_wide)
    k = x.shape[1]
    # centring by the grand mean keeps the raw-moment sums of squares exact to ~1e-13;
    # incomplete units keep a zero row so resampling runs over the same units as the data
    xc = np.where(full[:, None], x - (x[full].mean() if full.any() else 0.0), 0.0)
    rs = xc.sum(axis=1)
    feats = np.column_stack([full.astype(float), rs, rs**2, (xc**2).sum(axis=1), xc])

    def finish(s: np.ndarray) -> np.ndarray:
        n, msr, msc, mse, msw = _mean_squares(s, k)
        with np.errstate(invalid="ignore", divide="ignore"):
            return _form(form, n, k, msr, msc, mse, msw)

    return UnitSums(feats, finish)


def icc(
    data: Any, form: str = "ICC2", missing: str = "complete", *, allow_wide: bool = False
) -> float:
    """Intraclass correlation coefficient in one of the six Shrout & Fleiss forms.

    Parameters
    ----------
    data : array-like, shape (n_units, n_raters)
        Rows are targets (transcripts), columns raters.
    form : {"ICC1", "ICC2", "ICC3", "ICC1k", "ICC2k", "ICC3k"}
        Shrout & Fleiss (1979) / pingouin names. McGraw & Wong (1996) equivalents:
        ICC1 = ICC(1), ICC2 = ICC(A,1) (two-way random, absolute agreement),
        ICC3 = ICC(C,1) (two-way mixed, consistency), and the k forms are the reliability of
        the mean of the k raters: ICC(k), ICC(A,k), ICC(C,k).
    missing : {"complete", "raise"}
        ICC needs a complete design. "complete" (default) drops every unit with a missing
        rating (listwise deletion, as pingouin and R ``irr::icc`` do); "raise" refuses.

    Returns
    -------
    float
        NaN with a CalibWarning when fewer than 2 complete units remain or there is no
        variance at all.

    Notes
    -----
    Two-way ANOVA mean squares: MSR (targets), MSC (raters), MSE (residual), MSW (within
    targets). ICC1 = (MSR - MSW) / (MSR + (k-1) MSW); ICC2 = (MSR - MSE) / (MSR + (k-1) MSE +
    k (MSC - MSE) / n); ICC3 = (MSR - MSE) / (MSR + (k-1) MSE); ICC1k = (MSR - MSW) / MSR;
    ICC2k = (MSR - MSE) / (MSR + (MSC - MSE) / n); ICC3k = (MSR - MSE) / MSR. Shrout & Fleiss
    (1979), Psychological Bulletin 86(2), 420-428, Table 2. Equivalent:
    ``pingouin.intraclass_corr`` (labels ICC(1,1), ICC(A,1), ICC(C,1), ... since 0.6;
    ICC1, ICC2, ... before), R ``psych::ICC``.

    Examples
    --------
    >>> sf = [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]]
    >>> round(icc(sf, "ICC2"), 2), round(icc(sf, "ICC3k"), 2)
    (0.29, 0.91)
    """
    st = icc_sums(data, form, missing, allow_wide=allow_wide)
    n_complete = int(st.features[:, 0].sum())
    if n_complete < 2:
        return warn_nan(np.nan, "icc", f"{n_complete} complete unit(s); ICC needs at least 2")
    value = st.estimate()
    if not np.isfinite(value):  # e.g. -inf for ICC1k when the between-target mean square is 0
        value = np.nan
    return warn_nan(
        value, "icc", "a zero mean square: no variance between targets or no residual variance"
    )


def icc_table(
    data: Any, ci: float = 0.95, missing: str = "complete", *, allow_wide: bool = False
) -> pd.DataFrame:
    """All six ICC forms with F tests and analytic F-based confidence intervals.

    Returns
    -------
    pandas.DataFrame
        Indexed by form (ICC1 ... ICC3k): ``mcgraw_wong`` label, ``icc``, ``F``, ``df1``,
        ``df2``, ``pval``, ``ci_low``, ``ci_high``, ``n_units`` (complete units used), ``n_raters``.

    Notes
    -----
    Intervals: Shrout & Fleiss (1979) eqs. for ICC1/ICC3 (F_L = F / F_{1-a/2}(df1, df2),
    F_U = F F_{1-a/2}(df2, df1)); ICC2 uses McGraw & Wong (1996) with Satterthwaite's
    degrees of freedom; the k forms apply the Spearman-Brown step. Same formulas as
    ``pingouin.intraclass_corr`` and R ``psych::ICC``.

    Examples
    --------
    >>> sf = [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]]
    >>> icc_table(sf)["icc"].round(2).tolist()
    [0.17, 0.29, 0.71, 0.44, 0.62, 0.91]
    """
    if not 0 < ci < 1:
        raise DataValidationError(f"ci: must be in (0, 1), got {ci}")
    st = icc_sums(data, "ICC1", missing, allow_wide=allow_wide)
    k = st.features.shape[1] - 4
    n_units = int(st.features[:, 0].sum())
    idx = pd.Index(FORMS, name="form")
    if n_units < 2:
        warn_nan(np.nan, "icc_table", f"{n_units} complete unit(s); ICC needs at least 2")
        out = pd.DataFrame(
            np.nan, index=idx, columns=["icc", "F", "df1", "df2", "pval", "ci_low", "ci_high"]
        )
        out.insert(0, "mcgraw_wong", [_MCGRAW_WONG[f] for f in FORMS])
        out["n_units"], out["n_raters"] = n_units, k
        return out
    # numpy scalars, not Python floats: a zero mean square (no variance between targets or
    # in the residual) must give inf/NaN under errstate, not raise ZeroDivisionError
    n, msr, msc, mse, msw = (np.float64(v[0]) for v in _mean_squares(st.total(), k))
    with np.errstate(invalid="ignore", divide="ignore"):
        vals = {f: float(_form(f, n, k, msr, msc, mse, msw)) for f in FORMS}
        a = 1 - ci
        df1, df1w, df2e = n - 1, n * (k - 1), (n - 1) * (k - 1)
        f1, f3 = msr / msw, msr / mse
        f1l, f1u = f1 / stats.f.ppf(1 - a / 2, df1, df1w), f1 * stats.f.ppf(1 - a / 2, df1w, df1)
        f3l, f3u = f3 / stats.f.ppf(1 - a / 2, df1, df2e), f3 * stats.f.ppf(1 - a / 2, df2e, df1)
        icc2, fj = vals["ICC2"], msc / mse
        vn = df2e * (k * icc2 * fj + n * (1 + (k - 1) * icc2) - k * icc2) ** 2
        vd = df1 * k**2 * icc2**2 * fj**2 + (n * (1 + (k - 1) * icc2) - k * icc2) ** 2
        v = vn / vd
        f2u, f2l = stats.f.ppf(1 - a / 2, n - 1, v), stats.f.ppf(1 - a / 2, v, n - 1)
        l2 = n * (msr - f2u * mse) / (f2u * (k * msc + (k * n - k - n) * mse) + n * msr)
        u2 = n * (f2l * msr - mse) / (k * msc + (k * n - k - n) * mse + n * f2l * msr)
        lims = {
            "ICC1": ((f1l - 1) / (f1l + k - 1), (f1u - 1) / (f1u + k - 1)),
            "ICC2": (l2, u2),
            "ICC3": ((f3l - 1) / (f3l + k - 1), (f3u - 1) / (f3u + k - 1)),
            "ICC1k": (1 - 1 / f1l, 1 - 1 / f1u),
            "ICC2k": (l2 * k / (1 + l2 * (k - 1)), u2 * k / (1 + u2 * (k - 1))),
            "ICC3k": (1 - 1 / f3l, 1 - 1 / f3u),
        }
        p1, p3 = stats.f.sf(f1, df1, df1w), stats.f.sf(f3, df1, df2e)
    rows = []
    for f in FORMS:
        one = f in ("ICC1", "ICC1k")
        rows.append(
            {
                "mcgraw_wong": _MCGRAW_WONG[f],
                "icc": vals[f],
                "F": f1 if one else f3,
                "df1": df1,
                "df2": df1w if one else df2e,
                "pval": p1 if one else p3,
                "ci_low": float(lims[f][0]),
                "ci_high": float(lims[f][1]),
            }
        )
    out = pd.DataFrame(rows, index=idx)
    undefined = [f for f in FORMS if not np.isfinite(vals[f])]
    if undefined:
        out.loc[undefined, ["icc", "ci_low", "ci_high"]] = np.nan
        warn_nan(
            np.nan,
            "icc_table",
            f"{', '.join(undefined)}: a zero mean square (no variance "
            "between targets or no residual variance)",
        )
    out["n_units"], out["n_raters"] = n_units, k
    return out
