"""The kappa family on multi-rater data with missing ratings (Gwet 2014 formulas) and two raters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse, stats

from calib.agreement._core import UnitSums
from calib.agreement._counts import unit_counts, unit_pairs
from calib.agreement._validate import (
    as_matrix,
    as_vector_pair,
    resolve_categories,
    warn_nan,
    weight_matrix,
)
from calib.errors import DataValidationError

__all__ = [
    "fleiss_kappa",
    "conger_kappa",
    "gwet_ac",
    "brennan_prediger",
    "percent_agreement",
    "cohen_kappa",
    "scott_pi",
    "fleiss_kappa_by_category",
    "mean_pairwise_kappa",
    "cohen_kappa_ci",
    "chance_corrected_ci",
    "ConfidenceInterval",
    "multirater_sums",
    "conger_sums",
    "pair_sums",
    "pairwise_sums",
]

_CHANCE = ("fleiss", "gwet", "bp", "none")


# ---------------------------------------------------------------- multi-rater (counts based)
def _gwet_features(counts: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Per unit: [pa numerator, has >= 2 ratings, has >= 1 rating, r_uk / r_u (q columns)]."""
    r = counts.sum(axis=1)
    pair = r >= 2
    rated = r >= 1
    # sum_k r_uk (r*_uk - 1) counts the weighted agreeing ordered pairs of distinct ratings
    weighted = counts @ w.T
    with np.errstate(invalid="ignore", divide="ignore"):
        pa_u = np.where(pair, (counts * (weighted - 1.0)).sum(axis=1) / (r * (r - 1.0)), 0.0)
        props = np.where(rated[:, None], counts / r[:, None], 0.0)
    return np.column_stack([pa_u, pair, rated, props])


def _gwet_finish(chance: str, w: np.ndarray):
    q = w.shape[0]
    t_w = w.sum()

    def finish(s: np.ndarray) -> np.ndarray:
        pa = s[:, 0] / s[:, 1]
        pi = s[:, 3:] / s[:, 2:3]
        if chance == "none":
            return pa
        if chance == "fleiss":
            pe = np.einsum("bk,kl,bl->b", pi, w, pi)
        elif chance == "gwet":
            pe = (
                t_w * (pi * (1.0 - pi)).sum(axis=1) / (q * (q - 1.0))
                if q > 1
                else np.full(len(s), np.nan)
            )
        else:  # Brennan-Prediger: uniform chance over the q categories
            pe = np.full(len(s), t_w / q**2)
        out = (pa - pe) / (1.0 - pe)
        return np.where(np.isclose(pe, 1.0, rtol=0, atol=1e-12), np.nan, out)

    return finish


def multirater_sums(
    data: Any,
    chance: str = "fleiss",
    weights: Any = None,
    categories: Any = None,
    *,
    tolerance: float | None = None,
    allow_wide: bool = False,
) -> UnitSums:
    """Per-unit sums behind Fleiss / Gwet / Brennan-Prediger / percent agreement."""
    if chance not in _CHANCE:
        raise DataValidationError(f"chance: must be one of {_CHANCE}, got {chance!r}")
    x = as_matrix(data, allow_wide=allow_wide)
    cats = resolve_categories(x, categories)
    if tolerance is not None:
        w = (np.abs(cats[:, None] - cats[None, :]) <= tolerance + 1e-9).astype(float)
    else:
        w = weight_matrix(cats, weights)
    counts, _ = unit_counts(x, cats)
    return UnitSums(_gwet_features(counts, w), _gwet_finish(chance, w))


def _multirater(
    name: str, chance: str, data, weights, categories, allow_wide, tolerance=None
) -> float:
    st = multirater_sums(
        data, chance, weights, categories, tolerance=tolerance, allow_wide=allow_wide
    )
    if st.features[:, 1].sum() == 0:
        return warn_nan(np.nan, name, "no unit has two or more ratings")
    return warn_nan(st.estimate(), name, "chance agreement is 1: a single category is used")


