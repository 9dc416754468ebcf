"""``solve``: one formulation × one instance × one solver → one :class:`ResultRecord`.

This is the single place where a solver's claims meet the formulation's evaluator
(DESIGN.md, idea 3): a run is ``optimal`` only if the evaluator confirms feasibility and the
gap recomputed from the evaluator's objective and the solver's bound is within tolerance.
"""
from __future__ import annotations

import datetime as _dt
import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from . import __version__
from .errors import InputError, MiobenchError
from .formulations.base import FEASIBILITY_TOL, Formulation
from .instances import resolve_instance
from .instances.instance import Instance
from .provenance import git_commit, machine
from .record import GAP_ABS_SLACK, GAP_SLACK, ResultRecord, claim_refuted, relative_gap  # noqa: F401 (re-exported)
from .registry import get_formulation
from .solvers import SolverOutcome, relaxation_bound
from .solvers.registry import capable_solvers as _registry_capable_solvers, solver_for



def capable_solvers(formulation: Formulation) -> list[str]:
    """Solvers that can take this formulation (Pyomo solvers by class, plus native ones), as
    the solver registry (:mod:`reference_impl.solvers.registry`) declares them."""
    return _registry_capable_solvers(formulation)


def solve(
    formulation_id: str,
    instance: Any,
    solver: str = "scip",
    time_limit: float = 60.0,
    *,
    rel_gap: float = 1e-4,
    threads: int = 1,
    seed: int = 0,
    repeat: int = 0,
    root_relaxation: bool = False,
    solver_options: dict[str, Any] | None = None,
    warm_start: dict[str, Any] | None = None,
    verbose: bool = False,
    solution_out: dict[str, Any] | None = None,
    **hyperparameters: Any,
) -> ResultRecord:
    """Solve ``formulation_id`` on ``instance`` and return the evaluated result record.

    ``instance`` is a catalogue id, an ``.npz`` path, a mapping of arrays or an
    :class:`Instance`. Hyperparameters (``k``, ``lambda0``, ``lambda2``, ``M``, ...) are keyword
    arguments. ``solver_options`` are passed to the solver (native solvers: e.g. the batch size
    and backend of ``bnb``; Pyomo solvers: solver parameters by their own names).
    ``warm_start`` maps model variable names (as in the formulation's solution, e.g. ``z``)
    to arrays of starting values; their discrete part is handed to the solver. Bad input
    raises a :class:`MiobenchError` with one clear message; solver trouble (unsupported
    class, missing package, license limits, time limit) is a status. Nothing is printed on
    stdout or stderr unless ``verbose`` asks for the solver's log (the root relaxation, when
    asked for, is always solved quietly). A dict given as ``solution_out`` receives the
    solver's solution (variable name -> array, as the evaluator saw it) when there is one.
    """
    entered = time.perf_counter()  # wall_seconds counts from here; checks and loading are prepare_seconds
    from .errors import check_run_settings

    if not isinstance(formulation_id, str):
        raise InputError(f"formulation_id must be a formulation id string (see `miobench list`); got {formulation_id!r}")
    if not isinstance(solver, str):
        raise InputError(f"solver must be a solver name string (e.g. 'scip'); got {solver!r}")
    formulation = get_formulation(formulation_id)
    adapter = solver_for(solver, formulation)  # the registry's entry; UnknownIdError for any other name
    settings = check_run_settings(time_limit=time_limit, rel_gap=rel_gap, threads=threads, seed=seed, repeat=repeat,
                                  required=True)
    time_limit, rel_gap, threads, seed, repeat = (settings[k] for k in ("time_limit", "rel_gap", "threads", "seed", "repeat"))
    if solver_options is not None and not (isinstance(solver_options, Mapping)
                                           and all(isinstance(k, str) for k in solver_options)):
        raise InputError(f"solver_options must be a mapping of option names to values; got {solver_options!r}")
    if solution_out is not None and not isinstance(solution_out, dict):
        raise InputError(f"solution_out must be a dict to receive the solution; got {type(solution_out).__name__}")
    if warm_start is not None and not (isinstance(warm_start, Mapping) and all(isinstance(k, str) for k in warm_start)):
        raise InputError(f"warm_start must be a mapping of variable names to arrays; got {type(warm_start).__name__}")
    warm_start = _checked_start(warm_start)
    for name, flag in (("root_relaxation", root_relaxation), ("verbose", verbose)):
        if not isinstance(flag, (bool, int)):
            raise InputError(f"{name} must be true or false; got {flag!r}")
    adapter.check_solve_options(solver_options or {})  # Pyomo solvers here; native ones check when they run
    inst: Instance = resolve_instance(instance)
    params = formulation.validate(inst, dict(hyperparameters))
    record = ResultRecord(
        formulation=formulation.id, solver=solver, instance=inst.id, instance_sha256=inst.sha256,
        params=dict(hyperparameters),
        repeat=repeat, time_limit=float(time_limit), rel_gap=float(rel_gap), threads=int(threads), seed=int(seed),
        git_commit=git_commit(), machine=machine(), miobench_version=__version__,
        timestamp=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    )
    record.extra["effective_params"] = params  # defaults filled in, derived values (e.g. big-M)
    solver_options = dict(solver_options or {})
    if solver_options:
        record.extra["solver_options"] = solver_options
    problem_class = formulation.problem_class_for(params)
    start = time.perf_counter()
    prepare_seconds = start - entered  # argument checks, instance loading, validation, derived big-M
    record.extra["prepare_seconds"] = prepare_seconds
    outcome, solution, model = adapter.solve(
        formulation, inst, params, problem_class=problem_class, time_limit=time_limit, rel_gap=rel_gap,
        threads=threads, seed=seed, solver_options=solver_options, verbose=bool(verbose), warm_start=warm_start,
        record=record,
    )
    _fill_from_outcome(record, formulation, inst, params, outcome, solution)
    if solution_out is not None and solution is not None:
        solution_out.update(solution)
    if root_relaxation and model is None and outcome.extra.get("root_bound") is not None:
        record.root_bound = outcome.extra["root_bound"]  # a native solver's own root bound
    elif root_relaxation and model is not None and outcome.status not in ("not_installed", "unsupported"):
        root = relaxation_bound(model, problem_class, time_limit=time_limit)
        record.root_seconds = root.seconds
        record.root_bound = root.bound
        record.extra["root_status"] = root.status
    if record.root_bound is not None and record.objective is not None:
        record.root_gap = relative_gap(record.objective, record.root_bound)
    record.wall_seconds = time.perf_counter() - entered
    return record


