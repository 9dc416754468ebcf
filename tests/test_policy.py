"""Prescriptive policy trees (tutorial §4.3, (31)-(34); FORMULATIONS.md §5 ``policy.tree``):
optima proved by enumerating every tree of depth ≤ 2 for each score, solvers agreeing, the
planted policy recovered from oracle scores, the certified tree never worse than a greedy tree
on its training objective, the score formulas and cross-fitting, the evaluator on corrupted
trees, bad input, and generator / catalogue determinism."""
from __future__ import annotations

import math

import numpy as np
import pytest

from conftest import has_gurobi
from reference_impl import solve
from reference_impl.errors import InputError
from reference_impl.formulations.policy import nuisances, policy_scores, treatment_gains
from reference_impl.formulations.trees import Tree, n_branching, n_nodes
from reference_impl.instances import resolve_instance
from reference_impl.instances.generators.policy import policy_planted
from reference_impl.instances.instance import Instance
from reference_impl.instances.library import build_library
from reference_impl.registry import get_formulation

TINY = "policy-planted-n30-p4-d2"
MEDIUM = "policy-planted-n200-p6-d2"
SOLVERS = ["highs", "scip"] + (["gurobi"] if has_gurobi() else [])
FORMULATION = get_formulation("policy.tree")


# -- independent oracle: every tree of depth ≤ D with treatment leaves -----------------------------
def _fillings(k: int, levels: int, p: int):
    """Every filling of the subtree at k: k assigns treatment 0 or 1, or (levels > 0) tests a
    feature with any filling of both children."""
    out = [{k: ("assign", t)} for t in (0, 1)]
    if levels > 0:
        lefts, rights = _fillings(2 * k, levels - 1, p), _fillings(2 * k + 1, levels - 1, p)
        out += [{k: ("split", j), **left, **right} for j in range(p) for left in lefts for right in rights]
    return out


def every_policy_tree(depth: int, p: int) -> list[Tree]:
    trees = []
    for filling in _fillings(1, depth, p):
        feature = np.full(n_branching(depth), -1, dtype=np.int64)
        node_class = np.full(n_nodes(depth), -1, dtype=np.int64)
        for k, (kind, value) in filling.items():
            (feature if kind == "split" else node_class)[k - 1] = value
        trees.append(Tree(depth, feature, node_class, np.array([0, 1])))
    return trees


def walk(tree: Tree, X) -> np.ndarray:
    """The oracle's own walk, sample by sample (independent of the formulation's ``route``)."""
    out = []
    for x in X:
        k = 1
        while tree.node_class[k - 1] < 0:
            k = 2 * k + int(x[tree.feature[k - 1]] > 0.5)
        out.append(int(tree.node_class[k - 1]))
    return np.array(out)


def enumerated_best(X, scores, depth: int, lam: float = 0.0) -> float:
    best = -math.inf
    rows = np.arange(X.shape[0])
    for tree in every_policy_tree(depth, X.shape[1]):
        value = float(np.sum(scores[rows, walk(tree, X)])) - lam * int(np.sum(tree.feature >= 0))
        best = max(best, value)
    return best


@pytest.fixture(scope="module")
def tiny():
    return resolve_instance(TINY)


def _params(instance, **params):
    return FORMULATION.validate(instance, params)


def test_enumeration_counts_every_tree():
    # depth 1: 2 leaves-only + p·2·2; depth 2: 2 + p·(2 + p·4)²
    assert len(every_policy_tree(1, 3)) == 2 + 3 * 4
    assert len(every_policy_tree(2, 3)) == 2 + 3 * (2 + 3 * 4) ** 2


# -- (a) brute force, every score, two solvers ------------------------------------------------------
@pytest.mark.parametrize("solver", ["highs", "scip"])
@pytest.mark.parametrize("score", ["direct", "ipw", "dr"])
def test_optimum_matches_enumeration(tiny, solver, score):
    params = _params(tiny, depth=2, score=score)
    scores = policy_scores(tiny, params)
    expected = enumerated_best(tiny.X, scores, 2)
    record = solve("policy.tree", tiny, solver, time_limit=60, depth=2, score=score)
    assert record.status == "optimal", record.message
    assert record.max_violation <= 1e-6
    assert record.objective == pytest.approx(expected, abs=1e-6)
    assert record.bound == pytest.approx(expected, abs=1e-4 * max(1.0, abs(expected)))


