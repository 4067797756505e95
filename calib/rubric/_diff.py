"""What changed between two rubric versions."""

from __future__ import annotations

import difflib

import pandas as pd

from calib.rubric._model import Rubric

__all__ = ["diff_rubrics"]

_COLUMNS = ["change", "dimension", "level", "field", "before", "after", "similarity"]


def _similarity(a: str, b: str) -> float:
    return round(difflib.SequenceMatcher(None, a, b).ratio(), 3)


def diff_rubrics(before: Rubric, after: Rubric) -> pd.DataFrame:
    """List every change from ``before`` to ``after``, one row per change.

    Parameters
    ----------
    before, after : Rubric
        Two versions of a rubric (typically the same ``id``).

    Returns
    -------
    pandas.DataFrame
        Columns ``change`` (``metadata``, ``scale``, ``dimension_added``,
        ``dimension_removed``, ``dimension_changed``, ``anchor_reworded``,
        ``indicators_changed``, ``level_added``, ``level_removed``), ``dimension``, ``level``,
        ``field``, ``before``, ``after`` and ``similarity`` (difflib ratio of reworded text,
        1.0 = identical). Empty when the rubrics are identical. Cells that do not apply are
        None (object columns) and ``<NA>`` in the nullable-integer ``level``.

    Examples
    --------
    >>> from calib.rubric import load_rubric
    >>> d = diff_rubrics(load_rubric("rubrics/ml_interview_v1.yaml"),
    ...                  load_rubric("rubrics/ml_interview_v1.yaml"))  # doctest: +SKIP
    >>> d.empty  # doctest: +SKIP
    True
    """
    rows: list[dict] = []

    def add(change, dimension=None, level=None, field=None, old=None, new=None, sim=None):
        rows.append(
            dict(
                change=change,
                dimension=dimension,
                level=level,
                field=field,
                before=old,
                after=new,
                similarity=sim,
            )
        )

    for attr in ("id", "version", "title"):
        if getattr(before, attr) != getattr(after, attr):
            add("metadata", field=attr, old=getattr(before, attr), new=getattr(after, attr))
    if before.scale.describe() != after.scale.describe():
        add("scale", field="range", old=before.scale.describe(), new=after.scale.describe())
    for level in sorted(set(before.scale.labels) | set(after.scale.labels)):
        old, new = before.scale.labels.get(level), after.scale.labels.get(level)
        if old != new:
            add("scale", level=level, field="label", old=old, new=new)

    before_dims = {d.id: d for d in before.dimensions}
    after_dims = {d.id: d for d in after.dimensions}
    for dim_id in before_dims:
        if dim_id not in after_dims:
            add("dimension_removed", dimension=dim_id, old=before_dims[dim_id].name)
    for dim_id in after_dims:
        if dim_id not in before_dims:
            add("dimension_added", dimension=dim_id, new=after_dims[dim_id].name)
    for dim_id, old_dim in before_dims.items():
        new_dim = after_dims.get(dim_id)
        if new_dim is None:
            continue
        for attr in ("name", "description", "weight"):
            a, b = getattr(old_dim, attr), getattr(new_dim, attr)
            if a != b:
                sim = _similarity(a, b) if isinstance(a, str) else None
                add("dimension_changed", dimension=dim_id, field=attr, old=a, new=b, sim=sim)
        old_scale, new_scale = before.scale_for(dim_id), after.scale_for(dim_id)
        if old_scale.describe() != new_scale.describe():
            add(
                "scale",
                dimension=dim_id,
                field="range",
                old=old_scale.describe(),
                new=new_scale.describe(),
            )
        if (old_dim.signals or {}) != (new_dim.signals or {}):
            add("dimension_changed", dimension=dim_id, field="signals")
        old_levels = {lv.score: lv for lv in old_dim.levels}
        new_levels = {lv.score: lv for lv in new_dim.levels}
        for score in sorted(set(old_levels) | set(new_levels)):
            a, b = old_levels.get(score), new_levels.get(score)
            if a is None:
                add("level_added", dimension=dim_id, level=score, new=b.anchor)
            elif b is None:
                add("level_removed", dimension=dim_id, level=score, old=a.anchor)
            else:
                if a.anchor != b.anchor:
                    add(
                        "anchor_reworded",
                        dimension=dim_id,
                        level=score,
                        field="anchor",
                        old=a.anchor,
                        new=b.anchor,
                        sim=_similarity(a.anchor, b.anchor),
                    )
                if a.indicators != b.indicators:
                    add(
                        "indicators_changed",
                        dimension=dim_id,
                        level=score,
                        field="indicators",
                        old="; ".join(a.indicators),
                        new="; ".join(b.indicators),
                        sim=_similarity("; ".join(a.indicators), "; ".join(b.indicators)),
                    )
                if a.label != b.label:
                    add(
                        "dimension_changed",
                        dimension=dim_id,
                        level=score,
                        field="label",
                        old=a.label,
                        new=b.label,
                    )
    out = pd.DataFrame(rows, columns=_COLUMNS)
    # Missing cells are None in every pandas version (pandas 3 would make them NaN in its
    # default ``str`` dtype); ``level`` is numeric (missing = <NA> or NaN).
    for col in ("change", "dimension", "field", "before", "after", "similarity"):
        out[col] = pd.Series(
            [None if v is None or (isinstance(v, float) and v != v) else v for v in out[col]],
            index=out.index,
            dtype=object,
        )
    levels = pd.to_numeric(out["level"], errors="coerce").astype("float64")
    whole = levels.dropna().map(float.is_integer).all()
    out["level"] = levels.astype("Int64") if whole else levels
    return out
