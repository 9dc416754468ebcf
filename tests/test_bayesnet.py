"""Bayesian network structure learning, tutorial (16)–(18) (``bayesnet.topological_order``).

What is proved here, independently of every solver:
(a) on tiny instances (d = 3 and 4) the solver optimum equals the optimum found by enumerating
    every DAG (least-squares fit of each node on its parents), for several λ0, with and without
    perspective terms; the enumeration itself visits exactly the 25 / 543 labelled DAGs;
(b) two solvers (SCIP, Gurobi) and the two model variants (big-M, perspective) agree;
(c) the evaluator flags a cyclic arc set, self-loops, coefficients off the arc set, a box
    exceeded, fractional indicators, violated ordering constraints, and a wrong objective is
    refuted by the recomputation from X and B;
(d) bad input ends as one clear InputError (exit 2 on the command line);
(e) the generator is byte-deterministic and plants what it says;
(f) with a strong signal the planted skeleton is recovered.
"""
from __future__ import annotations

import hashlib

import numpy as np
import pytest

from conftest import has_gurobi
from reference_impl import solve
from reference_impl.api import _fill_from_outcome
from reference_impl.errors import InputError
from reference_impl.formulations.bayesnet import (all_dags, best_dag_bruteforce, derive_big_m, objective_value,
                                                  topological_sort)
from reference_impl.formulations.base import FEASIBILITY_TOL
from reference_impl.instances import resolve_instance
from reference_impl.instances.generators.bayesnet import random_dag_sem
from reference_impl.instances.library import generate
from reference_impl.instances.storage import npz_bytes
from reference_impl.record import ResultRecord
from reference_impl.registry import get_formulation
from reference_impl.solvers import SolverOutcome

FID = "bayesnet.topological_order"
TINY, SMALL = "bn-tiny-d3-n30", "bn-small-d4-n50"
SOLVERS = ["scip"] + (["gurobi"] if has_gurobi() else [])
FAST = "gurobi" if has_gurobi() else "scip"


def agrees(value: float, optimum: float, rel: float = 1e-4) -> bool:
    return abs(value - optimum) <= rel * max(1.0, abs(optimum))


def arcs_of(adjacency) -> list[list[int]]:
    A = np.asarray(adjacency, dtype=bool)
    return [[int(j), int(k)] for j, k in zip(*np.nonzero(A))]


# -- the oracle itself ----------------------------------------------------------------------------
def test_enumeration_visits_every_dag():
    # labelled DAGs on 2, 3, 4 nodes: 3, 25, 543 (OEIS A003087)
    assert [sum(1 for _ in all_dags(d)) for d in (2, 3, 4)] == [3, 25, 543]
    cycle = np.zeros((3, 3), dtype=bool)
    cycle[0, 1] = cycle[1, 2] = cycle[2, 0] = True
    assert topological_sort(cycle)[1] == [0, 1, 2]
    chain = np.zeros((3, 3), dtype=bool)
    chain[2, 0] = chain[0, 1] = True
    assert topological_sort(chain) == ([2, 0, 1], [])


def test_bruteforce_scores_by_least_squares():
    X = resolve_instance(TINY).X
    value, A, B = best_dag_bruteforce(X, 2.0)
    assert value == pytest.approx(objective_value(X, B, int(A.sum()), 2.0), rel=1e-12)
    assert np.all(B[~A] == 0)
    # a larger penalty never adds arcs; λ0 = 0 uses a complete DAG (d(d−1)/2 arcs)
    assert best_dag_bruteforce(X, 1e6)[1].sum() == 0
    assert best_dag_bruteforce(X, 0.0)[1].sum() == 3


