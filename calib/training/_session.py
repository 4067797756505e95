"""The group session sheet: where the interviewers departed from the reference, and why.

For the discussion after a round (frame-of-reference training): an interviewer x transcript
grid of deviations from the reference per dimension, then the cells worth discussing (largest
mean absolute deviation first), each with the reference level's anchor, the anchors of the
levels the interviewers gave beside it, the transcript excerpt that matters and the
interviewers' rationales. All text is escaped by the renderer (HTML autoescape / ``md``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from calib.rubric import Rubric
from calib.training._accuracy import AccuracyResult
from calib.training._reference import ReferenceSet, levels_within

__all__ = ["SessionSheet", "session_sheet", "excerpt"]

_WORD = re.compile(r"[a-z][a-z\-]{3,}")
_STOP = frozenset(
    "that this with from have which when what them they their there then than into also only "
    "such each more most some other about would could should before after where while very "
    "does done being been were will just like make made answer candidate".split()
)


def _stems(text: str) -> set[str]:
    return {w[:5] for w in _WORD.findall(text.lower()) if w not in _STOP}


def excerpt(turns: list[dict] | None, keywords: str, max_chars: int = 420) -> str:
    """The (up to two) candidate sentences sharing most word stems with ``keywords``.

    Sentences keep their transcript order; returns "" when there is no candidate turn.

    Example
    -------
    >>> turns = [{"speaker": "candidate", "text": "I like cats. Latency must stay under 50 ms."}]
    >>> excerpt(turns, "latency budget")
    'Latency must stay under 50 ms.'
    """
    if turns is None or len(turns) == 0:
        return ""
    text = " ".join(str(t.get("text") or "") for t in turns if t.get("speaker") == "candidate")
    sents = [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if s.strip()]
    if not sents:
        return ""
    keys = _stems(keywords)
    score = np.array([len(_stems(s) & keys) for s in sents])
    best = sorted(int(i) for i in np.argsort(-score, kind="stable")[:2] if score[i] > 0) or [0]
    out = " ".join(sents[i] for i in best)
    return out if len(out) <= max_chars else out[: max_chars - 1].rstrip() + "…"


@dataclass(frozen=True)
class SessionSheet:
    """Content of the group session sheet (rendered by the training report).

    Attributes
    ----------
    transcripts : list of str
        Transcript ids in set order (columns of the grids).
    grids : list of dict
        Per dimension: ``dimension, name, reference`` (reference level per transcript, text)
        and ``rows``: ``[(rater_id, [deviation or None per transcript])]``.
    items : list of dict
        Cells to discuss: ``transcript_id, dimension, name, reference_score,
        reference_level, reference_anchors`` (``[(level, label, anchor)]``), ``given``
        (``[{level, label, anchor, raters, n}]``), ``mean_abs_deviation, excerpt,
        rationales`` (``[(rater_id, level, text)]``).
    table : pandas.DataFrame
        The grid as a long table (``rater_id, transcript_id, dimension, score,
        reference_score, deviation``).
    """

    transcripts: list[str]
    grids: list[dict[str, Any]]
    items: list[dict[str, Any]]
    table: pd.DataFrame


def session_sheet(
    accuracy: AccuracyResult,
    reference_set: ReferenceSet,
    rubric: Rubric,
    max_items: int = 10,
    min_mean_abs_deviation: float = 0.5,
) -> SessionSheet:
    """Build the session sheet of one round.

    Parameters
    ----------
    accuracy : AccuracyResult
    reference_set : ReferenceSet
    rubric : Rubric
    max_items : int
        At most this many cells to discuss.
    min_mean_abs_deviation : float
        A cell is worth discussing when the interviewers' mean ``|x - t|`` reaches this.

    Returns
    -------
    SessionSheet
    """
    cells = accuracy.cells
    ids = reference_set.transcript_ids
    raters = sorted(cells["rater_id"].unique())
    ref = reference_set.reference.set_index(["transcript_id", "dimension"])
    dev = cells.set_index(["rater_id", "transcript_id", "dimension"])["deviation"]
    grids = []
    for dim in rubric.dimensions:
        rows = []
        for r in raters:
            rows.append(
                (
                    r,
                    [
                        float(dev[(r, t, dim.id)]) if (r, t, dim.id) in dev.index else None
                        for t in ids
                    ],
                )
            )
        grids.append(
            {
                "dimension": dim.id,
                "name": dim.name,
                "reference": [
                    str(ref.loc[(t, dim.id), "reference_level"]) if (t, dim.id) in ref.index else ""
                    for t in ids
                ],
                "rows": rows,
            }
        )
    by_cell = (
        cells.assign(abs_dev=cells["deviation"].abs())
        .groupby(["transcript_id", "dimension"], sort=False)["abs_dev"]
        .mean()
        .sort_values(ascending=False, kind="stable")
    )
    by_cell = by_cell[by_cell >= min_mean_abs_deviation - 1e-9].head(max_items)
    tr = reference_set.transcripts.set_index(reference_set.transcripts["transcript_id"].astype(str))
    items = []
    for (tid, did), mad in by_cell.items():
        dim = rubric.dimension(did)
        ref_score = float(ref.loc[(tid, did), "reference_score"])
        ref_levels = levels_within(ref_score)
        here = cells[(cells["transcript_id"] == tid) & (cells["dimension"] == did)]
        given: list[dict[str, Any]] = []
        for level, g in here.groupby("score", sort=True):
            lv = dim.level(int(level))
            given.append(
                {
                    "level": int(level),
                    "label": lv.label,
                    "anchor": lv.anchor,
                    "raters": sorted(g["rater_id"]),
                    "n": len(g),
                    "is_reference": int(level) in ref_levels,
                }
            )
        in_play = sorted(set(ref_levels) | {int(g["level"]) for g in given})
        keywords = " ".join(
            [dim.name, dim.description]
            + [dim.level(v).anchor for v in in_play]
            + [i for v in in_play for i in dim.level(v).indicators]
        )
        turns = tr.loc[tid, "turns"] if tid in tr.index else None
        rationales = [
            (r.rater_id, int(r.score), str(r.rationale))
            for r in here.itertuples(index=False)
            if isinstance(r.rationale, str) and r.rationale.strip()
        ]
        items.append(
            {
                "transcript_id": tid,
                "dimension": did,
                "name": dim.name,
                "reference_score": ref_score,
                "reference_level": str(ref.loc[(tid, did), "reference_level"]),
                "reference_anchors": [
                    (v, dim.level(v).label, dim.level(v).anchor) for v in ref_levels
                ],
                "given": given,
                "mean_abs_deviation": float(mad),
                "excerpt": excerpt(list(turns) if turns is not None else None, keywords),
                "rationales": rationales,
            }
        )
    table = cells[
        ["rater_id", "transcript_id", "dimension", "score", "reference_score", "deviation"]
    ].reset_index(drop=True)
    return SessionSheet(list(ids), grids, items, table)
