"""Fairness (tutorial §5): the constraint library on any Pyomo model, fair sparse regression
(37) proved optimal by enumerating supports × favourable patterns, metrics recomputed from
predictions, one-sided and multi-group variants, planted wrong solutions, bounds, roots."""
import itertools
import math

import numpy as np
import pyomo.environ as pyo
import pytest

from conftest import has_gurobi
from reference_impl import solve
from reference_impl.api import _fill_from_outcome
from reference_impl.errors import InputError
from reference_impl.formulations.base import FEASIBILITY_TOL
from reference_impl.formulations.fairness import (attach_fairness, attach_threshold_link, comparison_gaps,
                                                  fairness_comparisons, fairness_violation,
                                                  favourable_from_predictions)
from reference_impl.formulations.sparse_regression import ridge_fit
from reference_impl.instances import resolve_instance
from reference_impl.instances.generators.gam import synthetic_fair_regression
from reference_impl.record import ResultRecord
from reference_impl.registry import get_formulation
from reference_impl.solvers import SolverOutcome, solve_model

FAST = "gurobi" if has_gurobi() else "scip"
ID = "fairness.sparse_regression"
EPS = 1e-3


# -- independent oracle: supports × favourable patterns, each a convex QP solved exactly -------
def qp_over_polyhedron(Xs, y, lambda2, A, b):
    """min ‖y − Xsθ‖² + λ2‖θ‖² s.t. Aθ ≤ b, exactly (λ2 > 0): the minimiser is the
    equality-constrained minimiser of some active set of at most dim θ rows."""
    s = Xs.shape[1]
    H, g = Xs.T @ Xs + lambda2 * np.eye(s), Xs.T @ y
    best = (math.inf, None)
    for size in range(s + 1):
        for active in itertools.combinations(range(A.shape[0]), size):
            Aa = A[list(active)]
            kkt = np.block([[H, Aa.T], [Aa, np.zeros((size, size))]])
            try:
                theta = np.linalg.solve(kkt, np.concatenate([g, b[list(active)]]))[:s]
            except np.linalg.LinAlgError:
                continue
            if np.all(A @ theta <= b + 1e-9):
                r = y - Xs @ theta
                value = float(r @ r + lambda2 * theta @ theta)
                if value < best[0]:
                    best = (value, theta)
    return best


def fair_optimum(X, y, is_fair, *, k, lambda2, eps=EPS):
    """Optimum of (37) without the box (favourable = prediction ≤ mean(y), ζ = 0 needs ≥ mean + ε):
    every support |S| ≤ k × every fair ζ pattern, the QP of each solved exactly."""
    n, p = X.shape
    t = float(np.mean(y))
    patterns = [z for z in itertools.product([0.0, 1.0], repeat=n) if is_fair(np.array(z))]
    best = (math.inf, None)
    for size in range(k + 1):
        for support in itertools.combinations(range(p), size):
            for z in map(np.array, patterns):
                if size == 0:
                    u = np.full(n, -t)
                    if np.all(np.where(z == 1, u <= 1e-12, u >= eps)) and float(y @ y) < best[0]:
                        best = (float(y @ y), np.zeros(p))
                    continue
                Xs = X[:, list(support)]
                A = np.where(z[:, None] == 1, Xs, -Xs)
                b = np.where(z == 1, t, -(t + eps))
                value, theta_s = qp_over_polyhedron(Xs, y, lambda2, A, b)
                if value < best[0]:
                    theta = np.zeros(p)
                    theta[list(support)] = theta_s
                    best = (value, theta)
    return best


def rate(z, mask):
    return z[mask].mean()


def notion_check(notion, group, y, delta, one_sided=False):
    """Fairness of a favourable pattern z, written out from the tutorial's (36), (39), (40)."""
    truth = y <= np.mean(y)
    sets = {"statistical_parity": [np.ones(y.size, bool)], "predictive_equality": [~truth],
            "equal_opportunity": [truth], "equalized_odds": [~truth, truth]}[notion]
    pairs = [(s & (group == 1), s & (group == 0)) for s in sets]
    pairs = [(a, b) for a, b in pairs if a.any() and b.any()]

    def fair(z):
        gaps = [rate(z, a) - rate(z, b) for a, b in pairs]
        return all((g >= -delta - 1e-12) if one_sided else abs(g) <= delta + 1e-12 for g in gaps)

    return fair


