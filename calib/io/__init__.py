"""Ingestion and storage: files -> validated tables -> a Parquet store.

Examples
--------
>>> from calib.io import ingest, read_ratings
>>> summary = ingest(["datasets/sample/transcripts.jsonl"], ["datasets/sample/ratings.csv"],
...                  rubric="rubrics/ml_interview_v1.yaml", store="store/")  # doctest: +SKIP
>>> read_ratings("store/").shape  # doctest: +SKIP
"""

from calib.io._api import (
    metadata_frame,
    read_quarantine,
    read_ratings,
    read_store_rubric,
    read_transcripts,
)
from calib.io._hf import to_hf_dataset, write_hf_dataset
from calib.io._ingest import IngestSummary, SourceSummary, append_ratings, ingest
from calib.io._runs import drop_run, list_runs
from calib.io._schema import (
    ANONYMOUS_PREFIX,
    QUARANTINE_SCHEMA,
    RATINGS_SCHEMA,
    SCORECARDS_SCHEMA,
    TRANSCRIPTS_SCHEMA,
    anonymous_mask,
)
from calib.io._scorecard import RatingOptions
from calib.io._speakers import SpeakerRoles
from calib.io._store import read_table, store_exists, table_names, write_table
from calib.io._transcripts import TranscriptOptions

__all__ = [
    "ANONYMOUS_PREFIX",
    "anonymous_mask",
    "IngestSummary",
    "QUARANTINE_SCHEMA",
    "RATINGS_SCHEMA",
    "RatingOptions",
    "SCORECARDS_SCHEMA",
    "SpeakerRoles",
    "RatingOptions",
    "SCORECARDS_SCHEMA",
    "SpeakerRoles",
    "SourceSummary",
    "TRANSCRIPTS_SCHEMA",
    "TranscriptOptions",
    "TranscriptOptions",
    "append_ratings",
    "drop_run",
    "list_runs",
    "ingest",
    "metadata_frame",
    "read_quarantine",
    "read_ratings",
    "read_store_rubric",
    "read_table",
    "read_transcripts",
    "store_exists",
    "table_names",
    "to_hf_dataset",
    "write_hf_dataset",
    "write_table",
]
