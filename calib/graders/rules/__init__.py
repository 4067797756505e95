"""Transparent rule-based grader: signals declared in the rubric YAML, quoted evidence per score.

See ``docs/graders.md`` for the ``signals:`` schema.
"""

from calib.graders.rules._grader import ENGINE_VERSION, RuleGrader, ratings_frame
from calib.graders.rules._schema import (
    DimensionSignals,
    Matcher,
    Rule,
    compile_matcher,
    parse_signals,
)
from calib.graders.rules._turns import candidate_word_counts, explode_turns

__all__ = [
    "ENGINE_VERSION",
    "DimensionSignals",
    "Matcher",
    "Rule",
    "RuleGrader",
    "candidate_word_counts",
    "compile_matcher",
    "explode_turns",
    "parse_signals",
    "ratings_frame",
]
