"""Assemble SYNTHETIC interview transcripts whose content reflects the latent true levels."""

from __future__ import annotations

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
        ("question", ["open", "problem_framing", "structure", "data", "modeling", "tradeoffs", "evaluation"]),
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
_N_DRAWS = 64  # independent uniform draws per transcript for wording choices


@lru_cache(maxsize=1)
def load_phrases() -> dict:
    """The packaged phrase banks (``calib/simulate/phrases.yaml``), parsed once."""
    text = resources.files("calib.simulate").joinpath("phrases.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def question_ids() -> list[str]:
    """Question ids in bank order, e.g. ``['q-recsys', 'q-fraud', ...]``."""
    return list(load_phrases()["questions"])


def _bank(phrases: dict, item: str, level: int) -> list[str]:
    dims = phrases["dimensions"]
    if item in ("open", "close"):
        return dims["communication"][item][level]
    return dims[item][level]


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
    fillers = phrases["fillers"]
    interviewer = phrases["interviewer"]
    n = len(question_idx)
    dim_col = {d: j for j, d in enumerate(dimensions)}
    comm = dim_col["communication"]

    # All randomness drawn up front, vectorised; the loop below only indexes into it.
    n_exchanges = rng.integers(2, _MAX_EXCHANGES + 1, size=n)
    constraint_idx = rng.integers(0, 1 << 30, size=n)
    draws = rng.integers(0, 1 << 30, size=(n, _N_DRAWS))
    # Expected fillers per candidate turn grows with verbosity (log-linear), not with skill.
    n_fill = rng.poisson(0.8 * np.exp(0.9 * verbosity)[:, None], size=(n, _MAX_EXCHANGES))
    fill_pick = rng.integers(0, len(fillers), size=(n, _MAX_EXCHANGES, _MAX_FILL))
    words_per_s = rng.uniform(2.0, 3.2, size=n)

    out: list[list[dict]] = []
    constraints_used = np.empty(n, dtype=np.int64)
    for i in range(n):
        q = questions[question_idx[i]]
        ci = constraint_idx[i] % len(q["constraints"])
        constraints_used[i] = ci
        slots = {**q["slots"], **{k: v for k, v in q["constraints"][ci].items() if k != "ask"}}
        slots["constraint_short"] = q["constraints"][ci]["short"]
        d = draws[i]
        k = 0  # next unused draw
        turns: list[dict] = []
        t = 0.0
        for ex, (prompt_kind, items) in enumerate(_LAYOUTS[int(n_exchanges[i])]):
            if prompt_kind == "question":
                prompt = q["prompts"][d[k] % len(q["prompts"])]
            elif prompt_kind == "constraint":
                ack = interviewer["acknowledge"][d[k] % len(interviewer["acknowledge"])]
                prompt = f"{ack} {q['constraints'][ci]['ask']}"
            else:
                prompt = interviewer[prompt_kind][d[k] % len(interviewer[prompt_kind])]
            k += 1
            turns.append({"speaker": "interviewer", "text": prompt, "start_s": float(round(t, 1))})
            t += len(prompt.split()) / 2.5 + 1.0
            sentences = []
            for item in items:
                col = comm if item in ("open", "close") else dim_col[item]
                bank = _bank(phrases, item, int(levels[i, col]))
                sentences.append(bank[d[k] % len(bank)].format(**slots))
                k += 1
            # Fillers are spliced in at draw-chosen positions, never changing the content order.
            for f in range(min(int(n_fill[i, ex]), _MAX_FILL)):
                pos = d[k] % (len(sentences) + 1)
                k += 1
                sentences.insert(pos, fillers[fill_pick[i, ex, f]])
            text = " ".join(s[0].upper() + s[1:] for s in sentences)
            turns.append({"speaker": "candidate", "text": text, "start_s": float(round(t, 1))})
            t += len(text.split()) / words_per_s[i] + 1.5
        out.append(turns)
    return out, constraints_used
