"""Assemble a :class:`ReportResults` from a store: call the analyses, collect tables and figures.

The order of work is the order of the report: overview, agreement, scale use, rater
effects, reliability planning, automated graders, recommendations. Each section builder
takes the inputs and the analyses already run, and never recomputes an analysis' numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from calib import __version__
from calib.report import _descriptive as desc
from calib.report import plots
from calib.report._analyses import Analysis, call_analysis, find, frame
from calib.report._inputs import ReportInputs
from calib.report._model import ReportResults, Section
from calib.report.recommend import THRESHOLDS, recommend, verdict

__all__ = ["ReportOptions", "build_results", "SECTION_TITLES"]

SECTION_TITLES: dict[str, str] = {
    "overview": "Overview",
    "agreement": "Agreement per dimension",
    "scale_use": "Scale use and anchor ambiguity",
    "rater_effects": "Rater effects",
    "reliability_planning": "Reliability planning",
    "graders": "Automated graders",
    "recommendations": "Recommendations",
}


@dataclass(frozen=True)
class ReportOptions:
    """Resolved options of one report run (written to ``run.json``).

    Attributes
    ----------
    seed : int
        Seed for every bootstrap the analyses run.
    n_boot : int
        Bootstrap resamples for confidence intervals.
    thresholds : dict
        Overrides for :data:`calib.report.recommend.THRESHOLDS`.
    max_raters_dstudy : int
        Largest number of raters in the D-study chart.
    """

    seed: int = 20260101
    n_boot: int = 500
    thresholds: dict[str, float] = field(default_factory=dict)
    max_raters_dstudy: int = 6

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {"seed": self.seed, "n_boot": self.n_boot, "max_raters_dstudy": self.max_raters_dstudy,
                "thresholds": {**THRESHOLDS, **self.thresholds}}


def _pct(x: float) -> str:
    return "n/a" if x is None or not np.isfinite(x) else f"{100 * x:.0f}%"


# ---------------------------------------------------------------------------------------------
# analyses (calls into the stages on the left; adapters normalise their outputs)
# ---------------------------------------------------------------------------------------------

def _human(ratings: pd.DataFrame) -> pd.DataFrame:
    return ratings[ratings["rater_type"].eq("human")]


def _agreement(inp: ReportInputs, opt: ReportOptions, by: str = "dimension") -> Analysis:
    kw = {}
    if by != "dimension":
        if inp.transcripts is None or by not in inp.transcripts.columns:
            return Analysis("not computed", f"the transcripts table has no {by!r} column")
        kw["unit_info"] = inp.transcripts[["transcript_id", by]]
    a = call_analysis("calib.agreement", ("agreement_table",), _human(inp.ratings), by=by,
                      categories=np.asarray(inp.rubric.scale.values), n_boot=opt.n_boot, seed=opt.seed,
                      dimension_order=list(inp.rubric.dimension_ids), **kw)
    if a.ok:
        a.value = _normalise_agreement(frame(a.value))
    return a


_AGREEMENT_COLUMNS = {  # our short name -> column of calib.agreement.agreement_table
    "alpha": ("alpha_ordinal", "alpha"),
    "alpha_low": ("alpha_ordinal_low", "alpha_low"),
    "alpha_high": ("alpha_ordinal_high", "alpha_high"),
}


_AGREEMENT_SHOW = ["dimension", "n_units", "alpha_ordinal", "alpha_ordinal_low", "alpha_ordinal_high", "icc2",
                   "qwk_mean", "exact_agreement", "adjacent_agreement", "band"]


def _normalise_agreement(t: pd.DataFrame | None) -> pd.DataFrame | None:
    if t is None:
        return None
    t = t.reset_index() if "dimension" not in t.columns else t.copy()
    for ours, cands in _AGREEMENT_COLUMNS.items():
        for c in cands:
            if c in t.columns and ours not in t.columns:
                t[ours] = t[c]
    return t


# ---------------------------------------------------------------------------------------------
# sections
# ---------------------------------------------------------------------------------------------

def _overview(inp: ReportInputs, dims: list[str], agreement: Analysis, ev: dict) -> Section:
    s = Section("overview", SECTION_TITLES["overview"])
    counts = desc.overview_counts(inp.ratings, inp.transcripts)
    per_rater, cov = desc.design_coverage(inp.ratings)
    miss = desc.missingness(inp.ratings, dims)
    ev["coverage"] = cov
    s.facts.update(counts=counts, coverage=cov)
    s.tables["coverage"] = per_rater
    s.tables["missingness"] = miss
    if "human" in miss.columns:
        s.facts["missing_human_share"] = {r.dimension: round(float(r.human), 4) for r in miss.itertuples()}
    if agreement.ok and agreement.value is not None and "alpha" in agreement.value.columns:
        a = agreement.value.set_index("dimension").reindex(dims)
        v = pd.DataFrame({"dimension": dims, "alpha": a["alpha"].to_numpy(float)})
        for c in ("alpha_low", "alpha_high"):
            v[c] = a[c].to_numpy(float) if c in a.columns else np.nan
        # the agreement stage's band is the verdict; recompute only if it did not return one
        v["verdict"] = (a["band"].astype(str).to_numpy() if "band" in a.columns else [verdict(x) for x in v["alpha"]])
        s.tables["verdicts"] = v
        s.show.append(("Verdict per dimension (Krippendorff's alpha, ordinal; reliable >= .800, tentative >= .667)",
                       "verdicts", 20))
        tally = v["verdict"].value_counts()
        s.facts["verdicts"] = dict(zip(v["dimension"], v["verdict"]))
        # the verdict as a picture on the first screen: alpha with CI against the .667/.800 bands
        s.figures.append(plots.forest_plot(
            v.assign(flag=v["verdict"].eq("unreliable")), label="dimension", estimate="alpha", low="alpha_low",
            high="alpha_high", highlight="flag", key="overview_verdicts",
            xlabel="Krippendorff's alpha (ordinal), 95% CI; zones: unreliable < .667 <= tentative < .800 <= reliable",
            title="Verdict per dimension: is each rubric dimension scored reliably?",
            alt="Traffic-light chart of ordinal Krippendorff's alpha per dimension with 95% CIs over red, amber "
                "and green zones; " + "; ".join(f"{r.dimension} {r.alpha:.2f} {r.verdict}" for r in v.itertuples()
                                               if np.isfinite(r.alpha)),
            bands=(THRESHOLDS["alpha_tentative"], THRESHOLDS["alpha_reliable"])))
        lo = v.loc[v["alpha"].idxmin()] if v["alpha"].notna().any() else None
        s.takeaway = (f"{counts['rated_transcripts']} transcripts, {counts['raters'].get('human', 0)} human raters: "
                      f"{tally.get('reliable', 0)} of {len(dims)} dimensions reliable, {tally.get('tentative', 0)} "
                      f"tentative, {tally.get('unreliable', 0)} unreliable"
                      + (f" (lowest: {lo['dimension']}, alpha {lo['alpha']:.2f})." if lo is not None else "."))
    else:
        s.facts["verdicts"] = {d: "not computed" for d in dims}
        s.not_computed("verdict per dimension", agreement.reason or "agreement table has no alpha column")
        s.takeaway = (f"{counts['rated_transcripts']} transcripts rated by {counts['raters'].get('human', 0)} human "
                      f"raters; reliability verdicts are not computed.")
    conn = "connected" if cov.get("connected") else f"NOT connected ({cov.get('components')} components)"
    s.notes.append(f"Rating design is {conn}; raters per transcript: "
                   f"{cov.get('raters_per_transcript', {})}.")
    s.show += [("Human raters: transcripts rated and design component", "coverage", 30),
               ("Share of expected ratings missing, by rater type", "missingness", 20)]
    return s


def _agreement_section(inp: ReportInputs, dims: list[str], agreement: Analysis, by_qtype: Analysis) -> Section:
    s = Section("agreement", SECTION_TITLES["agreement"])
    if not agreement.ok or agreement.value is None:
        s.not_computed("agreement per dimension", agreement.reason)
        s.takeaway = "Agreement statistics are not available for this report."
        return s
    t = agreement.value
    s.tables["by_dimension"] = t.reset_index(drop=True)
    s.show.append(("Agreement per dimension: Krippendorff's alpha (ordinal), ICC(2,1), mean pairwise quadratic-weighted "
                   "kappa, exact and adjacent agreement; 95% bootstrap CIs in the table files", "by_dimension", 20,
                   _AGREEMENT_SHOW))
    s.notes += [f"Analysis warning: {w}" for w in agreement.warnings]
    cols = [c for c in t.columns if c != "dimension" and pd.api.types.is_numeric_dtype(t[c])]
    s.facts["by_dimension"] = {str(r["dimension"]): {c: _num(r[c]) for c in cols} for _, r in t.iterrows()}
    if "alpha" in t.columns:
        worst = t.loc[t["alpha"].idxmin()] if t["alpha"].notna().any() else None
        best = t.loc[t["alpha"].idxmax()] if t["alpha"].notna().any() else None
        if worst is not None:
            s.takeaway = (f"Alpha ranges from {worst['alpha']:.2f} ({worst['dimension']}) to "
                          f"{best['alpha']:.2f} ({best['dimension']}).")
        fd = t.assign(low=t.get("alpha_low", np.nan), high=t.get("alpha_high", np.nan),
                      flag=t["alpha"] < THRESHOLDS["alpha_tentative"])
        s.figures.append(plots.forest_plot(
            fd, label="dimension", estimate="alpha", low="low", high="high", highlight="flag",
            xlabel="Krippendorff's alpha (ordinal), 95% CI", key="agreement_alpha_forest",
            title="Krippendorff's alpha per dimension",
            alt=("Forest plot of ordinal Krippendorff's alpha with 95% confidence intervals for each rubric "
                 "dimension, with reference lines at .667 and .800; " + "; ".join(
                     f"{r.dimension} {r.alpha:.2f}" for r in fd.itertuples() if np.isfinite(r.alpha))),
            bands=(THRESHOLDS["alpha_tentative"], THRESHOLDS["alpha_reliable"])))
    if by_qtype.ok and by_qtype.value is not None:
        q = by_qtype.value
        s.tables["by_question_type"] = q
        if {"question_type", "alpha"} <= set(q.columns) and q["question_type"].nunique() > 1:
            qd = q.assign(label=q["dimension"].astype(str) + " · " + q["question_type"].astype(str),
                          low=q.get("alpha_low", np.nan), high=q.get("alpha_high", np.nan),
                          flag=q["alpha"] < THRESHOLDS["alpha_tentative"])
            s.figures.append(plots.forest_plot(
                qd, label="label", estimate="alpha", low="low", high="high", highlight="flag",
                xlabel="Krippendorff's alpha (ordinal), 95% CI", key="agreement_alpha_by_question_type",
                title="Krippendorff's alpha per dimension and question type",
                alt="Forest plot of ordinal Krippendorff's alpha with 95% CIs for each dimension within each question "
                    "type; " + "; ".join(f"{r.label} {r.alpha:.2f}" for r in qd.itertuples() if np.isfinite(r.alpha)),
                bands=(THRESHOLDS["alpha_tentative"], THRESHOLDS["alpha_reliable"])))
        s.show.append(("Agreement by question type", "by_question_type", 40, ["question_type"] + _AGREEMENT_SHOW))
    elif by_qtype.reason:
        s.not_computed("agreement by question type", by_qtype.reason)
    return s


def _num(x: Any) -> Any:
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    try:
        f = float(x)
    except (TypeError, ValueError):
        return str(x)
    return None if not np.isfinite(f) else round(f, 6)


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
    correlated = desc.correlated_pairs(corr, th["redundancy_rho"])
    rate = (pairs.assign(dis=pairs["low"] != pairs["high"]).groupby("dimension")["dis"].mean()
            if not pairs.empty else pd.Series(dtype=float))
    ev.update(pairs=pairs, confusions=conf_all, rare_levels=rare, correlated=correlated, excess=excess)
    excess_t = excess.merge(rate.rename("disagreement_rate").rename_axis("dimension").reset_index(),
                            on="dimension", how="left")
    s.tables.update(distribution=dist, distribution_by_rater=per_rater, rare_levels=rare, top_confusions=conf,
                    confusions=conf_all, correlations=corr.reset_index(), redundant_pairs=correlated,
                    disagreement=excess_t)
    names = {str(k): str(v) for k, v in rubric.scale.labels.items()}
    lv = [str(int(x)) for x in levels]
    s.figures.append(plots.stacked_levels(
        dist, label="dimension", levels=lv, level_names=names, key="scale_distribution",
        title="Score distribution per dimension (human ratings)",
        alt="Stacked bars of the share of human ratings at each scale level for each dimension; " + "; ".join(
            f"{r['dimension']}: " + ", ".join(f"{c}={_pct(r[c])}" for c in lv) for _, r in dist.iterrows())))
    if len(per_rater):
        pooled = (desc.human_ratings(inp.ratings).pipe(lambda h: pd.crosstab(h["rater_id"], h["score"], normalize="index"))
                  .reindex(columns=levels, fill_value=0.0))
        pooled.columns = lv
        s.figures.append(plots.stacked_levels(
            pooled.rename_axis("rater_id").reset_index(), label="rater_id", levels=lv, level_names=names,
            key="scale_by_rater", title="Score distribution per rater (all dimensions)",
            alt="Stacked bars of the share of each rater's ratings at each level; extreme levels (1 and 4): " + "; ".join(
                f"{rid} {100 * (row[lv[0]] + row[lv[-1]]):.0f}%" for rid, row in pooled.iterrows())))
    if not pairs.empty:
        d = pairs[pairs["low"] != pairs["high"]]
        lab = d["low"].astype(int).astype(str) + " vs " + d["high"].astype(int).astype(str)
        m = pd.crosstab(d["dimension"], lab, normalize="index").reindex(index=dims).fillna(0) * 100
        s.tables["confusion_shares"] = m.rename_axis(index="dimension", columns=None).reset_index()
        s.figures.append(plots.heatmap(
            m, key="disagreement_matrix", title="Which levels raters confuse (share of each dimension's disagreements)",
            alt=("Heatmap: for each dimension, the percentage of disagreeing rater pairs by the two levels given; "
                 + "; ".join(f"{r.dimension}: {int(r.low)} vs {int(r.high)} is {r.share_within:.0%}"
                             for r in conf.itertuples())),
            xlabel="Levels given by the two raters", ylabel="Dimension", fmt="{:.0f}", vmin=0, vmax=100,
            cbar_label="% of disagreements"))
    if corr.shape[0] > 1:
        s.figures.append(plots.heatmap(
            corr, key="dimension_correlations", title="Correlation between dimensions (per-transcript consensus)",
            alt="Heatmap of Spearman correlations between dimensions' consensus scores; highest pairs: " + "; ".join(
                f"{r.dimension_a}-{r.dimension_b} {r.rho:.2f}" for r in desc.correlated_pairs(corr, -1).head(3).itertuples()),
            xlabel="Dimension", ylabel="Dimension", fmt="{:.2f}", vmin=-1, vmax=1, cmap="PuOr",
            cbar_label="Spearman rho"))
    if not conf.empty:
        top = conf.iloc[0]
        s.takeaway = (f"{int(top['low'])} vs {int(top['high'])} on {top['dimension']} accounts for "
                      f"{top['share_within']:.0%} of that dimension's disagreements "
                      f"({top['share_all']:.0%} of all); {len(rare)} level(s) almost unused; "
                      f"{len(correlated)} redundant dimension pair(s).")
    else:
        s.takeaway = "No two human raters scored the same transcript and dimension, so no disagreement analysis."
    s.facts.update(
        top_confusions=[{k: _num(v) for k, v in r.items()} for r in conf.to_dict("records")],
        rare_levels=[{"dimension": r.dimension, "level": int(r.level), "share": _num(r.share)} for r in rare.itertuples()],
        redundant_pairs=[{"dimension_a": r.dimension_a, "dimension_b": r.dimension_b, "rho": _num(r.rho)}
                         for r in correlated.itertuples()],
        disagreement={r.dimension: {"rate": _num(r.disagreement_rate), "excess_ratio": _num(r.ratio)}
                      for r in excess_t.itertuples()})
    s.show += [("Most-confused level pair per dimension", "top_confusions", 20),
               ("Disagreement per dimension: share of rater pairs that differ, and dimension-specific "
                "disagreement (rater-pair offsets removed) relative to the other dimensions", "disagreement", 20),
               ("Levels almost never used", "rare_levels", 40),
               ("Dimension pairs that may measure one thing", "redundant_pairs", 20)]
    return s


def _severity_from_deviations(dev: pd.DataFrame) -> pd.DataFrame:
    """Descriptive fallback in the additive model's layout (positive severity = harsh)."""
    return pd.DataFrame({"rater_id": dev["rater_id"], "dimension": dev["dimension"], "n": dev["n"],
                         "severity": -dev["mean_diff"], "ci_low": -dev["ci_high"], "ci_high": -dev["ci_low"]})


