"""Rubric-tuning recommendations: every rule and threshold lives in this module.

Each rule reads evidence tables that the report assembled from the analyses (it computes
no statistic of its own), and emits :class:`Recommendation` objects that name the evidence
that triggered them and the transcripts that illustrate it. ``docs/report.md`` documents
the same table; change both together.

Rules (priority in brackets; ranked by priority, then by the size of the problem):

====================  ==========================================================================
``anchor_ambiguity``  [high] A dimension's disagreement with rater-pair offsets removed is at
                      least ``disagreement_ratio`` times the median of the other dimensions, or
                      its alpha is below ``alpha_tentative`` and ``alpha_gap`` below the other
                      dimensions' median -> rewrite the anchors of the adjacent level pairs that
                      carry ``confusion_share`` of its disagreements.
``rater_calibration`` [high] A rater's severity (calib.raters.fit_additive, score points) is
                      at least ``rater_deviation`` on a dimension with a 95% CI excluding 0
                      (or calib.raters flagged the rater) -> calibration session for those
                      raters on that dimension; one all-dimension session for a rater flagged
                      on at least ``general_share`` of the dimensions.
``grader_unfit``      [high] A grader fails the acceptance criteria of calib.graders
                      validation on a dimension -> do not use it for that dimension.
``disconnected``      [high] The human rating design has more than one connected component ->
                      add overlapping ratings so raters can be put on one scale.
``redundant_dims``    [medium] Two dimensions' consensus scores correlate with Spearman rho >=
                      ``redundancy_rho`` -> merge them or sharpen what separates them.
``rater_count``       [medium] The D-study says a dimension needs more raters than are used to
                      reach ``target_reliability`` (add raters) or that fewer suffice (drop).
``unused_level``      [low] A level is used in less than ``rare_level_share`` of a dimension's
                      human ratings -> rewrite or collapse that level's anchor.
====================  ==========================================================================
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from calib.agreement import reliability_verdict
from calib.report._scale import MAX_LISTED, list_some

__all__ = [
    "THRESHOLDS",
    "Recommendation",
    "recommend",
    "verdict",
    "decimals",
    "fmt_near",
    "enough_evidence",
]

#: Every threshold the report uses, in one place (see the module docstring and docs/report.md).
THRESHOLDS: dict[str, float] = {
    # Krippendorff (2004, Content Analysis, 2nd ed., p. 241): rely on alpha >= .800, draw
    # tentative conclusions for .667 <= alpha < .800, discard below .667.
    "alpha_reliable": 0.800,
    "alpha_tentative": 0.667,
    # Anchor ambiguity fires when a dimension's rater-offset-free disagreement (mean square) is
    # this many times the median of the other dimensions (calibrated on calib.simulate: the
    # planted ambiguous dimension scores ~2.0, clean dimensions 0.8-1.45) ...
    "disagreement_ratio": 1.6,
    # ... or its alpha is below alpha_tentative and this far below the other dimensions' median.
    "alpha_gap": 0.10,
    # The recommendation names the adjacent level pairs that carry this share of its disagreements.
    "confusion_share": 0.40,
    # Rater calibration: mean difference from the leave-one-out consensus, in score points of a
    # 1-4 scale; the report rescales it to the same share of the rubric's scale width (0.5 of 3
    # points = 1/6: 0.67 points on 1-5, 16.7 on 0-100) unless the option overrides it.
    "rater_deviation": 0.5,
    # A rater flagged on at least this share of the dimensions gets one all-dimension session.
    "general_share": 0.5,
    # Redundant dimensions: Spearman correlation of per-transcript consensus scores.
    "redundancy_rho": 0.90,
    # A level used in fewer than this share of a dimension's human ratings.
    "rare_level_share": 0.05,
    # D-study target reliability.
    "target_reliability": 0.80,
    # Transcripts cited per recommendation.
    "max_examples": 3,
    # Minimum evidence. Below min_transcripts transcripts scored by two or more human raters the
    # report makes no rewrite, merge, calibration, rater-count or fairness finding at all: a
    # bootstrap CI over fewer transcripts is itself unreliable, and a rule fired on it would
    # be noise (issue 12: 6 transcripts produced "rewrite" and "merge" advice).
    "min_transcripts": 30,
    # A reliability verdict needs at least this many double-rated transcripts (else undetermined).
    "min_transcripts_verdict": 10,
    # Merge advice needs the lower 95% bound of the consensus correlation this high too.
    "redundancy_rho_low": 0.80,
}

_PRIORITY = {"high": 0, "medium": 1, "low": 2}


@dataclass(frozen=True)
class Recommendation:
    """One specific, evidence-backed action.

    Attributes
    ----------
    rule : str
        The rule that fired (see module docstring).
    priority : str
        ``high``, ``medium`` or ``low``.
    title : str
        The action in one sentence.
    dimension : str or None
        The rubric dimension concerned.
    evidence : dict
        The numbers that triggered the rule (JSON-serialisable).
    transcripts : list of str
        Transcripts that illustrate the problem.
    magnitude : float
        Size of the problem, used to rank within a priority.
    exhibit : dict
        What the reader needs to act (filled by the report for rubric rules): anchor text of
        the levels in question and transcripts where raters split, with excerpts.
    """

    rule: str
    priority: str
    title: str
    dimension: str | None = None
    evidence: dict[str, Any] = field(default_factory=dict)
    transcripts: list[str] = field(default_factory=list)
    magnitude: float = 0.0
    exhibit: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return asdict(self)


def _alphas_and_ratios(agr, exc) -> tuple[pd.Series, pd.Series]:
    """Headline alpha and excess-disagreement ratio per dimension (empty when not computed)."""
    alphas = (
        agr.set_index("dimension")["alpha"].astype(float)
        if agr is not None and not agr.empty and "alpha" in agr.columns
        else pd.Series(dtype=float)
    )
    ratios = (
        exc.set_index("dimension")["ratio"]
        if exc is not None and not exc.empty
        else pd.Series(dtype=float)
    )
    return alphas, ratios


def verdict(
    alpha: float | None,
    thresholds: dict[str, float] = THRESHOLDS,
    low: float | None = None,
    high: float | None = None,
    n_transcripts: int | None = None,
) -> str:
    """Traffic-light verdict for a reliability coefficient, or "undetermined".

    Rule (documented in docs/report.md): the band of the point estimate (Krippendorff 2004:
    reliable >= .800, tentative >= .667, unreliable below), unless the evidence cannot place
    it: fewer than ``min_transcripts_verdict`` double-rated transcripts, or a 95% CI
    ``[low, high]`` that reaches into all three bands (below .667 *and* at or above .800), i.e.
    the data cannot tell a reliable dimension from an unreliable one. A CI that crosses one
    cut-off keeps the estimate's verdict; the report prints such estimates with enough decimals
    (:func:`decimals`) to show which side of the cut-off they fall.

    Example
    -------
    >>> verdict(0.85), verdict(0.70), verdict(0.2), verdict(float("nan"))
    ('reliable', 'tentative', 'unreliable', 'not computed')
    >>> verdict(0.557, low=-0.417, high=0.903), verdict(0.9, n_transcripts=6)
    ('undetermined', 'undetermined')
    """
    if alpha is None or not np.isfinite(alpha):
        return "not computed"
    th = {**THRESHOLDS, **thresholds}
    # one rule for the report and `calib agree` (calib.agreement.reliability_verdict)
    return reliability_verdict(
        alpha,
        low,
        high,
        n_transcripts,
        cuts=(th["alpha_tentative"], th["alpha_reliable"]),
        min_units=int(th["min_transcripts_verdict"]),
    )


def decimals(x: float, cuts: tuple[float, ...] = (0.667, 0.8), start: int = 2) -> int:
    """Fewest decimals (from ``start``) at which ``x`` rounds to the same side of every cut.

    So a value just below a cut-off never prints as the cut-off itself.

    Example
    -------
    >>> decimals(0.6664), decimals(0.75), decimals(0.79996)
    (3, 2, 5)
    """
    if x is None or not np.isfinite(x):
        return start
    for k in range(start, 7):
        r = round(float(x), k)
        if all((r >= c) == (x >= c) for c in cuts):
            return k
    return 6


def fmt_near(x: float, cuts: tuple[float, ...] = (0.667, 0.8)) -> str:
    """``x`` with :func:`decimals` decimals ("–" when missing).

    Example
    -------
    >>> fmt_near(0.6664), fmt_near(0.71)
    ('0.666', '0.71')
    """
    if x is None or not np.isfinite(x):
        return "–"
    return f"{x:.{decimals(x, cuts)}f}"


def enough_evidence(evidence: dict[str, Any], thresholds: dict[str, float] | None = None) -> bool:
    """True when the store has ``min_transcripts`` transcripts scored by two or more humans.

    Below that, :func:`recommend` makes no rewrite, merge, calibration, rater-count or unused-
    level recommendation and the report makes no fairness finding (docs/report.md).

    Example
    -------
    >>> enough_evidence({"coverage": {"double_rated_transcripts": 6}})
    False
    """
    th = {**THRESHOLDS, **(thresholds or {})}
    n = (evidence.get("coverage") or {}).get("double_rated_transcripts")
    return n is None or int(n) >= th["min_transcripts"]


def _f(x: Any) -> float | None:
    return None if x is None or not np.isfinite(float(x)) else round(float(x), 4)


def _examples(
    pairs: pd.DataFrame | None, n: int, raters: list[str] | None = None, **where: Any
) -> list[str]:
    """Transcripts where the matching rater pairs disagree most (mean |score gap|, then count, then id)."""
    if pairs is None or pairs.empty:
        return []
    m = pd.Series(True, index=pairs.index)
    for col, val in where.items():
        m &= pairs[col].isin(val if isinstance(val, (list, tuple, set)) else [val])
    if raters:
        m &= pairs["rater_a"].isin(raters) | pairs["rater_b"].isin(raters)
    p = pairs[m]
    gap = (p["high"] - p["low"]).groupby(p["transcript_id"]).agg(["mean", "size"]).reset_index()
    gap = gap[gap["mean"] > 0].sort_values(
        ["mean", "size", "transcript_id"], ascending=[False, False, True], kind="stable"
    )
    return gap["transcript_id"].head(n).astype(str).tolist()


def _anchor_rules(ev: dict, th: dict, n_ex: int) -> list[Recommendation]:
    conf, agr, pairs, exc = (
        ev.get("confusions"),
        ev.get("agreement"),
        ev.get("pairs"),
        ev.get("excess"),
    )
    if conf is None or conf.empty:
        return []
    alphas, ratios = _alphas_and_ratios(agr, exc)
    out = []
    for dim in sorted(set(conf["dimension"])):
        alpha = float(alphas.get(dim, np.nan))
        others = alphas.drop(dim, errors="ignore").dropna()
        ratio = float(ratios.get(dim, np.nan))
        stands_out = np.isfinite(ratio) and ratio >= th["disagreement_ratio"]
        low_alpha = (
            np.isfinite(alpha)
            and alpha < th["alpha_tentative"]
            and len(others) > 0
            and alpha <= others.median() - th["alpha_gap"]
        )
        if not (stands_out or low_alpha):
            continue
        c = conf[(conf["dimension"] == dim) & conf["adjacent"].astype(bool)].sort_values(
            ["share_within", "low"], ascending=[False, True], kind="stable"
        )
        if c.empty:
            continue
        # the fewest adjacent level pairs that together carry confusion_share of the disagreements
        k = int(np.searchsorted(c["share_within"].cumsum().to_numpy(), th["confusion_share"]) + 1)
        top = c.head(k)
        share = float(top["share_within"].sum())
        named = " and ".join(f"{int(r.low)} vs {int(r.high)}" for r in top.itertuples())
        ex_mask = pd.Series(False, index=pairs.index) if pairs is not None else None
        if pairs is not None:
            for r in top.itertuples():
                ex_mask |= pairs["low"].eq(r.low) & pairs["high"].eq(r.high)
        sep = " and ".join(f"level {int(r.low)} from {int(r.high)}" for r in top.itertuples())
        why = (
            f"dimension-specific disagreement {ratio:.1f}x the other dimensions"
            if stands_out
            else f"alpha {alpha:.2f} vs {others.median():.2f} on the other dimensions"
        )
        out.append(
            Recommendation(
                rule="anchor_ambiguity",
                priority="high",
                dimension=dim,
                title=(
                    f"Rewrite the '{dim}' anchors that separate {sep}: these confusions are {share:.0%} of its "
                    f"rater disagreements ({why})"
                ),
                evidence={
                    "alpha": _f(alpha),
                    "median_alpha_other_dimensions": _f(others.median()) if len(others) else None,
                    "excess_disagreement_ratio": _f(ratio),
                    "confused_pairs": named,
                    "level_pairs": [[int(r.low), int(r.high)] for r in top.itertuples()],
                    "share_of_dimension_disagreements": _f(share),
                    "share_of_all_disagreements": _f(top["share_all"].sum()),
                },
                transcripts=_examples(
                    pairs[ex_mask] if pairs is not None else None, n_ex, dimension=dim
                ),
                magnitude=(ratio if np.isfinite(ratio) else 1.0)
                + (1 - alpha if np.isfinite(alpha) else 0),
            )
        )
    return out


def _wide_anchor_rules(ev: dict, th: dict, n_ex: int) -> list[Recommendation]:
    """anchor_ambiguity on wide or continuous scales, where level pairs mean nothing.

    Same trigger as on few-level scales (dimension-specific disagreement or a low alpha);
    the advice names the dimension's anchored points and how far apart raters score instead
    of confused level pairs. Applies to the dimensions in ``ev["anchor_points"]`` (the
    report passes the dimensions whose scale has more than ``FEW_LEVELS`` levels).
    """
    points, agr, pairs, exc = (
        ev.get("anchor_points") or {},
        ev.get("agreement"),
        ev.get("pairs"),
        ev.get("excess"),
    )
    if not points:
        return []
    alphas, ratios = _alphas_and_ratios(agr, exc)
    out = []
    for dim in sorted(points):
        alpha = float(alphas.get(dim, np.nan))
        others = alphas.drop(dim, errors="ignore").dropna()
        ratio = float(ratios.get(dim, np.nan))
        stands_out = np.isfinite(ratio) and ratio >= th["disagreement_ratio"]
        low_alpha = (
            np.isfinite(alpha)
            and alpha < th["alpha_tentative"]
            and len(others) > 0
            and alpha <= others.median() - th["alpha_gap"]
        )
        if not (stands_out or low_alpha):
            continue
        p = pairs[pairs["dimension"] == dim] if pairs is not None else None
        gap = float((p["high"] - p["low"]).mean()) if p is not None and len(p) else np.nan
        why = (
            f"dimension-specific disagreement {ratio:.1f}x the other dimensions"
            if stands_out
            else f"alpha {alpha:.2f} vs {others.median():.2f} on the other dimensions"
        )
        at = ", ".join(f"{x:g}" for x in points[dim])
        out.append(
            Recommendation(
                rule="anchor_ambiguity",
                priority="high",
                dimension=dim,
                title=(
                    f"Sharpen the '{dim}' anchors (now at {at}) and add examples between them: two "
                    f"raters' scores for the same transcript differ by {gap:.3g} points on average "
                    f"({why})"
                ),
                evidence={
                    "alpha": _f(alpha),
                    "median_alpha_other_dimensions": _f(others.median()) if len(others) else None,
                    "excess_disagreement_ratio": _f(ratio),
                    "mean_abs_difference": _f(gap),
                    "anchored_points": list(points[dim]),
                },
                transcripts=_examples(pairs, n_ex, dimension=dim),
                magnitude=(ratio if np.isfinite(ratio) else 1.0)
                + (1 - alpha if np.isfinite(alpha) else 0),
            )
        )
    return out


def _rater_rules(ev: dict, th: dict, n_ex: int) -> list[Recommendation]:
    dev, flags, pairs = ev.get("rater_severity"), ev.get("rater_flags"), ev.get("pairs")
    hits = []
    if dev is not None and not dev.empty:
        d = dev[
            (dev["severity"].abs() >= th["rater_deviation"])
            & ((dev["ci_low"] > 0) | (dev["ci_high"] < 0))
        ]
        # mean_diff: signed difference from the other raters (negative = severe)
        hits.append(
            d[["rater_id", "dimension"]].assign(mean_diff=-d["severity"], source="severity")
        )
    if flags is not None and not flags.empty:
        src = flags["flag"].astype(str) if "flag" in flags.columns else "calib.raters"
        # a severity flag's value is severity in score points (positive = harsh)
        md = (
            np.where(src.eq("severity"), -flags["value"].astype(float), np.nan)
            if "value" in flags.columns
            else np.nan
        )
        hits.append(flags[["rater_id", "dimension"]].assign(mean_diff=md, source=src))
    if not hits:
        return []
    h = pd.concat(hits, ignore_index=True)
    n_dims = int(ev.get("n_dimensions") or (dev["dimension"].nunique() if dev is not None else 1))
    per_rater = h[h["dimension"] != "all"].groupby("rater_id")["dimension"].nunique()
    # A rater off on most dimensions (or flagged on "all") has a general problem: one session.
    general = sorted(
        set(per_rater[per_rater >= th["general_share"] * n_dims].index.astype(str))
        | set(h.loc[h["dimension"] == "all", "rater_id"].astype(str))
    )
    out = []

    def rec(raters: list[str], g: pd.DataFrame, dim: str | None) -> Recommendation:
        gd = g[g["dimension"] != "all"] if (g["dimension"] != "all").any() else g
        by_rater = gd.groupby("rater_id")["mean_diff"].mean().to_dict()
        what = {
            r: ([("severe" if v < 0 else "lenient")] if np.isfinite(v) else [])
            for r, v in by_rater.items()
        }
        for r, src in g[~g["source"].isin(["severity"])].groupby("rater_id")["source"]:
            what[r] = what.get(r, []) + sorted(set(src.astype(str).str.replace("_", " ")))
        who = list_some(
            [f"{r} ({', '.join(what[r])})" if what.get(r) else r for r in raters],
            where="the rater effects tables",
        )
        worst = (
            float(np.nanmax(np.abs(g["mean_diff"].to_numpy(float))))
            if g["mean_diff"].notna().any()
            else 0.0
        )
        nd = g.loc[g["dimension"] != "all", "dimension"].nunique()
        where = (
            f"on '{dim}'"
            if dim
            else (f"across dimensions ({nd} of {n_dims} flagged)" if nd else "across dimensions")
        )
        ex = _examples(pairs, n_ex, raters=raters, **({"dimension": dim} if dim else {}))
        return Recommendation(
            rule="rater_calibration",
            priority="high",
            dimension=dim,
            title=f"Run a calibration session for {who} {where}",
            evidence={
                "raters": raters,
                "dimensions": sorted(set(g["dimension"].astype(str)) - {"all"}),
                "severity_points": {
                    r: _f(-v) for r, v in sorted(by_rater.items()) if np.isfinite(v)
                },
                "sources": sorted(g["source"].astype(str).unique()),
            },
            transcripts=ex,
            magnitude=worst,
        )

    if len(general) > MAX_LISTED:  # many raters (a crowd): one session, worst named first
        worst = h[h["rater_id"].isin(general)].assign(a=lambda x: x["mean_diff"].abs())
        order = worst.groupby("rater_id")["a"].max().fillna(0).sort_values(ascending=False)
        ranked = sorted(general, key=lambda r: (-float(order.get(r, 0.0)), r))
        out.append(rec(ranked, h[h["rater_id"].isin(general)], None))
    else:
        for r in general:
            out.append(rec([r], h[h["rater_id"] == r], None))
    rest = h[~h["rater_id"].isin(general)]
    for dim, g in rest.groupby("dimension", sort=True):
        out.append(rec(sorted(g["rater_id"].astype(str).unique()), g, str(dim)))
    return out


def _redundancy_rules(ev: dict, th: dict) -> list[Recommendation]:
    c = ev.get("correlated")
    if c is None or c.empty:
        return []
    low = c["rho_low"] if "rho_low" in c.columns else pd.Series(np.nan, index=c.index)
    n = c["n"] if "n" in c.columns else pd.Series(np.nan, index=c.index)
    return [
        Recommendation(
            rule="redundant_dims",
            priority="medium",
            dimension=f"{r.dimension_a}+{r.dimension_b}",
            title=(
                f"Merge '{r.dimension_a}' and '{r.dimension_b}' or sharpen what separates them "
                f"(consensus scores correlate rho = {r.rho:.2f}, 95% CI "
                f"{lo:.2f} to {hi:.2f}, {int(k)} transcripts)"
                if np.isfinite(lo)
                else f"Merge '{r.dimension_a}' and '{r.dimension_b}' or sharpen what separates "
                f"them (consensus scores correlate rho = {r.rho:.2f})"
            ),
            evidence={
                "rho": _f(r.rho),
                "rho_ci": [_f(lo), _f(hi)],
                "transcripts": None if not np.isfinite(k) else int(k),
            },
            magnitude=float(r.rho),
        )
        for r, lo, hi, k in zip(
            c.itertuples(index=False),
            low,
            c["rho_high"] if "rho_high" in c.columns else low,
            n,
            strict=True,
        )
        if r.rho >= th["redundancy_rho"]
        and (not np.isfinite(lo) or lo >= th["redundancy_rho_low"])
        and (not np.isfinite(k) or k >= th["min_transcripts"])
    ]


def _level_rules(ev: dict, th: dict) -> list[Recommendation]:
    rare = ev.get("rare_levels")
    if rare is None or rare.empty:
        return []
    out = []
    for dim, g in rare.groupby("dimension", sort=True):
        levels = g["level"].astype(int).tolist()
        out.append(
            Recommendation(
                rule="unused_level",
                priority="low",
                dimension=str(dim),
                title=(
                    f"Level{'s' if len(levels) > 1 else ''} {', '.join(map(str, levels))} of '{dim}' "
                    f"{'are' if len(levels) > 1 else 'is'} almost never used: rewrite the anchor or collapse the level"
                ),
                evidence={"levels": levels, "shares": [_f(s) for s in g["share"]]},
                magnitude=float(th["rare_level_share"] - g["share"].min()),
            )
        )
    return out


def _dstudy_rules(ev: dict, th: dict) -> list[Recommendation]:
    d = ev.get("raters_needed")
    if d is None or d.empty:
        return []
    d = d[np.isfinite(d["current_raters"].astype(float))]
    need = d["raters_needed"].astype(float).fillna(np.inf)  # None from the G-study = not reachable
    tgt = f"{th['target_reliability']:.2f}"
    out = []
    add, drop = d[need > d["current_raters"]], d[need < d["current_raters"]]
    if len(add):
        add = add.assign(n=need[add.index]).sort_values(
            ["n", "dimension"], ascending=[False, True], kind="stable"
        )
        out.append(
            Recommendation(
                rule="rater_count",
                priority="medium",
                dimension=None,
                title=(
                    f"Add raters or sharpen anchors: reliability {tgt} needs "
                    + ", ".join(
                        f"{'>50' if not np.isfinite(r.n) else int(r.n)} raters on '{r.dimension}'"
                        for r in add.itertuples()
                    )
                    + f" (transcripts now get {add['current_raters'].median():g})"
                ),
                evidence={
                    "raters_needed": {
                        r.dimension: (None if not np.isfinite(r.n) else int(r.n))
                        for r in add.itertuples()
                    },
                    "current_raters": _f(add["current_raters"].median()),
                },
                magnitude=float(np.nanmax(np.minimum(add["n"], 50) - add["current_raters"])),
            )
        )
    if len(drop):
        out.append(
            Recommendation(
                rule="rater_count",
                priority="medium",
                dimension=None,
                title=(
                    f"Fewer raters suffice for reliability {tgt} on "
                    + ", ".join(
                        f"'{r.dimension}' ({int(r.raters_needed)})" for r in drop.itertuples()
                    )
                    + f" (transcripts now get {drop['current_raters'].median():g})"
                ),
                evidence={
                    "raters_needed": {r.dimension: int(r.raters_needed) for r in drop.itertuples()},
                    "current_raters": _f(drop["current_raters"].median()),
                },
                magnitude=float((drop["current_raters"] - drop["raters_needed"]).max()) / 10,
            )
        )
    return out


def _grader_rules(ev: dict) -> list[Recommendation]:
    g = ev.get("grader_acceptance")
    if g is None or g.empty:
        return []
    bad = g[~g["passed"].astype(bool)]
    out = []
    for grader, b in bad.groupby("grader", sort=True):
        dims = b["dimension"].astype(str).tolist()
        reasons = dict(zip(dims, b["reason"].astype(str))) if "reason" in b.columns else {}
        n_all = int((g["grader"] == grader).sum())
        where = "any dimension" if len(dims) == n_all else ", ".join(f"'{d}'" for d in dims)
        kappa = (
            b.set_index("dimension")["wtkappa"]
            if "wtkappa" in b.columns
            else pd.Series(dtype=float)
        )
        out.append(
            Recommendation(
                rule="grader_unfit",
                priority="high",
                dimension=dims[0] if len(dims) == 1 else None,
                title=f"Do not use grader '{grader}' for {where}: it fails the acceptance criteria "
                f"on {len(dims)} of {n_all} dimensions",
                evidence={
                    "failed_dimensions": dims,
                    "reasons": reasons,
                    "wtkappa": {d: _f(v) for d, v in kappa.items()},
                },
                magnitude=len(dims) / max(n_all, 1),
            )
        )
    return out


def _design_rules(ev: dict) -> list[Recommendation]:
    cov = ev.get("coverage") or {}
    n = cov.get("components", 1)
    if n <= 1:
        return []
    return [
        Recommendation(
            rule="disconnected",
            priority="high",
            title=f"Connect the rating design: raters fall into {n} groups that never rate the same transcripts",
            evidence={"components": int(n)},
            magnitude=float(n),
        )
    ]


def recommend(
    evidence: dict[str, Any], thresholds: dict[str, float] | None = None
) -> list[Recommendation]:
    """Apply every rule to the evidence and return a ranked list.

    Parameters
    ----------
    evidence : dict
        Named evidence tables (all optional): ``agreement`` (dimension, alpha),
        ``confusions`` (from top_confusions), ``pairs`` (rating pairs),
        ``disagreement_rate`` (Series by dimension), ``correlated`` (dimension_a, dimension_b,
        rho), ``rare_levels`` (dimension, level, share), ``rater_severity`` (rater_id, dimension, severity, ci_low, ci_high), ``rater_flags``
        (rater_id, dimension, flag), ``raters_needed`` (dimension, raters_needed,
        current_raters), ``grader_acceptance`` (grader, dimension, passed, ...),
        ``coverage`` (dict with ``components``), ``anchor_points`` (dimension -> anchored
        scores, for dimensions on wide or continuous scales: their anchor advice names the
        anchored points instead of confused level pairs).
    thresholds : dict, optional
        Overrides for :data:`THRESHOLDS`.

    Returns
    -------
    list of Recommendation
        Ranked: priority, then magnitude (descending), then rule and dimension.

    Example
    -------
    >>> recs = recommend({"coverage": {"components": 2}})
    >>> recs[0].rule
    'disconnected'
    """
    th = {**THRESHOLDS, **(thresholds or {})}
    n_ex = int(th["max_examples"])
    recs = _grader_rules(evidence) + _design_rules(evidence)
    if enough_evidence(evidence, th):  # below the minimum of evidence: no finding from noise
        recs += (
            _anchor_rules(evidence, th, n_ex)
            + _wide_anchor_rules(evidence, th, n_ex)
            + _rater_rules(evidence, th, n_ex)
            + _redundancy_rules(evidence, th)
            # a calibration session is not the operational design: no rater-count advice
            + ([] if evidence.get("calibration_session") else _dstudy_rules(evidence, th))
            + _level_rules(evidence, th)
        )
    return sorted(
        recs, key=lambda r: (_PRIORITY[r.priority], -r.magnitude, r.rule, r.dimension or "")
    )