def fleiss_kappa(
    data: Any, weights: Any = None, categories: Any = None, *, allow_wide: bool = False
) -> float:
    """Fleiss' kappa for any number of raters; units may have different numbers of ratings.

    Parameters
    ----------
    data : array-like, shape (n_units, n_raters)
        Rows are units, columns raters, NaN a missing rating.
    weights : None, "linear", "quadratic" or (q, q) array
        Agreement weights on the category values; with weights this is Gwet's generalised
        (weighted) Fleiss kappa.
    categories : array-like, optional
        The full category set (e.g. the rubric scale). Default: the observed categories.

    Returns
    -------
    float
        kappa; NaN with a CalibWarning if no unit has two ratings or p_e = 1.

    Notes
    -----
    With r_uk the ratings of unit u in category k, r_u = sum_k r_uk, r*_uk = sum_l w_kl r_ul,
    n' the units with r_u >= 2 and n the units with r_u >= 1 (all-missing units are ignored):
    p_a = (1/n') sum_u sum_k r_uk (r*_uk - 1) / (r_u (r_u - 1)), pi_k = (1/n) sum_u r_uk / r_u,
    p_e = sum_kl w_kl pi_k pi_l, kappa = (p_a - p_e) / (1 - p_e). Fleiss (1971), Psychological
    Bulletin 76(5), 378-382; Gwet (2014), *Handbook of Inter-Rater Reliability*, 4th ed., ch. 2-3.
    With two raters and no missing ratings this is Scott's pi, not Cohen's kappa.
    Equivalent: ``irrCAC.raw.CAC(df, weights).fleiss()``; R ``irr::kappam.fleiss`` (complete data).

    Examples
    --------
    >>> round(fleiss_kappa([[1, 1, 1], [2, 2, 1], [3, 3, 3], [1, 2, 2]]), 4)  # SYNTHETIC ratings
    0.4894
    """
    return _multirater("fleiss_kappa", "fleiss", data, weights, categories, allow_wide)


def gwet_ac(
    data: Any, weights: Any = None, categories: Any = None, *, allow_wide: bool = False
) -> float:
    """Gwet's AC1 (unweighted) or AC2 (weighted) agreement coefficient.

    Parameters
    ----------
    data : array-like, shape (n_units, n_raters)
        Rows are units, columns raters, NaN a missing rating.
    weights : None, "linear", "quadratic" or (q, q) array
        None gives AC1; weights give AC2.
    categories : array-like, optional
        The full category set; q (its size) enters p_e, so pass the rubric scale.

    Notes
    -----
    p_a as in :func:`fleiss_kappa`; p_e = T_w / (q (q - 1)) sum_k pi_k (1 - pi_k), with T_w the
    sum of all weights. Gwet (2008), Br. J. Math. Stat. Psychol. 61, 29-48; Gwet (2014),
    Handbook, ch. 4. Equivalent: ``irrCAC.raw.CAC(df, weights).gwet()``.

    Examples
    --------
    >>> round(gwet_ac([[1, 1, 1], [2, 2, 1], [3, 3, 3], [1, 2, 2]]), 4)  # SYNTHETIC ratings
    0.5052
    """
    return _multirater("gwet_ac", "gwet", data, weights, categories, allow_wide)


def brennan_prediger(
    data: Any, weights: Any = None, categories: Any = None, *, allow_wide: bool = False
) -> float:
    """Brennan-Prediger coefficient: chance agreement uniform over the q categories.

    Notes
    -----
    p_a as in :func:`fleiss_kappa`; p_e = T_w / q^2 (1/q unweighted). Brennan & Prediger
    (1981), Educ. Psychol. Meas. 41, 687-699; Gwet (2014), ch. 2. The category set matters:
    pass ``categories`` (the full scale). Equivalent: ``irrCAC.raw.CAC(df).bp()``.

    Examples
    --------
    >>> round(brennan_prediger([[1, 1, 1], [2, 2, 1], [3, 3, 3], [1, 2, 2]]), 4)  # SYNTHETIC ratings
    0.5
    """
    return _multirater("brennan_prediger", "bp", data, weights, categories, allow_wide)


def percent_agreement(data: Any, tolerance: float = 0, *, allow_wide: bool = False) -> float:
    """Proportion of agreeing rating pairs, averaged over units with two or more ratings.

    Parameters
    ----------
    data : array-like, shape (n_units, n_raters)
        Rows are units, columns raters, NaN a missing rating.
    tolerance : float
        Two ratings agree when they differ by at most ``tolerance``: 0 gives exact
        agreement, 1 adjacent agreement on an integer scale.

    Notes
    -----
    p_a = (1/n') sum_u (agreeing ordered pairs of u) / (r_u (r_u - 1)) -- Gwet's p_a with a
    0/1 weight matrix [|x_k - x_l| <= tolerance] (Gwet 2014, ch. 2). No chance correction.

    Examples
    --------
    >>> percent_agreement([[1, 1], [2, 3], [4, 4], [3, 1]])  # SYNTHETIC ratings
    0.5
    >>> percent_agreement([[1, 1], [2, 3], [4, 4], [3, 1]], tolerance=1)
    0.75
    """
    if tolerance < 0:
        raise DataValidationError(f"tolerance: must be >= 0, got {tolerance}")
    return _multirater(
        "percent_agreement", "none", data, None, None, allow_wide, tolerance=tolerance
    )


