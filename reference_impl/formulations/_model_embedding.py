"""Trained models embedded in a Pyomo model: the shared code of the verification (25)+(26) and
counterfactual (22) formulations (tutorial §2.4 and §3.2; FORMULATIONS.md §4).

Justin, Sun, Gómez & Vayanos, "Responsible Machine Learning via Mixed-Integer Optimization"
(arXiv 2505.05857). A trained model is given as plain arrays, a :class:`Network`: dense layers
``W_l`` (out × in) and ``b_l``, ReLU on every hidden layer and a linear last layer whose outputs
are the class scores; the predicted class is the arg max of the scores (ties: the lowest
index). A linear model (logistic regression, linear SVM) is a network without hidden layers.
A last layer with a single output is a binary model with decision score s (class 1 iff s > 0);
its scores are taken as (0, s), so that "class t wins by a margin" means the same thing for
every model (class 1: s ≥ margin; class 0: −s ≥ margin).

In an instance the arrays are ``W0, b0, W1, b1, …`` (:func:`network_from_arrays`;
:func:`network_to_arrays` writes them); :func:`from_sklearn` reads a fitted scikit-learn
``MLPClassifier`` (ReLU), ``LogisticRegression``, ``LinearSVC``, ``SGDClassifier`` or
``RidgeClassifier`` (and the tree ensembles below).

Embedding (:func:`add_network`): every layer's pre-activation a = W h + b is a linear
expression of the previous layer's outputs (:func:`add_linear_score` is the linear model's
score w·x + b); a hidden neuron with known bounds l ≤ a ≤ u is

* stably inactive (u ≤ 0): h = 0;
* stably active (l ≥ 0): h = a;
* otherwise the big-M system of (26): 0 ≤ h, a ≤ h, h ≤ u·z, h ≤ a − l(1 − z), z ∈ {0,1}
  (z = 1[a ≥ 0]), exact for every z given valid l, u.

Pre-activation bounds over the input box: :func:`interval_bounds` (interval arithmetic,
layer by layer) and :func:`lp_bounds` (one LP per neuron and sense over the big-M relaxation
of the layers before it, z ∈ [0,1], solved with scipy.optimize.linprog's HiGHS; intersected
with the interval bounds, so never looser). Both are widened by a relative 1e-9 (interval) or
1e-6 (LP, above HiGHS's 1e-7 feasibility tolerance) against rounding, which keeps them valid.

:func:`predict_scores` is the evaluators' pure-NumPy forward pass, independent of any solver.

Tree ensembles (:class:`TreeEnsemble`, arrays ``tree_*``; scikit-learn's decision trees,
random forests and extra trees through :func:`from_sklearn`) are embedded by leaf indicators
(:func:`add_tree_ensemble`, Cui et al. 2015; Parmentier & Vidal 2021): one leaf per tree, each
split on its path enforced by a big-M row whose M is the input box, with a small gap kept
around every threshold. Their forward pass is :func:`predict_scores` too.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from ..errors import InputError

#: relative (and absolute) widening of interval bounds against floating-point rounding
INTERVAL_SLACK = 1e-9
#: relative (and absolute) widening of LP bounds against the LP solver's tolerances
LP_SLACK = 1e-6
#: pre-activation bound methods
BOUND_METHODS = ("interval", "lp")
#: what :func:`from_sklearn` reads
SUPPORTED_MODELS = ("MLPClassifier (activation='relu')", "LogisticRegression", "LinearSVC", "SGDClassifier",
                    "RidgeClassifier", "DecisionTreeClassifier", "RandomForestClassifier", "ExtraTreesClassifier")


@dataclass(frozen=True)
class Network:
    """Dense layers ``weights[l]`` (out × in) and ``biases[l]``; ReLU between layers, the last
    layer linear. ``binary``: the last layer has one output s, the scores are (0, s)."""

    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...]

    @property
    def n_inputs(self) -> int:
        return int(self.weights[0].shape[1])

    @property
    def n_layers(self) -> int:
        return len(self.weights)

    @property
    def hidden_sizes(self) -> tuple[int, ...]:
        return tuple(int(W.shape[0]) for W in self.weights[:-1])

    @property
    def n_hidden(self) -> int:
        return int(sum(self.hidden_sizes))

    @property
    def binary(self) -> bool:
        return int(self.weights[-1].shape[0]) == 1

    @property
    def n_classes(self) -> int:
        return 2 if self.binary else int(self.weights[-1].shape[0])

    @property
    def output_weights(self) -> tuple[np.ndarray, np.ndarray]:
        """The last layer as class scores: (0, s) rows for a binary model."""
        W, b = self.weights[-1], self.biases[-1]
        if self.binary:
            return np.vstack([np.zeros_like(W), W]), np.concatenate([[0.0], b])
        return W, b


def _array(value: Any, name: str) -> np.ndarray:
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise InputError(f"model array {name} must be numeric") from None
    if not np.all(np.isfinite(array)):
        raise InputError(f"model array {name} contains NaN or infinite values")
    return array


def make_network(weights: Sequence[Any], biases: Sequence[Any]) -> Network:
    """A :class:`Network` from per-layer arrays, shapes checked (one :class:`InputError` each)."""
    if len(weights) == 0 or len(weights) != len(biases):
        raise InputError(f"a model needs one bias per weight matrix and at least one layer; got {len(weights)} "
                         f"weight matrices and {len(biases)} bias vectors")
    Ws, bs = [], []
    width = None
    for layer, (W, b) in enumerate(zip(weights, biases)):
        W, b = _array(W, f"W{layer}"), _array(b, f"b{layer}")
        if W.ndim != 2 or W.shape[0] == 0 or W.shape[1] == 0:
            raise InputError(f"W{layer} must be a non-empty 2-D array (outputs x inputs); got shape {W.shape}")
        if b.shape != (W.shape[0],):
            raise InputError(f"b{layer} must have shape ({W.shape[0]},) to match W{layer} {W.shape}; got {b.shape}")
        if width is not None and W.shape[1] != width:
            raise InputError(f"W{layer} takes {W.shape[1]} inputs but layer {layer - 1} has {width} outputs")
        width = W.shape[0]
        Ws.append(W)
        bs.append(b)
    return Network(tuple(Ws), tuple(bs))


def network_from_arrays(arrays: Mapping[str, Any]) -> Network:
    """The network stored as ``W0, b0, W1, b1, …`` in an instance's arrays."""
    if "W0" not in arrays:
        raise InputError("the instance holds no trained model: it needs arrays W0, b0 (and W1, b1, … for a network; "
                         "see reference_impl/formulations/_model_embedding.py)")
    weights, biases = [], []
    layer = 0
    while f"W{layer}" in arrays:
        if f"b{layer}" not in arrays:
            raise InputError(f"the instance has W{layer} but no bias b{layer}")
        weights.append(arrays[f"W{layer}"])
        biases.append(arrays[f"b{layer}"])
        layer += 1
    if f"b{layer}" in arrays:
        raise InputError(f"the instance has b{layer} but no W{layer}")
    return make_network(weights, biases)


