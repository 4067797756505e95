"""`calib grade --grader llm` end to end on the (synthetic) sample data, against the local
scripted chat-completions server: ingest -> grade -> store -> read back -> calibration."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("httpx")
sys.path.insert(0, str(Path(__file__).resolve().parent))
from llm_server import Action, ScriptedChatServer  # noqa: E402

from calib.cli.main import main  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "datasets" / "sample"
N = 6


@pytest.fixture
def server():
    srv = ScriptedChatServer().start()
    yield srv
    srv.stop()


@pytest.fixture
def store(tmp_path):
    io = pytest.importorskip("calib.io")
    if not (SAMPLE / "transcripts.jsonl").is_file():
        pytest.skip("datasets/sample is absent")
    lines = (SAMPLE / "transcripts.jsonl").read_text().splitlines()[:N]
    ids = {json.loads(line)["transcript_id"] for line in lines}
    (tmp_path / "t.jsonl").write_text("\n".join(lines) + "\n")
    ratings = pd.read_csv(SAMPLE / "ratings.csv", dtype=str)
    ratings[ratings["transcript_id"].isin(ids)].to_csv(tmp_path / "r.csv", index=False)
    out = tmp_path / "store"
    io.ingest(
        [tmp_path / "t.jsonl"],
        [tmp_path / "r.csv"],
        rubric=REPO / "rubrics" / "ml_interview_v1.yaml",
        store=out,
    )
    return out


def test_cli_grade_llm_writes_store_and_resumes(server, store, monkeypatch, capsys):
    from calib.io import read_ratings, read_table

    monkeypatch.setenv("CALIB_CLI_TEST_KEY", "sk-cli-secret-0000")
    args = ["grade", "--store", str(store), "--grader", "llm", "--base-url", server.base_url, "--model", "judge-m",
            "--api-key-env", "CALIB_CLI_TEST_KEY", "--mode", "per_dimension", "--concurrency", "3", "--no-progress",
            "--run-id", "cli-run"]  # fmt: skip
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "48 ratings: 48 scored, 0 unscored, 0 failed" in out and "cache hits" in out
    ratings = read_ratings(store)
    llm = ratings[ratings["rater_type"] == "llm"]
    assert len(llm) == N * 8 and llm["score"].notna().all() and set(llm["run_id"]) == {"cli-run"}
    outputs = read_table(store, "llm_outputs")
    assert len(outputs) == N * 8 and outputs["raw_text"].notna().all()
    assert (store / "llm_cache.sqlite").is_file()
    n = server.n_requests
    assert main(args) == 0  # re-run: every answer from the cache, nothing added
    assert server.n_requests == n
    assert "0 made, 48 cache hits" in capsys.readouterr().out
    again = read_ratings(store)
    assert len(again[again["rater_type"] == "llm"]) == N * 8
    for f in store.rglob("*"):
        if f.is_file():
            assert b"sk-cli-secret-0000" not in f.read_bytes(), f


def test_cli_grade_llm_config_file_and_json(server, store, tmp_path, capsys):
    cfg = tmp_path / "llm.yaml"
    cfg.write_text(f"llm:\n  base_url: {server.base_url}\n  model: judge-m\n  samples: 3\n  temperature: 0.7\n"
                   "  seed: 1\n  logprobs: true\n  prices: {judge-m: {input_per_mtok: 1.0, output_per_mtok: 2.0}}\n")  # fmt: skip
    assert main(["grade", "--store", str(store), "--grader", "llm", "--config", str(cfg), "--no-progress",
                 "--format", "json"]) == 0  # fmt: skip
    summary = json.loads(capsys.readouterr().out)
    assert summary["calls"] == N * 3 and summary["scored"] == N * 8
    assert isinstance(summary["cost"], float) and summary["cost"] > 0
    assert len(summary["self_consistency"]) == 8
    # calibration of the judge's confidence against the store's human consensus
    from calib.graders.llm import judge_calibration
    from calib.io import read_ratings, read_table

    cal = judge_calibration(read_table(store, "llm_outputs"), read_ratings(store), n_bins=5)
    assert cal.table["n"].sum() == N * 8 * 3 and 0 <= cal.ece <= 1


def test_cli_grade_llm_errors(server, store, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("CALIB_ABSENT_KEY", raising=False)
    base = ["grade", "--store", str(store), "--grader", "llm", "--no-progress"]
    assert main(base + ["--base-url", server.base_url]) == 2  # no --model: usage error
    assert "--model" in capsys.readouterr().err
    assert (
        main(
            base
            + ["--base-url", server.base_url, "--model", "m", "--api-key-env", "CALIB_ABSENT_KEY"]
        )
        == 1
    )
    assert "CALIB_ABSENT_KEY" in capsys.readouterr().err
    bad = tmp_path / "bad.yaml"
    bad.write_text("llm:\n  api_key: sk-should-not-be-here\n")
    assert main(base + ["--config", str(bad), "--base-url", server.base_url, "--model", "m"]) == 1
    assert "api_key" in capsys.readouterr().err
    server.script(*[Action(status=500)] * 100)
    from calib.io import read_ratings, table_names

    before = len(read_ratings(store))
    assert (
        main(
            base + ["--base-url", server.base_url, "--model", "m", "--config", str(_fast(tmp_path))]
        )
        == 1
    )
    # a run in which no call got an answer stores nothing (issue 11.13), with a clear message
    err = capsys.readouterr().err
    assert "no call got an answer" in err and "HTTP 500" in err and "Traceback" not in err
    assert len(read_ratings(store)) == before and "llm_outputs" not in table_names(store)


def _fast(tmp_path):
    f = tmp_path / "fast.yaml"
    f.write_text(
        "llm:\n  response_format: json_object\n  retry: {max_attempts: 2, base_delay_s: 0.01, max_delay_s: 0.02}\n"
    )
    return f


def test_judge_biases_from_the_store(server, store, tmp_path, capsys):
    from calib.graders.llm import judge_biases
    from calib.io import read_ratings, read_table

    ids = []
    for template in ("v1", "v2"):
        cfg = tmp_path / f"{template}.yaml"
        cfg.write_text(
            f"llm:\n  template: {template}\n  samples: 3\n  temperature: 0.7\n  seed: 3\n  logprobs: true\n"
        )
        assert main(["grade", "--store", str(store), "--grader", "llm", "--base-url", server.base_url, "--model",
                     "judge-m", "--config", str(cfg), "--no-progress", "--format", "json"]) == 0  # fmt: skip
        ids.append(json.loads(capsys.readouterr().out)["grader"])
    assert ids[0] != ids[1]
    res = judge_biases(
        read_table(store, "llm_outputs"), read_ratings(store), ids[0], other_rater_id=ids[1]
    )
    assert (res.self_consistency["n_units"] == N).all()
    assert (res.prompt_sensitivity["n"] == N).all()
    # the scripted judge scores the transcript block, which both templates render identically
    assert (res.prompt_sensitivity["exact_agr"] == 1.0).all()
    assert res.calibration is not None and res.calibration.table["n"].sum() == N * 8 * 3


def test_cli_grade_llm_dry_run_writes_nothing(server, store, capsys):
    from calib.io import read_ratings

    before = sorted(p.relative_to(store) for p in store.rglob("*"))
    assert main(["grade", "--store", str(store), "--grader", "llm", "--base-url", server.base_url, "--model", "m",
                 "--no-progress", "--dry-run"]) == 0  # fmt: skip
    assert "dry run: nothing written" in capsys.readouterr().out
    assert sorted(p.relative_to(store) for p in store.rglob("*")) == before
    assert (read_ratings(store)["rater_type"] != "llm").all()