def conger_sums(
    data: Any, weights: Any = None, categories: Any = None, *, allow_wide: bool = False
) -> UnitSums:
    """Per-unit sums behind Conger's kappa: Gwet's p_a features plus each rater's category one-hots."""
    x = as_matrix(data, allow_wide=allow_wide)
    x = x[:, ~np.isnan(x).all(axis=0)]  # a rater with no rating has no marginal distribution
    cats = resolve_categories(x, categories)
    w = weight_matrix(cats, weights)
    counts, _ = unit_counts(x, cats)
    n_units, n_raters = x.shape
    q = cats.size
    onehot = np.zeros((n_units, n_raters, q))
    rows, cols = np.nonzero(~np.isnan(x))
    onehot[rows, cols, np.searchsorted(cats, x[rows, cols])] = 1.0
    feats = np.column_stack([_gwet_features(counts, w), onehot.reshape(n_units, n_raters * q)])

    def finish(s: np.ndarray) -> np.ndarray:
        pa = s[:, 0] / s[:, 1]
        c = s[:, 3 + q :].reshape(-1, n_raters, q)
        p = c / c.sum(axis=2, keepdims=True)  # p_gk: rater g's distribution over categories
        pbar = p.mean(axis=1)
        s2 = (np.einsum("bgk,bgl->bkl", p, p) - n_raters * pbar[:, :, None] * pbar[:, None, :]) / (
            n_raters - 1
        )
        pe = (w * (pbar[:, :, None] * pbar[:, None, :] - s2 / n_raters)).sum(axis=(1, 2))
        return np.where(np.isclose(pe, 1.0, rtol=0, atol=1e-12), np.nan, (pa - pe) / (1.0 - pe))

    return UnitSums(feats, finish)


def conger_kappa(
    data: Any, weights: Any = None, categories: Any = None, *, allow_wide: bool = False
) -> float:
    """Conger's kappa: Cohen's kappa generalised to several raters (rater-specific marginals).

    Notes
    -----
    p_a as in :func:`fleiss_kappa`; with p_gk the proportion of rater g's ratings in category
    k, pbar_k = mean_g p_gk and s2_kl = sum_g (p_gk - pbar_k)(p_gl - pbar_l) / (r - 1):
    p_e = sum_kl w_kl (pbar_k pbar_l - s2_kl / r). Conger (1980), Psychological Bulletin 88,
    322-328; Gwet (2014), ch. 2-3. With two raters and complete data it equals Cohen's kappa.
    Equivalent: ``irrCAC.raw.CAC(df, weights).conger()``.

    Examples
    --------
    >>> round(conger_kappa([[1, 1, 1], [2, 2, 1], [3, 3, 3], [1, 2, 2]]), 4)  # SYNTHETIC ratings
    0.5
    """
    st = conger_sums(data, weights, categories, allow_wide=allow_wide)
    if st.features[:, 1].sum() == 0:
        return warn_nan(np.nan, "conger_kappa", "no unit has two or more ratings")
    return warn_nan(
        st.estimate(), "conger_kappa", "chance agreement is 1: a single category is used"
    )