def _checked_start(start: Mapping[str, Any] | None) -> dict[str, np.ndarray] | None:
    """The warm start as flat float arrays; one :class:`InputError` for values that are not
    numbers or not finite (a NaN or infinite start is a mistake, never a hint to a solver)."""
    if start is None:
        return None
    checked = {}
    for name, values in start.items():
        try:
            array = np.asarray(values, dtype=float).reshape(-1)
        except (TypeError, ValueError):
            raise InputError(f"warm start {name!r} must be an array of numbers; got {values!r}") from None
        if not np.all(np.isfinite(array)):
            raise InputError(f"warm start {name!r} contains NaN or infinite values; give finite starting values")
        checked[name] = array
    return checked


def _fill_from_outcome(record: ResultRecord, formulation: Formulation, inst: Instance, params: dict,
                       outcome: SolverOutcome, solution) -> None:
    """Evaluate the solver's solution and decide the run's status (DESIGN.md, idea 3)."""
    record.solve_seconds = outcome.seconds
    record.solver_version = outcome.version
    record.solver_objective = outcome.objective
    record.bound = outcome.bound
    record.nodes = outcome.nodes
    record.message = outcome.message
    record.extra.update(outcome.extra)
    status = outcome.status
    if solution is not None:
        evaluation = formulation.evaluate(inst, params, solution)
        record.max_violation = evaluation.max_violation
        record.extra["violations"] = evaluation.violations
        record.extra.update(evaluation.info)
        if evaluation.feasible:
            record.objective = evaluation.objective
            record.gap = relative_gap(record.objective, record.bound)
            if outcome.bound is not None and _bound_crosses(formulation.sense, record.objective, outcome.bound):
                record.extra["bound_crossing"] = record.objective - outcome.bound
        if status == "optimal":
            if not evaluation.feasible:
                status = "error"
                record.message = (f"solver claimed optimality but the evaluator found a violation of "
                                  f"{evaluation.max_violation:.3g} > {FEASIBILITY_TOL:g} "
                                  f"({_worst(evaluation.violations)})")
            elif formulation.approximation and "surrogate_objective" in evaluation.info:
                surrogate_gap = relative_gap(evaluation.info["surrogate_objective"], record.bound)
                record.extra["surrogate_gap"] = surrogate_gap
                if claim_refuted(surrogate_gap, evaluation.info["surrogate_objective"], record.bound, record.rel_gap):
                    status = "error"
                    record.message = (f"solver claimed optimality but the surrogate's recomputed gap is "
                                      f"{surrogate_gap:.3g} > {record.rel_gap:g}")
            elif record.objective is not None and claim_refuted(record.gap, record.objective, record.bound,
                                                                record.rel_gap):
                status = "error"
                record.message = (f"solver claimed optimality but the recomputed gap is {record.gap:.3g} "
                                  f"> {record.rel_gap:g} (objective re-evaluated as {record.objective:.10g})")
        elif status == "feasible" and not evaluation.feasible:
            status = "error"
            record.message = (f"the heuristic's solution violates a constraint by {evaluation.max_violation:.3g} "
                              f"> {FEASIBILITY_TOL:g} ({_worst(evaluation.violations)})")
        if evaluation.info.get("warning"):
            record.message = "; ".join(m for m in (record.message, evaluation.info["warning"]) if m)
    elif status in ("optimal", "feasible"):
        claim = "optimality" if status == "optimal" else "a feasible solution"
        record.message = f"solver claimed {claim} but returned no solution"
        status = "error"
    record.status = status




def _bound_crosses(sense: str, objective: float, bound: float) -> bool:
    tol = 1e-6 * max(1.0, abs(objective))
    return bound > objective + tol if sense == "min" else bound < objective - tol


def _worst(violations: dict[str, float]) -> str:
    name = max(violations, key=lambda key: violations[key]) if violations else "?"
    return f"worst: {name}"


__all__ = ["solve", "capable_solvers", "MiobenchError"]
