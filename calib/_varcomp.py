"""REML variance components of a random-effects model: shared by calib.agreement and calib.raters.

``calib.agreement`` (variance-component ICCs for incomplete designs) and ``calib.raters``
(G-theory) both need the same REML fit, and the data flow forbids agreement -> raters, so the
routine lives here, below both stages (it imports nothing from calib but numpy/scipy).

Model: ``y = mu + sum_k Z_k u_k + e``, ``u_k ~ N(0, s_k^2 I)``, ``e ~ N(0, s_e^2 I)``. REML
(Patterson & Thompson 1971) in the lme4 parameterisation (Bates et al. 2015, J. Stat. Softw.
67(1)): relative SDs ``lambda_k = s_k / s_e >= 0``, the residual variance profiled out, so the
boundary ``lambda_k = 0`` is well defined.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import linalg, optimize, sparse
from scipy.sparse import linalg as splinalg

try:  # optional: multi-threaded BLAS on small dense systems thrashes on a busy machine
    from threadpoolctl import threadpool_limits as _threadpool_limits
except ImportError:  # pragma: no cover - fall back to the BLAS default
    from contextlib import nullcontext as _nullcontext

    def _threadpool_limits(limits=None):
        return _nullcontext()


__all__ = ["reml", "reml_pieces", "SPARSE_ABOVE"]

SPARSE_ABOVE = 400  # columns left after eliminating the largest effect: sparse LU beyond this


def reml_pieces(
    y: np.ndarray, Zs: list[sparse.csr_matrix]
) -> tuple[Callable[[np.ndarray], tuple[float, float]], list[int]]:
    """``f(lambda) -> (log det, rss)`` of the REML criterion, and the effect order it expects.

    ``lambda`` is ordered by decreasing number of levels (the largest effect is eliminated
    first by a Schur complement, its Z'Z block being diagonal); ``order[i]`` is the index in
    ``Zs`` of ``lambda[i]``. The REML deviance at variances ``s_e^2`` and
    ``s_k^2 = lambda_k^2 s_e^2`` is ``logdet + (n - 1) log(2 pi s_e^2) + rss / s_e^2``.
    """
    n = y.size
    order = sorted(range(len(Zs)), key=lambda i: -Zs[i].shape[1])
    Zs = [Zs[i] for i in order]
    sizes = np.array([z.shape[1] for z in Zs])
    Z1 = Zs[0]
    ones = np.ones((n, 1))
    Z2 = sparse.hstack([*Zs[1:], sparse.csr_matrix(ones)], format="csr")  # rest + mean
    d11 = np.asarray(Z1.sum(axis=0)).ravel()  # diag of Z1'Z1
    Z12 = (Z1.T @ Z2).tocsr()
    Z22 = (Z2.T @ Z2).tocsr()
    r1 = Z1.T @ y
    r2v = Z2.T @ y
    yty = float(y @ y)
    q2 = Z2.shape[1]
    # Large designs (e.g. transcripts x raters x dimensions) keep the Schur complement sparse
    # and use a sparse LU; small ones are faster dense.
    use_sparse = q2 > SPARSE_ABOVE
    eye_rand = sparse.diags(np.r_[np.ones(q2 - 1), 0.0], format="csr")

    def pieces(lam: np.ndarray) -> tuple[float, float]:
        l1 = lam[0]
        l2 = np.r_[np.repeat(lam[1:], sizes[1:]), 1.0]  # mean column is not scaled
        a = l1**2 * d11 + 1.0
        L2 = sparse.diags(l2)
        A12 = (Z12 @ L2) * l1
        A22 = L2 @ Z22 @ L2 + eye_rand  # identity on random columns only
        rhs1, rhs2 = l1 * r1, l2 * r2v
        S = A22 - A12.T @ sparse.diags(1.0 / a) @ A12
        b2 = rhs2 - A12.T @ (rhs1 / a)
        if use_sparse:
            try:
                lu = splinalg.splu(S.tocsc(), permc_spec="MMD_AT_PLUS_A")
            except RuntimeError:
                return np.inf, np.nan
            diag_u = lu.U.diagonal()
            if np.any(diag_u == 0):
                return np.inf, np.nan
            sol2 = lu.solve(b2)
            logdet_s = float(np.log(np.abs(diag_u)).sum())
        else:
            try:
                cf = linalg.cho_factor(S.toarray(), lower=True, check_finite=False)
            except linalg.LinAlgError:
                return np.inf, np.nan
            sol2 = linalg.cho_solve(cf, b2, check_finite=False)
            logdet_s = 2 * float(np.log(np.diag(cf[0])).sum())
        sol1 = (rhs1 - A12 @ sol2) / a
        rss = max(yty - float(sol1 @ rhs1) - float(sol2 @ rhs2), 1e-300)
        return float(np.log(a).sum() + logdet_s), rss

    return pieces, order


def reml(
    y: np.ndarray, Zs: list[sparse.csr_matrix], start: np.ndarray | None = None
) -> tuple[np.ndarray, float, float]:
    """REML for y = mu + sum_k Z_k u_k + e, u_k ~ N(0, s_k^2 I); returns (s_k^2, s_e^2, -2 llR).

    Profiled on the residual variance, parameterised by relative SDs lambda_k >= 0 (the lme4
    formulation, which is well defined on the boundary lambda_k = 0). Optimised with
    ``scipy.optimize.minimize`` (L-BFGS-B), restarted from inside when a component stalls at 0.
    """
    pieces, order = reml_pieces(y, Zs)
    inv_order = np.argsort(order)
    dfree = y.size - 1

    def objective(lam: np.ndarray) -> tuple[float, float]:
        logdet, rss = pieces(lam)
        if not np.isfinite(logdet):
            return np.inf, np.nan
        return logdet + dfree * (1 + np.log(2 * np.pi * rss / dfree)), rss / dfree

    k = len(Zs)
    x0 = np.full(k, 0.5) if start is None else np.asarray(start, float)[order]
    opts = {"ftol": 1e-11, "gtol": 1e-7, "maxiter": 500}
    with _threadpool_limits(1):
        best = optimize.minimize(
            lambda v: objective(v)[0], x0, method="L-BFGS-B", bounds=[(0, None)] * k, options=opts
        )
        if np.any(best.x < 1e-3):
            # A component stalled at the boundary: retry from inside to rule out a false stop.
            res2 = optimize.minimize(
                lambda v: objective(v)[0],
                np.maximum(best.x, 0.05),
                method="L-BFGS-B",
                bounds=[(0, None)] * k,
                options=opts,
            )
            best = res2 if res2.fun <= best.fun else best
        dev, s2e = objective(best.x)
    return (best.x**2 * s2e)[inv_order], s2e, dev


def reml_covariance(
    y: np.ndarray, Zs: list[sparse.csr_matrix], s2: np.ndarray, s2e: float
) -> tuple[np.ndarray, np.ndarray]:
    """Asymptotic covariance of the log variances (s_1^2..s_k^2, s_e^2) at a REML estimate.

    Inverse of half the numerical Hessian (central differences) of the REML deviance in
    ``theta = log variance``. Components estimated at 0 are on the boundary and are held
    fixed; the returned mask says which entries of ``(s2, s2e)`` were free.
    """
    pieces, order = reml_pieces(y, Zs)
    dfree = y.size - 1
    var = np.r_[np.asarray(s2, float), s2e]
    free = var > 1e-10 * max(var.max(), 1e-300)
    free[-1] = True

    def deviance(theta_free: np.ndarray) -> float:
        v = var.copy()
        v[free] = np.exp(theta_free)
        lam = np.sqrt(v[:-1] / v[-1])[order]
        logdet, rss = pieces(lam)
        return logdet + dfree * np.log(2 * np.pi * v[-1]) + rss / v[-1]

    th = np.log(var[free])
    p = th.size
    h = 1e-4
    H = np.zeros((p, p))
    f0 = deviance(th)
    with _threadpool_limits(1):
        for i in range(p):
            ei = np.zeros(p)
            ei[i] = h
            H[i, i] = (deviance(th + ei) - 2 * f0 + deviance(th - ei)) / h**2
            for j in range(i):
                ej = np.zeros(p)
                ej[j] = h
                H[i, j] = H[j, i] = (
                    deviance(th + ei + ej)
                    - deviance(th + ei - ej)
                    - deviance(th - ei + ej)
                    + deviance(th - ei - ej)
                ) / (4 * h**2)
    try:
        cov = linalg.inv(H / 2)
    except linalg.LinAlgError:
        cov = np.full((p, p), np.nan)
    return cov, free
