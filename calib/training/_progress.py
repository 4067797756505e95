"""Progress over calibration rounds: each interviewer's accuracy change with a bootstrap CI.

A round is one store and one reference set (rounds may share a store when they use different
sets: the packet tags each rating with ``run_id = training:<set_id>``). For every interviewer
scored in two or more rounds, the first and last rounds are compared on

* ``within_one``: exact + adjacent agreement with the reference (share of scores);
* ``mean_abs_deviation``: mean ``|x - t|`` in levels;
* ``differential_accuracy``: Cronbach's rooted DA (see :mod:`calib.training._cronbach`).

CI of a change: percentile bootstrap, resampling the transcripts of each round independently
(a transcript's scores stay together; rounds are independent samples), ``n_boot`` resamples from
``numpy.random.default_rng(seed)``. With a single dimension this is the ordinary two-sample
percentile bootstrap of a difference in means (checked against ``scipy.stats.bootstrap``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from calib.training._accuracy import AccuracyResult
from calib.training._cronbach import cronbach_components
from calib.training._reference import ReferenceSet

__all__ = ["RoundResult", "RaterGrid", "rater_grid", "compare_rounds", "METRICS"]

#: metric -> (label, better when, format)
METRICS = {
    "within_one": ("exact + adjacent agreement", "higher", "pct"),
    "mean_abs_deviation": ("mean absolute deviation (levels)", "lower", "num"),
    "differential_accuracy": ("differential accuracy (rooted)", "lower", "num"),
}


@dataclass(frozen=True)
class RoundResult:
    """One round: its name, store, reference set, accuracy and certification."""

    name: str
    store: str
    reference_set: ReferenceSet
    accuracy: AccuracyResult
    certification: pd.DataFrame


@dataclass(frozen=True)
class RaterGrid:
    """One interviewer's scores and the reference as transcripts x dimensions arrays (NaN = not
    scored).
    """

    x: np.ndarray
    t: np.ndarray

    def metrics(self, rows: np.ndarray | None = None) -> dict[str, float]:
        """The progress metrics on the transcripts ``rows`` (a resample; default all)."""
        x = self.x if rows is None else self.x[rows]
        t = self.t if rows is None else self.t[rows]
        d = x - t
        ok = ~np.isnan(d)
        n = ok.sum()
        ad = np.abs(d[ok])
        out = {
            "within_one": float((ad <= 1.5 + 1e-9).mean()) if n else np.nan,
            "mean_abs_deviation": float(ad.mean()) if n else np.nan,
        }
        complete = ok.all(axis=1)
        out["differential_accuracy"] = (
            float(np.sqrt(cronbach_components(x[complete], t[complete]).differential_accuracy))
            if complete.any()
            else np.nan
        )
        return out


def rater_grid(cells: pd.DataFrame, dimensions: Sequence[str]) -> RaterGrid:
    """Arrays of one interviewer's cells (``deviation_cells`` rows of one rater)."""
    x = cells.pivot_table(
        index="transcript_id", columns="dimension", values="score", aggfunc="first"
    ).reindex(columns=list(dimensions))
    t = cells.pivot_table(
        index="transcript_id", columns="dimension", values="reference_score", aggfunc="first"
    ).reindex(index=x.index, columns=list(dimensions))
    return RaterGrid(x.to_numpy(dtype=float), t.to_numpy(dtype=float))


