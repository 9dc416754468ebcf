"""Bayesian network structure by cycle inequalities, tutorial (16)+(17) (``bayesnet.cycle_constraints``),
and its constraint-generation solver ``cycle_cuts``.

What is proved here, independently of every solver:
(a) the cycle inequalities are exactly acyclicity: over every arc set on 3 and 4 nodes (64 and
    4096), an arc set satisfies every enumerated inequality iff a topological sort finds it
    acyclic (25 / 543 of them); the enumeration lists each directed cycle once
    (Σ C(d,l)(l−1)! of them); the BFS separation returns nothing exactly on acyclic arc sets
    and otherwise, for every node on a cycle, a shortest cycle through it, each violated by 1;
(b) the optimum of the loop (``cycle_cuts``) and of the full model (every cycle written out,
    Pyomo solvers) equals the optimum found by enumerating every DAG (d = 3, 4; several λ0,
    perspective on and off) and ``bayesnet.topological_order``'s optimum, with SCIP (and Gurobi
    where installed: two solvers agree);
(c) the loop reports its iterations, cuts and monotone master bounds; with max_iterations = 1
    on instances that need cuts it ends with status iteration_limit, a bound at most the
    optimum and a repaired feasible incumbent no better than it — never a false "optimal";
    the fractional separation is exact (random fractional points, every cycle enumerated) and
    the root relaxation it computes equals that of the full model (every cycle written out);
(d) the master alone is a relaxation: its optimum can be cyclic and the evaluator flags it;
    the evaluator flags cyclic arc sets, support links, the box, fractional indicators;
(e) bad hyperparameters, solver options and instances end as one InputError (exit 2).
"""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from conftest import has_gurobi
from reference_impl import solve
from reference_impl.api import _fill_from_outcome
from reference_impl.errors import InputError
from reference_impl.formulations.base import FEASIBILITY_TOL
from reference_impl.formulations.bayesnet import best_dag_bruteforce, topological_sort
from reference_impl.formulations.bayesnet_cycles import (MAX_ENUMERATED_CYCLES, all_cycles, cycle_arcs, cycle_count,
                                                         lightest_cycles, repair_to_dag, shortest_cycles)
from reference_impl.instances import resolve_instance
from reference_impl.instances.generators.bayesnet import random_dag_sem
from reference_impl.record import ResultRecord
from reference_impl.registry import get_formulation
from reference_impl.solvers import SolverOutcome
from reference_impl.solvers.pyomo_solve import solve_model
from reference_impl.solvers.relaxation import relaxation_bound

FID, ORDER = "bayesnet.cycle_constraints", "bayesnet.topological_order"
TINY, SMALL = "bn-tiny-d3-n30", "bn-small-d4-n50"
FAST = "gurobi" if has_gurobi() else "scip"
SUBSOLVERS = ["scip"] + (["gurobi"] if has_gurobi() else [])


def agrees(value: float, optimum: float, rel: float = 1e-4) -> bool:
    return abs(value - optimum) <= rel * max(1.0, abs(optimum))


def arcs_of(adjacency) -> list[list[int]]:
    return [[int(j), int(k)] for j, k in zip(*np.nonzero(np.asarray(adjacency, dtype=bool)))]


def cyclic_d3() -> dict:
    """3 variables whose first master (2-cycle inequalities only) is a directed 3-cycle: the loop
    needs cuts (found by search over seeds; asserted in test_instances_that_need_cuts)."""
    return {"X": random_dag_sem(3, 20, edge_prob=0.6, w_min=0.5, w_max=1.5, seed=7)["X"]}


def loop(instance, *, subsolver=FAST, time_limit=60, solver_options=None, **params):
    options = {"subsolver": subsolver, **(solver_options or {})}
    return solve(FID, instance, solver="cycle_cuts", time_limit=time_limit, solver_options=options, **params)


def arc_sets(d: int):
    off = [(j, k) for j in range(d) for k in range(d) if j != k]
    for bits in itertools.product((False, True), repeat=len(off)):
        A = np.zeros((d, d), dtype=bool)
        for (j, k), bit in zip(off, bits):
            A[j, k] = bit
        yield A


