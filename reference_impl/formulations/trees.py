"""Optimal classification trees on binary features (tutorial §2.2.1-§2.2.2 and §5; FORMULATIONS.md §2).

Justin, Sun, Gómez & Vayanos, "Responsible Machine Learning via Mixed-Integer Optimization"
(arXiv 2505.05857), formulations (12) and (13), with the fairness constraints of §5.

Problem. Binary features X ∈ {0,1}^{n×p}, integer class labels y (any number of classes,
``classes``), a tree of depth D (``depth`` = the number of branching levels, as ODTLearn's
``depth``: branching nodes B = {1, …, 2^D − 1}, leaves L = {2^D, …, 2^{D+1} − 1}, children
l(k) = 2k, r(k) = 2k + 1; the tutorial's D counts the leaf level too, so its D is ours + 1).
A branching node tests one feature j: x_j = 0 goes left, x_j = 1 goes right. Any node may
instead predict a class (its descendants are then pruned). The objective, maximised, is

    (number of training samples classified correctly) − lam · (number of branching nodes).

Scaling of ``lam``: ODTLearn's FlowOCT maximises (1 − λ)·Σ correct − λ·Σ splits with
λ ∈ [0, 1); that is (1 − λ) times ours with lam = λ / (1 − λ), so both choose the same trees
(lam = 0 ⇔ λ = 0). Here lam is "samples per split": a split must classify more than lam
additional samples correctly to pay for itself.

Registered formulations (all MILP):

* ``trees.flow_oct`` — (12), Aghaei, Gómez & Vayanos (2024), "Strong optimal classification
  trees" (Operations Research): θ (``b``) chooses a feature per branching node, ϕ (``w``) a class
  per node, flows z route each sample along its path; (12b)-(12c) say that a node branches,
  predicts, or is pruned. The flows are binary as in (12k)-(12l) (with θ, ϕ binary they
  would be integral anyway, each sample following its unique path — ODTLearn declares them
  continuous; declared binary, a solver sees that the objective is integral when lam = 0,
  which lets SCIP stop at the root instead of closing a 0.01 % gap by cuts; the LP
  relaxation is the same).
* ``trees.rule_list`` — (12) + (13): every branching node has a child that predicts, so the
  tree reads as a rule list ("if … then class, else if …").
* ``trees.oct_bigm`` — Bertsimas & Dunn (2017), "Optimal classification trees" (Machine
  Learning 106), specialised to binary features: a_{mj} (feature of node m), d_m (node m
  splits), d_m ≤ d_{parent(m)}, sample-to-leaf assignment z_{it}, leaf classes c_{kt} with
  Σ_k c_{kt} = l_t ≥ z_{it}, and the big-M routing constraints of their paper with the
  threshold fixed at b_m = d_m and ε = 1 (binary features: the split is x_j < 1 vs x_j ≥ 1):
  left of m:  Σ_j a_{mj} x_{ij} + 2(1 − d_m) ≤ 2(1 − z_{it})   (a node that does not split
  sends everyone right, as in their formulation), right of m: Σ_j a_{mj} x_{ij} ≥ d_m − (1 − z_{it});
  misclassification per leaf by their big-M linearisation L_t ≥ N_t − N_{kt} − n(1 − c_{kt}),
  L_t ≥ 0, and L_t ≤ N_t − N_{kt} + n·c_{kt} (left out with fairness on: it forces every leaf
  to predict its majority class, which a fairness constraint can make suboptimal). Objective n − Σ_t L_t − lam·Σ_m d_m (theirs,
  min (1/L̂)Σ L_t + αΣ d_t, chooses the same trees with α = lam/L̂). A node that does not split
  is read back as predicting the class of the leaf its samples reach (the right-most leaf
  below it), so it describes the same trees as (12) and the optima agree; its LP
  relaxation is weaker (the big-M loss lets a fractional c_{kt} = ½ drop every L_t to 0).

Fairness (§5; ``fairness`` = a notion of
:mod:`~reference_impl.formulations._fairness_constraints`, with ``delta``, ``one_sided`` and
``protected`` as the fairness hosts take them; the instance holds ``group`` and, for
conditional statistical parity (38), ``stratum``). The favourable-outcome indicator is
ζᵢ = 1 iff sample i is predicted ``favourable_class`` (35); the true outcome is favourable iff
yᵢ = ``favourable_class``. ζ needs the prediction of every sample, right or wrong, so with
fairness on, the flow formulations use the multi-sink variant of (12) (Jo, Aghaei, Benson,
Gómez & Vayanos 2023, "Learning optimal fair decision trees", ODTLearn's FairOCT): every
sample sends one unit of flow (z_{i,1} = 1) into one sink per class q_{ikc} ≤ ϕ_{kc}; the
objective counts q_{i,k,yᵢ}, and ζᵢ = Σ_k q_{i,k,favourable}. In ``trees.oct_bigm``
ζᵢ = Σ_t u_{it} with u_{it} = z_{it} ∧ c_{favourable,t} (linearised). The constraints on ζ are
the library's :func:`~reference_impl.formulations._fairness_constraints.attach_fairness`.

Solution read back (``extract``): ``b`` (|B|·p, θ row by row), ``w`` (|B ∪ L|·C, ϕ row by
row), the tree itself — ``node_feature`` (per branching node, the feature index or −1) and
``node_class`` (per node, the index into ``classes`` of its prediction or −1) — and ``zeta``
with fairness on. The evaluator re-applies the tree to X (:func:`predict_tree`), recomputes
the objective and checks (12b)-(12c) on the tree (each node branches, predicts or is
pruned; a predicting node's descendants are pruned), feature and class indices, the
agreement of ``b``/``w`` with the tree, (13) for rule lists, and the fairness notion on the
tree's own predictions. :func:`tree_text` prints a tree in the original feature names.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
import pyomo.environ as pyo

from ..errors import InputError
from ..instances.instance import Instance, check_xy
from ..registry import register
from ._fairness_constraints import (NOTIONS, Comparison, add_fairness_evaluation, attach_fairness,
                                    check_fairness_params, check_group, fairness_comparisons)
from ._support import integrality_violation
from .base import Evaluation, Formulation, as_float, as_int

#: largest depth accepted (2^11 − 1 nodes; far beyond what any solver proves)
MAX_DEPTH = 10
#: the margin handed to the fairness library's evaluator: the "score" it checks is the
#: favourable indicator itself (1 favourable, 0 not) against the threshold ½
_ZETA_MARGIN = 0.5
#: keys a ``fairness`` mapping may hold
_FAIRNESS_KEYS = ("notion", "delta", "one_sided", "protected")


# -- the tree as plain arrays --------------------------------------------------------------------
def n_branching(depth: int) -> int:
    """|B| = 2^D − 1 branching nodes (numbered 1 … 2^D − 1)."""
    return 2 ** depth - 1


def n_nodes(depth: int) -> int:
    """|B ∪ L| = 2^{D+1} − 1 nodes (numbered 1 … 2^{D+1} − 1, breadth first)."""
    return 2 ** (depth + 1) - 1


def ancestors(k: int) -> list[int]:
    """A(k): the nodes on the path from the root to k, k excluded."""
    out = []
    while k > 1:
        k //= 2
        out.append(k)
    return out


@dataclass
class Tree:
    """A classification tree of depth ``depth`` on binary features.

    ``feature[k − 1]`` (k ∈ B): the feature node k tests (x = 0 left, x = 1 right), −1 when it
    does not branch. ``node_class[k − 1]`` (k ∈ B ∪ L): the index into ``classes`` of the class
    node k predicts, −1 when it does not predict. A node that neither branches nor predicts
    is pruned (it must then lie below a predicting node)."""

    depth: int
    feature: np.ndarray
    node_class: np.ndarray
    classes: np.ndarray

    def branching(self) -> np.ndarray:
        """Nodes k (1-based) that branch."""
        return np.flatnonzero(self.feature >= 0) + 1

    def n_splits(self) -> int:
        return int(np.sum(self.feature >= 0))

    def as_indicators(self, p: int) -> tuple[np.ndarray, np.ndarray]:
        """(b, w): θ and ϕ of (12) as 0/1 matrices (|B|×p, |B ∪ L|×C) for this tree."""
        b = np.zeros((n_branching(self.depth), p))
        w = np.zeros((n_nodes(self.depth), len(self.classes)))
        for k, j in enumerate(self.feature.tolist()):
            if 0 <= j < p:
                b[k, j] = 1.0
        for k, c in enumerate(self.node_class.tolist()):
            if 0 <= c < len(self.classes):
                w[k, c] = 1.0
        return b, w


def route(tree: Tree, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Send every row of X down ``tree``: (node where it stops, class index predicted there,
    −1 when it stops at a node that neither predicts nor branches, or on an invalid index)."""
    X = np.asarray(X)
    n = X.shape[0]
    branching = n_branching(tree.depth)
    node = np.ones(n, dtype=np.int64)
    predicted = np.full(n, -1, dtype=np.int64)
    moving = np.ones(n, dtype=bool)
    for _ in range(tree.depth + 1):
        if not moving.any():
            break
        index = node - 1
        cls = np.where(moving, tree.node_class[np.minimum(index, tree.node_class.size - 1)], -1)
        stops = moving & (cls >= 0)
        predicted[stops] = cls[stops]
        moving &= ~stops
        inner = moving & (node <= branching)
        feature = np.full(n, -1, dtype=np.int64)
        feature[inner] = tree.feature[index[inner]]
        goes = inner & (feature >= 0) & (feature < X.shape[1])
        rows = np.flatnonzero(goes)
        node[rows] = 2 * node[rows] + (X[rows, feature[rows]] > 0.5).astype(np.int64)
        moving &= goes  # a node that neither predicts nor branches (validly) ends the path
    predicted[(predicted < 0) | (predicted >= len(tree.classes))] = -1
    return node, predicted


