"""`calib agree` end to end on a store ingested from the SYNTHETIC sample data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from calib.cli.main import cli

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "datasets" / "sample"


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    if not (SAMPLE / "ratings.csv").exists():
        pytest.skip("sample data not present")
    from calib.io import ingest

    path = tmp_path_factory.mktemp("agree") / "store"
    ingest(
        [str(SAMPLE / "transcripts.jsonl")],
        [str(SAMPLE / "ratings.csv")],
        rubric=str(REPO / "rubrics" / "ml_interview_v1.yaml"),
        store=str(path),
    )
    return path


def test_table_output(store):
    res = CliRunner().invoke(cli, ["agree", "--store", str(store), "--n-boot", "50"])
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert "alpha" in res.output and "band" in res.output
    assert "ordinal" in res.output and "QWK" in res.output  # 1-4: few levels, every statistic
    # one row per rubric dimension, in rubric order
    body = [ln.split()[0] for ln in lines[3:] if ln.strip()]
    assert body == [
        "problem_framing",
        "structure",
        "data",
        "modeling",
        "evaluation",
        "tradeoffs",
        "communication",
        "adaptability",
    ]


def test_json_and_grouping(store):
    res = CliRunner().invoke(
        cli,
        [
            "agree",
            "--store",
            str(store),
            "--by",
            "question_type",
            "--format",
            "json",
            "--n-boot",
            "0",
        ],
    )
    assert res.exit_code == 0, res.output
    rows = json.loads(res.output)
    assert {"question_type", "dimension", "alpha_ordinal", "band"} <= set(rows[0])


def test_errors_exit_codes(store, tmp_path):
    assert CliRunner().invoke(cli, ["agree", "--store", str(tmp_path / "none")]).exit_code == 1
    assert (
        CliRunner()
        .invoke(cli, ["agree", "--store", str(store), "--by", "nonexistent_key", "--n-boot", "0"])
        .exit_code
        == 1
    )
    assert (
        CliRunner().invoke(cli, ["agree", "--store", str(store), "--format", "xml"]).exit_code == 2
    )
    res = CliRunner().invoke(cli, ["agree", "--help"])
    assert res.exit_code == 0 and "Examples" in res.output
