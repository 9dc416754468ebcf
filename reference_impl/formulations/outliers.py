"""Outlier detection by least trimmed squares (tutorial §3.1, eqs. (23)–(24); FORMULATIONS.md §4).

Justin, Sun, Gómez & Vayanos, "Responsible Machine Learning via Mixed-Integer Optimization"
(arXiv 2505.05857), §3.1, with the quadratic loss ℓ = (yᵢ − xᵢᵀθ)² (least trimmed squares,
Rousseeuw 1984). zᵢ = 1 discards point i as an outlier, at most ``k`` points are discarded.
Two registered formulations of the same problem:

* ``outliers.trimmed_direct`` — (23), written directly::

      min_{θ ∈ ℝᵈ, z ∈ {0,1}ⁿ}  Σᵢ (1 − zᵢ)(yᵢ − xᵢᵀθ)²   s.t.  Σᵢ zᵢ ≤ k.

  The tutorial's (23) has no ridge term and no feature sparsity, so neither is offered here.
  Products of a binary and a squared residual make the objective cubic: a nonconvex MINLP
  (SCIP; Gurobi's nonlinear interface). Its continuous relaxation (z ∈ [0,1]) is exact but
  nonconvex: for fixed θ the objective is linear in z over {z ∈ [0,1]ⁿ : Σz ≤ k}, whose
  vertices are integral (k integer), so relaxing z does not lower the optimum. Spatial branch
  and bound needs bounded variables in nonconvex terms (with θ free SCIP and Gurobi report no
  finite bound even on n = 10), so the model carries a box |θⱼ| ≤ ``M`` that holds at some
  optimum (``"auto"``, derived below) and so keeps (23)'s optimum; ``M=inf`` builds (23)
  exactly as written. The evaluator's objective is Σ(1 − zᵢ)(yᵢ − xᵢᵀθ)² with z as returned
  (the model's value); Σ over the points with zᵢ ≤ ½ is reported as ``lts_objective``.

* ``outliers.trimmed_bigm`` — (24), Insolia, Kenney, Chiaromonte & Felici (2022): corrections
  rᵢ to the labels, with big-M links::

      min_{θ, z, r}  Σᵢ (yᵢ − xᵢᵀθ − rᵢ)²   s.t.  −Mzᵢ ≤ rᵢ ≤ Mzᵢ,  Σᵢ zᵢ ≤ k,  z ∈ {0,1}ⁿ.

  An MIQP (SCIP; Gurobi where its size-limited licence fits: 2n + d ≤ 200 variables). The
  tutorial notes its continuous relaxation is trivially 0; precisely, the relaxation value is
  0 exactly when some θ has |yᵢ − xᵢᵀθ| ≤ M for every i and Σᵢ |yᵢ − xᵢᵀθ| ≤ kM (take
  rᵢ = yᵢ − xᵢᵀθ and zᵢ = |rᵢ|/M), i.e. when M ≥ M₀ := min_θ max(‖y − Xθ‖∞, ‖y − Xθ‖₁/k) — an
  LP (:func:`relaxation_zero_threshold`). Every evaluation reports M₀ (``relaxation_zero_M``)
  and whether M ≥ M₀ (``relaxation_trivial``); ``miobench solve --root`` records the
  relaxation value itself (``root_bound``).

Big-M (``M``; for (24) the bound on the corrections |rᵢ|, for (23) the box on |θⱼ|): ``"auto"``
(default) derives one, or give a number (used as is; whether it bound the solution is
reported, ``m_binding``). Derivation (:func:`derive_bounds`): in an optimal solution of (24)
without the box, rᵢ = yᵢ − xᵢᵀθ* on the discarded points (zero loss there), and the kept set S
of an optimum θ* of either form satisfies Σ_{i∈S} (yᵢ − xᵢᵀθ*)² ≤ UB, UB the objective of any
feasible point (here the best of concentration steps, Rousseeuw & Van Driessen 2006, from the
least-squares and the least-absolute-deviations fits). Extend the discarded set to some D of
exactly k points; its complement T ⊆ S also satisfies the inequality, so θ* lies in the
ellipsoid E_T = {θ : ‖y_T − X_Tθ‖² ≤ UB}, and

    |rᵢ| ≤ max_{θ∈E_T} |yᵢ − xᵢᵀθ| = |yᵢ − xᵢᵀc_T| + sqrt((UB − RSS_T) · xᵢᵀ(X_TᵀX_T)⁻¹xᵢ)  (i ∈ D),
    |θⱼ*| ≤ max_{θ∈E_T} |θⱼ|      = |c_Tⱼ| + sqrt((UB − RSS_T) · ((X_TᵀX_T)⁻¹)ⱼⱼ),

c_T the least-squares fit on T and RSS_T its residual sum (a D with RSS_T > UB holds no
optimum). M is the largest value over every D (all C(n, k) of them, vectorised, when there
are at most :data:`MAX_CERTIFY_SETS` and every X_T has full column rank) — ``M_source =
"derived"``, provably valid. Otherwise, when λ := λ_min(XᵀX) − (sum of the k largest ‖xᵢ‖²)
> 0 (Weyl: every X_TᵀX_T then has λ_min ≥ λ), ‖X_Tθ*‖ ≤ ‖y‖ + √UB gives
‖θ*‖ ≤ (‖y‖ + √UB)/√λ and |rᵢ| ≤ maxᵢ |yᵢ| + ‖xᵢ‖·(‖y‖ + √UB)/√λ, also provably valid.
Otherwise M = 2·max |residual| (resp. 2·max |θⱼ|) of the heuristic fit (``"heuristic"``: it
may cut off the optimum, and every result says so). A derived M is widened by
:data:`DERIVED_SLACK` (1 %): at UB = the optimum the ellipsoid of the optimal kept set is a
point, so the bound is tight and would otherwise read as "binding". With k = 0 (no point
discarded, z = 0 and r = 0 forced) any M is valid and M = 1 is used for (24).
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
from ._pyomo import values
from ._support import (M_BINDING_RTOL, all_finite, box_violation, cardinality_violation, integrality_violation,
                       m_binding, missing_values, read_arrays, support_link_violation, support_mask)
from .base import Evaluation, Formulation, as_big_m, as_float, as_int, big_m_info

#: At most this many discarded sets are enumerated by :func:`derive_correction_bound`.
MAX_CERTIFY_SETS = 100_000
#: Why a heuristic correction bound could not be certified.
UNCERTIFIED_REASON = ("too many discarded sets to enumerate, or a kept set without full column rank, "
                      "and the eigenvalue bound fails")


# -- data-only helpers (shared by the evaluators, the big-M derivation and the tests) ---------
def residuals(X: np.ndarray, y: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """yᵢ − xᵢᵀθ for every point."""
    return y - X @ np.asarray(theta, dtype=float)


def largest_residual_set(residual: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k largest |residuals| (sorted; ties broken by the lower index first)."""
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    order = np.lexsort((np.arange(len(residual)), -np.abs(residual)))
    return np.sort(order[:k]).astype(np.int64)


