"""Sparse least-squares regression (tutorial §2.1.1; FORMULATIONS.md §1).

Problem (5) of Justin, Sun, Gómez & Vayanos, "Responsible Machine Learning via
Mixed-Integer Optimization" (arXiv 2505.05857)::

    min_θ  Σᵢ (yᵢ − θᵀxᵢ)² + λ0‖θ‖0 + λ2‖θ‖²         (penalty form, ``lambda0``)
    s.t.   ‖θ‖0 ≤ k                                   (cardinality form, ``k``)

Three registered formulations of it:

* ``sparse_regression.l0l2_bigm`` — (6): binaries z, −Mz ≤ θ ≤ Mz.
* ``sparse_regression.best_subset`` — (5) with ‖θ‖0 ≤ k and λ2 = 0 (Miller 1984;
  Bertsimas, King & Mazumder 2016), big-M.
* ``sparse_regression.perspective`` — (7): epigraph rⱼ, rotated cones θⱼ² ≤ zⱼrⱼ (7b),
  plus the same big-M bounds (7c).

Big-M (``M``): ``"auto"`` (default) derives a value that is provably valid whenever
XᵀX + λ2I is positive definite — every optimal θ of (5) lies in the ellipsoid
{θ : ‖y − Xθ‖² + λ2‖θ‖² ≤ UB}, UB the objective of a greedy (forward-stepwise) solution,
whose widest coordinate extent is |cⱼ| + sqrt(ρ²(A⁻¹)ⱼⱼ) with A = XᵀX + λ2I, c = A⁻¹Xᵀy and
ρ² = UB − yᵀy + (Xᵀy)ᵀc. When A is singular (λ2 = 0 with p > n or collinear columns) the
ellipsoid is unbounded, but with λ2 = 0 some optimal θ has a support S whose columns are
linearly independent (drop dependent columns: same fit, no more nonzeros), so θ_S lies in
the bounded ellipsoid {‖y − X_Sθ‖² ≤ UB − λ0|S|}; when there are few enough supports
(|S| ≤ min(k, n), at most :data:`MAX_CERTIFY_SUPPORTS`) M is the largest extent over them,
still certified (:func:`certified_big_m`). Otherwise M = 2·max|θ_greedy| (the heuristic of
Bertsimas et al. 2016, :func:`heuristic_big_m`), which may cut off the optimum: every result
then says so (``extra.M_certified = False`` and a warning in the message), and reports
whether M bound the solution (``extra.m_binding``). A user-given M is used as is and its
binding is reported the same way.
"""
from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pyomo.environ as pyo

from ..errors import InputError
from ..instances.instance import Instance, check_xy
from ..registry import register
from ._pyomo import squared_loss, values
from ._support import M_BINDING_RTOL  # noqa: F401  (re-exported: |θⱼ| ≥ (1 − this)·M counts as "M binds")
from ._support import all_finite, m_binding, missing_values, read_arrays, support_mask, support_violations
from .base import Evaluation, Formulation, as_big_m, as_float, big_m_info, sparsity_terms


def ridge_fit(X: np.ndarray, y: np.ndarray, support, lambda2: float) -> np.ndarray:
    """Least squares + λ2 ridge restricted to ``support``; full-length coefficient vector."""
    theta = np.zeros(X.shape[1])
    support = list(support)
    if support:
        Xs = X[:, support]
        if lambda2 > 0:
            Xs = np.vstack([Xs, math.sqrt(lambda2) * np.eye(len(support))])
            target = np.concatenate([y, np.zeros(len(support))])
        else:
            target = y
        theta[support] = np.linalg.lstsq(Xs, target, rcond=None)[0]
    return theta


def objective_value(X, y, theta, n_selected, lambda0: float, lambda2: float) -> float:
    """Objective of (5): Σ(y − Xθ)² + λ0·(number selected) + λ2‖θ‖²."""
    residual = y - X @ theta
    return float(residual @ residual + lambda0 * n_selected + lambda2 * theta @ theta)


