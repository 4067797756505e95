"""Report sections: overview (counts, design, verdicts) and agreement per dimension."""

from __future__ import annotations

import numpy as np
import pandas as pd

from calib.report import _descriptive as desc
from calib.report import plots
from calib.report._analyses import Analysis
from calib.report._common import SECTION_TITLES, _num, agreement_display
from calib.report._inputs import ReportInputs
from calib.report._model import Section
from calib.report._scale import alpha_word
from calib.report.recommend import THRESHOLDS, fmt_near, verdict

#: Traffic light per verdict (Okabe-Ito bluish green / orange / vermillion: colour-blind safe;
#: the zones behind the points carry the same meaning without colour).
_LIGHT = {
    "reliable": plots.OKABE_ITO[2],
    "tentative": plots.OKABE_ITO[0],
    "unreliable": plots.OKABE_ITO[5],
    "undetermined": "#999999",
}


def _verdict_display(v: pd.DataFrame) -> pd.DataFrame:
    """Dimension, alpha [95% CI] with enough decimals near the cut-offs, verdict, transcripts."""
    return pd.DataFrame(
        {
            "dimension": v["dimension"],
            "alpha [95% CI]": [
                f"{fmt_near(x)} [{fmt_near(lo)}, {fmt_near(hi)}]"
                for x, lo, hi in zip(v["alpha"], v["alpha_low"], v["alpha_high"], strict=True)
            ],
            "verdict": v["verdict"],
            "transcripts with 2+ ratings": v["transcripts"],
        }
    )


def _overview(
    inp: ReportInputs, dims: list[str], agreement: Analysis, ev: dict, th: dict | None = None
) -> Section:
    th = {**THRESHOLDS, **(th or {})}
    s = Section("overview", SECTION_TITLES["overview"])
    counts = desc.overview_counts(inp.ratings, inp.transcripts)
    per_rater, cov = desc.design_coverage(inp.ratings)
    miss = desc.missingness(inp.ratings, dims)
    ev["coverage"] = cov
    s.facts.update(counts=counts, coverage=cov)
    s.tables["coverage"] = per_rater
    s.tables["missingness"] = miss
    if "human" in miss.columns:
        s.facts["missing_human_share"] = {
            r.dimension: round(float(r.human), 4) for r in miss.itertuples()
        }
    if agreement.ok and agreement.value is not None and "alpha" in agreement.value.columns:
        a = agreement.value.set_index("dimension").reindex(dims)
        v = pd.DataFrame({"dimension": dims, "alpha": a["alpha"].to_numpy(float)})
        for c in ("alpha_low", "alpha_high"):
            v[c] = a[c].to_numpy(float) if c in a.columns else np.nan
        v["transcripts"] = a["n_pairable"].to_numpy(float) if "n_pairable" in a.columns else np.nan
        # Krippendorff's band of the estimate, unless the CI or the number of transcripts
        # cannot place it: "undetermined" (recommend.verdict documents the rule)
        v["verdict"] = [
            verdict(x, th, lo, hi, None if not np.isfinite(n) else int(n))
            for x, lo, hi, n in zip(
                v["alpha"], v["alpha_low"], v["alpha_high"], v["transcripts"], strict=True
            )
        ]
        s.tables["verdicts"] = v
        s.show.append(
            (
                f"Verdict per dimension: Krippendorff's alpha ({alpha_word(inp.rubric)}) with its 95% CI; reliable "
                ">= .800, tentative >= .667, unreliable below; undetermined when the CI reaches "
                f"both below .667 and above .800 or fewer than {th['min_transcripts_verdict']} "
                "transcripts have two ratings (values near a cut-off carry extra decimals)",
                "verdicts",
                None,
                _verdict_display,
            )
        )
        tally = v["verdict"].value_counts()
        s.facts["verdicts"] = dict(zip(v["dimension"], v["verdict"]))
        # the verdict as a picture on the first screen: alpha with CI against the .667/.800 bands
        s.figures.append(
            plots.forest_plot(
                v.assign(light=v["verdict"].map(_LIGHT).fillna("#999999")),
                label="dimension",
                estimate="alpha",
                low="alpha_low",
                high="alpha_high",
                color="light",
                key="overview_verdicts",
                xlabel=f"Krippendorff's alpha ({alpha_word(inp.rubric)}), 95% CI; cut-offs .667 and .800; grey = undetermined",
                title="Verdict per dimension: is each rubric dimension scored reliably?",
                alt=f"Traffic-light chart of Krippendorff's alpha ({alpha_word(inp.rubric)}) per dimension with 95% CIs over red, amber "
                "and green zones; "
                + "; ".join(
                    f"{r.dimension} {fmt_near(r.alpha)} {r.verdict}"
                    for r in v.itertuples()
                    if np.isfinite(r.alpha)
                ),
                bands=(THRESHOLDS["alpha_tentative"], THRESHOLDS["alpha_reliable"]),
            )
        )
        lo = v.loc[v["alpha"].idxmin()] if v["alpha"].notna().any() else None
        s.takeaway = (
            f"{counts['rated_transcripts']} transcripts, {counts['raters'].get('human', 0)} human raters: "
            f"{tally.get('reliable', 0)} of {len(dims)} dimensions reliable, {tally.get('tentative', 0)} "
            f"tentative, {tally.get('unreliable', 0)} unreliable"
            + (
                f", {tally.get('undetermined', 0)} undetermined (too little evidence to place)"
                if tally.get("undetermined", 0)
                else ""
            )
            + (
                f" (lowest: {lo['dimension']}, alpha {fmt_near(lo['alpha'])})."
                if lo is not None
                else "."
            )
        )
    else:
        s.facts["verdicts"] = {d: "not computed" for d in dims}
        s.not_computed(
            "verdict per dimension", agreement.reason or "agreement table has no alpha column"
        )
        s.takeaway = (
            f"{counts['rated_transcripts']} transcripts rated by {counts['raters'].get('human', 0)} human "
            f"raters; reliability verdicts are not computed."
        )
    conn = (
        "connected"
        if cov.get("connected")
        else f"NOT connected ({cov.get('components')} components)"
    )
    rpt = cov.get("raters_per_transcript") or {}
    spread = (
        f"{rpt['min']:g} to {rpt['max']:g} human raters per transcript (median {rpt['median']:g})"
        if {"min", "median", "max"} <= set(rpt)
        else "no transcript has a human rating"
    )
    s.notes.append(f"Rating design is {conn}; {spread}.")
    s.show += [
        (
            "Human raters: transcripts rated and design group (raters in different groups never share a transcript)",
            "coverage",
            30,
        ),
        (
            "Share of expected ratings missing, by rater type",
            "missingness",
            None,
            lambda t: t.rename(
                columns={
                    "human": "human raters",
                    "rule": "rule-based graders",
                    "llm": "LLM graders",
                }
            ),
        ),
    ]
    return s