TINY = dict(n=8, p=3, group_share=0.5, shift=1.5, seed=40)
NOTIONS = [("statistical_parity", False), ("statistical_parity", True), ("predictive_equality", False),
           ("equal_opportunity", False), ("equalized_odds", False)]


@pytest.mark.parametrize("notion,one_sided", NOTIONS, ids=lambda v: str(v))
def test_fair_regression_matches_enumeration(notion, one_sided):
    data = synthetic_fair_regression(**TINY)
    X, y, group = data["X"], data["y"], data["group"]
    params = {"k": 2, "lambda2": 0.1, "delta": 0.25, "notion": notion, "one_sided": one_sided}
    best, theta_star = fair_optimum(X, y, notion_check(notion, group, y, 0.25, one_sided), k=2, lambda2=0.1)
    record = solve(ID, data, solver=FAST, time_limit=60, rel_gap=1e-8, **params)
    assert record.status == "optimal", record.message
    assert record.objective == pytest.approx(best, rel=1e-5)
    assert record.bound <= best * (1 + 1e-6) + 1e-9
    assert record.max_violation <= FEASIBILITY_TOL
    # the derived box is valid: the unboxed optimum lies inside it
    assert record.extra["M_source"] == "derived" and np.abs(theta_star).max() <= record.extra["M"]


def test_statistical_parity_binds_on_the_tiny_instance():
    """The unconstrained optimum (7) is unfair here (so the enumeration test can fail)."""
    data = synthetic_fair_regression(**TINY)
    X, y, group = data["X"], data["y"], data["group"]
    plain = solve("sparse_regression.perspective", {"X": X, "y": y}, solver=FAST, rel_gap=1e-8, k=2, lambda2=0.1)
    theta = ridge_fit(X, y, plain.extra["support"], 0.1)
    z = (X @ theta <= y.mean()).astype(float)
    assert abs(rate(z, group == 1) - rate(z, group == 0)) > 0.25
    fair = solve(ID, data, solver=FAST, rel_gap=1e-8, k=2, lambda2=0.1, delta=0.25)
    assert fair.objective > plain.objective * 1.05


def test_scip_and_gurobi_agree_and_root_relaxation_is_recorded():
    """Two independent solvers on a larger instance (n = 40): same optimum, bounds below it."""
    instance = resolve_instance("fairreg-n40-p5")
    params = {"k": 2, "lambda2": 0.1, "delta": 0.1}
    scip = solve(ID, instance, solver="scip", time_limit=120, rel_gap=1e-6, root_relaxation=True, **params)
    assert scip.status == "optimal", scip.message
    assert scip.root_bound is not None and scip.root_bound <= scip.objective * (1 + 1e-6)
    assert scip.root_gap > 0  # the big-M link (37e) has a weak relaxation
    if has_gurobi():
        gurobi = solve(ID, instance, solver="gurobi", time_limit=60, rel_gap=1e-6, **params)
        assert gurobi.status == "optimal", gurobi.message
        assert scip.objective == pytest.approx(gurobi.objective, rel=1e-5)
        assert max(scip.bound, gurobi.bound) <= min(scip.objective, gurobi.objective) * (1 + 1e-5)


# -- metrics recomputed from predictions ---------------------------------------------------
def _groups_from_predictions(instance, record, group):
    theta = np.asarray(record.extra["theta"])
    prediction = instance.X @ theta
    return (prediction <= instance.y.mean() + EPS / 2).astype(float)


@pytest.mark.parametrize("notion", ["statistical_parity", "conditional_statistical_parity", "predictive_equality",
                                    "equal_opportunity", "equalized_odds"])
def test_every_notion_holds_on_predictions(notion):
    instance = resolve_instance("fairreg-n40-p5")
    delta = 0.1
    record = solve(ID, instance, solver=FAST, time_limit=60, k=2, lambda2=0.1, delta=delta, notion=notion)
    assert record.status == "optimal", record.message
    group, y, stratum = instance["group"], instance.y, instance["stratum"]
    z = _groups_from_predictions(instance, record, group)
    truth = y <= y.mean()
    masks = {"statistical_parity": [np.ones(y.size, bool)],
             "conditional_statistical_parity": [stratum == 0, stratum == 1],
             "predictive_equality": [~truth], "equal_opportunity": [truth],
             "equalized_odds": [~truth, truth]}[notion]
    for mask in masks:
        assert abs(rate(z, mask & (group == 1)) - rate(z, mask & (group == 0))) <= delta + 1e-12
    assert len(record.extra["fairness_gaps"]) == len(masks)


