"""Sparse logistic regression (perspective) and sparse SVM (9): optimality proved by enumerating
supports, each restricted convex problem solved with scipy to high accuracy; big-M and
intercept bounds; root relaxations; evaluator; loaders and generator."""
import itertools
import math

import numpy as np
import pytest
from scipy.optimize import minimize

from conftest import has_gurobi
from reference_impl import solve
from reference_impl.api import _fill_from_outcome
from reference_impl.errors import DataMissingError, InputError
from reference_impl.formulations.base import FEASIBILITY_TOL
from reference_impl.instances import resolve_instance
from reference_impl.instances.generators.classification import synthetic_classification
from reference_impl.instances.storage import npz_bytes
from reference_impl.record import ResultRecord
from reference_impl.registry import get_formulation
from reference_impl.solvers import SolverOutcome, relaxation_bound

SOLVERS = ["scip"] + (["gurobi"] if has_gurobi() else [])
TINY = [(30, 5, 21), (36, 5, 22)]  # (n, p, seed)


def tiny_classification(n=30, p=5, seed=21, k=2):
    data = synthetic_classification(n, p, k, rho=0.3, coef=1.5, seed=seed)
    return {"X": data["X"], "y": data["y"]}


# -- oracles: every support, each restricted problem solved by scipy ------------------------
def _logistic_restricted(X, y, S, lambda2, M, fit_intercept):
    s = len(S)
    A = X[:, list(S)]

    def fun(v):
        w, b = v[:s], (v[s] if fit_intercept else 0.0)
        m = y * (A @ w + b)
        p = np.exp(-np.logaddexp(0.0, m))  # σ(−m)
        g = -y * p
        grad = np.concatenate([A.T @ g + 2 * lambda2 * w, [g.sum()] if fit_intercept else []])
        return float(np.logaddexp(0.0, -m).sum() + lambda2 * w @ w), grad

    if s + fit_intercept == 0:
        return float(len(y) * math.log(2.0)), np.zeros(0), 0.0
    bounds = [(-M, M)] * s + ([(None, None)] if fit_intercept else [])
    res = minimize(fun, np.zeros(s + fit_intercept), jac=True, method="L-BFGS-B", bounds=bounds,
                   options={"ftol": 1e-16, "gtol": 1e-11, "maxiter": 20000})
    return float(res.fun), res.x[:s], (float(res.x[s]) if fit_intercept else 0.0)


def _svm_restricted(X, y, S, lambda1, M, fit_intercept):
    """min ½‖w‖² + λ1 Σ r s.t. y(Aw + b) ≥ 1 − r, r ≥ 0, |w| ≤ M (SLSQP on (w, b, r))."""
    n, s = len(y), len(S)
    A = X[:, list(S)]
    nb = 1 if fit_intercept else 0

    def split(v):
        return v[:s], (v[s] if fit_intercept else 0.0), v[s + nb:]

    def fun(v):
        w, _, r = split(v)
        return 0.5 * w @ w + lambda1 * r.sum()

    def jac(v):
        w, _, _ = split(v)
        return np.concatenate([w, np.zeros(nb), lambda1 * np.ones(n)])

    cons = {"type": "ineq",
            "fun": lambda v: y * (A @ split(v)[0] + split(v)[1]) - 1 + split(v)[2],
            "jac": lambda v: np.hstack([y[:, None] * A, y[:, None] if fit_intercept else np.zeros((n, 0)), np.eye(n)])}
    bounds = [(-M, M)] * s + [(None, None)] * nb + [(0, None)] * n
    x0 = np.concatenate([np.zeros(s + nb), np.ones(n) * 2.0])
    res = minimize(fun, x0, jac=jac, method="SLSQP", constraints=[cons], bounds=bounds,
                   options={"ftol": 1e-15, "maxiter": 2000})
    w, b, _ = split(res.x)
    value = 0.5 * w @ w + lambda1 * np.maximum(0, 1 - y * (A @ w + b)).sum()
    return float(value), w, float(b)


def enumerate_supports(X, y, restricted, *, k=None, lambda0=0.0, **kwargs):
    p = X.shape[1]
    best = (math.inf, None, None, None)
    for size in range(0, (k if k is not None else p) + 1):
        for S in itertools.combinations(range(p), size):
            value, w, b = restricted(X, y, S, **kwargs)
            value += (lambda0 or 0.0) * size
            if value < best[0]:
                best = (value, S, w, b)
    return best


LOGISTIC_PARAMS = [{"k": 2, "lambda2": 0.5}, {"lambda0": 2.0, "lambda2": 0.2}]
SVM_PARAMS = [{"k": 2, "lambda1": 1.0}, {"lambda0": 1.0, "lambda1": 0.5}, {"k": 3, "lambda1": 2.0, "intercept": "none"}]


