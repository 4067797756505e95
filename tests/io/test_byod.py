"""Bring your own data (issue 10): transcript documents, speaker roles, scorecard exports,
ratings-only stores, dates, delimiters, exit codes and the quarantine listing.

Fixtures are in tests/io/byod/ (written for these tests; docs/bring-your-own-data.md walks
through the same files).
"""

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from io_helpers import RUBRIC, transcript, write_jsonl

from calib.cli.main import cli
from calib.errors import ConfigError, DataValidationError
from calib.io import ingest, read_quarantine, read_ratings, read_table, read_transcripts
from calib.io._dialect import sniff_delimiter
from calib.io._scorecard import RatingOptions, parse_dates
from calib.io._speakers import SpeakerRoles, infer_roles, load_speaker_map
from calib.io._transcripts import TranscriptOptions

BYOD = Path(__file__).parent / "byod"
RUB = str(RUBRIC)


def run(*args):
    res = CliRunner().invoke(cli, [str(a) for a in args])
    return res


def turns_of(store, tid):
    t = read_transcripts(store).set_index("transcript_id")
    return t.loc[tid, "turns"]


# --- transcript formats ----------------------------------------------------------------------


def test_zoom_vtt_folder_one_interview_per_file(tmp_path):
    res = run("ingest", "--transcripts", BYOD / "zoom", "--rubric", RUB, "--store", tmp_path / "s")
    assert res.exit_code == 0, res.output
    t = read_transcripts(tmp_path / "s")
    assert sorted(t["transcript_id"]) == ["alice-chen", "ben-okafor"]
    alice = turns_of(tmp_path / "s", "alice-chen")
    # 5 captions, the two consecutive Alice captions merge: 4 turns
    assert [u["speaker"] for u in alice] == ["interviewer", "candidate"] * 2
    assert [u["name"] for u in alice] == ["Priya Shah", "Alice Chen"] * 2
    assert alice[1]["start_s"] == pytest.approx(6.4) and alice[1]["end_s"] == pytest.approx(14.0)
    assert alice[1]["text"].startswith("Before I dive in") and "seven-day" in alice[1]["text"]
    ben = turns_of(tmp_path / "s", "ben-okafor")  # Teams-style <v Name> voice tags
    assert [u["name"] for u in ben] == ["Marco Rossi", "Ben Okafor"] * 2
    assert "<v" not in ben[0]["text"] and "</v>" not in ben[0]["text"]
    # the inferred mapping is printed; the audio file is listed as skipped, not silently ignored
    assert "alice-chen.vtt: Priya Shah = interviewer, Alice Chen = candidate" in res.output
    assert "skipped 1 file(s)" in res.output and "ben-okafor.m4a" in res.output
    # the folder's question fields default to "unspecified"
    assert set(t["question_id"]) == {"unspecified"} and set(t["question_type"]) == {"unspecified"}


def test_vtt_cue_with_two_voices_and_utf16(tmp_path):
    body = (
        "WEBVTT\n\n00:00:01.000 --> 00:00:03.000\n<v Ana>Why this model?\n<v Raj>It is simple.\n\n"
        "00:00:03.500 --> 00:00:06.000\n<v.loud Raj>And it <i>calibrates</i> well.\n"
    )
    p = tmp_path / "in" / "raj.vtt"
    p.parent.mkdir()
    p.write_bytes(body.encode("utf-16"))
    s = ingest([p.parent], rubric=RUB, store=tmp_path / "s")
    assert s.ok, s.format()
    turns = turns_of(tmp_path / "s", "raj")
    assert [(u["name"], u["speaker"]) for u in turns] == [
        ("Ana", "interviewer"),
        ("Raj", "candidate"),
    ]
    assert turns[1]["text"] == "It is simple. And it calibrates well."


def test_srt_role_label_and_continuation_caption(tmp_path):
    s = ingest([BYOD / "formats" / "fern-diaz.srt"], rubric=RUB, store=tmp_path / "s")
    assert s.ok, s.format()
    turns = turns_of(tmp_path / "s", "fern-diaz")
    assert [u["speaker"] for u in turns] == ["interviewer", "candidate"]
    assert turns[0]["name"] is None  # the label was only a role
    assert turns[1]["name"] == "FERN DIAZ"
    # the third caption has no label: it continues the candidate's turn
    assert turns[1]["text"].endswith("not only the inputs.") and turns[1]["end_s"] == 13.5


