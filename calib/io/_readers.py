"""Read raw input files (JSONL, CSV, Parquet, Hugging Face datasets) into raw records.

Readers never validate content; they only parse. Anything they cannot parse (malformed JSON,
bytes that are not UTF-8) becomes a quarantine issue naming the file and line, so nothing is
silently dropped. Validation against the rubric happens in :mod:`calib.io._validate`.
"""

from __future__ import annotations

import codecs
import io
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from calib.errors import DataValidationError
from calib.io._dialect import sniff_delimiter

__all__ = [
    "Issue",
    "RawChunk",
    "detect_format",
    "iter_transcript_records",
    "read_ratings_frame",
    "iter_ratings_frames",
]

CHUNK_RECORDS = 20_000


@dataclass
class Issue:
    """One quarantined input row: where it came from and why it was rejected."""

    source: str
    row: int | None
    field: str | None
    reason: str
    record: str | None = None


@dataclass
class RawChunk:
    """Parsed records (dicts) with their 1-based row numbers, plus parse issues."""

    records: list[dict] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)


def _is_hf_dir(path: Path) -> bool:
    return path.is_dir() and any(
        (path / name).exists() for name in ("dataset_info.json", "state.json", "dataset_dict.json")
    )


def detect_format(path: str | os.PathLike | Any) -> str:
    """Input format of ``path``: jsonl, csv, parquet, hf-dir, hf-hub or hf-object.

    ``hf:NAME`` (optionally ``hf:NAME:SPLIT``) names a dataset on the Hugging Face hub.
    """
    if not isinstance(path, (str, os.PathLike)):
        if hasattr(path, "to_pandas") and hasattr(path, "features"):
            return "hf-object"
        raise DataValidationError(f"cannot read input of type {type(path).__name__}")
    text = str(path)
    if text.startswith("hf:"):
        return "hf-hub"
    p = Path(text)
    if p.is_dir():
        if _is_hf_dir(p):
            return "hf-dir"
        raise DataValidationError(f"{p}: a folder, but not a Hugging Face save_to_disk dataset")
    if not p.is_file():
        raise DataValidationError(f"{p}: file not found")
    suffix = "".join(p.suffixes[-2:]).lower() if p.suffix.lower() == ".gz" else p.suffix.lower()
    if suffix in {".jsonl", ".ndjson", ".json", ".jsonl.gz"}:
        return "jsonl"
    if suffix in {".csv", ".tsv", ".csv.gz"}:
        return "csv"
    if suffix in {".parquet", ".pq"}:
        return "parquet"
    raise DataValidationError(
        f"{p}: unknown file type {p.suffix!r}; expected .jsonl, .csv, .parquet or a Hugging Face dataset folder"
    )


def _hf_dataset(path: Any, fmt: str):
    import datasets  # heavy import: only when a HF input is used

    if fmt == "hf-object":
        ds = path
    elif fmt == "hf-dir":
        ds = datasets.load_from_disk(str(path))
    else:
        parts = str(path)[3:].split(":")
        name, split = parts[0], (parts[1] if len(parts) > 1 else None)
        try:
            ds = datasets.load_dataset(name, split=split)
        except Exception as exc:  # network or hub errors: say what failed, clearly
            raise DataValidationError(
                f"{path}: could not load Hugging Face dataset {name!r} ({exc})"
            ) from exc
    if isinstance(ds, datasets.DatasetDict):
        ds = datasets.concatenate_datasets([ds[k] for k in sorted(ds)])
    return ds


def _source_name(path: Any) -> str:
    if isinstance(path, (str, os.PathLike)):
        return str(path)
    return f"<{type(path).__name__}>"


def _decode_line(raw: bytes, source: str, row: int) -> tuple[str | None, Issue | None]:
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        return None, Issue(
            source,
            row,
            None,
            f"wrong file encoding: line is not valid UTF-8 (byte 0x{raw[exc.start]:02x} at "
            f"position {exc.start}); re-save the file as UTF-8",
            raw.decode("utf-8", errors="replace")[:2000],
        )


def _open_bytes(path: Path):
    if path.suffix.lower() == ".gz":
        import gzip

        return gzip.open(path, "rb")
    return open(path, "rb")


def _utf16_text(path: Path) -> str | None:
    """Decode a file with a UTF-16 byte-order mark (unambiguous, so we accept it)."""
    with _open_bytes(path) as fh:
        head = fh.read(2)
    if head in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        with _open_bytes(path) as fh:
            return fh.read().decode("utf-16")
    return None


