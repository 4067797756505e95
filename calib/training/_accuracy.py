"""Each interviewer's accuracy against a reference set.

Per interviewer: Cronbach's four components (rooted, see :mod:`calib.training._cronbach`),
exact and adjacent agreement with the reference, and the bias per dimension with a t-based
confidence interval, described in plain words.

Definitions (``x`` the interviewer's score, ``t`` the reference score, the mean of the reference
raters, so possibly between two levels):

* **exact**: ``|x - t| <= 0.5``: the interviewer gave the reference level (either of the two
  when the reference is exactly halfway);
* **within one** (exact + adjacent): ``|x - t| <= 1.5``; **adjacent** = within one - exact;
* **bias** on a dimension: mean of ``x - t`` over the transcripts (positive = more lenient than
  the reference), 95% CI ``mean ± t_{0.975, n-1} · sd / sqrt(n)`` (the one-sample t interval,
  equal to ``scipy.stats.ttest_1samp(dev).confidence_interval()``); NaN when n < 2.

Ratings by a rater whose own scores set the reference of that transcript (an expert, or a
member of the consensus) are excluded: nobody is scored against themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from calib.errors import DataValidationError
from calib.training._cronbach import cronbach_components
from calib.training._reference import ReferenceSet

__all__ = [
    "AccuracyResult",
    "accuracy_against_reference",
    "deviation_cells",
    "bias_by_dimension",
    "summarise_cells",
]


@dataclass(frozen=True)
class AccuracyResult:
    """Accuracy of every interviewer against one reference set.

    Attributes
    ----------
    summary : pandas.DataFrame
        One row per interviewer: ``rater_id, n_transcripts, n_cells, coverage`` (share of the
        set's cells scored), ``exact, adjacent, within_one`` (shares), ``mean_deviation``
        (signed), ``mean_abs_deviation``, ``elevation, differential_elevation,
        stereotype_accuracy, differential_accuracy`` (rooted Cronbach components, on the
        transcripts scored on every dimension; NaN when there are none),
        ``n_complete_transcripts``, ``summary_text``.
    bias : pandas.DataFrame
        One row per interviewer x dimension: ``n, bias, ci_low, ci_high, text``.
    cells : pandas.DataFrame
        One row per rating compared: ``rater_id, transcript_id, dimension, score,
        reference_score, reference_level, deviation, exact, within_one, rationale``.
    excluded : pandas.DataFrame
        Ratings left out because the rater helped set that transcript's reference.
    confidence : float
    """

    summary: pd.DataFrame
    bias: pd.DataFrame
    cells: pd.DataFrame
    excluded: pd.DataFrame
    confidence: float = 0.95


def deviation_cells(
    ratings: pd.DataFrame,
    reference_set: ReferenceSet,
    raters: Sequence[str] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Join human ratings of the set's transcripts to the reference.

    Returns
    -------
    (cells, excluded) : tuple of DataFrames
        ``cells`` as in :class:`AccuracyResult`; ``excluded`` the ratings of reference raters
        on the transcripts they helped score.
    """
    ref = reference_set.reference[
        ["transcript_id", "dimension", "reference_score", "reference_level"]
    ]
    human = ratings[(ratings["rater_type"] == "human") & ratings["score"].notna()].copy()
    for col in ("transcript_id", "rater_id", "dimension"):
        human[col] = human[col].astype(str)
    if raters:
        wanted = [str(r) for r in raters]
        missing = [r for r in wanted if r not in set(human["rater_id"])]
        if missing:
            raise DataValidationError(
                f"rater(s) {', '.join(map(repr, missing))} have no human ratings in this store"
            )
        human = human[human["rater_id"].isin(wanted)]
    merged = human.merge(ref, on=["transcript_id", "dimension"], how="inner")
    owners = reference_set.reference_raters()
    own = np.array(
        [
            r in owners.get(t, ())
            for t, r in zip(merged["transcript_id"], merged["rater_id"], strict=True)
        ],
        dtype=bool,
    )
    excluded = merged.loc[own, ["rater_id", "transcript_id", "dimension", "score"]]
    cells = merged.loc[~own].copy()
    cells["deviation"] = cells["score"] - cells["reference_score"]
    cells["exact"] = cells["deviation"].abs() <= 0.5 + 1e-9
    cells["within_one"] = cells["deviation"].abs() <= 1.5 + 1e-9
    if "rationale" not in cells.columns:
        cells["rationale"] = np.nan
    dims = list(dict.fromkeys(reference_set.reference["dimension"]))
    order_t = {t: i for i, t in enumerate(reference_set.transcript_ids)}
    cells = (
        cells.assign(_t=cells["transcript_id"].map(order_t), _d=cells["dimension"].map(dims.index))
        .sort_values(["rater_id", "_t", "_d"], kind="stable")
        .drop(columns=["_t", "_d"])
    )
    cols = [
        "rater_id",
        "transcript_id",
        "dimension",
        "score",
        "reference_score",
        "reference_level",
        "deviation",
        "exact",
        "within_one",
        "rationale",
    ]
    return cells[cols].reset_index(drop=True), excluded.reset_index(drop=True)


def _t_interval(values: np.ndarray, confidence: float) -> tuple[float, float, float]:
    n = len(values)
    mean = float(np.mean(values)) if n else float("nan")
    if n < 2:
        return mean, float("nan"), float("nan")
    sd = float(np.std(values, ddof=1))
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1)) * sd / np.sqrt(n)
    return mean, mean - half, mean + half


