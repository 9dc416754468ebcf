"""One way to solve a Pyomo model with HiGHS, SCIP or Gurobi (Pyomo's ``contrib.solver``
interfaces: ``highs``, ``scip_direct``, ``gurobi_persistent``, ``gurobi_direct_minlp``)."""
from __future__ import annotations

import contextlib
import io
import logging
import math
import os
import time
import warnings
from collections.abc import Iterator

from ..errors import UnknownIdError
from .outcome import SolverOutcome
from .quiet import fds_to, silenced_output
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

#: Solver logs are off unless a caller asks for them (``verbose``): Pyomo captures solver
#: output through a pipe that a Python thread drains, and SCIP writes to it while holding the
#: GIL, so a long log (or a burst of warnings, which SCIP prints at every verbosity level)
#: fills the pipe and deadlocks (seen with Pyomo 6.10 / pyscipopt 6.3). SCIP therefore never
#: writes into that pipe (:class:`_ScipModel`). Each solver's log switch and seed parameter
#: are declared by its entry (:data:`~reference_impl.solvers.spec.PYOMO_SOLVERS`).


class _ScipModel:
    """A pyscipopt model that cannot write into Pyomo's output pipe.

    ``hideOutput(quiet=False)`` (which Pyomo's scip_direct calls before every optimize) is
    ignored, and ``optimize`` runs with file descriptors 1 and 2 pointed at ``log_fds`` (the
    caller's own stdout/stderr, saved before Pyomo's capture, when the log is wanted) or at
    /dev/null: SoPlex, SCIP's LP solver, writes some warnings straight to std::cout, past
    SCIP's message handler, and would otherwise fill the pipe. Everything else is forwarded."""

    def __init__(self, model, log_fds: tuple[int, int] | None) -> None:
        self._model = model
        self._log_fds = log_fds
        model.hideOutput(log_fds is None)

    def hideOutput(self, quiet: bool = True) -> None:  # noqa: N802 (pyscipopt's name)
        self._model.hideOutput(self._log_fds is None)

    def optimize(self):
        with (fds_to(*self._log_fds) if self._log_fds else silenced_output()):
            return self._model.optimize()

    def __getattr__(self, name):
        return getattr(self._model, name)


def _scip_interface(log_fds: tuple[int, int] | None):
    from pyomo.contrib.solver.solvers.scip.scip_direct import ScipDirect

    class _ScipDirect(ScipDirect):
        def _create_solver_model(self, model, config):
            scip_model, loader, has_obj = super()._create_solver_model(model, config)
            return _ScipModel(scip_model, log_fds), loader, has_obj

    return _ScipDirect()


@contextlib.contextmanager
def _own_fds(wanted: bool) -> Iterator[tuple[int, int] | None]:
    """Duplicates of this process's fds 1 and 2 (``None`` unless ``wanted``): where a
    verbose SCIP writes its log, out of reach of Pyomo's capture."""
    if not wanted:
        yield None
        return
    fds = (os.dup(1), os.dup(2))
    try:
        yield fds
    finally:
        for fd in fds:
            os.close(fd)


def _solver_options(solver: str, seed: int | None, verbose: bool = False) -> dict:
    return PYOMO_SOLVERS[solver].backend_options(seed, verbose)


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
    options: dict | None = None,
    warm_start: bool = False,
    verbose: bool = False,
) -> SolverOutcome:
    """Solve ``model`` and report what the solver said; never raises for solver trouble.

    Returns status ``unsupported`` when the solver cannot take ``problem_class`` (HiGHS on
    anything quadratic), ``not_installed`` without its package, ``size_limited`` when a
    size-limited license refuses the model, ``error`` with the message for anything else.
    Variable values of the incumbent are loaded into ``model`` when one exists. With
    ``warm_start`` the current values of the model's discrete variables are handed to the
    solver as a (partial) starting solution (SCIP and Gurobi; HiGHS ignores it).
    The solver's log is printed (on this process's stdout) only with ``verbose``; otherwise
    nothing reaches stdout or stderr.
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

    name = PYOMO_SOLVERS[solver].pyomo_names[problem_class]
    start = time.perf_counter()
    settled: list = []
    if name == "scip_direct":  # SCIP cannot take a constraint without variables (HiGHS/Gurobi can)
        settled, violated = _constant_constraints(model)
        if violated is not None:
            return SolverOutcome("infeasible", seconds=time.perf_counter() - start, version=version,
                                 message=f"constraint {violated} has no variables and is violated")
        for con in settled:
            con.deactivate()
    try:
        with _own_fds(verbose and name == "scip_direct") as log_fds:
            interface = _scip_interface(log_fds) if name == "scip_direct" else SolverFactory(name)
            return _solve(model, solver, interface, version, start, time_limit=time_limit, rel_gap=rel_gap,
                          threads=threads, seed=seed, load_solution=load_solution, options=options,
                          warm_start=warm_start, verbose=verbose)
    finally:
        for con in settled:
            con.activate()


def _constant_constraints(model) -> tuple[list, str | None]:
    """Active constraints without (unfixed) variables: those that hold, and the name of the
    first violated one (``None`` when all hold)."""
    import pyomo.environ as pyo

    holding = []
    for con in model.component_data_objects(pyo.Constraint, active=True, descend_into=True):
        if _has_free_variable(con.body):
            continue
        body = pyo.value(con.body)
        lower = None if con.lower is None else pyo.value(con.lower)
        upper = None if con.upper is None else pyo.value(con.upper)
        tol = 1e-9 * max(1.0, abs(body))
        if (lower is not None and body < lower - tol) or (upper is not None and body > upper + tol):
            return holding, con.name
        holding.append(con)
    return holding, None


def _has_free_variable(expr) -> bool:
    """Whether a Pyomo expression contains an unfixed variable (depth-first, stops at the first)."""
    from pyomo.core.expr.numvalue import native_types

    stack = [expr]
    while stack:
        node = stack.pop()
        if type(node) in native_types:
            continue
        if node.is_variable_type():
            if not node.fixed:
                return True
            continue
        if node.is_expression_type() or node.is_named_expression_type():
            stack.extend(node.args)
    return False


def _solve(model, solver, interface, version, start, *, time_limit, rel_gap, threads, seed, load_solution, options,
           warm_start, verbose) -> SolverOutcome:
    extra_config = {"warmstart_discrete_vars": True} if warm_start and PYOMO_SOLVERS[solver].warm_start else {}
    # verbose: Pyomo tees the log to sys.stdout (SCIP writes to the real fds itself, see _ScipModel)
    tee = verbose and solver != "scip"
    try:
        with _quiet_pyomo(), (contextlib.nullcontext() if verbose else contextlib.redirect_stdout(io.StringIO())):
            results = interface.solve(
                model,
                **extra_config,
                tee=tee,
                time_limit=float(time_limit),
                rel_gap=float(rel_gap),
                threads=int(threads),
                solver_options={**_solver_options(solver, seed, verbose), **(options or {})},
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
    key = PYOMO_SOLVERS[solver].node_key
    nodes = float(results.extra_info[key]) if key in results.extra_info else None
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
