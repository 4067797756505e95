"""Report sections: rater effects and reliability planning (G/D-study)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from calib.raters import (
    DEFAULT_FLAG_MODEL,
    differential_rater_functioning,
    fit_additive,
    fit_mfrm,
    flag_sentence,
    flag_summary,
    rater_effects,
)
from calib.report import _descriptive as desc
from calib.report import plots
from calib.report._analyses import call_analysis, run_analysis
from calib.report._common import SECTION_TITLES, ReportOptions, _human, _num
from calib.report._inputs import ReportInputs
from calib.report._model import Section
from calib.report._scale import MAX_LISTED, list_some, scaled_rater_thresholds


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


#: Human labels for the MFRM rater table shown in the page (the table file keeps raw names).
_MFRM_LABELS = {
    "rater_id": "rater",
    "measure": "severity (logits, + = harsher)",
    "se": "S.E.",
    "infit": "infit MnSq",
    "infit_zstd": "infit ZStd",
    "outfit": "outfit MnSq",
    "outfit_zstd": "outfit ZStd",
    "observed_average": "observed average",
    "fair_average": "fair average",
    "count": "ratings",
    "n": "ratings",
}


def _flags_display(t: pd.DataFrame) -> pd.DataFrame:
    """One row per rater x effect, the dimensions inside the row, human column names."""
    out = pd.DataFrame(
        {
            "rater": t["rater_id"],
            "effect": t["label"],
            "direction": t["direction"],
            "size": [
                f"{v:+.2f} points"
                if e in ("severity", "dimension_bias", "subgroup")
                else f"{v:+.2f} points per 30 days"
                if e == "drift"
                else f"{v:.2f}"
                for e, v in zip(t["effect"], t["size"], strict=True)
            ],
            "where (per dimension)": t["where"],
            "flag rule": t["rule"],
        }
    )
    return out


def _severity_display(t: pd.DataFrame) -> pd.DataFrame:
    """Rater x dimension grid of severities (score points, + = harsher), flagged cells marked."""
    cell = t["severity"].map(lambda v: "–" if pd.isna(v) else f"{v:+.2f}") + np.where(
        t["flagged"], " ⚑", ""
    )
    g = (
        t.assign(cell=cell)
        .pivot(index="rater_id", columns="dimension", values="cell")
        .reindex(columns=[d for d in t.attrs.get("dims", []) if d in set(t["dimension"])] or None)
    )
    g = g.rename_axis(index="rater", columns=None).reset_index()
    if "overall" in t.columns:
        ov = t.drop_duplicates("rater_id").set_index("rater_id")["overall"]
        g.insert(1, "all dimensions", g["rater"].map(ov).map(lambda v: f"{v:+.2f}"))
    return g


def _rater_effects(
    inp: ReportInputs, dims: list[str], ev: dict, th: dict, opt: ReportOptions
) -> Section:
    s = Section("rater_effects", SECTION_TITLES["rater_effects"])
    human = _human(inp.ratings)
    add = run_analysis(fit_additive, human)
    if add.ok:
        sev = add.value.raters.copy()
        source = "additive rater model (calib.raters), score points, positive = harsher"
    else:
        s.not_computed("model-based severity per dimension", add.reason)
        sev = _severity_from_deviations(desc.rater_deviations(desc.rater_vs_consensus(inp.ratings)))
        source = "difference from the other raters' mean (descriptive fallback), positive = harsher"
    s.facts["severity_source"] = source
    s.facts["flag_model"] = DEFAULT_FLAG_MODEL
    per_dim = sev[sev["dimension"] != "all"].reset_index(drop=True)

    # Which raters are flagged: calib.raters owns the rules (the same model and thresholds as
    # 'calib raters', so both name the same raters); the subgroup tests are run once here and
    # handed to rater_effects so their table (CIs, detectable difference) can be shown too.
    drf = None
    if inp.transcripts is not None:
        d = run_analysis(differential_rater_functioning, human, inp.transcripts)
        drf = d.value if d.ok else None
        if not d.ok:
            s.not_computed("subgroup (fairness) check", d.reason)
    diag = run_analysis(
        rater_effects,
        human,
        model=DEFAULT_FLAG_MODEL,
        transcripts=inp.transcripts,
        fit=add.value if add.ok and DEFAULT_FLAG_MODEL == "additive" else None,
        subgroup_tests=drf,
        # point thresholds were set on a 1-4 scale; keep their share of this scale's width
        thresholds=scaled_rater_thresholds(inp.rubric.scale.span),
    )
    fl = diag.value if diag.ok else None
    n_raters = int(per_dim["rater_id"].nunique())
    if fl is not None and {"rater_id", "dimension", "effect", "flagged"} <= set(fl.columns):
        fx = fl[fl["flagged"].astype(bool)].reset_index(drop=True)
        s.tables["diagnostics"] = fl.reset_index(drop=True)
        s.tables["flags"] = fx
        summary = flag_summary(fl, len(dims))
        s.tables["flag_summary"] = summary
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
        s.notes += [f"Rater-effect warning: {w}" for w in diag.warnings]
        if len(summary):
            s.show.append(
                (
                    "Flagged rater effects: one row per rater and effect, every flag shown "
                    "(sizes in score points, positive = harsher; every diagnostic, flagged or "
                    "not, is in the table file rater_effects__diagnostics)",
                    "flag_summary",
                    None,
                    _flags_display,
                )
            )
        takeaway = flag_sentence(summary, n_raters)
    else:
        s.not_computed(
            "halo, central tendency, drift and subgroup diagnostics",
            diag.reason or "unrecognised output",
        )
        sev_keys = per_dim.loc[
            (per_dim["severity"].abs() >= th["rater_deviation"])
            & ((per_dim["ci_low"] > 0) | (per_dim["ci_high"] < 0)),
            ["rater_id", "dimension"],
        ]
        ev["rater_severity"] = per_dim
        fx = sev_keys.assign(effect="severity")
        summary = pd.DataFrame(columns=["rater_id", "effect"])
        flagged = sorted(set(fx["rater_id"].astype(str)))
        takeaway = (
            f"{len(flagged)} of {n_raters} raters flagged for severity: "
            f"{list_some(flagged, where='the severity table')}."
            if flagged
            else "No rater effect is flagged."
        )
    is_flag = pd.MultiIndex.from_frame(per_dim[["rater_id", "dimension"]]).isin(
        pd.MultiIndex.from_frame(sev_keys[["rater_id", "dimension"]])
    )
    overall = (
        sev[sev["dimension"] == "all"]
        if (sev["dimension"] == "all").any()
        else per_dim.groupby("rater_id", as_index=False)[["severity", "ci_low", "ci_high"]].mean()
    )
    order = (
        per_dim.assign(
            flagged=is_flag,
            overall=per_dim["rater_id"].map(overall.set_index("rater_id")["severity"]),
        )
        .sort_values(["rater_id", "dimension"], kind="stable")
        .reset_index(drop=True)
    )
    order.attrs["dims"] = list(dims)
    s.tables["severity"] = order
    s.show.append(
        (
            "Severity per rater and dimension in score points (positive = harsher than the "
            "average rater; ⚑ = flagged for severity on that dimension)",
            "severity",
            None,
            _severity_display,
        )
    )
    # colour means one thing: vermillion = flagged for *severity* (not for any effect)
    sev_raters = set(fx.loc[fx["effect"].astype(str).eq("severity"), "rater_id"].astype(str))
    ofd = overall.assign(flag=overall["rater_id"].astype(str).isin(sev_raters)).sort_values(
        ["severity", "rater_id"], ascending=[False, True], kind="stable"
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
                title="Who scores harsher or more lenient than colleagues? (mean over dimensions; "
                "vermillion = flagged for severity)",
                alt="Forest plot of each human rater's severity in score points (positive = harsher) "
                "with 95% confidence intervals, harshest first; "
                + _some(
                    [
                        f"{r.rater_id} {r.severity:+.2f}{' (flagged for severity)' if r.flag else ''}"
                        for r in ofd.itertuples()
                    ],
                    "severity",
                ),
            )
        )
    if "rated_at" in inp.ratings.columns and inp.ratings["rated_at"].notna().any():
        md = desc.monthly_deviation(inp.ratings)
        # one sign everywhere: severity = minus the difference from the others (+ = harsher)
        md = md.assign(severity=-md["mean_diff"])
        drifting = sorted(
            fx.loc[fx["effect"].astype(str).eq("drift"), "rater_id"].astype(str).unique()
        )
        if md["month"].nunique() > 1:
            s.tables["monthly_deviation"] = md
            s.figures.append(
                plots.drift_plot(
                    md,
                    x="month",
                    y="severity",
                    group="rater_id",
                    highlight=drifting,
                    key="rater_drift",
                    ylabel="Severity (points, + = harsher)",
                    title="Does anyone's severity change over time? Monthly severity per rater "
                    "(score points, positive = harsher than the other raters)",
                    alt="Line chart of each human rater's monthly severity (points below the other "
                    "raters' mean; positive = harsher); "
                    + (
                        "raters flagged for drift: "
                        + _some(
                            [
                                f"{r} from {g['severity'].iloc[0]:+.2f} to {g['severity'].iloc[-1]:+.2f} points"
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
    _fairness(s, drf, summary)
    mfrm = run_analysis(
        fit_mfrm,
        human,
        scale=(int(inp.rubric.scale.min), int(inp.rubric.scale.max)),
    )
    if mfrm.ok:
        mr = mfrm.value.raters
        keep = [c for c in _MFRM_LABELS if c in mr.columns]
        s.tables["mfrm_raters"] = mr[keep].reset_index(drop=True)
        s.show.append(
            (
                "Cross-check on the logit scale (many-facet Rasch model, 'calib raters --model "
                "mfrm'): severity in logits (positive = harsher) and fit mean-squares "
                "(outside 0.5-1.5 = misfit); the flags above come from the additive model",
                "mfrm_raters",
                None,
                lambda t: t.rename(columns=_MFRM_LABELS),
            )
        )
        s.notes += [f"Rasch model note: {w}" for w in mfrm.warnings]
    else:
        s.not_computed("many-facet Rasch fit statistics", mfrm.reason)
    s.facts["flagged_raters"] = sorted(set(fx["rater_id"].astype(str)))
    s.takeaway = takeaway
    return s


def _fairness(s: Section, drf: pd.DataFrame | None, summary: pd.DataFrame) -> None:
    """Subgroup (fairness) check: flags with subgroup and dimension, or what could be detected."""
    if drf is None:
        return
    level_conf = drf.attrs.get("level_confounded_attributes") or {}
    if level_conf:
        s.notes.append(
            "Not tested for subgroup differences (the attribute largely sets the candidates' "
            "score level, eta squared "
            + ", ".join(f"{k} {v:.2f}" for k, v in sorted(level_conf.items()))
            + ", so a rater's treatment of the group cannot be told apart from their use of "
            "the scale): " + ", ".join(sorted(level_conf)) + "."
        )
    if drf.empty:
        s.notes.append(
            "Subgroup (fairness) check: no testable transcript metadata attribute with 2-10 groups."
        )
        s.facts["fairness"] = {
            "tested": 0,
            "level_confounded_attributes": {str(k): _num(v) for k, v in level_conf.items()},
        }
        return
    s.tables["subgroup_tests"] = drf
    hit = drf[drf["flagged"].astype(bool)]
    untested = drf.attrs.get("untested_attributes") or {}
    m = int(drf.attrs.get("family_size") or len(drf))
    alpha = drf.attrs.get("alpha", 0.01)
    det = drf[drf["dimension"] != "all"].groupby("attribute")["detectable"].median()
    s.facts["fairness"] = {
        "tested": m,
        "alpha": alpha,
        "flags": [
            {
                "rater_id": r.rater_id,
                "dimension": r.dimension,
                "attribute": r.attribute,
                "group": r.group,
                "difference": _num(r.difference),
                "ci": [_num(r.ci_low), _num(r.ci_high)],
                "p_holm": _num(r.p_holm),
            }
            for r in hit.itertuples()
        ],
        "detectable_points": {str(a): _num(v) for a, v in det.items()},
        "untested_attributes": {str(k): _num(v) for k, v in untested.items()},
        "level_confounded_attributes": {str(k): _num(v) for k, v in level_conf.items()},
    }
    if len(hit):
        lines = "; ".join(
            f"{r.rater_id} on {r.dimension} for {r.attribute} = {r.group}: "
            f"{r.difference:+.2f} points [{r.ci_low:+.2f}, {r.ci_high:+.2f}] "
            f"({'harsher' if r.difference > 0 else 'more lenient'} than on the rater's other "
            f"candidates; Holm p = {r.p_holm:.2g})"
            for r in hit.itertuples()
        )
        s.notes.insert(0, f"Subgroup (fairness) check, {m} tests: flagged {lines}.")
    else:
        s.notes.insert(
            0,
            f"Subgroup (fairness) check, {m} tests (every rater x dimension x attribute, Holm at "
            f"{alpha}): no subgroup difference found. The smallest difference these data could "
            "detect (80% power) is about "
            + ", ".join(f"{v:.2f} points for {a}" for a, v in det.items())
            + "; smaller biases may exist unseen.",
        )
    if untested:
        s.notes.append(
            "Not tested for subgroup differences (the attribute mostly says when a candidate was "
            "rated, so it is confounded with drift): " + ", ".join(sorted(untested)) + "."
        )


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
        # reliability of the scores as they are used today: the mean of the current raters
        now = np.nan
        if np.isfinite(cur) and cur >= 1:
            dn = g.value.d_study({"rater_id": [max(1, int(round(cur)))]})
            now = float(dn["Phi"].iloc[0]) if "Phi" in dn.columns and len(dn) else np.nan
        needed.append(
            {
                "dimension": d,
                "raters_needed": np.nan if need is None else float(need),
                "current_raters": cur,
                "reliability_now": now,
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
            f"Reliability of today's averaged scores (Phi of the mean of the current number of "
            f"raters) and raters needed for Phi >= {th['target_reliability']:.2f}",
            "raters_needed",
            None,
        ),
        ("G-study variance components per dimension", "variance_components", 40),
    ]
    s.facts["raters_needed"] = {r.dimension: _num(r.raters_needed) for r in need.itertuples()}
    s.facts["current_raters"] = {r.dimension: _num(r.current_raters) for r in need.itertuples()}
    s.facts["reliability_now"] = {r.dimension: _num(r.reliability_now) for r in need.itertuples()}
    worst = need.sort_values("raters_needed", ascending=False, kind="stable").iloc[0]
    s.takeaway = (
        f"Raters needed for reliability {th['target_reliability']:.2f}: from "
        f"{need['raters_needed'].min():.0f} to {worst['raters_needed']:.0f} ({worst['dimension']}); "
        f"transcripts currently get {need['current_raters'].median():.0f}."
    )
    return s
