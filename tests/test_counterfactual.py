"""Sparse counterfactual explanations, tutorial (22) (``counterfactual.sparse``), over linear
models and ReLU networks (the shared embedding of ``formulations/_model_embedding.py``).

What is proved here, independently of every solver in the project:
(a) on tiny models the MILP optimum (HiGHS, SCIP, Gurobi when installed) equals the minimum
    over every set S of changed features (|S| ≤ k, immutable features never in S) and, for a
    ReLU network, every activation pattern: each (S, pattern) is one LP (scipy's linprog)
    min Σ cⱼ|xⱼ − x̄ⱼ| + λ0|S| with xⱼ = x̄ⱼ outside S;
(b) the counterfactual the solver returns gets the desired class from the model's own forward
    pass and, for a scikit-learn LogisticRegression read by ``from_sklearn``, from
    scikit-learn's ``predict``;
(c) the evaluator flags an unmarked change, a changed immutable feature, a point outside the
    actionable box, a point that misses the class, a cardinality excess, and recomputes the cost;
(d) a point already of the desired class is one InputError; an actionability set from which
    the class cannot be reached ends ``infeasible`` (and the enumeration agrees: no LP feasible);
    bad hyperparameters and instance arrays are one InputError each;
(e) over tree ensembles (leaf indicators) the optimum equals the cheapest point over every cell
    of the split grid (the ensemble is constant on a cell, the cost separable: clip(x̄, cell)),
    also for a scikit-learn RandomForestClassifier, whose own ``predict`` confirms the class;
    the evaluator flags wrong leaves and points inside the gap around a threshold.
"""
from __future__ import annotations

import itertools
from functools import lru_cache

import numpy as np
import pytest

from conftest import has_gurobi
from reference_impl import solve
from reference_impl.errors import InputError
from reference_impl.formulations._model_embedding import (TREE_GAP, class_margin, from_sklearn, model_to_arrays,
                                                          network_to_arrays, predict_class, predict_scores,
                                                          read_model_instance)
from reference_impl.formulations.base import FEASIBILITY_TOL
from reference_impl.formulations.counterfactual import actionability
from reference_impl.instances import resolve_instance
from reference_impl.instances.generators.networks import trained_linear_model
from reference_impl.instances.library import generate
from reference_impl.registry import get_formulation
from test_verification import pattern_lp

CF = "counterfactual.sparse"
SOLVERS = ["highs", "scip"] + (["gurobi"] if has_gurobi() else [])


@lru_cache(maxsize=None)
def instance_arrays(instance_id: str) -> dict:
    return dict(generate(instance_id).arrays)


def agrees(value: float, optimum: float, rel: float = 1e-5) -> bool:
    return abs(value - optimum) <= rel * max(1.0, abs(optimum))


def counterfactual_optimum(arrays: dict, *, target: int, lambda0: float, k: int | None = None, margin: float = 1e-3):
    """min over changed sets S and activation patterns of one LP each: (value, x, S)."""
    instance = resolve_instance(arrays)
    model = read_model_instance(instance)
    cost, immutable, lo, hi = actionability(instance, model)
    network, x_bar = model.network, model.x_bar
    d = network.n_inputs
    mutable = [j for j in range(d) if not immutable[j]]
    best = (np.inf, None, None)
    for size in range(0, len(mutable) + 1 if k is None else min(k, len(mutable)) + 1):
        for S in itertools.combinations(mutable, size):
            fixed = [j for j in range(d) if j not in S]
            for pattern in itertools.product((0, 1), repeat=network.n_hidden):
                value, x = pattern_lp(network, pattern, x_bar, lo, hi, target, margin, "l1", fixed=fixed, cost=cost)
                value += lambda0 * size
                if value < best[0]:
                    best = (value, x, S)
    return best


# -- (a) brute force --------------------------------------------------------------------------------
CASES = [("linear-d3-c2", {"lambda0": 0.0}), ("linear-d3-c2", {"lambda0": 0.5}),
         ("linear-d6-c2-immutable", {"lambda0": 0.3}), ("linear-d4-c3", {"lambda0": 0.1, "k": 1}),
         ("linear-d4-c3", {"lambda0": 0.1, "target": 2}),
         ("relu-d2-h4-c2", {"lambda0": 0.1}), ("relu-d2-h4-c2", {"lambda0": 1.0, "bounds": "lp"}),
         ("relu-d4-h6-c2-immutable", {"lambda0": 0.5, "k": 2})]


