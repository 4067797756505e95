"""Certification: a documented, configurable gate on accuracy against the reference.

Default gate (``Gate()``), checked on the interviewer's scores of the round's reference set:

* ``min_within_one = 0.90``: exact + adjacent agreement with the reference on at least 90% of
  the scores;
* ``max_abs_bias = 0.5``: on every dimension, the mean deviation from the reference is at most
  half a level either way (the point estimate; its CI is shown beside it);
* ``min_coverage = 1.0``: every transcript x dimension of the set scored;
* ``min_exact`` and ``max_differential_accuracy``: off unless set.

A gate file (YAML or JSON) overrides any of these keys, e.g.::

    min_within_one: 0.85
    max_abs_bias: 0.4
    max_differential_accuracy: 0.6
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import pandas as pd
import yaml

from calib._yaml import load_yaml
from calib.errors import ConfigError

__all__ = ["Gate", "load_gate", "certify"]


@dataclass(frozen=True)
class Gate:
    """Thresholds an interviewer must meet to be certified (``None`` switches a check off)."""

    min_within_one: float | None = 0.90
    max_abs_bias: float | None = 0.5
    min_coverage: float | None = 1.0
    min_exact: float | None = None
    max_differential_accuracy: float | None = None

    def __post_init__(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if v is None:
                continue
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise ConfigError(f"gate: {f.name} must be a number or null, got {v!r}")
            if f.name in ("min_within_one", "min_coverage", "min_exact") and not 0 <= v <= 1:
                raise ConfigError(f"gate: {f.name} is a share between 0 and 1, got {v!r}")
            if v < 0:
                raise ConfigError(f"gate: {f.name} must not be negative, got {v!r}")

    def describe(self) -> list[str]:
        """The active criteria in words."""
        out = []
        if self.min_within_one is not None:
            out.append(
                f"exact + adjacent agreement with the reference >= {100 * self.min_within_one:.0f}%"
            )
        if self.max_abs_bias is not None:
            out.append(f"|bias| <= {self.max_abs_bias:g} level on every dimension")
        if self.min_coverage is not None:
            out.append(f"scored >= {100 * self.min_coverage:.0f}% of the set")
        if self.min_exact is not None:
            out.append(f"exact agreement >= {100 * self.min_exact:.0f}%")
        if self.max_differential_accuracy is not None:
            out.append(f"differential accuracy <= {self.max_differential_accuracy:g}")
        return out

    def to_dict(self) -> dict:
        return asdict(self)


def load_gate(path: str | os.PathLike) -> Gate:
    """Read a gate file (YAML or JSON mapping of :class:`Gate` fields).

    Raises
    ------
    ConfigError
        Unreadable file, not a mapping, unknown key (named) or invalid value.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
        doc = (
            json.loads(text) if p.suffix == ".json" else load_yaml(text)
        )  # strict: no duplicate keys or alias bombs
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"{p}: cannot read the gate file ({exc})") from None
    if not isinstance(doc, dict):
        raise ConfigError(f"{p}: a gate file is a mapping of thresholds")
    known = {f.name for f in fields(Gate)}
    unknown = sorted(set(doc) - known)
    if unknown:
        raise ConfigError(f"{p}: unknown key(s) {unknown}; known: {sorted(known)}")
    try:
        return Gate(**doc)
    except ConfigError as exc:
        raise ConfigError(f"{p}: {exc}") from None


def certify(summary: pd.DataFrame, bias: pd.DataFrame, gate: Gate) -> pd.DataFrame:
    """Pass/fail per interviewer against ``gate``, with every failing criterion in words.

    Parameters
    ----------
    summary, bias : pandas.DataFrame
        ``AccuracyResult.summary`` and ``AccuracyResult.bias``.
    gate : Gate

    Returns
    -------
    pandas.DataFrame
        ``rater_id, certified, failed`` (``"; "``-joined reasons, empty when certified),
        ``max_abs_bias``, ``worst_dimension``.

    Examples
    --------
    >>> s = pd.DataFrame({"rater_id": ["a"], "within_one": [0.8], "coverage": [1.0],
    ...                   "exact": [0.5], "differential_accuracy": [0.4]})
    >>> b = pd.DataFrame({"rater_id": ["a"], "dimension": ["data"], "bias": [0.7]})
    >>> certify(s, b, Gate()).loc[0, "failed"]
    'within one level 80% < 90%; bias on data +0.70 beyond ±0.5'
    """
    rows = []
    for s in summary.itertuples(index=False):
        b = bias[(bias["rater_id"] == s.rater_id) & bias["bias"].notna()]
        failed = []
        if gate.min_within_one is not None and not s.within_one >= gate.min_within_one - 1e-12:
            failed.append(
                f"within one level {100 * s.within_one:.0f}% < {100 * gate.min_within_one:.0f}%"
            )
        if gate.max_abs_bias is not None:
            for r in b.itertuples(index=False):
                if abs(r.bias) > gate.max_abs_bias + 1e-12:
                    failed.append(
                        f"bias on {r.dimension} {r.bias:+.2f} beyond ±{gate.max_abs_bias:g}"
                    )
        if gate.min_coverage is not None and not s.coverage >= gate.min_coverage - 1e-12:
            failed.append(
                f"scored {100 * s.coverage:.0f}% of the set < {100 * gate.min_coverage:.0f}%"
            )
        if gate.min_exact is not None and not s.exact >= gate.min_exact - 1e-12:
            failed.append(f"exact agreement {100 * s.exact:.0f}% < {100 * gate.min_exact:.0f}%")
        if gate.max_differential_accuracy is not None:
            da = s.differential_accuracy
            if not (math.isfinite(da) and da <= gate.max_differential_accuracy + 1e-12):
                failed.append(
                    f"differential accuracy {da:.2f} > {gate.max_differential_accuracy:g}"
                    if math.isfinite(da)
                    else "differential accuracy not computable (no transcript scored completely)"
                )
        worst = b.loc[b["bias"].abs().idxmax()] if len(b) else None
        rows.append(
            {
                "rater_id": s.rater_id,
                "certified": not failed,
                "failed": "; ".join(failed),
                "max_abs_bias": float(abs(worst["bias"])) if worst is not None else float("nan"),
                "worst_dimension": str(worst["dimension"]) if worst is not None else "",
            }
        )
    return pd.DataFrame(
        rows, columns=["rater_id", "certified", "failed", "max_abs_bias", "worst_dimension"]
    )
