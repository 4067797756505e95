"""Ingestion: every validation error class, round trips, idempotency, atomicity, CLI exit codes."""

import json
import os

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from io_helpers import DIMS, HEADER, rating_line, transcript, write_jsonl

from calib.cli.main import cli
from calib.errors import DataValidationError, StoreError
from calib.io import (
    _store,
    append_ratings,
    ingest,
    metadata_frame,
    read_quarantine,
    read_ratings,
    read_store_rubric,
    read_table,
    read_transcripts,
    to_hf_dataset,
    write_hf_dataset,
    write_table,
)


def _ingest(tmp_path, transcripts=(), ratings=(), rubric=None, **kw):
    from io_helpers import RUBRIC

    return ingest(transcripts, ratings, rubric=rubric or RUBRIC, store=tmp_path / "store", **kw)


def test_canonical_files_ingest_cleanly(tmp_path, good_files):
    t, r = good_files
    s = _ingest(tmp_path, [t], [r])
    assert s.ok and s.written
    tr = read_transcripts(tmp_path / "store")
    assert tr["transcript_id"].tolist() == ["t1", "t2", "t3"]
    assert tr.loc[0, "turns"][0] == {
        "speaker": "interviewer",
        "text": "Design a recommendation system for an e-commerce platform.",
        "start_s": None,
    }
    assert tr.loc[0, "metadata"] == {"seniority": "senior", "cohort": "2026-Q1"}
    assert str(tr["interviewed_at"].dt.tz) == "UTC"
    ra = read_ratings(tmp_path / "store")
    assert len(ra) == 3 * 2 * 8
    assert list(ra.columns) == [
        "transcript_id",
        "rater_id",
        "rater_type",
        "dimension",
        "score",
        "rubric_id",
        "rubric_version",
        "rated_at",
        "rationale",
        "run_id",
        "unscored_reason",
    ]
    assert ra["score"].dtype == "float64" and set(ra["rater_type"]) == {"human"}
    assert read_quarantine(tmp_path / "store").empty
    assert read_store_rubric(tmp_path / "store").id == "ml_interview"
    assert list(metadata_frame(tr).columns) == ["transcript_id", "cohort", "seniority"]


def test_canonical_jsonl_line_from_issue_is_accepted(tmp_path):
    line = (
        '{"transcript_id": "t1", "question_id": "q-recsys", "question_type": "ml_system_design", '
        '"interviewed_at": "2026-03-02T10:00:00Z", "turns": [{"speaker": "interviewer", "text": "..."}, '
        '{"speaker": "candidate", "text": "..."}], "metadata": {"seniority": "senior"}}\n'
    )
    p = tmp_path / "t.jsonl"
    p.write_text(line)
    assert _ingest(tmp_path, [p]).ok


def _reasons(store):
    q = read_quarantine(store)
    return {
        # a missing field is None under pandas 2 and NaN under pandas 3 (default str dtype)
        (
            row.source.rsplit("/", 1)[-1],
            row.row,
            None if pd.isna(row.field) else row.field,
        ): row.reason
        for row in q.itertuples()
    }


