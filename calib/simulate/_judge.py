"""The rater model: latent true scores -> continuous judgements -> integer rubric scores."""

from __future__ import annotations

import numpy as np

from calib.simulate._config import RaterProfile

__all__ = ["judge"]


def judge(
    theta: np.ndarray,
    t_idx: np.ndarray,
    r_idx: np.ndarray,
    days: np.ndarray,
    subgroups: dict[str, np.ndarray],
    raters: list[RaterProfile],
    dimensions: tuple[str, ...],
    dimension_noise: dict[str, float],
    scale: tuple[int, int],
    rng: np.random.Generator,
    base_noise: dict[str, float] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Score every (transcript, rater) pair on every dimension, vectorised.

    For pair p = (t, r) and dimension d (rows of the result follow ``t_idx``/``r_idx``):

    1. ``y = theta[t, d] - severity[r, d] + drift[r] * days[p] / 30 + shift[r, d, t]`` where
       ``shift`` is the sum of the rater's subgroup effects that match the transcript.
    2. ``y += (noise_sd[r] + base_sd[d] + extra_sd[d] * inner) * z`` with ``z ~ N(0, 1)``,
       where ``base_sd`` is the dimension's noise on every judgement (``base_noise``) and
       ``inner`` is 1 when the step-1 judgement lies in ``[min + 0.5, max - 0.5)`` (it
       would round to a central level: 2 or 3 on a 1-4 scale), else 0. Standard deviations
       add (not variances).
    3. halo: ``y = (1 - halo[r]) * y + halo[r] * mean_d(y)`` (the pair's mean over dimensions).
    4. central tendency: ``y = mid + (1 - ct[r]) * (y - mid)``, ``mid = (min + max) / 2``.
    5. ``score = clip(floor(y + 0.5), min, max)`` (round half up).

    Parameters
    ----------
    theta : ndarray, shape (n_transcripts, D)
    t_idx, r_idx : ndarray, shape (P,)
    days : ndarray, shape (P,)
        Days from ``start_date`` to ``rated_at``.
    subgroups : dict of str to ndarray
        Metadata attribute -> per-transcript values, for subgroup effects.
    raters : list of RaterProfile
    dimensions : tuple of str
    dimension_noise : dict of str to float
        Ambiguous dimensions: extra sd in the central band only.
    scale : (int, int)
        Rubric scale min and max.
    rng : numpy.random.Generator
    base_noise : dict of str to float, optional
        Extra sd on every judgement of a dimension (missing dimensions: 0).

    Returns
    -------
    judgement : ndarray, shape (P, D)
        Final continuous judgement (after halo and central tendency).
    score : ndarray, shape (P, D), float64

    Examples
    --------
    >>> th = np.full((1, 2), 2.5)
    >>> _, s = judge(th, np.array([0]), np.array([0]), np.array([0.0]), {},
    ...              [RaterProfile("r01", noise_sd=0.0)], ("a", "b"), {}, (1, 4),
    ...              np.random.default_rng(0))
    >>> s.tolist()
    [[3.0, 3.0]]
    """
    lo, hi = scale
    mid = (lo + hi) / 2.0
    severity = np.array([[r.severity_for(d) for d in dimensions] for r in raters], dtype=float)
    drift = np.array([r.drift_per_30_days for r in raters], dtype=float)
    noise_sd = np.array([r.noise_sd for r in raters], dtype=float)
    halo = np.array([r.halo for r in raters], dtype=float)
    ct = np.array([r.central_tendency for r in raters], dtype=float)
    extra = np.array([dimension_noise.get(d, 0.0) for d in dimensions], dtype=float)
    base = np.array([(base_noise or {}).get(d, 0.0) for d in dimensions], dtype=float)

    y = theta[t_idx] - severity[r_idx] + (drift[r_idx] * days / 30.0)[:, None]
    dim_pos = {d: j for j, d in enumerate(dimensions)}
    for ri, r in enumerate(raters):
        for eff in r.subgroup_effects:
            hit = (r_idx == ri) & (subgroups[eff.attribute][t_idx] == eff.group)
            y[hit, dim_pos[eff.dimension]] += eff.shift
    inner = (y >= lo + 0.5) & (y < hi - 0.5)
    sd = noise_sd[r_idx][:, None] + base[None, :] + extra[None, :] * inner
    y = y + sd * rng.standard_normal(y.shape)
    h = halo[r_idx][:, None]
    y = (1.0 - h) * y + h * y.mean(axis=1, keepdims=True)
    y = mid + (1.0 - ct[r_idx][:, None]) * (y - mid)
    score = np.clip(np.floor(y + 0.5), lo, hi)
    return y, score
