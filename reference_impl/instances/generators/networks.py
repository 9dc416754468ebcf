"""Small trained models and a point to explain or attack (tutorial §2.4 and §3.2;
FORMULATIONS.md §4, ``verification.relu_bigm`` and ``counterfactual.sparse``).

Two generators, both byte-deterministic: seeded :class:`numpy.random.Generator` draws and
element-wise IEEE arithmetic only — every matrix product is :func:`det_matmul` (a fixed-order
sum of element-wise products, no BLAS), every sum over samples is :func:`math.fsum`, and the
loss is the squared error to the class targets, so training needs no ``exp`` (whose last bit
differs between libm/SIMD builds):

* ``trained_relu_network`` — a ReLU network (``hidden`` units per hidden layer, a linear last
  layer with one score per class) trained by full-batch gradient descent for a fixed number of
  epochs on a synthetic problem: each class is a union of ``clusters`` Gaussian blobs (so the
  classes are not linearly separable), clipped to the input box [−box, box]^d.
* ``trained_linear_model`` — a linear classifier on one blob per class: one score w·x + b
  (class 1 iff it is positive) for two classes, one row per class otherwise.
* ``trained_tree_ensemble`` — a small forest of extremely randomised trees (thresholds on the
  1/64 grid, leaf values the class frequencies divided by the number of trees).

After training the weights are rounded to multiples of 1/256 (exact binary fractions: the
model the MILP and the NumPy forward pass see is exactly the stored one).

Arrays: ``X``, ``y`` (training data, labels 0..C−1 as floats), the model ``W0, b0, W1, b1, …``
(``W_l`` is outputs × inputs) or ``tree_*`` (see :mod:`reference_impl.formulations._model_embedding`),
``x_lower``/``x_upper`` (the input box), ``x_bar`` (a correctly classified training point,
the one at the lower quartile of the classification margins: neither on the boundary nor far
from it), ``x_bar_class`` (its class, int64 of length 1) and ``train_accuracy``. With
``immutable`` (feature indices) an int64 0/1 mask ``immutable`` is added (counterfactuals).
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from . import register_generator

#: weights are rounded to multiples of 1/WEIGHT_GRID after training
WEIGHT_GRID = 256.0


def det_matmul(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """``A @ B`` summed over the inner index in order with element-wise operations (no BLAS)."""
    out = np.zeros((A.shape[0], B.shape[1]))
    for k in range(A.shape[1]):
        out = out + A[:, k:k + 1] * B[k:k + 1, :]
    return out


def column_sums(A: np.ndarray) -> np.ndarray:
    """Exactly rounded column sums (math.fsum)."""
    return np.array([math.fsum(A[:, j].tolist()) for j in range(A.shape[1])])


def _blobs(rng: np.random.Generator, n: int, d: int, n_classes: int, clusters: int, spread: float, noise: float,
           box: float) -> tuple[np.ndarray, np.ndarray]:
    centers = rng.uniform(-spread, spread, size=(n_classes * clusters, d))
    y = np.arange(n) % n_classes
    cluster = (np.arange(n) // n_classes) % clusters
    X = centers[y * clusters + cluster] + noise * rng.standard_normal((n, d))
    return np.clip(X, -box, box), y


def _forward(weights, biases, X):
    """Deterministic forward pass: (pre-activations per layer, post-activations per layer)."""
    pres, posts = [], [X]
    h = X
    for layer, (W, b) in enumerate(zip(weights, biases)):
        a = det_matmul(h, W.T) + b
        pres.append(a)
        h = np.maximum(a, 0.0) if layer < len(weights) - 1 else a
        posts.append(h)
    return pres, posts


def _train(rng: np.random.Generator, X: np.ndarray, targets: np.ndarray, sizes: Sequence[int], epochs: int,
           learning_rate: float):
    """Full-batch gradient descent on ½·mean‖scores − targets‖²; He-initialised weights."""
    n = X.shape[0]
    weights, biases = [], []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        weights.append(rng.standard_normal((fan_out, fan_in)) * math.sqrt(2.0 / fan_in))
        biases.append(np.zeros(fan_out))
    for _ in range(epochs):
        pres, posts = _forward(weights, biases, X)
        delta = (posts[-1] - targets) / n
        for layer in range(len(weights) - 1, -1, -1):
            grad_W = det_matmul(delta.T, posts[layer])
            grad_b = column_sums(delta)
            if layer > 0:
                delta = det_matmul(delta, weights[layer]) * (pres[layer - 1] > 0)
            weights[layer] = weights[layer] - learning_rate * grad_W
            biases[layer] = biases[layer] - learning_rate * grad_b
    weights = [np.round(W * WEIGHT_GRID) / WEIGHT_GRID for W in weights]
    biases = [np.round(b * WEIGHT_GRID) / WEIGHT_GRID for b in biases]
    return weights, biases


def _package(X, y, weights, biases, n_classes: int, box: float, immutable) -> dict[str, np.ndarray]:
    _, posts = _forward(weights, biases, X)
    scores = posts[-1]
    if scores.shape[1] == 1:
        scores = np.hstack([np.zeros((X.shape[0], 1)), scores])
    model: dict[str, np.ndarray] = {}
    for layer, (W, b) in enumerate(zip(weights, biases)):
        model[f"W{layer}"] = W
        model[f"b{layer}"] = b
    return _with_point(X, y, scores, model, n_classes, box, immutable)


def _with_point(X, y, scores, model, n_classes: int, box: float, immutable) -> dict[str, np.ndarray]:
    """The instance: data, model arrays, box, and x̄ chosen among the correctly classified points."""
    n, d = X.shape
    predicted = np.argmax(scores, axis=1)
    others = np.where(np.arange(n_classes)[None, :] == predicted[:, None], -np.inf, scores)
    margin = scores[np.arange(n), predicted] - others.max(axis=1)
    correct = np.flatnonzero((predicted == y) & (margin >= 0.05))
    if correct.size == 0:
        raise ValueError("the trained model classifies no training point correctly with a margin; change the seed")
    order = correct[np.argsort(margin[correct], kind="stable")]
    chosen = int(order[len(order) // 4])
    arrays: dict[str, np.ndarray] = {"X": X, "y": y.astype(float), **model}
    arrays.update({
        "x_lower": np.full(d, -float(box)), "x_upper": np.full(d, float(box)),
        "x_bar": X[chosen].copy(), "x_bar_class": np.array([int(y[chosen])], dtype=np.int64),
        "train_accuracy": np.array([math.fsum((predicted == y).astype(float).tolist()) / n]),
    })
    if immutable:
        mask = np.zeros(d, dtype=np.int64)
        mask[list(immutable)] = 1
        arrays["immutable"] = mask
    return arrays


@register_generator("trained_relu_network")
def trained_relu_network(n_samples: int, n_features: int, hidden: Sequence[int] = (6,), *, n_classes: int = 2,
                         clusters: int = 2, spread: float = 1.5, noise: float = 0.35, box: float = 3.0,
                         epochs: int = 400, learning_rate: float = 0.05, immutable: Sequence[int] = (),
                         seed: int = 0) -> dict[str, np.ndarray]:
    """A ReLU network trained on ``n_classes`` classes of ``clusters`` blobs each (see module doc)."""
    if isinstance(hidden, int):
        hidden = [hidden]
    rng = np.random.default_rng(seed)
    X, y = _blobs(rng, n_samples, n_features, n_classes, clusters, spread, noise, box)
    targets = np.where(np.arange(n_classes)[None, :] == y[:, None], 1.0, 0.0)
    weights, biases = _train(rng, X, targets, [n_features, *hidden, n_classes], epochs, learning_rate)
    return _package(X, y, weights, biases, n_classes, box, immutable)


@register_generator("trained_linear_model")
def trained_linear_model(n_samples: int, n_features: int, *, n_classes: int = 2, spread: float = 1.5,
                         noise: float = 0.6, box: float = 3.0, epochs: int = 300, learning_rate: float = 0.1,
                         immutable: Sequence[int] = (), seed: int = 0) -> dict[str, np.ndarray]:
    """A linear classifier (least-squares fit to ±1, or one-hot targets for C > 2 classes)."""
    rng = np.random.default_rng(seed)
    X, y = _blobs(rng, n_samples, n_features, n_classes, 1, spread, noise, box)
    if n_classes == 2:
        targets = np.where(y == 1, 1.0, -1.0)[:, None]
        sizes = [n_features, 1]
    else:
        targets = np.where(np.arange(n_classes)[None, :] == y[:, None], 1.0, 0.0)
        sizes = [n_features, n_classes]
    weights, biases = _train(rng, X, targets, sizes, epochs, learning_rate)
    return _package(X, y, weights, biases, n_classes, box, immutable)


def _grow(rng: np.random.Generator, X: np.ndarray, y: np.ndarray, rows: np.ndarray, depth: int, n_classes: int,
          candidates: int, n_trees: int, nodes: list) -> int:
    """Grow one node (and its subtree) of an extremely randomised tree: the best of ``candidates``
    random (feature, threshold on the 1/64 grid) splits by Gini impurity; returns its index."""
    node = len(nodes)
    nodes.append(None)
    counts = np.bincount(y[rows], minlength=n_classes).astype(float)
    size = len(rows)
    leaf_value = (counts / size if size else np.full(n_classes, 1.0 / n_classes)) / n_trees
    if depth == 0 or size < 2 or counts.max() == size:
        nodes[node] = (-1, 0.0, -1, -1, leaf_value)
        return node
    best = None
    for _ in range(candidates):
        j = int(rng.integers(X.shape[1]))
        column = X[rows, j]
        tau = float(np.round(rng.uniform(column.min(), column.max()) * 64.0) / 64.0)
        left = column <= tau
        n_left = int(left.sum())
        if n_left in (0, size):
            continue
        impurity = 0.0
        for side, n_side in ((left, n_left), (~left, size - n_left)):
            side_counts = np.bincount(y[rows[side]], minlength=n_classes).astype(float)
            impurity += n_side - math.fsum((side_counts * side_counts).tolist()) / n_side
        if best is None or impurity < best[0]:
            best = (impurity, j, tau, left)
    if best is None:
        nodes[node] = (-1, 0.0, -1, -1, leaf_value)
        return node
    _, j, tau, left = best
    left_child = _grow(rng, X, y, rows[left], depth - 1, n_classes, candidates, n_trees, nodes)
    right_child = _grow(rng, X, y, rows[~left], depth - 1, n_classes, candidates, n_trees, nodes)
    nodes[node] = (j, tau, left_child, right_child, np.zeros(n_classes))
    return node


@register_generator("trained_tree_ensemble")
def trained_tree_ensemble(n_samples: int, n_features: int, *, n_trees: int = 3, depth: int = 2, n_classes: int = 2,
                          clusters: int = 2, spread: float = 1.5, noise: float = 0.35, box: float = 3.0,
                          candidates: int = 4, immutable: Sequence[int] = (), seed: int = 0) -> dict[str, np.ndarray]:
    """A small random forest of extremely randomised trees (bootstrap samples, best of a few
    random splits, thresholds on the 1/64 grid; leaf value = class frequencies / n_trees) on the
    blobs of :func:`trained_relu_network`. Stored as the ``tree_*`` node arrays of
    :class:`~reference_impl.formulations._model_embedding.TreeEnsemble`; only comparisons,
    integer counts and exactly rounded sums are used."""
    rng = np.random.default_rng(seed)
    X, y = _blobs(rng, n_samples, n_features, n_classes, clusters, spread, noise, box)
    nodes: list = []
    roots = []
    for _ in range(n_trees):
        rows = np.sort(rng.integers(0, n_samples, size=n_samples))
        roots.append(_grow(rng, X, y, rows, depth, n_classes, candidates, n_trees, nodes))
    model = {
        "tree_feature": np.array([n[0] for n in nodes], dtype=np.int64),
        "tree_threshold": np.array([n[1] for n in nodes], dtype=float),
        "tree_left": np.array([n[2] for n in nodes], dtype=np.int64),
        "tree_right": np.array([n[3] for n in nodes], dtype=np.int64),
        "tree_value": np.vstack([n[4] for n in nodes]),
        "tree_roots": np.array(roots, dtype=np.int64),
    }
    scores = np.zeros((n_samples, n_classes))
    for i in range(n_samples):
        parts = []
        for root in roots:
            node = root
            while nodes[node][0] >= 0:
                node = nodes[node][2] if X[i, nodes[node][0]] <= nodes[node][1] else nodes[node][3]
            parts.append(nodes[node][4])
        scores[i] = [math.fsum(p[c] for p in parts) for c in range(n_classes)]
    return _with_point(X, y, scores, model, n_classes, box, immutable)