def greedy_solution(X, y, *, k: int | None, lambda0: float, lambda2: float) -> np.ndarray:
    """Forward stepwise selection: add the feature that lowers (5) most, up to ``k`` features
    (cardinality form) or while the decrease exceeds λ0 (penalty form)."""
    n, p = X.shape
    limit = p if k is None else k
    support: list[int] = []
    theta = np.zeros(p)
    best = objective_value(X, y, theta, 0, lambda0, lambda2)
    while len(support) < min(limit, n if lambda2 == 0 else p):
        candidates = []
        for j in range(p):
            if j in support:
                continue
            trial = ridge_fit(X, y, support + [j], lambda2)
            candidates.append((objective_value(X, y, trial, len(support) + 1, lambda0, lambda2), j, trial))
        value, j, trial = min(candidates, key=lambda c: c[0])
        if value >= best:
            break
        best, theta = value, trial
        support.append(j)
    return theta


def ellipsoid_big_m(X: np.ndarray, y: np.ndarray, lambda2: float, upper: float) -> float | None:
    """Largest |θⱼ| over {θ : ‖y − Xθ‖² + λ2‖θ‖² ≤ upper}; ``None`` when XᵀX + λ2I is singular.

    Any θ whose objective (loss + ridge + nonnegative penalties) is at most ``upper`` lies in
    this ellipsoid, so with ``upper`` the objective of a feasible point the value is a valid
    big-M for every optimal θ: |cⱼ| + sqrt(ρ²(A⁻¹)ⱼⱼ) with A = XᵀX + λ2I, c = A⁻¹Xᵀy and
    ρ² = upper − yᵀy + (Xᵀy)ᵀc (with a 1e-6 relative safety margin).
    """
    A = X.T @ X + lambda2 * np.eye(X.shape[1])
    eigenvalues = np.linalg.eigvalsh(A)
    if eigenvalues[0] <= 1e-10 * max(eigenvalues[-1], 1.0):
        return None
    A_inv = np.linalg.inv(A)
    b = X.T @ y
    centre = A_inv @ b
    radius2 = max(upper - y @ y + b @ centre, 0.0)
    extent = np.abs(centre) + np.sqrt(radius2 * np.clip(np.diag(A_inv), 0.0, None))
    return float(extent.max() * (1 + 1e-6) + 1e-9)


#: At most this many supports are enumerated by :func:`certified_big_m` when XᵀX is singular.
MAX_CERTIFY_SUPPORTS = 5000


def certified_big_m(X: np.ndarray, y: np.ndarray, lambda2: float, upper: float, *, max_size: int | None = None,
                    lambda0: float = 0.0, groups: list | None = None) -> float | None:
    """A provably valid big-M for (5) (or a group-sparse variant) given ``upper``, the objective
    of a feasible point; ``None`` when none can be certified cheaply.

    XᵀX + λ2I positive definite: :func:`ellipsoid_big_m`. Otherwise (λ2 = 0) every support of
    at most ``max_size`` groups (``groups``: column lists; default one column per feature) is
    enumerated, when there are at most :data:`MAX_CERTIFY_SUPPORTS` of them, and M is the
    largest extent of {θ_S : ‖y − X_Sθ_S‖² ≤ upper − λ0|S|}. With one column per group a
    singular support is skipped (an optimum on it has the same fit on an independent subset of
    its columns, one of the supports enumerated); with groups a singular support gives ``None``.
    """
    M = ellipsoid_big_m(X, y, lambda2, upper)
    if M is not None or lambda2 > 0:
        return M
    n, p = X.shape
    singletons = groups is None
    groups = [[j] for j in range(p)] if singletons else [list(g) for g in groups]
    q = len(groups)
    size = q if max_size is None else min(max_size, q)
    if singletons:
        size = min(size, n)
    if sum(math.comb(q, s) for s in range(1, size + 1)) > MAX_CERTIFY_SUPPORTS:
        return None
    best = 0.0
    for s in range(1, size + 1):
        for chosen in itertools.combinations(range(q), s):
            columns = [c for g in chosen for c in groups[g]]
            extent = ellipsoid_big_m(X[:, columns], y, 0.0, upper - lambda0 * s) if len(columns) <= n else None
            if extent is None:
                if singletons:
                    continue
                return None
            best = max(best, extent)
    return best if best > 0 else None