# -- (a) the cycle inequalities and their separation ---------------------------------------------
def test_cycle_enumeration_lists_each_directed_cycle_once():
    assert [cycle_count(d) for d in (2, 3, 4, 5, 8)] == [1, 5, 20, 84, 16064]
    for d in (2, 3, 4, 5):
        cycles = list(all_cycles(d))
        assert len(cycles) == len(set(cycles)) == cycle_count(d)
        for cycle in cycles:
            assert len(set(cycle)) == len(cycle) >= 2 and cycle[0] == min(cycle)
        # rotations name the same cycle; reversals (of length ≥ 3) are different directed cycles
        assert d == 2 or ((0, 1, 2) in cycles and (0, 2, 1) in cycles and (1, 2, 0) not in cycles)
    assert len(list(all_cycles(4, min_length=3))) == 20 - 6
    assert cycle_count(7) <= MAX_ENUMERATED_CYCLES < cycle_count(8)


@pytest.mark.parametrize("d", [3, 4])
def test_cycle_inequalities_hold_exactly_on_dags_and_separation_finds_shortest_cycles(d):
    cycles = list(all_cycles(d))
    acyclic = 0
    for A in arc_sets(d):
        on_cycles = [c for c in cycles if all(A[arc] for arc in cycle_arcs(c))]  # violated inequalities (17)
        is_dag = not topological_sort(A)[1]
        assert (not on_cycles) == is_dag
        acyclic += is_dag
        found = shortest_cycles(A)
        assert (not found) == is_dag
        for cycle in found:  # a cycle of A, violating its inequality by exactly 1
            assert sum(A[arc] for arc in cycle_arcs(cycle)) == len(cycle) == (len(cycle) - 1) + 1
        for node in {v for c in on_cycles for v in c}:
            shortest = min(len(c) for c in on_cycles if node in c)
            assert any(node in c and len(c) == shortest for c in found), (A.astype(int), node, found)
    assert acyclic == {3: 25, 4: 543}[d]


def test_fractional_separation_finds_every_violated_inequality():
    """At fractional z (the root relaxation) the inequality of C is violated iff Σ_C (1 − z) < 1:
    lightest_cycles returns nothing exactly when no enumerated inequality is violated, only
    violated ones, and for every node on a violated cycle a lightest cycle through it."""
    rng = np.random.default_rng(11)
    for _ in range(400):
        d = int(rng.integers(2, 6))
        z = rng.random((d, d)) ** 0.3
        np.fill_diagonal(z, 0.0)
        cycles = list(all_cycles(d))
        weight = {c: sum(1.0 - z[a] for a in cycle_arcs(c)) for c in cycles}
        violated = [c for c in cycles if weight[c] < 1 - 1e-5]
        found = lightest_cycles(z)
        assert (not violated) == (not found)
        assert all(weight[c] < 1 - 1e-5 for c in found)
        for node in {v for c in violated for v in c}:
            lightest = min(weight[c] for c in cycles if node in c)
            assert any(node in c and abs(weight[c] - lightest) < 1e-9 for c in found)
    A = np.zeros((3, 3))
    A[0, 1] = A[1, 2] = A[2, 0] = 1.0
    assert lightest_cycles(A) == shortest_cycles(A > 0.5) == [(0, 1, 2)]


def test_tutorial_17_as_printed_would_cut_a_dag():
    """Why the cycle form is used: the printed (17) counts every arc inside S, and the
    transitive triangle (acyclic) has |S| = 3 arcs on 3 nodes."""
    A = np.zeros((3, 3), dtype=bool)
    A[0, 1] = A[1, 2] = A[0, 2] = True
    assert not topological_sort(A)[1]
    assert int(A.sum()) > 3 - 1  # the printed subset form is violated
    assert not shortest_cycles(A) and all(sum(A[a] for a in cycle_arcs(c)) <= len(c) - 1 for c in all_cycles(3))


# -- (b) optimum = enumeration = the ordering formulation -------------------------------------------
CASES = [(TINY, 0.0), (TINY, 2.0), (TINY, 20.0), (SMALL, 0.0), (SMALL, 4.0), ("cyclic-d3", 0.5), ("cyclic-d3", 2.0)]


def _instance(name):
    return cyclic_d3() if name == "cyclic-d3" else resolve_instance(name)


def _X(instance):
    return instance["X"] if isinstance(instance, dict) else instance.X


