"""Sparse generalized additive models (tutorial §2.1.4; FORMULATIONS.md §1).

Justin, Sun, Gómez & Vayanos, "Responsible Machine Learning via Mixed-Integer Optimization"
(arXiv 2505.05857), §2.1.4. Every model here is a sparse least-squares problem over a
*design* C (n × q columns built from the instance) whose columns are switched on and off by
binary indicators zᵍ, one indicator per *group* of columns::

    min_{θ,z}  Σᵢ (yᵢ − θᵀcᵢ)² + λ0 Σ_g z_g + λ2 ‖θ‖²
    s.t.       −M z_g ≤ θ_c ≤ M z_g      for every column c of group g   (group big-M)
               Σ_g z_g ≤ k                                               (cardinality form)
               G z ≤ h                                                   (logical structure)
               z ∈ {0,1}

Three registered formulations differ in the design, the grouping and G z ≤ h:

* ``gam.sparse_splines`` — (10): fθ(x) = Σⱼ Σ_{k∈K} θⱼₖ fₖ(xⱼ) with fₖ a B-spline basis
  (scikit-learn ``SplineTransformer``, uniform knots, columns centred); one indicator per
  *feature*: all spline coefficients of a feature enter or leave together (Navarro-García
  et al. 2025). No G z ≤ h.
* ``gam.interactions`` — (11): main effects xⱼ plus pairwise products xⱼxₗ (j < l, centred
  and scaled to unit variance), one indicator per term (Ibrahim et al. 2024; Wei et al.
  2022). ``hierarchy="strong"`` adds z_{jl} ≤ zⱼ and z_{jl} ≤ zₗ (an interaction only with
  both main effects); ``"weak"`` adds z_{jl} ≤ zⱼ + zₗ (with at least one).
* ``gam.hierarchical_categorical`` — Carrizosa, Mortensen, Romero Morales & Sillero-Denamiel
  (2022), tutorial Figure 6: a categorical variable whose values are the leaves of a tree T
  (e.g. states → divisions → regions), given by the instance arrays ``parent`` (parent node
  of every node, −1 at the root) and ``category`` (the leaf of every sample). Every non-root
  vertex v gets the column 1[leaf(i) ∈ subtree(v)] and an indicator; the constraints
  Σ_{v∈Pℓ} z_v ≤ 1 for every leaf ℓ (Pℓ the root-to-leaf path, root excluded) ensure no two
  selected categories describe the same value. The numeric columns of ``X`` come first,
  each with its own indicator. The root column (all ones, an intercept) is left out: the
  instances are centred, and with the root selected nothing else could be.

The models have no intercept; instances are generated with centred y (and X).

Big-M (``M``): ``"auto"`` (default) derives it as in
:func:`reference_impl.formulations.sparse_regression.derive_big_m`, but from an upper bound
that is feasible for *this* structure: a structure-respecting forward selection (one group
at a time, only additions that keep G z ≤ h) gives UB; every optimal θ lies in the
ellipsoid {θ : ‖y − Cθ‖² + λ2‖θ‖² ≤ UB}, whose widest coordinate extent is the derived M
(provably valid whenever CᵀC + λ2 I is positive definite). With λ2 = 0 and CᵀC singular,
when every support of at most k groups has independent columns and there are few of them,
M is the largest extent over the supports' own ellipsoids (still certified:
:func:`~reference_impl.formulations.sparse_regression.certified_big_m`). Otherwise (e.g. λ2 = 0
with the nested node columns of the categorical tree) M = 2·max|θ_greedy| is a heuristic that
may cut off the optimum: every result says so (``extra.M_certified = False``, a warning in the
message) and reports whether it binds (``extra.m_binding``).

Only the group big-M form is implemented (class MIQP, as in FORMULATIONS.md); the group
perspective ‖θ_g‖² ≤ z_g r_g would make it an MISOCP.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyomo.environ as pyo

from ..errors import InputError
from ..instances.instance import Instance, check_xy
from ..registry import register
from ._pyomo import squared_loss, values
from ._support import all_finite, m_binding, missing_values, read_arrays, support_mask, support_violations
from .base import Evaluation, Formulation, as_big_m, as_float, as_int, big_m_info, sparsity_terms
from .sparse_regression import certified_big_m, heuristic_big_m, objective_value, ridge_fit


@dataclass
class Design:
    """The columns C of a structured sparse regression and how indicators switch them."""

    matrix: np.ndarray                 # C, n × q
    groups: list[np.ndarray]           # column indices of each indicator
    group_names: list[str]
    structure: np.ndarray              # G (r × number of groups); empty when no structure
    rhs: np.ndarray                    # h (r)
    structure_kind: str = ""           # violation name of G z ≤ h ("hierarchy", "path")
    row_names: tuple[str, ...] = ()

    @property
    def n_groups(self) -> int:
        return len(self.groups)

    def column_group(self) -> np.ndarray:
        owner = np.empty(self.matrix.shape[1], dtype=int)
        for g, cols in enumerate(self.groups):
            owner[cols] = g
        return owner

    def structure_ok(self, selected: np.ndarray) -> bool:
        return self.structure.shape[0] == 0 or bool(np.all(self.structure @ selected <= self.rhs + 1e-9))


def structured_greedy(design: Design, y: np.ndarray, *, k: int | None, lambda0: float, lambda2: float) -> np.ndarray:
    """Forward selection over groups that keeps G z ≤ h: add the admissible group lowering the
    objective most, up to ``k`` groups or while the decrease exceeds λ0. Returns θ (length q)."""
    C = design.matrix
    limit = design.n_groups if k is None else k
    selected = np.zeros(design.n_groups)
    theta = np.zeros(C.shape[1])
    best = objective_value(C, y, theta, 0, lambda0, lambda2)
    while selected.sum() < limit:
        candidates = []
        for g in np.flatnonzero(selected == 0):
            trial_sel = selected.copy()
            trial_sel[g] = 1
            if not design.structure_ok(trial_sel):
                continue
            columns = np.concatenate([design.groups[j] for j in np.flatnonzero(trial_sel)])
            trial = ridge_fit(C, y, sorted(columns.tolist()), lambda2)
            candidates.append((objective_value(C, y, trial, int(trial_sel.sum()), lambda0, lambda2), g, trial))
        if not candidates:
            break
        value, g, trial = min(candidates, key=lambda c: c[0])
        if value >= best:
            break
        best, theta = value, trial
        selected[g] = 1
    return theta


def _greedy_objective(design: Design, theta: np.ndarray, y: np.ndarray, lambda0: float, lambda2: float) -> float:
    on = sum(1 for cols in design.groups if np.any(theta[cols] != 0))
    return objective_value(design.matrix, y, theta, on, lambda0, lambda2)


class _StructuredSparseRegression(Formulation):
    """Shared validation, model, read-back and evaluator of the GAM formulations."""

    family = "gam"
    problem_class = "MIQP"
    hyperparameters: dict[str, Any] = {"k": None, "lambda0": None, "lambda2": 0.0, "M": "auto"}

    # -- subclass hooks ----------------------------------------------------------------
    def design(self, instance: Instance, params: dict[str, Any]) -> Design:  # pragma: no cover - abstract
        raise NotImplementedError

    def check_params(self, instance: Instance, params: dict[str, Any]) -> dict[str, Any]:
        """Validate formulation-specific hyperparameters (subclasses)."""
        return params

    # -- contract ----------------------------------------------------------------------
    def validate(self, instance: Instance, params: dict[str, Any]) -> dict[str, Any]:
        params = super().validate(instance, params)
        check_xy(instance)
        params = self.check_params(instance, params)
        design = self.design(instance, params)
        q = design.n_groups
        k, lambda0 = sparsity_terms(self.id, params, q, f" (the model has {q} indicator groups)")
        lambda2 = as_float(params, "lambda2", minimum=0.0, allow_none=False)
        M, source = params.get("M"), "given"
        y = np.asarray(instance.y, dtype=float)
        if M in (None, "auto"):
            theta = structured_greedy(design, y, k=k, lambda0=lambda0 or 0.0, lambda2=lambda2)
            upper = _greedy_objective(design, theta, y, lambda0 or 0.0, lambda2)
            M, source = certified_big_m(design.matrix, y, lambda2, upper, max_size=k, lambda0=lambda0 or 0.0,
                                        groups=design.groups), "derived"
            if M is None:
                M, source = heuristic_big_m(theta, design.matrix, y), "heuristic"
        else:
            M = as_big_m(params)
        return {**params, "k": k, "lambda0": lambda0, "lambda2": lambda2, "M": M, "M_source": source}

    def build(self, instance: Instance, params: dict[str, Any]) -> pyo.ConcreteModel:
        design = self.design(instance, params)
        C, y = design.matrix, np.asarray(instance.y, dtype=float)
        owner = design.column_group()
        M = float(params["M"])
        m = pyo.ConcreteModel(name=self.id)
        m.columns = pyo.RangeSet(0, C.shape[1] - 1)
        m.groups = pyo.RangeSet(0, design.n_groups - 1)
        m.theta = pyo.Var(m.columns, bounds=(-M, M))
        m.z = pyo.Var(m.groups, domain=pyo.Binary)
        m.big_m_upper = pyo.Constraint(m.columns, rule=lambda m, c: m.theta[c] <= M * m.z[int(owner[c])])
        m.big_m_lower = pyo.Constraint(m.columns, rule=lambda m, c: -M * m.z[int(owner[c])] <= m.theta[c])
        if params["k"] is not None:
            m.cardinality = pyo.Constraint(expr=pyo.quicksum(m.z[g] for g in m.groups) <= params["k"])
        G, h = design.structure, design.rhs
        if G.shape[0]:
            m.structure_rows = pyo.RangeSet(0, G.shape[0] - 1)
            m.structure = pyo.Constraint(
                m.structure_rows,
                rule=lambda m, r: pyo.quicksum(float(G[r, g]) * m.z[int(g)] for g in np.flatnonzero(G[r])) <= float(h[r]),
            )
        m.loss = pyo.Expression(expr=squared_loss(m, C, y, m.theta))
        lambda0, lambda2 = params["lambda0"] or 0.0, params["lambda2"]
        m.objective = pyo.Objective(
            expr=m.loss
            + lambda0 * pyo.quicksum(m.z[g] for g in m.groups)
            + lambda2 * pyo.quicksum(m.theta[c] ** 2 for c in m.columns)
        )
        return m

    def extract(self, model, instance: Instance, params: dict[str, Any]) -> dict[str, np.ndarray]:
        return {"theta": values(model.theta, len(model.columns)), "z": values(model.z, len(model.groups))}

    def evaluate(self, instance: Instance, params: dict[str, Any], solution: dict[str, np.ndarray]) -> Evaluation:
        design = self.design(instance, params)
        C, y = design.matrix, np.asarray(instance.y, dtype=float)
        theta, z = read_arrays(solution, {"theta": C.shape[1], "z": design.n_groups})
        if not all_finite(theta, z):
            return missing_values()
        selected = support_mask(z).astype(float)
        owner = design.column_group()
        M, k = float(params["M"]), params["k"]
        violations = support_violations(theta, z, M=M, k=k, owner=owner)
        if design.structure.shape[0]:
            violations[design.structure_kind] = float(
                np.max(design.structure @ selected - design.rhs, initial=0.0).clip(min=0.0))
        lambda0, lambda2 = params["lambda0"] or 0.0, params["lambda2"]
        objective = objective_value(C, y, theta, int(selected.sum()), lambda0, lambda2)
        binding = m_binding(theta, selected[owner] == 1, M)
        sst = float(np.sum((y - y.mean()) ** 2))
        support = np.flatnonzero(selected).tolist()
        info = {
            "support": support,
            "selected": [design.group_names[g] for g in support],
            "theta": theta.tolist(),
            **big_m_info(params, binding, what="|theta|"),
            "r2": 1.0 - float(np.sum((y - C @ theta) ** 2)) / sst if sst > 0 else float("nan"),
        }
        return Evaluation(objective=objective, violations=violations, info=info)


# ----------------------------------------------------------------------------------------
# (10) sparse splines
# ----------------------------------------------------------------------------------------
def spline_design(X: np.ndarray, n_knots: int, degree: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """Per-feature B-spline basis (uniform knots on each feature's range, no bias column),
    centred column-wise; returns the basis and the column indices of each feature."""
    from sklearn.preprocessing import SplineTransformer

    transformer = SplineTransformer(n_knots=n_knots, degree=degree, knots="uniform", include_bias=False)
    B = transformer.fit_transform(X)
    B = B - B.mean(axis=0)
    per_feature = B.shape[1] // X.shape[1]
    return B, [np.arange(j * per_feature, (j + 1) * per_feature) for j in range(X.shape[1])]


@register
class SparseSplines(_StructuredSparseRegression):
    """Formulation (10): sparse spline GAM, one indicator per feature group (tutorial eq. 10)."""

    id = "gam.sparse_splines"
    equation = "(10)"
    summary = "sparse spline GAM: B-spline basis per feature, all of a feature's coefficients on/off together"
    hyperparameters = {**_StructuredSparseRegression.hyperparameters, "n_knots": 4, "degree": 3}
    benchmark_cases = (("gam-splines-n60-d4", {"k": 2, "lambda2": 0.05}),
                       ("gam-splines-n200-d8", {"k": 3, "lambda2": 0.05}))

    def check_params(self, instance: Instance, params: dict[str, Any]) -> dict[str, Any]:
        n_knots = as_int(params, "n_knots", minimum=2)
        degree = as_int(params, "degree", minimum=1, maximum=5)
        if n_knots is None or degree is None:
            raise InputError("n_knots and degree must be integers (e.g. n_knots=4, degree=3)")
        X = np.asarray(instance.X, dtype=float)
        constant = np.flatnonzero(np.ptp(X, axis=0) == 0)
        if constant.size:
            raise InputError(f"features {constant.tolist()} are constant; a spline basis needs a range")
        return {**params, "n_knots": n_knots, "degree": degree}

    def design(self, instance: Instance, params: dict[str, Any]) -> Design:
        X = np.asarray(instance.X, dtype=float)
        B, groups = spline_design(X, int(params["n_knots"]), int(params["degree"]))
        return Design(B, groups, instance.feature_names, np.zeros((0, X.shape[1])), np.zeros(0))


# ----------------------------------------------------------------------------------------
# (11) pairwise interactions
# ----------------------------------------------------------------------------------------
HIERARCHIES = ("none", "strong", "weak")


def interaction_pairs(d: int) -> list[tuple[int, int]]:
    return [(j, l) for j in range(d) for l in range(j + 1, d)]


def interaction_design(X: np.ndarray) -> np.ndarray:
    """[X | products xⱼxₗ (j < l) centred and scaled to unit population std (std 0 → 1)]."""
    pairs = interaction_pairs(X.shape[1])
    if not pairs:
        return X.copy()
    P = np.column_stack([X[:, j] * X[:, l] for j, l in pairs])
    P = P - P.mean(axis=0)
    scale = P.std(axis=0)
    return np.hstack([X, P / np.where(scale > 0, scale, 1.0)])


@register
class Interactions(_StructuredSparseRegression):
    """Formulation (11): main effects and pairwise products with sparsity; optional strong
    (z_{jl} ≤ zⱼ, z_{jl} ≤ zₗ) or weak (z_{jl} ≤ zⱼ + zₗ) hierarchy (tutorial eq. 11)."""

    id = "gam.interactions"
    equation = "(11)"
    summary = "sparse regression with pairwise interactions, optional strong/weak hierarchy"
    hyperparameters = {**_StructuredSparseRegression.hyperparameters, "hierarchy": "none"}
    benchmark_cases = (("gam-inter-n50-d4", {"k": 4, "hierarchy": "strong"}),
                       ("gam-inter-n150-d7", {"k": 4, "hierarchy": "strong"}))

    def check_params(self, instance: Instance, params: dict[str, Any]) -> dict[str, Any]:
        hierarchy = params.get("hierarchy")
        if hierarchy is True:
            hierarchy = "strong"
        elif hierarchy in (False, None):
            hierarchy = "none"
        if hierarchy not in HIERARCHIES:
            raise InputError(f"hierarchy must be one of {', '.join(HIERARCHIES)}; got {hierarchy!r}")
        if np.asarray(instance.X).shape[1] < 2:
            raise InputError("gam.interactions needs at least two features")
        return {**params, "hierarchy": hierarchy}

    def design(self, instance: Instance, params: dict[str, Any]) -> Design:
        X = np.asarray(instance.X, dtype=float)
        d = X.shape[1]
        pairs = interaction_pairs(d)
        C = interaction_design(X)
        names = instance.feature_names
        group_names = names + [f"{names[j]}*{names[l]}" for j, l in pairs]
        rows, row_names = [], []
        if params["hierarchy"] != "none":
            for t, (j, l) in enumerate(pairs):
                g = d + t
                if params["hierarchy"] == "strong":
                    for main in (j, l):
                        row = np.zeros(C.shape[1])
                        row[[g, main]] = (1.0, -1.0)
                        rows.append(row)
                        row_names.append(f"z[{group_names[g]}] <= z[{names[main]}]")
                else:
                    row = np.zeros(C.shape[1])
                    row[[g, j, l]] = (1.0, -1.0, -1.0)
                    rows.append(row)
                    row_names.append(f"z[{group_names[g]}] <= z[{names[j]}] + z[{names[l]}]")
        G = np.array(rows) if rows else np.zeros((0, C.shape[1]))
        return Design(C, [np.array([c]) for c in range(C.shape[1])], group_names, G, np.zeros(G.shape[0]),
                      "hierarchy", tuple(row_names))


# ----------------------------------------------------------------------------------------
# Carrizosa et al. (2022): hierarchical categorical features
# ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CategoryTree:
    """A rooted tree given by ``parent`` (−1 at the root); node ids 0..V−1."""

    parent: np.ndarray
    root: int
    leaves: np.ndarray
    paths: dict[int, list[int]]        # leaf -> nodes on the root-to-leaf path, root excluded

    @classmethod
    def from_parent(cls, parent) -> "CategoryTree":
        parent = np.asarray(parent)
        if parent.ndim != 1 or parent.size < 2 or not np.issubdtype(parent.dtype, np.integer):
            raise InputError("parent must be a 1-D integer array over the tree's nodes (−1 at the root)")
        roots = np.flatnonzero(parent == -1)
        if roots.size != 1:
            raise InputError(f"parent must mark exactly one root with −1; found {roots.size}")
        if np.any((parent < -1) | (parent >= parent.size)):
            raise InputError("parent holds a node id outside 0..V−1")
        root = int(roots[0])
        paths: dict[int, list[int]] = {}
        has_child = np.zeros(parent.size, dtype=bool)
        has_child[parent[parent >= 0]] = True
        leaves = np.flatnonzero(~has_child)
        for leaf in leaves.tolist():
            path, node = [], leaf
            while node != root:
                path.append(node)
                node = int(parent[node])
                if len(path) > parent.size:
                    raise InputError("parent does not describe a tree (it has a cycle)")
            paths[leaf] = path[::-1]
        for node in range(parent.size):  # every node must reach the root
            steps, v = 0, node
            while v != root:
                v, steps = int(parent[v]), steps + 1
                if steps > parent.size:
                    raise InputError("parent does not describe a tree (it has a cycle)")
        return cls(parent, root, leaves, paths)

    @property
    def nonroot(self) -> np.ndarray:
        return np.array([v for v in range(self.parent.size) if v != self.root])


@register
class HierarchicalCategorical(_StructuredSparseRegression):
    """Sparse regression over a hierarchical categorical feature: one indicator per tree vertex,
    Σ_{v∈Pℓ} z_v ≤ 1 on every root-to-leaf path (Carrizosa et al. 2022; tutorial Figure 6)."""

    id = "gam.hierarchical_categorical"
    equation = "Carrizosa et al. 2022 (tutorial §2.1.4, Figure 6)"
    summary = "hierarchical categorical feature: at most one selected category on every root-to-leaf path"
    benchmark_cases = (("gam-hiercat-n80-b222", {"k": 3, "lambda2": 0.1}),
                       ("gam-hiercat-n400-b423", {"k": 5, "lambda2": 0.1}))

    def check_params(self, instance: Instance, params: dict[str, Any]) -> dict[str, Any]:
        tree = CategoryTree.from_parent(instance["parent"])
        category = np.asarray(instance["category"])
        if category.shape != (instance.X.shape[0],) or not np.issubdtype(category.dtype, np.integer):
            raise InputError("category must be an integer array with one leaf id per sample")
        if not np.all(np.isin(category, tree.leaves)):
            raise InputError("category must name leaves of the tree (nodes without children)")
        return params

    def design(self, instance: Instance, params: dict[str, Any]) -> Design:
        X = np.asarray(instance.X, dtype=float)
        tree = CategoryTree.from_parent(instance["parent"])
        category = np.asarray(instance["category"])
        nodes = tree.nonroot
        position = {int(v): X.shape[1] + t for t, v in enumerate(nodes)}
        N = np.zeros((X.shape[0], nodes.size))
        for leaf, path in tree.paths.items():
            rows = category == leaf
            for v in path:
                N[rows, position[v] - X.shape[1]] = 1.0
        C = np.hstack([X, N])
        names = list(instance.feature_names)
        node_names = ([str(s) for s in instance.arrays["node_names"]] if "node_names" in instance.arrays
                      else [f"node{v}" for v in range(tree.parent.size)])
        group_names = names + [node_names[v] for v in nodes]
        G = np.zeros((tree.leaves.size, C.shape[1]))
        for r, leaf in enumerate(tree.leaves.tolist()):
            G[r, [position[v] for v in tree.paths[leaf]]] = 1.0
        row_names = tuple(f"path to {node_names[leaf]}" for leaf in tree.leaves.tolist())
        return Design(C, [np.array([c]) for c in range(C.shape[1])], group_names, G, np.ones(G.shape[0]),
                      "path", row_names)