@pytest.mark.parametrize("solver", ["highs", "scip"])
def test_split_penalty_and_depth_one_match_enumeration(tiny, solver):
    params = _params(tiny, depth=1, score="dr", lam=0.7)
    expected = enumerated_best(tiny.X, policy_scores(tiny, params), 1, lam=0.7)
    record = solve("policy.tree", tiny, solver, time_limit=60, depth=1, score="dr", lam=0.7)
    assert record.status == "optimal" and record.objective == pytest.approx(expected, abs=1e-6)


# -- (b) solvers agree ---------------------------------------------------------------------------
@pytest.mark.parametrize(("depth", "score"), [(1, "ipw"), (2, "dr")])
def test_solvers_agree(depth, score):
    instance = Instance("policy-n40-seed11", policy_planted(40, 4, depth=2, noise=1.0, seed=11))
    objectives = {}
    for solver in SOLVERS:
        record = solve("policy.tree", instance, solver, time_limit=60, depth=depth, score=score)
        if record.status == "size_limited":
            continue
        assert record.status == "optimal", (solver, record.message)
        objectives[solver] = record.objective
    assert len(objectives) >= 2
    values = list(objectives.values())
    assert max(values) - min(values) <= 1e-6 * max(1.0, abs(values[0])), objectives


# -- (c) planted policy, greedy baseline ------------------------------------------------------------
def _with_oracle_scores(instance) -> dict:
    arrays = dict(instance.arrays)
    arrays["score_0"], arrays["score_1"] = arrays["mu_0"], arrays["mu_1"]
    return arrays


@pytest.mark.parametrize("instance_id", [TINY, MEDIUM])
def test_oracle_scores_recover_the_planted_policy(instance_id):
    instance = resolve_instance(instance_id)
    record = solve("policy.tree", _with_oracle_scores(instance), "highs", time_limit=60, depth=2)
    assert record.status == "optimal"
    assert record.extra["score_source"].startswith("precomputed")
    assert record.objective == pytest.approx(float(instance["optimal_value"][0]), abs=1e-9)
    assert record.extra["regret"] == pytest.approx(0.0, abs=1e-9)
    tree = Tree(2, np.array(record.extra["tree_feature"]), np.array(record.extra["tree_treatment"]), np.array([0, 1]))
    assert np.array_equal(walk(tree, instance.X), instance["optimal_treatment"])


def _greedy_policy(X, scores, depth: int) -> np.ndarray:
    from sklearn.tree import DecisionTreeRegressor

    model = DecisionTreeRegressor(max_depth=depth, random_state=0).fit(X, scores[:, 1] - scores[:, 0])
    return (model.predict(X) > 0).astype(np.int64)


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_certified_tree_is_never_worse_than_a_greedy_tree(seed):
    data = policy_planted(40, 4, depth=2, noise=1.0, confounding=0.25, seed=seed)
    instance = Instance(f"policy-seed{seed}", data)
    params = _params(instance, depth=2, score="dr")
    scores = policy_scores(instance, params)
    rows = np.arange(40)
    greedy = _greedy_policy(instance.X, scores, 2)
    greedy_value = float(np.sum(scores[rows, greedy]))
    record = solve("policy.tree", instance, "highs", time_limit=60, depth=2, score="dr")
    assert record.status == "optimal"
    assert record.objective >= greedy_value - 1e-9
    # and the certified value is the enumerated optimum, which bounds the greedy one
    assert record.objective == pytest.approx(enumerated_best(instance.X, scores, 2), abs=1e-6)