def _agreement_section(
    inp: ReportInputs, dims: list[str], agreement: Analysis, by_qtype: Analysis
) -> Section:
    s = Section("agreement", SECTION_TITLES["agreement"])
    if not agreement.ok or agreement.value is None:
        s.not_computed("agreement per dimension", agreement.reason)
        s.takeaway = "Agreement statistics are not available for this report."
        return s
    t = agreement.value
    s.tables["by_dimension"] = t.reset_index(drop=True)
    s.show.append(
        (
            "Agreement per dimension, estimate [95% bootstrap CI over transcripts]: Krippendorff's alpha "
            f"({alpha_word(inp.rubric)}), ICC (single rating, in the form the design supports: "
            "two-way when every rater scored every transcript, one-way when each transcript has "
            "its own raters, REML variance components otherwise; analytic CI)"
            + (
                ", mean pairwise quadratic-weighted kappa, exact and adjacent agreement"
                if any(sc.few_levels for sc in inp.rubric.scales.values())
                else ""
            ),
            "by_dimension",
            20,
            agreement_display,
        )
    )
    s.notes += [f"Analysis warning: {w}" for w in agreement.warnings]
    cols = [c for c in t.columns if c != "dimension" and pd.api.types.is_numeric_dtype(t[c])]
    s.facts["by_dimension"] = {
        str(r["dimension"]): {c: _num(r[c]) for c in cols} for _, r in t.iterrows()
    }
    if "alpha" in t.columns:
        worst = t.loc[t["alpha"].idxmin()] if t["alpha"].notna().any() else None
        best = t.loc[t["alpha"].idxmax()] if t["alpha"].notna().any() else None
        if worst is not None:
            s.takeaway = (
                f"Alpha ranges from {worst['alpha']:.2f} ({worst['dimension']}) to "
                f"{best['alpha']:.2f} ({best['dimension']})."
            )
        # the alpha-per-dimension chart is the Overview's verdict chart (one chart per question)
        s.notes.append(
            "Alpha per dimension with its 95% CI is charted once, in the Overview's verdict chart."
        )
    if by_qtype.ok and by_qtype.value is not None:
        q = by_qtype.value
        s.tables["by_question_type"] = q
        if {"question_type", "alpha"} <= set(q.columns) and q["question_type"].nunique() > 1:
            qd = q.assign(
                label=q["dimension"].astype(str) + " · " + q["question_type"].astype(str),
                low=q.get("alpha_low", np.nan),
                high=q.get("alpha_high", np.nan),
                flag=q["alpha"] < THRESHOLDS["alpha_tentative"],
            )
            s.figures.append(
                plots.forest_plot(
                    qd,
                    label="label",
                    estimate="alpha",
                    low="low",
                    high="high",
                    highlight="flag",
                    ylabel="Rubric dimension · question type",
                    xlabel=f"Krippendorff's alpha ({alpha_word(inp.rubric)}), 95% CI",
                    key="agreement_alpha_by_question_type",
                    title="Krippendorff's alpha per dimension and question type",
                    alt=f"Forest plot of Krippendorff's alpha ({alpha_word(inp.rubric)}) with 95% CIs for each dimension within each question "
                    "type; "
                    + "; ".join(
                        f"{r.label} {r.alpha:.2f}" for r in qd.itertuples() if np.isfinite(r.alpha)
                    ),
                    bands=(THRESHOLDS["alpha_tentative"], THRESHOLDS["alpha_reliable"]),
                )
            )
        s.show.append(
            (
                "Agreement by question type, estimate [95% bootstrap CI]",
                "by_question_type",
                40,
                agreement_display,
            )
        )
    elif by_qtype.reason:
        s.not_computed("agreement by question type", by_qtype.reason)
    return s