def predict_tree(tree: Tree, X) -> np.ndarray:
    """The class labels ``tree`` predicts for the rows of X (binary features); an
    :class:`InputError` when a sample reaches a node that neither branches nor predicts."""
    X = np.asarray(X, dtype=float)
    if X.ndim != 2:
        raise InputError(f"X must be a 2-D array; got shape {X.shape}")
    node, predicted = route(tree, X)
    if np.any(predicted < 0):
        i = int(np.flatnonzero(predicted < 0)[0])
        raise InputError(f"the tree gives sample {i} no prediction: it stops at node {int(node[i])}, which neither "
                         "branches nor predicts a class")
    return np.asarray(tree.classes)[predicted]


def tree_text(tree: Tree, feature_names: Sequence[str] | None = None, class_names: Sequence[str] | None = None) -> str:
    """The tree as indented text in the original feature names, e.g.::

        node 1: age<=30 ?
          no  -> node 2: predict 1
          yes -> node 3: priors_count<=2 ?
            no  -> node 6: predict 1
            yes -> node 7: predict 0

    ("no" is the branch x = 0, "yes" x = 1). Pruned nodes are not shown."""
    def feature_name(j: int) -> str:
        if feature_names is not None and 0 <= j < len(feature_names):
            return str(feature_names[j])
        return f"x{j}"

    def class_name(c: int) -> str:
        if class_names is not None and 0 <= c < len(class_names):
            return str(class_names[c])
        return str(np.asarray(tree.classes)[c].item()) if 0 <= c < len(tree.classes) else f"class #{c}"

    lines: list[str] = []

    def visit(k: int, indent: str, prefix: str) -> None:
        cls = int(tree.node_class[k - 1])
        j = int(tree.feature[k - 1]) if k <= n_branching(tree.depth) else -1
        if cls >= 0:
            lines.append(f"{indent}{prefix}node {k}: predict {class_name(cls)}")
        elif j >= 0:
            lines.append(f"{indent}{prefix}node {k}: {feature_name(j)} ?")
            visit(2 * k, indent + "  ", "no  -> ")
            visit(2 * k + 1, indent + "  ", "yes -> ")
        else:
            lines.append(f"{indent}{prefix}node {k}: (no prediction)")

    visit(1, "", "")
    return "\n".join(lines)


