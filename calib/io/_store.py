"""The store: a folder of Parquet part files listed by an atomically replaced manifest.

Layout::

    STORE/
      calib-store.json        manifest: format, rubric identity, the parts of every table
      rubric.yaml             the rubric the store was validated against (byte copy)
      transcripts/part-*.parquet
      ratings/part-*.parquet
      quarantine/part-*.parquet
      <any other table>/part-*.parquet   (e.g. grader_evidence, llm_outputs)

Why a manifest: a write first creates new part files, then replaces the manifest with
``os.replace`` (atomic on POSIX). A crash at any point leaves the previous manifest, so readers
see the previous store intact; orphaned parts are ignored and removed by the next write.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from calib.errors import StoreError

__all__ = [
    "MANIFEST_NAME",
    "store_exists",
    "read_manifest",
    "commit_parts",
    "read_arrow_table",
    "read_table",
    "write_table",
    "table_names",
    "store_lock",
    "write_part",
    "cleanup_orphans",
]

MANIFEST_NAME = "calib-store.json"
FORMAT_VERSION = 1


def store_exists(store: str | os.PathLike) -> bool:
    """Whether ``store`` holds a calib manifest."""
    return (Path(store) / MANIFEST_NAME).is_file()


def read_manifest(store: str | os.PathLike, *, must_exist: bool = True) -> dict:
    """The store's manifest (an empty one for a new store when ``must_exist`` is False)."""
    path = Path(store) / MANIFEST_NAME
    if not path.is_file():
        if must_exist:
            hint = " (run `calib ingest ... --store DIR` first)"
            raise StoreError(f"{store}: not a calib store, {MANIFEST_NAME} not found{hint}")
        return {"format": FORMAT_VERSION, "rubric": None, "tables": {}, "batches": []}
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise StoreError(f"{path}: unreadable manifest ({exc})") from exc
    if manifest.get("format") != FORMAT_VERSION:
        raise StoreError(
            f"{path}: store format {manifest.get('format')!r} is not supported "
            f"(this calib reads format {FORMAT_VERSION})"
        )
    return manifest


@contextlib.contextmanager
def store_lock(store: str | os.PathLike) -> Iterator[None]:
    """Exclusive advisory lock so two writers never interleave manifest updates."""
    root = Path(store)
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        # a full disk (or a kill) must not leave the temporary file behind
        tmp.unlink(missing_ok=True)
        raise


def write_part(store: str | os.PathLike, name: str, table: pa.Table) -> str:
    """Write one part file of table ``name`` without publishing it (see :func:`commit_parts`).

    Staged parts are invisible to readers until a manifest lists them, so a long ingest can
    stream batches to disk with bounded memory and still publish atomically.
    """
    folder = Path(store) / name
    folder.mkdir(parents=True, exist_ok=True)
    part = f"part-{uuid.uuid4().hex[:16]}.parquet"
    try:
        pq.write_table(table, folder / part, compression="zstd")
    except BaseException:
        (folder / part).unlink(missing_ok=True)  # no half-written part on a full disk
        raise
    return part


def cleanup_orphans(store: str | os.PathLike) -> None:
    """Remove part files no manifest lists (left by a crashed write). Call under the lock."""
    root = Path(store)
    if store_exists(root):
        _cleanup_orphans(root, read_manifest(root))


def _cleanup_orphans(
    root: Path, manifest: Mapping, keep: Mapping[str, Iterable[str]] | None = None
) -> None:
    keep = keep or {}
    for name in set(manifest.get("tables", {})) | set(keep):
        parts = manifest.get("tables", {}).get(name, [])
        folder = root / name
        if not folder.is_dir():
            continue
        listed = set(parts) | set(keep.get(name, ()))
        for f in folder.glob("part-*.parquet"):
            if f.name not in listed:
                f.unlink(missing_ok=True)
    for tmp in root.glob(".*.tmp"):
        tmp.unlink(missing_ok=True)


