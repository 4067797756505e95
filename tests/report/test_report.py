"""Report content, determinism, escaping of untrusted text, honesty about missing analyses.

Data: SYNTHETIC (calib.simulate) throughout.
"""

from __future__ import annotations

import dataclasses
import html.parser
import itertools
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from calib.report import (
    ReportOptions,
    _analyses,
    build_results,
    load_inputs,
    summary_dict,
    write_report,
)

REPO = Path(__file__).resolve().parents[2]
SMALL = ReportOptions(seed=3, n_boot=50)
PAYLOAD = (
    "<script>alert('xss')</script><img src=x onerror=alert(1)>"
    '<b onmouseover="alert(2)">objective success metric latency trade-off</b>'
)


class _Tags(html.parser.HTMLParser):
    """Collects every start tag and attribute the browser would see."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def _live_markup(text: str) -> list:
    p = _Tags()
    p.feed(text)
    return [
        (t, a)
        for t, a in p.tags
        if t in ("script", "iframe", "object", "embed")
        or any(k.startswith("on") for k in a)
        or any(str(v).strip().lower().startswith("javascript:") for v in a.values())
    ]


# ---------------------------------------------------------------------------------------------
# content: the numbers in summary.json are the analyses' numbers
# ---------------------------------------------------------------------------------------------


def test_summary_alpha_and_verdicts_match_agreement_table(planted, planted_results, rubric):
    from calib.agreement import agreement_table

    ratings = planted[0].ratings
    ref = agreement_table(
        ratings[ratings["rater_type"] == "human"],
        categories=rubric.scale.values,
        n_boot=100,
        seed=7,
        dimension_order=list(rubric.dimension_ids),
    ).set_index("dimension")
    s = summary_dict(planted_results)
    by_dim = s["sections"]["agreement"]["facts"]["by_dimension"]
    for d in rubric.dimension_ids:
        assert by_dim[d]["alpha_ordinal"] == pytest.approx(ref.loc[d, "alpha_ordinal"], abs=1e-6)
        assert by_dim[d]["alpha_ordinal_low"] == pytest.approx(
            ref.loc[d, "alpha_ordinal_low"], abs=1e-6
        )
        assert s["sections"]["overview"]["facts"]["verdicts"][d] == ref.loc[d, "band"]
    # planted data is noisy: nothing is reliable, and tradeoffs (ambiguous) is the worst dimension
    alphas = {d: by_dim[d]["alpha_ordinal"] for d in rubric.dimension_ids}
    assert min(alphas, key=alphas.get) == "tradeoffs"


def test_summary_planning_and_flags_match_raters_stage(planted, planted_results, rubric):
    from calib.raters import g_study, rater_effects

    h = planted[0].ratings
    facts = planted_results.section("reliability_planning").facts
    for d in ("tradeoffs", "data"):
        g = g_study(h[h["dimension"] == d], "transcript_id", ["rater_id"])
        assert facts["raters_needed"][d] == g.n_needed(
            "rater_id", target=0.8, coefficient="Phi", max_n=50
        )
    flags = rater_effects(h, model="additive", transcripts=planted[0].transcripts)
    expected = flags[flags["flagged"]]
    got = planted_results.section("rater_effects").facts["flags"]
    assert sorted((f["rater_id"], f["dimension"], f["effect"]) for f in got) == sorted(
        zip(expected["rater_id"], expected["dimension"], expected["effect"])
    )


def test_counts_and_confusions_against_independent_computation(planted, planted_results):
    r = planted[0].ratings
    counts = planted_results.section("overview").facts["counts"]
    assert counts["ratings"] == len(r) and counts["transcripts"] == r["transcript_id"].nunique()
    assert counts["raters"] == {"human": r["rater_id"].nunique()}
    # oracle: enumerate rater pairs with itertools for one dimension
    sub = r[r["dimension"] == "tradeoffs"]
    tally: dict[tuple[float, float], int] = {}
    for _, g in sub.groupby("transcript_id"):
        for a, b in itertools.combinations(g["score"].tolist(), 2):
            if a != b:
                key = (min(a, b), max(a, b))
                tally[key] = tally.get(key, 0) + 1
    conf = planted_results.section("scale_use").tables["confusions"]
    c = conf[conf["dimension"] == "tradeoffs"]
    assert {(lo, hi): n for lo, hi, n in zip(c["low"], c["high"], c["count"])} == tally
    assert c["share_within"].sum() == pytest.approx(1.0)


def test_sections_and_takeaways_present(planted_results):
    s = summary_dict(planted_results)
    assert list(s["sections"]) == [
        "overview",
        "agreement",
        "scale_use",
        "rater_effects",
        "reliability_planning",
        "graders",
        "recommendations",
    ]
    for key, sec in s["sections"].items():
        assert sec["takeaway"], key
    assert s["synthetic"] is True
    assert len(s["headline"]) == 3
    assert s["sections"]["graders"]["status"] == "not computed"  # no grader rows in simulated data
    assert "Not computed" in s["sections"]["graders"]["not_computed"][0]


def test_summary_matches_schema(planted_report):
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((REPO / "docs" / "summary.schema.json").read_text())
    jsonschema.validate(json.loads((planted_report / "summary.json").read_text()), schema)


def test_output_files_and_run_json(planted_report, rubric):
    names = {p.name for p in planted_report.iterdir()}
    assert {"report.html", "report.md", "summary.json", "run.json", "figures", "tables"} <= names
    run = json.loads((planted_report / "run.json").read_text())
    assert run["rubric"]["content_hash"] == rubric.content_hash and run["seed"] == 7
    assert run["options"]["n_boot"] == 100 and run["options"]["thresholds"]["alpha_reliable"] == 0.8
    figs = sorted(p.name for p in (planted_report / "figures").iterdir())
    assert "overview_verdicts.svg" in figs and "d_study.svg" in figs
    assert "agreement_alpha_forest.svg" not in figs  # one chart per question: alpha is charted once
    assert (planted_report / "tables" / "agreement__by_dimension.parquet").exists()
    assert (planted_report / "tables" / "agreement__by_dimension.csv").exists()
    html_text = (planted_report / "report.html").read_text()
    assert (
        "http://" not in html_text.replace("http://www.w3.org", "") and "https://" not in html_text
    )
    assert html_text.count('<img src="data:image/svg+xml;base64,') == len(figs)
    for svg in (planted_report / "figures").iterdir():
        assert "<dc:date>" not in svg.read_text()  # dates stripped so figures are reproducible


# ---------------------------------------------------------------------------------------------
# untrusted transcript text, through the real ingest path
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hostile_store(tmp_path_factory):
    from calib.io import ingest
    from calib.simulate import SimulationConfig, simulate_dataset, write_dataset

    ds = simulate_dataset(SimulationConfig(n_transcripts=40, seed=5))  # SYNTHETIC
    t = ds.transcripts.copy()

    def poison(turns):
        out = [dict(x) for x in turns]
        for x in out:
            if x["speaker"] == "candidate":
                x["text"] = PAYLOAD + " " + x["text"]
        return out

    t["turns"] = t["turns"].map(poison)
    t["metadata"] = t["metadata"].map(lambda m: {**m, "cohort": PAYLOAD})
    root = tmp_path_factory.mktemp("hostile")
    write_dataset(dataclasses.replace(ds, transcripts=t), root / "data")
    store = root / "store"
    ingest(
        [root / "data" / "transcripts.jsonl"],
        [root / "data" / "ratings.csv"],
        rubric=REPO / "rubrics" / "ml_interview_v1.yaml",
        store=store,
    )
    return store


@pytest.fixture(scope="module")
def hostile_report(hostile_store, tmp_path_factory):
    inputs = load_inputs(hostile_store)
    out = tmp_path_factory.mktemp("hostile_report")
    write_report(build_results(inputs, SMALL), out, inputs=inputs, options=SMALL)
    return out


def test_script_in_transcript_never_becomes_markup(hostile_store, hostile_report, tmp_path):
    from calib.report.feedback import build_feedback

    inputs = load_inputs(hostile_store)
    assert inputs.transcripts["turns"].map(lambda ts: PAYLOAD in ts[1]["text"]).all()
    shutil.copytree(hostile_report, tmp_path / "full")
    fb = build_feedback(inputs, "r01", SMALL)
    assert any(PAYLOAD[:20] in e["excerpt"] for e in fb.section("differences").facts["examples"])
    write_report(fb, tmp_path / "fb", inputs=inputs, template="feedback")
    for folder in ("full", "fb"):
        page = (tmp_path / folder / "report.html").read_text()
        assert _live_markup(page) == []
        assert "<script" not in page.lower()
        md = (tmp_path / folder / "report.md").read_text()
        assert _live_markup(md) == [] and "<script" not in md.lower()
    fb_page = (tmp_path / "fb" / "report.html").read_text()
    assert "&lt;script&gt;alert(" in fb_page  # the text is shown, as text


def test_hostile_feedback_page_runs_no_script(browser, hostile_store, tmp_path):
    from calib.report.feedback import build_feedback

    inputs = load_inputs(hostile_store)
    write_report(build_feedback(inputs, "r01", SMALL), tmp_path, inputs=inputs, template="feedback")
    page = browser((tmp_path / "report.html").as_uri())
    assert page["scripts"] == 0 and page["console"] == [] and page["exceptions"] == []
    assert "<script>alert('xss')</script>" in page["text"]  # rendered as visible text


# ---------------------------------------------------------------------------------------------
# determinism
# ---------------------------------------------------------------------------------------------


def test_same_input_gives_identical_summary_tables_and_figures(
    hostile_store, hostile_report, tmp_path
):
    inputs = load_inputs(
        hostile_store
    )  # a fresh read of the store and a fresh run of every analysis
    write_report(build_results(inputs, SMALL), tmp_path / "b", inputs=inputs, options=SMALL)
    shutil.copytree(hostile_report, tmp_path / "a")
    for rel in [
        "summary.json",
        "run.json",
        "report.md",
        "report.html",
        *[f"tables/{p.name}" for p in (tmp_path / "a" / "tables").iterdir()],
        *[f"figures/{p.name}" for p in (tmp_path / "a" / "figures").iterdir()],
    ]:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel


# ---------------------------------------------------------------------------------------------
# honesty: a missing analysis is reported as not computed, never faked
# ---------------------------------------------------------------------------------------------


def test_missing_analysis_is_reported_not_faked(hostile_store, monkeypatch):
    real_find = _analyses.find

    def no_agreement(module, *names):
        return None if module == "calib.agreement" else real_find(module, *names)

    monkeypatch.setattr(_analyses, "find", no_agreement)
    res = build_results(load_inputs(hostile_store), ReportOptions(seed=1, n_boot=0))
    s = summary_dict(res)
    assert s["sections"]["agreement"]["status"] == "not computed"
    assert s["sections"]["agreement"]["facts"] == {}
    assert (
        "calib.agreement.agreement_table is not available"
        in s["sections"]["agreement"]["not_computed"][0]
    )
    assert set(s["sections"]["overview"]["facts"]["verdicts"].values()) == {"not computed"}
    assert s["sections"]["overview"]["status"] == "partial"


# ---------------------------------------------------------------------------------------------
# graders: the section shows calib.graders.validate's decisions, unchanged
# ---------------------------------------------------------------------------------------------


def test_grader_section_matches_validate_grader(hostile_store, tmp_path):
    import shutil as _sh

    from calib.graders import RuleGrader
    from calib.graders.validate import validate_grader
    from calib.io import append_ratings, read_store_rubric, read_transcripts

    store = tmp_path / "store"
    _sh.copytree(hostile_store, store)
    rubric = read_store_rubric(store)
    grader = RuleGrader.from_rubric(rubric, {})
    append_ratings(
        store, grader.grade(read_transcripts(store), rubric).ratings, source="grader:test"
    )
    inputs = load_inputs(store)
    opt = ReportOptions(seed=4, n_boot=20)
    res = build_results(inputs, opt)
    sec = res.section("graders")
    assert sec.status in ("computed", "partial") and sec.facts["graders"] == [grader.rater_id]
    ref = validate_grader(
        inputs.ratings,
        grader.rater_id,
        rubric,
        inputs.transcripts,
        n_boot=opt.n_boot,
        seed=opt.seed,
    ).decision
    got = sec.tables["acceptance"]
    assert list(got["dimension"]) == list(ref["dimension"])
    assert list(got["passed"]) == list(ref["passed"])
    np.testing.assert_allclose(got["wtkappa"].to_numpy(float), ref["wtkappa"].to_numpy(float))
    failed = set(ref.loc[~ref["passed"], "dimension"])
    recs = [r for r in res.recommendations if r.rule == "grader_unfit"]
    assert (set(recs[0].evidence["failed_dimensions"]) if recs else set()) == failed
    assert {f.key for f in sec.figures} >= {"grader_bland_altman", "grader_length"}
    # the grader builder's first-screen answer quotes the same pass counts
    n_pass = int(ref["passed"].sum())
    assert (
        f"'{grader.rater_id}' is fit for {n_pass} of {len(ref)} dimensions"
        in res.audiences[2]["answer"]
    )


def test_llm_self_consistency_and_tokens_come_from_llm_outputs(hostile_store):
    """A SYNTHETIC LLM grader: 2 samples per (transcript, dimension) in the store's llm_outputs."""
    from calib.graders.llm import self_consistency

    inputs = load_inputs(hostile_store)
    humans = inputs.ratings
    llm = humans[humans["rater_id"] == "r01"].assign(rater_id="llm-test", rater_type="llm")
    rng = np.random.default_rng(0)
    outputs = pd.concat(
        [llm[["transcript_id", "dimension", "score"]].assign(sample=k) for k in (0, 1)],
        ignore_index=True,
    ).assign(rater_id="llm-test", prompt_tokens=100, completion_tokens=20)
    outputs["score"] = np.clip(
        outputs["score"] + rng.integers(-1, 2, len(outputs)) * (outputs["sample"] == 1), 1, 4
    )
    inputs2 = dataclasses.replace(
        inputs, ratings=pd.concat([humans, llm], ignore_index=True), extra={"llm_outputs": outputs}
    )
    # only the graders section: the other sections' analyses are tested elsewhere (and are slow)
    from calib.report import _descriptive
    from calib.report._sec_graders import _graders
    from calib.report.recommend import THRESHOLDS

    sec = _graders(
        inputs2,
        list(inputs2.rubric.dimension_ids),
        {},
        dict(THRESHOLDS),
        _descriptive.transcript_lengths(inputs2.transcripts),
        ReportOptions(seed=1, n_boot=0),
    )
    got = sec.tables["self_consistency"].drop(columns="grader").reset_index(drop=True)
    pd.testing.assert_frame_equal(got, self_consistency(outputs).reset_index(drop=True))
    tok = sec.tables["tokens"].set_index("rater_id")
    assert tok.loc["llm-test", "prompt_tokens"] == 100 * len(outputs)
    assert "cost" not in sec.tables  # no price -> "not computed", never a cost of 0

    # with per-call costs recorded by the grader, the section shows their sum; a second grader
    # without a price stays "unknown"
    priced = outputs.assign(cost_usd=0.001)
    unpriced = outputs.assign(rater_id="llm-noprice", cost_usd=np.nan)
    inputs3 = dataclasses.replace(
        inputs2, extra={"llm_outputs": pd.concat([priced, unpriced], ignore_index=True)}
    )
    sec = _graders(
        inputs3,
        list(inputs3.rubric.dimension_ids),
        {},
        dict(THRESHOLDS),
        _descriptive.transcript_lengths(inputs3.transcripts),
        ReportOptions(seed=1, n_boot=0),
    )
    cost = sec.tables["cost"].set_index("rater_id")["cost_usd"]
    assert cost["llm-test"] == pytest.approx(0.001 * len(outputs))
    assert cost["llm-noprice"] == "unknown"


def test_rewriting_a_report_folder_leaves_no_stale_files(planted_report, tmp_path):
    import shutil as _sh

    out = tmp_path / "r"
    _sh.copytree(planted_report, out)
    (out / "figures" / "old_figure.svg").write_text("<svg/>")
    (out / "tables" / "old__table.csv").write_text("a\n1\n")
    from calib.report.render import write_figures, write_tables

    write_figures([], out / "figures")
    write_tables({}, out / "tables")
    assert list((out / "figures").iterdir()) == [] and list((out / "tables").iterdir()) == []
