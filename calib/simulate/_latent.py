"""Candidates: seniority, subgroup attribute, verbosity, interview time and latent true scores."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from calib.errors import ConfigError
from calib.simulate._config import SimulationConfig

__all__ = ["Candidates", "draw_candidates"]

_DAY = 86_400


@dataclass(frozen=True)
class Candidates:
    """Per-transcript latent draws (row i = transcript i, in interview-time order)."""

    theta: np.ndarray  # (n, D) latent true scores, score units, rounded to 1e-6
    seniority: np.ndarray  # (n,) str
    subgroup: np.ndarray  # (n,) str, value of config.subgroup_attribute
    verbosity: np.ndarray  # (n,) standard normal, independent of theta
    interviewed_at: np.ndarray  # (n,) int64 seconds since the Unix epoch, sorted


def draw_candidates(
    config: SimulationConfig,
    n_dims: int,
    rng: np.random.Generator,
    dimensions: tuple[str, ...] = (),
) -> Candidates:
    """Draw the latent side of ``config.n_transcripts`` synthetic interviews.

    The latent true score of transcript t on dimension d is

    ``theta[t, d] = mu + shift[seniority_t] + sd_d * (sqrt(rho) * g_t + sqrt(1 - rho) * e_td)``

    with ``g_t, e_td ~ N(0, 1)`` independent, so dimensions correlate ``rho`` through the
    general factor ``g``; ``sd_d`` is ``config.dimension_latent_sd[d]`` for the dimensions
    named there (``dimensions`` gives the column order), else ``config.latent_sd``. Verbosity
    and the subgroup attribute are drawn independently of ``theta``: text length and group
    membership carry no information about skill.

    Parameters
    ----------
    config : SimulationConfig
    n_dims : int
        Number of dimensions (columns of ``theta``).
    rng : numpy.random.Generator
    dimensions : tuple of str, optional
        Dimension ids in column order; needed for ``config.dimension_latent_sd`` (without
        them every dimension uses ``config.latent_sd``).

    Examples
    --------
    >>> c = draw_candidates(SimulationConfig(n_transcripts=5), 8, np.random.default_rng(0))
    >>> c.theta.shape
    (5, 8)
    """
    n = config.n_transcripts
    sen_levels = list(config.seniority_probs)
    sen_idx = rng.choice(len(sen_levels), size=n, p=list(config.seniority_probs.values()))
    seniority = np.asarray(sen_levels, dtype=object)[sen_idx]
    groups = list(config.subgroup_probs)
    subgroup = np.asarray(groups, dtype=object)[
        rng.choice(len(groups), size=n, p=list(config.subgroup_probs.values()))
    ]
    g = rng.standard_normal(n)
    e = rng.standard_normal((n, n_dims))
    rho = config.general_factor_rho
    shift = np.array([config.seniority_shift[s] for s in sen_levels], dtype=float)[sen_idx]
    unknown = set(config.dimension_latent_sd) - set(dimensions) if dimensions else set()
    if unknown:
        raise ConfigError(f"dimension_latent_sd: unknown dimension(s) {sorted(unknown)!r}")
    sd = np.array(
        [config.dimension_latent_sd.get(d, config.latent_sd) for d in dimensions]
        if dimensions
        else [config.latent_sd] * n_dims,
        dtype=float,
    )
    theta = (
        config.latent_mean
        + shift[:, None]
        + sd[None, :] * (np.sqrt(rho) * g[:, None] + np.sqrt(1.0 - rho) * e)
    )
    # Rounded once here so the in-memory truth and true_scores.csv are the same numbers.
    theta = np.round(theta, 6)
    verbosity = rng.standard_normal(n)
    start = int(config.start_dt.timestamp())
    n_days = int((config.end_dt - config.start_dt).days)
    # Interviews happen in working hours (09:00-17:00 UTC), on the minute.
    day = rng.integers(0, n_days, size=n)
    minute = rng.integers(0, 8 * 60, size=n)
    interviewed_at = np.sort(start + day * _DAY + 9 * 3600 + minute * 60).astype(np.int64)
    return Candidates(theta, seniority, subgroup, verbosity, interviewed_at)
