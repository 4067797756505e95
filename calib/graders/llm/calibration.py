"""Judge calibration: reliability-diagram table and expected calibration error (ECE).

Question answered: when the judge says it is 80% sure of a score (``confidence`` from the
score token's log-probabilities), does it agree with the human consensus 80% of the time?

* Consensus: the median of the human scores of a (transcript, dimension); the judge
  *agrees* when ``|score - median| <= 0.5``, i.e. it gave the median, or one of the two middle
  scores when the humans split evenly.
* Bins: ``n_bins`` equal-width bins on [0, 1] (``strategy="uniform"``) or equal-count bins
  (``"quantile"``), with the edges and bin assignment of scikit-learn's
  ``sklearn.calibration.calibration_curve`` (each bin is ``(lower, upper]``, the first also
  holds 0), so the table's ``accuracy``/``mean_confidence`` columns equal its
  ``prob_true``/``prob_pred`` for the non-empty bins.
* ``ECE = sum_b (n_b / N) * |accuracy_b - mean_confidence_b|`` (Naeini, Cooper & Hauskrecht
  2015, *Obtaining Well Calibrated Probabilities Using Bayesian Binning*, AAAI, eq. 1;
  Guo et al. 2017, *On Calibration of Modern Neural Networks*, ICML, eq. 3).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from calib.errors import CalibWarning, DataValidationError

__all__ = [
    "reliability_table",
    "expected_calibration_error",
    "human_consensus",
    "judge_calibration",
    "JudgeCalibration",
]


def _bin_edges(confidence: np.ndarray, n_bins: int, strategy: str) -> np.ndarray:
    if strategy == "uniform":
        return np.linspace(0.0, 1.0, n_bins + 1)
    if strategy == "quantile":
        return np.percentile(confidence, np.linspace(0, 1, n_bins + 1) * 100)
    raise DataValidationError(f"strategy: expected 'uniform' or 'quantile', got {strategy!r}")


def reliability_table(
    confidence: np.ndarray | pd.Series,
    correct: np.ndarray | pd.Series,
    n_bins: int = 10,
    strategy: str = "uniform",
) -> pd.DataFrame:
    """One row per bin: ``bin, lower, upper, n, mean_confidence, accuracy, gap``.

    Empty bins are kept with ``n = 0`` and NaN means (a reliability diagram shows the gap).

    Parameters
    ----------
    confidence : array of float in [0, 1]
    correct : array of bool (or 0/1)
    n_bins : int
    strategy : {"uniform", "quantile"}

    Raises
    ------
    DataValidationError
        Naming ``confidence`` or ``correct`` when lengths differ, values are missing or a
        confidence is outside [0, 1].

    Examples
    --------
    >>> t = reliability_table([0.9, 0.8, 0.3], [1, 0, 0], n_bins=2)
    >>> t[["n", "accuracy"]].to_numpy().tolist()
    [[1.0, 0.0], [2.0, 0.5]]
    """
    conf = np.asarray(confidence, dtype=float)
    corr = np.asarray(correct, dtype=float)
    if conf.shape != corr.shape or conf.ndim != 1:
        raise DataValidationError(
            f"confidence and correct: need equal-length 1-D arrays, got {conf.shape} and {corr.shape}"
        )
    if np.isnan(conf).any() or np.isnan(corr).any():
        raise DataValidationError("confidence/correct: contain NaN; drop unscored rows first")
    if conf.size and (conf.min() < 0 or conf.max() > 1):
        raise DataValidationError("confidence: values must lie in [0, 1]")
    if n_bins < 1:
        raise DataValidationError(f"n_bins: must be >= 1, got {n_bins}")
    edges = _bin_edges(conf, n_bins, strategy) if conf.size else np.linspace(0, 1, n_bins + 1)
    ids = np.searchsorted(edges[1:-1], conf)  # same convention as sklearn's calibration_curve
    n = np.bincount(ids, minlength=n_bins).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf = np.bincount(ids, weights=conf, minlength=n_bins) / n
        acc = np.bincount(ids, weights=corr, minlength=n_bins) / n
    return pd.DataFrame(
        {
            "bin": np.arange(n_bins),
            "lower": edges[:-1],
            "upper": edges[1:],
            "n": n,
            "mean_confidence": mean_conf,
            "accuracy": acc,
            "gap": acc - mean_conf,
        }
    )


def expected_calibration_error(table: pd.DataFrame) -> float:
    """ECE from a :func:`reliability_table`: ``sum_b n_b/N |accuracy_b - mean_confidence_b|``.

    NaN with a :class:`~calib.errors.CalibWarning` when the table holds no observation.

    Examples
    --------
    >>> round(expected_calibration_error(reliability_table([0.9, 0.8, 0.3], [1, 0, 0], n_bins=2)), 4)
    0.3333
    """
    total = float(table["n"].sum())
    if total == 0:
        warnings.warn(
            "ECE: no observation with a confidence; returning NaN", CalibWarning, stacklevel=2
        )
        return float("nan")
    filled = table["n"] > 0
    w = table.loc[filled, "n"] / total
    return float((w * table.loc[filled, "gap"].abs()).sum())


def human_consensus(ratings: pd.DataFrame) -> pd.DataFrame:
    """Median human score per (transcript, dimension): ``transcript_id, dimension, consensus, n_humans``.

    Examples
    --------
    >>> r = pd.DataFrame({"transcript_id": ["t"] * 2, "dimension": ["d"] * 2,
    ...                   "rater_type": ["human"] * 2, "score": [2.0, 3.0]})
    >>> human_consensus(r)["consensus"].tolist()
    [2.5]
    """
    humans = ratings[(ratings["rater_type"] == "human") & ratings["score"].notna()]
    out = humans.groupby(["transcript_id", "dimension"], sort=True)["score"].agg(["median", "size"])
    return out.rename(columns={"median": "consensus", "size": "n_humans"}).reset_index()


@dataclass(frozen=True)
class JudgeCalibration:
    """Result of :func:`judge_calibration`: the ECE, the reliability table and the data."""

    ece: float
    table: pd.DataFrame
    data: pd.DataFrame


def judge_calibration(
    llm_outputs: pd.DataFrame,
    ratings: pd.DataFrame,
    *,
    n_bins: int = 10,
    strategy: str = "uniform",
    dimension: str | None = None,
) -> JudgeCalibration:
    """Calibration of the judge's confidence against agreement with the human consensus.

    Parameters
    ----------
    llm_outputs : DataFrame
        The ``llm_outputs`` table (one row per call sample and dimension) with ``score`` and
        ``confidence``; rows without a confidence (no logprobs) or without a score are left out.
    ratings : DataFrame
        Long ratings table holding the human rows (``rater_type == "human"``).
    n_bins, strategy
        See :func:`reliability_table`.
    dimension : str, optional
        Restrict to one dimension (default: all dimensions pooled).

    Returns
    -------
    JudgeCalibration
        ``ece``, ``table`` (see :func:`reliability_table`), and ``data`` (``transcript_id,
        dimension, sample, score, confidence, consensus, correct``).

    Examples
    --------
    >>> out = pd.DataFrame({"transcript_id": ["a", "b"], "dimension": ["d", "d"], "sample": [0, 0],
    ...                     "score": [3.0, 2.0], "confidence": [0.9, 0.6]})
    >>> hum = pd.DataFrame({"transcript_id": ["a", "b"], "dimension": ["d", "d"],
    ...                     "rater_type": ["human"] * 2, "score": [3.0, 4.0]})
    >>> round(judge_calibration(out, hum, n_bins=5).ece, 3)
    0.35
    """
    need = {"transcript_id", "dimension", "sample", "score", "confidence"}
    missing = need - set(llm_outputs.columns)
    if missing:
        raise DataValidationError(f"llm_outputs: missing column(s) {sorted(missing)}")
    out = llm_outputs[list(need)].dropna(subset=["score", "confidence"])
    if dimension is not None:
        out = out[out["dimension"] == dimension]
    data = out.merge(human_consensus(ratings), on=["transcript_id", "dimension"], how="inner")
    data = data.sort_values(["dimension", "transcript_id", "sample"], kind="stable").reset_index(
        drop=True
    )
    data["correct"] = (data["score"] - data["consensus"]).abs() <= 0.5
    table = reliability_table(data["confidence"], data["correct"], n_bins=n_bins, strategy=strategy)
    ece = expected_calibration_error(table)
    cols = ["transcript_id", "dimension", "sample", "score", "confidence", "consensus", "correct"]
    return JudgeCalibration(ece=ece, table=table, data=data[cols])
