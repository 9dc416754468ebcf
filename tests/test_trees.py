"""Optimal classification trees (tutorial (12)-(13), §5; FORMULATIONS.md §2): optima proved by
enumerating every tree of depth ≤ 2, agreement of the flow and big-M formulations, relaxation
strength, the evaluator on corrupted trees, bad input, the binarized loaders and catalogue
determinism, and (when installed) a cross-check against ODTLearn's FlowOCT."""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from conftest import has_gurobi
from reference_impl import solve
from reference_impl.errors import DataMissingError, InputError
from reference_impl.formulations.trees import (Tree, n_branching, n_nodes, predict_tree, route, structure_violations,
                                               tree_text)
from reference_impl.instances import resolve_instance
from reference_impl.instances.generators.trees import planted_tree
from reference_impl.instances.library import build_library
from reference_impl.instances.loaders.trees import binarize
from reference_impl.registry import get_formulation

SOLVERS = ["highs", "scip"] + (["gurobi"] if has_gurobi() else [])
FORMULATIONS = ["trees.flow_oct", "trees.oct_bigm", "trees.rule_list"]
TINY = "trees-planted-n20-p4-d2"


# -- independent oracle: every tree of depth ≤ D ------------------------------------------------
def _assignments(k: int, levels: int, p: int, C: int):
    """Every way to fill the subtree rooted at k with at most ``levels`` more branching levels:
    k predicts one of C classes, or (levels > 0) tests one of p features with any filling of
    both children."""
    out = [{k: ("predict", c)} for c in range(C)]
    if levels > 0:
        lefts, rights = _assignments(2 * k, levels - 1, p, C), _assignments(2 * k + 1, levels - 1, p, C)
        out += [{k: ("split", j), **left, **right} for j in range(p) for left in lefts for right in rights]
    return out


def every_tree(depth: int, p: int, classes) -> list[Tree]:
    trees = []
    for assignment in _assignments(1, depth, p, len(classes)):
        feature = np.full(n_branching(depth), -1, dtype=np.int64)
        node_class = np.full(n_nodes(depth), -1, dtype=np.int64)
        for k, (kind, value) in assignment.items():
            if kind == "split":
                feature[k - 1] = value
            else:
                node_class[k - 1] = value
        trees.append(Tree(depth, feature, node_class, np.asarray(classes)))
    return trees


def is_rule_list(tree: Tree) -> bool:
    """(13): every branching node has a child that predicts."""
    return all(tree.node_class[2 * k - 1] >= 0 or tree.node_class[2 * k] >= 0
               for k in range(1, n_branching(tree.depth) + 1) if tree.feature[k - 1] >= 0)


def parity_gap(favourable: np.ndarray, group: np.ndarray, among: np.ndarray | None = None) -> float:
    """|rate(group 1) − rate(group 0)| of the favourable indicator, over ``among`` (default all)."""
    among = np.ones(group.size, dtype=bool) if among is None else among
    return abs(favourable[among & (group == 1)].mean() - favourable[among & (group == 0)].mean())


def enumerated_optimum(X, y, depth: int, *, lam=0.0, rule_list=False, fair=None) -> tuple[float, int]:
    """max over every tree of depth ≤ ``depth`` (rule lists only, fair ones only) of
    correct − lam·splits, computed by hand (no formulation code but the tree walk); also the
    number of trees that qualified. ``fair(predictions) -> bool``."""
    classes = sorted(set(y.tolist()))
    best, count = -math.inf, 0
    for tree in every_tree(depth, X.shape[1], classes):
        if rule_list and not is_rule_list(tree):
            continue
        predicted = _walk(tree, X)
        if fair is not None and not fair(predicted):
            continue
        count += 1
        best = max(best, float(np.sum(predicted == y)) - lam * int(np.sum(tree.feature >= 0)))
    return best, count


def _walk(tree: Tree, X) -> np.ndarray:
    """The oracle's own tree walk, sample by sample (independent of ``route``)."""
    out = []
    for x in X:
        k = 1
        while tree.node_class[k - 1] < 0:
            k = 2 * k + int(x[tree.feature[k - 1]] > 0.5)
        out.append(tree.classes[tree.node_class[k - 1]])
    return np.array(out)


def _statistical_parity(group, delta):
    return lambda predicted: parity_gap((predicted == 1).astype(float), group) <= delta + 1e-9


