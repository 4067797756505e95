"""Vectorised human-machine statistics for validate-grader (point estimates and bootstrap).

Bootstrap replicates are multinomial weight vectors over transcripts, so every replicate of
every statistic is a few matrix products -- no Python loop over replicates. Definitions and
names follow RSMTool (``doc/evaluation.rst``): population moments for ``wtkappa`` (Haberman's
continuous quadratic-weighted kappa), ``ddof=1`` standard deviations for ``h_sd``/``sys_sd``
and ``SMD``, percentages for ``exact_agr``/``adj_agr``, and exact/adjacent agreement and
``kappa`` on the system scores rounded half-to-even.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

__all__ = [
    "weighted_hm_metrics",
    "weighted_hh_metrics",
    "multinomial_weights",
    "bootstrap_stats",
    "ols",
    "HM_METRICS",
]

HM_METRICS = (
    "N",
    "h_mean",
    "h_sd",
    "sys_mean",
    "sys_sd",
    "corr",
    "wtkappa",
    "kappa",
    "exact_agr",
    "adj_agr",
    "SMD",
    "R2",
    "RMSE",
)


def multinomial_weights(n: int, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """``(n_boot, n)`` resampling counts: row b says how often each unit is drawn in replicate b."""
    return rng.multinomial(n, np.full(n, 1.0 / n), size=n_boot).astype(np.float64)


#: Largest bootstrap weight block held in memory at once (bytes); replicates are processed in
#: chunks of rows so memory does not grow with replicates x units.
_CHUNK_BYTES = 32 * 2**20


def bootstrap_stats(columns, n_boot, rng, *stats):
    """Bootstrap replicates of statistics of paired unit values, in memory ~ distinct rows.

    Every statistic here is a function of the weighted empirical distribution of the unit rows
    ``(columns[0][i], columns[1][i], ...)``. Resampling ``n`` units with equal probabilities
    and counting how often each *distinct row* is drawn is a multinomial draw of ``n`` over the
    distinct rows with probabilities ``count_j / n`` -- the same bootstrap law as drawing unit
    counts, but over at most ``L^2`` cells for two ordinal score vectors on ``L`` levels instead of
    ``n`` units. When the rows are mostly distinct (continuous machine scores) the weight matrix
    is built and used in chunks of replicates of at most ``_CHUNK_BYTES``.

    Parameters
    ----------
    columns : tuple of array, each shape (n,)
        The unit values (no NaN).
    n_boot : int
        Number of replicates.
    rng : numpy.random.Generator
        Source of randomness.
    *stats : callable
        Each called as ``stat(*distinct_columns, W)`` with ``W`` of shape ``(chunk, n_distinct)``
        and returning a DataFrame with one row per weight row.

    Returns
    -------
    list of pandas.DataFrame
        One frame per statistic, ``n_boot`` rows each.

    Example
    -------
    >>> rng = np.random.default_rng(0)
    >>> h = np.array([1, 2, 3, 4, 4, 2.]); s = np.array([1, 2, 3, 3, 4, 2.])
    >>> (b,) = bootstrap_stats((h, s), 200, rng, weighted_hm_metrics)
    >>> b.shape[0], bool((b["N"] == 6).all())
    (200, True)
    """
    cols = [np.asarray(c, float) for c in columns]
    n = len(cols[0])
    uniq, counts = np.unique(np.column_stack(cols), axis=0, return_counts=True)
    distinct = [uniq[:, j] for j in range(uniq.shape[1])]
    p = counts / n
    rows = max(1, _CHUNK_BYTES // (8 * max(1, len(p))))
    parts: list[list[pd.DataFrame]] = [[] for _ in stats]
    for start in range(0, n_boot, rows):
        W = rng.multinomial(n, p, size=min(rows, n_boot - start)).astype(np.float64)
        for k, stat in enumerate(stats):
            parts[k].append(stat(*distinct, W))
    return [pd.concat(pk, ignore_index=True) if pk else pd.DataFrame() for pk in parts]


def _moments(W: np.ndarray, x: np.ndarray, y: np.ndarray):
    n = W.sum(axis=1)
    mx, my = W @ x / n, W @ y / n
    vx = W @ (x * x) / n - mx**2
    vy = W @ (y * y) / n - my**2
    cxy = W @ (x * y) / n - mx * my
    return n, mx, my, np.maximum(vx, 0), np.maximum(vy, 0), cxy


def _kappa(W: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    cats = np.union1d(a, b)
    A = (a[:, None] == cats[None, :]).astype(float)
    B = (b[:, None] == cats[None, :]).astype(float)
    n = W.sum(axis=1)
    po = W @ (a == b).astype(float) / n
    pe = ((W @ A) / n[:, None] * (W @ B) / n[:, None]).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(pe < 1, (po - pe) / (1 - pe), np.nan)


def weighted_hm_metrics(h: np.ndarray, s: np.ndarray, W: np.ndarray | None = None) -> pd.DataFrame:
    """RSMTool human-machine metrics for each weight row of ``W`` (default: one row of ones).

    Parameters
    ----------
    h, s : array, shape (n,)
        Human and system scores (no NaN).
    W : array, shape (n_boot, n), optional
        Non-negative unit weights (bootstrap counts).

    Returns
    -------
    pandas.DataFrame
        One row per weight row, columns :data:`HM_METRICS`.

    Example
    -------
    >>> m = weighted_hm_metrics(np.array([1, 2, 3, 4.]), np.array([1, 2, 3, 3.]))
    >>> round(float(m.loc[0, "wtkappa"]), 4), float(m.loc[0, "exact_agr"])
    (0.875, 75.0)
    """
    h = np.asarray(h, float)
    s = np.asarray(s, float)
    W = np.ones((1, len(h))) if W is None else np.asarray(W, float)
    n, mh, ms, vh, vs, c = _moments(W, h, s)
    bessel = n / np.maximum(n - 1, 1)
    sd_h, sd_s = np.sqrt(vh * bessel), np.sqrt(vs * bessel)
    sr = np.round(s)  # numpy rounds half to even, as RSMTool does
    mse = W @ ((s - h) ** 2) / n
    with np.errstate(invalid="ignore", divide="ignore"):
        out = {
            "N": n,
            "h_mean": mh,
            "h_sd": sd_h,
            "sys_mean": ms,
            "sys_sd": sd_s,
            "corr": c / np.sqrt(vh * vs),
            "wtkappa": 2 * c / (vh + vs + (mh - ms) ** 2),
            "kappa": _kappa(W, h, sr),
            "exact_agr": 100 * W @ (sr == h).astype(float) / n,
            "adj_agr": 100 * W @ (np.abs(sr - h) <= 1).astype(float) / n,
            "SMD": (ms - mh) / sd_h,
            "R2": 1 - mse / vh,
            "RMSE": np.sqrt(mse),
        }
    return pd.DataFrame(out, columns=list(HM_METRICS))


def weighted_hh_metrics(
    h1: np.ndarray, h2: np.ndarray, W: np.ndarray | None = None
) -> pd.DataFrame:
    """RSMTool human-human consistency (``corr, wtkappa, kappa, exact_agr, adj_agr, SMD``).

    ``SMD`` uses the pooled standard deviation sqrt((sd1^2 + sd2^2) / 2) (ddof=1).

    Example
    -------
    >>> round(float(weighted_hh_metrics(np.array([1, 2, 3.]), np.array([1, 2, 3.]))["wtkappa"][0]), 6)
    1.0
    """
    h1 = np.asarray(h1, float)
    h2 = np.asarray(h2, float)
    W = np.ones((1, len(h1))) if W is None else np.asarray(W, float)
    n, m1, m2, v1, v2, c = _moments(W, h1, h2)
    bessel = n / np.maximum(n - 1, 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = {
            "N": n,
            "corr": c / np.sqrt(v1 * v2),
            "wtkappa": 2 * c / (v1 + v2 + (m1 - m2) ** 2),
            "kappa": _kappa(W, h1, h2),
            "exact_agr": 100 * W @ (h1 == h2).astype(float) / n,
            "adj_agr": 100 * W @ (np.abs(h1 - h2) <= 1).astype(float) / n,
            "SMD": (m2 - m1) / np.sqrt((v1 * bessel + v2 * bessel) / 2),
        }
    return pd.DataFrame(out)


def ols(y: np.ndarray, X: np.ndarray) -> dict:
    """Ordinary least squares with classical standard errors (``X`` includes the intercept).

    Returns ``beta, se, rss, df_resid, r2, r2_adj, f_pvalue`` -- the quantities
    ``statsmodels.api.OLS(y, X).fit()`` reports as ``params, bse, ssr, df_resid, rsquared,
    rsquared_adj, f_pvalue``.

    Example
    -------
    >>> r = ols(np.array([1., 2., 3., 5.]), np.column_stack([np.ones(4), [0., 1., 2., 3.]]))
    >>> round(float(r["beta"][1]), 2)
    1.3
    """
    y = np.asarray(y, float)
    X = np.asarray(X, float)
    n, k = X.shape
    beta, _, rank, _ = np.linalg.lstsq(X, y, rcond=None)
    resid = y - X @ beta
    rss = float(resid @ resid)
    df_resid = n - rank
    tss = float(((y - y.mean()) ** 2).sum())
    sigma2 = rss / df_resid if df_resid > 0 else np.nan
    cov = sigma2 * np.linalg.pinv(X.T @ X)
    r2 = 1 - rss / tss if tss > 0 else np.nan
    df_model = rank - 1
    r2_adj = 1 - (n - 1) / df_resid * (1 - r2) if df_resid > 0 else np.nan
    if df_model > 0 and df_resid > 0 and tss > 0:
        f = ((tss - rss) / df_model) / (rss / df_resid) if rss > 0 else np.inf
        f_p = float(stats.f.sf(f, df_model, df_resid))
    else:
        f_p = np.nan
    return {
        "beta": beta,
        "se": np.sqrt(np.diag(cov)),
        "rss": rss,
        "df_resid": df_resid,
        "r2": r2,
        "r2_adj": r2_adj,
        "f_pvalue": f_p,
    }