def network_to_arrays(network: Network) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for layer, (W, b) in enumerate(zip(network.weights, network.biases)):
        out[f"W{layer}"] = np.array(W, dtype=float)
        out[f"b{layer}"] = np.array(b, dtype=float)
    return out


def from_sklearn(model: Any) -> "Network | TreeEnsemble":
    """The arrays of a fitted scikit-learn classifier; class indices are positions in
    ``model.classes_``. One :class:`InputError` for an unsupported type or activation.

    Trees: each leaf's class frequencies divided by the number of trees (the forest's
    ``predict_proba``). scikit-learn compares float32(x_j) ≤ τ; the gap the embedding keeps
    around thresholds (1e-4) is far wider than that rounding."""
    name = type(model).__name__
    if name == "MLPClassifier":
        activation = getattr(model, "activation", None)
        if activation != "relu":
            raise InputError(f"MLPClassifier with activation={activation!r} is not supported: only ReLU networks can "
                             f"be embedded (supported: {', '.join(SUPPORTED_MODELS)})")
        if not hasattr(model, "coefs_"):
            raise InputError("the MLPClassifier is not fitted (call fit first)")
        weights = [np.asarray(W, dtype=float).T for W in model.coefs_]
        biases = [np.asarray(b, dtype=float) for b in model.intercepts_]
        out = getattr(model, "out_activation_", "softmax")
        if out not in ("softmax", "logistic") or (out == "logistic" and weights[-1].shape[0] > 1):
            raise InputError(f"MLPClassifier output activation {out!r} with {weights[-1].shape[0]} outputs is not "
                             "supported: only single-label classifiers (softmax, or one logistic output) are")
        return make_network(weights, biases)
    if name in ("LogisticRegression", "LinearSVC", "SGDClassifier", "RidgeClassifier"):
        if not hasattr(model, "coef_"):
            raise InputError(f"the {name} is not fitted (call fit first)")
        coef = np.atleast_2d(np.asarray(model.coef_, dtype=float))
        intercept = np.broadcast_to(np.asarray(model.intercept_, dtype=float), (coef.shape[0],))
        return make_network([coef], [np.array(intercept)])
    if name in ("DecisionTreeClassifier", "RandomForestClassifier", "ExtraTreesClassifier"):
        return _sklearn_trees(model, name)
    raise InputError(f"cannot embed a {name}: supported models are {', '.join(SUPPORTED_MODELS)}")