# -- scores ------------------------------------------------------------------------------------------
def test_score_formulas(tiny):
    params = _params(tiny, depth=2)
    nu, e = nuisances(tiny, params)
    a = tiny["treatment"].astype(int)
    y = tiny["outcome"]
    assert np.all((e >= 0.05) & (e <= 0.95))
    chance = np.where(a == 1, e, 1 - e)
    direct = policy_scores(tiny, {**params, "score": "direct"})
    ipw = policy_scores(tiny, {**params, "score": "ipw"})
    dr = policy_scores(tiny, {**params, "score": "dr"})
    rows = np.arange(y.size)
    np.testing.assert_allclose(direct, nu)
    assert np.all(ipw[rows, 1 - a] == 0.0)
    np.testing.assert_allclose(ipw[rows, a], y / chance)
    np.testing.assert_allclose(dr[rows, 1 - a], nu[rows, 1 - a])
    np.testing.assert_allclose(dr[rows, a], nu[rows, a] + (y - nu[rows, a]) / chance)
    better, gain, base = treatment_gains(dr)
    # Σ sᵢ(π) = base + Σ gᵢ [π = tᵢ*] for any policy, e.g. the observed one
    assert math.isclose(float(np.sum(dr[rows, a])), base + float(np.sum(gain[better == a])), abs_tol=1e-9)


def test_cross_fitting_keeps_a_units_own_outcome_out_of_its_prediction(tiny):
    params = _params(tiny, depth=2, folds=2)
    nu, e = nuisances(tiny, params)
    arrays = dict(tiny.arrays)
    outcome = arrays["outcome"].copy()
    outcome[0] += 100.0
    arrays["outcome"] = outcome
    changed = Instance("changed", arrays)
    nu2, e2 = nuisances(changed, _params(changed, depth=2, folds=2))
    assert nu2[0].tolist() == nu[0].tolist() and e2[0] == e[0]
    assert not np.array_equal(nu, nu2)  # the change reached the other fold's predictions
    # without cross-fitting the unit's own outcome moves its own prediction
    nu_in, _ = nuisances(tiny, _params(tiny, depth=2, folds=1))
    nu_in2, _ = nuisances(changed, _params(changed, depth=2, folds=1))
    assert not np.array_equal(nu_in[0], nu_in2[0])


def test_scores_are_deterministic_and_precomputed_scores_win(tiny):
    params = _params(tiny, depth=2)
    first = policy_scores(tiny, params)
    again = policy_scores(Instance("copy", {k: v.copy() for k, v in tiny.arrays.items()}), params)
    assert np.array_equal(first, again)
    arrays = dict(tiny.arrays, score_0=np.zeros(30), score_1=np.arange(30.0))
    given = Instance("given", arrays)
    for score in ("direct", "ipw", "dr"):
        np.testing.assert_array_equal(policy_scores(given, _params(given, score=score)),
                                      np.column_stack([np.zeros(30), np.arange(30.0)]))


# -- (d) evaluator --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def solved(tiny):
    record = solve("policy.tree", tiny, "highs", time_limit=60, depth=2, score="dr")
    assert record.status == "optimal"
    return record


def _tree_solution(feature, node_class) -> dict:
    return {"node_feature": np.array(feature, dtype=float), "node_class": np.array(node_class, dtype=float)}


def test_evaluator_recomputes_objective_of_any_tree(tiny):
    params = _params(tiny, depth=2, score="dr", lam=0.25)
    scores = policy_scores(tiny, params)
    treat_all = FORMULATION.evaluate(tiny, params, _tree_solution([-1, -1, -1], [1, -1, -1, -1, -1, -1, -1]))
    assert treat_all.feasible and treat_all.objective == pytest.approx(float(np.sum(scores[:, 1])))
    split = FORMULATION.evaluate(tiny, params, _tree_solution([2, -1, -1], [-1, 0, 1, -1, -1, -1, -1]))
    by_x2 = tiny.X[:, 2].astype(int)
    expected = float(np.sum(scores[np.arange(30), by_x2])) - 0.25
    assert split.feasible and split.objective == pytest.approx(expected)
    assert split.info["n_treated"] == int(by_x2.sum())
    planted_regret = FORMULATION.evaluate(tiny, params, _tree_solution([0, 1, 3], [-1, -1, -1, 0, 1, 1, 0]))
    assert planted_regret.info["regret"] == pytest.approx(0.0, abs=1e-12)  # the generator's planted tree
    assert treat_all.info["regret"] > 0


