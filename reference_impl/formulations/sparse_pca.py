"""Sparse principal component analysis (tutorial §2.3.1; FORMULATIONS.md §3).

Problem (15) of Justin, Sun, Gómez & Vayanos, "Responsible Machine Learning via
Mixed-Integer Optimization" (arXiv 2505.05857), the first k-sparse principal component::

    max_{z ∈ {0,1}^d, θ ∈ R^d}  θᵀΣθ                     (15a)   Σ = (1/n)XᵀX, X centred
    s.t.                         ‖θ‖₂² ≤ 1                 (15b)
                                 −zⱼ ≤ θⱼ ≤ zⱼ   ∀j        (15c)
                                 Σⱼ zⱼ ≤ k                 (15d)   (the tutorial's δ)

registered as ``sparse_pca.mio``: a nonconvex mixed-integer QCP (a convex quadratic is
*maximised*), declared ``MINLP`` — the one class of :data:`~.base.PROBLEM_CLASSES` that covers
nonconvex quadratic models (SCIP; Gurobi ≥ 11 solves nonconvex MIQCPs, within its size-limited
licence: 2d ≤ 200 variables).

The tutorial's ball (15b) ‖θ‖₂ ≤ 1 is kept rather than the sphere ‖θ‖₂ = 1: the optimum is the
same. Σ is PSD, so θᵀΣθ is convex and 2-homogeneous; for any feasible θ ≠ 0, θ/‖θ‖₂ keeps the
support (so the same z stays feasible, and |θⱼ|/‖θ‖₂ ≤ 1 keeps (15c)), lies on the sphere, and
has objective θᵀΣθ/‖θ‖₂² ≥ θᵀΣθ. Hence the maximum over the ball is attained on the sphere and
equals λ_max of the best k×k principal submatrix (:func:`best_support_bruteforce`). The ball
keeps the feasible set's continuous part convex, which the solvers prefer. :meth:`extract`
rescales the solver's θ to unit norm (the argument above: never a worse objective, same
support), and the evaluator checks ‖θ‖₂ = 1.

Σ comes from the instance: its ``Sigma`` array when it has one (the matrix itself), else the
sample covariance (1/n)X_cᵀX_c of its centred data ``X``; ``standardize=True`` turns either into
the correlation matrix D^{-1/2}ΣD^{-1/2}.

Several components (``n_components``) cannot be one Pyomo model: deflation makes the matrix of
component t depend on the *solution* of component t−1. This formulation therefore solves the
first component only (``n_components`` must be 1); :func:`deflated_components` runs any
single-component solver (the MIO via :func:`mio_first_component`, :func:`best_support_bruteforce`,
:func:`truncated_power_method`) component by component, with Schur-complement deflation
(Mackey 2009; default) or projection deflation.

Also here: the exact enumeration :func:`best_support_bruteforce` (max eigenvalue of every k×k
principal submatrix) and the heuristic baseline :func:`truncated_power_method` (Yuan & Zhang,
JMLR 2013).
"""
from __future__ import annotations

import itertools
import math
from typing import Any, Callable, NamedTuple

import numpy as np
import pyomo.environ as pyo

from ..errors import InputError
from ..instances.instance import Instance
from ..registry import register
from ._data_checks import real_matrix
from ._pyomo import values
from ._support import all_finite, missing_values, read_arrays, support_mask, support_violations
from .base import FEASIBILITY_TOL, Evaluation, Formulation, as_int

#: relative tolerance of the symmetry and PSD checks of a given Σ (scale = largest |Σᵢⱼ|)
MATRIX_RTOL = 1e-8
#: at most this many supports are enumerated by :func:`best_support_bruteforce`
MAX_BRUTEFORCE_SUPPORTS = 2_000_000


# -- the matrix ----------------------------------------------------------------------------------
def _flag(value: Any, name: str) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise InputError(f"hyperparameter {name} must be true or false; got {value!r}")


def check_covariance(Sigma: Any, what: str = "Sigma") -> np.ndarray:
    """``Sigma`` as a symmetric float matrix; one :class:`InputError` for a non-square, empty,
    non-numeric, NaN/infinite, non-symmetric or non-PSD matrix (an eigenvalue below
    −:data:`MATRIX_RTOL`·max|Σᵢⱼ|), or the zero matrix (every θ would be optimal)."""
    S = np.asarray(Sigma)
    if S.ndim != 2 or S.shape[0] != S.shape[1] or S.shape[0] == 0:
        raise InputError(f"{what} must be a non-empty square (d × d) matrix; got shape {S.shape}")
    if not np.issubdtype(S.dtype, np.number) or np.iscomplexobj(S):
        raise InputError(f"{what} must be a real numeric matrix")
    S = S.astype(float)
    if not np.all(np.isfinite(S)):
        raise InputError(f"{what} contains {int(np.sum(~np.isfinite(S)))} NaN or infinite value(s)")
    scale = float(np.abs(S).max())
    if scale == 0.0:
        raise InputError(f"{what} is the zero matrix: every unit vector is optimal; nothing to solve")
    asymmetry = float(np.abs(S - S.T).max())
    if asymmetry > MATRIX_RTOL * scale:
        raise InputError(f"{what} is not symmetric (max |Σᵢⱼ − Σⱼᵢ| = {asymmetry:.3g}); give a covariance matrix")
    S = (S + S.T) / 2.0
    smallest = float(np.linalg.eigvalsh(S)[0])
    if smallest < -MATRIX_RTOL * scale:
        raise InputError(f"{what} is not positive semidefinite (smallest eigenvalue {smallest:.3g}); "
                         "give a covariance matrix")
    return S


