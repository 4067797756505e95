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

Hostile answers: parsing is linear in the answer's length. An answer longer than
:data:`MAX_ANSWER_CHARS` is not parsed at all (unscored, ``too long``) and is stored cut to
that length (:func:`cap_answer`); embedded JSON objects are found by one bracket-matching pass
(never a decode attempt from every ``{``, which was quadratic); JSON nested too deeply to
decode is skipped like any other invalid JSON; and a regex score must sit within 200
characters of the dimension id it belongs to. Whatever the answer, parsing returns one
:class:`ParsedScore` per dimension and never raises.
"""

from __future__ import annotations

import bisect
import json
import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["MAX_ANSWER_CHARS", "ParsedScore", "cap_answer", "coerce_score", "parse_answer"]

#: Longest answer parsed and stored (characters). A judge answer is a few hundred to a few
#: thousand characters; anything longer is not a usable grade. Longer answers are unscored
#: ("too long") and stored cut to this length, with a marker saying how long they were.
MAX_ANSWER_CHARS = 100_000

_MAX_DECODES = 1_000  # embedded-JSON decode attempts per answer (each on a disjoint-ish span)
_MAX_SPAN_DEPTH = 3  # embedded objects looked for down to this brace depth


def cap_answer(text: str) -> str:
    """``text`` unchanged, or cut to :data:`MAX_ANSWER_CHARS` with a marker (then too long to parse).

    Examples
    --------
    >>> cap_answer("ok")
    'ok'
    >>> t = cap_answer("x" * (MAX_ANSWER_CHARS + 5))
    >>> len(t) > MAX_ANSWER_CHARS, t.endswith("[calib: answer cut at 100000 of 100005 characters]")
    (True, True)
    """
    if len(text) <= MAX_ANSWER_CHARS:
        return text
    return text[:MAX_ANSWER_CHARS] + (
        f"\n[calib: answer cut at {MAX_ANSWER_CHARS} of {len(text)} characters]"
    )


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


def _loads(text: str) -> Any:
    """``json.loads`` that treats JSON nested too deeply to decode as invalid (ValueError)."""
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


_BRACE_OR_QUOTE = re.compile(r'[{}"]')
_JSON_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"')


def _object_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of balanced ``{...}`` spans down to depth :data:`_MAX_SPAN_DEPTH`.

    One pass over the text: braces inside JSON strings (with backslash escapes) do not count,
    and strings are only recognised inside braces, so quotes in prose do not matter. Sorted by
    start offset. Linear time: every character is looked at a bounded number of times.
    """
    spans: list[tuple[int, int]] = []
    opens: list[int] = []
    pos = 0
    while (m := _BRACE_OR_QUOTE.search(text, pos)) is not None:
        ch, i = m.group(), m.start()
        pos = i + 1
        if ch == '"':
            if opens and (sm := _JSON_STRING.match(text, i)) is not None:
                pos = sm.end()
        elif ch == "{":
            opens.append(i)
        elif opens:
            start = opens.pop()
            if len(opens) < _MAX_SPAN_DEPTH:
                spans.append((start, i + 1))
    spans.sort()
    return spans


def _candidates(text: str) -> Iterator[tuple[Any, str, int]]:
    """JSON values found in ``text`` with the method and start offset, in priority order (lazy)."""
    stripped = text.strip()
    try:
        yield _loads(stripped), "json", text.find(stripped[:1]) if stripped else 0
    except ValueError:
        pass
    for m in _FENCE_RE.finditer(text):
        try:
            obj = _loads(m.group(1))
        except ValueError:
            continue
        yield obj, "fenced_json", m.start(1)
    for n, (start, end) in enumerate(_object_spans(text)):
        if n >= _MAX_DECODES:
            return
        try:
            obj = _loads(text[start:end])
        except ValueError:
            continue
        if isinstance(obj, dict) and ("score" in obj or "scores" in obj):
            yield obj, "embedded_json", start
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
    positions = [pos for pos, _ in mentions]
    spans: dict[str, int] = {}
    for m in _SCORE_KEY_RE.finditer(sub):
        k = bisect.bisect_left(positions, m.start())  # mentions before: [:k]; after: [k:]
        j = bisect.bisect_right(positions, m.start())
        dim = mentions[k - 1][1] if k > 0 else (mentions[j][1] if j < len(mentions) else None)
        if dim is not None and dim not in spans:
            spans[dim] = start + m.start(1)
        if len(spans) == len(dimensions):
            break
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
    text = text if isinstance(text, str) else ("" if text is None else str(text))
    per_dimension = len(dims) == 1
    if len(text) > MAX_ANSWER_CHARS:
        return [
            ParsedScore(
                d, math.nan, None,
                f"too long: the answer has more than {MAX_ANSWER_CHARS:,} characters (not parsed)",
                "none",
            )
            for d in dims
        ]  # fmt: skip
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
                re.escape(d) + r"\b[^\n]{0,200}?\bscore\b[^0-9\n-]{0,12}(-?\d+(?:\.\d+)?)",
                re.IGNORECASE,
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
