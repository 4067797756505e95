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


def _json_msg(exc: Exception) -> str:
    """The reason for a JSON parse failure (a too-deep document is one, not a crash)."""
    if isinstance(exc, RecursionError):
        return "JSON nested too deeply (more than ~1,000 levels)"
    return f"{exc.msg} at column {exc.colno}"


def _read_parquet(path: Any, source: str) -> pa.Table:
    """Read a Parquet file; a corrupt or truncated one is a clean error naming the file."""
    try:
        return pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise DataValidationError(
            f"{source}: not a readable Parquet file ({str(exc).splitlines()[0][:300]})"
        ) from exc


def _check_header(header: list[str], source: str) -> None:
    """A CSV header naming one column twice is a file-level error (values would be ambiguous)."""
    seen: set[str] = set()
    for name in header:
        if name in seen:
            raise DataValidationError(
                f"{source}: duplicate column name {name!r} in the CSV header; every column "
                "needs its own name"
            )
        seen.add(name)


def _open_bytes(path: Path):
    if path.suffix.lower() == ".gz":
        import gzip

        return gzip.open(path, "rb")
    return open(path, "rb")


def _lines(path: Path) -> Iterator[bytes]:
    """The file's byte lines; the file is closed when the lines are exhausted or dropped."""
    with _open_bytes(path) as fh:
        yield from fh


def _utf16_text(path: Path) -> str | None:
    """Decode a file with a UTF-16 byte-order mark (unambiguous, so we accept it)."""
    with _open_bytes(path) as fh:
        head = fh.read(2)
    if head in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        with _open_bytes(path) as fh:
            return fh.read().decode("utf-16")
    return None


