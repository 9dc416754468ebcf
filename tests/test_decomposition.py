"""The shared constraint-generation driver (reference_impl/solvers/decomposition.py).

Proved on a toy whose answer is known by enumeration — a 0/1 knapsack (maximisation) whose
master has no capacity constraint; separation returns the cover inequality
Σ_{i∈S} x_i ≤ |S| − 1 of the over-full selection S (exact: an integer point is infeasible
exactly when its support is a cover, and then its own cover inequality cuts it off):
(a) the loop reaches the enumerated optimum with status optimal, iterates, adds cuts, and its
    master bounds never cross the optimum (they are upper bounds, monotone as cuts are added);
    also when masters are solved loosely (``master_gap``), and when minimising;
(b) max_iterations = 1 gives status iteration_limit, a valid bound and no incumbent (none was
    separated feasible), or with a repair function a feasible incumbent no better than the optimum;
(c) a master stopped at its time limit contributes its proven bound, never its incumbent's value;
(d) a separation that returns a constraint the master's point satisfies ends with status error
    (no endless loop); callables that add their own constraints work; an infeasible master gives
    status infeasible; a time limit reached before any solve gives time_limit without a bound;
(e) bad arguments raise one InputError.
"""
from __future__ import annotations

import itertools

import numpy as np
import pyomo.environ as pyo
import pytest

from reference_impl.errors import InputError
from reference_impl.solvers import SolverOutcome, decomposition
from reference_impl.solvers.decomposition import constraint_generation

VALUES = np.array([10.0, 13.0, 7.0, 8.0, 4.0, 9.0, 6.0, 3.0])
WEIGHTS = np.array([5.0, 7.0, 4.0, 5.0, 2.0, 6.0, 4.0, 2.0])
CAPACITY = 15.0
N = len(VALUES)


def knapsack_bruteforce() -> tuple[float, tuple[int, ...]]:
    best = (-1.0, ())
    for bits in itertools.product((0, 1), repeat=N):
        x = np.array(bits, dtype=float)
        if x @ WEIGHTS <= CAPACITY and x @ VALUES > best[0]:
            best = (float(x @ VALUES), bits)
    return best


OPTIMUM, OPTIMAL_BITS = knapsack_bruteforce()


def master_model() -> pyo.ConcreteModel:
    m = pyo.ConcreteModel()
    m.goods = pyo.RangeSet(0, N - 1)
    m.x = pyo.Var(m.goods, domain=pyo.Binary)
    m.value = pyo.Objective(expr=pyo.quicksum(float(VALUES[i]) * m.x[i] for i in m.goods), sense=pyo.maximize)
    return m


def extract(m) -> np.ndarray:
    return np.array([round(m.x[i].value) for i in range(N)], dtype=float)


def minimal_cover(x: np.ndarray) -> list[int]:
    """The heaviest chosen items, added until they exceed the capacity: a minimal cover inside
    an over-full selection (dropping any of its items leaves at most the capacity)."""
    cover: list[int] = []
    for i in sorted(np.flatnonzero(x > 0.5).tolist(), key=lambda i: (-WEIGHTS[i], i)):
        cover.append(i)
        if WEIGHTS[cover].sum() > CAPACITY:
            return cover
    raise AssertionError("the selection fits: no cover")


def cover_cuts(m):
    def separate(x):
        if x @ WEIGHTS <= CAPACITY:
            return []
        cover = minimal_cover(x)
        return [pyo.quicksum(m.x[i] for i in cover) <= len(cover) - 1]
    return separate


def run(m=None, **kwargs):
    m = master_model() if m is None else m
    settings = {"solver": "highs", "problem_class": "MILP", "extract": extract, "time_limit": 30.0}
    settings.update(kwargs)
    separate = settings.pop("separate", None) or cover_cuts(m)
    return (*constraint_generation(m, separate, **settings), m)


# -- (a) the optimum --------------------------------------------------------------------------------
def test_toy_answer_is_what_enumeration_says():
    assert OPTIMUM == 27.0 and np.array(OPTIMAL_BITS) @ WEIGHTS <= CAPACITY
    assert VALUES.sum() > OPTIMUM  # the capacity binds: the master without it is not the answer


