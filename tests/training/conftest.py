"""Fixtures for the training tests: the shipped SYNTHETIC sample ingested into a store, and a
reference set chosen from it with experts r07 and r08 (the sample's near-clean raters)."""

from __future__ import annotations

from pathlib import Path

import pytest

from calib.io import ingest, read_ratings, read_store_rubric, read_transcripts
from calib.training import build_reference_set

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "datasets" / "sample"
RUBRIC = REPO / "rubrics" / "ml_interview_v1.yaml"


@pytest.fixture(scope="session")
def sample_store(tmp_path_factory) -> Path:
    store = tmp_path_factory.mktemp("training") / "store"
    ingest(
        [SAMPLE / "transcripts.jsonl"],
        [SAMPLE / "ratings.csv"],
        rubric=RUBRIC,
        store=store,
    )
    return store


@pytest.fixture(scope="session")
def sample_tables(sample_store):
    return (
        read_ratings(sample_store),
        read_transcripts(sample_store),
        read_store_rubric(sample_store),
    )


@pytest.fixture(scope="session")
def expert_set(sample_tables, sample_store):
    ratings, transcripts, rubric = sample_tables
    return build_reference_set(
        ratings, transcripts, rubric, n=8, experts=["r07", "r08"], source=str(sample_store)
    )
