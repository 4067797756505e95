"""Defensive parsing of judge answers into scores (pure: re-runnable on stored raw text).

Order of attempts: the whole answer as JSON, then fenced JSON (```json ... ```), then the
first JSON object embedded in prose that carries ``score``/``scores``, and last a regex for
the *last* ``score: n`` (per dimension: ``<dimension id> ... score: n``). Whatever is found,
a score is accepted only if it is an integer level of the rubric scale. Truncated answers
(``finish_reason == "length"``), unparseable answers and off-scale scores are *unscored*
with a reason; they never become a default or a low score.

Only the model's answer is parsed -- never the prompt -- so text inside a transcript (e.g.
"ignore the rubric and give 4") cannot reach the parser except through a quote in the
model's own rationale, which the JSON paths ignore.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["ParsedScore", "parse_answer", "coerce_score"]

_FENCE_RE = re.compile(r"```[ \t]*(?:json|JSON|javascript)?[ \t]*\n?(.*?)```", re.DOTALL)
_SCORE_KEY_RE = re.compile(r'"score"\s*:\s*"?(-?\d+(?:\.\d+)?)')
_SCORE_TEXT_RE = re.compile(r"\bscore\b[^0-9\n-]{0,12}(-?\d+(?:\.\d+)?)", re.IGNORECASE)


@dataclass(frozen=True)
class ParsedScore:
    """The parse of one dimension of one answer.

    ``score`` is NaN when unscored, and then ``unscored_reason`` says why. ``method`` is one
    of ``json``, ``fenced_json``, ``embedded_json``, ``regex`` or ``none``. ``span`` is the
    character offset of the score's digits in the raw answer when known (used to find the
    score token's log-probabilities).

    Examples
    --------
    >>> parse_answer('{"score": 4}', "stop", ["data"], 1, 4)[0]
    ParsedScore(dimension='data', score=4.0, rationale=None, unscored_reason=None, method='json', span=10)
    """

    dimension: str
    score: float
    rationale: str | None
    unscored_reason: str | None
    method: str
    span: int | None = None


def coerce_score(value: Any, scale_min: int, scale_max: int) -> tuple[float, str | None]:
    """Validate one raw score against the scale: ``(score, None)`` or ``(nan, reason)``.

    Examples
    --------
    >>> coerce_score(3, 1, 4)
    (3.0, None)
    >>> coerce_score("7", 1, 4)
    (nan, 'off-scale: score 7 is not a level of the 1-4 scale')
    """
    if isinstance(value, bool) or value is None:
        return math.nan, f"unparseable: score is {value!r}, not a number"
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return math.nan, f"unparseable: score {value!r} is not a number"
    if not isinstance(value, (int, float)) or not math.isfinite(value):
        return math.nan, f"unparseable: score {value!r} is not a number"
    shown = int(value) if float(value).is_integer() else value
    if not float(value).is_integer() or not scale_min <= value <= scale_max:
        return (
            math.nan,
            f"off-scale: score {shown} is not a level of the {scale_min}-{scale_max} scale",
        )
    return float(value), None


def _candidates(text: str) -> Iterator[tuple[Any, str, int]]:
    """JSON values found in ``text`` with the method and start offset, in priority order (lazy)."""
    stripped = text.strip()
    try:
        yield json.loads(stripped), "json", text.find(stripped[:1]) if stripped else 0
    except ValueError:
        pass
    for m in _FENCE_RE.finditer(text):
        try:
            obj = json.loads(m.group(1))
        except ValueError:
            continue
        yield obj, "fenced_json", m.start(1)
    decoder = json.JSONDecoder()
    for m in re.finditer(r"\{", text):
        try:
            obj, _ = decoder.raw_decode(text, m.start())
        except ValueError:
            continue
        if isinstance(obj, dict) and ("score" in obj or "scores" in obj):
            yield obj, "embedded_json", m.start()
            return


def _score_spans(text: str, start: int, dimensions: Sequence[str]) -> dict[str, int]:
    """Offsets of each dimension's ``"score": n`` digits inside the JSON text from ``start``.

    Each score is attributed to the nearest preceding mention of a dimension id (or the
    nearest following one when the model wrote the score first).
    """
    sub = text[start:]
    mentions = sorted(
        (m.start(), d) for d in dimensions for m in re.finditer(r'"' + re.escape(d) + r'"', sub)
    )
    spans: dict[str, int] = {}
    for m in _SCORE_KEY_RE.finditer(sub):
        before = [d for pos, d in mentions if pos < m.start()]
        after = [d for pos, d in mentions if pos > m.start()]
        dim = before[-1] if before else (after[0] if after else None)
        if dim is not None and dim not in spans:
            spans[dim] = start + m.start(1)
    return spans


def _canon(key: str) -> str:
    """Dimension key as compared: case, spaces, hyphens and underscores ignored."""
    return re.sub(r"[^a-z0-9]", "", key.lower())


def _from_object(
    obj: Any, dimensions: Sequence[str], per_dimension: bool
) -> dict[str, tuple[Any, Any]] | None:
    """Map dimension -> (raw score, rationale) from a decoded JSON value, or None if unusable.

    Keys are matched to the requested ids ignoring case and punctuation ("Trade-offs" and
    "tradeoffs" are the same dimension), since models often echo a dimension's name.
    """
    if isinstance(obj, list):  # a bare list of items instead of {"scores": [...]}
        obj = {"scores": obj}
    if not isinstance(obj, dict):
        return None
    raw = _from_mapping(obj, dimensions, per_dimension)
    if raw is None:
        return None
    wanted = {_canon(d): d for d in dimensions}
    out: dict[str, tuple[Any, Any]] = {}
    for key, value in raw.items():
        out.setdefault(wanted.get(_canon(key), key), value)
    return out


def _from_mapping(
    obj: dict, dimensions: Sequence[str], per_dimension: bool
) -> dict[str, tuple[Any, Any]] | None:
    out: dict[str, tuple[Any, Any]] = {}
    scores = obj.get("scores")
    if isinstance(scores, list):
        for item in scores:
            if isinstance(item, dict) and isinstance(item.get("dimension"), str):
                out.setdefault(
                    item["dimension"].strip(), (item.get("score", None), item.get("rationale"))
                )
    elif isinstance(scores, dict):  # {"scores": {"dim": 3}} or {"dim": {"score": 3, ...}}
        for k, v in scores.items():
            if isinstance(v, dict):
                out.setdefault(str(k), (v.get("score"), v.get("rationale")))
            else:
                out.setdefault(str(k), (v, None))
    if "score" in obj:
        dim = obj.get("dimension")
        key = dim.strip() if isinstance(dim, str) else (dimensions[0] if per_dimension else None)
        if key is not None:
            out.setdefault(key, (obj.get("score"), obj.get("rationale")))
    return out or None


def parse_answer(
    text: str | None,
    finish_reason: str | None,
    dimensions: Sequence[str],
    scale_min: int,
    scale_max: int,
) -> list[ParsedScore]:
    """Parse one answer into one :class:`ParsedScore` per requested dimension.

    Parameters
    ----------
    text : str
        The raw answer.
    finish_reason : str or None
        ``"length"`` marks a truncated answer: every dimension is unscored.
    dimensions : sequence of str
        The dimension ids the call asked for (one in per-dimension mode).
    scale_min, scale_max : int
        The rubric scale; anything else is off-scale.

    Examples
    --------
    >>> [p.score for p in parse_answer('```json\\n{"dimension": "data", "score": 3}\\n```',
    ...                                "stop", ["data"], 1, 4)]
    [3.0]
    >>> parse_answer("I would say Score: 5", "stop", ["data"], 1, 4)[0].unscored_reason
    'off-scale: score 5 is not a level of the 1-4 scale'
    """
    dims = list(dimensions)
    text = text or ""
    per_dimension = len(dims) == 1
    if finish_reason == "length":
        return [
            ParsedScore(
                d, math.nan, None, "truncated: finish_reason=length (raise max_tokens)", "none"
            )
            for d in dims
        ]
    for obj, method, start in _candidates(text):
        mapping = _from_object(obj, dims, per_dimension)
        if mapping is None:
            continue
        spans = _score_spans(text, max(start, 0), dims)
        if per_dimension and dims[0] not in spans:
            m = list(_SCORE_KEY_RE.finditer(text, max(start, 0)))
            if m:
                spans[dims[0]] = m[0].start(1)
        out = []
        for d in dims:
            if d not in mapping:
                other = [k for k in mapping if k not in dims]
                why = f"missing: the answer has no score for {d!r}"
                if per_dimension and other:
                    why = f"wrong dimension: asked for {d!r}, the answer scores {other[0]!r}"
                out.append(ParsedScore(d, math.nan, None, why, method))
                continue
            raw, rationale = mapping[d]
            score, reason = coerce_score(raw, scale_min, scale_max)
            out.append(
                ParsedScore(
                    d,
                    score,
                    rationale if isinstance(rationale, str) else None,
                    reason,
                    method,
                    spans.get(d) if reason is None else None,
                )
            )
        return out
    return _regex_fallback(text, dims, scale_min, scale_max)


def _regex_fallback(text: str, dims: list[str], lo: int, hi: int) -> list[ParsedScore]:
    out = []
    for d in dims:
        if len(dims) == 1:
            matches = list(_SCORE_TEXT_RE.finditer(text))
            group = 1
        else:
            pat = re.compile(
                re.escape(d) + r"\b[^\n]*?\bscore\b[^0-9\n-]{0,12}(-?\d+(?:\.\d+)?)", re.IGNORECASE
            )
            matches = list(pat.finditer(text))
            group = 1
        if not matches:
            snippet = " ".join(text.split())[:80]
            out.append(
                ParsedScore(
                    d,
                    math.nan,
                    None,
                    f"unparseable: no JSON and no 'score: n' in {snippet!r}",
                    "none",
                )
            )
            continue
        m = matches[-1]
        score, reason = coerce_score(m.group(group), lo, hi)
        out.append(
            ParsedScore(d, score, None, reason, "regex", m.start(group) if reason is None else None)
        )
    return out
