"""clustering.tree_mccormick (19)+(20) and clustering.tree_convexified (19)+(21): optimality by
enumerating every tree, agreement of the two formulations and of the solvers, what the two
relaxations guarantee, the evaluator, bad input, the generator, and k-means comparisons."""
import itertools

import numpy as np
import pytest

from reference_impl.api import solve
from reference_impl.cli import main
from reference_impl.errors import InputError
from reference_impl.formulations.base import FEASIBILITY_TOL
from reference_impl.formulations.clustering import (
    METRICS, best_tree_bruteforce, convexity_shift, dissimilarity, kmeans_objective, route, same_partition,
)
from reference_impl.instances import resolve_instance
from reference_impl.instances.generators import get_generator
from reference_impl.instances.instance import Instance
from reference_impl.instances.library import generate
from reference_impl.instances.storage import npz_bytes, sha256_bytes
from reference_impl.registry import get_formulation
from reference_impl.solvers import is_installed, relaxation_bound

MCC, CVX = "clustering.tree_mccormick", "clustering.tree_convexified"
clusters = get_generator("separated_clusters")
REL = 2e-4


# -- an enumeration written here, sharing no code with the module ------------------------------------
def _midpoint_splits(X):
    splits = []
    for j in range(X.shape[1]):
        values = sorted(set(X[:, j].tolist()))
        splits += [(j, (a + b) / 2) for a, b in zip(values, values[1:])]
    return splits


def _leaf_of(x, tree, depth):
    node = 0                                    # 0-based heap: children 2t+1, 2t+2
    for _ in range(depth):
        j, c = tree[node]
        node = 2 * node + (1 if x[j] <= c else 2)
    return node


def _cost(X, labels, metric):
    total = 0.0
    for i in range(len(X)):
        for j in range(len(X)):
            if labels[i] == labels[j]:
                diff = X[i] - X[j]
                total += {"euclidean": float(np.sqrt(diff @ diff)), "sqeuclidean": float(diff @ diff),
                          "manhattan": float(np.abs(diff).sum())}[metric]
    return total


def enumerate_trees(X, depth, metric="euclidean"):
    """Every tree of the given depth (each branch node: every axis/midpoint split): the optimum
    of (19), and the partitions (as label tuples) of every tree."""
    best, partitions = np.inf, set()
    for tree in itertools.product(_midpoint_splits(X), repeat=2 ** depth - 1):
        labels = tuple(_leaf_of(x, tree, depth) for x in X)
        partitions.add(labels)
        best = min(best, _cost(X, labels, metric))
    return best, partitions


def _random_instance(n, d, seed):
    X = np.round(np.random.default_rng(seed).uniform(0, 10, size=(n, d)), 2)
    return Instance(id=f"uniform-n{n}-d{d}-s{seed}", arrays={"X": X})


SOLVERS = {MCC: ["highs", "scip"], CVX: ["scip"]}
if is_installed("gurobi"):
    SOLVERS = {f: s + ["gurobi"] for f, s in SOLVERS.items()}
RUNS = [(f, s) for f, solvers in SOLVERS.items() for s in solvers]
CASES = [("clust-n6-d2-D1", 1, "euclidean"), ("clust-iris-n8", 2, "euclidean"), ("clust-n10-d1-D2", 2, "sqeuclidean"),
         ("uniform-7-2-0", 2, "euclidean"), ("uniform-7-2-1", 2, "manhattan"), ("uniform-9-2-2", 1, "euclidean")]


#: two diagonal clusters (split by the line x1 = x0): no axis-aligned split separates them
DIAGONAL = np.array([[0.0, 1.0], [1.0, 2.0], [0.5, 1.5], [1.0, 0.0], [2.0, 1.0], [1.5, 0.5]])


def _case_instance(name):
    if name == "diagonal":
        return Instance(id="diagonal", arrays={"X": DIAGONAL, "y": np.array([0, 0, 0, 1, 1, 1])})
    if name.startswith("uniform"):
        _, n, d, seed = name.split("-")
        return _random_instance(int(n), int(d), int(seed))
    return resolve_instance(name)


_ENUMERATED = {}


def _enumerated(name, depth, metric):
    if (name, depth, metric) not in _ENUMERATED:
        _ENUMERATED[name, depth, metric] = enumerate_trees(_case_instance(name).X, depth, metric)
    return _ENUMERATED[name, depth, metric]


