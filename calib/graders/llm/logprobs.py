"""Probability-weighted expected score and confidence from the score token's logprobs.

When the endpoint returns ``top_logprobs`` (OpenAI ``logprobs: true, top_logprobs: k``),
the distribution over the scale at the position of the score token gives

* ``expected_score = sum_s s * p(s)`` -- the probability-weighted score of G-Eval
  (Liu et al. 2023, *G-Eval: NLG Evaluation using GPT-4 with Better Human Alignment*, EMNLP,
  section 2, "scoring function"), a finer-grained score than the sampled integer; and
* ``confidence = p(emitted score)``, with ``p`` renormalised over the scale levels present
  among the top alternatives (``score_mass`` is the probability on scale levels before
  renormalising; a small mass means the judge was not thinking about a score there).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import numpy as np

__all__ = ["score_distribution", "expected_score"]

_DIGITS_RE = re.compile(r"""^[\s"':]*(-?\d+)[\s",}]*$""")


def _token_at(logprobs: Sequence[dict], text: str, offset: int) -> dict | None:
    """The logprob item whose token covers character ``offset`` of ``text``."""
    tokens = [str(item.get("token", "")) for item in logprobs]
    if "".join(tokens) != text:  # tokens do not tile the answer: offsets are meaningless
        return None
    ends = np.cumsum([len(t) for t in tokens])
    idx = int(np.searchsorted(ends, offset, side="right"))
    return logprobs[idx] if idx < len(logprobs) else None


def score_distribution(
    logprobs: Sequence[dict] | None, text: str, offset: int | None, scale_values: Sequence[int]
) -> tuple[np.ndarray, float] | None:
    """Probability of each scale level at the score token, and the mass on the scale.

    Parameters
    ----------
    logprobs : list of dict
        OpenAI ``choices[0].logprobs.content``.
    text : str
        The answer text (the tokens must concatenate to it).
    offset : int
        Character offset of the score's digits in ``text`` (``ParsedScore.span``).
    scale_values : sequence of int
        The rubric scale levels.

    Returns
    -------
    (p, mass) or None
        ``p`` aligned with ``scale_values`` and summing to 1; None when the logprobs do not
        cover the score token or no alternative is a scale level.

    Examples
    --------
    >>> import math
    >>> lp = [{"token": "score=", "logprob": 0.0, "top_logprobs": []},
    ...       {"token": "3", "logprob": math.log(0.6),
    ...        "top_logprobs": [{"token": "3", "logprob": math.log(0.6)},
    ...                         {"token": "4", "logprob": math.log(0.3)},
    ...                         {"token": "x", "logprob": math.log(0.1)}]}]
    >>> p, mass = score_distribution(lp, "score=3", 6, [1, 2, 3, 4])
    >>> [round(float(v), 3) for v in p], round(mass, 3)
    ([0.0, 0.0, 0.667, 0.333], 0.9)
    """
    if not logprobs or offset is None:
        return None
    item = _token_at(logprobs, text, offset)
    if item is None:
        return None
    alternatives = item.get("top_logprobs") or [
        {"token": item.get("token"), "logprob": item.get("logprob")}
    ]
    levels = {int(v): i for i, v in enumerate(scale_values)}
    p = np.zeros(len(levels))
    for alt in alternatives:
        m = _DIGITS_RE.match(str(alt.get("token", "")))
        lp = alt.get("logprob")
        if m is None or lp is None or int(m.group(1)) not in levels:
            continue
        # A tokenizer can list the same digit twice (" 3" and "3"): their probabilities add.
        p[levels[int(m.group(1))]] += math.exp(float(lp))
    mass = float(p.sum())
    if mass <= 0:
        return None
    return p / mass, mass


def expected_score(p: np.ndarray, scale_values: Sequence[int]) -> float:
    """``sum_s s * p(s)``.

    Examples
    --------
    >>> expected_score(np.array([0, 0, 0.5, 0.5]), [1, 2, 3, 4])
    3.5
    """
    return float(np.dot(np.asarray(scale_values, dtype=float), p))
