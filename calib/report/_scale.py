"""How the report shows scores on any scale: levels on few-level scales, bins elsewhere.

On a few-level ordinal scale (at most :data:`calib.rubric.FEW_LEVELS` levels) the report
shows every level and the level-by-level analyses (which levels raters confuse, unused
levels). On a wide ordinal scale (e.g. a 0-100 slider) or a continuous scale it shows
score *bins* (ten equal-width bins, or one per unit when the range spans 4-10 units), and
skips level-by-level advice. A rubric whose dimensions have different scales is shown in five
bins of each dimension's own range (0-20% ... 80-100%).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from calib.rubric import Rubric, Scale

__all__ = [
    "ScaleView",
    "scale_view",
    "list_some",
    "MAX_LISTED",
    "scaled_rater_thresholds",
    "alpha_word",
]

#: How many ids a sentence or alt text names before it says "and N more".
MAX_LISTED = 5


def list_some(ids, n: int = MAX_LISTED, noun: str = "raters", where: str = "the table") -> str:
    """Name at most ``n`` ids; summarise the rest as a count with a pointer.

    Examples
    --------
    >>> list_some(["a", "b"])
    'a, b'
    >>> list_some([f"r{i}" for i in range(172)], n=3)
    'r0, r1, r2 and 169 more raters (all in the table)'
    """
    ids = [str(i) for i in ids]
    if len(ids) <= n:
        return ", ".join(ids)
    return f"{', '.join(ids[:n])} and {len(ids) - n} more {noun} (all in {where})"


def _n_bins(span: float) -> int:
    if float(span).is_integer() and 4 <= span <= 10:
        return int(span)
    return 10


def _fmt(x: float) -> str:
    return f"{x:g}" if abs(x - round(x)) > 1e-9 else f"{round(x):d}"


@dataclass
class ScaleView:
    """What the report shows as "levels" for a rubric.

    Attributes
    ----------
    binned : bool
        False: the codes are the scale levels themselves (one uniform few-level scale).
    labels : list of str
        Display label of each code, in order (``"1"`` ... or ``"0-9"``, ``"90-100"`` ...).
    names : dict
        Longer names of some labels (the scale's level labels), for legends.
    few_dims : list of str
        Dimensions on a few-level ordinal scale: level-by-level analyses apply to them.
    note : str
        How scores are grouped, for titles ("" when not binned).
    ends : str
        The two ends of the scale, for text ("1 and 4", "0 and 100", or "its dimension's
        lowest and highest score").
    """

    binned: bool
    labels: list[str]
    names: dict[str, str]
    few_dims: list[str]
    note: str
    ends: str
    _scales: dict[str, Scale] = field(repr=False, default_factory=dict)
    _uniform: Scale | None = field(repr=False, default=None)

    @property
    def levels(self) -> np.ndarray:
        """The codes 0..k-1 (or the scale levels when not binned)."""
        if not self.binned:
            return np.asarray([int(x) for x in self.labels])
        return np.arange(len(self.labels))

    def codes(self, ratings: pd.DataFrame) -> pd.Series:
        """The display code of every rating (float; NaN where the score is NaN)."""
        score = ratings["score"].astype("float64")
        if not self.binned:
            return score
        if self._uniform is not None:
            lo = self._uniform.min
            span = self._uniform.span
            k = len(self.labels)
        else:
            dims = ratings["dimension"].astype(object)
            lo = dims.map({d: s.min for d, s in self._scales.items()}).astype("float64")
            span = dims.map({d: s.span for d, s in self._scales.items()}).astype("float64")
            k = 5
        pos = (score - lo) / span * k
        return np.floor(pos).clip(0, k - 1).where(score.notna())

    def is_end(self, ratings: pd.DataFrame) -> pd.Series:
        """Whether each rating is at the lowest or highest point of its dimension's scale."""
        dims = ratings["dimension"].astype(object)
        lo = dims.map({d: s.min for d, s in self._scales.items()}).astype("float64")
        hi = dims.map({d: s.max for d, s in self._scales.items()}).astype("float64")
        return ratings["score"].eq(lo) | ratings["score"].eq(hi)


def scale_view(rubric: Rubric, dims: list[str] | None = None) -> ScaleView:
    """The :class:`ScaleView` of a rubric (restricted to ``dims`` if given).

    Examples
    --------
    >>> from calib.rubric import rubric_from_dict
    >>> r = rubric_from_dict({"id": "s", "version": "1", "title": "S",
    ...     "scale": {"min": 0, "max": 100}, "dimensions": [{"id": "q", "name": "Q",
    ...     "description": "D", "anchors": [{"score": 0, "anchor": "bad"},
    ...     {"score": 100, "anchor": "good"}]}]})
    >>> v = scale_view(r)
    >>> v.binned, v.labels[:2], v.labels[-1], v.ends
    (True, ['0-9', '10-19'], '90-100', '0 and 100')
    """
    dims = list(dims) if dims is not None else list(rubric.dimension_ids)
    scales = {d: rubric.scale_for(d) for d in dims if d in rubric.dimension_ids}
    few = [d for d, s in scales.items() if s.few_levels]
    distinct = {s.describe() for s in scales.values()} or {rubric.scale.describe()}
    uniform = rubric.scale_for(dims[0]) if len(distinct) == 1 and dims else rubric.scale
    if len(distinct) == 1 and uniform.few_levels:
        labels = [str(int(v)) for v in uniform.values]
        names = {str(int(k)): str(v) for k, v in uniform.labels.items()}
        return ScaleView(False, labels, names, few, "", uniform.extremes(), scales, uniform)
    if len(distinct) == 1:
        k = _n_bins(uniform.span)
        edges = [uniform.min + uniform.span * i / k for i in range(k + 1)]
        if uniform.continuous:
            labels = [f"{_fmt(edges[i])}-{_fmt(edges[i + 1])}" for i in range(k)]
            note = f"in {k} bins of {_fmt(uniform.span / k)} points (lower end included)"
        else:
            lows = [math.ceil(e - 1e-9) for e in edges[:-1]]
            highs = [lo - 1 for lo in lows[1:]] + [int(uniform.max)]
            labels = [str(a) if a == b else f"{a}-{b}" for a, b in zip(lows, highs, strict=True)]
            note = f"in {k} bins"
        return ScaleView(True, labels, {}, few, note, uniform.extremes(), scales, uniform)
    labels = ["0-20%", "20-40%", "40-60%", "60-80%", "80-100%"]
    return ScaleView(
        True,
        labels,
        {},
        few,
        "in fifths of each dimension's own scale",
        "its dimension's lowest and highest score",
        scales,
        None,
    )


def scaled_rater_thresholds(span: float) -> dict[str, float] | None:
    """calib.raters' flagging thresholds with point thresholds rescaled to a scale ``span`` wide.

    (See :func:`calib.raters.thresholds_for_scale`; imported lazily like every analysis.)
    """
    try:
        from calib.raters import thresholds_for_scale
    except ImportError:  # pragma: no cover - calib.raters unavailable
        return None
    return thresholds_for_scale(span)


def alpha_word(rubric: Rubric) -> str:
    """Which Krippendorff's alpha the report shows: ``"ordinal"``, ``"interval"`` or both.

    Ordinal on few-level scales, interval on wide and continuous ones (see
    :attr:`calib.rubric.Scale.metric`).

    Examples
    --------
    >>> from calib.rubric import rubric_from_dict
    >>> alpha_word(rubric_from_dict({"id": "s", "version": "1", "title": "S",
    ...     "scale": {"min": 1, "max": 4}, "dimensions": [{"id": "q", "name": "Q",
    ...     "description": "D", "anchors": [{"score": 1, "anchor": "bad"},
    ...     {"score": 4, "anchor": "good"}]}]}))
    'ordinal'
    """
    metrics = {sc.metric for sc in rubric.scales.values()}
    if len(metrics) == 1:
        return metrics.pop()
    return "ordinal on few-level scales, interval on wide ones"