def test_one_sided_and_multi_group_variants():
    instance = resolve_instance("fairreg-n40-p5")
    arrays = dict(instance.arrays)
    # three groups: the protected group, and the rest split by the stratum
    arrays["group"] = np.where(arrays["group"] == 1, 2, arrays["stratum"])
    multi = solve(ID, arrays, solver=FAST, k=2, lambda2=0.1, delta=0.15)
    assert multi.status == "optimal", multi.message
    z = _groups_from_predictions(resolve_instance(arrays), multi, arrays["group"])
    for g in (0, 1, 2):  # every group against the rest of the population (Kearns et al. 2018)
        assert abs(rate(z, arrays["group"] == g) - rate(z, arrays["group"] != g)) <= 0.15 + 1e-12
    assert len(multi.extra["fairness_gaps"]) == 3
    # one-sided: only the protected group's rate is protected; it may exceed the others' freely
    one = solve(ID, instance, solver=FAST, k=2, lambda2=0.1, delta=0.05, one_sided=True)
    two = solve(ID, instance, solver=FAST, k=2, lambda2=0.1, delta=0.05)
    z = _groups_from_predictions(instance, one, instance["group"])
    assert rate(z, instance["group"] == 1) >= rate(z, instance["group"] == 0) - 0.05 - 1e-12
    assert one.objective <= two.objective * (1 + 1e-6)


# -- the library on any Pyomo model ----------------------------------------------------------
def test_library_attaches_to_any_model_and_forces_zeta():
    """Fixed predictions on a bare MILP (HiGHS): the link forces ζ = 1[prediction ≤ t] and the
    fairness rows make an unfair pattern infeasible."""
    prediction = np.array([-1.0, -0.5, 0.4, 2.0, -2.0, 0.8])
    group = np.array([1, 1, 1, 0, 0, 0])
    comparisons, skipped = fairness_comparisons("statistical_parity", group)
    assert not skipped and comparisons[0].first.tolist() == [0, 1, 2]

    def model(delta):
        m = pyo.ConcreteModel()
        m.i = pyo.RangeSet(0, 5)
        m.zeta = pyo.Var(m.i, domain=pyo.Binary)
        m.pred = pyo.Param(m.i, initialize=dict(enumerate(prediction.tolist())))
        attach_threshold_link(m, m.zeta, m.pred, m.i, 0.0, np.abs(prediction), epsilon=EPS)
        attach_fairness(m, m.zeta, comparisons, delta)
        m.objective = pyo.Objective(expr=pyo.quicksum(m.zeta[i] for i in m.i), sense=pyo.maximize)
        return m

    m = model(0.5)
    outcome = solve_model(m, "highs", problem_class="MILP")
    assert outcome.status == "optimal"
    zeta = np.array([pyo.value(m.zeta[i]) for i in m.i])
    np.testing.assert_allclose(zeta, favourable_from_predictions(prediction, 0.0, EPS))
    np.testing.assert_allclose(comparison_gaps(zeta, comparisons), [2 / 3 - 1 / 3])
    assert solve_model(model(0.2), "highs", problem_class="MILP").status == "infeasible"


