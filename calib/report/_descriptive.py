"""Descriptive tables the report owns: counts, coverage, scale use, disagreements.

These are counts and proportions of the ratings table (pandas group-bys and cross-tabs),
not statistics owned by another stage: reliability coefficients, rater-effect models and
grader validation come from :mod:`calib.agreement`, :mod:`calib.raters` and
:mod:`calib.graders` and are never recomputed here.

Human ratings are the rows with ``rater_type == "human"`` and a non-missing score.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse, stats
from scipy.sparse.csgraph import connected_components

__all__ = [
    "human_ratings",
    "overview_counts",
    "design_coverage",
    "missingness",
    "score_distribution",
    "rater_score_distribution",
    "rare_levels",
    "disagreement_pairs",
    "disagreement_matrix",
    "confusion_table",
    "top_confusions",
    "excess_disagreement",
    "consensus_scores",
    "dimension_correlations",
    "correlated_pairs",
    "dimension_pair_counts",
    "fisher_ci",
    "rater_vs_consensus",
    "rater_deviations",
    "transcript_lengths",
    "monthly_deviation",
]

_KEY = ["transcript_id", "dimension"]


def human_ratings(ratings: pd.DataFrame, extra: tuple[str, ...] = ()) -> pd.DataFrame:
    """Scored human rows of the long ratings table (a copy; the input is not mutated).

    ``extra`` names further columns to keep (e.g. the report's ``level`` bin code).
    """
    mask = ratings["rater_type"].eq("human") & ratings["score"].notna()
    cols = ["transcript_id", "rater_id", "dimension", "score", *extra]
    return ratings.loc[mask, cols].copy()


def overview_counts(ratings: pd.DataFrame, transcripts: pd.DataFrame | None) -> dict:
    """Headline counts: transcripts, raters by type, ratings, unscored machine rows.

    Example
    -------
    >>> r = pd.DataFrame({"transcript_id": ["t1", "t1"], "rater_id": ["a", "b"],
    ...                   "rater_type": ["human", "rule"], "dimension": ["d", "d"],
    ...                   "score": [2.0, np.nan]})
    >>> overview_counts(r, None)["unscored_machine_ratings"]
    1
    """
    by_type = ratings.groupby("rater_type")["rater_id"].nunique().sort_index()
    n_tr = (
        int(len(transcripts))
        if transcripts is not None
        else int(ratings["transcript_id"].nunique())
    )
    return {
        "transcripts": n_tr,
        "rated_transcripts": int(ratings["transcript_id"].nunique()),
        "raters": {str(k): int(v) for k, v in by_type.items()},
        "ratings": int(len(ratings)),
        "human_ratings": int(ratings["rater_type"].eq("human").sum()),
        "unscored_machine_ratings": int(
            (ratings["rater_type"].ne("human") & ratings["score"].isna()).sum()
        ),
        "dimensions": int(ratings["dimension"].nunique()),
    }


def design_coverage(ratings: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """Who rated what, and whether the human rating design is connected.

    Raters and transcripts form a bipartite graph (an edge when a rater scored a
    transcript). Rater-severity models can only put all raters on one scale when this
    graph has a single connected component (Eckes, 2015, *Introduction to Many-Facet
    Rasch Measurement*, ch. 5, "connectedness").

    Returns
    -------
    per_rater : DataFrame
        ``rater_id``, ``transcripts`` rated, ``component`` index.
    facts : dict
        ``components``, ``connected``, ``raters_per_transcript`` (min/median/max).
    """
    h = human_ratings(ratings)
    pairs = h[["rater_id", "transcript_id"]].drop_duplicates()
    if pairs.empty:
        return pd.DataFrame(columns=["rater_id", "transcripts", "component"]), {
            "components": 0,
            "connected": False,
            "raters_per_transcript": {},
        }
    r_codes, r_uni = pd.factorize(pairs["rater_id"], sort=True)
    t_codes, _ = pd.factorize(pairs["transcript_id"], sort=True)
    n_r = len(r_uni)
    n = n_r + t_codes.max() + 1
    graph = sparse.coo_matrix((np.ones(len(pairs)), (r_codes, n_r + t_codes)), shape=(n, n))
    n_comp, labels = connected_components(graph, directed=False)
    per_rater = pd.DataFrame(
        {
            "rater_id": r_uni.astype(str),
            "transcripts": np.bincount(r_codes, minlength=n_r),
            "component": labels[:n_r],
        }
    )
    rpt = pairs.groupby("transcript_id")["rater_id"].nunique()
    facts = {
        "components": int(n_comp),
        "connected": bool(n_comp == 1),
        "raters_per_transcript": {
            "min": int(rpt.min()),
            "median": float(rpt.median()),
            "max": int(rpt.max()),
        },
        "double_rated_transcripts": int((rpt >= 2).sum()),
    }
    return per_rater, facts


def missingness(ratings: pd.DataFrame, dimension_ids: list[str]) -> pd.DataFrame:
    """Share of expected ratings that are missing, per dimension and rater type.

    A rating is expected for every rubric dimension of every (transcript, rater) pair that
    appears in the table; it is missing when the row is absent or its score is NaN.
    """
    pairs = ratings[["transcript_id", "rater_id", "rater_type"]].drop_duplicates()
    expected = pairs.groupby("rater_type").size()
    observed = (
        ratings[ratings["score"].notna()]
        .groupby(["dimension", "rater_type"])
        .size()
        .unstack("rater_type")
        .reindex(index=dimension_ids, columns=expected.index)
        .fillna(0)
    )
    missing = 1.0 - observed.div(expected, axis=1)
    out = missing.rename_axis(index="dimension", columns=None).reset_index()
    return out


def score_distribution(
    ratings: pd.DataFrame,
    dimension_ids: list[str],
    levels: np.ndarray,
    level_col: str = "score",
) -> pd.DataFrame:
    """Proportion of human ratings at each scale level, one row per dimension.

    Columns are the levels (as strings, for Parquet) plus ``n`` and ``mean`` (of ``score``).
    ``level_col`` names the column holding each rating's level (``"score"``, or a bin code
    computed by the report for wide and continuous scales).
    """
    h = human_ratings(ratings, () if level_col == "score" else (level_col,))
    counts = pd.crosstab(h["dimension"], h[level_col]).reindex(
        index=dimension_ids, columns=levels, fill_value=0
    )
    n = counts.sum(axis=1)
    props = counts.div(n.replace(0, np.nan), axis=0)
    props.columns = [f"{int(c)}" for c in props.columns]
    props = props.rename_axis(index="dimension", columns=None)
    extra = pd.DataFrame(
        {
            "n": n.to_numpy().astype("int64"),
            "mean": h.groupby("dimension")["score"].mean().reindex(dimension_ids).to_numpy(),
        },
        index=props.index,
    )
    return pd.concat([props, extra], axis=1).reset_index()


def rater_score_distribution(
    ratings: pd.DataFrame, levels: np.ndarray, level_col: str = "score"
) -> pd.DataFrame:
    """Per human rater and dimension: n, mean, sd (of ``score``) and the share of each level."""
    h = human_ratings(ratings, () if level_col == "score" else (level_col,))
    counts = pd.crosstab([h["rater_id"], h["dimension"]], h[level_col]).reindex(
        columns=levels, fill_value=0
    )
    n = counts.sum(axis=1)
    props = counts.div(n, axis=0)
    props.columns = [f"{int(c)}" for c in props.columns]
    g = h.groupby(["rater_id", "dimension"])["score"]
    out = pd.concat(
        [n.rename("n"), g.mean().rename("mean"), g.std(ddof=1).rename("sd"), props], axis=1
    )
    return (
        out.reset_index()
        .sort_values(["rater_id", "dimension"], kind="stable")
        .reset_index(drop=True)
    )


def rare_levels(distribution: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """Levels used in less than ``threshold`` of a dimension's human ratings."""
    level_cols = [c for c in distribution.columns if c.isdigit()]
    long = distribution.melt(
        id_vars=["dimension"], value_vars=level_cols, var_name="level", value_name="share"
    )
    long["level"] = long["level"].astype("int64")
    return (
        long[long["share"] < threshold]
        .sort_values(["dimension", "level"], kind="stable")
        .reset_index(drop=True)
    )