def _equalized_odds(group, y, delta):
    """(39) and (40): equal favourable rates among the truly unfavourable and the truly favourable."""
    return lambda predicted: all(parity_gap((predicted == 1).astype(float), group, among=(y == truth)) <= delta + 1e-9
                                 for truth in (0, 1))


@pytest.fixture(scope="module")
def tiny():
    return resolve_instance(TINY)


def test_enumeration_covers_every_tree_of_depth_two():
    # T(0) = C, T(d) = C + p·T(d−1)²: with p = 4, C = 2: 2 + 4·18² = 1298 (pruned trees included)
    assert len(every_tree(2, 4, [0, 1])) == 1298
    assert len(every_tree(1, 3, [0, 1, 2])) == 3 + 3 * 9


# -- (a) solver optimum = enumerated optimum ----------------------------------------------------
CASES = {
    "plain": {},
    "lam": {"lam": 0.75},
    "parity": {"fairness": "statistical_parity", "delta": 0.1},
    "odds+lam": {"fairness": "equalized_odds", "delta": 0.05, "lam": 0.5},
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("formulation", FORMULATIONS)
@pytest.mark.parametrize("solver", SOLVERS)
def test_optimum_matches_enumeration(tiny, formulation, solver, case):
    params = {"depth": 2, **CASES[case]}
    X, y, group = tiny.X, tiny.y, tiny["group"]
    fair = None
    if params.get("fairness") == "statistical_parity":
        fair = _statistical_parity(group, params["delta"])
    elif params.get("fairness") == "equalized_odds":
        fair = _equalized_odds(group, y, params["delta"])
    expected, count = enumerated_optimum(X, y, 2, lam=params.get("lam", 0.0),
                                         rule_list=formulation == "trees.rule_list", fair=fair)
    assert count > 0
    record = solve(formulation, tiny, solver, time_limit=60, rel_gap=1e-9, **params)
    assert record.status == "optimal", record.message
    assert record.objective == pytest.approx(expected, abs=1e-6)
    assert record.bound == pytest.approx(expected, abs=1e-3)


def test_fairness_binds_on_the_tiny_instance(tiny):
    """The fairness cases above are not vacuous: the constraint lowers the enumerated optimum."""
    X, y, group = tiny.X, tiny.y, tiny["group"]
    free, _ = enumerated_optimum(X, y, 2)
    parity, _ = enumerated_optimum(X, y, 2, fair=_statistical_parity(group, 0.1))
    odds, _ = enumerated_optimum(X, y, 2, lam=0.5, fair=_equalized_odds(group, y, 0.05))
    with_lam, _ = enumerated_optimum(X, y, 2, lam=0.5)
    assert parity < free and odds < with_lam


@pytest.mark.parametrize("solver", ["highs"] + (["gurobi"] if has_gurobi() else []))
def test_multiclass_optimum_matches_enumeration(solver):
    data = planted_tree(24, 3, 2, n_classes=3, noise=0.2, seed=5)
    instance = {"X": data["X"], "y": data["y"], "group": data["group"]}
    expected, _ = enumerated_optimum(data["X"], data["y"], 2, lam=0.25)
    for formulation in ("trees.flow_oct", "trees.oct_bigm"):
        record = solve(formulation, instance, solver, time_limit=60, rel_gap=1e-9, depth=2, lam=0.25)
        assert record.status == "optimal", record.message
        assert record.objective == pytest.approx(expected, abs=1e-6), formulation


def test_depth_one_and_labels_other_than_zero_one():
    """±1 labels (as the classification loaders give) and depth 1: still the enumerated optimum,
    and the favourable class is a label value (+1), not an index."""
    data = planted_tree(18, 4, 1, noise=0.25, seed=11)
    y = np.where(data["y"] == 1, 1, -1)
    instance = {"X": data["X"], "y": y, "group": data["group"]}
    fair = _statistical_parity(data["group"], 0.15)
    expected, _ = enumerated_optimum(data["X"], y, 1, fair=fair)
    for formulation in FORMULATIONS:
        record = solve(formulation, instance, "highs", time_limit=60, rel_gap=1e-9, depth=1,
                       fairness="statistical_parity", delta=0.15, favourable_class=1)
        assert record.status == "optimal" and record.objective == pytest.approx(expected, abs=1e-6), formulation


# -- (b) formulations agree; rule lists are trees ----------------------------------------------
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_flow_and_bigm_agree_and_rule_list_is_no_better(seed):
    data = planted_tree(22, 4, 2, noise=0.2, seed=seed)
    instance = {"X": data["X"], "y": data["y"], "group": data["group"]}
    values = {}
    for formulation in FORMULATIONS:
        record = solve(formulation, instance, "highs", time_limit=60, rel_gap=1e-9, depth=2, lam=0.3)
        assert record.status == "optimal", record.message
        values[formulation] = record.objective
    assert values["trees.flow_oct"] == pytest.approx(values["trees.oct_bigm"], abs=1e-6)
    assert values["trees.rule_list"] <= values["trees.flow_oct"] + 1e-6


def test_planted_tree_is_recovered_without_noise():
    data = planted_tree(40, 5, 2, noise=0.0, seed=7)
    record = solve("trees.flow_oct", {"X": data["X"], "y": data["y"]}, "highs", time_limit=60, depth=2)
    assert record.status == "optimal" and record.objective == 40  # the planted tree classifies all


# -- (c) relaxation strength: (12) ≤ Bertsimas-Dunn (maximisation) ----------------------------------
def test_flow_relaxation_is_at_least_as_tight_as_bigm():
    strictly = 0
    for seed in range(4):
        data = planted_tree(24, 4, 2, noise=0.2, seed=seed)
        instance = {"X": data["X"], "y": data["y"]}
        roots = {}
        for formulation in ("trees.flow_oct", "trees.oct_bigm"):
            record = solve(formulation, instance, "highs", time_limit=60, root_relaxation=True, depth=2)
            assert record.status == "optimal" and record.extra["root_status"] == "optimal"
            assert record.root_bound >= record.objective - 1e-6  # a relaxation bounds the optimum from above
            roots[formulation] = record.root_bound
        assert roots["trees.flow_oct"] <= roots["trees.oct_bigm"] + 1e-6, (seed, roots)
        strictly += roots["trees.flow_oct"] < roots["trees.oct_bigm"] - 1e-3
    assert strictly >= 2  # and strictly tighter on most instances (big-M's is the trivial n here)


# -- (d) the evaluator on corrupted trees ---------------------------------------------------------
@pytest.fixture(scope="module")
def solved(tiny):
    formulation = get_formulation("trees.flow_oct")
    params = formulation.validate(tiny, {"depth": 2, "lam": 0.5})
    record = solve("trees.flow_oct", tiny, "highs", time_limit=60, depth=2, lam=0.5)
    assert record.status == "optimal"
    tree = Tree(2, np.array(record.extra["tree_feature"]), np.array(record.extra["tree_class"]), np.array([0, 1]))
    return formulation, params, tree, record


def _solution(tree: Tree, p: int) -> dict:
    b, w = tree.as_indicators(p)
    return {"b": b.reshape(-1), "w": w.reshape(-1), "node_feature": tree.feature.astype(float),
            "node_class": tree.node_class.astype(float)}


def _corrupt(tree: Tree, feature=None, node_class=None) -> Tree:
    f, c = tree.feature.copy(), tree.node_class.copy()
    for k, v in (feature or {}).items():
        f[k - 1] = v
    for k, v in (node_class or {}).items():
        c[k - 1] = v
    return Tree(tree.depth, f, c, tree.classes)


def test_evaluator_recomputes_the_solvers_objective(tiny, solved):
    formulation, params, tree, record = solved
    evaluation = formulation.evaluate(tiny, params, _solution(tree, tiny.X.shape[1]))
    assert evaluation.feasible
    correct = int(np.sum(predict_tree(tree, tiny.X) == tiny.y))
    assert evaluation.objective == pytest.approx(correct - 0.5 * tree.n_splits())
    assert evaluation.objective == pytest.approx(record.objective)


def test_evaluator_flags_corrupted_trees(tiny, solved):
    formulation, params, tree, _ = solved
    p = tiny.X.shape[1]
    branching = [int(k) for k in tree.branching()]
    assert branching, "the optimal tree branches"
    root_predicts = _corrupt(tree, node_class={1: 0})                            # root branches and predicts
    out_of_range = _corrupt(tree, feature={branching[0]: p})                     # feature index p
    leaf = next(k for k in range(1, n_nodes(2) + 1) if tree.node_class[k - 1] >= 0)  # a predicting node
    dead_end = _corrupt(tree, node_class={leaf: -1})                             # a reachable node does nothing
    below_prediction = _corrupt(tree, feature={1: -1, 2: 0}, node_class={1: 1})  # descendant of a predicting node
    expected = {"tree_structure": [root_predicts, dead_end, below_prediction], "feature_index": [out_of_range]}
    for violation, trees in expected.items():
        for bad in trees:
            evaluation = formulation.evaluate(tiny, params, _solution(bad, p))
            assert not evaluation.feasible and evaluation.violations[violation] >= 1, (violation, evaluation.violations)
    # the indicators must describe the same tree
    mismatch = _solution(tree, p)
    mismatch["b"] = np.roll(mismatch["b"], 1)
    assert formulation.evaluate(tiny, params, mismatch).violations["tree_indicators"] == 1.0
    fractional = _solution(tree, p)
    fractional["w"] = fractional["w"] * 0.5
    assert formulation.evaluate(tiny, params, fractional).violations["integrality"] == 0.5
    # relabelling a leaf stays feasible but the objective is recomputed from the data
    flipped = _corrupt(tree, node_class={leaf: 1 - tree.node_class[leaf - 1]})
    evaluation = formulation.evaluate(tiny, params, _solution(flipped, p))
    assert evaluation.feasible
    assert evaluation.objective == pytest.approx(np.sum(_walk(flipped, tiny.X) == tiny.y) - 0.5 * flipped.n_splits())


def test_rule_list_evaluator_flags_a_full_tree(tiny):
    formulation = get_formulation("trees.rule_list")
    params = formulation.validate(tiny, {"depth": 2})
    full = Tree(2, np.array([0, 1, 2]), np.array([-1, -1, -1, 0, 1, 0, 1]), np.array([0, 1]))
    evaluation = formulation.evaluate(tiny, params, _solution(full, tiny.X.shape[1]))
    assert evaluation.violations["rule_list"] == 1.0 and not evaluation.feasible  # the root has no predicting child
    rule = Tree(2, np.array([0, -1, 2]), np.array([-1, 1, -1, -1, -1, 0, 1]), np.array([0, 1]))
    assert formulation.evaluate(tiny, params, _solution(rule, tiny.X.shape[1])).feasible


def test_evaluator_rechecks_fairness_on_the_trees_predictions(tiny):
    formulation = get_formulation("trees.flow_oct")
    params = formulation.validate(tiny, {"depth": 2, "fairness": "statistical_parity", "delta": 0.1})
    free = solve("trees.flow_oct", tiny, "highs", time_limit=60, depth=2)
    unfair = Tree(2, np.array(free.extra["tree_feature"]), np.array(free.extra["tree_class"]), np.array([0, 1]))
    gap = parity_gap((predict_tree(unfair, tiny.X) == 1).astype(float), tiny["group"])
    assert gap > 0.1  # the accuracy-optimal tree is unfair on this instance
    solution = _solution(unfair, tiny.X.shape[1])
    evaluation = formulation.evaluate(tiny, params, solution)
    assert evaluation.violations["fairness_from_predictions"] == pytest.approx(gap - 0.1)
    # a zeta that lies about the predictions is caught by the link check
    honest = (predict_tree(unfair, tiny.X) == 1).astype(float)
    evaluation = formulation.evaluate(tiny, params, {**solution, "zeta": 1.0 - honest})
    assert evaluation.violations["prediction_link"] > 0 and not evaluation.feasible
    fair = solve("trees.flow_oct", tiny, "highs", time_limit=60, depth=2, fairness="statistical_parity", delta=0.1)
    assert fair.status == "optimal" and fair.max_violation <= 1e-6
    assert abs(max(fair.extra["fairness_gaps"].values(), key=abs)) <= 0.1 + 1e-9


def test_predict_tree_and_tree_text():
    tree = Tree(2, np.array([1, -1, 0]), np.array([-1, 1, -1, -1, -1, 0, 1]), np.array([3, 7]))  # class indices
    X = np.array([[0, 0], [0, 1], [1, 1], [0, 0], [1, 0]], dtype=float)
    # x1 = 0 → node 2 predicts 7; x1 = 1 → node 3 tests x0: 0 → node 6 (3), 1 → node 7 (7)
    assert predict_tree(tree, X).tolist() == [7, 3, 7, 7, 7]
    text = tree_text(tree, ["age<=30", "priors<=2"])
    assert text.splitlines() == ["node 1: priors<=2 ?", "  no  -> node 2: predict 7", "  yes -> node 3: age<=30 ?",
                                 "    no  -> node 6: predict 3", "    yes -> node 7: predict 7"]
    broken = Tree(1, np.array([0]), np.array([-1, -1, 1]), np.array([0, 1]))
    with pytest.raises(InputError, match="no prediction"):
        predict_tree(broken, X)
    node, predicted = route(broken, X)
    assert predicted.tolist() == [-1, -1, 1, -1, 1] and node.tolist() == [2, 2, 3, 2, 3]
    assert structure_violations(broken, 2)["tree_structure"] == 1


# -- (e) bad input --------------------------------------------------------------------------------
def _instance(**arrays):
    data = planted_tree(12, 3, 1, seed=3)
    base = {"X": data["X"], "y": data["y"], "group": data["group"]}
    base.update(arrays)
    return {k: v for k, v in base.items() if v is not None}


@pytest.mark.parametrize("formulation", FORMULATIONS)
@pytest.mark.parametrize(("arrays", "params", "message"), [
    ({"X": np.where(np.arange(36).reshape(12, 3) == 4, 0.5, 1.0)}, {}, r"column 1 \('x1'\) holds 0\.5"),
    ({}, {"depth": 0}, "depth must be >= 1"),
    ({}, {"depth": 11}, "depth must be <= 10"),
    ({}, {"depth": 1.5}, "depth must be an integer"),
    ({}, {"lam": -1.0}, "lam must be >= 0"),
    ({}, {"classes": [0, 1, 2]}, r"class\(es\) \[2\] of the classes hyperparameter do not occur"),
    ({}, {"classes": [0]}, r"labels y hold class\(es\) \[1\]"),
    ({"y": np.linspace(0, 1, 12)}, {}, "class labels y must be integers"),
    ({"group": None}, {"fairness": "statistical_parity"}, "needs a 'group' array"),
    ({}, {"fairness": "demographic_magic"}, "notion must be one of"),
    ({}, {"fairness": "statistical_parity", "delta": 1.5}, r"delta .* must lie in \[0, 1\]"),
    ({}, {"fairness": "statistical_parity", "favourable_class": 5}, "favourable_class 5 is not one of the classes"),
    ({}, {"fairness": "conditional_statistical_parity"}, "needs a 'stratum' array"),
    ({}, {"fairness": {"notion": "statistical_parity", "delta": 0.1}, "delta": 0.3}, "fairness gives delta differently"),
    ({}, {"fairness": {"delta": 0.1}}, "fairness mapping needs a notion"),
    ({}, {"fairness": 3}, "fairness must be a notion name"),
    ({}, {"nosuch": 1}, "has no hyperparameter"),
])
def test_bad_input_is_one_clear_error(formulation, arrays, params, message):
    with pytest.raises(InputError, match=message):
        solve(formulation, _instance(**arrays), "highs", time_limit=10, **params)


def test_fairness_mapping_is_spread_into_the_hyperparameters():
    formulation = get_formulation("trees.flow_oct")
    instance = resolve_instance(_instance())
    params = formulation.validate(instance, {"depth": 1, "fairness": {"notion": "equalized_odds", "delta": 0.3}})
    assert (params["fairness"], params["delta"], params["favourable_class"]) == ("equalized_odds", 0.3, 1)


def test_cli_solve_and_bad_column_exit_code(tmp_path, capsys):
    from reference_impl.cli import main

    assert main(["solve", "trees.flow_oct", "--instance", TINY, "--solver", "highs", "--param", "depth=1"]) == 0
    bad = tmp_path / "bad.npz"
    np.savez(bad, X=np.array([[0.0, 2.0], [1.0, 0.0]]), y=np.array([0, 1]))
    assert main(["solve", "trees.flow_oct", "--instance", str(bad), "--solver", "highs"]) == 2
    assert "column 1 ('x1') holds 2" in capsys.readouterr().err


# -- (f) loaders, generator and catalogue ---------------------------------------------------------
def test_binarize_thresholds_one_hot_and_complements():
    import pandas as pd

    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "c": ["u", "v", "w", "u"], "two": ["no", "yes", "no", "yes"],
                          "same": [5.0, 5.0, 5.0, 5.0]})
    X, names = binarize(frame, ["a", "same"], ["c", "two"], quantiles=(0.5,))
    assert names == ["a<=2", "c=u", "c=v", "c=w", "two=yes"]
    assert X[:, 0].tolist() == [1, 1, 0, 0] and X[:, 1].tolist() == [1, 0, 0, 1]
    X, names = binarize(frame, ["a"], ["c"], quantiles=(0.5,), max_levels=1)
    assert names == ["a<=2", "c=u"]
    frame["mirror"] = np.where(frame["two"] == "yes", "b", "a")  # the complement of two=yes is dropped
    assert binarize(frame, [], ["two", "mirror"])[1] == ["two=yes"]


