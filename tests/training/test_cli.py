"""CLI of the training commands. Data: SYNTHETIC (shipped sample)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from calib.cli.main import cli


@pytest.mark.parametrize("name", ["reference-set"])
def test_help_has_examples(name):
    res = CliRunner().invoke(cli, [name, "--help"])
    assert res.exit_code == 0
    assert "Examples:" in res.output and f"calib {name}" in res.output


def test_reference_set_cli(sample_store, tmp_path):
    out = tmp_path / "set"
    res = CliRunner().invoke(
        cli,
        [
            "reference-set",
            "--store",
            str(sample_store),
            "--n",
            "8",
            "--experts",
            "r07,r08",
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "every level of every dimension is covered" in res.output
    doc = json.loads((out / "set.json").read_text())
    assert len(doc["chosen"]) == 8 and doc["experts"] == ["r07", "r08"]
    for f in ("reference.csv", "chosen.csv", "transcripts.jsonl", "README.md"):
        assert (out / f).is_file()


def test_reference_set_cli_refuses(sample_store, tmp_path):
    args = ["reference-set", "--store", str(sample_store), "--out", str(tmp_path / "s")]
    res = CliRunner().invoke(cli, [*args, "--n", "40", "--experts", "r07,r08"])
    assert res.exit_code == 1
    assert "cannot support a reference set of 40" in res.output and "To fix" in res.output
    res = CliRunner().invoke(cli, [*args, "--n", "0"])
    assert res.exit_code == 2
    assert not (tmp_path / "s").exists()