def disagreement_pairs(ratings: pd.DataFrame) -> pd.DataFrame:
    """Every pair of human ratings of the same transcript and dimension (rater_a < rater_b).

    Columns: transcript_id, dimension, rater_a, rater_b, score_a, score_b, low, high (the
    two scores sorted).
    """
    h = human_ratings(ratings)
    p = h.merge(h, on=_KEY, suffixes=("_a", "_b"))
    p = p[p["rater_id_a"] < p["rater_id_b"]]
    out = pd.DataFrame(
        {
            "transcript_id": p["transcript_id"].to_numpy(),
            "dimension": p["dimension"].to_numpy(),
            "rater_a": p["rater_id_a"].to_numpy(),
            "rater_b": p["rater_id_b"].to_numpy(),
            "score_a": p["score_a"].to_numpy(),
            "score_b": p["score_b"].to_numpy(),
            "low": np.minimum(p["score_a"], p["score_b"]).to_numpy(),
            "high": np.maximum(p["score_a"], p["score_b"]).to_numpy(),
        }
    )
    return out.sort_values(
        ["dimension", "transcript_id", "rater_a", "rater_b"], kind="stable"
    ).reset_index(drop=True)


def disagreement_matrix(pairs: pd.DataFrame, dimension: str, levels: np.ndarray) -> pd.DataFrame:
    """Counts of rating pairs by (low score, high score) for one dimension (upper triangle)."""
    p = pairs[pairs["dimension"] == dimension]
    return pd.crosstab(p["low"], p["high"]).reindex(index=levels, columns=levels, fill_value=0)


