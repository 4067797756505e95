"""Judge biases measurable from the judge alone: self-consistency and prompt sensitivity.

* Self-consistency (``samples=n``): for every (transcript, dimension) with at least two
  scored samples, the share of samples equal to the modal score, whether all samples agree,
  and the samples' standard deviation (ddof=0); averaged per dimension.
* Prompt sensitivity: the same judge with two template versions on the same transcripts;
  per dimension the exact and adjacent (|diff| <= 1) agreement, the mean shift (B - A) and the
  quadratic-weighted kappa between the two versions (Cohen 1968; the definition of
  ``sklearn.metrics.cohen_kappa_score(weights="quadratic")`` and R ``irr::kappa2(...,
  weight="squared")``), with the category set taken from the rubric scale. Tests reproduce
  RSMTool's human-human ``wtkappa``, ``exact_agr`` and ``adj_agr`` (lr-eval-with-h2
  consistency tables) to 1e-6.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from calib.errors import CalibWarning, DataValidationError

__all__ = ["self_consistency", "prompt_sensitivity", "quadratic_weighted_kappa"]

_KEYS = ["transcript_id", "dimension"]


def self_consistency(samples: pd.DataFrame) -> pd.DataFrame:
    """Per-dimension agreement of a judge with itself across repeated samples.

    Parameters
    ----------
    samples : DataFrame
        ``transcript_id, dimension, sample, score`` (the ``llm_outputs`` table); unscored
        samples (NaN) are left out.

    Returns
    -------
    DataFrame
        ``dimension, n_units, modal_share, all_agree, mean_sd`` sorted by dimension; units
        with fewer than two scored samples are not counted. A dimension without such units
        has ``n_units = 0`` and NaN statistics.

    Examples
    --------
    >>> s = pd.DataFrame({"transcript_id": ["a"] * 3 + ["b"] * 3, "dimension": ["d"] * 6,
    ...                   "sample": [0, 1, 2] * 2, "score": [3, 3, 2, 4, 4, 4.0]})
    >>> self_consistency(s).round(3).to_dict("records")
    [{'dimension': 'd', 'n_units': 2, 'modal_share': 0.833, 'all_agree': 0.5, 'mean_sd': 0.236}]
    """
    missing = {"transcript_id", "dimension", "sample", "score"} - set(samples.columns)
    if missing:
        raise DataValidationError(f"samples: missing column(s) {sorted(missing)}")
    dims = sorted(samples["dimension"].dropna().unique())
    scored = samples.dropna(subset=["score"])
    counts = scored.groupby(_KEYS + ["score"], sort=True).size()
    per_unit = pd.DataFrame(
        {
            "n": counts.groupby(level=[0, 1]).sum(),
            "mode_n": counts.groupby(level=[0, 1]).max(),
            "n_levels": counts.groupby(level=[0, 1]).size(),
            "sd": scored.groupby(_KEYS, sort=True)["score"].std(ddof=0),
        }
    )
    per_unit = per_unit[per_unit["n"] >= 2]
    per_unit = per_unit.assign(
        modal_share=per_unit["mode_n"] / per_unit["n"], all_agree=per_unit["n_levels"] == 1
    )
    agg = per_unit.groupby(level="dimension").agg(
        n_units=("n", "size"),
        modal_share=("modal_share", "mean"),
        all_agree=("all_agree", "mean"),
        mean_sd=("sd", "mean"),
    )
    agg = agg.reindex(dims)
    agg["n_units"] = agg["n_units"].fillna(0).astype(int)
    return agg.rename_axis("dimension").reset_index()


def quadratic_weighted_kappa(a: np.ndarray, b: np.ndarray, categories: Sequence[int]) -> float:
    """Quadratic-weighted kappa of two paired integer ratings on a fixed category set.

    ``kappa_w = 1 - sum(w * O) / sum(w * E)`` with ``w_ij = (i - j)^2``, ``O`` the observed
    and ``E`` the chance-expected (outer product of the marginals) confusion matrices.
    NaN with a :class:`~calib.errors.CalibWarning` when it is undefined (no pairs or both
    raters constant on the same value).

    Examples
    --------
    >>> round(quadratic_weighted_kappa(np.array([1, 2, 3, 4]), np.array([1, 2, 4, 4]), [1, 2, 3, 4]), 4)
    0.9167
    """
    a = np.asarray(a)
    b = np.asarray(b)
    cats = np.asarray(categories)
    k = cats.size
    ia = np.searchsorted(cats, a)
    ib = np.searchsorted(cats, b)
    if (
        a.size == 0
        or (ia >= k).any()
        or (ib >= k).any()
        or (cats[np.minimum(ia, k - 1)] != a).any()
        or (cats[np.minimum(ib, k - 1)] != b).any()
    ):
        if a.size == 0:
            warnings.warn("kappa: no paired ratings; returning NaN", CalibWarning, stacklevel=2)
            return float("nan")
        raise DataValidationError("kappa: ratings outside the rubric scale")
    observed = np.bincount(ia * k + ib, minlength=k * k).reshape(k, k) / a.size
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0))
    w = np.subtract.outer(np.arange(k), np.arange(k)) ** 2
    denom = float((w * expected).sum())
    if denom == 0:
        warnings.warn(
            "kappa: undefined (no variance in either rating); returning NaN",
            CalibWarning,
            stacklevel=2,
        )
        return float("nan")
    return 1.0 - float((w * observed).sum()) / denom


def prompt_sensitivity(
    ratings_a: pd.DataFrame, ratings_b: pd.DataFrame, scale_values: Sequence[int]
) -> pd.DataFrame:
    """Per-dimension agreement between two runs that differ only by prompt template.

    Parameters
    ----------
    ratings_a, ratings_b : DataFrame
        Long ratings rows (``transcript_id, dimension, score``) of the two runs; only
        (transcript, dimension) pairs scored by both are compared.
    scale_values : sequence of int
        The rubric scale (``rubric.scale.values``).

    Returns
    -------
    DataFrame
        ``dimension, n, exact_agr, adj_agr, mean_diff, qwk`` (``mean_diff`` is B minus A).

    Examples
    --------
    >>> a = pd.DataFrame({"transcript_id": list("abcd"), "dimension": ["d"] * 4, "score": [1, 2, 3, 4.0]})
    >>> b = a.assign(score=[1, 2, 4, 4.0])
    >>> prompt_sensitivity(a, b, [1, 2, 3, 4]).round(4).to_dict("records")
    [{'dimension': 'd', 'n': 4, 'exact_agr': 0.75, 'adj_agr': 1.0, 'mean_diff': 0.25, 'qwk': 0.9167}]
    """
    for name, df in (("ratings_a", ratings_a), ("ratings_b", ratings_b)):
        missing = {"transcript_id", "dimension", "score"} - set(df.columns)
        if missing:
            raise DataValidationError(f"{name}: missing column(s) {sorted(missing)}")
    pairs = ratings_a[_KEYS + ["score"]].merge(
        ratings_b[_KEYS + ["score"]], on=_KEYS, suffixes=("_a", "_b")
    )
    pairs = pairs.dropna(subset=["score_a", "score_b"]).sort_values(_KEYS, kind="stable")
    diff = pairs["score_b"] - pairs["score_a"]
    pairs = pairs.assign(exact=diff == 0, adj=diff.abs() <= 1, diff=diff)
    rows = []
    for dim, g in pairs.groupby("dimension", sort=True):
        rows.append(
            {
                "dimension": dim,
                "n": int(len(g)),
                "exact_agr": float(g["exact"].mean()),
                "adj_agr": float(g["adj"].mean()),
                "mean_diff": float(g["diff"].mean()),
                "qwk": quadratic_weighted_kappa(
                    g["score_a"].to_numpy(), g["score_b"].to_numpy(), scale_values
                ),
            }
        )
    return pd.DataFrame(
        rows, columns=["dimension", "n", "exact_agr", "adj_agr", "mean_diff", "qwk"]
    )