def fleiss_kappa_by_category(
    data: Any, categories: Any = None, *, allow_wide: bool = False
) -> pd.Series:
    """Fleiss' kappa for each category against all others (Fleiss 1971, the per-category table).

    Returns
    -------
    pandas.Series
        Indexed by category value, named ``kappa``; NaN (with a CalibWarning) for a category
        nobody used.

    Notes
    -----
    kappa_j is Fleiss' kappa of the dichotomy "category j" vs "any other category"; with m
    ratings per unit it equals Fleiss' (1971) kappa_j = 1 - sum_u r_uj (m - r_uj) /
    (N m (m - 1) p_j q_j). Equivalent: R ``irr::kappam.fleiss(x, detail = TRUE)``.

    Examples
    --------
    >>> fleiss_kappa_by_category([[1, 1, 1], [2, 2, 1], [3, 3, 3], [1, 2, 2]]).round(4).tolist()  # SYNTHETIC ratings
    [0.3143, 0.25, 1.0]
    """
    x = as_matrix(data, allow_wide=allow_wide)
    cats = resolve_categories(x, categories)
    out = {}
    for c in cats:  # one dichotomy per category (q is a handful); each is fully vectorised
        binary = np.where(np.isnan(x), np.nan, (x == c).astype(float))
        st = multirater_sums(binary, "fleiss", None, [0.0, 1.0], allow_wide=True)
        out[c] = warn_nan(
            st.estimate(), f"fleiss_kappa_by_category[{c:g}]", "category never or always used"
        )
    return pd.Series(out, name="kappa", dtype=float).rename_axis("category")


# ---------------------------------------------------------------- two raters
def _pair_table_finish(w: np.ndarray, chance: str):
    q = w.shape[0]

    def finish(s: np.ndarray) -> np.ndarray:
        s = s.reshape(-1, q, q)
        p = s / s.sum(axis=(1, 2), keepdims=True)
        pa = (w * p).sum(axis=(1, 2))
        row, col = p.sum(axis=2), p.sum(axis=1)
        if chance == "scott":
            row = col = (row + col) / 2.0
        pe = np.einsum("bk,kl,bl->b", row, w, col)
        return np.where(np.isclose(pe, 1.0, rtol=0, atol=1e-12), np.nan, (pa - pe) / (1.0 - pe))

    return finish


def pair_sums(
    data: Any, weights: Any = None, labels: Any = None, chance: str = "cohen"
) -> UnitSums:
    """Per-unit one-hot cells of the two-rater contingency table (units with both ratings)."""
    x = as_matrix(data, name="data", allow_wide=True)
    if x.shape[1] != 2:
        raise DataValidationError(
            f"data: two-rater statistics need exactly 2 columns, got {x.shape[1]}"
        )
    cats = resolve_categories(x, labels, name="labels")
    w = weight_matrix(cats, weights)
    q = cats.size
    both = ~np.isnan(x).any(axis=1)
    cell = np.zeros(len(x), dtype=np.intp)
    cell[both] = np.searchsorted(cats, x[both, 0]) * q + np.searchsorted(cats, x[both, 1])
    feats = sparse.csr_matrix(
        (both.astype(float), (np.arange(len(x)), cell)), shape=(len(x), q * q)
    )
    return UnitSums(feats, _pair_table_finish(w, chance))


def _two_rater(name: str, chance: str, a, b, weights, labels) -> float:
    x = np.column_stack(as_vector_pair(a, b))
    st = pair_sums(x, weights, labels, chance)
    if st.features.sum() == 0:
        raise DataValidationError(f"{name}: no unit has ratings from both raters")
    return warn_nan(st.estimate(), name, "chance agreement is 1: both raters use a single category")


def cohen_kappa(a: Any, b: Any, weights: Any = None, labels: Any = None) -> float:
    """Cohen's kappa for two raters, unweighted or weighted (QWK is ``weights="quadratic"``).

    Parameters
    ----------
    a, b : array-like, shape (n_units,)
        The two raters' ratings of the same units; units where either is NaN are dropped.
    weights : None, "linear", "quadratic" or (q, q) agreement-weight array
        Linear: 1 - |x_k - x_l| / (x_max - x_min); quadratic: 1 - (x_k - x_l)^2 / (x_max - x_min)^2.
    labels : array-like, optional
        The full category set. Default: the observed categories -- which is the
        scikit-learn trap: with unused levels the weights change (QWK 0.8056 vs 0.7727 on a
        1-5 scale with levels 3-4 unused). Pass the rubric scale.

    Notes
    -----
    kappa_w = (p_o - p_e) / (1 - p_e), p_o = sum_kl w_kl p_kl, p_e = sum_kl w_kl p_k. p_.l.
    Cohen (1960); Cohen (1968), Psychological Bulletin 70(4), 213-220 (weighted kappa;
    agreement weights w = 1 - v / v_max of his disagreement weights). Equivalent:
    ``sklearn.metrics.cohen_kappa_score(a, b, labels=..., weights=...)`` (equally spaced
    labels), R ``irr::kappa2``.

    Examples
    --------
    >>> round(cohen_kappa([1, 2, 3, 4, 4], [1, 2, 3, 3, 4], weights="quadratic"), 4)  # SYNTHETIC ratings
    0.918
    """
    return _two_rater("cohen_kappa", "cohen", a, b, weights, labels)


