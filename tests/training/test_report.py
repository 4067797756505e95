"""The training report: contents, escaping of rater and transcript text in HTML, Markdown and
CSV, summary.json, and the CLI. Data: SYNTHETIC (shipped sample + planted interviewers)."""

from __future__ import annotations

import dataclasses
import json
import warnings
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from calib.cli.main import cli
from calib.errors import CalibWarning
from calib.io import ingest
from calib.training import (
    build_training_report,
    simulate_round,
    write_reference_set,
    write_training_report,
)

REPO = Path(__file__).resolve().parents[2]
RUBRIC = REPO / "rubrics" / "ml_interview_v1.yaml"
EVIL_RATER = "=cmd|'/C calc'!A0<img src=x onerror=alert(1)>"
EVIL_NOTE = "<script>alert('note')</script> | pipe\nnewline @SUM(1)"


@pytest.fixture
def evil_round(expert_set, sample_tables):
    rubric = sample_tables[2]
    tr = expert_set.transcripts.copy()
    turns = [dict(t) for t in tr.loc[0, "turns"]]
    i = next(k for k, t in enumerate(turns) if t["speaker"] == "candidate")
    turns[i]["text"] = (
        "<b>Problem</b> framing: the objective and metric <script>x()</script>. " + turns[i]["text"]
    )
    tr.at[0, "turns"] = turns
    rs = dataclasses.replace(expert_set, transcripts=tr)
    sim = simulate_round(
        rs,
        rubric,
        {EVIL_RATER: {"elevation": 1.5, "noise": 0.2}, "ok": {"noise": 0.2}},
        seed=3,
    )
    sim.loc[sim["rater_id"] == EVIL_RATER, "rationale"] = EVIL_NOTE
    return rs, rubric, sim


