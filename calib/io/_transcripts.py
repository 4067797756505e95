"""Transcript documents as real tools write them: WebVTT, SubRip, text, Word, JSON segments.

One file is one interview; its transcript id is the file name without the extension (for files
inside a folder given to ``--transcripts``: the path relative to that folder, without the
extension, e.g. ``2026-03/alice``). Each file is parsed into *segments* (speaker label, text,
start and end seconds), speaker labels are mapped to roles (:mod:`calib.io._speakers`),
consecutive segments of one speaker are merged into one turn, and the turn keeps the speaker's
name and the first segment's start time.

Formats (parsers from PyPI where one exists):

* ``.vtt`` (webvtt-py): voice tags ``<v Priya Shah>text``, or ``Name: text`` /
  ``[Name] text`` inside a cue (Zoom, Teams, Meet exports). A cue without a speaker continues
  the previous speaker.
* ``.srt`` (srt): ``Name: text`` or ``[Name] text`` inside a subtitle.
* ``.txt``: one turn per ``Name: text`` line, optionally prefixed with a timestamp
  (``[00:01:02] Name: text``, ``00:01:02 Name: text``) or with a timestamp after the name
  (``Name (00:01:02): text``); also speaker header lines followed by the text on the next
  lines (``Priya Shah  0:02`` as Otter writes, or ``Priya Shah (00:00:05):`` as Rev writes).
  Unlabelled lines continue the current turn; lines before the first label are kept in the
  transcript's ``metadata.preamble``.
* ``.docx`` (python-docx): the paragraphs (and table rows: speaker, optional time, text) read
  as lines of a text transcript.
* ``.json``: a list of segments ``[{speaker, start, end, text}]`` or an object holding one
  under ``segments``, ``utterances``, ``monologues`` or ``results`` (WhisperX, Deepgram,
  AssemblyAI-style). Times are seconds (numbers or ``HH:MM:SS.mmm`` text). A JSON object (or
  list of objects) with a ``turns`` list is a canonical transcript record instead.

A speaker label is 1-6 words that each start with a capital letter or digit (``Priya Shah``,
``SPEAKER_00``, ``Speaker 1``, ``INTERVIEWER (Marco Rossi)``), or a name given with
``--interviewers``/``--speaker-map`` in any case; so ``For example: ...`` inside an answer is
text, not a speaker.
"""

from __future__ import annotations

import codecs
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from calib.io._readers import Issue, RawChunk, _is_hf_dir
from calib.io._speakers import SpeakerRoles, infer_roles, normalise_name, role_from_label

__all__ = [
    "DOCUMENT_SUFFIXES",
    "TABLE_SUFFIXES",
    "RoleNote",
    "is_document_input",
    "expand_transcript_inputs",
    "read_document",
]

DOCUMENT_SUFFIXES = {".vtt", ".srt", ".txt", ".docx", ".json"}
TABLE_SUFFIXES = {".jsonl", ".ndjson", ".csv", ".tsv", ".parquet", ".pq"}

_TS = r"(?:\d{1,2}:)?\d{1,2}:\d{1,2}(?:[.,]\d{1,3})?"
_TS_RE = re.compile(rf"^{_TS}$")
_NAME_PARTICLES = {"de", "da", "di", "del", "van", "von", "der", "den", "la", "le", "bin", "al"}
_LABEL_CHARS = r"[^\W_][\w .'’()\-&/]{0,70}?"
# "[00:01:02] Name: text", "00:01:02 - Name: text", "Name (00:01:02): text", "Name: text"
_LINE_RE = re.compile(
    rf"^\s*(?:[\[(]?(?P<ts>{_TS})[\])]?\s*[-–|]?\s*)?"
    rf"(?P<label>{_LABEL_CHARS})\s*(?:[\[(](?P<ts2>{_TS})[\])])?\s*:\s+(?P<text>\S.*)$"
)
# "[Name] text" (caption style)
_BRACKET_RE = re.compile(rf"^\s*\[(?P<label>{_LABEL_CHARS})\]\s*:?\s+(?P<text>\S.*)$")
# header line: "Priya Shah  0:02", "Priya Shah (00:00:05):", "Priya Shah:", "[00:01] Priya Shah:",
# "[Priya Shah] 10:01:12" (Zoom text), "Priya Shah [00:00:05]" (Descript/Trint)
_HEADER_RE = re.compile(
    rf"^\s*(?:[\[(]?(?P<ts>{_TS})[\])]?\s*[-–|]?\s*)?\[?(?P<label>{_LABEL_CHARS})\]?"
    rf"(?:\s*[-–|]?\s*[\[(]?(?P<ts2>{_TS})[\])]?)?\s*:?\s*$"
)
# a caption timing line inside text ("0:0:0.0 --> 0:0:5.0", Teams .docx; "00:00:01,000 --> ...")
_TIMING_RE = re.compile(rf"^\s*(?P<ts>{_TS})\s*-->\s*(?P<end>{_TS})\b.*$")
_VOICE_RE = re.compile(r"<v(?:\.[^\s>]*)?\s+([^>]+)>", re.IGNORECASE)
_TAG_RE = re.compile(r"</?[^>]+>")


