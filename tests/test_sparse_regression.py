"""Sparse regression (5)-(7): optimality proved by enumeration, bounds, relaxation strength."""
import math

import numpy as np
import pytest

from bruteforce import sparse_regression_optimum
from conftest import has_gurobi
from reference_impl import solve
from reference_impl.api import _fill_from_outcome
from reference_impl.formulations.base import FEASIBILITY_TOL
from reference_impl.instances import resolve_instance
from reference_impl.record import ResultRecord
from reference_impl.registry import get_formulation
from reference_impl.solvers import SolverOutcome, relaxation_bound

SOLVERS = ["scip"] + (["gurobi"] if has_gurobi() else [])
FORMULATIONS = ["sparse_regression.l0l2_bigm", "sparse_regression.perspective"]
# (n, p, k_true, seed): p <= 10 so that every support can be enumerated
TINY = [(25, 7, 3, 1), (30, 9, 3, 2), (8, 10, 2, 3)]  # the last one has p > n
PARAMS = [{"k": 3, "lambda2": 0.1}, {"lambda0": 1.5, "lambda2": 0.05}, {"k": 2, "lambda0": 0.5, "lambda2": 0.5}]


def _oracle(instance, params):
    X, y = instance["X"], instance["y"]
    return sparse_regression_optimum(X, y, k=params.get("k"), lambda0=params.get("lambda0") or 0.0,
                                     lambda2=params.get("lambda2", 0.0))


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("params", PARAMS, ids=lambda p: ",".join(f"{k}={v}" for k, v in p.items()))
@pytest.mark.parametrize("shape", TINY, ids=lambda s: f"n{s[0]}p{s[1]}")
@pytest.mark.parametrize("formulation", FORMULATIONS)
def test_matches_enumeration(formulation, shape, params, solver, tiny_regression):
    n, p, k, seed = shape
    instance = tiny_regression(n=n, p=p, k=k, seed=seed)
    best, support, _ = _oracle(instance, params)
    record = solve(formulation, instance, solver=solver, time_limit=60, rel_gap=1e-9, **params)
    assert record.status == "optimal", record.message
    assert record.objective == pytest.approx(best, rel=1e-6)
    assert record.bound <= best * (1 + 1e-6) + 1e-9
    assert record.max_violation <= FEASIBILITY_TOL
    assert sorted(record.extra["support"]) == list(support) or record.objective == pytest.approx(best, rel=1e-9)


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("shape", TINY[:2], ids=lambda s: f"n{s[0]}p{s[1]}")
def test_best_subset_matches_enumeration(shape, solver, tiny_regression):
    n, p, k, seed = shape
    instance = tiny_regression(n=n, p=p, k=k, seed=seed)
    best, _, _ = sparse_regression_optimum(instance["X"], instance["y"], k=3)
    record = solve("sparse_regression.best_subset", instance, solver=solver, time_limit=60, rel_gap=1e-9, k=3)
    assert record.status == "optimal", record.message
    assert record.objective == pytest.approx(best, rel=1e-6)
    assert record.bound <= best * (1 + 1e-6) + 1e-9
    assert record.extra["M_source"] == "derived"


@pytest.mark.parametrize("shape", TINY, ids=lambda s: f"n{s[0]}p{s[1]}")
@pytest.mark.parametrize("params", PARAMS, ids=lambda p: ",".join(f"{k}={v}" for k, v in p.items()))
def test_perspective_relaxation_at_least_bigm_and_below_optimum(shape, params, tiny_regression):
    n, p, k, seed = shape
    instance = resolve_instance(tiny_regression(n=n, p=p, k=k, seed=seed))
    best, _, _ = _oracle(instance.arrays, params)
    roots = {}
    for formulation_id in FORMULATIONS:
        formulation = get_formulation(formulation_id)
        validated = formulation.validate(instance, dict(params))
        outcome = relaxation_bound(formulation.build(instance, validated), formulation.problem_class, time_limit=60)
        assert outcome.bound is not None, outcome.message
        roots[formulation_id] = outcome.bound
    assert roots["sparse_regression.perspective"] >= roots["sparse_regression.l0l2_bigm"] - 1e-6 * abs(best)
    assert max(roots.values()) <= best * (1 + 1e-6) + 1e-9


def test_root_relaxation_recorded_and_strictly_stronger(tiny_regression):
    instance = tiny_regression(n=40, p=8, k=3, seed=5)
    records = {f: solve(f, instance, solver="scip", root_relaxation=True, k=3, lambda2=1.0) for f in FORMULATIONS}
    for record in records.values():
        assert record.root_bound is not None and record.root_bound <= record.objective * (1 + 1e-6)
        assert record.root_gap == pytest.approx((record.objective - record.root_bound) / record.objective, rel=1e-6)
    assert records["sparse_regression.perspective"].root_gap < records["sparse_regression.l0l2_bigm"].root_gap


