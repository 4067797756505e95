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
from calib.report.recommend import Recommendation

__all__ = ["first_screen", "RUBRIC_RULES"]

#: Recommendation rules that change the rubric itself (the rubric designer's answer).
RUBRIC_RULES = ("anchor_ambiguity", "redundant_dims", "unused_level")


def _by_key(sections: list[Section]) -> dict[str, Section]:
    return {s.key: s for s in sections}


def _rubric_designer(recs: list[Recommendation], sec: dict[str, Section]) -> str:
    mine = [r for r in recs if r.rule in RUBRIC_RULES]
    scale = sec.get("scale_use")
    if scale is not None and scale.status == NOT_COMPUTED:
        return "Not computed: scale use and anchor ambiguity could not be analysed for this store."
    if not mine:
        return (
            "No rubric change indicated: no dimension stands out in disagreement once rater offsets are "
            "removed, no two dimensions are redundant and every level is used."
        )
    k = len(mine) - 1
    more = f"; {k} more rubric change{'s' if k > 1 else ''} under Recommendations" if k else ""
    return f"{mine[0].title}{more}."


def _programme_lead(recs: list[Recommendation], sec: dict[str, Section], target: float) -> str:
    parts = []
    ov = sec.get("overview")
    verdicts = (ov.facts.get("verdicts") or {}) if ov is not None else {}
    if verdicts and set(verdicts.values()) != {"not computed"}:
        vals = list(verdicts.values())
        # alpha judges one rater's score; the D-study below judges the mean of n raters
        parts.append(
            f"a single rater's scores are reliable on {vals.count('reliable')} of {len(vals)} dimensions "
            f"({vals.count('tentative')} tentative, {vals.count('unreliable')} unreliable)"
        )
    else:
        parts.append("reliability verdicts are not computed")
    plan = sec.get("reliability_planning")
    need = (plan.facts.get("raters_needed") or {}) if plan is not None else {}
    cur = (plan.facts.get("current_raters") or {}) if plan is not None else {}
    if need:
        n = np.array([np.nan if v is None else float(v) for v in need.values()])
        c = (
            np.array([np.nan if v is None else float(v) for v in cur.values()])
            if cur
            else np.array([np.nan])
        )
        now = f" (now {np.nanmedian(c):.0f})" if np.isfinite(c).any() else ""
        if np.isfinite(n).all():
            rng = f"{n.min():.0f}" if n.min() == n.max() else f"{n.min():.0f}–{n.max():.0f}"
            many = "s" if n.max() > 1 else ""
            fewer = (
                " — fewer raters would do"
                if np.isfinite(c).any() and n.max() < np.nanmedian(c)
                else ""
            )
            parts.append(
                f"averaging {rng} rater{many} per transcript reaches reliability {target:.2f}{now}{fewer}"
            )
        else:
            parts.append(
                f"reliability {target:.2f} is out of reach by adding raters on "
                f"{int((~np.isfinite(n)).sum())} dimension(s){now}: fix the anchors first"
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
    if g is None or not g.facts.get("graders"):
        return (
            "No automated grader has scored these transcripts: run 'calib grade' to validate one."
        )
    passed = g.facts.get("passed") or {}
    if not passed:
        return f"{len(g.facts['graders'])} grader(s) present, but their validation is not computed."
    acc = g.tables.get("acceptance")
    lb = g.tables.get("length_bias")
    out = []
    for name, p in sorted(passed.items()):
        line = f"'{name}' is fit for {p['passed']} of {p['dimensions']} dimensions"
        if acc is not None and {"grader", "dimension", "passed"} <= set(acc.columns):
            a = acc[acc["grader"].astype(str) == name]
            ok = a.loc[a["passed"].astype(bool), "dimension"].astype(str).tolist()
            if ok and len(ok) < len(a):
                line += f" ({', '.join(ok)})"
            if {"wtkappa", "hh_wtkappa"} <= set(a.columns) and len(a):
                gap = float((a["wtkappa"] - a["hh_wtkappa"]).median())
                line += f"; median kappa {gap:+.2f} vs the human–human baseline"
        if lb is not None and {"grader", "p_value", "slope_per_100_words"} <= set(lb.columns):
            b = lb[
                (lb["grader"].astype(str) == name)
                & (lb["p_value"] < 0.05)
                & (lb["slope_per_100_words"] > 0)
            ]
            if len(b):
                line += f"; length bias on {', '.join(b['dimension'].astype(str))}"
        out.append(line)
    return "Grader " + "; grader ".join(out) + "."


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
            "answer": _rubric_designer(recs, sec),
            "section": "scale_use",
        },
        {
            "audience": "Interview-programme lead",
            "question": "Can we trust the scores, and what should change in how we rate?",
            "answer": _programme_lead(recs, sec, float(th.get("target_reliability", 0.8))),
            "section": "reliability_planning",
        },
        {
            "audience": "Grader builder",
            "question": "Is an automated grader fit to use, and on which dimensions?",
            "answer": _grader_builder(sec),
            "section": "graders",
        },
    ]