def test_report_contents_and_escaping(evil_round, tmp_path):
    rs, rubric, sim = evil_round
    rep = build_training_report([("round", sim, rs)], rubric)
    write_training_report(rep, tmp_path)
    for f in ("report.html", "report.md", "session.html", "session.md", "summary.json"):
        assert (tmp_path / f).is_file(), f
    html = (tmp_path / "report.html").read_text() + (tmp_path / "session.html").read_text()
    assert "<img src=x" not in html and "<script>" not in html and "<b>Problem" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&lt;script&gt;alert(&#39;note&#39;)&lt;/script&gt;" in html  # rationale on the sheet
    md = (tmp_path / "report.md").read_text() + (tmp_path / "session.md").read_text()
    assert "<img" not in md and "<script>" not in md and "&lt;img src=x" in md
    assert "newline" in md and "pipe\nnewline" not in md
    # CSV: text a spreadsheet would execute is neutralised
    acc = pd.read_csv(tmp_path / "tables" / "accuracy.csv", dtype=str)
    assert ("'" + EVIL_RATER) in set(acc["rater_id"])
    cells = pd.read_csv(tmp_path / "tables" / "cells.csv", dtype=str)
    assert not cells["rater_id"].str.startswith(("=", "+", "-", "@")).any()
    # certification: the planted +1.5 elevation fails, the clean one passes
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["certified"] == ["ok"]
    bad = next(c for c in summary["certification"] if c["rater_id"] == EVIL_RATER)
    assert "bias on" in bad["failed"]
    assert summary["rubric_hash"] == rubric.content_hash
    # the session sheet: a discussion item names the reference anchor and the given anchors
    assert rep.session.items
    item = rep.session.items[0]
    dim = rubric.dimension(item["dimension"])
    assert any(a == dim.level(lv).anchor for lv, _, a in item["reference_anchors"])
    assert all(g["anchor"] == dim.level(g["level"]).anchor for g in item["given"])
    assert item["excerpt"]
    grid = rep.session.grids[0]
    assert [r for r, _ in grid["rows"]] == sorted([EVIL_RATER, "ok"])
    assert len(grid["rows"][0][1]) == len(rs.transcript_ids)


def test_rater_filter(evil_round):
    rs, rubric, sim = evil_round
    rep = build_training_report([("round", sim, rs)], rubric, raters=["ok"])
    assert rep.last.accuracy.summary["rater_id"].tolist() == ["ok"]


def _ingest_round(path: Path, set_dir: Path, ratings: pd.DataFrame) -> Path:
    csv = path.with_suffix(".csv")
    ratings.to_csv(csv, index=False)
    s = ingest([set_dir / "transcripts.jsonl"], [csv], rubric=RUBRIC, store=path, strict=True)
    assert s.ok, s.format()
    return path


def test_training_report_cli_rounds(expert_set, sample_tables, sample_store, tmp_path):
    rubric = sample_tables[2]
    set_dir = tmp_path / "set"
    write_reference_set(expert_set, set_dir)
    # round 1: the interviewers' own scores already in the sample store
    res = CliRunner().invoke(
        cli,
        [
            "training-report",
            "--store",
            str(sample_store),
            "--set",
            str(set_dir),
            "--out",
            str(tmp_path / "rep1"),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "r02: not certified" in res.output
    assert (tmp_path / "rep1" / "session.html").is_file()
    # two rounds in two stores (SYNTHETIC second round): progress and who moved inside tolerance
    r1 = simulate_round(expert_set, rubric, {"ann": {"elevation": 1.0, "noise": 0.5}}, seed=1)
    r2 = simulate_round(expert_set, rubric, {"ann": {"noise": 0.2}}, seed=2)
    s1 = _ingest_round(tmp_path / "round1", set_dir, r1)
    s2 = _ingest_round(tmp_path / "round2", set_dir, r2)
    out = tmp_path / "rep2"
    args = ["training-report", "--store", str(s1), "--set", str(set_dir), "--store", str(s2)]
    res = CliRunner().invoke(
        cli, [*args, "--set", str(set_dir), "--out", str(out), "--n-boot", "200"]
    )
    assert res.exit_code == 0, res.output
    assert "moved inside tolerance: ann" in res.output
    assert (out / "tables" / "progress.csv").is_file()
    assert "Progress over rounds" in (out / "report.html").read_text()
    # one --set for two stores is allowed; mismatched counts are a usage error
    res = CliRunner().invoke(cli, [*args, "--out", str(out), "--n-boot", "200"])
    assert res.exit_code == 0, res.output
    res = CliRunner().invoke(
        cli,
        [
            *args,
            "--set",
            str(set_dir),
            "--store",
            str(s1),
            "--set",
            str(set_dir),
            "--store",
            str(s2),
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == 2
    # --rater who is absent: exit 1 naming the round and the rater
    res = CliRunner().invoke(cli, [*args, "--out", str(out), "--rater", "zed"])
    assert res.exit_code == 1 and "round 1" in res.output and "zed" in res.output
    # gate file
    gate = tmp_path / "gate.yaml"
    gate.write_text("max_abs_bias: 2.0\nmin_within_one: 0.5\n")
    res = CliRunner().invoke(
        cli,
        [
            "training-report",
            "--store",
            str(s1),
            "--set",
            str(set_dir),
            "--out",
            str(out),
            "--gate",
            str(gate),
        ],
    )
    assert res.exit_code == 0 and "ann: certified" in res.output
    res = CliRunner().invoke(cli, ["training-report", "--help"])
    assert "Examples:" in res.output and "calib training-report" in res.output


def test_tagged_rounds_in_one_store(expert_set, sample_tables, tmp_path):
    """Two rounds on two different sets in ONE store: each rating carries its round's
    run_id (training:<set id>, as the packet writes it)."""
    ratings, transcripts, rubric = sample_tables
    from calib.training import build_reference_set

    other = ratings[~ratings["transcript_id"].isin(expert_set.transcript_ids)]
    with warnings.catch_warnings():  # a coverage gap in set b does not matter here
        warnings.simplefilter("ignore", CalibWarning)
        set_b = build_reference_set(other, transcripts, rubric, n=8, experts=["r07", "r08"])
    assert not set(set_b.transcript_ids) & set(expert_set.transcript_ids)
    for rs, name in ((expert_set, "a"), (set_b, "b")):
        write_reference_set(rs, tmp_path / name)
    r1 = simulate_round(
        expert_set,
        rubric,
        {"ann": {"elevation": 1.0, "noise": 0.4}},
        seed=1,
        run_id=f"training:{expert_set.set_id}",
    )
    r2 = simulate_round(
        set_b, rubric, {"ann": {"noise": 0.2}}, seed=2, run_id=f"training:{set_b.set_id}"
    )
    both = pd.concat([r1, r2], ignore_index=True)
    both.to_csv(tmp_path / "both.csv", index=False)
    s = ingest(
        [tmp_path / "a" / "transcripts.jsonl", tmp_path / "b" / "transcripts.jsonl"],
        [tmp_path / "both.csv"],
        rubric=RUBRIC,
        store=tmp_path / "store",
        strict=True,
    )
    assert s.ok
    out = tmp_path / "rep"
    res = CliRunner().invoke(
        cli,
        [
            "training-report",
            "--store",
            str(tmp_path / "store"),
            "--set",
            str(tmp_path / "a"),
            "--set",
            str(tmp_path / "b"),
            "--out",
            str(out),
            "--n-boot",
            "200",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "moved inside tolerance: ann" in res.output
    prog = pd.read_csv(out / "tables" / "progress.csv")
    assert prog.loc[0, "mean_abs_deviation_ci_high"] < 0