def scott_pi(a: Any, b: Any, weights: Any = None, labels: Any = None) -> float:
    """Scott's pi for two raters: kappa with chance from the pooled marginals.

    Notes
    -----
    p_e = sum_kl w_kl pi_k pi_l with pi_k = (p_k. + p_.k) / 2. Scott (1955), Public Opinion
    Quarterly 19, 321-325. Equals Fleiss' kappa on the same two complete columns.

    Examples
    --------
    >>> round(scott_pi([1, 2, 3, 4, 4], [1, 2, 3, 3, 4]), 4)  # SYNTHETIC ratings
    0.7297
    """
    return _two_rater("scott_pi", "scott", a, b, weights, labels)


@dataclass(frozen=True)
class ConfidenceInterval:
    """An estimate with a confidence interval and its standard error."""

    estimate: float
    low: float
    high: float
    se: float
    ci: float
    method: str


def cohen_kappa_ci(
    a: Any, b: Any, weights: Any = None, labels: Any = None, ci: float = 0.95
) -> ConfidenceInterval:
    """Cohen's (weighted) kappa with the large-sample standard error and a Wald interval.

    Notes
    -----
    Fleiss, Cohen & Everitt (1969), Psychological Bulletin 72(5), 323-327:
    var = [sum_kl p_kl (w_kl - (wbar_k. + wbar_.l)(1 - kappa))^2 - (kappa - p_e (1 - kappa))^2]
    / (n (1 - p_e)^2), with wbar_k. = sum_l p_.l w_kl and wbar_.l = sum_k p_k. w_kl. This is
    SAS PROC FREQ's "ASE".

    Examples
    --------
    >>> r = cohen_kappa_ci([1, 2, 3, 4, 4, 2], [1, 2, 3, 3, 4, 1])  # SYNTHETIC ratings
    >>> round(r.estimate, 4), round(r.se, 4)
    (0.5714, 0.2298)
    """
    x = np.column_stack(as_vector_pair(a, b))
    x = x[~np.isnan(x).any(axis=1)]
    if len(x) == 0:
        raise DataValidationError("cohen_kappa_ci: no unit has ratings from both raters")
    cats = resolve_categories(x, labels, name="labels")
    w = weight_matrix(cats, weights)
    q = cats.size
    table = np.bincount(
        np.searchsorted(cats, x[:, 0]) * q + np.searchsorted(cats, x[:, 1]), minlength=q * q
    )
    n = len(x)
    p = table.reshape(q, q) / n
    row, col = p.sum(axis=1), p.sum(axis=0)
    po, pe = (w * p).sum(), row @ w @ col
    if np.isclose(pe, 1.0):
        k = warn_nan(np.nan, "cohen_kappa_ci", "chance agreement is 1")
        return ConfidenceInterval(k, np.nan, np.nan, np.nan, ci, "wald")
    k = (po - pe) / (1 - pe)
    wr, wc = w @ col, row @ w
    var = (
        (p * (w - (wr[:, None] + wc[None, :]) * (1 - k)) ** 2).sum() - (k - pe * (1 - k)) ** 2
    ) / (n * (1 - pe) ** 2)
    se = float(np.sqrt(max(var, 0.0)))
    z = stats.norm.ppf(0.5 + ci / 2)
    return ConfidenceInterval(
        float(k),
        float(k - z * se),
        float(k + z * se),
        se,
        ci,
        "wald (Fleiss, Cohen & Everitt 1969)",
    )