@dataclass
class RoleNote:
    """How one file's speakers were given roles (printed by the ingest summary)."""

    source: str
    method: str
    roles: dict[str, str]


@dataclass
class _Segment:
    label: str | None
    text: str
    start: float | None = None
    end: float | None = None


@dataclass
class DocumentResult:
    """A parsed document: the raw transcript record, or an issue; plus role notes."""

    record: dict | None = None
    issue: Issue | None = None
    note: RoleNote | None = None
    extra: dict = field(default_factory=dict)


def _seconds(value: Any) -> float | None:
    """Seconds from a number or a ``[HH:]MM:SS[.mmm]`` / ``12.5s`` text; None when absent."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip().rstrip("sS")
    if not text:
        return None
    if ":" in text:
        parts = text.replace(",", ".").split(":")
        try:
            total = 0.0
            for p in parts:
                total = total * 60 + float(p)
            return total
        except ValueError:
            return None
    try:
        return float(text)
    except ValueError:
        return None


def _label_ok(label: str, roles: SpeakerRoles) -> bool:
    label = label.strip()
    if not label or len(label) > 70:
        return False
    if roles.get(label) or role_from_label(label)[0] or normalise_name(label) in roles.names:
        return True
    words = re.sub(r"[()]", " ", label).split()
    if not 1 <= len(words) <= 6:
        return False
    return all(w[0].isupper() or w[0].isdigit() or w.lower() in _NAME_PARTICLES for w in words)


def _split_line(line: str, roles: SpeakerRoles) -> tuple[str | None, str, float | None]:
    """(label, text, start seconds) of one line; label None when the line has no speaker."""
    for rx in (_LINE_RE, _BRACKET_RE):
        m = rx.match(line)
        if (
            m
            and _label_ok(m.group("label"), roles)
            and not _TS_RE.match(m.group("label"))
            and not _TS_RE.match(m.group("text").strip(" []()"))  # "[Name] 10:01:12": a header
        ):
            ts = m.groupdict().get("ts") or m.groupdict().get("ts2")
            return m.group("label").strip(), m.group("text").strip(), _seconds(ts)
    return None, line.strip(), None


def _header(line: str, roles: SpeakerRoles) -> tuple[str, float | None] | None:
    """Parse a speaker header line (name with a time or a colon, text on the next lines)."""
    m = _HEADER_RE.match(line)
    if not m or _TS_RE.match(m.group("label").strip()):
        return None
    label = m.group("label").strip()
    ts = m.group("ts") or m.group("ts2")
    has_marker = ts is not None or line.rstrip().endswith(":")
    if not has_marker and not roles.get(label):
        return None
    if not _label_ok(label, roles):
        return None
    return label, _seconds(ts)


def _relaxed_roles(lines: list[str], roles: SpeakerRoles) -> SpeakerRoles | None:
    """Known names for a second pass when no line had a label by the strict rule: labels of
    1-3 words in any case ("priya: ...") that start at least two lines, two speakers or more.
    """
    counts: dict[str, int] = {}
    for line in lines:
        m = _LINE_RE.match(line.strip()) or _BRACKET_RE.match(line.strip())
        if m and 1 <= len(m.group("label").split()) <= 3 and not _TS_RE.match(m.group("label")):
            key = normalise_name(m.group("label"))
            counts[key] = counts.get(key, 0) + 1
    names = {k for k, c in counts.items() if c >= 2}
    if len(names) < 2:
        return None
    return SpeakerRoles(dict(roles.roles), names=set(roles.names) | names)


def _text_segments(lines: list[str], roles: SpeakerRoles) -> tuple[list[_Segment], list[str]]:
    """Segments of a text transcript, plus the lines before the first speaker label."""
    segments, preamble = _text_segments_once(lines, roles)
    if not segments:
        relaxed = _relaxed_roles(lines, roles)
        if relaxed is not None:
            return _text_segments_once(lines, relaxed)
    return segments, preamble


def _text_segments_once(lines: list[str], roles: SpeakerRoles) -> tuple[list[_Segment], list[str]]:
    segments: list[_Segment] = []
    preamble: list[str] = []
    timing: tuple[float | None, float | None] | None = None  # from a "a --> b" line
    stripped = [ln.strip() for ln in lines]
    stripped = [ln for ln in stripped if ln]
    for i, line in enumerate(stripped):
        t = _TIMING_RE.match(line)
        if t:
            timing = (_seconds(t.group("ts")), _seconds(t.group("end")))
            continue
        if line.isdigit() and i + 1 < len(stripped) and _TIMING_RE.match(stripped[i + 1]):
            continue  # a cue number before a timing line
        if timing is not None:
            # after a timing line: "Name" alone on a line (Teams) or "Name: text"
            label, text, start = _split_line(line, roles)
            if label is None and _label_ok(line, roles) and len(line.split()) <= 4:
                segments.append(_Segment(line, "", timing[0], timing[1]))
            elif label is not None:
                segments.append(_Segment(label, text, timing[0], timing[1]))
            elif segments:
                segments.append(_Segment(segments[-1].label, line, timing[0], timing[1]))
            else:
                preamble.append(line)
            timing = None
            continue
        label, text, start = _split_line(line, roles)
        if label is not None:
            segments.append(_Segment(label, text, start))
            continue
        head = _header(line, roles)
        if head is not None:
            segments.append(_Segment(head[0], "", head[1]))
            continue
        if segments:
            prev = segments[-1]
            prev.text = f"{prev.text}\n{line}" if prev.text else line
        else:
            preamble.append(line)
    return [s for s in segments if s.text.strip()], preamble


def _caption_segments(
    cues: list[tuple[float | None, float | None, str]], roles: SpeakerRoles
) -> list[_Segment]:
    """Segments of captions: a cue may hold several voices/labels, one per line."""
    segments: list[_Segment] = []
    for start, end, raw in cues:
        for line in raw.splitlines():
            if not line.strip():
                continue
            voice = _VOICE_RE.search(line)
            if voice:
                label = voice.group(1).strip()
                text = _TAG_RE.sub("", line).strip()
            else:
                text = _TAG_RE.sub("", line).strip()
                text = re.sub(r"^[-–]\s+", "", text)
                label, text, _ = _split_line(text, roles)
            if not text:
                continue
            segments.append(_Segment(label, text, start, end))
    return segments


def _decode(path: Path, source: str) -> tuple[str | None, Issue | None]:
    data = path.read_bytes()
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16"), None
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return None, Issue(
            source,
            line,
            None,
            f"wrong file encoding: not valid UTF-8 (byte 0x{data[exc.start]:02x} on line {line}); "
            "re-save the file as UTF-8",
        )


def _vtt_cues(text: str) -> list[tuple[float | None, float | None, str]]:
    import webvtt

    if not text.lstrip("\ufeff").lstrip().startswith("WEBVTT"):
        text = "WEBVTT\n\n" + text  # some tools omit the header; the cues are still WebVTT
    doc = webvtt.from_string(text)
    return [(_seconds(c.start), _seconds(c.end), c.raw_text) for c in doc.captions]


def _srt_cues(text: str) -> list[tuple[float | None, float | None, str]]:
    import srt

    return [
        (s.start.total_seconds(), s.end.total_seconds(), s.content)
        for s in srt.parse(text, ignore_errors=False)
    ]


def _docx_lines(path: Path) -> list[str]:
    import docx
    from docx.table import Table

    document = docx.Document(str(path))
    lines: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            for row in block.rows:
                cells: list[str] = []
                for cell in row.cells:  # merged cells repeat: keep each once
                    value = cell.text.strip()
                    if value and (not cells or cells[-1] != value):
                        cells.append(value)
                if len(cells) < 2:
                    lines.extend(cells)
                    continue
                times = [c for c in cells if _TS_RE.match(c)]
                rest = [c for c in cells if not _TS_RE.match(c)]
                if len(rest) >= 2:
                    prefix = f"[{times[0]}] " if times else ""
                    lines.append(f"{prefix}{rest[0]}: {' '.join(rest[1:])}")
                else:
                    lines.append(" ".join(cells))
        else:
            lines.extend(block.text.splitlines())
    return lines


_SEGMENT_KEYS = ("segments", "utterances", "monologues", "results", "transcript", "captions")
_SPEAKER_KEYS = (
    "speaker",
    "speaker_label",
    "speaker_name",
    "speaker_id",
    "name",
    "role",
    "participant",
    "user",
)
_TEXT_KEYS = ("text", "transcript", "content", "utterance", "sentence")
_START_KEYS = ("start", "start_s", "start_time", "startTime", "begin", "offset", "start_seconds")
_END_KEYS = ("end", "end_s", "end_time", "endTime", "stop", "end_seconds")


def _pick(d: dict, keys: tuple[str, ...]) -> Any:
    for k in keys:
        if k in d and d[k] is not None:
            return d[k]
    return None


def _json_segments(doc: Any) -> list[dict] | None:
    """Return the segment list of a JSON document, or None when it is not a segment document."""
    items = doc
    if isinstance(doc, dict):
        items = None
        for key in _SEGMENT_KEYS:
            value = doc.get(key)
            if isinstance(value, dict):  # e.g. Deepgram {"results": {"utterances": [...]}}
                value = _json_segments(value)
            if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
                items = value
                break
    if not isinstance(items, list) or not items or not all(isinstance(v, dict) for v in items):
        return None
    if not any(_pick(v, _TEXT_KEYS) is not None or "words" in v or "elements" in v for v in items):
        return None
    return items


def _milliseconds(items: list[dict]) -> bool:
    """Whether times are integer milliseconds (AssemblyAI style): every start/end an integer
    and the last one beyond 10 hours if read as seconds.
    """
    values = [
        v
        for item in items
        for v in (_pick(item, _START_KEYS), _pick(item, _END_KEYS))
        if v is not None
    ]
    return (
        bool(values)
        and all(isinstance(v, int) and not isinstance(v, bool) for v in values)
        and max(values) > 36_000
    )


def _segments_from_json(items: list[dict]) -> list[_Segment]:
    segments = []
    scale = 0.001 if _milliseconds(items) else 1.0
    for item in items:
        text = _pick(item, _TEXT_KEYS)
        if text is None and isinstance(item.get("words"), list):
            text = " ".join(
                str(w.get("text", w.get("word", ""))) if isinstance(w, dict) else str(w)
                for w in item["words"]
            )
        if text is None and isinstance(item.get("elements"), list):  # Rev.ai monologues
            els = [e for e in item["elements"] if isinstance(e, dict)]
            text = "".join(str(e.get("value", "")) for e in els)
            if _pick(item, _START_KEYS) is None:
                ts = [e["ts"] for e in els if isinstance(e.get("ts"), (int, float))]
                if ts:
                    item = {**item, "start": ts[0]}
        speaker = _pick(item, _SPEAKER_KEYS)
        if isinstance(speaker, dict):
            speaker = _pick(speaker, ("name", "label", "id"))
        if isinstance(speaker, (int, float)) and not isinstance(speaker, bool):
            speaker = f"Speaker {speaker:g}"
        segments.append(
            _Segment(
                None if speaker is None or not str(speaker).strip() else str(speaker).strip(),
                "" if text is None else str(text).strip(),
                _scaled(_seconds(_pick(item, _START_KEYS)), item, "start_ms", scale),
                _scaled(_seconds(_pick(item, _END_KEYS)), item, "end_ms", scale),
            )
        )
    return [s for s in segments if s.text]


def _scaled(value: float | None, item: dict, ms_key: str, scale: float) -> float | None:
    if value is None and isinstance(item.get(ms_key), (int, float)):
        return float(item[ms_key]) / 1000
    return None if value is None else value * scale


def _is_record(obj: Any) -> bool:
    return isinstance(obj, dict) and isinstance(obj.get("turns"), list)


def json_document_kind(path: Path) -> str:
    """``segments``, ``records`` (canonical transcript objects), ``other`` (one JSON document
    of another shape) or ``jsonl`` (not one JSON document: JSON lines) for a .json file.
    """
    try:
        doc = json.loads(path.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return "jsonl"
    if _is_record(doc) or (isinstance(doc, list) and doc and all(_is_record(d) for d in doc)):
        return "records"
    # one JSON document that is neither: read as a document, so it is one file-level issue
    # ("neither a segment list nor a transcript record") rather than a quarantined line each
    return "segments" if _json_segments(doc) is not None else "other"


def is_document_input(path: Any) -> bool:
    """Whether ``path`` is read by this module (a transcript document or a plain folder)."""
    if not isinstance(path, (str, os.PathLike)) or str(path).startswith("hf:"):
        return False
    p = Path(path)
    if p.is_dir():
        return not _is_hf_dir(p)
    suffix = p.suffix.lower()
    if suffix == ".json":
        return p.is_file() and json_document_kind(p) != "jsonl"
    return suffix in DOCUMENT_SUFFIXES


def expand_transcript_inputs(path: Any) -> tuple[list[tuple[Any, str | None]], list[str]]:
    """List the inputs to read for one ``--transcripts`` argument.

    Returns ``(items, skipped)``: items are ``(path, transcript id or None)`` (None: the file
    holds its own ids); a plain folder expands to its transcript files (recursively, sorted),
    each with the id of its relative path without extension. ``skipped`` lists the files of
    a folder that are not transcripts (hidden files are ignored).
    """
    if not isinstance(path, (str, os.PathLike)) or str(path).startswith("hf:"):
        return [(path, None)], []
    p = Path(path)
    if not p.exists():
        from calib.errors import DataValidationError

        raise DataValidationError(f"{p}: file not found")
    if not p.is_dir() or _is_hf_dir(p):
        return [(path, p.stem if p.suffix.lower() in DOCUMENT_SUFFIXES else None)], []
    items: list[tuple[Any, str | None]] = []
    skipped: list[str] = []
    for f in sorted(p.rglob("*")):
        rel = f.relative_to(p)
        if any(part.startswith((".", "~$")) for part in rel.parts) or not f.is_file():
            continue
        suffix = f.suffix.lower()
        if suffix in DOCUMENT_SUFFIXES:
            items.append((f, rel.with_suffix("").as_posix()))
        elif suffix in TABLE_SUFFIXES or f.name.lower().endswith((".jsonl.gz", ".csv.gz")):
            items.append((f, None))
        else:
            skipped.append(str(f))
    return items, skipped


def read_document(
    path: Path, transcript_id: str, roles: SpeakerRoles, source: str | None = None
) -> DocumentResult:
    """Parse one transcript document into a raw transcript record (or a file-level issue).

    Parameters
    ----------
    path : Path
        A ``.vtt``, ``.srt``, ``.txt``, ``.docx`` or ``.json`` segment file.
    transcript_id : str
        Id for the transcript (the file stem by default).
    roles : SpeakerRoles
        Known speaker roles (``--interviewers``, ``--speaker-map``).

    Returns
    -------
    DocumentResult
        ``record`` with ``transcript_id`` and ``turns`` (``speaker`` is the role, ``name`` the
        label as written, ``start_s``/``end_s`` seconds), or ``issue`` naming the file and
        what is wrong; ``note`` says how speaker roles were decided.

    Examples
    --------
    >>> r = read_document(Path("tests/io/byod/zoom/alice.vtt"), "alice", SpeakerRoles())  # doctest: +SKIP
    >>> r.record["turns"][0]["speaker"], r.record["turns"][0]["name"]  # doctest: +SKIP
    ('interviewer', 'Priya Shah')
    """
    source = source or str(path)
    suffix = path.suffix.lower()
    preamble: list[str] = []

    def fail(reason: str, row: int | None = None, fld: str | None = None) -> DocumentResult:
        return DocumentResult(issue=Issue(source, row, fld, reason, None))

    try:
        if suffix == ".docx":
            segments, preamble = _text_segments(_docx_lines(path), roles)
            kind = "Word document"
        else:
            text, issue = _decode(path, source)
            if issue is not None:
                return DocumentResult(issue=issue)
            if suffix in (".vtt", ".srt"):
                cues = _vtt_cues(text) if suffix == ".vtt" else _srt_cues(text)
                segments = _caption_segments(cues, roles)
                if all(sg.label is None for sg in segments):  # labels in lower case?
                    relaxed = _relaxed_roles([ln for c in cues for ln in c[2].splitlines()], roles)
                    if relaxed is not None:
                        segments = _caption_segments(cues, relaxed)
                kind = "WebVTT file" if suffix == ".vtt" else "SubRip file"
            elif suffix == ".json":
                items = _json_segments(json.loads(text))
                if items is None:
                    return fail("JSON file is neither a segment list nor a transcript record")
                segments = _segments_from_json(items)
                kind = "JSON segment list"
            else:
                segments, preamble = _text_segments(text.splitlines(), roles)
                kind = "text transcript"
    except Exception as exc:  # noqa: BLE001 - any parser failure is this file's problem
        name = type(exc).__name__
        return fail(f"cannot parse {suffix or 'file'}: {name}: {str(exc)[:300]}")
    if not segments:
        return fail(f"{kind} holds no text")
    # captions without a speaker continue the previous speaker
    last = None
    for s in segments:
        if s.label is None:
            s.label = last
        last = s.label
    if all(s.label is None for s in segments):
        return fail(
            f"{kind} has no speaker labels (expected 'Name: text' lines"
            + (", <v Name> voice tags" if suffix == ".vtt" else "")
            + "); calib needs to know who speaks",
            fld="turns.speaker",
        )
    if segments[0].label is None:  # text before the first label: keep it as preamble
        while segments and segments[0].label is None:
            preamble.append(segments.pop(0).text)
    # merge consecutive segments of one speaker
    merged: list[dict] = []
    joiner = "\n" if kind in ("text transcript", "Word document") else " "
    for s in segments:
        if merged and normalise_name(merged[-1]["label"]) == normalise_name(s.label):
            m = merged[-1]
            m["text"] = f"{m['text']}{joiner}{s.text}"
            if s.end is not None:
                m["end_s"] = s.end
            continue
        merged.append({"label": s.label, "text": s.text, "start_s": s.start, "end_s": s.end})
    decision = infer_roles(merged, roles)
    if decision.problem:
        return fail(decision.problem, fld="turns.speaker")
    turns = []
    for m in merged:
        role, name = role_from_label(m["label"])
        turns.append(
            {
                "speaker": decision.roles[m["label"]],
                "name": (name or None) if role is not None else m["label"],
                "text": m["text"],
                "start_s": m["start_s"],
                "end_s": m["end_s"],
            }
        )
    record: dict[str, Any] = {"transcript_id": transcript_id, "turns": turns}
    if preamble:
        record["metadata"] = {"preamble": "\n".join(preamble)[:2000]}
    return DocumentResult(
        record=record, note=RoleNote(source, decision.method, dict(decision.roles))
    )


def iter_document_chunks(
    path: Path, transcript_id: str, roles: SpeakerRoles, notes: list[RoleNote]
) -> Iterator[RawChunk]:
    """One chunk holding the document's record (row 1) or its file-level issue."""
    if path.suffix.lower() == ".json" and json_document_kind(path) == "records":
        doc = json.loads(path.read_text(encoding="utf-8-sig"))
        docs = doc if isinstance(doc, list) else [doc]
        for d in docs:
            if len(docs) == 1:
                d.setdefault("transcript_id", transcript_id)
        yield RawChunk(records=docs, rows=list(range(1, len(docs) + 1)))
        return
    result = read_document(path, transcript_id, roles, source=str(path))
    if result.issue is not None:
        yield RawChunk(issues=[result.issue])
        return
    if result.note is not None:
        notes.append(result.note)
    yield RawChunk(records=[result.record], rows=[1])


