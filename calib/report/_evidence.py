"""What a reader needs beside each rubric recommendation to act on it.

Every rewrite, merge or unused-level recommendation gets an *exhibit*: the current anchor text
of the levels in question and, where raters split, two or three transcripts with the scores
each rater gave and the candidate's words most related to the dimension (the same excerpt the
interviewer feedback report shows). Merge advice shows both dimensions' anchors and the
correlation with its 95% CI. Nothing here computes a statistic.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pandas as pd

from calib.report._inputs import ReportInputs
from calib.report.feedback import excerpt
from calib.report.recommend import Recommendation

__all__ = ["attach_exhibits"]


def _anchor(rubric: Any, dim: str, level: float) -> dict[str, Any]:
    d = rubric.dimension(dim)
    lv = d.nearest_anchor(level)
    return {
        "level": int(level) if float(level).is_integer() else float(level),
        "label": lv.label,
        "anchor": lv.anchor,
        "exact": bool(lv.score == level),
    }


def _dimension_anchors(rubric: Any, dim: str) -> dict[str, Any]:
    d = rubric.dimension(dim)
    return {
        "dimension": dim,
        "name": d.name,
        "description": d.description,
        "anchors": [
            {
                "level": int(lv.score) if float(lv.score).is_integer() else lv.score,
                "label": lv.label,
                "anchor": lv.anchor,
            }
            for lv in d.levels
        ],
    }


def _examples(
    inputs: ReportInputs, dim: str, transcripts: list[str], levels: list[float]
) -> list[dict[str, Any]]:
    rubric = inputs.rubric
    d = rubric.dimension(dim)
    keys = " ".join([d.name, d.description] + [_anchor(rubric, dim, x)["anchor"] for x in levels])
    turns = (
        inputs.transcripts.set_index("transcript_id")["turns"]
        if inputs.transcripts is not None and "turns" in inputs.transcripts.columns
        else pd.Series(dtype=object)
    )
    r = inputs.ratings
    h = r[r["rater_type"].eq("human") & r["dimension"].eq(dim) & r["score"].notna()]
    out = []
    for t in transcripts:
        scores = h[h["transcript_id"].astype(str) == str(t)].sort_values("rater_id")
        out.append(
            {
                "transcript_id": str(t),
                "scores": ", ".join(
                    f"{rid} gave {s:g}"
                    for rid, s in zip(scores["rater_id"], scores["score"], strict=True)
                ),
                "excerpt": excerpt(turns.get(t), keys) if len(turns) else "",
            }
        )
    return out


def attach_exhibits(recs: list[Recommendation], inputs: ReportInputs) -> list[Recommendation]:
    """Return ``recs`` with :attr:`Recommendation.exhibit` filled for every rubric rule.

    Example
    -------
    >>> attach_exhibits([], None)
    []
    """
    out = []
    for r in recs:
        ex: dict[str, Any] = {}
        try:
            if r.rule == "anchor_ambiguity" and r.dimension:
                levels = sorted({x for p in r.evidence.get("level_pairs", []) for x in p})
                # wide/continuous scales: the advice is about the anchored points themselves
                levels = levels or list(r.evidence.get("anchored_points", []))
                ex = {
                    "kind": "anchors_and_splits",
                    "dimension": _dimension_anchors(inputs.rubric, r.dimension),
                    "anchors": [_anchor(inputs.rubric, r.dimension, x) for x in levels],
                    "examples": _examples(inputs, r.dimension, r.transcripts, levels),
                }
            elif r.rule == "redundant_dims" and r.dimension:
                a, b = r.dimension.split("+", 1)
                ex = {
                    "kind": "two_dimensions",
                    "dimensions": [
                        _dimension_anchors(inputs.rubric, a),
                        _dimension_anchors(inputs.rubric, b),
                    ],
                }
            elif r.rule == "unused_level" and r.dimension:
                ex = {
                    "kind": "anchors",
                    "dimension": _dimension_anchors(inputs.rubric, r.dimension),
                    "anchors": [
                        _anchor(inputs.rubric, r.dimension, x) for x in r.evidence.get("levels", [])
                    ],
                    "examples": [],  # the template reads x.examples on every anchors exhibit
                }
        except KeyError:  # a dimension the rubric does not know: no exhibit, the rec stands
            ex = {}
        out.append(dataclasses.replace(r, exhibit=ex) if ex else r)
    return out