def structure_violations(tree: Tree, p: int, *, rule_list: bool = False) -> dict[str, float]:
    """Violations of the tree's structure, from the arrays alone:

    * ``feature_index`` — entries of ``feature`` that are not −1 or a feature 0…p−1 (count);
    * ``class_index`` — entries of ``node_class`` that are not −1 or a class index (count);
    * ``tree_structure`` — nodes breaking (12b)/(12c): [k branches] + [k predicts] +
      Σ_{k' ∈ A(k)} [k' predicts] must be 1 (each node branches, predicts, or lies below a
      predicting node, and then does neither) (count);
    * ``rule_list`` (when asked) — branching nodes without a predicting child, (13) (count).
    """
    C = len(tree.classes)
    branching, total = n_branching(tree.depth), n_nodes(tree.depth)
    feature = np.asarray(tree.feature)
    node_class = np.asarray(tree.node_class)
    bad_feature = int(np.sum((feature < -1) | (feature >= p)))
    bad_class = int(np.sum((node_class < -1) | (node_class >= C)))
    branches = np.zeros(total + 1, dtype=np.int64)
    branches[1:branching + 1] = (feature >= 0) & (feature < p)
    predicts = np.zeros(total + 1, dtype=np.int64)
    predicts[1:] = (node_class >= 0) & (node_class < C)
    broken = 0
    for k in range(1, total + 1):
        if branches[k] + predicts[k] + sum(int(predicts[a]) for a in ancestors(k)) != 1:
            broken += 1
    violations = {"feature_index": float(bad_feature), "class_index": float(bad_class),
                  "tree_structure": float(broken)}
    if rule_list:
        violations["rule_list"] = float(sum(1 for k in range(1, branching + 1)
                                            if branches[k] and not (predicts[2 * k] or predicts[2 * k + 1])))
    return violations


def _index_array(values_, size: int, name: str) -> np.ndarray:
    array = np.asarray(values_, dtype=float).reshape(-1)
    if array.shape != (size,):
        raise InputError(f"solution must have {name} of length {size}; got shape {np.asarray(values_).shape}")
    return array


def tree_from_solution(solution: Mapping[str, Any], depth: int, p: int, classes) -> tuple[Tree, dict[str, float]]:
    """The tree a solution describes and the violations found reading it: from ``node_feature``
    / ``node_class`` when present, else from the indicators ``b`` / ``w`` (a row's entry above
    ½). ``integrality`` covers every array given; ``tree_indicators`` the disagreement
    between ``b``/``w`` and the tree (rows that are not the tree's one-hot rows)."""
    classes = np.asarray(classes)
    C = len(classes)
    branching, total = n_branching(depth), n_nodes(depth)
    violations: dict[str, float] = {}
    b = _index_array(solution["b"], branching * p, "b").reshape(branching, p) if "b" in solution else None
    w = _index_array(solution["w"], total * C, "w").reshape(total, C) if "w" in solution else None
    if "node_feature" in solution and "node_class" in solution:
        feature_raw = _index_array(solution["node_feature"], branching, "node_feature")
        class_raw = _index_array(solution["node_class"], total, "node_class")
    elif b is not None and w is not None:
        feature_raw = np.where(b.max(axis=1, initial=0.0) > 0.5, np.argmax(b, axis=1), -1).astype(float)
        class_raw = np.where(w.max(axis=1, initial=0.0) > 0.5, np.argmax(w, axis=1), -1).astype(float)
    else:
        raise InputError("a tree solution needs node_feature and node_class, or the indicators b and w")
    arrays = [a for a in (b, w, feature_raw, class_raw) if a is not None]
    if not all(np.all(np.isfinite(a)) for a in arrays):
        violations["missing_values"] = math.inf
        feature_raw = np.nan_to_num(feature_raw, nan=-1.0, posinf=-1.0, neginf=-1.0)
        class_raw = np.nan_to_num(class_raw, nan=-1.0, posinf=-1.0, neginf=-1.0)
    violations["integrality"] = integrality_violation(*[np.nan_to_num(a) for a in arrays])
    feature = np.clip(np.round(feature_raw), -2, p).astype(np.int64)          # out-of-range stays out of range
    node_class = np.clip(np.round(class_raw), -2, C).astype(np.int64)
    tree = Tree(depth=depth, feature=feature, node_class=node_class, classes=classes)
    if b is not None or w is not None:
        b_tree, w_tree = tree.as_indicators(p)
        gaps = [0.0]
        if b is not None:
            gaps.append(float(np.max(np.abs(np.nan_to_num(b, nan=1.0) - b_tree), initial=0.0)))
        if w is not None:
            gaps.append(float(np.max(np.abs(np.nan_to_num(w, nan=1.0) - w_tree), initial=0.0)))
        violations["tree_indicators"] = max(gaps)
    return tree, violations