def _s(v: float) -> str:
    """Signed, two decimals, never "-0.00"."""
    return f"{round(v, 2) + 0.0:+.2f}"


def _bias_words(dim: str, bias: float, lo: float, hi: float, n: int, conf: float) -> str:
    if not np.isfinite(bias):
        return f"{dim}: not scored."
    pct = f"{100 * conf:.0f}%"
    if n < 2 or not np.isfinite(lo):
        return (
            f"{dim}: {abs(bias):.2f} levels {'above' if bias > 0 else 'below'} the reference "
            f"on a single transcript (too few to tell)."
        )
    if lo <= 0 <= hi:
        return (
            f"{dim}: no clear bias ({_s(bias)} levels on average, {pct} CI {_s(lo)} to "
            f"{_s(hi)}, includes 0)."
        )
    side = "above" if bias > 0 else "below"
    kind = "more lenient" if bias > 0 else "harsher"
    return (
        f"{dim}: you scored {abs(bias):.2f} levels {side} the reference on average "
        f"({pct} CI {_s(lo)} to {_s(hi)}): {kind} than the reference."
    )


def bias_by_dimension(
    cells: pd.DataFrame, dimensions: Sequence[str], confidence: float = 0.95
) -> pd.DataFrame:
    """Mean deviation from the reference per rater x dimension with a t-based CI.

    Parameters
    ----------
    cells : pandas.DataFrame
        Output of :func:`deviation_cells`.
    dimensions : sequence of str
        Rubric dimension ids (output order).
    confidence : float
        Confidence level of the interval.

    Returns
    -------
    pandas.DataFrame
        ``rater_id, dimension, n, bias, ci_low, ci_high, text``.

    Notes
    -----
    ``bias = mean(x - t)``; CI ``bias ± t_{(1+c)/2, n-1} · s / sqrt(n)`` over the ``n``
    transcripts (the one-sample t interval; R: ``t.test(dev)$conf.int``; scipy:
    ``ttest_1samp(dev, 0).confidence_interval(c)``).

    Examples
    --------
    >>> cells = pd.DataFrame({"rater_id": ["a"] * 3, "dimension": ["d"] * 3,
    ...                       "deviation": [1.0, 0.0, 0.5]})
    >>> bias_by_dimension(cells, ["d"])[["n", "bias"]].to_dict("records")
    [{'n': 3, 'bias': 0.5}]
    """
    rows = []
    for rater, g in cells.groupby("rater_id", sort=True):
        for dim in dimensions:
            dev = g.loc[g["dimension"] == dim, "deviation"].to_numpy(dtype=float)
            bias, lo, hi = _t_interval(dev, confidence)
            rows.append(
                {
                    "rater_id": rater,
                    "dimension": dim,
                    "n": len(dev),
                    "bias": bias,
                    "ci_low": lo,
                    "ci_high": hi,
                    "text": _bias_words(dim, bias, lo, hi, len(dev), confidence),
                }
            )
    return pd.DataFrame(
        rows, columns=["rater_id", "dimension", "n", "bias", "ci_low", "ci_high", "text"]
    )


def summarise_cells(
    cells: pd.DataFrame, dimensions: Sequence[str], n_reference_cells: int
) -> dict[str, float]:
    """Accuracy figures of one interviewer's cells (agreement, deviation, Cronbach rooted).

    Cronbach's components use the transcripts the interviewer scored on every dimension.
    """
    dev = cells["deviation"].to_numpy(dtype=float)
    out: dict[str, float] = {
        "n_transcripts": int(cells["transcript_id"].nunique()),
        "n_cells": len(cells),
        "coverage": len(cells) / n_reference_cells if n_reference_cells else float("nan"),
        "exact": float(cells["exact"].mean()) if len(cells) else float("nan"),
        "within_one": float(cells["within_one"].mean()) if len(cells) else float("nan"),
        "mean_deviation": float(dev.mean()) if len(dev) else float("nan"),
        "mean_abs_deviation": float(np.abs(dev).mean()) if len(dev) else float("nan"),
    }
    out["adjacent"] = out["within_one"] - out["exact"]
    grid_x = cells.pivot_table(
        index="transcript_id", columns="dimension", values="score", aggfunc="first"
    ).reindex(columns=list(dimensions))
    grid_t = cells.pivot_table(
        index="transcript_id", columns="dimension", values="reference_score", aggfunc="first"
    ).reindex(columns=list(dimensions))
    complete = grid_x.notna().all(axis=1)
    out["n_complete_transcripts"] = int(complete.sum())
    if complete.any():
        comp = cronbach_components(grid_x[complete].to_numpy(), grid_t[complete].to_numpy())
        out.update(comp.rooted())
    else:
        out.update(
            dict.fromkeys(
                [
                    "elevation",
                    "differential_elevation",
                    "stereotype_accuracy",
                    "differential_accuracy",
                ],
                float("nan"),
            )
        )
    return out


