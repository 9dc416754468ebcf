"""The cutting-plane loop of ``risk_score.cutting_plane`` (Ustun & Rudin 2019): loss cuts on a
MILP master solved by HiGHS, repeated until the miobench gap closes. The native solver's name
is ``highs`` (it is HiGHS, run in a loop); it takes only that formulation, so the Pyomo entry
``highs`` still answers every other formulation. The algorithm is documented on
:class:`reference_impl.formulations.risk_score.RiskScoreCuttingPlane`."""
from __future__ import annotations

import math
import time

import numpy as np

from ..native import NativeSolver
from ..outcome import SolverOutcome
from ..spec import is_installed, solver_version


class CuttingPlane(NativeSolver):
    name = "highs"
    formulations = ("risk_score.cutting_plane",)
    description = "logistic-loss cutting planes on a HiGHS MILP master (a loop of MILPs)"
    options = ()  # it takes none (its limits are hyperparameters: max_iterations, lp_warmup)

    def installed(self) -> bool:
        return is_installed("highs")

    def version(self) -> str:
        return f"cutting planes on {solver_version('highs')}"

    def run(self, formulation, instance, params, *, time_limit=60.0, rel_gap=1e-4, threads=1, seed=0,
            solver_options=None, verbose=False):
        return cutting_plane_loop(formulation, instance, params, time_limit=time_limit, rel_gap=rel_gap,
                                  threads=threads, seed=seed)


