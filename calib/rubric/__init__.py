"""Versioned rubrics: load and validate YAML, compare versions.

Examples
--------
>>> from calib.rubric import load_rubric
>>> rubric = load_rubric("rubrics/ml_interview_v1.yaml")  # doctest: +SKIP
>>> rubric.dimension_ids  # doctest: +SKIP
('problem_framing', 'structure', 'data', 'modeling', 'evaluation', 'tradeoffs', 'communication', 'adaptability')
"""

from calib.rubric._diff import diff_rubrics
from calib.rubric._load import load_rubric, rubric_from_dict, rubric_to_dict
from calib.rubric._model import FEW_LEVELS, Dimension, Level, Rubric, Scale

__all__ = [
    "FEW_LEVELS",
    "Dimension",
    "Level",
    "Rubric",
    "Scale",
    "diff_rubrics",
    "load_rubric",
    "rubric_from_dict",
    "rubric_to_dict",
]