def _iter_jsonl(path: Path, source: str) -> Iterator[RawChunk]:
    chunk = RawChunk()
    utf16 = _utf16_text(path)
    lines = (
        # only \n (with an optional \r before it) ends a record: str.splitlines() would also
        # split on U+2028/U+2029/NEL/VT/FF, which are valid inside a JSON string
        (ln.removesuffix("\r").encode("utf-8") for ln in utf16.split("\n"))
        if utf16 is not None
        else _lines(path)
    )
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
        except (json.JSONDecodeError, RecursionError) as exc:
            chunk.issues.append(
                Issue(
                    source,
                    row,
                    None,
                    f"malformed JSON: {_json_msg(exc)}",
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
    """Slow path: parse a CSV record by record so one bad row is quarantined, not the file.

    Used when pyarrow cannot read the file as a whole (bytes that are not UTF-8, a row with
    the wrong number of fields, an unterminated quote). Rules:

    * a record (possibly spanning several lines inside quotes) containing a line that is not
      valid UTF-8 is quarantined whole, never stored with the line cut out;
    * a record with more or fewer fields than the header is quarantined;
    * a record that cannot be parsed (an unterminated quote, a stray quote) is quarantined as
      its first physical line, and parsing resumes on the next line, so the rest of the file
      is read normally;
    * only ``\n``, ``\r\n`` and ``\r`` end a line (never U+2028/U+2029/NEL).

    Row numbers count data records (blank lines are skipped), as on the fast path.
    """
    import csv

    lines: list[str] = []
    bad_lines: set[int] = set()
    utf16 = _utf16_text(path)
    if utf16 is not None:
        lines = list(io.StringIO(utf16, newline=""))
    else:
        with _open_bytes(path) as fh:
            for i, raw in enumerate(fh):
                if i == 0 and raw.startswith(codecs.BOM_UTF8):
                    raw = raw[len(codecs.BOM_UTF8) :]
                try:
                    lines.append(raw.decode("utf-8"))
                except UnicodeDecodeError:
                    if i == 0:
                        raise DataValidationError(
                            f"{source}: header line is not valid UTF-8; re-save the file as UTF-8"
                        ) from None
                    bad_lines.add(i)
                    lines.append(raw.decode("utf-8", errors="replace"))
    if not lines:
        raise DataValidationError(f"{source}: empty CSV file (no header)")
    header = [
        c.strip() for c in next(csv.reader([lines[0].lstrip("\ufeff")], delimiter=delimiter), [])
    ]
    _check_header(header, source)
    records: list[list[str]] = []
    rows: list[int] = []
    issues: list[Issue] = []
    row = 0
    pos = 1  # index of the next unread line

    def feed(start: int):
        nonlocal pos
        pos = start
        while pos < len(lines):
            pos += 1
            yield lines[pos - 1]

    reader = csv.reader(feed(1), delimiter=delimiter, strict=True)
    while pos < len(lines):
        first = pos
        try:
            rec = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            # an unterminated or stray quote: quarantine the line the record started on and
            # resume on the next one
            row += 1
            issues.append(
                Issue(
                    source,
                    row,
                    None,
                    f"cannot parse this CSV row ({exc}; an unterminated quote?); only this "
                    "line was quarantined, the rest of the file was read",
                    lines[first].rstrip("\r\n")[:2000],
                )
            )
            pos = first + 1  # (the generator below only runs on the next read)
            reader = csv.reader(feed(first + 1), delimiter=delimiter, strict=True)
            continue
        if not rec or (len(rec) == 1 and not rec[0].strip() and len(header) > 1):
            continue  # blank line
        row += 1
        span = range(first, pos)
        text = "".join(lines[i] for i in span).rstrip("\r\n")
        hit = [i for i in span if i in bad_lines]
        if hit:
            issues.append(
                Issue(
                    source,
                    row,
                    None,
                    "wrong file encoding: line "
                    + str(hit[0] + 1)
                    + " of the file (inside this row) is not valid UTF-8; re-save the file as "
                    "UTF-8 (the row was not stored, so no part of a value was lost silently)",
                    text[:2000],
                )
            )
            continue
        if len(rec) != len(header):
            issues.append(
                Issue(
                    source,
                    row,
                    None,
                    f"row has {len(rec)} fields but the header has {len(header)} columns",
                    text[:2000],
                )
            )
            continue
        records.append(rec)
        rows.append(row)
    df = pd.DataFrame(records, columns=header, dtype=object)
    if not len(df):
        df = pd.DataFrame({name: pd.Series(dtype=object) for name in header})
    df = df.astype(str) if len(df) else df
    df["_row"] = rows
    return df, issues


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
    _check_header(header, source)
    if not _quotes_balanced(path):
        # pyarrow would read an unterminated quote to the end of the file as one value
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
        # a ragged row or a bad quote: parse record by record and quarantine only those rows
        return _read_csv_text_fallback(path, source, delimiter)
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
            for rec, _row in zip(chunk.records, chunk.rows):
                text = rec.get("turns")
                try:
                    rec["turns"] = json.loads(text) if text not in (None, "") else None
                except (json.JSONDecodeError, RecursionError) as exc:
                    rec["turns"] = _Unparsed(f"turns is not valid JSON: {_json_msg(exc)}")
                if isinstance(rec.get("metadata"), str) and rec["metadata"]:
                    try:
                        rec["metadata"] = json.loads(rec["metadata"])
                    except (json.JSONDecodeError, RecursionError) as exc:
                        rec["metadata"] = _Unparsed(f"metadata is not valid JSON: {_json_msg(exc)}")
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
        # Transcript-level columns must agree across the rows of one transcript (a blank
        # cell repeats nothing and is fine); two different values quarantine the transcript
        # instead of silently keeping the first row's.
        by_row = group.sort_values("_row", kind="stable")
        rec: dict[str, Any] = {}
        conflict: Issue | None = None
        for k in group.columns:
            if k in _TURN_COLUMNS or k == "_order":
                continue
            seen: dict[Any, int] = {}
            for value, row in zip(by_row[k], by_row["_row"]):
                key = value.strip() if isinstance(value, str) else value
                if _blank_cell(key):
                    continue
                seen.setdefault(key, int(row))
            if len(seen) > 1 and conflict is None:
                shown = ", ".join(f"{v!r} (row {r})" for v, r in list(seen.items())[:3])
                conflict = Issue(
                    source,
                    int(by_row["_row"].iloc[0]),
                    k,
                    f"rows of transcript {tid!r} disagree on {k}: {shown}; one transcript has "
                    f"one {k}",
                    json.dumps(
                        {
                            c: str(v)
                            for c, v in by_row.iloc[0].items()
                            if c not in ("_row", "_order")
                        },
                        ensure_ascii=False,
                    )[:2000],
                )
            rec[k] = next(iter(seen), by_row[k].iloc[0])
        if conflict is not None:
            chunk.issues.append(conflict)
            continue
        rec["transcript_id"] = tid
        if isinstance(rec.get("metadata"), str) and rec["metadata"]:
            try:
                rec["metadata"] = json.loads(rec["metadata"])
            except (json.JSONDecodeError, RecursionError) as exc:
                rec["metadata"] = _Unparsed(f"metadata is not valid JSON: {_json_msg(exc)}")
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


def _blank_cell(value: Any) -> bool:
    if value is None or (isinstance(value, float) and value != value):
        return True
    return isinstance(value, str) and not value


def _table_records(table: pa.Table, source: str) -> Iterator[RawChunk]:
    for start in range(0, table.num_rows, CHUNK_RECORDS):
        part = table.slice(start, CHUNK_RECORDS).to_pylist()
        for rec in part:
            if isinstance(rec.get("metadata"), str) and rec["metadata"]:
                try:
                    rec["metadata"] = json.loads(rec["metadata"])
                except (json.JSONDecodeError, RecursionError) as exc:
                    rec["metadata"] = _Unparsed(f"metadata is not valid JSON: {_json_msg(exc)}")
            if isinstance(rec.get("turns"), str):
                try:
                    rec["turns"] = json.loads(rec["turns"])
                except (json.JSONDecodeError, RecursionError) as exc:
                    rec["turns"] = _Unparsed(f"turns is not valid JSON: {_json_msg(exc)}")
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
        yield from _table_records(_read_parquet(path, source), source)
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
        df = _read_parquet(path, source).to_pandas()
    else:
        df = _hf_dataset(path, fmt).to_pandas()
    df["_row"] = range(1, len(df) + 1)
    return df, []


RATING_BATCH_ROWS = 500_000


def _quotes_balanced(path: Path, chunk: int = 1 << 24) -> bool:
    """False when the file has an odd number of ``"``: a quote is never closed somewhere.

    (Escaped quotes are doubled, so well-formed CSV always has an even count.)
    """
    n = 0
    with _open_bytes(path) as fh:
        while block := fh.read(chunk):
            n += block.count(b'"')
    return n % 2 == 0


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
    if (
        fmt != "csv"
        or _utf16_text(Path(path)) is not None
        or not _is_clean_utf8(Path(path))
        or not _quotes_balanced(Path(path))
    ):
        yield read_ratings_frame(path)
        return
    p = Path(path)
    delimiter = sniff_delimiter(p)
    header = _csv_header(p, delimiter)
    _check_header(header, str(path))
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
        yield _read_csv_text_fallback(p, str(path), delimiter)
        return
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
    except pa.ArrowInvalid:
        # A ragged or badly quoted row: re-read record by record (bad rows quarantined) and
        # yield what was not yielded yet. Both parsers agree on the well-formed rows before it.
        df, issues = _read_csv_text_fallback(p, str(path), delimiter)
        yield (
            df[df["_row"] > offset].reset_index(drop=True),
            [i for i in issues if i.row is None or i.row > offset],
        )
        return
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
