"""Assemble SYNTHETIC interview transcripts whose content reflects the latent true levels."""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

import numpy as np
import yaml

__all__ = ["load_phrases", "question_ids", "assemble_turns"]

# Candidate turns by number of exchanges (interviewer prompt kind, candidate content). Content
# items are dimension ids plus the two communication moves ("open" signposting, "close" recap).
# Every layout shows evidence for every dimension, so the number of turns (like verbosity)
# does not depend on skill.
_LAYOUTS: dict[int, list[tuple[str, list[str]]]] = {
    2: [
        (
            "question",
            ["open", "problem_framing", "structure", "data", "modeling", "tradeoffs", "evaluation"],
        ),
        ("constraint", ["adaptability", "close"]),
    ],
    3: [
        ("question", ["open", "problem_framing", "structure", "data"]),
        ("modeling", ["modeling", "tradeoffs", "evaluation"]),
        ("constraint", ["adaptability", "close"]),
    ],
    4: [
        ("question", ["open", "problem_framing", "structure", "data"]),
        ("modeling", ["modeling", "tradeoffs", "evaluation"]),
        ("constraint", ["adaptability"]),
        ("wrapup", ["close"]),
    ],
    5: [
        ("question", ["open", "problem_framing", "structure", "data"]),
        ("modeling", ["modeling", "tradeoffs"]),
        ("evaluation", ["evaluation"]),
        ("constraint", ["adaptability"]),
        ("wrapup", ["close"]),
    ],
}
_MAX_EXCHANGES = max(_LAYOUTS)
_MAX_FILL = 6  # filler sentences per candidate turn, at most
_N_DRAWS = 48  # >= 5 prompts + 9 content sentences + 5 x _MAX_FILL filler positions