def confusion_table(pairs: pd.DataFrame) -> pd.DataFrame:
    """Counts of disagreeing rating pairs by dimension and (low, high) level pair.

    Columns: dimension, low, high, count, share_within (of the dimension's disagreeing
    pairs), share_all (of all disagreeing pairs), adjacent.
    """
    d = pairs[pairs["low"] != pairs["high"]]
    cols = ["dimension", "low", "high", "count", "share_within", "share_all", "adjacent"]
    if d.empty:
        return pd.DataFrame(columns=cols)
    c = d.groupby(["dimension", "low", "high"]).size().rename("count").reset_index()
    c["share_within"] = c["count"] / c.groupby("dimension")["count"].transform("sum")
    c["share_all"] = c["count"] / len(d)
    c["adjacent"] = (c["high"] - c["low"]) == 1
    return (
        c[cols]
        .sort_values(["dimension", "count", "low"], ascending=[True, False, True], kind="stable")
        .reset_index(drop=True)
    )


def excess_disagreement(pairs: pd.DataFrame) -> pd.DataFrame:
    """How much more raters disagree on each dimension than on the others, rater offsets removed.

    For each pair of raters who scored a transcript, the signed difference on a dimension
    minus the pair's mean difference over all dimensions of that transcript removes the
    pair's overall severity gap (and halo); the mean square of what is left measures
    disagreement specific to the dimension. ``ratio`` divides it by the median over the other
    dimensions, so ~1 means "like the rest" and 2 means twice the dimension-specific noise.
    Pair labels here are unordered-by-score, so ``diff`` uses rater_a - rater_b from
    :func:`disagreement_pairs` (rater ids sorted), which is consistent across dimensions.
    """
    if pairs.empty:
        return pd.DataFrame(columns=["dimension", "pairs", "residual_ms", "ratio"])
    d = pairs["score_a"] - pairs["score_b"]
    resid = d - d.groupby([pairs["transcript_id"], pairs["rater_a"], pairs["rater_b"]]).transform(
        "mean"
    )
    ms = (resid**2).groupby(pairs["dimension"]).agg(["size", "mean"])
    ms.columns = ["pairs", "residual_ms"]
    v = ms["residual_ms"].to_numpy()
    # median of the *other* dimensions, vectorised: drop each dimension in turn
    others = np.array([np.median(np.delete(v, i)) if len(v) > 1 else np.nan for i in range(len(v))])
    ms["ratio"] = np.divide(v, others, out=np.full(len(v), np.nan), where=others > 0)
    return ms.rename_axis("dimension").reset_index()