def _rater_effects(inp: ReportInputs, dims: list[str], ev: dict, th: dict, opt: ReportOptions) -> Section:
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
    diag = call_analysis("calib.raters", ("rater_effects",), human, model="additive",
                         transcripts=inp.transcripts, fit=add.value if add.ok else None)
    fl = frame(diag.value) if diag.ok else None
    if fl is not None and {"rater_id", "dimension", "effect", "flagged"} <= set(fl.columns):
        fx = fl[fl["flagged"].astype(bool)].reset_index(drop=True)
        s.tables["diagnostics"] = fl.reset_index(drop=True)
        s.tables["flags"] = fx
        s.facts["flags"] = [{"rater_id": str(r.rater_id), "dimension": str(r.dimension), "effect": str(r.effect),
                             "value": _num(r.value)} for r in fx.itertuples()]
        ev["rater_flags"] = fx.rename(columns={"effect": "flag"})
        sev_keys = fx.loc[fx["effect"].eq("severity") & fx["dimension"].ne("all"), ["rater_id", "dimension"]]
        flag_rule = "flagged by calib.raters.rater_effects"
        s.notes += [f"Rater-effect warning: {w}" for w in diag.warnings]
    else:
        s.not_computed("halo, central tendency, drift and subgroup diagnostics", diag.reason or "unrecognised output")
        fx = pd.DataFrame(columns=["rater_id", "dimension", "effect"])
        sev_keys = per_dim.loc[(per_dim["severity"].abs() >= th["rater_deviation"]) &
                               ((per_dim["ci_low"] > 0) | (per_dim["ci_high"] < 0)), ["rater_id", "dimension"]]
        ev["rater_severity"] = per_dim
        flag_rule = f"|severity| >= {th['rater_deviation']} points and 95% CI excluding 0"
        fx = sev_keys.assign(effect="severity")
    is_flag = pd.MultiIndex.from_frame(per_dim[["rater_id", "dimension"]]).isin(
        pd.MultiIndex.from_frame(sev_keys[["rater_id", "dimension"]]))
    order = (per_dim.assign(flagged=is_flag, _a=per_dim["severity"].abs())
             .sort_values(["flagged", "_a", "rater_id", "dimension"], ascending=[False, False, True, True],
                          kind="stable").drop(columns=["_a"]).reset_index(drop=True))
    s.tables["severity"] = order
    if len(fx) and "flags" in s.tables:
        s.show.append(("Flagged rater effects (severity, misfit, halo, central tendency, drift, subgroup); every "
                       "diagnostic is in tables/rater_effects__diagnostics", "flags", 25,
                       [c for c in ("rater_id", "dimension", "effect", "value", "threshold", "p_value", "note")
                        if c in fx.columns]))
    s.show.append((f"Rater severity per dimension in score points, flagged first ({flag_rule})", "severity", 16,
                   [c for c in ("rater_id", "dimension", "n", "severity", "ci_low", "ci_high", "flagged")
                    if c in order.columns]))
    flagged_raters = set(fx["rater_id"].astype(str))
    overall = sev[sev["dimension"] == "all"] if (sev["dimension"] == "all").any() else \
        per_dim.groupby("rater_id", as_index=False)[["severity", "ci_low", "ci_high"]].mean()
    ofd = overall.assign(flag=overall["rater_id"].astype(str).isin(flagged_raters)).sort_values(
        ["flag", "severity", "rater_id"], ascending=[False, False, True], kind="stable")
    if len(ofd):
        s.figures.append(plots.forest_plot(
            ofd, label="rater_id", estimate="severity", low="ci_low", high="ci_high", highlight="flag", reference=0.0,
            xlabel="Severity (score points; positive = harsher than the average rater), 95% CI",
            key="rater_severity_forest",
            title="Rater severity/leniency (mean over dimensions); flagged raters first, in vermillion",
            alt="Forest plot of each human rater's severity with 95% confidence intervals, flagged raters first; "
                + "; ".join(f"{r.rater_id} {r.severity:+.2f}{' (flagged)' if r.flag else ''}" for r in ofd.itertuples())))
        gd = order.assign(dimension=pd.Categorical(order["dimension"], categories=dims, ordered=True)).sort_values(
            ["dimension", "rater_id"], kind="stable")
        gd["dimension"] = gd["dimension"].astype(str)
        s.figures.append(plots.forest_grid(
            gd, panel="dimension", label="rater_id", estimate="severity", low="ci_low", high="ci_high",
            highlight="flagged", key="rater_severity_grid",
            xlabel="Severity (score points; positive = harsh), 95% CI; vermillion = flagged",
            title="Severity per rater within each dimension, with 95% CIs",
            alt="Small-multiple forest plots, one per dimension, of each rater's severity with 95% CIs; flagged: "
                + ("; ".join(f"{r.rater_id} on {r.dimension} {r.severity:+.2f}" for r in gd[gd["flagged"]].itertuples())
                   or "none")))
        hm = per_dim.pivot(index="rater_id", columns="dimension", values="severity").reindex(
            columns=[d for d in dims if d in set(per_dim["dimension"])])
        s.figures.append(plots.heatmap(
            hm, key="rater_severity_by_dimension", title="Severity per rater and dimension (score points)",
            alt="Heatmap of rater severity per dimension; largest: " + "; ".join(
                f"{r.rater_id} on {r.dimension} {r.severity:+.2f}" for r in order.head(5).itertuples()),
            xlabel="Dimension", ylabel="Rater", fmt="{:+.2f}", cmap="PuOr_r", vmin=-1, vmax=1,
            cbar_label="severity (points, + = harsh)"))
    if "rated_at" in inp.ratings.columns and inp.ratings["rated_at"].notna().any():
        md = desc.monthly_deviation(inp.ratings)
        drifting = sorted(fx.loc[fx["effect"].astype(str).eq("drift"), "rater_id"].astype(str).unique())
        if md["month"].nunique() > 1:
            s.tables["monthly_deviation"] = md
            s.figures.append(plots.drift_plot(
                md, x="month", y="mean_diff", group="rater_id", highlight=drifting, key="rater_drift",
                title="Drift over time: each rater's monthly mean difference from the other raters",
                alt="Line chart of each human rater's mean score difference from the other raters by month; "
                    + (f"raters flagged for drift: {', '.join(drifting)}" if drifting else "no rater flagged for drift")
                    + "."))
    mfrm = call_analysis("calib.raters", ("fit_mfrm",), human,
                         scale=(int(inp.rubric.scale.min), int(inp.rubric.scale.max)))
    if mfrm.ok:
        mr = mfrm.value.raters
        keep = [c for c in ("rater_id", "measure", "se", "infit", "infit_zstd", "outfit", "outfit_zstd",
                            "observed_average", "fair_average", "count", "n") if c in mr.columns]
        s.tables["mfrm_raters"] = mr[keep].reset_index(drop=True)
        s.show.append(("Many-facet Rasch model: rater measure (logits, + = severe) and fit mean-squares "
                       "(infit/outfit outside 0.5-1.5 = misfit)", "mfrm_raters", 30))
        s.notes += [f"MFRM warning: {w}" for w in mfrm.warnings]
    else:
        s.not_computed("many-facet Rasch fit statistics", mfrm.reason)
    by_rater = fx.groupby("rater_id")["effect"].agg(lambda e: ", ".join(sorted(set(map(str, e))))) if len(fx) else {}
    direction = overall.set_index("rater_id")["severity"]
    words = []
    for r, effects in sorted(dict(by_rater).items()):
        eff = effects.replace("severity", "harsh" if direction.get(r, 0) > 0 else "lenient").replace("_", " ")
        words.append(f"{r} ({eff})")
    s.facts["flagged_raters"] = sorted(flagged_raters)
    s.takeaway = (f"{len(words)} of {per_dim['rater_id'].nunique()} raters flagged: " + "; ".join(words) + "."
                  if words else "No rater effect is flagged.")
    return s


