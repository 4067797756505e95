"""Units x categories count matrices, built with one ``np.bincount`` (no loops over units)."""

from __future__ import annotations

import numpy as np

from calib.errors import DataValidationError

__all__ = ["encode", "unit_counts", "counts_from_codes"]


def encode(
    x: np.ndarray, domain: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Flat indices of the non-missing cells, their category codes, and the value domain.

    With ``domain=None`` the domain is the sorted observed values. Integer-valued ratings in a
    small range are coded with ``np.bincount`` (linear time) instead of a sort.
    """
    flat = x.ravel()
    idx = np.flatnonzero(~np.isnan(flat))
    v = flat[idx]
    if domain is not None:
        code = np.searchsorted(domain, v)
        code = np.minimum(code, domain.size - 1)
        bad = domain[code] != v
        if bad.any():
            raise DataValidationError(
                f"values: observed rating(s) {np.unique(v[bad]).tolist()} are not in the value "
                f"domain {domain.tolist()}"
            )
        return idx, code, domain
    if v.size == 0:
        return idx, np.empty(0, dtype=np.intp), np.empty(0)
    vmin, vmax = v.min(), v.max()
    if vmax - vmin < 1e6:
        raw = v - vmin
        as_int = raw.astype(np.intp)
        if np.array_equal(as_int, raw):
            present = np.bincount(as_int) > 0
            remap = np.cumsum(present) - 1
            return idx, remap[as_int], vmin + np.flatnonzero(present).astype(float)
    dom, code = np.unique(v, return_inverse=True)
    return idx, code.ravel(), dom


def counts_from_codes(
    shape: tuple[int, int], idx: np.ndarray, code: np.ndarray, k: int
) -> np.ndarray:
    """(n_units, k) counts from the flat cell indices and category codes of :func:`encode`."""
    n_units, n_raters = shape
    k = max(k, 1)
    counts = np.bincount((idx // n_raters) * k + code, minlength=n_units * k)
    return counts.reshape(n_units, k).astype(float)


def unit_counts(x: np.ndarray, domain: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(n_units, K) matrix of how many ratings of each unit fall in each domain value."""
    idx, code, dom = encode(x, domain)
    return counts_from_codes(x.shape, idx, code, dom.size), dom


def unit_pairs(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every unordered pair of ratings within a unit: (unit, column g, column h), g < h.

    Built per distinct number of ratings per unit (a handful of values), so the work and
    memory grow with the rating pairs that exist, never with raters^2 x units.
    """
    rated = ~np.isnan(x)
    cnt = rated.sum(axis=1)
    rows, cols = np.nonzero(rated)  # row-major: each unit's columns are contiguous, sorted
    start = np.r_[0, np.cumsum(cnt)[:-1]]
    units, gs, hs = [], [], []
    for m in np.unique(cnt[cnt >= 2]):
        u = np.flatnonzero(cnt == m)
        c = cols[start[u][:, None] + np.arange(m)[None, :]]  # (n_u, m) columns of each unit
        i, j = np.triu_indices(m, k=1)
        units.append(np.repeat(u, i.size))
        gs.append(c[:, i].ravel())
        hs.append(c[:, j].ravel())
    if not units:
        e = np.empty(0, dtype=np.intp)
        return e, e, e
    return np.concatenate(units), np.concatenate(gs), np.concatenate(hs)
