"""Statistics as sums of per-unit contributions.

Every agreement statistic here is a smooth function of sums over units of per-unit
feature vectors (coincidence counts, category proportions, ANOVA moments). Writing each one
as ``finish(features.sum(axis=0))`` makes the point estimate, the unit-level (cluster)
bootstrap and the jackknife share one code path: a bootstrap resample is a weighted sum
``w @ features`` with multinomial weights, a jackknife replicate is ``total - features[u]``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

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


def _distinct_rows(f: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of ``f`` and each row's index among them, exactly.

    Rows are keyed by a projection on a fixed random vector (a 1-D sort instead of a slow
    lexicographic one); the result is verified exactly and falls back to ``np.unique``.
    """
    key = f @ np.random.default_rng(12345).standard_normal(f.shape[1])
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    patterns = f[first]
    if not np.array_equal(patterns[inverse], f):
        patterns, inverse = np.unique(f, axis=0, return_inverse=True)
    return patterns, inverse.ravel()


def resample_sums(
    stats: list[UnitSums], n_boot: int, seed: int | np.random.Generator, groups: list | None = None
) -> list[np.ndarray]:
    """Bootstrap distributions of several statistics over the same unit resamples.

    All statistics must be defined on the same units (rows). Dense features are stacked per
    ``groups`` key (default: one group) and compressed to their distinct rows: units with
    the same rating pattern are interchangeable, so a resample's sums are (count of each
    pattern) @ (pattern features), with the counts from one ``np.bincount``. Sparse
    features (one column per rater pair and cell) use a (resamples x units) weight matrix.
    """
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    n_units = stats[0].n_units
    if any(st.n_units != n_units for st in stats):
        raise ValueError("resample_sums: all statistics must share the same units")
    groups = list(groups) if groups is not None else [0] * len(stats)
    dense_blocks = []  # (patterns, inverse, [(stat index, col_start, col_end)])
    for key in dict.fromkeys(
        groups[i] for i, st in enumerate(stats) if not sparse.issparse(st.features)
    ):
        members = [
            i for i, st in enumerate(stats) if groups[i] == key and not sparse.issparse(st.features)
        ]
        arrays, where, spans = [], {}, []
        offset = 0
        for i in members:  # statistics sharing one feature array share its columns
            f = stats[i].features
            if id(f) not in where:
                where[id(f)] = offset
                arrays.append(f)
                offset += f.shape[1]
            spans.append((i, where[id(f)], where[id(f)] + f.shape[1]))
        fd = np.hstack(arrays)
        patterns, inverse = _distinct_rows(fd)
        if patterns.shape[0] > n_units // 4:  # no compression to gain: use the rows themselves
            patterns, inverse = fd, None
        dense_blocks.append((patterns, inverse, spans))
    sparse_idx = [i for i, st in enumerate(stats) if sparse.issparse(st.features)]
    fs_t, cut_s = None, []
    if sparse_idx:
        widths = np.cumsum([0, *(stats[i].features.shape[1] for i in sparse_idx)])
        fs_t = sparse.hstack([stats[i].features for i in sparse_idx], format="csr").T.tocsr()
        cut_s = list(zip(widths[:-1], widths[1:]))
    need_w = fs_t is not None or any(inv is None for _, inv, _ in dense_blocks)
    outs: list[list[np.ndarray]] = [[] for _ in stats]
    for idx in draw_indices(rng, n_units, n_boot):
        b = len(idx)
        w = None
        if need_w:
            flat = (idx + (np.arange(b) * n_units)[:, None]).ravel()
            w = np.bincount(flat, minlength=b * n_units).reshape(b, n_units).astype(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            for patterns, inverse, spans in dense_blocks:
                if inverse is None:
                    sd = w @ patterns
                else:
                    p = patterns.shape[0]
                    codes = (inverse[idx] + (np.arange(b) * p)[:, None]).ravel()
                    sd = np.bincount(codes, minlength=b * p).reshape(b, p).astype(float) @ patterns
                for i, a, c in spans:
                    outs[i].append(stats[i].finish(sd[:, a:c]))
            if fs_t is not None:
                ss = np.asarray(fs_t @ np.ascontiguousarray(w.T)).T
                for (a, c), i in zip(cut_s, sparse_idx):
                    outs[i].append(stats[i].finish(ss[:, a:c]))
    return [np.concatenate(o) if o else np.empty(0) for o in outs]


def jackknife_sums(stat: UnitSums) -> np.ndarray:
    """Leave-one-unit-out replicates, vectorised as total minus each unit's features."""
    feats = stat.features.toarray() if sparse.issparse(stat.features) else stat.features
    sums = stat.total() - feats
    with np.errstate(invalid="ignore", divide="ignore"):
        return stat.finish(sums)