def test_derived_big_m_is_valid(tiny_regression):
    """The derived M is at least the largest optimal coefficient of the unbounded problem (5)."""
    for seed in range(4):
        instance = resolve_instance(tiny_regression(n=20, p=6, k=3, seed=seed, snr=1.0))
        for params in ({"k": 3, "lambda2": 0.0}, {"lambda0": 0.3, "lambda2": 0.2}):
            validated = get_formulation("sparse_regression.l0l2_bigm").validate(instance, dict(params))
            assert validated["M_source"] == "derived"
            _, _, theta = _oracle(instance.arrays, params)
            assert np.abs(theta).max() <= validated["M"]


def test_binding_big_m_is_reported(tiny_regression):
    instance = tiny_regression(n=30, p=6, k=3, seed=3)
    X, y = instance["X"], instance["y"]
    M = 0.3
    best, _, theta = sparse_regression_optimum(X, y, k=3, M=M)
    assert np.isclose(np.abs(theta).max(), M)  # the box binds at the true optimum
    record = solve("sparse_regression.best_subset", instance, solver="scip", rel_gap=1e-9, k=3, M=M)
    assert record.status == "optimal"
    assert record.objective == pytest.approx(best, rel=1e-6)
    assert record.extra["m_binding"] is True and record.extra["M_source"] == "given"
    assert "big-M bound the solution" in record.message


def test_heuristic_big_m_when_no_valid_m_exists(tiny_regression, monkeypatch):
    """λ2 = 0 and p > n with too many supports to certify: the heuristic M is labelled, and
    every result says it is not certified (extra and message), bound or not."""
    from reference_impl.formulations import sparse_regression

    monkeypatch.setattr(sparse_regression, "MAX_CERTIFY_SUPPORTS", 10)  # 10 + 45 supports: too many
    data = tiny_regression(n=8, p=10, k=2, seed=3)
    instance = resolve_instance(data)
    params = get_formulation("sparse_regression.best_subset").validate(instance, {"k": 2})
    assert params["M_source"] == "heuristic" and math.isfinite(params["M"])
    record = solve("sparse_regression.best_subset", data, solver="scip", time_limit=20, k=2)
    assert record.extra["M_certified"] is False and record.extra["M_source"] == "heuristic"
    assert "is a heuristic, not a certified bound" in record.message and "pass M explicitly" in record.message


def _pgtn_instance():
    """n = 4 < p = 6 and λ2 = 0: columns 0 and 1 nearly collinear, the exact fit needs
    θ = (100, −100); the greedy solution's 2·max|θ| (≈ 2.4) cuts it off."""
    rng = np.random.default_rng(5)
    a, e = rng.normal(size=4), rng.normal(size=4)
    X = np.column_stack([a + 0.05 * e, a, 0.8 * (5 * e) + 0.6 * rng.normal(size=4), rng.normal(size=4),
                         rng.normal(size=4), rng.normal(size=4)])
    return {"X": X, "y": 5 * e}


@pytest.mark.parametrize("formulation", ["sparse_regression.best_subset", "sparse_regression.l0l2_bigm",
                                         "sparse_regression.perspective"])
def test_big_m_certified_by_support_enumeration_when_gram_is_singular(formulation):
    data = _pgtn_instance()
    best, support, theta = sparse_regression_optimum(data["X"], data["y"], k=2)
    assert best < 1e-8 and np.abs(theta).max() > 50  # the optimum needs |θ| ≈ 100
    record = solve(formulation, data, solver="scip", time_limit=20, rel_gap=1e-8, k=2)
    assert record.extra["M_source"] == "derived" and record.extra["M_certified"] is True
    assert record.extra["effective_params"]["M"] >= np.abs(theta).max()
    assert record.status == "optimal", record.message
    assert record.objective == pytest.approx(best, abs=1e-6)
    assert "heuristic" not in record.message


@pytest.mark.parametrize("params, needle", [
    ({"k": float("nan")}, "k"), ({"k": float("inf")}, "k"), ({"k": True}, "boolean"),
    ({"k": 2, "lambda2": float("inf")}, "finite"), ({"lambda0": float("inf")}, "finite"),
    ({"lambda0": True}, "boolean"), ({"k": 2, "M": 1e300}, "too large"), ({"k": 2, "M": float("inf")}, "M"),
    ({"k": 2, "M": float("nan")}, "NaN"), ({"k": 2, "lambda2": 1e300}, "beyond"),
])
def test_non_finite_boolean_and_absurd_hyperparameters_are_input_errors(params, needle, tiny_regression):
    from reference_impl.errors import InputError

    instance = resolve_instance(tiny_regression(n=12, p=5, k=2, seed=1))
    for formulation in FORMULATIONS:
        with pytest.raises(InputError, match=needle):
            get_formulation(formulation).validate(instance, dict(params))