def covariance(instance: Instance, standardize: bool = False) -> np.ndarray:
    """The Σ of (15) for ``instance``: its ``Sigma`` array if it has one, else the sample
    covariance (1/n)X_cᵀX_c of its centred ``X``; the correlation matrix with ``standardize``."""
    if "Sigma" in instance.arrays:
        S = check_covariance(instance.arrays["Sigma"])
    elif "X" in instance.arrays:
        X = real_matrix(instance.arrays["X"], rows="samples", at_least_two="X needs at least 2 samples to have a covariance")
        centred = X - X.mean(axis=0)
        S = check_covariance(centred.T @ centred / X.shape[0], "the sample covariance of X")
    else:
        raise InputError(f"instance {instance.id!r} must hold a covariance matrix 'Sigma' or a data matrix 'X'")
    if standardize:
        diagonal = np.diag(S)
        if np.any(diagonal <= 0):
            raise InputError(f"standardize needs positive variances; feature(s) "
                             f"{np.flatnonzero(diagonal <= 0).tolist()} have variance 0")
        root = np.sqrt(diagonal)
        S = S / root[:, None] / root[None, :]
    return S


def explained_variance(Sigma: np.ndarray, theta: np.ndarray) -> float:
    """The Rayleigh quotient θᵀΣθ / θᵀθ (0 for θ = 0): the variance along θ's direction."""
    theta = np.asarray(theta, dtype=float)
    norm2 = float(theta @ theta)
    return float(theta @ Sigma @ theta) / norm2 if norm2 > 0 else 0.0


# -- exact enumeration and the heuristic ----------------------------------------------------------
class SupportOptimum(NamedTuple):
    """The best k-sparse component: ``value`` = λ_max(Σ_SS), ``support`` S, unit ``theta``."""

    value: float
    support: tuple[int, ...]
    theta: np.ndarray


def best_support_bruteforce(Sigma: np.ndarray, k: int) -> SupportOptimum:
    """Optimum of (15) by enumeration: the largest eigenvalue of every k×k principal submatrix.

    Supports of size exactly min(k, d) suffice: by Cauchy interlacing λ_max(Σ_SS) never
    decreases when S grows. Raises :class:`InputError` beyond :data:`MAX_BRUTEFORCE_SUPPORTS`."""
    S = np.asarray(Sigma, dtype=float)
    d = S.shape[0]
    size = min(int(k), d)
    if size < 1:
        raise InputError(f"k must be >= 1; got {k}")
    if math.comb(d, size) > MAX_BRUTEFORCE_SUPPORTS:
        raise InputError(f"{math.comb(d, size)} supports of size {size} out of {d}: too many to enumerate")
    best = SupportOptimum(-math.inf, (), np.zeros(d))
    for support in itertools.combinations(range(d), size):
        index = list(support)
        eigenvalues, eigenvectors = np.linalg.eigh(S[np.ix_(index, index)])
        if eigenvalues[-1] > best.value:
            theta = np.zeros(d)
            theta[index] = eigenvectors[:, -1]
            best = SupportOptimum(float(eigenvalues[-1]), support, theta)
    return best


def _truncate(x: np.ndarray, k: int) -> np.ndarray:
    """x with all but its k largest-magnitude entries set to 0, rescaled to unit norm."""
    keep = np.argsort(-np.abs(x), kind="stable")[:k]
    out = np.zeros_like(x)
    out[keep] = x[keep]
    norm = float(np.linalg.norm(out))
    return out / norm if norm > 0 else out