DEFAULT_QUESTION_ID = "unspecified"
DEFAULT_QUESTION_TYPE = "unspecified"


@dataclass
class TranscriptOptions:
    """How to complete transcript records from tools that lack calib's fields.

    Parameters
    ----------
    roles : SpeakerRoles
        Known speaker roles (``--interviewers``, ``--speaker-map``).
    question_id, question_type : str, optional
        Values for records that do not give them (``--question-id``, ``--question-type``);
        default ``"unspecified"``.
    info : dict, optional
        Sidecar fields per transcript id (``--transcript-info``): ``question_id``,
        ``question_type``, ``interviewed_at`` and metadata keys. They fill fields the record
        does not give.
    """

    roles: SpeakerRoles = field(default_factory=SpeakerRoles)
    question_id: str | None = None
    question_type: str | None = None
    info: dict[str, dict] = field(default_factory=dict)


def _blank(value: Any) -> bool:
    return (
        value is None
        or (isinstance(value, float) and value != value)
        or (isinstance(value, str) and not value.strip())
    )


def prepare_record(
    rec: dict, options: TranscriptOptions, source: str
) -> tuple[dict, RoleNote | None, Issue | None]:
    """Complete one raw transcript record before validation.

    Fills ``question_id``/``question_type`` (record, then sidecar, then the options, then
    ``"unspecified"``), ``interviewed_at`` and metadata from the sidecar, and maps speaker names
    in ``turns`` to roles (roles in any case are accepted as they are). Returns the record, a
    note when roles were inferred from names, and an issue when they could not be.
    """
    tid = rec.get("transcript_id")
    info = options.info.get(str(tid).strip(), {}) if not _blank(tid) else {}
    for key, option, default in (
        ("question_id", options.question_id, DEFAULT_QUESTION_ID),
        ("question_type", options.question_type, DEFAULT_QUESTION_TYPE),
    ):
        if _blank(rec.get(key)):
            value = info.get(key)
            rec[key] = value if not _blank(value) else (option or default)
    if _blank(rec.get("interviewed_at")) and not _blank(info.get("interviewed_at")):
        rec["interviewed_at"] = info["interviewed_at"]
    extra = {k: v for k, v in info.items() if k not in _INFO_FIELDS and not _blank(v)}
    if extra:
        meta = rec.get("metadata")
        if isinstance(meta, dict):
            rec["metadata"] = {**extra, **meta}
        elif _blank(meta):
            rec["metadata"] = extra
    turns = rec.get("turns")
    if hasattr(turns, "tolist"):
        turns = turns.tolist()
    if not isinstance(turns, list) or not all(isinstance(t, dict) for t in turns):
        return rec, None, None
    speakers = [t.get("speaker") for t in turns]
    if not all(isinstance(s, str) and s.strip() for s in speakers):
        return rec, None, None  # validation reports the missing speaker
    if all(s.strip().lower() in ("interviewer", "candidate") for s in speakers):
        return rec, None, None
    labelled = [
        {"label": s.strip(), "text": str(t.get("text", ""))}
        for s, t in zip(speakers, turns, strict=False)
    ]
    decision = infer_roles(labelled, options.roles)
    if decision.problem:
        return rec, None, Issue(source, None, "turns.speaker", decision.problem, None)
    new_turns = []
    for t, lab in zip(turns, labelled, strict=False):
        role, name = role_from_label(lab["label"])
        new = dict(t)
        new["speaker"] = decision.roles[lab["label"]]
        if _blank(new.get("name")):
            new["name"] = (name or None) if role is not None else lab["label"]
        new_turns.append(new)
    rec["turns"] = new_turns
    return rec, RoleNote(source, decision.method, dict(decision.roles)), None


_INFO_FIELDS = {"transcript_id", "question_id", "question_type", "interviewed_at"}


def load_transcript_info(path: str | os.PathLike) -> dict[str, dict]:
    """Read a sidecar CSV keyed by ``transcript_id`` (delimiter sniffed).

    Columns ``question_id``, ``question_type``, ``interviewed_at`` fill those fields; any other
    column becomes a metadata key (e.g. ``seniority``).
    """
    from calib.errors import ConfigError
    from calib.io._scorecard import read_table_file

    df = read_table_file(Path(path))
    if "transcript_id" not in df.columns:
        raise ConfigError(
            f"{path}: the transcript info file needs a 'transcript_id' column; found "
            + ", ".join(c for c in df.columns if c != "_row")
        )
    out: dict[str, dict] = {}
    for rec in df.drop(columns=["_row"], errors="ignore").to_dict("records"):
        tid = str(rec.pop("transcript_id")).strip()
        out[tid] = {k: v for k, v in rec.items() if not _blank(v)}
    return out
