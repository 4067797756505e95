"""Report sections: rater effects and reliability planning (G/D-study)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from calib.report import _descriptive as desc
from calib.report import plots
from calib.report._analyses import call_analysis, frame
from calib.report._common import SECTION_TITLES, ReportOptions, _human, _num
from calib.report._inputs import ReportInputs
from calib.report._model import Section
from calib.report._scale import MAX_LISTED, scaled_rater_thresholds


def _some(items: list[str], table: str, noun: str = "raters", sep: str = "; ") -> str:
    """The first MAX_LISTED entries, then how many more and which table lists them all."""
    if len(items) <= MAX_LISTED:
        return sep.join(items)
    return (
        sep.join(items[:MAX_LISTED])
        + f"{sep}{len(items) - MAX_LISTED} more {noun} in the table {table}"
    )


def _severity_from_deviations(dev: pd.DataFrame) -> pd.DataFrame:
    """Descriptive fallback in the additive model's layout (positive severity = harsh)."""
    return pd.DataFrame(
        {
            "rater_id": dev["rater_id"],
            "dimension": dev["dimension"],
            "n": dev["n"],
            "severity": -dev["mean_diff"],
            "ci_low": -dev["ci_high"],
            "ci_high": -dev["ci_low"],
        }
    )


def _rater_effects(
    inp: ReportInputs, dims: list[str], ev: dict, th: dict, opt: ReportOptions
) -> Section:
    s = Section("rater_effects", SECTION_TITLES["rater_effects"])
    human = _human(inp.ratings)
    add = call_analysis("calib.raters", ("fit_additive",), human)
    if add.ok:
        sev = add.value.raters.copy()
        source = "calib.raters.fit_additive (score points, positive = harsh)"
    else:
        s.not_computed("model-based severity per dimension", add.reason)
        sev = _severity_from_deviations(desc.rater_deviations(desc.rater_vs_consensus(inp.ratings)))
        source = "difference from the leave-one-out consensus (descriptive fallback)"
    s.facts["severity_source"] = source
    s.notes.append(f"Severity source: {source}.")
    per_dim = sev[sev["dimension"] != "all"].reset_index(drop=True)

    # Which raters are flagged: calib.raters.rater_effects owns the rules; the report's own
    # threshold (THRESHOLDS["rater_deviation"]) is only a fallback when it is unavailable.
    diag = call_analysis(
        "calib.raters",
        ("rater_effects",),
        human,
        model="additive",
        transcripts=inp.transcripts,
        fit=add.value if add.ok else None,
        # point thresholds were set on a 1-4 scale; keep their share of this scale's width
        thresholds=scaled_rater_thresholds(inp.rubric.scale.span),
    )
    fl = frame(diag.value) if diag.ok else None
    if fl is not None and {"rater_id", "dimension", "effect", "flagged"} <= set(fl.columns):
        fx = fl[fl["flagged"].astype(bool)].reset_index(drop=True)
        s.tables["diagnostics"] = fl.reset_index(drop=True)
        s.tables["flags"] = fx
        s.facts["flags"] = [
            {
                "rater_id": str(r.rater_id),
                "dimension": str(r.dimension),
                "effect": str(r.effect),
                "value": _num(r.value),
            }
            for r in fx.itertuples()
        ]
        ev["rater_flags"] = fx.rename(columns={"effect": "flag"})
        sev_keys = fx.loc[
            fx["effect"].eq("severity") & fx["dimension"].ne("all"), ["rater_id", "dimension"]
        ]
        flag_rule = "flagged by calib.raters.rater_effects"
        s.notes += [f"Rater-effect warning: {w}" for w in diag.warnings]
    else:
        s.not_computed(
            "halo, central tendency, drift and subgroup diagnostics",
            diag.reason or "unrecognised output",
        )
        fx = pd.DataFrame(columns=["rater_id", "dimension", "effect"])
        sev_keys = per_dim.loc[
            (per_dim["severity"].abs() >= th["rater_deviation"])
            & ((per_dim["ci_low"] > 0) | (per_dim["ci_high"] < 0)),
            ["rater_id", "dimension"],
        ]
        ev["rater_severity"] = per_dim
        flag_rule = f"|severity| >= {th['rater_deviation']} points and 95% CI excluding 0"
        fx = sev_keys.assign(effect="severity")
    is_flag = pd.MultiIndex.from_frame(per_dim[["rater_id", "dimension"]]).isin(
        pd.MultiIndex.from_frame(sev_keys[["rater_id", "dimension"]])
    )
    order = (
        per_dim.assign(flagged=is_flag, _a=per_dim["severity"].abs())
        .sort_values(
            ["flagged", "_a", "rater_id", "dimension"],
            ascending=[False, False, True, True],
            kind="stable",
        )
        .drop(columns=["_a"])
        .reset_index(drop=True)
    )
    s.tables["severity"] = order
    if len(fx) and "flags" in s.tables:
        s.show.append(
            (
                "Flagged rater effects (severity, misfit, halo, central tendency, drift, subgroup); every "
                "diagnostic is in tables/rater_effects__diagnostics",
                "flags",
                25,
                [
                    c
                    for c in (
                        "rater_id",
                        "dimension",
                        "effect",
                        "value",
                        "threshold",
                        "p_value",
                        "note",
                    )
                    if c in fx.columns
                ],
            )
        )
    s.show.append(
        (
            f"Rater severity per dimension in score points, flagged first ({flag_rule})",
            "severity",
            16,
            [
                c
                for c in ("rater_id", "dimension", "n", "severity", "ci_low", "ci_high", "flagged")
                if c in order.columns
            ],
        )
    )
    flagged_raters = set(fx["rater_id"].astype(str))
    overall = (
        sev[sev["dimension"] == "all"]
        if (sev["dimension"] == "all").any()
        else per_dim.groupby("rater_id", as_index=False)[["severity", "ci_low", "ci_high"]].mean()
    )
    ofd = overall.assign(flag=overall["rater_id"].astype(str).isin(flagged_raters)).sort_values(
        ["flag", "severity", "rater_id"], ascending=[False, False, True], kind="stable"
    )
    if len(ofd):
        s.figures.append(
            plots.forest_plot(
                ofd,
                label="rater_id",
                estimate="severity",
                low="ci_low",
                high="ci_high",
                highlight="flag",
                reference=0.0,
                xlabel="Severity (score points; positive = harsher than the average rater), 95% CI",
                key="rater_severity_forest",
                title="Rater severity/leniency (mean over dimensions); flagged raters first, in vermillion",
                alt="Forest plot of each human rater's severity with 95% confidence intervals, flagged raters first; "
                + _some(
                    [
                        f"{r.rater_id} {r.severity:+.2f}{' (flagged)' if r.flag else ''}"
                        for r in ofd.itertuples()
                    ],
                    "severity",
                ),
            )
        )
        gd = order.assign(
            dimension=pd.Categorical(order["dimension"], categories=dims, ordered=True)
        ).sort_values(["dimension", "rater_id"], kind="stable")
        gd["dimension"] = gd["dimension"].astype(str)
        s.figures.append(
            plots.forest_grid(
                gd,
                panel="dimension",
                label="rater_id",
                estimate="severity",
                low="ci_low",
                high="ci_high",
                highlight="flagged",
                key="rater_severity_grid",
                xlabel="Severity (score points; positive = harsh), 95% CI; vermillion = flagged",
                title="Severity per rater within each dimension, with 95% CIs",
                alt="Small-multiple forest plots, one per dimension, of each rater's severity with 95% CIs; flagged: "
                + (
                    _some(
                        [
                            f"{r.rater_id} on {r.dimension} {r.severity:+.2f}"
                            for r in gd[gd["flagged"]]
                            .assign(_a=lambda x: x["severity"].abs())
                            .sort_values("_a", ascending=False, kind="stable")
                            .itertuples()
                        ],
                        "severity",
                        noun="flags",
                    )
                    or "none"
                ),
            )
        )
        hm = per_dim.pivot(index="rater_id", columns="dimension", values="severity").reindex(
            columns=[d for d in dims if d in set(per_dim["dimension"])]
        )
        s.figures.append(
            plots.heatmap(
                hm,
                key="rater_severity_by_dimension",
                title="Severity per rater and dimension (score points)",
                alt="Heatmap of rater severity per dimension; largest: "
                + "; ".join(
                    f"{r.rater_id} on {r.dimension} {r.severity:+.2f}"
                    for r in order.head(5).itertuples()
                ),
                xlabel="Rubric dimension",
                ylabel="Human rater",
                fmt="{:+.2f}",
                cmap="PuOr_r",
                vmin=-1,
                vmax=1,
                cbar_label="severity (points, + = harsh)",
            )
        )
    if "rated_at" in inp.ratings.columns and inp.ratings["rated_at"].notna().any():
        md = desc.monthly_deviation(inp.ratings)
        drifting = sorted(
            fx.loc[fx["effect"].astype(str).eq("drift"), "rater_id"].astype(str).unique()
        )
        if md["month"].nunique() > 1:
            s.tables["monthly_deviation"] = md
            s.figures.append(
                plots.drift_plot(
                    md,
                    x="month",
                    y="mean_diff",
                    group="rater_id",
                    highlight=drifting,
                    key="rater_drift",
                    title="Drift over time: each rater's monthly mean difference from the other raters",
                    alt="Line chart of each human rater's mean score difference from the other raters by month; "
                    + (
                        "raters flagged for drift: "
                        + _some(
                            [
                                f"{r} from {g['mean_diff'].iloc[0]:+.2f} to {g['mean_diff'].iloc[-1]:+.2f} points"
                                for r, g in md[md["rater_id"].astype(str).isin(drifting)]
                                .sort_values("month")
                                .groupby("rater_id", sort=True)
                            ],
                            "monthly_deviation",
                        )
                        if drifting
                        else "no rater flagged for drift"
                    )
                    + ".",
                )
            )
    mfrm = call_analysis(
        "calib.raters",
        ("fit_mfrm",),
        human,
        scale=(int(inp.rubric.scale.min), int(inp.rubric.scale.max)),
    )
    if mfrm.ok:
        mr = mfrm.value.raters
        keep = [
            c
            for c in (
                "rater_id",
                "measure",
                "se",
                "infit",
                "infit_zstd",
                "outfit",
                "outfit_zstd",
                "observed_average",
                "fair_average",
                "count",
                "n",
            )
            if c in mr.columns
        ]
        s.tables["mfrm_raters"] = mr[keep].reset_index(drop=True)
        s.show.append(
            (
                "Many-facet Rasch model: rater measure (logits, + = severe) and fit mean-squares "
                "(infit/outfit outside 0.5-1.5 = misfit)",
                "mfrm_raters",
                30,
            )
        )
        s.notes += [f"MFRM warning: {w}" for w in mfrm.warnings]
        # What the fit did (extreme elements set aside, unused levels, disordered thresholds).
        s.notes += [f"MFRM: {n}" for n in getattr(mfrm.value, "notes", [])]
    else:
        s.not_computed("many-facet Rasch fit statistics", mfrm.reason)
    by_rater = (
        fx.groupby("rater_id")["effect"].agg(lambda e: ", ".join(sorted(set(map(str, e)))))
        if len(fx)
        else {}
    )
    direction = overall.set_index("rater_id")["severity"]
    words = []
    for r, effects in sorted(dict(by_rater).items()):
        eff = effects.replace(
            "severity", "harsh" if direction.get(r, 0) > 0 else "lenient"
        ).replace("_", " ")
        words.append(f"{r} ({eff})")
    s.facts["flagged_raters"] = sorted(flagged_raters)
    s.takeaway = (
        f"{len(words)} of {per_dim['rater_id'].nunique()} raters flagged: "
        + _some(words, "flags", sep="; ")
        + "."
        if words
        else "No rater effect is flagged."
    )
    return s