def _ids(p):
    return ",".join(f"{k}={v}" for k, v in p.items())


@pytest.mark.parametrize("params", LOGISTIC_PARAMS, ids=_ids)
@pytest.mark.parametrize("shape", TINY, ids=lambda s: f"n{s[0]}p{s[1]}")
def test_sparse_logistic_matches_enumeration(shape, params):
    n, p, seed = shape
    instance = resolve_instance(tiny_classification(n, p, seed))
    validated = get_formulation("sparse_logistic.perspective").validate(instance, dict(params))
    best, support, theta, b = enumerate_supports(instance.X, instance.y, _logistic_restricted, k=params.get("k"),
                                                 lambda0=params.get("lambda0", 0.0), lambda2=params["lambda2"],
                                                 M=math.inf, fit_intercept=True)
    # the derived M and intercept bound contain the unboxed optimum (so they are valid here)
    assert validated["M_source"] == "derived"
    assert np.abs(theta).max(initial=0.0) <= validated["M"] and abs(b) <= validated["intercept_bound"]
    for solver in SOLVERS:
        record = solve("sparse_logistic.perspective", instance, solver=solver, time_limit=60, rel_gap=1e-7, **params)
        if record.status == "size_limited":
            continue
        assert record.status == "optimal", (solver, record.message)
        assert record.objective == pytest.approx(best, rel=1e-6), solver
        assert record.bound <= best * (1 + 1e-6) + 1e-9, solver
        assert sorted(record.extra["support"]) == list(support)


@pytest.mark.parametrize("params", SVM_PARAMS, ids=_ids)
@pytest.mark.parametrize("shape", TINY, ids=lambda s: f"n{s[0]}p{s[1]}")
def test_sparse_svm_matches_enumeration(shape, params):
    n, p, seed = shape
    instance = resolve_instance(tiny_classification(n, p, seed))
    validated = get_formulation("sparse_svm.bigm").validate(instance, dict(params))
    best, support, theta, _ = enumerate_supports(instance.X, instance.y, _svm_restricted, k=params.get("k"),
                                                 lambda0=params.get("lambda0", 0.0), lambda1=params["lambda1"],
                                                 M=math.inf, fit_intercept=params.get("intercept") != "none")
    assert validated["M_source"] == "derived" and np.abs(theta).max(initial=0.0) <= validated["M"]
    for solver in SOLVERS:
        record = solve("sparse_svm.bigm", instance, solver=solver, time_limit=60, rel_gap=1e-8, **params)
        if record.status == "size_limited":
            continue
        assert record.status == "optimal", (solver, record.message)
        assert record.objective == pytest.approx(best, rel=1e-6), solver
        assert record.bound <= best * (1 + 1e-6) + 1e-9, solver
        assert record.max_violation <= FEASIBILITY_TOL


def test_svm_binding_big_m_is_reported():
    instance = resolve_instance(tiny_classification(30, 4, 23))
    M = 0.15
    best, _, theta, _ = enumerate_supports(instance.X, instance.y, _svm_restricted, k=2, lambda1=1.0, M=M,
                                           fit_intercept=True)
    assert np.isclose(np.abs(theta).max(), M, atol=1e-6)  # the box binds at the true optimum
    record = solve("sparse_svm.bigm", instance, solver="scip", rel_gap=1e-8, k=2, lambda1=1.0, M=M)
    assert record.status == "optimal"
    assert record.objective == pytest.approx(best, rel=1e-6)
    assert record.extra["m_binding"] is True and record.extra["M_source"] == "given"
    assert "big-M bound the solution" in record.message


def test_logistic_without_ridge_uses_a_labelled_heuristic_m():
    instance = resolve_instance(tiny_classification())
    params = get_formulation("sparse_logistic.perspective").validate(instance, {"k": 2, "lambda2": 0.0})
    assert params["M_source"] == "heuristic" and 0 < params["M"] < math.inf


