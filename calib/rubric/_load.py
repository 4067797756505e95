"""Load and validate rubric YAML files; every error names the file and the key path."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import yaml

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
_KNOWN_DIM = {"id", "name", "description", "weight", "levels", "signals"}
_KNOWN_LEVEL = {"score", "label", "anchor", "indicators"}


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

    Examples
    --------
    >>> r = rubric_from_dict({"id": "tiny", "version": "1", "title": "Tiny",
    ...     "scale": {"min": 1, "max": 2, "labels": {1: "Low", 2: "High"}},
    ...     "dimensions": [{"id": "clarity", "name": "Clarity", "description": "Clear?",
    ...         "levels": [{"score": 1, "anchor": "Unclear"}, {"score": 2, "anchor": "Clear"}]}]})
    >>> r.dimension_ids, r.scale.values.tolist()
    (('clarity',), [1, 2])
    """
    c = _Checker(path)
    doc = c.mapping(data, "")
    c.known_keys(doc, _KNOWN_TOP, "")
    rubric_id = c.text(doc, "id", "")
    if not _ID_RE.match(rubric_id):
        c.fail("id", f"{rubric_id!r} must be lower-case letters, digits and underscores")
    version = c.text(doc, "version", "")
    title = c.text(doc, "title", "")

    scale_doc = c.mapping(c.required(doc, "scale", ""), "scale")
    smin = c.integer(scale_doc, "min", "scale")
    smax = c.integer(scale_doc, "max", "scale")
    if smax <= smin:
        c.fail("scale.max", f"must be greater than scale.min ({smin}), got {smax}")
    if smax - smin > 100:
        c.fail("scale", "more than 101 levels; calib expects an ordinal rating scale")
    raw_labels = scale_doc.get("labels") or {}
    c.mapping(raw_labels, "scale.labels")
    labels: dict[int, str] = {}
    for k, v in raw_labels.items():
        try:
            level = int(k)
        except (TypeError, ValueError):
            c.fail(f"scale.labels.{k}", "label keys must be scale levels (integers)")
        if not smin <= level <= smax:
            c.fail(f"scale.labels.{k}", f"level {level} is outside the scale {smin}..{smax}")
        labels[level] = str(v)
    for level in range(smin, smax + 1):
        labels.setdefault(level, str(level))
    scale = Scale(smin, smax, dict(sorted(labels.items())))

    # optional extra score labels used by scorecard exports, e.g. {"Strong Hire": 4, "Hire": 3}
    raw_extra = doc.get("labels") or {}
    c.mapping(raw_extra, "labels")
    score_labels: dict[str, int] = {}
    for k, v in raw_extra.items():
        if isinstance(v, bool) or not isinstance(v, int) or not smin <= v <= smax:
            c.fail(f"labels.{k}", f"must be a level of the scale ({smin}..{smax}), got {v!r}")
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
        levels_doc = c.required(dim_doc, "levels", kp)
        if not isinstance(levels_doc, list):
            c.fail(_join(kp, "levels"), "expected a list with one entry per scale level")
        levels: dict[int, Level] = {}
        for j, lvl_doc in enumerate(levels_doc):
            lkp = f"{kp}.levels[{j}]"
            c.mapping(lvl_doc, lkp)
            c.known_keys(lvl_doc, _KNOWN_LEVEL, lkp)
            score = c.integer(lvl_doc, "score", lkp)
            if not smin <= score <= smax:
                c.fail(_join(lkp, "score"), f"level {score} is outside the scale {smin}..{smax}")
            if score in levels:
                c.fail(_join(lkp, "score"), f"duplicate level {score}")
            indicators = lvl_doc.get("indicators") or []
            if not isinstance(indicators, list) or not all(isinstance(s, str) for s in indicators):
                c.fail(_join(lkp, "indicators"), "expected a list of strings")
            levels[score] = Level(
                score=score,
                label=c.text(lvl_doc, "label", lkp, required=False) or labels[score],
                anchor=c.text(lvl_doc, "anchor", lkp),
                indicators=tuple(s.strip() for s in indicators),
            )
        missing = [s for s in range(smin, smax + 1) if s not in levels]
        if missing:
            c.fail(
                _join(kp, "levels"),
                f"no anchor for level(s) {missing}; every scale level needs one",
            )
        signals = dim_doc.get("signals")
        if signals is not None and not isinstance(signals, dict):
            c.fail(_join(kp, "signals"), "expected a mapping")
        dimensions.append(
            Dimension(
                id=dim_id,
                name=c.text(dim_doc, "name", kp),
                description=c.text(dim_doc, "description", kp),
                weight=float(weight),
                levels=tuple(levels[s] for s in sorted(levels)),
                signals=signals,
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
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise RubricError(
            f"invalid YAML{where}: {getattr(exc, 'problem', exc)}", path=str(p)
        ) from exc
    return rubric_from_dict(data, path=str(p))


def rubric_to_dict(rubric: Rubric) -> dict:
    """The rubric as a plain mapping in the YAML file's shape (for saving beside a store)."""
    return {
        "id": rubric.id,
        "version": rubric.version,
        "title": rubric.title,
        "scale": {
            "min": rubric.scale.min,
            "max": rubric.scale.max,
            "labels": dict(rubric.scale.labels),
        },
        "dimensions": [
            {
                "id": d.id,
                "name": d.name,
                "description": d.description,
                "weight": d.weight,
                "levels": [
                    {
                        "score": l.score,
                        "label": l.label,
                        "anchor": l.anchor,
                        "indicators": list(l.indicators),
                    }
                    for l in d.levels
                ],
                **({"signals": d.signals} if d.signals is not None else {}),
            }
            for d in rubric.dimensions
        ],
        **({"labels": dict(rubric.score_labels)} if rubric.score_labels else {}),
    }
