"""Many-facet Rasch model (transcript, rater, dimension) by joint maximum likelihood.

Model (Linacre 1989, *Many-Facet Rasch Measurement*), adjacent-category form::

    log(P[x = k] / P[x = k-1]) = B_n - C_j - D_i - F_k          (rating scale)
    log(P[x = k] / P[x = k-1]) = B_n - C_j - D_i - F_ik         (partial credit)

B_n transcript measure (positive = better answer), C_j rater severity (positive = harsh),
D_i dimension difficulty (positive = hard), F Rasch-Andrich thresholds. Identification: raters
and dimensions centred at 0, thresholds sum to 0 (per dimension for partial credit).

Estimation is exact Newton-Raphson on the joint likelihood. The information matrix has a
diagonal transcript block, so each step eliminates the transcripts (Schur complement) and
solves a small dense system for raters, dimensions and thresholds with ``scipy.linalg``; every
sum over ratings is a vectorised ``np.bincount``. See ``docs/raters.md`` for why JMLE (with the
(L-1)/L bias correction) rather than MML.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy import linalg, sparse, stats

from calib._blas import single_threaded_blas
from calib.errors import CalibWarning, DataValidationError
from calib.raters._design import Encoded, encode, require_connected, validate_ratings

__all__ = ["fit_mfrm", "MFRMResult"]

EXTREME_ADJUSTMENT = 0.3  # score points, FACETS' default "Extreme score adjustment"
_MAX_STEP = 1.0  # logits: Newton steps are clipped like FACETS' maximum increment


# --------------------------------------------------------------------------- model algebra
def _category_logits(eta: np.ndarray, cumtau: np.ndarray, m: int) -> np.ndarray:
    """N x (m+1) un-normalised log-probabilities k*eta - sum_{j<=k} tau_j."""
    k = np.arange(m + 1, dtype=float)
    return eta[:, None] * k[None, :] - cumtau


def _probs(eta: np.ndarray, cumtau: np.ndarray, m: int) -> np.ndarray:
    z = _category_logits(eta, cumtau, m)
    z -= z.max(axis=1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)
    return p


def _moments(p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Expected score, variance and 4th central moment of each rating (category units)."""
    k = np.arange(p.shape[1], dtype=float)
    e = p @ k
    dev = k[None, :] - e[:, None]
    pd2 = p * (dev * dev)  # squaring by multiplication: einsum with ** was ~15x slower here
    w = pd2.sum(axis=1)
    c4 = (pd2 * (dev * dev)).sum(axis=1)
    return e, w, c4


def _cumtau(tau: np.ndarray, d: np.ndarray, partial: bool, n_obs: int) -> np.ndarray:
    """Per-rating cumulative thresholds (N x (m+1)), first column 0."""
    if partial:
        ct = np.concatenate([np.zeros((tau.shape[0], 1)), np.cumsum(tau, axis=1)], axis=1)
        return ct[d]
    ct = np.r_[0.0, np.cumsum(tau)]
    return np.broadcast_to(ct, (n_obs, ct.size))


def _sum_to_zero_basis(n: int) -> np.ndarray:
    """N x (n-1) map from free parameters to a vector summing to zero (last = -sum of rest)."""
    if n == 1:
        return np.zeros((1, 0))
    return np.vstack([np.eye(n - 1), -np.ones((1, n - 1))])


@dataclass
class _Data:
    t: np.ndarray
    r: np.ndarray
    d: np.ndarray
    x: np.ndarray  # category 0..m
    n_t: int
    n_r: int
    n_d: int
    m: int
    partial: bool


def _facet_basis(n: int, fixed: np.ndarray | None) -> np.ndarray:
    """Map from free parameters to one facet: centred, or anchored elements held fixed.

    With no anchor the facet is centred (sum to zero). Anchored elements (FACETS ",A") fix the
    origin themselves, so the remaining elements are free and unconstrained.
    """
    if fixed is None or not fixed.any():
        return _sum_to_zero_basis(n)
    return np.eye(n)[:, ~fixed]