def trimmed_sum(residual: np.ndarray, k: int) -> float:
    """Σ of squared residuals over all but the k largest: the LTS objective of θ (its best trim)."""
    squares = np.sort(np.asarray(residual, dtype=float) ** 2)
    return float(math.fsum(squares[: len(squares) - k].tolist())) if k > 0 else float(math.fsum(squares.tolist()))


def kept_fit(X: np.ndarray, y: np.ndarray, discarded) -> tuple[np.ndarray, float]:
    """Least squares on the points not in ``discarded``: (θ, Σ of kept squared residuals)."""
    keep = np.ones(len(y), dtype=bool)
    keep[list(discarded)] = False
    theta = np.linalg.lstsq(X[keep], y[keep], rcond=None)[0]
    r = y[keep] - X[keep] @ theta
    return theta, float(r @ r)


def lad_fit(X: np.ndarray, y: np.ndarray) -> np.ndarray | None:
    """Least absolute deviations min_θ Σ|yᵢ − xᵢᵀθ| (an LP, scipy's HiGHS); None if it fails."""
    from scipy.optimize import linprog

    n, p = X.shape
    # variables: θ (p, free), u (n, ≥ 0); u ≥ ±(y − Xθ)
    cost = np.concatenate([np.zeros(p), np.ones(n)])
    A = np.block([[-X, -np.eye(n)], [X, -np.eye(n)]])
    b = np.concatenate([-y, y])
    bounds = [(None, None)] * p + [(0, None)] * n
    result = linprog(cost, A_ub=A, b_ub=b, bounds=bounds, method="highs")
    return result.x[:p] if result.status == 0 else None