# -- (b) both formulations reach the enumerated optimum, with every solver ---------------------------
@pytest.mark.parametrize(("formulation", "solver"), RUNS)
@pytest.mark.parametrize(("name", "depth", "metric"), CASES)
def test_optimum_equals_tree_enumeration(formulation, solver, name, depth, metric):
    instance = _case_instance(name)
    best, partitions = _enumerated(name, depth, metric)
    record = solve(formulation, instance, solver=solver, time_limit=60, depth=depth, metric=metric)
    assert record.status == "optimal", record.message
    assert record.objective == pytest.approx(best, rel=REL, abs=1e-9)
    assert record.bound <= best * (1 + 1e-6) + 1e-9           # a valid lower bound
    assert record.extra["clusters"] <= 2 ** depth
    # the module's own enumeration agrees with this one
    assert best_tree_bruteforce(instance.X, depth, metric).value == pytest.approx(best, rel=1e-12)


@pytest.mark.parametrize("solver", SOLVERS[CVX])
def test_the_two_formulations_agree(solver):
    for name, depth, metric in CASES[:4]:
        values = [solve(f, _case_instance(name), solver=solver, time_limit=60, depth=depth, metric=metric).objective
                  for f in (MCC, CVX)]
        assert values[0] == pytest.approx(values[1], rel=REL), (name, values)


def test_solution_is_a_tree_and_recovers_planted_clusters():
    instance = resolve_instance("clust-n8-d2-D2")
    formulation = get_formulation(MCC)
    params = formulation.validate(instance, {"depth": 2})
    from reference_impl.solvers import solve_model

    model = formulation.build(instance, params)
    assert solve_model(model, "highs", problem_class="MILP", time_limit=60).status == "optimal"
    solution = formulation.extract(model, instance, params)
    leaves = route(instance.X, solution["feature"].astype(int), solution["threshold"], 2)
    np.testing.assert_array_equal(np.argmax(solution["z"], axis=1), leaves)
    evaluation = formulation.evaluate(instance, params, solution)
    assert evaluation.feasible and evaluation.info["recovers_labels"]
    _, partitions = enumerate_trees(instance.X, 2)
    assert any(same_partition(np.array(p), instance.y) for p in partitions)


# -- (c) the relaxations: what (20) and (21) guarantee ---------------------------------------------------
def _root(formulation_id, instance, **params):
    formulation = get_formulation(formulation_id)
    params = formulation.validate(instance, params)
    model = formulation.build(instance, params)
    outcome = relaxation_bound(model, formulation.problem_class, time_limit=60)
    assert outcome.status == "optimal", outcome.message
    return outcome.bound


@pytest.mark.parametrize(("name", "depth"), [("clust-n6-d2-D1", 1), ("clust-iris-n8", 2), ("uniform-7-2-0", 2)])
def test_relaxations_are_valid_and_ordered_as_guaranteed(name, depth):
    instance = _case_instance(name)
    best, _ = _enumerated(name, depth, "euclidean")
    mccormick = _root(MCC, instance, depth=depth)
    shift = convexity_shift(dissimilarity(instance.X))
    shifts = [shift * 1.000001 + 1e-9, 2 * shift + 1, 10 * shift + 5]
    convexified = [_root(CVX, instance, depth=depth, lambda_shift=lam) for lam in shifts]
    tol = 1e-6 * max(1.0, best)
    # both are relaxations: never above the integer optimum
    assert mccormick <= best + tol and all(c <= best + tol for c in convexified)
    # (20): ζ ≥ 0 and d ≥ 0, so the McCormick bound is never negative
    assert mccormick >= -tol
    # (21): z² − z ≤ 0 on [0, 1], so a larger λ never raises the relaxation ("degrades as λ increases")
    assert convexified[0] >= convexified[1] - tol >= convexified[2] - 2 * tol
    print(f"{name} depth {depth}: optimum {best:.4f}, root (20) {mccormick:.4f}, root (21) λ=auto {convexified[0]:.4f}")


def test_auto_shift_makes_the_objective_convex():
    instance = resolve_instance("clust-iris-n8")
    params = get_formulation(CVX).validate(instance, {"depth": 2})
    D = dissimilarity(instance.X)
    assert params["convex"] and np.linalg.eigvalsh(D + params["lambda_shift"] * np.eye(len(D)))[0] >= 0
    assert params["lambda_shift"] > 0  # a Euclidean distance matrix is indefinite
    low = get_formulation(CVX).validate(instance, {"depth": 2, "lambda_shift": 0.0})
    assert not low["convex"]


# -- (d) the evaluator ------------------------------------------------------------------------------------
def _solution_for(X, feature, threshold, depth):
    leaves = route(X, np.asarray(feature), np.asarray(threshold, dtype=float), depth)
    z = np.zeros((len(X), 2 ** depth))
    z[np.arange(len(X)), leaves] = 1.0
    return {"feature": np.asarray(feature, dtype=float), "threshold": np.asarray(threshold, dtype=float), "z": z}