def _planning(
    inp: ReportInputs, dims: list[str], ev: dict, th: dict, opt: ReportOptions
) -> Section:
    s = Section("reliability_planning", SECTION_TITLES["reliability_planning"])
    human = _human(inp.ratings)
    comps, curves, needed = [], [], []
    reasons = []
    for d in dims:  # one G-study per dimension: transcripts x raters (incomplete, REML)
        sub = human[human["dimension"] == d]
        g = call_analysis("calib.raters", ("g_study",), sub, "transcript_id", ["rater_id"])
        if not g.ok:
            reasons.append(f"{d}: {g.reason}")
            continue
        comps.append(
            g.value.components.drop(columns=["indices"], errors="ignore").assign(dimension=d)
        )
        ds = g.value.d_study({"rater_id": list(range(1, opt.max_raters_dstudy + 1))})
        curves.append(ds.assign(dimension=d))
        need = g.value.n_needed(
            "rater_id", target=th["target_reliability"], coefficient="Phi", max_n=50
        )
        cur = (
            float(sub.groupby("transcript_id")["rater_id"].nunique().median())
            if len(sub)
            else np.nan
        )
        needed.append(
            {
                "dimension": d,
                "raters_needed": np.nan if need is None else float(need),
                "current_raters": cur,
            }
        )
    if reasons:
        s.not_computed("G-study for some dimensions", "; ".join(reasons)[:400])
    if not comps:
        s.takeaway = "Reliability planning is not available for this report."
        return s
    comp = pd.concat(comps, ignore_index=True)
    curve = pd.concat(curves, ignore_index=True)
    need = pd.DataFrame(needed)
    ev["raters_needed"] = need
    s.tables.update(
        variance_components=comp[["dimension"] + [c for c in comp.columns if c != "dimension"]],
        d_study=curve[["dimension"] + [c for c in curve.columns if c != "dimension"]],
        raters_needed=need,
    )
    s.figures.append(
        plots.dstudy_plot(
            curve,
            x="n_rater_id",
            y="Phi",
            group="dimension",
            key="d_study",
            target=th["target_reliability"],
            title="D-study: expected reliability (Phi) vs number of raters per transcript",
            ylabel="Expected reliability (Phi, absolute decisions)",
            alt="Line chart of the dependability coefficient Phi against the number of raters for each dimension; "
            + "; ".join(
                f"{r.dimension} needs {'more than 50' if not np.isfinite(r.raters_needed) else int(r.raters_needed)}"
                for r in need.itertuples()
            ),
        )
    )
    s.show += [
        (
            f"Raters needed for Phi >= {th['target_reliability']:.2f} (current: median raters per transcript)",
            "raters_needed",
            20,
        ),
        ("G-study variance components per dimension", "variance_components", 40),
    ]
    s.facts["raters_needed"] = {r.dimension: _num(r.raters_needed) for r in need.itertuples()}
    s.facts["current_raters"] = {r.dimension: _num(r.current_raters) for r in need.itertuples()}
    worst = need.sort_values("raters_needed", ascending=False, kind="stable").iloc[0]
    s.takeaway = (
        f"Raters needed for reliability {th['target_reliability']:.2f}: from "
        f"{need['raters_needed'].min():.0f} to {worst['raters_needed']:.0f} ({worst['dimension']}); "
        f"transcripts currently get {need['current_raters'].median():.0f}."
    )
    return s