def _planning(inp: ReportInputs, dims: list[str], ev: dict, th: dict, opt: ReportOptions) -> Section:
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
        comps.append(g.value.components.drop(columns=["indices"], errors="ignore").assign(dimension=d))
        ds = g.value.d_study({"rater_id": list(range(1, opt.max_raters_dstudy + 1))})
        curves.append(ds.assign(dimension=d))
        need = g.value.n_needed("rater_id", target=th["target_reliability"], coefficient="Phi", max_n=50)
        cur = float(sub.groupby("transcript_id")["rater_id"].nunique().median()) if len(sub) else np.nan
        needed.append({"dimension": d, "raters_needed": np.nan if need is None else float(need),
                       "current_raters": cur})
    if reasons:
        s.not_computed("G-study for some dimensions", "; ".join(reasons)[:400])
    if not comps:
        s.takeaway = "Reliability planning is not available for this report."
        return s
    comp = pd.concat(comps, ignore_index=True)
    curve = pd.concat(curves, ignore_index=True)
    need = pd.DataFrame(needed)
    ev["raters_needed"] = need
    s.tables.update(variance_components=comp[["dimension"] + [c for c in comp.columns if c != "dimension"]],
                    d_study=curve[["dimension"] + [c for c in curve.columns if c != "dimension"]],
                    raters_needed=need)
    s.figures.append(plots.dstudy_plot(
        curve, x="n_rater_id", y="Phi", group="dimension", key="d_study", target=th["target_reliability"],
        title="D-study: expected reliability (Phi) vs number of raters per transcript",
        ylabel="Expected reliability (Phi, absolute decisions)",
        alt="Line chart of the dependability coefficient Phi against the number of raters for each dimension; "
            + "; ".join(f"{r.dimension} needs {'more than 50' if not np.isfinite(r.raters_needed) else int(r.raters_needed)}"
                        for r in need.itertuples())))
    s.show += [(f"Raters needed for Phi >= {th['target_reliability']:.2f} (current: median raters per transcript)",
                "raters_needed", 20), ("G-study variance components per dimension", "variance_components", 40)]
    s.facts["raters_needed"] = {r.dimension: _num(r.raters_needed) for r in need.itertuples()}
    s.facts["current_raters"] = {r.dimension: _num(r.current_raters) for r in need.itertuples()}
    worst = need.sort_values("raters_needed", ascending=False, kind="stable").iloc[0]
    s.takeaway = (f"Raters needed for reliability {th['target_reliability']:.2f}: from "
                  f"{need['raters_needed'].min():.0f} to {worst['raters_needed']:.0f} ({worst['dimension']}); "
                  f"transcripts currently get {need['current_raters'].median():.0f}.")
    return s