class _Problem:
    """Joint likelihood, gradient and information in (B, other) block form."""

    def __init__(self, data: _Data, fixed: np.ndarray | None = None):
        self.data = data
        dd = data
        m = dd.m
        self.n_tau_full = dd.n_d * m if dd.partial else m
        # Full "other" parameters: C (n_r), D (n_d), tau (n_tau_full).
        self.p_full = dd.n_r + dd.n_d + self.n_tau_full
        fx = np.zeros(self.p_full, bool) if fixed is None else fixed
        f_r, f_d, f_t = fx[: dd.n_r], fx[dd.n_r : dd.n_r + dd.n_d], fx[dd.n_r + dd.n_d :]
        blocks = [_facet_basis(dd.n_r, f_r), _facet_basis(dd.n_d, f_d)]
        if f_t.all():  # anchored rating scale: no free threshold
            blocks += [np.zeros((self.n_tau_full, 0))]
        elif dd.partial:
            blocks += [_sum_to_zero_basis(m)] * dd.n_d
        else:
            blocks += [_sum_to_zero_basis(m)]
        self.A = linalg.block_diag(*blocks)  # p_full x p_free
        # Indices of the parameters each rating touches: C_j, D_i, tau_(i,)1..m.
        tau0 = dd.n_r + dd.n_d + (dd.d * m if dd.partial else np.zeros_like(dd.d))
        self.idx = np.column_stack([dd.r, dd.n_r + dd.d, tau0[:, None] + np.arange(m)[None, :]])
        # Local Jacobian of natural parameters (eta, tau_1..tau_m) w.r.t. those parameters.
        self.J = np.zeros((m + 1, m + 2))
        self.J[0, 0] = self.J[0, 1] = -1.0
        self.J[1:, 2:] = np.eye(m)
        # Sufficient statistic of each category: (k, -1[k>=1], ..., -1[k>=m]).
        k = np.arange(m + 1)
        self.T = np.column_stack(
            [k, -(k[:, None] >= np.arange(1, m + 1)[None, :]).astype(float)]
        ).astype(float)
        self.tx = self.T[dd.x]
        # Products reused by every Newton step: T_a T_b per category and J kron J.
        q = self.T.shape[1]
        self.TT = (self.T[:, :, None] * self.T[:, None, :]).reshape(m + 1, q * q)
        self.JJ = np.kron(self.J, self.J)
        # The parameters a rating touches depend only on its (rater, dimension) cell, so the
        # per-rating gradient and information pieces are first summed per cell (one sparse
        # product over the ratings), then scattered into the parameter blocks (few entries).
        cell, first, cell_of = np.unique(
            dd.r * dd.n_d + dd.d, return_index=True, return_inverse=True
        )
        cell_of = cell_of.ravel()
        self.cell_sum = sparse.csr_matrix(
            (np.ones(dd.t.size), (cell_of, np.arange(dd.t.size))), shape=(cell.size, dd.t.size)
        )
        idx_c = self.idx[first]
        self.idx_c = idx_c.ravel()
        self.pair_c = (idx_c[:, :, None] * self.p_full + idx_c[:, None, :]).ravel()
        self.cross = (dd.t[:, None] * self.p_full + self.idx).ravel()

    def unpack(self, other_full: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        dd = self.data
        c = other_full[: dd.n_r]
        dim = other_full[dd.n_r : dd.n_r + dd.n_d]
        tau = other_full[dd.n_r + dd.n_d :]
        if dd.partial:
            tau = tau.reshape(dd.n_d, dd.m)
        return c, dim, tau

    def probs(self, b: np.ndarray, other_full: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        dd = self.data
        c, dim, tau = self.unpack(other_full)
        eta = b[dd.t] - c[dd.r] - dim[dd.d]
        return _probs(eta, _cumtau(tau, dd.d, dd.partial, dd.t.size), dd.m), eta

    def loglik(self, b: np.ndarray, other_full: np.ndarray) -> float:
        dd = self.data
        c, dim, tau = self.unpack(other_full)
        eta = b[dd.t] - c[dd.r] - dim[dd.d]
        z = _category_logits(eta, _cumtau(tau, dd.d, dd.partial, dd.t.size), dd.m)
        zmax = z.max(axis=1)
        lse = zmax + np.log(np.exp(z - zmax[:, None]).sum(axis=1))
        return float((z[np.arange(z.shape[0]), dd.x] - lse).sum())

    def newton_pieces(self, b: np.ndarray, other_full: np.ndarray):
        """Gradient and information blocks (B diagonal, B-other, other-other) in full coords."""
        dd = self.data
        p, _ = self.probs(b, other_full)
        et = p @ self.T  # N x q expected sufficient statistics
        g_nat = self.tx - et
        n_obs, q = et.shape
        S = self.cell_sum  # (rater, dimension) cells x ratings
        # Per-rating covariance of T: Cov_n = E[T T'] - E[T] E[T]'. Only its first row is needed
        # per rating (the transcript blocks); the rest enters the other-other block only through
        # per-cell sums, and sums are linear: sum_n J' Cov_n J = J' (sum_n Cov_n) J, so the
        # per-rating q x q (and J' . J) arrays are never built.
        cov0 = p @ self.TT[:, :q] - et[:, :1] * et  # Cov_n[0, :]
        ett = np.empty((S.shape[0], q, q))
        for a in range(q):
            ett[:, a, :] = S @ (et * et[:, a : a + 1])
        cov_cell = (S @ p) @ self.TT - ett.reshape(-1, q * q)
        pf = self.p_full
        g_b = np.bincount(dd.t, g_nat[:, 0], minlength=dd.n_t)
        g_o = np.bincount(self.idx_c, ((S @ g_nat) @ self.J).ravel(), minlength=pf)
        h_bb = np.bincount(dd.t, cov0[:, 0], minlength=dd.n_t)
        # vec(J' C J) = vec(C) (J kron J), per cell
        h_cell = cov_cell @ self.JJ
        h_oo = np.bincount(self.pair_c, h_cell.ravel(), minlength=pf * pf).reshape(pf, pf)
        cross_loc = cov0 @ self.J  # B_n row: d eta / d B_n = 1
        h_bo = np.bincount(self.cross, cross_loc.ravel(), minlength=dd.n_t * pf)
        h_bo = h_bo.reshape(dd.n_t, pf)
        return g_b, g_o, h_bb, h_bo, h_oo, p


def _newton(
    prob: _Problem, b: np.ndarray, other: np.ndarray, *, tol: float, max_iter: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, bool]:
    """Maximise the joint likelihood; return B, other (full), cov of free other params."""
    A = prob.A
    ll = prob.loglik(b, other)
    for it in range(1, max_iter + 1):
        g_b, g_o, h_bb, h_bo, h_oo, _ = prob.newton_pieces(b, other)
        gf = A.T @ g_o
        E = h_bo @ A
        F = A.T @ h_oo @ A
        inv_d = 1.0 / h_bb
        S = F - (E * inv_d[:, None]).T @ E
        if S.shape[0] == 0:  # everything but the transcripts is anchored
            step_o = np.zeros(0)
        else:
            rhs = gf - E.T @ (g_b * inv_d)
            try:
                cf = linalg.cho_factor(S, lower=True)
                step_o = linalg.cho_solve(cf, rhs)
            except linalg.LinAlgError as exc:
                if it == 1:  # singular from the start: a structural confounding
                    raise DataValidationError(
                        "ratings: the information matrix is singular: raters and dimensions are "
                        "confounded in this design (e.g. each rater scored different dimensions)"
                    ) from exc
                # Singular only after some steps: a few elements drift towards infinity
                # (quasi-separation in a sparse design, e.g. crowd raters with two items).
                # Step along the identified directions only (minimum-norm solution).
                step_o = linalg.lstsq(S, rhs, cond=1e-10)[0]
        step_b = (g_b - E @ step_o) * inv_d
        full_o = A @ step_o
        biggest = max(np.abs(step_b).max(initial=0.0), np.abs(full_o).max(initial=0.0))
        scale = min(1.0, _MAX_STEP / biggest) if biggest > 0 else 1.0
        # Backtrack if a (rare, early) step lowers the concave likelihood.
        for _ in range(30):
            nb, no = b + scale * step_b, other + scale * full_o
            new_ll = prob.loglik(nb, no)
            if new_ll >= ll - 1e-9 * abs(ll):
                break
            scale /= 2
        b, other, ll = nb, no, new_ll
        if biggest * scale < tol:
            return b, other, _cov_other(prob, b, other), it, True
    return b, other, _cov_other(prob, b, other), max_iter, False


def _cov_other(prob: _Problem, b: np.ndarray, other: np.ndarray) -> np.ndarray:
    """Asymptotic covariance of (C, D, tau) with transcripts profiled out (full coords)."""
    _, _, h_bb, h_bo, h_oo, _ = prob.newton_pieces(b, other)
    A = prob.A
    E = h_bo @ A
    S = A.T @ h_oo @ A - (E / h_bb[:, None]).T @ E
    if S.shape[0] == 0:
        return np.zeros((prob.p_full, prob.p_full))
    return A @ linalg.pinvh(S) @ A.T


def _solve_b(
    prob: _Problem, other: np.ndarray, target: np.ndarray, b0: np.ndarray, iters: int = 100
) -> np.ndarray:
    """Vectorised Newton for transcript measures with raters/dimensions/thresholds fixed.

    Solves sum over a transcript's ratings of E[x] = target (raw score, possibly adjusted).
    """
    dd = prob.data
    b = b0.copy()
    for _ in range(iters):
        p, _ = prob.probs(b, other)
        e, w, _ = _moments(p)
        g = target - np.bincount(dd.t, e, minlength=dd.n_t)
        h = np.bincount(dd.t, w, minlength=dd.n_t)
        step = np.clip(np.divide(g, h, out=np.zeros_like(g), where=h > 0), -_MAX_STEP, _MAX_STEP)
        b += step
        if np.abs(step).max(initial=0.0) < 1e-9:
            break
    return b


# --------------------------------------------------------------------------- statistics
def _fit_stats(
    index: np.ndarray, n: int, resid: np.ndarray, w: np.ndarray, c4: np.ndarray
) -> pd.DataFrame:
    """Infit/outfit mean-squares and Wilson-Hilferty ZSTD per element (Wright & Masters 1982)."""
    cnt = np.bincount(index, minlength=n).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        z2 = resid**2 / w
        outfit = np.bincount(index, z2, minlength=n) / cnt
        sw = np.bincount(index, w, minlength=n)
        infit = np.bincount(index, resid**2, minlength=n) / sw
        q_out = np.sqrt(
            np.maximum(np.bincount(index, c4 / w**2, minlength=n) / cnt**2 - 1 / cnt, 0)
        )
        q_in = np.sqrt(np.maximum(np.bincount(index, c4 - w**2, minlength=n), 0)) / sw
        zstd_out = (np.cbrt(outfit) - 1) * (3 / q_out) + q_out / 3
        zstd_in = (np.cbrt(infit) - 1) * (3 / q_in) + q_in / 3
    return pd.DataFrame(
        {"infit": infit, "infit_zstd": zstd_in, "outfit": outfit, "outfit_zstd": zstd_out}
    )


def separation_stats(measure: np.ndarray, se: np.ndarray) -> dict:
    """Separation, strata and reliability of one facet (Wright & Masters 1982, ch. 5).

    Uses the population SD of the measures (FACETS' "Populn" line) and the RMSE of their SEs:
    ``true_sd = sqrt(sd^2 - rmse^2)``, ``G = true_sd / rmse``, ``strata = (4G + 1) / 3``,
    ``reliability = true_sd^2 / sd^2``; plus the fixed (all same) chi-square.
    """
    ok = np.isfinite(measure) & np.isfinite(se) & (se > 0)
    mm, ss = measure[ok], se[ok]
    n = mm.size
    if n < 2:
        return {
            "n": n,
            "mean": float(mm.mean()) if n else np.nan,
            "sd": np.nan,
            "rmse": np.nan,
            "true_sd": np.nan,
            "separation": np.nan,
            "strata": np.nan,
            "reliability": np.nan,
            "chi2": np.nan,
            "df": np.nan,
            "p_value": np.nan,
        }
    sd = float(mm.std(ddof=0))
    rmse = float(np.sqrt(np.mean(ss**2)))
    true_var = max(sd**2 - rmse**2, 0.0)
    g = np.sqrt(true_var) / rmse
    wts = 1 / ss**2
    chi2 = float(np.sum(wts * (mm - np.sum(wts * mm) / wts.sum()) ** 2))
    return {
        "n": n,
        "mean": float(mm.mean()),
        "sd": sd,
        "rmse": rmse,
        "true_sd": np.sqrt(true_var),
        "separation": g,
        "strata": (4 * g + 1) / 3,
        "reliability": true_var / sd**2 if sd > 0 else np.nan,
        "chi2": chi2,
        "df": n - 1,
        "p_value": float(stats.chi2.sf(chi2, n - 1)),
    }


def _holm(p: np.ndarray) -> np.ndarray:
    """Holm step-down adjusted p-values (NaN-aware)."""
    p = np.asarray(p, dtype=float)
    out = np.full_like(p, np.nan)
    ok = np.isfinite(p)
    pv = p[ok]
    if pv.size == 0:
        return out
    order = np.argsort(pv, kind="stable")
    adj = np.minimum(1.0, np.maximum.accumulate((pv.size - np.arange(pv.size)) * pv[order]))
    res = np.empty_like(pv)
    res[order] = adj
    out[ok] = res
    return out


# --------------------------------------------------------------------------- result
@dataclass
class MFRMResult:
    """Fitted many-facet Rasch model.

    Attributes
    ----------
    raters, dimensions, transcripts : pandas.DataFrame
        FACETS-style measurement reports: ``measure`` (logits), ``se`` (model S.E.),
        ``infit``/``outfit`` mean-squares with ``*_zstd``, ``observed_average``,
        ``fair_average`` and counts. Positive rater measure = severe; positive dimension
        measure = hard; positive transcript measure = better performance.
    thresholds : pandas.DataFrame
        Rasch-Andrich thresholds (``category``, ``threshold``, ``se``; plus ``dimension`` for
        the partial-credit model).
    categories : pandas.DataFrame
        Category statistics (counts, average and expected measures, outfit).
    summary : pandas.DataFrame
        Separation, strata, reliability and fixed chi-square per facet.
    residuals : pandas.DataFrame
        One row per rating used: ids, ``score``, ``expected`` (score units), ``variance``,
        ``std_residual``, ``eta`` (logit of the rating's location).
    design : dict
        ``n_ratings``, ``n_transcripts``, ``n_raters``, ``n_dimensions``, ``subsets`` (1: the
        design is connected; disconnected designs are refused), ``raters_per_transcript``
        (mean), ``ratings_per_rater`` (min), ``extreme_transcripts``, ``extreme_raters``,
        ``extreme_dimensions``, ``categories`` (score levels estimated) and
        ``disordered_thresholds`` (count).
    notes : list of str
        What the fit did that a reader must know: unused score levels treated as structural
        zeros, elements set aside for extreme scores, sparse categories, disordered thresholds.
    category_values : numpy.ndarray
        The score value of each estimated category (consecutive Rasch categories 0..m).

    The ``raters``, ``dimensions`` and ``transcripts`` tables have a boolean ``extreme``
    column: the element received only the lowest or only the highest score (after setting
    aside the other extreme elements), so it was left out of the joint estimation and measured
    afterwards with the 0.3-point extreme-score adjustment; its fit statistics are NaN. The
    ``thresholds`` table has a boolean ``disordered`` column (threshold below the previous one).
    """

    model: str
    scale_min: int
    scale_max: int
    raters: pd.DataFrame
    dimensions: pd.DataFrame
    transcripts: pd.DataFrame
    thresholds: pd.DataFrame
    categories: pd.DataFrame
    summary: pd.DataFrame
    residuals: pd.DataFrame
    converged: bool
    n_iter: int
    loglik: float
    bias_correction: float
    design: dict
    notes: list[str]
    category_values: np.ndarray
    _problem: _Problem = field(repr=False)
    _b: np.ndarray = field(repr=False)
    _other: np.ndarray = field(repr=False)
    _enc: Encoded = field(repr=False)

    def expected_score(
        self,
        transcript_measure: float | np.ndarray,
        rater_measure=0.0,
        dimension: str | None = None,
    ) -> np.ndarray:
        """Expected rating (score units) for a location, averaged over dimensions if none given."""
        prob = self._problem
        dd = prob.data
        c, dim, tau = prob.unpack(self._other)
        bm = np.atleast_1d(np.asarray(transcript_measure, dtype=float))
        dims = (
            np.arange(dd.n_d)
            if dimension is None
            else np.array([list(self._enc.dimensions).index(dimension)])
        )
        out = np.zeros(bm.size)
        for i in dims:  # loop over dimensions (<= a few dozen), vectorised over locations
            ti = tau[i] if dd.partial else tau
            eta = bm - rater_measure - dim[i]
            p = _probs(eta, np.broadcast_to(np.r_[0.0, np.cumsum(ti)], (bm.size, dd.m + 1)), dd.m)
            out += p @ self.category_values
        return out / dims.size

    def bias(
        self, by: str | pd.Series = "dimension", *, name: str | None = None, min_count: int = 2
    ) -> pd.DataFrame:
        """Bias/interaction analysis of raters with dimensions or candidate subgroups.

        With all model parameters fixed, estimate one extra logit per cell (rater x ``by``)
        so that the cell's expected raw score equals its observed raw score (FACETS Table 13).

        Parameters
        ----------
        by : {"dimension", "transcript"} or pandas.Series
            What raters interact with. A Series maps ``transcript_id`` (index) to a subgroup
            label, e.g. ``transcripts.set_index("transcript_id").metadata.str["seniority"]``.
        name : str, optional
            Column name for the ``by`` labels (default ``"dimension"``, ``"transcript_id"`` or
            the Series name, else ``"group"``).
        min_count : int
            Cells with fewer ratings get NaN statistics.

        Returns
        -------
        pandas.DataFrame
            ``rater_id``, the ``by`` column, ``n``, ``observed`` and ``expected`` raw scores,
            ``obs_minus_exp`` (average per rating, score points), ``bias`` (logits; positive =
            this rater is harsher in this cell than their overall severity), ``cell_measure``
            (the rater's severity in this cell: measure + bias, e.g. per dimension), ``se``, ``t``,
            ``df``, ``p_value`` (two-sided, t with n-1 df) and ``p_holm`` (Holm-adjusted over
            the table). Cells where every rating is extreme have infinite bias: NaN with a note.

        Examples
        --------
        >>> from calib.raters import fit_mfrm
        >>> import pandas as pd, numpy as np
        >>> rng = np.random.default_rng(0)   # synthetic ratings
        >>> df = pd.DataFrame([(f"t{n}", f"r{j}", f"d{i}", int(rng.integers(1, 5)))
        ...      for n in range(30) for j in range(3) for i in range(2)],
        ...      columns=["transcript_id", "rater_id", "dimension", "score"])
        >>> fit_mfrm(df).bias("dimension").shape[0]
        6
        """
        prob, enc = self._problem, self._enc
        dd = prob.data
        res = self.residuals
        if isinstance(by, str) and by in ("dimension", "transcript"):
            col = "dimension" if by == "dimension" else "transcript_id"
            labels = res[col].to_numpy()
            name = name or col
        elif isinstance(by, pd.Series):
            mapping = by.copy()
            mapping.index = mapping.index.astype(str)
            labels = res["transcript_id"].map(mapping).to_numpy()
            name = name or (by.name if isinstance(by.name, str) else "group")
        else:
            raise DataValidationError(
                f"by: expected 'dimension', 'transcript' or a pandas Series, got {by!r}"
            )
        keep = pd.notna(labels) & res["used"].to_numpy()
        g_codes, g_lab = pd.factorize(pd.Series(labels[keep]).astype(str), sort=True)
        rr = dd.r[keep]
        cell = rr * len(g_lab) + g_codes
        n_cells = dd.n_r * len(g_lab)
        x = dd.x[keep].astype(float)
        eta0 = res["eta"].to_numpy()[keep]
        c, dim, tau = prob.unpack(self._other)
        cumtau = _cumtau(tau, dd.d[keep], dd.partial, int(keep.sum()))
        cnt = np.bincount(cell, minlength=n_cells)
        obs = np.bincount(cell, x, minlength=n_cells)
        bias = np.zeros(n_cells)
        extreme = (obs <= 0) | (obs >= dd.m * cnt)
        for _ in range(100):  # vectorised Newton over all cells at once
            p = _probs(eta0 - bias[cell], cumtau, dd.m)
            e, w, _ = _moments(p)
            g = np.bincount(cell, e, minlength=n_cells) - obs
            h = np.bincount(cell, w, minlength=n_cells)
            step = np.clip(np.divide(g, h, out=np.zeros(n_cells), where=h > 0), -1, 1)
            step[extreme] = 0
            bias += step
            if np.abs(step).max(initial=0) < 1e-8:
                break
        p = _probs(eta0 - bias[cell], cumtau, dd.m)
        e, w, _ = _moments(p)
        p0 = _probs(eta0, cumtau, dd.m)
        h = np.bincount(cell, w, minlength=n_cells)
        vals = self.category_values
        obs_pts = np.bincount(cell, vals[dd.x[keep]], minlength=n_cells)
        exp_pts = np.bincount(cell, p0 @ vals, minlength=n_cells)
        with np.errstate(divide="ignore", invalid="ignore"):
            se = 1 / np.sqrt(h)
            t = bias / se
        bad = extreme | (cnt < min_count)
        bias[bad], se[bad], t[bad] = np.nan, np.nan, np.nan
        dfree = np.where(cnt > 1, cnt - 1, np.nan).astype(float)
        pval = 2 * stats.t.sf(np.abs(t), dfree)
        ri, gi = np.divmod(np.arange(n_cells), len(g_lab))
        out = pd.DataFrame(
            {
                "rater_id": enc.raters[ri].astype(str),
                name: np.asarray(g_lab)[gi].astype(str),
                "n": cnt,
                "observed": obs_pts,
                "expected": exp_pts,
                "obs_minus_exp": np.divide(
                    obs_pts - exp_pts, cnt, out=np.full(n_cells, np.nan), where=cnt > 0
                ),
                "bias": bias,
                "se": se,
                "t": t,
                "df": dfree,
                "p_value": pval,
            }
        )
        # Absolute severity of the rater in this cell (overall measure + interaction).
        out.insert(
            out.columns.get_loc("bias") + 1,
            "cell_measure",
            np.asarray(c)[ri] + out["bias"].to_numpy(),
        )
        out["p_holm"] = _holm(out["p_value"].to_numpy())
        out["note"] = np.where(
            cnt == 0,
            "no ratings",
            np.where(
                extreme & (cnt > 0),
                "all ratings extreme in cell",
                np.where(cnt < min_count, f"fewer than {min_count} ratings", ""),
            ),
        )
        return out[cnt > 0].reset_index(drop=True)


# --------------------------------------------------------------------------- fitting
#: Most score categories the Rasch model is fitted with (after unused levels are dropped).
#: Wider scales (e.g. a 0-100 slider) leave most thresholds estimated from a handful of
#: ratings (Linacre 2002 asks for >= 10 observations per category); they are refused with a
#: :class:`ScaleTooWideError` so callers can route them to the additive (score-point) model.
MAX_RASCH_CATEGORIES = 21
#: A non-extreme element further than this from its facet's median has no finite JMLE measure
#: (quasi-separation); 15 logits is far beyond any estimable rater or transcript difference.
DIVERGED_LOGITS = 15.0
#: Linacre (2002): a category with fewer observations gives an unstable threshold.
MIN_CATEGORY_COUNT = 10


class ScaleTooWideError(DataValidationError):
    """The ratings use more score levels than a Rasch rating scale can estimate sensibly."""


def _scale(score: np.ndarray, scale: tuple[int, int] | None) -> tuple[int, int]:
    if np.any(score != np.round(score)):
        raise DataValidationError(
            "ratings: field 'score' must hold whole-number categories for the Rasch model "
            "(fractional or averaged scores need the additive model)"
        )
    lo, hi = (
        (int(score.min()), int(score.max())) if scale is None else (int(scale[0]), int(scale[1]))
    )
    if scale is not None and (score.min() < lo or score.max() > hi):
        raise DataValidationError(f"ratings: scores outside scale {lo}..{hi}")
    if np.unique(score).size < 2:
        raise DataValidationError(
            "ratings: all scores are equal; a Rasch model needs at least two categories"
        )
    return lo, hi


def _drop_extremes(t, r, d, x, m, n_t, n_r, n_d):
    """Iteratively mark elements whose every rating is in the bottom or top category."""
    keep = np.ones(x.size, bool)
    ext = {
        "transcript": np.zeros(n_t, bool),
        "rater": np.zeros(n_r, bool),
        "dimension": np.zeros(n_d, bool),
    }
    changed = True
    while changed:
        changed = False
        for name, idx, n in (("transcript", t, n_t), ("rater", r, n_r), ("dimension", d, n_d)):
            cnt = np.bincount(idx[keep], minlength=n)
            s = np.bincount(idx[keep], x[keep], minlength=n)
            new = (cnt > 0) & ((s == 0) | (s == m * cnt)) & ~ext[name]
            if new.any():
                ext[name] |= new
                keep &= ~new[idx]
                changed = True
    # Elements left with no rating once the others are set aside are set aside too.
    for name, idx, n in (("transcript", t, n_t), ("rater", r, n_r), ("dimension", d, n_d)):
        ext[name] |= np.bincount(idx[keep], minlength=n) == 0
    return keep, ext


def _code(score: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Category index of each score: the highest category value at or below it (collapsing)."""
    return np.clip(np.searchsorted(values, score, side="right") - 1, 0, values.size - 1)


def _list(vals, limit: int = 8) -> str:
    """'a, b, c and 4 more': a short list for messages (numbers in their shortest form)."""
    vals = [f"{v:g}" if isinstance(v, (int, float, np.number)) else str(v) for v in vals]
    return ", ".join(vals[:limit]) + (f" and {len(vals) - limit} more" if len(vals) > limit else "")


def _categories(enc: Encoded, lo: int, hi: int):
    """Score categories to estimate, the coded ratings and the extreme elements.

    Unused levels are structural zeros: the observed levels are renumbered consecutively
    (Winsteps STKEEP=NO; FACETS "Keep" off). Levels used only by extreme elements (set aside
    before estimation) are merged into the next lower level that remains, repeatedly, until
    every estimated category has ratings.
    """
    n_t, n_r, n_d = enc.transcripts.size, enc.raters.size, enc.dimensions.size
    observed = np.unique(enc.score)
    notes = []
    unused = np.setdiff1d(np.arange(lo, hi + 1), observed)
    if unused.size:
        notes.append(
            f"score level(s) {_list(unused)} of the scale {lo}-{hi} are never used: treated as "
            "structural zeros (the used levels are renumbered consecutively, as Winsteps "
            "STKEEP=NO does), so they have no Rasch-Andrich threshold"
        )
    values = observed
    while True:
        x = _code(enc.score, values)
        m = values.size - 1
        keep, ext = _drop_extremes(enc.t, enc.r, enc.d, x, m, n_t, n_r, n_d)
        if not keep.any():
            raise DataValidationError(
                "ratings: every transcript, rater or dimension gave only extreme (lowest or "
                "highest) scores, so no Rasch measure can be estimated"
            )
        kept = np.unique(values[x[keep]])
        if kept.size == values.size:
            break
        if kept.size < 2:
            raise DataValidationError(
                "ratings: after setting aside the elements with only extreme scores, the "
                "remaining ratings use a single score level; no Rasch measure can be estimated"
            )
        merged = np.setdiff1d(values, kept)
        notes.append(
            f"score level(s) {_list(merged)} are used only by elements with extreme scores; "
            "merged with the next lower level for the estimation"
        )
        values = kept
    if values.size > MAX_RASCH_CATEGORIES:
        raise ScaleTooWideError(
            f"ratings: {values.size} different score levels are used; the Rasch rating-scale "
            f"model is fitted with at most {MAX_RASCH_CATEGORIES} (most thresholds would rest "
            "on a handful of ratings); use the additive model, which measures severity in "
            "score points"
        )
    return values, x, m, keep, ext, notes


def _solve_extremes(
    prob: _Problem, b: np.ndarray, other: np.ndarray, ext: dict, frozen: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Measures of the set-aside (extreme) elements, everyone else held at their estimates.

    Each set-aside element is measured from all its ratings; when its raw score is the lowest
    or highest possible it is first moved ``EXTREME_ADJUSTMENT`` (0.3) score points inwards,
    FACETS' default extreme-score adjustment (Linacre, *Facets manual*, "Extreme score
    adjustment"; Wright 1998). Vectorised Newton per facet, alternated until stable.
    """
    dd = prob.data
    m = dd.m
    b, other = b.copy(), other.copy()
    n_r, n_d = dd.n_r, dd.n_d
    facets = []
    for name, idx, n, sign, off in (
        ("transcript", dd.t, dd.n_t, 1.0, None),
        ("rater", dd.r, n_r, -1.0, 0),
        ("dimension", dd.d, n_d, -1.0, n_r),
    ):
        sel = ext[name].copy()
        if off is not None:
            sel &= ~frozen[off : off + n]  # anchored elements keep their anchor
        if not sel.any():
            continue
        rows = sel[idx]
        cnt = np.bincount(idx[rows], minlength=n)
        raw = np.bincount(idx[rows], dd.x[rows], minlength=n).astype(float)
        adj = min(EXTREME_ADJUSTMENT, m / 2)
        target = np.where(raw <= 0, adj, np.where(raw >= m * cnt, raw - adj, raw))
        # Start on the right side: high transcripts, lenient raters, easy dimensions.
        start = np.where(raw <= 0, -1.0, np.where(raw >= m * cnt, 1.0, 0.0)) * sign
        if off is None:
            b[sel] = start[sel]
        else:
            other[off : off + n][sel] = start[sel]
        facets.append((idx, n, off, sel, rows, target))
    if not facets:
        return b, other
    for _ in range(50):
        biggest = 0.0
        for idx, n, off, sel, rows, target in facets:
            for _ in range(100):
                c, dim, tau = prob.unpack(other)
                eta = b[dd.t[rows]] - c[dd.r[rows]] - dim[dd.d[rows]]
                p = _probs(eta, _cumtau(tau, dd.d[rows], dd.partial, int(rows.sum())), m)
                e, w, _ = _moments(p)
                g = target - np.bincount(idx[rows], e, minlength=n)
                h = np.bincount(idx[rows], w, minlength=n)
                step = np.clip(np.divide(g, h, out=np.zeros(n), where=h > 0), -_MAX_STEP, _MAX_STEP)
                step[~sel] = 0.0
                if off is None:
                    b += step
                else:
                    other[off : off + n] -= step
                s = float(np.abs(step).max(initial=0.0))
                biggest = max(biggest, s)
                if s < 1e-10:
                    break
        if biggest < 1e-9:
            break
    return b, other


def _disordered(thr: pd.DataFrame) -> np.ndarray:
    """True where a Rasch-Andrich threshold is below the one before it (per dimension)."""
    key = thr["dimension"] if "dimension" in thr.columns else pd.Series(0, index=thr.index)
    prev = thr.groupby(key.to_numpy(), sort=False)["threshold"].shift(1)
    return (thr["threshold"] < prev).to_numpy()


def fit_mfrm(
    ratings: pd.DataFrame,
    model: Literal["rating_scale", "partial_credit"] = "rating_scale",
    *,
    scale: tuple[int, int] | None = None,
    bias_correction: bool = True,
    anchors: Mapping[str, object] | None = None,
    tol: float = 1e-6,
    max_iter: int = 100,
) -> MFRMResult:
    """Fit a many-facet Rasch model (transcripts x raters x dimensions) by JMLE.

    Parameters
    ----------
    ratings : pandas.DataFrame
        Long ratings table: ``transcript_id``, ``rater_id``, ``dimension``, ``score`` (whole
        numbers). NaN scores (unscored machine rows) are dropped with a ``CalibWarning``.
    model : {"rating_scale", "partial_credit"}
        One set of Rasch-Andrich thresholds shared by all dimensions (Andrich 1978) or one set
        per dimension (Masters 1982).
    scale : (int, int), optional
        Lowest and highest category, e.g. ``(rubric.scale.min, rubric.scale.max)``. Defaults to
        the observed range. Every category in between must be observed (per dimension for the
        partial-credit model), otherwise its threshold is infinite: a ``DataValidationError``
        names it.
    bias_correction : bool
        Multiply rater, dimension and threshold estimates by (L-1)/L, L = mean number of
        ratings per transcript (Wright & Douglas 1977), then re-estimate transcripts.
        Must be ``False`` with ``anchors`` (anchor values are on the uncorrected JMLE scale).
    anchors : dict, optional
        Fixed values (FACETS ",A" anchoring), e.g. from an earlier calibration, for equating:
        ``{"rater": {rater_id: logits}, "dimension": {dimension: logits},
        "threshold": [F_1, ..., F_m]}`` (any subset of the keys). Anchored raters or dimensions
        are held at their values and set the origin of their facet, whose other elements are
        then free (not centred); a facet without anchors is centred as usual. ``"threshold"``
        gives all m Rasch-Andrich thresholds of the rating-scale model (categories
        ``lo + 1 .. hi``). Anchored thresholds get NaN standard errors.
    tol, max_iter : float, int
        Convergence: largest parameter change in logits; iteration cap (a ``CalibWarning``
        is issued if it is reached).

    Returns
    -------
    MFRMResult

    Notes
    -----
    ``log(P_k / P_{k-1}) = B_n - C_j - D_i - F_k``. Transcripts (or raters/dimensions) with
    only extreme ratings have infinite JMLE measures; like FACETS they are left out of the
    joint estimation and then measured with their raw score moved 0.3 points inwards
    (``extreme`` column). Fair average (FACETS "Fair-M"): the expected score of a transcript
    rated by a rater of severity 0, averaged over the dimensions. Equivalent: FACETS
    (Linacre), R ``TAM::tam.mml.mfr`` (MML, so measures differ by a scaling), ``sirt::rm.facets``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from calib.raters import fit_mfrm
    >>> rng = np.random.default_rng(1)   # synthetic ratings, rater r2 planted harsh
    >>> rows = [(f"t{n}", f"r{j}", f"d{i}", int(np.clip(np.round(
    ...          2.5 + a + (0.8 if j == 2 else 0) * -1 + rng.normal(0, .7)), 1, 4)))
    ...         for n, a in enumerate(rng.normal(0, 1, 60)) for j in range(3) for i in range(3)]
    >>> df = pd.DataFrame(rows, columns=["transcript_id", "rater_id", "dimension", "score"])
    >>> res = fit_mfrm(df)
    >>> res.raters.sort_values("measure").rater_id.iloc[-1]
    'r2'
    """
    if model not in ("rating_scale", "partial_credit"):
        raise DataValidationError(
            f"model: expected 'rating_scale' or 'partial_credit', got {model!r}"
        )
    df = validate_ratings(ratings)
    enc = encode(df)
    require_connected(enc)
    lo, hi = _scale(enc.score, scale)
    values, x, m, keep, ext, notes = _categories(enc, lo, hi)
    partial = model == "partial_credit"
    n_t, n_r, n_d = enc.transcripts.size, enc.raters.size, enc.dimensions.size
    xs, ds = x[keep], enc.d[keep]
    if partial:
        # Per dimension a category nobody used (outside the extremes) has an infinite threshold.
        counts = np.bincount(ds * (m + 1) + xs, minlength=n_d * (m + 1)).reshape(n_d, m + 1)
        counts[ext["dimension"]] = 1  # set-aside dimensions have no thresholds of their own
        empty = np.argwhere(counts == 0)
        if empty.size:
            i, k = empty[0]
            raise DataValidationError(
                f"ratings: dimension {enc.dimensions[i]!r} never received score "
                f"{values[k]:g} (among ratings that are not extreme); the partial-credit model "
                "needs every score level in every dimension: use the rating-scale model"
            )
    n_small = int((np.bincount(xs, minlength=m + 1) < MIN_CATEGORY_COUNT).sum())
    if n_small:
        notes.append(
            f"{n_small} of {m + 1} score categories have fewer than {MIN_CATEGORY_COUNT} "
            "ratings: their thresholds are imprecise (Linacre 2002)"
        )
    # Renumber the kept elements so the estimation sees no empty rows.
    maps = {}
    for name, n in (("transcript", n_t), ("rater", n_r), ("dimension", n_d)):
        kept = np.flatnonzero(~ext[name])
        mp = np.full(n, -1)
        mp[kept] = np.arange(kept.size)
        maps[name] = (kept, mp)
    (t_keep, t_map), (r_keep, r_map), (d_keep, d_map) = (
        maps["transcript"],
        maps["rater"],
        maps["dimension"],
    )
    data = _Data(
        t=t_map[enc.t[keep]],
        r=r_map[enc.r[keep]],
        d=d_map[ds],
        x=xs,
        n_t=t_keep.size,
        n_r=r_keep.size,
        n_d=d_keep.size,
        m=m,
        partial=partial,
    )
    if (
        anchors
        and anchors.get("threshold") is not None
        and (values.size != hi - lo + 1 or values[0] != lo)
    ):
        raise DataValidationError(
            "anchors['threshold']: anchored thresholds need every score level "
            f"{lo}..{hi} to be used by ratings that are not extreme"
        )
    fixed_all, other_all = _parse_anchors(anchors, enc, m, partial, bias_correction)
    tau_sel = (d_keep[:, None] * m + np.arange(m)[None, :]).ravel() if partial else np.arange(m)
    sel = np.r_[r_keep, n_r + d_keep, n_r + n_d + tau_sel]
    prob = _Problem(data, fixed_all[sel])
    other0 = other_all[sel]
    # Start: transcripts from their logit raw-score proportion, anchored values as given.
    cnt_t = np.bincount(data.t, minlength=data.n_t)
    prop = (np.bincount(data.t, xs, minlength=data.n_t) + 0.5) / (m * cnt_t + 1)
    b0 = np.log(prop / (1 - prop))
    # The Newton pieces are tall-skinny products (ratings x 4): multi-threaded BLAS gains nothing
    # there and thrashes on a busy machine (p @ T at 240k ratings: 3 ms on one thread, 130 ms on
    # two threads next to other work), so the fit runs BLAS on one thread.
    with single_threaded_blas():
        b, other, cov_k, n_iter, converged = _newton(prob, b0, other0, tol=tol, max_iter=max_iter)
    if not converged:
        warnings.warn(
            f"fit_mfrm: did not converge in {max_iter} iterations", CalibWarning, stacklevel=2
        )
    factor = 1.0
    if bias_correction:
        L = float(cnt_t.mean())
        factor = (L - 1) / L if L > 1 else 1.0
        other = other * factor
        raw_t = np.bincount(data.t, xs, minlength=data.n_t).astype(float)
        with single_threaded_blas():
            b = _solve_b(prob, other, raw_t, b)
        cov_k = cov_k * factor**2
    loglik = prob.loglik(b, other)
    # Back to all elements; then measure the set-aside (extreme) ones.
    other_full = other_all.copy()
    other_full[sel] = other
    cov_full = np.full((other_all.size, other_all.size), np.nan)
    cov_full[np.ix_(sel, sel)] = cov_k
    b_full = np.zeros(n_t)
    b_full[t_keep] = b
    full = _Problem(
        _Data(t=enc.t, r=enc.r, d=enc.d, x=x, n_t=n_t, n_r=n_r, n_d=n_d, m=m, partial=partial)
    )
    if partial and ext["dimension"].any():  # no thresholds of their own: the mean of the others
        taus = other_full[n_r + n_d :].reshape(n_d, m)
        taus[ext["dimension"]] = taus[d_keep].mean(axis=0)
    b_full, other_full = _solve_extremes(full, b_full, other_full, ext, fixed_all)
    for name, label in (("rater", "rater"), ("dimension", "dimension")):
        if ext[name].any():
            ids = (enc.raters if name == "rater" else enc.dimensions)[ext[name]]
            notes.append(
                f"{int(ext[name].sum())} {label}(s) gave only extreme (lowest or highest) "
                f"scores ({_list(ids, 5)}"
                + "): set aside from the estimation and measured afterwards with the "
                f"{EXTREME_ADJUSTMENT}-point extreme-score adjustment (FACETS); column 'extreme'"
            )
    if ext["transcript"].any():
        notes.append(
            f"{int(ext['transcript'].sum())} transcript(s) received only extreme scores: "
            f"measured with the {EXTREME_ADJUSTMENT}-point extreme-score adjustment"
        )
    res = _assemble(
        enc,
        x,
        keep,
        ext,
        full,
        b_full,
        other_full,
        cov_full,
        lo,
        hi,
        values,
        model,
        converged,
        n_iter,
        loglik,
        factor,
        notes,
    )
    if fixed_all[n_r + n_d :].any():  # anchored thresholds carry no sampling error of their own
        res.thresholds["se"] = np.nan
        if "threshold_se" in res.categories:
            res.categories["threshold_se"] = np.nan
    return res


def _parse_anchors(
    anchors, enc: Encoded, m: int, partial: bool, bias_correction: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Validate ``anchors``; return the fixed-parameter mask and start values (full coords)."""
    n_r, n_d = enc.raters.size, enc.dimensions.size
    n_tau = n_d * m if partial else m
    fixed = np.zeros(n_r + n_d + n_tau, bool)
    start = np.zeros(n_r + n_d + n_tau)
    if not anchors:
        return fixed, start
    unknown = set(anchors) - {"rater", "dimension", "threshold"}
    if unknown:
        raise DataValidationError(
            f"anchors: unknown key(s) {sorted(unknown)}; expected "
            "'rater', 'dimension' and/or 'threshold'"
        )
    if bias_correction:
        raise DataValidationError(
            "anchors: anchored measures are on the uncorrected JMLE scale (as in FACETS); "
            "pass bias_correction=False"
        )
    for key, labels, offset in (("rater", enc.raters, 0), ("dimension", enc.dimensions, n_r)):
        values = anchors.get(key)
        if not values:
            continue
        if not isinstance(values, Mapping):
            raise DataValidationError(f"anchors[{key!r}]: expected a mapping id -> logits")
        index = {str(v): i for i, v in enumerate(labels)}
        missing = sorted(str(k) for k in values if str(k) not in index)
        if missing:
            raise DataValidationError(f"anchors[{key!r}]: {missing} not in the ratings")
        pos = np.array([index[str(k)] for k in values]) + offset
        val = np.asarray(list(values.values()), dtype=float)
        if not np.isfinite(val).all():
            raise DataValidationError(f"anchors[{key!r}]: values must be finite logits")
        fixed[pos], start[pos] = True, val
    if anchors.get("threshold") is not None:
        if partial:
            raise DataValidationError(
                "anchors['threshold']: threshold anchoring is supported "
                "for model='rating_scale' only"
            )
        tau = np.asarray(anchors["threshold"], dtype=float).ravel()
        if tau.size != m or not np.isfinite(tau).all():
            raise DataValidationError(
                f"anchors['threshold']: expected {m} finite thresholds "
                f"(one per category above the lowest), got {tau.size}"
            )
        fixed[n_r + n_d :], start[n_r + n_d :] = True, tau
    return fixed, start


def _assemble(
    enc,
    x,
    keep,
    ext,
    full,
    b,
    other,
    cov_full,
    lo,
    hi,
    values,
    model,
    converged,
    n_iter,
    loglik,
    factor,
    notes,
) -> MFRMResult:
    dd = full.data
    m = dd.m
    n_t, n_r, n_d = enc.transcripts.size, enc.raters.size, enc.dimensions.size
    c, dim, tau = full.unpack(other)
    ext_t = ext["transcript"]
    p, eta = full.probs(b, other)
    e, w, c4 = _moments(p)
    resid = x - e
    used = keep

    # FACETS model S.E.: 1/sqrt(information) of each element given the others.
    def facet_table(idx, n, labels, meas, col, extreme):
        cnt = np.bincount(idx, minlength=n)
        # Model S.E. from the ratings used in estimation; set-aside (extreme) elements from all
        # of theirs, at their adjusted measure (FACETS reports extreme elements this way).
        info = np.where(
            extreme,
            np.bincount(idx, w, minlength=n),
            np.bincount(idx[used], w[used], minlength=n),
        )
        se = np.where(info > 0, 1 / np.sqrt(np.where(info > 0, info, 1)), np.nan)
        fit = _fit_stats(idx[used], n, resid[used], w[used], c4[used])
        tab = pd.DataFrame(
            {
                col: labels.astype(str),
                "n": cnt,
                "observed_average": np.bincount(idx, enc.score, minlength=n) / cnt,
                "measure": meas,
                "se": se,
            }
        )
        out = pd.concat([tab, fit], axis=1)
        out["extreme"] = extreme
        out.loc[extreme, ["infit", "infit_zstd", "outfit", "outfit_zstd"]] = np.nan
        return out

    tr = facet_table(enc.t, n_t, enc.transcripts, b, "transcript_id", ext_t)
    ra = facet_table(enc.r, n_r, enc.raters, c, "rater_id", ext["rater"])
    di = facet_table(enc.d, n_d, enc.dimensions, dim, "dimension", ext["dimension"])
    # Quasi-separation: in sparse designs an element can be extreme except against another
    # element that is itself extreme except against it (a crowd rater who gave the lowest score
    # everywhere but on one transcript that everyone else scored highest). The likelihood then
    # keeps rising as both drift apart; no finite measure exists. They are reported, not used.
    n_div = 0
    for tab, name in ((tr, "transcript"), (ra, "rater"), (di, "dimension")):
        centre = tab.loc[~tab.extreme, "measure"].median()
        div = (~tab.extreme) & ((tab["measure"] - centre).abs() > DIVERGED_LOGITS)
        tab["not_estimable"] = div
        tab.loc[div, ["measure", "se", "infit", "infit_zstd", "outfit", "outfit_zstd"]] = np.nan
        n_div += int(div.sum())
        if div.any():
            notes.append(
                f"{int(div.sum())} {name}(s) ({_list(tab.loc[div].iloc[:, 0], 5)}) have no finite "
                "measure: their ratings are perfectly ordered against the rest of a sparse design "
                "(quasi-separation; the estimate drifts without bound); column 'not_estimable', "
                "measure NaN"
            )
    z95 = stats.norm.ppf(0.975)
    for tab in (ra, di):  # Wald 95% intervals from the model S.E.
        tab.insert(tab.columns.get_loc("se") + 1, "ci_low", tab["measure"] - z95 * tab["se"])
        tab.insert(tab.columns.get_loc("ci_low") + 1, "ci_high", tab["measure"] + z95 * tab["se"])
    # Fair averages (FACETS Fair-M): other facets at their mean measure (0), averaged over dims.
    k = np.arange(m + 1)
    taus = tau if dd.partial else np.broadcast_to(tau, (n_d, m))
    cum = np.concatenate([np.zeros((n_d, 1)), np.cumsum(taus, axis=1)], axis=1)

    def expected_grid(eta_grid):  # (..., n_d) etas -> expected scores
        z = eta_grid[..., None] * k - cum
        z -= z.max(axis=-1, keepdims=True)
        pp = np.exp(z)
        pp /= pp.sum(axis=-1, keepdims=True)
        return pp @ values

    b_mean = float(b[~ext_t].mean()) if (~ext_t).any() else 0.0
    tr["fair_average"] = expected_grid(b[:, None] - dim[None, :]).mean(axis=1)
    ra["fair_average"] = expected_grid(b_mean - c[:, None] - dim[None, :]).mean(axis=1)
    di["fair_average"] = expected_grid(b_mean - dim)

    # Thresholds with SEs from the joint covariance.
    tau_se = np.sqrt(np.clip(np.diag(cov_full)[n_r + n_d :], 0, None))
    if dd.partial:
        thr = pd.DataFrame(
            {
                "dimension": np.repeat(enc.dimensions.astype(str), m),
                "category": np.tile(values[1:], n_d),
                "threshold": tau.ravel(),
                "se": tau_se,
            }
        )
    else:
        thr = pd.DataFrame({"category": values[1:], "threshold": tau, "se": tau_se})
    if dd.partial:  # set-aside dimensions have no thresholds of their own
        thr = thr[~np.repeat(ext["dimension"], m)].reset_index(drop=True)
    thr["disordered"] = _disordered(thr)
    if thr["disordered"].any():
        bad = thr[thr["disordered"]]
        where = [
            (f"dimension {r.dimension}: " if "dimension" in thr.columns else "")
            + f"threshold of score {r.category:g} ({r.threshold:.2f})"
            for r in bad.itertuples()
        ]
        notes.append(
            "disordered Rasch-Andrich thresholds: "
            + "; ".join(where[:5])
            + (f" and {len(where) - 5} more" if len(where) > 5 else "")
            + " below the threshold of the level before it: a score level is never the most "
            "probable one anywhere on the scale (Andrich 1978; Linacre 2002): consider "
            "merging it with a neighbour or rewriting its anchor"
        )

    # Category statistics (FACETS Table 8), over the ratings used in estimation.
    xu, etau, pu = x[used], eta[used], p[used]
    counts = np.bincount(xu, minlength=m + 1)
    z2 = resid[used] ** 2 / w[used]
    with np.errstate(invalid="ignore", divide="ignore"):
        cats = pd.DataFrame(
            {
                "category": values,
                "count": counts,
                "percent": 100 * counts / counts.sum(),
                "avg_measure": np.bincount(xu, etau, minlength=m + 1) / counts,
                "expected_measure": (pu * etau[:, None]).sum(0) / pu.sum(0),
                "outfit": np.bincount(xu, z2, minlength=m + 1) / counts,
            }
        )
    if not dd.partial:
        cats["andrich_threshold"] = np.r_[np.nan, tau]
        cats["threshold_se"] = np.r_[np.nan, tau_se]

    summary = pd.DataFrame(
        [
            {"facet": name, **separation_stats(tab["measure"].to_numpy(), tab["se"].to_numpy())}
            for name, tab in (("transcript", tr), ("rater", ra), ("dimension", di))
        ]
    )
    out_res = enc.frame[["transcript_id", "rater_id", "dimension"]].copy()
    out_res["score"] = enc.score
    out_res["expected"] = p @ values
    out_res["variance"] = w
    out_res["std_residual"] = resid / np.sqrt(w)
    out_res["eta"] = eta
    out_res["used"] = used
    for extra in ("rated_at",):
        if extra in enc.frame.columns:
            out_res[extra] = enc.frame[extra]  # same index; to_numpy() would box timestamps
    rpt = enc.frame.groupby("transcript_id").rater_id.nunique()
    design = {
        "n_ratings": int(x.size),
        "n_transcripts": int(n_t),
        "n_raters": int(n_r),
        "n_dimensions": int(n_d),
        "subsets": 1,
        "raters_per_transcript": float(rpt.mean()),
        "ratings_per_rater": int(np.bincount(enc.r, minlength=n_r).min()),
        "extreme_transcripts": int(ext_t.sum()),
        "extreme_raters": int(ext["rater"].sum()),
        "extreme_dimensions": int(ext["dimension"].sum()),
        "categories": int(values.size),
        "disordered_thresholds": int(thr["disordered"].sum()),
        "not_estimable": n_div,
    }
    return MFRMResult(
        model=model,
        scale_min=lo,
        scale_max=hi,
        raters=ra,
        dimensions=di,
        transcripts=tr,
        thresholds=thr,
        categories=cats,
        summary=summary,
        residuals=out_res,
        converged=converged,
        n_iter=n_iter,
        loglik=loglik,
        bias_correction=factor,
        design=design,
        notes=list(notes),
        category_values=values,
        _problem=full,
        _b=b,
        _other=other,
        _enc=enc,
    )
