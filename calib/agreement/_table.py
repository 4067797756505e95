"""Per-dimension agreement table from the long ratings table, with shared bootstrap resamples."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from calib.agreement._alpha import _alpha_from_coincidences, alpha_sums
from calib.agreement._bootstrap import DEFAULT_N_BOOT, DEFAULT_SEED, interval
from calib.agreement._core import UnitSums, resample_sums
from calib.agreement._counts import unit_pairs
from calib.agreement._icc_design import design_icc
from calib.agreement._kappa import multirater_sums, pairwise_sums
from calib.errors import CalibWarning, DataValidationError
from calib.io import ANONYMOUS_PREFIX, anonymous_mask
from calib.rubric import Scale

__all__ = [
    "agreement_table",
    "interpretation_band",
    "reliability_verdict",
    "BANDS",
    "MIN_VERDICT_UNITS",
]

# Krippendorff (2004), Content Analysis, 2nd ed., p. 241: rely on alpha >= .800, draw
# tentative conclusions for .667 <= alpha < .800, discard below .667.
BANDS = ((0.800, "reliable"), (0.667, "tentative"), (-np.inf, "unreliable"))

_REQUIRED = ("transcript_id", "rater_id", "dimension", "score")
_BOOTSTRAPPED = (
    "alpha_ordinal",
    "alpha_interval",
    "qwk_mean",
    "exact_agreement",
    "adjacent_agreement",
)


def _scale_of(scales: Any, dim: str) -> Scale | None:
    if scales is None or isinstance(scales, Scale):
        return scales
    return scales.get(dim)


def _kind(scale: Scale | None) -> str:
    """Which statistics fit: "few" (or no scale given), "wide" or "continuous"."""
    if scale is None or scale.few_levels:
        return "few"
    return "continuous" if scale.continuous else "wide"


def interpretation_band(alpha: float) -> str:
    """Krippendorff's band for an alpha: "reliable" (>= .800), "tentative" (>= .667), "unreliable".

    Examples
    --------
    >>> interpretation_band(0.81), interpretation_band(0.7), interpretation_band(0.2)
    ('reliable', 'tentative', 'unreliable')
    """
    if alpha is None or np.isnan(alpha):
        return "undefined"
    return next(label for cut, label in BANDS if alpha >= cut)


#: A reliability verdict needs at least this many transcripts with two or more ratings; below
#: it the verdict is "undetermined" (a bootstrap CI over fewer units is itself unreliable).
MIN_VERDICT_UNITS = 10


def reliability_verdict(
    alpha: float | None,
    low: float | None = None,
    high: float | None = None,
    n_units: int | None = None,
    *,
    cuts: tuple[float, float] = (0.667, 0.800),
    min_units: int = MIN_VERDICT_UNITS,
) -> str:
    """Krippendorff's band for an alpha, or "undetermined" when the evidence cannot place it.

    The band of the point estimate (Krippendorff 2004, *Content Analysis*, 2nd ed., p. 241:
    reliable >= .800, tentative >= .667, unreliable below), unless fewer than ``min_units``
    transcripts have two or more ratings, or the 95% CI ``[low, high]`` reaches into all three
    bands (below the lower cut *and* at or above the upper one), i.e. the data cannot tell a
    reliable dimension from an unreliable one. A CI crossing one cut keeps the estimate's band.
    ``calib agree`` and the report use this one rule.

    Examples
    --------
    >>> reliability_verdict(0.85), reliability_verdict(0.2), reliability_verdict(float("nan"))
    ('reliable', 'unreliable', 'undefined')
    >>> reliability_verdict(0.557, -0.417, 0.903), reliability_verdict(0.9, n_units=6)
    ('undetermined', 'undetermined')
    """
    if alpha is None or not np.isfinite(alpha):
        return "undefined"
    if n_units is not None and n_units < min_units:
        return "undetermined"
    lo_cut, hi_cut = cuts
    if (
        low is not None
        and high is not None
        and np.isfinite(low)
        and np.isfinite(high)
        and low < lo_cut
        and high >= hi_cut
    ):
        return "undetermined"
    return "reliable" if alpha >= hi_cut else "tentative" if alpha >= lo_cut else "unreliable"


#: Mean pairwise QWK is reported only when the rater pairs that meet share at least this many
#: transcripts (median over pairs with two or more), or at least half of the transcripts with
#: two ratings (small complete panels): in crowd designs most pairs meet on one or two items,
#: where a pair's kappa is 0, 1 or undefined, and their mean (and its bootstrap) says nothing
#: about agreement. Alpha and the ICC use every rating instead.
MIN_PAIR_UNITS = 10


def _pair_overlap(x: np.ndarray) -> float:
    """Median number of common transcripts of the rater pairs that share two or more."""
    _, g, h = unit_pairs(x)
    _, cnt = np.unique(g * x.shape[1] + h, return_counts=True)
    cnt = cnt[cnt >= 2]
    return float(np.median(cnt)) if cnt.size else 0.0


def _describe(wide: np.ndarray, ci: float, anonymous: bool = False) -> dict[str, Any]:
    """Counts and the analytic ICC part of a group's row (the form the design supports)."""
    counts = (~np.isnan(wide)).sum(axis=1)
    row: dict[str, Any] = {
        "n_units": int((counts >= 1).sum()),
        "n_pairable": int((counts >= 2).sum()),
        "n_raters": np.nan if anonymous else int((~np.isnan(wide)).any(axis=0).sum()),
        "ratings_per_unit": float(counts[counts >= 1].mean()) if (counts >= 1).any() else np.nan,
    }
    return row | design_icc(wide, ci, anonymous=anonymous)


