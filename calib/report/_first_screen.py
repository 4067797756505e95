"""The report's first screen: one plain answer for each of its three readers.

The rubric designer asks which dimensions or anchors to change, the interview-programme
lead asks whether scores can be trusted and what to change in the process (raters, rater
count), the grader builder asks whether an automated grader is fit and where. Each answer is
assembled from numbers the sections and the recommendation rules already hold; nothing
here computes a statistic.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from calib.report._model import NOT_COMPUTED, Section
from calib.report._scale import list_some
from calib.report.recommend import Recommendation, fmt_near

__all__ = ["first_screen", "RUBRIC_RULES"]

#: Recommendation rules that change the rubric itself (the rubric designer's answer).
RUBRIC_RULES = ("anchor_ambiguity", "redundant_dims", "unused_level")


def _by_key(sections: list[Section]) -> dict[str, Section]:
    return {s.key: s for s in sections}


def _evidence_gap(sec: dict[str, Section], th: dict[str, Any]) -> str | None:
    """The reason no finding is made, when the store is below the minimum of evidence."""
    ov = sec.get("overview")
    cov = (ov.facts.get("coverage") or {}) if ov is not None else {}
    n = cov.get("double_rated_transcripts")
    need = int(th.get("min_transcripts", 30))
    if n is not None and int(n) < need:
        return (
            f"only {int(n)} transcript{'s have' if int(n) != 1 else ' has'} two or more human ratings "
            f"(findings need at least {need})"
        )
    return None


def _rubric_designer(
    recs: list[Recommendation], sec: dict[str, Section], th: dict[str, Any]
) -> str:
    mine = [r for r in recs if r.rule in RUBRIC_RULES]
    scale = sec.get("scale_use")
    if scale is not None and scale.status == NOT_COMPUTED:
        return "Not computed: scale use and anchor ambiguity could not be analysed for this store."
    gap = _evidence_gap(sec, th)
    if gap:
        return f"Undetermined: no rubric advice yet, because {gap}."
    if not mine:
        return (
            "No rubric change indicated: no dimension stands out in disagreement once rater offsets are "
            "removed, no two dimensions are redundant and every level is used."
        )
    k = len(mine) - 1
    more = f"; {k} more rubric change{'s' if k > 1 else ''} under Recommendations" if k else ""
    return f"{mine[0].title}{more} (anchor text and examples under Recommendations)."


def _calibration_session(sec: dict[str, Section]) -> bool:
    return "calibration_session" in sec


def _programme_lead(recs: list[Recommendation], sec: dict[str, Section], th: dict[str, Any]) -> str:
    target = float(th.get("target_reliability", 0.8))
    gap = _evidence_gap(sec, th)
    plan = sec.get("reliability_planning")
    now = (plan.facts.get("reliability_now") or {}) if plan is not None else {}
    cur = (plan.facts.get("current_raters") or {}) if plan is not None else {}
    parts = []
    # 1. can we trust today's scores? (the averaged scores as they are used now)
    vals = {d: v for d, v in now.items() if v is not None}
    if gap:
        parts.append(f"undetermined whether today's scores can be trusted: {gap}")
    elif vals:
        c = [float(v) for v in cur.values() if v is not None]
        k = f"{np.median(c):g}" if c else "the current number of"
        ok = sorted(d for d, v in vals.items() if v >= target)
        low = sorted(((d, v) for d, v in vals.items() if v < target), key=lambda x: x[1])
        head = (
            f"today's scores (the mean of {k} raters) reach reliability {target:.2f} on "
            f"{len(ok)} of {len(vals)} dimensions"
        )
        if low:
            head += " — not on " + ", ".join(f"{d} ({fmt_near(v, (target,))})" for d, v in low)
        parts.append(head)
    else:
        ov = sec.get("overview")
        verdicts = (ov.facts.get("verdicts") or {}) if ov is not None else {}
        vv = list(verdicts.values())
        if vv and set(vv) != {"not computed"}:
            parts.append(
                f"a single rater's scores are reliable on {vv.count('reliable')} of {len(vv)} "
                "dimensions (reliability of averaged scores not computed)"
            )
        else:
            parts.append("reliability is not computed")
    if gap:
        if _calibration_session(sec):
            cs = sec["calibration_session"].facts
            parts.append(
                f"as a calibration session ({cs.get('raters')} raters x {cs.get('transcripts')} "
                f"transcripts) it shows {cs.get('outside', 0)} score(s) more than one level from "
                "the others' mean: see the calibration-session grid"
            )
        text = "; ".join(parts)
        return text[0].upper() + text[1:] + "."
    # 2. what would change it
    need = (plan.facts.get("raters_needed") or {}) if plan is not None else {}
    if need and not _calibration_session(sec):
        n = np.array([np.nan if v is None else float(v) for v in need.values()])
        c = np.array([np.nan if v is None else float(v) for v in cur.values()] or [np.nan])
        lacking = [d for d, v in need.items() if v is None or (cur.get(d) and v > cur[d])]
        if lacking:
            parts.append(
                f"to reach {target:.2f} everywhere: "
                + ", ".join(
                    f"{d} needs {'more than 50' if need[d] is None else int(need[d])} raters"
                    for d in lacking
                )
                + (
                    "; out of reach by adding raters: sharpen those anchors first"
                    if np.isnan(n).any()
                    else ""
                )
            )
        elif np.isfinite(n).all() and np.isfinite(c).any() and n.max() < np.nanmedian(c):
            parts.append(f"{int(n.max())} raters per transcript would already reach {target:.2f}")
    elif _calibration_session(sec):
        cs = sec["calibration_session"]
        out = cs.facts.get("outside", 0)
        parts.append(
            f"this is a calibration session (every rater scored the same transcripts): "
            f"{out} score{'s' if out != 1 else ''} more than one level from the others' mean "
            "(see the calibration-session grid)"
        )
    raters = sorted(
        {
            r
            for rec in recs
            if rec.rule == "rater_calibration"
            for r in rec.evidence.get("raters", [])
        }
    )
    re_sec = sec.get("rater_effects")
    if raters:
        n_r = None
        if re_sec is not None and "severity" in re_sec.tables:
            n_r = re_sec.tables["severity"]["rater_id"].nunique()
        of = f" of {n_r}" if n_r else ""
        parts.append(
            f"{len(raters)}{of} raters need a calibration session "
            f"({list_some(raters, where='the rater effects section')})"
        )
    elif re_sec is not None and re_sec.status != NOT_COMPUTED:
        parts.append("no rater needs a calibration session")
    if (
        sec.get("overview") is not None
        and (sec["overview"].facts.get("coverage") or {}).get("components", 1) > 1
    ):
        parts.append("the rating design is disconnected")
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + "."


def _grader_builder(sec: dict[str, Section]) -> str:
    g = sec.get("graders")
    if g is not None and not g.facts.get("graders") and "no transcript text" in (g.takeaway or ""):
        return (
            "Not computed: no transcript text (the store holds ratings only); ingest the "
            "transcripts with the same ids to grade them."
        )
    if g is None or not g.facts.get("graders"):
        return (
            "No automated grader has scored these transcripts: run 'calib grade' to validate one."
        )
    passed = g.facts.get("passed") or {}
    baselines = set(g.facts.get("baselines") or [])
    candidates = {k: v for k, v in passed.items() if k not in baselines}
    if not candidates:
        return (
            f"{len(g.facts['graders'])} grader(s) present, but no candidate grader's validation "
            "is computed."
        )
    acc = g.tables.get("acceptance")
    lb = g.tables.get("length_bias")
    out = []
    for name, p in sorted(candidates.items()):
        line = f"'{name}' is fit for {p['passed']} of {p['dimensions']} dimensions"
        if acc is not None and {"grader", "dimension", "passed"} <= set(acc.columns):
            a = acc[acc["grader"].astype(str) == name]
            ok = a.loc[a["passed"].astype(bool), "dimension"].astype(str).tolist()
            if ok and len(ok) < len(a):
                line += f" ({', '.join(ok)})"
            if {"wtkappa", "hh_wtkappa"} <= set(a.columns) and len(a):
                gap = float((a["wtkappa"] - a["hh_wtkappa"]).median())
                side = "below" if gap < 0 else "above"
                line += (
                    f"; its median kappa is {abs(gap):.2f} {side} the human–human baseline"
                    if abs(gap) >= 0.005
                    else "; its median kappa equals the human–human baseline"
                )
        if lb is not None and {"grader", "p_value", "slope_per_100_words"} <= set(lb.columns):
            b = lb[
                (lb["grader"].astype(str) == name)
                & (lb["p_value"] < 0.05)
                & (lb["slope_per_100_words"] > 0)
            ]
            if len(b):
                line += f"; length bias on {', '.join(b['dimension'].astype(str))}"
        out.append(line)
    tail = ""
    if baselines & set(passed):
        tail = f" (baseline for comparison: {', '.join(sorted(baselines & set(passed)))})"
    return "Grader " + "; grader ".join(out) + tail + "."


def first_screen(
    sections: list[Section], recs: list[Recommendation], th: dict[str, Any]
) -> list[dict[str, str]]:
    """One answer per reader of the report, in the order rubric designer, programme lead, grader builder.

    Parameters
    ----------
    sections : list of Section
        The built sections of a full report.
    recs : list of Recommendation
        Ranked recommendations.
    th : dict
        Resolved thresholds (``target_reliability`` is used).

    Returns
    -------
    list of dict
        Keys ``audience``, ``question``, ``answer`` and ``section`` (anchor of the section to read next).

    Example
    -------
    >>> [a["audience"] for a in first_screen([], [], {"target_reliability": 0.8})]
    ['Rubric designer', 'Interview-programme lead', 'Grader builder']
    """
    sec = _by_key(sections)
    return [
        {
            "audience": "Rubric designer",
            "question": "Which dimensions or anchors should change?",
            "answer": _rubric_designer(recs, sec, th),
            "section": "scale_use",
        },
        {
            "audience": "Interview-programme lead",
            "question": "Can we trust today's scores, and what would change that?",
            "answer": _programme_lead(recs, sec, th),
            "section": "reliability_planning",
        },
        {
            "audience": "Grader builder",
            "question": "Is an automated grader fit to use, and on which dimensions?",
            "answer": _grader_builder(sec),
            "section": "graders",
        },
    ]
