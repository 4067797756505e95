"""The grader interface shared by the rule, length-baseline and LLM graders.

A grader turns ``(transcripts, rubric)`` into rows of the long ratings table so every
agreement and bias analysis treats graders and humans alike. A score the grader could not
produce is a row with ``score = NaN`` and an ``unscored_reason`` -- never dropped, never a
low score.
"""

from __future__ import annotations

import abc
import hashlib
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from calib.io._schema import RATINGS_SCHEMA

if TYPE_CHECKING:  # the rubric stage sits to our left; import only for typing
    from calib.rubric import Rubric

__all__ = ["Grader", "GradeResult", "canonical_json", "config_hash", "RATING_COLUMNS"]

#: Column order of the long ratings table (shared contract; derived from the store schema).
RATING_COLUMNS: tuple[str, ...] = tuple(field.name for field in RATINGS_SCHEMA)


def canonical_json(obj: Any) -> str:
    """Serialise ``obj`` to canonical JSON (sorted keys, no whitespace, UTF-8 kept).

    Example
    -------
    >>> canonical_json({"b": 1, "a": [1, 2]})
    '{"a":[1,2],"b":1}'
    """
    return json.dumps(
        obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def config_hash(config: dict) -> str:
    """First 8 hex chars of the sha256 of the canonical JSON of ``config``.

    Example
    -------
    >>> len(config_hash({"a": 1}))
    8
    """
    return hashlib.sha256(canonical_json(config).encode("utf-8")).hexdigest()[:8]


@dataclass
class GradeResult:
    """What one grading run returns.

    Attributes
    ----------
    ratings : pandas.DataFrame
        Long ratings rows (see ``RATING_COLUMNS``); ``score`` NaN plus ``unscored_reason``
        when the grader could not score.
    evidence : pandas.DataFrame
        Rule graders: ``transcript_id, dimension, signal, weight, span_text, turn_index,
        start, end``. LLM graders: raw outputs (``transcript_id, dimension, sample,
        raw_text, finish_reason, ...``).
    summary : dict
        Counts: ``scored, unscored, failed, cache_hits, tokens, cost`` (``"unknown"`` when
        no price is known).
    """

    ratings: pd.DataFrame
    evidence: pd.DataFrame
    summary: dict = field(default_factory=dict)


class Grader(abc.ABC):
    """Abstract grader: configuration identity plus one ``grade`` method.

    Subclasses set ``name`` and ``rater_type`` and implement :meth:`config` and
    :meth:`grade`. ``rater_id`` is ``f"{name}-{config_hash()}"`` so two differently
    configured graders never share an id.

    Example
    -------
    >>> class Const(Grader):
    ...     name, rater_type = "const", "rule"
    ...     def config(self):
    ...         return {"value": 3}
    ...     def grade(self, transcripts, rubric, *, run_id=None):
    ...         raise NotImplementedError
    >>> Const().rater_id.startswith("const-")
    True
    """

    name: str = "grader"
    rater_type: str = "rule"

    def config(self) -> dict:
        """JSON-serialisable configuration: everything that changes the output (never API keys)."""
        return {}

    def config_hash(self) -> str:
        """sha256 of the canonical JSON of :meth:`config`, first 8 hex characters."""
        return config_hash(self.config())

    @property
    def rater_id(self) -> str:
        """``f"{name}-{config_hash()}"``."""
        return f"{self.name}-{self.config_hash()}"

    @abc.abstractmethod
    def grade(
        self, transcripts: pd.DataFrame, rubric: Rubric, *, run_id: str | None = None
    ) -> GradeResult:
        """Grade every transcript on every rubric dimension."""
