"""Immutable rubric objects: scale, levels (anchors), dimensions, rubric."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from calib.errors import RubricError

__all__ = ["Scale", "Level", "Dimension", "Rubric"]


@dataclass(frozen=True)
class Scale:
    """An integer rating scale ``min..max`` with one label per level.

    Examples
    --------
    >>> Scale(1, 4, {1: "Poor", 2: "Developing", 3: "Proficient", 4: "Strong"}).values
    array([1, 2, 3, 4])
    """

    min: int
    max: int
    labels: Mapping[int, str] = field(default_factory=dict)

    @property
    def values(self) -> np.ndarray:
        """Every level of the scale, ascending (the category set for agreement statistics)."""
        return np.arange(self.min, self.max + 1)

    @property
    def midpoint(self) -> float:
        return (self.min + self.max) / 2

    def contains(self, score: float) -> bool:
        """Whether ``score`` is a level of this scale (an integer within ``min..max``)."""
        return float(score).is_integer() and self.min <= score <= self.max


@dataclass(frozen=True)
class Level:
    """One level of a dimension: its score, label, anchor text and behavioural indicators."""

    score: int
    label: str
    anchor: str
    indicators: tuple[str, ...] = ()


@dataclass(frozen=True)
class Dimension:
    """A rubric dimension with one :class:`Level` per scale level.

    ``signals`` is the raw mapping from the YAML (or None); the rule-based grader owns and
    validates its schema.
    """

    id: str
    name: str
    description: str
    weight: float
    levels: tuple[Level, ...]
    signals: Mapping[str, Any] | None = None

    def level(self, score: int) -> Level:
        """The level with this score."""
        for lvl in self.levels:
            if lvl.score == score:
                return lvl
        raise KeyError(f"dimension {self.id!r} has no level {score}")


@dataclass(frozen=True)
class Rubric:
    """A validated, versioned rubric.

    Examples
    --------
    >>> from calib.rubric import load_rubric
    >>> r = load_rubric("rubrics/ml_interview_v1.yaml")  # doctest: +SKIP
    >>> r.dimension_ids[:2]  # doctest: +SKIP
    ('problem_framing', 'structure')
    """

    id: str
    version: str
    title: str
    scale: Scale
    dimensions: tuple[Dimension, ...]
    #: extra labels that stand for scale levels in scorecard exports (YAML ``labels:``)
    score_labels: Mapping[str, int] = field(default_factory=dict)
    content_hash: str = ""
    source_path: str | None = None

    @property
    def dimension_ids(self) -> tuple[str, ...]:
        return tuple(d.id for d in self.dimensions)

    def dimension(self, dimension_id: str) -> Dimension:
        """The dimension with this id (raises :class:`RubricError` naming the known ids)."""
        for d in self.dimensions:
            if d.id == dimension_id:
                return d
        raise RubricError(
            f"unknown dimension {dimension_id!r}; rubric {self.id} v{self.version} has "
            + ", ".join(self.dimension_ids),
            path=self.source_path,
        )

    def anchor(self, dimension_id: str, score: int) -> str:
        """Anchor text of one level of one dimension."""
        return self.dimension(dimension_id).level(score).anchor