# -- validation helpers ----------------------------------------------------------------------------
def check_binary_features(instance: Instance, formulation_id: str) -> np.ndarray:
    """X as floats after :func:`check_xy`; one :class:`InputError` naming the first column
    that holds anything but 0 and 1."""
    X, _ = check_xy(instance)
    bad = np.flatnonzero(np.any((X != 0.0) & (X != 1.0), axis=0))
    if bad.size:
        j = int(bad[0])
        column = X[:, j]
        value = column[(column != 0.0) & (column != 1.0)][0]
        name = instance.feature_names[j] if j < len(instance.feature_names) else f"x{j}"
        more = f" ({bad.size - 1} more column(s) too)" if bad.size > 1 else ""
        raise InputError(f"{formulation_id} needs binary features (0/1): column {j} ({name!r}) holds {value:g}{more}; "
                         "binarize first (reference_impl.instances.loaders.trees.binarize)")
    return X


def check_labels(y: np.ndarray, classes) -> tuple[np.ndarray, list]:
    """(class index per sample, the class labels): labels must be integers; ``classes``
    (default: y's sorted labels) must list each label of y exactly once and nothing else."""
    if not np.all(y == np.round(y)):
        bad = y[y != np.round(y)][0]
        raise InputError(f"class labels y must be integers; got {bad:g}")
    present = sorted({int(v) for v in np.unique(y).tolist()})
    if classes is None:
        labels = present
    else:
        if isinstance(classes, (str, bytes)) or not isinstance(classes, (list, tuple, np.ndarray)):
            raise InputError(f"classes must be a list of integer class labels (e.g. [0, 1]); got {classes!r}")
        labels = []
        for c in list(np.asarray(classes, dtype=object).reshape(-1)):
            if isinstance(c, (bool, np.bool_)) or not isinstance(c, (int, float, np.integer, np.floating)) \
                    or not math.isfinite(float(c)) or float(c) != round(float(c)):
                raise InputError(f"classes must hold integer class labels; got {c!r}")
            labels.append(int(c))
        if len(set(labels)) != len(labels):
            raise InputError(f"classes lists a label twice: {labels}")
        absent = [c for c in labels if c not in present]
        if absent:
            raise InputError(f"class(es) {absent} of the classes hyperparameter do not occur in the labels y "
                             f"(which hold {present})")
        unlisted = [c for c in present if c not in labels]
        if unlisted:
            raise InputError(f"labels y hold class(es) {unlisted} that the classes hyperparameter {labels} leaves out")
    if len(labels) < 1:
        raise InputError("labels y are empty")
    position = {c: i for i, c in enumerate(labels)}
    return np.array([position[int(v)] for v in y.tolist()], dtype=np.int64), labels


def _fairness_settings(params: dict[str, Any]) -> dict[str, Any]:
    """``fairness`` as a notion name (or ``None``): a mapping {notion, delta, one_sided,
    protected} is spread into the matching hyperparameters (giving one both ways, differently,
    is an error)."""
    fairness = params.get("fairness")
    if isinstance(fairness, Mapping):
        unknown = sorted(set(fairness) - set(_FAIRNESS_KEYS))
        if unknown:
            raise InputError(f"fairness mapping has unknown key(s) {unknown}; it takes {', '.join(_FAIRNESS_KEYS)}")
        if "notion" not in fairness:
            raise InputError(f"fairness mapping needs a notion (one of {', '.join(NOTIONS)})")
        out = dict(params)
        for key in ("delta", "one_sided", "protected"):
            if key in fairness:
                out[key] = fairness[key]
        out["fairness"] = fairness["notion"]
        return out
    return dict(params)


def _comparisons(instance: Instance, y: np.ndarray, params: dict[str, Any]) -> tuple[list[Comparison], list[str]]:
    return fairness_comparisons(params["fairness"], instance["group"], protected=params["protected"],
                                true_favourable=(y == params["favourable_class"]),
                                stratum=instance.arrays.get("stratum"))


def _class_names(instance: Instance, classes: list) -> list[str] | None:
    """``"label (name)"`` per class when the instance names its classes 0…C−1 (``class_names``)."""
    names = instance.arrays.get("class_names")
    if names is None or not all(0 <= c < len(names) for c in classes):
        return None
    return [f"{c} ({names[c]})" for c in classes]


