"""Risk scores (8): three methods proved against enumeration of every integer coefficient vector.

The oracle enumerates θ ∈ {l..u}^d (d = 3) and, per θ, every integer intercept in [−B, B]
(or the 1-D convex minimum over [−B, B] for a continuous intercept) — independent of every
solver and of the package's own objective code.
"""
import itertools
import json
import math

import numpy as np
import pytest
from scipy.optimize import minimize_scalar

from conftest import has_gurobi
from reference_impl import solve
from reference_impl.api import _fill_from_outcome, capable_solvers
from reference_impl.cli import main
from reference_impl.errors import InputError
from reference_impl.formulations.base import FEASIBILITY_TOL
from reference_impl.formulations.risk_score import (
    choose_tangent_points,
    envelope,
    envelope_max_error,
    score_card,
    score_table,
)
from reference_impl.instances import resolve_instance
from reference_impl.instances.generators.classification import synthetic_classification
from reference_impl.record import ResultRecord
from reference_impl.registry import get_formulation
from reference_impl.solvers import SolverOutcome

MINLP_SOLVERS = ["scip"] + (["gurobi"] if has_gurobi() else [])
# (n, seed): binary designs with d = 3, so at most 16 distinct rows (x, y)
TINY = [(40, 1), (60, 2)]
PARAMS = [
    {"k": 2, "l": -3, "u": 3, "intercept_bound": 4},
    {"lambda0": 1.0, "l": -2, "u": 4, "intercept_bound": 3},
    {"k": 1, "lambda0": 0.5, "l": -5, "u": 5, "intercept": "continuous", "intercept_bound": 2.5},
    {"k": 3, "l": -1, "u": 1, "intercept": "none"},  # the true points (±2) do not fit: bounds bind
]


def tiny_risk(n=40, seed=1, p=3):
    data = synthetic_classification(n, p, 2, rho=0.2, coef=2.0, intercept=-0.5, binary=True, seed=seed)
    return {"X": data["X"], "y": data["y"]}


def enumerate_risk_score(X, y, *, l, u, k=None, lambda0=0.0, intercept="integer", intercept_bound=10):
    """min (8) over every θ ∈ {l..u}^d with ≤ k nonzeros and every admissible intercept."""
    d = X.shape[1]
    grid = np.array(list(itertools.product(range(min(l, 0), max(u, 0) + 1), repeat=d)), dtype=float)
    grid = grid[np.all((grid == 0) | ((grid >= l) & (grid <= u)), axis=1)]  # l·zⱼ ≤ θⱼ ≤ u·zⱼ
    nnz = (grid != 0).sum(axis=1)
    if k is not None:
        grid, nnz = grid[nnz <= k], nnz[nnz <= k]
    scores = X @ grid.T  # n × T
    best = (math.inf, None, None)
    if intercept == "continuous":
        for t in range(grid.shape[0]):
            f = lambda b: float(np.log1p(np.exp(-y * (scores[:, t] + b))).sum())  # noqa: E731
            res = minimize_scalar(f, bounds=(-intercept_bound, intercept_bound), method="bounded",
                                  options={"xatol": 1e-12})
            value = min(res.fun, f(-intercept_bound), f(intercept_bound)) + (lambda0 or 0.0) * nnz[t]
            if value < best[0]:
                best = (value, grid[t], float(res.x))
        return best
    B = int(math.floor(intercept_bound)) if intercept == "integer" else 0
    intercepts = np.arange(-B, B + 1, dtype=float)
    margins = y[:, None, None] * (scores[:, :, None] + intercepts[None, None, :])  # n × T × G
    losses = np.logaddexp(0.0, -margins).sum(axis=0) + (lambda0 or 0.0) * nnz[:, None]
    t, g = np.unravel_index(np.argmin(losses), losses.shape)
    return float(losses[t, g]), grid[t], float(intercepts[g])


def _oracle(instance, params):
    return enumerate_risk_score(instance["X"], instance["y"], l=params["l"], u=params["u"], k=params.get("k"),
                                lambda0=params.get("lambda0") or 0.0, intercept=params.get("intercept", "integer"),
                                intercept_bound=params.get("intercept_bound", 10))