def test_every_validation_error_class_is_quarantined_with_file_row_field(tmp_path):
    t = tmp_path / "t.jsonl"
    good = json.dumps(transcript("t1"))
    lines = [
        good,  # 1 ok
        json.dumps(
            transcript(
                "t2",
                turns=[
                    {"speaker": "interviewer", "text": "Q?"},
                    {"speaker": "candidate", "text": "   "},
                ],
            )
        ),  # 2 empty text
        '{"transcript_id": "t3", "turns": [oops]}',  # 3 malformed JSON
        json.dumps(
            {k: v for k, v in transcript("t4").items() if k != "question_id"}
        ),  # 4 missing field
        json.dumps(transcript("t5", turns=[{"speaker": "coach", "text": "hi"}])),  # 5 bad speaker
    ]
    t.write_bytes(
        ("\n".join(lines) + "\n").encode() + b'{"transcript_id": "t6", "text": "caf\xe9"}\n'
    )  # 6 latin-1
    r = tmp_path / "r.csv"
    body = (
        HEADER
        + rating_line("t1", "r1", "structure", 3)  # 2 ok
        + rating_line("t1", "r1", "charisma", 3)  # 3 unknown dimension
        + rating_line("t1", "r2", "structure", 5)  # 4 off scale
        + rating_line("t1", "r2", "data", "abc")  # 5 not a number
        + rating_line("t1", "r2", "modeling", 2.5)  # 6 not a scale level
        + rating_line("t99", "r2", "data", 2)  # 7 unknown transcript
        + rating_line("t1", "r3", "data", 2)  # 8 conflicting duplicate
        + rating_line("t1", "r3", "data", 3)  # 9 conflicting duplicate
        + rating_line("t1", "r4", "data", 2, version="2.0")  # 10 rubric version mismatch
        + rating_line("t1", "r4", "structure", "")  # 11 missing score
        + ",r4,human,data,2,ml_interview,1.0,\n"  # 12 missing transcript_id
        + rating_line("t1", "r4", "evaluation", 2, rated_at="yesterday")
    )  # 13 bad timestamp
    r.write_bytes(
        body.encode() + b"t1,r5,human,data,2,ml_interview,1.0,caf\xe9\n"
    )  # 14 bad encoding
    s = _ingest(tmp_path, [t], [r])
    assert not s.ok and s.written
    q = _reasons(tmp_path / "store")
    assert "empty transcript text" in q[("t.jsonl", 2, "turns[1].text")]
    assert "malformed JSON" in q[("t.jsonl", 3, None)]
    # question_id is optional since issue 10 (default "unspecified"): row 4 is stored
    assert ("t.jsonl", 4, "question_id") not in q
    # an unknown speaker name is mapped to a role; one speaker alone cannot be
    assert "only one speaker ('coach'" in q[("t.jsonl", 5, "turns.speaker")]
    assert "wrong file encoding" in q[("t.jsonl", 6, None)]
    assert "unknown dimension 'charisma'" in q[("r.csv", 2, "dimension")]
    assert "off the rubric scale" in q[("r.csv", 3, "score")]
    assert "not a number" in q[("r.csv", 4, "score")]
    assert "off the rubric scale" in q[("r.csv", 5, "score")]
    assert "does not exist" in q[("r.csv", 6, "transcript_id")]
    assert "conflicting duplicate" in q[("r.csv", 7, "score")]
    assert "conflicting duplicate" in q[("r.csv", 8, "score")]
    assert "does not match the rubric" in q[("r.csv", 9, "rubric_version")]
    # a blank score is "not rated" (issue 10): counted, neither stored nor quarantined
    assert ("r.csv", 10, "score") not in q
    assert s.sources[1].not_rated == 1
    assert "missing required field 'transcript_id'" in q[("r.csv", 11, "transcript_id")]
    # an unreadable optional rated_at costs the date, not the score (issue 10)
    assert ("r.csv", 12, "rated_at") not in q
    assert any("'yesterday'" in n and "scores kept" in n for n in s.notes)
    stored = read_ratings(tmp_path / "store")
    assert stored.query("rater_id == 'r4' and dimension == 'evaluation'")["rated_at"].isna().all()
    assert "wrong file encoding" in q[("r.csv", 13, None)]
    # nothing lost: every input row is stored, quarantined or (ratings) counted as not rated
    assert len(read_transcripts(tmp_path / "store")) + sum(1 for k in q if k[0] == "t.jsonl") == 6
    assert len(stored) + sum(1 for k in q if k[0] == "r.csv") + 1 == 13
    quarantine = read_quarantine(tmp_path / "store")
    assert {"source", "row", "field", "reason"} <= set(quarantine.columns)
    assert (
        json.loads(
            quarantine.set_index("row").loc[3].query("table == 'ratings'")["record"].iloc[0]
        )["score"]
        == "5"
    )


