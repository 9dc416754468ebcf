"""The ``imm`` heuristic (IMM threshold trees from scikit-learn KMeans centres;
reference_impl/solvers/adapters/imm.py, _threshold_tree.py) on tiny instances of
``clustering.tree_mccormick`` and ``clustering.tree_convexified``, and the KMeans cross-check.

What is proved: its solution is feasible for both formulations (the evaluator re-routes the points
through the returned splits and finds the returned assignment) and never better than the optimum
over every tree (enumeration); the padding of a shallower tree keeps its partition; a tree deeper
than D is refused; IMM's cuts separate the centres with the fewest mistakes; bad options give one
clear error; a missing scikit-learn gives ``not_installed``.

Plain k-means is *not* a solver of these formulations: their solution is a depth-D axis-aligned
tree (feature and threshold per branch node, the assignment routed through them), and a k-means
partition is in general no tree's leaves (its cells are Voronoi cells, not boxes), so it cannot be
written in the formulation's solution format; ``kmeans`` is therefore not registered. It is kept
here as a cross-check: on the planted instance k-means with k = 2^D finds the planted clusters,
which are also the leaves of the optimal tree.
"""
from __future__ import annotations

import numpy as np
import pytest

from reference_impl import api
from reference_impl.errors import InputError, UnknownIdError
from reference_impl.formulations.clustering import (best_tree_bruteforce, dissimilarity, partition_objective, route,
                                                     same_partition)
from reference_impl.instances import resolve_instance
from reference_impl.registry import get_formulation
from reference_impl.solvers.adapters._threshold_tree import Node, imm_tree, to_solution, tree_depth
from reference_impl.solvers.adapters.imm import SOLVER
from reference_impl.solvers.registry import capable_solvers

pytest.importorskip("sklearn")
FIDS = ("clustering.tree_mccormick", "clustering.tree_convexified")
CASES = [("clust-n6-d2-D1", 1), ("clust-n8-d2-D2", 2), ("clust-n10-d1-D2", 2), ("clust-iris-n8", 2)]


def test_registered_and_kmeans_is_not():
    for fid in FIDS:
        solvers = capable_solvers(get_formulation(fid))
        assert "imm" in solvers and "exkmc" in solvers and "kmeans" not in solvers
        with pytest.raises(UnknownIdError):
            api.solve(fid, "clust-n6-d2-D1", solver="kmeans", depth=1)
    assert SOLVER.installed() and SOLVER.version().endswith("KMeans + IMM (numpy)")


@pytest.mark.parametrize("fid", FIDS)
@pytest.mark.parametrize("instance,depth", CASES)
def test_feasible_never_below_enumeration(fid, instance, depth):
    out: dict = {}
    record = api.solve(fid, instance, solver="imm", depth=depth, solution_out=out)
    assert record.status == "feasible" and record.bound is None and record.max_violation == 0.0, record.message
    X = resolve_instance(instance).X
    optimum = best_tree_bruteforce(X, depth).value
    assert record.objective >= optimum * (1 - 1e-9)
    assert record.solver_objective == pytest.approx(record.objective, rel=1e-12)
    assert out["z"].shape == (len(X), 2 ** depth) and 2 <= record.extra["peer_k"] <= 2 ** depth
    assert record.extra["fitting"] >= 1 and record.extra["candidates"] == 2 ** depth - 1


def test_planted_instance_optimal_and_kmeans_cross_check():
    """clust-n8-d2-D2: four planted clusters on a 2 × 2 grid. IMM with k = 4 reaches the optimal
    tree; k-means' partition (not a solver: no tree) is the same partition, the planted one."""
    from sklearn.cluster import KMeans

    instance = resolve_instance("clust-n8-d2-D2")
    X, y = instance.X, instance.arrays["y"]
    best = best_tree_bruteforce(X, 2)
    record = api.solve("clustering.tree_mccormick", "clust-n8-d2-D2", solver="imm", depth=2)
    assert record.status == "feasible" and record.objective == pytest.approx(best.value, rel=1e-9)
    assert record.extra["peer_k"] == 4
    labels = KMeans(n_clusters=4, n_init=10, random_state=0).fit(X).labels_
    assert same_partition(labels, best.leaves) and same_partition(labels, y)
    assert partition_objective(dissimilarity(X), labels) == pytest.approx(best.value, rel=1e-9)


def test_padding_keeps_the_partition_and_deeper_trees_are_refused():
    X = np.array([[0.0, 0.0], [1.0, 0.0], [5.0, 0.0], [6.0, 3.0], [6.0, 4.0]])
    tree = Node(0, 3.0, Node(value=0), Node(1, 3.5, Node(value=1), Node(value=2)))   # depth 2, 3 leaves
    assert tree_depth(tree) == 2 and to_solution(tree, X, 1) is None
    solution = to_solution(tree, X, 3)   # padded to depth 3
    leaves = route(X, solution["feature"].astype(int), solution["threshold"], 3)
    assert np.array_equal(np.argmax(solution["z"], axis=1), leaves)
    assert same_partition(leaves, [0, 0, 1, 1, 2])


def test_imm_cut_is_the_fewest_mistakes():
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0.0], [4.0, 0.0]])
    labels = rng.integers(0, 2, 30)
    X = centres[labels] + rng.normal(0, 1.2, (30, 2))
    tree = imm_tree(X, labels, centres)
    assert tree.feature == 0 and tree.left.is_leaf() and tree.right.is_leaf()
    mistakes = lambda c: int(np.sum((X[:, 0] <= c) != (centres[labels, 0] <= c)))  # noqa: E731
    candidates = [c for c in np.unique(np.r_[X[:, 0], centres[:, 0]]) if 0.0 <= c < 4.0]
    assert mistakes(tree.value) == min(mistakes(c) for c in candidates)


def test_bad_options_and_missing_package(monkeypatch):
    for options, match in [({"n_init": 0}, "n_init must be a positive integer"),
                           ({"max_iter": "many"}, "max_iter must be a positive integer"),
                           ({"init": "random"}, "imm has no option")]:
        with pytest.raises(InputError, match=match):
            api.solve(FIDS[0], "clust-n6-d2-D1", solver="imm", depth=1, solver_options=options)
    monkeypatch.setattr(SOLVER, "installed", lambda: False)
    record = api.solve(FIDS[0], "clust-n6-d2-D1", solver="imm", depth=1)
    assert record.status == "not_installed" and "scikit-learn" in record.message