def _graders(inp: ReportInputs, dims: list[str], ev: dict, th: dict, lengths: pd.DataFrame | None,
             opt: ReportOptions) -> Section:
    s = Section("graders", SECTION_TITLES["graders"])
    machine = inp.ratings[inp.ratings["rater_type"].ne("human")]
    if machine.empty:
        s.not_computed("grader comparison", "the store has no rule or LLM grader ratings (run 'calib grade')")
        s.takeaway = "No automated grader has scored these transcripts."
        return s
    graders = sorted(machine["rater_id"].astype(str).unique())
    s.facts["graders"] = graders
    s.facts["unscored_share"] = {g: _num(machine.loc[machine["rater_id"] == g, "score"].isna().mean()) for g in graders}
    decisions, lbias = [], []
    for g in graders:  # one validation per grader (a handful), each vectorised inside
        val = call_analysis("calib.graders.validate", ("validate_grader",), inp.ratings, g, inp.rubric,
                            inp.transcripts, n_boot=opt.n_boot, seed=opt.seed)
        if not val.ok:
            s.not_computed(f"validation of grader {g}", val.reason)
            continue
        decisions.append(val.value.decision.assign(grader=g))
        if len(val.value.length_bias):
            lbias.append(val.value.length_bias.assign(grader=g))
    if decisions:
        dec = pd.concat(decisions, ignore_index=True)
        dec = dec[["grader"] + [c for c in dec.columns if c != "grader"]]
        s.tables["validation"] = dec
        keep = [c for c in ("grader", "dimension", "passed", "wtkappa", "wtkappa_low", "wtkappa_high", "hh_wtkappa",
                            "degradation", "SMD", "length_wtkappa", "unscored_share", "reason") if c in dec.columns]
        s.tables["acceptance"] = dec[keep]
        s.show.append(("Grader vs human consensus per dimension: quadratic-weighted kappa (95% CI) against the "
                       "human-human baseline, with pass/fail on the acceptance criteria (Williamson, Xi & Breyer "
                       "2012)", "acceptance", 40))
        ev["grader_acceptance"] = dec
        if {"wtkappa", "wtkappa_low", "wtkappa_high", "hh_wtkappa"} <= set(dec.columns):
            gd = dec.assign(failed=~dec["passed"].astype(bool))
            s.figures.append(plots.forest_grid(
                gd, panel="grader", label="dimension", estimate="wtkappa", low="wtkappa_low", high="wtkappa_high",
                highlight="failed", marker="hh_wtkappa", marker_label="human-human baseline", reference=None,
                ncols=max(1, min(2, gd["grader"].nunique())), key="grader_vs_humans",
                xlabel="Quadratic-weighted kappa with the human consensus, 95% CI (vermillion = fails acceptance)",
                title="Graders vs the human consensus per dimension, against the human-human baseline",
                alt="Forest plot per grader of quadratic-weighted kappa with the human consensus for each dimension, "
                    "with the human-human kappa as a hollow diamond; " + "; ".join(
                        f"{r.grader} {r.dimension} {r.wtkappa:.2f} vs human {r.hh_wtkappa:.2f}"
                        f"{' (fails)' if r.failed else ''}" for r in gd.itertuples() if np.isfinite(r.wtkappa))))
        passed = dec.groupby("grader")["passed"].agg(["sum", "size"])
        s.facts["passed"] = {g: {"passed": int(r["sum"]), "dimensions": int(r["size"])} for g, r in passed.iterrows()}
        s.facts["acceptance"] = {f"{r.grader}/{r.dimension}": bool(r.passed) for r in dec.itertuples()}
        s.takeaway = "; ".join(f"grader {g} passes {int(r['sum'])} of {int(r['size'])} dimensions"
                               for g, r in passed.iterrows()) + "."
    else:
        s.takeaway = f"{len(graders)} automated grader(s) present; validation not computed."
    if lbias:
        lb = pd.concat(lbias, ignore_index=True)
        s.tables["length_bias"] = lb[["grader"] + [c for c in lb.columns if c != "grader"]]
        s.show.append(("Length bias: grader score change per 100 candidate words, human consensus held fixed",
                       "length_bias", 20))
    cons = desc.consensus_scores(inp.ratings)
    sc = machine.merge(cons, on=["transcript_id", "dimension"], how="inner")
    sc = sc[sc["score"].notna()]
    if len(sc):
        d = (sc["score"] - sc["consensus"]).to_numpy(float)
        s.figures.append(plots.bland_altman(
            ((sc["score"] + sc["consensus"]) / 2).to_numpy(float), d,
            key="grader_bland_altman", title="Bland-Altman: graders vs human consensus (all dimensions)",
            alt=(f"Bland-Altman plot of {len(sc)} grader scores against the human consensus; mean difference "
                 f"{np.mean(d):+.2f} points, limits of agreement {np.mean(d) - 1.96 * np.std(d, ddof=1):+.2f} to "
                 f"{np.mean(d) + 1.96 * np.std(d, ddof=1):+.2f}.")))
        if lengths is not None:
            ln = sc.merge(lengths, on="transcript_id")
            both = pd.concat([ln[["candidate_words", "score", "rater_id"]],
                              ln.drop_duplicates(["transcript_id", "dimension"])[["candidate_words", "consensus"]]
                              .rename(columns={"consensus": "score"}).assign(rater_id="human consensus")])
            s.figures.append(plots.scatter_length(
                both["candidate_words"].to_numpy(float), both["score"].to_numpy(float),
                groups=both["rater_id"].to_numpy(str), key="grader_length",
                title="Score vs transcript length (length bias): graders and human consensus",
                alt="Scatter of grader scores and human consensus scores against candidate word count with a "
                    "least-squares line per group; a steeper grader line than the human line indicates length bias."))
    llm = inp.extra.get("llm_outputs")
    if isinstance(llm, pd.DataFrame) and len(llm):
        scf = find("calib.graders.llm", "self_consistency")
        rows = []
        for g, out in llm.groupby("rater_id", sort=True):
            if scf is not None and "sample" in out.columns and out["sample"].nunique() > 1:
                rows.append(scf(out).assign(grader=g))
        if rows:
            s.tables["self_consistency"] = pd.concat(rows, ignore_index=True)
            s.show.append(("LLM self-consistency across repeated samples", "self_consistency", 20))
        tok = llm.groupby("rater_id")[[c for c in ("prompt_tokens", "completion_tokens") if c in llm.columns]].sum()
        s.tables["tokens"] = tok.reset_index()
        s.show.append(("LLM tokens used", "tokens", 10))
    elif machine["rater_type"].eq("llm").any():
        s.not_computed("LLM self-consistency, tokens and cost", "the store has no llm_outputs table")
    else:
        s.notes.append("No LLM grader in this store: self-consistency, tokens and cost do not apply.")
    return s


