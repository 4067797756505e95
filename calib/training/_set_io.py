"""Write and read a reference-set folder.

Layout (``calib reference-set --out SET/``)::

    SET/set.json           everything, machine-readable: ids, reference scores, reasons, gaps
    SET/reference.csv      one row per transcript x dimension (for people; formula-safe)
    SET/chosen.csv         one row per transcript: why it was chosen (for people; formula-safe)
    SET/transcripts.jsonl  the chosen transcripts, canonical JSONL (``calib ingest`` reads it)
    SET/README.md          what the set is and what to do next

``set.json`` is the only file calib reads back. The packet reads the transcripts and ids from
it and never the reference scores.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import pandas as pd

from calib import __version__
from calib.errors import ConfigError
from calib.training._escape import md, write_csv
from calib.training._reference import ReferenceSet

__all__ = ["write_reference_set", "read_reference_set", "SET_FILE"]

SET_FILE = "set.json"
_KIND = "calib_reference_set"
_FORMAT = 1


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "tolist") and not isinstance(value, str):
        return _jsonable(value.tolist())
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.isoformat().replace("+00:00", "Z")
    if value is pd.NaT:
        return None
    return value


def _transcript_record(row: pd.Series) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "transcript_id": str(row["transcript_id"]),
        "question_id": str(row["question_id"]),
        "question_type": str(row["question_type"]),
    }
    ts = row.get("interviewed_at")
    if ts is not None and not (isinstance(ts, float) or pd.isna(ts)):
        rec["interviewed_at"] = pd.Timestamp(ts).isoformat().replace("+00:00", "Z")
    rec["turns"] = [
        {
            k: _jsonable(v)
            for k, v in dict(t).items()
            if not (k == "start_s" and (v is None or (isinstance(v, float) and math.isnan(v))))
        }
        for t in row["turns"]
    ]
    meta = row.get("metadata")
    if isinstance(meta, dict) and meta:
        rec["metadata"] = _jsonable(meta)
    return rec


def write_reference_set(rs: ReferenceSet, out: str | os.PathLike) -> Path:
    """Write ``rs`` into folder ``out`` (created) and return the path of ``set.json``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    records = [_transcript_record(r) for _, r in rs.transcripts.iterrows()]
    doc = {
        "kind": _KIND,
        "format": _FORMAT,
        "set_id": rs.set_id,
        "calib_version": __version__,
        "rubric": {"id": rs.rubric_id, "version": rs.rubric_version, "hash": rs.rubric_hash},
        "mode": rs.mode,
        "experts": list(rs.experts),
        "source": rs.source,
        "settings": rs.settings,
        "gaps": list(rs.gaps),
        "chosen": _jsonable(rs.chosen.to_dict("records")),
        "reference": _jsonable(rs.reference.to_dict("records")),
        "transcripts": records,
    }
    path = out / SET_FILE
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    write_csv(rs.reference, out / "reference.csv")
    write_csv(rs.chosen, out / "chosen.csv")
    with open(out / "transcripts.jsonl", "w", encoding="utf-8") as fh:
        for rec in records:
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    (out / "README.md").write_text(_readme(rs), encoding="utf-8")
    return path


def _readme(rs: ReferenceSet) -> str:
    who = (
        f"the mean score of the experts {', '.join(map(md, rs.experts))}"
        if rs.experts
        else "the mean score of every human rater of transcripts scored with high agreement"
    )
    lines = [
        f"# Reference set {md(rs.set_id)}",
        "",
        f"{len(rs.chosen)} transcripts for a calibration round on rubric "
        f"`{md(rs.rubric_id)}` v{md(rs.rubric_version)}. Reference scores are {who} "
        f"(source: {md(rs.source)}).",
        "",
        "**Keep this folder away from the interviewers**: `reference.csv` holds the answers. "
        "Give them the packet (`calib packet --set THIS_FOLDER --rubric R --out packet/`).",
        "",
        "| # | transcript | question | why it was chosen |",
        "|---|---|---|---|",
    ]
    for i, r in enumerate(rs.chosen.itertuples(index=False), 1):
        lines.append(f"| {i} | {md(r.transcript_id)} | {md(r.question_id)} | {md(r.reason)} |")
    lines.append("")
    if rs.gaps:
        lines += [f"Not covered: {md(', '.join(rs.gaps))}.", ""]
    else:
        lines += ["Every level of every dimension is covered by at least one transcript.", ""]
    return "\n".join(lines)


def read_reference_set(path: str | os.PathLike) -> ReferenceSet:
    """Read a reference set written by :func:`write_reference_set` (folder or ``set.json``).

    Raises
    ------
    ConfigError
        The folder has no ``set.json``, or it is not a calib reference set.
    """
    p = Path(path)
    file = p / SET_FILE if p.is_dir() else p
    if not file.is_file():
        raise ConfigError(f"{path}: no {SET_FILE} here; create one with 'calib reference-set'")
    try:
        doc = json.loads(file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{file}: not valid JSON ({exc})") from None
    if not isinstance(doc, dict) or doc.get("kind") != _KIND:
        raise ConfigError(f"{file}: not a calib reference set (kind != {_KIND!r})")
    for key in ("set_id", "rubric", "reference", "chosen", "transcripts"):
        if key not in doc:
            raise ConfigError(f"{file}: missing key {key!r}")
    need = {
        "reference": ("transcript_id", "dimension", "reference_score", "reference_raters"),
        "chosen": ("transcript_id",),
        "transcripts": ("transcript_id", "turns"),
    }
    for key, cols in need.items():
        if not isinstance(doc[key], list) or not doc[key]:
            raise ConfigError(f"{file}: {key!r} must be a non-empty list")
        for i, rec in enumerate(doc[key]):
            missing = [c for c in cols if not isinstance(rec, dict) or c not in rec]
            if missing:
                raise ConfigError(f"{file}: {key}[{i}] is missing {', '.join(missing)}")
    reference = pd.DataFrame(doc["reference"])
    if "reference_level" not in reference.columns:
        reference["reference_level"] = ""
    for col in ("transcript_id", "dimension", "reference_raters", "reference_level"):
        reference[col] = reference[col].astype(str)
    try:
        reference["reference_score"] = reference["reference_score"].astype(float)
    except (TypeError, ValueError):
        raise ConfigError(f"{file}: reference[].reference_score must be numbers") from None
    transcripts = pd.DataFrame(doc["transcripts"])
    if "metadata" not in transcripts.columns:
        transcripts["metadata"] = [{} for _ in range(len(transcripts))]
    return ReferenceSet(
        set_id=str(doc["set_id"]),
        rubric_id=str(doc["rubric"]["id"]),
        rubric_version=str(doc["rubric"]["version"]),
        rubric_hash=str(doc["rubric"].get("hash", "")),
        mode=str(doc.get("mode", "")),
        experts=tuple(doc.get("experts", ())),
        reference=reference,
        chosen=pd.DataFrame(doc["chosen"]),
        transcripts=transcripts,
        gaps=tuple(doc.get("gaps", ())),
        source=str(doc.get("source", "")),
        settings=dict(doc.get("settings", {})),
    )