def test_comparison_sets_by_notion():
    group = np.array([1, 1, 0, 0, 0, 1])
    truth = np.array([True, False, True, False, True, True])
    stratum = np.array([0, 1, 0, 1, 1, 0])
    sets = lambda notion, **kw: [(c.first.tolist(), c.second.tolist())  # noqa: E731
                                 for c in fairness_comparisons(notion, group, **kw)[0]]
    assert sets("statistical_parity") == [([0, 1, 5], [2, 3, 4])]
    assert sets("conditional_statistical_parity", stratum=stratum) == [([0, 5], [2]), ([1], [3, 4])]
    assert sets("predictive_equality", true_favourable=truth) == [([1], [3])]
    assert sets("equal_opportunity", true_favourable=truth) == [([0, 5], [2, 4])]
    assert sets("equalized_odds", true_favourable=truth) == [([1], [3]), ([0, 5], [2, 4])]
    assert sets("statistical_parity", protected=0) == [([2, 3, 4], [0, 1, 5])]
    multi = fairness_comparisons("statistical_parity", np.array([0, 1, 2, 2, 1, 0]))[0]
    assert [c.first.tolist() for c in multi] == [[0, 5], [1, 4], [2, 3]]
    # a side left empty is skipped and reported
    _, skipped = fairness_comparisons("conditional_statistical_parity", group, stratum=np.array([0, 0, 0, 1, 1, 0]))
    assert len(skipped) == 1 and "w=1" in skipped[0]
    z = np.array([1.0, 0.0, 1.0, 1.0, 1.0, 1.0])
    assert fairness_violation(z, fairness_comparisons("statistical_parity", group)[0], 0.2) == pytest.approx(
        abs(2 / 3 - 1.0) - 0.2)
    assert fairness_violation(z, fairness_comparisons("statistical_parity", group)[0], 0.2, one_sided=True) > 0
    assert fairness_violation(1 - z, fairness_comparisons("statistical_parity", group)[0], 0.2, one_sided=True) == 0


# -- evaluator: planted wrong solutions --------------------------------------------------------
def test_evaluator_catches_planted_wrong_solutions():
    formulation = get_formulation(ID)
    instance = resolve_instance("fairreg-n40-p5")
    params = formulation.validate(instance, {"k": 2, "lambda2": 0.1, "delta": 0.1})
    record = solve(ID, instance, solver=FAST, k=2, lambda2=0.1, delta=0.1)
    theta = np.asarray(record.extra["theta"])
    z = (theta != 0).astype(float)
    zeta = favourable_from_predictions(instance.X @ theta, params["threshold_value"], EPS)
    good = {"theta": theta, "z": z, "zeta": zeta}
    assert formulation.evaluate(instance, params, good).feasible

    flipped = zeta.copy()
    flipped[0] = 1 - flipped[0]  # ζ disagrees with the prediction
    wrong_link = formulation.evaluate(instance, params, {**good, "zeta": flipped})
    assert wrong_link.violations["prediction_link"] > FEASIBILITY_TOL and not wrong_link.feasible

    # the unfair model (7) with its own, consistent ζ: only the fairness rows are violated
    plain = ridge_fit(instance.X, instance.y, [0, 1], 0.1)
    plain_zeta = favourable_from_predictions(instance.X @ plain, params["threshold_value"], EPS)
    unfair = formulation.evaluate(instance, params, {"theta": plain, "z": (plain != 0).astype(float),
                                                      "zeta": plain_zeta})
    assert unfair.violations["fairness"] > FEASIBILITY_TOL
    assert unfair.violations["fairness_from_predictions"] > FEASIBILITY_TOL
    assert unfair.violations["prediction_link"] <= FEASIBILITY_TOL

    fractional = formulation.evaluate(instance, params, {**good, "zeta": np.where(zeta == 1, 0.6, zeta)})
    assert fractional.violations["zeta_integrality"] > FEASIBILITY_TOL

    # a prediction inside the margin band fits neither ζ value
    shifted = theta.copy()
    j = int(np.flatnonzero(theta)[0])
    i = int(np.argmax(np.abs(instance.X[:, j])))
    shifted[j] += (params["threshold_value"] + EPS / 2 - instance.X[i] @ theta) / instance.X[i, j]
    band = formulation.evaluate(instance, params, {**good, "theta": shifted})
    assert band.violations["prediction_link"] > FEASIBILITY_TOL

    claimed = ResultRecord(formulation=ID, solver="scip", instance=instance.id, rel_gap=1e-4)
    _fill_from_outcome(claimed, formulation, instance, params,
                       SolverOutcome("optimal", has_solution=True, objective=1.0, bound=1.0),
                       {"theta": plain, "z": (plain != 0).astype(float), "zeta": plain_zeta})
    assert claimed.status == "error" and "evaluator found a violation" in claimed.message


