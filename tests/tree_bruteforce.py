"""Test oracle for the optimal-tree peers: every classification tree of depth ≤ D on binary features,
enumerated explicitly and scored by its own routing (independent of every solver and of
reference_impl's tree code), plus the shared tiny instances and a cached HiGHS solve of (12)."""
from __future__ import annotations

import functools
import itertools

import numpy as np

from reference_impl import api


def all_trees(p: int, n_classes: int, depth: int):
    """Every tree of depth ≤ ``depth``: ``("leaf", c)`` or ``("split", j, tree_x0, tree_x1)``."""
    leaves = [("leaf", c) for c in range(n_classes)]
    if depth == 0:
        return leaves
    below = all_trees(p, n_classes, depth - 1)
    return leaves + [("split", j, left, right) for j in range(p) for left, right in itertools.product(below, below)]


def _predict(tree, x) -> int:
    while tree[0] == "split":
        tree = tree[3] if x[tree[1]] > 0.5 else tree[2]
    return tree[1]


def _splits(tree) -> int:
    return 0 if tree[0] == "leaf" else 1 + _splits(tree[2]) + _splits(tree[3])


def tree_optimum(X, y, depth: int, lam: float = 0.0) -> tuple[float, tuple]:
    """max over all trees of depth ≤ ``depth`` of (correct) − lam·(splits), and one optimal tree;
    y holds labels, classified through their sorted order."""
    X = np.asarray(X)
    labels = sorted({int(v) for v in np.asarray(y).tolist()})
    y_index = np.array([labels.index(int(v)) for v in np.asarray(y).tolist()])
    best = (-np.inf, None)
    for tree in all_trees(X.shape[1], len(labels), depth):
        correct = sum(int(_predict(tree, X[i]) == y_index[i]) for i in range(X.shape[0]))
        value = correct - lam * _splits(tree)
        if value > best[0] + 1e-12:
            best = (value, tree)
    return best


def planted(n: int = 16, p: int = 4, n_classes: int = 2, noise: float = 0.2, seed: int = 0):
    """A tiny instance: binary X, labels from a depth-2 rule on features 0 and 1, flipped with
    probability ``noise`` (three classes: the rule's sum)."""
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 2, size=(n, p)).astype(float)
    if n_classes == 2:
        y = np.logical_xor(X[:, 0] > 0.5, X[:, 1] > 0.5).astype(int)
        y = np.where(rng.random(n) < noise, 1 - y, y)
    else:
        y = (X[:, 0] + X[:, 1]).astype(int)
        y = np.where(rng.random(n) < noise, rng.integers(0, n_classes, n), y)
    return X, y.astype(float)


def catalogue_xy(instance_id: str = "trees-planted-n20-p4-d2"):
    from reference_impl.instances import resolve_instance

    instance = resolve_instance(instance_id)
    return np.asarray(instance.arrays["X"], dtype=float), np.asarray(instance.y, dtype=float)


@functools.lru_cache(maxsize=None)
def highs_objective(instance_id: str, depth: int, lam: float) -> float:
    """The optimum of (12) by HiGHS (cached: the peers' tests share it)."""
    record = api.solve("trees.flow_oct", instance_id, solver="highs", depth=depth, lam=lam, time_limit=60)
    assert record.status == "optimal", record.message
    return float(record.objective)
