"""Can a grader stand in for a human? Per-dimension validation against human ratings.

For every rubric dimension :func:`validate_grader` compares a grader's scores with

* the human **consensus** (mean of the human ratings per transcript, rounded half up),
* **each human** rater on the transcripts that rater scored, next to that rater's agreement
  with the other humans' consensus,
* the **human-human** baseline on the double-scored transcripts (RSMTool's ``h1``/``h2``,
  assigned in a seeded random order so no rater is always ``h1``), giving the degradation,
* the **length-only baseline** (word-count quantile thresholds, cross-fitted by transcript),

and adds bootstrap CIs (transcripts resampled), the length-bias test, subgroup differences
(DSM per group, and OSA/OSD/CSD from Loukina, Madnani & Zechner 2019) and a pass/fail table
with reasons against configurable criteria (defaults: Williamson, Xi & Breyer 2012).

Point estimates come from :func:`calib.agreement.human_machine_metrics` and
:func:`calib.agreement.prmse` (RSMTool's definitions); bootstrap replicates use the
vectorised twin in :mod:`calib.graders._hmstats` (same definitions, checked equal in the tests).
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from calib._blas import with_single_threaded_blas
from calib.agreement import DEFAULT_N_BOOT, DEFAULT_SEED
from calib.errors import CalibWarning, ConfigError, DataValidationError
from calib.graders._hmstats import (
    HM_METRICS,
    bootstrap_stats,
    ols,
    weighted_hh_metrics,
    weighted_hm_metrics,
)
from calib.graders.baseline import quantile_thresholds
from calib.graders.rules._turns import candidate_word_counts

__all__ = [
    "Criteria",
    "ValidationResult",
    "human_consensus",
    "length_bias",
    "fairness_metrics",
    "subgroup_dsm",
    "validate_grader",
    "cross_fitted_length_scores",
    "style_breakdown",
    "apply_vocabulary_criterion",
]


@dataclass(frozen=True)
class Criteria:
    """Acceptance criteria for a grader, per dimension.

    Defaults follow Williamson, Xi & Breyer (2012), "A framework for evaluation and use of
    automated scoring", Educational Measurement: Issues and Practice 31(1), 2-13:
    quadratic-weighted kappa and Pearson r with the human score >= 0.70, degradation from
    human-human agreement no worse than -0.10, |standardized mean difference| <= 0.15, and
    |SMD| <= 0.10 within every subgroup. calib adds three guards of its own: at least
    ``min_n`` scored transcripts, at most ``max_unscored_share`` of transcripts unscored (an
    unscored row is never a pass), and beating the length-only baseline's kappa.

    Example
    -------
    >>> Criteria.from_mapping({"min_wtkappa": 0.6}).min_wtkappa
    0.6
    """

    min_wtkappa: float = 0.70
    min_corr: float = 0.70
    min_degradation: float = -0.10
    max_abs_smd: float = 0.15
    max_abs_subgroup_smd: float = 0.10
    max_unscored_share: float = 0.10
    min_n: int = 30
    min_subgroup_n: int = 10
    require_beats_length: bool = True
    max_stuffing_gain: float = 0.25
    max_plain_loss: float = 0.5

    @classmethod
    def from_mapping(cls, doc: Mapping[str, Any] | None, *, source: str = "criteria") -> Criteria:
        """Build from a mapping, naming the offending key on error (:class:`ConfigError`)."""
        doc = dict(doc or {})
        names = {f.name: f for f in dataclasses.fields(cls)}
        values = {}
        for key, value in doc.items():
            if key not in names:
                raise ConfigError(
                    f"{source}.{key}: unknown criterion (expected one of {', '.join(names)})"
                )
            want = names[key].type
            if want == "bool":
                if not isinstance(value, bool):
                    raise ConfigError(f"{source}.{key}: expected true/false, got {value!r}")
            elif isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ConfigError(f"{source}.{key}: expected a number, got {value!r}")
            values[key] = value
        return cls(**values)


@dataclass
class ValidationResult:
    """Everything validate-grader computed (tidy DataFrames; rendered by calib.report).

    Attributes
    ----------
    decision : DataFrame
        One row per dimension: ``dimension, passed, reason, N, unscored_share, wtkappa,
        wtkappa_low, wtkappa_high, corr, SMD, degradation, hh_wtkappa, length_wtkappa,
        length_bias_per_100w, length_bias_p, max_abs_subgroup_dsm, prmse``.
    metrics : DataFrame
        Long: ``dimension, comparison, metric, estimate, ci_low, ci_high`` where comparison is
        ``consensus`` (grader vs consensus), ``h1`` (grader vs first human), ``human_human``,
        ``degradation`` or ``length_baseline``.
    per_rater : DataFrame
        ``dimension, rater_id, N, grader_wtkappa, grader_exact_agr, rater_wtkappa,
        rater_exact_agr`` (the rater against the other humans' consensus).
    length_bias : DataFrame
        ``dimension, N, slope_per_100_words, ci_low, ci_high, p_value``.
    subgroups : DataFrame
        ``dimension, variable, group, N, DSM, passed``.
    fairness : DataFrame
        ``dimension, variable, metric (OSA|OSD|CSD), R2, p_value, base_group``.
    config : dict
        Criteria, seed, n_boot, grader id, ...
    self_consistency, prompt_sensitivity, judge_calibration, judge_ece
        LLM graders only (from :func:`calib.graders.llm.judge_biases`, given ``llm_outputs``):
        agreement across samples per dimension; agreement with the same judge under another
        prompt template (``other_grader_id``); the reliability table and expected calibration
        error of the judge's logprob confidence against agreement with the consensus.
    """

    decision: pd.DataFrame
    metrics: pd.DataFrame
    per_rater: pd.DataFrame
    length_bias: pd.DataFrame
    subgroups: pd.DataFrame
    fairness: pd.DataFrame
    config: dict = field(default_factory=dict)
    self_consistency: pd.DataFrame | None = None
    prompt_sensitivity: pd.DataFrame | None = None
    judge_calibration: pd.DataFrame | None = None
    judge_ece: float | None = None
    styles: pd.DataFrame | None = None
    vocabulary: pd.DataFrame | None = None


def _round_half_up(x: np.ndarray | pd.Series):
    return np.floor(np.asarray(x, float) + 0.5)


def human_consensus(ratings: pd.DataFrame, *, rounded: bool = True) -> pd.DataFrame:
    """Mean human score per transcript x dimension (rounded half up by default).

    Half up rather than half to even so that a 2/3 split always goes to 3 and a 3/4 split
    to 4 (half-to-even would send 2.5 down and 3.5 up, a level-dependent bias).

    Returns
    -------
    pandas.DataFrame
        Index ``transcript_id``, one column per dimension (NaN where no human rated).

    Example
    -------
    >>> r = pd.DataFrame({"transcript_id": ["a", "a", "b"], "rater_type": "human",
    ...     "dimension": "d", "score": [2.0, 3.0, 4.0]})
    >>> human_consensus(r)["d"].tolist()
    [3.0, 4.0]
    """
    h = ratings[(ratings["rater_type"] == "human") & ratings["score"].notna()]
    if h.empty:
        raise DataValidationError("human_consensus: the ratings table has no scored human rows")
    mean = h.groupby(["transcript_id", "dimension"], sort=True)["score"].mean().unstack("dimension")
    return (
        pd.DataFrame(_round_half_up(mean), index=mean.index, columns=mean.columns)
        if rounded
        else mean
    )


def _two_humans(ratings: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """h1, h2 per transcript x dimension from two randomly ordered human ratings."""
    h = ratings[(ratings["rater_type"] == "human") & ratings["score"].notna()][
        ["transcript_id", "dimension", "rater_id", "score"]
    ]
    h = h.assign(_key=rng.random(len(h))).sort_values(
        ["transcript_id", "dimension", "_key"], kind="stable"
    )
    h["_k"] = h.groupby(["transcript_id", "dimension"]).cumcount()
    wide = h[h["_k"] < 2].pivot_table(
        index=["transcript_id", "dimension"], columns="_k", values="score"
    )
    return wide.rename(columns={0: "h1", 1: "h2"})


def length_bias(
    error: np.ndarray, words: np.ndarray, consensus: np.ndarray, *, ci: float = 0.95
) -> dict:
    """Does the error against the consensus grow with word count, controlling for the consensus?

    OLS ``error ~ words/100 + C(consensus)``: the slope is the change in (grader - consensus)
    per 100 extra candidate words among transcripts the humans scored the same. A positive,
    significant slope means longer answers get higher grader scores than the humans gave them.

    Returns
    -------
    dict
        ``N, slope_per_100_words, se, ci_low, ci_high, p_value`` (NaN with a CalibWarning
        when word counts do not vary).

    Example
    -------
    >>> rng = np.random.default_rng(0)
    >>> w = rng.integers(50, 500, 200); c = rng.integers(1, 5, 200).astype(float)
    >>> err = 0.5 * w / 100 + rng.normal(0, 0.1, 200)
    >>> round(length_bias(err, w, c)["slope_per_100_words"], 1)
    0.5
    """
    error = np.asarray(error, float)
    x = np.asarray(words, float) / 100.0
    n = len(error)
    out = {
        "N": n,
        "slope_per_100_words": np.nan,
        "se": np.nan,
        "ci_low": np.nan,
        "ci_high": np.nan,
        "p_value": np.nan,
    }
    if n < 3 or np.ptp(x) == 0:
        warnings.warn(
            "length_bias: fewer than 3 transcripts or constant word count; slope is NaN",
            CalibWarning,
            stacklevel=2,
        )
        return out
    dummies = pd.get_dummies(pd.Categorical(consensus), drop_first=True).to_numpy(dtype=float)
    X = np.column_stack([np.ones(n), x, dummies])
    fit = ols(error, X)
    b, se, df = fit["beta"][1], fit["se"][1], fit["df_resid"]
    if df <= 0 or not np.isfinite(se) or se == 0:
        return {**out, "slope_per_100_words": float(b)}
    tcrit = stats.t.ppf(0.5 + ci / 2, df)
    p = 2 * stats.t.sf(abs(b / se), df)
    return {
        "N": n,
        "slope_per_100_words": float(b),
        "se": float(se),
        "ci_low": float(b - tcrit * se),
        "ci_high": float(b + tcrit * se),
        "p_value": float(p),
    }


def fairness_metrics(system: np.ndarray, human: np.ndarray, group: Sequence) -> pd.DataFrame:
    """Overall score accuracy, overall score difference and conditional score difference.

    Loukina, Madnani & Zechner (2019), "The many dimensions of algorithmic fairness in
    educational applications", BEA workshop, ACL, pp. 1-10; as computed by RSMTool
    (``rsmtool.fairness_utils``): adjusted R^2 of ``SE ~ group`` (OSA), ``error ~ group``
    (OSD), and adj. R^2 of ``error ~ group + C(human)`` minus that of ``error ~ C(human)``
    (CSD), with the F-test p-values. Error = system - human. The base group is the largest.

    Returns
    -------
    pandas.DataFrame
        Rows ``OSA, OSD, CSD``; columns ``R2, p_value, base_group``.

    Example
    -------
    >>> out = fairness_metrics(np.array([1, 2, 3, 4, 2, 3.]), np.array([1, 2, 3, 3, 3, 3.]),
    ...                        ["a", "a", "a", "b", "b", "b"])
    >>> list(out.index)
    ['OSA', 'OSD', 'CSD']
    """
    system = np.asarray(system, float)
    human = np.asarray(human, float)
    g = pd.Series(np.asarray(group, dtype=object)).astype(str)
    counts = g.value_counts(sort=False)
    base = counts.sort_index().idxmax()  # largest group, ties by name: deterministic
    cats = [base] + sorted(c for c in counts.index if c != base)
    G = pd.get_dummies(pd.Categorical(g, categories=cats), drop_first=True).to_numpy(dtype=float)
    Hd = pd.get_dummies(pd.Categorical(human), drop_first=True).to_numpy(dtype=float)
    one = np.ones((len(system), 1))
    err = system - human
    osa = ols(err**2, np.hstack([one, G]))
    osd = ols(err, np.hstack([one, G]))
    null = ols(err, np.hstack([one, Hd]))
    full = ols(err, np.hstack([one, G, Hd]))
    df_num = null["df_resid"] - full["df_resid"]
    if df_num > 0 and full["df_resid"] > 0 and full["rss"] > 0:
        F = ((null["rss"] - full["rss"]) / df_num) / (full["rss"] / full["df_resid"])
        p_csd = float(stats.f.sf(F, df_num, full["df_resid"]))
    else:
        p_csd = np.nan
    return pd.DataFrame(
        {
            "R2": [osa["r2_adj"], osd["r2_adj"], full["r2_adj"] - null["r2_adj"]],
            "p_value": [osa["f_pvalue"], osd["f_pvalue"], p_csd],
            "base_group": base,
        },
        index=pd.Index(["OSA", "OSD", "CSD"], name="metric"),
    )


def subgroup_dsm(system: np.ndarray, human: np.ndarray, group: Sequence) -> pd.DataFrame:
    """Difference of standardized means per subgroup (RSMTool's ``DSM``).

    DSM_g = mean_g((M - mean M) / sd M) - mean_g((H - mean H) / sd H), sd with ddof=1 over
    all transcripts: how much further the grader is from the overall mean in group g than
    the humans are, in standard-deviation units.

    Example
    -------
    >>> subgroup_dsm(np.array([1, 2, 3, 4.]), np.array([1, 2, 3, 4.]), ["a", "a", "b", "b"])["DSM"].tolist()
    [0.0, 0.0]
    """
    system = np.asarray(system, float)
    human = np.asarray(human, float)
    zs = (system - system.mean()) / system.std(ddof=1)
    zh = (human - human.mean()) / human.std(ddof=1)
    df = pd.DataFrame({"group": np.asarray(group, dtype=object).astype(str), "d": zs - zh})
    out = (
        df.groupby("group", sort=True)["d"]
        .agg(["size", "mean"])
        .rename(columns={"size": "N", "mean": "DSM"})
    )
    return out.reset_index()


def cross_fitted_length_scores(
    words: pd.Series,
    consensus: pd.Series,
    scale_values: Sequence[int],
    *,
    folds: int = 5,
    seed: int = 0,
) -> pd.Series:
    """Length-baseline scores with thresholds fitted on the other folds of transcripts.

    Example
    -------
    >>> w = pd.Series(np.arange(100.), index=[f"t{i}" for i in range(100)])
    >>> c = pd.Series(np.repeat([1., 2.], 50), index=w.index)
    >>> float((cross_fitted_length_scores(w, c, [1, 2]) == c).mean()) > 0.9
    True
    """
    idx = consensus.dropna().index.intersection(words.index)
    rng = np.random.default_rng(seed)
    fold = rng.permutation(len(idx)) % max(2, folds)
    w = words.loc[idx].to_numpy(float)
    c = consensus.loc[idx].to_numpy(float)
    out = np.full(len(idx), np.nan)
    for k in np.unique(fold):  # a handful of folds, not a loop over rows
        th = quantile_thresholds(w[fold != k], c[fold != k], scale_values)
        out[fold == k] = scale_values[0] + np.searchsorted(th, w[fold == k], side="right")
    return pd.Series(out, index=idx)


def _point_hm(h: np.ndarray, s: np.ndarray, scale: Sequence[int], h2: np.ndarray | None = None):
    """Point estimates from :func:`calib.agreement.human_machine_metrics` (the shared RSMTool
    implementation): continuous metrics from the ``raw_trim`` row, ``kappa``/``exact_agr``/
    ``adj_agr`` from ``raw_trim_round`` -- the same convention as the vectorised bootstrap.
    """
    from calib.agreement import human_machine_metrics

    res = human_machine_metrics(h, s, second_human=h2, trim_min=scale[0], trim_max=scale[-1])
    ev = res.eval
    row = ev.loc["raw_trim", list(HM_METRICS)].copy()
    for m in ("kappa", "exact_agr", "adj_agr"):
        row[m] = ev.loc["raw_trim_round", m]
    point = pd.DataFrame([row.to_numpy(float)], columns=list(HM_METRICS))
    if h2 is None:
        return point, None, None
    cols = ["N", "corr", "wtkappa", "kappa", "exact_agr", "adj_agr", "SMD"]
    hh = pd.DataFrame([res.consistency.iloc[0][cols].to_numpy(float)], columns=cols)
    dcols = ["corr", "wtkappa", "kappa", "exact_agr", "adj_agr", "SMD"]
    deg = pd.DataFrame([res.degradation.loc["raw_trim", dcols].to_numpy(float)], columns=dcols)
    return point, hh, deg


def _boot_table(
    dim: str, comparison: str, point: pd.DataFrame, boot: pd.DataFrame, ci: float
) -> pd.DataFrame:
    lo, hi = (1 - ci) / 2, 1 - (1 - ci) / 2
    with warnings.catch_warnings():  # replicates with no variance give inf/NaN: interval is NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        q = (
            boot.replace([np.inf, -np.inf], np.nan).quantile([lo, hi])
            if len(boot)
            else pd.DataFrame(np.nan, index=[lo, hi], columns=point.columns)
        )
    return pd.DataFrame(
        {
            "dimension": dim,
            "comparison": comparison,
            "metric": point.columns,
            "estimate": point.iloc[0].to_numpy(float),
            "ci_low": q.iloc[0].to_numpy(float),
            "ci_high": q.iloc[1].to_numpy(float),
        }
    )


def _subgroup_frame(
    transcripts: pd.DataFrame | None, subgroups: Sequence[str] | None
) -> pd.DataFrame:
    if transcripts is None or "metadata" not in transcripts.columns:
        return pd.DataFrame()
    meta = pd.DataFrame.from_records(
        [m if isinstance(m, Mapping) else {} for m in transcripts["metadata"]],
        index=transcripts["transcript_id"].astype(str).to_numpy(),
    )
    if subgroups is None:
        # every metadata field with 2-20 levels, except the synthetic-data flag
        subgroups = [
            c for c in meta.columns if c != "synthetic" and 2 <= meta[c].nunique(dropna=True) <= 20
        ]
    missing = [s for s in subgroups if s not in meta.columns]
    if missing:
        raise ConfigError(
            f"subgroups: {missing} not in the transcripts' metadata (have: {', '.join(meta.columns)})"
        )
    return meta[list(subgroups)].astype("string")


@with_single_threaded_blas  # many small products: threads only thrash (see calib._blas)
def validate_grader(
    ratings: pd.DataFrame,
    grader_id: str,
    rubric: Any,
    transcripts: pd.DataFrame | None = None,
    *,
    criteria: Criteria | None = None,
    subgroups: Sequence[str] | None = None,
    n_boot: int = DEFAULT_N_BOOT,
    ci: float = 0.95,
    seed: int = DEFAULT_SEED,
    length_folds: int = 5,
    llm_outputs: pd.DataFrame | None = None,
    other_grader_id: str | None = None,
) -> ValidationResult:
    """Validate one grader against the human ratings, per rubric dimension.

    Parameters
    ----------
    ratings : pandas.DataFrame
        The long ratings table (humans and the grader), e.g. ``calib.io.read_ratings(store)``.
    grader_id : str
        ``rater_id`` of the grader (e.g. ``rules-1a2b3c4d``); a unique prefix is accepted.
    rubric : Rubric
    transcripts : pandas.DataFrame, optional
        Needed for the length baseline, the length-bias test and subgroups (metadata).
    criteria : Criteria, optional
        Acceptance thresholds (default: Williamson, Xi & Breyer 2012).
    subgroups : list of str, optional
        Metadata fields to test; default every field with 2-20 levels.
    n_boot, ci, seed : int, float, int
        Bootstrap replicates (transcripts resampled with replacement, percentile intervals),
        confidence level and seed (numpy Generator).
    llm_outputs : pandas.DataFrame, optional
        The store's ``llm_outputs`` table; for an LLM grader adds self-consistency across
        samples and the judge's confidence calibration.
    other_grader_id : str, optional
        The same LLM judge run with another prompt template: adds prompt sensitivity.

    Returns
    -------
    ValidationResult

    Raises
    ------
    DataValidationError
        When the grader id is unknown/ambiguous or there are no human ratings.

    Example
    -------
    >>> res = validate_grader(read_ratings("store/"), "rules-1a2b3c4d", rubric, transcripts)  # doctest: +SKIP
    >>> res.decision[["dimension", "passed", "reason"]]  # doctest: +SKIP
    """
    criteria = criteria or Criteria()
    if n_boot < 0:
        raise ConfigError(f"n_boot: must be >= 0, got {n_boot}")
    if not 0 < ci < 1:
        raise ConfigError(f"ci: must be between 0 and 1, got {ci}")
    grader_id = resolve_grader_id(ratings, grader_id)
    rng = np.random.default_rng(seed)
    g = ratings[ratings["rater_id"] == grader_id]
    gw = (
        g.drop_duplicates(["transcript_id", "dimension"], keep="last")
        .set_index(["transcript_id", "dimension"])["score"]
        .unstack()
    )
    cons = human_consensus(ratings)
    pair = _two_humans(ratings, rng)
    humans = ratings[(ratings["rater_type"] == "human") & ratings["score"].notna()]
    words = candidate_word_counts(transcripts) if transcripts is not None else None
    meta = _subgroup_frame(transcripts, subgroups)
    scale_values = list(rubric.scale.values)

    decisions, metric_rows, rater_rows, lb_rows, sg_rows, fair_rows = [], [], [], [], [], []
    for dim in rubric.dimension_ids:  # eight dimensions: the natural unit of the report
        c = cons[dim].dropna() if dim in cons.columns else pd.Series(dtype=float)
        s_all = gw[dim] if dim in gw.columns else pd.Series(np.nan, index=c.index)
        graded = s_all.reindex(c.index)
        unscored_share = float(graded.isna().mean()) if len(c) else np.nan
        both = graded.dropna().index
        h, s = c.loc[both].to_numpy(float), graded.loc[both].to_numpy(float)
        n = len(both)
        point = (
            _point_hm(h, s, scale_values)[0]
            if n >= 2
            else pd.DataFrame(np.nan, index=[0], columns=list(HM_METRICS))
        )
        boot = (
            bootstrap_stats((h, s), n_boot, rng, weighted_hm_metrics)[0]
            if n and n_boot
            else pd.DataFrame(columns=list(HM_METRICS))
        )
        metric_rows.append(_boot_table(dim, "consensus", point, boot, ci))

        # RSMTool degradation: grader vs h1 minus h1 vs h2 on the double-scored transcripts
        p = (
            pair.xs(dim, level="dimension")
            if dim in pair.index.get_level_values("dimension")
            else pd.DataFrame(columns=["h1", "h2"])
        )
        p = p.dropna(subset=[col for col in ("h1", "h2") if col in p.columns])
        # reindex, not Index.isin: isin on Arrow-backed string ids is a Python loop in pandas 3
        graded_p = s_all.reindex(p.index).notna().to_numpy() if len(p) else np.zeros(0, bool)
        p = p[graded_p] if "h2" in p.columns else p.iloc[0:0]
        hh_w = np.nan
        degr = np.nan
        if len(p) >= 2:
            h1, h2 = p["h1"].to_numpy(float), p["h2"].to_numpy(float)
            s1 = s_all.loc[p.index].to_numpy(float)
            hm1, hh, deg = _point_hm(h1, s1, scale_values, h2)
            cols = list(deg.columns)
            if n_boot:
                hm1b, hhb = bootstrap_stats(
                    (h1, s1, h2),
                    n_boot,
                    rng,
                    lambda a, b, _c, W: weighted_hm_metrics(a, b, W),
                    lambda a, _b, c, W: weighted_hh_metrics(a, c, W),
                )
                degb = hm1b[cols] - hhb[cols]
            else:
                hm1b = hhb = degb = pd.DataFrame(columns=cols)
            metric_rows += [
                _boot_table(dim, "h1", hm1, hm1b, ci),
                _boot_table(dim, "human_human", hh, hhb, ci),
                _boot_table(dim, "degradation", deg, degb, ci),
            ]
            hh_w, degr = float(hh["wtkappa"].iloc[0]), float(deg["wtkappa"].iloc[0])

        # each human rater: grader vs rater, and rater vs the other humans (leave-one-out)
        hd = humans[humans["dimension"] == dim]
        if len(hd):
            tot = hd.groupby("transcript_id")["score"].agg(["sum", "count"])
            hd = hd.join(tot, on="transcript_id")
            hd = hd[hd["count"] >= 2].assign(
                others=lambda x: _round_half_up((x["sum"] - x["score"]) / (x["count"] - 1))
            )
            hd = hd.assign(sys=s_all.reindex(hd["transcript_id"]).to_numpy()).dropna(subset=["sys"])
            for rid, sub in hd.groupby("rater_id", sort=True):  # one row per rater
                if len(sub) < 2:
                    continue
                gm = weighted_hm_metrics(sub["score"].to_numpy(float), sub["sys"].to_numpy(float))
                rm = weighted_hh_metrics(
                    sub["others"].to_numpy(float), sub["score"].to_numpy(float)
                )
                rater_rows.append(
                    {
                        "dimension": dim,
                        "rater_id": rid,
                        "N": len(sub),
                        "grader_wtkappa": gm["wtkappa"][0],
                        "grader_exact_agr": gm["exact_agr"][0],
                        "rater_wtkappa": rm["wtkappa"][0],
                        "rater_exact_agr": rm["exact_agr"][0],
                    }
                )

        # length-only baseline (cross-fitted) and length bias
        len_w = np.nan
        lb = {"slope_per_100_words": np.nan, "p_value": np.nan}
        if words is not None and len(c) >= 2 * max(2, length_folds):
            base = cross_fitted_length_scores(words, c, scale_values, folds=length_folds, seed=seed)
            bl = weighted_hm_metrics(c.loc[base.index].to_numpy(float), base.to_numpy(float))
            blb = (
                bootstrap_stats(
                    (c.loc[base.index].to_numpy(float), base.to_numpy(float)),
                    n_boot,
                    rng,
                    weighted_hm_metrics,
                )[0]
                if n_boot
                else pd.DataFrame(columns=list(HM_METRICS))
            )
            metric_rows.append(_boot_table(dim, "length_baseline", bl, blb, ci))
            len_w = float(bl["wtkappa"].iloc[0])
            if n >= 3:
                lb = length_bias(s - h, words.reindex(both).to_numpy(float), h, ci=ci)
                lb_rows.append({"dimension": dim, **lb})

        # subgroups: DSM per group and OSA/OSD/CSD
        max_dsm = np.nan
        sg_fail = []
        if len(meta) and n >= 3 and np.std(s) > 0 and np.std(h) > 0:
            for var in meta.columns:
                grp = meta[var].reindex(both)
                ok = grp.notna().to_numpy()
                if grp[ok].nunique() < 2:
                    continue
                dsm = subgroup_dsm(s[ok], h[ok], grp[ok].to_numpy())
                dsm["passed"] = (dsm["N"] < criteria.min_subgroup_n) | (
                    dsm["DSM"].abs() <= criteria.max_abs_subgroup_smd
                )
                sg_rows.append(dsm.assign(dimension=dim, variable=var))
                big = dsm[dsm["N"] >= criteria.min_subgroup_n]
                if len(big):
                    worst = big.loc[big["DSM"].abs().idxmax()]
                    max_dsm = float(
                        np.nanmax([abs(worst["DSM"]), 0 if np.isnan(max_dsm) else max_dsm])
                    )
                    sg_fail += [
                        f"{var}={r.group} DSM {r.DSM:+.2f}"
                        for r in big[~big["passed"]].itertuples()
                    ]
                fm = fairness_metrics(s[ok], h[ok], grp[ok].to_numpy()).reset_index()
                fair_rows.append(fm.assign(dimension=dim, variable=var))

        est = point.iloc[0]
        q = (
            boot["wtkappa"].quantile([(1 - ci) / 2, (1 + ci) / 2]).to_numpy(float)
            if len(boot)
            else [np.nan, np.nan]
        )
        reasons = []
        if n < criteria.min_n:
            reasons.append(f"N {n} < {criteria.min_n} scored transcripts")
        if unscored_share > criteria.max_unscored_share:
            reasons.append(f"unscored {unscored_share:.0%} > {criteria.max_unscored_share:.0%}")
        if n >= 2:
            if n and (np.ptp(s) == 0 or np.ptp(h) == 0):
                who = "grader" if np.ptp(s) == 0 else "consensus"
                warnings.warn(
                    f"validate_grader: {who} scores do not vary on {dim!r}; corr is NaN",
                    CalibWarning,
                    stacklevel=2,
                )
                reasons.append(f"corr undefined: {who} scores do not vary")
            elif not est["corr"] >= criteria.min_corr:
                reasons.append(f"corr {est['corr']:.2f} < {criteria.min_corr:.2f}")
            if not est["wtkappa"] >= criteria.min_wtkappa:
                reasons.append(f"wtkappa {est['wtkappa']:.2f} < {criteria.min_wtkappa:.2f}")
            if not abs(est["SMD"]) <= criteria.max_abs_smd:
                reasons.append(f"|SMD| {abs(est['SMD']):.2f} > {criteria.max_abs_smd:.2f}")
        if np.isfinite(degr) and degr < criteria.min_degradation:
            reasons.append(f"degradation {degr:+.2f} < {criteria.min_degradation:+.2f}")
        if (
            criteria.require_beats_length
            and np.isfinite(len_w)
            and np.isfinite(est["wtkappa"])
            and not est["wtkappa"] > len_w
        ):
            reasons.append(
                f"does not beat the length baseline (wtkappa {est['wtkappa']:.2f} <= {len_w:.2f})"
            )
        if sg_fail:
            reasons.append(
                "subgroup |DSM| > " + f"{criteria.max_abs_subgroup_smd:.2f}: " + ", ".join(sg_fail)
            )
        decisions.append(
            {
                "dimension": dim,
                "passed": not reasons,
                "reason": "; ".join(reasons) if reasons else "meets all criteria",
                "N": n,
                "unscored_share": unscored_share,
                "wtkappa": est["wtkappa"],
                "wtkappa_low": q[0],
                "wtkappa_high": q[1],
                "corr": est["corr"],
                "SMD": est["SMD"],
                "exact_agr": est["exact_agr"],
                "degradation": degr,
                "hh_wtkappa": hh_w,
                "length_wtkappa": len_w,
                "length_bias_per_100w": lb["slope_per_100_words"],
                "length_bias_p": lb["p_value"],
                "max_abs_subgroup_dsm": max_dsm,
                "prmse": _prmse(s_all, humans, dim),
            }
        )

    def frame(rows, cols):
        return (
            pd.concat(rows, ignore_index=True)[cols]
            if rows and isinstance(rows[0], pd.DataFrame)
            else pd.DataFrame(rows, columns=cols)
        )

    judge = _judge_biases(ratings, grader_id, llm_outputs, other_grader_id, scale_values)
    styles = style_breakdown(ratings, grader_id, transcripts) if transcripts is not None else None
    return ValidationResult(
        **judge,
        styles=styles,
        decision=pd.DataFrame(decisions),
        metrics=frame(
            metric_rows, ["dimension", "comparison", "metric", "estimate", "ci_low", "ci_high"]
        ),
        per_rater=frame(
            rater_rows,
            [
                "dimension",
                "rater_id",
                "N",
                "grader_wtkappa",
                "grader_exact_agr",
                "rater_wtkappa",
                "rater_exact_agr",
            ],
        ),
        length_bias=frame(
            lb_rows, ["dimension", "N", "slope_per_100_words", "se", "ci_low", "ci_high", "p_value"]
        ),
        subgroups=frame(sg_rows, ["dimension", "variable", "group", "N", "DSM", "passed"]),
        fairness=frame(
            fair_rows, ["dimension", "variable", "metric", "R2", "p_value", "base_group"]
        ),
        config={
            "grader_id": grader_id,
            "criteria": dataclasses.asdict(criteria),
            "n_boot": n_boot,
            "ci": ci,
            "seed": seed,
            "length_folds": length_folds,
            "subgroups": list(meta.columns),
            "rubric_id": rubric.id,
            "rubric_version": str(rubric.version),
            "rubric_hash": getattr(rubric, "content_hash", ""),
            "calib_version": _version(),
            "n_ratings": int(len(ratings)),
            "consensus": "mean of human ratings, rounded half up",
        },
    )


def _version() -> str:
    from calib import __version__

    return __version__


def _judge_biases(
    ratings: pd.DataFrame,
    grader_id: str,
    llm_outputs: pd.DataFrame | None,
    other_grader_id: str | None,
    scale_values: Sequence[int],
) -> dict:
    """Self-consistency, prompt sensitivity and confidence calibration of an LLM grader."""
    rtype = ratings.loc[ratings["rater_id"] == grader_id, "rater_type"]
    if llm_outputs is None or llm_outputs.empty or rtype.empty or rtype.iloc[0] != "llm":
        if other_grader_id is not None:
            raise ConfigError(
                "other_grader_id: prompt sensitivity needs an LLM grader and its llm_outputs table"
            )
        return {}
    from calib.graders.llm.biases import (
        judge_biases,  # the [llm] extra; only reached for LLM graders
    )

    other = resolve_grader_id(ratings, other_grader_id) if other_grader_id else None
    jb = judge_biases(
        llm_outputs, ratings, grader_id, other_rater_id=other, scale_values=tuple(scale_values)
    )
    cal = jb.calibration
    return {
        "self_consistency": jb.self_consistency,
        "prompt_sensitivity": jb.prompt_sensitivity,
        "judge_calibration": cal.table if cal is not None else None,
        "judge_ece": float(cal.ece) if cal is not None else None,
    }


def _prmse(system: pd.Series, humans: pd.DataFrame, dim: str) -> float:
    """PRMSE from calib.agreement when it is available (NaN otherwise)."""
    try:
        from calib.agreement import prmse
    except ImportError:  # the agreement stage has not shipped it in this checkout
        return np.nan
    hd = (
        humans[humans["dimension"] == dim]
        .drop_duplicates(["transcript_id", "rater_id"], keep="last")
        .set_index(["transcript_id", "rater_id"])["score"]
        .unstack()
    )
    sys_ = system.reindex(hd.index)
    ok = sys_.notna().to_numpy()
    if ok.sum() < 3:
        return np.nan
    try:
        return float(prmse(sys_.to_numpy(float)[ok], hd.to_numpy(float)[ok]))
    except Exception:  # noqa: BLE001 -- a degenerate PRMSE must not sink the whole validation
        return np.nan


def resolve_grader_id(ratings: pd.DataFrame, grader_id: str) -> str:
    """Resolve a grader id or unique prefix (e.g. ``rules``) among the machine raters.

    Example
    -------
    >>> r = pd.DataFrame({"rater_id": ["rules-1234abcd", "r01"], "rater_type": ["rule", "human"]})
    >>> resolve_grader_id(r, "rules")
    'rules-1234abcd'
    """
    machine = sorted(ratings.loc[ratings["rater_type"] != "human", "rater_id"].dropna().unique())
    if grader_id in machine:
        return grader_id
    matches = [m for m in machine if m.startswith(grader_id)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise DataValidationError(
            f"grader {grader_id!r}: no machine ratings with this rater_id "
            f"(graders in the store: {', '.join(machine) or 'none'})"
        )
    raise DataValidationError(f"grader {grader_id!r} is ambiguous: {', '.join(matches)}")


def style_breakdown(
    ratings: pd.DataFrame, grader_id: str, transcripts: pd.DataFrame, *, field: str = "style"
) -> pd.DataFrame | None:
    """Per wording style (``metadata[field]``): grader vs consensus, per dimension and overall.

    Returns None when no transcript carries the field. Columns: ``style, dimension, N,
    mean_diff`` (mean grader - consensus, in levels), ``wtkappa`` (QWK, NaN below 2 rows or
    without variation).

    Example
    -------
    >>> r = pd.DataFrame({"transcript_id": ["a", "a", "b", "b"], "dimension": "d",
    ...     "rater_type": ["human", "rule"] * 2, "rater_id": ["h", "g"] * 2,
    ...     "score": [1.0, 3.0, 4.0, 4.0]})
    >>> t = pd.DataFrame({"transcript_id": ["a", "b"], "metadata": [{"style": "stuffed"},
    ...     {"style": "plain"}]})
    >>> style_breakdown(r, "g", t).query("dimension == 'd'")["mean_diff"].tolist()
    [0.0, 2.0]
    """
    if "metadata" not in transcripts:
        return None
    style = pd.Series(
        [m.get(field) if isinstance(m, Mapping) else None for m in transcripts["metadata"]],
        index=transcripts["transcript_id"].astype(str),
    ).dropna()
    if style.empty:
        return None
    cons = human_consensus(ratings)
    g = ratings[ratings["rater_id"] == grader_id].pivot_table(
        index="transcript_id", columns="dimension", values="score"
    )
    rows = []
    for st in sorted(style.unique()):
        ids = style.index[style == st]
        for d in [*cons.columns, "all"]:
            if d == "all":
                diff = (g.reindex(ids) - cons.reindex(ids)).mean(axis=1).dropna()
                rows.append((st, d, len(diff), float(diff.mean()) if len(diff) else np.nan, np.nan))
                continue
            if d not in g:
                continue
            both = pd.concat([cons.reindex(ids)[d], g.reindex(ids)[d]], axis=1).dropna()
            h, m = both.iloc[:, 0].to_numpy(float), both.iloc[:, 1].to_numpy(float)
            k = np.nan
            if len(h) >= 2 and np.ptp(h) > 0 and np.ptp(m) > 0:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    lo_hi = [min(h.min(), m.min()), max(h.max(), m.max())]
                    k = float(_point_hm(h, m, lo_hi)[0]["wtkappa"].iloc[0])
            rows.append((st, d, len(h), float((m - h).mean()) if len(h) else np.nan, k))
    return pd.DataFrame(rows, columns=["style", "dimension", "N", "mean_diff", "wtkappa"])


def apply_vocabulary_criterion(
    result: ValidationResult, sensitivity: pd.DataFrame, criteria: Criteria | None = None
) -> ValidationResult:
    """Add the vocabulary-sensitivity criterion to a validation's decision table.

    ``sensitivity`` is :func:`calib.graders.vocab.vocabulary_sensitivity`'s table. A
    dimension fails when stuffing weak answers raises its mean score by more than
    ``max_stuffing_gain`` levels (default 0.25) or rewording strong answers in plain words
    lowers it by more than ``max_plain_loss`` levels (default 0.5). Point estimates decide;
    the CIs are in ``result.vocabulary``. Adds decision columns ``stuffing_gain`` and
    ``plain_change``.
    """
    criteria = criteria or Criteria(**result.config.get("criteria", {}))
    v = sensitivity.set_index(["counterfactual", "dimension"])["mean_change"]
    dec = result.decision.copy()
    gains, plains = [], []
    for i, row in dec.iterrows():
        d = row["dimension"]
        gain = float(v.get(("stuffing", d), np.nan))
        plain = float(v.get(("plain", d), np.nan))
        gains.append(gain)
        plains.append(plain)
        why = []
        if np.isfinite(gain) and gain > criteria.max_stuffing_gain:
            why.append(f"stuffing gain {gain:+.2f} > {criteria.max_stuffing_gain:.2f} levels")
        if np.isfinite(plain) and plain < -criteria.max_plain_loss:
            why.append(f"plain-words loss {plain:+.2f} < -{criteria.max_plain_loss:.2f} levels")
        if why:
            base = "" if row["passed"] else row["reason"] + "; "
            dec.loc[i, "reason"] = base + "; ".join(why)
            dec.loc[i, "passed"] = False
    dec["stuffing_gain"] = gains
    dec["plain_change"] = plains
    return dataclasses.replace(result, decision=dec, vocabulary=sensitivity)