# -- tree ensembles (leaf indicators) ---------------------------------------------------------------
@dataclass(frozen=True)
class TreeEnsemble:
    """Axis-aligned decision trees stored as flat node arrays (all trees together): node n splits
    on ``feature[n]`` at ``threshold[n]`` (x_j ≤ τ: ``left[n]``, else ``right[n]``) or is a leaf
    (``feature[n] = −1``) adding ``value[n]`` (one score per class) to the scores; ``roots``:
    each tree's root. The class is the arg max of the summed leaf values (a random forest:
    each leaf holds its class frequencies divided by the number of trees)."""

    feature: np.ndarray
    threshold: np.ndarray
    left: np.ndarray
    right: np.ndarray
    value: np.ndarray
    roots: np.ndarray
    n_inputs: int

    n_hidden = 0  # no ReLU neurons: the network-only checks see none
    binary = False

    @property
    def n_classes(self) -> int:
        return int(self.value.shape[1])

    @property
    def leaves(self) -> np.ndarray:
        return np.flatnonzero(self.feature < 0)

    @property
    def n_leaves(self) -> int:
        return int(self.leaves.size)

    def subtree_leaves(self) -> tuple[dict[int, list[int]], list[int]]:
        """For every node, the leaves below it; and the tree of every node."""
        below: dict[int, list[int]] = {}
        tree_of = [-1] * len(self.feature)

        def walk(node: int, tree: int) -> list[int]:
            tree_of[node] = tree
            if self.feature[node] < 0:
                below[node] = [node]
            else:
                below[node] = walk(int(self.left[node]), tree) + walk(int(self.right[node]), tree)
            return below[node]

        for t, root in enumerate(self.roots):
            walk(int(root), t)
        return below, tree_of

    def leaf_of(self, x: np.ndarray) -> list[tuple[int, list[tuple[int, bool]]]]:
        """For each tree: the leaf ``x`` falls in and its path [(node, went left)]."""
        out = []
        for root in self.roots:
            node, path = int(root), []
            while self.feature[node] >= 0:
                go_left = bool(x[self.feature[node]] <= self.threshold[node])
                path.append((node, go_left))
                node = int(self.left[node] if go_left else self.right[node])
            out.append((node, path))
        return out


TREE_ARRAYS = ("tree_feature", "tree_threshold", "tree_left", "tree_right", "tree_value", "tree_roots")


def make_tree_ensemble(feature, threshold, left, right, value, roots, n_inputs: int) -> TreeEnsemble:
    """A :class:`TreeEnsemble` from node arrays, checked: every tree is a tree (each node reached
    once from its root), leaves have no children, split features lie in 0..d−1."""
    feature = np.asarray(feature)
    left, right, roots = np.asarray(left), np.asarray(right), np.asarray(roots)
    for name, array in (("tree_feature", feature), ("tree_left", left), ("tree_right", right), ("tree_roots", roots)):
        if array.ndim != 1 or not np.issubdtype(array.dtype, np.integer):
            raise InputError(f"{name} must be a 1-D integer array")
    threshold, value = _array(threshold, "tree_threshold"), _array(value, "tree_value")
    n = feature.size
    if threshold.shape != (n,) or left.shape != (n,) or right.shape != (n,) or value.ndim != 2 or value.shape[0] != n:
        raise InputError(f"tree arrays must describe the same {n} nodes: tree_threshold, tree_left, tree_right of "
                         f"length {n} and tree_value of shape ({n}, classes)")
    if value.shape[1] < 2:
        raise InputError("tree_value needs one column per class (at least 2)")
    if roots.size == 0 or np.any((roots < 0) | (roots >= n)):
        raise InputError("tree_roots must hold the root node of each tree (indices into the node arrays)")
    leaf = feature < 0
    if np.any(feature[~leaf] >= n_inputs):
        raise InputError(f"a tree splits on feature {int(feature.max())} but the model has {n_inputs} inputs")
    if np.any(left[leaf] != -1) or np.any(right[leaf] != -1):
        raise InputError("tree leaves (tree_feature = -1) must have tree_left = tree_right = -1")
    children = np.concatenate([left[~leaf], right[~leaf]])
    if np.any((children < 0) | (children >= n)):
        raise InputError("tree_left/tree_right of a split node must be node indices")
    if sorted(children.tolist() + roots.tolist()) != list(range(n)):
        raise InputError("the tree arrays are not a forest: every node must be one tree's root or exactly one "
                         "node's child")
    ensemble = TreeEnsemble(feature.astype(np.int64), threshold, left.astype(np.int64), right.astype(np.int64),
                            value, roots.astype(np.int64), int(n_inputs))
    ensemble.subtree_leaves()  # no cycles (a cycle would recurse without end: the child check above forbids it)
    return ensemble


def tree_ensemble_from_arrays(arrays: Mapping[str, Any], n_inputs: int) -> TreeEnsemble:
    missing = [name for name in TREE_ARRAYS if name not in arrays]
    if missing:
        raise InputError(f"a tree ensemble needs arrays {', '.join(TREE_ARRAYS)}; missing {', '.join(missing)}")
    return make_tree_ensemble(*(arrays[name] for name in TREE_ARRAYS), n_inputs=n_inputs)