# -- (a) brute force = solver optimum -----------------------------------------------------------
@pytest.mark.parametrize("instance_id", [TINY, SMALL])
@pytest.mark.parametrize("lambda0", [0.0, 2.0, 20.0])
def test_solver_optimum_equals_enumerated_optimum(instance_id, lambda0):
    instance = resolve_instance(instance_id)
    optimum, adjacency, _ = best_dag_bruteforce(instance.X, lambda0)
    runs = [(s, False) for s in SOLVERS] + [(FAST, True)]
    for solver, perspective in runs:
        record = solve(FID, instance, solver=solver, time_limit=60, lambda0=lambda0, perspective=perspective)
        assert record.status == "optimal", (solver, perspective, record.message)
        assert record.extra["M_certified"], record.extra
        assert agrees(record.objective, optimum), (solver, perspective, record.objective, optimum)
        if lambda0 > 0:  # with λ0 = 0 an arc of weight ~0 is free: the arc set is not unique
            assert record.extra["arcs"] == arcs_of(adjacency), (solver, perspective)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_small_dags_match_enumeration(seed):
    data = random_dag_sem(4, 15, edge_prob=0.5, w_min=0.3, w_max=1.0, seed=seed)
    arrays = {"X": data["X"]}  # no y: the formulation ignores it
    optimum, adjacency, _ = best_dag_bruteforce(data["X"], 1.0)
    record = solve(FID, arrays, solver=FAST, time_limit=60, lambda0=1.0)
    assert record.status == "optimal", record.message
    assert agrees(record.objective, optimum), (record.objective, optimum)
    assert record.extra["arcs"] == arcs_of(adjacency)


# -- (b) two solvers, two variants agree -----------------------------------------------------------
@pytest.mark.skipif(not has_gurobi(), reason="gurobipy not installed")
@pytest.mark.parametrize("perspective", [False, True])
def test_scip_and_gurobi_agree(perspective):
    records = [solve(FID, SMALL, solver=s, time_limit=60, lambda0=4.0, perspective=perspective) for s in ("scip", "gurobi")]
    assert all(r.status == "optimal" for r in records), [r.message for r in records]
    assert agrees(records[0].objective, records[1].objective)
    assert records[0].extra["arcs"] == records[1].extra["arcs"]


def test_perspective_and_big_m_agree_and_declare_their_class():
    formulation = get_formulation(FID)
    instance = resolve_instance(TINY)
    records = [solve(FID, instance, solver="scip", time_limit=60, lambda0=5.0, perspective=p) for p in (False, True)]
    assert all(r.status == "optimal" for r in records)
    assert agrees(records[0].objective, records[1].objective)
    assert formulation.problem_class_for(formulation.validate(instance, {"lambda0": 1.0})) == "MIQP"
    assert formulation.problem_class_for(formulation.validate(instance, {"lambda0": 1.0, "perspective": True})) == "MISOCP"


# -- (c) the evaluator ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny_solution():
    """The enumerated optimum of TINY at λ0 = 2 as a solution dict (B, z, positions)."""
    instance = resolve_instance(TINY)
    value, A, B = best_dag_bruteforce(instance.X, 2.0)
    order, stuck = topological_sort(A)
    assert not stuck and A.sum() >= 2
    positions = np.empty(3)
    positions[order] = np.arange(1, 4)
    return instance, value, {"B": B, "z": A.astype(float), "order": positions}


def test_evaluator_accepts_the_optimum(tiny_solution):
    instance, value, solution = tiny_solution
    formulation = get_formulation(FID)
    params = formulation.validate(instance, {"lambda0": 2.0})
    evaluation = formulation.evaluate(instance, params, solution)
    assert evaluation.feasible, evaluation.violations
    assert evaluation.objective == pytest.approx(value, rel=1e-12)
    assert evaluation.info["topological_order"] is not None


def test_evaluator_flags_a_cyclic_arc_set(tiny_solution):
    instance, _, solution = tiny_solution
    formulation = get_formulation(FID)
    params = formulation.validate(instance, {"lambda0": 2.0})
    z = np.zeros((3, 3))
    z[0, 1] = z[1, 2] = z[2, 0] = 1.0
    B = 0.1 * z
    # without positions: the topological sort alone finds the cycle
    evaluation = formulation.evaluate(instance, params, {"B": B, "z": z})
    assert not evaluation.feasible and evaluation.violations["acyclicity"] == 3.0
    assert evaluation.info["topological_order"] is None
    # with positions: (18d) is violated on some arc of the cycle as well
    evaluation = formulation.evaluate(instance, params, {"B": B, "z": z, "order": np.array([1.0, 2.0, 3.0])})
    assert evaluation.violations["acyclicity"] == 3.0 and evaluation.violations["ordering"] >= 1.0
    # a 2-cycle among otherwise fine arcs
    z2 = solution["z"].copy()
    j, k = np.argwhere(z2 > 0.5)[0]
    z2[k, j] = 1.0
    evaluation = formulation.evaluate(instance, params, {"B": solution["B"], "z": z2})
    assert evaluation.violations["acyclicity"] >= 2.0