@pytest.mark.parametrize(("instance_id", "params"), CASES, ids=[f"{i}-{p}" for i, p in CASES])
def test_milp_optimum_equals_enumeration_of_changed_sets_and_patterns(instance_id, params):
    arrays = instance_arrays(instance_id)
    model = read_model_instance(generate(instance_id))
    target = params.get("target", model.runner_up())
    optimum, x_star, S = counterfactual_optimum(arrays, target=target, lambda0=params["lambda0"], k=params.get("k"))
    assert np.isfinite(optimum) and predict_class(model.network, x_star) == target
    for solver in SOLVERS:
        solution: dict = {}
        record = solve(CF, arrays, solver=solver, time_limit=60, solution_out=solution, **params)
        assert record.status == "optimal", (solver, record.message)
        assert agrees(record.objective, optimum), (solver, record.objective, optimum, S)
        assert record.max_violation <= FEASIBILITY_TOL
        assert predict_class(model.network, solution["x"]) == target
        assert record.extra["predicted_class"] == target


def test_sparsity_penalty_trades_distance_for_fewer_changes():
    arrays = instance_arrays("linear-d6-c2-immutable")
    dense = solve(CF, arrays, solver="highs", lambda0=0.0)
    sparse = solve(CF, arrays, solver="highs", lambda0=5.0)
    assert sparse.extra["n_changed"] <= dense.extra["n_changed"]
    assert sparse.extra["weighted_l1"] >= dense.extra["weighted_l1"] - 1e-9
    assert 0 not in dense.extra["changed_features"] and 3 not in dense.extra["changed_features"]  # immutable


def test_per_feature_costs_weight_the_distance():
    """Per-feature costs (one free feature, the others 10): the optimum is still the enumerated one."""
    arrays = dict(instance_arrays("linear-d3-c2"))
    W = arrays["W0"][0]
    cheap = int(np.argmin(np.abs(W)))  # the weakest feature: the most expensive by default
    cost = np.full(3, 10.0)
    cost[cheap] = 0.0
    arrays["cost"] = cost
    optimum, _, S = counterfactual_optimum(arrays, target=1, lambda0=0.0)
    record = solve(CF, arrays, solver="scip", lambda0=0.0)
    assert record.status == "optimal" and agrees(record.objective, optimum)
    plain, _, _ = counterfactual_optimum({k: v for k, v in arrays.items() if k != "cost"}, target=1, lambda0=0.0)
    assert not agrees(optimum, plain)  # the costs matter on this instance


# -- (b) an independent model: scikit-learn ------------------------------------------------------------
def test_counterfactual_of_a_scikit_learn_logistic_regression():
    from sklearn.linear_model import LogisticRegression

    data = trained_linear_model(60, 4, n_classes=3, seed=7)
    X, y = data["X"], data["y"].astype(int)
    for labels in (y, (y == 2).astype(int)):
        fitted = LogisticRegression(max_iter=2000).fit(X, labels)
        network = from_sklearn(fitted)
        x_bar = X[0]
        start = int(fitted.predict(x_bar[None])[0])
        arrays = {**network_to_arrays(network), "X": X, "y": labels.astype(float), "x_bar": x_bar,
                  "x_lower": data["x_lower"], "x_upper": data["x_upper"]}
        for target in sorted(set(range(len(fitted.classes_))) - {start}):
            solution: dict = {}
            record = solve(CF, arrays, solver="highs", time_limit=60, target=target, lambda0=0.1, margin=1e-2,
                           solution_out=solution)
            assert record.status == "optimal", record.message
            assert int(fitted.predict(solution["x"][None])[0]) == target
            optimum, _, _ = counterfactual_optimum(arrays, target=target, lambda0=0.1, margin=1e-2)
            assert agrees(record.objective, optimum)


# -- (c) the evaluator -------------------------------------------------------------------------------
def _solved(instance_id, **params):
    arrays = instance_arrays(instance_id)
    solution: dict = {}
    record = solve(CF, arrays, solver="highs", time_limit=60, solution_out=solution, **params)
    assert record.status == "optimal"
    formulation = get_formulation(CF)
    instance = resolve_instance(arrays)
    return formulation, instance, formulation.validate(instance, dict(params)), solution, record


