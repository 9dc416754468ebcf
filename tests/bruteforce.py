"""Test oracles by exhaustive enumeration (independent of every solver in the project)."""
from __future__ import annotations

import itertools
import math

import numpy as np
from scipy.optimize import lsq_linear


def box_ridge(X, y, support, lambda2, M):
    """min ‖y − X_S θ‖² + λ2‖θ‖² s.t. |θ| ≤ M, by bounded least squares on the augmented system."""
    theta = np.zeros(X.shape[1])
    if not support:
        return theta, float(y @ y)
    A = X[:, support]
    b = y
    if lambda2 > 0:
        A = np.vstack([A, math.sqrt(lambda2) * np.eye(len(support))])
        b = np.concatenate([y, np.zeros(len(support))])
    bounds = (-M, M) if math.isfinite(M) else (-np.inf, np.inf)
    fit = lsq_linear(A, b, bounds=bounds, method="bvls", tol=1e-14, lsmr_tol="auto", max_iter=10_000)
    theta[list(support)] = fit.x
    r = b - A @ fit.x
    return theta, float(r @ r)


def sparse_regression_optimum(X, y, *, k=None, lambda0=0.0, lambda2=0.0, M=math.inf):
    """Optimum of (5) with optional box |θ| ≤ M: enumerate every support (|S| ≤ k)."""
    p = X.shape[1]
    sizes = range(0, (k if k is not None else p) + 1)
    best = (math.inf, None, None)
    for size in sizes:
        for support in itertools.combinations(range(p), size):
            theta, value = box_ridge(X, y, list(support), lambda2, M)
            value += (lambda0 or 0.0) * size
            if value < best[0]:
                best = (value, support, theta)
    return best


def sparse_pca_optimum(S, k):
    """max λ_max(Σ_SS) over every support of size 1..k: the k-sparse first principal component's
    explained variance, by enumeration (sharing no code with the solvers)."""
    d = S.shape[0]
    return max(np.linalg.eigvalsh(S[np.ix_(c, c)])[-1]
               for size in range(1, k + 1) for c in map(list, itertools.combinations(range(d), size)))


def planted_regression(n=20, p=7, seed=0):
    """A small seeded regression with three planted coefficients (for the peers' tests)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    beta = np.zeros(p)
    beta[:3] = [1.5, -2.0, 1.0][:p]
    return X, X @ beta + 0.6 * rng.standard_normal(n)