def _ids(p):
    return ",".join(f"{k}={v}" for k, v in p.items())


@pytest.mark.parametrize("params", PARAMS, ids=_ids)
@pytest.mark.parametrize("shape", TINY, ids=lambda s: f"n{s[0]}s{s[1]}")
def test_minlp_and_cutting_plane_match_enumeration(shape, params):
    instance = tiny_risk(*shape)
    best, theta_best, _ = _oracle(instance, params)
    for formulation, solvers in (("risk_score.minlp", MINLP_SOLVERS), ("risk_score.cutting_plane", ["highs"])):
        for solver in solvers:
            record = solve(formulation, instance, solver=solver, time_limit=60, rel_gap=1e-7, **params)
            assert record.status == "optimal", (formulation, solver, record.message)
            assert record.objective == pytest.approx(best, rel=1e-6), (formulation, solver)
            assert record.bound <= best * (1 + 1e-6) + 1e-9, (formulation, solver)  # bound never above optimum
            assert record.max_violation <= FEASIBILITY_TOL


@pytest.mark.parametrize("params", PARAMS[:2], ids=_ids)
def test_pwl_true_objective_bound_and_error_bound(params):
    instance = tiny_risk(60, 2)
    best, _, _ = _oracle(instance, params)
    record = solve("risk_score.pwl", instance, solver="highs", time_limit=60, rel_gap=1e-9, **params)
    extra = record.extra
    # the evaluator reports the TRUE logistic objective of the PWL solution: never below the optimum
    assert record.objective >= best * (1 - 1e-9)
    # the MILP optimum is the surrogate at its solution, a lower bound on the optimum of (8)
    assert record.solver_objective == pytest.approx(extra["surrogate_objective"], rel=1e-6)
    assert record.bound <= best * (1 + 1e-9)
    assert extra["surrogate_objective"] <= best + 1e-7
    # the realised approximation error is within the reported worst-case bound
    assert 0 <= extra["pwl_realized_error"] <= extra["pwl_error_bound"] + 1e-9
    assert record.objective - best <= extra["pwl_error_bound"] + 1e-6
    # the surrogate is solved to optimality (checked against the surrogate objective); the
    # record's gap, true objective vs MILP bound, includes the approximation error, and says so
    assert record.status == "optimal" and extra["surrogate_gap"] <= 1e-9 + 1e-6
    if record.gap > 1e-6:
        assert "PWL surrogate" in record.message


def test_pwl_with_a_fine_tangent_set_reaches_the_optimum():
    params = PARAMS[0]
    instance = tiny_risk(60, 2)
    best, _, _ = _oracle(instance, params)
    coarse = solve("risk_score.pwl", instance, solver="highs", rel_gap=1e-9, n_tangents=3, **params)
    fine = solve("risk_score.pwl", instance, solver="highs", rel_gap=1e-9, n_tangents=40, **params)
    assert fine.extra["pwl_error_bound"] < coarse.extra["pwl_error_bound"] / 20
    assert fine.objective == pytest.approx(best, rel=1e-9)
    assert fine.gap <= coarse.gap


@pytest.mark.parametrize("placement", ["greedy", "uniform"])
@pytest.mark.parametrize("n", [1, 3, 9])
def test_envelope_error_bound_is_exact(n, placement):
    """The reported worst-case error equals the max of f − envelope over a dense grid."""
    S = 12.0
    points = choose_tangent_points(n, S, placement)
    reported, where = envelope_max_error(points, S)
    grid = np.linspace(-S, S, 400_001)
    errors = np.logaddexp(0.0, -grid) - envelope(grid, points)
    assert errors.min() >= -1e-12  # tangents of a convex function lie below it
    assert errors.max() <= reported + 1e-12
    assert errors.max() >= reported - 1e-4  # approached on the grid (kinks: error is linear near them)
    assert abs(where) <= S  # and attained where it says
    assert np.logaddexp(0.0, -where) - envelope(np.array([where]), points)[0] == pytest.approx(reported, abs=1e-12)


