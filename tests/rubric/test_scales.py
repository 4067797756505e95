"""Any scale: wide ordinal (0-100) and continuous scales, anchors at a few points, a scale per
dimension; the loader's errors, the round trip, the diff, and ingest validation on each kind."""

from pathlib import Path

import pandas as pd
import pytest
import yaml

from calib.errors import RubricError
from calib.io import ingest, read_quarantine, read_ratings
from calib.rubric import (
    FEW_LEVELS,
    Scale,
    diff_rubrics,
    load_rubric,
    rubric_from_dict,
    rubric_to_dict,
)

SQUALITY = Path(__file__).resolve().parents[1] / "data" / "squality" / "squality.yaml"


def _doc(scale, dims=None):
    dims = dims or [
        {
            "id": "quality",
            "name": "Quality",
            "description": "How good is it?",
            "anchors": [
                {"score": scale["min"], "anchor": "Useless"},
                {"score": scale["max"], "anchor": "Perfect"},
            ],
        }
    ]
    return {"id": "r", "version": "1", "title": "R", "scale": scale, "dimensions": dims}


def test_squality_rubric_is_a_0_100_scale_anchored_at_five_points():
    r = load_rubric(SQUALITY)
    assert r.scale.describe() == "0-100 (101 levels)"
    assert (r.scale.n_levels, r.scale.few_levels, r.scale.metric) == (101, False, "interval")
    for d in r.dimensions:
        assert [lv.score for lv in d.anchors] == [0, 25, 50, 75, 100]
        assert d.nearest_anchor(62).score == 50  # tie 50/75 -> lower: 62 is nearer 50
        assert d.nearest_anchor(63).score == 75
    assert r.scale.contains(77) and not r.scale.contains(77.5) and not r.scale.contains(101)


def test_few_levels_threshold():
    assert Scale(1, FEW_LEVELS).few_levels  # 1..10: ten levels
    assert not Scale(0, FEW_LEVELS).few_levels  # 0..10: eleven levels
    assert Scale(1, 5).metric == "ordinal"
    assert Scale(1, 7, kind="continuous").metric == "interval"
    with pytest.raises(RubricError, match="continuous"):
        _ = Scale(1, 7, kind="continuous").values
    assert Scale(1, 7, kind="continuous").categories([2.5, 1, 2.5, float("nan")]).tolist() == [
        1.0,
        2.5,
    ]


def test_continuous_scale_and_fractional_anchors():
    r = rubric_from_dict(
        _doc(
            {"min": 1, "max": 7, "type": "continuous"},
            [
                {
                    "id": "warmth",
                    "name": "Warmth",
                    "description": "Mean of four 1-7 items",
                    "anchors": [
                        {"score": 1, "anchor": "Cold"},
                        {"score": 4.5, "anchor": "Neutral-warm"},
                        {"score": 7, "anchor": "Warm"},
                    ],
                }
            ],
        )
    )
    assert r.scale.continuous and r.scale.describe() == "1-7 (continuous)"
    assert r.scale.contains(3.25) and not r.scale.contains(7.5)
    assert [lv.score for lv in r.dimension("warmth").anchors] == [1, 4.5, 7]


def test_dimension_with_its_own_scale():
    d = _doc({"min": 1, "max": 5})
    d["dimensions"].append(
        {
            "id": "overall",
            "name": "Overall",
            "description": "Slider",
            "scale": {"min": 0, "max": 100},
            "anchors": [{"score": 0, "anchor": "Worst"}, {"score": 100, "anchor": "Best"}],
        }
    )
    r = rubric_from_dict(d)
    assert r.scale_for("quality").describe() == "1-5 (5 levels)"
    assert r.scale_for("overall").describe() == "0-100 (101 levels)"
    assert not r.uniform_scale and not r.few_levels
    back = rubric_from_dict(rubric_to_dict(r))
    assert back.scales == r.scales
    assert back.dimensions == r.dimensions


