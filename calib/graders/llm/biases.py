"""LLM-judge bias checks in one call, for ``calib validate-grader`` and the report.

Combines, for one LLM grader (and optionally a second run of the same judge with another
prompt template): self-consistency across samples, prompt sensitivity between the two
template versions, and -- where logprobs were recorded -- the calibration of the judge's
confidence against agreement with the human consensus.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import pandas as pd

from calib.errors import CalibWarning, DataValidationError
from calib.graders.llm.calibration import JudgeCalibration, judge_calibration
from calib.graders.llm.consistency import prompt_sensitivity, self_consistency

__all__ = ["JudgeBiases", "judge_biases"]


@dataclass(frozen=True)
class JudgeBiases:
    """``self_consistency`` (per dimension; empty with one sample), ``prompt_sensitivity``
    (per dimension; None without a second grader) and ``calibration`` (None without logprobs).
    """

    self_consistency: pd.DataFrame
    prompt_sensitivity: pd.DataFrame | None
    calibration: JudgeCalibration | None


def judge_biases(
    llm_outputs: pd.DataFrame,
    ratings: pd.DataFrame,
    rater_id: str,
    *,
    other_rater_id: str | None = None,
    scale_values=(1, 2, 3, 4),
    n_bins: int = 10,
) -> JudgeBiases:
    """Self-consistency, prompt sensitivity and confidence calibration of one LLM grader.

    Parameters
    ----------
    llm_outputs : DataFrame
        The store's ``llm_outputs`` table (any number of graders).
    ratings : DataFrame
        The long ratings table (humans and graders).
    rater_id : str
        The LLM grader to examine.
    other_rater_id : str, optional
        The same judge run with another prompt template (e.g. ``--template v2``).
    scale_values : sequence of int
        ``rubric.scale.values``.
    n_bins : int
        Bins of the reliability table.

    Raises
    ------
    DataValidationError
        When ``rater_id`` (or ``other_rater_id``) has no rows.

    Examples
    --------
    >>> out = pd.DataFrame({"rater_id": ["llm-a"] * 2, "transcript_id": ["t", "t"], "dimension": ["d", "d"],
    ...                     "sample": [0, 1], "score": [3.0, 3.0], "confidence": [float("nan")] * 2})
    >>> judge_biases(out, pd.DataFrame(columns=["transcript_id", "dimension", "rater_id", "rater_type", "score"]),
    ...              "llm-a").self_consistency["all_agree"].tolist()
    [1.0]
    """
    mine = llm_outputs[llm_outputs["rater_id"] == rater_id]
    if mine.empty:
        raise DataValidationError(f"llm_outputs: no rows for grader {rater_id!r}")
    sc = self_consistency(mine)
    sens = None
    if other_rater_id is not None:
        a = ratings[ratings["rater_id"] == rater_id]
        b = ratings[ratings["rater_id"] == other_rater_id]
        if a.empty or b.empty:
            missing = rater_id if a.empty else other_rater_id
            raise DataValidationError(f"ratings: no rows for grader {missing!r}")
        sens = prompt_sensitivity(a, b, list(scale_values))
    cal = None
    if "confidence" in mine.columns and mine["confidence"].notna().any():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CalibWarning)
            cal = judge_calibration(mine, ratings, n_bins=n_bins)
    return JudgeBiases(self_consistency=sc, prompt_sensitivity=sens, calibration=cal)