def _iter_jsonl(path: Path, source: str) -> Iterator[RawChunk]:
    utf16 = _utf16_text(path)
    if utf16 is not None:
        yield from _iter_jsonl_lines((t.encode("utf-8") for t in utf16.splitlines()), source)
    else:  # closed when the generator finishes or is closed (no ResourceWarning)
        with _open_bytes(path) as fh:
            yield from _iter_jsonl_lines(fh, source)


def _iter_jsonl_lines(lines, source: str) -> Iterator[RawChunk]:
    chunk = RawChunk()
    for row, raw in enumerate(lines, start=1):
        if row == 1 and raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8) :]
        if not raw.strip():
            continue
        text, issue = _decode_line(raw, source, row)
        if issue:
            chunk.issues.append(issue)
            continue
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            chunk.issues.append(
                Issue(
                    source,
                    row,
                    None,
                    f"malformed JSON: {exc.msg} at column {exc.colno}",
                    text.rstrip("\n")[:2000],
                )
            )
            continue
        if not isinstance(obj, dict):
            chunk.issues.append(
                Issue(
                    source,
                    row,
                    None,
                    f"expected a JSON object, got {type(obj).__name__}",
                    text.rstrip("\n")[:2000],
                )
            )
            continue
        chunk.records.append(obj)
        chunk.rows.append(row)
        if len(chunk.records) >= CHUNK_RECORDS:
            yield chunk
            chunk = RawChunk()
    yield chunk


def _read_csv_text_fallback(
    path: Path, source: str, delimiter: str
) -> tuple[pd.DataFrame, list[Issue]]:
    """Slow path for CSVs that are not clean UTF-8: quarantine undecodable lines, parse the rest."""
    issues: list[Issue] = []
    utf16 = _utf16_text(path)
    if utf16 is not None:
        text = utf16
    else:
        good: list[str] = []
        with _open_bytes(path) as fh:
            for row, raw in enumerate(fh, start=1):
                if row == 1 and raw.startswith(codecs.BOM_UTF8):
                    raw = raw[len(codecs.BOM_UTF8) :]
                decoded, issue = _decode_line(raw, source, row - 1)
                if issue:
                    if row == 1:
                        raise DataValidationError(
                            f"{source}: header line is not valid UTF-8; re-save the file as UTF-8"
                        )
                    issues.append(issue)
                    good.append("\n")  # keep row numbering stable; blank lines are skipped
                else:
                    good.append(decoded)
        text = "".join(good)
    df = pd.read_csv(
        io.StringIO(text), dtype=str, keep_default_na=False, sep=delimiter, skip_blank_lines=False
    )
    df["_row"] = range(1, len(df) + 1)
    blank = df.drop(columns="_row").eq("").all(axis=1)
    return df[~blank].reset_index(drop=True), issues


def _csv_header(path: Path, delimiter: str) -> list[str] | None:
    """Column names from the first line, or None when it is not clean UTF-8."""
    import csv

    with _open_bytes(path) as fh:
        first = fh.readline()
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    row = next(csv.reader([text], delimiter=delimiter), [])
    return [c.strip() for c in row]


def read_csv_frame(path: Path, source: str) -> tuple[pd.DataFrame, list[Issue]]:
    """Read a CSV as strings with a 1-based data-row number in ``_row``."""
    delimiter = sniff_delimiter(path)
    header = _csv_header(path, delimiter)
    if header is None:
        return _read_csv_text_fallback(path, source, delimiter)
    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(block_size=1 << 26),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                # every column as text: validation decides what is a number, so a bad value is
                # reported per row instead of failing the whole file
                column_types={name: pa.string() for name in header},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                null_values=[],
                auto_dict_encode=False,
            ),
        )
    except pa.ArrowInvalid as exc:
        msg = str(exc)
        if "UTF8" in msg or "utf8" in msg.lower() or "utf-8" in msg.lower():
            return _read_csv_text_fallback(path, source, delimiter)
        if "Empty CSV file" in msg:
            raise DataValidationError(f"{source}: empty CSV file (no header)") from exc
        raise DataValidationError(f"{source}: cannot parse CSV ({msg})") from exc
    df = table.to_pandas()
    if len(df.columns) and df.columns[0].startswith("\ufeff"):
        df = df.rename(columns={df.columns[0]: df.columns[0].lstrip("\ufeff")})
    df["_row"] = range(1, len(df) + 1)
    return df, []


