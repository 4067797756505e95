"""Shared SYNTHETIC datasets for the simulate tests (built once per session; all fast)."""

from __future__ import annotations

import pytest

from calib.simulate import SimulationConfig, simulate_dataset


@pytest.fixture(scope="session")
def sample_ds():
    """The default configuration (300 transcripts, seed 20261125) = datasets/sample."""
    return simulate_dataset(SimulationConfig())


@pytest.fixture(scope="session")
def big_ds():
    """4000 synthetic transcripts: enough ratings per rater for the planted effects to show."""
    return simulate_dataset(SimulationConfig(n_transcripts=4000, seed=11))


@pytest.fixture(scope="session")
def clean_ds():
    """Same size and seed as big_ds, but clean=True (no planted effects)."""
    return simulate_dataset(SimulationConfig(n_transcripts=4000, seed=11, clean=True))
