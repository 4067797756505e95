"""``calib raters`` end to end on a SYNTHETIC store."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from calib.cli.main import cli
from calib.io import ingest
from calib.simulate import SimulationConfig, simulate_dataset, write_dataset

RUBRIC = Path(__file__).resolve().parents[2] / "rubrics" / "ml_interview_v1.yaml"


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    root = tmp_path_factory.mktemp("raters_cli")
    ds = simulate_dataset(SimulationConfig(n_transcripts=90, seed=21))  # SYNTHETIC
    files = write_dataset(ds, root / "synthetic")
    ingest(
        [files["transcripts.jsonl"]], [files["ratings.csv"]], rubric=RUBRIC, store=root / "store"
    )
    return root / "store"


def test_table_output_prints_the_answer_first(store):
    """Who, which effect, how big -- first; the full tables only behind --details."""
    res = CliRunner().invoke(cli, ["raters", "--store", str(store), "--no-plan"])
    assert res.exit_code == 0, res.output
    out = res.output
    lines = [ln for ln in out.splitlines() if ln.strip() and not ln.startswith("note:")]
    assert re.match(r"\d+ of \d+ raters flagged: ", lines[1]), lines[:3]
    assert "r01 (harsh +" in lines[1]  # planted severe rater, positive = harsher
    assert "== raters ==" not in out and "add --details" in out
    assert len(out.splitlines()) < 30
    res = CliRunner().invoke(cli, ["raters", "--store", str(store), "--no-plan", "--details"])
    out = res.output
    assert (
        out.index("raters flagged") < out.index("FLAGGED RATER EFFECTS") < out.index("== raters ==")
    )
    flags_block = out[out.index("FLAGGED") : out.index("== raters ==")]
    assert "r01" in flags_block and "severity" in flags_block


def test_json_and_csv_outputs(store):
    res = CliRunner().invoke(
        cli,
        ["raters", "--store", str(store), "--model", "additive", "--format", "json", "--no-plan"],
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert {"flags", "raters", "dimensions"} <= set(data)
    assert {"rater_id", "dimension", "severity", "se", "ci_low", "ci_high"} <= set(
        data["raters"][0]
    )
    res = CliRunner().invoke(
        cli, ["raters", "--store", str(store), "--format", "csv", "--table", "plan"]
    )
    assert res.exit_code == 0, res.output
    plan = pd.read_csv(io.StringIO(res.output))
    assert set(plan.n_raters) == {1, 2, 3, 4, 5, 6}
    assert {"G", "Phi", "raters_needed_G"} <= set(plan.columns)


def test_exit_codes(tmp_path, store):
    runner = CliRunner()
    assert runner.invoke(cli, ["raters", "--store", str(tmp_path / "nope")]).exit_code == 1
    assert runner.invoke(cli, ["raters", "--store", str(store), "--model", "x"]).exit_code == 2
    res = runner.invoke(cli, ["raters", "--help"])
    assert res.exit_code == 0 and "Examples:" in res.output and "calib raters --store" in res.output
