"""Differential rater functioning (DRF): is a rater harsher on one candidate subgroup?

For every rater x dimension x candidate attribute, a fixed-effects linear model of the raw
scores asks whether the rater's offset from the co-raters of the *same transcripts* differs
between the attribute's groups. Transcript effects are absorbed (within-transcript centring),
so candidate skill and subgroup differences in skill cancel; every rater's overall severity
and, when ratings carry ``rated_at``, each rater's linear time trend are in the model, so a
drifting rater is not read as biased against whichever cohort they rated early.

Why not the residuals of a fitted rater model: residuals from a model whose transcript
effects were estimated *with* the biased rater absorb about ``1/k`` of the bias (``k`` raters
per transcript), so with 2-3 raters per transcript a 0.4-point bias shows as ~0.2 and the
co-raters inherit the rest with the opposite sign. Estimating the interaction inside the
model removes that attenuation, and a second pass that keeps the flagged interactions in the
model while the others are re-tested (scale purification, as in DIF analysis: Candell &
Drasgow, 1988, *Applied Psychological Measurement* 12(3), 253-260) keeps one biased rater from
making their co-raters look biased the other way.

Multiplicity: every test (rater x dimension x attribute, plus rater x attribute on the mean
of the dimensions) is one family, Holm step-down at ``alpha``; a binary attribute is one test,
not two. A flag also needs a practical size (``subgroup_points``) and at least
``min_ratings`` of the rater's ratings in the smallest group. When nothing is flagged, the
smallest detectable difference (two-sided, family-wise level ``alpha / m``, 80% power) says
how large a bias the data could have revealed.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import stats

from calib.raters._mfrm import _holm
from calib.raters._thresholds import THRESHOLDS

__all__ = ["differential_rater_functioning", "DRF_COLUMNS", "detectable_difference"]

DRF_COLUMNS = [
    "rater_id",
    "dimension",
    "attribute",
    "group",
    "difference",
    "se",
    "ci_low",
    "ci_high",
    "statistic",
    "df",
    "p_value",
    "p_holm",
    "n_group",
    "n_rest",
    "detectable",
    "flagged",
]

#: Power used for the smallest detectable difference.
POWER = 0.80
#: An attribute whose groups explain at least this share of the variance of the rating date
#: (eta squared) is confounded with drift and not tested.
TIME_CONFOUNDED = 0.5
#: An attribute whose groups explain at least this share of the variance of the transcripts'
#: mean score (eta squared) is confounded with each rater's use of the scale (the model's
#: slope and curvature on the transcript's level) and not tested: a rater x group term is then
#: nearly collinear with those controls and its estimate extrapolates (on SQuALITY, where the
#: system -- human vs model summary -- sets the score level, an untested guard reported a
#: "+67 point" bias from raw differences of 7-13 points).
LEVEL_CONFOUNDED = 0.5


def detectable_difference(se: np.ndarray | float, alpha: float, m: int, power: float = POWER):
    """Smallest difference a two-sided z test at level ``alpha / m`` detects with ``power``.

    ``(z_{1 - alpha / (2 m)} + z_{power}) * se``: the Bonferroni level is what the first
    (smallest) Holm-adjusted p-value must beat, so it is the level a single real effect faces.

    Example
    -------
    >>> round(float(detectable_difference(0.1, 0.05, 1)), 3)  # (1.960 + 0.842) * 0.1
    0.28
    """
    z = stats.norm.ppf(1 - alpha / (2 * max(int(m), 1))) + stats.norm.ppf(power)
    return z * np.asarray(se, dtype=float)


def _within(x: np.ndarray, codes: np.ndarray, n_groups: int) -> np.ndarray:
    """Centre the columns of ``x`` within groups (``codes``): the transcript fixed effect."""
    x = np.asarray(x, dtype=float)
    x2 = x if x.ndim == 2 else x[:, None]
    sums = np.zeros((n_groups, x2.shape[1]))
    np.add.at(sums, codes, x2)
    cnt = np.bincount(codes, minlength=n_groups).astype(float)
    out = x2 - (sums / cnt[:, None])[codes]
    return out if x.ndim == 2 else out[:, 0]


def _groups(meta: pd.DataFrame, attributes: list[str] | None) -> dict[str, pd.Series]:
    from calib.raters._diagnostics import _metadata_table

    m = _metadata_table(meta, attributes).set_index("transcript_id")
    out = {}
    for a in m.columns:
        lab = m[a].astype(str)
        lab = lab[(lab != "nan") & (lab != "None") & m[a].notna()]
        if lab.nunique() >= 2:
            out[a] = lab
    return out


def _residualize(q: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``x`` minus its projection on the orthonormal columns ``q`` (Frisch-Waugh-Lovell)."""
    return x - q @ (q.T @ x)


