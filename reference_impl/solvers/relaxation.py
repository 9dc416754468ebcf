"""Continuous (root) relaxation of a Pyomo model: integrality dropped, everything else kept.

The relaxation value measures formulation strength (tutorial §2.1.1: relaxation strength
predicts difficulty). It is a property of the formulation, not of the solver that ran the
MIO: LP relaxations go to HiGHS; quadratic and conic ones to Gurobi when it is installed and
its license takes the model (it solves them by barrier, where SCIP needs outer
approximation and can be slow), else to SCIP; general nonlinear ones to SCIP.
The *proven bound* of the relaxation solve is reported, so it is a valid lower bound (for
minimisation) on the mixed-integer optimum even if the relaxation solve stops early.
"""
from __future__ import annotations

import math
import time

from .outcome import SolverOutcome
from .pyomo_solve import solve_model

RELAXATION_SOLVERS = {"LP": ("highs",), "MILP": ("highs",), "MIQP": ("gurobi", "scip"),
                      "MISOCP": ("gurobi", "scip"), "MINLP": ("scip",)}


def relaxation_bound(model, problem_class: str, *, time_limit: float = 60.0, rel_gap: float = 1e-6) -> SolverOutcome:
    """Solve the continuous relaxation of a *copy* of ``model``; ``outcome.bound`` is the value."""
    import pyomo.environ as pyo

    start = time.perf_counter()
    relaxed = model.clone()
    pyo.TransformationFactory("core.relax_integer_vars").apply_to(relaxed)
    relaxed_class = "LP" if problem_class in ("LP", "MILP") else problem_class
    for solver in RELAXATION_SOLVERS.get(problem_class, ("scip",)):
        outcome = solve_model(relaxed, solver, problem_class=relaxed_class, time_limit=time_limit,
                              rel_gap=rel_gap, load_solution=False)
        if outcome.status not in ("not_installed", "size_limited", "unsupported", "error"):
            break
    outcome.seconds = time.perf_counter() - start
    if outcome.status == "optimal" and outcome.objective is not None and (
        outcome.bound is None or not math.isfinite(outcome.bound)
    ):
        # Continuous interfaces (e.g. Gurobi's barrier on a QCP) report no dual bound; the
        # optimal value moved by the requested tolerance towards the relaxed side is then a
        # valid bound: less it for minimisation, plus it for maximisation.
        slack = rel_gap * max(1.0, abs(outcome.objective))
        maximise = _sense(relaxed) == "max"
        outcome.bound = outcome.objective + slack if maximise else outcome.objective - slack
        outcome.extra["relaxation_bound_from"] = f"objective {'plus' if maximise else 'minus'} tolerance"
    outcome.extra["relaxation_solver"] = solver
    return outcome


def _sense(model) -> str:
    """``"max"`` or ``"min"``: the sense of the model's active objective."""
    import pyomo.environ as pyo

    objectives = list(model.component_data_objects(pyo.Objective, active=True))
    return "max" if objectives and objectives[0].sense == pyo.maximize else "min"