def test_text_formats_timestamps_roles_and_headers(tmp_path):
    s = ingest([BYOD / "text"], rubric=RUB, store=tmp_path / "s")
    dana = turns_of(tmp_path / "s", "dana-lee")
    assert [u["start_s"] for u in dana] == [3.0, 11.0, 40.0, 44.0]
    # continuation lines join the turn; "For example:" inside an answer is not a speaker
    assert dana[1]["text"].count("\n") == 2 and "For example: the 80th" in dana[1]["text"]
    t = read_transcripts(tmp_path / "s").set_index("transcript_id")
    assert t.loc["dana-lee", "metadata"]["preamble"].startswith("Interview transcript")
    panel = turns_of(tmp_path / "s", "panel")  # "INTERVIEWER (Marco Rossi): ..."
    assert [(u["speaker"], u["name"]) for u in panel[:2]] == [
        ("interviewer", "Marco Rossi"),
        ("candidate", "Eli Park"),
    ]
    otter = turns_of(tmp_path / "s", "otter")  # "Speaker 1  0:06" header lines
    assert [u["start_s"] for u in otter] == [0.0, 6.0, 31.0, 35.0]
    assert [u["speaker"] for u in otter] == ["interviewer", "candidate"] * 2
    # ambiguous.txt: both speakers only ask questions -> quarantined with the speakers listed
    q = read_quarantine(tmp_path / "s")
    row = q[q["source"].str.endswith("ambiguous.txt")].iloc[0]
    assert row["field"] == "turns.speaker"
    assert "ambiguous speakers" in row["reason"] and "'Alex'" in row["reason"]
    assert "'Jordan'" in row["reason"] and "--speaker-map" in row["reason"]
    assert s.sources[0].read == 4 and s.sources[0].accepted == 3 and s.sources[0].quarantined == 1


def test_docx_paragraphs_and_table(tmp_path):
    s = ingest(
        [BYOD / "formats" / "ivy-moss.docx", BYOD / "formats" / "jay-kim.docx"],
        rubric=RUB,
        store=tmp_path / "s",
    )
    assert s.ok, s.format()
    ivy = turns_of(tmp_path / "s", "ivy-moss")
    assert [u["name"] for u in ivy] == ["Priya Shah", "Ivy Moss"] * 2
    assert ivy[1]["text"].endswith("for the recall we need.")
    jay = turns_of(tmp_path / "s", "jay-kim")
    assert [u["start_s"] for u in jay] == [2.0, 6.0, 20.0, 24.0]
    assert [u["speaker"] for u in jay] == ["interviewer", "candidate"] * 2


def test_json_segment_lists(tmp_path):
    s = ingest(
        [BYOD / "formats" / "gus-wu.json", BYOD / "formats" / "hana-ito.json"],
        rubric=RUB,
        store=tmp_path / "s",
    )
    assert s.ok, s.format()
    gus = turns_of(tmp_path / "s", "gus-wu")  # WhisperX {"segments": [...]}
    assert [u["name"] for u in gus] == ["SPEAKER_00", "SPEAKER_01"] * 2
    assert gus[1]["start_s"] == 3.4 and gus[1]["end_s"] == 14.2
    assert gus[1]["text"].startswith("It depends") and gus[1]["text"].endswith("linear baseline.")
    hana = turns_of(tmp_path / "s", "hana-ito")  # list, numeric speakers, "HH:MM:SS.mmm" times
    assert [u["name"] for u in hana] == ["Speaker 0", "Speaker 1"] * 2
    assert hana[1]["start_s"] == 4.5


def test_pretty_printed_canonical_json_record_takes_id_from_file(tmp_path):
    rec = transcript("ignored")
    del rec["transcript_id"]
    p = tmp_path / "t42.json"
    p.write_text(json.dumps(rec, indent=2))
    s = ingest([p], rubric=RUB, store=tmp_path / "s")
    assert s.ok, s.format()
    assert read_transcripts(tmp_path / "s")["transcript_id"].tolist() == ["t42"]