# -- the shared part of the three formulations -----------------------------------------------------
class _TreeFormulation(Formulation):
    """Validation, read-back and the evaluator shared by the tree formulations."""

    family = "trees"
    problem_class = "MILP"
    sense = "max"
    hyperparameters = {"depth": 2, "lam": 0.0, "classes": None, "fairness": None, "delta": 0.2, "one_sided": False,
                       "protected": None, "favourable_class": 1}
    #: whether (13) (every branching node has a predicting child) is imposed
    rule_list = False

    # -- validation ------------------------------------------------------------------
    def validate(self, instance: Instance, params: dict[str, Any]) -> dict[str, Any]:
        given = dict(params)
        params = super().validate(instance, params)
        if isinstance(params.get("fairness"), Mapping):
            spread = params["fairness"]
            clash = [k for k in ("delta", "one_sided", "protected") if k in given and k in spread and given[k] != spread[k]]
            if clash:
                raise InputError(f"fairness gives {', '.join(clash)} differently from the hyperparameter(s) of that name")
            params = _fairness_settings(params)
        depth = as_int(params, "depth", minimum=1, maximum=MAX_DEPTH)
        if depth is None:
            raise InputError("hyperparameter depth is required (1..10)")
        lam = as_float(params, "lam", minimum=0.0, allow_none=False)
        X = check_binary_features(instance, self.id)
        y = np.asarray(instance.y, dtype=float)
        _, classes = check_labels(y, params.get("classes"))
        out = {**params, "depth": depth, "lam": lam, "classes": classes}
        fairness = params.get("fairness")
        if fairness is None:
            return out
        if not isinstance(fairness, str):
            raise InputError(f"fairness must be a notion name ({', '.join(NOTIONS)}), a mapping with a notion, or "
                             f"none; got {fairness!r}")
        checked = check_fairness_params({"notion": fairness, "delta": params["delta"], "one_sided": params["one_sided"],
                                         "favourable": "above", "epsilon": _ZETA_MARGIN})
        favourable = params.get("favourable_class")
        if isinstance(favourable, (bool, np.bool_)) or not isinstance(favourable, (int, float, np.integer, np.floating)) \
                or not math.isfinite(float(favourable)) or float(favourable) != round(float(favourable)):
            raise InputError(f"favourable_class must be an integer class label; got {favourable!r}")
        if int(favourable) not in classes:
            raise InputError(f"favourable_class {favourable!r} is not one of the classes {classes}")
        if "group" not in instance.arrays:
            raise InputError(f"fairness ({fairness}) needs a 'group' array (protected attribute per sample); "
                             f"instance {instance.id!r} has: {', '.join(sorted(instance.arrays))}")
        check_group(instance, X.shape[0])
        out.update({"fairness": fairness, "delta": checked["delta"], "one_sided": checked["one_sided"],
                    "favourable_class": int(favourable)})
        _comparisons(instance, y, out)  # InputError: missing stratum, a single group, every side empty
        return out

    # -- data in model form -----------------------------------------------------------
    @staticmethod
    def _data(instance: Instance, params: dict[str, Any]):
        X, y = check_xy(instance)
        position = {c: i for i, c in enumerate(params["classes"])}
        y_index = np.array([position[int(v)] for v in y.tolist()], dtype=np.int64)
        return X, y, y_index

    def _favourable_index(self, params: dict[str, Any]) -> int | None:
        if params.get("fairness") is None:
            return None
        return params["classes"].index(params["favourable_class"])

    def _attach_fairness(self, m, instance: Instance, params: dict[str, Any], zeta) -> None:
        _, y, _ = self._data(instance, params)
        comparisons, _ = _comparisons(instance, y, params)
        attach_fairness(m, zeta, comparisons, params["delta"], one_sided=params["one_sided"], name="fair")

    # -- read-back --------------------------------------------------------------------
    def _tree_solution(self, tree: Tree, p: int, b=None, w=None) -> dict[str, np.ndarray]:
        b_tree, w_tree = tree.as_indicators(p)
        return {"b": (b_tree if b is None else b).reshape(-1), "w": (w_tree if w is None else w).reshape(-1),
                "node_feature": tree.feature.astype(float), "node_class": tree.node_class.astype(float)}

    # -- evaluator --------------------------------------------------------------------
    def evaluate(self, instance: Instance, params: dict[str, Any], solution: dict[str, np.ndarray]) -> Evaluation:
        X, y, y_index = self._data(instance, params)
        n, p = X.shape
        tree, violations = tree_from_solution(solution, params["depth"], p, params["classes"])
        violations.update(structure_violations(tree, p, rule_list=self.rule_list))
        _, predicted = route(tree, X)
        correct = int(np.sum(predicted == y_index))
        objective = correct - params["lam"] * tree.n_splits()
        info: dict[str, Any] = {
            "correct": correct, "accuracy": correct / n, "n_splits": tree.n_splits(),
            "unpredicted": int(np.sum(predicted < 0)),
            "tree": tree_text(tree, instance.feature_names, _class_names(instance, params["classes"])),
            "tree_feature": tree.feature.tolist(), "tree_class": tree.node_class.tolist(),
        }
        evaluation = Evaluation(objective=float(objective), violations=violations, info=info)
        favourable = self._favourable_index(params)
        if favourable is not None:
            predicted_favourable = (predicted == favourable).astype(float)
            zeta = solution.get("zeta")
            zeta = predicted_favourable if zeta is None else np.asarray(zeta, dtype=float).reshape(-1)
            settings = {"threshold_value": 0.5, "epsilon": _ZETA_MARGIN, "favourable": "above",
                        "delta": params["delta"], "one_sided": params["one_sided"]}
            add_fairness_evaluation(evaluation, instance, settings, predicted_favourable, zeta,
                                    _comparisons(instance, y, params))
            evaluation.info.pop("threshold", None)
        if not math.isfinite(evaluation.objective) or violations.get("missing_values"):
            evaluation.objective = -math.inf
        return evaluation


