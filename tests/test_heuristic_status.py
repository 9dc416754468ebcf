"""A heuristic solver's run (no bound) and ``api.solve``'s ``solution_out``.

A heuristic adapter (a peer such as abess or FasterRisk) reports ``feasible``: the evaluator
re-checks its solution like any other solver's; it is never counted as solved, and a solution
that violates a constraint turns the run into an ``error`` with the reason."""
from __future__ import annotations

import numpy as np
import pytest

from reference_impl import api
from reference_impl.errors import InputError
from reference_impl.instances import resolve_instance
from reference_impl.record import SOLVED, STATUSES
from reference_impl.solvers.native import NativeSolver
from reference_impl.solvers.outcome import SolverOutcome
from reference_impl.solvers.registry import register_solver, unregister_solver

INSTANCE = "synreg-n30-p8-k3"


class _FirstK(NativeSolver):
    """A deliberately naive heuristic: least squares on the first k features (or, when
    ``break_it`` is set, on k + 1 features, which breaks the cardinality constraint)."""

    name = "first_k"
    formulations = ("sparse_regression.best_subset",)
    description = "test heuristic"
    options = ("break_it",)

    def run(self, formulation, instance, params, *, solver_options=None, **_):
        X, y = instance.arrays["X"], instance.arrays["y"]
        size = params["k"] + (1 if (solver_options or {}).get("break_it") else 0)
        theta = np.zeros(X.shape[1])
        theta[:size] = np.linalg.lstsq(X[:, :size], y, rcond=None)[0]
        z = (np.abs(theta) > 0).astype(float)
        objective = float(np.sum((y - X @ theta) ** 2))
        return SolverOutcome("feasible", has_solution=True, objective=objective, seconds=0.0), {"theta": theta, "z": z}


@pytest.fixture
def heuristic():
    solver = register_solver(_FirstK())
    yield solver
    unregister_solver(solver)


def test_feasible_is_a_status_and_never_solved():
    assert "feasible" in STATUSES and "feasible" not in SOLVED


def test_a_heuristic_solution_is_re_evaluated_and_kept_unsolved(heuristic):
    out: dict = {}
    record = api.solve("sparse_regression.best_subset", INSTANCE, solver="first_k", time_limit=10, k=3,
                       solution_out=out)
    assert record.status == "feasible" and record.bound is None and record.gap == float("inf")
    inst = resolve_instance(INSTANCE)
    X, y = inst.arrays["X"], inst.arrays["y"]
    assert record.objective == pytest.approx(float(np.sum((y - X @ out["theta"]) ** 2)), rel=1e-6)
    exact = api.solve("sparse_regression.best_subset", INSTANCE, solver="scip", time_limit=60, k=3)
    assert exact.status == "optimal" and record.objective >= exact.objective - 1e-6 * abs(exact.objective)


def test_a_heuristic_solution_that_breaks_a_constraint_is_an_error(heuristic):
    record = api.solve("sparse_regression.best_subset", INSTANCE, solver="first_k", time_limit=10, k=3,
                       solver_options={"break_it": True})
    assert record.status == "error" and "violates" in record.message and record.max_violation > 0


def test_solution_out_receives_what_the_evaluator_checked():
    out: dict = {}
    record = api.solve("sparse_regression.best_subset", INSTANCE, solver="scip", time_limit=60, k=3, solution_out=out)
    assert record.status == "optimal" and set(out) >= {"theta", "z"}
    assert int(np.round(out["z"]).sum()) <= 3
    with pytest.raises(InputError, match="solution_out must be a dict"):
        api.solve("sparse_regression.best_subset", INSTANCE, solver="scip", time_limit=60, k=3, solution_out=[])