def test_evaluator_flags_corrupted_trees(tiny, solved):
    params = _params(tiny, depth=2, score="dr")
    solver_tree = _tree_solution(solved.extra["tree_feature"], solved.extra["tree_treatment"])
    assert FORMULATION.evaluate(tiny, params, solver_tree).objective == pytest.approx(solved.objective)
    good = FORMULATION.evaluate(tiny, params, _tree_solution([0, 1, 3], [-1, -1, -1, 0, 1, 1, 0]))
    assert good.feasible
    corrupted = {
        "leaf without treatment": ([0, 1, 3], [-1, -1, -1, 0, 1, -1, 0]),
        "node branches and assigns": ([0, 1, 3], [-1, 1, -1, 0, 1, 1, 0]),
        "feature out of range": ([0, 9, 3], [-1, -1, -1, 0, 1, 1, 0]),
        "treatment out of range": ([0, 1, 3], [-1, -1, -1, 0, 2, 1, 0]),
        "fractional feature": ([0, 1.5, 3], [-1, -1, -1, 0, 1, 1, 0]),
    }
    for name, (feat, cls) in corrupted.items():
        evaluation = FORMULATION.evaluate(tiny, params, _tree_solution(feat, cls))
        assert not evaluation.feasible, name
    missing = FORMULATION.evaluate(tiny, params, _tree_solution([0, 1, 3], [-1, -1, -1, 0, 1, np.nan, 0]))
    assert not missing.feasible and missing.objective == -math.inf
    unassigned = FORMULATION.evaluate(tiny, params, _tree_solution([0, 1, 3], [-1, -1, -1, 0, 1, -1, 0]))
    assert unassigned.violations["unassigned"] > 0


def test_evaluator_flags_indicators_that_disagree_with_the_tree(tiny):
    params = _params(tiny, depth=1, score="dr")
    b = np.zeros(4)
    b[2] = 1.0
    w = np.array([0.0, 0.0, 1.0, 0.0, 0.0, 1.0])
    good = {"b": b, "w": w}
    assert FORMULATION.evaluate(tiny, params, good).feasible
    half = {"b": b * 0.5, "w": w}
    assert not FORMULATION.evaluate(tiny, params, half).feasible
    clash = {**good, **_tree_solution([1], [-1, 1, 0])}
    assert FORMULATION.evaluate(tiny, params, clash).violations["tree_indicators"] == 1.0


# -- (e) bad input --------------------------------------------------------------------------------
def _bad(**changes):
    data = policy_planted(16, 3, depth=1, seed=5)
    arrays = {"X": data["X"], "y": data["y"], "treatment": data["treatment"], "outcome": data["outcome"]}
    arrays.update(changes)
    return {k: v for k, v in arrays.items() if v is not None}


_TREATMENT3 = np.arange(16) % 3
_NAN_OUTCOME = np.where(np.arange(16) == 4, np.nan, 1.0)
_NAN_X = np.where(np.arange(48).reshape(16, 3) == 7, np.nan, 1.0)
_HALF_X = np.where(np.arange(48).reshape(16, 3) == 7, 0.5, 1.0)


