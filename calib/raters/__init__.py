"""calib.raters: who disagrees, how, and what to do about it.

Many-facet Rasch model (:func:`fit_mfrm`), an additive raw-score model (:func:`fit_additive`),
rater-effect diagnostics with documented thresholds (:func:`rater_effects`) and
generalizability theory for reliability planning (:func:`g_study`, :func:`reliability_plan`).
See ``docs/raters.md`` for every statistic and rule of thumb.
"""

from calib.raters._additive import AdditiveResult, fit_additive
from calib.raters._answer import DEFAULT_FLAG_MODEL, EFFECT_LABELS, flag_sentence, flag_summary
from calib.raters._design import (
    NOT_IDENTIFIED,
    DisconnectedDesignError,
    RatersNotIdentifiedError,
    anonymous_rows,
    connectedness,
)
from calib.raters._diagnostics import (
    DRIFT_WINDOW,
    EFFECT_COLUMNS,
    central_tendency,
    drift,
    drift_windows,
    halo,
    rater_effects,
    subgroup_differences,
)
from calib.raters._fairness import (
    DRF_COLUMNS,
    detectable_difference,
    differential_rater_functioning,
)
from calib.raters._gtheory import GStudyResult, g_study, reliability_plan
from calib.raters._mfrm import (
    MAX_RASCH_CATEGORIES,
    MFRMResult,
    ScaleTooWideError,
    fit_mfrm,
    separation_stats,
)
from calib.raters._summary import rater_tables
from calib.raters._thresholds import THRESHOLDS, thresholds_for_scale

__all__ = [
    "DEFAULT_FLAG_MODEL",
    "EFFECT_LABELS",
    "flag_sentence",
    "flag_summary",
    "DRF_COLUMNS",
    "detectable_difference",
    "differential_rater_functioning",
    "DRIFT_WINDOW",
    "MAX_RASCH_CATEGORIES",
    "NOT_IDENTIFIED",
    "RatersNotIdentifiedError",
    "ScaleTooWideError",
    "anonymous_rows",
    "EFFECT_COLUMNS",
    "THRESHOLDS",
    "thresholds_for_scale",
    "AdditiveResult",
    "DisconnectedDesignError",
    "GStudyResult",
    "MFRMResult",
    "central_tendency",
    "connectedness",
    "drift",
    "drift_windows",
    "fit_additive",
    "fit_mfrm",
    "g_study",
    "halo",
    "rater_effects",
    "rater_tables",
    "reliability_plan",
    "separation_stats",
    "subgroup_differences",
]
