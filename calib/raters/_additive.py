"""Additive rater model in raw-score units, least squares on an incomplete design.

Per dimension i: ``score_nj = a_n + r_j + e``, ``sum_j r_j = 0``: ``a_n`` is the transcript x
dimension effect (the score an average rater would give: the adjusted or "fair" score) and
``r_j`` the rater x dimension effect. Severity is ``-r_j`` (positive = harsh, in score points).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import linalg, stats

from calib.errors import CalibWarning
from calib.raters._design import encode, require_connected, validate_ratings

__all__ = ["fit_additive", "AdditiveResult"]


@dataclass
class AdditiveResult:
    """Fitted additive model.

    Attributes
    ----------
    raters : pandas.DataFrame
        ``rater_id``, ``dimension`` (or ``"all"``: the mean over dimensions), ``n``,
        ``raw_mean``, ``severity`` (score points, positive = harsh), ``se``, ``ci_low``,
        ``ci_high`` (``level`` confidence), ``t``, ``p_value``.
    scores : pandas.DataFrame
        ``transcript_id``, ``dimension``, ``n_raters``, ``raw_mean`` and ``fair_score``
        (raw ratings corrected for the severity of the raters who gave them).
    residuals : pandas.DataFrame
        One row per rating: ids, ``score``, ``fitted``, ``residual``.
    dimensions : pandas.DataFrame
        Per dimension: ``n``, ``df_resid``, ``residual_sd``.
    level : float
    """

    raters: pd.DataFrame
    scores: pd.DataFrame
    residuals: pd.DataFrame
    dimensions: pd.DataFrame
    level: float


def fit_additive(ratings: pd.DataFrame, *, level: float = 0.95) -> AdditiveResult:
    """Estimate rater severity per dimension in score points on an incomplete design.

    Parameters
    ----------
    ratings : pandas.DataFrame
        Long ratings table (``transcript_id``, ``rater_id``, ``dimension``, ``score``).
    level : float
        Confidence level of the intervals.

    Returns
    -------
    AdditiveResult

    Notes
    -----
    Two-way fixed-effects least squares per dimension, transcripts absorbed (Schur complement
    of the normal equations, a small dense solve per dimension). With ``sigma^2 = RSS /
    (N - n_transcripts - n_raters + 1)`` the covariance of the rater effects is ``sigma^2 (A'
    S A)^+``. Transcripts rated once contribute to their own fair score only. Equivalent: R
    ``lm(score ~ 0 + factor(transcript) + factor(rater), contrasts = contr.sum)`` per
    dimension.

    Examples
    --------
    >>> import pandas as pd
    >>> from calib.raters import fit_additive
    >>> df = pd.DataFrame({"transcript_id": ["t1", "t1", "t2", "t2", "t3", "t3"],
    ...                    "rater_id": ["a", "b", "a", "b", "a", "b"], "dimension": "data",
    ...                    "score": [3, 2, 4, 3, 2, 1]})
    >>> res = fit_additive(df)
    >>> res.raters.query("dimension == 'data'")[["rater_id", "severity"]].round(2).values.tolist()
    [['a', -0.5], ['b', 0.5]]
    """
    df = validate_ratings(ratings)
    enc = encode(df)
    require_connected(enc)
    n_r = enc.raters.size
    alpha = 1 - level
    rater_rows, score_rows, dim_rows = [], [], []
    fitted = np.full(enc.score.size, np.nan)
    for i, dim in enumerate(enc.dimensions):  # one small solve per dimension
        sel = np.flatnonzero(enc.d == i)
        t_c, t_lab = pd.factorize(enc.t[sel], sort=True)
        r = enc.r[sel]
        y = enc.score[sel]
        nt = t_lab.size
        cnt_t = np.bincount(t_c, minlength=nt).astype(float)
        cnt_r = np.bincount(r, minlength=n_r).astype(float)
        present = cnt_r > 0
        # Normal equations with transcripts absorbed: S r = b.
        cross = np.zeros((nt, n_r))
        np.add.at(cross, (t_c, r), 1.0)
        S = np.diag(cnt_r) - (cross / cnt_t[:, None]).T @ cross
        ybar_t = np.bincount(t_c, y, minlength=nt) / cnt_t
        rhs = np.bincount(r, y, minlength=n_r) - cross.T @ ybar_t
        idx = np.flatnonzero(present)
        k = idx.size
        A = np.vstack([np.eye(k - 1), -np.ones((1, k - 1))]) if k > 1 else np.zeros((1, 0))
        Sp = A.T @ S[np.ix_(idx, idx)] @ A
        eff = np.zeros(n_r)
        cov = np.zeros((n_r, n_r))
        if k > 1:
            Sinv = linalg.pinvh(Sp)
            eff[idx] = A @ (Sinv @ (A.T @ rhs[idx]))
        a = ybar_t - (cross @ eff) / cnt_t
        fit = a[t_c] + eff[r]
        fitted[sel] = fit
        rss = float(((y - fit) ** 2).sum())
        df_res = sel.size - nt - (k - 1)
        if df_res > 0:
            s2 = rss / df_res
        else:
            s2 = np.nan
            warnings.warn(
                f"fit_additive: dimension {dim!r} has no residual degrees of freedom; "
                "standard errors are NaN",
                CalibWarning,
                stacklevel=2,
            )
        if k > 1:
            cov[np.ix_(idx, idx)] = s2 * (A @ Sinv @ A.T)
        se = np.sqrt(np.clip(np.diag(cov), 0, None))
        se[~present] = np.nan
        sev = -eff
        sev[~present] = np.nan
        tcrit = stats.t.ppf(1 - alpha / 2, df_res) if df_res > 0 else np.nan
        with np.errstate(divide="ignore", invalid="ignore"):
            tstat = sev / se
        rater_rows.append(
            pd.DataFrame(
                {
                    "rater_id": enc.raters.astype(str),
                    "dimension": str(dim),
                    "n": cnt_r.astype(int),
                    "raw_mean": np.bincount(r, y, minlength=n_r) / np.where(present, cnt_r, np.nan),
                    "severity": sev,
                    "se": se,
                    "ci_low": sev - tcrit * se,
                    "ci_high": sev + tcrit * se,
                    "t": tstat,
                    "p_value": 2 * stats.t.sf(np.abs(tstat), df_res) if df_res > 0 else np.nan,
                    "_var": np.diag(cov),
                    "_df": df_res,
                }
            )
        )
        score_rows.append(
            pd.DataFrame(
                {
                    "transcript_id": enc.transcripts[t_lab].astype(str),
                    "dimension": str(dim),
                    "n_raters": cnt_t.astype(int),
                    "raw_mean": ybar_t,
                    "fair_score": a,
                }
            )
        )
        dim_rows.append(
            {"dimension": str(dim), "n": sel.size, "df_resid": df_res, "residual_sd": np.sqrt(s2)}
        )
    per_dim = pd.concat(rater_rows, ignore_index=True)
    per_dim = per_dim[per_dim["n"] > 0]
    # Overall severity: mean over the dimensions a rater scored; dimensions are fitted
    # separately, so their estimates are independent and variances add.
    g = per_dim.groupby("rater_id", sort=True)
    overall = pd.DataFrame(
        {
            "rater_id": g.size().index,
            "dimension": "all",
            "n": g["n"].sum().to_numpy(),
            "raw_mean": (
                per_dim.assign(_s=per_dim.raw_mean * per_dim.n).groupby("rater_id")["_s"].sum()
                / g["n"].sum()
            ).to_numpy(),
            "severity": g["severity"].mean().to_numpy(),
            "se": (np.sqrt(g["_var"].sum()) / g.size()).to_numpy(),
        }
    )
    df_all = int(per_dim.groupby("dimension")["_df"].first().sum())
    tcrit = stats.t.ppf(1 - alpha / 2, df_all) if df_all > 0 else np.nan
    overall["ci_low"] = overall.severity - tcrit * overall.se
    overall["ci_high"] = overall.severity + tcrit * overall.se
    with np.errstate(divide="ignore", invalid="ignore"):
        overall["t"] = overall.severity / overall.se
    overall["p_value"] = 2 * stats.t.sf(np.abs(overall["t"]), df_all) if df_all > 0 else np.nan
    raters = pd.concat([per_dim.drop(columns=["_var", "_df"]), overall], ignore_index=True)
    res = enc.frame[["transcript_id", "rater_id", "dimension"]].copy()
    res["score"] = enc.score
    res["fitted"] = fitted
    res["residual"] = enc.score - fitted
    for extra in ("rated_at",):
        if extra in enc.frame.columns:
            res[extra] = enc.frame[extra].to_numpy()
    scores = (
        pd.concat(score_rows, ignore_index=True)
        .sort_values(["transcript_id", "dimension"], kind="stable")
        .reset_index(drop=True)
    )
    return AdditiveResult(
        raters=raters.reset_index(drop=True),
        scores=scores,
        residuals=res,
        dimensions=pd.DataFrame(dim_rows),
        level=level,
    )