def bootstrap_change(
    first: RaterGrid,
    last: RaterGrid,
    n_boot: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> dict[str, tuple[float, float, float]]:
    """``{metric: (last - first, ci_low, ci_high)}`` with a percentile bootstrap CI.

    Examples
    --------
    >>> a = RaterGrid(np.array([[1.0], [2.0], [4.0]]), np.array([[2.0], [2.0], [2.0]]))
    >>> b = RaterGrid(np.array([[2.0], [2.0], [3.0]]), np.array([[2.0], [2.0], [2.0]]))
    >>> round(bootstrap_change(a, b, n_boot=200)["within_one"][0], 3)
    0.333
    """
    rng = np.random.default_rng(seed)
    m1, m2 = first.metrics(), last.metrics()
    n1, n2 = first.x.shape[0], last.x.shape[0]
    draws = {k: np.empty(n_boot) for k in METRICS}
    for b in range(n_boot):
        r1 = first.metrics(np.asarray(rng.integers(0, n1, n1)))
        r2 = last.metrics(np.asarray(rng.integers(0, n2, n2)))
        for k in METRICS:
            draws[k][b] = r2[k] - r1[k]
    alpha = 1 - confidence
    out = {}
    for k in METRICS:
        v = draws[k][np.isfinite(draws[k])]
        lo, hi = np.quantile(v, [alpha / 2, 1 - alpha / 2]) if len(v) else (np.nan, np.nan)
        out[k] = (float(m2[k] - m1[k]), float(lo), float(hi))
    return out


def _words(rater: str, row: dict, confidence: float) -> str:
    pct = f"{100 * confidence:.0f}%"
    w1, w2 = row["within_one_first"], row["within_one_last"]
    ch, lo, hi = row["within_one_change"], row["within_one_ci_low"], row["within_one_ci_high"]
    parts = [
        f"{rater}: within one level of the reference {100 * w1:.0f}% → {100 * w2:.0f}% "
        f"({100 * ch:+.0f} points, {pct} CI {100 * lo:+.0f} to {100 * hi:+.0f})"
    ]
    d1, d2 = row["differential_accuracy_first"], row["differential_accuracy_last"]
    if np.isfinite(d1) and np.isfinite(d2):
        dlo, dhi = row["differential_accuracy_ci_low"], row["differential_accuracy_ci_high"]
        verdict = "more accurate" if dhi < 0 else "less accurate" if dlo > 0 else "no clear change"
        parts.append(
            f"differential accuracy {d1:.2f} → {d2:.2f} ({d2 - d1:+.2f}, CI {dlo:+.2f} to "
            f"{dhi:+.2f}: {verdict})"
        )
    if row["moved_inside"]:
        parts.append("moved inside tolerance: now certified")
    elif row["certified_last"]:
        parts.append("certified in both rounds")
    elif row["certified_first"]:
        parts.append("was certified, no longer is")
    else:
        parts.append(f"not certified yet ({row['failed_last']})")
    return "; ".join(parts) + "."


def compare_rounds(
    rounds: Sequence[RoundResult],
    n_boot: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Accuracy change between each interviewer's first and last round, with CIs.

    Parameters
    ----------
    rounds : sequence of RoundResult
        In chronological order (two or more).
    n_boot : int
        Bootstrap resamples.
    seed : int
        Seed of the bootstrap (same seed, same intervals).
    confidence : float

    Returns
    -------
    pandas.DataFrame
        One row per interviewer scored in at least two rounds: ``rater_id, first_round,
        last_round``; for each metric of :data:`METRICS` ``<m>_first, <m>_last, <m>_change,
        <m>_ci_low, <m>_ci_high``; ``certified_first, certified_last, moved_inside`` (failed
        the gate in the first round, passed in the last), ``failed_last``, ``text``.
    """
    per: dict[str, list[int]] = {}
    for i, r in enumerate(rounds):
        for rater in r.accuracy.summary["rater_id"]:
            per.setdefault(str(rater), []).append(i)
    rows = []
    for k, rater in enumerate(sorted(per)):
        idx = per[rater]
        if len(idx) < 2:
            continue
        a, b = rounds[idx[0]], rounds[idx[-1]]
        grids = []
        for r in (a, b):
            dims = list(dict.fromkeys(r.reference_set.reference["dimension"]))
            cells = r.accuracy.cells[r.accuracy.cells["rater_id"] == rater]
            grids.append(rater_grid(cells, dims))
        change = bootstrap_change(grids[0], grids[1], n_boot, seed + k, confidence)
        m1, m2 = grids[0].metrics(), grids[1].metrics()
        cert = [r.certification.set_index("rater_id").loc[rater] for r in (a, b)]
        row: dict = {"rater_id": rater, "first_round": a.name, "last_round": b.name}
        for m in METRICS:
            row[f"{m}_first"], row[f"{m}_last"] = m1[m], m2[m]
            row[f"{m}_change"], row[f"{m}_ci_low"], row[f"{m}_ci_high"] = change[m]
        row["certified_first"] = bool(cert[0]["certified"])
        row["certified_last"] = bool(cert[1]["certified"])
        row["moved_inside"] = row["certified_last"] and not row["certified_first"]
        row["failed_last"] = str(cert[1]["failed"])
        row["text"] = _words(rater, row, confidence)
        rows.append(row)
    cols = ["rater_id", "first_round", "last_round"]
    for m in METRICS:
        cols += [f"{m}_{s}" for s in ("first", "last", "change", "ci_low", "ci_high")]
    cols += ["certified_first", "certified_last", "moved_inside", "failed_last", "text"]
    return pd.DataFrame(rows, columns=cols)
