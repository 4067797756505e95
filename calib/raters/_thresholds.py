"""The one place where rater-effect flagging thresholds live (documented in docs/raters.md).

Override any of them by passing ``thresholds={...}`` to :func:`calib.raters.rater_effects`.
"""

from __future__ import annotations

from types import MappingProxyType

__all__ = ["THRESHOLDS"]

THRESHOLDS = MappingProxyType(
    {
        # Family-wise error rate for every tested flag (Holm step-down within an effect type).
        "alpha": 0.05,
        # Severity/leniency: practical size AND significance. ~0.5 logit is the size FACETS users
        # usually treat as a meaningful rater difference on a 4-point scale; 0.2 points is the same
        # order in raw-score units (a fifth of a rubric level).
        "severity_logits": 0.5,
        "severity_points": 0.2,
        # Rater x dimension interaction (MFRM bias analysis), logits.
        "bias_logits": 0.5,
        # Fit mean-squares: Linacre's "productive for measurement" range 0.5-1.5.
        "fit_low": 0.5,
        "fit_high": 1.5,
        # Central tendency / restriction of range: rater's spread (SD of rater-centred scores) over
        # the other raters' spread on the same transcript x dimension cells.
        "spread_ratio_low": 0.8,
        "spread_ratio_low_per_dimension": 0.7,  # per-dimension cells are smaller, so stricter
        # Halo: rater's mean inter-dimension correlation minus the other raters' on the same
        # transcripts.
        "halo_excess": 0.15,
        # Drift: |slope| of the rater's mean residual per transcript over time, points per 30 days.
        "drift_points_per_30_days": 0.1,
        # Differential severity by subgroup: |difference| in mean residual between a subgroup and
        # the rater's other candidates, score points.
        "subgroup_points": 0.2,
        # ... and its family-wise error rate (Holm over every rater x dimension x attribute
        # test): stricter than "alpha" because a false fairness flag accuses a rater of bias.
        "subgroup_alpha": 0.01,
        # Cells with fewer ratings than this are reported but never flagged.
        "min_ratings": 20,
    }
)