def concentration_steps(X: np.ndarray, y: np.ndarray, k: int, theta: np.ndarray,
                        max_steps: int = 100) -> tuple[np.ndarray, np.ndarray, float]:
    """C-steps (Rousseeuw & Van Driessen 2006) from θ: discard the k largest residuals, refit on
    the rest, repeat until the discarded set repeats. Returns (θ, discarded, kept RSS)."""
    seen: set[tuple[int, ...]] = set()
    discarded = largest_residual_set(residuals(X, y, theta), k)
    value = math.inf
    for _ in range(max_steps):
        key = tuple(discarded.tolist())
        if key in seen:
            break
        seen.add(key)
        theta, value = kept_fit(X, y, discarded)
        discarded = largest_residual_set(residuals(X, y, theta), k)
    return theta, largest_residual_set(residuals(X, y, theta), k), trimmed_sum(residuals(X, y, theta), k)


def lts_heuristic(X: np.ndarray, y: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, float]:
    """A good feasible point of (23)/(24): the best of C-steps from the least-squares and the LAD
    fits. Returns (θ, discarded indices, objective Σ over the kept points)."""
    starts = [np.linalg.lstsq(X, y, rcond=None)[0]]
    lad = lad_fit(X, y)
    if lad is not None:
        starts.append(lad)
    best = None
    for start in starts:
        candidate = concentration_steps(X, y, k, start)
        if best is None or candidate[2] < best[2]:
            best = candidate
    return best


def _enumerated_bounds(X: np.ndarray, y: np.ndarray, k: int, upper: float) -> tuple[float, float] | None:
    """(correction bound, coefficient box) by enumerating every discarded set D (|D| = k): the
    largest max_{θ∈E_T} |yᵢ − xᵢᵀθ| over i ∈ D and the largest max_{θ∈E_T} |θⱼ| (module
    docstring); None when there are too many sets or some X_T is rank-deficient."""
    n, p = X.shape
    if math.comb(n, k) > MAX_CERTIFY_SETS or math.comb(n, k) * max(k, p) * p > 50_000_000:
        return None
    sets = list(itertools.combinations(range(n), k))
    D = np.array(sets, dtype=np.int64).reshape(len(sets), k)                      # m × k
    XD, yD = X[D], y[D]                                                            # m × k × p, m × k
    A = X.T @ X - np.einsum("mkp,mkq->mpq", XD, XD)
    b = X.T @ y - np.einsum("mkp,mk->mp", XD, yD)
    yy = float(y @ y) - np.sum(yD * yD, axis=1)
    eig = np.linalg.eigvalsh(A)
    if np.any(eig[:, 0] <= 1e-10 * np.maximum(eig[:, -1], 1.0)):
        return None
    A_inv = np.linalg.inv(A)
    centre = np.einsum("mpq,mq->mp", A_inv, b)
    rss = np.maximum(yy - np.einsum("mp,mp->m", b, centre), 0.0)
    radius2 = upper * (1 + 1e-9) + 1e-12 - rss
    possible = radius2 >= 0          # a kept set whose least squares exceed UB holds no optimum
    if not np.any(possible):
        return None
    radius2 = np.clip(radius2, 0.0, None)
    prediction = np.einsum("mkp,mp->mk", XD, centre)
    leverage = np.clip(np.einsum("mkp,mpq,mkq->mk", XD, A_inv, XD), 0.0, None)
    correction = np.abs(yD - prediction) + np.sqrt(radius2[:, None] * leverage)
    diagonal = np.clip(np.einsum("mjj->mj", A_inv), 0.0, None)
    coefficient = np.abs(centre) + np.sqrt(radius2[:, None] * diagonal)
    correction_max = float(correction[possible].max()) if k > 0 else 0.0
    return correction_max, float(coefficient[possible].max())


def _eigenvalue_bounds(X: np.ndarray, y: np.ndarray, k: int, upper: float) -> tuple[float, float] | None:
    """(correction bound, coefficient box) by the Weyl argument of the module docstring; None
    when λ_min(XᵀX) − Σ of the k largest ‖xᵢ‖² ≤ 0."""
    norms2 = np.sum(X * X, axis=1)
    lower = float(np.linalg.eigvalsh(X.T @ X)[0]) - float(np.sort(norms2)[::-1][:k].sum())
    if lower <= 1e-10 * max(1.0, float(norms2.sum())):
        return None
    radius = (float(np.linalg.norm(y)) + math.sqrt(upper)) / math.sqrt(lower)
    return float(np.max(np.abs(y) + np.sqrt(norms2) * radius)), radius


#: Relative slack added to a derived bound, so that an optimum touching the (tight) bound is
#: not reported as bound by it.
DERIVED_SLACK = 1e-2