def test_evaluator_flags_each_constraint(tiny_solution):
    instance, _, solution = tiny_solution
    formulation = get_formulation(FID)
    params = formulation.validate(instance, {"lambda0": 2.0})
    M = params["M"]
    j, k = np.argwhere(solution["z"] < 0.5)[1]  # an off-diagonal non-arc (index 0 is the diagonal (0, 0))
    assert j != k
    cases = {}
    B = solution["B"].copy()
    B[j, k] = 0.3
    cases["support_link"] = {**solution, "B": B}
    B = solution["B"].copy()
    B[0, 0] = 0.3
    cases["self_loop"] = {**solution, "B": B}
    z = solution["z"].copy()
    z[1, 1] = 1.0
    cases["self_loop "] = {**solution, "z": z}
    B = solution["B"].copy()
    a, b = np.argwhere(solution["z"] > 0.5)[0]
    B[a, b] = 2 * M
    cases["big_m"] = {**solution, "B": B}
    z = solution["z"].copy()
    z[a, b] = 0.6
    cases["integrality"] = {**solution, "z": z}
    order = solution["order"].copy()
    order[a], order[b] = order[b], order[a]  # the arc a → b now goes backwards in the positions
    cases["ordering"] = {**solution, "order": order}
    cases["order_range"] = {**solution, "order": solution["order"] + 5}
    for name, bad in cases.items():
        evaluation = formulation.evaluate(instance, params, bad)
        assert evaluation.violations[name.strip()] > FEASIBILITY_TOL and not evaluation.feasible, name
    with pytest.raises(InputError, match="shape"):
        formulation.evaluate(instance, params, {"B": np.zeros(3), "z": solution["z"]})
    assert formulation.evaluate(instance, params, {**solution, "B": np.full((3, 3), np.nan)}).violations


def test_wrong_objective_is_refuted(tiny_solution):
    """The objective is recomputed from X and B: a feasible but worse point whose solver claims
    the optimum's value is refuted, and the recomputed objective is the independent one."""
    instance, value, solution = tiny_solution
    formulation = get_formulation(FID)
    params = formulation.validate(instance, {"lambda0": 2.0})
    worse = {**solution, "B": solution["B"] * 0.5}
    evaluation = formulation.evaluate(instance, params, worse)
    assert evaluation.feasible
    residual = instance.X - instance.X @ worse["B"]
    assert evaluation.objective == pytest.approx(float(np.sum(residual ** 2)) + 2.0 * solution["z"].sum(), rel=1e-12)
    assert evaluation.objective > value + 1.0
    record = ResultRecord(formulation=FID, solver="scip", instance=instance.id, rel_gap=1e-4)
    _fill_from_outcome(record, formulation, instance, params,
                       SolverOutcome("optimal", has_solution=True, objective=value, bound=value), worse)
    assert record.status == "error" and "recomputed gap" in record.message
    cyclic = {**solution, "z": np.ones((3, 3)) - np.eye(3)}
    record = ResultRecord(formulation=FID, solver="scip", instance=instance.id, rel_gap=1e-4)
    _fill_from_outcome(record, formulation, instance, params,
                       SolverOutcome("optimal", has_solution=True, objective=value, bound=value), cyclic)
    assert record.status == "error" and "acyclicity" in record.message


# -- (d) bad input --------------------------------------------------------------------------------
@pytest.mark.parametrize(("params", "message"), [
    ({"lambda0": -1.0}, "lambda0 must be >= 0"),
    ({"lambda0": float("nan")}, "lambda0 is NaN"),
    ({}, "needs the arc penalty lambda0"),
    ({"lambda0": "2"}, "lambda0 must be a number"),
    ({"lambda0": 1.0, "M": -3.0}, "M must be a positive"),
    ({"lambda0": 1.0, "M": 1e15}, "too large"),
    ({"lambda0": 1.0, "perspective": "yes"}, "perspective must be true or false"),
    ({"lambda0": 1.0, "k": 2}, "no hyperparameter"),
])
def test_bad_hyperparameters(params, message):
    with pytest.raises(InputError, match=message):
        get_formulation(FID).validate(resolve_instance(TINY), params)