def test_strict_writes_nothing_and_cli_exits_1(tmp_path, good_files, rubric_path):
    t, r = good_files
    with open(r, "a") as fh:
        fh.write(rating_line("t1", "r9", "charisma", 3))
    s = _ingest(tmp_path, [t], [r], strict=True)
    assert not s.ok and not s.written
    assert not (tmp_path / "store" / "calib-store.json").exists()
    res = CliRunner().invoke(
        cli,
        [
            "ingest",
            "--transcripts",
            str(t),
            "--ratings",
            str(r),
            "--rubric",
            str(rubric_path),
            "--store",
            str(tmp_path / "s2"),
            "--strict",
        ],
    )
    assert res.exit_code == 1, res.output
    assert "charisma" in res.output and "nothing was written" in res.output
    res = CliRunner().invoke(
        cli,
        [
            "ingest",
            "--transcripts",
            str(t),
            "--ratings",
            str(r),
            "--rubric",
            str(rubric_path),
            "--store",
            str(tmp_path / "s3"),
        ],
    )
    assert res.exit_code == 0 and "quarantined 1 row" in res.output


def test_cli_usage_error_exits_2(tmp_path, rubric_path):
    res = CliRunner().invoke(
        cli, ["ingest", "--rubric", str(rubric_path), "--store", str(tmp_path)]
    )
    assert res.exit_code == 2
    res = CliRunner().invoke(cli, ["ingest", "--store", str(tmp_path)])
    assert res.exit_code == 2 and "--rubric" in res.output


def test_reingest_is_idempotent_and_new_batch_appends(tmp_path, good_files):
    t, r = good_files
    with open(r, "a") as fh:
        fh.write(
            rating_line("t1", "r9", "charisma", 3)
        )  # one bad row: its quarantine must not duplicate
    _ingest(tmp_path, [t], [r])
    store = tmp_path / "store"
    before = (read_transcripts(store), read_ratings(store), read_quarantine(store))
    s = _ingest(tmp_path, [t], [r])
    assert [x.duplicates_skipped for x in s.sources] == [3, 48]
    after = (read_transcripts(store), read_ratings(store), read_quarantine(store))
    for a, b in zip(before, after):
        pd.testing.assert_frame_equal(a, b)
    # a new batch appends
    t2 = write_jsonl(tmp_path / "t2.jsonl", [transcript("t4")])
    r2 = tmp_path / "r2.csv"
    r2.write_text(HEADER + rating_line("t4", "r1", "data", 4) + rating_line("t1", "r3", "data", 1))
    s = _ingest(tmp_path, [t2], [r2])
    assert s.ok
    assert len(read_transcripts(store)) == 4 and len(read_ratings(store)) == 50
    # a changed transcript under an existing id, and a re-rating with another score, are conflicts
    t3 = write_jsonl(tmp_path / "t3.jsonl", [transcript("t4", question_id="q-fraud")])
    r3 = tmp_path / "r3.csv"
    r3.write_text(HEADER + rating_line("t4", "r1", "data", 2))
    s = _ingest(tmp_path, [t3], [r3])
    reasons = [i.reason for i in s.issues]
    assert any("already exists with different content" in x for x in reasons)
    assert any(
        "already accepted (in the store or earlier in this input) with score 4" in x
        for x in reasons
    )


