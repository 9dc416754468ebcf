"""The SDP relaxation of sparse PCA (tutorial §2.3.1, after (15); FORMULATIONS.md §3).

d'Aspremont, El Ghaoui, Jordan & Lanckriet, "A direct formulation for sparse PCA using
semidefinite programming" (NIPS 2004; SIAM Review 49(3), 2007), the relaxation the tutorial
cites after problem (15)::

    max_{X ∈ S^d}  tr(ΣX)          s.t.  tr X = 1,   1ᵀ|X|1 ≤ k,   X ⪰ 0            (SDP)

registered as ``sparse_pca.sdp_bound`` (problem class ``SDP``; solved by the native adapter
``clarabel``, :mod:`reference_impl.solvers.adapters.cvxpy_sdp`, through cvxpy with Clarabel,
SCS as fallback). It is a relaxation of (15): for a unit θ with at most k nonzeros, X = θθᵀ is
feasible (tr X = ‖θ‖² = 1, 1ᵀ|X|1 = ‖θ‖₁² ≤ k‖θ‖² = k, X ⪰ 0) with tr(ΣX) = θᵀΣθ. Hence
its optimum is an **upper bound** on the k-sparse PCA optimum λ* = max_{|S|≤k} λ_max(Σ_SS).

Certified bound (what the adapter reports as the record's ``bound``). For any symmetric U,
with ρ = maxᵢⱼ |Uᵢⱼ|, every feasible X satisfies

    tr(ΣX) = tr((Σ+U)X) − tr(UX) ≤ λ_max(Σ+U)·tr X + ρ·1ᵀ|X|1 ≤ λ_max(Σ+U) + kρ,

since tr(AX) ≤ λ_max(A) tr X for X ⪰ 0. So :func:`dual_bound` (U) = λ_max(Σ+U) + k·max|U| is
≥ the SDP optimum for *every* U (weak duality of d'Aspremont et al.'s dual
min_U λ_max(Σ+U) + k‖U‖_max); the solver's dual multipliers only make it tight. The adapter
builds U from the multipliers P, N ≥ 0 of X ≤ Y and −Y ≤ X (U = N − P, symmetrised),
recomputes λ_max(Σ+U) with a dense eigensolver — the "repair": the solver's own dual
objective assumes an exactly feasible dual point, λ_max recomputed makes it feasible whatever
the solver's accuracy — adds a rounding allowance, and reports the least of these values and of
λ_max(Σ) (U = 0). The bound is valid whether or not the solver converged.

Objective (the record's ``objective``): tr(ΣX) of the primal X, repaired to be exactly
feasible (symmetrised, negative eigenvalues clipped, scaled to trace 1, off-diagonal part
shrunk until 1ᵀ|X|1 ≤ k), so objective ≤ SDP optimum ≤ bound and the record's gap measures the solve's
accuracy. The evaluator checks symmetry, PSD (least eigenvalue ≥ −tolerance), the trace, the
L1 constraint, and recomputes tr(ΣX) from Σ and X alone.

``build`` returns a :class:`SDPModel` (a cvxpy problem and its variables and constraints), not
a Pyomo model: no Pyomo solver takes an SDP. cvxpy is imported only there.
"""
from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from ..errors import InputError
from ..instances.instance import Instance
from ..registry import register
from ._support import all_finite, missing_values
from .base import Evaluation, Formulation, as_int
from .sparse_pca import _flag, covariance


class SDPModel(NamedTuple):
    """The cvxpy problem of (SDP) and what the adapter reads back."""

    problem: Any        # cvxpy.Problem
    X: Any              # cvxpy.Variable (d, d), symmetric
    Y: Any              # cvxpy.Variable (d, d): |X| ≤ Y elementwise
    upper: Any          # constraint X ≤ Y   (multiplier P ≥ 0)
    lower: Any          # constraint −Y ≤ X  (multiplier N ≥ 0)
    l1: Any             # constraint Σ Y ≤ k
    Sigma: np.ndarray
    k: int


def dual_bound(Sigma: np.ndarray, U: np.ndarray, k: float) -> float:
    """λ_max(Σ+U) + k·max|Uᵢⱼ| for U symmetrised: an upper bound on the SDP optimum, valid for
    every U (module docstring), plus a rounding allowance for the computed eigenvalue."""
    S = np.asarray(Sigma, dtype=float)
    U = np.asarray(U, dtype=float)
    U = (U + U.T) / 2.0
    if U.shape != S.shape or not np.all(np.isfinite(U)):
        return math.inf
    M = S + U
    rho = float(np.abs(U).max()) if U.size else 0.0
    top = float(np.linalg.eigvalsh((M + M.T) / 2.0)[-1])
    d = S.shape[0]
    allowance = 16.0 * d * np.finfo(float).eps * (float(np.linalg.norm(M)) + k * rho + 1.0)
    return top + k * rho + allowance


