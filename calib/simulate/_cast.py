"""Resolve the rater cast and the ambiguous dimensions a simulation actually uses."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from calib.errors import ConfigError
from calib.simulate._config import RaterProfile, SimulationConfig, default_raters

__all__ = ["resolve_cast", "resolve_base_noise"]


def resolve_cast(
    config: SimulationConfig, dimensions: tuple[str, ...], rng: np.random.Generator
) -> tuple[list[RaterProfile], dict[str, float]]:
    """Return the raters and the ``{dimension: extra_sd}`` map used by ``config``.

    Parameters
    ----------
    config : SimulationConfig
        The simulation settings.
    dimensions : tuple of str
        Rubric dimension ids, used to validate every dimension a profile names.
    rng : numpy.random.Generator
        Draws the near-clean severities of extra raters beyond the default eight.

    Returns
    -------
    raters : list of RaterProfile
    dimension_noise : dict of str to float

    Examples
    --------
    >>> from calib.simulate._config import DEFAULT_DIMENSIONS
    >>> raters, noise = resolve_cast(SimulationConfig(clean=True), DEFAULT_DIMENSIONS,
    ...                              np.random.default_rng(0))
    >>> {r.role for r in raters}, noise
    ({'clean'}, {})
    """
    if config.raters is not None:
        raters = list(config.raters)
    else:
        raters = default_raters()[: config.n_raters]
        extra = config.n_raters - len(raters)
        if extra > 0:
            # Extra raters are near-clean, like r07/r08: small per-dimension severities.
            sev = np.round(rng.uniform(-0.1, 0.1, size=(extra, len(dimensions))), 2)
            raters += [
                RaterProfile(
                    f"r{len(raters) + i + 1:02d}",
                    severity=dict(zip(dimensions, map(float, sev[i]), strict=True)),
                    noise_sd=0.1,
                    role="near_clean",
                )
                for i in range(extra)
            ]
    noise = {k: float(v) for k, v in config.dimension_noise.items()}
    if config.clean:
        raters = [r.cleaned() for r in raters]
        noise = {}
    known = set(dimensions)
    for r in raters:
        if isinstance(r.severity, Mapping):
            unknown = set(r.severity) - known
            if unknown:
                raise ConfigError(
                    f"RaterProfile({r.rater_id}).severity: unknown dimension(s) {sorted(unknown)!r}"
                )
        for eff in r.subgroup_effects:
            if eff.dimension not in known:
                raise ConfigError(
                    f"RaterProfile({r.rater_id}).subgroup_effects: unknown dimension {eff.dimension!r}"
                )
    unknown = set(noise) - known
    if unknown:
        raise ConfigError(f"dimension_noise: unknown dimension(s) {sorted(unknown)!r}")
    return raters, noise


def resolve_base_noise(config: SimulationConfig, dimensions: tuple[str, ...]) -> dict[str, float]:
    """Return the ``{dimension: base_sd}`` map of extra noise on every judgement of a dimension.

    ``clean=True`` removes it (only each rater's own ``noise_sd`` remains), like the ambiguous
    dimensions, so that clean data has no dimension-specific problem.

    Examples
    --------
    >>> from calib.simulate._config import DEFAULT_DIMENSIONS
    >>> resolve_base_noise(SimulationConfig(dimension_base_noise={"data": 0.1}), DEFAULT_DIMENSIONS)
    {'data': 0.1}
    >>> resolve_base_noise(SimulationConfig(clean=True), DEFAULT_DIMENSIONS)
    {}
    """
    if config.clean:
        return {}
    base = {k: float(v) for k, v in config.dimension_base_noise.items()}
    unknown = set(base) - set(dimensions)
    if unknown:
        raise ConfigError(f"dimension_base_noise: unknown dimension(s) {sorted(unknown)!r}")
    return base
