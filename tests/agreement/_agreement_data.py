"""Shared fixtures for the agreement tests: published example data sets and random synthetic data."""

from __future__ import annotations

import numpy as np

nan = np.nan

# Krippendorff, K. (2011). Computing Krippendorff's Alpha-Reliability. Annenberg School for
# Communication, Departmental Papers 43, p. 3 ("C. Nominal data, any number of observers,
# missing data"): 4 observers x 12 units, printed observers-as-rows; here transposed to
# units x raters (rows A..D of the paper are the columns).
KRIPPENDORFF_2011 = np.array(
    [
        [1, 1, nan, 1],
        [2, 2, 3, 2],
        [3, 3, 3, 3],
        [3, 3, 3, 3],
        [2, 2, 2, 2],
        [1, 2, 3, 4],
        [4, 4, 4, 4],
        [1, 1, 2, 1],
        [2, 2, 2, 2],
        [nan, 5, 5, 5],
        [nan, nan, 1, 1],
        [nan, 3, nan, nan],
    ]
)

# Shrout, P. E. & Fleiss, J. L. (1979). Intraclass correlations: uses in assessing rater
# reliability. Psychological Bulletin 86(2), 420-428, Table 2 (p. 422): 6 targets x 4 judges.
SHROUT_FLEISS_1979 = np.array(
    [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]],
    dtype=float,
)


def random_ratings(
    seed: int, n_units: int = 60, n_raters: int = 4, q: int = 5, missing: float = 0.2
) -> np.ndarray:
    """SYNTHETIC ratings on 1..q: a latent unit score plus rater noise, with random missing cells."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(1, q + 1, size=n_units)
    x = np.clip(truth[:, None] + rng.integers(-1, 2, size=(n_units, n_raters)), 1, q).astype(float)
    x[rng.random(x.shape) < missing] = nan
    return x
