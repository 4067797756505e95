"""The scoring packet's HTML without a browser: blind, escaped, closed, template CSV ingests.
(The browser behaviour is tested in test_packet_browser.py.) Data: SYNTHETIC (shipped sample)."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from calib.cli.main import cli
from calib.errors import ConfigError
from calib.io import ingest, read_ratings
from calib.rubric import load_rubric
from calib.training import render_packet, write_packet, write_reference_set

REPO = Path(__file__).resolve().parents[2]
RUBRIC = REPO / "rubrics" / "ml_interview_v1.yaml"


@pytest.fixture(scope="module")
def rubric():
    return load_rubric(RUBRIC)


def test_blind_page_does_not_depend_on_reference_scores(expert_set, rubric):
    shuffled = expert_set.reference.assign(
        reference_score=lambda d: 5 - d["reference_score"], reference_level="9"
    )
    other = dataclasses.replace(expert_set, reference=shuffled, gaps=("x",))
    assert render_packet(other, rubric) == render_packet(expert_set, rubric)


def test_untrusted_text_is_escaped_and_page_is_closed(expert_set, rubric):
    tr = expert_set.transcripts.copy()
    turns = [dict(t) for t in tr.loc[0, "turns"]]
    turns[1]["text"] = "</script><script>alert(1)</script><img src=x onerror=alert(2)>"
    tr.at[0, "turns"] = turns
    old = expert_set.transcript_ids[0]
    evil = dataclasses.replace(
        expert_set,
        transcripts=tr.replace({"transcript_id": {old: "</script><b>"}}),
        chosen=expert_set.chosen.replace({"transcript_id": {old: "</script><b>"}}),
    )
    page = render_packet(evil, rubric)
    assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x" in page
    assert "<img" not in page and "</script><b>" not in page
    # exactly two script elements: the JSON data (never executed) and the page script
    assert page.count("<script") == 2 and page.count("</script>") == 2
    assert "\\u003c/script\\u003e\\u003cb\\u003e" in page  # the id inside the JSON data
    # no external resource of any kind
    assert not re.search(r"(src|href)=\"?(https?:)?//", page)
    # the CSP allows exactly the inline page script, by hash
    csp = re.search(r"script-src '([^']+)'", page).group(1)
    body = re.search(r"<script>(.*?)</script>", page, re.S).group(1)
    assert csp == "sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
    assert "default-src 'none'" in page


def test_every_cell_has_a_form_field(expert_set, rubric):
    page = render_packet(expert_set, rubric)
    n_t, n_d = len(expert_set.transcript_ids), len(rubric.dimension_ids)
    assert len(re.findall(r'type="radio" name="s-\d+-\d+"', page)) == n_t * n_d * 4
    assert len(re.findall(r'<textarea name="r-\d+-\d+"', page)) == n_t * n_d
    assert page.count('id="rater-id"') == 1
    for lv in rubric.dimensions[0].levels:
        assert lv.anchor.replace("'", "&#39;") in page


def test_rubric_must_match_the_set(expert_set, rubric, tmp_path):
    doc = yaml.safe_load(RUBRIC.read_text())
    doc["version"] = "2.0"
    (tmp_path / "v2.yaml").write_text(yaml.safe_dump(doc))
    with pytest.raises(ConfigError, match="not the set's rubric"):
        render_packet(expert_set, load_rubric(tmp_path / "v2.yaml"))
    doc["version"] = "1.0"
    doc["dimensions"][0]["levels"][0]["anchor"] += " (edited)"
    (tmp_path / "edited.yaml").write_text(yaml.safe_dump(doc))
    with pytest.raises(ConfigError, match="different content"):
        render_packet(expert_set, load_rubric(tmp_path / "edited.yaml"))


def test_template_csv_filled_in_is_ingested(expert_set, rubric, tmp_path):
    write_reference_set(expert_set, tmp_path / "set")
    write_packet(expert_set, rubric, tmp_path / "packet")
    tpl = pd.read_csv(tmp_path / "packet" / "scores_template.csv", dtype=str, keep_default_na=False)
    assert list(tpl["transcript_id"]) == expert_set.transcript_ids
    tpl["rater_id"] = "bob"
    for i, d in enumerate(rubric.dimension_ids):
        tpl[d] = [str((i + j) % 4 + 1) for j in range(len(tpl))]
    tpl.to_csv(tmp_path / "bob.csv", index=False)
    s = ingest(
        [tmp_path / "set" / "transcripts.jsonl"],
        [tmp_path / "bob.csv"],
        rubric=RUBRIC,
        store=tmp_path / "round",
        strict=True,
    )
    assert s.ok
    assert len(read_ratings(tmp_path / "round")) == len(tpl) * len(rubric.dimension_ids)


def test_packet_cli(expert_set, tmp_path):
    write_reference_set(expert_set, tmp_path / "set")
    res = CliRunner().invoke(
        cli,
        [
            "packet",
            "--set",
            str(tmp_path / "set"),
            "--rubric",
            str(RUBRIC),
            "--out",
            str(tmp_path / "p"),
        ],
    )
    assert res.exit_code == 0, res.output
    assert (tmp_path / "p" / "packet.html").is_file()
    assert (tmp_path / "p" / "scores_template.csv").is_file()
    res = CliRunner().invoke(
        cli,
        [
            "packet",
            "--set",
            str(tmp_path / "nope"),
            "--rubric",
            str(RUBRIC),
            "--out",
            str(tmp_path / "q"),
        ],
    )
    assert res.exit_code == 1 and "no set.json" in res.output
    res = CliRunner().invoke(cli, ["packet", "--help"])
    assert "Examples:" in res.output and "calib packet" in res.output
