"""SYNTHETIC sample data: seeded ML-interview transcripts and human ratings with planted effects.

The generator draws candidates with a latent true score per rubric dimension, writes transcript
text whose content reflects each level, and has raters with known severity, halo, central
tendency, drift, noise and a subgroup effect score them in an incomplete, connected design.
Every planted parameter is returned (and written as ``planted.json``) so analyses can be
tested against the truth. All output is labelled synthetic.

Examples
--------
>>> from calib.simulate import simulate_dataset, SimulationConfig
>>> ds = simulate_dataset(SimulationConfig(n_transcripts=30, seed=7))
>>> ds.ratings.groupby("rater_id")["score"].mean().idxmin()  # r01 is the planted severe rater
'r01'
"""

from calib.simulate._config import (
    DEFAULT_DIMENSIONS,
    RaterProfile,
    SimulationConfig,
    SubgroupEffect,
    default_raters,
)
from calib.simulate._dataset import GENERATIVE_MODEL, SimulatedDataset, simulate_dataset
from calib.simulate._write import RATINGS_COLUMNS, write_dataset

__all__ = [
    "DEFAULT_DIMENSIONS",
    "GENERATIVE_MODEL",
    "RATINGS_COLUMNS",
    "RaterProfile",
    "SimulatedDataset",
    "SimulationConfig",
    "SubgroupEffect",
    "default_raters",
    "simulate_dataset",
    "write_dataset",
]
