"""``calib simulate``: writes the files, prints them, exit codes 0 / 2."""

from __future__ import annotations

from click.testing import CliRunner

from calib.cli.main import cli


def test_simulate_writes_and_reports(tmp_path):
    out = tmp_path / "ds"
    res = CliRunner().invoke(cli, ["simulate", "--out", str(out), "--n-transcripts", "25", "--seed", "4"])
    assert res.exit_code == 0, res.output
    for f in ["transcripts.jsonl", "ratings.csv", "true_scores.csv", "planted.json", "README.md"]:
        assert (out / f).is_file()
        assert f in res.output
    assert "SYNTHETIC" in res.output and "25 transcripts" in res.output


def test_simulate_clean_flag(tmp_path):
    out = tmp_path / "ds"
    res = CliRunner().invoke(cli, ["simulate", "--out", str(out), "--n-transcripts", "10", "--clean"])
    assert res.exit_code == 0, res.output
    assert '"clean": true' in (out / "planted.json").read_text()
    assert "--clean" in (out / "README.md").read_text()


def test_simulate_usage_errors_exit_2(tmp_path):
    runner = CliRunner()
    assert runner.invoke(cli, ["simulate"]).exit_code == 2  # --out missing
    assert runner.invoke(cli, ["simulate", "--out", str(tmp_path), "--n-transcripts", "0"]).exit_code == 2
    assert runner.invoke(cli, ["simulate", "--out", str(tmp_path), "--n-raters", "x"]).exit_code == 2


def test_simulate_out_is_a_file_is_usage_error(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    res = CliRunner().invoke(cli, ["simulate", "--out", str(f), "--n-transcripts", "5"])
    assert res.exit_code == 2


def test_simulate_unwritable_out_exit_1(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    res = CliRunner().invoke(cli, ["simulate", "--out", str(f / "sub"), "--n-transcripts", "5"])
    assert res.exit_code == 1
    assert "out" in res.output and "file" in res.output


def test_help_teaches():
    res = CliRunner().invoke(cli, ["simulate", "--help"])
    assert res.exit_code == 0
    assert "Examples" in res.output and "calib simulate --out" in res.output and "SYNTHETIC" in res.output