def derive_bounds(X: np.ndarray, y: np.ndarray, k: int) -> tuple[float, float, str]:
    """(bound on the corrections |rᵢ| of (24), box on the coefficients |θⱼ| of (23), source):
    ``derived`` = provably valid for some optimal solution, else ``heuristic``; see the module
    docstring."""
    theta, _, upper = lts_heuristic(X, y, k)
    for bounds in (_enumerated_bounds, _eigenvalue_bounds):
        value = bounds(X, y, k, upper)
        if value is not None:
            correction, coefficient = value
            return (max(correction, 1e-9) * (1 + DERIVED_SLACK), max(coefficient, 1e-9) * (1 + DERIVED_SLACK),
                    "derived")
    return (2.0 * max(float(np.max(np.abs(residuals(X, y, theta)))), 1e-6),
            2.0 * max(float(np.max(np.abs(theta))), 1e-6), "heuristic")


def derive_correction_bound(X: np.ndarray, y: np.ndarray, k: int) -> tuple[float, str]:
    """A big-M for the corrections of (24) and its source (:func:`derive_bounds`); with k = 0
    (Σz ≤ 0 forces z = 0 and r = 0) any M is valid: 1."""
    if k == 0:
        return 1.0, "derived"
    correction, _, source = derive_bounds(X, y, k)
    return correction, source


def derive_coefficient_box(X: np.ndarray, y: np.ndarray, k: int) -> tuple[float, str]:
    """A box M on |θⱼ| for (23) and its source (:func:`derive_bounds`)."""
    _, coefficient, source = derive_bounds(X, y, k)
    return coefficient, source


def relaxation_zero_threshold(X: np.ndarray, y: np.ndarray, k: int) -> float:
    """M₀ = min_θ max(‖y − Xθ‖∞, ‖y − Xθ‖₁/k): the continuous relaxation of (24) is 0 exactly
    when M ≥ M₀ (module docstring). An LP; +inf when k = 0 and y is not in the range of X."""
    from scipy.optimize import linprog

    n, p = X.shape
    if k == 0:
        fit = np.linalg.lstsq(X, y, rcond=None)[0]
        return 0.0 if np.allclose(X @ fit, y, rtol=0.0, atol=1e-9) else math.inf
    # variables θ (p, free), u (n, ≥ 0), t (≥ 0); min t, u ≥ ±(y − Xθ), u ≤ t, Σu ≤ kt
    cost = np.concatenate([np.zeros(p + n), [1.0]])
    eye, zeros = np.eye(n), np.zeros((n, 1))
    A = np.vstack([
        np.hstack([-X, -eye, zeros]),
        np.hstack([X, -eye, zeros]),
        np.hstack([np.zeros((n, p)), eye, -np.ones((n, 1))]),
        np.concatenate([np.zeros(p), np.ones(n), [-float(k)]])[None, :],
    ])
    b = np.concatenate([-y, y, np.zeros(n + 1)])
    bounds = [(None, None)] * p + [(0, None)] * (n + 1)
    result = linprog(cost, A_ub=A, b_ub=b, bounds=bounds, method="highs")
    if result.status != 0:
        raise RuntimeError(f"the LP for the relaxation threshold failed: {result.message}")
    return float(result.fun)


