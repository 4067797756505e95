"""SYNTHETIC interviewer scores for a reference set, with planted accuracy effects.

For tests, benchmarks and the walk-through in ``docs/training.md`` only: no real person's
scores. Each interviewer's score on transcript ``j``, dimension ``k`` is

``x_jk = clip(round(t_jk + elevation + dimension_bias[k] + transcript_bias[j] + e_jk))``,
``e_jk ~ N(0, noise²)``

with ``t`` the reference score, rounded to the rubric's levels and clipped to its scale.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from calib.errors import ConfigError
from calib.rubric import Rubric
from calib.training._reference import ReferenceSet

__all__ = ["simulate_round"]

_EFFECTS = {"elevation", "dimension_bias", "transcript_bias", "noise"}


def simulate_round(
    reference_set: ReferenceSet,
    rubric: Rubric,
    interviewers: Mapping[str, Mapping[str, Any]],
    seed: int = 0,
    run_id: str | None = None,
) -> pd.DataFrame:
    """SYNTHETIC scores of ``interviewers`` on every transcript x dimension of a reference set.

    Parameters
    ----------
    reference_set : ReferenceSet
    rubric : Rubric
        Gives the scale (scores are rounded to its levels and clipped to it).
    interviewers : mapping
        ``{rater_id: effects}`` with optional keys ``elevation`` (levels added everywhere),
        ``dimension_bias`` (``{dimension: levels}``), ``transcript_bias`` (``{transcript_id:
        levels}``) and ``noise`` (sd of the per-score error, default 0.3).
    seed : int
        Seed of the random generator (same seed, same scores).
    run_id : str, optional
        Written to the ``run_id`` column (a round tag).

    Returns
    -------
    pandas.DataFrame
        Long ratings in the ``calib ingest`` layout: ``transcript_id, rater_id, rater_type,
        dimension, score, rubric_id, rubric_version, rated_at, rationale, run_id``.

    Examples
    --------
    >>> simulate_round(rs, rubric, {"ann": {"elevation": 1.0}}, seed=1)  # doctest: +SKIP
    """
    rng = np.random.default_rng(seed)
    ref = reference_set.reference
    rows = []
    for rater, eff in interviewers.items():
        bad = set(eff) - _EFFECTS
        if bad:
            raise ConfigError(
                f"interviewer {rater!r}: unknown effect(s) {sorted(bad)}; known: {sorted(_EFFECTS)}"
            )
        noise = float(eff.get("noise", 0.3))
        dim_bias = dict(eff.get("dimension_bias", {}))
        tr_bias = dict(eff.get("transcript_bias", {}))
        latent = (
            ref["reference_score"].to_numpy(dtype=float)
            + float(eff.get("elevation", 0.0))
            + ref["dimension"].map(lambda d, b=dim_bias: float(b.get(d, 0.0))).to_numpy()
            + ref["transcript_id"].map(lambda t, b=tr_bias: float(b.get(t, 0.0))).to_numpy()
            + rng.normal(0.0, noise, len(ref))
        )
        score = np.clip(np.round(latent), rubric.scale.min, rubric.scale.max)
        rows.append(
            pd.DataFrame(
                {
                    "transcript_id": ref["transcript_id"].to_numpy(),
                    "rater_id": str(rater),
                    "rater_type": "human",
                    "dimension": ref["dimension"].to_numpy(),
                    "score": score.astype(int),
                    "rubric_id": rubric.id,
                    "rubric_version": rubric.version,
                    "rated_at": "2026-12-01T10:00:00Z",
                    "rationale": "",
                    "run_id": run_id or "",
                }
            )
        )
    return pd.concat(rows, ignore_index=True)