def test_greedy_tangents_beat_uniform():
    assert envelope_max_error(choose_tangent_points(9, 15.0, "greedy"), 15.0)[0] < \
        envelope_max_error(choose_tangent_points(9, 15.0, "uniform"), 15.0)[0]


def test_root_relaxations_recorded_and_ordered():
    """Root values are recorded and below the optimum; the PWL surrogate lies below the logistic
    loss everywhere, so its relaxation is no stronger than the MINLP's."""
    instance = tiny_risk(60, 2)
    params = PARAMS[0]
    best, _, _ = _oracle(instance, params)
    roots = {}
    for formulation, solver in (("risk_score.minlp", "scip"), ("risk_score.pwl", "highs")):
        record = solve(formulation, instance, solver=solver, root_relaxation=True, rel_gap=1e-9, **params)
        assert record.root_bound is not None and record.root_bound <= best * (1 + 1e-6)
        assert record.root_gap == pytest.approx((record.objective - record.root_bound) / record.objective, rel=1e-6)
        roots[formulation] = record.root_bound
    assert roots["risk_score.pwl"] <= roots["risk_score.minlp"] + 1e-6


def test_cutting_plane_is_native_highs_only_and_cli_runs(capsys, tmp_path):
    formulation = get_formulation("risk_score.cutting_plane")
    assert capable_solvers(formulation) == ["highs"]
    record = solve("risk_score.cutting_plane", tiny_risk(), solver="scip", k=2)
    assert record.status == "unsupported"
    from reference_impl.instances.storage import write_npz

    path = tmp_path / "risk.npz"
    write_npz(path, tiny_risk())
    assert main(["solve", "risk_score.cutting_plane", "--instance", str(path), "--solver", "highs",
                 "--param", "k=2", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["status"] == "optimal" and out["extra"]["iterations"] >= 1
    assert main(["list", "--json"]) == 0
    rows = {r["id"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["risk_score.cutting_plane"]["solvers"] == ["highs"]
    assert rows["risk_score.minlp"]["class"] == "MINLP" and rows["risk_score.pwl"]["class"] == "MILP"


def test_cutting_plane_limits_are_statuses():
    data = synthetic_classification(500, 12, 4, rho=0.3, coef=1.0, intercept=-1.0, binary=True, seed=33)
    instance = {"X": data["X"], "y": data["y"]}
    record = solve("risk_score.cutting_plane", instance, solver="highs", time_limit=60, k=4, max_iterations=1,
                   lp_warmup=0)
    assert record.status == "iteration_limit" and "max_iterations" in record.message
    assert record.objective is not None and record.bound <= record.objective
    record = solve("risk_score.cutting_plane", instance, solver="highs", time_limit=0.5, k=4)
    assert record.status == "time_limit"
    assert record.objective is not None and math.isfinite(record.objective)


def test_evaluator_rejects_planted_wrong_solutions():
    formulation = get_formulation("risk_score.minlp")
    instance = resolve_instance(tiny_risk())
    params = formulation.validate(instance, {"k": 2, "l": -3, "u": 3, "intercept_bound": 4})
    good = {"theta": np.array([2.0, 0.0, -1.0]), "z": np.array([1.0, 0.0, 1.0]), "intercept": np.array([-1.0])}
    evaluation = formulation.evaluate(instance, params, good)
    assert evaluation.feasible
    X, y = instance.X, instance.y
    assert evaluation.objective == pytest.approx(np.log1p(np.exp(-y * (X @ good["theta"] - 1.0))).sum(), rel=1e-12)
    planted = {
        "integrality": {**good, "theta": np.array([1.5, 0.0, -1.0])},
        "support_link": {**good, "theta": np.array([2.0, 1.0, -1.0])},
        "coefficient_bounds": {**good, "theta": np.array([4.0, 0.0, -1.0])},
        "cardinality": {**good, "theta": np.array([2.0, 1.0, -1.0]), "z": np.ones(3)},
        "intercept_bound": {**good, "intercept": np.array([-7.0])},
    }
    for kind, solution in planted.items():
        result = formulation.evaluate(instance, params, solution)
        assert not result.feasible, kind
        assert result.violations[kind] > FEASIBILITY_TOL, kind
    fractional_intercept = formulation.evaluate(instance, params, {**good, "intercept": np.array([-0.5])})
    assert fractional_intercept.violations["integrality"] == pytest.approx(0.5)
    # a solver claiming optimality for such a point is refuted by api's status logic
    record = ResultRecord(formulation=formulation.id, solver="scip", instance=instance.id, rel_gap=1e-4)
    _fill_from_outcome(record, formulation, instance, params,
                       SolverOutcome("optimal", has_solution=True, objective=1.0, bound=1.0), planted["cardinality"])
    assert record.status == "error" and "evaluator found a violation" in record.message
    # a feasible point whose true objective is far from the claimed bound is refuted too
    record = ResultRecord(formulation=formulation.id, solver="scip", instance=instance.id, rel_gap=1e-4)
    _fill_from_outcome(record, formulation, instance, params,
                       SolverOutcome("optimal", has_solution=True, objective=1.0, bound=1.0), good)
    assert record.status == "error" and "recomputed gap" in record.message


@pytest.mark.parametrize(
    "change, params, message",
    [
        (lambda d: {**d, "y": (d["y"] > 0).astype(float)}, {"k": 2}, "-1/\\+1"),
        (lambda d: d, {"k": 2, "l": 3, "u": -3}, "l <= u"),
        (lambda d: {**d, "X": np.where(np.arange(d["X"].size).reshape(d["X"].shape) == 4, np.nan, d["X"])},
         {"k": 2}, "NaN"),
        (lambda d: {**d, "y": np.ones_like(d["y"])}, {"k": 2}, "both labels"),
        (lambda d: d, {}, "needs k"),
        (lambda d: d, {"k": 2, "intercept": "fractional"}, "intercept must be one of"),
        (lambda d: d, {"k": 2, "l": 1.5}, "must be an integer"),
        (lambda d: d, {"k": 4}, "must be <= 3"),
        (lambda d: d, {"k": 2, "n_tangents": 0}, "no hyperparameter"),
    ],
)
def test_bad_input_has_clear_errors(change, params, message):
    instance = change(tiny_risk())
    with pytest.raises(InputError, match=message):
        solve("risk_score.minlp", instance, solver="scip", **params)


def test_pwl_bad_tangent_settings():
    with pytest.raises(InputError, match="tangent_placement"):
        solve("risk_score.pwl", tiny_risk(), solver="highs", k=2, tangent_placement="random")
    with pytest.raises(InputError, match="tangent_points"):
        solve("risk_score.pwl", tiny_risk(), solver="highs", k=2, tangent_points=[])


def test_score_card_and_table():
    instance = resolve_instance({**tiny_risk(), "feature_names": np.array(["fever", "cough", "age>60"])})
    solution = {"theta": np.array([2.0, 0.0, -1.0]), "z": np.array([1.0, 0.0, 1.0]), "intercept": np.array([-1.0])}
    table = score_table(instance, solution)
    assert list(table["score"]) == [-1.0, 0.0, 1.0, 2.0]
    assert table["n"].sum() == instance.X.shape[0]
    assert np.all(np.diff(table["risk"]) > 0)
    assert table["risk"].iloc[0] == pytest.approx(1 / (1 + math.exp(2.0)))
    card = score_card(instance, solution)
    assert "fever" in card and "+2" in card and "age>60" in card and "-1" in card and "cough" not in card
    assert "%" in card


def test_decision_expressions_are_the_scores():
    import pyomo.environ as pyo

    formulation = get_formulation("risk_score.minlp")
    instance = resolve_instance(tiny_risk())
    params = formulation.validate(instance, {"k": 2})
    model = formulation.build(instance, params)
    theta = np.array([2.0, 0.0, -1.0])
    for j, v in enumerate(theta):
        model.theta[j].value = v
    model.intercept.value = -1.0
    scores = formulation.decision_expressions(model)
    np.testing.assert_allclose([pyo.value(scores[i]) for i in range(instance.X.shape[0])], instance.X @ theta - 1.0)
