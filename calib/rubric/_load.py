"""Load and validate rubric YAML files; every error names the file and the key path."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import yaml

from calib._yaml import load_yaml
from calib.errors import RubricError
from calib.rubric._model import Dimension, Level, Rubric, Scale

__all__ = ["load_rubric", "rubric_from_dict", "rubric_to_dict"]

_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")


class _Checker:
    """Small helper that raises RubricError with the file and key path."""

    def __init__(self, path: str | None):
        self.path = path

    def fail(self, key_path: str, message: str) -> None:
        raise RubricError(message, path=self.path, key_path=key_path or "<root>")

    def mapping(self, value: Any, key_path: str) -> dict:
        if not isinstance(value, dict):
            self.fail(key_path, f"expected a mapping, got {type(value).__name__}")
        return value

    def known_keys(self, obj: dict, allowed: set[str], key_path: str) -> None:
        for key in obj:
            if key not in allowed:
                self.fail(
                    _join(key_path, str(key)),
                    f"unknown key (expected one of {', '.join(sorted(allowed))})",
                )

    def required(self, obj: dict, key: str, key_path: str) -> Any:
        if key not in obj or obj[key] is None:
            self.fail(_join(key_path, key), "required key is missing")
        return obj[key]

    def text(self, obj: dict, key: str, key_path: str, required: bool = True) -> str:
        value = self.required(obj, key, key_path) if required else obj.get(key, "")
        if value is None:
            value = ""
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            self.fail(_join(key_path, key), f"expected text, got {type(value).__name__}")
        value = str(value).strip()
        if required and not value:
            self.fail(_join(key_path, key), "must not be empty")
        return value

    def integer(self, obj: dict, key: str, key_path: str) -> int:
        value = self.required(obj, key, key_path)
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(_join(key_path, key), f"expected an integer, got {value!r}")
        return value


def _join(key_path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{key_path}[{key}]"
    return f"{key_path}.{key}" if key_path else key


_KNOWN_TOP = {"id", "version", "title", "scale", "dimensions", "description", "labels"}
_KNOWN_SCALE = {"min", "max", "labels", "type"}
_KNOWN_DIM = {"id", "name", "description", "weight", "levels", "anchors", "signals", "scale"}
_KNOWN_LEVEL = {"score", "label", "anchor", "indicators"}


def _number(c: _Checker, obj: dict, key: str, key_path: str, integer: bool) -> float:
    value = c.required(obj, key, key_path)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        c.fail(_join(key_path, key), f"expected a number, got {value!r}")
    if integer and not float(value).is_integer():
        c.fail(
            _join(key_path, key),
            f"expected an integer on an ordinal scale, got {value!r} "
            "(declare 'type: continuous' for fractional scores)",
        )
    return int(value) if integer else (int(value) if float(value).is_integer() else float(value))


def _scale(c: _Checker, scale_doc: Any, kp: str) -> Scale:
    """Validate one ``scale:`` mapping (the rubric's or a dimension's)."""
    scale_doc = c.mapping(scale_doc, kp)
    c.known_keys(scale_doc, _KNOWN_SCALE, kp)
    kind = scale_doc.get("type", "ordinal")
    if kind not in ("ordinal", "continuous"):
        c.fail(_join(kp, "type"), f"expected 'ordinal' or 'continuous', got {kind!r}")
    ordinal = kind == "ordinal"
    smin = _number(c, scale_doc, "min", kp, integer=ordinal)
    smax = _number(c, scale_doc, "max", kp, integer=ordinal)
    if smax <= smin:
        c.fail(_join(kp, "max"), f"must be greater than {kp}.min ({smin}), got {smax}")
    if ordinal and smax - smin > 1000:
        c.fail(
            kp,
            f"{smax - smin + 1} levels; an ordinal scale has at most 1001 "
            "(declare 'type: continuous' for a measurement scale)",
        )
    raw_labels = scale_doc.get("labels") or {}
    c.mapping(raw_labels, _join(kp, "labels"))
    labels: dict[float, str] = {}
    for k, v in raw_labels.items():
        try:
            point = float(k)
        except (TypeError, ValueError):
            c.fail(f"{kp}.labels.{k}", "label keys must be points of the scale (numbers)")
        if ordinal and not point.is_integer():
            c.fail(f"{kp}.labels.{k}", "label keys of an ordinal scale must be integers")
        if not smin <= point <= smax:
            c.fail(f"{kp}.labels.{k}", f"point {k} is outside the scale {smin}..{smax}")
        labels[int(point) if point.is_integer() else point] = str(v)
    if ordinal and smax - smin < 1000:
        for level in range(smin, smax + 1):
            labels.setdefault(level, str(level))
    return Scale(smin, smax, dict(sorted(labels.items())), kind=kind)


def _anchors(c: _Checker, dim_doc: dict, kp: str, scale: Scale, labels: dict) -> tuple[Level, ...]:
    """Return the dimension's ``levels`` (one per level) or ``anchors`` (a few points)."""
    has_levels, has_anchors = "levels" in dim_doc, "anchors" in dim_doc
    if has_levels and has_anchors:
        c.fail(
            kp, "give either 'levels' (one per scale level) or 'anchors' (a few points), not both"
        )
    if not has_levels and not has_anchors:
        c.fail(
            _join(kp, "levels"),
            "required key is missing (give 'levels', one per scale level, or 'anchors' at a "
            "few points of the scale)",
        )
    key = "levels" if has_levels else "anchors"
    if has_levels and scale.continuous:
        c.fail(
            _join(kp, "levels"),
            "a continuous scale has no levels; give 'anchors' at a few points instead",
        )
    items = dim_doc[key]
    if not isinstance(items, list) or not items:
        c.fail(
            _join(kp, key),
            "expected a list with one entry per scale level"
            if has_levels
            else "expected a non-empty list of anchored points",
        )
    levels: dict[float, Level] = {}
    for j, lvl_doc in enumerate(items):
        lkp = f"{kp}.{key}[{j}]"
        c.mapping(lvl_doc, lkp)
        c.known_keys(lvl_doc, _KNOWN_LEVEL, lkp)
        score = _number(c, lvl_doc, "score", lkp, integer=not scale.continuous)
        if not scale.min <= score <= scale.max:
            c.fail(
                _join(lkp, "score"),
                f"point {score} is outside the scale {scale.min}..{scale.max}",
            )
        if score in levels:
            c.fail(_join(lkp, "score"), f"duplicate point {score}")
        indicators = lvl_doc.get("indicators") or []
        if not isinstance(indicators, list) or not all(isinstance(s, str) for s in indicators):
            c.fail(_join(lkp, "indicators"), "expected a list of strings")
        levels[score] = Level(
            score=score,
            label=c.text(lvl_doc, "label", lkp, required=False) or labels.get(score, f"{score:g}"),
            anchor=c.text(lvl_doc, "anchor", lkp),
            indicators=tuple(s.strip() for s in indicators),
        )
    if has_levels:
        missing = [s for s in range(int(scale.min), int(scale.max) + 1) if s not in levels]
        if missing:
            shown = missing if len(missing) <= 10 else [*missing[:10], "..."]
            hint = "" if scale.few_levels else "; on a wide scale give 'anchors' at a few points"
            c.fail(
                _join(kp, "levels"),
                f"no anchor for level(s) {shown}; every scale level needs one{hint}",
            )
    elif len(levels) < 2:
        c.fail(_join(kp, "anchors"), "anchor at least two points of the scale (e.g. both ends)")
    return tuple(levels[s] for s in sorted(levels))