def cutting_plane_loop(formulation, instance, params, *, time_limit: float = 60.0, rel_gap: float = 1e-4,
                       threads: int = 1, seed: int = 0):
    """Run the loop on ``formulation`` (a :class:`RiskScoreCuttingPlane`); returns
    ``(SolverOutcome, solution)``.

    Both phases run on the shared constraint-generation driver
    (:func:`~reference_impl.solvers.decomposition.constraint_generation`): the LP warm-up is the
    driver on the master with θ, z (and an integer θ₀) relaxed, the main phase the driver on the
    MILP master. Separation at a master point (θ, θ₀, L) returns the loss cut there when the
    master under-estimates the loss at that point (ℓ(θ, θ₀) > L beyond a tolerance), plus the cut
    at θ with its best intercept; no cut means the master's loss is exact at its point, which
    the driver treats as a feasible point (optimal when that master was solved exactly). Every
    MILP master point is a feasible risk score: ``repair`` returns the better of (θ, θ₀) and
    (θ, best θ₀) with its true objective (8), so the incumbent is always a real score."""
    import pyomo.environ as pyo

    from ...formulations._pyomo import values
    from ...formulations.risk_score import best_intercept, check_binary, logistic_terms, risk_objective, unique_rows
    from ...record import relative_gap
    from ..decomposition import VIOLATION_TOL, constraint_generation

    version = solver_version("highs")
    if not is_installed("highs"):
        return SolverOutcome("not_installed", message="the cutting-plane master needs highspy"), None
    start = time.perf_counter()
    X, y = check_binary(instance)
    rep, weight = unique_rows(X, y)
    Xu, yu = X[rep] * weight[:, None], y[rep]  # weighted rows: ℓ and ∇ℓ equal the full sums
    Xr = X[rep]
    m = formulation.master(instance, params)
    d = X.shape[1]
    has_intercept = m.intercept is not None
    integer_intercept = params["intercept"] == "integer"

    def loss_at(theta, b):
        margins = yu * (Xr @ theta + b)
        slope = -0.5 * (1.0 - np.tanh(0.5 * margins))
        value = float(weight @ logistic_terms(margins))
        return value, Xu.T @ (slope * yu), float(weight @ (slope * yu))

    def cut(theta, b):
        """The loss cut at (θ, θ₀): L ≥ ℓ + ∇ℓᵀ((θ, θ₀) − (θᵏ, θ₀ᵏ)), moved down by a rounding margin."""
        value, g, g0 = loss_at(theta, b)
        rhs = value - float(g @ theta) - g0 * b
        rhs -= 1e-12 * (1.0 + abs(value) + float(np.abs(g) @ np.abs(theta)) + abs(g0 * b))  # rounding safety
        expr = pyo.quicksum(float(g[j]) * m.theta[j] for j in range(d) if g[j] != 0.0)
        if has_intercept and g0 != 0.0:
            expr = expr + g0 * m.intercept
        return m.total_loss >= expr + rhs

    def under_estimated(theta, b, L, tol: float = 1e-5) -> bool:
        """Whether the master's loss L at its point is below the true loss by more than ``tol``
        (relative; at least 10× the driver's violation tolerance): a cut there is violated."""
        value = loss_at(theta, b)[0]
        return value - L > max(tol * max(abs(value), 1.0), 10 * VIOLATION_TOL)

    def intercept_of(model) -> float:
        # a variable that no active constraint mentions yet (all cuts flat in θ₀) has no value
        if not has_intercept or model.intercept.value is None:
            return 0.0
        return float(model.intercept.value)

    def score(theta, b) -> tuple[dict, float]:
        """The risk score at integer θ (θ₀ rounded when integer) and its objective (8)."""
        theta = np.round(theta)
        z = (np.abs(theta) > 0.5).astype(float)
        if integer_intercept:
            b = float(round(b))
        solution = {"theta": theta, "z": z}
        if has_intercept:
            solution["intercept"] = np.array([b])
        return solution, risk_objective(X, y, theta, b, int(z.sum()), params["lambda0"])

    def remaining() -> float:
        return time_limit - (time.perf_counter() - start)

    theta0 = np.zeros(d)
    b0 = best_intercept(X, y, theta0, params)
    incumbent, best = score(theta0, b0)  # θ = 0 with its best intercept: the first incumbent
    m.cuts.add(cut(theta0, b0))
    cuts = 1

    # 1. Kelley's method on the master's LP relaxation: cuts at fractional points are valid too
    lp_bound, lp_rounds = None, 0
    if params["lp_warmup"] > 0 and remaining() > 0:
        integer_vars = [m.theta[j] for j in range(d)] + [m.z[j] for j in range(d)]
        if has_intercept and integer_intercept:
            integer_vars.append(m.intercept)
        domains = [v.domain for v in integer_vars]
        for v in integer_vars:
            v.domain = pyo.Reals
        try:
            warm, _ = constraint_generation(
                m, lambda point: [cut(*point[:2])] if under_estimated(*point) else [], solver="highs",
                problem_class="LP", extract=lambda model: (values(model.theta, d), intercept_of(model),
                                                           float(model.total_loss.value)),
                time_limit=max(remaining(), 1e-3), rel_gap=1e-9, threads=threads, seed=seed,
                max_iterations=params["lp_warmup"], cut_list="cuts", bound_from_objective=True)
        finally:
            for v, dom in zip(integer_vars, domains):
                v.domain = dom
        lp_rounds, cuts = warm.extra["iterations"], cuts + warm.extra["cuts"]
        lp_bound = warm.bound  # the LP relaxation of a valid master: a valid bound

    # 2. MILP masters, loosely solved while the gap is wide, exactly at the end
    def extract(model):
        return np.round(values(model.theta, d)), intercept_of(model), float(model.total_loss.value)

    def separate(point):
        theta, b, L = point
        if integer_intercept:
            b = float(round(b))
        if not under_estimated(theta, b, L, tol=min(1e-5, rel_gap / 10)):  # the master is exact here
            return []
        found = [cut(theta, b)]
        if has_intercept:
            b_best = best_intercept(X, y, theta, params)
            if b_best != b:
                found.append(cut(theta, b_best))
        return found

    def repair(point):
        theta, b, _ = point
        candidates = [score(theta, b)]
        if has_intercept:
            candidates.append(score(theta, best_intercept(X, y, theta, params)))
        return min(candidates, key=lambda pair: pair[1])

    floor = min(rel_gap / 10, 1e-7)
    if remaining() > 0:
        outcome, found = constraint_generation(
            m, separate, solver="highs", problem_class="MILP", extract=extract, objective=lambda point: repair(point)[1],
            repair=repair, master_gap=lambda gap: min(0.25 * gap, 0.05) if math.isfinite(gap) else 0.05,
            exact_gap=floor, time_limit=max(remaining(), 1e-3), rel_gap=rel_gap, threads=threads, seed=seed,
            max_iterations=params["max_iterations"], cut_list="cuts")
    else:
        outcome, found = SolverOutcome("time_limit", extra={"iterations": 0, "cuts": 0, "master_seconds": 0.0}), None
    if found is not None:
        # the driver's incumbent is a master point (separation passed) or a repaired score: rescore it
        solution, value = repair(found) if isinstance(found, tuple) else (found, outcome.objective)
        if value < best:
            incumbent, best = solution, value
    bounds = [b for b in (lp_bound, outcome.bound) if b is not None and math.isfinite(b)]
    bound = max(bounds) if bounds else None
    status, message = outcome.status, outcome.message
    if status != "optimal" and relative_gap(best, bound) <= rel_gap:
        status, message = "optimal", "the incumbent meets the bound"
    return SolverOutcome(
        status=status, has_solution=True, objective=best, bound=bound, nodes=outcome.nodes,
        seconds=time.perf_counter() - start, version=f"cutting planes on {version}", message=message,
        extra={"iterations": outcome.extra.get("iterations", 0), "cuts": cuts + outcome.extra.get("cuts", 0),
               "lp_warmup_rounds": lp_rounds, "lp_bound": lp_bound,
               "master_seconds": outcome.extra.get("master_seconds", 0.0)},
    ), incumbent


#: the adapter the registry discovers (solvers/adapters/__init__.py)
SOLVER = CuttingPlane()