def _sums(wide: np.ndarray, cats: np.ndarray, kind: str = "few") -> dict[str, UnitSums]:
    """Per-unit sums of the bootstrapped statistics of one group that fit its scale.

    ``kind``: ``"few"`` (ordinal, at most ``FEW_LEVELS`` levels: every statistic), ``"wide"``
    (ordinal with more levels: ordinal and interval alpha), ``"continuous"`` (interval alpha).
    """
    alpha_ord = alpha_sums(wide, "ordinal", cats, allow_wide=True)
    # interval alpha reuses the ordinal coincidence features; only the metric differs
    interval = UnitSums(alpha_ord.features, _interval_finish(cats))
    if kind == "continuous":
        return {"alpha_interval": interval}
    if kind == "wide":
        return {"alpha_ordinal": alpha_ord, "alpha_interval": interval}
    return {
        "alpha_ordinal": alpha_ord,
        "alpha_interval": interval,
        "qwk_mean": pairwise_sums(wide, "quadratic", cats, allow_wide=True),
        "exact_agreement": multirater_sums(wide, "none", None, cats, tolerance=0, allow_wide=True),
        "adjacent_agreement": multirater_sums(
            wide, "none", None, cats, tolerance=1, allow_wide=True
        ),
    }


def _interval_finish(cats: np.ndarray):
    k = cats.size
    return lambda s: _alpha_from_coincidences(s.reshape(-1, k, k), cats, "interval")