def _recommendations(recs: list, th: dict) -> Section:
    s = Section("recommendations", SECTION_TITLES["recommendations"])
    s.tables["recommendations"] = pd.DataFrame(
        [{"rank": i + 1, "priority": r.priority, "rule": r.rule, "dimension": r.dimension, "action": r.title,
          "transcripts": ", ".join(r.transcripts)} for i, r in enumerate(recs)],
        columns=["rank", "priority", "rule", "dimension", "action", "transcripts"])
    s.takeaway = (f"{len(recs)} recommendation(s); first: {recs[0].title}." if recs else
                  "No rule fired: no rubric change is indicated by this data.")
    return s


def _headline(sections: list[Section], recs: list) -> list[str]:
    """Three findings: the reliability verdict, then the top recommendations of distinct rules."""
    lines = [sections[0].takeaway]
    seen: set[str] = set()
    for r in recs:
        if r.rule not in seen:
            lines.append(r.title + ".")
            seen.add(r.rule)
        if len(lines) == 3:
            break
    for s in sections[1:]:  # fewer than two rules fired: fill with section takeaways
        if len(lines) == 3:
            break
        if s.takeaway and s.status != "not computed" and s.takeaway not in lines:
            lines.append(s.takeaway)
    return lines


def build_results(inputs: ReportInputs, options: ReportOptions | None = None, *,
                  progress: bool = False) -> ReportResults:
    """Run the analyses on ``inputs`` and assemble every report section.

    Parameters
    ----------
    inputs : ReportInputs
        Ratings, transcripts and rubric (see :func:`calib.report.load_inputs`).
    options : ReportOptions, optional
    progress : bool
        Show a tqdm bar over the analysis steps (stderr).

    Returns
    -------
    ReportResults

    Example
    -------
    >>> from calib.report import load_inputs, build_results  # doctest: +SKIP
    >>> res = build_results(load_inputs("reports/demo/store"))  # doctest: +SKIP
    >>> [s.key for s in res.sections][:2]  # doctest: +SKIP
    ['overview', 'agreement']
    """
    opt = options or ReportOptions()
    th = {**THRESHOLDS, **opt.thresholds}
    dims = list(inputs.rubric.dimension_ids)
    ev: dict[str, Any] = {"n_dimensions": len(dims)}
    lengths = desc.transcript_lengths(inputs.transcripts) if inputs.transcripts is not None else None
    state: dict[str, Analysis] = {}

    def agreement_step() -> None:
        state["agreement"] = _agreement(inputs, opt)
        if state["agreement"].ok and state["agreement"].value is not None:
            ev["agreement"] = state["agreement"].value
        state["by_qtype"] = _agreement(inputs, opt, by="question_type")

    steps = [
        ("agreement", agreement_step),
        ("overview", lambda: _overview(inputs, dims, state["agreement"], ev)),
        ("agreement section", lambda: _agreement_section(inputs, dims, state["agreement"], state["by_qtype"])),
        ("scale use", lambda: _scale_use(inputs, dims, ev, th)),
        ("rater effects", lambda: _rater_effects(inputs, dims, ev, th, opt)),
        ("reliability planning", lambda: _planning(inputs, dims, ev, th, opt)),
        ("graders", lambda: _graders(inputs, dims, ev, th, lengths, opt)),
    ]
    sections = []
    bar = tqdm(steps, desc="report", unit="section", disable=not progress, leave=False)
    for name, fn in bar:  # seven steps; each is vectorised inside
        bar.set_postfix_str(name)
        out = fn()
        if out is not None:
            sections.append(out)
    recs = recommend(ev, th)
    sections.append(_recommendations(recs, th))
    headline = _headline(sections, recs)
    r = inputs.rubric
    meta = {
        "calib_version": __version__,
        "rubric": {"id": r.id, "version": r.version, "title": r.title, "content_hash": r.content_hash},
        "synthetic": inputs.synthetic,
        "dimensions": dims,
        "scale": {"min": int(r.scale.min), "max": int(r.scale.max),
                  "labels": {str(k): v for k, v in r.scale.labels.items()}},
        "options": opt.to_dict(),
    }
    return ReportResults(meta=meta, sections=sections, recommendations=recs, headline=headline)