def truncated_power_method(Sigma: np.ndarray, k: int, seed: int = 0, *, restarts: int = 10, max_iter: int = 1000,
                           tol: float = 1e-10) -> np.ndarray:
    """Truncated power method (Yuan & Zhang, "Truncated power method for sparse eigenvalue
    problems", JMLR 14, 2013, Algorithm 1): x ← truncate_k(Σx)/‖·‖ until x stops moving.

    A heuristic: for PSD Σ its Rayleigh quotient increases monotonically, but it may stop at a
    local optimum. The best of ``restarts`` starts (the top-k diagonal entries, then seeded
    Gaussian vectors truncated to k entries) is returned, as a unit k-sparse vector."""
    S = np.asarray(Sigma, dtype=float)
    d = S.shape[0]
    k = min(int(k), d)
    rng = np.random.default_rng(seed)
    best, best_value = np.zeros(d), -math.inf
    for start in range(max(int(restarts), 1)):
        if start == 0:
            x = np.zeros(d)
            x[np.argsort(-np.diag(S), kind="stable")[:k]] = 1.0
            x = x / np.linalg.norm(x)
        else:
            x = _truncate(rng.standard_normal(d), k)
        for _ in range(max_iter):
            y = S @ x
            if not np.any(y):
                break
            new = _truncate(y, k)
            moved = float(np.linalg.norm(new - x))
            x = new
            if moved <= tol:
                break
        value = explained_variance(S, x)
        if value > best_value:
            best, best_value = x, value
    return best


# -- several components ----------------------------------------------------------------------------
class Components(NamedTuple):
    """Components from :func:`deflated_components`: ``components[t]`` (unit vectors, one row
    each), ``variances[t]`` = θₜᵀΣₜθₜ on the deflated matrix Σₜ that produced it."""

    components: np.ndarray
    variances: np.ndarray


def deflate(Sigma: np.ndarray, theta: np.ndarray, method: str = "schur") -> np.ndarray:
    """Remove the direction ``theta`` from ``Sigma`` (Mackey, "Deflation methods for sparse PCA",
    NIPS 2009). ``schur``: Σ − Σθθᵀ Σ/(θᵀΣθ), the Schur complement, PSD with Σ'θ = 0 and the
    variance of later components uncorrelated with θᵀx; ``projection``: (I − θθᵀ)Σ(I − θθᵀ),
    PSD with Σ'θ = 0. (Hotelling's Σ − (θᵀΣθ)θθᵀ is not offered: for a sparse θ, not an
    eigenvector, it loses positive semidefiniteness.)"""
    S = np.asarray(Sigma, dtype=float)
    theta = np.asarray(theta, dtype=float)
    theta = theta / np.linalg.norm(theta)
    if method == "schur":
        w = S @ theta
        curvature = float(theta @ w)
        out = S - np.outer(w, w) / curvature if curvature > 0 else S.copy()
    elif method == "projection":
        P = np.eye(S.shape[0]) - np.outer(theta, theta)
        out = P @ S @ P
    else:
        raise InputError(f"deflation method must be 'schur' or 'projection'; got {method!r}")
    return (out + out.T) / 2.0


def deflated_components(Sigma: np.ndarray, k: int, n: int, solve_one: Callable[[np.ndarray, int], np.ndarray], *,
                        method: str = "schur") -> Components:
    """``n`` k-sparse components, one at a time: θₜ = solve_one(Σₜ, k), then Σₜ₊₁ = deflate(Σₜ, θₜ).

    ``solve_one(Sigma, k)`` returns a k-sparse vector (normalised here), e.g.
    ``lambda S, k: best_support_bruteforce(S, k).theta``, :func:`truncated_power_method` or
    :func:`mio_first_component`. ``method``: :func:`deflate`'s ``schur`` (default) or
    ``projection``. With k = d and an exact ``solve_one`` both give the ordinary principal
    components (eigenvectors of Σ, in order)."""
    S = check_covariance(Sigma)
    if int(n) < 1:
        raise InputError(f"n (the number of components) must be >= 1; got {n}")
    components, variances = [], []
    for _ in range(int(n)):
        theta = np.asarray(solve_one(S, k), dtype=float)
        norm = float(np.linalg.norm(theta))
        if theta.shape != (S.shape[0],) or not np.isfinite(norm):
            raise InputError(f"solve_one returned {theta.shape} / non-finite values; expected a vector of length {S.shape[0]}")
        if norm == 0:
            raise InputError("solve_one returned the zero vector: the deflated matrix has no variance left")
        theta = theta / norm
        components.append(theta)
        variances.append(float(theta @ S @ theta))
        S = deflate(S, theta, method)
    return Components(np.array(components), np.array(variances))


def mio_first_component(solver: str = "scip", time_limit: float = 60.0) -> Callable[[np.ndarray, int], np.ndarray]:
    """A ``solve_one`` for :func:`deflated_components` that solves ``sparse_pca.mio`` (15) on
    the given Σ with ``solver`` (one model per component, built and solved here)."""
    from ..solvers import solve_model

    def solve_one(Sigma: np.ndarray, k: int) -> np.ndarray:
        formulation = SparsePCAMIO()
        instance = Instance(id="deflated", arrays={"Sigma": np.asarray(Sigma, dtype=float)})
        params = formulation.validate(instance, {"k": int(k)})
        model = formulation.build(instance, params)
        outcome = solve_model(model, solver, problem_class=formulation.problem_class, time_limit=time_limit)
        if not outcome.has_solution:
            raise InputError(f"{solver} found no solution of (15) ({outcome.status}: {outcome.message})")
        return formulation.extract(model, instance, params)["theta"]

    return solve_one


