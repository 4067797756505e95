"""Human-machine evaluation with RSMTool's metric names and definitions, and PRMSE."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from calib.agreement._validate import warn_nan
from calib.errors import DataValidationError

__all__ = ["human_machine_metrics", "HumanMachineResult", "prmse", "TRIM_TOLERANCE"]

# RSMTool (doc/evaluation.rst): trimmed scores are clipped to [min - 0.4998, max + 0.4998]
TRIM_TOLERANCE = 0.4998

_EVAL_COLS = [
    "N",
    "h_mean",
    "h_sd",
    "h_min",
    "h_max",
    "sys_mean",
    "sys_sd",
    "sys_min",
    "sys_max",
    "corr",
    "wtkappa",
    "R2",
    "kappa",
    "exact_agr",
    "adj_agr",
    "SMD",
    "RMSE",
]
_DEGRADATION_COLS = ["corr", "kappa", "wtkappa", "exact_agr", "adj_agr", "SMD"]


@dataclass(frozen=True)
class HumanMachineResult:
    """RSMTool-style evaluation tables.

    Attributes
    ----------
    eval : pandas.DataFrame
        Rows ``raw`` (system scores as given), ``raw_trim`` (clipped), ``raw_trim_round``
        (clipped then rounded half to even); columns as RSMTool's ``*_eval.csv``.
    consistency : pandas.DataFrame or None
        Human-human agreement on double-scored responses (RSMTool's ``*_consistency.csv``).
    degradation : pandas.DataFrame or None
        Human-machine metric on the double-scored responses minus the human-human metric
        (RSMTool's ``*_degradation.csv``).
    """

    eval: pd.DataFrame
    consistency: pd.DataFrame | None
    degradation: pd.DataFrame | None


def _vector(v: Any, name: str) -> np.ndarray:
    arr = np.asarray(v, dtype=float) if not isinstance(v, pd.Series) else v.to_numpy(dtype=float)
    if arr.ndim != 1:
        raise DataValidationError(
            f"{name}: expected a 1-D sequence of scores, got shape {arr.shape}"
        )
    if np.isinf(arr).any():
        raise DataValidationError(f"{name}: contains infinite values")
    return arr


def _wtkappa(h: np.ndarray, s: np.ndarray) -> float:
    """Haberman's (2019) continuous QWK: 2 Cov / (Var h + Var s + (mean s - mean h)^2), ddof 0."""
    cov = np.mean((h - h.mean()) * (s - s.mean()))
    denom = h.var() + s.var() + (s.mean() - h.mean()) ** 2
    return float(2 * cov / denom) if denom > 0 else np.nan


def _kappa(h: np.ndarray, s: np.ndarray) -> float:
    """Unweighted Cohen's kappa on scores rounded half to even (skll.metrics.kappa, as RSMTool)."""
    hr, sr = np.round(h).astype(int), np.round(s).astype(int)
    lo = min(hr.min(), sr.min())
    q = max(hr.max(), sr.max()) - lo + 1
    table = np.bincount((hr - lo) * q + (sr - lo), minlength=q * q).reshape(q, q) / h.size
    po, pe = np.trace(table), table.sum(axis=1) @ table.sum(axis=0)
    return float((po - pe) / (1 - pe)) if pe < 1 else np.nan


def _pair_metrics(h: np.ndarray, s: np.ndarray) -> dict[str, float]:
    d = s - h
    return {
        "corr": float(np.corrcoef(h, s)[0, 1]) if h.std() > 0 and s.std() > 0 else np.nan,
        "wtkappa": _wtkappa(h, s),
        "kappa": _kappa(h, s),
        "exact_agr": float(np.mean(np.abs(d) <= 0) * 100),
        "adj_agr": float(np.mean(np.abs(d) <= 1) * 100),
    }


def _eval_row(h: np.ndarray, s: np.ndarray) -> dict[str, float]:
    h_sd = h.std(ddof=1)
    row = {
        "N": int(h.size),
        "h_mean": h.mean(),
        "h_sd": h_sd,
        "h_min": h.min(),
        "h_max": h.max(),
        "sys_mean": s.mean(),
        "sys_sd": s.std(ddof=1),
        "sys_min": s.min(),
        "sys_max": s.max(),
    }
    row.update(_pair_metrics(h, s))
    mse = np.mean((h - s) ** 2)
    row["R2"] = float(1 - mse / h.var()) if h.var() > 0 else np.nan
    row["SMD"] = float((s.mean() - h.mean()) / h_sd) if h_sd > 0 else np.nan
    row["RMSE"] = float(np.sqrt(mse))
    return row


def _eval_table(h: np.ndarray, s: np.ndarray, trim_min, trim_max) -> pd.DataFrame:
    trimmed = np.clip(s, trim_min - TRIM_TOLERANCE, trim_max + TRIM_TOLERANCE)
    rows = {
        "raw": _eval_row(h, s),
        "raw_trim": _eval_row(h, trimmed),
        "raw_trim_round": _eval_row(h, np.round(trimmed)),
    }
    return pd.DataFrame.from_dict(rows, orient="index")[_EVAL_COLS]


def human_machine_metrics(
    human: Any,
    system: Any,
    second_human: Any = None,
    trim_min: float | None = None,
    trim_max: float | None = None,
) -> HumanMachineResult:
    """Evaluate machine scores against human scores exactly as RSMTool's ``rsmeval`` does.

    Parameters
    ----------
    human : array-like, shape (n,)
        First human score of each response (NaN rows are dropped, with the system score).
    system : array-like, shape (n,)
        Machine score on the human scale (no scaling is applied: RSMTool ``scale_with: asis``).
    second_human : array-like, shape (n,), optional
        Second human score (NaN where a response was single-scored): adds the human-human
        ``consistency`` table and the ``degradation`` table.
    trim_min, trim_max : float, optional
        The score scale (e.g. the rubric's 1 and 4); default the observed human min and max.

    Returns
    -------
    HumanMachineResult
        ``.eval`` (N, h_mean, h_sd, h_min, h_max, sys_mean, sys_sd, sys_min, sys_max, corr,
        wtkappa, R2, kappa, exact_agr, adj_agr, SMD, RMSE for raw / raw_trim /
        raw_trim_round system scores), ``.consistency`` and ``.degradation``.

    Notes
    -----
    RSMTool definitions (Loukina et al., RSMTool documentation, "Evaluation"): sd with
    ddof=1; ``wtkappa`` is Haberman's continuous QWK 2 Cov(M,H) / (Var H + Var M +
    (mean M - mean H)^2) with population variances (equal to Cohen's QWK on integer
    scores); ``kappa`` is unweighted Cohen's kappa after rounding half to even; exact and
    adjacent agreement are percentages of |M - H| <= 0 and <= 1 on the scores as given;
    ``R2`` = 1 - MSE / Var(H); ``SMD`` = (mean M - mean H) / sd H. Human-human ``SMD`` uses
    the pooled sd sqrt((sd1^2 + sd2^2) / 2). Degradation is the human-machine metric on the
    double-scored responses minus the human-human metric. Reproduces RSMTool's
    ``lr-eval-with-h2`` outputs to 1e-12 (see the tests).

    Examples
    --------
    >>> h = [1, 2, 3, 4, 4, 2, 3, 1]  # SYNTHETIC ratings
    >>> m = [1.2, 2.4, 2.8, 3.6, 4.3, 2.6, 2.9, 1.6]
    >>> res = human_machine_metrics(h, m, trim_min=1, trim_max=4)
    >>> res.eval.round(3).loc["raw_trim_round", ["kappa", "wtkappa", "SMD"]].tolist()
    [0.667, 0.889, 0.209]
    """
    h, s = _vector(human, "human"), _vector(system, "system")
    if h.shape != s.shape:
        raise DataValidationError(
            f"human and system must have the same length, got {h.size} and {s.size}"
        )
    h2 = None
    if second_human is not None:
        h2 = _vector(second_human, "second_human")
        if h2.shape != h.shape:
            raise DataValidationError(
                f"second_human must have the length of human ({h.size}), got {h2.size}"
            )
    keep = ~np.isnan(h) & ~np.isnan(s)
    if keep.sum() < 2:
        raise DataValidationError(
            f"human/system: {int(keep.sum())} response(s) with both scores; need at least 2"
        )
    lo = float(np.nanmin(h[keep])) if trim_min is None else float(trim_min)
    hi = float(np.nanmax(h[keep])) if trim_max is None else float(trim_max)
    if lo > hi:
        raise DataValidationError(f"trim_min ({lo}) must not exceed trim_max ({hi})")
    table = _eval_table(h[keep], s[keep], lo, hi)
    if h2 is None:
        return HumanMachineResult(table, None, None)
    both = keep & ~np.isnan(h2)
    if both.sum() < 2:
        raise DataValidationError(
            f"second_human: {int(both.sum())} double-scored response(s); need at least 2"
        )
    a, b = h[both], h2[both]
    cons = {
        "N": int(both.sum()),
        "h1_mean": a.mean(),
        "h1_sd": a.std(ddof=1),
        "h1_min": a.min(),
        "h1_max": a.max(),
        "h2_mean": b.mean(),
        "h2_sd": b.std(ddof=1),
        "h2_min": b.min(),
        "h2_max": b.max(),
    }
    cons.update(_pair_metrics(a, b))
    pooled = np.sqrt((a.var(ddof=1) + b.var(ddof=1)) / 2)
    cons["SMD"] = float((b.mean() - a.mean()) / pooled) if pooled > 0 else np.nan
    consistency = pd.DataFrame([cons])
    double = _eval_table(a, s[both], lo, hi)
    degradation = double[_DEGRADATION_COLS] - consistency[_DEGRADATION_COLS].to_numpy()
    return HumanMachineResult(table, consistency, degradation)


def prmse(system: Any, humans: Any, details: bool = False) -> float | pd.Series:
    """Proportional reduction in mean squared error of the system score for the true score.

    Parameters
    ----------
    system : array-like, shape (n,)
        Machine scores.
    humans : array-like, shape (n, n_raters)
        Any number of human scores per response, NaN where missing; at least some
        responses must be scored twice (to estimate the human error variance).
    details : bool
        Return RSMTool's ``true_score_eval`` quantities as a Series instead of the float.

    Returns
    -------
    float or pandas.Series
        PRMSE; NaN with a CalibWarning when no response has two human scores or the true
        score variance is not positive.

    Notes
    -----
    Haberman (2008); Loukina et al. (2020), "Using PRMSE to evaluate automated scoring
    systems in the presence of label noise", BEA workshop; RSMTool ``rsmtool.utils.prmse``.
    With c_i human scores of response i, mean hbar_i, c = sum c_i, N responses:
    V_e = sum_i (c_i - 1) s_i^2 / sum_i (c_i - 1) (s_i^2 the within-response variance,
    responses with c_i >= 2); V_T = (sum c_i (hbar_i - hbar)^2 - (N - 1) V_e) /
    (c - sum c_i^2 / c); MSE_T = (sum c_i (hbar_i - m_i)^2 - N V_e) / c; PRMSE = 1 - MSE_T / V_T.

    Examples
    --------
    >>> import numpy as np
    >>> humans = np.array([[1, 2], [2, 2], [3, 4], [4, 4], [2, 3], [3, 3], [1, 1], [4, 3]])  # SYNTHETIC
    >>> round(prmse([1.9, 2.4, 3.1, 3.5, 2.2, 3.3, 1.8, 3.0], humans), 4)
    0.9
    """
    s = _vector(system, "system")
    hum = np.asarray(humans, dtype=float)
    if hum.ndim == 1:
        hum = hum[:, None]
    if hum.ndim != 2 or hum.shape[0] != s.size:
        raise DataValidationError(f"humans: expected shape ({s.size}, n_raters), got {hum.shape}")
    c = (~np.isnan(hum)).sum(axis=1)
    keep = (c > 0) & ~np.isnan(s)
    hum, s, c = hum[keep], s[keep], c[keep]
    multiple = c > 1
    out = {
        "N": int(s.size),
        "N raters": int(c.max()) if c.size else 0,
        "N single": int((c == 1).sum()),
        "N multiple": int(multiple.sum()),
    }
    if not multiple.any():
        value = warn_nan(
            np.nan, "prmse", "no response has two human scores, so the error variance is unknown"
        )
        out.update(
            {
                "Variance of errors": np.nan,
                "True score var": np.nan,
                "MSE true": np.nan,
                "PRMSE true": value,
            }
        )
        return pd.Series(out) if details else value
    within = np.nanvar(hum[multiple], axis=1, ddof=1)
    v_e = float(np.sum(within * (c[multiple] - 1)) / np.sum(c[multiple] - 1))
    hbar_i = np.nanmean(hum, axis=1)
    total = c.sum()
    hbar = np.nansum(hum) / total
    n = s.size
    v_t = (np.sum(c * (hbar_i - hbar) ** 2) - (n - 1) * v_e) / (total - np.sum(c**2) / total)
    mse = (np.sum(c * (hbar_i - s) ** 2) - n * v_e) / total
    value = (
        float(1 - mse / v_t)
        if v_t > 0
        else warn_nan(np.nan, "prmse", "true score variance is not positive")
    )
    out.update(
        {
            "Variance of errors": v_e,
            "True score var": float(v_t),
            "MSE true": float(mse),
            "PRMSE true": value,
        }
    )
    return pd.Series(out) if details else value