REAL = ["trees-compas-n300", "trees-adult-n300", "trees-german-n300", "trees-communities-n300"]


@pytest.mark.parametrize("instance_id", REAL)
def test_real_data_loaders_give_binary_features(instance_id):
    try:
        instance = resolve_instance(instance_id)
    except DataMissingError as exc:
        pytest.skip(f"raw data unavailable: {exc}")
    X, y = instance.X, instance.y
    n, p = X.shape
    assert n == 300 and p <= 30 and set(np.unique(X).tolist()) <= {0.0, 1.0}
    assert y.dtype.kind == "i" and set(np.unique(y).tolist()) == {0, 1}
    assert instance["feature_names"].shape == (p,) and instance["feature_names"].dtype.kind == "U"
    assert instance["group"].shape == (n,) and set(np.unique(instance["group"]).tolist()) == {0, 1}
    assert instance["stratum"].shape == (n,)
    assert not any(np.array_equal(X[:, a], X[:, b]) or np.array_equal(X[:, a], 1 - X[:, b])
                   for a, b in itertools.combinations(range(p), 2))
    formulation = get_formulation("trees.flow_oct")
    params = formulation.validate(instance, {"depth": 2, "fairness": "statistical_parity", "favourable_class": 0})
    assert params["classes"] == [0, 1]


