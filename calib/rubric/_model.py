"""Immutable rubric objects: scale, levels (anchors), dimensions, rubric."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from calib.errors import RubricError

__all__ = ["FEW_LEVELS", "Scale", "Level", "Dimension", "Rubric"]

#: An ordinal scale with at most this many levels is a *few-level* scale: level-by-level
#: statistics (ordinal alpha as the headline, quadratic-weighted kappa, exact and adjacent
#: agreement, which-levels-are-confused advice, level-by-level distributions) are computed and
#: shown. Wider ordinal scales (e.g. a 0-100 slider) and continuous scales are treated as
#: interval measurements: interval alpha and ICC. Ten levels is where a "within one point" band
#: stops meaning "the neighbouring anchor" -- on 11 or more levels adjacent levels are rarely
#: described by distinct anchors, and a confusion table has over 50 cells.
FEW_LEVELS = 10

_KINDS = ("ordinal", "continuous")


def _fmt_num(x: float) -> str:
    return f"{x:g}"


@dataclass(frozen=True)
class Scale:
    """A rating scale from ``min`` to ``max``.

    ``kind="ordinal"`` (the default): the levels are the integers ``min..max``.
    ``kind="continuous"``: any number in ``[min, max]`` is a valid score (averaged or
    fractional ratings, e.g. means of 1-7 items). ``labels`` names some or all points.

    An ordinal scale with at most :data:`FEW_LEVELS` levels is a *few-level* scale
    (:attr:`few_levels`); wider ordinal scales and continuous scales are analysed as interval
    measurements (:attr:`metric` is ``"interval"``).

    Examples
    --------
    >>> Scale(1, 4, {1: "Poor", 2: "Developing", 3: "Proficient", 4: "Strong"}).values
    array([1, 2, 3, 4])
    >>> s = Scale(0, 100)
    >>> s.n_levels, s.few_levels, s.metric, s.describe()
    (101, False, 'interval', '0-100 (101 levels)')
    >>> c = Scale(1, 7, kind="continuous")
    >>> c.contains(4.5), c.few_levels, c.describe()
    (True, False, '1-7 (continuous)')
    """

    min: float
    max: float
    labels: Mapping[float, str] = field(default_factory=dict)
    kind: str = "ordinal"

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise RubricError(f"scale type must be one of {', '.join(_KINDS)}, got {self.kind!r}")

    @property
    def continuous(self) -> bool:
        """Whether any number in ``[min, max]`` is a score (not only integer levels)."""
        return self.kind == "continuous"

    @property
    def n_levels(self) -> int | None:
        """Number of levels of an ordinal scale; None for a continuous one."""
        return None if self.continuous else int(self.max - self.min) + 1

    @property
    def few_levels(self) -> bool:
        """Ordinal with at most :data:`FEW_LEVELS` levels (level-by-level statistics apply)."""
        return not self.continuous and int(self.max - self.min) + 1 <= FEW_LEVELS

    @property
    def metric(self) -> str:
        """Krippendorff's metric that fits: ``"ordinal"`` on few levels, else ``"interval"``."""
        return "ordinal" if self.few_levels else "interval"

    @property
    def values(self) -> np.ndarray:
        """Every level of an ordinal scale, ascending (the category set for agreement statistics).

        Raises
        ------
        RubricError
            On a continuous scale, which has no discrete levels (use :meth:`categories`).
        """
        if self.continuous:
            raise RubricError(f"scale {self.describe()} is continuous: it has no discrete levels")
        return np.arange(int(self.min), int(self.max) + 1)

    def categories(self, observed: Any = ()) -> np.ndarray:
        """Return the category set for coincidence-based statistics.

        Ordinal scales: every level (:attr:`values`). Continuous scales: the distinct observed
        scores (``observed``), ascending -- the values a coincidence matrix needs.
        """
        if not self.continuous:
            return self.values.astype(float)
        x = np.asarray(observed, dtype=float).ravel()
        return np.unique(x[~np.isnan(x)])

    @property
    def midpoint(self) -> float:
        return (self.min + self.max) / 2

    @property
    def span(self) -> float:
        """``max - min``: the scale's width in points."""
        return float(self.max - self.min)

    def contains(self, score: float) -> bool:
        """Whether ``score`` is on this scale (an integer level, or any number if continuous)."""
        score = float(score)
        if not self.min <= score <= self.max:
            return False
        return self.continuous or score.is_integer()

    def describe(self) -> str:
        """Short text such as ``"1-4 (4 levels)"``, ``"0-100 (101 levels)"``, ``"1-7 (continuous)"``."""
        rng = f"{_fmt_num(self.min)}-{_fmt_num(self.max)}"
        return f"{rng} (continuous)" if self.continuous else f"{rng} ({self.n_levels} levels)"

    def extremes(self) -> str:
        """Text naming the two end points, e.g. ``"1 and 4"`` or ``"0 and 100"``."""
        return f"{_fmt_num(self.min)} and {_fmt_num(self.max)}"