@pytest.mark.parametrize(("name", "lambda0"), CASES)
def test_loop_and_full_model_reach_the_enumerated_optimum(name, lambda0):
    instance = _instance(name)
    optimum, adjacency, _ = best_dag_bruteforce(_X(instance), lambda0)
    records = {"loop": loop(instance, lambda0=lambda0),
               "full": solve(FID, instance, solver=FAST, time_limit=60, lambda0=lambda0)}
    for how, record in records.items():
        assert record.status == "optimal", (how, record.message)
        assert record.max_violation <= FEASIBILITY_TOL and record.extra["topological_order"] is not None
        assert agrees(record.objective, optimum), (how, record.objective, optimum)
        assert record.extra["M_certified"]
        if lambda0 > 0:  # with λ0 = 0 an arc of weight ~0 is free: the arc set is not unique
            assert record.extra["arcs"] == arcs_of(adjacency), how


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_d4_loop_matches_enumeration(seed):
    X = random_dag_sem(4, 15, edge_prob=0.5, w_min=0.3, w_max=1.0, seed=seed)["X"]
    optimum, adjacency, _ = best_dag_bruteforce(X, 1.0)
    record = loop({"X": X}, lambda0=1.0)
    assert record.status == "optimal" and agrees(record.objective, optimum), (record.message, record.objective, optimum)
    assert record.extra["arcs"] == arcs_of(adjacency)


# SMALL: five SCIP/Gurobi solves of d = 4 MIQPs, ~15 s on an idle core (SCIP ~3 s each)
@pytest.mark.parametrize("name", ["cyclic-d3", pytest.param(SMALL, marks=pytest.mark.slow)])
def test_scip_cycle_formulation_equals_ordering_formulation(name):
    """SCIP on all three: the loop (SCIP masters), the full cycle model, (18); and Gurobi's
    loop where installed (two subsolvers agree)."""
    instance, lambda0 = _instance(name), 2.0
    optimum, adjacency, _ = best_dag_bruteforce(_X(instance), lambda0)
    records = {f"loop-{s}": loop(instance, subsolver=s, lambda0=lambda0) for s in SUBSOLVERS}
    records["full-scip"] = solve(FID, instance, solver="scip", time_limit=60, lambda0=lambda0)
    records["order-scip"] = solve(ORDER, instance, solver="scip", time_limit=60, lambda0=lambda0)
    for how, record in records.items():
        assert record.status == "optimal", (how, record.message)
        assert agrees(record.objective, optimum), (how, record.objective, optimum)
        assert record.extra["arcs"] == arcs_of(adjacency), how
    assert agrees(records["loop-scip"].objective, records["order-scip"].objective)


def test_perspective_loop_agrees():
    instance = resolve_instance(SMALL)
    optimum = best_dag_bruteforce(instance.X, 4.0)[0]
    record = loop(instance, lambda0=4.0, perspective=True)
    assert record.status == "optimal" and agrees(record.objective, optimum), record.message
    formulation = get_formulation(FID)
    assert formulation.problem_class_for(formulation.validate(instance, {"lambda0": 1.0, "perspective": True})) == "MISOCP"


# -- (c) what the loop reports; the iteration limit ---------------------------------------------------
def test_instances_that_need_cuts():
    """The first master of SMALL (λ0 = 4) and of cyclic_d3 is cyclic: the loop iterates."""
    for instance, lambda0 in ((resolve_instance(SMALL), 4.0), (cyclic_d3(), 0.5)):
        record = loop(instance, lambda0=lambda0)
        optimum = best_dag_bruteforce(_X(instance), lambda0)[0]
        assert record.status == "optimal"
        assert record.extra["iterations"] >= 2 and record.extra["cuts"] >= 1
        bounds = record.extra["bounds"]
        assert len(bounds) == record.extra["iterations"] and record.extra["first_master_bound"] == bounds[0]
        assert all(later >= earlier - 1e-6 * abs(earlier) for earlier, later in zip(bounds, bounds[1:]))
        assert bounds[0] < optimum - 1e-3  # the first master is a strict relaxation here
        assert record.bound == pytest.approx(optimum, rel=1e-4) and record.extra["subsolver"] == FAST


