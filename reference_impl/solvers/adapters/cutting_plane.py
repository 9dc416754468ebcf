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
from ..pyomo_solve import solve_model
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
    ``(SolverOutcome, solution)``."""
    import pyomo.environ as pyo

    from ...formulations._pyomo import values
    from ...formulations.risk_score import best_intercept, check_binary, logistic_terms, risk_objective, unique_rows
    from ...record import relative_gap

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
    state = {"cuts": 0, "best": math.inf, "solution": None, "bound": -math.inf, "cut_at": set(), "lp_bound": None}

    def loss_at(theta, b):
        margins = yu * (Xr @ theta + b)
        slope = -0.5 * (1.0 - np.tanh(0.5 * margins))
        value = float(weight @ logistic_terms(margins))
        return value, Xu.T @ (slope * yu), float(weight @ (slope * yu))

    def add_cut(theta, b):
        value, g, g0 = loss_at(theta, b)
        rhs = value - float(g @ theta) - g0 * b
        rhs -= 1e-12 * (1.0 + abs(value) + float(np.abs(g) @ np.abs(theta)) + abs(g0 * b))  # rounding safety
        expr = pyo.quicksum(float(g[j]) * m.theta[j] for j in range(d) if g[j] != 0.0)
        if has_intercept and g0 != 0.0:
            expr = expr + g0 * m.intercept
        m.cuts.add(m.total_loss >= expr + rhs)
        state["cuts"] += 1
        state["cut_at"].add((*np.round(theta, 9).tolist(), round(b, 9)))

    def consider(theta, z, b):
        theta = np.round(theta)
        z = (np.abs(theta) > 0.5).astype(float)
        if params["intercept"] == "integer":
            b = float(round(b))
        value = risk_objective(X, y, theta, b, int(z.sum()), params["lambda0"])
        if value < state["best"]:
            state["best"] = value
            solution = {"theta": theta, "z": z}
            if has_intercept:
                solution["intercept"] = np.array([b])
            state["solution"] = solution
        return theta, b

    def intercept_of(model) -> float:
        # a variable that no active constraint mentions yet (all cuts flat in θ₀) has no value
        if not has_intercept or model.intercept.value is None:
            return 0.0
        return float(model.intercept.value)

    def remaining():
        return time_limit - (time.perf_counter() - start)

    theta0 = np.zeros(d)
    b0 = best_intercept(X, y, theta0, params)
    consider(theta0, theta0, b0)
    add_cut(theta0, b0)

    integer_vars = [m.theta[j] for j in range(d)] + [m.z[j] for j in range(d)]
    if has_intercept and params["intercept"] == "integer":
        integer_vars.append(m.intercept)
    domains = [v.domain for v in integer_vars]
    lp_rounds = 0
    for _ in range(params["lp_warmup"]):
        if remaining() <= 0:
            break
        for v in integer_vars:
            v.domain = pyo.Reals
        out = solve_model(m, "highs", problem_class="LP", time_limit=max(remaining(), 1e-3), rel_gap=1e-9,
                          threads=threads, seed=seed)
        for v, dom in zip(integer_vars, domains):
            v.domain = dom
        if out.status != "optimal" or not out.has_solution:
            break
        lp_rounds += 1
        if out.objective is not None:  # the LP relaxation of a valid master: a valid bound
            state["lp_bound"] = float(out.objective)
            state["bound"] = max(state["bound"], state["lp_bound"])
        theta = values(m.theta, d)
        b = intercept_of(m)
        value, _, _ = loss_at(theta, b)
        if relative_gap(value, float(m.total_loss.value)) <= 1e-5:
            break
        add_cut(theta, b)

    iterations, status, message, master_seconds, exact = 0, "iteration_limit", "", 0.0, False
    while True:
        if remaining() <= 0:
            status, message = "time_limit", ""
            break
        if iterations >= params["max_iterations"]:
            status, message = "iteration_limit", f"stopped after max_iterations = {params['max_iterations']} masters"
            break
        iterations += 1
        # early masters need not be solved exactly: their proven bound is valid at any gap
        # and their incumbents still give new cut points; the final ones are exact.
        current = relative_gap(state["best"], state["bound"])
        floor = min(rel_gap / 10, 1e-7)
        master_gap = floor if exact else (max(floor, min(0.25 * current, 0.05)) if math.isfinite(current) else 0.05)
        out = solve_model(m, "highs", problem_class="MILP", time_limit=max(remaining(), 1e-3),
                          rel_gap=master_gap, threads=threads, seed=seed)
        master_seconds += out.seconds or 0.0
        if out.bound is not None and math.isfinite(out.bound):
            state["bound"] = max(state["bound"], out.bound)
        if out.status not in ("optimal", "time_limit") or not out.has_solution:
            status = out.status if out.status != "optimal" else "error"
            message = f"master MILP {iterations}: {out.status} {out.message}".strip()
            break
        theta = values(m.theta, d)
        b = intercept_of(m)
        theta, b = consider(theta, None, b)
        if has_intercept:
            b_best = best_intercept(X, y, theta, params)
            consider(theta, None, b_best)
        if relative_gap(state["best"], state["bound"]) <= rel_gap:
            status = "optimal"
            break
        if out.status == "time_limit":
            status = "time_limit"
            break
        if (*theta.tolist(), round(b, 9)) in state["cut_at"]:
            if master_gap == floor:
                # an exactly solved master returned a point it already has a cut at: its
                # value there is the true loss (up to tolerances), so bound and incumbent
                # agree; api.solve re-checks the gap
                status, message = "optimal", "converged: the master repeated a cut point"
                break
            exact = True  # a loosely solved master repeated itself: solve the next one exactly
            continue
        exact = False
        add_cut(theta, b)
        if has_intercept and b_best != b:
            add_cut(theta, b_best)

    outcome = SolverOutcome(
        status=status, has_solution=state["solution"] is not None, objective=state["best"],
        bound=state["bound"] if math.isfinite(state["bound"]) else None, nodes=float(iterations),
        seconds=time.perf_counter() - start, version=f"cutting planes on {version}", message=message,
        extra={"iterations": iterations, "cuts": state["cuts"], "lp_warmup_rounds": lp_rounds, "lp_bound": state["lp_bound"],
               "master_seconds": master_seconds},
    )
    return outcome, state["solution"]


#: the adapter the registry discovers (solvers/adapters/__init__.py)
SOLVER = CuttingPlane()
