"""Agreement engine: inter-rater statistics, exact and vectorised, with confidence intervals.

Every statistic takes a wide ``(n_units, n_raters)`` matrix (rows transcripts, columns
raters, NaN for a missing rating) and returns a float; :func:`agreement_table` works on the
long ratings table of :mod:`calib.io`. Degenerate input policy (one documented rule):

* fewer than 2 raters (columns), an empty matrix, non-numeric or infinite values, or more
  columns than rows without ``allow_wide=True`` (a probable transposition): ``DataValidationError``;
* no unit with two ratings, no variation (a single category), fewer than 2 complete units
  for ICC: NaN plus a :class:`calib.errors.CalibWarning` naming the cause;
* units with no rating at all are ignored by every statistic.

Human-machine evaluation (:func:`human_machine_metrics`, :func:`prmse`) follows RSMTool's
names and definitions and takes 1-D score vectors instead.

Examples
--------
>>> from calib.agreement import krippendorff_alpha
>>> data = [[1, 1, 2], [2, 2, 2], [3, 4, 4], [4, 4, 4], [1, 2, 1]]  # SYNTHETIC, 5 transcripts x 3 raters
>>> round(krippendorff_alpha(data, level="ordinal", values=[1, 2, 3, 4]), 3)
0.819

See ``docs/agreement.md`` for formulas, sources and interpretation bands.
"""

from calib.agreement._alpha import krippendorff_alpha
from calib.agreement._bootstrap import (
    DEFAULT_N_BOOT,
    DEFAULT_SEED,
    STATISTICS,
    BootstrapResult,
    bootstrap_ci,
)
from calib.agreement._human_machine import HumanMachineResult, human_machine_metrics, prmse
from calib.agreement._icc import icc, icc_table
from calib.agreement._icc_design import ICC_FORMS, crossed_icc, design_icc, one_way_icc
from calib.agreement._kappa import (
    ConfidenceInterval,
    brennan_prediger,
    chance_corrected_ci,
    cohen_kappa,
    cohen_kappa_ci,
    conger_kappa,
    fleiss_kappa,
    fleiss_kappa_by_category,
    gwet_ac,
    mean_pairwise_kappa,
    percent_agreement,
    scott_pi,
)
from calib.agreement._table import (
    BANDS,
    MIN_VERDICT_UNITS,
    agreement_table,
    interpretation_band,
    reliability_verdict,
)

__all__ = [
    "DEFAULT_N_BOOT",
    "DEFAULT_SEED",
    "krippendorff_alpha",
    "icc",
    "icc_table",
    "design_icc",
    "one_way_icc",
    "crossed_icc",
    "ICC_FORMS",
    "cohen_kappa",
    "cohen_kappa_ci",
    "chance_corrected_ci",
    "scott_pi",
    "fleiss_kappa",
    "fleiss_kappa_by_category",
    "conger_kappa",
    "gwet_ac",
    "brennan_prediger",
    "percent_agreement",
    "mean_pairwise_kappa",
    "bootstrap_ci",
    "human_machine_metrics",
    "HumanMachineResult",
    "prmse",
    "agreement_table",
    "interpretation_band",
    "reliability_verdict",
    "MIN_VERDICT_UNITS",
    "BANDS",
    "BootstrapResult",
    "ConfidenceInterval",
    "STATISTICS",
]
