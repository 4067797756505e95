"""The ``signals:`` schema of the rule-based grader: parse, validate, compile once.

Each rubric dimension may carry a ``signals:`` mapping (see ``docs/graders.md``)::

    signals:
      min_words: 25                 # optional: fewer candidate words -> unscored
      thresholds: [1.0, 2.0, 3.0]   # raw points at which the score steps up one level
      rules:
        - id: clarifies_objective
          type: phrases             # phrases | before | followup
          weight: 1.0               # points at saturation (negative weights penalise)
          speaker: candidate        # candidate | interviewer | any
          phrases: ["success metric", "clarif*"]   # literal, case-insensitive, word-bounded
          patterns: ['what (is|are) the (goal|objective)s?']   # regular expressions
          count: presence           # presence | capped | per_100_words
          cap: 3

Every rule's value lies in [0, 1]; the dimension's raw score is the weighted sum and the
thresholds map it to the rubric scale. Errors raise :class:`calib.errors.RubricError` naming
the file and the key path (``dimensions[2].signals.rules[1].patterns[0]``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from calib.errors import RubricError

__all__ = ["Matcher", "Rule", "DimensionSignals", "parse_signals", "compile_matcher"]

_RULE_TYPES = ("phrases", "before", "followup", "reasoning")
_EVIDENCE_MODES = ("any", "reasoned", "bare")
_MEASURES = ("bare_jargon", "reasoned_units", "quantified_units", "comparisons", "early_question")
_COUNT_MODES = ("presence", "capped", "per_100_words")
_SPEAKERS = ("candidate", "interviewer", "any")
_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_EMPTY = pa.array([""], pa.string())


@dataclass(frozen=True)
class Matcher:
    """One compiled alternation of phrases and patterns (RE2 syntax, case-insensitive).

    ``regex`` is handed to pyarrow's RE2 kernels (vectorised over all turns at once);
    ``py`` is the same expression compiled by Python's ``re`` to locate quoted spans.
    """

    phrases: tuple[str, ...]
    patterns: tuple[str, ...]
    regex: str
    py: re.Pattern

    def spec(self) -> dict:
        return {"phrases": list(self.phrases), "patterns": list(self.patterns)}


@dataclass(frozen=True)
class Rule:
    """One validated signal rule (see the module docstring for the fields)."""

    id: str
    type: str
    weight: float
    speaker: str = "candidate"
    match: Matcher | None = None  # phrases
    count: str = "presence"
    cap: float = 1.0
    first: Matcher | None = None  # before
    then: Matcher | None = None
    trigger: Matcher | None = None  # followup
    response: Matcher | None = None
    min_overlap: int = 0
    if_no_trigger: str = "zero"
    unless: Matcher | None = None  # interviewer turns that are never follow-ups (wrap-up prompts)
    partial: Matcher | None = None  # a hedged, minimal change: half credit
    deflection: Matcher | None = None  # "nothing changes": no credit, whatever else matched
    evidence: str = "any"  # phrases: any | reasoned (bare keyword earns BARE_CREDIT) | bare
    negation: str = "keep"  # phrases: keep | drop (a negated match does not count)
    measure: str = ""  # reasoning: bare_jargon | reasoned_units | quantified_units | comparisons
    free: float = 0.0  # reasoning: allowance subtracted before the cap (density measures)

    def spec(self) -> dict:
        """Canonical JSON-able form (part of the grader configuration hash)."""
        out: dict[str, Any] = {"id": self.id, "type": self.type, "weight": self.weight}
        if self.type == "phrases":
            out.update(speaker=self.speaker, count=self.count, cap=self.cap, **self.match.spec())
            out.update(evidence=self.evidence, negation=self.negation)
        elif self.type == "reasoning":
            out.update(measure=self.measure, count=self.count, cap=self.cap, free=self.free)
        elif self.type == "before":
            out.update(first=self.first.spec(), then=self.then.spec())
        else:
            out.update(
                trigger=self.trigger.spec(),
                response=self.response.spec(),
                min_overlap=self.min_overlap,
                if_no_trigger=self.if_no_trigger,
            )
            for key in ("unless", "partial", "deflection"):
                m = getattr(self, key)
                if m is not None and (m.phrases or m.patterns):
                    out[key] = m.spec()
        return out


@dataclass(frozen=True)
class DimensionSignals:
    """The validated signals of one dimension."""

    dimension: str
    rules: tuple[Rule, ...]
    thresholds: tuple[float, ...]
    min_words: int = 0

    def spec(self) -> dict:
        return {
            "rules": [r.spec() for r in self.rules],
            "thresholds": list(self.thresholds),
            "min_words": self.min_words,
        }


def _phrase_regex(phrase: str) -> str:
    # A phrase is words separated by whitespace; a trailing '*' on a word matches any ending
    # ("clarif*" -> clarify, clarifying, clarification). Word-bounded so "metric" never
    # matches inside "biometrics".
    words = []
    for w in phrase.strip().split():
        if w.endswith("*") and len(w) > 1:
            words.append(re.escape(w[:-1]) + r"\w*")
        else:
            words.append(re.escape(w))
    body = r"\s+".join(words)
    # \b only where the phrase edge is a word character ("a/b test" ends fine, "e.g." too).
    left = r"\b" if re.match(r"\w", phrase.strip()) else ""
    right = r"\b" if re.search(r"[\w*]$", phrase.strip()) else ""
    return f"{left}{body}{right}"


class _Ctx:
    def __init__(self, path: str | None):
        self.path = path

    def fail(self, key_path: str, message: str):
        raise RubricError(message, path=self.path, key_path=key_path)


def compile_matcher(
    doc: Any, key_path: str, ctx: _Ctx | None = None, *, required: bool = True
) -> Matcher:
    """Compile ``{phrases: [...], patterns: [...]}`` into one case-insensitive alternation.

    Example
    -------
    >>> m = compile_matcher({"phrases": ["success metric", "clarif*"]}, "x")
    >>> bool(m.py.search("Let me clarify the success   metric"))
    True
    """
    ctx = ctx or _Ctx(None)
    if not isinstance(doc, Mapping):
        ctx.fail(key_path, "expected a mapping with 'phrases' and/or 'patterns'")
    for key in doc:
        if key not in ("phrases", "patterns"):
            ctx.fail(f"{key_path}.{key}", "unknown key (expected phrases or patterns)")
    parts: list[str] = []
    lists: dict[str, tuple[str, ...]] = {}
    for key in ("phrases", "patterns"):
        items = doc.get(key) or []
        if not isinstance(items, list):
            ctx.fail(f"{key_path}.{key}", "expected a list of strings")
        for i, item in enumerate(items):
            kp = f"{key_path}.{key}[{i}]"
            if not isinstance(item, str) or not item.strip():
                ctx.fail(kp, f"expected a non-empty string, got {item!r}")
            rx = _phrase_regex(item) if key == "phrases" else item
            try:
                re.compile(rx)
                # RE2 (used for the vectorised pass) rejects some Python constructs
                # (look-arounds, backreferences): fail here, not mid-run.
                pc.count_substring_regex(_EMPTY, rx)
            except (re.error, pa.ArrowInvalid) as exc:
                ctx.fail(kp, f"invalid pattern {item!r}: {exc}")
            parts.append(f"(?:{rx})")
        lists[key] = tuple(items)
    if required and not parts:
        ctx.fail(key_path, "needs at least one phrase or pattern")
    regex = "(?i)" + "|".join(parts) if parts else r"(?!x)x"
    return Matcher(lists["phrases"], lists["patterns"], regex, re.compile(regex))


def _number(ctx: _Ctx, doc: Mapping, key: str, kp: str, default: float | None) -> float:
    value = doc.get(key, default)
    if value is None:
        ctx.fail(f"{kp}.{key}", "required key is missing")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        ctx.fail(f"{kp}.{key}", f"expected a number, got {value!r}")
    return float(value)


def _choice(
    ctx: _Ctx, doc: Mapping, key: str, kp: str, options: tuple[str, ...], default: str
) -> str:
    value = doc.get(key, default)
    if value not in options:
        ctx.fail(f"{kp}.{key}", f"expected one of {', '.join(options)}, got {value!r}")
    return value


_RULE_KEYS = {
    "phrases": {
        "id",
        "type",
        "weight",
        "speaker",
        "phrases",
        "patterns",
        "count",
        "cap",
        "note",
        "evidence",
        "negation",
    },
    "reasoning": {"id", "type", "weight", "measure", "count", "cap", "free", "note"},
    "before": {"id", "type", "weight", "first", "then", "note"},
    "followup": {
        "id",
        "type",
        "weight",
        "trigger",
        "response",
        "min_overlap",
        "if_no_trigger",
        "unless",
        "partial",
        "deflection",
        "note",
    },
}


def _parse_rule(ctx: _Ctx, doc: Any, kp: str) -> Rule:
    if not isinstance(doc, Mapping):
        ctx.fail(kp, "expected a mapping")
    rid = doc.get("id")
    if not isinstance(rid, str) or not _ID_RE.match(rid):
        ctx.fail(f"{kp}.id", f"expected a lower_snake_case id, got {rid!r}")
    rtype = _choice(ctx, doc, "type", kp, _RULE_TYPES, "phrases")
    for key in doc:
        if key not in _RULE_KEYS[rtype]:
            ctx.fail(
                f"{kp}.{key}",
                f"unknown key for a {rtype!r} rule (expected one of "
                f"{', '.join(sorted(_RULE_KEYS[rtype]))})",
            )
    weight = _number(ctx, doc, "weight", kp, None)
    if rtype == "phrases":
        count = _choice(ctx, doc, "count", kp, _COUNT_MODES, "presence")
        cap = _number(ctx, doc, "cap", kp, 1.0)
        if cap <= 0:
            ctx.fail(f"{kp}.cap", f"must be positive, got {cap}")
        return Rule(
            id=rid,
            type=rtype,
            weight=weight,
            speaker=_choice(ctx, doc, "speaker", kp, _SPEAKERS, "candidate"),
            match=compile_matcher(
                {k: doc[k] for k in ("phrases", "patterns") if k in doc}, kp, ctx
            ),
            count=count,
            cap=cap,
            evidence=_choice(ctx, doc, "evidence", kp, _EVIDENCE_MODES, "any"),
            negation=_choice(
                ctx, doc, "negation", kp, ("keep", "drop"), "drop" if weight < 0 else "keep"
            ),
        )
    if rtype == "reasoning":
        count = _choice(ctx, doc, "count", kp, ("capped", "per_100_words"), "capped")
        cap = _number(ctx, doc, "cap", kp, 1.0)
        if cap <= 0:
            ctx.fail(f"{kp}.cap", f"must be positive, got {cap}")
        free = _number(ctx, doc, "free", kp, 0.0)
        if free < 0:
            ctx.fail(f"{kp}.free", f"must be >= 0, got {free}")
        if "measure" not in doc:
            ctx.fail(f"{kp}.measure", "required key is missing")
        return Rule(
            id=rid,
            type=rtype,
            weight=weight,
            measure=_choice(ctx, doc, "measure", kp, _MEASURES, ""),
            count=count,
            cap=cap,
            free=free,
        )
    if rtype == "before":
        for key in ("first", "then"):
            if key not in doc:
                ctx.fail(f"{kp}.{key}", "required key is missing")
        return Rule(
            id=rid,
            type=rtype,
            weight=weight,
            first=compile_matcher(doc["first"], f"{kp}.first", ctx),
            then=compile_matcher(doc["then"], f"{kp}.then", ctx),
        )
    for key in ("trigger",):
        if key not in doc:
            ctx.fail(f"{kp}.{key}", "required key is missing")
    min_overlap = doc.get("min_overlap", 0)
    if isinstance(min_overlap, bool) or not isinstance(min_overlap, int) or min_overlap < 0:
        ctx.fail(f"{kp}.min_overlap", f"expected a non-negative integer, got {min_overlap!r}")
    response = compile_matcher(doc.get("response") or {}, f"{kp}.response", ctx, required=False)
    if not (response.phrases or response.patterns) and min_overlap == 0:
        ctx.fail(kp, "a followup rule needs response phrases/patterns or min_overlap > 0")
    optional = {
        key: compile_matcher(doc.get(key) or {}, f"{kp}.{key}", ctx, required=False)
        for key in ("unless", "partial", "deflection")
    }
    return Rule(
        id=rid,
        type=rtype,
        weight=weight,
        trigger=compile_matcher(doc["trigger"], f"{kp}.trigger", ctx),
        response=response,
        min_overlap=min_overlap,
        if_no_trigger=_choice(ctx, doc, "if_no_trigger", kp, ("zero", "unscored"), "zero"),
        **optional,
    )


def parse_signals(
    doc: Any, dimension: str, n_levels: int, *, path: str | None = None, key_path: str = "signals"
) -> DimensionSignals:
    """Validate one dimension's ``signals:`` mapping and compile its patterns.

    Parameters
    ----------
    doc : mapping
        The raw ``signals:`` mapping from the rubric YAML.
    dimension : str
        Dimension id (kept on the result).
    n_levels : int
        Number of scale levels; ``thresholds`` must have ``n_levels - 1`` increasing entries.
    path, key_path : str
        File and key path used in error messages.

    Raises
    ------
    RubricError
        Naming the file and key path of the first problem.

    Example
    -------
    >>> s = parse_signals({"thresholds": [1, 2, 3], "rules": [
    ...     {"id": "metric", "weight": 1, "phrases": ["success metric"]}]}, "framing", 4)
    >>> s.rules[0].count, s.thresholds
    ('presence', (1.0, 2.0, 3.0))
    """
    ctx = _Ctx(path)
    if not isinstance(doc, Mapping):
        ctx.fail(key_path, "expected a mapping with 'rules' and 'thresholds'")
    for key in doc:
        if key not in ("rules", "thresholds", "min_words", "note"):
            ctx.fail(
                f"{key_path}.{key}", "unknown key (expected rules, thresholds, min_words, note)"
            )
    rules_doc = doc.get("rules")
    if not isinstance(rules_doc, list) or not rules_doc:
        ctx.fail(f"{key_path}.rules", "expected a non-empty list of rules")
    rules = tuple(_parse_rule(ctx, r, f"{key_path}.rules[{i}]") for i, r in enumerate(rules_doc))
    ids = [r.id for r in rules]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        ctx.fail(f"{key_path}.rules", f"duplicate rule id(s) {dup}")
    thresholds = check_thresholds(doc.get("thresholds"), n_levels, f"{key_path}.thresholds", path)
    min_words = doc.get("min_words", 0)
    if isinstance(min_words, bool) or not isinstance(min_words, int) or min_words < 0:
        ctx.fail(f"{key_path}.min_words", f"expected a non-negative integer, got {min_words!r}")
    return DimensionSignals(dimension, rules, thresholds, min_words)


def check_thresholds(
    value: Any, n_levels: int, key_path: str, path: str | None = None
) -> tuple[float, ...]:
    """Validate a threshold list: ``n_levels - 1`` finite, strictly increasing numbers."""
    ctx = _Ctx(path)
    if not isinstance(value, (list, tuple)) or len(value) != n_levels - 1:
        ctx.fail(
            key_path,
            f"expected a list of {n_levels - 1} increasing numbers "
            f"(one per step of the scale), got {value!r}",
        )
    if any(isinstance(v, bool) or not isinstance(v, (int, float)) or v != v for v in value):
        ctx.fail(key_path, f"expected numbers, got {value!r}")
    if any(b <= a for a, b in zip(value, value[1:])):
        ctx.fail(key_path, f"must be strictly increasing, got {list(value)}")
    return tuple(float(v) for v in value)
