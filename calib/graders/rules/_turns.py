"""Flatten the transcripts table into one row per turn (shared by the rule and length graders)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from calib.errors import DataValidationError

__all__ = ["explode_turns", "candidate_word_counts", "WORD_RE"]

#: A "word" is a maximal run of non-space characters (what a transcript reader would count).
WORD_RE = r"\S+"


def explode_turns(transcripts: pd.DataFrame) -> pd.DataFrame:
    """One row per turn: ``pos`` (row of the transcript), ``transcript_id``, ``turn_index``,
    ``speaker``, ``text`` and ``n_words``; ordered by transcript then turn.

    Raises
    ------
    DataValidationError
        If ``transcript_id`` or ``turns`` is missing, or a turn has no ``speaker``.

    Example
    -------
    >>> t = pd.DataFrame({"transcript_id": ["t1"], "turns": [[
    ...     {"speaker": "interviewer", "text": "Design a ranker."},
    ...     {"speaker": "candidate", "text": "First, what is the goal?"}]]})
    >>> explode_turns(t)[["turn_index", "speaker", "n_words"]].to_dict("list")
    {'turn_index': [0, 1], 'speaker': ['interviewer', 'candidate'], 'n_words': [3, 5]}
    """
    for col in ("transcript_id", "turns"):
        if col not in transcripts.columns:
            raise DataValidationError(f"transcripts table: missing column {col!r}")
    frame = pd.DataFrame(
        {"pos": np.arange(len(transcripts)), "turns": transcripts["turns"].to_numpy()}
    ).explode("turns", ignore_index=True)
    frame = frame[frame["turns"].notna()]
    records = (
        pd.DataFrame.from_records(frame["turns"].tolist(), index=frame.index)
        if len(frame)
        else pd.DataFrame({"speaker": pd.Series(dtype=object), "text": pd.Series(dtype=object)})
    )
    if len(frame) and "speaker" not in records.columns:
        raise DataValidationError("transcripts table: turns have no 'speaker' field")
    out = pd.DataFrame(
        {
            "pos": frame["pos"].to_numpy(dtype=np.int64),
            "transcript_id": transcripts["transcript_id"]
            .astype(str)
            .to_numpy()[frame["pos"].to_numpy(dtype=np.int64)],
            "speaker": records.get("speaker", pd.Series(dtype=object))
            .astype(str)
            .str.lower()
            .to_numpy(),
            "text": records.get("text", pd.Series(dtype=object)).fillna("").astype(str).to_numpy(),
        }
    )
    out.insert(2, "turn_index", out.groupby("pos").cumcount().to_numpy())
    texts = pa.array(out["text"].to_numpy(dtype=object), pa.string())
    out["n_words"] = (
        pc.count_substring_regex(texts, WORD_RE).to_numpy(zero_copy_only=False).astype(np.int64)
    )
    return out.reset_index(drop=True)


def candidate_word_counts(
    transcripts: pd.DataFrame, turns: pd.DataFrame | None = None
) -> pd.Series:
    """Words spoken by the candidate per transcript (index ``transcript_id``, input order).

    Example
    -------
    >>> t = pd.DataFrame({"transcript_id": ["a", "b"], "turns": [
    ...     [{"speaker": "candidate", "text": "one two three"}], []]})
    >>> candidate_word_counts(t).tolist()
    [3, 0]
    """
    turns = explode_turns(transcripts) if turns is None else turns
    cand = turns[turns["speaker"] == "candidate"]
    counts = np.bincount(
        cand["pos"].to_numpy(), weights=cand["n_words"].to_numpy(), minlength=len(transcripts)
    )
    return pd.Series(
        counts.astype(np.int64),
        index=pd.Index(transcripts["transcript_id"].astype(str), name="transcript_id"),
        name="candidate_words",
    )
