"""Fixtures for calib.raters tests: reference-data paths and small synthetic rating sets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REFDATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "refdata"


def simulate_rasch(n_t=60, n_r=4, n_d=3, per_t=2, m=3, seed=0, severities=None,
                   partial=False):
    """SYNTHETIC ratings drawn from a many-facet Rasch model with known parameters."""
    rng = np.random.default_rng(seed)
    B = rng.normal(0, 1.5, n_t)
    C = np.linspace(-1, 1, n_r) if severities is None else np.asarray(severities, float)
    D = np.linspace(-0.5, 0.5, n_d)
    taus = (np.tile(np.linspace(-1.5, 1.5, m), (n_d, 1)) + (rng.normal(0, 0.3, (n_d, m))
                                                           if partial else 0))
    t = np.repeat(np.arange(n_t), per_t)
    r = np.concatenate([rng.choice(n_r, per_t, replace=False) for _ in range(n_t)])
    t, r = np.repeat(t, n_d), np.repeat(r, n_d)
    d = np.tile(np.arange(n_d), n_t * per_t)
    eta = B[t] - C[r] - D[d]
    k = np.arange(m + 1)
    cum = np.concatenate([np.zeros((n_d, 1)), np.cumsum(taus, axis=1)], axis=1)[d]
    z = eta[:, None] * k - cum
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    x = (rng.random(len(eta))[:, None] > np.cumsum(p, 1)).sum(1)
    return pd.DataFrame({"transcript_id": [f"t{i:03d}" for i in t],
                         "rater_id": [f"r{i}" for i in r],
                         "dimension": [f"d{i}" for i in d], "score": (x + 1).astype(float)})


@pytest.fixture(scope="session")
def rasch_data():
    """The SYNTHETIC many-facet Rasch generator (a function: call it with keyword options)."""
    return simulate_rasch


@pytest.fixture(scope="session")
def sirt_ratings() -> pd.DataFrame:
    path = REFDATA / "sirt-ratings1" / "data_ratings1.csv"
    if not path.is_file():
        pytest.skip("reference data sirt-ratings1 not available")
    wide = pd.read_csv(path)
    long = wide.melt(id_vars=["idstud", "rater"], value_vars=["k1", "k2", "k3", "k4", "k5"],
                     var_name="dimension", value_name="score")
    long = long.rename(columns={"idstud": "transcript_id", "rater": "rater_id"})
    long["transcript_id"] = long["transcript_id"].astype(str)
    return long


@pytest.fixture(scope="session")
def brennan() -> pd.DataFrame:
    path = REFDATA / "brennan-synthetic4" / "brennan_3_2.csv"
    if not path.is_file():
        pytest.skip("reference data brennan-synthetic4 not available")
    return pd.read_csv(path)