@lru_cache(maxsize=1)
def load_phrases() -> dict:
    """The packaged phrase banks (``calib/simulate/phrases.yaml``), parsed once."""
    text = resources.files("calib.simulate").joinpath("phrases.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def question_ids() -> list[str]:
    """Question ids in bank order, e.g. ``['q-recsys', 'q-fraud', ...]``."""
    return list(load_phrases()["questions"])


def assemble_turns(
    question_idx: np.ndarray,
    levels: np.ndarray,
    dimensions: tuple[str, ...],
    verbosity: np.ndarray,
    rng: np.random.Generator,
) -> tuple[list[list[dict]], np.ndarray]:
    """Build the turns of every transcript.

    Parameters
    ----------
    question_idx : ndarray of int, shape (n,)
        Row in :func:`question_ids`.
    levels : ndarray of int, shape (n, D)
        True level per dimension, ``clip(round(theta), 1, 4)``; picks the phrase bank.
    dimensions : tuple of str
        Column order of ``levels``.
    verbosity : ndarray, shape (n,)
        Standard-normal verbosity; sets how many quality-neutral filler sentences appear.
    rng : numpy.random.Generator

    Returns
    -------
    turns : list of list of dict
        ``{"speaker", "text", "start_s"}`` per turn; the first interviewer turn asks the question.
    constraint_idx : ndarray of int
        Which follow-up constraint of the question was asked.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> turns, _ = assemble_turns(np.array([0]), np.full((1, 8), 3), tuple(
    ...     load_phrases()["dimensions"]), np.zeros(1), rng)
    >>> turns[0][0]["speaker"], turns[0][1]["speaker"]
    ('interviewer', 'candidate')
    """
    phrases = load_phrases()
    questions = list(phrases["questions"].values())
    fillers = [(f, len(f.split()), False) for f in phrases["fillers"]["anywhere"]]
    fillers += [(f, len(f.split()), True) for f in phrases["fillers"]["opening"]]
    interviewer = phrases["interviewer"]
    n = len(question_idx)
    dim_col = {d: j for j, d in enumerate(dimensions)}
    item_col = {**dim_col, "open": dim_col["communication"], "close": dim_col["communication"]}
    banks = _formatted_banks(phrases)

    # All randomness drawn up front, vectorised; the loop below only indexes into it.
    n_exchanges = rng.integers(2, _MAX_EXCHANGES + 1, size=n)
    constraint_idx = rng.integers(0, 1 << 30, size=n)
    draws = rng.integers(0, 1 << 30, size=(n, _N_DRAWS))
    # Expected fillers per candidate turn grows with verbosity (log-linear), not with skill.
    n_fill = rng.poisson(0.8 * np.exp(0.9 * verbosity)[:, None], size=(n, _MAX_EXCHANGES))
    # A random order of the filler bank per transcript: no filler repeats until all are used.
    fill_order = np.argsort(rng.random((n, len(fillers))), axis=1, kind="stable")
    words_per_s = rng.uniform(2.0, 3.2, size=n)
    n_fill = np.minimum(n_fill, _MAX_FILL).tolist()
    fill_order = fill_order.tolist()
    draws = draws.tolist()
    levels = np.asarray(levels).tolist()
    question_idx = np.asarray(question_idx).tolist()
    n_exchanges = n_exchanges.tolist()
    words_per_s = words_per_s.tolist()
    constraints_used = [
        c % len(questions[q]["constraints"]) for q, c in zip(question_idx, constraint_idx.tolist())
    ]

    out: list[list[dict]] = []
    for i in range(n):
        q = questions[question_idx[i]]
        ci = constraints_used[i]
        bank = banks[question_idx[i]][ci]
        lv = levels[i]
        d = draws[i]
        k = 0  # next unused draw
        used = 0  # fillers used so far in this transcript
        order = fill_order[i]
        turns: list[dict] = []
        t = 0.0
        for ex, (prompt_kind, items) in enumerate(_LAYOUTS[n_exchanges[i]]):
            if prompt_kind == "question":
                prompt = q["prompts"][d[k] % len(q["prompts"])]
            elif prompt_kind == "constraint":
                ack = interviewer["acknowledge"][d[k] % len(interviewer["acknowledge"])]
                prompt = f"{ack} {q['constraints'][ci]['ask']}"
            else:
                prompt = interviewer[prompt_kind][d[k] % len(interviewer[prompt_kind])]
            k += 1
            turns.append({"speaker": "interviewer", "text": prompt, "start_s": round(t, 1)})
            t += prompt.count(" ") / 2.5 + 1.4  # words / 2.5 words per s + a 1 s pause
            sentences = []
            n_words = 0
            for item in items:
                variants = bank[item][lv[item_col[item]]]
                text, words = variants[d[k] % len(variants)]
                sentences.append(text)
                n_words += words
                k += 1
            # Fillers are spliced in at draw-chosen positions, never changing the content order.
            openers = 0
            for _ in range(n_fill[i][ex]):
                text, words, opening = fillers[order[used % len(order)]]
                used += 1
                if opening:  # "That's a good question." belongs before the content
                    sentences.insert(0, text)
                    openers += 1
                else:
                    sentences.insert(openers + d[k] % (len(sentences) - openers + 1), text)
                n_words += words
                k += 1
            turns.append(
                {"speaker": "candidate", "text": " ".join(sentences), "start_s": round(t, 1)}
            )
            t += n_words / words_per_s[i] + 1.5
        out.append(turns)
    return out, np.asarray(constraints_used, dtype=np.int64)


def _formatted_banks(phrases: dict) -> list[list[dict[str, dict[int, list[tuple[str, int]]]]]]:
    """Every sentence template filled in and capitalised, per question and constraint.

    Done once (5 questions x 2 constraints) instead of once per transcript: the per-transcript
    loop then only indexes strings, which keeps 100,000 transcripts to a few seconds.
    """
    items = [d for d in phrases["dimensions"] if d != "communication"]
    out = []
    for q in phrases["questions"].values():
        per_constraint = []
        for c in q["constraints"]:
            slots = {
                **q["slots"],
                **{k: v for k, v in c.items() if k != "ask"},
                "constraint_short": c["short"],
            }
            filled = {}
            for item in items + ["open", "close"]:
                levels = (
                    phrases["dimensions"]["communication"][item]
                    if item in ("open", "close")
                    else phrases["dimensions"][item]
                )
                filled[item] = {
                    int(lvl): [_with_words(_capitalise(v.format(**slots))) for v in variants]
                    for lvl, variants in levels.items()
                }
            per_constraint.append(filled)
        out.append(per_constraint)
    return out


def _with_words(sentence: str) -> tuple[str, int]:
    return sentence, len(sentence.split())


_A_BEFORE_VOWEL = re.compile(r"\b([Aa]) (?=[aeioAEIO])")  # not "u": "a user"


def _capitalise(sentence: str) -> str:
    # Slots are filled into "a {model_simple}": fix the article for vowel-initial names.
    sentence = _A_BEFORE_VOWEL.sub(r"\1n ", sentence)
    return sentence[0].upper() + sentence[1:]