def repair_primal(X: np.ndarray, k: float) -> np.ndarray:
    """An exactly feasible (up to rounding) point near a numerical X: symmetrised, negative
    eigenvalues clipped to 0, scaled to trace 1, then the off-diagonal part shrunk,
    X ← D + s(X − D) with D = diag(X) and s = min(1, (k − 1)/Σ_{i≠j}|Xᵢⱼ|), so that
    1ᵀ|X|1 = tr X + s·Σ_{i≠j}|Xᵢⱼ| ≤ k. The shrunk matrix is (1 − s)D + sX, a convex combination
    of PSD matrices (D ⪰ 0: a PSD matrix has a nonnegative diagonal), with the same trace. A
    degenerate X (non-finite, zero trace) gives I/d."""
    X = np.asarray(X, dtype=float)
    d = X.shape[0]
    identity = np.eye(d) / d
    if X.shape != (d, d) or not np.all(np.isfinite(X)):
        return identity
    X = (X + X.T) / 2.0
    w, V = np.linalg.eigh(X)
    X = (V * np.maximum(w, 0.0)) @ V.T
    X = (X + X.T) / 2.0
    trace = float(np.trace(X))
    if not trace > 0:
        return identity
    X = X / trace
    D = np.diag(np.diag(X))
    off = float(np.abs(X - D).sum())
    if float(np.abs(X).sum()) > k and off > 0:
        s = max(0.0, min(1.0, (k - float(np.trace(X))) / off * (1.0 - 1e-12)))
        X = D + s * (X - D)
    return X


@register
class SparsePCASDP(Formulation):
    """The SDP relaxation of d'Aspremont et al. (2004/2007) of sparse PCA (15):
    max tr(ΣX) s.t. tr X = 1, 1ᵀ|X|1 ≤ k, X ⪰ 0 — a certified upper bound on the k-sparse
    PCA optimum (the reported bound comes from a repaired dual point; module docstring)."""

    id = "sparse_pca.sdp_bound"
    equation = "d'Aspremont et al. 2007 SDP relaxation of (15)"
    problem_class = "SDP"
    family = "sparse_pca"
    summary = "SDP relaxation of (15): max tr(ΣX), tr X = 1, 1ᵀ|X|1 ≤ k, X ⪰ 0 (certified upper bound, dual-repaired)"
    sense = "max"
    hyperparameters = {"k": None, "standardize": False}
    benchmark_cases = (("spca-d6-k2", {"k": 2}),
                       ("spca-d8-k3", {"k": 3}),
                       ("spca-iris", {"k": 2, "standardize": True}))

    def validate(self, instance: Instance, params: dict[str, Any]) -> dict[str, Any]:
        params = super().validate(instance, params)
        standardize = _flag(params["standardize"], "standardize")
        d = covariance(instance, standardize).shape[0]
        if params.get("k") is None:
            raise InputError(f"{self.id} needs the cardinality limit k (e.g. --param k=3)")
        k = as_int(params, "k", minimum=1, maximum=d, what=f" (Sigma is {d} × {d})")
        return {**params, "k": k, "standardize": standardize}

    def build(self, instance: Instance, params: dict[str, Any]) -> SDPModel:
        """The cvxpy problem (needs cvxpy; the ``clarabel`` adapter checks it is installed)."""
        import cvxpy as cp

        S = covariance(instance, params["standardize"])
        d, k = S.shape[0], int(params["k"])
        X = cp.Variable((d, d), symmetric=True, name="X")
        Y = cp.Variable((d, d), symmetric=True, name="Y")
        upper, lower, l1 = X <= Y, -Y <= X, cp.sum(Y) <= k
        constraints = [X >> 0, cp.trace(X) == 1, upper, lower, l1]
        problem = cp.Problem(cp.Maximize(cp.trace(S @ X)), constraints)
        return SDPModel(problem, X, Y, upper, lower, l1, S, k)

    def extract(self, model: SDPModel, instance: Instance, params: dict[str, Any]) -> dict[str, np.ndarray]:
        """X as the solver left it (NaN when it has no value)."""
        d = model.Sigma.shape[0]
        value = model.X.value
        return {"X": np.full((d, d), np.nan) if value is None else np.asarray(value, dtype=float)}

    def evaluate(self, instance: Instance, params: dict[str, Any], solution: dict[str, np.ndarray]) -> Evaluation:
        S = covariance(instance, params["standardize"])
        d, k = S.shape[0], int(params["k"])
        if "X" not in solution:
            raise InputError(f"solution must have X of shape {d} × {d}")
        X = np.asarray(solution["X"], dtype=float)
        if X.shape != (d, d):
            raise InputError(f"solution must have X of shape {d} × {d}; got {X.shape}")
        if not all_finite(X):
            return missing_values(-math.inf)
        symmetric = (X + X.T) / 2.0
        eigenvalues = np.linalg.eigvalsh(symmetric)
        violations = {
            "symmetry": float(np.abs(X - X.T).max()),
            "psd": max(0.0, -float(eigenvalues[0])),
            "trace": abs(float(np.trace(X)) - 1.0),
            "l1": max(0.0, float(np.abs(X).sum()) - k),
        }
        objective = float(np.sum(S * symmetric))   # tr(ΣX) for symmetric Σ
        top = float(eigenvalues[-1])
        info = {
            "x_top_eigenvalue": top,                 # 1 when X = θθᵀ: the relaxation is tight (rank one)
            "x_rank_1e-6": int(np.sum(eigenvalues > 1e-6 * max(top, 1e-300))),
            "lambda_max": float(np.linalg.eigvalsh(S)[-1]),
            "sigma_source": "Sigma" if "Sigma" in instance.arrays else "X",
        }
        return Evaluation(objective=objective, violations=violations, info=info)
