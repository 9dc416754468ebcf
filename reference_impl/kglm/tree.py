"""Host-side tree logic of the batched branch and bound (FORMULATIONS.md §8; Liu & Lodi,
arXiv 2605.22188: "CPU tree logic, batched numerics on the device").

* :class:`Node` - fixings S1 (z = 1) and S0 (z = 0), an inherited valid lower bound (the
  parent's certified bound: a child's feasible set is contained in its parent's), its depth,
  the parent's relaxation solution as a sparse warm start, and a Lipschitz constant valid for
  its columns (inherited: a child has a subset of its parent's columns; recomputed when
  variable fixing has removed many columns).
* :class:`NodeQueue` - best-bound-first order, plus a depth-first "dive" order used
  periodically to reach leaves (and incumbents) early; lazy deletion keeps both heaps
  consistent.
* :func:`batch_masks` - pads B nodes into the B x p layout (``in1``, ``free`` masks and the
  budgets k - |S1|) and the B x p warm-start matrix.
* :func:`branch_variable` - the free coordinate with the largest |beta_j| in the relaxation.
* :func:`is_leaf` - nodes whose relaxation is exact: |S1| = k (the free z must be 0) or
  |S1| + |free| <= k (the budget does not bind, all free z = 1); their best completion is the
  convex problem on S1 (resp. S1 + free), solved exactly by the refit.
"""
from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Node", "NodeQueue", "batch_masks", "branch_variable", "is_leaf", "leaf_support"]


@dataclass(eq=False)
class Node:
    s1: tuple[int, ...]
    s0: np.ndarray  # int64 indices (may be long: variable fixing moves many coordinates here)
    bound: float
    depth: int
    warm_idx: np.ndarray | None = None
    warm_val: np.ndarray | None = None
    L: float = float("inf")  # an upper bound of the Lipschitz constant over its columns
    L_cols: int = 0  # number of columns when L was computed
    id: int = field(default=-1)


def is_leaf(node: Node, k: int, p: int) -> bool:
    n1 = len(node.s1)
    return n1 >= k or p - len(node.s0) <= k


def leaf_support(node: Node, k: int, p: int) -> tuple[int, ...]:
    """The single support whose convex problem equals the leaf's subtree optimum."""
    if len(node.s1) >= k:
        return tuple(sorted(node.s1))
    keep = np.ones(p, dtype=bool)
    keep[np.asarray(node.s0, dtype=np.int64)] = False
    return tuple(np.flatnonzero(keep).tolist())


class NodeQueue:
    """Open nodes, poppable by best bound or by depth (lazy deletion)."""

    def __init__(self) -> None:
        self._best: list = []
        self._deep: list = []
        self._live: dict[int, Node] = {}
        self._ids = itertools.count()

    def __len__(self) -> int:
        return len(self._live)

    def push(self, node: Node) -> None:
        node.id = next(self._ids)
        self._live[node.id] = node
        heapq.heappush(self._best, (node.bound, -node.depth, node.id))
        heapq.heappush(self._deep, (-node.depth, node.bound, node.id))

    def _pop(self, heap: list, m: int) -> list[Node]:
        out = []
        while heap and len(out) < m:
            nid = heapq.heappop(heap)[2]
            node = self._live.pop(nid, None)
            if node is not None:
                out.append(node)
        return out

    def pop_best(self, m: int) -> list[Node]:
        return self._pop(self._best, m)

    def pop_deep(self, m: int) -> list[Node]:
        return self._pop(self._deep, m)

    def min_bound(self) -> float:
        while self._best and self._best[0][2] not in self._live:
            heapq.heappop(self._best)
        return self._best[0][0] if self._best else float("inf")

    def nodes(self) -> list[Node]:
        return list(self._live.values())


def batch_masks(nodes: list[Node], p: int, k: int
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(in1, free, kf, warm) for a list of nodes, padded to B x p."""
    B = len(nodes)
    in1 = np.zeros((B, p), dtype=bool)
    in0 = np.zeros((B, p), dtype=bool)
    warm = np.zeros((B, p))
    for r, nd in enumerate(nodes):
        if nd.s1:
            in1[r, list(nd.s1)] = True
        if len(nd.s0):
            in0[r, nd.s0] = True
        if nd.warm_idx is not None and nd.warm_idx.size:
            warm[r, nd.warm_idx] = nd.warm_val
    warm[in0] = 0.0
    free = ~(in1 | in0)
    kf = np.array([k - len(nd.s1) for nd in nodes], dtype=np.int64)
    return in1, free, kf, warm


def branch_variable(beta_row: np.ndarray, free_row: np.ndarray) -> int:
    """Free coordinate with the largest |beta_j| (first such index on ties)."""
    score = np.where(free_row, np.abs(beta_row), -1.0)
    return int(np.argmax(score))
