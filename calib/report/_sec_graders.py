"""Report sections: automated graders, and the recommendations list."""

from __future__ import annotations

import numpy as np
import pandas as pd

from calib.report import _descriptive as desc
from calib.report import plots
from calib.report._analyses import call_analysis, find
from calib.report._common import SECTION_TITLES, ReportOptions, _num, _with_ci
from calib.report._inputs import ReportInputs
from calib.report._model import Section


def _graders(
    inp: ReportInputs,
    dims: list[str],
    ev: dict,
    th: dict,
    lengths: pd.DataFrame | None,
    opt: ReportOptions,
) -> Section:
    s = Section("graders", SECTION_TITLES["graders"])
    machine = inp.ratings[inp.ratings["rater_type"].ne("human")]
    if machine.empty and inp.transcripts is None:
        s.not_computed(
            "grader comparison",
            "no transcript text: the store holds ratings only; ingest the transcripts with the "
            "same ids, then run 'calib grade'",
        )
        s.takeaway = "Not computed: no transcript text (a ratings-only store), so no grader ran."
        return s
    if machine.empty:
        s.not_computed(
            "grader comparison", "the store has no rule or LLM grader ratings (run 'calib grade')"
        )
        s.takeaway = "No automated grader has scored these transcripts."
        return s
    graders = sorted(machine["rater_id"].astype(str).unique())
    s.facts["graders"] = graders
    # the length-only baseline (calib.graders.baseline.LengthGrader, ids "length-<hash>") is a
    # yardstick, not a candidate: it is shown beside the graders, never advised for use
    baselines = [g for g in graders if is_baseline(g)]
    s.facts["baselines"] = baselines
    s.facts["unscored_share"] = {
        g: _num(machine.loc[machine["rater_id"] == g, "score"].isna().mean()) for g in graders
    }
    decisions, lbias = [], []
    for g in graders:  # one validation per grader (a handful), each vectorised inside
        val = call_analysis(
            "calib.graders.validate",
            ("validate_grader",),
            inp.ratings,
            g,
            inp.rubric,
            inp.transcripts,
            n_boot=opt.n_boot,
            seed=opt.seed,
        )
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
        keep = [
            c
            for c in (
                "grader",
                "dimension",
                "passed",
                "wtkappa",
                "wtkappa_low",
                "wtkappa_high",
                "hh_wtkappa",
                "degradation",
                "SMD",
                "length_wtkappa",
                "unscored_share",
                "reason",
            )
            if c in dec.columns
        ]
        s.tables["acceptance"] = dec[keep]
        s.show.append(
            (
                "Grader vs human consensus per dimension: quadratic-weighted kappa [95% CI] against the "
                "human-human baseline, with pass/fail on the acceptance criteria (Williamson, Xi & Breyer "
                "2012); every column in tables/graders__acceptance",
                "acceptance",
                40,
                _acceptance_display,
            )
        )
        ev["grader_acceptance"] = dec[~dec["grader"].astype(str).map(is_baseline)]
        if {"wtkappa", "wtkappa_low", "wtkappa_high", "hh_wtkappa"} <= set(dec.columns):
            gd = dec.assign(failed=~dec["passed"].astype(bool))
            s.figures.append(
                plots.forest_grid(
                    gd,
                    panel="grader",
                    label="dimension",
                    estimate="wtkappa",
                    low="wtkappa_low",
                    high="wtkappa_high",
                    highlight="failed",
                    marker="hh_wtkappa",
                    marker_label="human-human baseline",
                    reference=None,
                    ncols=max(1, min(2, gd["grader"].nunique())),
                    key="grader_vs_humans",
                    xlabel="Quadratic-weighted kappa with the human consensus, 95% CI (vermillion = fails acceptance)",
                    title="Graders vs the human consensus per dimension, against the human-human baseline",
                    alt="Forest plot per grader of quadratic-weighted kappa with the human consensus for each dimension, "
                    "with the human-human kappa as a hollow diamond; "
                    + "; ".join(
                        f"{r.grader} {r.dimension} {r.wtkappa:.2f} vs human {r.hh_wtkappa:.2f}"
                        f"{' (fails)' if r.failed else ''}"
                        for r in gd.itertuples()
                        if np.isfinite(r.wtkappa)
                    ),
                )
            )
        passed = dec.groupby("grader")["passed"].agg(["sum", "size"])
        cand = passed[~passed.index.map(is_baseline)]
        s.facts["passed"] = {
            g: {"passed": int(r["sum"]), "dimensions": int(r["size"])} for g, r in passed.iterrows()
        }
        s.facts["acceptance"] = {
            f"{r.grader}/{r.dimension}": bool(r.passed) for r in dec.itertuples()
        }
        s.takeaway = (
            "; ".join(
                f"grader {g} passes {int(r['sum'])} of {int(r['size'])} dimensions"
                for g, r in cand.iterrows()
            )
            or "No candidate grader, only the length-only baseline"
        ) + (
            f" (length-only baseline {', '.join(baselines)} shown for comparison)."
            if baselines
            else "."
        )
    else:
        s.takeaway = f"{len(graders)} automated grader(s) present; validation not computed."
    if lbias:
        lb = pd.concat(lbias, ignore_index=True)
        s.tables["length_bias"] = lb[["grader"] + [c for c in lb.columns if c != "grader"]]
        s.show.append(
            (
                "Length bias: grader score change per 100 candidate words [95% CI], human consensus held "
                "fixed",
                "length_bias",
                20,
                _length_display,
            )
        )
    cons = desc.consensus_scores(inp.ratings)
    sc = machine.merge(cons, on=["transcript_id", "dimension"], how="inner")
    sc = sc[sc["score"].notna()]
    if len(sc):
        # one Bland-Altman plot per grader: pooling graders would mix their biases into one set of limits
        for i, (g, gs) in enumerate(sc.groupby("rater_id", sort=True)):
            d = (gs["score"] - gs["consensus"]).to_numpy(float)
            sd = np.std(d, ddof=1) if len(d) > 1 else np.nan
            s.figures.append(
                plots.bland_altman(
                    ((gs["score"] + gs["consensus"]) / 2).to_numpy(float),
                    d,
                    key="grader_bland_altman" if i == 0 else f"grader_bland_altman_{i + 1}",
                    title=f"Bland-Altman: grader {g} vs the human consensus (all dimensions pooled)",
                    alt=(
                        f"Bland-Altman plot of {len(gs)} scores of grader {g} against the human consensus; mean "
                        f"difference {np.mean(d):+.2f} points, 95% limits of agreement {np.mean(d) - 1.96 * sd:+.2f} to "
                        f"{np.mean(d) + 1.96 * sd:+.2f} points."
                    ),
                )
            )
        if lengths is not None:
            ln = sc.merge(lengths, on="transcript_id")
            both = pd.concat(
                [
                    ln[["candidate_words", "score", "rater_id"]],
                    ln.drop_duplicates(["transcript_id", "dimension"])[
                        ["candidate_words", "consensus"]
                    ]
                    .rename(columns={"consensus": "score"})
                    .assign(rater_id="human consensus"),
                ]
            )
            s.figures.append(
                plots.scatter_length(
                    both["candidate_words"].to_numpy(float),
                    both["score"].to_numpy(float),
                    groups=both["rater_id"].to_numpy(str),
                    key="grader_length",
                    title="Score vs transcript length (length bias): graders and human consensus",
                    alt="Scatter of grader scores and human consensus scores against candidate word count with a "
                    "least-squares line per group (slope in score points per 100 words: "
                    + "; ".join(f"{g} {v:+.2f}" for g, v in _slopes_per_100(both).items())
                    + "); a steeper grader line than the human line indicates length bias.",
                )
            )
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
        tok = llm.groupby("rater_id")[
            [c for c in ("prompt_tokens", "completion_tokens") if c in llm.columns]
        ].sum()
        s.tables["tokens"] = tok.reset_index()
        s.show.append(("LLM tokens used", "tokens", 10))
        if "cost_usd" in llm.columns and llm["cost_usd"].notna().any():
            # min_count=1: a grader whose calls have no known price stays "unknown" (NaN), not 0
            cost = llm.groupby("rater_id")["cost_usd"].sum(min_count=1).reset_index()
            cost["cost_usd"] = cost["cost_usd"].map(
                lambda v: "unknown" if pd.isna(v) else round(float(v), 6)
            )
            s.tables["cost"] = cost
            s.show.append(("LLM cost (USD; 'unknown' where no price was configured)", "cost", 10))
        else:
            s.not_computed(
                "LLM cost",
                "no price table was given to the grader (calib grade --prices FILE); "
                "cost = tokens x your price",
            )
    elif machine["rater_type"].eq("llm").any():
        s.not_computed(
            "LLM self-consistency, tokens and cost", "the store has no llm_outputs table"
        )
    else:
        s.notes.append(
            "No LLM grader in this store: self-consistency, tokens and cost do not apply."
        )
    return s