def top_confusions(pairs: pd.DataFrame) -> pd.DataFrame:
    """The most frequent disagreeing level pair per dimension and its share.

    Columns: dimension, low, high, count, pairs_disagreeing, pairs_total, share_within
    (share of the dimension's disagreeing pairs), share_all (share of all disagreeing pairs),
    adjacent (whether the two levels are neighbours).
    """
    cols = [
        "dimension",
        "low",
        "high",
        "count",
        "pairs_disagreeing",
        "pairs_total",
        "share_within",
        "share_all",
        "adjacent",
    ]
    if pairs.empty:
        return pd.DataFrame(columns=cols)
    total = pairs.groupby("dimension").size()
    d = pairs[pairs["low"] != pairs["high"]]
    if d.empty:
        return pd.DataFrame(columns=cols)
    counts = d.groupby(["dimension", "low", "high"]).size().rename("count").reset_index()
    counts = counts.sort_values(
        ["dimension", "count", "low", "high"], ascending=[True, False, True, True], kind="stable"
    )
    top = counts.drop_duplicates("dimension").copy()
    dis = d.groupby("dimension").size()
    top["pairs_disagreeing"] = top["dimension"].map(dis).astype("int64")
    top["pairs_total"] = top["dimension"].map(total).astype("int64")
    top["share_within"] = top["count"] / top["pairs_disagreeing"]
    top["share_all"] = top["count"] / len(d)
    top["adjacent"] = (top["high"] - top["low"]) == 1
    return top[cols].sort_values("share_all", ascending=False, kind="stable").reset_index(drop=True)


def consensus_scores(ratings: pd.DataFrame) -> pd.DataFrame:
    """Human consensus per transcript and dimension: mean, median and number of raters."""
    h = human_ratings(ratings)
    g = h.groupby(_KEY)["score"]
    return pd.concat(
        [g.mean().rename("consensus"), g.median().rename("median"), g.size().rename("n_raters")],
        axis=1,
    ).reset_index()


def dimension_correlations(ratings: pd.DataFrame, dimension_ids: list[str]) -> pd.DataFrame:
    """Spearman correlation between dimensions of the per-transcript human consensus.

    Consensus (mean over raters) is used rather than single ratings so one rater's halo does
    not manufacture redundancy.
    """
    c = consensus_scores(ratings)
    wide = c.pivot(index="transcript_id", columns="dimension", values="consensus")
    wide = wide.reindex(columns=[d for d in dimension_ids if d in wide.columns])
    return wide.corr(method="spearman", min_periods=5).rename_axis(index="dimension", columns=None)


def dimension_pair_counts(ratings: pd.DataFrame, dimension_ids: list[str]) -> pd.DataFrame:
    """Transcripts with a human consensus on both dimensions of each pair (the n behind rho)."""
    c = consensus_scores(ratings)
    wide = c.pivot(index="transcript_id", columns="dimension", values="consensus")
    wide = wide.reindex(columns=[d for d in dimension_ids if d in wide.columns])
    ok = wide.notna().astype(float)
    return ok.T @ ok