def rubric_from_dict(data: Any, path: str | None = None) -> Rubric:
    """Validate a parsed rubric mapping and build a :class:`Rubric`.

    Parameters
    ----------
    data : dict
        The parsed YAML document.
    path : str, optional
        File the data came from, used in error messages.

    Raises
    ------
    RubricError
        Naming the file and the key path of the first problem found.

    Notes
    -----
    ``scale`` has ``min``, ``max``, optional ``labels`` and optional ``type`` (``ordinal``,
    the default: integer levels; ``continuous``: any number in range). A dimension gives
    either ``levels`` (one anchor per level of an ordinal scale) or ``anchors`` (two or more
    anchored points, any scale), and may declare its own ``scale``.

    Examples
    --------
    >>> r = rubric_from_dict({"id": "tiny", "version": "1", "title": "Tiny",
    ...     "scale": {"min": 1, "max": 2, "labels": {1: "Low", 2: "High"}},
    ...     "dimensions": [{"id": "clarity", "name": "Clarity", "description": "Clear?",
    ...         "levels": [{"score": 1, "anchor": "Unclear"}, {"score": 2, "anchor": "Clear"}]}]})
    >>> r.dimension_ids, r.scale.values.tolist()
    (('clarity',), [1, 2])
    >>> r = rubric_from_dict({"id": "slider", "version": "1", "title": "Slider",
    ...     "scale": {"min": 0, "max": 100},
    ...     "dimensions": [{"id": "quality", "name": "Quality", "description": "Good?",
    ...         "anchors": [{"score": 0, "anchor": "Useless"}, {"score": 100, "anchor": "Perfect"}]}]})
    >>> r.scale.describe(), r.scale.few_levels
    ('0-100 (101 levels)', False)
    """
    c = _Checker(path)
    doc = c.mapping(data, "")
    c.known_keys(doc, _KNOWN_TOP, "")
    rubric_id = c.text(doc, "id", "")
    if not _ID_RE.match(rubric_id):
        c.fail("id", f"{rubric_id!r} must be lower-case letters, digits and underscores")
    version = c.text(doc, "version", "")
    title = c.text(doc, "title", "")
    scale = _scale(c, c.required(doc, "scale", ""), "scale")

    # optional extra score labels used by scorecard exports, e.g. {"Strong Hire": 4, "Hire": 3}
    raw_extra = doc.get("labels") or {}
    c.mapping(raw_extra, "labels")
    score_labels: dict[str, float] = {}
    for k, v in raw_extra.items():
        # a number; whether it is a level of a dimension's scale is checked per rating
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v != v:
            c.fail(f"labels.{k}", f"must be a score (a number), got {v!r}")
        score_labels[str(k)] = v

    dims_doc = c.required(doc, "dimensions", "")
    if not isinstance(dims_doc, list) or not dims_doc:
        c.fail("dimensions", "expected a non-empty list of dimensions")
    dimensions: list[Dimension] = []
    seen: set[str] = set()
    for i, dim_doc in enumerate(dims_doc):
        kp = f"dimensions[{i}]"
        c.mapping(dim_doc, kp)
        c.known_keys(dim_doc, _KNOWN_DIM, kp)
        dim_id = c.text(dim_doc, "id", kp)
        if not _ID_RE.match(dim_id):
            c.fail(
                _join(kp, "id"), f"{dim_id!r} must be lower-case letters, digits and underscores"
            )
        if dim_id in seen:
            c.fail(_join(kp, "id"), f"duplicate dimension id {dim_id!r}")
        seen.add(dim_id)
        weight = dim_doc.get("weight", 1.0)
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or weight < 0:
            c.fail(_join(kp, "weight"), f"expected a non-negative number, got {weight!r}")
        own = _scale(c, dim_doc["scale"], _join(kp, "scale")) if "scale" in dim_doc else None
        dim_scale = own or scale
        levels = _anchors(c, dim_doc, kp, dim_scale, dict(dim_scale.labels))
        signals = dim_doc.get("signals")
        if signals is not None and not isinstance(signals, dict):
            c.fail(_join(kp, "signals"), "expected a mapping")
        dimensions.append(
            Dimension(
                id=dim_id,
                name=c.text(dim_doc, "name", kp),
                description=c.text(dim_doc, "description", kp),
                weight=float(weight),
                levels=levels,
                signals=signals,
                scale=None if own is None or own == scale else own,
            )
        )
    canonical = json.dumps(doc, sort_keys=True, default=str, ensure_ascii=False)
    return Rubric(
        id=rubric_id,
        version=version,
        title=title,
        scale=scale,
        dimensions=tuple(dimensions),
        score_labels=score_labels,
        content_hash=hashlib.sha256(canonical.encode("utf-8")).hexdigest(),
        source_path=path,
    )


