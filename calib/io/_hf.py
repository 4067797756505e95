"""Hugging Face ``datasets`` interop: tables to and from ``datasets.Dataset``."""

from __future__ import annotations

import json
import os

import pandas as pd

__all__ = ["to_hf_dataset", "write_hf_dataset"]


def to_hf_dataset(df: pd.DataFrame):
    """Convert a transcripts or ratings DataFrame to a ``datasets.Dataset``.

    ``metadata`` dicts are stored as JSON text, because their keys differ between rows;
    :func:`calib.io.ingest` decodes them again.

    Examples
    --------
    >>> ds = to_hf_dataset(read_transcripts("store/"))  # doctest: +SKIP
    >>> ds.save_to_disk("exported/transcripts")  # doctest: +SKIP
    """
    import datasets

    out = df.copy()
    if "metadata" in out.columns:
        out["metadata"] = [
            json.dumps(m, sort_keys=True) if isinstance(m, dict) else m for m in out["metadata"]
        ]
    for col in out.columns:
        if isinstance(out[col].dtype, pd.DatetimeTZDtype):
            out[col] = out[col].map(lambda t: None if pd.isna(t) else t.isoformat())
    out = out.drop(columns=["content_hash"], errors="ignore")
    return datasets.Dataset.from_pandas(out, preserve_index=False)


def write_hf_dataset(df: pd.DataFrame, path: str | os.PathLike) -> None:
    """Save a table as a Hugging Face dataset folder (``save_to_disk``)."""
    to_hf_dataset(df).save_to_disk(str(path))