def is_baseline(grader_id: str) -> bool:
    """True for the length-only baseline grader (``calib.graders.baseline.LengthGrader``)."""
    return str(grader_id).startswith("length-")


def _acceptance_display(t: pd.DataFrame) -> pd.DataFrame:
    """Display view of the acceptance table: kappa with its CI in one cell, the decision and why."""
    out = t[["grader", "dimension"]].copy()
    base = t["grader"].astype(str).map(is_baseline)
    out["grader"] = t["grader"].astype(str) + np.where(base, " (length-only baseline)", "")
    out["fit"] = np.where(
        base, "baseline", t["passed"].astype(bool).map({True: "pass", False: "fail"})
    )
    if {"wtkappa", "wtkappa_low", "wtkappa_high"} <= set(t.columns):
        out["kappa vs consensus"] = _with_ci(t["wtkappa"], t["wtkappa_low"], t["wtkappa_high"])
    for col, name in (
        ("hh_wtkappa", "human-human kappa"),
        ("degradation", "degradation"),
        ("SMD", "SMD"),
    ):
        if col in t.columns:
            out[name] = t[col].astype(float).round(2)
    if "reason" in t.columns:
        out["why it fails"] = t["reason"].fillna("").astype(str)
    return out


def _length_display(t: pd.DataFrame) -> pd.DataFrame:
    """Display view of the length-bias table: slope with its CI and p-value."""
    out = t[["grader", "dimension"]].copy()
    out["points per 100 words"] = _with_ci(t["slope_per_100_words"], t["ci_low"], t["ci_high"])
    out["p"] = t["p_value"].astype(float).round(3)
    return out


