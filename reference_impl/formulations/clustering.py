"""Interpretable clustering by an axis-aligned tree (tutorial §2.3.3; FORMULATIONS.md §3).

Objective (19) of Justin, Sun, Gómez & Vayanos, "Responsible Machine Learning via
Mixed-Integer Optimization" (arXiv 2505.05857), after Carrizosa et al. (2023)::

    min_z  Σ_{i∈I} Σ_{j∈I} Σ_k dᵢⱼ zᵢₖ zⱼₖ                                   (19)

where zᵢₖ = 1 when point i is assigned to partition k, and the partitions are the leaves of a
depth-D decision tree. As the tutorial suggests ("partitions correspond to leaves and
variables zᵢₖ correspond to variables z^i_{a(k),k} with k ∈ L in (12)"), the tree is the flow
tree (12) adapted to continuous features and without labels:

* every branch node t ∈ B = {1, …, 2^D − 1} (heap numbering, children 2t and 2t+1) chooses
  exactly one split s = (feature jₛ, threshold cₛ) from the candidates S — the midpoints
  between consecutive distinct sorted values of each feature — with aₜₛ ∈ {0,1},
  Σₛ aₜₛ = 1 (the analogue of (12b) for a full tree); point i goes left iff x_{i,jₛ} ≤ cₛ;
* wᵢₜ ∈ {0,1}: point i reaches node t; flow conservation wᵢ₂ + wᵢ₃ = 1 at the root and
  wᵢₜ = wᵢ,₂ₜ + wᵢ,₂ₜ₊₁ at the other branch nodes ((12d)); routing wᵢ,₂ₜ ≤ Σ_{s: i left} aₜₛ
  and wᵢ,₂ₜ₊₁ ≤ Σ_{s: i right} aₜₛ ((12f)-(12g));
* the leaves k ∈ L = {2^D, …, 2^{D+1} − 1} are the clusters: zᵢₖ = wᵢₖ.

Two registered formulations, with the same integer optimum and different relaxations:

* ``clustering.tree_mccormick`` — (19)+(20): ζᵢⱼₖ replaces zᵢₖzⱼₖ with the McCormick system
  0 ≤ ζ, zᵢₖ + zⱼₖ − 1 ≤ ζ, ζ ≤ zᵢₖ, ζ ≤ zⱼₖ (20) (Carrizosa et al. 2023's approach); a MILP.
* ``clustering.tree_convexified`` — (19)+(21): the objective plus λ Σᵢₖ (zᵢₖ² − zᵢₖ)
  (Poljak & Wolkowicz 1995), equal to (19) at binary z; per leaf the quadratic form is
  zᵀ(D + λI)z, convex once λ ≥ −λ_min(D). ``lambda_shift="auto"`` (default) takes the smallest
  such λ (with a 1e-6 relative margin); a MIQP.

Only pairs i < j with dᵢⱼ > 0 enter the models (dᵢᵢ = 0 and d symmetric: the ordered-pair sum
of (19) is twice the sum over i < j). In (19) the sum runs over k ∈ B ∪ L because (12) may
stop at a branch node; here every branch node splits. This loses nothing: with d ≥ 0 merging
clusters never lowers (19), and a pruned tree's partition is coarsened from that of any full
tree extending it. Restricting thresholds to midpoints loses nothing either: a split of the
points reaching a node only depends on the gap between sorted values its threshold falls in.

The evaluator re-applies the returned splits (``feature``, ``threshold`` per branch node) to
X, recomputes (19) from the resulting leaves and the data, and checks that the returned
assignment ``z`` is binary, assigns each point to one leaf and agrees with that routing.
:func:`best_tree_bruteforce` enumerates every tree (all split choices at every branch node).
"""
from __future__ import annotations

import itertools
import math
from typing import Any, NamedTuple

import numpy as np
import pyomo.environ as pyo

from ..errors import InputError
from ..instances.instance import Instance
from ..registry import register
from ._data_checks import real_matrix
from ._support import all_finite, integrality_violation, missing_values
from .base import Evaluation, Formulation, add_warning, as_float, as_int

