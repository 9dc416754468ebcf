"""``cycle_cuts``: ``bayesnet.cycle_constraints`` (tutorial (16)+(17)) by constraint generation.

The master (:meth:`~reference_impl.formulations.bayesnet_cycles.CycleConstraints.master`: arcs,
big-M links, the l0-penalised least-squares objective, the 2-cycle inequalities) is solved by a
Pyomo subsolver (option ``subsolver``: ``scip``, the default, or ``gurobi``); separation finds
the shortest directed cycle through each node of the master's arc set (breadth-first search)
and adds one cycle inequality (17) per cycle found; the loop is the shared driver
:func:`reference_impl.solvers.decomposition.constraint_generation`. A cyclic master solution
is repaired into a DAG (drop the weakest arc of each cycle, refit the parents by least
squares: :func:`~reference_impl.formulations.bayesnet_cycles.repair_to_dag`) so that the
loop has an incumbent at every iteration, and each next master is warm-started from it.

Options (``solver_options``): ``subsolver`` (scip | gurobi), ``max_iterations`` (master
solves, default :data:`DEFAULT_MAX_ITERATIONS`; reaching it ends the run with status
``iteration_limit``, the best master bound and the best repaired DAG) and
``root_relaxation`` (default false: after the loop, also solve the continuous relaxation of the
full (16)+(17) by fractional cycle separation, :func:`root_relaxation`; ``extra.root_bound``,
which ``api.solve`` records as the run's root bound when asked for one). The record's
``extra`` holds ``iterations``, ``cuts``, ``first_master_bound`` (the bound of the master with
2-cycle inequalities only), ``bounds`` and ``master_seconds``.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...errors import InputError
from ..native import NativeSolver
from ..spec import is_installed, solver_version

#: the Pyomo solvers that can solve the MIQP / MISOCP masters (option ``subsolver``)
SUBSOLVERS = ("scip", "gurobi")
DEFAULT_SUBSOLVER = "scip"
DEFAULT_MAX_ITERATIONS = 1000
#: relaxed masters the root relaxation may solve (each adds at least one violated cycle inequality)
ROOT_MAX_ITERATIONS = 10_000


def checked_options(options: Mapping[str, Any] | None) -> dict[str, Any]:
    """``subsolver`` and ``max_iterations`` with defaults filled in; one :class:`InputError`
    for an unknown option or a bad value."""
    from ...formulations.base import as_int

    options = dict(options or {})
    SOLVER.check_options(options)
    subsolver = options.get("subsolver", DEFAULT_SUBSOLVER)
    if subsolver not in SUBSOLVERS:
        raise InputError(f"cycle_cuts option subsolver must be one of {', '.join(SUBSOLVERS)}; got {subsolver!r}")
    try:
        max_iterations = as_int({"max_iterations": options.get("max_iterations", DEFAULT_MAX_ITERATIONS)},
                                "max_iterations", minimum=1)
    except InputError as exc:  # as_int speaks of a "hyperparameter": this is a solver option
        raise InputError(f"cycle_cuts option {str(exc).removeprefix('hyperparameter ')}") from None
    if max_iterations is None:
        raise InputError(f"cycle_cuts option max_iterations must be a positive integer (default {DEFAULT_MAX_ITERATIONS})")
    root = options.get("root_relaxation", False)
    if not isinstance(root, bool):
        raise InputError(f"cycle_cuts option root_relaxation must be true or false; got {root!r}")
    return {"subsolver": subsolver, "max_iterations": max_iterations, "root_relaxation": root}


class CycleCuts(NativeSolver):
    name = "cycle_cuts"
    formulations = ("bayesnet.cycle_constraints",)
    description = "cycle inequalities (17) added on violation to an MIQP master (subsolver scip or gurobi)"
    options = ("subsolver", "max_iterations", "root_relaxation")

    def installed(self) -> bool:
        return any(is_installed(s) for s in SUBSOLVERS)

    def version(self) -> str:
        return f"cycle cuts over {solver_version('scip') or solver_version('gurobi')}"

    def check_solve_options(self, options: Mapping[str, Any]) -> None:
        checked_options(options)

    def run(self, formulation, instance, params, *, time_limit=60.0, rel_gap=1e-4, threads=1, seed=0,
            solver_options=None, verbose=False):
        import time

        import numpy as np

        from ...formulations.bayesnet import check_data, objective_value
        from ...formulations.bayesnet_cycles import cycle_inequality, repair_to_dag, shortest_cycles
        from ..decomposition import constraint_generation

        options = checked_options(solver_options)
        X = check_data(instance)
        lambda0, M = float(params["lambda0"]), float(params["M"])
        built = time.perf_counter()
        master = formulation.master(instance, params)
        build_seconds = time.perf_counter() - built

        def extract(model):
            return formulation.extract(model, instance, params)

        def arcs_of(solution):
            arcs = np.nan_to_num(solution["z"], nan=0.0) > 0.5
            np.fill_diagonal(arcs, False)
            return arcs

        def separate(solution):
            return [cycle_inequality(master, cycle) for cycle in shortest_cycles(arcs_of(solution))]

        def objective(solution):
            return objective_value(X, solution["B"], int(arcs_of(solution).sum()), lambda0)

        def repair(solution):
            return repair_to_dag(X, np.nan_to_num(solution["B"], nan=0.0), arcs_of(solution), lambda0, M)

        def load_start(model, incumbent):
            for j, k in model.arcs:
                model.z[j, k].set_value(float(round(incumbent["z"][j, k])))
                model.B[j, k].set_value(float(incumbent["B"][j, k]))

        outcome, solution = constraint_generation(
            master, separate, solver=options["subsolver"], problem_class=formulation.problem_class_for(params),
            extract=extract, objective=objective, repair=repair, load_start=load_start, time_limit=time_limit,
            rel_gap=rel_gap, threads=threads, seed=seed, max_iterations=options["max_iterations"],
            cut_list="cycle_cuts", verbose=verbose)
        outcome.extra.update({"subsolver": options["subsolver"], "build_seconds": build_seconds})
        if options["root_relaxation"]:  # after the loop, outside its time (as api.solve's root relaxation)
            outcome.extra.update(root_relaxation(formulation, instance, params, subsolver=options["subsolver"],
                                                 time_limit=time_limit, threads=threads, seed=seed))
        return outcome, solution


def root_relaxation(formulation, instance, params, *, subsolver: str = DEFAULT_SUBSOLVER, time_limit: float = 60.0,
                    threads: int = 1, seed: int = 0) -> dict[str, Any]:
    """The continuous relaxation of the full formulation (16)+(17) — every cycle inequality,
    z ∈ [0, 1] — by the same driver: the relaxed master, exact fractional separation
    (:func:`~reference_impl.formulations.bayesnet_cycles.lightest_cycles`: a cycle's inequality
    is violated when Σ_C (1 − z) < 1), repeated until no inequality is violated. Returns
    ``root_bound`` (valid at any stop; the relaxation's value when ``root_complete``),
    ``root_seconds``, ``root_cuts``, ``root_iterations`` and ``root_status``."""
    import pyomo.environ as pyo

    from ...formulations.bayesnet_cycles import cycle_inequality, lightest_cycles
    from ..decomposition import constraint_generation

    relaxed = formulation.master(instance, params)
    pyo.TransformationFactory("core.relax_integer_vars").apply_to(relaxed)
    outcome, _ = constraint_generation(
        relaxed, lambda solution: [cycle_inequality(relaxed, c) for c in lightest_cycles(solution["z"])],
        solver=subsolver, problem_class=formulation.problem_class_for(params),
        extract=lambda model: formulation.extract(model, instance, params), time_limit=time_limit, rel_gap=1e-6,
        threads=threads, seed=seed, max_iterations=ROOT_MAX_ITERATIONS, cut_list="cycle_cuts", bound_from_objective=True)
    return {"root_bound": outcome.bound, "root_seconds": outcome.seconds, "root_cuts": outcome.extra["cuts"],
            "root_iterations": outcome.extra["iterations"], "root_status": outcome.status,
            "root_complete": outcome.status == "optimal"}


#: the adapter the registry discovers (solvers/adapters/__init__.py)
SOLVER = CycleCuts()