def test_input_errors():
    instance = resolve_instance("fairreg-n40-p5")
    with pytest.raises(InputError, match="delta"):
        solve(ID, instance, k=2, delta=1.5)
    with pytest.raises(InputError, match="notion must be one of"):
        solve(ID, instance, k=2, notion="calibration")
    with pytest.raises(InputError, match="epsilon"):
        solve(ID, instance, k=2, epsilon=0.0)
    with pytest.raises(InputError, match="no array 'group'"):
        solve(ID, {"X": instance.X, "y": instance.y}, k=2)
    with pytest.raises(InputError, match="stratum"):
        solve(ID, {"X": instance.X, "y": instance.y, "group": instance["group"]}, k=2,
              notion="conditional_statistical_parity")
    with pytest.raises(InputError, match="does not occur"):
        solve(ID, instance, k=2, protected=7)


# -- host: fair sparse SVM ((9) + §5) --------------------------------------------------------
SVM = "fairness.sparse_svm"


def _svm_favourable(instance, record):
    scores = instance.X @ np.asarray(record.extra["theta"]) + record.extra["intercept"]
    return (scores >= -EPS / 2).astype(float)


def test_fair_svm_scip_and_gurobi_agree_and_parity_holds_on_predictions():
    instance = resolve_instance("fairclf-n40-p5")
    group = instance["group"]
    params = {"k": 2, "delta": 0.1}
    scip = solve(SVM, instance, solver="scip", time_limit=120, rel_gap=1e-6, root_relaxation=True, **params)
    assert scip.status == "optimal", scip.message
    assert scip.root_bound is not None and scip.root_bound <= scip.objective * (1 + 1e-6)
    z = _svm_favourable(instance, scip)
    assert abs(rate(z, group == 1) - rate(z, group == 0)) <= 0.1 + 1e-12
    # the unconstrained SVM (9) is unfair here, so the constraint binds; δ = 1 imposes nothing
    # (only the margin band of (37e)) and must reproduce (9)'s optimum, whose θ it reports
    plain = solve("sparse_svm.bigm", {"X": instance.X, "y": instance.y}, solver=FAST, rel_gap=1e-7, k=2)
    loose = solve(SVM, instance, solver=FAST, rel_gap=1e-7, k=2, delta=1.0)
    assert loose.objective == pytest.approx(plain.objective, rel=1e-4)
    z_plain = _svm_favourable(instance, loose)
    assert abs(rate(z_plain, group == 1) - rate(z_plain, group == 0)) > 0.1
    assert scip.objective > plain.objective * 1.2
    if has_gurobi():
        gurobi = solve(SVM, instance, solver="gurobi", time_limit=60, rel_gap=1e-6, **params)
        assert gurobi.status == "optimal", gurobi.message
        assert scip.objective == pytest.approx(gurobi.objective, rel=1e-5)
        assert max(scip.bound, gurobi.bound) <= min(scip.objective, gurobi.objective) * (1 + 1e-5)


def test_fair_svm_equalized_odds_on_predictions_and_planted_unfair_solution():
    instance = resolve_instance("fairclf-n40-p5")
    group, truth = instance["group"], instance.y > 0
    record = solve(SVM, instance, solver=FAST, rel_gap=1e-6, k=2, delta=0.1, notion="equalized_odds")
    assert record.status == "optimal", record.message
    z = _svm_favourable(instance, record)
    for mask in (truth, ~truth):
        assert abs(rate(z, mask & (group == 1)) - rate(z, mask & (group == 0))) <= 0.1 + 1e-12
    formulation = get_formulation(SVM)
    params = formulation.validate(instance, {"k": 2, "delta": 0.1})
    loose = solve(SVM, instance, solver=FAST, rel_gap=1e-6, k=2, delta=1.0)  # no fairness: (9)'s optimum
    theta, intercept = np.asarray(loose.extra["theta"]), loose.extra["intercept"]
    scores = instance.X @ theta + intercept
    zeta = (scores >= 0).astype(float)
    solution = {"theta": theta, "z": (theta != 0).astype(float), "intercept": np.array([intercept]), "zeta": zeta}
    evaluation = formulation.evaluate(instance, params, solution)
    assert evaluation.violations["fairness"] > FEASIBILITY_TOL
    assert evaluation.violations["fairness_from_predictions"] > FEASIBILITY_TOL
    assert evaluation.violations["prediction_link"] <= FEASIBILITY_TOL


