"""Graders: turn (transcripts, rubric) into rows of the long ratings table, and validate them.

- :class:`RuleGrader` -- transparent rules declared in the rubric's ``signals:`` blocks,
  with quoted evidence for every score (see ``docs/graders.md``).
- :class:`LengthGrader` -- the length-only baseline every grader must beat.
- :func:`calibrate_rule_grader` -- fit the rule thresholds to the human consensus.
- :func:`validate_grader` -- per-dimension pass/fail against the humans (RSMTool metrics,
  bootstrap CIs, length bias, subgroup differences, Williamson et al. 2012 criteria).
- :class:`Grader`, :class:`GradeResult` -- the shared interface (LLM judges live in
  :mod:`calib.graders.llm`, installed with the ``[llm]`` extra).

Example
-------
>>> from calib.graders import RuleGrader, validate_grader
>>> from calib.rubric import load_rubric
>>> rubric = load_rubric("rubrics/ml_interview_v1.yaml")  # doctest: +SKIP
>>> result = RuleGrader.from_rubric(rubric).grade(transcripts, rubric)  # doctest: +SKIP
"""

from calib.graders._write import write_grades
from calib.graders.base import RATING_COLUMNS, Grader, GradeResult, canonical_json, config_hash
from calib.graders.baseline import LengthGrader, quantile_thresholds
from calib.graders.calibrate import CalibrationResult, calibrate_rule_grader, fit_thresholds
from calib.graders.rules import RuleGrader, candidate_word_counts, explode_turns, parse_signals
from calib.graders.validate import (
    Criteria,
    ValidationResult,
    fairness_metrics,
    human_consensus,
    length_bias,
    subgroup_dsm,
    validate_grader,
)

__all__ = [
    "RATING_COLUMNS",
    "CalibrationResult",
    "Criteria",
    "GradeResult",
    "Grader",
    "LengthGrader",
    "RuleGrader",
    "ValidationResult",
    "calibrate_rule_grader",
    "candidate_word_counts",
    "canonical_json",
    "config_hash",
    "explode_turns",
    "fairness_metrics",
    "fit_thresholds",
    "human_consensus",
    "length_bias",
    "parse_signals",
    "quantile_thresholds",
    "subgroup_dsm",
    "validate_grader",
    "write_grades",
]