def test_root_relaxations_recorded_and_perspective_is_stronger():
    """Records carry root values below the optimum; the perspective terms give a root bound at
    least as strong as the same model with λ2‖θ‖² in the objective and only big-M links."""
    import pyomo.environ as pyo

    instance = resolve_instance(tiny_classification(30, 5, 21))
    params = {"k": 2, "lambda2": 2.0}
    record = solve("sparse_logistic.perspective", instance, solver="scip", root_relaxation=True, rel_gap=1e-7, **params)
    assert record.status == "optimal"
    assert record.root_bound is not None and record.root_bound <= record.objective * (1 + 1e-6)
    assert record.root_gap == pytest.approx((record.objective - record.root_bound) / record.objective, rel=1e-6)
    formulation = get_formulation("sparse_logistic.perspective")
    validated = formulation.validate(instance, dict(params))
    model = formulation.build(instance, validated)
    model.rotated_cone.deactivate()
    model.objective.deactivate()
    model.bigm_objective = pyo.Objective(expr=sum(model.row_weight[g] * model.loss[g] for g in model.rows)
                                         + 2.0 * sum(model.theta[j] ** 2 for j in model.features))
    weak = relaxation_bound(model, "MINLP", time_limit=60)
    assert weak.bound is not None
    assert record.root_bound >= weak.bound - 1e-6 * abs(weak.bound)
    assert record.root_bound > weak.bound + 1e-3  # strictly stronger on this instance
    svm = solve("sparse_svm.bigm", instance, solver="scip", root_relaxation=True, k=2)
    assert svm.root_bound is not None and svm.root_bound <= svm.objective * (1 + 1e-6)


def test_highs_is_unsupported_for_these_models():
    for formulation, params in (("sparse_svm.bigm", {"k": 2}), ("sparse_logistic.perspective", {"k": 2})):
        record = solve(formulation, tiny_classification(), solver="highs", **params)
        assert record.status == "unsupported" and "cannot solve" in record.message


@pytest.mark.parametrize("formulation_id", ["sparse_logistic.perspective", "sparse_svm.bigm"])
def test_evaluator_rejects_planted_wrong_solutions(formulation_id):
    formulation = get_formulation(formulation_id)
    instance = resolve_instance(tiny_classification())
    params = formulation.validate(instance, {"k": 2})
    theta = np.array([0.5, 0.0, 0.0, -0.3, 0.0])
    z = np.array([1.0, 0.0, 0.0, 1.0, 0.0])
    good = {"theta": theta, "z": z, "intercept": np.array([0.1])}
    evaluation = formulation.evaluate(instance, params, good)
    assert evaluation.feasible
    X, y = instance.X, instance.y
    s = X @ theta + 0.1
    expected = (np.log1p(np.exp(-y * s)).sum() + params["lambda2"] * theta @ theta
                if formulation_id.startswith("sparse_logistic")
                else 0.5 * theta @ theta + params["lambda1"] * np.maximum(0, 1 - y * s).sum())
    assert evaluation.objective == pytest.approx(expected, rel=1e-12)
    planted = {
        "support_link": {**good, "theta": theta + 0.2 * np.eye(5)[2]},
        "cardinality": {**good, "z": z + np.eye(5)[1]},
        "integrality": {**good, "z": z + 0.4 * np.eye(5)[1]},
        "big_m": {**good, "theta": params["M"] * 1.5 * np.eye(5)[0]},
    }
    if formulation_id == "sparse_svm.bigm":
        r = np.maximum(0, 1 - y * s)
        planted["hinge"] = {**good, "r": r - 0.5 * (r > 0)}
        planted["slack_nonnegative"] = {**good, "r": r - 0.1}
    else:
        planted["intercept_bound"] = {**good, "intercept": np.array([params["intercept_bound"] + 1.0])}
    for kind, solution in planted.items():
        result = formulation.evaluate(instance, params, solution)
        assert not result.feasible, kind
        assert result.violations[kind] > FEASIBILITY_TOL, kind
    no_intercept = formulation.validate(instance, {"k": 2, "intercept": "none"})
    assert formulation.evaluate(instance, no_intercept, good).violations["intercept_fixed"] == pytest.approx(0.1)
    record = ResultRecord(formulation=formulation.id, solver="scip", instance=instance.id, rel_gap=1e-4)
    _fill_from_outcome(record, formulation, instance, params,
                       SolverOutcome("optimal", has_solution=True, objective=1.0, bound=1.0), planted["big_m"])
    assert record.status == "error" and "evaluator found a violation" in record.message


@pytest.mark.parametrize("formulation_id", ["sparse_logistic.perspective", "sparse_svm.bigm"])
@pytest.mark.parametrize(
    "change, params, message",
    [
        (lambda d: {**d, "y": (d["y"] > 0).astype(float)}, {"k": 2}, "-1/\\+1"),
        (lambda d: {**d, "X": np.where(np.eye(*d["X"].shape) > 0, np.nan, d["X"])}, {"k": 2}, "NaN"),
        (lambda d: {**d, "y": -np.ones_like(d["y"])}, {"k": 2}, "both labels"),
        (lambda d: d, {}, "needs k"),
        (lambda d: d, {"k": 2, "M": -1.0}, "M must be a positive"),
        (lambda d: d, {"k": 2, "intercept": "integer"}, "intercept must be one of"),
        (lambda d: d, {"k": 6}, "must be <= 5"),
    ],
)
def test_bad_input_has_clear_errors(formulation_id, change, params, message):
    with pytest.raises(InputError, match=message):
        solve(formulation_id, change(tiny_classification()), solver="scip", **params)