def test_unreadable_documents_are_quarantined_per_file(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    (d / "latin.txt").write_bytes("Ana: caf\xe9?\nRaj: oui.\n".encode("latin-1"))
    (d / "broken.docx").write_bytes(b"PK\x03\x04 not really a zip")
    (d / "nolabels.vtt").write_text("WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nhello there\n")
    (d / "ok.txt").write_text("Ana: Why?\nRaj: Because the data is small.\n")
    s = ingest([d], rubric=RUB, store=tmp_path / "s")
    q = read_quarantine(tmp_path / "s").set_index(q_name := "source")
    reasons = {Path(k).name: v for k, v in q["reason"].items()}
    assert q_name == "source"
    assert "not valid UTF-8" in reasons["latin.txt"]
    assert "cannot parse .docx" in reasons["broken.docx"]
    assert "no speaker labels" in reasons["nolabels.vtt"]
    assert s.sources[0].read == 4 and s.sources[0].accepted == 1


# --- speaker roles ---------------------------------------------------------------------------


def test_interviewers_and_speaker_map_override_the_heuristic(tmp_path):
    amb = BYOD / "text" / "ambiguous.txt"
    s = ingest(
        [amb],
        rubric=RUB,
        store=tmp_path / "a",
        transcript_options=TranscriptOptions(roles=SpeakerRoles.build("  jordan ")),
    )
    assert s.ok
    assert [u["speaker"] for u in turns_of(tmp_path / "a", "ambiguous")] == [
        "candidate",
        "interviewer",
    ] * 2
    m = tmp_path / "map.csv"
    m.write_text("name;role\nAlex;Interviewer\nJordan;CANDIDATE\n")
    assert load_speaker_map(m) == {"Alex": "interviewer", "Jordan": "candidate"}
    y = tmp_path / "map.yaml"
    y.write_text("interviewers: [Alex]\ncandidates: [Jordan]\n")
    assert load_speaker_map(y) == {"Alex": "interviewer", "Jordan": "candidate"}
    res = run(
        "ingest",
        "--transcripts",
        amb,
        "--speaker-map",
        m,
        "--rubric",
        RUB,
        "--store",
        tmp_path / "b",
    )
    assert res.exit_code == 0, res.output
    assert "speaker roles from labels or the speaker map: 1 file(s)" in res.output
    bad = tmp_path / "bad.csv"
    bad.write_text("Alex,host\n")
    with pytest.raises(ConfigError, match="role must be interviewer or candidate"):
        load_speaker_map(bad)


def test_heuristic_rules_and_ambiguity():
    def turns(*pairs):
        return [{"label": a, "text": b} for a, b in pairs]

    # opens + asks more questions + speaks less -> interviewer
    d = infer_roles(
        turns(("A", "How would you rank?"), ("B", "With a two-tower model and a reranker on top."))
    )
    assert d.roles == {"A": "interviewer", "B": "candidate"} and d.problem is None
    # panel: two interviewers ask, one candidate answers at length
    d = infer_roles(
        turns(
            ("P", "Welcome. What would you optimise?"),
            ("C", "Retention over clicks, because clicks are easy to game and short-lived."),
            ("M", "How do you measure it?"),
            ("C", "Seven-day return rate on a holdout, with a guardrail on latency."),
        )
    )
    assert d.roles == {"P": "interviewer", "C": "candidate", "M": "interviewer"}
    # equal question shares: ambiguous
    d = infer_roles(turns(("A", "Shall we?"), ("B", "Why not start now then?")))
    assert d.problem and "ambiguous" in d.problem
    d = infer_roles(turns(("A", "Just me talking here.")))
    assert d.problem and "only one speaker" in d.problem
    # a role in one label completes the others
    d = infer_roles(turns(("Interviewer", "Hi?"), ("Sam", "Hello."), ("Kim", "Hi.")))
    assert d.roles == {"Interviewer": "interviewer", "Sam": "candidate", "Kim": "candidate"}


def test_hand_converted_csv_with_names_and_capitalised_roles(tmp_path):
    """The issue's CSV: no question fields, speaker names, 'Interviewer' with a capital I."""
    p = tmp_path / "turns.csv"
    p.write_text(
        "transcript_id,speaker,text\n"
        "x1,Priya Shah,How would you design it?\n"
        "x1,Sam Lee,I'd start from the objective.\n"
        "x2,Interviewer,What metric?\n"
        "x2,CANDIDATE,Recall at a fixed precision.\n"
    )
    res = run(
        "ingest",
        "--transcripts",
        p,
        "--interviewers",
        "Priya Shah",
        "--question-type",
        "ml_system_design",
        "--rubric",
        RUB,
        "--store",
        tmp_path / "s",
    )
    assert res.exit_code == 0, res.output
    t = read_transcripts(tmp_path / "s").set_index("transcript_id")
    assert [u["speaker"] for u in t.loc["x1", "turns"]] == ["interviewer", "candidate"]
    assert [u["name"] for u in t.loc["x1", "turns"]] == ["Priya Shah", "Sam Lee"]
    assert [u["speaker"] for u in t.loc["x2", "turns"]] == ["interviewer", "candidate"]
    assert t.loc["x1", "question_type"] == "ml_system_design"
    assert t.loc["x1", "question_id"] == "unspecified"


def test_question_fields_from_sidecar_and_flags(tmp_path):
    info = tmp_path / "info.csv"
    info.write_text(
        "transcript_id;question_id;question_type;interviewed_at;seniority\n"
        "alice-chen;q-feed;ml_system_design;02/03/2026 10:00;senior\n"
    )
    res = run(
        "ingest",
        "--transcripts",
        BYOD / "zoom",
        "--transcript-info",
        info,
        "--question-id",
        "q-default",
        "--dayfirst",
        "--rubric",
        RUB,
        "--store",
        tmp_path / "s",
    )
    assert res.exit_code == 0, res.output
    t = read_transcripts(tmp_path / "s").set_index("transcript_id")
    assert t.loc["alice-chen", "question_id"] == "q-feed"
    assert t.loc["alice-chen", "metadata"] == {"seniority": "senior"}
    assert t.loc["alice-chen", "interviewed_at"] == pd.Timestamp("2026-03-02 10:00", tz="UTC")
    assert t.loc["ben-okafor", "question_id"] == "q-default"
    assert t.loc["ben-okafor", "question_type"] == "unspecified"


# --- scorecards ------------------------------------------------------------------------------


def test_ats_scorecard_hire_labels_na_overall_notes(tmp_path):
    res = run(
        "ingest",
        "--ratings",
        BYOD / "ats" / "scorecards.csv",
        "--labels",
        "Strong Hire=4,Hire=3,No Hire=2,Strong No Hire=1",
        "--rubric",
        RUB,
        "--store",
        tmp_path / "s",
    )
    assert res.exit_code == 0, res.output
    r = read_ratings(tmp_path / "s").set_index(["transcript_id", "rater_id", "dimension"])
    # 6 rows x 8 dimensions = 48 cells: 4 N/A-style (N/A, n/a, -, NA), 1 'Maybe', 43 stored
    assert len(r) == 43
    assert r.loc[("Alice Chen", "Priya Shah", "problem_framing"), "score"] == 4  # Strong Hire
    assert r.loc[("Alice Chen", "Priya Shah", "modeling"), "score"] == 3  # rubric label Proficient
    assert r.loc[("Alice Chen", "Marco Rossi", "modeling"), "score"] == 3  # a number
    assert r.loc[("Dana Lee", "Priya Shah", "modeling"), "score"] == 2  # Developing
    assert ("Alice Chen", "Priya Shah", "tradeoffs") not in r.index  # N/A: not rated
    # the US date is read month first; the impossible one is dropped and the scores kept
    assert r.loc[("Ben Okafor", "Priya Shah", "data"), "rated_at"] == pd.Timestamp(
        "2026-03-04", tz="UTC"
    )
    assert pd.isna(r.loc[("Dana Lee", "Marco Rossi", "data"), "rated_at"])
    assert "1 rated_at value(s) could not be read" in res.output and "'31/31/2026'" in res.output
    assert r.loc[("Ben Okafor", "Priya Shah", "data"), "rationale"].startswith("Jumped to a model")
    sc = read_table(tmp_path / "s", "scorecards").set_index(["transcript_id", "rater_id"])
    assert sc.loc[("Alice Chen", "Priya Shah"), "overall"] == "Strong Hire"
    assert sc.loc[("Dana Lee", "Priya Shah"), "overall_score"] == 1
    assert json.loads(sc.loc[("Dana Lee", "Priya Shah"), "metadata"]) == {"Req ID": "REQ-121"}
    assert "'Overall Recommendation' -> scorecards.overall" in res.output
    assert "'Req ID' -> scorecards.metadata" in res.output
    # counts: rows and cells separately
    line = next(ln for ln in res.output.splitlines() if "scorecards.csv" in ln and "ratings" in ln)
    assert line.split()[2:] == ["6", "1", "44", "43", "0", "1", "4"]
    q = read_quarantine(tmp_path / "s")
    assert q["reason"].str.contains("score 'Maybe' is not a number").sum() == 1
    # re-ingest: nothing new, no duplicated scorecards
    res = run(
        "ingest",
        "--ratings",
        BYOD / "ats" / "scorecards.csv",
        "--labels",
        "Strong Hire=4,Hire=3,No Hire=2,Strong No Hire=1",
        "--rubric",
        RUB,
        "--store",
        tmp_path / "s",
    )
    assert res.exit_code == 0, res.output
    assert len(read_table(tmp_path / "s", "scorecards")) == 6
    assert len(read_ratings(tmp_path / "s")) == 43


def test_column_mapping_dimension_names_and_unmatched_score_columns(tmp_path):
    p = tmp_path / "export.csv"
    p.write_text(
        "Cand Ref,Panelist,When,Framing,Structured approach,Modelling,Comments\n"
        "c1,p1,2026-03-02,3 - Proficient,2,4,fine\n"
        "c1,p2,2026-03-02,Strong,3,3,\n"
    )
    s = ingest(
        ratings=[p],
        rubric=RUB,
        store=tmp_path / "s",
        rating_options=RatingOptions(
            columns={
                "transcript_id": "cand ref",
                "rater_id": "Panelist",
                "rated_at": "When",
                "problem_framing": "Framing",
            }
        ),
    )
    r = read_ratings(tmp_path / "s")
    assert sorted(r["dimension"].unique()) == ["problem_framing", "structure"]
    assert r.set_index(["rater_id", "dimension"]).loc[("p1", "problem_framing"), "score"] == 3
    assert r.set_index(["rater_id", "dimension"]).loc[("p2", "problem_framing"), "score"] == 4
    # 'Modelling' holds scores but is no dimension: quarantined cell by cell, not dropped
    q = read_quarantine(tmp_path / "s")
    mod = q[q["field"] == "Modelling"]
    assert len(mod) == 2 and mod["reason"].str.contains("matches no dimension").all()
    assert s.sources[0].cells == 6 and s.sources[0].accepted == 4 and s.sources[0].quarantined == 2


def test_missing_columns_one_error_listing_everything(tmp_path):
    p = tmp_path / "bad.csv"
    p.write_text("Name,Framing score,Comms,Notes\nc1,3,2,x\n")
    with pytest.raises(DataValidationError) as err:
        ingest(ratings=[p], rubric=RUB, store=tmp_path / "s")
    msg = str(err.value)
    assert "bad.csv" in msg
    assert "transcript_id" in msg and "rater_id" in msg and "a score column per dimension" in msg
    assert "'Framing score'" in msg and "'Comms'" in msg and "'Name'" in msg
    assert "problem_framing ('Problem framing')" in msg and "tradeoffs ('Trade-offs" in msg
    res = run("ingest", "--ratings", p, "--rubric", RUB, "--store", tmp_path / "s2")
    assert res.exit_code == 1 and "missing required column(s)" in res.output
    res = run(
        "ingest",
        "--ratings",
        p,
        "--columns",
        "rater_id=Nope",
        "--rubric",
        RUB,
        "--store",
        tmp_path / "s3",
    )
    assert res.exit_code == 1 and "column 'Nope', which the file does not have" in res.output


def test_long_format_dimension_names_na_values_and_rubric_labels(tmp_path):
    rub = tmp_path / "rubric.yaml"
    rub.write_text(RUBRIC.read_text() + "labels:\n  Exceeds: 4\n  Meets: 3\n")
    p = tmp_path / "long.csv"
    p.write_text(
        "transcript_id,rater_id,dimension,score\n"
        "t1,r1,Problem Framing,Exceeds\n"
        "t1,r1,Trade-offs,Meets\n"
        "t1,r1,data,skipped\n"
        "t1,r1,evaluation,N/A\n"
    )
    s = ingest(
        ratings=[p],
        rubric=rub,
        store=tmp_path / "s",
        rating_options=RatingOptions(na_values=("", "skipped")),
    )
    r = read_ratings(tmp_path / "s").set_index("dimension")["score"]
    assert r.to_dict() == {"problem_framing": 4.0, "tradeoffs": 3.0}
    # 'N/A' is not in the replaced list: quarantined; 'skipped' is not rated
    assert s.sources[0].not_rated == 1 and s.sources[0].quarantined == 1


# --- dates and dialects ----------------------------------------------------------------------


def test_dates_month_first_dayfirst_and_format():
    s = pd.Series(["03/02/2026", "2026-03-04T10:00:00Z", "", "31/31/2026"])
    ts, bad = parse_dates(s)
    assert ts[0] == pd.Timestamp("2026-03-02", tz="UTC") and bad.tolist() == [
        False,
        False,
        False,
        True,
    ]
    ts, _ = parse_dates(s, dayfirst=True)
    assert ts[0] == pd.Timestamp("2026-02-03", tz="UTC")
    assert ts[1] == pd.Timestamp("2026-03-04 10:00", tz="UTC")
    ts, bad = parse_dates(pd.Series(["04.03.2026", "1.2.2026"]), date_format="%d.%m.%Y")
    assert ts.tolist() == [
        pd.Timestamp("2026-03-04", tz="UTC"),
        pd.Timestamp("2026-02-01", tz="UTC"),
    ]
    ts, bad = parse_dates(pd.Series(["3000-01-01", "1500-06-01", "99999-01-01"]))
    assert ts[0].year == 3000 and ts[1].year == 1500  # outside 1677-2262 (nanosecond range)
    assert bad.tolist() == [False, False, True]


@pytest.mark.parametrize("sep", [";", "\t", ","])
def test_delimiter_is_sniffed(tmp_path, sep):
    p = tmp_path / "r.csv"
    rows = [["transcript_id", "rater_id", "problem_framing", "Notes"], ["t1", "r1", "3", "a, b; c"]]
    p.write_text("".join(sep.join(f'"{c}"' if sep in c else c for c in r) + "\n" for r in rows))
    assert sniff_delimiter(p) == sep
    s = ingest(ratings=[p], rubric=RUB, store=tmp_path / "s")
    assert s.sources[0].accepted == 1, s.format()
    assert read_ratings(tmp_path / "s")["rationale"].tolist() == ["a, b; c"]


# --- ratings only, exit codes, summary, quarantine --------------------------------------------


def test_ratings_only_store_flows_through_agree_raters_report(tmp_path):
    import krippendorff  # independent implementation (test oracle only)

    src = BYOD / "ratings_only" / "panel_scores.csv"
    store = tmp_path / "s"
    res = run("ingest", "--ratings", src, "--rubric", RUB, "--store", store)
    assert res.exit_code == 0, res.output
    assert "ratings only" in res.output
    raw = pd.read_csv(src)
    assert len(read_ratings(store)) == raw.shape[0] * 8
    res = run("agree", "--store", store, "--n-boot", 0, "--format", "json")
    assert res.exit_code == 0, res.output
    agree = pd.DataFrame(json.loads(res.output))
    got = agree.set_index("dimension").loc["problem_framing", "alpha_ordinal"]
    # Krippendorff's alpha (ordinal) from the file itself, with the krippendorff package
    wide = raw.pivot(index="interviewer", columns="candidate_id", values="problem_framing")
    expected = krippendorff.alpha(
        reliability_data=wide.to_numpy(float),
        level_of_measurement="ordinal",
        value_domain=[1, 2, 3, 4],
    )
    assert got == pytest.approx(expected, abs=1e-9)
    res = run("raters", "--store", store)
    assert res.exit_code == 0, res.output
    res = run("report", "--store", store, "--out", tmp_path / "rep", "--n-boot", 50)
    assert res.exit_code == 0, res.output
    summary = (tmp_path / "rep" / "summary.json").read_text()
    assert "Not computed: grader comparison (no transcript text" in summary
    md = (tmp_path / "rep" / "report.md").read_text().replace("\\", "")  # Markdown escapes
    assert "Not computed: grader comparison (no transcript text" in md
    assert "Grader builder" in md and "no transcript text" in res.output
    res = run(
        "report", "--store", store, "--out", tmp_path / "fb", "--rater", "r-bo", "--n-boot", 50
    )
    assert res.exit_code == 0, res.output
    fb = (tmp_path / "fb" / "report.md").read_text().replace("\\", "")
    assert "not computed: no transcript text" in fb
    res = run("grade", "--store", store, "--grader", "length")
    assert res.exit_code != 0 and "no transcript text" in res.output


def test_transcripts_added_later_attach_to_the_same_ids(tmp_path):
    store = tmp_path / "s"
    r = tmp_path / "r.csv"
    r.write_text(
        "transcript_id,rater_id,problem_framing\nalice-chen,r1,3\nben-okafor,r1,2\nzed,r1,1\n"
    )
    assert ingest(ratings=[r], rubric=RUB, store=store).ok
    s = ingest([BYOD / "zoom"], rubric=RUB, store=store)
    assert s.ok and sorted(read_transcripts(store)["transcript_id"]) == ["alice-chen", "ben-okafor"]
    ratings = read_ratings(store)
    assert set(ratings["transcript_id"]) & set(read_transcripts(store)["transcript_id"]) == {
        "alice-chen",
        "ben-okafor",
    }
    # later ratings: ids with text or already rated are fine; a new unknown id is a typo
    r2 = tmp_path / "r2.csv"
    r2.write_text(
        "transcript_id,rater_id,problem_framing\nalice-chen,r2,3\nzed,r2,2\nalcie-chen,r2,3\n"
    )
    s = ingest(ratings=[r2], rubric=RUB, store=store)
    assert s.sources[0].accepted == 2
    assert "'alcie-chen' that does not exist" in s.issues[0].reason


def test_exit_1_when_nothing_accepted_and_grouped_examples(tmp_path):
    write_jsonl(tmp_path / "t.jsonl", [transcript("t1")])
    r = tmp_path / "r.csv"
    r.write_text(
        "transcript_id,rater_id,dimension,score\n"
        + "".join(f"t1,r{i},charisma,3\n" for i in range(12))
    )
    res = run(
        "ingest",
        "--transcripts",
        tmp_path / "t.jsonl",
        "--ratings",
        r,
        "--rubric",
        RUB,
        "--store",
        tmp_path / "s",
    )
    assert res.exit_code == 0  # the transcript was accepted
    res = run("ingest", "--ratings", r, "--rubric", RUB, "--store", tmp_path / "s2")
    assert res.exit_code == 1, res.output
    assert "nothing was accepted" in res.output
    # twelve identical problems: one line with the count, two examples, not twelve copies
    group = [ln for ln in res.output.splitlines() if "unknown dimension" in ln]
    assert group[0].split()[0] == "12" and len(group) == 3


def test_quarantine_command_formats_and_filter(tmp_path):
    write_jsonl(tmp_path / "t.jsonl", [transcript("t1")])
    r = tmp_path / "r.csv"
    r.write_text(
        "transcript_id,rater_id,dimension,score\nt1,r1,data,9\nt1,=cmd(),data,abc\nt9,r3,data,2\n"
    )
    store = tmp_path / "s"
    ingest([tmp_path / "t.jsonl"], [r], rubric=RUB, store=store)
    res = run("quarantine", "--store", store)
    assert res.exit_code == 0
    assert "off the rubric scale" in res.output and "3 quarantined row(s)" in res.output
    res = run("quarantine", "--store", store, "--format", "json", "--reason", "DOES NOT EXIST")
    rows = json.loads(res.output)
    assert [(x["row"], x["field"]) for x in rows] == [(3, "transcript_id")]
    assert rows[0]["record"]["transcript_id"] == "t9" and rows[0]["source"].endswith("r.csv")
    res = run("quarantine", "--store", store, "--format", "csv")
    back = pd.read_csv(__import__("io").StringIO(res.output))
    assert list(back.columns) == ["table", "source", "row", "field", "reason", "record"]
    assert len(back) == 3
    assert not any(str(v).startswith("=") for v in back.to_numpy().ravel())
    res = run("quarantine", "--store", tmp_path / "nope")
    assert res.exit_code == 1


def test_doc_commands_run(tmp_path, monkeypatch):
    """Every `calib` command in docs/bring-your-own-data.md runs (stores and reports in tmp)."""
    import shlex

    repo = Path(__file__).parents[2]
    doc = (repo / "docs" / "bring-your-own-data.md").read_text()
    blocks = [b.split("```", 1)[0] for b in doc.split("```sh\n")[1:]]
    commands = [ln for b in blocks for ln in b.splitlines() if ln.startswith("calib ")]
    assert len(commands) >= 9
    monkeypatch.chdir(repo)
    for rel in ("zoom", "text", "ats", "ratings_only"):
        assert f"tests/io/byod/{rel}" in doc
    for line in commands:
        args = shlex.split(line)[1:]
        for flag in ("--store", "--out"):
            if flag in args:
                k = args.index(flag) + 1
                args[k] = str(tmp_path / args[k])
        res = CliRunner().invoke(cli, args)
        assert res.exit_code == 0, (line, res.output)
        if args[0] == "report" and "store-ratings" in line:
            assert "no transcript text" in res.output


def test_more_tool_shapes(tmp_path):
    """Teams text (timing line, name line, text), Zoom text ('[Name] 10:01:12'), a WebVTT
    file without its header, AssemblyAI (integer milliseconds) and Rev.ai (elements) JSON.
    """
    s = ingest([BYOD / "tools"], rubric=RUB, store=tmp_path / "s")
    assert s.ok and s.sources[0].accepted == 5, s.format()
    omar = turns_of(tmp_path / "s", "omar-haddad")
    assert [(u["name"], u["start_s"], u["end_s"]) for u in omar[:2]] == [
        ("Priya Shah", 0.0, 4.52),
        ("Omar Haddad", 5.1, 12.0),
    ]
    assert omar[1]["text"] == "With NDCG on judged queries, and an interleaving test online."
    lena = turns_of(tmp_path / "s", "lena-berg")
    assert [u["name"] for u in lena] == ["Priya Shah", "Lena Berg"] * 2
    assert lena[0]["text"] == "How do you pick a loss function?"  # the time is not text
    assert lena[1]["start_s"] == 10 * 3600 + 60 + 20
    assert [u["name"] for u in turns_of(tmp_path / "s", "raj")] == ["Ana", "Raj"]
    aai = turns_of(tmp_path / "s", "assemblyai")
    assert (aai[1]["start_s"], aai[1]["end_s"]) == (4.8, 52.0)
    rev = turns_of(tmp_path / "s", "revai")
    assert [u["text"] for u in rev] == ["Hi, why?", "Because it works."]
    assert rev[1]["start_s"] == 2.0


def test_excel_long_export_with_attribute_names(tmp_path):
    """A Greenhouse-style long .xlsx: 'Attribute'/'Rating' columns, thumbs labels, Excel dates;
    a rubric dimension mapped to the export's attribute name with --columns.
    """
    res = run(
        "ingest",
        "--ratings",
        BYOD / "ats" / "greenhouse.xlsx",
        "--columns",
        "problem_framing=Problem Solving",
        "--labels",
        "Strong Yes=4,Yes=3,No=2,Strong No=1",
        "--na-values",
        "No Decision",
        "--rubric",
        RUB,
        "--store",
        tmp_path / "s",
    )
    assert res.exit_code == 0, res.output
    r = read_ratings(tmp_path / "s").set_index(["rater_id", "dimension"])
    assert r["score"].to_dict() == {
        ("Priya Shah", "problem_framing"): 4.0,
        ("Priya Shah", "communication"): 3.0,
        ("Marco Rossi", "problem_framing"): 2.0,
        ("Marco Rossi", "communication"): 3.0,
    }
    assert r.loc[("Priya Shah", "communication"), "rated_at"] == pd.Timestamp(
        "2026-03-02 14:05", tz="UTC"
    )
    sc = read_table(tmp_path / "s", "scorecards")
    assert len(sc) == 5 and set(sc["overall"]) == {"Yes", "No"}
    assert "not-rated" in res.output.splitlines()[1]


def test_lower_case_speaker_labels_that_repeat_are_speakers(tmp_path):
    p = tmp_path / "chat.txt"
    p.write_text(
        "priya: how would you split the data?\n"
        "sam: by time, to avoid leakage from the future.\n"
        "priya: why not random?\n"
        "sam: random splits leak behaviour across the boundary. note: offline metrics inflate.\n"
    )
    s = ingest([p], rubric=RUB, store=tmp_path / "s")
    assert s.ok, s.format()
    turns = turns_of(tmp_path / "s", "chat")
    assert [(u["name"], u["speaker"]) for u in turns] == [
        ("priya", "interviewer"),
        ("sam", "candidate"),
    ] * 2
    assert turns[3]["text"].endswith("note: offline metrics inflate.")


def test_dimension_columns_with_suffixes_and_short_names(tmp_path):
    p = tmp_path / "f.csv"
    p.write_text(
        "Candidate,Interviewer,Problem Framing (1-4),Data score,Modeling,Eval,Modelling\n"
        "c1,r1,3,2,4,3,1\n"
    )
    s = ingest(ratings=[p], rubric=RUB, store=tmp_path / "s")
    r = read_ratings(tmp_path / "s").set_index("dimension")["score"].to_dict()
    assert r == {"problem_framing": 3.0, "data": 2.0, "modeling": 4.0, "evaluation": 3.0}
    note = next(n for n in s.notes if "shortened name" in n)
    assert "'Eval' -> evaluation" in note and "'Data score' -> data" in note
    assert "'Modeling'" not in note  # the id itself: an exact match
    # the typo is a column of scores for no dimension: quarantined, not matched
    assert [i.field for i in s.issues] == ["Modelling"]


def test_rater_type_words(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text(
        "transcript_id,rater_id,rater_type,data\nt1,a,Interviewer,3\nt1,b,LLM,2\nt1,c,robot,2\n"
    )
    s = ingest(ratings=[p], rubric=RUB, store=tmp_path / "s")
    r = read_ratings(tmp_path / "s").set_index("rater_id")["rater_type"].to_dict()
    assert r == {"a": "human", "b": "llm"}
    assert "rater_type must be one of" in s.issues[0].reason


def test_allow_missing_transcripts_accepts_and_lists_textless_ids(tmp_path):
    r = tmp_path / "r.csv"
    r.write_text("Candidate,Interviewer,Data\nalice-chen,r1,3\nzoe,r1,2\n")
    args = ["ingest", "--transcripts", BYOD / "zoom", "--ratings", r, "--rubric", RUB]
    res = run(*args, "--store", tmp_path / "a")
    assert res.exit_code == 0 and "'zoe' that does not exist" in res.output
    res = run(*args, "--allow-missing-transcripts", "--store", tmp_path / "b")
    assert res.exit_code == 0, res.output
    assert "1 transcript id(s) have ratings but no transcript text" in res.output
    assert sorted(read_ratings(tmp_path / "b")["transcript_id"]) == ["alice-chen", "zoe"]


def test_terminal_output_shows_control_characters_as_question_marks(tmp_path):
    r = tmp_path / "r.csv"
    r.write_text("transcript_id,rater_id,data\nt1,r1,\x1b[31mbad\n")
    res = run("ingest", "--ratings", r, "--rubric", RUB, "--store", tmp_path / "s")
    # the value is shown (repr-escaped in the reason), the escape character never reaches the terminal
    assert res.exit_code == 1 and "\x1b" not in res.output and "[31mbad" in res.output
    res = run("quarantine", "--store", tmp_path / "s")
    assert "\x1b" not in res.output and "[31mbad" in res.output


def test_speaker_names_with_escape_sequences_are_printed_inert(tmp_path):
    p = tmp_path / "t.vtt"
    p.write_text(
        "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<v Ana>Why this model?\n\n"
        "00:00:02.000 --> 00:00:05.000\n<v Sam\x1b[2J>Because the data is small and noisy.\n"
    )
    res = run("ingest", "--transcripts", p, "--rubric", RUB, "--store", tmp_path / "s")
    assert res.exit_code == 0, res.output
    assert "\x1b" not in res.output and "Sam?[2J = candidate" in res.output


def test_european_export_semicolons_date_format_and_comma_decimals(tmp_path):
    p = tmp_path / "eu.csv"
    p.write_bytes(
        "\ufeffKandidat;Interviewer;Datum;Problem framing;Data;Evaluation\r\n"
        "c1;Priya;02.03.2026;3,0;2;n/a\r\n"
        "c2;Priya;15.03.2026;4;1;3\r\n".encode()
    )
    res = run(
        "ingest",
        "--ratings",
        p,
        "--columns",
        "transcript_id=Kandidat,rated_at=Datum",
        "--date-format",
        "%d.%m.%Y",
        "--rubric",
        RUB,
        "--store",
        tmp_path / "s",
    )
    assert res.exit_code == 0, res.output
    r = read_ratings(tmp_path / "s").set_index(["transcript_id", "dimension"])
    assert len(r) == 5 and r.loc[("c1", "problem_framing"), "score"] == 3
    assert r.loc[("c2", "data"), "rated_at"] == pd.Timestamp("2026-03-15", tz="UTC")
    assert "could not be read as dates" not in res.output


def test_json_of_another_shape_is_one_file_level_issue(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    (d / "meeting.json").write_text(json.dumps({"meeting": "x", "duration": 30}, indent=2))
    (d / "ok.txt").write_text("Ana: Why?\nRaj: Because the data is small.\n")
    s = ingest([d], rubric=RUB, store=tmp_path / "s")
    assert [(Path(i.source).name, i.row) for i in s.issues] == [("meeting.json", None)]
    assert "neither a segment list nor a transcript record" in s.issues[0].reason