def test_loop_reaches_the_enumerated_optimum():
    outcome, solution, m = run(objective=lambda x: float(x @ VALUES))
    assert outcome.status == "optimal", outcome.message
    assert outcome.has_solution and outcome.objective == pytest.approx(OPTIMUM)
    assert solution @ WEIGHTS <= CAPACITY and solution @ VALUES == pytest.approx(OPTIMUM)
    assert outcome.bound == pytest.approx(OPTIMUM, rel=1e-4)
    assert outcome.extra["iterations"] >= 2 and outcome.extra["cuts"] == outcome.extra["iterations"] - 1
    assert all(WEIGHTS[minimal_cover(np.ones(N))].sum() - w <= CAPACITY for w in WEIGHTS[minimal_cover(np.ones(N))])
    assert len(m.generated_cuts) == outcome.extra["cuts"]
    bounds = outcome.extra["bounds"]
    assert outcome.extra["first_master_bound"] == pytest.approx(VALUES.sum())  # everything packed
    assert all(b >= OPTIMUM - 1e-6 for b in bounds)  # upper bounds (maximisation), never below the optimum
    assert all(later <= earlier + 1e-6 for earlier, later in zip(bounds, bounds[1:]))


def test_default_objective_is_the_masters():
    outcome, _, _ = run()
    assert outcome.status == "optimal" and outcome.objective == pytest.approx(OPTIMUM)


# -- (b) iteration limit ----------------------------------------------------------------------------
def test_one_iteration_is_an_iteration_limit_with_a_valid_bound_and_no_incumbent():
    outcome, solution, _ = run(max_iterations=1)
    assert outcome.status == "iteration_limit" and "max_iterations = 1" in outcome.message
    assert outcome.extra["iterations"] == 1
    assert outcome.bound >= OPTIMUM - 1e-6  # a relaxation's bound (maximisation: above the optimum)
    assert not outcome.has_solution and solution is None and outcome.objective is None


def greedy_repair(x: np.ndarray):
    """Drop the lowest-value chosen items until the selection fits."""
    x = x.copy()
    for i in np.argsort(VALUES):
        if x @ WEIGHTS <= CAPACITY:
            break
        x[i] = 0.0
    return x, float(x @ VALUES)


def test_repair_gives_a_feasible_incumbent_at_the_iteration_limit():
    outcome, solution, _ = run(max_iterations=1, repair=greedy_repair)
    assert outcome.status == "iteration_limit"
    assert outcome.has_solution and solution @ WEIGHTS <= CAPACITY
    assert outcome.objective == pytest.approx(solution @ VALUES) and outcome.objective <= OPTIMUM
    assert outcome.extra["repaired"] == 1


def test_repaired_incumbent_closing_the_gap_stops_the_loop():
    # a repair that returns the known optimum meets the bound as soon as the bound gets there
    optimal = np.array(OPTIMAL_BITS, dtype=float)
    plain, _, _ = run()
    outcome, solution, _ = run(repair=lambda x: (optimal, OPTIMUM), objective=lambda x: float(x @ VALUES))
    assert outcome.status == "optimal" and outcome.objective == pytest.approx(OPTIMUM)
    assert outcome.message == "the repaired incumbent meets the master bound"
    assert outcome.extra["iterations"] < plain.extra["iterations"]


def test_warm_start_hook_is_called_with_the_incumbent():
    seen = []

    def load(m, incumbent):
        seen.append(incumbent.copy())
        for i in range(N):
            m.x[i].set_value(float(incumbent[i]))

    outcome, _, _ = run(repair=greedy_repair, load_start=load, objective=lambda x: float(x @ VALUES))
    assert outcome.status == "optimal" and outcome.objective == pytest.approx(OPTIMUM)
    assert seen and all(x @ WEIGHTS <= CAPACITY for x in seen)


def test_loosely_solved_masters_still_end_at_the_optimum():
    asked = []

    def loose(gap):
        asked.append(gap)
        return 0.3  # far looser than rel_gap: a master's incumbent may be up to 30 % off

    outcome, solution, _ = run(master_gap=loose, repair=greedy_repair, objective=lambda x: float(x @ VALUES))
    assert outcome.status == "optimal" and outcome.objective == pytest.approx(OPTIMUM)
    assert outcome.bound == pytest.approx(OPTIMUM, rel=1e-4) and asked[0] == float("inf")