# -- fairness.sparse_svm with a user-given box: the intercept bound must come from a point inside it
def _fsvm_box_instance():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(8, 2))
    y = np.where(X[:, 0] > -0.3, 1.0, -1.0)
    y[0], y[1] = 1.0, -1.0
    return {"X": X, "y": y, "group": np.array([0, 0, 0, 0, 1, 1, 1, 1])}


def test_fair_svm_intercept_bound_respects_a_user_box():
    """δ = 1 (no fairness restriction): with |θ| ≤ M = 0.05 the optimum equals sparse_svm.bigm's
    with the same M; an intercept bound derived from the unboxed SVC refit cut it off."""
    data = _fsvm_box_instance()
    solver = "gurobi" if has_gurobi() else "scip"
    plain = solve("sparse_svm.bigm", {"X": data["X"], "y": data["y"]}, solver=solver, time_limit=20, rel_gap=1e-8,
                  k=2, lambda1=1.0, M=0.05)
    fair = solve("fairness.sparse_svm", data, solver=solver, time_limit=20, rel_gap=1e-8, k=2, lambda1=1.0,
                 delta=1.0, M=0.05)
    assert plain.status == "optimal" and fair.status == "optimal", fair.message
    assert fair.objective == pytest.approx(plain.objective, rel=1e-6)
    assert abs(fair.extra["intercept"]) < fair.extra["effective_params"]["intercept_bound"]


def test_fair_svm_intercept_bound_is_settable_and_warnings_are_joined():
    data = _fsvm_box_instance()
    formulation = get_formulation("fairness.sparse_svm")
    instance = resolve_instance(data)
    params = formulation.validate(instance, {"k": 2, "delta": 1.0, "M": 0.05, "intercept_bound": 0.5})
    assert params["intercept_bound"] == 0.5 and params["intercept_bound_source"] == "given"
    with pytest.raises(InputError):
        formulation.validate(instance, {"k": 2, "M": 0.05, "intercept_bound": float("inf")})
    # a solution where both the box and the intercept bound bind: both warnings survive
    solution = {"theta": np.array([0.05, 0.0]), "z": np.array([1.0, 0.0]), "intercept": np.array([0.5]),
                "zeta": (data["X"] @ np.array([0.05, 0.0]) + 0.5 >= 0).astype(float)}
    warning = formulation.evaluate(instance, params, solution).info["warning"]
    assert "big-M bound the solution" in warning and "intercept reached intercept_bound" in warning


# -- group labels: strings are factorised, missing labels rejected
def _group_data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(12, 3))
    y = X[:, 0] + 0.3 * rng.normal(size=12)
    return X, y - y.mean()


def test_string_groups_are_factorised_like_integer_groups():
    X, y = _group_data()
    codes = np.array([0, 1] * 6)
    by_int = solve("fairness.sparse_regression", {"X": X, "y": y, "group": codes}, solver="scip", time_limit=20,
                   rel_gap=1e-8, k=2, lambda2=0.1, delta=0.1)
    by_str = solve("fairness.sparse_regression", {"X": X, "y": y, "group": np.where(codes == 1, "b", "a")},
                   solver="scip", time_limit=20, rel_gap=1e-8, k=2, lambda2=0.1, delta=0.1)
    assert by_int.status == by_str.status == "optimal", by_str.message
    assert by_str.objective == pytest.approx(by_int.objective, rel=1e-6)
    assert set(by_str.extra["favourable_share"]) == {"a", "b"}


@pytest.mark.parametrize("group", [np.array([0, 1] * 5 + [np.nan, 1.0]),
                                   np.array(["a", "b"] * 5 + [None, "a"], dtype=object)], ids=["nan", "none"])
@pytest.mark.parametrize("formulation", ["fairness.sparse_regression", "fairness.sparse_svm"])
def test_missing_group_labels_are_input_errors(formulation, group):
    X, y = _group_data()
    if formulation == "fairness.sparse_svm":
        y = np.where(y > 0, 1.0, -1.0)
    with pytest.raises(InputError, match="missing"):
        get_formulation(formulation).validate(resolve_instance({"X": X, "y": y, "group": group}), {"k": 2})