# ---------------------------------------------------------------- mean pairwise (Light 1971)
def pairwise_sums(
    data: Any, weights: Any = "quadratic", categories: Any = None, *, allow_wide: bool = False
) -> UnitSums:
    """Sparse per-unit features of every rater pair that shares a unit.

    Only pairs of raters who rated a common unit get columns, so memory grows with the rating
    pairs in the data, not with raters^2 (a crowd of 283 raters has 39,903 rater pairs but a
    few thousand that ever meet). With quadratic weights each pair needs six moments instead
    of its q x q table: kappa_w = 1 - mean (a - b)^2 / (var a + var b + (mean a - mean b)^2)
    (population moments over the pair's common units), which is Cohen's (1968) weighted kappa
    with w_kl = 1 - (x_k - x_l)^2 / (x_max - x_min)^2 written out (the span cancels).
    """
    x = as_matrix(data, allow_wide=allow_wide)
    cats = resolve_categories(x, categories)
    n_units, n_raters = x.shape
    unit, g, h = unit_pairs(x)
    pair_code, pair = np.unique(g * n_raters + h, return_inverse=True)
    pair = pair.ravel()
    n_pairs = max(pair_code.size, 1)
    quadratic = isinstance(weights, str) and weights == "quadratic"
    if quadratic:
        span2 = float(cats[-1] - cats[0]) ** 2 if cats.size > 1 else 1.0
        mid = (cats[0] + cats[-1]) / 2.0  # centring keeps the moment sums exact
        a, b = x[unit, g] - mid, x[unit, h] - mid
        vals = np.column_stack([np.ones_like(a), a, b, a * a, b * b, (a - b) ** 2]).ravel()
        cols = (pair[:, None] * 6 + np.arange(6)[None, :]).ravel()
        feats = sparse.csr_matrix((vals, (np.repeat(unit, 6), cols)), shape=(n_units, n_pairs * 6))

        def finish(s: np.ndarray) -> np.ndarray:
            t = s.reshape(-1, n_pairs, 6)
            n = t[..., 0]
            with np.errstate(invalid="ignore", divide="ignore"):
                ma, mb = t[..., 1] / n, t[..., 2] / n
                e_ind = (t[..., 3] / n - ma**2) + (t[..., 4] / n - mb**2) + (ma - mb) ** 2
                kap = np.where(
                    (n >= 2) & (e_ind / span2 > 1e-12), 1.0 - (t[..., 5] / n) / e_ind, np.nan
                )
                valid = (~np.isnan(kap)).sum(axis=1)
                return np.where(valid > 0, np.nansum(kap, axis=1) / np.maximum(valid, 1), np.nan)

        return UnitSums(feats, finish)
    w = weight_matrix(cats, weights)
    q = cats.size
    ca = np.searchsorted(cats, x[unit, g])
    cb = np.searchsorted(cats, x[unit, h])
    feats = sparse.csr_matrix(
        (np.ones(unit.size), (unit, pair * q * q + ca * q + cb)), shape=(n_units, n_pairs * q * q)
    )

    def finish_table(s: np.ndarray) -> np.ndarray:
        t = s.reshape(-1, n_pairs, q, q)
        tot = t.sum(axis=(2, 3))
        with np.errstate(invalid="ignore", divide="ignore"):
            p = t / tot[:, :, None, None]
            pa = (w * p).sum(axis=(2, 3))
            row, col = p.sum(axis=3), p.sum(axis=2)
            pe = np.einsum("bpk,kl,bpl->bp", row, w, col)
            kap = np.where(
                (tot >= 2) & ~np.isclose(pe, 1.0, rtol=0, atol=1e-12),
                (pa - pe) / (1.0 - pe),
                np.nan,
            )
            valid = (~np.isnan(kap)).sum(axis=1)
            return np.where(valid > 0, np.nansum(kap, axis=1) / np.maximum(valid, 1), np.nan)

    return UnitSums(feats, finish_table)


def mean_pairwise_kappa(
    data: Any, weights: Any = "quadratic", categories: Any = None, *, allow_wide: bool = False
) -> float:
    """Mean of Cohen's kappa over all rater pairs (Light 1971); default weights give mean QWK.

    Each pair uses the units both raters rated; pairs with fewer than two common units or
    an undefined kappa are skipped. The mean is unweighted over pairs.

    Notes
    -----
    Light (1971), Psychological Bulletin 76(5), 365-377. For two raters this is
    :func:`cohen_kappa`.

    Examples
    --------
    >>> round(mean_pairwise_kappa([[1, 1, 2], [2, 2, 2], [3, 4, 4], [4, 4, 3]], categories=[1, 2, 3, 4]), 4)  # SYNTHETIC ratings
    0.777
    """
    st = pairwise_sums(data, weights, categories, allow_wide=allow_wide)
    return warn_nan(
        st.estimate(), "mean_pairwise_kappa", "no rater pair shares two units with a defined kappa"
    )