# -- (c) a master stopped at its time limit ------------------------------------------------------
def test_time_limited_master_contributes_its_bound_not_its_incumbent(monkeypatch):
    def fake_solve(model, solver, **_):
        for i in range(N):  # an over-full incumbent, as a stopped solver might hold
            model.x[i].set_value(1.0)
        return SolverOutcome("time_limit", has_solution=True, objective=VALUES.sum(), bound=45.0, version="fake")

    monkeypatch.setattr(decomposition, "solve_model", fake_solve)
    outcome, solution, _ = run()
    assert outcome.status == "time_limit"
    assert outcome.bound == 45.0  # the master's proven bound, not its incumbent's objective (50)
    assert not outcome.has_solution and solution is None


def test_time_limited_master_with_a_feasible_point_is_an_incumbent_not_an_optimum(monkeypatch):
    def fake_solve(model, solver, **_):
        for i in range(N):
            model.x[i].set_value(float(OPTIMAL_BITS[i]))
        return SolverOutcome("time_limit", has_solution=True, objective=OPTIMUM, bound=40.0, version="fake")

    monkeypatch.setattr(decomposition, "solve_model", fake_solve)
    outcome, solution, _ = run()
    assert outcome.status == "time_limit" and outcome.has_solution and outcome.bound == 40.0


# -- (d) loop safety ------------------------------------------------------------------------------
def test_separation_returning_a_satisfied_constraint_is_an_error_not_a_loop():
    m = master_model()
    outcome, _, _ = run(m, separate=lambda x: [m.x[0] <= 1] if x @ WEIGHTS > CAPACITY else [])
    assert outcome.status == "error" and "none violated" in outcome.message
    assert outcome.extra["iterations"] == 1


def test_callable_cuts_are_added_by_the_caller():
    m = master_model()
    m.my_cuts = pyo.ConstraintList()

    def separate(x):
        if x @ WEIGHTS <= CAPACITY:
            return []
        cover = minimal_cover(x)

        def add(model):
            model.my_cuts.add(pyo.quicksum(model.x[i] for i in cover) <= len(cover) - 1)
            return 1
        return [add]

    outcome, solution, _ = run(m, separate=separate)
    assert outcome.status == "optimal" and solution @ VALUES == pytest.approx(OPTIMUM)
    assert len(m.my_cuts) == outcome.extra["cuts"] >= 1


def test_infeasible_master_and_exhausted_time():
    m = master_model()
    m.impossible = pyo.Constraint(expr=m.x[0] + m.x[1] >= 3)
    outcome, _, _ = run(m)
    assert outcome.status == "infeasible" and not outcome.has_solution
    outcome, _, _ = run(time_limit=1e-12)
    assert outcome.status == "time_limit" and outcome.bound is None and not outcome.has_solution


def test_minimisation_bounds_are_lower_bounds():
    # min −value: the same toy, minimised; bounds rise towards −OPTIMUM from below
    m = master_model()
    m.value.deactivate()
    m.cost = pyo.Objective(expr=-pyo.quicksum(float(VALUES[i]) * m.x[i] for i in m.goods))
    outcome, _, _ = run(m, max_iterations=1)
    assert outcome.status == "iteration_limit" and outcome.bound <= -OPTIMUM + 1e-6
    m2 = master_model()
    m2.value.deactivate()
    m2.cost = pyo.Objective(expr=-pyo.quicksum(float(VALUES[i]) * m2.x[i] for i in m2.goods))
    outcome, solution, _ = run(m2, objective=lambda x: -float(x @ VALUES))
    assert outcome.status == "optimal" and outcome.objective == pytest.approx(-OPTIMUM)
    assert all(b <= -OPTIMUM + 1e-6 for b in outcome.extra["bounds"])


# -- (e) bad arguments ------------------------------------------------------------------------------
@pytest.mark.parametrize(("settings", "match"), [
    ({"max_iterations": 0}, "max_iterations must be a positive integer"),
    ({"max_iterations": True}, "max_iterations must be a positive integer"),
    ({"time_limit": 0}, "time_limit must be a positive"),
])
def test_bad_settings(settings, match):
    with pytest.raises(InputError, match=match):
        run(**settings)


def test_bad_master_and_bad_cuts():
    m = master_model()
    m.value.deactivate()
    with pytest.raises(InputError, match="exactly one active objective"):
        run(m)
    m = master_model()
    m.generated_cuts = pyo.Var()
    with pytest.raises(InputError, match="must be a ConstraintList"):
        run(m)
    with pytest.raises(InputError, match="relational expressions or callables"):
        run(separate=lambda x: [3.0] if x @ WEIGHTS > CAPACITY else [])