def fisher_ci(r: np.ndarray, n: np.ndarray, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Confidence interval of a correlation by Fisher's z: ``tanh(atanh(r) -/+ z / sqrt(n - 3))``.

    The interval pingouin (``pingouin.corr``, ``CI95%``) and R's ``cor.test`` report; used here
    for Spearman's rho of consensus scores. ``|r| = 1`` is clipped to 0.999999 so a perfect
    correlation from few transcripts gets a finite, wide interval; NaN when ``n <= 3``.

    Example
    -------
    >>> lo, hi = fisher_ci(np.array([0.5]), np.array([30]))
    >>> round(float(lo[0]), 3), round(float(hi[0]), 3)
    (0.17, 0.729)
    """
    r = np.clip(np.asarray(r, float), -0.999999, 0.999999)
    n = np.asarray(n, float)
    z = stats.norm.ppf(0.5 + level / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        se = np.where(n > 3, 1.0 / np.sqrt(n - 3), np.nan)
    return np.tanh(np.arctanh(r) - z * se), np.tanh(np.arctanh(r) + z * se)


def correlated_pairs(
    corr: pd.DataFrame, threshold: float, counts: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Dimension pairs whose consensus correlation is at least ``threshold`` (upper triangle).

    With ``counts`` (:func:`dimension_pair_counts`) the table also has ``n`` and the Fisher-z
    95% interval ``rho_low``/``rho_high``.
    """
    m = corr.to_numpy()
    iu = np.triu_indices_from(m, k=1)
    out = pd.DataFrame(
        {
            "dimension_a": corr.index.to_numpy()[iu[0]],
            "dimension_b": corr.columns.to_numpy()[iu[1]],
            "rho": m[iu],
        }
    )
    if counts is not None:
        n = counts.reindex(index=corr.index, columns=corr.columns).to_numpy()[iu]
        out["n"] = n.astype(float)
        out["rho_low"], out["rho_high"] = fisher_ci(out["rho"].to_numpy(), n)
    return (
        out[out["rho"] >= threshold]
        .sort_values("rho", ascending=False, kind="stable")
        .reset_index(drop=True)
    )


def rater_vs_consensus(ratings: pd.DataFrame) -> pd.DataFrame:
    """Each human rating next to the leave-one-out consensus of the other human raters.

    Leaving the rater out keeps a rater's own score from pulling the consensus toward it
    (with three raters it would otherwise shrink every difference by a third).
    Rows without another human rating of the same transcript and dimension are dropped.
    """
    h = human_ratings(ratings)
    g = h.groupby(_KEY)["score"]
    total, n = g.transform("sum"), g.transform("size")
    h["n_others"] = n - 1
    h = h[h["n_others"] > 0].copy()
    h["consensus"] = (total.loc[h.index] - h["score"]) / h["n_others"]
    h["diff"] = h["score"] - h["consensus"]
    return h.sort_values(["rater_id", "dimension", "transcript_id"], kind="stable").reset_index(
        drop=True
    )


def rater_deviations(rvc: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Mean difference from the leave-one-out consensus per rater and dimension, with a t CI.

    This is a descriptive summary for feedback; the model-based severity estimates with
    standard errors come from :mod:`calib.raters`.
    """
    g = rvc.groupby(["rater_id", "dimension"])["diff"]
    out = pd.concat(
        [g.size().rename("n"), g.mean().rename("mean_diff"), g.std(ddof=1).rename("sd")], axis=1
    )
    se = out["sd"] / np.sqrt(out["n"])
    tcrit = stats.t.ppf(0.5 + level / 2, np.maximum(out["n"] - 1, 1))
    out["ci_low"] = out["mean_diff"] - tcrit * se
    out["ci_high"] = out["mean_diff"] + tcrit * se
    out["exact_agreement"] = (
        rvc.assign(ex=(rvc["score"] == rvc["consensus"].round()))
        .groupby(["rater_id", "dimension"])["ex"]
        .mean()
    )
    return out.reset_index()


def transcript_lengths(transcripts: pd.DataFrame) -> pd.DataFrame:
    """Candidate word count per transcript (for the grader length-bias plot)."""
    turns = transcripts[["transcript_id", "turns"]].explode("turns").dropna(subset=["turns"])
    speaker = turns["turns"].map(lambda t: t.get("speaker"))
    text = turns["turns"].map(lambda t: t.get("text") or "")
    words = text.str.split().str.len().where(speaker.eq("candidate"), 0)
    out = words.groupby(turns["transcript_id"]).sum().rename("candidate_words").reset_index()
    return out


def monthly_deviation(ratings: pd.DataFrame) -> pd.DataFrame:
    """Mean difference from the leave-one-out consensus per human rater and calendar month.

    Columns: rater_id, month (first day, UTC, naive), n, mean_diff. Used to draw drift over
    time; the drift *test* belongs to :func:`calib.raters.rater_effects`.
    """
    rvc = rater_vs_consensus(ratings)
    when = ratings.loc[
        ratings["rater_type"].eq("human"), ["transcript_id", "rater_id", "rated_at"]
    ].drop_duplicates(["transcript_id", "rater_id"])
    m = rvc.merge(when, on=["transcript_id", "rater_id"], how="inner")
    ts = pd.to_datetime(m["rated_at"], utc=True).dt.tz_localize(None)
    m["month"] = ts.dt.to_period("M").dt.to_timestamp()
    out = m.groupby(["rater_id", "month"])["diff"].agg(["size", "mean"]).reset_index()
    return out.rename(columns={"size": "n", "mean": "mean_diff"})
