"""Incomplete rating design: which raters score which transcript, and when."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from calib.simulate._config import SimulationConfig

__all__ = ["Design", "draw_design"]


@dataclass(frozen=True)
class Design:
    """Rating assignments, one entry per (transcript, rater) pair, sorted by transcript then rater."""

    t_idx: np.ndarray  # (P,) transcript row
    r_idx: np.ndarray  # (P,) rater position in the cast
    rated_at: np.ndarray  # (P,) int64 seconds since the epoch, after interviewed_at
    linked: np.ndarray  # (n_linked,) sorted transcript rows scored by every rater


def draw_design(
    config: SimulationConfig, n_raters: int, interviewed_at: np.ndarray, rng: np.random.Generator
) -> Design:
    """Assign 2-3 random raters per transcript, every rater to the linked set.

    Each non-linked transcript draws ``k ~ Uniform{lo..hi}`` raters without replacement, all
    raters equally likely; linked transcripts get every rater. The linked set makes the
    design connected (every rater shares transcripts with every other). Ratings are made
    2 hours to 5 days after the interview.

    Examples
    --------
    >>> d = draw_design(SimulationConfig(n_transcripts=30), 8, np.zeros(30, np.int64),
    ...                 np.random.default_rng(0))
    >>> int(np.bincount(d.t_idx).min()) >= 2
    True
    """
    n = len(interviewed_at)
    lo, hi = config.raters_per_transcript
    linked = np.sort(rng.choice(n, size=config.n_linked, replace=False))
    k = rng.integers(lo, hi + 1, size=n)
    k[linked] = n_raters
    # A random permutation of raters per transcript (argsort of uniforms), keep the first k.
    perm = np.argsort(rng.random((n, n_raters)), axis=1, kind="stable")
    chosen = np.arange(n_raters)[None, :] < k[:, None]
    t_idx = np.repeat(np.arange(n), k)
    r_idx = perm[chosen]
    order = np.lexsort((r_idx, t_idx))
    t_idx, r_idx = t_idx[order], r_idx[order]
    delay = rng.integers(2 * 3600, 5 * 86_400, size=len(t_idx))
    rated_at = (interviewed_at[t_idx] + delay).astype(np.int64)
    return Design(t_idx, r_idx, rated_at, linked)