def _frame_to_chunks(df: pd.DataFrame, source: str) -> Iterator[RawChunk]:
    for start in range(0, len(df), CHUNK_RECORDS):
        part = df.iloc[start : start + CHUNK_RECORDS]
        rows = (
            part["_row"].tolist()
            if "_row" in part
            else list(range(start + 1, start + len(part) + 1))
        )
        records = part.drop(columns=["_row"], errors="ignore").to_dict("records")
        yield RawChunk(records=records, rows=rows)


def _csv_transcript_chunks(path: Path, source: str) -> Iterator[RawChunk]:
    df, issues = read_csv_frame(path, source)
    if "turns" in df.columns:
        chunk_iter = _frame_to_chunks(df, source)
        first = True
        for chunk in chunk_iter:
            if first:
                chunk.issues = issues + chunk.issues
                first = False
            for rec, row in zip(chunk.records, chunk.rows):
                text = rec.get("turns")
                try:
                    rec["turns"] = json.loads(text) if text not in (None, "") else None
                except json.JSONDecodeError as exc:
                    rec["turns"] = _Unparsed(
                        f"turns is not valid JSON: {exc.msg} at column {exc.colno}"
                    )
                if isinstance(rec.get("metadata"), str) and rec["metadata"]:
                    try:
                        rec["metadata"] = json.loads(rec["metadata"])
                    except json.JSONDecodeError as exc:
                        rec["metadata"] = _Unparsed(f"metadata is not valid JSON: {exc.msg}")
            yield chunk
        if first:
            yield RawChunk(issues=issues)
        return
    if {"speaker", "text"} <= set(df.columns):
        yield _per_turn_records(df, source, issues)
        return
    raise DataValidationError(
        f"{source}: transcript CSV needs either a 'turns' column (JSON list of turns) or one row per "
        f"turn with 'speaker' and 'text' columns; found columns {', '.join(c for c in df.columns if c != '_row')}"
    )


class _Unparsed:
    """Marker for a field that could not be parsed; validation reports ``reason``."""

    def __init__(self, reason: str):
        self.reason = reason

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"<unparsed: {self.reason}>"


_TURN_COLUMNS = {"speaker", "text", "start_s", "turn_index", "_row"}


def _per_turn_records(df: pd.DataFrame, source: str, issues: list[Issue]) -> RawChunk:
    """Group a one-row-per-turn CSV into transcript records (turn order: turn_index, then file order)."""
    if "transcript_id" not in df.columns:
        raise DataValidationError(
            f"{source}: per-turn transcript CSV has no 'transcript_id' column"
        )
    if "turn_index" in df.columns:
        order = pd.to_numeric(df["turn_index"], errors="coerce")
        df = df.assign(_order=order).sort_values(["transcript_id", "_order", "_row"], kind="stable")
    chunk = RawChunk(issues=list(issues))
    for tid, group in df.groupby("transcript_id", sort=False):
        first = group.iloc[0]
        rec: dict[str, Any] = {
            k: first[k] for k in group.columns if k not in _TURN_COLUMNS and k != "_order"
        }
        rec["transcript_id"] = tid
        if isinstance(rec.get("metadata"), str) and rec["metadata"]:
            try:
                rec["metadata"] = json.loads(rec["metadata"])
            except json.JSONDecodeError as exc:
                rec["metadata"] = _Unparsed(f"metadata is not valid JSON: {exc.msg}")
        turns = []
        for _, t in group.iterrows():
            turn = {"speaker": t["speaker"], "text": t["text"]}
            if "start_s" in group.columns and t["start_s"] not in ("", None):
                turn["start_s"] = t["start_s"]
            turns.append(turn)
        rec["turns"] = turns
        chunk.records.append(rec)
        chunk.rows.append(int(group["_row"].min()))
    return chunk


def _table_records(table: pa.Table, source: str) -> Iterator[RawChunk]:
    for start in range(0, table.num_rows, CHUNK_RECORDS):
        part = table.slice(start, CHUNK_RECORDS).to_pylist()
        for rec in part:
            if isinstance(rec.get("metadata"), str) and rec["metadata"]:
                try:
                    rec["metadata"] = json.loads(rec["metadata"])
                except json.JSONDecodeError as exc:
                    rec["metadata"] = _Unparsed(f"metadata is not valid JSON: {exc.msg}")
            if isinstance(rec.get("turns"), str):
                try:
                    rec["turns"] = json.loads(rec["turns"])
                except json.JSONDecodeError as exc:
                    rec["turns"] = _Unparsed(f"turns is not valid JSON: {exc.msg}")
        yield RawChunk(records=part, rows=list(range(start + 1, start + len(part) + 1)))


