"""Report section: scale use and anchor ambiguity."""

from __future__ import annotations

import numpy as np
import pandas as pd

from calib.report import _descriptive as desc
from calib.report import plots
from calib.report._common import SECTION_TITLES, _num, _pct
from calib.report._inputs import ReportInputs
from calib.report._model import Section


def _scale_use(inp: ReportInputs, dims: list[str], ev: dict, th: dict) -> Section:
    s = Section("scale_use", SECTION_TITLES["scale_use"])
    rubric = inp.rubric
    levels = np.asarray(rubric.scale.values)
    dist = desc.score_distribution(inp.ratings, dims, levels)
    per_rater = desc.rater_score_distribution(inp.ratings, levels)
    rare = desc.rare_levels(dist, th["rare_level_share"])
    pairs = desc.disagreement_pairs(inp.ratings)
    conf = desc.top_confusions(pairs)
    conf_all = desc.confusion_table(pairs)
    excess = desc.excess_disagreement(pairs)
    corr = desc.dimension_correlations(inp.ratings, dims)
    correlated = desc.correlated_pairs(
        corr, th["redundancy_rho"], desc.dimension_pair_counts(inp.ratings, dims)
    )
    rate = (
        pairs.assign(dis=pairs["low"] != pairs["high"]).groupby("dimension")["dis"].mean()
        if not pairs.empty
        else pd.Series(dtype=float)
    )
    ev.update(
        pairs=pairs, confusions=conf_all, rare_levels=rare, correlated=correlated, excess=excess
    )
    excess_t = excess.merge(
        rate.rename("disagreement_rate").rename_axis("dimension").reset_index(),
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
    names = {str(k): str(v) for k, v in rubric.scale.labels.items()}
    lv = [str(int(x)) for x in levels]
    s.figures.append(
        plots.stacked_levels(
            dist,
            label="dimension",
            levels=lv,
            level_names=names,
            key="scale_distribution",
            title="Score distribution per dimension (human ratings)",
            alt="Stacked bars of the share of human ratings at each scale level for each dimension; "
            + "; ".join(
                f"{r['dimension']}: " + ", ".join(f"{c}={_pct(r[c])}" for c in lv)
                for _, r in dist.iterrows()
            ),
        )
    )
    if len(per_rater):
        pooled = (
            desc.human_ratings(inp.ratings)
            .pipe(lambda h: pd.crosstab(h["rater_id"], h["score"], normalize="index"))
            .reindex(columns=levels, fill_value=0.0)
        )
        pooled.columns = lv
        s.figures.append(
            plots.stacked_levels(
                pooled.rename_axis("rater_id").reset_index(),
                label="rater_id",
                levels=lv,
                level_names=names,
                key="scale_by_rater",
                title="Score distribution per rater (all dimensions)",
                alt="Stacked bars of the share of each rater's ratings at each level; extreme levels (1 and 4): "
                + "; ".join(
                    f"{rid} {100 * (row[lv[0]] + row[lv[-1]]):.0f}%"
                    for rid, row in pooled.iterrows()
                ),
            )
        )
    if not pairs.empty:
        d = pairs[pairs["low"] != pairs["high"]]
        lab = d["low"].astype(int).astype(str) + " vs " + d["high"].astype(int).astype(str)
        m = pd.crosstab(d["dimension"], lab, normalize="index").reindex(index=dims).fillna(0) * 100
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
    if not conf.empty:
        top = conf.iloc[0]
        s.takeaway = (
            f"{int(top['low'])} vs {int(top['high'])} on {top['dimension']} accounts for "
            f"{top['share_within']:.0%} of that dimension's disagreements "
            f"({top['share_all']:.0%} of all); {len(rare)} level(s) almost unused; "
            f"{len(correlated)} redundant dimension pair(s)."
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
            r.dimension: {"rate": _num(r.disagreement_rate), "excess_ratio": _num(r.ratio)}
            for r in excess_t.itertuples()
        },
    )
    s.show += [
        ("Most-confused level pair per dimension", "top_confusions", 20),
        (
            "Disagreement per dimension: share of rater pairs that differ, and dimension-specific "
            "disagreement (rater-pair offsets removed) relative to the other dimensions",
            "disagreement",
            20,
        ),
        ("Levels almost never used", "rare_levels", 40),
        ("Dimension pairs that may measure one thing", "redundant_pairs", 20),
    ]
    return s
