"""Write a grader's results to a store: ratings, evidence or raw outputs, and the run record.

One store commit (``append_ratings(..., with_tables=...)``), so a killed run leaves all three or
none; used by ``calib grade`` and by the demo pipeline alike.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from calib.io import append_ratings, read_store_rubric

__all__ = ["write_grades"]


def write_grades(
    store: str, grader: Any, result: Any, *, evidence_table: str = "grader_evidence"
) -> dict:
    """Append ratings (validated, idempotent), the evidence rows of newly graded transcripts and
    the run record -- all in ONE store commit, so a kill leaves all three or none (issue 11.4).
    """
    written: dict[str, int] = {"evidence": 0}

    def extra(summary) -> dict:
        tables: dict[str, pd.DataFrame] = {}
        ev = result.evidence
        if len(ev):
            # evidence/raw outputs only for transcripts whose ratings are new (re-runs add
            # nothing; a run that supersedes an unscored row records what produced the new row)
            ev = ev[ev["transcript_id"].isin(summary.accepted_transcripts)].assign(
                rater_id=grader.rater_id,
                run_id=result.ratings["run_id"].iloc[0] if len(result.ratings) else None,
            )
            if len(ev):
                tables[evidence_table] = ev.reset_index(drop=True)
        written["evidence"] = int(len(ev))
        src = summary.sources[0] if summary.sources else None
        if src is not None and src.accepted:
            tables["grader_runs"] = _run_record(store, grader, result)
        return tables

    summary = append_ratings(
        store, result.ratings, source=f"grader:{grader.rater_id}", with_tables=extra
    )
    src = summary.sources[0] if summary.sources else None
    return {
        "accepted": src.accepted if src else 0,
        "duplicates_skipped": src.duplicates_skipped if src else 0,
        "quarantined": src.quarantined if src else 0,
        "evidence_rows_written": written["evidence"],
    }


def _run_record(store: str, grader: Any, result: Any) -> pd.DataFrame:
    """One row describing the run: resolved configuration (never API keys), rubric hash,
    calib version, time and summary, so every stored grade can be traced to what made it.
    """
    from calib import __version__
    from calib.graders.base import canonical_json

    rubric = read_store_rubric(store)
    r = result.ratings
    return pd.DataFrame(
        [
            {
                "run_id": r["run_id"].iloc[0] if len(r) else None,
                "rater_id": grader.rater_id,
                "grader": grader.name,
                "rater_type": grader.rater_type,
                "config_json": canonical_json(grader.config()),
                "rubric_id": rubric.id,
                "rubric_version": str(rubric.version),
                "rubric_hash": getattr(rubric, "content_hash", ""),
                "calib_version": __version__,
                "graded_at": pd.Timestamp.now(tz="UTC"),
                "n_transcripts": int(r["transcript_id"].nunique()),
                "summary_json": json.dumps(result.summary, sort_keys=True, default=str),
            }
        ]
    )
