"""CLI: calib grade / calibrate-grader / validate-grader end to end on a SYNTHETIC store."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from calib.cli.main import cli
from calib.io import ingest, read_ratings, read_table

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    from calib.simulate import SimulationConfig, simulate_dataset, write_dataset

    base = tmp_path_factory.mktemp("graders_cli")
    ds = simulate_dataset(SimulationConfig(n_transcripts=60, seed=17))  # SYNTHETIC
    write_dataset(ds, base / "synthetic")
    ingest(
        [base / "synthetic" / "transcripts.jsonl"],
        [base / "synthetic" / "ratings.csv"],
        rubric=ROOT / "rubrics" / "ml_interview_v1.yaml",
        store=base / "store",
    )
    return base / "store"


def run(*args):
    return CliRunner().invoke(cli, list(map(str, args)), catch_exceptions=False)


def test_help_teaches_with_examples():
    for cmd in ("grade", "calibrate-grader", "validate-grader"):
        res = run(cmd, "--help")
        assert res.exit_code == 0 and "Examples:" in res.output and "calib " + cmd in res.output


def test_grade_rules_is_idempotent_and_keeps_evidence(store):
    first = run("grade", "--store", store, "--grader", "rules", "--format", "json")
    assert first.exit_code == 0, first.output
    out = json.loads(first.output)
    assert out["accepted"] == 60 * 8 and out["scored"] + out["unscored"] == 480
    again = json.loads(
        run("grade", "--store", store, "--grader", "rules", "--format", "json").output
    )
    assert (
        again["accepted"] == 0
        and again["duplicates_skipped"] == 480
        and again["evidence_rows_written"] == 0
    )
    r = read_ratings(store)
    rules = r[r.rater_id == out["grader"]]
    assert len(rules) == 480 and (rules.rater_type == "rule").all()
    assert (rules.score.isna() == rules.unscored_reason.notna()).all()
    ev = read_table(store, "grader_evidence")
    assert len(ev) == out["evidence_rows"] and (ev.rater_id == out["grader"]).all()
    runs = read_table(store, "grader_runs")  # the no-op re-run is not recorded
    assert runs.rater_id.tolist() == [out["grader"]] and runs.run_id.tolist() == [out["run_id"]]
    cfg = json.loads(runs.config_json.iloc[0])
    from calib.graders.base import config_hash

    assert config_hash(cfg) == out["grader"].split("-")[1]


def test_grade_length_and_dry_run(store):
    res = run("grade", "--store", store, "--grader", "length", "--dry-run")
    assert res.exit_code == 0 and "dry run" in res.output
    assert not read_ratings(store).rater_id.str.startswith("length-").any()
    assert run("grade", "--store", store, "--grader", "length").exit_code == 0
    assert read_ratings(store).rater_id.str.startswith("length-").any()


def test_calibrate_then_grade_with_fitted_config(store, tmp_path):
    out = tmp_path / "fitted.yaml"
    res = run("calibrate-grader", "--store", store, "--out", out, "--folds", "3")
    assert res.exit_code == 0, res.output
    cfg = yaml.safe_load(out.read_text())
    assert cfg["grader"] == "rules" and set(cfg["thresholds"]) and "wtkappa_after" in res.output
    res = run("grade", "--store", store, "--grader", "rules", "--config", out, "--format", "json")
    assert res.exit_code == 0 and json.loads(res.output)["accepted"] == 480


def test_validate_grader_table_json_out_and_strict(store, tmp_path):
    # by now the store holds the default and the calibrated rule grader: a bare prefix is ambiguous
    res = run("validate-grader", "--store", store, "--grader", "rules", "--n-boot", "0")
    assert res.exit_code == 1 and "ambiguous" in res.output
    ids = sorted(read_ratings(store).query("rater_type == 'rule'").rater_id.unique())
    gid = [i for i in ids if i.startswith("rules-")][0]
    res = run(
        "validate-grader",
        "--store",
        store,
        "--grader",
        gid,
        "--n-boot",
        "50",
        "--out",
        tmp_path / "val",
    )
    assert res.exit_code == 0, res.output
    assert "PASS" in res.output or "FAIL" in res.output
    for name in ("decision", "metrics", "per_rater", "length_bias", "subgroups", "fairness"):
        assert (tmp_path / "val" / f"{name}.csv").exists()
    dec = pd.read_csv(tmp_path / "val" / "decision.csv")
    assert len(dec) == 8 and {"passed", "reason", "wtkappa_low", "wtkappa_high"} <= set(dec.columns)
    js = json.loads((tmp_path / "val" / "validation.json").read_text())
    assert js["config"]["grader_id"] == gid and js["config"]["n_boot"] == 50
    strict = run(
        "validate-grader",
        "--store",
        store,
        "--grader",
        gid,
        "--n-boot",
        "0",
        "--strict",
        "--format",
        "json",
    )
    assert strict.exit_code == (0 if dec["passed"].all() else 1)
    # stdout only: a degenerate-case warning (e.g. constant grader scores) goes to stderr
    assert json.loads(strict.stdout)["config"]["n_boot"] == 0


def test_cli_errors_exit_1_or_2(store, tmp_path):
    assert run("validate-grader", "--store", store, "--grader", "nope").exit_code == 1
    bad = tmp_path / "crit.yaml"
    bad.write_text("min_qwk: 0.7\n")
    res = run(
        "validate-grader",
        "--store",
        store,
        "--grader",
        "length",
        "--criteria",
        bad,
        "--n-boot",
        "0",
    )
    assert res.exit_code == 1
    assert run("grade", "--store", store, "--grader", "vibes").exit_code == 2
    cfg = tmp_path / "x.yaml"
    cfg.write_text("- not a mapping\n")
    assert run("grade", "--store", store, "--grader", "rules", "--config", cfg).exit_code == 1


@pytest.mark.filterwarnings(
    "ignore:prmse is undefined:calib.errors.CalibWarning"
)  # 5 transcripts only
def test_validate_llm_grader_reports_judge_biases(tmp_path, capsys):
    """LLM grader through the scripted local chat server (tests/graders/llm_server.py):
    self-consistency, prompt sensitivity (two templates) and confidence calibration."""
    pytest.importorskip("httpx")
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from llm_server import ScriptedChatServer

    from calib.cli.main import main
    from calib.simulate import SimulationConfig, simulate_dataset, write_dataset

    ds = simulate_dataset(SimulationConfig(n_transcripts=5, seed=29))  # SYNTHETIC
    write_dataset(ds, tmp_path / "synthetic")
    store = tmp_path / "store"
    ingest(
        [tmp_path / "synthetic" / "transcripts.jsonl"],
        [tmp_path / "synthetic" / "ratings.csv"],
        rubric=ROOT / "rubrics" / "ml_interview_v1.yaml",
        store=store,
    )
    srv = ScriptedChatServer().start()
    try:
        ids = []
        for template in ("v1", "v2"):
            cfg = tmp_path / f"{template}.yaml"
            cfg.write_text(
                f"llm:\n  template: {template}\n  samples: 2\n  temperature: 0.7\n  seed: 3\n"
                "  logprobs: true\n  response_format: json_object\n"
            )
            assert (
                main(
                    [
                        "grade",
                        "--store",
                        str(store),
                        "--grader",
                        "llm",
                        "--base-url",
                        srv.base_url,
                        "--model",
                        "judge-m",
                        "--config",
                        str(cfg),
                        "--no-progress",
                        "--format",
                        "json",
                    ]
                )
                == 0
            )
            ids.append(json.loads(capsys.readouterr().out)["grader"])
    finally:
        srv.stop()
    res = run(
        "validate-grader",
        "--store",
        store,
        "--grader",
        ids[0],
        "--other-grader",
        ids[1],
        "--n-boot",
        "0",
        "--out",
        tmp_path / "val",
    )
    assert res.exit_code == 0, res.output
    assert (
        "self consistency" in res.output
        and "prompt sensitivity" in res.output
        and "ECE" in res.output
    )
    sc = pd.read_csv(tmp_path / "val" / "self_consistency.csv")
    assert len(sc) == 8 and (sc["n_units"] == 5).all()
    ps = pd.read_csv(tmp_path / "val" / "prompt_sensitivity.csv")
    assert (ps["n"] == 5).all()
    assert (tmp_path / "val" / "judge_calibration.csv").exists()
    # prompt sensitivity is an LLM-judge check: asking for it on the length baseline is an error
    assert run("grade", "--store", store, "--grader", "length").exit_code == 0
    bad = run(
        "validate-grader",
        "--store",
        store,
        "--grader",
        "length",
        "--other-grader",
        ids[1],
        "--n-boot",
        "0",
    )
    assert bad.exit_code == 1 and "other_grader_id" in bad.output
