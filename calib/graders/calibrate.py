"""Fit a rule grader's thresholds to the human consensus, cross-validated by transcript.

The rule grader's raw points per dimension are fixed by its signals; only the cut points
that map raw points to the rubric scale are fitted. Two methods:

* ``isotonic`` (default): monotone regression of the consensus score on raw points
  (``scipy.optimize.isotonic_regression``), rounded half up to the scale; the thresholds are
  the midpoints where the rounded fit steps up a level.
* ``qwk``: thresholds that maximise quadratic-weighted kappa with the consensus, by exact
  coordinate ascent over the midpoints between observed raw scores (each threshold in turn,
  all candidates evaluated at once), started from the isotonic thresholds. Isotonic and
  ordinal fits aim at the most likely level and shrink the score spread; this one targets
  the acceptance criterion directly (the "optimised rounder" of automated-essay-scoring
  practice, here without random restarts so it is deterministic).
* ``ordinal``: a cumulative-logit (proportional-odds) model ``P(Y <= k) = logistic(c_k -
  b * raw)`` fitted by maximum likelihood; threshold k is ``c_k / b``, the raw score at which
  the median predicted level moves above k. Same likelihood as ``statsmodels``'
  ``OrderedModel(distr="logit")`` and R's ``MASS::polr``.

Cross-validation assigns every transcript to one fold (seeded), fits on the other folds and
scores the held-out transcripts, so the reported agreement is out-of-sample.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, special

from calib.errors import CalibWarning, ConfigError, DataValidationError
from calib.graders._hmstats import weighted_hm_metrics
from calib.graders.validate import human_consensus

__all__ = [
    "CalibrationResult",
    "fit_thresholds",
    "fit_isotonic_thresholds",
    "fit_ordinal",
    "fit_qwk_thresholds",
    "calibrate_rule_grader",
]

METHODS = ("isotonic", "ordinal", "qwk")


def _strictly_increasing(th: np.ndarray) -> np.ndarray:
    # A level no transcript reaches gets an (almost) empty interval instead of a tie.
    th = np.asarray(th, float).copy()
    for k in range(1, len(th)):  # at most scale-size entries
        if th[k] <= th[k - 1]:
            th[k] = th[k - 1] + 1e-6 * max(1.0, abs(th[k - 1]))
    return th


def fit_isotonic_thresholds(
    raw: np.ndarray, target: np.ndarray, scale_values: Sequence[int]
) -> np.ndarray:
    """Thresholds from an isotonic fit of ``target`` on ``raw`` (ties in ``raw`` pooled).

    Example
    -------
    >>> fit_isotonic_thresholds(np.array([0, 1, 2, 3.]), np.array([1, 1, 2, 2.]), [1, 2])
    array([1.5])
    """
    raw = np.asarray(raw, float)
    target = np.asarray(target, float)
    ok = ~(np.isnan(raw) | np.isnan(target))
    if ok.sum() < 2:
        raise DataValidationError(
            "fit_isotonic_thresholds: need at least 2 transcripts with raw and human scores"
        )
    xs, inv, cnt = np.unique(raw[ok], return_inverse=True, return_counts=True)
    ymean = np.bincount(inv, weights=target[ok]) / cnt
    fit = optimize.isotonic_regression(ymean, weights=cnt.astype(float), increasing=True).x
    lo, hi = scale_values[0], scale_values[-1]
    level = np.clip(np.floor(fit + 0.5), lo, hi)
    th = []
    for k in scale_values[1:]:  # one threshold per scale step
        above = np.flatnonzero(level >= k)
        if len(above) == 0:
            th.append(xs[-1] + 1.0)  # nobody reaches level k
        elif above[0] == 0:
            th.append(xs[0] - 1.0)  # everybody reaches level k
        else:
            th.append((xs[above[0] - 1] + xs[above[0]]) / 2)
    return _strictly_increasing(np.array(th))


def fit_ordinal(raw: np.ndarray, target: np.ndarray, scale_values: Sequence[int]) -> dict:
    """Cumulative-logit model ``P(Y <= k | x) = logistic(c_k - b x)`` by maximum likelihood.

    Returns
    -------
    dict
        ``slope`` (b), ``cutpoints`` (c_k, increasing), ``thresholds`` (c_k / b),
        ``loglik``, ``converged``.

    Example
    -------
    >>> rng = np.random.default_rng(1)
    >>> x = rng.normal(size=400)
    >>> y = 1 + (x + rng.logistic(size=400) > np.array([[-1.], [1.]])).sum(axis=0)
    >>> round(fit_ordinal(x, y, [1, 2, 3])["slope"], 1)
    1.0
    """
    raw = np.asarray(raw, float)
    target = np.asarray(target, float)
    ok = ~(np.isnan(raw) | np.isnan(target))
    x, y = raw[ok], target[ok]
    levels = np.asarray(scale_values, float)
    yi = np.searchsorted(levels, y)
    K = len(levels)
    if len(x) < K or np.ptp(x) == 0:
        raise DataValidationError(
            "fit_ordinal: need varying raw scores and at least as many transcripts as levels"
        )
    xm, xs = x.mean(), x.std()
    z = (x - xm) / xs  # standardised for a well-conditioned optimisation; mapped back below

    def unpack(p):
        return p[0], np.cumsum(np.concatenate([[p[1]], np.exp(p[2:])]))

    def nll(p):
        b, c = unpack(p)
        cum = special.expit(
            np.concatenate(
                [
                    np.full((len(z), 1), -np.inf),
                    c[None, :] - b * z[:, None],
                    np.full((len(z), 1), np.inf),
                ],
                axis=1,
            )
        )
        prob = cum[np.arange(len(z)), yi + 1] - cum[np.arange(len(z)), yi]
        return -np.log(np.maximum(prob, 1e-300)).sum()

    share = np.clip(np.cumsum(np.bincount(yi, minlength=K))[:-1] / len(yi), 0.01, 0.99)
    c0 = special.logit(share)
    p0 = np.concatenate([[1.0, c0[0]], np.log(np.maximum(np.diff(c0), 1e-3))])
    res = optimize.minimize(nll, p0, method="BFGS")
    b, c = unpack(res.x)
    slope = b / xs
    cut = c + b * xm / xs  # c_k - b z = (c_k + b xm / xs) - (b / xs) x
    th = cut / slope if slope > 0 else np.full(K - 1, np.nan)
    return {
        "slope": float(slope),
        "cutpoints": cut,
        "thresholds": th,
        "loglik": float(-res.fun),
        "converged": bool(res.success),
    }


def _qwk_rows(h: np.ndarray, P: np.ndarray) -> np.ndarray:
    # QWK of each row of predictions P (m, n) against h: 2 cov / (var h + var p + (mean diff)^2),
    # population moments -- equal to Cohen's QWK for integer scores (Haberman's form).
    mh, mp = h.mean(), P.mean(axis=1)
    vh, vp = h.var(), P.var(axis=1)
    cov = (P * h).mean(axis=1) - mp * mh
    den = vh + vp + (mh - mp) ** 2
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, 2 * cov / den, np.nan)


def fit_qwk_thresholds(
    raw: np.ndarray, target: np.ndarray, scale_values: Sequence[int], *, max_rounds: int = 50
) -> np.ndarray:
    """Thresholds maximising QWK with ``target`` (coordinate ascent from the isotonic fit).

    Example
    -------
    >>> raw = np.array([0.0, 1.0, 2.0, 3.0, 4.0, 5.0])
    >>> fit_qwk_thresholds(raw, np.array([1, 1, 2, 2, 3, 3.]), [1, 2, 3]).tolist()
    [1.5, 3.5]
    """
    raw = np.asarray(raw, float)
    target = np.asarray(target, float)
    ok = ~(np.isnan(raw) | np.isnan(target))
    x, h = raw[ok], target[ok]
    th = fit_isotonic_thresholds(x, h, scale_values)
    xs = np.unique(x)
    cand = np.concatenate([[xs[0] - 1.0], (xs[:-1] + xs[1:]) / 2, [xs[-1] + 1.0]])
    lo = scale_values[0]
    best = _qwk_rows(h, (lo + np.searchsorted(th, x, side="right"))[None, :].astype(float))[0]
    for _ in range(max_rounds):  # rounds of coordinate ascent; stops when no threshold moves
        moved = False
        for k in range(len(th)):  # one threshold at a time, every candidate position at once
            left = th[k - 1] if k > 0 else -np.inf
            right = th[k + 1] if k + 1 < len(th) else np.inf
            c = cand[(cand > left) & (cand < right)]
            if len(c) == 0:
                continue
            # level of each transcript for each candidate value of threshold k
            others = lo + np.searchsorted(np.delete(th, k), x, side="right")
            P = (others[None, :] + (x[None, :] >= c[:, None])).astype(float)
            q = _qwk_rows(h, P)
            if np.all(np.isnan(q)):
                continue
            j = int(np.nanargmax(q))
            if q[j] > best + 1e-12:
                best, th[k], moved = q[j], c[j], True
        if not moved:
            break
    return _strictly_increasing(th)


def fit_thresholds(
    raw: np.ndarray, target: np.ndarray, scale_values: Sequence[int], method: str = "isotonic"
) -> np.ndarray:
    """Fit ``len(scale_values) - 1`` increasing thresholds mapping raw points to the scale.

    Raises
    ------
    ConfigError
        For an unknown method.

    Example
    -------
    >>> raw = np.array([0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5])
    >>> fit_thresholds(raw, np.array([1, 1, 2, 2, 3, 3, 4, 4.]), [1, 2, 3, 4]).tolist()
    [0.75, 1.75, 2.75]
    """
    if method == "isotonic":
        return fit_isotonic_thresholds(raw, target, scale_values)
    if method == "qwk":
        return fit_qwk_thresholds(raw, target, scale_values)
    if method == "ordinal":
        fit = fit_ordinal(raw, target, scale_values)
        if not np.all(np.isfinite(fit["thresholds"])):
            warnings.warn(
                "fit_ordinal: raw points do not increase with the human score (slope <= 0); "
                "falling back to isotonic thresholds",
                CalibWarning,
                stacklevel=2,
            )
            return fit_isotonic_thresholds(raw, target, scale_values)
        return _strictly_increasing(fit["thresholds"])
    raise ConfigError(f"method: expected one of {', '.join(METHODS)}, got {method!r}")


@dataclass
class CalibrationResult:
    """Fitted configuration and its cross-validated effect.

    Attributes
    ----------
    config : dict
        Write it with YAML/JSON and pass it to ``calib grade --config``: ``grader, method,
        thresholds {dimension: [...]}, cv {...}, fitted {...}``.
    cv : pandas.DataFrame
        Per dimension: ``N, wtkappa_before, wtkappa_after, exact_agr_before, exact_agr_after``
        (after = out-of-fold predictions).
    """

    config: dict
    cv: pd.DataFrame


def _apply(th: np.ndarray, raw: np.ndarray, lo: int) -> np.ndarray:
    return lo + np.searchsorted(th, raw, side="right").astype(float)


def calibrate_rule_grader(
    grader: Any,
    transcripts: pd.DataFrame,
    ratings: pd.DataFrame,
    rubric: Any,
    *,
    method: str = "isotonic",
    folds: int = 5,
    seed: int = 0,
) -> CalibrationResult:
    """Fit a :class:`~calib.graders.RuleGrader`'s thresholds to the human consensus.

    Parameters
    ----------
    grader : RuleGrader
    transcripts, ratings : pandas.DataFrame
        Transcripts and the long ratings table with human rows.
    rubric : Rubric
    method : {"isotonic", "ordinal", "qwk"}
    folds : int
        Cross-validation folds over transcripts (>= 2).
    seed : int
        Seed of the fold assignment.

    Example
    -------
    >>> res = calibrate_rule_grader(RuleGrader.from_rubric(rubric), transcripts, ratings, rubric)  # doctest: +SKIP
    >>> res.cv[["dimension", "wtkappa_before", "wtkappa_after"]]  # doctest: +SKIP
    """
    if method not in METHODS:
        raise ConfigError(f"method: expected one of {', '.join(METHODS)}, got {method!r}")
    if folds < 2:
        raise ConfigError(f"folds: need at least 2, got {folds}")
    cons = human_consensus(ratings)
    raw, _, _, _ = grader.raw_scores(transcripts, list(rubric.dimension_ids))
    scale = list(rubric.scale.values)
    lo = int(rubric.scale.min)
    rng = np.random.default_rng(seed)
    fold_of = pd.Series(rng.permutation(len(raw)) % folds, index=raw.index)
    thresholds, rows = {}, []
    for dim in raw.columns:  # one fit per rubric dimension
        if dim not in cons.columns:
            continue
        both = pd.concat([raw[dim], cons[dim]], axis=1, keys=["raw", "h"], join="inner").dropna()
        if len(both) < 2 * folds:
            warnings.warn(
                f"calibrate: dimension {dim!r} has {len(both)} transcripts with raw and human scores; "
                "thresholds left unchanged",
                CalibWarning,
                stacklevel=2,
            )
            continue
        x, h = both["raw"].to_numpy(), both["h"].to_numpy()
        f = fold_of.loc[both.index].to_numpy()
        oof = np.full(len(x), np.nan)
        for k in range(folds):
            th = fit_thresholds(x[f != k], h[f != k], scale, method)
            oof[f == k] = _apply(th, x[f == k], lo)
        before = _apply(np.asarray(grader.signals[dim].thresholds), x, lo)
        mb, ma = weighted_hm_metrics(h, before), weighted_hm_metrics(h, oof)
        thresholds[dim] = [round(float(v), 6) for v in fit_thresholds(x, h, scale, method)]
        rows.append(
            {
                "dimension": dim,
                "N": len(x),
                "wtkappa_before": mb["wtkappa"][0],
                "wtkappa_after": ma["wtkappa"][0],
                "exact_agr_before": mb["exact_agr"][0],
                "exact_agr_after": ma["exact_agr"][0],
            }
        )
    cv = pd.DataFrame(
        rows,
        columns=[
            "dimension",
            "N",
            "wtkappa_before",
            "wtkappa_after",
            "exact_agr_before",
            "exact_agr_after",
        ],
    )
    from calib import __version__

    config = {
        "grader": "rules",
        "method": method,
        "thresholds": thresholds,
        "cv": {
            r["dimension"]: {
                k: (int(v) if k == "N" else round(float(v), 6))
                for k, v in r.items()
                if k != "dimension"
            }
            for r in cv.to_dict("records")
        },
        "fitted": {
            "rubric_id": rubric.id,
            "rubric_version": str(rubric.version),
            "rubric_hash": getattr(rubric, "content_hash", ""),
            "base_rater_id": grader.rater_id,
            "n_transcripts": int(len(raw)),
            "folds": folds,
            "seed": seed,
            "calib_version": __version__,
            "consensus": "mean of human ratings, rounded half up",
        },
    }
    return CalibrationResult(config=config, cv=cv)
