"""Vocabulary sensitivity: does a grader score reasoning, or the words reasoning is usually in?

Two counterfactual edits of the candidate's turns, applied to any grader (rules, trained, LLM --
anything with ``grade(transcripts, rubric)``):

* **stuffing** -- weak answers get buzzwords inserted (model, metric and process names, "it
  depends on the trade-offs", "to clarify the business objective") with no reason attached.
  A grader that reads reasoning should not move: the content is unchanged.
* **plain rewording** -- strong answers have their jargon replaced by plain words ("A/B test"
  -> "try it on a share of real users and compare", "latency" -> "response time"). The
  reasoning is unchanged, so the score should not drop.

For every transcript the grader scores the original and the edited text; the result is the mean
score change per dimension (edited - original) with a percentile bootstrap CI over
transcripts. ``calib validate-grader --vocab`` turns it into the named criteria
``max_stuffing_gain`` and ``max_plain_loss`` (see ``docs/graders.md``).

The edits are deterministic (seeded) and use their own word lists, written independently of
the rule grader's signals.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from calib.errors import DataValidationError

__all__ = ["stuff_turns", "plain_turns", "vocabulary_sensitivity", "STUFFING", "PLAIN"]

#: Buzzword sentences inserted by the stuffing edit ({0}..{5} drawn from ``_BUZZ``).
STUFFING = (
    "To clarify the business objective and success metrics, we'd use {0}, {1} and {2}.",
    "It depends on the trade-offs between {3} and {4}, with {5} as well.",
    "We would also leverage {1}, {4} and a feature store, with monitoring for data drift.",
    "For evaluation, precision, recall, AUC and an A/B test with guardrail metrics.",
)
_BUZZ = (
    "XGBoost",
    "transformers",
    "embeddings",
    "a two-tower model",
    "gradient boosting",
    "deep learning",
    "latency",
    "scalability",
    "interpretability",
    "cross-validation",
    "NDCG",
    "feature engineering",
    "data leakage checks",
    "class imbalance handling",
    "knowledge distillation",
    "a time-based split",
    "cold-start handling",
    "MLOps",
)

#: Jargon -> plain words (case-insensitive, word-bounded). Order matters: longer first.
PLAIN: tuple[tuple[str, str], ...] = (
    (
        r"an a/b test|an ab test|an online experiment|a/b tests?|ab tests?|a/b experiments?|online experiments?",
        "a trial on a share of real users",
    ),
    (r"guardrail metrics?|guardrails?", "safety checks"),
    (r"trade-offs?|tradeoffs?|trade offs?", "what we give up"),
    (r"success metrics?", "measure of success"),
    (r"business objectives?|business goals?|objectives?", "aim"),
    (r"ndcg(?:@\d+)?|mean reciprocal rank|mrr", "how well the top results are ordered"),
    (r"precision", "how often our flags are right"),
    (r"recall", "how much of it we catch"),
    (r"auc|roc|pr-auc|pr auc", "how well it separates the two"),
    (r"f1(?: score)?", "a balance of right flags and catches"),
    (r"latency", "response time"),
    (r"throughput|qps", "load"),
    (r"baselines?", "simple first version"),
    (r"data leakage|leakage|leaks?", "information from the future slipping in"),
    (
        r"time-based split|temporal split|split by time",
        "training on older data and checking on newer",
    ),
    (r"cross-validation|cross validation", "checking on several held-back parts"),
    (r"hold-?out sets?|held-out (?:data|set)", "data kept aside"),
    (
        r"gradient[- ]boosted (?:trees?|models?|ranker)|gbdt|xgboost|lightgbm|lambdamart",
        "a tree-based model",
    ),
    (r"logistic regression", "a simple weighted score"),
    (r"two-tower (?:model|retrieval)|embeddings?", "learned similarity"),
    (r"feature stores?", "a precomputed lookup table"),
    (r"features?", "inputs"),
    (r"labels?", "known answers"),
    (r"cold[- ]start", "brand-new users or items"),
    (r"overfitting|overfit", "learning noise"),
    (r"feedback loops?", "the model learning from its own choices"),
    (r"class imbalance|imbalanced", "very few positive cases"),
    (r"distillation|distil\w*", "a smaller copy of the model"),
    (r"cach(?:e|ing)", "keeping results ready"),
    (r"drift", "change over time"),
    (r"offline", "on past data"),
    (r"online", "live"),
    (r"p99", "slowest one in a hundred"),
    (r"constraints?", "limits"),
)
_PLAIN_RX = [(re.compile(rf"(?i)\b(?:{a})\b"), b) for a, b in PLAIN]


def _candidate_map(transcripts: pd.DataFrame, fn) -> pd.DataFrame:
    out = transcripts.copy()
    out["turns"] = [
        [
            {**t, "text": fn(t.get("text") or "", i, k)} if t.get("speaker") == "candidate" else t
            for k, t in enumerate(turns)
        ]
        for i, turns in enumerate(transcripts["turns"])
    ]
    return out


def stuff_turns(transcripts: pd.DataFrame, *, seed: int = 0) -> pd.DataFrame:
    """Insert buzzword sentences (no reasons) after the first sentence of every candidate turn.

    Example
    -------
    >>> t = pd.DataFrame({"transcript_id": ["a"], "turns": [[
    ...     {"speaker": "candidate", "text": "I'd use a model. That's it."}]]})
    >>> "business objective" in stuff_turns(t).turns[0][0]["text"]
    True
    """
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(_BUZZ), size=(len(transcripts), 64, 6))

    def edit(text: str, i: int, k: int) -> str:
        p = [_BUZZ[j] for j in picks[i, k % 64]]
        extra = " ".join(s.format(*p) for s in (STUFFING[k % 2], STUFFING[2 + k % 2]))
        parts = re.split(r"(?<=[.!?])\s+", text.strip(), maxsplit=1)
        return " ".join([parts[0], extra, *parts[1:]]).strip()

    return _candidate_map(transcripts, edit)


def plain_turns(transcripts: pd.DataFrame) -> pd.DataFrame:
    """Replace jargon in candidate turns with plain words (``PLAIN``); reasoning unchanged.

    Example
    -------
    >>> t = pd.DataFrame({"transcript_id": ["a"], "turns": [[
    ...     {"speaker": "candidate", "text": "Latency matters, so an A/B test with guardrails."}]]})
    >>> plain_turns(t).turns[0][0]["text"]
    'response time matters, so a trial on a share of real users with safety checks.'
    """

    def edit(text: str, i: int, k: int) -> str:
        for rx, repl in _PLAIN_RX:
            text = rx.sub(repl, text)
        return text

    return _candidate_map(transcripts, edit)


def _wide(ratings: pd.DataFrame) -> pd.DataFrame:
    return ratings.pivot_table(
        index="transcript_id", columns="dimension", values="score", aggfunc="mean", dropna=False
    )


def vocabulary_sensitivity(
    grader: Any,
    transcripts: pd.DataFrame,
    rubric: Any,
    *,
    expert: pd.DataFrame | None = None,
    weak_max: float = 2.0,
    strong_min: float = 3.0,
    n_boot: int = 1000,
    ci: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """Mean score change per dimension under the stuffing and plain-rewording edits.

    Parameters
    ----------
    grader : Grader
        Anything with ``grade(transcripts, rubric)`` returning long ratings.
    transcripts : pandas.DataFrame
        ``transcript_id`` and ``turns``.
    rubric : Rubric
    expert : pandas.DataFrame, optional
        Reference scores, wide (index ``transcript_id``, one column per dimension), e.g. the
        human consensus. Weak transcripts have a mean reference score ``<= weak_max``, strong
        ones ``>= strong_min``. Without it the grader's own scores of the originals are used.
    n_boot, ci, seed
        Percentile bootstrap over transcripts (seeded).

    Returns
    -------
    pandas.DataFrame
        ``counterfactual`` (``stuffing`` / ``plain``), ``dimension`` (and ``all``: the mean over
        dimensions per transcript), ``N``, ``mean_change`` (edited - original, in scale
        levels), ``ci_low``, ``ci_high``.

    Notes
    -----
    For transcript i and dimension d, change_id = s(edit(x_i))_d - s(x_i)_d, over transcripts
    scored both times; mean and percentile CI of the mean from ``n_boot`` resamples of
    transcripts. A grader that reads reasoning has stuffing change <= 0 and plain change >= 0
    up to noise (a deterministic grader has no noise).
    """
    if "transcript_id" not in transcripts or "turns" not in transcripts:
        raise DataValidationError("vocabulary_sensitivity: transcripts need transcript_id, turns")
    transcripts = transcripts.reset_index(drop=True)
    dims = list(rubric.dimension_ids)
    base = _wide(grader.grade(transcripts, rubric).ratings).reindex(columns=dims)
    ids = transcripts["transcript_id"].astype(str)
    ref = expert.reindex(columns=dims) if expert is not None else base
    ref_mean = ref.reindex(ids).mean(axis=1)
    rows = []
    rng = np.random.default_rng(seed)
    for name, mask, edit in (
        ("stuffing", ref_mean <= weak_max, lambda t: stuff_turns(t, seed=seed)),
        ("plain", ref_mean >= strong_min, plain_turns),
    ):
        sel = transcripts[mask.to_numpy()]
        if len(sel) == 0:
            for d in [*dims, "all"]:
                rows.append((name, d, 0, np.nan, np.nan, np.nan))
            continue
        after = _wide(grader.grade(edit(sel), rubric).ratings).reindex(columns=dims)
        sid = sel["transcript_id"].astype(str)
        change = after.reindex(sid) - base.reindex(sid)
        change["all"] = change[dims].mean(axis=1)
        for d in [*dims, "all"]:
            x = change[d].dropna().to_numpy(float)
            if len(x) == 0:
                rows.append((name, d, 0, np.nan, np.nan, np.nan))
                continue
            reps = x[rng.integers(0, len(x), size=(n_boot, len(x)))].mean(axis=1)
            lo, hi = np.percentile(reps, [50 * (1 - ci), 50 * (1 + ci)])
            rows.append((name, d, len(x), float(x.mean()), float(lo), float(hi)))
    return pd.DataFrame(
        rows, columns=["counterfactual", "dimension", "N", "mean_change", "ci_low", "ci_high"]
    )