@pytest.mark.parametrize(
    "doc, key_path, message",
    [
        (_doc({"min": 1, "max": 7, "type": "interval"}), "scale.type", "'ordinal' or 'continuous'"),
        (_doc({"min": 0.5, "max": 7}), "scale.min", "declare 'type: continuous'"),
        (
            _doc(
                {"min": 0, "max": 100},
                [
                    {
                        "id": "q",
                        "name": "Q",
                        "description": "D",
                        "anchors": [{"score": 50, "anchor": "Middle"}],
                    }
                ],
            ),
            "dimensions[0].anchors",
            "at least two points",
        ),
        (
            _doc(
                {"min": 0, "max": 100},
                [
                    {
                        "id": "q",
                        "name": "Q",
                        "description": "D",
                        "anchors": [{"score": 0, "anchor": "A"}, {"score": 50.5, "anchor": "B"}],
                    }
                ],
            ),
            "dimensions[0].anchors[1].score",
            "expected an integer on an ordinal scale",
        ),
        (
            _doc(
                {"min": 1, "max": 7, "type": "continuous"},
                [
                    {
                        "id": "q",
                        "name": "Q",
                        "description": "D",
                        "levels": [{"score": 1, "anchor": "A"}, {"score": 7, "anchor": "B"}],
                    }
                ],
            ),
            "dimensions[0].levels",
            "a continuous scale has no levels",
        ),
        (
            _doc(
                {"min": 0, "max": 100},
                [
                    {
                        "id": "q",
                        "name": "Q",
                        "description": "D",
                        "levels": [{"score": 0, "anchor": "A"}, {"score": 100, "anchor": "B"}],
                    }
                ],
            ),
            "dimensions[0].levels",
            "on a wide scale give 'anchors' at a few points",
        ),
        (
            _doc(
                {"min": 0, "max": 10},
                [
                    {
                        "id": "q",
                        "name": "Q",
                        "description": "D",
                        "anchors": [{"score": 0, "anchor": "A"}, {"score": 11, "anchor": "B"}],
                    }
                ],
            ),
            "dimensions[0].anchors[1].score",
            "outside the scale",
        ),
        (
            _doc(
                {"min": 0, "max": 10},
                [
                    {
                        "id": "q",
                        "name": "Q",
                        "description": "D",
                        "anchors": [{"score": 0, "anchor": "A"}, {"score": 10, "anchor": "B"}],
                        "levels": [],
                    }
                ],
            ),
            "dimensions[0]",
            "not both",
        ),
    ],
)
def test_scale_errors_name_the_key_path(doc, key_path, message):
    with pytest.raises(RubricError) as err:
        rubric_from_dict(doc, path="r.yaml")
    assert err.value.key_path == key_path
    assert message in str(err.value) and "r.yaml" in str(err.value)


def test_few_level_scale_may_be_anchored_at_some_levels():
    r = rubric_from_dict(
        _doc(
            {"min": 1, "max": 5},
            [
                {
                    "id": "q",
                    "name": "Q",
                    "description": "D",
                    "anchors": [
                        {"score": 1, "anchor": "A"},
                        {"score": 3, "anchor": "B"},
                        {"score": 5, "anchor": "C"},
                    ],
                }
            ],
        )
    )
    assert r.scale.few_levels and [lv.score for lv in r.dimension("q").anchors] == [1, 3, 5]
    assert "anchors" in rubric_to_dict(r)["dimensions"][0]


def test_diff_reports_a_scale_change_and_new_anchors():
    a = load_rubric(SQUALITY)
    doc = yaml.safe_load(SQUALITY.read_text())
    doc["scale"] = {"min": 1, "max": 7, "type": "continuous"}
    for d in doc["dimensions"]:
        d["anchors"] = [{"score": 1, "anchor": "Low"}, {"score": 7, "anchor": "High"}]
    b = rubric_from_dict(doc)
    d = diff_rubrics(a, b)
    rng = d[(d["change"] == "scale") & (d["field"] == "range") & d["dimension"].isna()]
    assert rng[["before", "after"]].values.tolist() == [["0-100 (101 levels)", "1-7 (continuous)"]]
    assert set(d.loc[d["change"] == "level_added", "level"]) == {1, 7}