def agreement_table(
    ratings: pd.DataFrame,
    by: str | Sequence[str] = "dimension",
    rater_type: str | None = "human",
    categories: Any = None,
    n_boot: int = DEFAULT_N_BOOT,
    seed: int = DEFAULT_SEED,
    ci: float = 0.95,
    unit_info: pd.DataFrame | None = None,
    dimension_order: Sequence[str] | None = None,
    scales: Scale | Mapping[str, Scale] | None = None,
) -> pd.DataFrame:
    """Agreement per rubric dimension (optionally within subgroups) from the long ratings table.

    Parameters
    ----------
    ratings : pandas.DataFrame
        The long ratings table of :mod:`calib.io` (one row per transcript x rater x
        dimension; needs ``transcript_id, rater_id, dimension, score`` and ``rater_type``
        when filtering). Rows with a NaN score (unscored machine rows) are ignored.
    by : str or list of str
        Grouping columns. Agreement is always computed per dimension: ``"dimension"`` gives
        one row per dimension; ``"question_type"`` (or a metadata key) gives one row per
        (question_type, dimension). Columns not in ``ratings`` are looked up in ``unit_info``.
    rater_type : str or None
        Keep only these raters ("human" by default); None keeps every rater.
    categories : array-like, optional
        The category set -- pass the rubric scale (``rubric.scale.values``; the CLI does).
        Default: the observed scores of each group, which can differ between dimensions.
    n_boot : int
        Bootstrap resamples for the CIs (0 = no bootstrap). Units are transcripts.
    seed : int
        Seed of the bootstrap; every group uses the same seed.
    ci : float
        Confidence level.
    unit_info : pandas.DataFrame, optional
        One row per ``transcript_id`` with the extra grouping columns (e.g. ``question_type``
        and metadata keys from :func:`calib.io.metadata_frame`).
    dimension_order : sequence of str, optional
        Row order of the dimensions (the rubric order); default alphabetical.
    scales : Scale or mapping of dimension -> Scale, optional
        The rubric's scale(s) (``rubric.scales``; the CLI and the report pass them). They set
        each dimension's category set (overriding ``categories``) and which statistics fit:
        on a few-level ordinal scale (at most :data:`calib.rubric.FEW_LEVELS` levels) all of
        them, with ordinal alpha as the headline; on a wider ordinal scale (e.g. 0-100)
        ordinal and interval alpha, interval alpha the headline, and no QWK, exact or
        adjacent agreement (NaN: "within one point" and level-by-level kappa weights are
        meaningless on a slider); on a continuous scale interval alpha only (categories =
        the observed values). Without ``scales`` every statistic is computed and ordinal
        alpha is the headline (the behaviour before scales existed).

    Returns
    -------
    pandas.DataFrame
        One row per group: ``n_units`` (transcripts with a rating), ``n_pairable`` (with two
        or more), ``n_raters``, ``ratings_per_unit``; ``alpha_ordinal``, ``alpha_interval``,
        ``qwk_mean`` (mean pairwise quadratic-weighted kappa), ``exact_agreement``,
        ``adjacent_agreement``, each with ``_low``/``_high`` percentile bootstrap bounds;
        ``alpha`` (with bounds) and ``alpha_metric``: the headline alpha for the dimension's
        scale (``"ordinal"`` or ``"interval"``, see ``scales``) and ``scale`` (e.g.
        ``"0-100 (101 levels)"``, empty without ``scales``);
        ``icc`` (one rating) and ``icck`` (the mean of ``icc_k`` ratings) with their bounds, in
        the form the group's design supports, named in ``icc_form``: two-way ICC(A,1) with
        F-based bounds when every transcript with two or more ratings was rated by the same
        raters; one-way ICC(1) (F-based bounds, unbalanced sizes through n0) when each
        transcript has its own raters or the raters are anonymous; ICC(A,1) from REML variance
        components (delta-method bounds) for incomplete crossed designs -- see
        :func:`calib.agreement.design_icc` and docs/agreement.md. ``icc_n_units``: transcripts
        used. NaN only when fewer than two transcripts have two or more ratings. Ratings with a
        missing ``rater_id`` are anonymous slots: agreement is computed, ``n_raters`` is NaN;
        ``band``, Krippendorff's interpretation of the headline ``alpha``, or
        ``undetermined`` when the evidence cannot place it (:func:`reliability_verdict`).

    Notes
    -----
    The units x raters matrix of each group is pivoted from the long table with pandas;
    a transcript rated twice by the same rater on the same dimension is an error. All
    bootstrapped statistics of a group share the same resamples. Bands: Krippendorff
    (2004), p. 241: >= .800 reliable, .667-.800 tentative, < .667 unreliable.

    Examples
    --------
    >>> import pandas as pd
    >>> rows = [("t%d" % t, r, "data", float(s)) for t, (a, b, c) in enumerate(
    ...     [(1, 1, 2), (2, 2, 2), (3, 4, 3), (4, 4, 4), (2, 1, 2), (3, 3, 3)])
    ...     for r, s in zip(("r1", "r2", "r3"), (a, b, c))]
    >>> long = pd.DataFrame(rows, columns=["transcript_id", "rater_id", "dimension", "score"])
    >>> long["rater_type"] = "human"  # SYNTHETIC example ratings
    >>> tab = agreement_table(long, categories=[1, 2, 3, 4], n_boot=200)
    >>> tab[["dimension", "n_units", "alpha_ordinal", "band"]].round(3).to_string(index=False)
    'dimension  n_units  alpha_ordinal         band\\n     data        6          0.872 undetermined'
    """
    if not isinstance(ratings, pd.DataFrame):
        raise DataValidationError(
            "ratings: expected the long ratings DataFrame from calib.io.read_ratings"
        )
    missing = [c for c in _REQUIRED if c not in ratings.columns]
    if missing:
        raise DataValidationError(f"ratings: missing column(s) {missing}")
    groups = [by] if isinstance(by, str) else list(by)
    if "dimension" not in groups:
        groups.append("dimension")
    df = ratings
    if rater_type is not None:
        if "rater_type" not in df.columns:
            raise DataValidationError(
                "ratings: no rater_type column to filter on; pass rater_type=None"
            )
        df = df[df["rater_type"] == rater_type]
    df = df[df["score"].notna()]
    extra = [g for g in groups if g not in df.columns]
    if extra:
        if unit_info is None or any(g not in unit_info.columns for g in extra):
            raise DataValidationError(
                f"by: column(s) {extra} are neither in the ratings nor in unit_info "
                f"(available: {sorted(set(df.columns) | set(unit_info.columns if unit_info is not None else []))})"
            )
        df = df.merge(
            unit_info[["transcript_id", *extra]].drop_duplicates("transcript_id"),
            on="transcript_id",
            how="left",
        )
    # Anonymous ratings (no rater_id: annotation slots) are numbered within each transcript x
    # dimension; their groups get the one-way ICC and no rater count (docs/data-model.md).
    anon = anonymous_mask(df["rater_id"]).to_numpy()
    if anon.any():
        df = df.copy()
        blank = anon & ~df["rater_id"].astype(str).str.startswith(ANONYMOUS_PREFIX).to_numpy()
        if blank.any():  # missing rater_id in a DataFrame: number the slots here
            slot = df[blank].groupby(["transcript_id", "dimension"], sort=False).cumcount() + 1
            df["rater_id"] = df["rater_id"].astype(object)
            df.loc[blank, "rater_id"] = ANONYMOUS_PREFIX + slot.astype(str)
        df["_anonymous"] = anon
    dup = df.duplicated(["transcript_id", "rater_id", "dimension"], keep=False)
    if dup.any():
        first = df[dup].iloc[0]
        raise DataValidationError(
            f"ratings: {int(dup.sum())} rows rate the same transcript/dimension twice by one rater "
            f"(first: transcript_id={first['transcript_id']}, rater_id={first['rater_id']}, "
            f"dimension={first['dimension']})"
        )
    if not 0 < ci < 1:
        raise DataValidationError(f"ci: must be in (0, 1), got {ci}")
    if df.empty:
        raise DataValidationError(
            f"ratings: no scored rows{' for rater_type=' + repr(rater_type) if rater_type else ''}"
        )
    cats = None if categories is None else np.asarray(categories, dtype=float)
    outer = [g for g in groups if g != "dimension"]
    rows = []
    # Transcripts are resampled jointly across the dimensions of a subgroup: every dimension
    # is pivoted onto the same transcript index, so one set of bootstrap weights serves all.
    supers = df.groupby(outer, sort=True, dropna=False) if outer else [((), df)]
    for okey, sub in supers:
        okey = okey if isinstance(okey, tuple) else (okey,)
        units = np.sort(sub["transcript_id"].unique())
        members, stats, keys = [], [], []
        for dim, part in sub.groupby("dimension", sort=True):
            key = dict(zip(outer, okey)) | {"dimension": dim}
            label = ", ".join(f"{g}={k}" for g, k in key.items())
            wide = part.pivot(index="transcript_id", columns="rater_id", values="score")
            x = wide.reindex(index=units).sort_index(axis=1).to_numpy(dtype=float)
            dim_scale = _scale_of(scales, dim)
            kind = _kind(dim_scale)
            if dim_scale is not None:
                group_cats = dim_scale.categories(x)
            else:
                group_cats = cats if cats is not None else np.unique(x[~np.isnan(x)])
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", CalibWarning)
                row = _describe(x, ci, anonymous=bool(anon.any()) and part["_anonymous"].any())
                if x.shape[1] < 2:
                    warnings.warn("only one rater", CalibWarning, stacklevel=2)
                    sums = {}
                else:
                    sums = _sums(x, group_cats, kind)
                    if anon.any() and part["_anonymous"].any():
                        sums.pop("qwk_mean", None)  # pairs of slots are not pairs of raters
                    overlap = _pair_overlap(x) if "qwk_mean" in sums else np.inf
                    n_pair = int(((~np.isnan(x)).sum(axis=1) >= 2).sum())
                    if "qwk_mean" in sums and overlap < min(MIN_PAIR_UNITS, n_pair / 2):
                        sums.pop("qwk_mean")
                        shared = (
                            f"share a median of {overlap:g} transcripts"
                            if overlap
                            else "never share two transcripts"
                        )
                        warnings.warn(
                            f"qwk_mean not computed: rater pairs {shared} (needs "
                            f"{MIN_PAIR_UNITS}); pairwise kappas on so few transcripts are "
                            "noise -- read alpha and the ICC",
                            CalibWarning,
                            stacklevel=2,
                        )
                    for name, st in sums.items():
                        row[name] = st.estimate()
            members.append((key, label, row, sums, caught))
            stats.extend(sums.values())
            keys.extend([dim] * len(sums))
        boots = iter(
            resample_sums(stats, n_boot, seed, groups=keys) if (stats and n_boot > 0) else []
        )
        for key, label, row, sums, caught in members:
            with warnings.catch_warnings(record=True) as more:
                warnings.simplefilter("always", CalibWarning)
                for name in sums:
                    res = (
                        interval(row[name], next(boots), ci, "percentile", statistic=name)
                        if n_boot > 0
                        else None
                    )
                    row[f"{name}_low"] = res.low if res else np.nan
                    row[f"{name}_high"] = res.high if res else np.nan
            causes = sorted(
                {
                    str(w.message).removesuffix("; returning NaN")
                    for w in [*caught, *more]
                    if issubclass(w.category, CalibWarning)
                }
            )
            if causes:
                warnings.warn(
                    f"agreement_table[{label}]: {'; '.join(causes)}", CalibWarning, stacklevel=2
                )
            metric = "ordinal" if kind == "few" else "interval"
            row["alpha_metric"] = metric
            row["scale"] = dim_scale.describe() if dim_scale is not None else ""
            for suffix in ("", "_low", "_high"):
                row[f"alpha{suffix}"] = row.get(f"alpha_{metric}{suffix}", np.nan)
            rows.append({**key, **row})
    out = pd.DataFrame(rows)
    metric_cols = ["n_units", "n_pairable", "n_raters", "ratings_per_unit"]
    for name in _BOOTSTRAPPED:
        metric_cols += [name, f"{name}_low", f"{name}_high"]
    metric_cols += [
        "icc",
        "icc_low",
        "icc_high",
        "icck",
        "icck_low",
        "icck_high",
        "icc_k",
        "icc_form",
        "icc_n_units",
    ]
    metric_cols += ["alpha", "alpha_low", "alpha_high", "alpha_metric", "scale"]
    out = out.reindex(columns=[*groups, *metric_cols])
    out["band"] = [
        reliability_verdict(a, lo, hi, n)
        for a, lo, hi, n in zip(
            out["alpha"], out["alpha_low"], out["alpha_high"], out["n_pairable"], strict=True
        )
    ]
    if dimension_order is not None:
        order = {d: i for i, d in enumerate(dimension_order)}
        out = (
            out.assign(_o=out["dimension"].map(order).fillna(len(order)))
            .sort_values([*outer, "_o", "dimension"], kind="stable")
            .drop(columns="_o")
        )
    return out.reset_index(drop=True)