def test_bad_instances():
    X = resolve_instance(TINY).X
    bad = {
        "at least two variables": {"X": X[:, :1]},
        "NaN": {"X": np.where(np.arange(3) == 1, np.nan, X)},
        "2-D": {"X": X[:, 0]},
        "must hold the data matrix": {"y": X[:, 0]},
    }
    for match, arrays in bad.items():
        with pytest.raises(InputError, match=match):
            solve(FID, arrays, solver="scip", lambda0=1.0)


def test_cli_bad_input_exits_2(capsys):
    from reference_impl.cli import main

    assert main(["solve", FID, "--instance", TINY, "--param", "lambda0=-1"]) == 2
    err = capsys.readouterr().err
    assert "lambda0 must be >= 0" in err and "Traceback" not in err


def test_big_m_is_certified_and_a_given_m_is_reported():
    X = resolve_instance(SMALL).X
    M, source = derive_big_m(X, 2.0)
    assert source == "derived"
    _, _, B = best_dag_bruteforce(X, 2.0)
    assert np.max(np.abs(B)) < M  # the certified box holds the optimum's coefficients
    record = solve(FID, SMALL, solver=FAST, time_limit=60, lambda0=2.0, M=0.5)
    assert record.status == "optimal" and record.extra["m_binding"] and not record.extra["M_certified"]
    assert "big-M bound the solution" in record.message


# -- (e) generator -------------------------------------------------------------------------------
def _digest(arrays) -> str:
    return hashlib.sha256(npz_bytes(arrays)).hexdigest()


def test_generator_is_byte_deterministic():
    assert _digest(random_dag_sem(5, 40, seed=4)) == _digest(random_dag_sem(5, 40, seed=4))
    assert _digest(random_dag_sem(5, 40, seed=4)) != _digest(random_dag_sem(5, 40, seed=5))
    for instance_id in (TINY, SMALL, "bn-medium-d8-n200"):
        assert generate(instance_id).sha256 == generate(instance_id).sha256


def test_generator_plants_what_it_says():
    data = random_dag_sem(6, 300, edge_prob=0.5, seed=9)
    B, order = data["B_true"], data["order_true"]
    assert B.shape == (6, 6) and np.all(np.diag(B) == 0)
    assert sorted(order.tolist()) == list(range(1, 7))
    for j, k in zip(*np.nonzero(B)):  # every arc goes forward in the planted order
        assert order[j] < order[k] and 0.5 <= abs(B[j, k]) <= 2.0
    assert not topological_sort(B != 0)[1]
    residual = data["X"] - data["X"] @ B  # the noise, N(0, 1) per entry
    assert abs(float(residual.std()) - 1.0) < 0.1
    assert data["noise"].shape == (1,) and data["y"].shape == (300,)
    assert all(np.asarray(a).ndim >= 1 for a in data.values())
    with pytest.raises(ValueError):
        random_dag_sem(1, 10)
    with pytest.raises(ValueError):
        random_dag_sem(3, 10, edge_prob=1.5)


# -- (f) recovery ------------------------------------------------------------------------------
def test_strong_signal_recovers_the_planted_skeleton():
    data = random_dag_sem(5, 400, edge_prob=0.5, w_min=1.0, w_max=2.0, noise=1.0, seed=21)
    planted = data["B_true"] != 0
    assert planted.sum() >= 3
    lambda0 = 2.0 * np.log(400)  # a BIC-like penalty for unit noise variance
    record = solve(FID, {"X": data["X"]}, solver=FAST, time_limit=60, lambda0=lambda0)
    assert record.status == "optimal", record.message
    found = np.zeros((5, 5), dtype=bool)
    for j, k in record.extra["arcs"]:
        found[j, k] = True
    skeleton = planted | planted.T
    found_skeleton = found | found.T
    # loose: at most one skeleton edge missed or added
    assert int(np.sum(skeleton != found_skeleton)) // 2 <= 1, (record.extra["arcs"], arcs_of(planted))
