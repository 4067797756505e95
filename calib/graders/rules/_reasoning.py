"""Reading structure, not vocabulary: sentence units, reasoning markers, negation and hedging.

The rule grader of engine version 3 no longer scores a candidate turn as one bag of words.
Each candidate turn is split into **units** (sentences; a long spoken run without full stops
stays one unit) and every unit gets:

* ``markers`` -- reasoning markers: a reason ("because", "since", "so that", "otherwise",
  "to avoid"), a consequence ("which means", "would leak", "ends up"), a comparison ("than",
  "rather than", "instead of", "beats", "cheaper") or a number, written or spoken ("30 ms",
  "thirty milliseconds", "five percent", "a third", "half");
* ``jargon`` -- hits of a fixed list of ML buzzwords (model, metric and process names);
* ``qualified`` -- the unit gives a reason, consequence, comparison or number for what it
  names: ``markers >= 1`` and, in a list-like unit, at least one marker per four buzzwords
  ("XGBoost, transformers, embeddings, a feature store and MLOps because it scales" is a list,
  not an argument);
* ``hedged`` -- the unit hedges its claim ("maybe", "perhaps", "I guess", "not sure").

Rules with ``evidence: reasoned`` give full credit to a match in a qualified unit and
``BARE_CREDIT`` to a bare keyword; ``negation: drop`` drops a match whose clause negates it
("I would *not* use a random split", "a random split *would be a mistake*"). Fillers ("um",
"you know", "like") are never evidence of anything: they are neither markers nor penalties.

All lists are module constants (part of the engine version, hence of every rule grader's
``rater_id``); they were written from ordinary English and the interview domain.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "BARE_CREDIT",
    "HEDGE_CREDIT",
    "NUMBER_RX",
    "split_units",
    "unit_features",
    "negated_regex",
]

#: Credit of a keyword in a unit without a reason, consequence, comparison or number.
BARE_CREDIT = 0.3
#: Multiplier of a positive match in a hedged unit ("maybe add some content features").
HEDGE_CREDIT = 0.5

_NUM_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|"
    "forty|fifty|sixty|seventy|eighty|ninety|hundred|hundreds|thousand|thousands|million|"
    "millions|billion|dozen|half|third|quarter|double|twice|triple"
)
#: A number, written ("30", "0.6", "10x", "2-3") or spoken ("thirty", "five percent", "a third").
NUMBER_RX = rf"(?i)(?:\d|\b(?:{_NUM_WORDS})\b|\bper ?cent\b)"

_REASON = (
    r"because|cause|since|so that|so we|so the|so it|so i|so a|so they|so there|so our|so no|"
    r"so only|so each|so every|so those|so this|so that's|so you|so new|"
    r"in order to|to avoid|to make sure|to keep|to prevent|to stop|to catch|to check|"
    r"otherwise|due to|as a result|the reason|that's why|which is why|that is why|"
    r"given that|given the|unless|which means|that means|this means|meaning|"
    r"would leak|leaks|would hurt|would miss|would hide|would flatter|would inflate|"
    r"would break|would lose|would mean|would cost|ends? up|leads? to|results? in|"
    r"causes?|then the|then we|then i|if we|if the|if it|if a|if they|if you|"
    r"for example|for instance|e\.g\.|such as|like when|only if|as long as|so we're"
)
_COMPARE = (
    r"than|rather than|instead of|instead|compared (?:to|with)|against|beats?|beat|"
    r"outperforms?|better|worse|cheaper|faster|slower|harder|easier|smaller|larger|bigger|"
    r"more expensive|less|fewer|at the cost of|at the expense of|give up|gives up|"
    r"we lose|lose some|lose a|costs? (?:more|less|us)|in exchange|worth"
)
_MARKER_RX = rf"(?i)\b(?:{_REASON}|{_COMPARE})\b"

_HEDGE_RX = (
    r"(?i)\b(?:maybe|perhaps|i guess|i suppose|i'm not sure|i am not sure|not sure|"
    r"or something|something like that|kind of|sort of|i don't know|no idea|hopefully)\b"
)

#: ML buzzwords: naming one is not evidence; a unit full of them without reasons is stuffing.
JARGON = (
    "xgboost|lightgbm|catboost|gradient[- ]boost\\w*|random forests?|transformers?|bert|"
    "roberta|gpt\\w*|llms?|large language models?|lstms?|rnns?|cnns?|resnet\\w*|efficientnet|"
    "yolo|vision transformers?|gnns?|graph neural networks?|deep learning|neural net\\w*|"
    "embeddings?|two[- ]tower|lambdamart|arima|prophet|deepar|n-beats|"
    "temporal fusion transformer|ensembl\\w*|smote|transfer learning|fine[- ]tun\\w*|"
    "zero[- ]shot|distill\\w*|quantiz\\w*|precision|recall|f1|auc|pr[- ]auc|roc|ndcg\\w*|"
    "mae|rmse|mape|log[- ]loss|accuracy|confusion matrix|top-k|a/b test\\w*|ab test\\w*|"
    "a/b testing|guardrails?(?: metrics?)?|feature stores?|feature engineering|"
    "data pipelines?|pipeline|data quality|data drift|concept drift|drift detection|drift|"
    "monitoring|mlops|ci/cd|kubernetes|microservices?|scalab\\w*|low[- ]latency|latency|"
    "throughput|interpretab\\w*|explainab\\w*|shap|responsible ai|fairness|bias mitigation|"
    "cross[- ]validation|train[- ]test split|backtest\\w*|data leakage|leakage|overfitting|"
    "class imbalance|cold[- ]start|end[- ]to[- ]end|state[- ]of[- ]the[- ]art|"
    "best practices|business objective|success metrics?|trade[- ]offs?|tradeoffs?|"
    "data augmentation|data labell?ing|weak supervision|active learning|prompt engineering|"
    "tokeniz\\w*|nearest[- ]neighbou?rs?|robust\\w*|optimi[sz]\\w*|caching|edge deployment"
)
_JARGON_RX = rf"(?i)\b(?:{JARGON})\b"

# Negation: a cue earlier in the same clause ("not", "never", "wouldn't", "no", "without",
# "avoid", "instead of") or an evaluation later in the clause ("... would be a mistake").
_NEG_BEFORE = (
    r"\b(?:not|never|no|without|avoid\w*|instead of|rather than|against|\w+n't|cannot|"
    r"wouldn't|don't|won't|isn't|shouldn't|stop)\b"
)
_NEG_AFTER = (
    r"\b(?:would be a mistake|is a mistake|was a mistake|is wrong|would be wrong|is bad|"
    r"is a bad idea|would be a bad idea|leaks|would leak|won't work|doesn't work|"
    r"wouldn't work|isn't enough|is not enough|flatters|would flatter|hides|would hide|"
    r"misleads|would mislead|is misleading|would be misleading|breaks|is useless)\b"
)
_CLAUSE = r"[^,;:.!?]{0,60}?"


def negated_regex(body: str) -> str:
    """RE2 pattern counting matches of ``body`` whose clause negates them.

    Example
    -------
    >>> import re
    >>> rx = negated_regex(r"random split")
    >>> bool(re.search(rx, "A random split would be a mistake here"))
    True
    >>> bool(re.search(rx, "I'd use a random split"))
    False
    """
    return f"(?i)(?:{_NEG_BEFORE}{_CLAUSE}(?:{body}))|(?:(?:{body}){_CLAUSE}{_NEG_AFTER})"


# A unit ends at ., !, ? or ; followed by space (not inside "0.6", "e.g." or "vs.").
_SPLIT_RE = re.compile(r"(?<=[.!?;])\s+(?=\S)|\n+")
_NO_SPLIT_END = re.compile(r"(?:\be\.g\.|\bi\.e\.|\bvs\.|\bDr\.|\bMr\.|\bMs\.|\betc\.)$", re.I)


def _split(text: str) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    start = 0
    for m in _SPLIT_RE.finditer(text):
        if _NO_SPLIT_END.search(text[start : m.start()]):
            continue
        out.append((start, text[start : m.start()]))
        start = m.end()
    out.append((start, text[start:]))
    return [(o, s) for o, s in out if s.strip()]


def split_units(turns: pd.DataFrame) -> pd.DataFrame:
    """Candidate turns split into sentence units; other turns kept whole.

    Parameters
    ----------
    turns : pandas.DataFrame
        From :func:`calib.graders.rules.explode_turns`.

    Returns
    -------
    pandas.DataFrame
        Columns of ``turns`` plus ``offset`` (character offset of the unit in its turn's
        text) and ``unit`` (0, 1, ... within the turn); ``text`` is the unit's text, so
        ``turn_text[offset:offset + len(text)] == text``.

    Example
    -------
    >>> t = pd.DataFrame({"pos": [0], "transcript_id": ["a"], "turn_index": [0],
    ...     "speaker": ["candidate"], "text": ["Use 0.6 as a cut. It's cheap."], "n_words": [7]})
    >>> split_units(t)[["offset", "text"]].to_dict("list")
    {'offset': [0, 18], 'text': ['Use 0.6 as a cut.', "It's cheap."]}
    """
    cand = turns["speaker"].to_numpy() == "candidate"
    rows, offsets, texts, unit_no = [], [], [], []
    text_col = turns["text"].to_numpy(dtype=object)
    for i in range(len(turns)):
        if not cand[i]:
            rows.append(i)
            offsets.append(0)
            texts.append(text_col[i])
            unit_no.append(0)
            continue
        parts = _split(text_col[i]) or [(0, text_col[i])]
        for k, (o, s) in enumerate(parts):
            rows.append(i)
            offsets.append(o)
            texts.append(s)
            unit_no.append(k)
    out = turns.iloc[np.asarray(rows, dtype=np.int64)].reset_index(drop=True)
    out["text"] = np.asarray(texts, dtype=object)
    out["offset"] = np.asarray(offsets, dtype=np.int64)
    out["unit"] = np.asarray(unit_no, dtype=np.int64)
    arr = pa.array(out["text"].to_numpy(dtype=object), pa.string())
    out["n_words"] = pc.count_substring_regex(arr, r"\S+").to_numpy(zero_copy_only=False)
    return out


def _count(arr: pa.Array, rx: str) -> np.ndarray:
    return pc.count_substring_regex(arr, rx).to_numpy(zero_copy_only=False).astype(np.int64)


def unit_features(units: pd.DataFrame) -> pd.DataFrame:
    """Per unit: ``markers``, ``numbers``, ``jargon``, ``qualified``, ``hedged``.

    Example
    -------
    >>> u = pd.DataFrame({"text": ["We'd use XGBoost, transformers, AUC and MLOps.",
    ...     "I'd cap it at thirty milliseconds because the page times out."]})
    >>> unit_features(u)[["jargon", "qualified"]].to_dict("list")
    {'jargon': [4, 0], 'qualified': [False, True]}
    """
    arr = pa.array(units["text"].to_numpy(dtype=object), pa.string())
    markers = _count(arr, _MARKER_RX)
    numbers = _count(arr, NUMBER_RX)
    jargon = _count(arr, _JARGON_RX)
    evidence = markers + np.minimum(numbers, 2)
    qualified = (evidence >= 1) & ((jargon <= 4) | (4 * evidence >= jargon))
    hedged = _count(arr, _HEDGE_RX) > 0
    return pd.DataFrame(
        {
            "markers": markers,
            "numbers": numbers,
            "jargon": jargon,
            "qualified": qualified,
            "hedged": hedged,
        },
        index=units.index,
    )