def commit_parts(
    store: str | os.PathLike,
    tables: Mapping[str, Iterable[pa.Table]],
    *,
    batch: Mapping | None = None,
    rubric_source: str | os.PathLike | None = None,
    rubric_identity: Mapping | None = None,
    replace: Iterable[str] = (),
    staged: Mapping[str, Iterable[str]] | None = None,
) -> dict:
    """Write new part files for several tables and publish them in one manifest update.

    Parameters
    ----------
    store : path
        Store folder (created if needed).
    tables : mapping of table name to Arrow tables
        Each non-empty table becomes one part file.
    batch : mapping, optional
        A record of this write appended to the manifest's ``batches`` (what was ingested).
    rubric_source, rubric_identity : optional
        Copy this rubric file into the store and record its identity (first write only).
    replace : iterable of str
        Tables whose existing parts are dropped (a full rewrite) instead of appended to.
    staged : mapping of table name to part file names, optional
        Parts already written with :func:`write_part`, published by this commit.

    Returns
    -------
    dict
        The new manifest.
    """
    root = Path(store)
    root.mkdir(parents=True, exist_ok=True)
    manifest = read_manifest(root, must_exist=False)
    staged = {k: list(v) for k, v in (staged or {}).items()}
    _cleanup_orphans(root, manifest, keep=staged)
    new_parts: dict[str, list[str]] = {k: list(v) for k, v in staged.items() if v}
    written: list[Path] = []
    try:
        for name, parts in tables.items():
            folder = root / name
            folder.mkdir(exist_ok=True)
            for table in parts:
                if table.num_rows == 0:
                    continue
                part = write_part(root, name, table)
                written.append(root / name / part)
                new_parts.setdefault(name, []).append(part)
        old_parts: dict[str, list[str]] = {}
        for name in replace:
            old_parts[name] = manifest["tables"].get(name, [])
            manifest["tables"][name] = []
        for name, parts in new_parts.items():
            manifest["tables"].setdefault(name, []).extend(parts)
        if rubric_source is not None:
            _write_atomic(root / "rubric.yaml", Path(rubric_source).read_bytes())
            manifest["rubric"] = dict(rubric_identity or {})
        if batch is not None:
            manifest.setdefault("batches", []).append(dict(batch))
        _write_atomic(
            root / MANIFEST_NAME, json.dumps(manifest, indent=2, sort_keys=True).encode("utf-8")
        )
    except BaseException:
        for path in written:  # parts of a manifest that never went live
            path.unlink(missing_ok=True)
        raise
    for name, parts in old_parts.items():  # only after the new manifest is live
        for part in parts:
            (root / name / part).unlink(missing_ok=True)
    return manifest


def table_names(store: str | os.PathLike) -> list[str]:
    """Names of the tables the store holds (sorted)."""
    return sorted(read_manifest(store)["tables"])


def read_arrow_table(
    store: str | os.PathLike,
    name: str,
    schema: pa.Schema | None = None,
    columns: list[str] | None = None,
) -> pa.Table:
    """Concatenate a table's parts as one Arrow table (empty with ``schema`` when absent)."""
    root = Path(store)
    manifest = read_manifest(root)
    parts = manifest["tables"].get(name, [])
    if not parts:
        if schema is None:
            return pa.table({})
        empty = schema.empty_table()
        return empty.select(columns) if columns else empty
    tables = []
    for part in parts:
        path = root / name / part
        try:
            tables.append(pq.read_table(path, columns=columns, schema=schema))
        except (OSError, pa.ArrowInvalid) as exc:
            raise StoreError(f"{path}: unreadable part of table {name!r} ({exc})") from exc
    # "permissive": parts written from pandas 2 (object -> string) and pandas 3 (str ->
    # large_string) frames, or by two graders, may type the same text column differently
    return pa.concat_tables(tables, promote_options="permissive") if len(tables) > 1 else tables[0]


def read_table(
    store: str | os.PathLike, name: str, columns: list[str] | None = None
) -> pd.DataFrame:
    """Read any table of the store as a DataFrame (empty DataFrame when the table is absent).

    Examples
    --------
    >>> read_table("store/", "grader_evidence")  # doctest: +SKIP
    """
    return read_arrow_table(store, name, columns=columns).to_pandas()


def write_table(
    store: str | os.PathLike, name: str, df: pd.DataFrame, *, mode: str = "append"
) -> None:
    """Write a DataFrame as a new part of table ``name`` (``mode="replace"`` rewrites the table).

    Intended for tables that calib's core schemas do not cover (grader evidence, raw LLM
    outputs). Use :func:`calib.io.append_ratings` for ratings: it validates them.

    Examples
    --------
    >>> write_table("store/", "grader_evidence", evidence_df)  # doctest: +SKIP
    """
    if name in {"transcripts", "ratings", "quarantine"}:
        raise StoreError(
            f"table {name!r} is written by ingest/append_ratings only (they validate it)"
        )
    if mode not in {"append", "replace"}:
        raise ValueError(f"mode must be 'append' or 'replace', got {mode!r}")
    table = pa.Table.from_pandas(df, preserve_index=False)
    with store_lock(store):
        read_manifest(store)  # must already be a store
        commit_parts(store, {name: [table]}, replace=[name] if mode == "replace" else [])


def file_sha256(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """SHA-256 of a file's bytes (recorded for provenance)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def remove_store(store: str | os.PathLike) -> None:
    """Delete a store folder (used by tests and ``calib demo`` to start fresh)."""
    root = Path(store)
    if root.exists() and not store_exists(root) and any(root.iterdir()):
        raise StoreError(f"{root}: refusing to delete a folder that is not a calib store")
    shutil.rmtree(root, ignore_errors=True)