def test_infinite_m_stays_allowed_where_documented():
    """kglm.perspective documents M = inf (no box); the shared validator keeps it."""
    from reference_impl.formulations.base import as_float

    assert as_float({"M": float("inf")}, "M") == float("inf")
    with pytest.raises(ValueError):
        as_float({"lambda2": float("inf")}, "lambda2")


def test_highs_answers_unsupported_for_quadratic_models(tiny_regression):
    for formulation in FORMULATIONS:
        record = solve(formulation, tiny_regression(), solver="highs", k=3, lambda2=0.1)
        assert record.status == "unsupported"
        assert "cannot solve" in record.message


@pytest.mark.skipif(not has_gurobi(), reason="gurobipy not installed")
def test_gurobi_size_limited_above_license(tiny_regression):
    instance = tiny_regression(n=120, p=80, k=5, seed=1)  # 3p = 240 variables with quadratic terms
    record = solve("sparse_regression.perspective", instance, solver="gurobi", k=5, lambda2=0.1)
    assert record.status == "size_limited", record.message
    assert record.objective is None and math.isinf(record.gap)


def test_gurobi_not_installed(monkeypatch, tiny_regression):
    from reference_impl.solvers import pyomo_solve

    monkeypatch.setattr(pyomo_solve, "is_installed", lambda name: False)
    record = solve("sparse_regression.perspective", tiny_regression(), solver="gurobi", k=3, lambda2=0.1)
    assert record.status == "not_installed"
    assert "gurobipy" in record.message


def test_time_limit_is_a_status_not_a_loss():
    from reference_impl.instances.generators import synthetic_regression

    data = synthetic_regression(150, 60, 8, rho=0.8, snr=1.0, seed=7)
    record = solve("sparse_regression.best_subset", {"X": data["X"], "y": data["y"]}, solver="scip",
                   time_limit=1, k=8)
    assert record.status == "time_limit"
    assert record.solve_seconds < 10
    if record.objective is not None:  # an incumbent was found: its gap is finite and re-evaluated
        assert 0 < record.gap < math.inf


def test_evaluator_rejects_planted_infeasible_solutions(tiny_regression):
    formulation = get_formulation("sparse_regression.l0l2_bigm")
    instance = resolve_instance(tiny_regression(n=25, p=7, k=3, seed=1))
    params = formulation.validate(instance, {"k": 2, "lambda2": 0.1})
    theta = np.zeros(7)
    theta[[0, 3]] = 0.5
    z = np.zeros(7)
    z[[0, 3]] = 1
    assert formulation.evaluate(instance, params, {"theta": theta, "z": z}).feasible
    planted = {
        "support_link": ({"theta": theta + np.eye(7)[5] * 0.2, "z": z}),
        "cardinality": ({"theta": theta, "z": z + np.eye(7)[1]}),
        "integrality": ({"theta": theta, "z": z + np.eye(7)[1] * 0.4}),
        "big_m": ({"theta": theta * 0 + np.eye(7)[0] * (params["M"] * 1.5), "z": z}),
    }
    for kind, solution in planted.items():
        evaluation = formulation.evaluate(instance, params, solution)
        assert not evaluation.feasible, kind
        assert evaluation.violations[kind] > FEASIBILITY_TOL, kind
    # and a solver that claims optimality for such a point is refuted: the run is an error
    record = ResultRecord(formulation=formulation.id, solver="scip", instance=instance.id, rel_gap=1e-4)
    outcome = SolverOutcome("optimal", has_solution=True, objective=1.0, bound=1.0)
    _fill_from_outcome(record, formulation, instance, params, outcome, planted["cardinality"])
    assert record.status == "error" and "evaluator found a violation" in record.message


def test_warm_start_is_passed_and_checked(tiny_regression):
    from reference_impl.errors import InputError

    instance = tiny_regression(n=30, p=8, k=3, seed=2)
    best, support, _ = sparse_regression_optimum(instance["X"], instance["y"], k=3, lambda2=0.1)
    z = np.zeros(8)
    z[list(support)] = 1
    record = solve("sparse_regression.perspective", instance, solver="scip", rel_gap=1e-9, warm_start={"z": z},
                   k=3, lambda2=0.1)
    assert record.status == "optimal" and record.extra["warm_start"] == ["z"]
    assert record.objective == pytest.approx(best, rel=1e-6)
    with pytest.raises(InputError, match="not a variable"):
        solve("sparse_regression.perspective", instance, solver="scip", warm_start={"nope": z}, k=3, lambda2=0.1)
    with pytest.raises(InputError, match="has 3 values"):
        solve("sparse_regression.perspective", instance, solver="scip", warm_start={"z": z[:3]}, k=3, lambda2=0.1)