def _basis(x: np.ndarray) -> np.ndarray:
    """Orthonormal basis of the column space of ``x`` (rank-revealing SVD)."""
    if x.shape[1] == 0:
        return np.zeros((x.shape[0], 0))
    u, sv, _ = np.linalg.svd(x, full_matrices=False)
    return u[:, sv > sv.max() * 1e-10] if sv.size and sv.max() > 0 else u[:, :0]


def _fit_dimension(
    d: pd.DataFrame, groups: dict[str, pd.Series], purify: dict[tuple, list[str]] | None
) -> list[dict]:
    """Every (rater, attribute) test on one dimension's ratings ``d``."""
    d = d[d.groupby("transcript_id")["rater_id"].transform("size") >= 2]
    if d.empty:
        return []
    t_codes, _ = pd.factorize(d["transcript_id"], sort=True)
    n_t = int(t_codes.max()) + 1
    raters = sorted(d["rater_id"].unique())
    r_idx = d["rater_id"].map({r: i for i, r in enumerate(raters)}).to_numpy()
    onehot = np.eye(len(raters))[r_idx]
    score = d["score"].to_numpy(float)
    y = _within(score, t_codes, n_t)
    # every rater's severity, their own use of the scale (slope on the transcript's mean score:
    # central tendency would otherwise look like bias against any skill-related subgroup) and,
    # with dates, their linear drift
    t_mean = (np.bincount(t_codes, score, n_t) / np.bincount(t_codes, minlength=n_t))[t_codes]
    tc = t_mean - t_mean.mean()
    # quadratic too: a severe rater is clipped at the bottom level, so their offset shrinks for
    # weak candidates and looks like leniency towards any subgroup that scores low
    base = [onehot[:, 1:], onehot * tc[:, None], onehot * (tc**2 - (tc**2).mean())[:, None]]
    if "_overall" in d.columns:  # halo: the rater follows the transcript's other dimensions
        ov = d["_overall"].to_numpy(float)
        base.append(onehot * (ov - ov.mean())[:, None])
    if "_days" in d.columns:
        days = d["_days"].to_numpy(float)
        base.append(onehot * (days - days.mean())[:, None])
    base_x = _within(np.hstack(base), t_codes, n_t)
    tid = pd.Series(d["transcript_id"].to_numpy())
    out = []
    for attr, lab in groups.items():
        g_all = tid.map(lab).to_numpy(dtype=object)
        known = pd.notna(g_all)
        levels = sorted({str(v) for v in g_all[known]})
        if len(levels) < 2:
            continue
        extra = []  # purification: flagged interactions (of other raters) kept in the model
        for (r2, a2), lv2 in (purify or {}).items():
            if r2 in raters:
                g2 = tid.map(groups[a2]).to_numpy(dtype=object)
                for lv in lv2:
                    extra.append((r2, (onehot[:, raters.index(r2)] * (g2 == lv)).astype(float)))
        kn = np.flatnonzero(known)
        n_t_used = len(np.unique(t_codes[kn]))
        bases: dict[str, np.ndarray] = {}
        y_k = y[kn]
        for ri, rater in enumerate(raters):
            mine = r_idx == ri
            counts = {lv: int((mine & (g_all == lv)).sum()) for lv in levels}
            present = [lv for lv in levels if counts[lv] > 0]
            if len(present) < 2:
                continue
            ref = max(present, key=lambda v: (counts[v], v))  # the largest group is the reference
            tested = [lv for lv in present if lv != ref]
            own = tuple(sorted({r2 for r2, _ in extra} - {rater}))
            if own not in bases:
                cols = [base_x]
                if own:
                    kept = np.column_stack([c for r2, c in extra if r2 in own])
                    cols.append(_within(kept, t_codes, n_t))
                bases[own] = _basis(np.hstack(cols)[kn])
            q = bases[own]
            z = np.column_stack([(mine & (g_all == lv)).astype(float) for lv in tested])
            z = _residualize(q, _within(z, t_codes, n_t)[kn])
            yr = _residualize(q, y_k[:, None])[:, 0]
            ztz = z.T @ z
            if np.linalg.matrix_rank(ztz) < len(tested):
                continue
            b = np.linalg.solve(ztz, z.T @ yr)
            resid = yr - z @ b
            df = len(kn) - n_t_used - q.shape[1] - len(tested)
            if df <= 0:
                continue
            cov = float(resid @ resid) / df * np.linalg.inv(ztz)
            f = float(b @ np.linalg.solve(cov, b)) / len(tested)  # Wald F, G - 1 numerator df
            p = float(stats.f.sf(f, len(tested), df)) if np.isfinite(f) else np.nan
            # the group whose contrast with the rater's other candidates is largest:
            # group effects relative to the reference are (0, b...); contrast = g - weighted rest
            names = [ref, *tested]
            w = np.array([counts[v] for v in names], dtype=float)
            best = None
            for j, name in enumerate(names):
                c = -w / (w.sum() - w[j])
                c[j] = 1.0
                est = float(c[1:] @ b)
                se = float(np.sqrt(c[1:] @ cov @ c[1:]))
                if best is None or abs(est) > abs(best[1]) + 1e-12:
                    best = (name, est, se, counts[name], int(w.sum() - w[j]))
            name, est, se, n_g, n_rest = best
            tcrit = stats.t.ppf(0.975, df)
            out.append(
                {
                    "rater_id": rater,
                    "attribute": attr,
                    "group": name,
                    # positive = harsher (lower scores) on this group than on the rater's others
                    "difference": -est,
                    "se": se,
                    "ci_low": -est - tcrit * se,
                    "ci_high": -est + tcrit * se,
                    "statistic": f,
                    "df": df,
                    "p_value": p,
                    "n_group": n_g,
                    "n_rest": n_rest,
                    "levels_": tested,
                }
            )
    return out


