"""Graders: turn (transcripts, rubric) into rows of the long ratings table.

- :class:`RuleGrader` -- transparent rules declared in the rubric's ``signals:`` blocks,
  with quoted evidence for every score.
- :class:`Grader`, :class:`GradeResult` -- the shared interface (LLM judges live in
  :mod:`calib.graders.llm`, installed with the ``[llm]`` extra).

Example
-------
>>> from calib.graders import RuleGrader
>>> from calib.rubric import load_rubric
>>> rubric = load_rubric("rubrics/ml_interview_v1.yaml")  # doctest: +SKIP
>>> result = RuleGrader.from_rubric(rubric).grade(transcripts, rubric)  # doctest: +SKIP
"""

from calib.graders.base import RATING_COLUMNS, GradeResult, Grader, canonical_json, config_hash
from calib.graders.rules import RuleGrader, candidate_word_counts, explode_turns, parse_signals
from calib.graders.llm import LLMGrader  # needs httpx (extra [llm]) only when it calls an endpoint

__all__ = [
    "RATING_COLUMNS",
    "GradeResult",
    "Grader",
    "LLMGrader",
    "RuleGrader",
    "candidate_word_counts",
    "canonical_json",
    "config_hash",
    "explode_turns",
    "parse_signals",
]
