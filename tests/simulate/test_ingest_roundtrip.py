"""Simulated files pass calib's own ingestion unchanged (the shared data contracts)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from calib.simulate import SimulationConfig, simulate_dataset, write_dataset

io = pytest.importorskip("calib.io")
RUBRIC = Path(__file__).resolve().parents[2] / "rubrics" / "ml_interview_v1.yaml"


@pytest.fixture(scope="module")
def ds():
    return simulate_dataset(SimulationConfig(n_transcripts=80, seed=21))


def test_written_files_ingest_strict_with_no_quarantine(tmp_path, ds):
    if not RUBRIC.is_file():
        pytest.skip("rubric not present")
    out = write_dataset(ds, tmp_path / "files")
    store = tmp_path / "store"
    summary = io.ingest(
        [out["transcripts.jsonl"]], [out["ratings.csv"]], rubric=RUBRIC, store=store, strict=True
    )
    assert summary.ok
    assert io.read_quarantine(store).empty
    back = (
        io.read_ratings(store)
        .sort_values(["transcript_id", "rater_id", "dimension"])
        .reset_index(drop=True)
    )
    mine = ds.ratings.sort_values(["transcript_id", "rater_id", "dimension"]).reset_index(drop=True)
    assert back["score"].tolist() == mine["score"].tolist()
    assert (back["rated_at"].astype("datetime64[ns, UTC]") == mine["rated_at"]).all()
    tr = io.read_transcripts(store).set_index("transcript_id").loc[ds.transcripts["transcript_id"]]
    assert list(tr["turns"]) == list(ds.transcripts["turns"])
    assert list(tr["metadata"]) == list(ds.transcripts["metadata"])
    meta = io.metadata_frame(io.read_transcripts(store))
    assert set(meta["school_tier"]) == {"target", "non_target"}


def test_in_memory_ratings_append_to_store(tmp_path, ds):
    if not RUBRIC.is_file():
        pytest.skip("rubric not present")
    out = write_dataset(ds, tmp_path / "files")
    store = tmp_path / "store"
    io.ingest([out["transcripts.jsonl"]], [], rubric=RUBRIC, store=store, strict=True)
    summary = io.append_ratings(store, ds.ratings)
    assert summary.ok
    assert len(io.read_ratings(store)) == len(ds.ratings)
    assert isinstance(io.read_ratings(store)["rated_at"].dtype, pd.DatetimeTZDtype)
