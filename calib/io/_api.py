"""Read the store's tables as pandas DataFrames."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pyarrow.compute as pc

from calib.errors import StoreError
from calib.io._schema import QUARANTINE_SCHEMA, RATINGS_SCHEMA, TRANSCRIPTS_SCHEMA
from calib.io._store import read_arrow_table, read_manifest
from calib.rubric import Rubric, load_rubric

__all__ = [
    "read_transcripts",
    "read_ratings",
    "read_quarantine",
    "read_store_rubric",
    "metadata_frame",
]


def read_transcripts(store: str | os.PathLike) -> pd.DataFrame:
    """All transcripts in the store.

    Returns
    -------
    pandas.DataFrame
        ``transcript_id``, ``question_id``, ``question_type``, ``interviewed_at`` (UTC),
        ``turns`` (list of ``{speaker, text, start_s}`` dicts, plus ``name`` and ``end_s``
        when the source gave them), ``metadata`` (dict) and
        ``content_hash``.

    Examples
    --------
    >>> read_transcripts("store/").loc[0, "turns"][0]["speaker"]  # doctest: +SKIP
    'interviewer'
    """
    df = read_arrow_table(store, "transcripts", TRANSCRIPTS_SCHEMA).to_pandas()
    # name/end_s are optional: left out of a turn when the source did not give them
    df["turns"] = [
        [t if t.get("name") is not None or t.get("end_s") is not None else _plain(t) for t in turns]
        for turns in df["turns"]
    ]
    df["metadata"] = [json.loads(m) if m else {} for m in df["metadata"]]
    return df


def _plain(turn: dict) -> dict:
    return {k: v for k, v in turn.items() if k not in ("name", "end_s")}


def read_ratings(
    store: str | os.PathLike,
    rater_type: str | None = None,
    columns: list[str] | None = None,
) -> pd.DataFrame:
    """The long ratings table (humans and graders), optionally one ``rater_type`` only.

    Parameters
    ----------
    store : path
        The store folder.
    rater_type : str, optional
        Keep only rows of this rater type (``"human"``, ``"machine"``); filtered in Arrow before
        any conversion to pandas.
    columns : list of str, optional
        Read only these columns (default: all). Analyses that need only ids and scores should
        pass them: rationales and metadata of machine rows are the bulk of a large store.

    Returns
    -------
    pandas.DataFrame
        One row per rating; when an unscored machine row was superseded by a later run, only the
        last row of each ``(transcript_id, rater_id, dimension)`` is kept.

    Examples
    --------
    >>> read_ratings("store/", rater_type="human").columns[:5].tolist()  # doctest: +SKIP
    ['transcript_id', 'rater_id', 'rater_type', 'dimension', 'score']
    """
    key = ["transcript_id", "rater_id", "dimension"]
    if columns is not None:
        unknown = sorted(set(columns) - set(RATINGS_SCHEMA.names))
        if unknown:
            raise ValueError(f"columns: unknown ratings column(s) {unknown}")
    need = (
        None
        if columns is None
        else [c for c in RATINGS_SCHEMA.names if c in {*columns, *key, "score", "rater_type"}]
    )
    table = read_arrow_table(store, "ratings", RATINGS_SCHEMA, columns=need)
    if rater_type is not None:
        table = table.filter(pc.equal(table["rater_type"], rater_type))
    superseded = table.num_rows and pc.any(pc.is_null(table["score"], nan_is_null=True)).as_py()
    df = table.to_pandas()
    if superseded:
        # an unscored machine row may have been superseded by a later run (append_ratings):
        # the last row of each key is the current one
        df = df.drop_duplicates(key, keep="last").reset_index(drop=True)
    if columns is not None:
        df = df[list(columns)]
    return df


def read_quarantine(store: str | os.PathLike) -> pd.DataFrame:
    """Every rejected input row with ``table``, ``source``, ``row``, ``field``, ``reason``, ``record``.

    Examples
    --------
    >>> read_quarantine("store/")[["source", "row", "field", "reason"]]  # doctest: +SKIP
    """
    return read_arrow_table(store, "quarantine", QUARANTINE_SCHEMA).to_pandas()


def read_store_rubric(store: str | os.PathLike) -> Rubric:
    """The rubric the store was validated against (its saved copy)."""
    read_manifest(store)
    path = Path(store) / "rubric.yaml"
    if not path.is_file():
        raise StoreError(f"{store}: rubric.yaml is missing from the store")
    return load_rubric(path)


def metadata_frame(transcripts: pd.DataFrame) -> pd.DataFrame:
    """One row per transcript, one column per metadata key (for subgroup analyses).

    Examples
    --------
    >>> metadata_frame(read_transcripts("store/")).columns.tolist()  # doctest: +SKIP
    ['transcript_id', 'cohort', 'seniority', ...]
    """
    meta = pd.DataFrame.from_records(list(transcripts["metadata"]), index=transcripts.index)
    meta = meta.reindex(columns=sorted(meta.columns))
    return pd.concat([transcripts[["transcript_id"]], meta], axis=1)