def _summary_words(s: dict, worst: pd.Series | None) -> str:
    parts = [
        f"Agreed exactly with the reference on {100 * s['exact']:.0f}% of scores and within one "
        f"level on {100 * s['within_one']:.0f}% ({s['n_cells']} scores on "
        f"{s['n_transcripts']} transcripts)."
    ]
    md = s["mean_deviation"]
    if np.isfinite(md) and abs(md) < 0.005:
        parts.append("On average level with the reference.")
    elif np.isfinite(md):
        side = "above (more lenient than)" if md > 0 else "below (harsher than)"
        parts.append(f"On average {abs(md):.2f} levels {side} the reference.")
    if np.isfinite(s.get("differential_accuracy", np.nan)):
        parts.append(
            f"Differential accuracy {s['differential_accuracy']:.2f} (0 = ranks the candidates "
            "on each dimension exactly as the reference does; it is what calibration training "
            "improves most)."
        )
    if worst is not None and np.isfinite(worst["bias"]) and abs(worst["bias"]) >= 0.25:
        parts.append(f"Largest bias on {worst['text']}")
    return " ".join(parts)


def accuracy_against_reference(
    ratings: pd.DataFrame,
    reference_set: ReferenceSet,
    raters: Sequence[str] | None = None,
    confidence: float = 0.95,
) -> AccuracyResult:
    """Accuracy of each human interviewer against the reference scores of ``reference_set``.

    Parameters
    ----------
    ratings : pandas.DataFrame
        Long ratings table of the round (``calib.io.read_ratings``).
    reference_set : ReferenceSet
    raters : sequence of str, optional
        Only these interviewers (default: every human rater with ratings on the set).
    confidence : float
        Confidence level of the bias intervals.

    Returns
    -------
    AccuracyResult

    Raises
    ------
    DataValidationError
        No interviewer has scored any transcript of the set (the message lists the set's ids).

    Examples
    --------
    >>> from calib.training import read_reference_set  # doctest: +SKIP
    >>> res = accuracy_against_reference(read_ratings("round1/"), read_reference_set("set/"))  # doctest: +SKIP
    >>> res.summary[["rater_id", "within_one", "differential_accuracy"]]  # doctest: +SKIP
    """
    cells, excluded = deviation_cells(ratings, reference_set, raters)
    if cells.empty and len(excluded):
        who = sorted(excluded["rater_id"].unique())
        raise DataValidationError(
            f"all {len(excluded)} ratings of the set's transcripts in this store are by raters who "
            f"set its reference ({', '.join(who[:10])}{' ...' if len(who) > 10 else ''}); nobody "
            "is scored against their own reference: have the interviewers score the packet and "
            "ingest their CSVs into a round store"
        )
    if cells.empty:
        ids = ", ".join(reference_set.transcript_ids[:10])
        raise DataValidationError(
            "no interviewer ratings of the reference set's transcripts in this store "
            f"(set {reference_set.set_id}: {ids}"
            f"{' ...' if len(reference_set.transcript_ids) > 10 else ''}); ingest the "
            "interviewers' packet CSVs first"
        )
    dims = list(dict.fromkeys(reference_set.reference["dimension"]))
    n_ref = len(reference_set.reference)
    bias = bias_by_dimension(cells, dims, confidence)
    rows = []
    for rater, g in cells.groupby("rater_id", sort=True):
        s = {"rater_id": rater, **summarise_cells(g, dims, n_ref)}
        b = bias[bias["rater_id"] == rater].dropna(subset=["bias"])
        worst = b.loc[b["bias"].abs().idxmax()] if len(b) else None
        s["summary_text"] = _summary_words(s, worst)
        rows.append(s)
    cols = [
        "rater_id",
        "n_transcripts",
        "n_cells",
        "coverage",
        "exact",
        "adjacent",
        "within_one",
        "mean_deviation",
        "mean_abs_deviation",
        "elevation",
        "differential_elevation",
        "stereotype_accuracy",
        "differential_accuracy",
        "n_complete_transcripts",
        "summary_text",
    ]
    summary = pd.DataFrame(rows)[cols]
    return AccuracyResult(summary, bias, cells, excluded, confidence)
