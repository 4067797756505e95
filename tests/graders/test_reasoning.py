"""Issue 13: the rule grader reads structure, and the vocabulary counterfactuals.

All texts below are hand-written for these tests (not simulator output, not the held-out set).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from calib.graders.rules import RuleGrader
from calib.graders.rules._reasoning import negated_regex, split_units, unit_features
from calib.graders.rules._turns import explode_turns
from calib.graders.vocab import plain_turns, stuff_turns, vocabulary_sensitivity
from calib.rubric import load_rubric

RUBRIC = Path(__file__).resolve().parents[2] / "rubrics" / "ml_interview_v1.yaml"


@pytest.fixture(scope="module")
def rubric():
    return load_rubric(RUBRIC)


@pytest.fixture(scope="module")
def grader(rubric):
    return RuleGrader.from_rubric(rubric)


def _t(tid, *turns):
    sp = {"I": "interviewer", "C": "candidate"}
    return {"transcript_id": tid, "turns": [{"speaker": sp[s], "text": x} for s, x in turns]}


def _grade(grader, rubric, *items):
    res = grader.grade(pd.DataFrame(list(items)), rubric)
    wide = res.ratings.pivot(index="transcript_id", columns="dimension", values="score")
    return wide, res


def _raw(grader, dim, *items):
    raw, _, contrib, ev = grader.raw_scores(pd.DataFrame(list(items)), [dim])
    return raw[dim], contrib[dim], ev


Q = "Design a model that flags fraudulent card payments."


def test_negation_scope_drops_penalty(grader):
    neg = _t(
        "neg",
        ("I", Q),
        (
            "C",
            "A random split would be a mistake here, because fraud "
            "patterns change month to month; I'd hold out the latest month instead.",
        ),
    )
    pos = _t(
        "pos",
        ("I", Q),
        (
            "C",
            "I'd use a random split to make a test set, because it's "
            "easy, and hold out twenty percent of the rows.",
        ),
    )
    _, c, _ = _raw(grader, "evaluation", neg, pos)
    assert c.loc["neg", "weak_validation"] == 0
    assert c.loc["pos", "weak_validation"] < 0
    assert re.search(negated_regex("random split"), "we should not use a random split")
    assert not re.search(negated_regex("random split"), "I'd use a random split here")


def test_bare_keyword_earns_little_reasoned_earns_more(grader):
    bare = _t(
        "bare",
        ("I", Q),
        (
            "C",
            "Precision. Recall. AUC. A/B test. Guardrails. Leakage. "
            "Precision and recall. AUC and an A/B test. Guardrails and leakage and drift. "
            "Offline metrics. Online metrics. Monitoring.",
        ),
    )
    argued = _t(
        "argued",
        ("I", Q),
        (
            "C",
            "I'd report precision at a 1% decline rate, because "
            "declining good customers costs more than a missed fraud, and run an A/B test "
            "so we see the effect on chargebacks; a random split would leak future fraud "
            "rings into training.",
        ),
    )
    raw, c, _ = _raw(grader, "evaluation", bare, argued)
    assert c.loc["bare", "offline_metric"] <= 0.3 / 2 + 1e-9  # one bare credit, capped at 2
    assert raw["argued"] > raw["bare"] + 1.0


def test_buzzword_density_without_reasons_is_negative(grader):
    stuffed = _t(
        "s",
        ("I", Q),
        (
            "C",
            "XGBoost, transformers, embeddings, a feature store, "
            "MLOps, SHAP, drift detection, AUC, F1, precision, recall and an A/B test. "
            "Scalability, latency, interpretability, trade-offs. It depends.",
        ),
    )
    _, c, _ = _raw(grader, "modeling", stuffed)
    assert c.loc["s", "bare_jargon"] == -1.0


def test_interviewer_answer_to_candidate_question_is_not_a_followup(grader, rubric):
    answer = _t(
        "ans",
        ("I", Q),
        ("C", "How long do we have to decide on each payment?"),
        ("I", "About 150 ms end to end, and wrongly declined customers often don't come back."),
        (
            "C",
            "Then I'd precompute velocity features and use a compact tree model because the "
            "budget is tight, and measure recall at a fixed decline rate.",
        ),
    )
    wide, res = _grade(grader, rubric, answer)
    assert np.isnan(wide.loc["ans", "adaptability"])
    reason = res.ratings.set_index("dimension").loc["adaptability", "unscored_reason"]
    assert reason.startswith("no_followup")


def test_followup_without_trigger_words_and_like_i_said_revision(grader, rubric):
    base = (
        "I'd train boosted trees on velocity and device features, because fraud shows up "
        "as combinations, and check on the latest month."
    )
    fu = "The bank's new policy: every decline has to come with a reason we can show the customer."
    good = _t(
        "good",
        ("I", Q),
        ("C", base),
        ("I", fu),
        (
            "C",
            "Like I said, trees flag risk, but I'd move the final decline to a points "
            "scorecard so each clue gives a reason, and I'd measure how much fraud we "
            "lose on the held-out month.",
        ),
    )
    echo = _t(
        "echo",
        ("I", Q),
        ("C", base),
        ("I", fu),
        (
            "C",
            "Good point, every decline needs a reason we can show the customer, so "
            "reasons and policy are important. The rest of the design stays the same.",
        ),
    )
    wide, res = _grade(grader, rubric, good, echo)
    assert wide.loc["good", "adaptability"] >= 3
    assert wide.loc["echo", "adaptability"] == 1
    ev = res.evidence
    assert "handles_followup.ignored" in set(ev[ev.transcript_id == "echo"].signal)


def test_spoken_numbers_count(grader):
    spoken = _t(
        "sp",
        ("I", Q),
        ("C", "The check has to finish in forty milliseconds, so I'd cache the features."),
    )
    _, c, _ = _raw(grader, "tradeoffs", spoken)
    assert c.loc["sp", "quantified"] > 0
    f = unit_features(pd.DataFrame({"text": ["keep it under thirty milliseconds"]}))
    assert f["numbers"].iloc[0] > 0 and bool(f["qualified"].iloc[0])


def test_fillers_never_cost_content_points(grader, rubric):
    clean = (
        "I'd hold out the latest month because fraud changes, and report recall at a 1% "
        "decline rate."
    )
    filled = (
        "um so I'd, uh, hold out the latest month because, you know, fraud changes, and "
        "like report recall at a 1% decline rate."
    )
    a = _t("clean", ("I", Q), ("C", clean + " " + clean))
    b = _t("filled", ("I", Q), ("C", filled + " " + filled))
    wide, _ = _grade(grader, rubric, a, b)
    for d in ("evaluation", "communication", "data", "tradeoffs"):
        assert wide.loc["filled", d] >= wide.loc["clean", d], d


def test_candidate_words_only(grader):
    # the interviewer saying every buzzword earns the candidate nothing
    t = _t(
        "iv",
        ("I", "Think about latency, trade-offs, A/B tests, precision, recall and leakage."),
        ("C", "I would train a model on the data we have and ship it."),
    )
    raw, c, ev = _raw(grader, "evaluation", t)
    assert c.loc["iv", ["offline_metric", "online_test", "pitfalls"]].sum() == 0


def test_evidence_offsets_point_into_turn_text(grader, rubric):
    t = _t(
        "ev",
        ("I", Q),
        (
            "C",
            "First, what is the goal? Second: I'd hold out the latest "
            "month because fraud drifts. A random split would leak.",
        ),
    )
    _, res = _grade(grader, rubric, t)
    ev = res.evidence[res.evidence.start >= 0]
    turns = explode_turns(pd.DataFrame([t])).set_index("turn_index")["text"]
    assert len(ev) > 0
    for r in ev.itertuples():
        assert turns[r.turn_index][r.start : r.end].lower() == str(r.span_text).lower()


def test_split_units_offsets():
    t = explode_turns(pd.DataFrame([_t("u", ("C", "One. Two is 0.6 e.g. this; three?"))]))
    u = split_units(t)
    for r in u.itertuples():
        assert t.loc[0, "text"][r.offset : r.offset + len(r.text)] == r.text
    assert len(u) == 3


def test_counterfactual_edits():
    t = pd.DataFrame([_t("a", ("I", Q), ("C", "I'd check latency with an A/B test."))])
    assert "trade-offs" in stuff_turns(t).turns[0][1]["text"]
    assert stuff_turns(t).turns[0][0]["text"] == Q  # interviewer untouched
    p = plain_turns(t).turns[0][1]["text"]
    assert "latency" not in p.lower() and "a/b" not in p.lower()


def test_vocabulary_sensitivity_separates_word_counting_from_reasoning(grader, rubric):
    class WordCounter:
        """A grader that scores the number of buzzwords: the counterfactual must catch it."""

        def grade(self, transcripts, rubric):
            rows = []
            for tid, turns in zip(transcripts.transcript_id, transcripts.turns):
                text = " ".join(x["text"] for x in turns if x["speaker"] == "candidate")
                n = len(re.findall(r"(?i)latency|a/b|auc|trade-off|xgboost|embedding", text))
                for d in rubric.dimension_ids:
                    rows.append((tid, d, float(min(4, 1 + n))))
            from types import SimpleNamespace

            return SimpleNamespace(
                ratings=pd.DataFrame(rows, columns=["transcript_id", "dimension", "score"])
            )

    weak = _t(
        "w",
        ("I", Q),
        (
            "C",
            "I'd use a model. It should be fine. That's about it, I think, more or less. "
            "We just train it on the data we have and ship it, and then see what happens.",
        ),
    )
    strong = _t(
        "s",
        ("I", Q),
        (
            "C",
            "Latency is 50 ms so I'd use XGBoost rather than "
            "embeddings, check AUC on the latest month because fraud drifts, then an A/B "
            "test; the trade-off is recall.",
        ),
    )
    t = pd.DataFrame([weak, strong])
    expert = pd.DataFrame({d: [1.0, 4.0] for d in rubric.dimension_ids}, index=["w", "s"])
    bad = vocabulary_sensitivity(WordCounter(), t, rubric, expert=expert, n_boot=200)
    b = bad.set_index(["counterfactual", "dimension"])["mean_change"]
    assert b[("stuffing", "all")] >= 2 and b[("plain", "all")] <= -2
    good = vocabulary_sensitivity(grader, t, rubric, expert=expert, n_boot=200)
    g = good.set_index(["counterfactual", "dimension"])["mean_change"]
    assert g[("stuffing", "all")] <= 0.5 and g[("plain", "all")] >= -0.5
    assert set(good.columns) == {
        "counterfactual",
        "dimension",
        "N",
        "mean_change",
        "ci_low",
        "ci_high",
    }