# -- the formulations -------------------------------------------------------------------------
class _TrimmedSquares(Formulation):
    """Shared validation, model skeleton and evaluator pieces of (23) and (24)."""

    family = "outliers"
    hyperparameters: dict[str, Any] = {"k": None}

    def validate(self, instance: Instance, params: dict[str, Any]) -> dict[str, Any]:
        params = super().validate(instance, params)
        X, y = check_xy(instance)
        n = X.shape[0]
        if params.get("k") is None:
            raise InputError(f"{self.id} needs k, the largest number of points it may discard (e.g. --param k=2)")
        k = as_int(params, "k", minimum=0, maximum=n - 1,
                   what=f" (at most n - 1 = {n - 1} of the instance's n = {n} points may be discarded)")
        return {**params, "k": k}

    def _skeleton(self, instance: Instance, params: dict[str, Any]) -> pyo.ConcreteModel:
        X, y = check_xy(instance)
        n, p = X.shape
        m = pyo.ConcreteModel(name=self.id)
        m.samples = pyo.RangeSet(0, n - 1)
        m.features = pyo.RangeSet(0, p - 1)
        m.theta = pyo.Var(m.features)
        m.z = pyo.Var(m.samples, domain=pyo.Binary)
        m.trim_budget = pyo.Constraint(expr=pyo.quicksum(m.z[i] for i in m.samples) <= params["k"])
        m.fit = pyo.Expression(m.samples, rule=lambda m, i: float(y[i]) - pyo.quicksum(
            float(X[i, j]) * m.theta[j] for j in range(p) if X[i, j] != 0.0))
        return m

    def extract(self, model, instance: Instance, params: dict[str, Any]) -> dict[str, np.ndarray]:
        n, p = instance.X.shape
        return {"theta": values(model.theta, p), "z": values(model.z, n)}

    @staticmethod
    def _trim_info(residual: np.ndarray, z: np.ndarray, k: int) -> dict[str, Any]:
        """The trimmed set (returned z and the k largest residuals under θ) and the LTS values."""
        discarded = support_mask(z)
        by_residual = largest_residual_set(residual, k)
        kept_value = float(math.fsum((residual[~discarded] ** 2).tolist()))
        best_value = trimmed_sum(residual, k)
        return {
            "trimmed": np.flatnonzero(discarded).tolist(),
            "trimmed_by_residual": by_residual.tolist(),
            "n_trimmed": int(discarded.sum()),
            "lts_objective": kept_value,                 # Σ over the points z keeps
            "lts_objective_at_theta": best_value,        # Σ over all but the k largest residuals
            "z_is_best_trim": bool(kept_value <= best_value + 1e-9 * max(1.0, best_value)),
        }

    @staticmethod
    def _base_violations(z: np.ndarray, k: int) -> dict[str, float]:
        return {"integrality": integrality_violation(z), "cardinality": cardinality_violation(support_mask(z), k)}


@register
class TrimmedDirect(_TrimmedSquares):
    """Least trimmed squares written directly, tutorial eq. (23) (Justin, Sun, Gómez & Vayanos,
    arXiv 2505.05857, §3.1): min Σ(1 − zᵢ)(yᵢ − xᵢᵀθ)² s.t. Σzᵢ ≤ k — a nonconvex (cubic) MINLP.

    ``M`` is a box |θⱼ| ≤ M that (23) does not have: spatial branch and bound needs bounded
    variables in its nonconvex terms (without it SCIP reports no finite bound even on n = 10).
    ``"auto"`` derives one that holds at some optimum (module docstring), so the model keeps
    (23)'s optimum; ``M=inf`` builds (23) exactly as written (θ free)."""

    id = "outliers.trimmed_direct"
    equation = "(23)"
    problem_class = "MINLP"
    summary = "least trimmed squares, binary x squared residual written directly (nonconvex)"
    hyperparameters = {"k": None, "M": "auto"}
    benchmark_cases = (("outliers-n10-p2-o2", {"k": 2}), ("outliers-n10-p2-o2", {"k": 1}))

    def validate(self, instance: Instance, params: dict[str, Any]) -> dict[str, Any]:
        params = super().validate(instance, params)
        X, y = check_xy(instance)
        if params.get("M") in (None, "auto"):
            M, source = derive_coefficient_box(X, y, params["k"])
        elif math.isinf(as_float(params, "M", allow_none=False)):
            M, source = math.inf, "given"
        else:
            M, source = as_big_m(params), "given"
        return {**params, "M": M, "M_source": source}

    def build(self, instance: Instance, params: dict[str, Any]) -> pyo.ConcreteModel:
        m = self._skeleton(instance, params)
        M = float(params["M"])
        if math.isfinite(M):
            for j in m.features:
                m.theta[j].setlb(-M)
                m.theta[j].setub(M)
        m.objective = pyo.Objective(expr=pyo.quicksum((1 - m.z[i]) * m.fit[i] ** 2 for i in m.samples))
        return m

    def evaluate(self, instance: Instance, params: dict[str, Any], solution: dict[str, np.ndarray]) -> Evaluation:
        X, y = check_xy(instance)
        n, p = X.shape
        theta, z = read_arrays(solution, {"theta": p, "z": n})
        if not all_finite(theta, z):
            return missing_values()
        M = float(params["M"])
        residual = residuals(X, y, theta)
        info = self._trim_info(residual, z, params["k"])
        # the model's objective at the returned point, z as returned (as a solver sees it): within
        # the integrality tolerance it may differ from Σ over the kept points (info["lts_objective"])
        # by (1 − zᵢ)·residual², which on a large outlier residual exceeds the solver's gap
        objective = float(math.fsum(((1.0 - z) * residual ** 2).tolist()))
        violations = {**self._base_violations(z, params["k"]), "box": box_violation(theta, M)}
        binding = m_binding(theta, np.ones(p, dtype=bool), M)
        info.update({**big_m_info(params, binding, what="|theta_j|", reason=UNCERTIFIED_REASON), "theta": theta.tolist()})
        return Evaluation(objective=objective, violations=violations, info=info)