def heuristic_big_m(theta: np.ndarray, X: np.ndarray, y: np.ndarray) -> float:
    """M = 2·max|θ| of a heuristic solution (Bertsimas et al. 2016; the response's scale over
    the features' if θ = 0): *not* a certified bound, labelled ``M_source="heuristic"``."""
    theta = np.asarray(theta, dtype=float)
    scale = float(np.abs(theta).max()) if np.any(theta) else float(np.abs(y).max() / max(np.abs(X).max(), 1e-12))
    return 2.0 * max(scale, 1e-6)


def derive_big_m(X, y, *, k, lambda0, lambda2) -> tuple[float, str]:
    """A big-M value and how it was obtained (``derived`` = provably valid, else ``heuristic``)."""
    theta = greedy_solution(X, y, k=k, lambda0=lambda0, lambda2=lambda2)
    upper = objective_value(X, y, theta, int(np.count_nonzero(theta)), lambda0, lambda2)
    M = certified_big_m(X, y, lambda2, upper, max_size=k, lambda0=lambda0)
    if M is not None:
        return M, "derived"
    return heuristic_big_m(theta, X, y), "heuristic"


class _SparseRegression(Formulation):
    """Shared validation, solution read-back and evaluator of (5)'s formulations."""

    family = "sparse_regression"
    hyperparameters = {"k": None, "lambda0": None, "lambda2": 0.0, "M": "auto"}
    #: whether the cardinality form must be used (best subset)
    cardinality_only = False
    #: hyperparameters fixed by the formulation's definition (not user-settable)
    fixed: dict[str, Any] = {}

    def validate(self, instance: Instance, params: dict[str, Any]) -> dict[str, Any]:
        params = {**self.fixed, **super().validate(instance, params)}
        X, y = check_xy(instance)
        p = X.shape[1]
        if self.cardinality_only and params.get("k") is None:
            raise InputError(f"{self.id} needs the cardinality limit k (e.g. --param k=5)")
        k, lambda0 = sparsity_terms(self.id, params, p, f" (the instance has p = {p} features)")
        lambda2 = as_float(params, "lambda2", minimum=0.0, allow_none=False)
        M, source = params.get("M"), "given"
        if M in (None, "auto"):
            M, source = derive_big_m(X, y, k=k, lambda0=lambda0 or 0.0, lambda2=lambda2)
        else:
            M = as_big_m(params)
        return {**params, "k": k, "lambda0": lambda0, "lambda2": lambda2, "M": M, "M_source": source}

    # -- model pieces ------------------------------------------------------------------
    def _base_model(self, instance: Instance, params: dict[str, Any]) -> pyo.ConcreteModel:
        X, y = check_xy(instance)
        p = X.shape[1]
        M = float(params["M"])
        m = pyo.ConcreteModel(name=self.id)
        m.features = pyo.RangeSet(0, p - 1)
        m.theta = pyo.Var(m.features, bounds=(-M, M))
        m.z = pyo.Var(m.features, domain=pyo.Binary)
        m.big_m_upper = pyo.Constraint(m.features, rule=lambda m, j: m.theta[j] <= M * m.z[j])
        m.big_m_lower = pyo.Constraint(m.features, rule=lambda m, j: -M * m.z[j] <= m.theta[j])
        if params["k"] is not None:
            m.cardinality = pyo.Constraint(expr=pyo.quicksum(m.z[j] for j in m.features) <= params["k"])
        m.loss = pyo.Expression(expr=squared_loss(m, X, y, m.theta))
        return m

    def extract(self, model, instance: Instance, params: dict[str, Any]) -> dict[str, np.ndarray]:
        p = instance.X.shape[1]
        return {"theta": values(model.theta, p), "z": values(model.z, p)}

    def evaluate(self, instance: Instance, params: dict[str, Any], solution: dict[str, np.ndarray]) -> Evaluation:
        X, y = check_xy(instance)
        theta, z = read_arrays(solution, {"theta": X.shape[1], "z": X.shape[1]})
        if not all_finite(theta, z):
            return missing_values()
        selected = support_mask(z)
        M, k = float(params["M"]), params["k"]
        lambda0, lambda2 = params["lambda0"] or 0.0, params["lambda2"]
        violations = support_violations(theta, z, M=M, k=k)
        objective = objective_value(X, y, theta, int(selected.sum()), lambda0, lambda2)
        binding = m_binding(theta, selected, M)
        sst = float(np.sum((y - y.mean()) ** 2))
        info = {
            "support": np.flatnonzero(selected).tolist(),
            **big_m_info(params, binding),
            "r2": 1.0 - float(np.sum((y - X @ theta) ** 2)) / sst if sst > 0 else float("nan"),
        }
        return Evaluation(objective=objective, violations=violations, info=info)


