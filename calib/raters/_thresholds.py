"""The one place where rater-effect flagging thresholds live (documented in docs/raters.md).

Override any of them by passing ``thresholds={...}`` to :func:`calib.raters.rater_effects`.
"""

from __future__ import annotations

from types import MappingProxyType

__all__ = ["REFERENCE_SPAN", "THRESHOLDS", "thresholds_for_scale"]

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


#: The scale the point thresholds above were set on: a 1-4 rubric, 3 points wide.
REFERENCE_SPAN = 3.0


def thresholds_for_scale(span: float) -> dict[str, float]:
    """:data:`THRESHOLDS` with every score-point threshold rescaled to a scale ``span`` wide.

    The point thresholds (``severity_points``, ``subgroup_points``,
    ``drift_points_per_30_days``) were set on a 1-4 scale (:data:`REFERENCE_SPAN` = 3 points
    wide); on another scale they keep the same share of the scale's width, so 0.2 points on
    1-4 is 0.27 on 1-5 and 6.7 on 0-100. Logit, mean-square, ratio, correlation and count
    thresholds are scale-free and unchanged.

    Examples
    --------
    >>> round(thresholds_for_scale(100)["severity_points"], 2), thresholds_for_scale(3)["alpha"]
    (6.67, 0.05)
    """
    factor = float(span) / REFERENCE_SPAN
    return {
        k: (float(f"{v * factor:.3g}") if k.endswith("_points") or "_points_" in k else v)
        for k, v in THRESHOLDS.items()
    }