@pytest.mark.parametrize(("arrays", "params", "message"), [
    ({"treatment": _TREATMENT3}, {}, r"treatment must be binary .* got values \[0.0, 1.0, 2.0\]"),
    ({"outcome": None}, {}, "needs a 'outcome' array"),
    ({"treatment": None}, {}, "needs a 'treatment' array"),
    ({"outcome": _NAN_OUTCOME}, {}, "outcome contains 1 NaN"),
    ({"X": _NAN_X}, {}, "X contains 1 NaN"),
    ({"X": _HALF_X}, {}, r"binary features \(0/1\): column 1 \('x1'\) holds 0.5"),
    ({"outcome": np.ones(5)}, {}, "outcome must be a 1-D array of length n = 16"),
    ({"score_0": np.zeros(16)}, {}, "holds score_0 but not score_1"),
    ({"score_0": np.zeros(16), "score_1": _NAN_OUTCOME}, {}, "score_1 contains 1 NaN"),
    ({"treatment": np.r_[np.ones(15), 0.0]}, {"folds": 2}, "needs at least 2 units per arm"),
    ({}, {"depth": 0}, "depth must be >= 1"),
    ({}, {"depth": 1.5}, "depth must be an integer"),
    ({}, {"score": "magic"}, "score must be one of direct, ipw, dr"),
    ({}, {"folds": 0}, "folds must be >= 1"),
    ({}, {"clip": 0.5}, "clip .* must be < 0.5"),
    ({}, {"clip": -0.1}, "clip must be >= 0"),
    ({}, {"lam": -1.0}, "lam must be >= 0"),
    ({}, {"random_state": -1}, "random_state must be >= 0"),
    ({}, {"nosuch": 1}, "has no hyperparameter"),
])
def test_bad_input_is_one_clear_error(arrays, params, message):
    with pytest.raises(InputError, match=message):
        solve("policy.tree", _bad(**arrays), "highs", time_limit=10, **params)


def test_precomputed_scores_need_no_treatment_or_outcome():
    data = _bad(treatment=None, outcome=None, score_0=np.zeros(16), score_1=np.ones(16))
    record = solve("policy.tree", data, "highs", time_limit=10, depth=1)
    assert record.status == "optimal" and record.objective == pytest.approx(16.0)


def test_cli_bad_treatment_exits_2(tmp_path, capsys):
    from reference_impl.cli import main

    bad = tmp_path / "bad.npz"
    np.savez(bad, **_bad(treatment=_TREATMENT3))
    assert main(["solve", "policy.tree", "--instance", str(bad), "--solver", "highs"]) == 2
    assert "treatment must be binary" in capsys.readouterr().err


# -- (f) generator and catalogue ------------------------------------------------------------------
def test_generator_is_deterministic_and_plants_the_optimal_policy():
    first = policy_planted(60, 4, depth=2, effect=1.5, seed=7)
    again = policy_planted(60, 4, depth=2, effect=1.5, seed=7)
    assert first.keys() == again.keys()
    assert all(first[k].tobytes() == again[k].tobytes() and first[k].dtype == again[k].dtype for k in first)
    other = policy_planted(60, 4, depth=2, effect=1.5, seed=8)
    assert not np.array_equal(first["X"], other["X"])
    assert all(first[k].ndim >= 1 for k in first)
    assert first["optimal_value"].shape == (1,)
    assert set(np.abs(first["tau"]).tolist()) == {1.5}
    assert np.array_equal(first["optimal_treatment"], (first["mu_1"] > first["mu_0"]).astype(np.int64))
    assert first["optimal_value"][0] == pytest.approx(float(np.sum(np.maximum(first["mu_0"], first["mu_1"]))))
    # the planted tree (as a depth-2 policy tree) assigns the optimal treatment
    planted = Tree(2, first["tree_feature"], np.r_[[-1, -1, -1], first["tree_leaf_treatment"]], np.array([0, 1]))
    assert np.array_equal(walk(planted, first["X"]), first["optimal_treatment"])
    assert set(np.unique(first["treatment"]).tolist()) == {0, 1}
    with pytest.raises(ValueError):
        policy_planted(10, 1, depth=2)


def test_catalogue_builds_byte_deterministically(tmp_path):
    ids = [TINY, MEDIUM]
    first = build_library(tmp_path / "one", ids=ids)["instances"]
    second = build_library(tmp_path / "two", ids=ids)["instances"]
    assert set(first) == set(ids)
    assert {i: r["sha256"] for i, r in first.items()} == {i: r["sha256"] for i, r in second.items()}
    assert resolve_instance(TINY).X.shape == (30, 4) and resolve_instance(MEDIUM).X.shape == (200, 6)