def test_evaluator_recomputes_and_flags():
    formulation, instance, params, solution, record = _solved("relu-d4-h6-c2-immutable", lambda0=0.5, k=2)
    base = formulation.evaluate(instance, params, solution)
    assert base.feasible and agrees(base.objective, record.objective)
    x_bar = instance.arrays["x_bar"]
    changed = np.flatnonzero(solution["z"] > 0.5)
    assert agrees(base.objective, float(np.sum(np.abs(solution["x"] - x_bar))) + 0.5 * len(changed))
    unmarked = {**solution, "z": np.zeros_like(solution["z"])}
    assert formulation.evaluate(instance, params, unmarked).violations["support_link"] > 1e-3
    back = {**solution, "x": x_bar.copy(), "z": np.zeros_like(solution["z"])}  # the class is not reached
    assert formulation.evaluate(instance, params, back).violations["target_margin"] > 1e-3
    moved = solution["x"].copy()
    moved[0] += 0.3                                                        # feature 0 is immutable
    ev = formulation.evaluate(instance, params, {**solution, "x": moved})
    assert ev.violations["immutable"] == pytest.approx(0.3)
    outside = solution["x"].copy()
    outside[changed[0]] = 100.0
    assert formulation.evaluate(instance, params, {**solution, "x": outside}).violations["actionable_box"] > 90
    every = {**solution, "z": np.where(instance.arrays["immutable"] == 1, 0.0, 1.0)}
    assert formulation.evaluate(instance, params, every).violations["cardinality"] == 1.0
    half = {**solution, "z": np.full_like(solution["z"], 0.5)}
    assert formulation.evaluate(instance, params, half).violations["integrality"] == 0.5
    flipped = {**solution, "active": 1.0 - solution["active"]}
    assert formulation.evaluate(instance, params, flipped).violations["activation_link"] > FEASIBILITY_TOL
    with pytest.raises(InputError, match="length"):
        formulation.evaluate(instance, params, {**solution, "h": solution["h"][:2]})


def test_linear_model_solution_has_no_hidden_arrays():
    formulation, instance, params, solution, record = _solved("linear-d3-c2", lambda0=0.1)
    assert solution["h"].shape == (0,) and solution["active"].shape == (0,)
    assert set(record.extra["changed_features"]) == set(np.flatnonzero(solution["z"] > 0.5).tolist())
    assert record.extra["model"] == "linear"


# -- (d) bad input and infeasibility ------------------------------------------------------------------
def test_point_already_of_the_desired_class_is_an_input_error():
    model = read_model_instance(generate("linear-d3-c2"))
    with pytest.raises(InputError, match="already classified as the desired class"):
        solve(CF, instance_arrays("linear-d3-c2"), solver="highs", target=model.predicted)


def test_cli_point_already_of_the_desired_class_exits_2(capsys):
    from reference_impl.cli import main

    model = read_model_instance(generate("relu-d2-h4-c2"))
    assert main(["solve", CF, "--instance", "relu-d2-h4-c2", "--solver", "highs",
                 "--param", f"target={model.predicted}"]) == 2
    err = capsys.readouterr().err
    assert "already classified as the desired class" in err and "Traceback" not in err


@pytest.mark.parametrize("instance_id", ["linear-d3-c2", "relu-d2-h4-c2"])
def test_unreachable_class_under_actionability_is_infeasible(instance_id):
    arrays = dict(instance_arrays(instance_id))
    d = len(arrays["x_bar"])
    # only feature 0 may move, and only by 0.01 either way
    arrays["immutable"] = np.array([0] + [1] * (d - 1), dtype=np.int64)
    arrays["action_lower"] = arrays["x_bar"] - 0.01
    arrays["action_upper"] = arrays["x_bar"] + 0.01
    target = read_model_instance(generate(instance_id)).runner_up()
    optimum, _, _ = counterfactual_optimum(arrays, target=target, lambda0=0.1)
    assert optimum == np.inf
    for solver in ("highs", "scip"):
        record = solve(CF, arrays, solver=solver, time_limit=30, lambda0=0.1)
        assert record.status == "infeasible", (solver, record.status, record.message)


def test_bad_input_is_one_input_error():
    arrays = instance_arrays("relu-d2-h4-c2")
    cases = [({"lambda0": -1.0}, "lambda0 must be >= 0"), ({"k": 0}, "k must be >= 1"), ({"k": 3}, "must be <= 2"),
             ({"margin": "big"}, "margin must be a number"), ({"bounds": "exact"}, "bounds must be one of"),
             ({"target": 7}, "must be <= 1")]
    for params, match in cases:
        with pytest.raises(InputError, match=match):
            solve(CF, arrays, solver="highs", **params)
    d = len(arrays["x_bar"])
    bad_arrays = [({"cost": -np.ones(d)}, "nonnegative"), ({"cost": np.ones(d + 1)}, "cost must hold"),
                  ({"immutable": np.full(d, 2)}, "0/1 mask"), ({"action_lower": arrays["x_lower"]}, "both action_lower"),
                  ({"action_lower": arrays["x_upper"], "action_upper": arrays["x_lower"]}, "actionable box is empty"),
                  ({"W1": np.ones((2, 5))}, "W1 takes 5 inputs")]
    for change, match in bad_arrays:
        with pytest.raises(InputError, match=match):
            solve(CF, {**arrays, **change}, solver="highs")


