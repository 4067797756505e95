"""Shapes, dtypes and the shared table contracts of simulated (SYNTHETIC) data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from calib.simulate import DEFAULT_DIMENSIONS, SimulationConfig, simulate_dataset

RATING_COLUMNS = [
    "transcript_id",
    "rater_id",
    "rater_type",
    "dimension",
    "score",
    "rubric_id",
    "rubric_version",
    "rated_at",
    "rationale",
    "run_id",
    "unscored_reason",
]


def test_ratings_table_contract(sample_ds):
    r = sample_ds.ratings
    assert list(r.columns) == RATING_COLUMNS
    assert r["score"].dtype == np.float64
    assert str(r["rated_at"].dtype) == "datetime64[us, UTC]"  # the store's resolution, any pandas
    assert set(r["rater_type"]) == {"human"}
    assert set(r["rubric_id"]) == {"ml_interview"} and set(r["rubric_version"]) == {"1.0"}
    assert r["score"].notna().all()  # human rows are always scored
    assert set(np.unique(r["score"])) <= {1.0, 2.0, 3.0, 4.0}
    assert r[["rationale", "run_id", "unscored_reason"]].isna().all().all()
    assert not r.duplicated(["transcript_id", "rater_id", "dimension"]).any()
    # Every (transcript, rater) pair scores all 8 dimensions, in rubric order.
    per_pair = r.groupby(["transcript_id", "rater_id"], sort=False)["dimension"].agg(tuple)
    assert set(per_pair) == {DEFAULT_DIMENSIONS}


def test_ratings_sorted_stably(sample_ds):
    pairs = sample_ds.ratings[["transcript_id", "rater_id"]].drop_duplicates()
    assert pairs.equals(pairs.sort_values(["transcript_id", "rater_id"]))


def test_transcripts_table_contract(sample_ds):
    t = sample_ds.transcripts
    assert list(t.columns) == [
        "transcript_id",
        "question_id",
        "question_type",
        "interviewed_at",
        "turns",
        "metadata",
    ]
    assert t["transcript_id"].is_unique and len(t) == 300
    assert (
        str(t["interviewed_at"].dtype) == "datetime64[us, UTC]"
    )  # the store's resolution, any pandas
    assert t["interviewed_at"].is_monotonic_increasing
    assert set(t["question_id"]) == {"q-recsys", "q-fraud", "q-search", "q-churn", "q-ctr"}
    assert set(t["question_type"]) <= {"ml_system_design", "modeling", "evaluation"}
    for meta in t["metadata"]:
        assert meta["synthetic"] is True
        assert meta["seniority"] in {"junior", "mid", "senior"}
        assert meta["school_tier"] in {"target", "non_target"}
        assert meta["cohort"] in {"2026-Q1", "2026-Q2"}


def test_turns_alternate_and_are_timed(sample_ds):
    for turns in sample_ds.transcripts["turns"]:
        assert 4 <= len(turns) <= 10 and len(turns) % 2 == 0
        assert [t["speaker"] for t in turns] == ["interviewer", "candidate"] * (len(turns) // 2)
        assert all(t["text"].strip() for t in turns)
        starts = [t["start_s"] for t in turns]
        assert starts[0] == 0.0 and all(b > a for a, b in zip(starts, starts[1:]))
        assert all(type(s) is float for s in starts)  # plain floats: JSON-serialisable
        assert "{" not in " ".join(t["text"] for t in turns)  # every slot was filled
    # The first interviewer turn asks the question.
    first = sample_ds.transcripts["turns"].map(lambda ts: ts[0]["text"])
    assert first.str.contains(r"\?|[Dd]esign|[Ww]alk me through|build").all()


def test_turn_count_varies(sample_ds):
    counts = sample_ds.transcripts["turns"].map(len).value_counts()
    assert set(counts.index) == {4, 6, 8, 10}


def test_true_scores_contract(sample_ds):
    ts = sample_ds.true_scores
    assert list(ts.columns) == ["transcript_id", "dimension", "true_score"]
    assert len(ts) == 300 * 8 and ts["true_score"].dtype == np.float64
    assert np.allclose(ts["true_score"], ts["true_score"].round(6))


def test_rated_after_interview(sample_ds):
    when = sample_ds.transcripts.set_index("transcript_id")["interviewed_at"]
    lag = sample_ds.ratings["rated_at"] - sample_ds.ratings["transcript_id"].map(when)
    assert (lag >= pd.Timedelta(hours=2)).all() and (lag < pd.Timedelta(days=5)).all()


def test_interviews_span_about_six_months(sample_ds):
    at = sample_ds.transcripts["interviewed_at"]
    assert at.min() >= pd.Timestamp("2026-01-05", tz="UTC")
    assert at.max() < pd.Timestamp("2026-06-30", tz="UTC")
    assert (at.max() - at.min()).days > 150


def test_design_two_or_three_raters_except_linked(sample_ds):
    n_raters = sample_ds.ratings.groupby("transcript_id")["rater_id"].nunique()
    linked = sample_ds.planted["linked_transcripts"]
    assert len(linked) == 20
    assert (n_raters.loc[linked] == 8).all()
    rest = n_raters.drop(index=linked)
    assert set(rest.unique()) == {2, 3}
    assert len(n_raters) == 300  # every transcript is rated


def _components(ratings: pd.DataFrame) -> int:
    # Bipartite transcript-rater graph: connected = every rater comparable to every other.
    t = ratings["transcript_id"].astype("category").cat.codes.to_numpy()
    r = ratings["rater_id"].astype("category").cat.codes.to_numpy()
    n_t = t.max() + 1
    n = n_t + r.max() + 1
    graph = coo_matrix((np.ones(len(t)), (t, n_t + r)), shape=(n, n))
    return connected_components(graph, directed=False)[0]


def test_design_connected(sample_ds):
    assert _components(sample_ds.ratings) == 1


def test_design_connected_without_linked_set():
    ds = simulate_dataset(SimulationConfig(n_transcripts=200, linked_fraction=0.0, seed=3))
    assert ds.planted["linked_transcripts"] == []
    assert _components(ds.ratings) == 1


def test_fixed_three_raters_gives_benchmark_row_count():
    # The ingest benchmark's shape: 3 ratings x 8 dimensions per transcript, no linked set.
    ds = simulate_dataset(
        SimulationConfig(n_transcripts=50, raters_per_transcript=(3, 3), linked_fraction=0.0)
    )
    assert len(ds.ratings) == 50 * 3 * 8


def test_more_raters_than_default_cast():
    ds = simulate_dataset(SimulationConfig(n_transcripts=60, n_raters=10, seed=2))
    assert sorted(ds.planted["raters"]) == [f"r{i:02d}" for i in range(1, 11)]
    extra = ds.planted["raters"]["r10"]
    assert extra["role"] == "near_clean" and max(map(abs, extra["severity"].values())) <= 0.1
    assert set(ds.ratings["rater_id"]) == set(ds.planted["raters"])


def test_fewer_raters_drops_their_effects():
    ds = simulate_dataset(SimulationConfig(n_transcripts=40, n_raters=4, seed=2))
    assert sorted(ds.planted["raters"]) == ["r01", "r02", "r03", "r04"]
    assert ds.planted["subgroup_effects"] == []  # r06 carries the subgroup effect


def test_dimensions_match_shipped_rubric():
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "rubrics" / "ml_interview_v1.yaml"
    if not path.is_file():
        pytest.skip("rubrics/ml_interview_v1.yaml not present")
    from calib.rubric import load_rubric

    rubric = load_rubric(path)
    assert rubric.dimension_ids == DEFAULT_DIMENSIONS
    assert (rubric.id, rubric.version) == ("ml_interview", "1.0")
    assert (rubric.scale.min, rubric.scale.max) == (1, 4)
