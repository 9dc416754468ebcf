"""The ``pgmpy_hillclimb`` heuristic (reference_impl/solvers/adapters/pgmpy_hillclimb.py) on tiny
instances of ``bayesnet.topological_order`` and ``bayesnet.cycle_constraints``.

What is proved: its solution is feasible for both formulations (acyclic arcs, positions when the
formulation has them, the box) and never better than the optimum over every DAG (enumeration);
the custom pgmpy score is exactly the formulation's objective (its value equals the evaluator's);
the DAG pgmpy returns is a local optimum of that objective under single-arc add/remove/reverse;
the box M is respected; bad options give one clear error, options pgmpy rejects an ``error``; a
missing package gives ``not_installed``.
"""
from __future__ import annotations

import importlib.metadata
import itertools

import numpy as np
import pytest

from reference_impl import api
from reference_impl.errors import InputError
from reference_impl.formulations.bayesnet import best_dag_bruteforce, node_fit, topological_sort
from reference_impl.instances import resolve_instance
from reference_impl.registry import get_formulation
from reference_impl.solvers.adapters.pgmpy_hillclimb import SOLVER
from reference_impl.solvers.registry import capable_solvers

pytest.importorskip("pgmpy")
FIDS = ("bayesnet.topological_order", "bayesnet.cycle_constraints")


def _sem(seed, n=40, d=4):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    for k in range(1, d):
        X[:, k] += 1.2 * X[:, k - 1]
    return X


def _score(X, arcs, lambda0):
    return sum(node_fit(X, k, np.flatnonzero(arcs[:, k]))[1] for k in range(X.shape[1])) + lambda0 * arcs.sum()


def test_registered_and_versioned():
    for fid in FIDS:
        assert "pgmpy_hillclimb" in capable_solvers(get_formulation(fid))
    assert SOLVER.version() == f"pgmpy {importlib.metadata.version('pgmpy')} HillClimbSearch"


@pytest.mark.parametrize("fid", FIDS)
@pytest.mark.parametrize("instance,lambda0", [("bn-tiny-d3-n30", 2.0), ("bn-tiny-d3-n30", 0.0),
                                              ("bn-small-d4-n50", 4.0)])
def test_catalogue_feasible_never_below_enumeration(fid, instance, lambda0):
    out: dict = {}
    record = api.solve(fid, instance, solver="pgmpy_hillclimb", lambda0=lambda0, solution_out=out)
    assert record.status == "feasible" and record.bound is None and record.max_violation == 0.0, record.message
    optimum = best_dag_bruteforce(resolve_instance(instance).X, lambda0)[0]
    assert record.objective >= optimum * (1 - 1e-9)
    # pgmpy's score of the DAG, negated, is the evaluator's objective: the search optimised (18a)
    assert record.solver_objective == pytest.approx(record.objective, rel=1e-9)
    assert record.extra["peer_objective"] == pytest.approx(-record.objective, rel=1e-9)
    assert ("order" in out) == (fid == "bayesnet.topological_order")


@pytest.mark.parametrize("seed,lambda0", [(0, 1.0), (1, 3.0), (2, 0.5)])
def test_local_optimum_of_the_formulations_objective(seed, lambda0):
    X = _sem(seed)
    out: dict = {}
    record = api.solve("bayesnet.cycle_constraints", {"X": X}, solver="pgmpy_hillclimb", lambda0=lambda0, M=1e6,
                       solution_out=out)
    assert record.status == "feasible", record.message
    assert record.objective >= best_dag_bruteforce(X, lambda0)[0] * (1 - 1e-9)
    arcs = out["z"] > 0.5
    value = _score(X, arcs, lambda0)
    assert value == pytest.approx(record.objective, rel=1e-9)
    for j, k in itertools.permutations(range(X.shape[1]), 2):   # every single-arc move, scored independently
        moves = []
        if arcs[j, k]:
            removed = arcs.copy()
            removed[j, k] = False
            reversed_ = removed.copy()
            reversed_[k, j] = True
            moves += [removed, reversed_]
        elif not arcs[k, j]:
            added = arcs.copy()
            added[j, k] = True
            moves.append(added)
        for move in moves:
            if not topological_sort(move)[1]:
                assert _score(X, move, lambda0) >= value - 1e-4 - 1e-9 * abs(value)  # pgmpy's epsilon


def test_box_is_respected():
    X = _sem(3)
    out: dict = {}
    record = api.solve("bayesnet.topological_order", {"X": X}, solver="pgmpy_hillclimb", lambda0=1.0, M=0.5,
                       solution_out=out)
    assert record.status == "feasible" and record.max_violation == 0.0, record.message
    assert np.max(np.abs(out["B"])) <= 0.5 + 1e-12


def test_bad_options():
    with pytest.raises(InputError, match="pgmpy_hillclimb has no option"):
        api.solve("bayesnet.cycle_constraints", "bn-tiny-d3-n30", solver="pgmpy_hillclimb", lambda0=2.0,
                  solver_options={"scoring_method": "bic-g"})
    record = api.solve("bayesnet.cycle_constraints", "bn-tiny-d3-n30", solver="pgmpy_hillclimb", lambda0=2.0,
                       solver_options={"epsilon": "small"})
    assert record.status == "error" and record.message.startswith("pgmpy_hillclimb: ") and record.objective is None


def test_missing_package_is_not_installed(monkeypatch):
    monkeypatch.setattr(SOLVER, "installed", lambda: False)
    record = api.solve("bayesnet.topological_order", "bn-tiny-d3-n30", solver="pgmpy_hillclimb", lambda0=2.0)
    assert record.status == "not_installed" and "pgmpy" in record.message