# -- (12): the flow formulation ---------------------------------------------------------------------
class _FlowModel(_TreeFormulation):
    """(12) as a Pyomo model; (13) on top when ``rule_list``."""

    def build(self, instance: Instance, params: dict[str, Any]) -> pyo.ConcreteModel:
        X, _, y_index = self._data(instance, params)
        n, p = X.shape
        depth, C = params["depth"], len(params["classes"])
        branching, total = n_branching(depth), n_nodes(depth)
        zeros = [np.flatnonzero(X[i] == 0.0).tolist() for i in range(n)]
        ones = [np.flatnonzero(X[i] == 1.0).tolist() for i in range(n)]
        favourable = self._favourable_index(params)
        m = pyo.ConcreteModel(name=self.id)
        m.I = pyo.RangeSet(0, n - 1)
        m.F = pyo.RangeSet(0, p - 1)
        m.K = pyo.RangeSet(0, C - 1)
        m.B = pyo.RangeSet(1, branching)
        m.L = pyo.RangeSet(branching + 1, total)
        m.N = pyo.RangeSet(1, total)
        m.b = pyo.Var(m.B, m.F, domain=pyo.Binary)   # θ_{k,j}  (12i)
        m.w = pyo.Var(m.N, m.K, domain=pyo.Binary)   # ϕ_{k,y}  (12j)
        m.z = pyo.Var(m.I, m.N, domain=pyo.Binary)   # z^i_{a(k),k}: flow into k (12k)

        def predicted_above(m, k):
            return pyo.quicksum(m.w[a, c] for a in ancestors(k) for c in m.K)

        m.branch_or_predict = pyo.Constraint(m.B, rule=lambda m, k: pyo.quicksum(m.b[k, j] for j in m.F)
                                             + pyo.quicksum(m.w[k, c] for c in m.K) + predicted_above(m, k) == 1)  # (12b)
        m.leaf_predicts = pyo.Constraint(m.L, rule=lambda m, k: pyo.quicksum(m.w[k, c] for c in m.K)
                                         + predicted_above(m, k) == 1)                                       # (12c)
        m.left_arc = pyo.Constraint(m.I, m.B, rule=lambda m, i, k: m.z[i, 2 * k]
                                    <= pyo.quicksum(m.b[k, j] for j in zeros[i]))                            # (12f)
        m.right_arc = pyo.Constraint(m.I, m.B, rule=lambda m, i, k: m.z[i, 2 * k + 1]
                                     <= pyo.quicksum(m.b[k, j] for j in ones[i]))                            # (12g)
        if favourable is None:
            m.s = pyo.Var(m.I, m.N, domain=pyo.Binary)   # z^i_{k,t}: flow to the sink (12l)
            m.conserve_branch = pyo.Constraint(m.I, m.B, rule=lambda m, i, k: m.z[i, k]
                                               == m.z[i, 2 * k] + m.z[i, 2 * k + 1] + m.s[i, k])             # (12d)
            m.conserve_leaf = pyo.Constraint(m.I, m.L, rule=lambda m, i, k: m.z[i, k] == m.s[i, k])          # (12e)
            m.sink = pyo.Constraint(m.I, m.N, rule=lambda m, i, k: m.s[i, k] <= m.w[k, int(y_index[i])])      # (12h)
            correct = pyo.quicksum(m.s[i, k] for i in m.I for k in m.N)                                     # (12a)
        else:
            # multi-sink variant (Jo et al. 2023): every sample flows, one sink per class
            m.q = pyo.Var(m.I, m.N, m.K, domain=pyo.Binary)
            m.source = pyo.Constraint(m.I, rule=lambda m, i: m.z[i, 1] == 1)
            m.conserve_branch = pyo.Constraint(m.I, m.B, rule=lambda m, i, k: m.z[i, k] == m.z[i, 2 * k]
                                               + m.z[i, 2 * k + 1] + pyo.quicksum(m.q[i, k, c] for c in m.K))
            m.conserve_leaf = pyo.Constraint(m.I, m.L, rule=lambda m, i, k: m.z[i, k]
                                             == pyo.quicksum(m.q[i, k, c] for c in m.K))
            m.sink = pyo.Constraint(m.I, m.N, m.K, rule=lambda m, i, k, c: m.q[i, k, c] <= m.w[k, c])
            correct = pyo.quicksum(m.q[i, k, int(y_index[i])] for i in m.I for k in m.N)
            m.zeta = pyo.Expression(m.I, rule=lambda m, i: pyo.quicksum(m.q[i, k, favourable] for k in m.N))
            self._attach_fairness(m, instance, params, m.zeta)
        if self.rule_list:
            m.rule_list = pyo.Constraint(m.B, rule=lambda m, k: pyo.quicksum(m.b[k, j] for j in m.F)
                                         <= pyo.quicksum(m.w[2 * k, c] + m.w[2 * k + 1, c] for c in m.K))    # (13)
        m.splits = pyo.Expression(expr=pyo.quicksum(m.b[k, j] for k in m.B for j in m.F))
        m.objective = pyo.Objective(expr=correct - float(params["lam"]) * m.splits, sense=pyo.maximize)
        return m

    def extract(self, model, instance: Instance, params: dict[str, Any]) -> dict[str, np.ndarray]:
        p, depth, C = instance.X.shape[1], params["depth"], len(params["classes"])
        branching, total = n_branching(depth), n_nodes(depth)
        b = np.array([[_value(model.b[k, j]) for j in range(p)] for k in range(1, branching + 1)])
        w = np.array([[_value(model.w[k, c]) for c in range(C)] for k in range(1, total + 1)])
        feature = np.where(np.nan_to_num(b).max(axis=1) > 0.5, np.argmax(np.nan_to_num(b), axis=1), -1)
        node_class = np.where(np.nan_to_num(w).max(axis=1) > 0.5, np.argmax(np.nan_to_num(w), axis=1), -1)
        tree = Tree(depth, feature.astype(np.int64), node_class.astype(np.int64), np.asarray(params["classes"]))
        solution = self._tree_solution(tree, p, b, w)
        if self._favourable_index(params) is not None:
            solution["zeta"] = np.array([_expression_value(model.zeta[i]) for i in range(instance.X.shape[0])])
        return solution