def iter_transcript_records(path: Any) -> Iterator[RawChunk]:
    """Parse a transcripts input into chunks of raw record dicts (bounded memory for JSONL).

    Examples
    --------
    >>> chunks = list(iter_transcript_records("datasets/sample/transcripts.jsonl"))  # doctest: +SKIP
    """
    fmt = detect_format(path)
    source = _source_name(path)
    if fmt == "jsonl":
        yield from _iter_jsonl(Path(path), source)
    elif fmt == "csv":
        yield from _csv_transcript_chunks(Path(path), source)
    elif fmt == "parquet":
        yield from _table_records(pq.read_table(path), source)
    else:
        yield from _table_records(_hf_dataset(path, fmt).data.table, source)


def read_ratings_frame(path: Any) -> tuple[pd.DataFrame, list[Issue]]:
    """Read a ratings input as a DataFrame (values as parsed) with ``_row`` plus parse issues."""
    fmt = detect_format(path)
    source = _source_name(path)
    if fmt == "csv":
        return read_csv_frame(Path(path), source)
    if fmt == "jsonl":
        records, rows, issues = [], [], []
        for chunk in _iter_jsonl(Path(path), source):
            records.extend(chunk.records)
            rows.extend(chunk.rows)
            issues.extend(chunk.issues)
        df = pd.DataFrame.from_records(records) if records else pd.DataFrame()
        df["_row"] = rows
        return df, issues
    if fmt == "parquet":
        df = pq.read_table(path).to_pandas()
    else:
        df = _hf_dataset(path, fmt).to_pandas()
    df["_row"] = range(1, len(df) + 1)
    return df, []


RATING_BATCH_ROWS = 500_000


def _is_clean_utf8(path: Path, chunk: int = 1 << 24) -> bool:
    """Stream the file through an incremental UTF-8 decoder (bounded memory)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with _open_bytes(path) as fh:
            while block := fh.read(chunk):
                decoder.decode(block)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def iter_ratings_frames(
    path: Any, batch_rows: int = RATING_BATCH_ROWS, block_size: int = 1 << 24
) -> Iterator[tuple[pd.DataFrame, list[Issue]]]:
    """Yield a ratings input in batches of about ``batch_rows`` rows (``_row`` numbered globally).

    Clean UTF-8 CSVs are streamed with pyarrow's incremental reader so memory stays bounded;
    other inputs (and CSVs that need the line-by-line encoding fallback) come as one batch.
    """
    fmt = detect_format(path)
    if fmt != "csv" or _utf16_text(Path(path)) is not None or not _is_clean_utf8(Path(path)):
        yield read_ratings_frame(path)
        return
    p = Path(path)
    delimiter = sniff_delimiter(p)
    header = _csv_header(p, delimiter)
    try:
        reader = pacsv.open_csv(
            p,
            read_options=pacsv.ReadOptions(block_size=block_size),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types={name: pa.string() for name in header},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                null_values=[],
                auto_dict_encode=False,
            ),
        )
    except pa.ArrowInvalid as exc:
        if "Empty CSV file" in str(exc):
            raise DataValidationError(f"{path}: empty CSV file (no header)") from exc
        raise DataValidationError(f"{path}: cannot parse CSV ({exc})") from exc
    offset = 0
    pending: list[pa.RecordBatch] = []
    pending_rows = 0

    def flush() -> pd.DataFrame:
        nonlocal offset, pending, pending_rows
        df = pa.Table.from_batches(pending).to_pandas()
        if len(df.columns) and df.columns[0].startswith("\ufeff"):
            df = df.rename(columns={df.columns[0]: df.columns[0].lstrip("\ufeff")})
        df["_row"] = range(offset + 1, offset + len(df) + 1)
        offset += len(df)
        pending, pending_rows = [], 0
        return df

    try:
        for batch in reader:
            pending.append(batch)
            pending_rows += batch.num_rows
            if pending_rows >= batch_rows:
                yield flush(), []
    except pa.ArrowInvalid as exc:
        raise DataValidationError(
            f"{path}: cannot parse CSV after data row {offset + pending_rows} ({exc})"
        ) from exc
    if pending or offset == 0:
        if not pending:
            yield (
                pd.DataFrame({name: pd.Series(dtype=str) for name in header}).assign(
                    _row=pd.Series(dtype=int)
                ),
                [],
            )
        else:
            yield flush(), []
