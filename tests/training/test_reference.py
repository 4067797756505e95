"""Reference sets chosen from the shipped SYNTHETIC sample (datasets/sample)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from calib.errors import CalibWarning, ConfigError, DataValidationError
from calib.io import ingest, read_ratings
from calib.training import build_reference_set, read_reference_set, write_reference_set
from calib.training._reference import levels_within

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "datasets" / "sample"
RUBRIC = REPO / "rubrics" / "ml_interview_v1.yaml"


def test_expert_reference_is_the_experts_mean(expert_set):
    raw = pd.read_csv(SAMPLE / "ratings.csv")
    experts = raw[raw["rater_id"].isin(["r07", "r08"])]
    want = experts.groupby(["transcript_id", "dimension"])["score"].mean()
    ref = expert_set.reference.set_index(["transcript_id", "dimension"])
    assert len(ref) == 8 * 8
    for key, row in ref.iterrows():
        assert row["reference_score"] == pytest.approx(want[key])
        assert row["reference_raters"] == "r07;r08"
        assert row["spread"] <= 1


def test_covers_every_level_of_every_dimension(expert_set, sample_tables):
    rubric = sample_tables[2]
    ref = expert_set.reference
    clear = ref[ref["reference_score"] == ref["reference_score"].round()]
    have = set(zip(clear["dimension"], clear["reference_score"].astype(int), strict=True))
    for d in rubric.dimension_ids:
        for v in rubric.scale.values:
            assert (d, int(v)) in have, (d, v)
    assert expert_set.gaps == ()
    assert len(expert_set.chosen) == 8
    assert expert_set.chosen["reason"].str.len().min() > 10


def test_includes_borderline_cases(expert_set):
    assert expert_set.reference["borderline"].any()
    assert (expert_set.chosen["borderline_dimensions"] != "").sum() >= 2


def test_deterministic(sample_tables, expert_set):
    again = build_reference_set(*sample_tables, n=8, experts=["r07", "r08"])
    assert again.set_id == expert_set.set_id
    assert again.transcript_ids == expert_set.transcript_ids


def test_consensus_mode_uses_high_agreement_transcripts(sample_tables):
    ratings, transcripts, rubric = sample_tables
    rs = build_reference_set(ratings, transcripts, rubric, n=8)
    assert rs.mode == "consensus" and rs.experts == ()
    human = ratings[ratings["rater_type"] == "human"]
    for tid in rs.transcript_ids:
        g = human[human["transcript_id"] == tid].groupby("dimension")["score"]
        assert (g.count() >= 3).all()
        assert ((g.max() - g.min()) <= 1).all()
        got = rs.reference[rs.reference["transcript_id"] == tid].set_index("dimension")
        pd.testing.assert_series_equal(
            got["reference_score"].sort_index(), g.mean().sort_index(), check_names=False
        )


def test_refuses_when_the_store_cannot_support_a_set(sample_tables):
    with pytest.raises(DataValidationError, match=r"cannot support a reference set of 40.*only 36"):
        build_reference_set(*sample_tables, n=40, experts=["r07", "r08"])
    with pytest.raises(ConfigError, match="r99"):
        build_reference_set(*sample_tables, n=4, experts=["r07", "r99"])
    with pytest.raises(ConfigError, match="at least 1"):
        build_reference_set(*sample_tables, n=0)


def test_gap_is_reported_when_a_level_is_never_given(sample_tables):
    ratings, transcripts, rubric = sample_tables
    no_fours = ratings[~((ratings["dimension"] == "data") & (ratings["score"] == 4))]
    with pytest.warns(CalibWarning, match=r"data level 4 \(no eligible transcript"):
        rs = build_reference_set(no_fours, transcripts, rubric, n=8, experts=["r07", "r08"])
    assert "data level 4" in rs.gaps


def test_levels_within():
    assert levels_within(2.5) == [2, 3]
    assert levels_within(1.4) == [1]
    assert levels_within(3.6) == [4]


def test_write_read_roundtrip_and_transcripts_ingest(expert_set, tmp_path):
    write_reference_set(expert_set, tmp_path / "set")
    back = read_reference_set(tmp_path / "set")
    assert back.set_id == expert_set.set_id
    assert back.transcript_ids == expert_set.transcript_ids
    pd.testing.assert_frame_equal(
        back.reference[["transcript_id", "dimension", "reference_score"]],
        expert_set.reference[["transcript_id", "dimension", "reference_score"]],
    )
    doc = json.loads((tmp_path / "set" / "set.json").read_text())
    assert doc["kind"] == "calib_reference_set"
    # transcripts.jsonl is accepted by calib ingest as is (a round store can start from it)
    s = ingest([tmp_path / "set" / "transcripts.jsonl"], [], rubric=RUBRIC, store=tmp_path / "r1")
    assert s.ok
    assert len(read_ratings(tmp_path / "r1")) == 0


def test_read_errors(tmp_path):
    with pytest.raises(ConfigError, match="no set.json"):
        read_reference_set(tmp_path)
    (tmp_path / "set.json").write_text('{"kind": "other"}')
    with pytest.raises(ConfigError, match="not a calib reference set"):
        read_reference_set(tmp_path)


def test_read_malformed_set(expert_set, tmp_path):
    write_reference_set(expert_set, tmp_path)
    doc = json.loads((tmp_path / "set.json").read_text())
    del doc["reference"][3]["reference_score"]
    (tmp_path / "set.json").write_text(json.dumps(doc))
    with pytest.raises(ConfigError, match=r"set.json: reference\[3\] is missing reference_score"):
        read_reference_set(tmp_path)
    (tmp_path / "set.json").write_text("{not json")
    with pytest.raises(ConfigError, match="not valid JSON"):
        read_reference_set(tmp_path)


def test_max_coverage_is_exact_where_greedy_is_not():
    """Greedy takes A (4 new pairs) and then covers 5 of 6 with two transcripts; the integer
    programme finds B + C, which cover all 6."""
    from calib.training._reference import _max_coverage

    p = [("d", i) for i in range(6)]
    pairs = {"A": {p[0], p[1], p[2], p[3]}, "B": {p[0], p[1], p[4]}, "C": {p[2], p[3], p[5]}}
    assert sorted(_max_coverage(["A", "B", "C"], pairs, 2, [0, 0, 0])) == ["B", "C"]
    # at equal coverage the preferred tier wins; a worse tier only when it covers more
    pairs2 = {"X": {p[0]}, "Y": {p[0]}, "Z": {p[0], p[1]}}
    assert _max_coverage(["X", "Y", "Z"], pairs2, 1, [1, 0, 2]) == ["Z"]
    assert _max_coverage(["X", "Y"], pairs2, 1, [1, 0]) == ["Y"]