def load_rubric(path: str | Path) -> Rubric:
    """Load and validate a rubric YAML file.

    Parameters
    ----------
    path : str or Path
        A rubric file such as ``rubrics/ml_interview_v1.yaml``.

    Returns
    -------
    Rubric
        With ``content_hash`` = SHA-256 of the canonical JSON of the document.

    Raises
    ------
    RubricError
        If the file is missing, is not YAML, or fails validation (names file and key path).

    Examples
    --------
    >>> rubric = load_rubric("rubrics/ml_interview_v1.yaml")  # doctest: +SKIP
    >>> rubric.scale.values  # doctest: +SKIP
    array([1, 2, 3, 4])
    """
    p = Path(path)
    if not p.is_file():
        raise RubricError("rubric file not found", path=str(p))
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise RubricError(f"not UTF-8 text ({exc})", path=str(p)) from exc
    try:
        data = load_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise RubricError(
            f"invalid YAML{where}: {getattr(exc, 'problem', exc)}", path=str(p)
        ) from exc
    return rubric_from_dict(data, path=str(p))


def _scale_to_dict(scale: Scale) -> dict:
    out: dict[str, Any] = {"min": scale.min, "max": scale.max, "labels": dict(scale.labels)}
    if scale.continuous:
        out["type"] = "continuous"
    return out


def rubric_to_dict(rubric: Rubric) -> dict:
    """Return the rubric as a plain mapping in the YAML file's shape (for saving beside a store).

    A few-level ordinal dimension anchored at every level is written with ``levels``; any
    other with ``anchors``. ``rubric_from_dict(rubric_to_dict(r))`` rebuilds an equal rubric.
    """

    def points(d: Dimension) -> tuple[str, list]:
        s = d.scale or rubric.scale
        full = not s.continuous and len(d.levels) == s.n_levels
        return ("levels" if full else "anchors"), [
            {
                "score": lv.score,
                "label": lv.label,
                "anchor": lv.anchor,
                "indicators": list(lv.indicators),
            }
            for lv in d.levels
        ]

    dims = []
    for d in rubric.dimensions:
        key, pts = points(d)
        dims.append(
            {
                "id": d.id,
                "name": d.name,
                "description": d.description,
                "weight": d.weight,
                **({"scale": _scale_to_dict(d.scale)} if d.scale is not None else {}),
                key: pts,
                **({"signals": d.signals} if d.signals is not None else {}),
            }
        )
    return {
        "id": rubric.id,
        "version": rubric.version,
        "title": rubric.title,
        "scale": _scale_to_dict(rubric.scale),
        "dimensions": dims,
        **({"labels": dict(rubric.score_labels)} if rubric.score_labels else {}),
    }