@pytest.mark.parametrize("which", ["small", "cyclic-d3"])
def test_one_iteration_is_an_iteration_limit_with_a_valid_bound(which):
    instance, lambda0 = (resolve_instance(SMALL), 4.0) if which == "small" else (cyclic_d3(), 0.5)
    optimum = best_dag_bruteforce(_X(instance), lambda0)[0]
    record = loop(instance, lambda0=lambda0, solver_options={"max_iterations": 1})
    assert record.status == "iteration_limit", record.message
    assert record.extra["iterations"] == 1 and record.extra["cuts"] >= 1  # separation found cycles
    assert record.bound <= optimum + 1e-6 * abs(optimum)  # a valid lower bound (minimisation)
    assert record.bound == record.extra["first_master_bound"]
    # the repaired DAG: feasible, no better than the optimum, and the gap is honest
    assert record.objective is not None and record.max_violation <= FEASIBILITY_TOL
    assert record.objective >= optimum - 1e-6 * abs(optimum)
    assert record.gap > 1e-4


def test_an_acyclic_first_master_is_optimal_within_one_iteration():
    record = loop(TINY, lambda0=2.0, solver_options={"max_iterations": 1})
    assert record.status == "optimal" and record.extra["iterations"] == 1 and record.extra["cuts"] == 0


def test_root_relaxation_of_the_full_formulation_by_fractional_cuts():
    """Option root_relaxation: the continuous relaxation of (16)+(17) by fractional separation
    equals the relaxation of the full model (every cycle written out) — here it needs a cut —
    and is recorded as the run's root bound; with perspective terms it is stronger than
    (18)'s (tutorial: ordering variables give "a substantially weaker relaxation")."""
    formulation = get_formulation(FID)
    instance = resolve_instance(SMALL)
    params = formulation.validate(instance, {"lambda0": 1.0, "perspective": True})
    full_root = relaxation_bound(formulation.build(instance, params), "MISOCP").bound
    record = solve(FID, instance, solver="cycle_cuts", lambda0=1.0, perspective=True, root_relaxation=True,
                   solver_options={"subsolver": FAST, "root_relaxation": True})
    assert record.status == "optimal" and record.extra["root_complete"] and record.extra["root_cuts"] >= 1
    assert record.root_bound == pytest.approx(full_root, rel=1e-4)
    assert record.root_bound <= record.objective and record.root_gap > 0
    order = solve(ORDER, instance, solver=FAST, lambda0=1.0, perspective=True, root_relaxation=True)
    assert record.root_bound > order.root_bound + 1.0
    plain = loop(instance, lambda0=1.0, perspective=True)
    assert "root_bound" not in plain.extra  # only when asked for


# -- (d) models and the evaluator ---------------------------------------------------------------------
def test_master_and_full_model():
    import pyomo.environ as pyo

    formulation = get_formulation(FID)
    instance = resolve_instance(SMALL)
    params = formulation.validate(instance, {"lambda0": 2.0})
    master = formulation.master(instance, params)
    assert not hasattr(master, "zeta") and not hasattr(master, "ordering")
    assert len(master.two_cycles) == 6 and len(master.cycle_cuts) == 0
    full = formulation.build(instance, params)
    assert len(full.cycles) == cycle_count(4) - 6
    discrete = [v for v in full.component_data_objects(pyo.Var) if not v.is_continuous()]
    assert len(discrete) == 12  # z only: no ordering variables
    X9 = np.random.default_rng(0).standard_normal((30, 9))
    params9 = formulation.validate({"X": X9}, {"lambda0": 1.0, "M": 5.0})
    with pytest.raises(InputError, match="--solver cycle_cuts"):
        formulation.build({"X": X9}, params9)
    assert len(formulation.master({"X": X9}, params9).two_cycles) == 36


def test_master_alone_is_a_relaxation_whose_cyclic_optimum_the_evaluator_flags():
    formulation = get_formulation(FID)
    instance = cyclic_d3()
    params = formulation.validate(instance, {"lambda0": 0.5})
    master = formulation.master(instance, params)
    outcome = solve_model(master, FAST, problem_class="MIQP", time_limit=60)
    assert outcome.status == "optimal"
    solution = formulation.extract(master, instance, params)
    evaluation = formulation.evaluate(instance, params, solution)
    assert not evaluation.feasible and evaluation.violations["acyclicity"] == 3.0
    assert shortest_cycles(solution["z"] > 0.5)
    assert outcome.bound < best_dag_bruteforce(instance["X"], 0.5)[0]
    # its repair: a DAG, feasible, scored exactly as the evaluator scores it
    repaired, value = repair_to_dag(instance["X"], solution["B"], solution["z"], 0.5, params["M"])
    evaluation = formulation.evaluate(instance, params, repaired)
    assert evaluation.feasible and evaluation.objective == pytest.approx(value, rel=1e-12)
    assert value >= best_dag_bruteforce(instance["X"], 0.5)[0] - 1e-9