# -- tree ensembles: every cell of the split grid --------------------------------------------------
def tree_counterfactual_optimum(arrays: dict, *, target: int, lambda0: float, k: int | None = None,
                                margin: float = 1e-3, gap: float = TREE_GAP):
    """min over the cells of the ensemble's split grid (per feature: the intervals between its
    thresholds, each kept ``gap`` off them) of the cheapest point of the cell, clip(x̄, cell), when
    the ensemble gives it the target by ``margin``: (value, x). The ensemble is constant on a
    cell and the cost separable, so this is exact."""
    instance = resolve_instance(arrays)
    model = read_model_instance(instance)
    ensemble, x_bar = model.network, model.x_bar
    cost, immutable, lo, hi = actionability(instance, model)
    split = ensemble.feature >= 0
    intervals = []
    for j in range(ensemble.n_inputs):
        taus = np.unique(ensemble.threshold[split & (ensemble.feature == j)])
        assert np.all(np.abs(x_bar[j] - taus) > gap)  # x̄ is not inside a gap: the grid's cells are exact
        assert np.all(np.diff(taus) > 2 * gap)
        edges = [(lo[j], np.inf)] + [(t + gap, t - gap) for t in taus] + [(-np.inf, hi[j])]
        cells = [(max(a[0], lo[j]), min(b[1], hi[j])) for a, b in zip(edges[:-1], edges[1:])]
        intervals.append([(a, b) for a, b in cells if a <= b])
    best = (np.inf, None)
    for cell in itertools.product(*intervals):
        x = np.array([min(max(x_bar[j], a), b) for j, (a, b) in enumerate(cell)])
        changed = int(np.sum(x != x_bar))
        if k is not None and changed > k:
            continue
        scores = predict_scores(ensemble, x)
        if class_margin(scores, target) < margin - 1e-12:
            continue
        value = float(np.sum(cost * np.abs(x - x_bar))) + lambda0 * changed
        if value < best[0]:
            best = (value, x)
    return best


TREE_CASES = [("forest-d2-t3-c2", {"lambda0": 0.1}), ("forest-d2-t3-c2", {"lambda0": 2.0}),
              ("forest-d3-t5-c3", {"lambda0": 0.1}), ("forest-d3-t5-c3", {"lambda0": 0.1, "target": 2, "k": 1}),
              ("forest-d4-t10-c2", {"lambda0": 0.5})]


@pytest.mark.parametrize(("instance_id", "params"), TREE_CASES, ids=[f"{i}-{p}" for i, p in TREE_CASES])
def test_tree_ensemble_optimum_equals_enumeration_of_cells(instance_id, params):
    arrays = instance_arrays(instance_id)
    model = read_model_instance(generate(instance_id))
    target = params.get("target", model.runner_up())
    optimum, x_star = tree_counterfactual_optimum(arrays, target=target, lambda0=params["lambda0"], k=params.get("k"))
    assert np.isfinite(optimum) and predict_class(model.network, x_star) == target
    for solver in SOLVERS:
        solution: dict = {}
        record = solve(CF, arrays, solver=solver, time_limit=60, solution_out=solution, **params)
        assert record.status == "optimal", (solver, record.message)
        assert agrees(record.objective, optimum), (solver, record.objective, optimum)
        assert record.max_violation <= FEASIBILITY_TOL
        assert predict_class(model.network, solution["x"]) == target
        assert set(solution) == {"x", "z", "leaf"}


def test_counterfactual_of_a_scikit_learn_random_forest():
    from sklearn.ensemble import RandomForestClassifier

    data = trained_linear_model(60, 2, n_classes=3, seed=4)
    X, y = data["X"], data["y"].astype(int)
    forest = RandomForestClassifier(n_estimators=3, max_depth=2, random_state=0).fit(X, y)
    ensemble = from_sklearn(forest)
    assert np.array_equal(forest.classes_[predict_class(ensemble, X)], forest.predict(X))
    x_bar = X[1]
    start = int(forest.predict(x_bar[None])[0])
    arrays = {**model_to_arrays(ensemble), "X": X, "y": data["y"], "x_bar": x_bar,
              "x_lower": data["x_lower"], "x_upper": data["x_upper"]}
    reached = 0
    for target in sorted(set(range(3)) - {start}):
        optimum, _ = tree_counterfactual_optimum(arrays, target=target, lambda0=0.1)
        solution: dict = {}
        record = solve(CF, arrays, solver="highs", time_limit=60, target=target, lambda0=0.1, solution_out=solution)
        if not np.isfinite(optimum):
            assert record.status == "infeasible"
            continue
        assert record.status == "optimal" and agrees(record.objective, optimum), (record.status, record.objective)
        assert int(forest.predict(solution["x"][None])[0]) == target
        reached += 1
    assert reached >= 1