@register
class L0L2BigM(_SparseRegression):
    """Formulation (6): L0L2 least squares with big-M links −Mzⱼ ≤ θⱼ ≤ Mzⱼ (tutorial eq. 6)."""

    id = "sparse_regression.l0l2_bigm"
    equation = "(5)->(6)"
    problem_class = "MIQP"
    summary = "L0L2 least squares, big-M links (penalty and/or cardinality form)"
    benchmark_cases = (("synreg-n60-p12-k4", {"k": 5, "lambda2": 1.0}),
                       ("synreg-n100-p20-k5", {"lambda0": 5.0, "lambda2": 1.0}),
                       ("diabetes", {"k": 4, "lambda2": 1.0}))

    def build(self, instance: Instance, params: dict[str, Any]) -> pyo.ConcreteModel:
        m = self._base_model(instance, params)
        lambda0, lambda2 = params["lambda0"] or 0.0, params["lambda2"]
        m.objective = pyo.Objective(
            expr=m.loss
            + lambda0 * pyo.quicksum(m.z[j] for j in m.features)
            + lambda2 * pyo.quicksum(m.theta[j] ** 2 for j in m.features)
        )
        return m


@register
class BestSubset(_SparseRegression):
    """Best subset selection: (5) with ‖θ‖0 ≤ k and λ2 = 0, big-M (Miller 1984; Bertsimas et al. 2016)."""

    id = "sparse_regression.best_subset"
    equation = "(5) with ||theta||_0 <= k, lambda2 = 0"
    problem_class = "MIQP"
    summary = "cardinality-constrained least squares, big-M"
    benchmark_cases = (("synreg-n60-p12-k4", {"k": 5}), ("diabetes", {"k": 5}))
    hyperparameters = {"k": None, "M": "auto"}
    fixed = {"lambda0": None, "lambda2": 0.0}
    cardinality_only = True

    def build(self, instance: Instance, params: dict[str, Any]) -> pyo.ConcreteModel:
        m = self._base_model(instance, params)
        m.objective = pyo.Objective(expr=m.loss)
        return m


@register
class Perspective(_SparseRegression):
    """Formulation (7): perspective reformulation with rotated cones θⱼ² ≤ zⱼrⱼ (7b) and
    big-M bounds (7c) (tutorial eq. 7; Xie & Deng 2020, Atamtürk & Gómez 2020)."""

    id = "sparse_regression.perspective"
    equation = "(7)"
    problem_class = "MISOCP"
    summary = "L0L2 least squares, perspective (rotated-cone) reformulation"
    benchmark_cases = L0L2BigM.benchmark_cases

    def build(self, instance: Instance, params: dict[str, Any]) -> pyo.ConcreteModel:
        m = self._base_model(instance, params)
        lambda0, lambda2 = params["lambda0"] or 0.0, params["lambda2"]
        m.r = pyo.Var(m.features, bounds=(0, None))
        m.rotated_cone = pyo.Constraint(m.features, rule=lambda m, j: m.theta[j] ** 2 <= m.z[j] * m.r[j])
        m.objective = pyo.Objective(
            expr=m.loss
            + lambda0 * pyo.quicksum(m.z[j] for j in m.features)
            + lambda2 * pyo.quicksum(m.r[j] for j in m.features)
        )
        return m
