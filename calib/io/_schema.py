"""Arrow schemas of the store's tables: the data model, enforced on every write.

See ``docs/data-model.md`` for the meaning of each column.
"""

from __future__ import annotations

import pyarrow as pa

__all__ = [
    "TURN_TYPE",
    "TRANSCRIPTS_SCHEMA",
    "RATINGS_SCHEMA",
    "QUARANTINE_SCHEMA",
    "SCORECARDS_SCHEMA",
    "RATING_KEY",
    "RATER_TYPES",
    "SPEAKERS",
    "TRANSCRIPT_REQUIRED",
    "RATING_REQUIRED",
]

RATER_TYPES = ("human", "rule", "llm")
SPEAKERS = ("interviewer", "candidate")

TURN_TYPE = pa.struct(
    [
        pa.field("speaker", pa.string(), nullable=False),
        pa.field("text", pa.string(), nullable=False),
        pa.field("start_s", pa.float64()),
        # the speaker's name as the source wrote it ("Priya Shah"), when it gave one
        pa.field("name", pa.string()),
        pa.field("end_s", pa.float64()),
    ]
)

TRANSCRIPTS_SCHEMA = pa.schema(
    [
        pa.field("transcript_id", pa.string(), nullable=False),
        pa.field("question_id", pa.string(), nullable=False),
        pa.field("question_type", pa.string(), nullable=False),
        pa.field("interviewed_at", pa.timestamp("us", tz="UTC")),
        pa.field("turns", pa.list_(TURN_TYPE), nullable=False),
        # Free-form subgroup attributes (seniority, cohort, ...) as a JSON object: the keys
        # differ between programmes, so they are not columns of their own.
        pa.field("metadata", pa.string()),
        # SHA-256 of the canonical JSON of the record: makes re-ingest idempotent and lets a
        # changed transcript with a reused id be caught.
        pa.field("content_hash", pa.string(), nullable=False),
    ]
)

RATINGS_SCHEMA = pa.schema(
    [
        pa.field("transcript_id", pa.string(), nullable=False),
        pa.field("rater_id", pa.string(), nullable=False),
        pa.field("rater_type", pa.string(), nullable=False),
        pa.field("dimension", pa.string(), nullable=False),
        # NaN only for machine rows a grader could not score (then unscored_reason is set).
        pa.field("score", pa.float64()),
        pa.field("rubric_id", pa.string(), nullable=False),
        pa.field("rubric_version", pa.string(), nullable=False),
        pa.field("rated_at", pa.timestamp("us", tz="UTC")),
        pa.field("rationale", pa.string()),
        pa.field("run_id", pa.string()),
        pa.field("unscored_reason", pa.string()),
    ]
)

QUARANTINE_SCHEMA = pa.schema(
    [
        pa.field("table", pa.string(), nullable=False),  # transcripts | ratings
        pa.field("source", pa.string(), nullable=False),  # input file (or "api")
        pa.field("row", pa.int64()),  # 1-based line (JSONL) or data-row number (CSV/Parquet)
        pa.field("field", pa.string()),  # offending field, e.g. "score" or "turns[2].text"
        pa.field("reason", pa.string(), nullable=False),
        pa.field("record", pa.string()),  # the raw row as JSON (or raw text when unparseable)
        pa.field("batch_id", pa.string(), nullable=False),
    ]
)

#: one row per scorecard (input row of a ratings file): the fields that are not dimension
#: scores, so no column of an export vanishes (written by ingest)
SCORECARDS_SCHEMA = pa.schema(
    [
        pa.field("transcript_id", pa.string(), nullable=False),
        pa.field("rater_id", pa.string(), nullable=False),
        pa.field("overall", pa.string()),  # the overall / recommendation cell as written
        pa.field("overall_score", pa.float64()),  # that cell as a number when it reads as one
        pa.field("notes", pa.string()),
        pa.field("metadata", pa.string()),  # every other column, as a JSON object
        pa.field("source", pa.string(), nullable=False),
        pa.field("row", pa.int64()),
        pa.field("batch_id", pa.string(), nullable=False),
    ]
)

RATING_KEY = ["transcript_id", "rater_id", "dimension"]

#: Anonymous ratings (annotation slots, no rater identity): a ratings file without a
#: ``rater_id`` column gets ``rater_id = "anon:1"``, ``"anon:2"``, ... numbering the ratings of
#: each transcript x dimension in file order (docs/data-model.md). Agreement treats them as
#: interchangeable slots; rater-effect analyses say "not computed: raters are not identified".
ANONYMOUS_PREFIX = "anon:"


def anonymous_mask(rater_id):
    """True where a rating has no rater identity: missing/blank ``rater_id`` or an ``anon:`` slot.

    Examples
    --------
    >>> import pandas as pd
    >>> anonymous_mask(pd.Series(["r1", "anon:2", None, ""])).tolist()
    [False, True, True, True]
    """
    import pandas as pd

    rid = pd.Series(rater_id)
    text = rid.astype(object).where(rid.notna(), "").astype(str).str.strip()
    return text.eq("") | text.str.startswith(ANONYMOUS_PREFIX)


TRANSCRIPT_REQUIRED = ("transcript_id", "question_id", "question_type", "turns")
RATING_REQUIRED = ("transcript_id", "rater_id", "dimension", "score")