def test_tree_evaluator_flags_wrong_leaves_and_points_on_a_threshold():
    formulation, instance, params, solution, record = _solved("forest-d2-t3-c2", lambda0=0.1)
    base = formulation.evaluate(instance, params, solution)
    assert base.feasible and agrees(base.objective, record.objective)
    ensemble = read_model_instance(instance).network
    shifted = {**solution, "leaf": np.roll(solution["leaf"], 1)}
    assert formulation.evaluate(instance, params, shifted).violations["leaf_link"] == 1.0
    half = {**solution, "leaf": np.full_like(solution["leaf"], 0.5)}
    assert formulation.evaluate(instance, params, half).violations["leaf_integrality"] == 0.5
    # x moved onto the threshold of a split it passes on the left: same leaves, but inside the gap
    node = next(node for _, path in ensemble.leaf_of(solution["x"]) for node, left in path if left)
    on = solution["x"].copy()
    on[ensemble.feature[node]] = ensemble.threshold[node]
    z = np.where(on != instance.arrays["x_bar"], 1.0, 0.0)
    ev = formulation.evaluate(instance, params, {**solution, "x": on, "z": z})
    assert ev.violations["leaf_link"] == 0.0 and ev.violations["split_gap"] == pytest.approx(TREE_GAP)
    assert not ev.feasible


def test_tree_inputs_are_checked():
    arrays = instance_arrays("forest-d2-t3-c2")
    with pytest.raises(InputError, match="embeds ReLU networks"):
        solve("verification.relu_bigm", arrays, solver="highs")
    left = arrays["tree_left"].copy()
    split = int(np.flatnonzero(arrays["tree_feature"] >= 0)[1])
    left[split] = arrays["tree_left"][int(np.flatnonzero(arrays["tree_feature"] >= 0)[0])]  # a node with two parents
    bad = [({"tree_left": left}, "not a forest"), ({"tree_feature": np.where(arrays["tree_feature"] >= 0, 5, -1)},
                                                    "splits on feature 5 but the model has 2 inputs"),
           ({"tree_value": arrays["tree_value"][:, :1]}, "one column per class"),
           ({"tree_threshold": arrays["tree_threshold"][:3]}, "same 13 nodes")]
    for change, match in bad:
        with pytest.raises(InputError, match=match):
            solve(CF, {**arrays, **change}, solver="highs")
    without = {k: v for k, v in arrays.items() if k != "tree_roots"}
    with pytest.raises(InputError, match="missing tree_roots"):
        solve(CF, without, solver="highs")


def test_tree_generator_is_byte_deterministic_and_consistent():
    import hashlib

    from reference_impl.instances.generators.networks import trained_tree_ensemble
    from reference_impl.instances.storage import npz_bytes

    def digest(arrays):
        return hashlib.sha256(npz_bytes(arrays)).hexdigest()

    assert digest(trained_tree_ensemble(50, 3, n_trees=4, depth=3, seed=2)) == \
        digest(trained_tree_ensemble(50, 3, n_trees=4, depth=3, seed=2))
    assert digest(trained_tree_ensemble(50, 3, seed=2)) != digest(trained_tree_ensemble(50, 3, seed=3))
    for instance_id in ("forest-d2-t3-c2", "forest-d3-t5-c3", "forest-d4-t10-c2"):
        arrays = instance_arrays(instance_id)
        model = read_model_instance(generate(instance_id))
        assert model.predicted == int(arrays["x_bar_class"][0])
        accuracy = float(np.mean(predict_class(model.network, arrays["X"]) == arrays["y"]))
        assert accuracy == pytest.approx(float(arrays["train_accuracy"][0])) and accuracy >= 0.75
        split = arrays["tree_feature"] >= 0
        assert np.all(arrays["tree_threshold"][split] * 64 == np.round(arrays["tree_threshold"][split] * 64))
        # each tree's leaf values sum to 1/n_trees: the summed scores are class frequencies
        leaves = arrays["tree_value"][~split]
        assert np.allclose(leaves.sum(axis=1), 1.0 / len(arrays["tree_roots"]))