def test_crash_mid_ingest_leaves_previous_store_intact(tmp_path, good_files, monkeypatch):
    t, r = good_files
    _ingest(tmp_path, [t], [r])
    store = tmp_path / "store"
    before = read_ratings(store)
    t2 = write_jsonl(tmp_path / "t2.jsonl", [transcript("t7")])
    r2 = tmp_path / "r2.csv"
    r2.write_text(HEADER + rating_line("t7", "r1", "data", 4))
    real_replace = os.replace

    def crash(src, dst):
        if str(dst).endswith("calib-store.json"):
            raise KeyboardInterrupt("power cut")
        return real_replace(src, dst)

    monkeypatch.setattr(_store.os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        _ingest(tmp_path, [t2], [r2])
    monkeypatch.setattr(_store.os, "replace", real_replace)
    pd.testing.assert_frame_equal(read_ratings(store), before)
    assert "t7" not in set(read_transcripts(store)["transcript_id"])
    # the next ingest succeeds and cleans up the orphaned parts
    assert _ingest(tmp_path, [t2], [r2]).ok
    parts = sum(
        len(v) for v in json.loads((store / "calib-store.json").read_text())["tables"].values()
    )
    assert parts == sum(1 for _ in store.glob("*/part-*.parquet"))


def test_store_refuses_another_rubric(tmp_path, good_files):
    from io_helpers import RUBRIC

    t, r = good_files
    _ingest(tmp_path, [t], [r])
    other = tmp_path / "v2.yaml"
    other.write_text(RUBRIC.read_text().replace('version: "1.0"', 'version: "2.0"'))
    with pytest.raises(StoreError, match="validated against rubric ml_interview v1.0"):
        _ingest(tmp_path, [t], [r], rubric=other)


def _round_trip_check(tmp_path, t_input, r_input, n_t=3, n_r=48):
    s = _ingest(tmp_path, [t_input], [r_input])
    assert s.ok, s.format()
    store = tmp_path / "store"
    tr = read_transcripts(store)
    assert sorted(tr["transcript_id"]) == [f"t{i}" for i in range(1, n_t + 1)]
    assert tr.loc[tr["transcript_id"] == "t1", "metadata"].iloc[0]["seniority"] == "senior"
    assert len(read_ratings(store)) == n_r
    return tr


def test_round_trip_csv_with_turns_json_column(tmp_path, good_files):
    _, r = good_files
    rows = [
        {
            **transcript(f"t{i}"),
            "turns": json.dumps(transcript(f"t{i}")["turns"]),
            "metadata": json.dumps(transcript(f"t{i}")["metadata"]),
        }
        for i in range(1, 4)
    ]
    p = tmp_path / "t.csv"
    pd.DataFrame(rows).to_csv(p, index=False)
    tr = _round_trip_check(tmp_path, p, r)
    assert tr.loc[0, "turns"][1]["speaker"] == "candidate"


def test_round_trip_csv_one_row_per_turn_and_wide_ratings(tmp_path):
    rows = []
    for i in range(1, 4):
        rec = transcript(f"t{i}")
        for k, turn in enumerate(rec["turns"]):
            rows.append(
                {
                    "transcript_id": rec["transcript_id"],
                    "question_id": rec["question_id"],
                    "question_type": rec["question_type"],
                    "interviewed_at": rec["interviewed_at"],
                    "turn_index": k,
                    "speaker": turn["speaker"],
                    "text": turn["text"],
                    "start_s": 10.0 * k,
                    "seniority": "senior",
                    "cohort": "2026-Q1",
                }
            )
    p = tmp_path / "t.csv"
    pd.DataFrame(rows[::-1]).to_csv(p, index=False)  # reversed: turn_index restores the order
    wide = pd.DataFrame(
        [
            {"transcript_id": f"t{i}", "rater_id": r, **{d: 1 + (i + j) % 4 for d in DIMS}}
            for i in range(1, 4)
            for j, r in enumerate(["r1", "r2"])
        ]
    )
    wide.loc[0, "data"] = None  # a blank cell in a wide file is "not rated", not an error
    w = tmp_path / "wide.csv"
    wide.to_csv(w, index=False)
    tr = _round_trip_check(tmp_path, p, w, n_r=47)
    t1 = tr.loc[tr["transcript_id"] == "t1"].iloc[0]
    assert [t["speaker"] for t in t1["turns"]] == ["interviewer", "candidate"]
    assert t1["turns"][1]["start_s"] == 10.0


def test_round_trip_parquet_and_store_export(tmp_path, good_files):
    t, r = good_files
    _ingest(tmp_path, [t], [r])
    store = tmp_path / "store"
    tr, ra = read_transcripts(store), read_ratings(store)
    (tmp_path / "out").mkdir()
    pq.write_table(
        pa.Table.from_pandas(
            tr.assign(metadata=tr["metadata"].map(json.dumps)).drop(columns="content_hash")
        ),
        tmp_path / "out" / "t.parquet",
    )
    ra.to_parquet(tmp_path / "out" / "r.parquet")
    sub = tmp_path / "again"
    sub.mkdir()
    s = ingest(
        [tmp_path / "out" / "t.parquet"],
        [tmp_path / "out" / "r.parquet"],
        rubric=read_store_rubric(store).source_path,
        store=sub / "store",
    )
    assert s.ok, s.format()
    pd.testing.assert_frame_equal(read_transcripts(sub / "store"), tr)
    pd.testing.assert_frame_equal(read_ratings(sub / "store"), ra)


def test_round_trip_hugging_face_datasets(tmp_path, good_files):
    datasets = pytest.importorskip("datasets")
    t, r = good_files
    _ingest(tmp_path, [t], [r])
    store = tmp_path / "store"
    tr, ra = read_transcripts(store), read_ratings(store)
    write_hf_dataset(tr, tmp_path / "hf_t")
    write_hf_dataset(ra, tmp_path / "hf_r")
    from io_helpers import RUBRIC

    s = ingest(
        [str(tmp_path / "hf_t")], [str(tmp_path / "hf_r")], rubric=RUBRIC, store=tmp_path / "s_dir"
    )
    assert s.ok, s.format()
    pd.testing.assert_frame_equal(read_transcripts(tmp_path / "s_dir"), tr)
    pd.testing.assert_frame_equal(read_ratings(tmp_path / "s_dir"), ra)
    # load_dataset("json"/"csv", data_files=...) objects are accepted as they are
    ds_t = datasets.load_dataset("json", data_files=str(t), split="train")
    ds_r = datasets.load_dataset("csv", data_files=str(r), split="train")
    s = ingest([ds_t], [ds_r], rubric=RUBRIC, store=tmp_path / "s_obj")
    assert s.ok, s.format()
    assert len(read_ratings(tmp_path / "s_obj")) == 48
    assert to_hf_dataset(ra).num_rows == 48


def test_append_ratings_keeps_unscored_machine_rows(tmp_path, good_files):
    t, r = good_files
    _ingest(tmp_path, [t], [r])
    store = tmp_path / "store"
    rows = pd.DataFrame(
        {
            "transcript_id": ["t1", "t1", "t2"],
            "rater_id": ["rules-abc"] * 3,
            "rater_type": ["rule"] * 3,
            "dimension": ["data", "structure", "data"],
            "score": [3.0, None, None],
            "unscored_reason": [None, "no candidate text about structure", None],
            "run_id": ["run1"] * 3,
        }
    )
    s = append_ratings(store, rows, source="grader:rules-abc")
    assert len(s.issues) == 1 and s.issues[0].row == 3  # NaN without a reason is rejected
    got = read_ratings(store, rater_type="rule")
    assert len(got) == 2 and got["score"].isna().sum() == 1
    assert got.loc[got["score"].isna(), "unscored_reason"].iloc[0].startswith("no candidate")
    s = append_ratings(store, rows.iloc[:2], source="grader:rules-abc")
    assert s.sources[0].duplicates_skipped == 2 and len(read_ratings(store, rater_type="rule")) == 2


def test_write_table_and_read_table(tmp_path, good_files):
    t, r = good_files
    _ingest(tmp_path, [t], [r])
    store = tmp_path / "store"
    write_table(
        store, "grader_evidence", pd.DataFrame({"transcript_id": ["t1"], "signal": ["asks_goal"]})
    )
    write_table(
        store,
        "grader_evidence",
        pd.DataFrame({"transcript_id": ["t2"], "signal": ["names_metric"]}),
    )
    assert read_table(store, "grader_evidence")["transcript_id"].tolist() == ["t1", "t2"]
    write_table(
        store,
        "grader_evidence",
        pd.DataFrame({"transcript_id": ["t3"], "signal": ["x"]}),
        mode="replace",
    )
    assert read_table(store, "grader_evidence")["transcript_id"].tolist() == ["t3"]
    with pytest.raises(StoreError):
        write_table(store, "ratings", pd.DataFrame())


def test_unreadable_inputs_raise_clear_errors(tmp_path):
    with pytest.raises(DataValidationError, match="file not found"):
        _ingest(tmp_path, [tmp_path / "nope.jsonl"])
    p = tmp_path / "t.xlsx"
    p.write_text("x")
    with pytest.raises(DataValidationError, match="unknown file type"):
        _ingest(tmp_path, [p])
    with pytest.raises(StoreError, match="not a calib store"):
        read_ratings(tmp_path / "nowhere")


def test_utf16_file_with_bom_is_decoded(tmp_path, good_files):
    t, r = good_files
    r16 = tmp_path / "r16.csv"
    r16.write_bytes(r.read_text().encode("utf-16"))
    s = _ingest(tmp_path, [t], [r16])
    assert s.ok and len(read_ratings(tmp_path / "store")) == 48


def test_streamed_batches_give_the_same_result(tmp_path, good_files, monkeypatch):
    """Ratings are validated in batches; duplicates and conflicts are still found across batches."""
    from calib.io import _readers

    t, r = good_files
    with open(r, "a") as fh:
        fh.write(rating_line("t1", "r1", "data", 4))  # conflicts with a row ~45 rows earlier
        fh.write(rating_line("t3", "r2", "adaptability", 1 + (3 + 1) % 4))  # identical repeat
    whole = _ingest(tmp_path / "a", [t], [r])
    real = _readers.iter_ratings_frames
    monkeypatch.setattr(
        "calib.io._ingest.iter_ratings_frames", lambda p: real(p, batch_rows=7, block_size=256)
    )
    calls = []
    monkeypatch.setattr(
        "calib.io._ingest.validate_ratings",
        lambda df, *a, _v=__import__("calib.io._ingest", fromlist=["x"]).validate_ratings, **k: (  # noqa: B008
            calls.append(len(df)) or _v(df, *a, **k)
        ),
    )
    batched = _ingest(tmp_path / "b", [t], [r])
    assert [(s.read, s.accepted, s.duplicates_skipped, s.quarantined) for s in batched.sources] == [
        (s.read, s.accepted, s.duplicates_skipped, s.quarantined) for s in whole.sources
    ]
    assert len(calls) > 3  # really streamed in several batches
    assert batched.sources[1].duplicates_skipped == 1 and batched.sources[1].quarantined == 2
    pd.testing.assert_frame_equal(
        read_ratings(tmp_path / "a" / "store"), read_ratings(tmp_path / "b" / "store")
    )
    key = ["table", "source", "row", "field"]
    qa, qb = read_quarantine(tmp_path / "a" / "store"), read_quarantine(tmp_path / "b" / "store")
    pd.testing.assert_frame_equal(
        qa[key].sort_values(key, ignore_index=True), qb[key].sort_values(key, ignore_index=True)
    )


def test_hub_dataset_names_go_through_load_dataset(tmp_path, good_files, monkeypatch):
    """``hf:NAME[:SPLIT]`` loads from the hub (no network here: load_dataset is stood in for by
    one that serves local files, so the real code path up to the hub call is exercised)."""
    datasets = pytest.importorskip("datasets")
    t, r = good_files
    calls = []
    real = datasets.load_dataset

    def fake_hub(name, split=None, **kw):
        calls.append((name, split))
        return real(
            "json" if name.endswith("transcripts") else "csv",
            data_files=str(t if name.endswith("transcripts") else r),
            split=split or "train",
        )

    monkeypatch.setattr(datasets, "load_dataset", fake_hub)
    s = _ingest(tmp_path, ["hf:acme/interview-transcripts:train"], ["hf:acme/interview-ratings"])
    assert s.ok, s.format()
    assert calls == [("acme/interview-transcripts", "train"), ("acme/interview-ratings", None)]
    assert len(read_ratings(tmp_path / "store")) == 48

    def offline(name, split=None, **kw):
        raise ConnectionError("hub unreachable")

    monkeypatch.setattr(datasets, "load_dataset", offline)
    with pytest.raises(DataValidationError, match="could not load Hugging Face dataset 'acme/x'"):
        _ingest(tmp_path / "b", ["hf:acme/x"])


def test_load_dataset_parquet_object(tmp_path, good_files):
    datasets = pytest.importorskip("datasets")
    t, r = good_files
    pd.read_csv(r).to_parquet(tmp_path / "r.parquet")
    ds_r = datasets.load_dataset("parquet", data_files=str(tmp_path / "r.parquet"), split="train")
    s = _ingest(tmp_path, [t], [ds_r])
    assert s.ok, s.format()
    assert len(read_ratings(tmp_path / "store")) == 48


def test_unscored_machine_rows_are_superseded_by_a_later_run(tmp_path, good_files):
    """A failed LLM call is stored as unscored; re-running the grader after the endpoint recovers
    must record the score (not quarantine it as a conflict), and a failed re-run must not
    override a score already held."""
    t, r = good_files
    _ingest(tmp_path, [t], [r])
    store = tmp_path / "store"
    base = {
        "transcript_id": ["t1", "t2"],
        "rater_id": ["llm-x"] * 2,
        "rater_type": ["llm"] * 2,
        "dimension": ["data", "data"],
    }
    failed = pd.DataFrame(
        {**base, "score": [None, 3.0], "unscored_reason": ["failed: HTTP 500", None]}
    )
    assert append_ratings(store, failed).ok
    # same failure again: a plain duplicate
    s = append_ratings(store, failed)
    assert s.sources[0].duplicates_skipped == 2 and s.sources[0].accepted == 0
    # the endpoint recovered for t1, and t2 fails this time
    rerun = pd.DataFrame(
        {**base, "score": [4.0, None], "unscored_reason": [None, "failed: timeout"]}
    )
    s = append_ratings(store, rerun)
    assert s.ok and s.sources[0].accepted == 1 and s.sources[0].duplicates_skipped == 1
    assert s.accepted_transcripts == ["t1"]
    got = read_ratings(store, rater_type="llm").set_index("transcript_id")
    assert got.loc["t1", "score"] == 4.0 and pd.isna(got.loc["t1", "unscored_reason"])
    assert got.loc["t2", "score"] == 3.0  # a failed re-run never replaces a score
    assert len(got) == 2


def test_cli_accepts_repeated_inputs(tmp_path, good_files, rubric_path):
    t, r = good_files
    t2 = write_jsonl(tmp_path / "t2.jsonl", [transcript("t4"), transcript("t5")])
    r2 = tmp_path / "r2.csv"
    r2.write_text(HEADER + rating_line("t4", "r1", "data", 4) + rating_line("t5", "r2", "data", 1))
    res = CliRunner().invoke(
        cli,
        [
            "ingest",
            "--transcripts",
            str(t),
            "--transcripts",
            str(t2),
            "--ratings",
            str(r),
            "--ratings",
            str(r2),
            "--rubric",
            str(rubric_path),
            "--store",
            str(tmp_path / "s"),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "no validation problems" in res.output
    assert len(read_transcripts(tmp_path / "s")) == 5 and len(read_ratings(tmp_path / "s")) == 50
