"""Statistics as sums of per-unit contributions.

Every agreement statistic here is a smooth function of sums over units of per-unit
feature vectors (coincidence counts, category proportions, ANOVA moments). Writing each one
as ``finish(features.sum(axis=0))`` makes the point estimate, the unit-level (cluster)
bootstrap and the jackknife share one code path: a bootstrap resample is a weighted sum
``w @ features`` with multinomial weights, a jackknife replicate is ``total - features[u]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy import sparse

__all__ = ["UnitSums", "resample_sums", "jackknife_sums", "draw_weights", "draw_indices"]

_CHUNK = 128  # resamples per weight block: bounds memory at _CHUNK x n_units floats


@dataclass(frozen=True)
class UnitSums:
    """Per-unit features (n_units, p) and the map from summed features (B, p) to B statistics."""

    features: np.ndarray | sparse.csr_matrix
    finish: Callable[[np.ndarray], np.ndarray]

    @property
    def n_units(self) -> int:
        return self.features.shape[0]

    def total(self) -> np.ndarray:
        s = self.features.sum(axis=0)
        return np.asarray(s, dtype=float).reshape(1, -1)

    def estimate(self) -> float:
        with np.errstate(invalid="ignore", divide="ignore"):
            return float(self.finish(self.total())[0])

    def apply(self, weights: np.ndarray) -> np.ndarray:
        """Statistics for weight rows ``weights`` (B, n_units)."""
        if sparse.issparse(self.features):
            sums = np.asarray((self.features.T @ weights.T).T)
        else:
            sums = weights @ self.features
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.finish(sums)


def draw_indices(rng: np.random.Generator, n_units: int, n_boot: int):
    """Yield blocks (b, n_units) of resampled unit indices; the one source of randomness."""
    done = 0
    while done < n_boot:
        b = min(_CHUNK, n_boot - done)
        yield rng.integers(0, n_units, size=(b, n_units))
        done += b


def draw_weights(rng: np.random.Generator, n_units: int, n_boot: int):
    """Yield blocks of unit-level bootstrap weights (counts of each unit in a resample)."""
    for idx in draw_indices(rng, n_units, n_boot):
        b = len(idx)
        flat = (idx + (np.arange(b) * n_units)[:, None]).ravel()
        yield np.bincount(flat, minlength=b * n_units).reshape(b, n_units).astype(float)


def resample_sums(stats: list[UnitSums], n_boot: int, seed: int | np.random.Generator) -> list[np.ndarray]:
    """Bootstrap distributions of several statistics over the same unit resamples.

    All statistics must be defined on the same units (rows). Their dense features are
    stacked so each block of resamples costs one matrix product (plus one sparse product).
    """
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    n_units = stats[0].n_units
    if any(st.n_units != n_units for st in stats):
        raise ValueError("resample_sums: all statistics must share the same units")
    dense = [i for i, st in enumerate(stats) if not sparse.issparse(st.features)]
    sparse_ = [i for i, st in enumerate(stats) if sparse.issparse(st.features)]

    def stack(idx, hstack):
        # statistics sharing one feature array (e.g. ordinal and interval alpha) share columns
        blocks, where, start = [], {}, []
        offset = 0
        for i in idx:
            key = id(stats[i].features)
            if key not in where:
                where[key] = offset
                blocks.append(stats[i].features)
                offset += stats[i].features.shape[1]
            start.append((where[key], where[key] + stats[i].features.shape[1]))
        return (hstack(blocks) if blocks else None), start

    fd, cut_d = stack(dense, np.hstack)
    fs, cut_s = stack(sparse_, lambda m: sparse.hstack(m, format="csr"))
    fs_t = fs.T.tocsr() if fs is not None else None
    outs: list[list[np.ndarray]] = [[] for _ in stats]
    for w in draw_weights(rng, n_units, n_boot):
        with np.errstate(invalid="ignore", divide="ignore"):
            if fd is not None:
                sd = w @ fd
                for (a, b), i in zip(cut_d, dense):
                    outs[i].append(stats[i].finish(sd[:, a:b]))
            if fs_t is not None:
                ss = np.asarray(fs_t @ np.ascontiguousarray(w.T)).T
                for (a, b), i in zip(cut_s, sparse_):
                    outs[i].append(stats[i].finish(ss[:, a:b]))
    return [np.concatenate(o) if o else np.empty(0) for o in outs]


def jackknife_sums(stat: UnitSums) -> np.ndarray:
    """Leave-one-unit-out replicates, vectorised as total minus each unit's features."""
    feats = stat.features.toarray() if sparse.issparse(stat.features) else stat.features
    sums = stat.total() - feats
    with np.errstate(invalid="ignore", divide="ignore"):
        return stat.finish(sums)
