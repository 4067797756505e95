"""Rubric loading, validation errors (file + key path), diff, and the CLI views."""

from pathlib import Path

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from calib.cli.main import cli
from calib.errors import RubricError
from calib.rubric import diff_rubrics, load_rubric, rubric_from_dict, rubric_to_dict

RUBRIC = Path(__file__).resolve().parents[2] / "rubrics" / "ml_interview_v1.yaml"


def test_shipped_rubric_v1():
    r = load_rubric(RUBRIC)
    assert (r.id, r.version, r.scale.min, r.scale.max) == ("ml_interview", "1.0", 1, 4)
    assert r.dimension_ids == (
        "problem_framing",
        "structure",
        "data",
        "modeling",
        "evaluation",
        "tradeoffs",
        "communication",
        "adaptability",
    )
    assert r.scale.values.tolist() == [1, 2, 3, 4]
    for d in r.dimensions:
        assert [l.score for l in d.levels] == [1, 2, 3, 4]
        assert all(l.anchor and l.indicators for l in d.levels), d.id
    assert len(r.content_hash) == 64
    assert r.anchor("tradeoffs", 3).startswith("Makes at least one explicit trade-off")


def _doc():
    return yaml.safe_load(RUBRIC.read_text())


def _write(tmp_path, doc, name="r.yaml"):
    p = tmp_path / name
    p.write_text(yaml.safe_dump(doc, sort_keys=False))
    return p


@pytest.mark.parametrize(
    "mutate, key_path, message",
    [
        (lambda d: d.pop("id"), "id", "required key is missing"),
        (lambda d: d["scale"].update(max=0), "scale.max", "must be greater than scale.min"),
        (
            lambda d: d["dimensions"][2]["levels"].pop(1),
            "dimensions[2].levels",
            "no anchor for level(s) [2]",
        ),
        (
            lambda d: d["dimensions"][1]["levels"][0].update(anchor=""),
            "dimensions[1].levels[0].anchor",
            "must not be empty",
        ),
        (
            lambda d: d["dimensions"][3]["levels"][3].update(score=7),
            "dimensions[3].levels[3].score",
            "outside the scale",
        ),
        (
            lambda d: d["dimensions"][4].update(id="structure"),
            "dimensions[4].id",
            "duplicate dimension id",
        ),
        (
            lambda d: d["dimensions"][0].update(weight="heavy"),
            "dimensions[0].weight",
            "non-negative number",
        ),
        (lambda d: d["dimensions"][0].update(colour="red"), "dimensions[0].colour", "unknown key"),
        (
            lambda d: d["dimensions"][5].update(signals=["x"]),
            "dimensions[5].signals",
            "expected a mapping",
        ),
        (lambda d: d.update(dimensions=[]), "dimensions", "non-empty list"),
    ],
)
def test_validation_errors_name_file_and_key_path(tmp_path, mutate, key_path, message):
    doc = _doc()
    mutate(doc)
    p = _write(tmp_path, doc)
    with pytest.raises(RubricError) as err:
        load_rubric(p)
    assert err.value.key_path == key_path
    assert str(p) in str(err.value) and message in str(err.value)


def test_invalid_yaml_and_missing_file(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("id: x\nscale: [1, 2\n")
    with pytest.raises(RubricError, match=r"invalid YAML at line \d+"):
        load_rubric(p)
    with pytest.raises(RubricError, match="not found"):
        load_rubric(tmp_path / "missing.yaml")


def test_round_trip_through_dict():
    r = load_rubric(RUBRIC)
    again = rubric_from_dict(rubric_to_dict(r))
    assert again.dimensions == r.dimensions and again.scale == r.scale


def test_diff_reports_added_removed_reworded_and_scale(tmp_path):
    doc = _doc()
    doc["version"] = "1.1"
    doc["dimensions"][5]["levels"][1]["anchor"] = (
        "Names a constraint and one way it changes the design."
    )
    removed = doc["dimensions"].pop(7)
    doc["dimensions"].append({**removed, "id": "follow_ups", "name": "Follow-ups"})
    doc["scale"]["labels"][4] = "Exemplary"
    changes = diff_rubrics(load_rubric(RUBRIC), load_rubric(_write(tmp_path, doc)))
    kinds = set(changes["change"])
    assert {"metadata", "anchor_reworded", "dimension_removed", "dimension_added", "scale"} <= kinds
    reworded = changes[changes["change"] == "anchor_reworded"].iloc[0]
    assert (reworded["dimension"], reworded["level"]) == ("tradeoffs", 2)
    assert 0 < reworded["similarity"] < 1
    assert diff_rubrics(load_rubric(RUBRIC), load_rubric(RUBRIC)).empty


def test_cli_show_and_diff(tmp_path):
    runner = CliRunner()
    res = runner.invoke(cli, ["rubric", "show", str(RUBRIC)])
    assert res.exit_code == 0 and "problem_framing" in res.output and "4 Strong" in res.output
    doc = _doc()
    doc["dimensions"][0]["levels"][0]["anchor"] = "Starts with a model."
    res = runner.invoke(cli, ["rubric", "diff", str(RUBRIC), str(_write(tmp_path, doc))])
    assert (
        res.exit_code == 0
        and "anchor_reworded" in res.output
        and "Starts with a model." in res.output
    )
    res = runner.invoke(cli, ["rubric", "show", str(tmp_path / "nope.yaml")])
    assert res.exit_code == 1 and "not found" in res.output


def test_cli_diff_version_bump_and_metadata_only(tmp_path):
    # pandas 3 regression: a metadata-only change (no level, no similarity) crashed with
    # "TypeError: boolean value of NA is ambiguous"; missing before/after printed as "nan"
    doc = _doc()
    doc["version"] = "1.1"
    doc["dimensions"].append({**doc["dimensions"][0], "id": "extra_dim"})
    res = CliRunner().invoke(cli, ["rubric", "diff", str(RUBRIC), str(_write(tmp_path, doc))])
    assert res.exit_code == 0, res.output
    assert res.exception is None
    assert "v1.0 -> ml_interview v1.1" in res.output
    assert "- 1.0" in res.output and "+ 1.1" in res.output
    assert "dimension_added  extra_dim" in res.output
    assert "nan" not in res.output.lower().split()
    assert "level <NA>" not in res.output and "similarity nan" not in res.output


def test_diff_missing_cells_are_none():
    doc = _doc()
    doc["version"] = "2"
    d = diff_rubrics(load_rubric(RUBRIC), rubric_from_dict(doc))
    row = d.iloc[0]
    assert row["change"] == "metadata" and row["before"] == "1.0" and row["after"] == "2"
    assert row["dimension"] is None and row["similarity"] is None
    assert pd.isna(row["level"])
