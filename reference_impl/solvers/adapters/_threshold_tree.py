"""Threshold trees from k-means centres, for the clustering heuristics ``imm`` and ``exkmc``.

* :func:`imm_tree` — IMM, "Iterative Mistake Minimization" (Dasgupta, Frost, Moshkovitz &
  Rashtchian, "Explainable k-means and k-medians clustering", ICML 2020, Algorithm 1), in NumPy:
  at a node holding centres C (|C| ≥ 2) and the points that reached it, choose the axis-aligned
  cut (feature j, threshold c; x goes left iff x_j ≤ c) that separates at least two centres of
  C and sends the fewest points to the other side from their own centre ("mistakes"); mistaken
  points are dropped from the subtree's data, the centres split by the cut, recurse; a node with
  one centre is a leaf. Ties: lowest feature, then lowest threshold. Thresholds are taken at the
  node's point and centre values below the largest centre value on that feature.
* :func:`to_solution` — a tree of :class:`Node` objects (the same shape as ExKMC's
  ``ExKMC.Tree.Node``: ``feature``/``value`` = threshold on an internal node, ``value`` = cluster
  on a leaf, ``left``/``right``) as the solution of ``clustering.tree_*``: the full depth-D heap
  (``feature``, ``threshold`` per branch node t = 1 … 2^D − 1) and the leaf assignment ``z``.
  A leaf above depth D is padded with splits that send every point left (feature 0, a threshold
  above its largest value), so the padded tree makes the same partition; a tree deeper than D
  cannot be represented (None). ``z`` is computed by walking the *original* tree (a leaf at heap
  node t and depth h is heap leaf t·2^(D−h), the leftmost below it), independently of the
  padded arrays, so the evaluator's routing check verifies the conversion.
"""
from __future__ import annotations

import numpy as np


class Node:
    """A threshold-tree node, shaped as ExKMC's: internal iff it has children."""

    def __init__(self, feature=None, value=None, left=None, right=None):
        self.feature, self.value, self.left, self.right = feature, value, left, right

    def is_leaf(self) -> bool:
        return self.left is None and self.right is None


def tree_depth(node) -> int:
    """Edges on the longest root-to-leaf path (0 for a single leaf)."""
    if node is None or node.is_leaf():
        return 0
    return 1 + max(tree_depth(node.left), tree_depth(node.right))


def imm_tree(X: np.ndarray, labels: np.ndarray, centres: np.ndarray) -> Node:
    """The IMM threshold tree of the clustering (``labels``: each point's centre) (module docstring)."""
    X, centres = np.asarray(X, dtype=float), np.asarray(centres, dtype=float)
    labels = np.asarray(labels, dtype=np.int64)

    def build(rows: np.ndarray, active: np.ndarray) -> Node:
        if len(active) == 1:
            return Node(value=int(active[0]))
        points, own = X[rows], centres[labels[rows]]
        best = None
        for j in range(X.shape[1]):
            top = float(np.max(centres[active, j]))
            candidates = np.unique(np.concatenate([points[:, j], centres[active, j]]))
            for c in candidates[candidates < top]:
                if not np.any(centres[active, j] <= c):
                    continue
                mistakes = int(np.sum((points[:, j] <= c) != (own[:, j] <= c)))
                if best is None or mistakes < best[0]:
                    best = (mistakes, j, float(c))
        if best is None:  # every active centre coincides on every feature: no cut separates them
            return Node(value=int(active[0]))
        _, j, c = best
        keep = (X[rows, j] <= c) == (centres[labels[rows], j] <= c)
        left_rows = rows[keep & (X[rows, j] <= c)]
        right_rows = rows[keep & (X[rows, j] > c)]
        left_centres = active[centres[active, j] <= c]
        right_centres = active[centres[active, j] > c]
        return Node(feature=j, value=c, left=build(left_rows, left_centres), right=build(right_rows, right_centres))

    return build(np.arange(X.shape[0]), np.unique(labels))


def to_solution(tree, X: np.ndarray, depth: int) -> dict[str, np.ndarray] | None:
    """The ``clustering.tree_*`` solution of ``tree`` (module docstring); None when deeper than ``depth``."""
    X = np.asarray(X, dtype=float)
    if tree_depth(tree) > depth:
        return None
    branch = 2 ** depth - 1
    feature = np.zeros(branch)
    threshold = np.full(branch, float(np.max(X[:, 0])) + 1.0)   # padding: every point goes left
    stack = [(tree, 1)]
    while stack:
        node, t = stack.pop()
        if not node.is_leaf():
            feature[t - 1], threshold[t - 1] = int(node.feature), float(node.value)
            stack += [(node.left, 2 * t), (node.right, 2 * t + 1)]
    n = X.shape[0]
    leaf = np.zeros(n, dtype=np.int64)
    for i in range(n):
        node, t, h = tree, 1, 0
        while not node.is_leaf():
            go_right = X[i, int(node.feature)] > float(node.value)
            node, t, h = (node.right, 2 * t + 1, h + 1) if go_right else (node.left, 2 * t, h + 1)
        leaf[i] = t * 2 ** (depth - h) - 2 ** depth
    z = np.zeros((n, 2 ** depth))
    z[np.arange(n), leaf] = 1.0
    return {"feature": feature, "threshold": threshold, "z": z}


def kmeans_fit(X: np.ndarray, k: int, seed: int, n_init: int, max_iter: int):
    """scikit-learn's KMeans with k clusters (the centres IMM and ExKMC start from)."""
    from sklearn.cluster import KMeans

    return KMeans(n_clusters=k, n_init=n_init, max_iter=max_iter, random_state=seed).fit(X)


def best_tree(fits, X: np.ndarray, params) -> tuple[dict | None, dict]:
    """The candidate tree with the lowest (19): ``fits`` yields ``(tree, facts)``; returns the
    solution and the facts of the best tree that fits the depth (None, {} when none does), with
    ``candidates`` (trees built) and ``fitting`` (trees of depth <= D) added."""
    from ...formulations.clustering import dissimilarity, partition_objective

    D = dissimilarity(np.asarray(X, dtype=float), params["metric"])
    best, built, fitting = (np.inf, None, {}), 0, 0
    for tree, facts in fits:
        built += 1
        solution = to_solution(tree, X, int(params["depth"]))
        if solution is None:
            continue
        fitting += 1
        value = partition_objective(D, np.argmax(solution["z"], axis=1))
        if value < best[0]:
            best = (value, solution, {**facts, "objective": value})
    return best[1], {**best[2], "candidates": built, "fitting": fitting}
