"""Ingestion: raw files -> validated tables -> store, with a quarantine for every bad row."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm.auto import tqdm

from calib.errors import DataValidationError, StoreError
from calib.io._readers import Issue, _source_name, iter_ratings_frames, iter_transcript_records
from calib.io._schema import (
    QUARANTINE_SCHEMA,
    RATING_KEY,
    RATINGS_SCHEMA,
    SCORECARDS_SCHEMA,
    TRANSCRIPTS_SCHEMA,
)
from calib.io._scorecard import RatingOptions, iter_rating_inputs, parse_dates, prepare_ratings
from calib.io._store import (
    cleanup_orphans,
    commit_parts,
    file_sha256,
    read_arrow_table,
    read_manifest,
    store_exists,
    store_lock,
    write_part,
)
from calib.io._transcripts import (
    RoleNote,
    TranscriptOptions,
    expand_transcript_inputs,
    is_document_input,
    iter_document_chunks,
    prepare_record,
)
from calib.io._validate import (
    canonical_json,
    parse_timestamp,
    rating_key_hash,
    screen_raw_ratings,
    seen_scores,
    split_duplicates,
    validate_ratings,
    validate_transcript,
)
from calib.rubric import Rubric, load_rubric

__all__ = ["IngestSummary", "SourceSummary", "ingest", "append_ratings"]

_RATING_COLUMNS = [f.name for f in RATINGS_SCHEMA]


@dataclass
class SourceSummary:
    """Counts for one input file."""

    source: str
    table: str
    #: input rows (records for transcripts; a transcript document is one row)
    read: int = 0
    #: transcripts, or rating cells (one transcript x rater x dimension score), accepted
    accepted: int = 0
    duplicates_skipped: int = 0
    #: transcripts, or rating cells, quarantined
    quarantined: int = 0
    #: ratings only: score cells found (after a wide file is unpivoted; not-rated cells excluded)
    cells: int = 0
    #: ratings only: cells that said N/A (or were blank): not rated, never a score
    not_rated: int = 0
    #: input rows with at least one quarantined transcript or cell
    rows_quarantined: int = 0


@dataclass
class IngestSummary:
    """What an ingest (or append) did; ``ok`` is False when rows were quarantined."""

    store: str
    sources: list[SourceSummary] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    written: bool = False
    strict: bool = False
    #: transcripts that got at least one new rating row (set by append_ratings)
    accepted_transcripts: list[str] = field(default_factory=list)
    #: warnings and facts to print (dropped dates, skipped files, where columns went)
    notes: list[str] = field(default_factory=list)
    #: how speaker names were mapped to roles, per transcript file
    role_notes: list[RoleNote] = field(default_factory=list)
    #: True when the store holds ratings but no transcript text
    ratings_only: bool = False

    @property
    def accepted(self) -> int:
        """Transcripts plus rating cells accepted by this ingest."""
        return sum(s.accepted for s in self.sources)

    @property
    def nothing_accepted(self) -> bool:
        """Inputs were read, yet not one transcript or rating was accepted or already held."""
        return any(s.read for s in self.sources) and not any(
            s.accepted or s.duplicates_skipped for s in self.sources
        )

    @property
    def ok(self) -> bool:
        return not self.issues

    @property
    def quarantined(self) -> int:
        return len(self.issues)

    def reasons(self) -> pd.DataFrame:
        """Quarantined rows counted by table, field and reason class."""
        if not self.issues:
            return pd.DataFrame(columns=["field", "reason", "rows"])
        df = pd.DataFrame(
            [{"field": i.field or "(row)", "reason": _reason_class(i.reason)} for i in self.issues]
        )
        return (
            df.groupby(["field", "reason"], sort=True)
            .size()
            .rename("rows")
            .reset_index()
            .sort_values("rows", ascending=False, kind="stable")
            .reset_index(drop=True)
        )

    def format(self, max_examples: int = 10) -> str:
        """A human-readable summary (what the CLI prints).

        Rows (records of the input) and cells (one score of one dimension) are counted
        separately; quarantined rows are grouped by reason with counts and up to
        ``max_examples`` examples, at most two per reason.
        """
        lines = [f"store: {self.store}"]
        width = max([len(s.source) for s in self.sources] + [6])
        lines.append(
            f"  {'source':<{width}}  {'table':<11} {'rows':>7} {'rows-bad':>8} "
            f"{'cells':>8} {'accepted':>9} {'dup-skip':>8} {'quarantined':>11} {'not-rated':>9}"
        )
        for s in self.sources:
            rating = s.table == "ratings"
            cells = f"{s.cells:>8,}" if rating else f"{'-':>8}"
            nr = f"{s.not_rated:>9,}" if rating else f"{'-':>9}"
            lines.append(
                f"  {s.source:<{width}}  {s.table:<11} {s.read:>7,} {s.rows_quarantined:>8,} "
                f"{cells} {s.accepted:>9,} {s.duplicates_skipped:>8,} {s.quarantined:>11,} {nr}"
            )
        lines.append(
            "  (rows: input records, a transcript file is one; cells: one score of one "
            "dimension; accepted/dup-skip/quarantined count transcripts or cells)"
        )
        inferred = [n for n in self.role_notes if n.method == "heuristic"]
        if inferred:
            lines.append(
                f"speaker roles inferred for {len(inferred)} file(s) (check them; fix with "
                "--interviewers or --speaker-map):"
            )
            for n in inferred[:50]:
                pairs = ", ".join(f"{k} = {v}" for k, v in n.roles.items())
                lines.append(f"  {n.source}: {pairs}")
            if len(inferred) > 50:
                lines.append(f"  ... and {len(inferred) - 50} more")
        mapped = len(self.role_notes) - len(inferred)
        if mapped:
            lines.append(f"speaker roles from labels or the speaker map: {mapped} file(s)")
        for note in self.notes:
            lines.append(f"note: {note}")
        if self.ratings_only:
            lines.append(
                "ratings only: the store holds no transcript text; analyses of ratings run, "
                "text sections say 'not computed: no transcript text'. Transcripts ingested "
                "later with the same ids attach to these ratings."
            )
        if self.issues:
            lines.append(
                f"quarantined {len(self.issues):,} row(s)/cell(s)"
                + (
                    " (kept in the store's quarantine table; list them with "
                    f"`calib quarantine --store {self.store}`)"
                    if self.written
                    else ""
                )
            )
            groups: dict[tuple[str, str, str], list[Issue]] = {}
            for i in self.issues:
                key = (_issue_table(i, self), i.field or "(row)", _reason_class(i.reason))
                groups.setdefault(key, []).append(i)
            shown = 0
            for (table, fld, why), members in sorted(groups.items(), key=lambda kv: -len(kv[1])):
                lines.append(f"  {len(members):>7,}  {table} {fld}: {why}")
                picked, rows_seen = [], set()
                for ex in members:  # examples from different rows
                    if (ex.source, ex.row) not in rows_seen:
                        rows_seen.add((ex.source, ex.row))
                        picked.append(ex)
                    if len(picked) == 2:
                        break
                for ex in picked[: max(0, max_examples - shown)]:
                    where = f"{ex.source}:{ex.row}" if ex.row is not None else ex.source
                    lines.append(f"             e.g. {where}  {ex.reason[:300]}")
                    shown += 1
        else:
            lines.append("no validation problems")
        if self.nothing_accepted:
            lines.append("nothing was accepted: every input row failed validation (exit status 1)")
        if self.strict and self.issues:
            lines.append("--strict: nothing was written; fix the rows above and re-run")
        elif not self.written and not self.issues:
            lines.append("nothing new to write (already ingested)")
        # names, ids and values come from input files: control characters (terminal escape
        # sequences) are shown as '?'
        return "\n".join(_CONTROL.sub("?", line) for line in lines)


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _issue_table(issue: Issue, summary: IngestSummary) -> str:
    for s in summary.sources:
        if issue.source == s.source or issue.source.startswith(s.source.rstrip("/") + "/"):
            return s.table
    return ""


def _reason_class(reason: str) -> str:
    # group "score 7.0 is off the scale" and "score 9.0 ..." together: mask quoted values and numbers
    masked = re.sub(r"'[^']*'|\"[^\"]*\"|\b\d+(?:\.\d+)?\b", "…", re.split(r";| \(", reason)[0])
    return masked[:100]


def _issues_table(issues: Sequence[Issue], table: str, batch_id: str) -> pa.Table:
    return pa.Table.from_pydict(
        {
            "table": [table] * len(issues),
            "source": [i.source for i in issues],
            "row": [i.row for i in issues],
            "field": [i.field for i in issues],
            "reason": [i.reason for i in issues],
            "record": [i.record for i in issues],
            "batch_id": [batch_id] * len(issues),
        },
        schema=QUARANTINE_SCHEMA,
    )


def _quarantine_key(df: pd.DataFrame) -> pd.Series:
    return (
        df["table"].astype(str)
        + "\x1f"
        + df["source"].astype(str)
        + "\x1f"
        + df["row"].astype(str)
        + "\x1f"
        + df["field"].astype(str)
        + "\x1f"
        + df["reason"].astype(str)
        + "\x1f"
        + df["record"].astype(str)
    )


def _scorecard_key(df: pd.DataFrame) -> pd.Series:
    cols = ["transcript_id", "rater_id", "overall", "notes", "metadata", "source", "row"]
    return df[cols].astype(object).fillna("").map(str).agg("\x1f".join, axis=1)


def _read_optional_date(rec: dict, key: str, options: RatingOptions, bad: list[str]) -> None:
    """Parse an optional date field with the date options; drop it (noted) when unreadable."""
    value = rec.get(key)
    if value is None or not isinstance(value, str) or not value.strip():
        return
    try:  # the common case, ISO 8601, costs one call (validation parses it the same way)
        parse_timestamp(value)
        return
    except (TypeError, ValueError, OverflowError):
        pass
    stamps, unreadable = parse_dates(pd.Series([value]), options.date_format, options.dayfirst)
    if unreadable.iloc[0]:
        bad.append(value)
        rec[key] = None
    else:
        rec[key] = stamps.iloc[0].isoformat()


def _check_store_rubric(store: Path, rubric: Rubric) -> bool:
    """True when the store is new; raise when it was built with another rubric."""
    if not store_exists(store):
        if store.exists() and store.is_file():
            raise StoreError(f"{store}: is a file, not a store folder")
        return True
    held = read_manifest(store).get("rubric") or {}
    if held and (held.get("id"), held.get("version"), held.get("content_hash")) != (
        rubric.id,
        rubric.version,
        rubric.content_hash,
    ):
        raise StoreError(
            f"{store}: this store was validated against rubric {held.get('id')} v{held.get('version')} "
            f"(hash {str(held.get('content_hash'))[:12]}), not {rubric.id} v{rubric.version} "
            f"(hash {rubric.content_hash[:12]}). Use a new store per rubric version and compare them with "
            "`calib compare`."
        )
    return False


def _rubric_identity(rubric: Rubric) -> dict:
    return {
        "id": rubric.id,
        "version": rubric.version,
        "content_hash": rubric.content_hash,
        "title": rubric.title,
    }


def _input_digest(path: Any) -> str:
    if isinstance(path, (str, os.PathLike)) and Path(path).is_file():
        return file_sha256(path)
    return hashlib.sha256(_source_name(path).encode()).hexdigest()


def ingest(
    transcripts: Iterable[Any] = (),
    ratings: Iterable[Any] = (),
    *,
    rubric: str | os.PathLike,
    store: str | os.PathLike,
    strict: bool = False,
    progress: bool = False,
    transcript_options: TranscriptOptions | None = None,
    rating_options: RatingOptions | None = None,
) -> IngestSummary:
    """Validate transcript and rating files against a rubric and add them to a store.

    Parameters
    ----------
    transcripts, ratings : iterables of paths or ``datasets.Dataset`` objects
        JSONL, CSV (turns as a JSON column or one row per turn), Parquet, a Hugging Face
        ``save_to_disk`` folder, ``hf:NAME[:SPLIT]`` for a hub dataset, or a Dataset object.
        Ratings may be long (``dimension``, ``score`` columns) or wide (a column per dimension).
    rubric : path
        Rubric YAML; the store keeps a copy and refuses a different rubric later.
    store : path
        Store folder (created when new).
    strict : bool
        When True and any row fails validation, write nothing (the CLI exits 1).
    progress : bool
        Show a progress bar while reading transcripts.
    transcript_options : TranscriptOptions, optional
        Speaker roles (``--interviewers``, ``--speaker-map``), question defaults and a sidecar
        (see ``docs/bring-your-own-data.md``). Transcripts may also be ``.vtt``, ``.srt``,
        ``.txt``, ``.docx``, JSON segment files, or a folder of them (one interview per file).
    rating_options : RatingOptions, optional
        Column mapping, score labels, not-rated values and date parsing for scorecard exports.

    Returns
    -------
    IngestSummary
        Per-source counts and every quarantined row (``.format()`` prints it).

    Notes
    -----
    Re-ingesting the same files is idempotent: identical transcripts (same content hash) and
    identical ratings (same key and score) are skipped. A transcript id reused with different
    content, or a rating key re-rated with a different score, is quarantined. The write is
    atomic: new Parquet parts are published by replacing the manifest in one step.

    Examples
    --------
    >>> summary = ingest(["datasets/sample/transcripts.jsonl"], ["datasets/sample/ratings.csv"],
    ...                  rubric="rubrics/ml_interview_v1.yaml", store="store/")  # doctest: +SKIP
    >>> print(summary.format())  # doctest: +SKIP
    """
    store = Path(store)
    rubric_obj = load_rubric(rubric)
    transcripts, ratings = list(transcripts), list(ratings)
    t_opts = transcript_options or TranscriptOptions()
    r_opts = rating_options or RatingOptions()
    summary = IngestSummary(store=str(store), strict=strict)
    # a folder expands to its files (read in sorted order); ids come from the file names
    expanded: list[tuple[Any, list[tuple[Any, str | None]]]] = []
    for path in transcripts:
        items, skipped = expand_transcript_inputs(path)
        if isinstance(path, (str, os.PathLike)) and Path(path).is_dir() and not items:
            raise DataValidationError(
                f"{path}: a folder with no transcript files (.vtt, .srt, .txt, .docx, .json, "
                ".jsonl, .csv, .parquet)"
            )
        if skipped:
            summary.notes.append(
                f"{path}: skipped {len(skipped)} file(s) that are not transcripts: "
                + ", ".join(Path(f).name for f in skipped[:10])
                + (" ..." if len(skipped) > 10 else "")
            )
        expanded.append((path, items))
    with store_lock(store):
        is_new = _check_store_rubric(store, rubric_obj)
        digests = [_input_digest(p) for p in transcripts + ratings]
        digests += [
            _input_digest(f) for _, items in expanded for f, _ in items if f not in transcripts
        ]
        batch_id = hashlib.sha256(
            ("|".join(digests) + rubric_obj.content_hash).encode()
        ).hexdigest()[:16]
        rated_ids: set[str] = set()
        existing_sc = pd.Series([], dtype=str)
        if is_new:
            existing_t = pd.DataFrame({"transcript_id": [], "content_hash": []})
            seen = pd.Series([], dtype="float64")
            existing_q = pd.Series([], dtype=str)
        else:
            rated_ids = set(
                read_arrow_table(store, "ratings", RATINGS_SCHEMA, ["transcript_id"])
                .column("transcript_id")
                .unique()
                .to_pylist()
            )
            sc_old = read_arrow_table(store, "scorecards", SCORECARDS_SCHEMA).to_pandas()
            existing_sc = _scorecard_key(sc_old) if len(sc_old) else existing_sc
            existing_t = read_arrow_table(
                store, "transcripts", TRANSCRIPTS_SCHEMA, ["transcript_id", "content_hash"]
            ).to_pandas()
            seen = seen_scores(
                read_arrow_table(
                    store, "ratings", RATINGS_SCHEMA, [*RATING_KEY, "score"]
                ).to_pandas()
            )
            q = read_arrow_table(store, "quarantine", QUARANTINE_SCHEMA).to_pandas()
            existing_q = _quarantine_key(q) if len(q) else pd.Series([], dtype=str)

        known_hash: dict[str, str] = dict(
            zip(existing_t["transcript_id"], existing_t["content_hash"])
        )
        cleanup_orphans(store)
        # Accepted rows are written as staged parts batch by batch (bounded memory) and
        # published together by one manifest replace at the end (atomic).
        staged: dict[str, list[str]] = {"transcripts": [], "ratings": []}
        try:
            t_issues: list[Issue] = []
            for path, items in expanded:
                src = SourceSummary(_source_name(path), "transcripts")
                bar = tqdm(
                    desc=f"transcripts {Path(src.source).name}",
                    unit=" rec",
                    disable=True if not progress else None,
                    leave=False,
                )
                bad_dates: list[str] = []
                for item, tid in items:
                    if tid is not None and is_document_input(item):
                        chunks = iter_document_chunks(
                            Path(item), tid, t_opts.roles, summary.role_notes
                        )
                    else:
                        chunks = iter_transcript_records(item)
                    item_source = _source_name(item)
                    for chunk in chunks:
                        src.read += len(chunk.records) + len(chunk.issues)
                        issues = list(chunk.issues)
                        accepted = []
                        for rec, row in zip(chunk.records, chunk.rows):
                            rec, note, role_issue = prepare_record(rec, t_opts, item_source)
                            if role_issue is not None:
                                role_issue.row = row if tid is None else None
                                role_issue.record = canonical_json(
                                    {k: v for k, v in rec.items() if k != "turns"}
                                )[:20000]
                                issues.append(role_issue)
                                continue
                            if note is not None:
                                summary.role_notes.append(note)
                            _read_optional_date(rec, "interviewed_at", r_opts, bad_dates)
                            clean, rec_issues = validate_transcript(rec, item_source, row)
                            if rec_issues:
                                issues.extend(rec_issues)
                                continue
                            tid_clean = clean["transcript_id"]
                            held = known_hash.get(tid_clean)
                            if held is None:
                                known_hash[tid_clean] = clean["content_hash"]
                                accepted.append(clean)
                            elif held == clean["content_hash"]:
                                src.duplicates_skipped += 1
                            else:
                                issues.append(
                                    Issue(
                                        item_source,
                                        row,
                                        "transcript_id",
                                        f"transcript_id {tid_clean!r} already exists with different "
                                        "content (give the new transcript its own id)",
                                        canonical_json(rec)[:20000],
                                    )
                                )
                        if accepted:
                            staged["transcripts"].append(
                                write_part(
                                    store,
                                    "transcripts",
                                    pa.Table.from_pylist(accepted, schema=TRANSCRIPTS_SCHEMA),
                                )
                            )
                        src.accepted += len(accepted)
                        src.quarantined += len(issues)
                        src.rows_quarantined += len(issues)
                        t_issues.extend(issues)
                        bar.update(len(chunk.records) + len(chunk.issues))
                if bad_dates:
                    summary.notes.append(
                        f"{src.source}: {len(bad_dates)} interviewed_at value(s) could not be read as "
                        f"dates (e.g. {', '.join(map(repr, bad_dates[:3]))}); the dates were dropped "
                        "and the transcripts kept (use --date-format or --dayfirst)"
                    )
                bar.close()
                summary.sources.append(src)

            # A store with no transcript text at all takes ratings for any id (ratings only);
            # otherwise a rating must name a transcript, or a unit the store already has ratings for.
            summary.ratings_only = not known_hash and bool(ratings)
            known_ids = (
                None
                if not known_hash or r_opts.allow_missing_transcripts
                else pd.Index(list(known_hash) + sorted(rated_ids))
            )
            textless: set[str] = set()  # accepted rating ids with no transcript text
            scorecards: list[pd.DataFrame] = []
            r_issues: list[Issue] = []
            # Keys accepted earlier in *this* ingest: a later row with another score makes the
            # earlier one a conflict too (as when both sit in one batch), fixed up after the loop.
            batch_seen = pd.Series([], dtype="float64")
            late_conflicts: list[np.ndarray] = []
            staged_meta: list[tuple[str, SourceSummary, np.ndarray, np.ndarray]] = []
            for path in ratings:
                src = SourceSummary(_source_name(path), "ratings")
                bar = tqdm(
                    desc=f"ratings {Path(src.source).name}",
                    unit=" rows",
                    disable=True if not progress else None,
                    leave=False,
                )
                roles_noted = False
                for raw, parse_issues in iter_rating_inputs(path, iter_ratings_frames):
                    raw, screened = screen_raw_ratings(raw, rubric_obj, src.source)
                    parse_issues = list(parse_issues) + screened
                    prepared = prepare_ratings(raw, rubric_obj, r_opts, src.source)
                    if not roles_noted:
                        summary.notes.extend(prepared.notes)
                        kept = {
                            c: r
                            for c, r in prepared.column_roles.items()
                            if not r.startswith("dimension") and r not in RATING_KEY
                        }
                        if kept:
                            summary.notes.append(
                                f"{src.source}: columns kept: "
                                + ", ".join(f"{c!r} -> {r}" for c, r in kept.items())
                            )
                        roles_noted = True
                    else:
                        summary.notes.extend(n for n in prepared.notes if n not in summary.notes)
                    if prepared.scorecards is not None and len(prepared.scorecards):
                        scorecards.append(prepared.scorecards.assign(source=src.source))
                    good, issues = validate_ratings(
                        prepared.frame, rubric_obj, src.source, known_ids
                    )
                    issues = prepared.issues + issues
                    # a row that could not be parsed at all counts as one cell (it is one quarantine row)
                    src.cells += len(prepared.frame) + len(prepared.issues) + len(parse_issues)
                    src.not_rated += prepared.not_rated
                    if len(batch_seen) and len(good):
                        h = rating_key_hash(good)
                        old = batch_seen[~batch_seen.index.duplicated()].reindex(h).to_numpy()
                        late = ~np.isnan(old) & (old != good["score"].fillna(-1e300).to_numpy())
                        if late.any():
                            late_conflicts.append(h[late])
                    keep, dup_issues, skipped = split_duplicates(good, seen, src.source)
                    if known_ids is None and len(keep):
                        textless.update(set(keep["transcript_id"].unique()) - known_hash.keys())
                    issues = parse_issues + issues + dup_issues
                    src.read += len(raw) + len(parse_issues)
                    src.rows_quarantined += len({(i.source, i.row) for i in issues})
                    src.accepted += len(keep)
                    src.duplicates_skipped += skipped
                    src.quarantined += len(issues)
                    if len(keep):
                        part = write_part(
                            store,
                            "ratings",
                            pa.Table.from_pandas(
                                keep[_RATING_COLUMNS], schema=RATINGS_SCHEMA, preserve_index=False
                            ),
                        )
                        staged["ratings"].append(part)
                        new_seen = seen_scores(keep)
                        staged_meta.append(
                            (part, src, new_seen.index.to_numpy(), keep["_row"].to_numpy())
                        )
                        seen = new_seen if seen.empty else pd.concat([seen, new_seen])
                        batch_seen = (
                            new_seen if batch_seen.empty else pd.concat([batch_seen, new_seen])
                        )
                    r_issues.extend(issues)
                    bar.update(len(raw))
                bar.close()
                summary.sources.append(src)
            # Rewrite the staged parts holding the earlier halves of late conflicts (those rows go
            # to the quarantine, like both rows of a conflict found within one batch).
            conflicted = (
                np.unique(np.concatenate(late_conflicts))
                if late_conflicts
                else np.array([], dtype="uint64")
            )
            for part, src, hashes, rows in staged_meta:
                drop = np.isin(hashes, conflicted)
                if not drop.any():
                    continue
                df = pq.read_table(store / "ratings" / part).to_pandas().assign(_row=rows)
                for row, tid, rid, dim, sc in df.loc[
                    drop, ["_row", *RATING_KEY, "score"]
                ].itertuples(index=False):
                    r_issues.append(
                        Issue(
                            src.source,
                            int(row),
                            "score",
                            f"conflicting duplicate: {tid} x {rid} x {dim} is rated again later in this "
                            f"input with a different score (this row: {sc:g})",
                            canonical_json(
                                {
                                    "transcript_id": tid,
                                    "rater_id": rid,
                                    "dimension": dim,
                                    "score": sc,
                                }
                            ),
                        )
                    )
                src.accepted -= int(drop.sum())
                src.quarantined += int(drop.sum())
                position = staged["ratings"].index(part)  # keep the input order of rows
                staged["ratings"].pop(position)
                (store / "ratings" / part).unlink()
                if (~drop).any():
                    staged["ratings"].insert(
                        position,
                        write_part(
                            store,
                            "ratings",
                            pa.Table.from_pandas(
                                df.loc[~drop, _RATING_COLUMNS],
                                schema=RATINGS_SCHEMA,
                                preserve_index=False,
                            ),
                        ),
                    )

            if textless and known_hash:
                shown = ", ".join(repr(t) for t in sorted(textless)[:5])
                summary.notes.append(
                    f"{len(textless)} transcript id(s) have ratings but no transcript text "
                    f"(--allow-missing-transcripts): {shown}"
                    + (" ..." if len(textless) > 5 else "")
                )
            summary.issues = t_issues + r_issues
            if strict and summary.issues:
                for name, parts in staged.items():
                    for part in parts:
                        (store / name / part).unlink(missing_ok=True)
                return summary
            q_tables = [
                _issues_table(t_issues, "transcripts", batch_id),
                _issues_table(r_issues, "ratings", batch_id),
            ]
            sc_tables = []
            if scorecards:
                sc = pd.concat(scorecards, ignore_index=True).assign(batch_id=batch_id)
                sc = sc[~_scorecard_key(sc).isin(existing_sc).to_numpy()]
                sc = sc.drop_duplicates(["source", "row", "transcript_id", "rater_id"])
                if len(sc):
                    sc_tables.append(
                        pa.Table.from_pandas(
                            sc[[f.name for f in SCORECARDS_SCHEMA]],
                            schema=SCORECARDS_SCHEMA,
                            preserve_index=False,
                        )
                    )
            if len(existing_q):
                # re-ingesting the same bad file must not duplicate its quarantine rows
                q_tables = [
                    t.filter(pa.array(~_quarantine_key(t.to_pandas()).isin(existing_q).to_numpy()))
                    if t.num_rows
                    else t
                    for t in q_tables
                ]
            has_new = (
                any(staged.values())
                or any(t.num_rows for t in q_tables)
                or any(t.num_rows for t in sc_tables)
            )
            if has_new or is_new:
                commit_parts(
                    store,
                    {"quarantine": q_tables, "scorecards": sc_tables},
                    staged=staged,
                    batch={
                        "batch_id": batch_id,
                        "inputs": [
                            {"source": _source_name(p), "sha256": d}
                            for p, d in zip(transcripts + ratings, digests)
                        ],
                    },
                    rubric_source=rubric if is_new else None,
                    rubric_identity=_rubric_identity(rubric_obj) if is_new else None,
                )
                summary.written = True
        except BaseException as exc:
            # nothing of this ingest may stay behind: staged parts are unlisted, remove them
            # (unless a manifest that went live already lists them)
            try:
                live = read_manifest(store, must_exist=False).get("tables", {})
            except StoreError:
                live = {}
            for name, parts in staged.items():
                for part in set(parts) - set(live.get(name, [])):
                    (store / name / part).unlink(missing_ok=True)
            if isinstance(exc, OSError):  # e.g. a full disk: a clean message, not a traceback
                raise StoreError(
                    f"ingest stopped on an I/O error ({exc}); nothing was written to {store} "
                    "and the store is unchanged"
                ) from exc
            raise
    return summary


def append_ratings(
    store: str | os.PathLike,
    ratings: pd.DataFrame,
    *,
    source: str = "api",
    with_tables: Callable[[IngestSummary], Mapping[str, pd.DataFrame]] | None = None,
) -> IngestSummary:
    """Validate long rating rows (e.g. a grader's output) and append them to the store.

    Machine rows (``rater_type`` rule or llm) may have a NaN ``score`` when
    ``unscored_reason`` says why; such rows are kept as unscored, never as a low score.
    Identical rows already in the store are skipped, so re-running a grader is idempotent.

    Parameters
    ----------
    store : path
        An existing store (its rubric is used for validation).
    ratings : pandas.DataFrame
        Columns as in the ratings table; ``rubric_id``/``rubric_version`` default to the store's.
    source : str
        Name recorded in the quarantine for rejected rows.
    with_tables : callable, optional
        Called under the store lock with the summary (``accepted_transcripts`` known); the
        tables it returns (name -> DataFrame, appended; e.g. grader evidence and the run
        record) are published in the SAME manifest update as the ratings, so a kill at any
        point leaves all of them or none.

    Examples
    --------
    >>> append_ratings("store/", grader_rows, source="grader:rules-1a2b3c4d")  # doctest: +SKIP
    """
    from calib.io._api import read_store_rubric  # local import: _api imports this module

    store = Path(store)
    rubric_obj = read_store_rubric(store)
    summary = IngestSummary(store=str(store))
    with store_lock(store):
        known = pd.Index(
            read_arrow_table(store, "transcripts", TRANSCRIPTS_SCHEMA, ["transcript_id"])
            .column("transcript_id")
            .to_pylist()
        )
        held = read_arrow_table(
            store, "ratings", RATINGS_SCHEMA, [*RATING_KEY, "score", "unscored_reason"]
        ).to_pandas()
        held = held.drop_duplicates(RATING_KEY, keep="last")  # the current row of each key
        raw = ratings.copy()
        raw["_row"] = range(1, len(raw) + 1)
        good, issues = validate_ratings(raw, rubric_obj, source, known, allow_unscored=True)
        # An unscored machine row is not a verdict: a later run may supersede it (a retried call
        # that now succeeds, or fails for another reason). A new unscored row never overrides a
        # score already held, and an identical unscored row is a plain duplicate.
        held_unscored = held[held["score"].isna()]
        old_reason = pd.Series(
            held_unscored["unscored_reason"].fillna("").to_numpy(dtype=object),
            index=rating_key_hash(held_unscored),
            dtype=object,
        )
        old_reason = old_reason[~old_reason.index.duplicated()]
        scored_keys = pd.Index(seen_scores(held[held["score"].notna()]).index)
        h = rating_key_hash(good) if len(good) else np.array([], dtype="uint64")
        new_unscored = good["score"].isna().to_numpy()
        absent = "\x00absent"
        old_text = old_reason.reindex(h).astype(object).fillna(absent).astype(str).to_numpy()
        new_text = good["unscored_reason"].astype(object).fillna("").astype(str).to_numpy()
        same_unscored = new_unscored & (old_text == new_text)
        over_score = new_unscored & np.isin(h, scored_keys.to_numpy())
        drop = same_unscored | over_score
        good = good.loc[~drop]
        keep, dup_issues, skipped = split_duplicates(
            good, seen_scores(held[held["score"].notna()]), source
        )
        skipped += int(drop.sum())
        issues += dup_issues
        summary.accepted_transcripts = sorted(set(keep["transcript_id"]))
        summary.sources.append(
            SourceSummary(source, "ratings", len(raw), len(keep), skipped, len(issues))
        )
        summary.issues = issues
        batch_id = hashlib.sha256(
            pd.util.hash_pandas_object(ratings.astype(str), index=False).values.tobytes()
        ).hexdigest()[:16]
        tables = {
            "ratings": [
                pa.Table.from_pandas(
                    keep[_RATING_COLUMNS], schema=RATINGS_SCHEMA, preserve_index=False
                )
            ],
            "quarantine": [_issues_table(issues, "ratings", batch_id)],
        }
        extra = dict(with_tables(summary) or {}) if with_tables is not None else {}
        for name, frame in extra.items():
            if name in tables or name == "transcripts":
                raise StoreError(f"with_tables: table {name!r} is written by calib.io itself")
            if frame is not None and len(frame):
                tables[name] = [pa.Table.from_pandas(frame, preserve_index=False)]
        if len(keep) or issues or any(n not in ("ratings", "quarantine") for n in tables):
            commit_parts(
                store, tables, batch={"batch_id": batch_id, "inputs": [{"source": source}]}
            )
            summary.written = True
    return summary