def _rubric_file(tmp_path, scale, extra_dim=None):
    doc = _doc(scale)
    doc["id"], doc["version"] = "scales", "1.0"
    if extra_dim:
        doc["dimensions"].append(extra_dim)
    p = tmp_path / "rubric.yaml"
    p.write_text(yaml.safe_dump(doc, sort_keys=False))
    return p


def _transcripts(tmp_path, n=3):
    import json

    p = tmp_path / "t.jsonl"
    p.write_text(
        "".join(
            json.dumps(
                {
                    "transcript_id": f"t{i}",
                    "question_id": "q",
                    "question_type": "x",
                    "turns": [
                        {"speaker": "interviewer", "text": "Q?"},
                        {"speaker": "candidate", "text": "A."},
                    ],
                }
            )
            + "\n"
            for i in range(1, n + 1)
        )
    )
    return p


def test_ingest_continuous_scale_accepts_fractions_and_rejects_out_of_range(tmp_path):
    rub = _rubric_file(tmp_path, {"min": 1, "max": 7, "type": "continuous"})
    r = tmp_path / "r.csv"
    r.write_text(
        "transcript_id,rater_id,rater_type,dimension,score\n"
        "t1,a,human,quality,3.25\n"  # data row 1: fraction, fine
        "t1,b,human,quality,7\n"  # 2
        "t2,a,human,quality,7.5\n"  # 3: above max
        "t2,b,human,quality,0.9\n"  # 4: below min
    )
    s = ingest([_transcripts(tmp_path)], [r], rubric=rub, store=tmp_path / "store")
    got = read_ratings(tmp_path / "store")
    assert sorted(got["score"]) == [3.25, 7.0]
    q = read_quarantine(tmp_path / "store")
    reasons = dict(zip(q["row"], q["reason"], strict=True))
    assert reasons[3] == "score 7.5 is off the rubric scale (1-7, any number)"
    assert reasons[4] == "score 0.9 is off the rubric scale (1-7, any number)"
    assert not s.ok


def test_ingest_wide_scale_and_a_dimension_with_its_own_scale(tmp_path):
    own = {
        "id": "fluency",
        "name": "Fluency",
        "description": "1-5",
        "scale": {"min": 1, "max": 5},
        "levels": [{"score": k, "anchor": f"level {k}"} for k in range(1, 6)],
    }
    rub = _rubric_file(tmp_path, {"min": 0, "max": 100}, own)
    r = tmp_path / "r.csv"
    r.write_text(
        "transcript_id,rater_id,rater_type,dimension,score\n"
        "t1,a,human,quality,77\n"  # data row 1 fine: in range on the wide scale
        "t1,a,human,fluency,5\n"  # 2 fine
        "t1,b,human,fluency,77\n"  # 3 off the dimension's own 1-5 scale
        "t1,b,human,quality,77.5\n"  # 4 not an integer level
        "t2,a,human,quality,100\n"  # 5 fine
    )
    ingest([_transcripts(tmp_path)], [r], rubric=rub, store=tmp_path / "store")
    got = read_ratings(tmp_path / "store").sort_values(["transcript_id", "dimension"])
    assert got[["dimension", "score"]].values.tolist() == [
        ["fluency", 5.0],
        ["quality", 77.0],
        ["quality", 100.0],
    ]
    q = read_quarantine(tmp_path / "store")
    reasons = dict(zip(q["row"], q["reason"], strict=True))
    assert reasons == {
        3: "score 77 is off the rubric scale (1-5 integers)",
        4: "score 77.5 is off the rubric scale (0-100 integers)",
    }
    assert len(got) + len(q) == 5


def test_rubric_show_prints_a_wide_scale_compactly():
    from click.testing import CliRunner

    from calib.cli.main import cli

    res = CliRunner().invoke(cli, ["rubric", "show", str(SQUALITY)])
    assert res.exit_code == 0, res.output
    assert "scale 0-100 (101 levels: 0 worst, 50 middle, 100 best)" in res.output
    assert "   25 weak" in res.output
    assert pd.Series(res.output.splitlines()).str.contains("anchor", case=False).sum() == 0