# -- the formulation -------------------------------------------------------------------------------
@register
class SparsePCAMIO(Formulation):
    """Formulation (15) of the tutorial (§2.3.1): the first k-sparse principal component,
    max θᵀΣθ s.t. ‖θ‖₂ ≤ 1, |θⱼ| ≤ zⱼ, Σzⱼ ≤ k, z binary (nonconvex MIQCP; Moghaddam et al.
    2005, d'Aspremont et al. 2008, Berk & Bertsimas 2019)."""

    id = "sparse_pca.mio"
    equation = "(15)"
    problem_class = "MINLP"
    family = "sparse_pca"
    summary = "first k-sparse principal component, nonconvex MIQCP (max θᵀΣθ, ‖θ‖₂ ≤ 1, |θⱼ| ≤ zⱼ, Σz ≤ k)"
    sense = "max"
    hyperparameters = {"k": None, "standardize": False, "n_components": 1}
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
        n_components = as_int(params, "n_components", minimum=1)
        if n_components != 1:
            raise InputError(f"{self.id} solves the first component only (n_components=1): deflation makes each later "
                             "component depend on the previous solution, so they cannot be one model; use "
                             "reference_impl.formulations.sparse_pca.deflated_components for several")
        return {**params, "k": k, "standardize": standardize, "n_components": n_components}

    def build(self, instance: Instance, params: dict[str, Any]) -> pyo.ConcreteModel:
        S = covariance(instance, params["standardize"])
        d = S.shape[0]
        m = pyo.ConcreteModel(name=self.id)
        m.features = pyo.RangeSet(0, d - 1)
        m.theta = pyo.Var(m.features, bounds=(-1.0, 1.0))
        m.z = pyo.Var(m.features, domain=pyo.Binary)
        m.unit_ball = pyo.Constraint(expr=pyo.quicksum(m.theta[j] ** 2 for j in m.features) <= 1.0)      # (15b)
        m.link_upper = pyo.Constraint(m.features, rule=lambda m, j: m.theta[j] <= m.z[j])                 # (15c)
        m.link_lower = pyo.Constraint(m.features, rule=lambda m, j: -m.z[j] <= m.theta[j])
        m.cardinality = pyo.Constraint(expr=pyo.quicksum(m.z[j] for j in m.features) <= params["k"])       # (15d)
        rows, cols = np.triu_indices(d)
        weights = np.where(rows == cols, 1.0, 2.0) * S[rows, cols]
        m.objective = pyo.Objective(                                                                        # (15a)
            expr=pyo.quicksum(float(w) * m.theta[int(j)] * m.theta[int(l)]
                              for w, j, l in zip(weights, rows, cols) if w != 0.0),
            sense=pyo.maximize)
        return m

    def extract(self, model, instance: Instance, params: dict[str, Any]) -> dict[str, np.ndarray]:
        """θ rescaled to unit norm (same support, objective never lower; see the module
        docstring) and z as the solver left them."""
        d = len(model.features)
        theta, z = values(model.theta, d), values(model.z, d)
        norm = float(np.linalg.norm(theta)) if all_finite(theta) else 0.0
        if norm > 0:
            theta = theta / norm
        return {"theta": theta, "z": z}

    def evaluate(self, instance: Instance, params: dict[str, Any], solution: dict[str, np.ndarray]) -> Evaluation:
        S = covariance(instance, params["standardize"])
        d, k = S.shape[0], int(params["k"])
        theta, z = read_arrays(solution, {"theta": d, "z": d})
        if not all_finite(theta, z):
            return missing_values(-math.inf)
        violations = support_violations(theta, z, M=1.0, k=k, box="unit_box")
        nonzeros = int(np.sum(np.abs(theta) > FEASIBILITY_TOL))
        violations["sparsity"] = float(max(nonzeros - k, 0))
        norm = float(np.linalg.norm(theta))
        violations["unit_norm"] = abs(norm - 1.0)
        objective = explained_variance(S, theta)
        trace = float(np.trace(S))
        info = {
            "support": np.flatnonzero(support_mask(z)).tolist(),
            "nonzeros": nonzeros,
            "explained_variance_ratio": objective / trace if trace > 0 else float("nan"),
            "lambda_max": float(np.linalg.eigvalsh(S)[-1]),  # dense PCA: the bound as k → d
            "sigma_source": "Sigma" if "Sigma" in instance.arrays else "X",
        }
        return Evaluation(objective=objective, violations=violations, info=info)