def differential_rater_functioning(
    ratings: pd.DataFrame,
    transcripts: pd.DataFrame,
    *,
    attributes: list[str] | None = None,
    thresholds: Mapping[str, float] | None = None,
    max_passes: int = 4,
) -> pd.DataFrame:
    """Test every rater for a subgroup difference on every dimension (and on their mean).

    Parameters
    ----------
    ratings : pandas.DataFrame
        Long ratings table: ``transcript_id``, ``rater_id``, ``dimension``, ``score``;
        ``rated_at`` (optional) adds each rater's linear time trend to the model.
    transcripts : pandas.DataFrame
        ``transcript_id`` and ``metadata`` dicts (or flat attribute columns).
    attributes : list of str, optional
        Metadata keys to test; default every categorical key with 2-10 groups.
    thresholds : dict, optional
        Overrides of :data:`calib.raters.THRESHOLDS` (``alpha``, ``subgroup_points``,
        ``min_ratings``).
    max_passes : int
        Purification passes (the flagged set is re-estimated until it stops changing).

    Returns
    -------
    pandas.DataFrame
        One row per rater x dimension (or ``"all"``: the mean over dimensions) x attribute,
        columns :data:`DRF_COLUMNS`: ``group`` is the group whose difference from the rater's
        other candidates is largest; ``difference`` is in score points, positive = the rater
        is harsher (scores lower) on that group than on their other candidates, relative to
        the co-raters of the same transcripts, with a 95% t-interval; ``statistic`` is the
        Wald F of the rater x attribute interaction (``groups - 1`` numerator df, ``df``
        denominator), ``p_holm`` its Holm-adjusted p-value over the whole table;
        ``detectable`` the smallest difference this test would find with 80% power at the
        family-wise level; ``flagged`` = ``|difference| >= subgroup_points`` and ``p_holm <
        alpha`` and ``min(n_group, n_rest) >= min_ratings``.

    Notes
    -----
    Model per dimension (and for the per-transcript mean over dimensions):
    ``score[t, r] = tau[t] + s[r] + b[r] * days + delta[r0, g(t)] * 1{r = r0} + e``, with
    transcript effects ``tau`` absorbed by within-transcript centring (only transcripts with
    two or more raters inform it), OLS, classical standard errors. This is the fixed-effects
    counterpart of a FACETS rater x subgroup bias analysis in score points (Eckes, 2015,
    *Introduction to Many-Facet Rasch Measurement*, ch. 9) and equals a two-way ANOVA
    interaction test; R: ``anova(lm(score ~ factor(t) + rater * I(rater == r0 & group == g)))``.

    Examples
    --------
    >>> from calib.simulate import simulate_dataset, SimulationConfig
    >>> ds = simulate_dataset(SimulationConfig(n_transcripts=150, seed=3))   # SYNTHETIC
    >>> drf = differential_rater_functioning(ds.ratings, ds.transcripts)
    >>> sorted(drf.columns) == sorted(DRF_COLUMNS)
    True
    """
    th = {**THRESHOLDS, **(thresholds or {})}
    alpha, min_n, size = th["subgroup_alpha"], th["min_ratings"], th["subgroup_points"]
    need = {"transcript_id", "rater_id", "dimension", "score"}
    missing = need - set(ratings.columns)
    if missing:
        from calib.errors import DataValidationError

        raise DataValidationError(f"ratings: missing column(s) {sorted(missing)}")
    df = ratings.loc[
        ratings["score"].notna(), [*need, "rated_at"] if "rated_at" in ratings else [*need]
    ]
    df = df.assign(
        transcript_id=df["transcript_id"].astype(str), rater_id=df["rater_id"].astype(str)
    )
    if "rated_at" in df.columns and df["rated_at"].notna().all():
        ts = pd.to_datetime(df["rated_at"], utc=True)
        df["_days"] = (ts - ts.min()).dt.total_seconds().to_numpy() / 86400.0 / 30.0
    groups = _groups(transcripts, attributes)
    skipped = {}
    if "_days" in df.columns and groups:
        # an attribute that mostly says *when* a candidate was rated (a cohort, a quarter) is
        # confounded with each rater's drift: it cannot be tested, and is reported as such
        when = df.groupby("transcript_id")["_days"].mean()
        for a in list(groups):
            g = groups[a].reindex(when.index).dropna()
            w = when.loc[g.index]
            if len(w) > 2 and w.var() > 0:
                eta2 = w.groupby(g).transform("mean").var() / w.var()
                if eta2 >= TIME_CONFOUNDED:
                    skipped[a] = round(float(eta2), 3)
                    del groups[a]
    level_skipped = {}
    if groups:
        # an attribute that mostly says how good the candidates are (their score level) cannot
        # be separated from a rater's scale use: reported as such, not tested
        level = df.groupby("transcript_id")["score"].mean()
        for a in list(groups):
            g = groups[a].reindex(level.index).dropna()
            v = level.loc[g.index]
            if len(v) > 2 and v.var() > 0:
                eta2 = v.groupby(g).transform("mean").var() / v.var()
                if eta2 >= LEVEL_CONFOUNDED:
                    level_skipped[a] = round(float(eta2), 3)
                    del groups[a]
    if not groups or df.empty:
        out_empty = pd.DataFrame(columns=DRF_COLUMNS)
        out_empty.attrs["untested_attributes"] = skipped
        out_empty.attrs["level_confounded_attributes"] = level_skipped
        return out_empty
    per_t = (
        df.groupby(["transcript_id", "rater_id"], as_index=False)
        .agg(score=("score", "mean"), **({"_days": ("_days", "mean")} if "_days" in df else {}))
        .assign(dimension="all")
    )
    # each transcript's mean over raters and dimensions: controls for halo in _fit_dimension
    df["_overall"] = df.groupby("transcript_id")["score"].transform("mean")
    dims = [*sorted(df["dimension"].unique()), "all"]
    data = {dim: df[df["dimension"] == dim] for dim in dims[:-1]}
    data["all"] = per_t
    purify: dict[str, dict[tuple, list[str]]] = {}
    flagged_keys: set = set()
    cache: dict[tuple, list[dict]] = {}
    for _ in range(max(1, max_passes)):
        rows = []
        for dim in dims:
            key = (dim, repr(sorted((purify.get(dim) or {}).items())))
            if key not in cache:  # only dimensions whose purification set changed are refitted
                cache[key] = [
                    {**r, "dimension": dim}
                    for r in _fit_dimension(data[dim], groups, purify.get(dim))
                ]
            rows += cache[key]
        out = pd.DataFrame(rows)
        if out.empty:
            return pd.DataFrame(columns=DRF_COLUMNS)
        out["p_holm"] = _holm(out["p_value"].to_numpy())
        m = int(out["p_value"].notna().sum())
        out["detectable"] = detectable_difference(out["se"].to_numpy(), alpha, m)
        out["flagged"] = (
            (out["difference"].abs() >= size)
            & (out["p_holm"] < alpha)
            & (np.minimum(out["n_group"], out["n_rest"]) >= min_n)
        )
        keys = {(r.dimension, r.rater_id, r.attribute) for r in out[out["flagged"]].itertuples()}
        if keys == flagged_keys:
            break
        flagged_keys = keys
        purify = {}
        for r in out[out["flagged"]].itertuples():
            purify.setdefault(r.dimension, {})[(r.rater_id, r.attribute)] = list(r.levels_)
    out = out.drop(columns=["levels_"])
    out = (
        out[DRF_COLUMNS]
        .sort_values(
            ["flagged", "p_value", "rater_id"], ascending=[False, True, True], kind="stable"
        )
        .reset_index(drop=True)
    )
    out.attrs["untested_attributes"] = skipped
    out.attrs["level_confounded_attributes"] = level_skipped
    out.attrs["family_size"] = m
    out.attrs["alpha"] = alpha
    return out
