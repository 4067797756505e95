"""Boundary checks shared by every agreement statistic: one wide-matrix policy, one category policy."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from calib.errors import CalibWarning, DataValidationError

__all__ = ["as_matrix", "as_vector_pair", "resolve_categories", "weight_matrix", "warn_nan"]


def as_matrix(
    data: Any, name: str = "data", *, allow_wide: bool = False, min_raters: int = 2
) -> np.ndarray:
    """Return ``data`` as a float64 (n_units, n_raters) array (a copy), NaN = missing.

    A matrix with more columns than rows is refused unless ``allow_wide=True``: the usual
    mistake is passing raters x units (Krippendorff's own layout), which would otherwise
    silently produce a different number.
    """
    if isinstance(data, pd.DataFrame):
        try:
            arr = data.apply(pd.to_numeric, errors="raise").to_numpy(dtype=float, na_value=np.nan)
        except (TypeError, ValueError) as exc:
            raise DataValidationError(f"{name}: ratings must be numeric ({exc})") from None
    else:
        try:
            arr = np.array(data, dtype=float)
        except (TypeError, ValueError) as exc:
            raise DataValidationError(f"{name}: ratings must be numeric ({exc})") from None
    if arr.ndim != 2:
        raise DataValidationError(
            f"{name}: expected a 2-D (n_units, n_raters) matrix, got {arr.ndim}-D with shape {arr.shape}"
        )
    n_units, n_raters = arr.shape
    if n_units == 0:
        raise DataValidationError(f"{name}: no units (0 rows)")
    if n_raters < min_raters:
        raise DataValidationError(
            f"{name}: agreement needs at least {min_raters} raters (columns), got {n_raters}"
        )
    if np.isinf(arr).any():
        raise DataValidationError(f"{name}: contains infinite values; use NaN for a missing rating")
    if n_raters > n_units and not allow_wide:
        raise DataValidationError(
            f"{name}: {n_raters} columns (raters) but only {n_units} rows (units). Rows must be "
            "units and columns raters; if you passed raters x units, pass data.T. If the matrix "
            "really has more raters than units, pass allow_wide=True."
        )
    return arr


def as_vector_pair(a: Any, b: Any) -> tuple[np.ndarray, np.ndarray]:
    """Two equal-length 1-D float arrays (NaN = missing), for the two-rater statistics."""
    out = []
    for name, v in (("a", a), ("b", b)):
        arr = np.asarray(v)
        if arr.ndim != 1:
            raise DataValidationError(
                f"{name}: expected a 1-D sequence of ratings, got shape {arr.shape}"
            )
        try:
            arr = arr.astype(float)
        except (TypeError, ValueError) as exc:
            raise DataValidationError(f"{name}: ratings must be numeric ({exc})") from None
        if np.isinf(arr).any():
            raise DataValidationError(
                f"{name}: contains infinite values; use NaN for a missing rating"
            )
        out.append(arr)
    if out[0].shape != out[1].shape:
        raise DataValidationError(
            f"a and b must have the same length, got {out[0].size} and {out[1].size}"
        )
    return out[0], out[1]


MAX_CATEGORIES = 1000


def resolve_categories(
    x: np.ndarray, categories: Any = None, name: str = "categories"
) -> np.ndarray:
    """Sorted category values: the given full scale, or the observed values when ``None``.

    Every observed value must belong to an explicit category set; an unknown value raises.
    """
    observed = np.unique(x[~np.isnan(x)])
    if categories is None and observed.size > MAX_CATEGORIES:
        raise DataValidationError(
            f"data: {observed.size} distinct rating values; category-based statistics (kappas, "
            f"percent agreement) need a rating scale of at most {MAX_CATEGORIES} categories -- round "
            "the scores to the scale or use krippendorff_alpha / icc for continuous ratings"
        )
    if categories is None:
        # no rating at all: a placeholder category keeps array shapes valid; every statistic
        # is then NaN + CalibWarning because no unit is pairable
        return observed if observed.size else np.zeros(1)
    cats = np.unique(np.asarray(categories, dtype=float))
    if cats.size == 0 or np.isnan(cats).any():
        raise DataValidationError(f"{name}: must be a non-empty list of numeric category values")
    unknown = np.setdiff1d(observed, cats)
    if unknown.size:
        raise DataValidationError(
            f"{name}: observed rating(s) {unknown.tolist()} are not in the category set {cats.tolist()}"
        )
    return cats


def weight_matrix(categories: np.ndarray, weights: Any) -> np.ndarray:
    """Agreement weights w_kl (1 on the diagonal) on the category values (Gwet 2014, ch. 3).

    ``None``/"identity": 1 if k == l else 0; "linear": 1 - |x_k - x_l| / (x_max - x_min);
    "quadratic": 1 - (x_k - x_l)^2 / (x_max - x_min)^2; or a (q, q) array.
    """
    q = categories.size
    if weights is None or (isinstance(weights, str) and weights == "identity"):
        return np.eye(q)
    if isinstance(weights, str):
        span = categories[-1] - categories[0] if q > 1 else 1.0
        diff = np.abs(categories[:, None] - categories[None, :]) / span
        if weights == "linear":
            return 1.0 - diff
        if weights == "quadratic":
            return 1.0 - diff**2
        raise DataValidationError(
            f"weights: unknown weighting {weights!r}; use None, 'linear', 'quadratic' or a (q, q) array"
        )
    w = np.asarray(weights, dtype=float)
    if w.shape != (q, q):
        raise DataValidationError(
            f"weights: expected a ({q}, {q}) matrix for {q} categories, got {w.shape}"
        )
    return w


def warn_nan(value: float, statistic: str, reason: str) -> float:
    """Apply the package policy for degenerate input: NaN plus a CalibWarning naming the cause."""
    if np.isnan(value):
        warnings.warn(
            f"{statistic} is undefined ({reason}); returning NaN", CalibWarning, stacklevel=3
        )
    return float(value)