def test_evaluator_recomputes_the_objective_from_the_data():
    X = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 3.0], [4.0, 4.0], [5.0, 1.0]])
    instance = Instance(id="five", arrays={"X": X})
    formulation = get_formulation(MCC)
    params = formulation.validate(instance, {"depth": 2})
    # root: x0 ≤ 2.5; left child: x1 ≤ 1.5; right child: x1 ≤ 2.5  → leaves {0,1}, {2}, {4}, {3}
    solution = _solution_for(X, [0, 1, 1], [2.5, 1.5, 2.5], 2)
    np.testing.assert_array_equal(np.argmax(solution["z"], axis=1), [0, 0, 1, 3, 2])
    evaluation = formulation.evaluate(instance, params, solution)
    assert evaluation.feasible
    assert evaluation.objective == pytest.approx(2 * 1.0)     # the one pair (0, 1), counted as (i,j) and (j,i)
    assert evaluation.info["leaf_sizes"] == [2, 1, 1, 1]
    assert evaluation.info["kmeans_objective"] == pytest.approx(0.5)


def test_evaluator_flags_each_corruption():
    instance = resolve_instance("clust-iris-n8")
    formulation = get_formulation(CVX)
    params = formulation.validate(instance, {"depth": 2})
    best = best_tree_bruteforce(instance.X, 2)
    good = _solution_for(instance.X, best.feature, best.threshold, 2)
    assert formulation.evaluate(instance, params, good).feasible
    corrupt = {}
    moved = {k: v.copy() for k, v in good.items()}
    moved["threshold"][0] = instance.X[:, int(moved["feature"][0])].max() + 1   # routes every point left, z unchanged
    corrupt["threshold moved, z stale"] = (moved, "routing")
    two = {k: v.copy() for k, v in good.items()}
    two["z"][0] = 1.0
    corrupt["point in every leaf"] = (two, "assignment")
    none = {k: v.copy() for k, v in good.items()}
    none["z"][0] = 0.0
    corrupt["point in no leaf"] = (none, "assignment")
    half = {k: v.copy() for k, v in good.items()}
    half["z"] = good["z"] * 0.5
    corrupt["fractional z"] = (half, "integrality")
    wrong = {k: v.copy() for k, v in good.items()}
    wrong["feature"][0] = 2.0
    corrupt["no such feature"] = (wrong, "feature_range")
    frac = {k: v.copy() for k, v in good.items()}
    frac["feature"][0] = 0.5
    corrupt["fractional feature"] = (frac, "integrality")
    for name, (solution, kind) in corrupt.items():
        evaluation = formulation.evaluate(instance, params, solution)
        assert not evaluation.feasible and evaluation.violations[kind] > FEASIBILITY_TOL, (name, evaluation.violations)
    nan = {k: v.copy() for k, v in good.items()}
    nan["threshold"][1] = np.nan
    assert not formulation.evaluate(instance, params, nan).feasible
    with pytest.raises(InputError, match="z of shape 8 × 4"):
        formulation.evaluate(instance, params, {**good, "z": good["z"][:, :2]})


# -- (e) bad input ---------------------------------------------------------------------------------------
X6 = np.arange(12, dtype=float).reshape(6, 2)


@pytest.mark.parametrize("formulation", [MCC, CVX])
@pytest.mark.parametrize(("X", "params", "message"), [
    (X6, {"depth": 3}, "gives 8 leaves"),
    (X6, {"depth": 0}, "must be >= 1"),
    (X6, {"depth": float("nan")}, "depth must be a finite integer"),
    (X6, {}, "needs the tree depth"),
    (X6, {"depth": 1, "metric": "cosine"}, "metric must be one of"),
    (np.where(X6 > 10, np.nan, X6), {"depth": 1}, "NaN"),
    (np.ones((6, 2)), {"depth": 1}, "every feature of X is constant"),
    (np.ones((1, 2)), {"depth": 1}, "at least 2 points"),
])
def test_bad_input_gives_one_input_error(formulation, X, params, message):
    with pytest.raises(InputError, match=message):
        get_formulation(formulation).validate(Instance(id="bad", arrays={"X": X}), params)


def test_bad_shift_and_command_line(capsys):
    with pytest.raises(InputError, match="lambda_shift must be >= 0"):
        get_formulation(CVX).validate(Instance(id="bad", arrays={"X": X6}), {"depth": 1, "lambda_shift": -1.0})
    with pytest.raises(InputError, match="no hyperparameter"):
        get_formulation(MCC).validate(Instance(id="bad", arrays={"X": X6}), {"depth": 1, "lambda_shift": 1.0})
    assert main(["solve", MCC, "--instance", "clust-n6-d2-D1", "--solver", "highs", "--param", "depth=3"]) == 2
    err = capsys.readouterr().err.strip()
    assert "gives 8 leaves" in err and len(err.splitlines()) == 1 and "Traceback" not in err, err