def test_catalogue_instances_build_deterministically(tmp_path):
    ids = ["trees-planted-n20-p4-d2", "trees-planted-n200-p10-d3", "trees-compas-n300", "trees-communities-n300"]
    first = build_library(tmp_path / "one", ids=ids)["instances"]
    second = build_library(tmp_path / "two", ids=ids)["instances"]
    assert {i: r["sha256"] for i, r in first.items()} == {i: r["sha256"] for i, r in second.items()}
    assert "trees-planted-n20-p4-d2" in first  # synthetic always builds; real data when present
    for instance_id, record in first.items():
        arrays = np.load(tmp_path / "one" / record["file"])
        assert set(np.unique(arrays["X"]).tolist()) <= {0.0, 1.0}, instance_id


def test_generator_plants_a_reachable_tree_with_noise():
    data = planted_tree(200, 6, 3, noise=0.1, seed=9)
    feature = data["tree_feature"]
    for k in range(2, 8):  # no feature twice on a path
        path = [k]
        while path[-1] > 1:
            path.append(path[-1] // 2)
        assert len({int(feature[a - 1]) for a in path}) == len(path)
    assert 0.03 < np.mean(data["y"] != data["y_clean"]) < 0.2
    again = planted_tree(200, 6, 3, noise=0.1, seed=9)
    assert all(np.array_equal(data[k], again[k]) for k in data)


# -- (g) ODTLearn cross-check ---------------------------------------------------------------------
@pytest.mark.parametrize("lam", [0.0, 0.2])
def test_odtlearn_flowoct_reaches_the_same_objective(tiny, lam):
    pytest.importorskip("odtlearn")
    if not has_gurobi():
        pytest.skip("ODTLearn's FlowOCT needs gurobipy (or the mip package) as its solver")
    from odtlearn.flow_oct import FlowOCT

    ours = solve("trees.flow_oct", tiny, "highs", time_limit=60, rel_gap=1e-9, depth=2, lam=lam / (1 - lam))
    assert ours.status == "optimal"
    clf = FlowOCT(solver="gurobi", depth=2, _lambda=lam, time_limit=60)
    clf.fit(tiny.X.astype(int), tiny.y.astype(int))
    theirs = float(clf._solver.model.ObjVal)
    # ODTLearn maximises (1 − λ)·correct − λ·splits; ours correct − (λ/(1 − λ))·splits
    assert theirs == pytest.approx((1 - lam) * ours.objective, abs=1e-6)
    if lam == 0:
        assert int(np.sum(clf.predict(tiny.X.astype(int)) == tiny.y)) == ours.extra["correct"]