def tree_ensemble_to_arrays(ensemble: TreeEnsemble) -> dict[str, np.ndarray]:
    return {"tree_feature": ensemble.feature, "tree_threshold": ensemble.threshold, "tree_left": ensemble.left,
            "tree_right": ensemble.right, "tree_value": ensemble.value, "tree_roots": ensemble.roots}


def model_to_arrays(model) -> dict[str, np.ndarray]:
    return tree_ensemble_to_arrays(model) if isinstance(model, TreeEnsemble) else network_to_arrays(model)


def _sklearn_trees(model: Any, name: str) -> TreeEnsemble:
    estimators = [model] if name == "DecisionTreeClassifier" else list(getattr(model, "estimators_", []))
    if not estimators or not hasattr(estimators[0], "tree_"):
        raise InputError(f"the {name} is not fitted (call fit first)")
    if getattr(model, "n_outputs_", 1) != 1:
        raise InputError(f"a multi-output {name} is not supported (one class label per point)")
    features, thresholds, lefts, rights, values, roots = [], [], [], [], [], []
    offset = 0
    for estimator in estimators:
        tree = estimator.tree_
        is_leaf = tree.children_left < 0
        counts = np.asarray(tree.value[:, 0, :], dtype=float)
        totals = counts.sum(axis=1, keepdims=True)
        features.append(np.where(is_leaf, -1, tree.feature).astype(np.int64))
        thresholds.append(np.where(is_leaf, 0.0, tree.threshold))
        lefts.append(np.where(is_leaf, -1, tree.children_left + offset).astype(np.int64))
        rights.append(np.where(is_leaf, -1, tree.children_right + offset).astype(np.int64))
        values.append(np.where(is_leaf[:, None], counts / np.where(totals > 0, totals, 1.0), 0.0) / len(estimators))
        roots.append(offset)
        offset += tree.node_count
    return make_tree_ensemble(np.concatenate(features), np.concatenate(thresholds), np.concatenate(lefts),
                              np.concatenate(rights), np.vstack(values), np.array(roots, dtype=np.int64),
                              int(model.n_features_in_))


# -- the forward pass (NumPy, independent of every solver) ---------------------------------------
def predict_scores(network: Network, X: Any) -> np.ndarray:
    """Class scores (n × C; a 1-D input gives C scores) by the forward pass (a network or a
    tree ensemble: the sum of the leaves' values)."""
    X = np.asarray(X, dtype=float)
    single = X.ndim == 1
    h = np.atleast_2d(X)
    if h.shape[1] != network.n_inputs:
        raise InputError(f"the model takes {network.n_inputs} features; got {h.shape[1]}")
    if isinstance(network, TreeEnsemble):
        scores = np.array([np.sum([network.value[leaf] for leaf, _ in network.leaf_of(x)], axis=0) for x in h])
        return scores[0] if single else scores
    for W, b in zip(network.weights[:-1], network.biases[:-1]):
        h = np.maximum(h @ W.T + b, 0.0)
    W, b = network.output_weights
    scores = h @ W.T + b
    return scores[0] if single else scores


def hidden_preactivations(network: Network, x: Any) -> list[np.ndarray]:
    """Pre-activations of every hidden layer at one input ``x`` (the forward pass)."""
    h = np.asarray(x, dtype=float)
    out = []
    for W, b in zip(network.weights[:-1], network.biases[:-1]):
        a = W @ h + b
        out.append(a)
        h = np.maximum(a, 0.0)
    return out


def predict_class(network: Network, X: Any) -> np.ndarray | int:
    scores = predict_scores(network, X)
    if scores.ndim == 1:
        return int(np.argmax(scores))
    return np.argmax(scores, axis=1)


def class_margin(scores: np.ndarray, target: int) -> float:
    """score_target − max over the other classes (> 0: the target wins)."""
    scores = np.asarray(scores, dtype=float)
    others = np.delete(scores, target)
    return float(scores[target] - others.max())


# -- pre-activation bounds ----------------------------------------------------------------------
def _widen(lower: np.ndarray, upper: np.ndarray, slack: float) -> tuple[np.ndarray, np.ndarray]:
    return lower - slack * (1.0 + np.abs(lower)), upper + slack * (1.0 + np.abs(upper))


def check_box(lower: Any, upper: Any, d: int, what: str = "input box") -> tuple[np.ndarray, np.ndarray]:
    lower, upper = _array(lower, f"{what} lower"), _array(upper, f"{what} upper")
    if lower.shape != (d,) or upper.shape != (d,):
        raise InputError(f"the {what} must have {d} lower and {d} upper bounds; got shapes {lower.shape}, {upper.shape}")
    if np.any(lower > upper):
        j = int(np.flatnonzero(lower > upper)[0])
        raise InputError(f"the {what} is empty at feature {j}: lower {lower[j]} > upper {upper[j]}")
    return lower, upper


