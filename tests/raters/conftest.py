"""Fixtures for calib.raters tests: reference-data paths and small synthetic rating sets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from refdata_paths import BRENNAN, SHARED
from scipy import optimize
from scipy.special import logsumexp


def simulate_rasch(n_t=60, n_r=4, n_d=3, per_t=2, m=3, seed=0, severities=None, partial=False):
    """SYNTHETIC ratings drawn from a many-facet Rasch model with known parameters."""
    rng = np.random.default_rng(seed)
    B = rng.normal(0, 1.5, n_t)
    C = np.linspace(-1, 1, n_r) if severities is None else np.asarray(severities, float)
    D = np.linspace(-0.5, 0.5, n_d)
    taus = np.tile(np.linspace(-1.5, 1.5, m), (n_d, 1)) + (
        rng.normal(0, 0.3, (n_d, m)) if partial else 0
    )
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
    return pd.DataFrame(
        {
            "transcript_id": [f"t{i:03d}" for i in t],
            "rater_id": [f"r{i}" for i in r],
            "dimension": [f"d{i}" for i in d],
            "score": (x + 1).astype(float),
        }
    )


@pytest.fixture(scope="session")
def rasch_data():
    """The SYNTHETIC many-facet Rasch generator (a function: call it with keyword options)."""
    return simulate_rasch


@pytest.fixture(scope="session")
def sirt_ratings() -> pd.DataFrame:
    path = SHARED / "sirt-ratings1" / "data_ratings1.csv"
    if not path.is_file():
        pytest.skip(
            "sirt data.ratings1 is GPL-licensed, so it is read from ../shared/refdata by path and "
            "not vendored; it is absent here"
        )
    wide = pd.read_csv(path)
    long = wide.melt(
        id_vars=["idstud", "rater"],
        value_vars=["k1", "k2", "k3", "k4", "k5"],
        var_name="dimension",
        value_name="score",
    )
    long = long.rename(columns={"idstud": "transcript_id", "rater": "rater_id"})
    long["transcript_id"] = long["transcript_id"].astype(str)
    return long


@pytest.fixture(scope="session")
def brennan() -> pd.DataFrame:
    path = BRENNAN / "brennan_3_2.csv"
    return pd.read_csv(path)


def _codes(s):
    c, lab = pd.factorize(s, sort=True)
    return c, lab


def _choice_oracle(used: pd.DataFrame, m: int, partial: bool, with_transcripts: bool = False):
    """Reference-coded adjacent-category model fitted by L-BFGS; returns centred C, D, tau.

    The same JMLE likelihood as ``fit_mfrm`` written as a multinomial choice model over
    categories (first rater, dimension and threshold as references) and maximised by
    ``scipy.optimize.minimize``: a different parameterisation and optimiser, so agreement is
    evidence that calib's Newton solver finds the maximum. With ``with_transcripts`` the
    transcript measures, moved to calib's identification, are returned as a fourth value.
    """
    t_c, t_l = _codes(used.transcript_id)
    r_c, r_l = _codes(used.rater_id)
    d_c, d_l = _codes(used.dimension)
    x = (used.score.to_numpy() - used.score.min()).astype(int)
    N, K = len(used), m + 1
    k = np.arange(K)
    nt, nr, nd = len(t_l), len(r_l), len(d_l)
    ntau = nd * (m - 1) if partial else m - 1  # first threshold (of each dim) is the reference

    def unpack(beta):
        B = beta[:nt]
        C = np.r_[0.0, beta[nt : nt + nr - 1]]
        D = np.r_[0.0, beta[nt + nr - 1 : nt + nr - 1 + nd - 1]]
        tf = beta[nt + nr - 1 + nd - 1 :]
        tau = np.column_stack([np.zeros(nd), tf.reshape(nd, m - 1)]) if partial else np.r_[0.0, tf]
        return B, C, D, tau

    def nll(beta):
        B, C, D, tau = unpack(beta)
        eta = B[t_c] - C[r_c] - D[d_c]
        cum = (
            np.concatenate([np.zeros((nd, 1)), np.cumsum(tau, 1)], 1)[d_c]
            if partial
            else np.r_[0.0, np.cumsum(tau)][None, :]
        )
        z = eta[:, None] * k - cum
        lse = logsumexp(z, axis=1)
        p = np.exp(z - lse[:, None])
        ll = z[np.arange(N), x] - lse
        # gradient by the chain rule on the natural parameters
        g_eta = x - p @ k
        gB = np.bincount(t_c, g_eta, minlength=nt)
        gC = -np.bincount(r_c, g_eta, minlength=nr)[1:]
        gD = -np.bincount(d_c, g_eta, minlength=nd)[1:]
        # d ll / d tau_j = -(1[x >= j] - P(X >= j))
        ge = -(
            (x[:, None] >= np.arange(1, K)[None, :]).astype(float)
            - np.cumsum(p[:, ::-1], 1)[:, ::-1][:, 1:]
        )
        if partial:
            gt = np.zeros((nd, m))
            np.add.at(gt, d_c, ge)
            gt = gt[:, 1:].ravel()
        else:
            gt = ge.sum(0)[1:]
        return -ll.sum(), -np.r_[gB, gC, gD, gt]

    x0 = np.zeros(nt + nr - 1 + nd - 1 + ntau)
    res = optimize.minimize(
        nll,
        x0,
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": 20000, "gtol": 1e-10, "ftol": 1e-15},
    )
    B, C, D, tau = unpack(res.x)
    # Move to calib's identification: thresholds sum to 0 (a per-dimension threshold shift is a
    # dimension-difficulty shift), then raters and dimensions centred.
    if partial:
        D = D + tau.mean(1)
        tau = tau - tau.mean(1, keepdims=True)
    else:
        tau_shift = tau.mean()
        tau = tau - tau_shift
    # Every shift of C, D or the thresholds is absorbed by B so that eta = B - C - D is unchanged.
    B = B - (tau_shift if not partial else 0.0) - C.mean() - D.mean()
    C, D = C - C.mean(), D - D.mean()
    out = (pd.Series(C, index=r_l), pd.Series(D, index=d_l), tau)
    return (*out, pd.Series(B, index=t_l)) if with_transcripts else out


@pytest.fixture(scope="session")
def choice_oracle():
    """The independent JMLE maximiser (a function; see ``_choice_oracle``)."""
    return _choice_oracle


@pytest.fixture(scope="session")
def guilford() -> pd.DataFrame:
    """Guilford (1954, p. 282) creativity ratings as a calib long ratings table (REAL data).

    3 judges x 7 examinees x 5 traits, scale 1-9; see tests/raters/data/README.md.
    """
    path = Path(__file__).resolve().parent / "data" / "guilford_1954.csv"
    raw = pd.read_csv(path)
    return pd.DataFrame(
        {
            "transcript_id": "e" + raw["examinee"].astype(str),
            "rater_id": "j" + raw["judge"].astype(str),
            "dimension": "t" + raw["trait"].astype(str),
            "score": raw["rating"].astype(float),
        }
    )