def _value(var) -> float:
    return np.nan if var.value is None else float(var.value)


def _expression_value(expression) -> float:
    try:
        return float(pyo.value(expression))
    except ValueError:  # a variable without a value
        return np.nan


@register
class FlowOCT(_FlowModel):
    """Formulation (12): the flow-based optimal classification tree of Aghaei, Gómez & Vayanos
    (2024) on binary features, maximising correct classifications − lam · splits; with
    ``fairness``, the multi-sink variant and a §5 fairness notion on ζ (tutorial eq. 12, §5)."""

    id = "trees.flow_oct"
    equation = "(12)"
    summary = "optimal classification tree, flow formulation (Aghaei, Gomez & Vayanos 2024), binary features"
    benchmark_cases = (("trees-planted-n20-p4-d2", {"depth": 2}),
                       ("trees-planted-n30-p6-d2", {"depth": 1, "lam": 0.5, "fairness": "statistical_parity",
                                                    "delta": 0.1}))


@register
class RuleList(_FlowModel):
    """Formulations (12) + (13): the flow tree in which every branching node has a child that
    predicts — a rule list (tutorial eq. 12-13)."""

    id = "trees.rule_list"
    equation = "(12)+(13)"
    summary = "rule list as a flow tree whose branching nodes each have a predicting child"
    rule_list = True
    benchmark_cases = (("trees-planted-n20-p4-d2", {"depth": 2}),
                       ("trees-planted-n30-p6-d2", {"depth": 1, "lam": 0.5, "fairness": "equalized_odds",
                                                    "delta": 0.1}))