def interval_bounds(network: Network, lower: Any, upper: Any) -> list[tuple[np.ndarray, np.ndarray]]:
    """Bounds (l, u) on every hidden layer's pre-activations for inputs in [lower, upper]:
    interval arithmetic, W⁺·lo + W⁻·hi + b ≤ a ≤ W⁺·hi + W⁻·lo + b, then ReLU."""
    lo, hi = check_box(lower, upper, network.n_inputs)
    bounds = []
    for W, b in zip(network.weights[:-1], network.biases[:-1]):
        Wp, Wn = np.maximum(W, 0.0), np.minimum(W, 0.0)
        l, u = _widen(Wp @ lo + Wn @ hi + b, Wp @ hi + Wn @ lo + b, INTERVAL_SLACK)
        bounds.append((l, u))
        lo, hi = np.maximum(l, 0.0), np.maximum(u, 0.0)
    return bounds


def lp_bounds(network: Network, lower: Any, upper: Any) -> list[tuple[np.ndarray, np.ndarray]]:
    """Bounds on the hidden pre-activations by linear programming: for each layer l ≥ 2 and
    neuron, min and max of its pre-activation over the big-M relaxation (z ∈ [0,1]) of the
    layers before it, with the bounds already found for them (scipy.optimize.linprog, HiGHS).
    The first hidden layer is linear in the box, where interval bounds are exact."""
    from scipy.optimize import linprog

    lo, hi = check_box(lower, upper, network.n_inputs)
    bounds = interval_bounds(network, lo, hi)
    d = network.n_inputs
    hidden = network.n_layers - 1
    for layer in range(1, hidden):
        # variables: x (d), then for each earlier layer k: h_k (n_k), z_k (n_k)
        sizes = [network.weights[k].shape[0] for k in range(layer)]
        offsets = []
        position = d
        for n_k in sizes:
            offsets.append(position)
            position += 2 * n_k
        n_var = position
        var_lo = np.concatenate([lo] + [np.concatenate([np.maximum(bounds[k][0], 0.0), np.zeros(n_k)])
                                        for k, n_k in enumerate(sizes)])
        var_hi = np.concatenate([hi] + [np.concatenate([np.maximum(bounds[k][1], 0.0), np.ones(n_k)])
                                        for k, n_k in enumerate(sizes)])
        A_ub, b_ub, A_eq, b_eq = [], [], [], []

        def pre_row(k: int, i: int) -> tuple[np.ndarray, float]:
            """Coefficients of layer k's neuron i pre-activation over the variables (and its constant)."""
            row = np.zeros(n_var)
            if k == 0:
                row[:d] = network.weights[0][i]
            else:
                start = offsets[k - 1]
                row[start:start + sizes[k - 1]] = network.weights[k][i]
            return row, float(network.biases[k][i])

        for k, n_k in enumerate(sizes):
            l_k, u_k = bounds[k]
            for i in range(n_k):
                a_row, a_const = pre_row(k, i)
                h_col, z_col = offsets[k] + i, offsets[k] + n_k + i
                if u_k[i] <= 0:      # h = 0
                    row = np.zeros(n_var)
                    row[h_col] = 1.0
                    A_eq.append(row)
                    b_eq.append(0.0)
                elif l_k[i] >= 0:    # h = a
                    row = -a_row.copy()
                    row[h_col] += 1.0
                    A_eq.append(row)
                    b_eq.append(a_const)
                else:                # a ≤ h, h ≤ u z, h ≤ a − l (1 − z)
                    row = a_row.copy()
                    row[h_col] -= 1.0
                    A_ub.append(row)
                    b_ub.append(-a_const)
                    row = np.zeros(n_var)
                    row[h_col], row[z_col] = 1.0, -u_k[i]
                    A_ub.append(row)
                    b_ub.append(0.0)
                    row = -a_row.copy()
                    row[h_col] += 1.0
                    row[z_col] = -l_k[i]
                    A_ub.append(row)
                    b_ub.append(a_const - l_k[i])
        problem = {
            "A_ub": np.array(A_ub) if A_ub else None, "b_ub": np.array(b_ub) if b_ub else None,
            "A_eq": np.array(A_eq) if A_eq else None, "b_eq": np.array(b_eq) if b_eq else None,
            "bounds": list(zip(var_lo.tolist(), var_hi.tolist())), "method": "highs",
        }
        l_int, u_int = bounds[layer]
        new_lo, new_hi = l_int.copy(), u_int.copy()
        W, b = network.weights[layer], network.biases[layer]
        start = offsets[layer - 1]
        for i in range(W.shape[0]):
            c = np.zeros(n_var)
            c[start:start + sizes[layer - 1]] = W[i]
            low = linprog(c, **problem)
            high = linprog(-c, **problem)
            if low.status != 0 or high.status != 0:  # keep the interval bound (always valid)
                continue
            lo_i, hi_i = _widen(np.array([low.fun + b[i]]), np.array([-high.fun + b[i]]), LP_SLACK)
            new_lo[i] = max(new_lo[i], float(lo_i[0]))
            new_hi[i] = min(new_hi[i], float(hi_i[0]))
        bounds[layer] = (new_lo, np.maximum(new_hi, new_lo))
    return bounds