def _slopes_per_100(d: pd.DataFrame) -> pd.Series:
    """Least-squares slope of score on candidate words per group, per 100 words (cov / var)."""
    d = d[np.isfinite(d["score"].astype(float))]
    g = d.groupby("rater_id", sort=True)
    x_mean, y_mean = g["candidate_words"].transform("mean"), g["score"].transform("mean")
    dx = d["candidate_words"] - x_mean
    num = (dx * (d["score"] - y_mean)).groupby(d["rater_id"]).sum()
    den = (dx**2).groupby(d["rater_id"]).sum()
    return 100 * num / den.where(den > 0)


def _recommendations(recs: list, th: dict) -> Section:
    s = Section("recommendations", SECTION_TITLES["recommendations"])
    s.tables["recommendations"] = pd.DataFrame(
        [
            {
                "rank": i + 1,
                "priority": r.priority,
                "rule": r.rule,
                "dimension": r.dimension,
                "action": r.title,
                "transcripts": ", ".join(r.transcripts),
            }
            for i, r in enumerate(recs)
        ],
        columns=["rank", "priority", "rule", "dimension", "action", "transcripts"],
    )
    s.takeaway = (
        f"{len(recs)} recommendation(s); first: {recs[0].title}."
        if recs
        else "No rule fired: no rubric change is indicated by this data."
    )
    return s
