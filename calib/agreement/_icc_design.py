"""The ICC a rating design supports: two-way (complete), one-way (nested) or REML (incomplete).

Real designs are rarely complete: in a crowd each item is scored by a few of hundreds of
raters, in a panel by 3 of 4 reviewers. The classical two-way ANOVA forms need every rater on
every unit; listwise deletion then leaves nothing ("n/a"). :func:`design_icc` picks the form
the data support and says which (``icc_form``):

* **complete** (every unit with two or more ratings was rated by the same raters): two-way
  random, absolute agreement ICC(A,1) and ICC(A,k), F-based CIs (Shrout & Fleiss 1979 ICC(2,1);
  McGraw & Wong 1996).
* **nested** (no rater rated two of those units -- each unit has its own raters -- or the
  raters are anonymous annotation slots): one-way random ICC(1) and ICC(1,k) from the one-way
  ANOVA, unbalanced sizes through n0 (Searle 1971, p. 474; Donner 1986, Int. Stat. Rev. 54,
  67-82), F-based CIs (Shrout & Fleiss 1979 ICC(1,1), with k -> n0). Rater differences cannot be
  separated from error here, so they count as error -- the one-way form is the absolute
  agreement a reader of one rating gets.
* **incomplete crossed** (raters recur across units, but not all on all): the variance
  components of the crossed random model ``score = mu + unit + rater + e`` by REML (the
  ``g_study`` machinery, :mod:`calib._varcomp`); ICC(A,1) = s_u^2 / (s_u^2 + s_r^2 + s_e^2) and
  ICC(A,k) = s_u^2 / (s_u^2 + (s_r^2 + s_e^2) / k), k = mean ratings per unit (Brennan 2001,
  Phi coefficient; Putka, Le, McCloy & Diaz 2008, J. Appl. Psychol. 93, 959-981). The CI is a
  Wald interval on logit(ICC) with the delta method on the REML information (numerical
  Hessian in log variances); components estimated at 0 are held fixed.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from scipy import sparse, stats

from calib._varcomp import reml, reml_covariance
from calib.agreement._icc import icc_table
from calib.errors import CalibWarning

__all__ = ["design_icc", "one_way_icc", "crossed_icc", "ICC_FORMS"]

#: ``icc_form`` labels (McGraw & Wong 1996 notation) of :func:`design_icc`.
ICC_FORMS = {
    "two_way": "ICC(A,1) two-way, complete design",
    "one_way": "ICC(1) one-way, raters nested in units",
    "reml": "ICC(A,1) REML variance components, incomplete design",
}


def _nan_row(reason: str) -> dict[str, Any]:
    warnings.warn(f"icc is undefined ({reason}); returning NaN", CalibWarning, stacklevel=3)
    return {}


def one_way_icc(x: np.ndarray, ci: float = 0.95) -> dict[str, float]:
    """One-way random ICC(1) and ICC(1,k) of a units x slots matrix (NaN = no rating).

    Units with fewer than two ratings are left out. With N ratings on n units of sizes n_i:
    MSB = sum n_i (m_i - m)^2 / (n - 1), MSW = sum (x - m_i)^2 / (N - n),
    n0 = (N - sum n_i^2 / N) / (n - 1); ICC(1) = (MSB - MSW) / (MSB + (n0 - 1) MSW) and
    ICC(1,k) = (MSB - MSW) / MSB (the Spearman-Brown step of ICC(1) to k = n0). CIs: F = MSB/MSW
    on (n - 1, N - n) df, F_L = F / F_{1-a/2}, F_U = F F_{1-a/2}(df2, df1); bounds
    (F_L - 1) / (F_L + n0 - 1) and 1 - 1 / F_L (Shrout & Fleiss 1979, eqs. for ICC(1,1)).
    Balanced data give pingouin's ``ICC1``/``ICC1k`` exactly.

    Examples
    --------
    >>> sf = [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]]
    >>> round(one_way_icc(np.array(sf, float))["icc"], 2)   # Shrout & Fleiss (1979), Table 4
    0.17
    """
    x = np.asarray(x, float)
    cnt = (~np.isnan(x)).sum(axis=1)
    x = x[cnt >= 2]
    n_i = cnt[cnt >= 2].astype(float)
    n = n_i.size
    out = {"icc": np.nan, "icc_low": np.nan, "icc_high": np.nan, "icck": np.nan}
    out |= {"icck_low": np.nan, "icck_high": np.nan, "icc_k": np.nan, "icc_n_units": n}
    if n < 2:
        return out
    N = n_i.sum()
    centre = np.nanmean(x)
    xc = x - centre
    means = np.nansum(xc, axis=1) / n_i
    grand = np.nansum(xc) / N
    msb = float(np.sum(n_i * (means - grand) ** 2) / (n - 1))
    msw = float(np.nansum((xc - means[:, None]) ** 2) / (N - n))
    n0 = float((N - np.sum(n_i**2) / N) / (n - 1))
    out["icc_k"] = n0
    with np.errstate(invalid="ignore", divide="ignore"):
        icc1 = (msb - msw) / (msb + (n0 - 1) * msw)
        icck = (msb - msw) / msb
        f = msb / msw
        a = 1 - ci
        df1, df2 = n - 1, N - n
        fl = f / stats.f.ppf(1 - a / 2, df1, df2)
        fu = f * stats.f.ppf(1 - a / 2, df2, df1)
        out |= {
            "icc": icc1,
            "icc_low": (fl - 1) / (fl + n0 - 1),
            "icc_high": (fu - 1) / (fu + n0 - 1),
            "icck": icck,
            "icck_low": 1 - 1 / fl,
            "icck_high": 1 - 1 / fu,
        }
    return {k: (float(v) if np.isfinite(v) else np.nan) for k, v in out.items()} | {
        "icc_n_units": n
    }


def crossed_icc(x: np.ndarray, ci: float = 0.95) -> dict[str, float]:
    """ICC(A,1), ICC(A,k) from REML variance components of units x raters (NaN = missing).

    Every unit with a rating enters the REML fit (single ratings inform the rater effects);
    k is the mean number of ratings of the units with two or more. See the module docstring.
    """
    x = np.asarray(x, float)
    rows, cols = np.nonzero(~np.isnan(x))
    y = x[rows, cols]
    cnt = np.bincount(rows, minlength=x.shape[0])
    out = {"icc": np.nan, "icc_low": np.nan, "icc_high": np.nan, "icck": np.nan}
    out |= {"icck_low": np.nan, "icck_high": np.nan}
    u_codes, u_idx = np.unique(rows, return_inverse=True)
    r_codes, r_idx = np.unique(cols, return_inverse=True)
    k = float(cnt[cnt >= 2].mean())
    out |= {"icc_k": k, "icc_n_units": int(u_codes.size)}
    ones = np.ones(y.size)
    Zs = [
        sparse.csr_matrix((ones, (np.arange(y.size), u_idx)), shape=(y.size, u_codes.size)),
        sparse.csr_matrix((ones, (np.arange(y.size), r_idx)), shape=(y.size, r_codes.size)),
    ]
    yc = y - y.mean()
    s2, s2e, _ = reml(yc, Zs)
    su, sr = float(s2[0]), float(s2[1])
    total = su + sr + s2e
    if not total > 0:
        return out
    out["icc"] = su / total
    out["icck"] = su / (su + (sr + s2e) / k)
    out["var_unit"], out["var_rater"], out["var_residual"] = su, sr, float(s2e)
    if su <= 0:
        return out
    cov, free = reml_covariance(yc, Zs, s2, s2e)
    err = sr + s2e
    # d logit(ICC) / d log(var): +1 for the unit component, -share of error for the others;
    # the same gradient for ICC(A,k) (k only rescales the error).
    grad = np.r_[1.0, -sr / err, -s2e / err][free]
    se = float(np.sqrt(max(grad @ cov @ grad, 0.0)))
    if not np.isfinite(se) or not free[0]:
        return out
    z = stats.norm.ppf(0.5 + ci / 2)
    for key, val in (("icc", out["icc"]), ("icck", out["icck"])):
        lg = np.log(val / (1 - val))
        lo, hi = lg - z * se, lg + z * se
        out[f"{key}_low"], out[f"{key}_high"] = 1 / (1 + np.exp(-lo)), 1 / (1 + np.exp(-hi))
    return out


def design_icc(x: np.ndarray, ci: float = 0.95, *, anonymous: bool = False) -> dict[str, Any]:
    """The ICC the design of ``x`` (units x raters, NaN = missing) supports, with its CI.

    Returns a dict with ``icc``, ``icc_low``, ``icc_high`` (single rating), ``icck``,
    ``icck_low``, ``icck_high`` (mean of k ratings), ``icc_k``, ``icc_n_units`` and
    ``icc_form`` (one of :data:`ICC_FORMS`). NaN with a ``CalibWarning`` only when fewer than two
    units have two or more ratings. ``anonymous=True`` (columns are annotation slots, not
    raters) always uses the one-way form.
    """
    x = np.asarray(x, float)
    rated = ~np.isnan(x)
    cnt = rated.sum(axis=1)
    pair = cnt >= 2
    if pair.sum() < 2:
        _nan_row(f"{int(pair.sum())} unit(s) with two or more ratings; ICC needs at least 2")
        return {"icc_form": "", "icc_n_units": int(pair.sum())}
    xp = x[pair]
    active = rated[pair].any(axis=0)
    per_rater = rated[pair].sum(axis=0)
    if not anonymous and active.sum() >= 2 and rated[pair][:, active].all():
        tab = icc_table(xp[:, active], ci=ci, allow_wide=True)
        return {
            "icc": float(tab.loc["ICC2", "icc"]),
            "icc_low": float(tab.loc["ICC2", "ci_low"]),
            "icc_high": float(tab.loc["ICC2", "ci_high"]),
            "icck": float(tab.loc["ICC2k", "icc"]),
            "icck_low": float(tab.loc["ICC2k", "ci_low"]),
            "icck_high": float(tab.loc["ICC2k", "ci_high"]),
            "icc_k": float(active.sum()),
            "icc_n_units": int(tab["n_units"].iloc[0]),
            "icc_form": ICC_FORMS["two_way"],
        }
    if anonymous or per_rater.max() <= 1:
        return one_way_icc(xp, ci) | {"icc_form": ICC_FORMS["one_way"]}
    try:
        res = crossed_icc(x[cnt >= 1], ci)
    except (ValueError, np.linalg.LinAlgError) as exc:  # pragma: no cover - defensive
        warnings.warn(
            f"icc: REML variance components failed ({exc}); one-way ICC(1) used instead",
            CalibWarning,
            stacklevel=2,
        )
        return one_way_icc(xp, ci) | {"icc_form": ICC_FORMS["one_way"]}
    return res | {"icc_form": ICC_FORMS["reml"]}