METRICS = ("euclidean", "sqeuclidean", "manhattan")
#: deepest tree accepted (2^D leaves; the models grow as n²·2^D)
MAX_DEPTH = 8
#: the benchmark cases of both formulations (tiny: every solver certifies each in well under 3 s)
BENCHMARK_CASES = (("clust-n6-d2-D1", {"depth": 1}),
                   ("clust-n10-d1-D2", {"depth": 2}),
                   ("clust-iris-n8", {"depth": 2}))
#: at most this many trees are enumerated by :func:`best_tree_bruteforce`
MAX_BRUTEFORCE_TREES = 2_000_000


# -- data, dissimilarities, splits ------------------------------------------------------------------
def check_points(instance: Instance) -> np.ndarray:
    """The instance's ``X`` as a finite float matrix with at least 2 rows; InputError otherwise."""
    if "X" not in instance.arrays:
        raise InputError(f"instance {instance.id!r} must hold a data matrix 'X'")
    return real_matrix(instance.arrays["X"], rows="points", at_least_two="clustering needs at least 2 points")


def dissimilarity(X: np.ndarray, metric: str = "euclidean") -> np.ndarray:
    """dᵢⱼ of (19): ``euclidean`` ‖xᵢ − xⱼ‖₂ (the tutorial's example), ``sqeuclidean``
    ‖xᵢ − xⱼ‖₂², ``manhattan`` ‖xᵢ − xⱼ‖₁ (element-wise differences, no BLAS)."""
    diff = X[:, None, :] - X[None, :, :]
    if metric == "euclidean":
        return np.sqrt(np.sum(diff * diff, axis=2))
    if metric == "sqeuclidean":
        return np.sum(diff * diff, axis=2)
    if metric == "manhattan":
        return np.sum(np.abs(diff), axis=2)
    raise InputError(f"metric must be one of {', '.join(METRICS)}; got {metric!r}")


