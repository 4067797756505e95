"""Unit-level (cluster) bootstrap confidence intervals for any agreement statistic, by name."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats

from calib._defaults import DEFAULT_N_BOOT, DEFAULT_SEED
from calib.agreement._alpha import alpha_sums
from calib.agreement._core import UnitSums, draw_indices, jackknife_sums, resample_sums
from calib.agreement._icc import icc_sums
from calib.agreement._kappa import (
    ConfidenceInterval,
    conger_sums,
    multirater_sums,
    pair_sums,
    pairwise_sums,
)
from calib.agreement._validate import as_matrix
from calib.errors import CalibWarning, DataValidationError

__all__ = [
    "BootstrapResult",
    "bootstrap_ci",
    "interval",
    "STATISTICS",
    "DEFAULT_N_BOOT",
    "DEFAULT_SEED",
]


def _chance(kind: str) -> Callable[..., UnitSums]:
    def build(data, weights=None, categories=None, allow_wide=False):
        return multirater_sums(data, kind, weights, categories, allow_wide=allow_wide)

    return build


def _percent(data, tolerance=0, allow_wide=False):
    return multirater_sums(data, "none", None, None, tolerance=tolerance, allow_wide=allow_wide)


def _pair(chance: str) -> Callable[..., UnitSums]:
    def build(data, weights=None, labels=None, allow_wide=True):
        return pair_sums(data, weights, labels, chance)

    return build


# statistic name -> builder of its per-unit sums; options are the statistic's keyword arguments
STATISTICS: dict[str, Callable[..., UnitSums]] = {
    "krippendorff_alpha": alpha_sums,
    "icc": icc_sums,
    "fleiss_kappa": _chance("fleiss"),
    "gwet_ac": _chance("gwet"),
    "brennan_prediger": _chance("bp"),
    "conger_kappa": conger_sums,
    "percent_agreement": _percent,
    "mean_pairwise_kappa": pairwise_sums,
    "cohen_kappa": _pair("cohen"),
    "scott_pi": _pair("scott"),
}


@dataclass(frozen=True)
class BootstrapResult(ConfidenceInterval):
    """A point estimate with a bootstrap confidence interval.

    Attributes
    ----------
    estimate, low, high : float
        Full-sample statistic and interval bounds.
    se : float
        Standard deviation of the bootstrap distribution.
    ci : float
        Confidence level.
    method : str
        "percentile" or "bca".
    n_boot, n_valid : int
        Resamples drawn and resamples where the statistic was defined.
    distribution : numpy.ndarray
        The bootstrap replicates (NaN where undefined).
    """

    # estimate, low, high, se, ci and method come from ConfidenceInterval
    n_boot: int
    n_valid: int
    statistic: str
    distribution: np.ndarray = field(repr=False, compare=False)


def interval(
    estimate: float,
    boot: np.ndarray,
    ci: float,
    method: str,
    jack: np.ndarray | None = None,
    statistic: str = "statistic",
) -> BootstrapResult:
    """Percentile or BCa interval from bootstrap replicates (and jackknife replicates for BCa)."""
    valid = boot[~np.isnan(boot)]
    n_boot = boot.size
    if valid.size < n_boot:
        warnings.warn(
            f"{statistic}: undefined in {n_boot - valid.size} of {n_boot} resamples; the interval uses the rest",
            CalibWarning,
            stacklevel=3,
        )
    if np.isnan(estimate) or valid.size < 2:
        return BootstrapResult(
            float(estimate),
            np.nan,
            np.nan,
            np.nan,
            ci,
            method,
            n_boot,
            int(valid.size),
            statistic,
            boot,
        )
    a = (1 - ci) / 2
    probs = np.array([a, 1 - a])
    if method == "bca":
        # Efron (1987): bias correction z0 from the share below the estimate, acceleration from
        # the jackknife skewness; degenerate (no spread) falls back to percentile.
        prop = (np.sum(valid < estimate) + 0.5 * np.sum(valid == estimate)) / valid.size
        z0 = stats.norm.ppf(np.clip(prop, 1e-10, 1 - 1e-10))
        j = jack[~np.isnan(jack)] if jack is not None else np.empty(0)
        d = j.mean() - j if j.size else np.zeros(1)
        denom = 6.0 * (d**2).sum() ** 1.5
        acc = (d**3).sum() / denom if denom > 0 else 0.0
        z = stats.norm.ppf(probs)
        probs = stats.norm.cdf(z0 + (z0 + z) / (1 - acc * (z0 + z)))
    low, high = np.quantile(valid, probs)
    return BootstrapResult(
        float(estimate),
        float(low),
        float(high),
        float(valid.std(ddof=1)),
        ci,
        method,
        n_boot,
        int(valid.size),
        statistic,
        boot,
    )


def bootstrap_ci(
    data: Any,
    statistic: str | Callable[..., float] = "krippendorff_alpha",
    n_boot: int = DEFAULT_N_BOOT,
    seed: int | np.random.Generator = DEFAULT_SEED,
    ci: float = 0.95,
    method: str = "percentile",
    **options: Any,
) -> BootstrapResult:
    """Unit-level (cluster) bootstrap confidence interval for an agreement statistic.

    Units (rows) are resampled with replacement, keeping each unit's ratings together --
    the right scheme when units are transcripts and raters are fixed (Krippendorff's own
    bootstrap resamples pairable values instead). The category set / value domain is fixed
    to the full sample's (or to the ``categories``/``values`` you pass), so every resample
    is measured on the same scale.

    Parameters
    ----------
    data : array-like, shape (n_units, n_raters)
        Rows are units, columns raters, NaN a missing rating. For ``cohen_kappa`` and
        ``scott_pi`` pass the two raters as the two columns.
    statistic : str or callable
        One of ``STATISTICS`` (krippendorff_alpha, icc, fleiss_kappa, gwet_ac,
        brennan_prediger, conger_kappa, percent_agreement, mean_pairwise_kappa, cohen_kappa,
        scott_pi), computed in closed form per resample as a weighted sum of per-unit
        contributions; or any callable ``f(matrix, **options) -> float`` (evaluated per
        resample, slower).
    n_boot : int
        Number of resamples.
    seed : int or numpy.random.Generator
        Seed of the numpy Generator; the same seed gives the same interval.
    ci : float
        Confidence level in (0, 1).
    method : {"percentile", "bca"}
        Percentile interval, or bias-corrected and accelerated (Efron 1987) with a
        leave-one-unit-out jackknife for the acceleration.
    **options
        Keyword arguments of the statistic (``level=``, ``values=``, ``form=``,
        ``weights=``, ``categories=``, ``tolerance=``...).

    Returns
    -------
    BootstrapResult
        ``.estimate``, ``.low``, ``.high``, ``.se`` and the replicates. Resamples where the
        statistic is undefined are dropped with a CalibWarning.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> truth = rng.integers(1, 5, size=200)
    >>> data = np.clip(truth[:, None] + rng.integers(-1, 2, size=(200, 3)), 1, 4)  # synthetic
    >>> r = bootstrap_ci(data, "krippendorff_alpha", level="ordinal", n_boot=200, seed=1)
    >>> r.low < r.estimate < r.high
    True
    """
    if not isinstance(n_boot, (int, np.integer)) or n_boot < 1:
        raise DataValidationError(f"n_boot: must be a positive integer, got {n_boot!r}")
    if not 0 < ci < 1:
        raise DataValidationError(f"ci: must be in (0, 1), got {ci}")
    if method not in ("percentile", "bca"):
        raise DataValidationError(f"method: must be 'percentile' or 'bca', got {method!r}")
    if callable(statistic):
        return _generic(data, statistic, n_boot, seed, ci, method, options)
    if statistic not in STATISTICS:
        raise DataValidationError(
            f"statistic: unknown {statistic!r}; choose one of {sorted(STATISTICS)}"
        )
    if statistic == "krippendorff_alpha" and _too_many_values(data, options.get("values")):
        # per-unit coincidence features are K x K per unit: for near-continuous ratings use
        # the (slower, memory-light) resample loop on the public function instead
        from calib.agreement._alpha import krippendorff_alpha

        return _generic(
            data,
            lambda m, **o: krippendorff_alpha(m, allow_wide=True, **o),
            n_boot,
            seed,
            ci,
            method,
            {k: v for k, v in options.items() if k != "allow_wide"},
        )
    st = STATISTICS[statistic](data, **options)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CalibWarning)
        estimate = st.estimate()
    (boot,) = resample_sums([st], n_boot, seed)
    jack = jackknife_sums(st) if method == "bca" else None
    return interval(estimate, boot, ci, method, jack, statistic)


_MAX_FEATURE_CELLS = 20_000_000


def _too_many_values(data: Any, values: Any) -> bool:
    x = as_matrix(data, allow_wide=True)
    k = (
        np.unique(np.asarray(values, dtype=float)).size
        if values is not None
        else np.unique(x[~np.isnan(x)]).size
    )
    return x.shape[0] * k * k > _MAX_FEATURE_CELLS


def _generic(data, func, n_boot, seed, ci, method, options) -> BootstrapResult:
    x = as_matrix(data, allow_wide=True)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    name = getattr(func, "__name__", "statistic")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CalibWarning)
        estimate = float(func(x, **options))
        idx = np.concatenate(list(draw_indices(rng, len(x), n_boot)))
        boot = np.array([func(x[i], **options) for i in idx], dtype=float)
        jack = None
        if method == "bca":
            keep = ~np.eye(len(x), dtype=bool)
            jack = np.array([func(x[k], **options) for k in keep], dtype=float)
    return interval(estimate, boot, ci, method, jack, name)
