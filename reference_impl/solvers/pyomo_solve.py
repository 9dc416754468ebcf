"""One way to solve a Pyomo model with HiGHS, SCIP or Gurobi (Pyomo's ``contrib.solver``
interfaces: ``highs``, ``scip_direct``, ``gurobi_persistent``, ``gurobi_direct_minlp``)."""
from __future__ import annotations

import contextlib
import io
import logging
import math
import time
import warnings

from ..errors import UnknownIdError
from .outcome import SolverOutcome
from .spec import PYOMO_SOLVERS, is_installed, solver_version, supports

_TERMINATION_TO_STATUS = {
    "convergenceCriteriaSatisfied": "optimal",
    "maxTimeLimit": "time_limit",
    "iterationLimit": "time_limit",
    "interrupted": "time_limit",
    "objectiveLimit": "time_limit",
    "provenInfeasible": "infeasible",
    "locallyInfeasible": "infeasible",
    "infeasibleOrUnbounded": "infeasible",
    "unbounded": "unbounded",
    "licensingProblems": "size_limited",
    "emptyModel": "error",
    "minStepLength": "error",
    "error": "error",
    "unknown": "error",
}

_NODE_KEYS = ("NNodes", "NodeCount", "mip_node_count")


#: Solver logs are switched off: Pyomo captures solver output through a pipe, and a long
#: SCIP log deadlocks that capture (seen with Pyomo 6.10 / pyscipopt 6.3 on a 26-variable
#: relaxation that SCIP itself solves in 0.1 s).
_QUIET = {"scip": {"display/verblevel": 0}, "gurobi": {"OutputFlag": 0}, "highs": {"output_flag": False}}


def _solver_options(solver: str, seed: int | None) -> dict:
    options = dict(_QUIET[solver])
    if seed is not None:
        options[{"scip": "randomization/randomseedshift", "gurobi": "Seed", "highs": "random_seed"}[solver]] = int(seed)
    return options


def _is_size_limit(exc: BaseException) -> bool:
    return getattr(exc, "errno", None) == 10010 or "size-limited" in str(exc) or "too large" in str(exc)


def solve_model(
    model,
    solver: str,
    *,
    problem_class: str,
    time_limit: float = 60.0,
    rel_gap: float = 1e-4,
    threads: int = 1,
    seed: int | None = 0,
    load_solution: bool = True,
) -> SolverOutcome:
    """Solve ``model`` and report what the solver said; never raises for solver trouble.

    Returns status ``unsupported`` when the solver cannot take ``problem_class`` (HiGHS on
    anything quadratic), ``not_installed`` without its package, ``size_limited`` when a
    size-limited license refuses the model, ``error`` with the message for anything else.
    Variable values of the incumbent are loaded into ``model`` when one exists.
    """
    if solver not in PYOMO_SOLVERS:
        raise UnknownIdError(f"unknown solver {solver!r}; known: {', '.join(PYOMO_SOLVERS)}")
    version = solver_version(solver)
    if not supports(solver, problem_class):
        return SolverOutcome(
            "unsupported", version=version,
            message=f"{solver} cannot solve {problem_class} models ({PYOMO_SOLVERS[solver].description})",
        )
    if not is_installed(solver):
        return SolverOutcome(
            "not_installed",
            message=f"{solver} needs the Python package {PYOMO_SOLVERS[solver].package!r}; "
            f"install it (e.g. pip install 'miobench[{solver}]')",
        )
    from pyomo.contrib.solver.common.factory import SolverFactory

    interface = SolverFactory(PYOMO_SOLVERS[solver].pyomo_names[problem_class])
    start = time.perf_counter()
    log = io.StringIO()
    try:
        with _quiet_pyomo(), contextlib.redirect_stdout(log):
            results = interface.solve(
                model,
                time_limit=float(time_limit),
                rel_gap=float(rel_gap),
                threads=int(threads),
                solver_options=_solver_options(solver, seed),
                load_solutions=False,
                raise_exception_on_nonoptimal_result=False,
            )
    except Exception as exc:  # solver libraries raise many types; classify, never propagate
        seconds = time.perf_counter() - start
        name = type(exc).__name__
        if _is_size_limit(exc):
            return SolverOutcome("size_limited", seconds=seconds, version=version,
                                 message=f"{solver}: model too large for the size-limited license ({exc})")
        if name in ("IncompatibleModelError", "InvalidExpressionError"):
            return SolverOutcome("unsupported", seconds=seconds, version=version, message=f"{solver}: {exc}")
        if "license" in str(exc).lower():
            return SolverOutcome("not_installed", seconds=seconds, version=version,
                                 message=f"{solver}: no usable license ({exc})")
        return SolverOutcome("error", seconds=seconds, version=version, message=f"{solver} failed: {name}: {exc}")
    seconds = time.perf_counter() - start
    status = _TERMINATION_TO_STATUS.get(results.termination_condition.name, "error")
    has_solution = results.solution_status.name in ("feasible", "optimal") or (
        results.incumbent_objective is not None and results.solution_status.name != "noSolution"
    )
    message = "" if status in ("optimal", "time_limit") else f"termination: {results.termination_condition.name}"
    if has_solution and load_solution:
        try:
            results.solution_loader.load_vars()
        except Exception as exc:
            has_solution = False
            status = "error" if status == "optimal" else status
            message = f"could not load the solution: {exc}"
    bound = results.objective_bound
    nodes = next((float(results.extra_info[k]) for k in _NODE_KEYS if k in results.extra_info), None)
    return SolverOutcome(
        status=status,
        has_solution=has_solution,
        objective=results.incumbent_objective,
        bound=None if bound is None or (isinstance(bound, float) and math.isnan(bound)) else float(bound),
        nodes=nodes,
        seconds=seconds,
        version=version,
        message=message,
    )


@contextlib.contextmanager
def _quiet_pyomo():
    """Silence Pyomo/Gurobi chatter (license banners, 'release_license' warnings)."""
    loggers = [logging.getLogger(name) for name in ("pyomo.contrib.solver", "pyomo.solvers", "pyomo.core")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="ModelChangeDetector does not detect changes to suffixes")
            yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)