def candidate_splits(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every axis-aligned split worth considering: (feature, threshold) for each midpoint
    between consecutive distinct sorted values of each feature (feature order, then value)."""
    features, thresholds = [], []
    for j in range(X.shape[1]):
        values = np.unique(X[:, j])
        midpoints = (values[:-1] + values[1:]) / 2.0
        features += [j] * len(midpoints)
        thresholds += midpoints.tolist()
    return np.array(features, dtype=np.int64), np.array(thresholds, dtype=float)


def route(X: np.ndarray, feature: np.ndarray, threshold: np.ndarray, depth: int) -> np.ndarray:
    """Leaf (0 … 2^D − 1, left to right) of every point under the tree whose branch node t
    (heap order, t = 1 … 2^D − 1, stored at index t − 1) sends x left iff x[feature] ≤ threshold."""
    node = np.ones(X.shape[0], dtype=np.int64)
    rows = np.arange(X.shape[0])
    for _ in range(depth):
        f = np.asarray(feature, dtype=np.int64)[node - 1]
        right = X[rows, f] > np.asarray(threshold, dtype=float)[node - 1]
        node = 2 * node + right
    return node - 2 ** depth


def partition_objective(D: np.ndarray, leaves: np.ndarray) -> float:
    """(19) for a hard assignment: Σ over ordered pairs in the same leaf of dᵢⱼ."""
    same = leaves[:, None] == leaves[None, :]
    return float(np.sum(D[same]))


def kmeans_objective(X: np.ndarray, labels: np.ndarray) -> float:
    """The k-means (within-cluster sum of squares) objective of a partition: Σ ‖xᵢ − μ_c(i)‖²."""
    total = 0.0
    for c in np.unique(labels):
        members = X[labels == c]
        centred = members - members.mean(axis=0)
        total += float(np.sum(centred * centred))
    return total


def same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two label vectors define the same partition (up to renaming the clusters)."""
    a, b = np.asarray(a), np.asarray(b)
    return bool(np.array_equal(a[:, None] == a[None, :], b[:, None] == b[None, :]))


class TreeOptimum(NamedTuple):
    """The best tree found by :func:`best_tree_bruteforce`: (19) ``value``, its splits and leaves."""

    value: float
    feature: np.ndarray
    threshold: np.ndarray
    leaves: np.ndarray


def best_tree_bruteforce(X: np.ndarray, depth: int, metric: str = "euclidean") -> TreeOptimum:
    """The optimum of (19) over every depth-``depth`` tree: each branch node takes each candidate
    split (:func:`candidate_splits`). Raises :class:`InputError` beyond :data:`MAX_BRUTEFORCE_TREES`."""
    X = np.asarray(X, dtype=float)
    D = dissimilarity(X, metric)
    features, thresholds = candidate_splits(X)
    branch = 2 ** depth - 1
    if len(features) ** branch > MAX_BRUTEFORCE_TREES:
        raise InputError(f"{len(features)}^{branch} trees: too many to enumerate")
    best = TreeOptimum(math.inf, np.zeros(0), np.zeros(0), np.zeros(0))
    for choice in itertools.product(range(len(features)), repeat=branch):
        index = list(choice)
        leaves = route(X, features[index], thresholds[index], depth)
        value = partition_objective(D, leaves)
        if value < best.value:
            best = TreeOptimum(value, features[index], thresholds[index], leaves)
    return best


def convexity_shift(D: np.ndarray) -> float:
    """The smallest λ ≥ 0 with D + λI ⪰ 0, i.e. max(0, −λ_min(D)): (21) is convex from there."""
    return max(0.0, -float(np.linalg.eigvalsh(D)[0]))


# -- formulations -------------------------------------------------------------------------------------
class _TreeClustering(Formulation):
    """Shared validation, tree model, read-back and evaluator of (19)'s two formulations."""

    family = "clustering"
    hyperparameters: dict[str, Any] = {"depth": None, "metric": "euclidean"}

    def validate(self, instance: Instance, params: dict[str, Any]) -> dict[str, Any]:
        params = super().validate(instance, params)
        X = check_points(instance)
        n = X.shape[0]
        if params.get("depth") is None:
            raise InputError(f"{self.id} needs the tree depth (e.g. --param depth=2)")
        depth = as_int(params, "depth", minimum=1, maximum=MAX_DEPTH)
        if 2 ** depth > n:
            raise InputError(f"depth {depth} gives {2 ** depth} leaves (clusters) but the instance has only {n} points; "
                             f"use depth <= {int(math.floor(math.log2(n)))}")
        metric = params["metric"]
        if not isinstance(metric, str) or metric not in METRICS:
            raise InputError(f"metric must be one of {', '.join(METRICS)}; got {metric!r}")
        if len(candidate_splits(X)[0]) == 0:
            raise InputError("every feature of X is constant: no split separates any two points")
        return {**params, "depth": depth, "metric": metric}

    # -- model pieces --------------------------------------------------------------------------------
    def _tree_model(self, instance: Instance, params: dict[str, Any]) -> tuple[pyo.ConcreteModel, np.ndarray]:
        """The tree of (12) adapted (module docstring); returns the model and the matrix d."""
        X = check_points(instance)
        n, depth = X.shape[0], params["depth"]
        D = dissimilarity(X, params["metric"])
        features, thresholds = candidate_splits(X)
        left = X[:, features] <= thresholds[None, :]          # left[i, s]: split s sends point i left
        m = pyo.ConcreteModel(name=self.id)
        m.points = pyo.RangeSet(0, n - 1)
        m.branch = pyo.RangeSet(1, 2 ** depth - 1)
        m.children = pyo.RangeSet(2, 2 ** (depth + 1) - 1)   # every node but the root
        m.leaves = pyo.RangeSet(2 ** depth, 2 ** (depth + 1) - 1)
        m.splits = pyo.RangeSet(0, len(features) - 1)
        m.a = pyo.Var(m.branch, m.splits, domain=pyo.Binary)
        m.w = pyo.Var(m.points, m.children, domain=pyo.Binary)
        m.one_split = pyo.Constraint(m.branch, rule=lambda m, t: pyo.quicksum(m.a[t, s] for s in m.splits) == 1)

        def flow(m, i, t):
            inflow = 1 if t == 1 else m.w[i, t]
            return m.w[i, 2 * t] + m.w[i, 2 * t + 1] == inflow

        m.flow = pyo.Constraint(m.points, m.branch, rule=flow)
        lefts = [np.flatnonzero(left[i]).tolist() for i in range(n)]
        rights = [np.flatnonzero(~left[i]).tolist() for i in range(n)]
        m.route_left = pyo.Constraint(
            m.points, m.branch, rule=lambda m, i, t: m.w[i, 2 * t] <= pyo.quicksum(m.a[t, s] for s in lefts[i]))
        m.route_right = pyo.Constraint(
            m.points, m.branch, rule=lambda m, i, t: m.w[i, 2 * t + 1] <= pyo.quicksum(m.a[t, s] for s in rights[i]))
        pairs = [(i, j) for i in range(n) for j in range(i + 1, n) if D[i, j] > 0]
        m.pairs = pyo.Set(initialize=pairs, dimen=2, ordered=True)
        m._split_feature = features        # plain attributes for extract (not Pyomo components)
        m._split_threshold = thresholds
        return m, D

    def extract(self, model, instance: Instance, params: dict[str, Any]) -> dict[str, np.ndarray]:
        """``feature``/``threshold`` of the split each branch node chose (its largest aₜₛ) and
        the leaf assignment ``z`` (n × 2^D, leaves left to right)."""
        n = len(model.points)
        chosen = []
        for t in model.branch:
            a = np.array([np.nan if model.a[t, s].value is None else model.a[t, s].value for s in model.splits])
            chosen.append(int(np.nanargmax(a)) if np.any(np.isfinite(a)) else -1)
        valid = [c >= 0 for c in chosen]
        feature = np.array([model._split_feature[c] if ok else np.nan for c, ok in zip(chosen, valid)], dtype=float)
        threshold = np.array([model._split_threshold[c] if ok else np.nan for c, ok in zip(chosen, valid)], dtype=float)
        z = np.array([[np.nan if model.w[i, k].value is None else float(model.w[i, k].value) for k in model.leaves]
                      for i in range(n)])
        return {"feature": feature, "threshold": threshold, "z": z}

    def evaluate(self, instance: Instance, params: dict[str, Any], solution: dict[str, np.ndarray]) -> Evaluation:
        X = check_points(instance)
        n, d = X.shape
        depth = params["depth"]
        branch, leaves = 2 ** depth - 1, 2 ** depth
        feature = np.asarray(solution["feature"], dtype=float)
        threshold = np.asarray(solution["threshold"], dtype=float)
        z = np.asarray(solution["z"], dtype=float)
        if feature.shape != (branch,) or threshold.shape != (branch,) or z.shape != (n, leaves):
            raise InputError(f"solution must have feature and threshold of length {branch} and z of shape {n} × {leaves}")
        if not all_finite(feature, threshold, z):
            return missing_values()
        rounded = np.round(feature)
        violations = {
            "integrality": integrality_violation(z, feature),
            "feature_range": float(max(np.max(-rounded, initial=0.0), np.max(rounded - (d - 1), initial=0.0))),
            "assignment": float(np.max(np.abs(z.sum(axis=1) - 1.0))),
        }
        leaf = route(X, np.clip(rounded, 0, d - 1).astype(np.int64), threshold, depth)
        routed = np.zeros((n, leaves))
        routed[np.arange(n), leaf] = 1.0
        violations["routing"] = float(np.max(np.abs(z - routed)))
        D = dissimilarity(X, params["metric"])
        objective = partition_objective(D, leaf)
        sizes = np.bincount(leaf, minlength=leaves)
        info: dict[str, Any] = {"leaf_sizes": sizes.tolist(), "clusters": int(np.sum(sizes > 0)),
                                "kmeans_objective": kmeans_objective(X, leaf)}
        if "y" in instance.arrays and np.asarray(instance.arrays["y"]).shape == (n,):
            info["recovers_labels"] = same_partition(leaf, np.asarray(instance.arrays["y"]))
        return Evaluation(objective=objective, violations=violations, info=info)


@register
class TreeMcCormick(_TreeClustering):
    """(19)+(20): tree clustering with the products zᵢₖzⱼₖ linearised by McCormick (20)
    (tutorial §2.3.3; Carrizosa, Kurishchenko, Marín & Romero Morales 2023)."""

    id = "clustering.tree_mccormick"
    equation = "(19)+(20)"
    problem_class = "MILP"
    benchmark_cases = BENCHMARK_CASES
    summary = "interpretable clustering, leaves of a depth-D axis-aligned tree, McCormick linearisation"

    def build(self, instance: Instance, params: dict[str, Any]) -> pyo.ConcreteModel:
        m, D = self._tree_model(instance, params)
        m.zeta = pyo.Var(m.pairs, m.leaves, bounds=(0.0, None))                                     # 0 ≤ ζ
        m.mccormick_lower = pyo.Constraint(
            m.pairs, m.leaves, rule=lambda m, i, j, k: m.w[i, k] + m.w[j, k] - 1 <= m.zeta[i, j, k])
        m.mccormick_upper_i = pyo.Constraint(m.pairs, m.leaves, rule=lambda m, i, j, k: m.zeta[i, j, k] <= m.w[i, k])
        m.mccormick_upper_j = pyo.Constraint(m.pairs, m.leaves, rule=lambda m, i, j, k: m.zeta[i, j, k] <= m.w[j, k])
        m.objective = pyo.Objective(expr=pyo.quicksum(2.0 * float(D[i, j]) * m.zeta[i, j, k]
                                                      for (i, j) in m.pairs for k in m.leaves))
        return m


@register
class TreeConvexified(_TreeClustering):
    """(19)+(21): tree clustering with the objective shifted by λΣ(zᵢₖ² − zᵢₖ) (tutorial
    §2.3.3; Poljak & Wolkowicz 1995), convex for λ ≥ −λ_min(d)."""

    id = "clustering.tree_convexified"
    equation = "(19)+(21)"
    problem_class = "MIQP"
    benchmark_cases = BENCHMARK_CASES
    summary = "interpretable clustering, leaves of a depth-D axis-aligned tree, convexified objective λ(z² − z)"
    hyperparameters = {**_TreeClustering.hyperparameters, "lambda_shift": "auto"}

    def validate(self, instance: Instance, params: dict[str, Any]) -> dict[str, Any]:
        params = super().validate(instance, params)
        D = dissimilarity(check_points(instance), params["metric"])
        needed = convexity_shift(D)
        if params["lambda_shift"] in (None, "auto"):
            shift = needed * (1 + 1e-6) + 1e-12 * float(np.abs(D).max())
            source = "auto"
        else:
            shift = as_float(params, "lambda_shift", minimum=0.0, allow_none=False)
            source = "given"
        return {**params, "lambda_shift": shift, "lambda_shift_source": source, "convex": bool(shift >= needed)}

    def build(self, instance: Instance, params: dict[str, Any]) -> pyo.ConcreteModel:
        m, D = self._tree_model(instance, params)
        shift = float(params["lambda_shift"])
        products = pyo.quicksum(2.0 * float(D[i, j]) * m.w[i, k] * m.w[j, k] for (i, j) in m.pairs for k in m.leaves)
        penalty = pyo.quicksum(m.w[i, k] ** 2 - m.w[i, k] for i in m.points for k in m.leaves)
        m.objective = pyo.Objective(expr=products + shift * penalty if shift > 0 else products)
        return m

    def evaluate(self, instance: Instance, params: dict[str, Any], solution: dict[str, np.ndarray]) -> Evaluation:
        evaluation = super().evaluate(instance, params, solution)
        evaluation.info["lambda_shift"] = float(params["lambda_shift"])
        evaluation.info["convex"] = bool(params.get("convex", True))
        if not evaluation.info["convex"]:
            add_warning(evaluation.info, f"lambda_shift {params['lambda_shift']:.4g} is below -λ_min(d): the objective "
                                         "(21) is not convex")
        return evaluation
