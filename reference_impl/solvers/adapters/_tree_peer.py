"""What the optimal-tree peers (``odtlearn``, ``pystreed``, ``gosdt``, ``dl85``) share: the data in
the form the peers take, the hyperparameters none of them can express, and the read-back of a
peer's tree into the solution format of :mod:`~reference_impl.formulations.trees`.

The tree formulations maximise (correct classifications) − lam·(branching nodes) over trees of
depth ≤ ``depth`` on binary features (x = 0 left, x = 1 right; nodes numbered breadth first from
1, children 2k and 2k + 1). A peer's tree is read back node by node into ``node_feature`` (the
feature a branching node tests, −1 otherwise) and ``node_class`` (the index into ``classes`` a
predicting node predicts, −1 otherwise; the nodes below a predicting node are pruned), plus the
indicator matrices ``b`` and ``w`` of that tree, so the formulation's own evaluator re-applies the
tree to X and recomputes the objective.

Every peer here minimises misclassifications (plus, for some, a per-split or per-leaf cost) over
trees whose leaves hold at least one training sample (``min_sup``/``min_leaf_node_size`` = 1). That
restriction does not change the optimum: a split with an empty side can be replaced by the subtree
of its non-empty side, which classifies every training sample alike with fewer splits.
"""
from __future__ import annotations

import contextlib
import io
import math
from collections.abc import Iterator
from typing import Any, Callable

import numpy as np

#: the formulations whose problem (without fairness) is the one the DP peers solve: (12) and
#: Bertsimas & Dunn's big-M model have the same trees, objective and evaluator
TREE_FORMULATIONS = ("trees.flow_oct", "trees.oct_bigm")


def tree_data(instance, params: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """(X as int 0/1, y as class indices 0 … C−1 in the order of ``params["classes"]``)."""
    from ...instances.instance import check_xy

    X, y = check_xy(instance)
    position = {c: i for i, c in enumerate(params["classes"])}
    y_index = np.array([position[int(v)] for v in y.tolist()], dtype=np.int64)
    return np.ascontiguousarray(X, dtype=np.int64), y_index


def common_unsupported(params: dict[str, Any], peer: str) -> str | None:
    """Hyperparameters no tree peer here can express (None: none of them is set)."""
    if params.get("fairness") is not None:
        return (f"{peer} has no fairness constraint of the formulation's kind (fairness={params['fairness']!r}); "
                "that is another problem")
    return None


@contextlib.contextmanager
def quiet(verbose: bool) -> Iterator[None]:
    """Nothing a peer prints reaches stdout or stderr (file descriptors and Python's streams), unless
    ``verbose``."""
    if verbose:
        yield
        return
    from ..quiet import silenced_output

    with silenced_output(), contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        yield


def whole_seconds(time_limit: float) -> int:
    """A time limit for a peer that takes whole seconds (0 there means no limit): ⌈time_limit⌉ ≥ 1."""
    return max(1, int(math.ceil(float(time_limit))))


def nested_tree(root, depth: int, p: int, n_classes: int, *, is_leaf: Callable[[Any], bool],
                leaf_class: Callable[[Any], int], feature: Callable[[Any], int],
                child_zero: Callable[[Any], Any], child_one: Callable[[Any], Any]) -> tuple[np.ndarray, np.ndarray]:
    """(node_feature, node_class) of a peer's nested tree, in the formulation's numbering: a
    branching node k tests ``feature(node)``, its x = 0 side ``child_zero(node)`` becomes 2k and its
    x = 1 side ``child_one(node)`` 2k + 1; a leaf at node k predicts class index ``leaf_class(node)``.
    A ValueError when the peer's tree is deeper than ``depth`` or names a feature or class outside
    the data (the adapter reports it as the peer's error)."""
    branching, total = 2 ** depth - 1, 2 ** (depth + 1) - 1
    node_feature = np.full(branching, -1, dtype=np.int64)
    node_class = np.full(total, -1, dtype=np.int64)
    stack = [(root, 1)]
    while stack:
        node, k = stack.pop()
        if is_leaf(node):
            c = int(leaf_class(node))
            if not 0 <= c < n_classes:
                raise ValueError(f"leaf at node {k} predicts class index {c}, not one of 0..{n_classes - 1}")
            node_class[k - 1] = c
            continue
        if k > branching:
            raise ValueError(f"the returned tree is deeper than depth {depth}")
        j = int(feature(node))
        if not 0 <= j < p:
            raise ValueError(f"node {k} tests feature {j}, not one of 0..{p - 1}")
        node_feature[k - 1] = j
        stack.append((child_zero(node), 2 * k))
        stack.append((child_one(node), 2 * k + 1))
    return node_feature, node_class


def tree_solution(node_feature: np.ndarray, node_class: np.ndarray, params: dict[str, Any], p: int,
                  b: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """The solution arrays the tree formulations read: ``b`` (|B|·p; the peer's own θ when given,
    else the tree's), ``w`` (|B ∪ L|·C), ``node_feature`` and ``node_class``."""
    from ...formulations.trees import Tree

    tree = Tree(int(params["depth"]), node_feature.astype(np.int64), node_class.astype(np.int64),
                np.asarray(params["classes"]))
    b_tree, w_tree = tree.as_indicators(p)
    return {"b": (b_tree if b is None else np.asarray(b, dtype=float)).reshape(-1), "w": w_tree.reshape(-1),
            "node_feature": node_feature.astype(float), "node_class": node_class.astype(float)}