# -- (f) the generator -------------------------------------------------------------------------------------
def test_separated_clusters_are_deterministic_and_tree_recoverable():
    a = sha256_bytes(npz_bytes(clusters(n=12, d=2, depth=2, seed=3)))
    b = sha256_bytes(npz_bytes(clusters(n=12, d=2, depth=2, seed=3)))
    c = sha256_bytes(npz_bytes(clusters(n=12, d=2, depth=2, seed=4)))
    assert a == b != c
    for instance_id in ("clust-n8-d2-D2", "clust-iris-n8"):
        assert generate(instance_id).sha256 == generate(instance_id).sha256
    for n, d, depth in [(8, 2, 2), (10, 1, 2), (8, 3, 3)]:
        data = clusters(n=n, d=d, depth=depth, separation=4.0, spread=3.0, seed=0)
        assert sorted(np.bincount(data["y"]).tolist()) == sorted(np.bincount(np.arange(n) % 2 ** depth).tolist())
        for c in range(2 ** depth):   # every point within spread/2 of its centre, on every axis
            assert np.all(np.abs(data["X"][data["y"] == c] - data["centres"][c]) <= 1.5)
        if depth <= 2:                  # some tree of the depth reproduces the planted clusters
            _, partitions = enumerate_trees(data["X"], depth)
            assert any(same_partition(np.array(p), data["y"]) for p in partitions)


# -- (g) k-means: only what holds by definition -----------------------------------------------------------
def _partitions(n, blocks):
    """Every partition of range(n) into at most ``blocks`` labelled groups (restricted growth strings)."""
    def grow(prefix, used):
        if len(prefix) == n:
            yield tuple(prefix)
            return
        for label in range(min(used + 1, blocks)):
            yield from grow(prefix + [label], max(used, label + 1))
    yield from grow([0], 1)


@pytest.mark.parametrize(("name", "depth"), [("clust-iris-n8", 2), ("clust-n8-d2-D2", 2), ("uniform-7-2-0", 2),
                                           ("diagonal", 1)])
def test_kmeans_and_unrestricted_partitions_versus_the_tree(name, depth):
    from sklearn.cluster import KMeans

    instance = _case_instance(name)
    X = instance.X
    groups = 2 ** depth
    tree_best, tree_partitions = _enumerated(name, depth, "euclidean")
    everything = list(_partitions(len(X), groups))
    # (19) over every partition into ≤ 2^D groups is ≤ (19) over the tree-realisable ones
    free_best = min(_cost(X, p, "euclidean") for p in everything)
    assert free_best <= tree_best * (1 + 1e-12)
    # the k-means objective: its global minimum (enumerated) is ≤ that of every tree partition
    sse_min = min(kmeans_objective(X, np.array(p)) for p in everything)
    tree_sse = min(kmeans_objective(X, np.array(p)) for p in tree_partitions)
    assert sse_min <= tree_sse * (1 + 1e-12)
    # scikit-learn's KMeans is a heuristic: never below the global minimum ...
    kmeans = KMeans(n_clusters=groups, n_init=10, random_state=0).fit(X)
    assert kmeans_objective(X, kmeans.labels_) >= sse_min * (1 - 1e-9)
    # ... and Lloyd's iterations started from the optimal tree's leaf centroids never increase the
    # k-means objective of that tree's partition (KMeans is unconstrained by the tree)
    best_tree = best_tree_bruteforce(X, depth)
    centroids = np.array([X[best_tree.leaves == c].mean(axis=0) for c in np.unique(best_tree.leaves)])
    lloyd = KMeans(n_clusters=len(centroids), init=centroids, n_init=1).fit(X)
    assert kmeans_objective(X, lloyd.labels_) <= kmeans_objective(X, best_tree.leaves) * (1 + 1e-9) + 1e-12
    if name == "diagonal":  # the inequalities are not vacuous: here the tree is strictly worse
        assert free_best < tree_best - 1 and sse_min < tree_sse - 1
        assert not get_formulation(MCC).evaluate(instance, get_formulation(MCC).validate(instance, {"depth": 1}),
                                                 _solution_for(X, best_tree.feature, best_tree.threshold, 1)
                                                 ).info["recovers_labels"]
    print(f"{name}: (19) tree {tree_best:.4f} vs free {free_best:.4f}; k-means objective tree {tree_sse:.4f}, "
          f"KMeans {kmeans_objective(X, kmeans.labels_):.4f}, global {sse_min:.4f}")


def test_metrics_are_distances():
    X = np.random.default_rng(0).normal(size=(5, 3))
    for metric in METRICS:
        D = dissimilarity(X, metric)
        assert np.allclose(D, D.T) and np.all(np.diag(D) == 0) and np.all(D[~np.eye(5, dtype=bool)] > 0)
    np.testing.assert_allclose(dissimilarity(X, "sqeuclidean"), dissimilarity(X, "euclidean") ** 2)