def preactivation_bounds(network: Network, lower: Any, upper: Any, method: str) -> list[tuple[np.ndarray, np.ndarray]]:
    if method == "interval":
        return interval_bounds(network, lower, upper)
    if method == "lp":
        return lp_bounds(network, lower, upper)
    raise InputError(f"bounds must be one of {', '.join(BOUND_METHODS)}; got {method!r}")


def neuron_states(bounds: list[tuple[np.ndarray, np.ndarray]]) -> list[np.ndarray]:
    """Per hidden layer: −1 stably inactive (u ≤ 0), +1 stably active (l ≥ 0), 0 unstable."""
    return [np.where(u <= 0, -1, np.where(l >= 0, 1, 0)) for l, u in bounds]


# -- the Pyomo embedding ------------------------------------------------------------------------
def add_linear_score(x, w: np.ndarray, b: float, indices: Sequence[int] | None = None):
    """The expression w·x + b over an indexed component ``x`` (zero weights left out)."""
    import pyomo.environ as pyo

    indices = range(len(w)) if indices is None else indices
    return pyo.quicksum(float(w[j]) * x[j] for j in indices if w[j] != 0.0) + float(b)


def add_network(block, x, network: Network, bounds: list[tuple[np.ndarray, np.ndarray]]) -> None:
    """Add to Pyomo ``block`` the constraints linking input ``x`` (indexed 0..d−1) to the
    network's scores: ``block.h[l, i]`` post-activations, ``block.z[l, i]`` ∈ {0,1} (1 = active) for
    every hidden neuron (fixed for stable ones), the big-M rows (26) over ``block.unstable``
    and ``block.score[c]`` the class scores (Expressions)."""
    import pyomo.environ as pyo

    if len(bounds) != network.n_layers - 1:
        raise InputError(f"need bounds for {network.n_layers - 1} hidden layers; got {len(bounds)}")
    states = neuron_states(bounds)
    neurons = [(l, i) for l, size in enumerate(network.hidden_sizes) for i in range(size)]
    block.neurons = pyo.Set(initialize=neurons, dimen=2, ordered=True)
    block.unstable = pyo.Set(initialize=[(l, i) for l, i in neurons if states[l][i] == 0], dimen=2, ordered=True)
    block.stable_active = pyo.Set(initialize=[(l, i) for l, i in neurons if states[l][i] == 1], dimen=2, ordered=True)

    def h_bounds(_, l, i):
        return (0.0, max(float(bounds[l][1][i]), 0.0))

    block.h = pyo.Var(block.neurons, bounds=h_bounds)
    block.z = pyo.Var(block.neurons, domain=pyo.Binary)
    for l, i in neurons:
        if states[l][i] != 0:
            block.z[l, i].fix(1 if states[l][i] == 1 else 0)
        if states[l][i] == -1:
            block.h[l, i].fix(0.0)
    sizes = network.hidden_sizes

    def pre(_, l, i):
        if l == 0:
            return add_linear_score(x, network.weights[0][i], network.biases[0][i])
        previous = {j: block.h[l - 1, j] for j in range(sizes[l - 1])}
        return add_linear_score(previous, network.weights[l][i], network.biases[l][i])

    block.pre = pyo.Expression(block.neurons, rule=pre)
    block.relu_active = pyo.Constraint(block.stable_active, rule=lambda b, l, i: b.h[l, i] == b.pre[l, i])
    block.relu_lower = pyo.Constraint(block.unstable, rule=lambda b, l, i: b.h[l, i] >= b.pre[l, i])
    block.relu_upper_z = pyo.Constraint(
        block.unstable, rule=lambda b, l, i: b.h[l, i] <= float(bounds[l][1][i]) * b.z[l, i])
    block.relu_upper_pre = pyo.Constraint(
        block.unstable,
        rule=lambda b, l, i: b.h[l, i] <= b.pre[l, i] - float(bounds[l][0][i]) * (1 - b.z[l, i]))
    W, bias = network.output_weights
    block.classes = pyo.RangeSet(0, network.n_classes - 1)
    last = {j: block.h[len(sizes) - 1, j] for j in range(sizes[-1])} if sizes else x

    block.score = pyo.Expression(block.classes, rule=lambda b, c: add_linear_score(last, W[c], bias[c]))


def add_class_constraint(block, network: Network, target: int, margin: float) -> None:
    """score_target ≥ score_j + margin for every other class j (the target is the arg max)."""
    import pyomo.environ as pyo

    others = [c for c in range(network.n_classes) if c != target]
    block.rivals = pyo.Set(initialize=others, ordered=True)
    block.target_wins = pyo.Constraint(block.rivals, rule=lambda b, c: b.score[target] - b.score[c] >= margin)


