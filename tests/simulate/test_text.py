"""SYNTHETIC transcript text: content follows the true level, length does not."""

from __future__ import annotations

import re

import numpy as np
import pytest

from calib.simulate._text import load_phrases


def _candidate_text(turns) -> str:
    return " ".join(t["text"] for t in turns if t["speaker"] == "candidate")


@pytest.fixture(scope="module")
def frame(big_ds):
    levels = big_ds.true_scores.assign(
        level=np.clip(np.floor(big_ds.true_scores["true_score"] + 0.5), 1, 4).astype(int)
    ).pivot(index="transcript_id", columns="dimension", values="level")
    t = big_ds.transcripts.set_index("transcript_id")
    out = levels.join(t[["question_id", "turns"]])
    out["cand"] = out["turns"].map(_candidate_text)
    return out


def test_length_is_not_a_proxy_for_quality(big_ds):
    mean_true = (
        big_ds.true_scores.groupby("transcript_id", sort=False)["true_score"].mean().to_numpy()
    )
    turns = big_ds.transcripts["turns"]
    cand_words = turns.map(lambda ts: len(_candidate_text(ts).split())).to_numpy()
    all_words = turns.map(lambda ts: sum(len(t["text"].split()) for t in ts)).to_numpy()
    assert abs(np.corrcoef(cand_words, mean_true)[0, 1]) < 0.3
    assert abs(np.corrcoef(all_words, mean_true)[0, 1]) < 0.3
    # ...while verbosity really does vary the length.
    assert cand_words.std() / cand_words.mean() > 0.15


def _norm(text: str) -> str:
    # The generator fixes "a item-to-item" to "an item-to-item"; compare modulo the article.
    return re.sub(r"\ban\b", "a", text.lower())


def _formatted(bank_level: list[str], slots: dict) -> list[str]:
    return [s.format(**slots) for s in bank_level]


def test_each_dimension_uses_its_true_level_bank(frame):
    """Every dimension's sentence comes from its true level's bank, never another level's."""
    phrases = load_phrases()
    sample = frame.iloc[:300]
    for _, row in sample.iterrows():
        q = phrases["questions"][row["question_id"]]
        text = _norm(row["cand"])
        for dim in ["problem_framing", "structure", "data", "modeling", "evaluation", "tradeoffs"]:
            hits = {}
            for level in (1, 2, 3, 4):
                sents = set()
                for c in q["constraints"]:
                    slots = {
                        **q["slots"],
                        **{k: v for k, v in c.items() if k != "ask"},
                        "constraint_short": c["short"],
                    }
                    sents |= {
                        _norm(s) for s in _formatted(phrases["dimensions"][dim][level], slots)
                    }
                hits[level] = any(s in text for s in sents)
            assert hits[row[dim]], (dim, row[dim])
            assert sum(hits.values()) == 1, (dim, hits)


def test_strong_framers_restate_and_ask_weak_jump_to_model(frame):
    strong = frame[frame["problem_framing"] == 4]["cand"]
    weak = frame[frame["problem_framing"] == 1]["cand"]
    assert strong.str.contains("latency").mean() > 0.6
    assert strong.str.contains(r"restate|objective").mean() > 0.9
    assert weak.str.contains(r"restate|objective").mean() < 0.1
    assert weak.str.contains(r"model").all()


def test_strong_evaluation_mentions_ab_tests_and_leakage(frame):
    strong = frame[frame["evaluation"] == 4]["cand"].str.lower()
    weak = frame[frame["evaluation"] == 1]["cand"].str.lower()
    online = r"a/b test|interleaving|shadow deployment|holdout-controlled"
    assert strong.str.contains(online).mean() > 0.95
    assert strong.str.contains("leakage").mean() > 0.95
    assert (
        weak.str.contains(r"accuracy on a test set|training loss|example predictions").mean() > 0.95
    )


def test_followup_constraint_and_adaptability(frame):
    phrases = load_phrases()
    ok_strong, ok_weak = [], []
    for _, row in frame.iterrows():
        q = phrases["questions"][row["question_id"]]
        asks = [
            c
            for c in q["constraints"]
            if any(c["ask"] in t["text"] for t in row["turns"] if t["speaker"] == "interviewer")
        ]
        assert len(asks) == 1  # exactly one follow-up constraint is asked
        change = asks[0]["change"]
        if row["adaptability"] == 4:
            ok_strong.append(change in row["cand"])
        elif row["adaptability"] == 1:
            ok_weak.append(change not in row["cand"])
    assert all(ok_strong) and all(ok_weak) and ok_strong and ok_weak


def test_first_turn_is_the_question(frame):
    phrases = load_phrases()
    for _, row in frame.iloc[:500].iterrows():
        assert row["turns"][0]["speaker"] == "interviewer"
        assert row["turns"][0]["text"] in phrases["questions"][row["question_id"]]["prompts"]


def test_wording_varies(frame):
    # Not one template: many distinct candidate answers even within one question.
    recsys = frame[frame["question_id"] == "q-recsys"]["cand"]
    assert recsys.nunique() == len(recsys)
