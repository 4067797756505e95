"""Recommendation rules fire on planted problems and stay quiet on clean data.

Data: SYNTHETIC (calib.simulate). The default simulation plants a severe rater (r01,
severity +0.6), lenient raters (r02 -0.5; r05 drifting lenient), central tendency (r04),
halo (r03) and an ambiguous dimension (extra noise on 'tradeoffs' at the central levels);
SimulationConfig(clean=True) plants none of them.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from calib.report import THRESHOLDS, recommend, verdict

PROBLEM_RULES = {
    "anchor_ambiguity",
    "rater_calibration",
    "grader_unfit",
    "redundant_dims",
    "disconnected",
    "unused_level",
}


def _rules(results, rule):
    return [r for r in results.recommendations if r.rule == rule]


def test_planted_ambiguous_dimension_gets_anchor_rewrite(planted, planted_results):
    ds = planted[0]
    assert list(ds.planted["ambiguous_dimensions"]) == ["tradeoffs"]
    recs = _rules(planted_results, "anchor_ambiguity")
    assert [r.dimension for r in recs] == ["tradeoffs"]
    r = recs[0]
    assert r.evidence["excess_disagreement_ratio"] >= THRESHOLDS["disagreement_ratio"]
    assert r.evidence["share_of_dimension_disagreements"] >= THRESHOLDS["confusion_share"]
    assert "tradeoffs" in r.title and r.transcripts  # tied to evidence and example transcripts
    # the example transcripts really are ones where raters disagreed on tradeoffs
    pairs = planted_results.section("scale_use").tables["confusions"]
    assert set(pairs["dimension"]) >= {"tradeoffs"}


def test_planted_severe_and_lenient_raters_get_calibration_sessions(planted, planted_results):
    roles = {k: v["role"] for k, v in planted[0].planted["raters"].items()}
    recs = _rules(planted_results, "rater_calibration")
    named = {rid for r in recs for rid in r.evidence["raters"]}
    severe = [k for k, v in roles.items() if v == "severe"]
    lenient = [k for k, v in roles.items() if v == "lenient"]
    assert severe and lenient
    assert set(severe) | set(lenient) <= named
    r01 = next(r for r in recs if r.evidence["raters"] == severe)
    assert "severe" in r01.title and r01.priority == "high"
    assert r01.evidence["severity_points"][severe[0]] > 0.3  # harsh: planted +0.6
    # the top recommendations are the planted problems, ranked high first
    assert planted_results.recommendations[0].priority == "high"


def test_clean_data_fires_no_problem_rule(clean_results):
    fired = {r.rule for r in clean_results.recommendations}
    assert fired.isdisjoint(PROBLEM_RULES), [r.title for r in clean_results.recommendations]
    # the only thing clean data may produce is the D-study's "fewer raters suffice"
    assert all(
        r.rule == "rater_count" and r.title.startswith("Fewer")
        for r in clean_results.recommendations
    )


@pytest.mark.parametrize(
    ("alpha", "expected"),
    [
        # Krippendorff (2004), Content Analysis 2nd ed., p. 241: alpha >= .800 reliable,
        # .667 <= alpha < .800 tentative conclusions, below .667 discard.
        (0.800, "reliable"),
        (0.7999, "tentative"),
        (0.667, "tentative"),
        (0.6669, "unreliable"),
        (math.nan, "not computed"),
        (None, "not computed"),
    ],
)
def test_verdict_bands_follow_krippendorff(alpha, expected):
    assert verdict(alpha) == expected


def test_rules_are_driven_by_thresholds_only():
    corr = pd.DataFrame({"dimension_a": ["data"], "dimension_b": ["modeling"], "rho": [0.91]})
    assert [r.rule for r in recommend({"correlated": corr})] == ["redundant_dims"]
    assert recommend({"correlated": corr}, {"redundancy_rho": 0.95}) == []
    rare = pd.DataFrame({"dimension": ["data", "data"], "level": [1, 4], "share": [0.01, 0.03]})
    (rec,) = recommend({"rare_levels": rare})
    assert rec.rule == "unused_level" and rec.evidence["levels"] == [1, 4] and rec.priority == "low"


def test_ranking_is_priority_then_magnitude():
    ev = {
        "coverage": {"components": 3},
        "rare_levels": pd.DataFrame({"dimension": ["data"], "level": [1], "share": [0.0]}),
        "correlated": pd.DataFrame(
            {"dimension_a": ["a", "c"], "dimension_b": ["b", "d"], "rho": [0.92, 0.97]}
        ),
    }
    recs = recommend(ev)
    assert [r.rule for r in recs] == [
        "disconnected",
        "redundant_dims",
        "redundant_dims",
        "unused_level",
    ]
    assert recs[1].evidence["rho"] == 0.97  # bigger problem first within a priority


def test_grader_rule_groups_failed_dimensions():
    acc = pd.DataFrame(
        {
            "grader": ["g", "g", "h"],
            "dimension": ["data", "modeling", "data"],
            "passed": [False, True, False],
            "wtkappa": [0.4, 0.8, 0.5],
            "reason": ["kappa", "", "kappa"],
        }
    )
    recs = recommend({"grader_acceptance": acc})
    assert [(r.rule, r.dimension) for r in recs] == [
        ("grader_unfit", "data"),
        ("grader_unfit", "data"),
    ]
    assert "'h' for any dimension" in recs[0].title or "'h' for any dimension" in recs[1].title


def test_anchor_rule_needs_a_standout_dimension():
    pairs = pd.DataFrame(
        {
            "dimension": ["x"] * 3,
            "low": [2.0, 1.0, 3.0],
            "high": [3.0, 2.0, 4.0],
            "count": [6, 3, 1],
            "share_within": [0.6, 0.3, 0.1],
            "share_all": [0.3, 0.15, 0.05],
            "adjacent": [True, True, True],
        }
    )
    quiet = {"confusions": pairs, "excess": pd.DataFrame({"dimension": ["x"], "ratio": [1.2]})}
    loud = {"confusions": pairs, "excess": pd.DataFrame({"dimension": ["x"], "ratio": [2.0]})}
    assert recommend(quiet) == []
    (rec,) = recommend(loud)
    assert "level 2 from 3" in rec.title and rec.evidence["share_of_dimension_disagreements"] == 0.6
    # or: alpha far below the other dimensions'
    agr = pd.DataFrame({"dimension": ["x", "y", "z"], "alpha": [0.40, 0.75, 0.78]})
    assert [r.rule for r in recommend({**quiet, "agreement": agr})] == ["anchor_ambiguity"]
    assert np.isclose(recommend({**quiet, "agreement": agr})[0].evidence["alpha"], 0.40)
