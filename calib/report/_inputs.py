"""What a report is built from: the ratings, transcripts and rubric of one store."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from calib.errors import StoreError

if TYPE_CHECKING:
    from calib.rubric import Rubric

__all__ = ["ReportInputs", "load_inputs", "file_hashes"]


@dataclass(frozen=True)
class ReportInputs:
    """The tables a report reads.

    Attributes
    ----------
    ratings : DataFrame
        Long ratings table (shared contract).
    transcripts : DataFrame or None
        Transcripts table; excerpts, lengths and the synthetic label come from it.
    rubric : Rubric
        The store's rubric; scale levels and anchors come from here, never from the data.
    store : Path or None
        Folder the tables were read from (for ``run.json``).
    extra : dict
        Optional store tables keyed by name (e.g. grader raw outputs).
    """

    ratings: pd.DataFrame
    transcripts: pd.DataFrame | None
    rubric: Rubric
    store: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def synthetic(self) -> bool:
        """True when any transcript's metadata, or any id, marks the data as synthetic."""
        t = self.transcripts
        if t is not None and "metadata" in t.columns:
            flags = t["metadata"].map(
                lambda m: bool(
                    isinstance(m, dict) and (m.get("synthetic") or m.get("source") == "synthetic")
                )
            )
            if flags.any():
                return True
        ids = self.ratings["transcript_id"].astype(str)
        return bool(ids.str.contains("synth", case=False).any())


def file_hashes(folder: Path) -> dict[str, str]:
    """sha256 of every file under ``folder`` (relative POSIX path -> hex), sorted by path."""
    out = {}
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            out[p.relative_to(folder).as_posix()] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def load_inputs(store: str | Path) -> ReportInputs:
    """Read a calib store folder into :class:`ReportInputs`.

    Parameters
    ----------
    store : path
        A folder written by ``calib ingest``.

    Raises
    ------
    StoreError
        If the folder does not exist or has no ratings.

    Example
    -------
    >>> load_inputs("no/such/store")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    calib.errors.StoreError: store 'no/such/store' does not exist
    """
    path = Path(store)
    if not path.is_dir():
        raise StoreError(
            f"store {str(store)!r} does not exist (run 'calib ingest' or 'calib demo' first)"
        )
    from calib import io as cio  # the store format belongs to calib.io

    ratings = cio.read_ratings(path)
    if ratings is None or len(ratings) == 0:
        raise StoreError(f"store {str(store)!r} has no ratings table rows")
    try:
        transcripts = cio.read_transcripts(path)
    except Exception as exc:  # noqa: BLE001 - a store without transcripts still gets a report
        if not isinstance(exc, (StoreError, FileNotFoundError)):
            raise
        transcripts = None
    if transcripts is not None and len(transcripts) == 0:
        transcripts = None  # a ratings-only store: sections that need text say so
    rubric = cio.read_store_rubric(path)
    extra = {}
    if "llm_outputs" in cio.table_names(path):  # raw LLM samples: self-consistency and tokens
        extra["llm_outputs"] = cio.read_table(path, "llm_outputs")
    return ReportInputs(
        ratings=ratings, transcripts=transcripts, rubric=rubric, store=path, extra=extra
    )