def read_hidden(block, network: Network) -> tuple[np.ndarray, np.ndarray]:
    """``(h, active)`` of every hidden neuron, layer by layer (NaN where a value is missing)."""
    h, z = [], []
    for l, size in enumerate(network.hidden_sizes):
        for i in range(size):
            hv, zv = block.h[l, i].value, block.z[l, i].value
            h.append(math.nan if hv is None else float(hv))
            z.append(math.nan if zv is None else float(zv))
    return np.array(h, dtype=float), np.array(z, dtype=float)


def hidden_violations(network: Network, x: np.ndarray, h: np.ndarray, active: np.ndarray) -> dict[str, float]:
    """The embedding's constraints at ``x``, from the forward pass alone: ``relu_value`` =
    max |h − max(0, a)|, ``activation_integrality`` of the indicators, and ``activation_link`` = how far
    the pre-activation is on the wrong side of 0 for its indicator (z = 1 needs a ≥ 0)."""
    if network.n_hidden == 0:
        return {}
    pre = np.concatenate(hidden_preactivations(network, x))
    relu = np.maximum(pre, 0.0)
    integrality = float(np.max(np.abs(active - np.round(active)), initial=0.0))
    on = active > 0.5
    link = np.where(on, np.maximum(-pre, 0.0), np.maximum(pre, 0.0))
    return {"relu_value": float(np.max(np.abs(h - relu), initial=0.0)), "activation_integrality": integrality,
            "activation_link": float(np.max(link, initial=0.0))}


#: default gap kept between a point and the thresholds of its trees' splits (see :func:`add_tree_ensemble`)
TREE_GAP = 1e-4


def add_tree_ensemble(block, x, ensemble: TreeEnsemble, lower: np.ndarray, upper: np.ndarray,
                      gap: float = TREE_GAP) -> None:
    """Leaf indicators (Cui et al. 2015; Parmentier & Vidal 2021): ``block.leaf[n]`` ∈ {0,1}, one
    leaf per tree, and for every split node n on feature j at τ, with L(n)/R(n) the leaves
    below its left/right child and x ∈ [lo, hi]::

        x_j ≤ τ − gap + (hi_j − τ + gap)·(1 − Σ_{ℓ∈L(n)} leaf_ℓ)
        x_j ≥ τ + gap − (τ + gap − lo_j)·(1 − Σ_{ℓ∈R(n)} leaf_ℓ)

    ``block.score[c]`` = Σ_ℓ value[ℓ, c]·leaf_ℓ. The gap (default 1e-4) keeps x off every
    threshold it passes, so that the solver's tolerance cannot put x on the other side of a
    split (the trees' strict x_j > τ becomes x_j ≥ τ + gap; x_j ≤ τ becomes x_j ≤ τ − gap)."""
    import pyomo.environ as pyo

    below, tree_of = ensemble.subtree_leaves()
    leaves = [int(n) for n in ensemble.leaves]
    splits = [int(n) for n in np.flatnonzero(ensemble.feature >= 0)]
    block.trees = pyo.RangeSet(0, len(ensemble.roots) - 1)
    block.leaves = pyo.Set(initialize=leaves, ordered=True)
    block.splits = pyo.Set(initialize=splits, ordered=True)
    block.leaf = pyo.Var(block.leaves, domain=pyo.Binary)
    by_tree = {t: [n for n in leaves if tree_of[n] == t] for t in range(len(ensemble.roots))}
    block.one_leaf = pyo.Constraint(block.trees, rule=lambda b, t: pyo.quicksum(b.leaf[n] for n in by_tree[t]) == 1)

    def go_left(b, n):
        j, tau = int(ensemble.feature[n]), float(ensemble.threshold[n])
        chosen = pyo.quicksum(b.leaf[ell] for ell in below[int(ensemble.left[n])])
        return x[j] <= tau - gap + (float(upper[j]) - tau + gap) * (1 - chosen)

    def go_right(b, n):
        j, tau = int(ensemble.feature[n]), float(ensemble.threshold[n])
        chosen = pyo.quicksum(b.leaf[ell] for ell in below[int(ensemble.right[n])])
        return x[j] >= tau + gap - (tau + gap - float(lower[j])) * (1 - chosen)

    block.go_left = pyo.Constraint(block.splits, rule=go_left)
    block.go_right = pyo.Constraint(block.splits, rule=go_right)
    block.classes = pyo.RangeSet(0, ensemble.n_classes - 1)
    block.score = pyo.Expression(block.classes, rule=lambda b, c: pyo.quicksum(
        float(ensemble.value[n, c]) * b.leaf[n] for n in leaves if ensemble.value[n, c] != 0.0))


