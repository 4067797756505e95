"""Determinism and the written SYNTHETIC sample files (canonical formats)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from calib.simulate import RATINGS_COLUMNS, SimulationConfig, simulate_dataset, write_dataset

FILES = ["transcripts.jsonl", "ratings.csv", "true_scores.csv", "planted.json", "README.md"]
REPO = Path(__file__).resolve().parents[2]


def _write(tmp_path: Path, name: str, **kw) -> Path:
    out = tmp_path / name
    write_dataset(simulate_dataset(SimulationConfig(n_transcripts=60, **kw)), out)
    return out


def test_same_seed_byte_identical(tmp_path):
    a, b = _write(tmp_path, "a", seed=5), _write(tmp_path, "b", seed=5)
    for f in FILES:
        if f == "README.md":  # records the output folder in the command line
            continue
        assert (a / f).read_bytes() == (b / f).read_bytes(), f


def test_different_seed_differs(tmp_path):
    a, b = _write(tmp_path, "a", seed=5), _write(tmp_path, "b", seed=6)
    for f in ["transcripts.jsonl", "ratings.csv", "true_scores.csv", "planted.json"]:
        assert (a / f).read_bytes() != (b / f).read_bytes(), f


def test_in_memory_frames_deterministic():
    a = simulate_dataset(SimulationConfig(n_transcripts=40, seed=9))
    b = simulate_dataset(SimulationConfig(n_transcripts=40, seed=9))
    pd.testing.assert_frame_equal(a.ratings, b.ratings)
    pd.testing.assert_frame_equal(a.transcripts, b.transcripts)
    pd.testing.assert_frame_equal(a.true_scores, b.true_scores)
    assert a.planted == b.planted


def test_ratings_csv_canonical(tmp_path):
    out = _write(tmp_path, "a")
    lines = (out / "ratings.csv").read_text().splitlines()
    assert lines[0] == ",".join(RATINGS_COLUMNS)
    assert (
        lines[0]
        == "transcript_id,rater_id,rater_type,dimension,score,rubric_id,rubric_version,rated_at"
    )
    row = lines[1].split(",")
    assert row[2] == "human" and row[4] in {"1", "2", "3", "4"} and row[7].endswith("Z")
    back = pd.read_csv(out / "ratings.csv")
    ds = simulate_dataset(SimulationConfig(n_transcripts=60))
    assert back["score"].astype(float).tolist() == ds.ratings["score"].tolist()
    assert (
        pd.to_datetime(back["rated_at"], utc=True) == ds.ratings["rated_at"].reset_index(drop=True)
    ).all()


def test_transcripts_jsonl_canonical(tmp_path):
    out = _write(tmp_path, "a")
    lines = (out / "transcripts.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 60
    first = json.loads(lines[0])
    assert list(first) == [
        "transcript_id",
        "question_id",
        "question_type",
        "interviewed_at",
        "turns",
        "metadata",
    ]
    assert first["interviewed_at"].endswith("Z") and len(first["interviewed_at"]) == 20
    assert first["metadata"]["synthetic"] is True
    assert set(first["turns"][0]) == {"speaker", "text", "start_s"}


def test_true_scores_round_trip(tmp_path):
    out = _write(tmp_path, "a")
    back = pd.read_csv(out / "true_scores.csv")
    ds = simulate_dataset(SimulationConfig(n_transcripts=60))
    assert back["true_score"].tolist() == ds.true_scores["true_score"].tolist()


def test_planted_json_schema(tmp_path):
    out = _write(tmp_path, "a")
    planted = json.loads((out / "planted.json").read_text())
    assert planted["synthetic"] is True and planted["seed"] == 20261125
    for key in ["config", "raters", "subgroup_effects", "ambiguous_dimensions", "generative_model"]:
        assert key in planted
    r01 = planted["raters"]["r01"]
    assert set(r01) >= {"severity", "halo", "central_tendency", "noise_sd", "drift_per_30_days"}
    assert r01["severity"]["data"] == 0.6
    assert planted["subgroup_effects"] == [
        {
            "rater_id": "r06",
            "attribute": "school_tier",
            "group": "non_target",
            "dimension": "communication",
            "shift": -0.7,
        }
    ]
    assert planted["ambiguous_dimensions"] == {"tradeoffs": 0.6}
    assert planted["dimension_base_noise"] == {
        "problem_framing": 0.0,
        "structure": 0.0,
        "data": 0.0,
        "modeling": 0.0,
        "evaluation": 0.0,
        "tradeoffs": 0.0,
        "communication": 0.25,
        "adaptability": 0.25,
    }
    assert planted["config"]["dimension_latent_sd"] == {"problem_framing": 1.3, "evaluation": 1.3}
    assert "SYNTHETIC" in planted["generative_model"]


def test_readme_says_synthetic_seed_and_command(tmp_path):
    out = _write(tmp_path, "a", seed=17)
    readme = (out / "README.md").read_text()
    assert "SYNTHETIC" in readme and "17" in readme
    assert (
        f"calib simulate --out {out.as_posix()} --n-transcripts 60 --n-raters 8 --seed 17" in readme
    )


def test_out_is_a_file(tmp_path):
    from calib.errors import ConfigError

    (tmp_path / "f").write_text("x")
    with pytest.raises(ConfigError, match="out"):
        write_dataset(simulate_dataset(SimulationConfig(n_transcripts=5)), tmp_path / "f")


def test_shipped_sample_is_reproducible(tmp_path):
    """datasets/sample was made by the documented command: regenerate and compare bytes."""
    shipped = REPO / "datasets" / "sample"
    if not (shipped / "ratings.csv").is_file():
        pytest.skip("datasets/sample not present")
    assert (
        "calib simulate --out datasets/sample --n-transcripts 300 --n-raters 8 --seed 20261125"
        in (shipped / "README.md").read_text()
    )
    out = tmp_path / "sample"
    write_dataset(simulate_dataset(SimulationConfig(n_transcripts=300, seed=20261125)), out)
    for f in ["transcripts.jsonl", "ratings.csv", "true_scores.csv", "planted.json"]:
        assert (out / f).read_bytes() == (shipped / f).read_bytes(), f
