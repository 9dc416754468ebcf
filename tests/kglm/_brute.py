"""Independent reference for the k-sparse GLM tests: enumerate supports and solve each
restricted convex problem with SciPy (closed-form ridge / BVLS for least squares, L-BFGS-B
for logistic).  Nothing here imports the solver."""
from __future__ import annotations

import itertools
import math

import numpy as np
from scipy.optimize import lsq_linear, minimize


def objective(X, y, loss, lam2, coef):
    v = X @ coef
    if loss == "squared":
        f = 0.5 * float(np.sum((y - v) ** 2))
    else:
        f = float(np.sum(np.logaddexp(0.0, -y * v)))
    return f + lam2 * float(coef @ coef)


def restricted_opt(X, y, loss, lam2, M, S):
    """min over beta supported in S of F(X beta) + lam2 ||beta||^2, |beta| <= M."""
    p = X.shape[1]
    coef = np.zeros(p)
    S = list(S)
    if not S:
        return objective(X, y, loss, lam2, coef), coef
    XS = X[:, S]
    s = len(S)
    if loss == "squared":
        A = np.vstack([XS, math.sqrt(2 * lam2) * np.eye(s)]) if lam2 > 0 else XS
        rhs = np.concatenate([y, np.zeros(s)]) if lam2 > 0 else y
        b, *_ = np.linalg.lstsq(A, rhs, rcond=None)
        if math.isfinite(M) and np.max(np.abs(b)) > M:
            b = lsq_linear(A, rhs, bounds=(-M, M), method="bvls", tol=1e-15).x
    else:
        def fg(bb):
            v = XS @ bb
            m = y * v
            g = -(y / (1.0 + np.exp(m)))
            return (float(np.sum(np.logaddexp(0.0, -m)) + lam2 * bb @ bb),
                    XS.T @ g + 2 * lam2 * bb)

        bnd = [(-M, M)] * s if math.isfinite(M) else None
        b = np.zeros(s)
        for _ in range(3):  # restarts polish L-BFGS-B's last digits
            b = minimize(fg, b, jac=True, method="L-BFGS-B", bounds=bnd,
                         options={"ftol": 1e-16, "gtol": 1e-13, "maxiter": 20000,
                                  "maxcor": 30}).x
    coef[S] = b
    return objective(X, y, loss, lam2, coef), coef


def all_supports(X, y, loss, lam2, M, k):
    """{support tuple: restricted optimum} for every support of size <= k."""
    p = X.shape[1]
    table = {}
    for size in range(0, k + 1):
        for S in itertools.combinations(range(p), size):
            table[S] = restricted_opt(X, y, loss, lam2, M, S)[0]
    return table


def best(table):
    S = min(table, key=table.get)
    return table[S], S


def best_completion(table, s1, s0):
    """Best value over supports S with s1 <= S and S disjoint from s0."""
    s1, s0 = set(s1), set(s0)
    vals = [v for S, v in table.items() if s1 <= set(S) and not (s0 & set(S))]
    return min(vals) if vals else math.inf


def make_instance(loss, n, p, k, seed, rho=0.3, m_kind="inf", lam2=0.1):
    """Random instance; m_kind "inf" (M = inf), "bind" (M below the unconstrained optimum's
    largest coefficient) or "loose"."""
    rng = np.random.default_rng(seed)
    common = rng.standard_normal((n, 1))
    X = math.sqrt(rho) * common + math.sqrt(1 - rho) * rng.standard_normal((n, p))
    beta = np.zeros(p)
    beta[rng.choice(p, size=k, replace=False)] = rng.choice([-1.0, 1.0], size=k) * rng.uniform(0.5, 2.0, size=k)
    if loss == "squared":
        y = X @ beta + 0.5 * rng.standard_normal(n)
    else:
        pr = 1 / (1 + np.exp(-(X @ beta)))
        y = np.where(rng.random(n) < pr, 1.0, -1.0)
    if m_kind == "inf":
        M = math.inf
    elif m_kind == "bind":
        M = 0.5 * float(np.max(np.abs(beta)))
    else:
        M = 10.0
    return X, y, M
