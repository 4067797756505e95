"""Issue 12 "A report its three readers can act on": the content checks of its "Done means".

Data: SYNTHETIC (calib.simulate; the shipped sample datasets/sample and small simulated stores).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from calib.cli.main import cli
from calib.io import ingest
from calib.report import ReportInputs, ReportOptions, build_results, load_inputs, write_report
from calib.simulate import SimulationConfig, simulate_dataset

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "datasets" / "sample"
FAST = ReportOptions(seed=7, n_boot=100)


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """The shipped sample as a store, its report and its files."""
    root = tmp_path_factory.mktemp("sample")
    ingest(
        [SAMPLE / "transcripts.jsonl"],
        [SAMPLE / "ratings.csv"],
        rubric=REPO / "rubrics" / "ml_interview_v1.yaml",
        store=root / "store",
        strict=False,
        progress=False,
    )
    inputs = load_inputs(root / "store")
    res = build_results(inputs, FAST)
    write_report(res, root / "report", inputs=inputs, options=FAST)
    return root, inputs, res


def test_no_flag_is_truncated(sample):
    root, _, res = sample
    sec = res.section("rater_effects")
    flags = sec.tables["flags"]
    summary = sec.tables["flag_summary"]
    # one row per rater x effect, every flagged (rater, effect) present
    assert len(summary) == len(flags.groupby(["rater_id", "effect"]))
    assert not summary.duplicated(["rater_id", "effect"]).any()
    md = (root / "report" / "report.md").read_text()
    html = (root / "report" / "report.html").read_text()
    assert "more rows in the table files" not in md and "more rows in the table files" not in html
    block = md[md.index("*Flagged rater effects") :].split("\n\n")[1].splitlines()
    assert block[0].startswith("| rater | effect") and len(block[2:]) == len(summary)
    # each flagged dimension appears inside its row
    for r in flags[flags.dimension != "all"].itertuples():
        row = summary[(summary.rater_id == r.rater_id) & (summary.effect == r.effect)].iloc[0]
        assert r.dimension in row["where"]


def test_shipped_sample_fairness_flags_the_planted_effect_only(sample):
    _, _, res = sample
    planted = json.loads((SAMPLE / "planted.json").read_text())["subgroup_effects"]
    want = {(p["rater_id"], p["dimension"], p["attribute"], p["group"]) for p in planted}
    got = {
        (f["rater_id"], f["dimension"], f["attribute"], f["group"])
        for f in res.section("rater_effects").facts["fairness"]["flags"]
    }
    assert got == want
    # the flag names subgroup and dimension, in the rows and in the notes
    notes = " ".join(res.section("rater_effects").notes)
    assert "r06 on communication for school_tier = non_target" in notes


def test_raters_cli_and_report_flag_the_same_raters(sample):
    root, _, res = sample
    out = CliRunner().invoke(
        cli,
        [
            "raters",
            "--store",
            str(root / "store"),
            "--format",
            "json",
            "--no-plan",
            "--table",
            "flags",
        ],
    )
    assert out.exit_code == 0, out.output
    cli_raters = {r["rater_id"] for r in json.loads(out.output)["flags"]}
    assert cli_raters == set(res.section("rater_effects").facts["flagged_raters"])
    planted = json.loads((SAMPLE / "planted.json").read_text())["raters"]
    assert cli_raters >= {r for r, p in planted.items() if p["role"] != "near_clean"}


def test_six_transcripts_give_undetermined_and_no_recommendations(rubric):
    ds = simulate_dataset(SimulationConfig(n_transcripts=6, seed=3))
    res = build_results(ReportInputs(ds.ratings, ds.transcripts, rubric), FAST)
    assert set(res.section("overview").facts["verdicts"].values()) == {"undetermined"}
    assert res.recommendations == []
    rubric_card, lead_card = res.audiences[0]["answer"], res.audiences[1]["answer"]
    assert rubric_card.startswith("Undetermined") and "Merge" not in rubric_card
    assert lead_card.startswith("Undetermined")
    assert "fewer raters" not in lead_card.lower()


def test_calibration_session_view(rubric, tmp_path):
    """15 interviewers x 6 transcripts: recognised, grid of deviations, who is outside +/-1."""
    ds = simulate_dataset(
        SimulationConfig(n_transcripts=6, n_raters=15, seed=3, linked_fraction=1.0)
    )
    inputs = ReportInputs(ds.ratings, ds.transcripts, rubric)
    res = build_results(inputs, FAST)
    cs = res.section("calibration_session")
    grid = cs.tables["grid"]
    assert grid.shape == (15, 1 + 6)
    outside = cs.tables["outside"]
    # independent check: |score - mean of the other raters| > 1 counted from the raw ratings
    h = ds.ratings
    g = h.groupby(["transcript_id", "dimension"])["score"]
    others = (g.transform("sum") - h["score"]) / (g.transform("size") - 1)
    assert len(outside) == int(((h["score"] - others).abs() > 1).sum())
    lead = res.audiences[1]["answer"]
    assert "calibration session" in lead and "fewer raters" not in lead.lower()
    write_report(res, tmp_path, inputs=inputs, options=FAST)
    assert "Calibration session" in (tmp_path / "report.md").read_text()


def test_grader_card_wording_and_baseline(sample):
    _, _, res = sample
    # no grader in the raw sample: see test_report.py for a store with graders; wording unit check
    import pandas as pd

    from calib.report._first_screen import _grader_builder
    from calib.report._model import Section

    g = Section("graders", "Automated graders")
    g.facts = {
        "graders": ["rules-1", "length-2"],
        "passed": {
            "rules-1": {"passed": 1, "dimensions": 2},
            "length-2": {"passed": 0, "dimensions": 2},
        },
        "baselines": ["length-2"],
    }
    g.tables["acceptance"] = pd.DataFrame(
        {
            "grader": ["rules-1"] * 2,
            "dimension": ["a", "b"],
            "passed": [True, False],
            "wtkappa": [0.70, 0.60],
            "hh_wtkappa": [0.78, 0.68],
        }
    )
    ans = _grader_builder({"graders": g})
    assert "median kappa is 0.08 below the human–human baseline" in ans
    assert "'length-2'" not in ans and "baseline for comparison: length-2" in ans
    assert not re.search(r"kappa -0\.\d+ vs", ans)


def test_planted_harsh_rater_has_the_same_sign_everywhere(planted, clean, planted_results):
    """r01 is planted harsh (+0.6): positive severity in the report, feedback and compare."""
    from calib.report.compare import compare_inputs
    from calib.report.feedback import build_feedback

    sev = planted_results.section("rater_effects").tables["severity"]
    r01 = sev[sev.rater_id == "r01"]
    assert (r01["severity"] > 0).all() and (r01["overall"] > 0).all()
    summ = planted_results.section("rater_effects").tables["flag_summary"]
    row = summ[(summ.rater_id == "r01") & (summ.effect == "severity")].iloc[0]
    assert row["size"] > 0 and row["direction"] == "harsh"
    assert "r01 (harsh +" in planted_results.section("rater_effects").takeaway
    fb = build_feedback(planted[1], "r01", FAST)
    by_dim = fb.section("summary").facts["by_dimension"]
    assert all(v["severity"] > 0 for v in by_dim.values())
    assert "lower (harsher)" in fb.section("summary").takeaway
    assert "(severity +" in fb.section("summary").takeaway
    fig = fb.section("summary").figures[0]
    assert "positive = harsher" in fig.svg and "negative = stricter" not in fig.svg
    cmp = compare_inputs(planted[1], clean[1], FAST)
    s = cmp.section("rater_effects").facts["severity_change"]["r01"]
    assert s["a"] > 0  # harsh in round A (planted), near 0 in the clean round
    eff = cmp.section("rater_effects").tables["effects"]
    e = eff[(eff.rater_id == "r01") & (eff.effect == "severity")].iloc[0]
    assert e["before"] > 0 and e["practical"] and e["change"] < 0


def test_compare_reports_every_effect_with_practical_steps(planted, clean):
    from calib.report.compare import PRACTICAL_CHANGE, compare_inputs

    cmp = compare_inputs(planted[1], clean[1], FAST)
    eff = cmp.section("rater_effects").tables["effects"]
    assert {"severity", "misfit", "central_tendency", "halo", "drift"} <= set(eff.effect)
    # a change smaller than its practical step is never called a change
    small = eff[eff["change"].abs() < eff["effect"].map(PRACTICAL_CHANGE)]
    assert not small["practical"].any()
    # planted halo (r03) and central tendency (r04) disappear in the clean round
    assert bool(eff[(eff.rater_id == "r03") & (eff.effect == "halo")]["practical"].iloc[0])
    ct = eff[(eff.rater_id == "r04") & (eff.effect == "central_tendency")].iloc[0]
    assert ct["practical"] and ct["after"] > ct["before"]


def test_every_rubric_recommendation_shows_its_evidence(planted_results, planted_report, rubric):
    from markupsafe import escape

    recs = [
        r
        for r in planted_results.recommendations
        if r.rule in ("anchor_ambiguity", "redundant_dims", "unused_level")
    ]
    assert recs
    page = (planted_report / "report.html").read_text()
    recs_html = page[page.index('id="recommendations"') :]
    for r in recs:
        x = r.exhibit
        assert x, r.title
        item = recs_html[recs_html.index(str(escape(r.title))) :].split("</li>")[0]
        if r.rule == "anchor_ambiguity":
            levels = {lv for p in r.evidence["level_pairs"] for lv in p}
            assert {a["level"] for a in x["anchors"]} == levels
            for lv in levels:
                assert str(escape(rubric.anchor(r.dimension, lv))) in item
            assert 2 <= len(x["examples"]) <= 3
            for e in x["examples"]:
                assert e["excerpt"] and str(escape(e["excerpt"][:30])) in item
                assert " gave " in e["scores"]


def test_merge_advice_shows_both_dimensions_and_the_ci(rubric):
    import pandas as pd

    from calib.report import ReportInputs
    from calib.report._evidence import attach_exhibits
    from calib.report.recommend import recommend

    ev = {
        "correlated": pd.DataFrame(
            {
                "dimension_a": ["data", "modeling"],
                "dimension_b": ["modeling", "evaluation"],
                "rho": [0.95, 1.0],
                "n": [300.0, 6.0],
                "rho_low": [0.94, 0.2],
                "rho_high": [0.96, 1.0],
            }
        ),
        "coverage": {"double_rated_transcripts": 300},
    }
    recs = recommend(ev)
    assert [r.dimension for r in recs] == ["data+modeling"]  # 6 transcripts: no merge advice
    assert "95% CI 0.94 to 0.96" in recs[0].title
    ds = simulate_dataset(SimulationConfig(n_transcripts=6, seed=3))
    (r,) = attach_exhibits(recs, ReportInputs(ds.ratings, ds.transcripts, rubric))
    names = [d["dimension"] for d in r.exhibit["dimensions"]]
    assert names == ["data", "modeling"]
    for d in r.exhibit["dimensions"]:
        assert [a["anchor"] for a in d["anchors"]] == [
            lv.anchor for lv in rubric.dimension(d["dimension"]).levels
        ]


def test_no_fairness_flag_states_the_smallest_detectable_difference(clean_results):
    sec = clean_results.section("rater_effects")
    fair = sec.facts["fairness"]
    assert fair["flags"] == [] and fair["tested"] > 0
    note = next(n for n in sec.notes if n.startswith("Subgroup (fairness) check"))
    assert "no subgroup difference found" in note
    for attr, v in fair["detectable_points"].items():
        assert f"{v:.2f} points for {attr}" in note
    drf = sec.tables["subgroup_tests"]
    # the detectable difference is (z_{1-alpha/2m} + z_0.80) * se (docs/raters.md)
    from scipy import stats

    m, alpha = fair["tested"], fair["alpha"]
    z = stats.norm.ppf(1 - alpha / (2 * m)) + stats.norm.ppf(0.8)
    assert (drf["detectable"] - z * drf["se"]).abs().max() < 1e-9


def test_fisher_ci_matches_pingouin():
    import numpy as np
    import pingouin as pg

    from calib.report._descriptive import fisher_ci

    rng = np.random.default_rng(1)
    x = rng.normal(size=40)
    y = x + rng.normal(size=40)
    r = pg.corr(x, y, method="spearman")
    lo, hi = fisher_ci(np.array([r["r"].iloc[0]]), np.array([40]))
    assert [round(float(lo[0]), 2), round(float(hi[0]), 2)] == list(r["CI95"].iloc[0])


def test_verdict_rule_and_decimals():
    from calib.report.recommend import decimals, fmt_near, verdict

    assert verdict(0.557, low=-0.417, high=0.903) == "undetermined"
    assert verdict(0.70, low=0.60, high=0.79) == "tentative"  # one cut-off crossed: estimate's band
    assert verdict(0.90, n_transcripts=6) == "undetermined"
    # 0.6666 and 0.6672 both print as 0.667 with 3 decimals but get different verdicts
    assert verdict(0.6666) == "unreliable" and verdict(0.6672) == "tentative"
    assert fmt_near(0.6666) != fmt_near(0.6672) and decimals(0.6666) == 4
