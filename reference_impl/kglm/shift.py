"""Minimum-eigenvalue shift of the least-squares loss (Dong, Chen & Linderoth 2015; used by
OKRidge, Liu et al. 2023): a stronger perspective relaxation for the same problem.

For μ ≤ λ_min(XᵀX),

    ½‖y − Xβ‖² + λ2‖β‖²  =  ½‖ỹ − Aβ‖² + (λ2 + μ/2)‖β‖² + C,

with AᵀA = XᵀX − μI (A = Lᵀ from the Cholesky factor L), Lỹ = Xᵀy and
C = ½(‖y‖² − ‖ỹ‖²). The two problems have the same feasible set and the same minimisers; the
second moves μ/2 of curvature from the loss into the ridge term, where the perspective
relaxation (the node bound) convexifies it with the indicator variables. When n ≫ p,
λ_min(XᵀX) is large and the bound becomes much tighter; when p ≥ n, λ_min = 0 and nothing
changes. The factorisation succeeding certifies that XᵀX − μI is positive definite, so every
node bound of the shifted problem, plus C, is a valid bound of the original one.

Rounding.  In floating point the identity holds only up to an absolute error of order
eps·(‖y‖² + ‖ỹ‖²) (C is a difference of two such numbers, and A, ỹ are rounded), whatever
the size of the optimum.  :attr:`Shift.error` is a conservative estimate of that error,
4·(n + p)·eps·(‖y‖² + ‖ỹ‖²) (the observed error is a few eps·‖y‖²); :func:`reference_impl.kglm.solve`
subtracts it from every bound it reports and does not use the shift at all when the
incumbent objective is too small for the shift to certify it (a near-perfect fit).
"""
from __future__ import annotations

from dataclasses import dataclass

import math

import numpy as np
import scipy.linalg
import scipy.sparse.linalg


@dataclass
class Shift:
    X: np.ndarray        # A (p × p)
    y: np.ndarray        # ỹ
    lambda2: float       # λ2 + μ/2
    constant: float      # C
    mu: float
    #: conservative bound on |original − (shifted + C)| caused by rounding (absolute)
    error: float = 0.0

#: below this many features λ_min is computed by a dense symmetric eigensolver (ARPACK needs
#: k < p and is slower than LAPACK on small matrices)
DENSE_EIG_MAX_P = 200


def _lambda_min(gram: np.ndarray) -> float:
    """Smallest eigenvalue of the symmetric matrix ``gram`` (dense for small p, else Lanczos)."""
    p = gram.shape[0]
    if p <= DENSE_EIG_MAX_P:
        return float(scipy.linalg.eigh(gram, eigvals_only=True, subset_by_index=[0, 0])[0])
    try:
        return float(scipy.sparse.linalg.eigsh(gram, k=1, which="SA", tol=1e-6, maxiter=20 * p,
                                               return_eigenvectors=False)[0])
    except (scipy.sparse.linalg.ArpackNoConvergence, scipy.sparse.linalg.ArpackError):
        return float(scipy.linalg.eigh(gram, eigvals_only=True, subset_by_index=[0, 0])[0])


def eigen_shift(X: np.ndarray, y: np.ndarray, lambda2: float, *, safety: float = 0.99,
                min_gain: float = 1e-3, gram: np.ndarray | None = None) -> Shift | None:
    """The shifted problem, or ``None`` when it would not strengthen the bound (p ≥ n, or μ/2
    below ``min_gain``·max(λ2, 1e-12)); μ = ``safety``·λ_min(XᵀX), lowered until XᵀX − μI
    factorises.  ``gram`` may pass a precomputed XᵀX."""
    n, p = X.shape
    if n <= p:
        return None
    if gram is None:
        gram = X.T @ X
    lam_min = _lambda_min(gram)
    mu = safety * lam_min - 1e-12 * float(np.trace(gram))
    while mu / 2 > min_gain * max(lambda2, 1e-12):
        try:
            L = scipy.linalg.cholesky(gram - mu * np.eye(p), lower=True)
        except np.linalg.LinAlgError:
            mu *= 0.5
            continue
        y_new = scipy.linalg.solve_triangular(L, X.T @ y, lower=True)
        yy, tt = math.fsum(y * y), math.fsum(y_new * y_new)
        constant = 0.5 * (yy - tt)
        error = 4.0 * (n + p) * float(np.finfo(np.float64).eps) * (yy + tt)
        return Shift(X=np.ascontiguousarray(L.T), y=y_new, lambda2=lambda2 + mu / 2, constant=constant, mu=mu,
                     error=error)
    return None