def test_svm_needs_a_positive_hinge_weight():
    with pytest.raises(InputError, match="lambda1"):
        solve("sparse_svm.bigm", tiny_classification(), solver="scip", k=2, lambda1=0.0)


@pytest.mark.parametrize("formulation_id", ["sparse_logistic.perspective", "sparse_svm.bigm"])
def test_decision_expressions_are_per_sample_scores(formulation_id):
    import pyomo.environ as pyo

    formulation = get_formulation(formulation_id)
    instance = resolve_instance(tiny_classification())
    model = formulation.build(instance, formulation.validate(instance, {"k": 2}))
    theta = np.array([0.5, 0.0, 0.0, -0.3, 0.2])
    for j, v in enumerate(theta):
        model.theta[j].value = v
    model.intercept.value = 0.25
    scores = formulation.decision_expressions(model)
    assert len(scores) == instance.X.shape[0]
    np.testing.assert_allclose([pyo.value(scores[i]) for i in range(len(scores))], instance.X @ theta + 0.25)


# -- generator and loaders --------------------------------------------------------------------
def test_generator_is_deterministic_and_follows_the_model():
    a = npz_bytes(synthetic_classification(50, 8, 2, seed=4))
    assert a == npz_bytes(synthetic_classification(50, 8, 2, seed=4)) != npz_bytes(synthetic_classification(50, 8, 2, seed=5))
    data = synthetic_classification(20000, 6, 2, rho=0.3, coef=1.5, intercept=-0.5, seed=0)
    assert set(np.unique(data["y"])) == {-1.0, 1.0}
    assert np.flatnonzero(data["beta_true"]).tolist() == [0, 3] and data["beta_true"][3] == -1.5
    from reference_impl.formulations.sparse_classification import fit_logistic

    theta, b = fit_logistic(data["X"], data["y"], range(6), 0.0)  # the MLE recovers β (loosely)
    assert np.allclose(theta, data["beta_true"], atol=0.1) and abs(b + 0.5) < 0.1
    binary = synthetic_classification(100, 4, 2, binary=True, seed=1)
    assert set(np.unique(binary["X"])) <= {0.0, 1.0}


def test_breast_cancer_loader():
    standard = resolve_instance("breast-cancer")
    assert standard.X.shape == (569, 30) and int((standard.y > 0).sum()) == 212  # 212 malignant
    np.testing.assert_allclose(standard.X.mean(axis=0), 0, atol=1e-12)
    binary = resolve_instance("breast-cancer-binary")
    assert binary.X.shape == (569, 10) and set(np.unique(binary.X)) == {0.0, 1.0}
    assert binary.feature_names[0].startswith("mean radius>")


def test_compas_loader_applies_propublica_filter_and_groups():
    from reference_impl.instances.loaders import get_loader

    arrays = get_loader("compas")()
    assert arrays["X"].shape[0] == 6172  # ProPublica's well-known count
    assert int((arrays["y"] > 0).sum()) == 2809
    names = arrays["group_names"].tolist()
    assert names[int(np.bincount(arrays["group"]).argmax())] == "African-American"
    assert not any(n.startswith("race") for n in arrays["feature_names"].tolist())
    sub = resolve_instance("compas-n200")
    assert sub.X.shape[0] == 200 and sub["group"].shape == (200,)
    np.testing.assert_allclose(sub.X[:, 0].std(), 1.0)


def test_adult_and_german_loaders():
    from reference_impl.instances.loaders import get_loader

    adult = get_loader("adult")(n=500, seed=1)
    assert adult["X"].shape[0] == 500 and adult["group_names"].tolist() == ["Female", "Male"]
    assert not any(n.startswith("sex") for n in adult["feature_names"].tolist())
    german = resolve_instance("german-credit")
    assert german.X.shape[0] == 1000 and int((german.y > 0).sum()) == 700
    assert int(german["group"].sum()) == 690  # 690 men (attribute 9: A91, A93, A94)
    by_age = get_loader("german_credit")(group_by="age", encoding="binary")
    assert by_age["group_names"].tolist() == ["adult", "young"] and set(np.unique(by_age["X"])) == {0.0, 1.0}


def test_missing_classification_data_is_a_clear_error(tmp_path, monkeypatch):
    from reference_impl.instances.library import generate

    monkeypatch.setenv("MIOBENCH_DATA_DIR", str(tmp_path))
    for instance_id in ("compas-n200", "german-credit", "adult-n1000"):
        with pytest.raises(DataMissingError, match="MIOBENCH_DATA_DIR"):
            generate(instance_id)
