"""``calib simulate``: writes the files, prints them, exit codes 0 / 2."""

from __future__ import annotations

from click.testing import CliRunner

from calib.cli.main import cli


def test_simulate_writes_and_reports(tmp_path):
    out = tmp_path / "ds"
    res = CliRunner().invoke(
        cli, ["simulate", "--out", str(out), "--n-transcripts", "25", "--seed", "4"]
    )
    assert res.exit_code == 0, res.output
    for f in ["transcripts.jsonl", "ratings.csv", "true_scores.csv", "planted.json", "README.md"]:
        assert (out / f).is_file()
        assert f in res.output
    assert "SYNTHETIC" in res.output and "25 transcripts" in res.output


def test_simulate_clean_flag(tmp_path):
    out = tmp_path / "ds"
    res = CliRunner().invoke(
        cli, ["simulate", "--out", str(out), "--n-transcripts", "10", "--clean"]
    )
    assert res.exit_code == 0, res.output
    assert '"clean": true' in (out / "planted.json").read_text()
    assert "--clean" in (out / "README.md").read_text()


def test_simulate_usage_errors_exit_2(tmp_path):
    runner = CliRunner()
    assert runner.invoke(cli, ["simulate"]).exit_code == 2  # --out missing
    assert (
        runner.invoke(cli, ["simulate", "--out", str(tmp_path), "--n-transcripts", "0"]).exit_code
        == 2
    )
    assert (
        runner.invoke(cli, ["simulate", "--out", str(tmp_path), "--n-raters", "x"]).exit_code == 2
    )


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
    assert (
        "Examples" in res.output
        and "calib simulate --out" in res.output
        and "SYNTHETIC" in res.output
    )


def test_design_options(tmp_path):
    import pandas as pd

    out = tmp_path / "ds"
    args = [
        "simulate",
        "--out",
        str(out),
        "--n-transcripts",
        "30",
        "--raters-per-transcript",
        "3",
        "--linked-fraction",
        "0",
    ]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 0, res.output
    ratings = pd.read_csv(out / "ratings.csv")
    assert len(ratings) == 30 * 3 * 8
    # README records a command that reproduces exactly this design.
    assert "--raters-per-transcript 3 --linked-fraction 0.0" in (out / "README.md").read_text()


def test_readme_command_reproduces_files(tmp_path):
    import shlex

    a = tmp_path / "a"
    res = CliRunner().invoke(
        cli,
        [
            "simulate",
            "--out",
            str(a),
            "--n-transcripts",
            "12",
            "--raters-per-transcript",
            "2-2",
            "--linked-fraction",
            "0.25",
            "--seed",
            "8",
        ],
    )
    assert res.exit_code == 0, res.output
    readme = (a / "README.md").read_text()
    cmd = next(line for line in readme.splitlines() if line.startswith("calib simulate"))
    argv = shlex.split(cmd)[1:]
    argv[argv.index("--out") + 1] = str(tmp_path / "b")
    assert CliRunner().invoke(cli, argv).exit_code == 0
    for f in ["transcripts.jsonl", "ratings.csv", "true_scores.csv", "planted.json"]:
        assert (a / f).read_bytes() == (tmp_path / "b" / f).read_bytes()


def test_bad_range_is_usage_error(tmp_path):
    for bad in ["0", "3-2", "x", "1-2-3"]:
        res = CliRunner().invoke(
            cli, ["simulate", "--out", str(tmp_path), "--raters-per-transcript", bad]
        )
        assert res.exit_code == 2, bad


def test_incompatible_design_is_calib_error_exit_1(tmp_path):
    res = CliRunner().invoke(cli, ["simulate", "--out", str(tmp_path / "x"), "--n-raters", "2"])
    assert res.exit_code == 1  # default 2-3 raters per transcript needs at least 3 raters
    assert "raters_per_transcript" in res.output
    ok = CliRunner().invoke(
        cli,
        [
            "simulate",
            "--out",
            str(tmp_path / "y"),
            "--n-raters",
            "2",
            "--raters-per-transcript",
            "2",
            "--n-transcripts",
            "5",
        ],
    )
    assert ok.exit_code == 0, ok.output