@register
class TrimmedBigM(_TrimmedSquares):
    """Least trimmed squares with label corrections rᵢ, tutorial eq. (24) (Insolia et al. 2022;
    Justin, Sun, Gómez & Vayanos, arXiv 2505.05857, §3.1): min Σ(yᵢ − xᵢᵀθ − rᵢ)² s.t.
    −Mzᵢ ≤ rᵢ ≤ Mzᵢ, Σzᵢ ≤ k — an MIQP whose continuous relaxation is trivially 0 for large M."""

    id = "outliers.trimmed_bigm"
    equation = "(24)"
    problem_class = "MIQP"
    summary = "least trimmed squares with big-M label corrections (Insolia et al. 2022); weak (zero) relaxation"
    hyperparameters = {"k": None, "M": "auto"}
    benchmark_cases = TrimmedDirect.benchmark_cases

    def validate(self, instance: Instance, params: dict[str, Any]) -> dict[str, Any]:
        params = super().validate(instance, params)
        X, y = check_xy(instance)
        if params.get("M") in (None, "auto"):
            M, source = derive_correction_bound(X, y, params["k"])
        else:
            M, source = as_big_m(params), "given"
        return {**params, "M": M, "M_source": source}

    def build(self, instance: Instance, params: dict[str, Any]) -> pyo.ConcreteModel:
        m = self._skeleton(instance, params)
        M = float(params["M"])
        m.r = pyo.Var(m.samples, bounds=(-M, M))
        m.correction_upper = pyo.Constraint(m.samples, rule=lambda m, i: m.r[i] <= M * m.z[i])
        m.correction_lower = pyo.Constraint(m.samples, rule=lambda m, i: -M * m.z[i] <= m.r[i])
        # eᵢ = yᵢ − xᵢᵀθ − rᵢ as variables: a separable Σeᵢ² (same value, same relaxation) that
        # SCIP recognises as convex at once; the expanded Σ(yᵢ − xᵢᵀθ − rᵢ)² left it without a
        # finite bound for 60 s on n = 30
        m.e = pyo.Var(m.samples)
        m.e_def = pyo.Constraint(m.samples, rule=lambda m, i: m.e[i] == m.fit[i] - m.r[i])
        m.objective = pyo.Objective(expr=pyo.quicksum(m.e[i] ** 2 for i in m.samples))
        return m

    def extract(self, model, instance: Instance, params: dict[str, Any]) -> dict[str, np.ndarray]:
        solution = super().extract(model, instance, params)
        solution["r"] = values(model.r, instance.X.shape[0])
        return solution

    def evaluate(self, instance: Instance, params: dict[str, Any], solution: dict[str, np.ndarray]) -> Evaluation:
        X, y = check_xy(instance)
        n, p = X.shape
        theta, z, r = read_arrays(solution, {"theta": p, "z": n, "r": n})
        if not all_finite(theta, z, r):
            return missing_values()
        k, M = params["k"], float(params["M"])
        residual = residuals(X, y, theta)
        objective = float(math.fsum(((residual - r) ** 2).tolist()))
        discarded = support_mask(z)
        violations = {
            "integrality": integrality_violation(z),
            "correction_link": support_link_violation(r, discarded),  # rᵢ ≠ 0 on a kept point
            "big_m": box_violation(r, M),
            "cardinality": cardinality_violation(discarded, k),
        }
        binding = bool(np.any(np.abs(r[discarded]) >= (1 - M_BINDING_RTOL) * M))
        threshold = relaxation_zero_threshold(X, y, k)
        info = {
            **self._trim_info(residual, z, k),
            # on a discarded point the optimal correction is the residual itself (zero loss)
            "correction_gap": float(np.max(np.abs(residual - r)[discarded], initial=0.0)),
            **big_m_info(params, binding, what="|r_i|", reason=UNCERTIFIED_REASON),
            "relaxation_zero_M": threshold,
            "relaxation_trivial": bool(M >= threshold),
            "theta": theta.tolist(),
        }
        return Evaluation(objective=objective, violations=violations, info=info)
