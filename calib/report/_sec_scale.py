"""Report section: scale use and anchor ambiguity."""

from __future__ import annotations

import numpy as np
import pandas as pd

from calib.report import _descriptive as desc
from calib.report import plots
from calib.report._common import SECTION_TITLES, _num, _pct
from calib.report._inputs import ReportInputs
from calib.report._model import Section
from calib.report._scale import MAX_LISTED, scale_view
from calib.rubric import FEW_LEVELS, Rubric


def _by_scale(rubric: Rubric, dims: list[str]) -> list[list[str]]:
    """Dimensions grouped by identical scale, in rubric order."""
    groups: dict[str, list[str]] = {}
    for d in dims:
        groups.setdefault(rubric.scale_for(d).describe(), []).append(d)
    return list(groups.values())


def _unit_scores(ratings: pd.DataFrame, rubric: Rubric) -> pd.DataFrame:
    """Scores divided by their dimension's scale width (compare dimensions on different scales)."""
    span = ratings["dimension"].astype(object).map({d: sc.span for d, sc in rubric.scales.items()})
    return ratings.assign(score=ratings["score"] / span.astype("float64"))


def _scale_use(inp: ReportInputs, dims: list[str], ev: dict, th: dict) -> Section:
    s = Section("scale_use", SECTION_TITLES["scale_use"])
    rubric = inp.rubric
    view = scale_view(rubric, dims)
    levels = view.levels
    lv = view.labels
    coded = inp.ratings.assign(level=view.codes(inp.ratings))
    dist = desc.score_distribution(coded, dims, levels, level_col="level")
    per_rater = desc.rater_score_distribution(coded, levels, level_col="level")
    if view.binned:  # columns named by the bins' labels ("0-9" ...), not by codes
        ren = {str(int(c)): lab for c, lab in zip(levels, lv, strict=True)}
        dist, per_rater = dist.rename(columns=ren), per_rater.rename(columns=ren)
    few = view.few_dims
    # level-by-level analyses (confusions, unused levels) only on few-level scales
    rare = pd.concat(
        [
            desc.rare_levels(
                desc.score_distribution(
                    inp.ratings, group, np.asarray(rubric.scale_for(group[0]).values)
                ),
                th["rare_level_share"],
            )
            for group in _by_scale(rubric, few)
        ]
        or [pd.DataFrame(columns=["dimension", "level", "share"])],
        ignore_index=True,
    )
    pairs = desc.disagreement_pairs(inp.ratings)
    few_pairs = pairs[pairs["dimension"].isin(few)]
    conf = desc.top_confusions(few_pairs)
    conf_all = desc.confusion_table(few_pairs)
    # dimension-specific disagreement compares dimensions: on different scales, in scale widths
    excess = desc.excess_disagreement(
        pairs
        if rubric.uniform_scale
        else desc.disagreement_pairs(_unit_scores(inp.ratings, rubric))
    )
    corr = desc.dimension_correlations(inp.ratings, dims)
    correlated = desc.correlated_pairs(
        corr, th["redundancy_rho"], desc.dimension_pair_counts(inp.ratings, dims)
    )
    if not pairs.empty:
        g = pairs.assign(dis=pairs["low"] != pairs["high"], gap=pairs["high"] - pairs["low"])
        rate = g.groupby("dimension")[["dis", "gap"]].mean()
    else:
        rate = pd.DataFrame(columns=["dis", "gap"], dtype=float)
    ev.update(
        pairs=pairs,
        confusions=conf_all,
        rare_levels=rare,
        correlated=correlated,
        excess=excess,
        anchor_points={
            d: [lv.score for lv in rubric.dimension(d).anchors] for d in dims if d not in few
        },
    )
    excess_t = excess.merge(
        rate.rename(columns={"dis": "disagreement_rate", "gap": "mean_abs_difference"})
        .rename_axis("dimension")
        .reset_index(),
        on="dimension",
        how="left",
    )
    s.tables.update(
        distribution=dist,
        distribution_by_rater=per_rater,
        rare_levels=rare,
        top_confusions=conf,
        confusions=conf_all,
        correlations=corr.reset_index(),
        redundant_pairs=correlated,
        disagreement=excess_t,
    )
    names = view.names
    what = "scale level" if not view.binned else f"score bin ({view.note})"
    s.figures.append(
        plots.stacked_levels(
            dist,
            label="dimension",
            levels=lv,
            level_names=names,
            key="scale_distribution",
            title="Score distribution per dimension (human ratings"
            + (f", {view.note})" if view.binned else ")"),
            alt=f"Stacked bars of the share of human ratings at each {what} for each dimension; "
            + "; ".join(
                f"{r['dimension']}: " + ", ".join(f"{c}={_pct(r[c])}" for c in lv)
                for _, r in dist.iterrows()
            ),
        )
    )
    if len(per_rater):
        h = desc.human_ratings(coded, ("level",))
        pooled = (
            pd.crosstab(h["rater_id"], h["level"], normalize="index")
            .reindex(columns=levels, fill_value=0.0)
            .astype("float64")
        )
        pooled.columns = lv
        ends = view.is_end(h).groupby(h["rater_id"]).mean().sort_values(ascending=False)
        shown = [f"{rid} {100 * share:.0f}%" for rid, share in ends.head(MAX_LISTED).items()]
        more = (
            f"; {len(ends) - MAX_LISTED} more raters in the table distribution_by_rater"
            if len(ends) > MAX_LISTED
            else ""
        )
        s.figures.append(
            plots.stacked_levels(
                pooled.rename_axis("rater_id").reset_index(),
                label="rater_id",
                levels=lv,
                level_names=names,
                key="scale_by_rater",
                title="Score distribution per rater (all dimensions"
                + (f", {view.note})" if view.binned else ")"),
                alt=f"Stacked bars of the share of each rater's ratings at each {what}; "
                f"share at the ends of the scale ({view.ends}), highest first: "
                + "; ".join(shown)
                + more,
            )
        )
    if not few_pairs.empty:
        d = few_pairs[few_pairs["low"] != few_pairs["high"]]
        lab = d["low"].astype(int).astype(str) + " vs " + d["high"].astype(int).astype(str)
        m = (
            pd.crosstab(d["dimension"], lab, normalize="index")
            .reindex(index=[x for x in dims if x in few])
            .fillna(0)
            * 100
        )
        s.tables["confusion_shares"] = m.rename_axis(index="dimension", columns=None).reset_index()
        s.figures.append(
            plots.heatmap(
                m,
                key="disagreement_matrix",
                title="Which levels raters confuse (share of each dimension's disagreements)",
                alt=(
                    "Heatmap: for each dimension, the percentage of disagreeing rater pairs by the two levels given; "
                    + "; ".join(
                        f"{r.dimension}: {int(r.low)} vs {int(r.high)} is {r.share_within:.0%}"
                        for r in conf.itertuples()
                    )
                ),
                xlabel="Levels given by the two raters",
                ylabel="Rubric dimension",
                fmt="{:.0f}",
                vmin=0,
                vmax=100,
                cbar_label="% of disagreements",
            )
        )
    if corr.shape[0] > 1:
        s.figures.append(
            plots.heatmap(
                corr,
                key="dimension_correlations",
                title="Correlation between dimensions (per-transcript consensus)",
                alt="Heatmap of Spearman correlations between dimensions' consensus scores; highest pairs: "
                + "; ".join(
                    f"{r.dimension_a}-{r.dimension_b} {r.rho:.2f}"
                    for r in desc.correlated_pairs(corr, -1).head(3).itertuples()
                ),
                xlabel="Rubric dimension",
                ylabel="Rubric dimension",
                fmt="{:.2f}",
                vmin=-1,
                vmax=1,
                cmap="PuOr",
                cbar_label="Spearman rho",
            )
        )
    wide = [x for x in dims if x not in few and x in rate.index]
    if wide:  # wide/continuous dimensions: how far apart two raters' scores are
        gaps = rate.loc[wide, "gap"].sort_values(ascending=False)
        top_dim = gaps.index[0]
        sc = rubric.scale_for(top_dim)
        wide_text = (
            f"two raters' scores for the same transcript differ by {gaps.iloc[0]:.3g} points "
            f"on average on {top_dim} (on its {sc.min:g}-{sc.max:g} scale)"
            + (f", {gaps.iloc[-1]:.3g} on {gaps.index[-1]}" if len(gaps) > 1 else "")
        )
    if not conf.empty:
        top = conf.iloc[0]
        s.takeaway = (
            f"{int(top['low'])} vs {int(top['high'])} on {top['dimension']} accounts for "
            f"{top['share_within']:.0%} of that dimension's disagreements "
            f"({top['share_all']:.0%} of all); {len(rare)} level(s) almost unused; "
            f"{len(correlated)} redundant dimension pair(s)" + (f"; {wide_text}." if wide else ".")
        )
    elif wide:
        s.takeaway = (
            wide_text[0].upper()
            + wide_text[1:]
            + f"; {len(correlated)} redundant dimension pair(s)."
        )
    else:
        s.takeaway = "No two human raters scored the same transcript and dimension, so no disagreement analysis."
    s.facts.update(
        top_confusions=[{k: _num(v) for k, v in r.items()} for r in conf.to_dict("records")],
        rare_levels=[
            {"dimension": r.dimension, "level": int(r.level), "share": _num(r.share)}
            for r in rare.itertuples()
        ],
        redundant_pairs=[
            {"dimension_a": r.dimension_a, "dimension_b": r.dimension_b, "rho": _num(r.rho)}
            for r in correlated.itertuples()
        ],
        disagreement={
            r.dimension: {
                "rate": _num(r.disagreement_rate),
                "mean_abs_difference": _num(r.mean_abs_difference),
                "excess_ratio": _num(r.ratio),
            }
            for r in excess_t.itertuples()
        },
        scale={
            "binned": view.binned,
            "bins": lv if view.binned else [],
            "level_by_level_dimensions": few,
        },
    )
    if not few:
        s.notes.append(
            "Level-by-level analyses (which levels raters confuse, unused levels) are shown only "
            f"for scales of at most {FEW_LEVELS} levels; this rubric's scale is "
            f"{rubric.scale.describe() if rubric.uniform_scale else 'different per dimension'}, "
            "so scores are grouped " + (view.note or "in bins") + "."
        )
    elif len(few) < len(dims):
        s.notes.append(
            "Level-by-level analyses cover the dimensions on scales of at most "
            f"{FEW_LEVELS} levels: " + ", ".join(few) + "."
        )
    s.show += [
        *([("Most-confused level pair per dimension", "top_confusions", 20)] if few else []),
        (
            "Disagreement per dimension: share of rater pairs that differ, their mean absolute "
            "difference (score points), and dimension-specific disagreement (rater-pair offsets "
            "removed) relative to the other dimensions",
            "disagreement",
            20,
        ),
        *([("Levels almost never used", "rare_levels", 40)] if few else []),
        ("Dimension pairs that may measure one thing", "redundant_pairs", 20),
    ]
    return s