@dataclass(frozen=True)
class Level:
    """One anchored point of a dimension: its score, label, anchor text and indicators."""

    score: float
    label: str
    anchor: str
    indicators: tuple[str, ...] = ()


@dataclass(frozen=True)
class Dimension:
    """A rubric dimension with its anchored points (:attr:`levels`).

    On a few-level rubric written with ``levels:`` there is one :class:`Level` per scale
    level; with ``anchors:`` only some points are anchored (e.g. 0, 25, 50, 75 and 100 of a
    0-100 slider). ``scale`` is the dimension's own scale, or None to use the rubric's.

    ``signals`` is the raw mapping from the YAML (or None); the rule-based grader owns and
    validates its schema.
    """

    id: str
    name: str
    description: str
    weight: float
    levels: tuple[Level, ...]
    signals: Mapping[str, Any] | None = None
    scale: Scale | None = None

    @property
    def anchors(self) -> tuple[Level, ...]:
        """The anchored points (same as :attr:`levels`)."""
        return self.levels

    def level(self, score: float) -> Level:
        """Return the anchored point with exactly this score (KeyError if that point has no anchor)."""
        for lvl in self.levels:
            if lvl.score == score:
                return lvl
        raise KeyError(f"dimension {self.id!r} has no anchor at {score}")

    def nearest_anchor(self, score: float) -> Level:
        """Return the anchored point closest to ``score`` (the lower one on a tie)."""
        return min(self.levels, key=lambda lv: (abs(lv.score - float(score)), lv.score))


@dataclass(frozen=True)
class Rubric:
    """A validated, versioned rubric.

    ``scale`` is the default scale; a dimension may declare its own (:meth:`scale_for`).

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
    score_labels: Mapping[str, float] = field(default_factory=dict)
    content_hash: str = ""
    source_path: str | None = None

    @property
    def dimension_ids(self) -> tuple[str, ...]:
        return tuple(d.id for d in self.dimensions)

    def dimension(self, dimension_id: str) -> Dimension:
        """Return the dimension with this id (raises :class:`RubricError` naming the known ids)."""
        for d in self.dimensions:
            if d.id == dimension_id:
                return d
        raise RubricError(
            f"unknown dimension {dimension_id!r}; rubric {self.id} v{self.version} has "
            + ", ".join(self.dimension_ids),
            path=self.source_path,
        )

    def scale_for(self, dimension_id: str) -> Scale:
        """Return the scale of one dimension: its own, else the rubric's."""
        return self.dimension(dimension_id).scale or self.scale

    @property
    def scales(self) -> dict[str, Scale]:
        """Dimension id -> its scale, in rubric order."""
        return {d.id: d.scale or self.scale for d in self.dimensions}

    @property
    def uniform_scale(self) -> bool:
        """Whether every dimension uses the rubric's scale (no dimension has its own)."""
        return all(s == self.scale for s in self.scales.values())

    @property
    def few_levels(self) -> bool:
        """Whether every dimension's scale is a few-level ordinal scale."""
        return all(s.few_levels for s in self.scales.values())

    def anchor(self, dimension_id: str, score: float) -> str:
        """Anchor text of one anchored point of one dimension (KeyError if unanchored)."""
        return self.dimension(dimension_id).level(score).anchor

    def nearest_anchor(self, dimension_id: str, score: float) -> Level:
        """Return the anchored point of a dimension closest to ``score``."""
        return self.dimension(dimension_id).nearest_anchor(score)
