"""Binary-feature classification data with a planted tree (optimal classification trees,
FORMULATIONS.md §2; tutorial §2.2.1 and §5)."""
from __future__ import annotations

import numpy as np

from . import register_generator


def planted_tree_structure(rng: np.random.Generator, p: int, depth: int, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """A full tree of depth ``depth``: (feature per branching node 1…2^D − 1, class per leaf
    2^D … 2^{D+1} − 1). No feature is tested twice on one root-to-leaf path (so every
    leaf can be reached), and the two leaves of each last-level node predict different
    classes (so every split matters)."""
    branching = 2 ** depth - 1
    feature = np.full(branching, -1, dtype=np.int64)
    for k in range(1, branching + 1):
        used = set()
        a = k
        while a > 1:
            a //= 2
            used.add(int(feature[a - 1]))
        choices = [j for j in range(p) if j not in used]
        feature[k - 1] = choices[int(rng.integers(len(choices)))]
    leaves = np.zeros(2 ** depth, dtype=np.int64)
    for pair in range(2 ** (depth - 1)):
        first = int(rng.integers(n_classes))
        second = (first + 1 + int(rng.integers(n_classes - 1))) % n_classes
        leaves[2 * pair], leaves[2 * pair + 1] = first, second
    return feature, leaves


def apply_planted(X: np.ndarray, feature: np.ndarray, leaves: np.ndarray, depth: int) -> np.ndarray:
    """Leaf class of every row of X under the full planted tree (x = 0 left, x = 1 right)."""
    node = np.ones(X.shape[0], dtype=np.int64)
    rows = np.arange(X.shape[0])
    for _ in range(depth):
        node = 2 * node + (X[rows, feature[node - 1]] > 0.5).astype(np.int64)
    return leaves[node - 2 ** depth]


@register_generator("planted_tree")
def planted_tree(n: int, p: int, depth: int, n_classes: int = 2, noise: float = 0.1, density: float = 0.5,
                 group_bias: float = 0.3, seed: int = 0) -> dict[str, np.ndarray]:
    """Binary features with labels from a planted tree of depth ``depth`` plus label noise.

    * X: n×p, each entry 1 with probability ``density`` (independent), stored as float 0/1.
    * The planted tree (:func:`planted_tree_structure`): every branching node tests a feature
      not tested above it; sibling leaves of the last level predict different classes.
      Arrays ``tree_feature`` (per branching node) and ``tree_leaf_class`` (per leaf) keep it.
    * y: the planted tree's class, replaced with probability ``noise`` by one of the other
      classes (uniformly); int64 labels 0 … n_classes − 1.
    * group (int64, 0/1): 1 with probability ½ + ``group_bias`` where the root's feature is
      1, ½ − ``group_bias`` where it is 0 — so the planted tree treats the groups differently
      and fairness constraints bind. stratum (int64, 0/1): a fair coin, independent of the rest
      (the legitimate variable of conditional statistical parity).
    * feature_names: ``x0`` … ``x{p−1}``.

    Byte-deterministic: only seeded draws, comparisons and integer arithmetic.
    """
    if depth < 1 or p < depth:
        raise ValueError(f"planted_tree needs 1 <= depth <= p; got depth={depth}, p={p}")
    if n_classes < 2:
        raise ValueError("planted_tree needs at least two classes")
    if not 0 <= group_bias <= 0.5:
        raise ValueError("group_bias must lie in [0, 0.5]")
    rng = np.random.default_rng(seed)
    X = (rng.random((n, p)) < density).astype(float)
    feature, leaves = planted_tree_structure(rng, p, depth, n_classes)
    clean = apply_planted(X, feature, leaves, depth)
    flip = rng.random(n) < noise
    shift = 1 + rng.integers(0, n_classes - 1, size=n)
    y = np.where(flip, (clean + shift) % n_classes, clean).astype(np.int64)
    root = X[:, feature[0]] > 0.5
    chance = np.where(root, 0.5 + group_bias, 0.5 - group_bias)
    group = (rng.random(n) < chance).astype(np.int64)
    stratum = (rng.random(n) < 0.5).astype(np.int64)
    return {"X": X, "y": y, "group": group, "stratum": stratum,
            "feature_names": np.array([f"x{j}" for j in range(p)], dtype=str),
            "tree_feature": feature, "tree_leaf_class": leaves, "y_clean": clean.astype(np.int64)}