# -- Bertsimas & Dunn (2017), binary features --------------------------------------------------------
@register
class OCTBigM(_TreeFormulation):
    """The big-M optimal classification tree of Bertsimas & Dunn (2017), specialised to binary
    features (threshold b_m = d_m, ε = 1; see the module docstring), with the objective of
    (12) so that the optima agree; its LP relaxation is weaker than (12)'s."""

    id = "trees.oct_bigm"
    equation = "Bertsimas & Dunn (2017)"
    summary = "optimal classification tree, big-M formulation (Bertsimas & Dunn 2017) on binary features"
    benchmark_cases = (("trees-planted-n20-p4-d2", {"depth": 2}),
                       ("trees-planted-n30-p6-d2", {"depth": 1, "lam": 0.5, "fairness": "statistical_parity",
                                                    "delta": 0.1}))

    def build(self, instance: Instance, params: dict[str, Any]) -> pyo.ConcreteModel:
        X, _, y_index = self._data(instance, params)
        n, p = X.shape
        depth, C = params["depth"], len(params["classes"])
        branching, total = n_branching(depth), n_nodes(depth)
        favourable = self._favourable_index(params)
        # (leaf t, ancestor m, goes left of m) for every leaf and every ancestor on its path
        paths = [(t, a, int(child == 2 * a)) for t in range(branching + 1, total + 1)
                 for a, child in zip(ancestors(t), [t] + ancestors(t)[:-1])]
        by_class = [np.flatnonzero(y_index == c).tolist() for c in range(C)]
        m = pyo.ConcreteModel(name=self.id)
        m.I = pyo.RangeSet(0, n - 1)
        m.F = pyo.RangeSet(0, p - 1)
        m.K = pyo.RangeSet(0, C - 1)
        m.B = pyo.RangeSet(1, branching)
        m.L = pyo.RangeSet(branching + 1, total)
        m.paths = pyo.Set(initialize=paths, dimen=3)
        m.a = pyo.Var(m.B, m.F, domain=pyo.Binary)      # a_{jm}: node m tests feature j
        m.d = pyo.Var(m.B, domain=pyo.Binary)           # d_m: node m splits
        m.z = pyo.Var(m.I, m.L, domain=pyo.Binary)      # z_{it}: sample i in leaf t
        m.l = pyo.Var(m.L, domain=pyo.Binary)           # l_t: leaf t holds samples
        m.c = pyo.Var(m.L, m.K, domain=pyo.Binary)      # c_{kt}: leaf t predicts class k
        m.loss = pyo.Var(m.L, domain=pyo.NonNegativeReals)  # L_t: misclassified in leaf t
        m.one_feature = pyo.Constraint(m.B, rule=lambda m, k: pyo.quicksum(m.a[k, j] for j in m.F) == m.d[k])
        m.split_below_split = pyo.Constraint(m.B, rule=lambda m, k: m.d[k] <= m.d[k // 2] if k > 1
                                             else pyo.Constraint.Skip)
        m.one_leaf = pyo.Constraint(m.I, rule=lambda m, i: pyo.quicksum(m.z[i, t] for t in m.L) == 1)
        m.leaf_used = pyo.Constraint(m.I, m.L, rule=lambda m, i, t: m.z[i, t] <= m.l[t])
        m.leaf_class = pyo.Constraint(m.L, rule=lambda m, t: pyo.quicksum(m.c[t, c] for c in m.K) == m.l[t])

        def tested(m, i, a):
            return pyo.quicksum(float(X[i, j]) * m.a[a, j] for j in m.F if X[i, j] != 0.0)

        def routing(m, i, t, a, left):
            if left:  # a_mᵀ(x_i + ε) + (1 + ε_max)(1 − d_m) ≤ b_m + (1 + ε_max)(1 − z_it), b_m = d_m, ε = 1
                return tested(m, i, a) + 2 * (1 - m.d[a]) <= 2 * (1 - m.z[i, t])
            return tested(m, i, a) >= m.d[a] - (1 - m.z[i, t])   # a_mᵀx_i ≥ b_m − (1 − z_it)

        m.routing = pyo.Constraint(m.I, m.paths, rule=routing)

        def in_leaf(m, t):
            return pyo.quicksum(m.z[i, t] for i in m.I)

        def of_class(m, t, c):
            return pyo.quicksum(m.z[i, t] for i in by_class[c])

        m.loss_lower = pyo.Constraint(m.L, m.K, rule=lambda m, t, c: m.loss[t]
                                      >= in_leaf(m, t) - of_class(m, t, c) - n * (1 - m.c[t, c]))
        if favourable is None:
            # BD's upper bound: with it a leaf must predict its majority class, optimal for accuracy
            # alone but not under a fairness constraint (where a minority label may pay), so it is
            # left out there; the objective pushes L_t down to its lower bound either way
            m.loss_upper = pyo.Constraint(m.L, m.K, rule=lambda m, t, c: m.loss[t]
                                          <= in_leaf(m, t) - of_class(m, t, c) + n * m.c[t, c])
        else:
            m.u = pyo.Var(m.I, m.L, bounds=(0, 1))      # u_it = z_it ∧ c_{favourable,t}
            m.u_leaf = pyo.Constraint(m.I, m.L, rule=lambda m, i, t: m.u[i, t] <= m.z[i, t])
            m.u_class = pyo.Constraint(m.I, m.L, rule=lambda m, i, t: m.u[i, t] <= m.c[t, favourable])
            m.u_both = pyo.Constraint(m.I, m.L, rule=lambda m, i, t: m.u[i, t] >= m.z[i, t] + m.c[t, favourable] - 1)
            m.zeta = pyo.Expression(m.I, rule=lambda m, i: pyo.quicksum(m.u[i, t] for t in m.L))
            self._attach_fairness(m, instance, params, m.zeta)
        m.splits = pyo.Expression(expr=pyo.quicksum(m.d[k] for k in m.B))
        m.objective = pyo.Objective(expr=n - pyo.quicksum(m.loss[t] for t in m.L) - float(params["lam"]) * m.splits,
                                    sense=pyo.maximize)
        return m

    def extract(self, model, instance: Instance, params: dict[str, Any]) -> dict[str, np.ndarray]:
        """The tree the model's a, d, c describe: a splitting node tests argmax_j a_{jm}; the
        first non-splitting node on a path predicts the class of the right-most leaf below it
        (every sample reaching it goes right, to that leaf); an empty leaf (no class) is read
        as predicting the first class (it classifies no training sample)."""
        p, depth, C = instance.X.shape[1], params["depth"], len(params["classes"])
        branching, total = n_branching(depth), n_nodes(depth)
        a = np.array([[_value(model.a[k, j]) for j in range(p)] for k in range(1, branching + 1)])
        d = np.array([_value(model.d[k]) for k in range(1, branching + 1)])
        c = np.array([[_value(model.c[t, k]) for k in range(C)] for t in range(branching + 1, total + 1)])
        feature = np.full(branching, -1, dtype=np.int64)
        node_class = np.full(total, -1, dtype=np.int64)
        splits = np.nan_to_num(d) > 0.5
        safe_a, safe_c = np.nan_to_num(a), np.nan_to_num(c)

        def leaf_class(t: int) -> int:
            row = safe_c[t - branching - 1]
            return int(np.argmax(row)) if row.max(initial=0.0) > 0.5 else 0

        def visit(k: int) -> None:
            if k <= branching and splits[k - 1]:
                feature[k - 1] = int(np.argmax(safe_a[k - 1]))
                visit(2 * k)
                visit(2 * k + 1)
                return
            t = k
            while t <= branching:
                t = 2 * t + 1
            node_class[k - 1] = leaf_class(t)

        visit(1)
        tree = Tree(depth, feature, node_class, np.asarray(params["classes"]))
        _, w = tree.as_indicators(p)
        solution = self._tree_solution(tree, p, a, w)
        if self._favourable_index(params) is not None:
            solution["zeta"] = np.array([_expression_value(model.zeta[i]) for i in range(instance.X.shape[0])])
        return solution