def read_leaves(block, ensemble: TreeEnsemble) -> np.ndarray:
    """The leaf indicators, in the order of ``ensemble.leaves`` (NaN where missing)."""
    return np.array([math.nan if block.leaf[int(n)].value is None else float(block.leaf[int(n)].value)
                     for n in ensemble.leaves], dtype=float)


def tree_violations(ensemble: TreeEnsemble, x: np.ndarray, leaf: np.ndarray, gap: float = TREE_GAP) -> dict[str, float]:
    """The leaf embedding's constraints at ``x``, from the trees alone: ``leaf_integrality``,
    ``leaf_link`` (largest |indicator − 1[x reaches that leaf]|) and ``split_gap`` (how far x is
    inside the gap around a threshold on its path)."""
    reached = np.zeros(ensemble.n_leaves)
    position = {int(n): i for i, n in enumerate(ensemble.leaves)}
    inside = 0.0
    for node, path in ensemble.leaf_of(x):
        reached[position[node]] = 1.0
        for split, went_left in path:
            j, tau = int(ensemble.feature[split]), float(ensemble.threshold[split])
            inside = max(inside, x[j] - (tau - gap) if went_left else (tau + gap) - x[j])
    return {"leaf_integrality": float(np.max(np.abs(leaf - np.round(leaf)), initial=0.0)),
            "leaf_link": float(np.max(np.abs(leaf - reached), initial=0.0)), "split_gap": max(inside, 0.0)}


# -- reading a model instance ---------------------------------------------------------------------
@dataclass(frozen=True)
class ModelInstance:
    """What the verification and counterfactual formulations read from an instance: the
    model (``network``: a :class:`Network`, or a :class:`TreeEnsemble` for counterfactuals), the
    point x̄, the input box and the model's class at x̄ (with its scores)."""

    network: "Network | TreeEnsemble"
    x_bar: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    scores: np.ndarray

    @property
    def predicted(self) -> int:
        return int(np.argmax(self.scores))

    def runner_up(self) -> int:
        """The class with the highest score after the predicted one (the default target)."""
        scores = self.scores.copy()
        scores[self.predicted] = -np.inf
        return int(np.argmax(scores))


def read_model_instance(instance) -> ModelInstance:
    """The model — a network ``W0, b0, …`` or a tree ensemble ``tree_*`` (:data:`TREE_ARRAYS`) —,
    ``x_bar`` and the input box ``x_lower``/``x_upper`` (default: the range of ``X`` and
    ``x_bar``) of an instance; one :class:`InputError` each."""
    arrays = instance.arrays
    if "x_bar" not in arrays:
        raise InputError(f"instance {instance.id!r} has no array 'x_bar' (the point to perturb or explain)")
    x_bar = _array(arrays["x_bar"], "x_bar")
    if any(name in arrays for name in TREE_ARRAYS):
        if x_bar.ndim != 1:
            raise InputError(f"x_bar must be a 1-D array of features; got shape {x_bar.shape}")
        network = tree_ensemble_from_arrays(arrays, x_bar.shape[0])
    else:
        network = network_from_arrays(arrays)
    d = network.n_inputs
    if x_bar.shape != (d,):
        raise InputError(f"x_bar must have shape ({d},), the model's number of inputs; got {x_bar.shape}")
    if "x_lower" in arrays or "x_upper" in arrays:
        if "x_lower" not in arrays or "x_upper" not in arrays:
            raise InputError("the input box needs both x_lower and x_upper")
        lower, upper = check_box(arrays["x_lower"], arrays["x_upper"], d)
    else:
        if "X" not in arrays:
            raise InputError("the instance needs an input box (x_lower, x_upper) or data X to take it from")
        X = _array(arrays["X"], "X")
        if X.ndim != 2 or X.shape[1] != d:
            raise InputError(f"X must have {d} columns, the model's number of inputs; got shape {X.shape}")
        lower, upper = np.minimum(X.min(axis=0), x_bar), np.maximum(X.max(axis=0), x_bar)
    return ModelInstance(network, x_bar, lower, upper, predict_scores(network, x_bar))


def check_target(formulation_id: str, model: ModelInstance, params: Mapping[str, Any], what: str) -> int:
    """The target class: an integer 0..C−1 other than the model's class at x̄ (default: the runner-up)."""
    from .base import as_int

    n_classes = model.network.n_classes
    if params.get("target") is None:
        return model.runner_up()
    target = as_int(params, "target", minimum=0, maximum=n_classes - 1,
                    what=f" (the model has {n_classes} classes, 0..{n_classes - 1})")
    if target == model.predicted:
        raise InputError(f"{formulation_id}: x_bar is already {what} class {target} (scores "
                         f"{np.array2string(model.scores, precision=4)}); choose another target class")
    return target


def check_choice(params: Mapping[str, Any], name: str, choices: Sequence[str]) -> str:
    value = params.get(name)
    if not isinstance(value, str) or value not in choices:
        raise InputError(f"hyperparameter {name} must be one of {', '.join(choices)}; got {value!r}")
    return value
