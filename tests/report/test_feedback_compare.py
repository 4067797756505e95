"""Interviewer feedback and store comparison. Data: SYNTHETIC (calib.simulate)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from calib.errors import ConfigError
from calib.report import summary_dict
from calib.report._descriptive import rater_deviations, rater_vs_consensus
from calib.report.compare import compare_inputs
from calib.report.feedback import build_feedback, excerpt


def test_feedback_for_planted_severe_rater(planted):
    ds, inputs = planted
    res = build_feedback(inputs, "r01")
    s = summary_dict(res)
    assert s["kind"] == "interviewer_feedback" and s["rater_id"] == "r01" and s["synthetic"] is True
    by_dim = s["sections"]["summary"]["facts"]["by_dimension"]
    # planted severity +0.6 (harsh): r01 scores below the others on every dimension, CI below 0
    assert all(v["mean_diff"] < -0.3 and v["ci"][1] < 0 for v in by_dim.values())
    ex = s["sections"]["differences"]["facts"]["examples"]
    assert ex and all(abs(e["your_score"] - e["others_mean"]) >= 1 for e in ex)
    rubric = inputs.rubric
    for e in ex:  # anchors are the rubric's own text for the two levels
        assert e["your_anchor"] == rubric.anchor(e["dimension"], e["your_score"])
        assert e["consensus_anchor"] == rubric.anchor(e["dimension"], e["consensus_level"])
        assert e["excerpt"]
    assert any("lower (harsher)" in item for item in s["sections"]["practice"]["facts"]["items"])


def test_feedback_for_near_clean_rater_has_little_to_practise(planted):
    roles = {k: v["role"] for k, v in planted[0].planted["raters"].items()}
    quiet = sorted(k for k, v in roles.items() if v == "near_clean")[0]
    res = build_feedback(planted[1], quiet)
    items = res.section("practice").facts["items"]
    assert not any("stricter" in i or "lenient" in i for i in items)


def test_unknown_rater_names_known_ones(planted):
    with pytest.raises(ConfigError, match="known raters: r01"):
        build_feedback(planted[1], "nobody")


def test_deviation_ci_matches_scipy_t_interval():
    # oracle: scipy.stats.ttest_1samp(...).confidence_interval (Student t, n-1 df)
    rng = np.random.default_rng(4)  # SYNTHETIC ratings: 3 raters x 30 transcripts
    rows = [
        (f"t{t}", f"r{r}", "data", float(rng.integers(1, 5))) for t in range(30) for r in range(3)
    ]
    df = pd.DataFrame(rows, columns=["transcript_id", "rater_id", "dimension", "score"]).assign(
        rater_type="human"
    )
    rvc = rater_vs_consensus(df)
    dev = rater_deviations(rvc).set_index("rater_id")
    for r in ("r0", "r1", "r2"):
        d = rvc.loc[rvc["rater_id"] == r, "diff"].to_numpy()
        ci = stats.ttest_1samp(d, 0.0).confidence_interval(0.95)
        assert dev.loc[r, "mean_diff"] == pytest.approx(d.mean())
        assert (dev.loc[r, "ci_low"], dev.loc[r, "ci_high"]) == pytest.approx((ci.low, ci.high))
    # leave-one-out: each consensus is the mean of the *other* two raters' scores
    w = df.pivot(index="transcript_id", columns="rater_id", values="score")
    loo = (w.sum(axis=1).to_numpy()[:, None] - w.to_numpy()) / 2
    got = rvc.pivot(index="transcript_id", columns="rater_id", values="consensus").loc[
        w.index, w.columns
    ]
    np.testing.assert_allclose(got.to_numpy(), loo)


def test_excerpt_picks_the_sentence_about_the_dimension():
    turns = [
        {"speaker": "interviewer", "text": "Latency?"},
        {
            "speaker": "candidate",
            "text": "I like the weather. We accept lower accuracy to meet a 50 ms latency "
            "budget. Thanks.",
        },
    ]
    assert excerpt(turns, "trade-off latency budget accuracy cost") == (
        "We accept lower accuracy to meet a 50 ms latency budget."
    )
    assert (
        excerpt(None, "x") == "" and excerpt([{"speaker": "interviewer", "text": "hi"}], "x") == ""
    )


def test_compare_detects_improvement_and_not_noise(planted, clean, rubric):
    from calib.report import ReportOptions

    opt = ReportOptions(seed=2, n_boot=100)
    same = compare_inputs(planted[1], planted[1], opt)
    t = same.section("reliability").tables["alpha"]
    assert (t["change"] == 0).all() and not t["beyond_noise"].any()
    from calib.report.compare import _alpha_display

    assert set(_alpha_display(t)["beyond the noise"]) == {
        "no (within noise)"
    }  # what the page shows
    assert same.section("rubric_changes").facts["changes"] == 0
    better = compare_inputs(planted[1], clean[1], opt)
    t = better.section("reliability").tables["alpha"].set_index("dimension")
    # the clean round removes the planted ambiguity: tradeoffs improves beyond the noise
    assert t.loc["tradeoffs", "change"] > 0 and t.loc["tradeoffs", "beyond_noise"]
    shown = _alpha_display(t.reset_index()).set_index("dimension")
    assert shown.loc["tradeoffs", "beyond the noise"] == "yes"
    assert shown.loc["tradeoffs", "change"] == (
        f"+{t.loc['tradeoffs', 'change']:.2f} [{t.loc['tradeoffs', 'change_low']:.2f}, "
        f"{t.loc['tradeoffs', 'change_high']:.2f}]"
    )
    sev = better.section("rater_effects").tables["severity"].set_index("rater_id")
    assert (
        sev.loc["r01", "severity_b"] < sev.loc["r01", "severity_a"]
        and sev.loc["r01", "beyond_noise"]
    )
    assert summary_dict(better)["kind"] == "comparison"


def test_compare_links_reworded_anchors_to_agreement_change(planted, clean, rubric):
    """Rubric v1.1 rewords the 'tradeoffs' level-2/3 anchors; round B (SYNTHETIC, clean) agrees more."""
    import dataclasses

    from calib.report import ReportOptions
    from calib.rubric import rubric_from_dict, rubric_to_dict

    d = rubric_to_dict(rubric)
    d["version"] = "1.1"
    lv = d["dimensions"][5]["levels"]
    assert d["dimensions"][5]["id"] == "tradeoffs"
    lv[1]["anchor"] = (
        "Names a constraint and one consequence for the design, but makes no decision."
    )
    lv[2]["anchor"] = "Makes one explicit trade-off decision, saying what is given up and why."
    b = dataclasses.replace(clean[1], rubric=rubric_from_dict(d))
    res = compare_inputs(planted[1], b, ReportOptions(seed=2, n_boot=100))
    sec = res.section("rubric_changes")
    assert sec.facts["changes"] >= 2
    eff = sec.tables["effect"].set_index("dimension")
    assert list(eff.index) == ["tradeoffs"] and "anchor_reworded" in eff.loc["tradeoffs", "changes"]
    assert eff.loc["tradeoffs", "change"] > 0 and bool(eff.loc["tradeoffs", "beyond_noise"])
    # difference in differences: the reworded dimension's change minus the mean change of the
    # dimensions whose text did not change (all improved here: the round-B raters are clean)
    alpha = res.section("reliability").facts["alpha"]
    others = [v["change"] for k, v in alpha.items() if k != "tradeoffs"]
    base = sum(others) / len(others)
    assert base > 0 and eff.loc["tradeoffs", "did"] == pytest.approx(
        alpha["tradeoffs"]["change"] - base, abs=1e-6
    )
    assert eff.loc["tradeoffs", "did"] < eff.loc["tradeoffs", "change"]
    assert (
        eff.loc["tradeoffs", "did_low"]
        < eff.loc["tradeoffs", "did"]
        < eff.loc["tradeoffs", "did_high"]
    )
    assert "unchanged dimensions moved" in sec.takeaway