# ---------------------------------------------------------------- Gwet's analytic variance
_CI_KINDS = {"fleiss_kappa": "fleiss", "gwet_ac": "gwet", "brennan_prediger": "bp"}


def chance_corrected_ci(
    data: Any,
    statistic: str = "fleiss_kappa",
    weights: Any = None,
    categories: Any = None,
    ci: float = 0.95,
    *,
    allow_wide: bool = False,
) -> ConfidenceInterval:
    """Fleiss' kappa, Gwet's AC1/AC2 or Brennan-Prediger with Gwet's large-sample variance.

    Parameters
    ----------
    data : array-like, shape (n_units, n_raters)
        Rows are units, columns raters, NaN a missing rating.
    statistic : {"fleiss_kappa", "gwet_ac", "brennan_prediger"}
        Which coefficient.
    weights, categories
        As for the coefficient itself.
    ci : float
        Confidence level; the interval is estimate +/- t_{n-1} SE, capped at 1.

    Notes
    -----
    Gwet (2014), *Handbook of Inter-Rater Reliability*, 4th ed., ch. 5 (variance of the
    multiple-rater coefficients with missing ratings, infinite population): with
    kappa*_u = (n / n') (p_a|u - p_e [r_u >= 2]) / (1 - p_e) - 2 (1 - kappa) (p_e|u - p_e) / (1 - p_e),
    var = sum_u (kappa*_u - kappa)^2 / (n (n - 1)); p_e|u is the unit's contribution to chance
    agreement (Fleiss: sum_k r_uk pibar^w_k / r_u with pibar^w = (W + W') pi / 2; Gwet:
    T_w / (q (q - 1)) sum_k r_uk (1 - pi_k) / r_u; Brennan-Prediger: no chance term).
    Equivalent: ``irrCAC.raw.CAC(df, weights).fleiss()`` / ``.gwet()`` / ``.bp()`` "se".

    Examples
    --------
    >>> r = chance_corrected_ci([[1, 1, 1], [2, 2, 1], [3, 3, 3], [1, 2, 2], [2, 2, 2]], "gwet_ac")  # SYNTHETIC ratings
    >>> round(r.estimate, 4), round(r.se, 4)
    (0.6104, 0.2275)
    """
    if statistic not in _CI_KINDS:
        raise DataValidationError(
            f"statistic: must be one of {sorted(_CI_KINDS)}, got {statistic!r}"
        )
    if not 0 < ci < 1:
        raise DataValidationError(f"ci: must be in (0, 1), got {ci}")
    kind = _CI_KINDS[statistic]
    x = as_matrix(data, allow_wide=allow_wide)
    x = x[~np.isnan(x).all(axis=1)]  # all-missing units are ignored
    cats = resolve_categories(x, categories)
    w = weight_matrix(cats, weights)
    counts, _ = unit_counts(x, cats)
    feats = _gwet_features(counts, w)
    est = float(_gwet_finish(kind, w)(feats.sum(axis=0)[None])[0])
    n, n2 = len(x), feats[:, 1].sum()
    if n < 2 or n2 == 0 or np.isnan(est):
        value = warn_nan(np.nan, statistic, "no unit has two ratings or chance agreement is 1")
        return ConfidenceInterval(value, np.nan, np.nan, np.nan, ci, "gwet")
    q = cats.size
    pi = feats[:, 3:].sum(axis=0) / n
    r = counts.sum(axis=1)
    pa_u = feats[:, 0]
    if kind == "fleiss":
        pe = pi @ w @ pi
        pe_u = counts @ ((w + w.T) @ pi / 2) / r
    elif kind == "gwet":
        pe = w.sum() * (pi * (1 - pi)).sum() / (q * (q - 1))
        pe_u = w.sum() / (q * (q - 1)) * (counts @ (1 - pi)) / r
    else:
        pe = w.sum() / q**2
        pe_u = None
    k_u = (n / n2) * (pa_u - pe * (r >= 2)) / (1 - pe)
    if pe_u is not None:
        k_u = k_u - 2 * (1 - est) * (pe_u - pe) / (1 - pe)
    se = float(np.sqrt(np.sum((k_u - est) ** 2) / (n * (n - 1))))
    half = stats.t.ppf(0.5 + ci / 2, n - 1) * se
    return ConfidenceInterval(
        est, est - half, min(1.0, est + half), se, ci, "gwet (2014) large-sample variance"
    )