def test_evaluator_flags_each_constraint():
    formulation = get_formulation(FID)
    instance = resolve_instance(TINY)
    params = formulation.validate(instance, {"lambda0": 2.0})
    value, A, B = best_dag_bruteforce(instance.X, 2.0)
    good = {"B": B, "z": A.astype(float)}
    evaluation = formulation.evaluate(instance, params, good)
    assert evaluation.feasible and evaluation.objective == pytest.approx(value, rel=1e-12)
    z = np.zeros((3, 3))
    z[0, 1] = z[1, 2] = z[2, 0] = 1.0
    (j, k), (a, b) = np.argwhere(~A & ~np.eye(3, dtype=bool))[0], np.argwhere(A)[0]
    bad = {"acyclicity": {"B": 0.1 * z, "z": z}}
    Bs = B.copy()
    Bs[j, k] = 0.3
    bad["support_link"] = {"B": Bs, "z": good["z"]}
    Bm = B.copy()
    Bm[a, b] = 2 * params["M"]
    bad["big_m"] = {"B": Bm, "z": good["z"]}
    zf = good["z"].copy()
    zf[a, b] = 0.6
    bad["integrality"] = {"B": B, "z": zf}
    for name, solution in bad.items():
        evaluation = formulation.evaluate(instance, params, solution)
        assert evaluation.violations[name] > FEASIBILITY_TOL and not evaluation.feasible, name
    # an optimality claim on a cyclic arc set is refuted
    record = ResultRecord(formulation=FID, solver="cycle_cuts", instance=instance.id, rel_gap=1e-4)
    _fill_from_outcome(record, formulation, instance, params,
                       SolverOutcome("optimal", has_solution=True, objective=value, bound=value), bad["acyclicity"])
    assert record.status == "error" and "acyclicity" in record.message


# -- (e) bad input ------------------------------------------------------------------------------------
@pytest.mark.parametrize(("params", "message"), [
    ({}, "bayesnet.cycle_constraints needs the arc penalty lambda0"),
    ({"lambda0": -1.0}, "lambda0 must be >= 0"),
    ({"lambda0": 1.0, "M": 0.0}, "M must be a positive"),
    ({"lambda0": 1.0, "perspective": "yes"}, "perspective must be true or false"),
    ({"lambda0": 1.0, "max_iterations": 3}, "no hyperparameter"),
])
def test_bad_hyperparameters(params, message):
    with pytest.raises(InputError, match=message):
        get_formulation(FID).validate(resolve_instance(TINY), params)


@pytest.mark.parametrize(("options", "message"), [
    ({"subsolver": "highs"}, "subsolver must be one of scip, gurobi"),
    ({"max_iterations": 0}, "cycle_cuts option max_iterations must be >= 1"),
    ({"max_iterations": 2.5}, "cycle_cuts option max_iterations must be an integer"),
    ({"max_iterations": None}, "max_iterations must be a positive integer"),
    ({"batch_size": 4}, "cycle_cuts has no option"),
    ({"root_relaxation": "yes"}, "root_relaxation must be true or false"),
])
def test_bad_solver_options(options, message):
    with pytest.raises(InputError, match=message):
        solve(FID, TINY, solver="cycle_cuts", lambda0=1.0, solver_options=options)


def test_bad_instances_and_cli_exit_2(capsys):
    from reference_impl.cli import main

    X = resolve_instance(TINY).X
    for match, arrays in {"at least two variables": {"X": X[:, :1]}, "NaN": {"X": np.where(X > 1, np.nan, X)}}.items():
        with pytest.raises(InputError, match=match):
            solve(FID, arrays, solver="cycle_cuts", lambda0=1.0)
    assert main(["solve", FID, "--instance", TINY, "--solver", "cycle_cuts", "--param", "lambda0=1",
                 "--option", "subsolver=highs"]) == 2
    err = capsys.readouterr().err
    assert "subsolver must be one of" in err and "Traceback" not in err
