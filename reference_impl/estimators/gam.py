"""Sparse generalized additive models (tutorial §2.1.4; FORMULATIONS.md §1).

:class:`SparseGAM` fits one of the registered ``gam.*`` formulations of Justin, Sun, Gómez &
Vayanos (arXiv 2505.05857), chosen by ``formulation``:

* ``"sparse_splines"`` (default) — (10), ``gam.sparse_splines``: a B-spline basis per feature
  (the formulation's own :func:`~reference_impl.formulations.gam.spline_design`: scikit-learn
  ``SplineTransformer`` with uniform knots on each feature's training range, no bias column,
  columns centred on the training data), one indicator per feature. New data are expanded
  with the same fitted transformer and the same training column means (outside the training
  range the basis extrapolates as ``SplineTransformer``'s default, constant).
* ``"interactions"`` — (11), ``gam.interactions``: main effects xⱼ and pairwise products
  xⱼxₗ (centred and scaled to unit variance on the training data, as
  :func:`~reference_impl.formulations.gam.interaction_design`), optional ``hierarchy``.
* ``"hierarchical_categorical"`` — Carrizosa et al. (2022), ``gam.hierarchical_categorical``:
  the LAST column of X holds each sample's category, a leaf id of the tree given by the
  constructor parameter ``category_tree`` (the formulation's ``parent`` array: the parent of
  every node, −1 at the root; ``category_names``: optional node names); the other columns
  are numeric features. A category never seen as a leaf of the tree is an input error.

The design is built from X by the estimator exactly as the formulation builds it (checked at
fit: the estimator's expansion of the training X equals the formulation's design), so the
fitted ``coef_`` (one entry per design column) is the formulation's θ. ``fit_intercept=True``
(default) centres y, and the numeric columns of the ``interactions`` and
``hierarchical_categorical`` designs (spline columns are centred by the formulation), so
``intercept_`` makes predictions in the units of y. :meth:`SparseGAM.plot_shape_functions`
draws the fitted shape functions with matplotlib and returns the Figure.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.utils.validation import check_is_fitted

from ..errors import InputError
from .base import MIOEstimator

__all__ = ["SparseGAM", "GAM_FORMULATIONS"]

GAM_FORMULATIONS = {"sparse_splines": "gam.sparse_splines", "interactions": "gam.interactions",
                    "hierarchical_categorical": "gam.hierarchical_categorical"}


class SparseGAM(RegressorMixin, MIOEstimator):
    """Sparse GAM by a MIO solve of a ``gam.*`` formulation (module docstring).

    Parameters (the formulations'; ``None`` = the formulation's default): ``k`` (indicator
    groups: features for splines, terms for interactions, numeric features + tree nodes for
    the categorical model; default 5, at or above the number of groups: no limit),
    ``lambda0``, ``lambda2``, ``M``; ``n_knots``, ``degree`` (splines); ``hierarchy``
    (interactions: ``"none"``, ``"strong"``, ``"weak"``); ``category_tree``,
    ``category_names`` (categorical); ``fit_intercept``; run settings ``solver`` (default SCIP),
    ``time_limit``, ``rel_gap``, ``seed``.

    Fitted: ``coef_`` (per design column), ``intercept_``, ``support_`` (indices of the selected
    groups into ``term_names_``), ``term_names_``, ``solve_record_``, ``objective_``.
    """

    _hyperparameter_names = ("k", "lambda0", "lambda2", "M", "n_knots", "degree", "hierarchy")

    def __init__(self, formulation: str = "sparse_splines", k: int | None = 5, lambda0: float | None = None,
                 lambda2: float | None = None, M: Any = "auto", n_knots: int | None = None, degree: int | None = None,
                 hierarchy: str | None = None, category_tree: Any = None, category_names: Any = None,
                 fit_intercept: bool = True, solver: str | None = None, time_limit: float = 60.0,
                 rel_gap: float = 1e-4, seed: int = 0,
                 solver_options: dict | None = None):
        self.formulation = formulation
        self.k = k
        self.lambda0 = lambda0
        self.lambda2 = lambda2
        self.M = M
        self.n_knots = n_knots
        self.degree = degree
        self.hierarchy = hierarchy
        self.category_tree = category_tree
        self.category_names = category_names
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.time_limit = time_limit
        self.rel_gap = rel_gap
        self.seed = seed
        self.solver_options = solver_options

    # -- formulation and instance ---------------------------------------------------------
    def _kind(self) -> str:
        for kind, fid in GAM_FORMULATIONS.items():
            if self.formulation in (kind, fid):
                return kind
        raise InputError(f"formulation must be one of {', '.join(GAM_FORMULATIONS)}; got {self.formulation!r}")

    def _formulation_id(self) -> str:
        return GAM_FORMULATIONS[self._kind()]

    def _tree(self):
        from ..formulations.gam import CategoryTree

        if self.category_tree is None:
            raise InputError("formulation 'hierarchical_categorical' needs category_tree: the parent of every node "
                             "of the category tree (-1 at the root); X's last column holds each sample's leaf")
        parent = np.asarray(self.category_tree)
        if parent.dtype.kind == "f" and np.all(parent == np.round(parent)):
            parent = parent.astype(np.int64)
        return CategoryTree.from_parent(parent)

    def _split_category(self, X: np.ndarray, tree) -> tuple[np.ndarray, np.ndarray]:
        if X.shape[1] < 2:
            raise InputError("formulation 'hierarchical_categorical' needs X = [numeric features | category leaf id]: "
                             "at least one numeric column and the category as the last column")
        category = X[:, -1]
        if not np.all(category == np.round(category)) or not np.all(np.isin(category, tree.leaves)):
            raise InputError(f"the last column of X must hold leaf ids of category_tree (leaves: {tree.leaves.tolist()})")
        return X[:, :-1], category.astype(np.int64)

    def _group_count(self, instance: dict[str, Any]) -> int:
        d = np.asarray(instance["X"]).shape[1]
        kind = self._kind()
        if kind == "interactions":
            return d + d * (d - 1) // 2
        if kind == "hierarchical_categorical":
            return d + np.asarray(instance["parent"]).size - 1
        return d

    def _prepare(self, X: np.ndarray, y: np.ndarray, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
        if self.fit_intercept not in (True, False):
            raise InputError(f"fit_intercept must be True or False; got {self.fit_intercept!r}")
        y = np.asarray(y, dtype=np.float64)
        self._y_offset = float(y.mean()) if self.fit_intercept else 0.0
        kind = self._kind()
        extra: dict[str, Any] = {}
        if kind == "hierarchical_categorical":
            tree = self._tree()
            X, category = self._split_category(X, tree)
            extra = {"parent": tree.parent, "category": category}
            if self.category_names is not None:
                names = np.asarray(self.category_names, dtype=str)
                if names.shape != tree.parent.shape:
                    raise InputError(f"category_names must name every node of category_tree ({tree.parent.size}); "
                                     f"got {names.size}")
                extra["node_names"] = names
        center = self.fit_intercept and kind != "sparse_splines"
        self._x_offset = X.mean(axis=0) if center else np.zeros(X.shape[1])
        self._x_range = (X.min(axis=0), X.max(axis=0))
        return {"X": X - self._x_offset, "y": y - self._y_offset, **extra, **arrays}

    # -- design for new data ---------------------------------------------------------------
    def _fit_design(self, instance: dict[str, Any], params: dict[str, Any]) -> None:
        """What expanding new X needs, fitted on the training instance; checked against the
        formulation's own design of it."""
        from ..formulations.gam import interaction_design, interaction_pairs, spline_design
        from ..instances import resolve_instance
        from ..registry import get_formulation

        X = np.asarray(instance["X"], dtype=np.float64)
        kind = self._kind()
        if kind == "sparse_splines":
            from sklearn.preprocessing import SplineTransformer

            n_knots, degree = int(params["n_knots"]), int(params["degree"])
            self._spline = SplineTransformer(n_knots=n_knots, degree=degree, knots="uniform", include_bias=False).fit(X)
            raw = self._spline.transform(X)
            self._basis_mean = raw.mean(axis=0)
            expected, self._groups = spline_design(X, n_knots, degree)
        elif kind == "interactions":
            pairs = interaction_pairs(X.shape[1])
            self._pairs = pairs
            if pairs:
                P = np.column_stack([X[:, j] * X[:, l] for j, l in pairs])
                self._pair_mean = P.mean(axis=0)
                scale = (P - self._pair_mean).std(axis=0)
                self._pair_scale = np.where(scale > 0, scale, 1.0)
            expected = interaction_design(X)
        else:
            tree = CategoryTreeCache(instance["parent"])
            self._category_tree = tree
            expected = None
        formulation = get_formulation(self._formulation_id())
        design = formulation.design(resolve_instance(instance), params)
        self.term_names_ = list(design.group_names)
        self._groups = [np.asarray(g) for g in design.groups]
        mine = self._design(X, category=instance.get("category"))
        if expected is not None and not np.allclose(expected, design.matrix, rtol=0, atol=1e-12):
            raise RuntimeError("internal error: the formulation's design changed under the estimator")  # pragma: no cover
        if mine.shape != design.matrix.shape or not np.allclose(mine, design.matrix, rtol=1e-9, atol=1e-9):
            raise RuntimeError(f"internal error: SparseGAM's expansion of X differs from {formulation.id}'s "
                               "design")  # pragma: no cover - guards against a change of the formulation's design

    def _design(self, X: np.ndarray, category: np.ndarray | None = None) -> np.ndarray:
        """The design matrix of (already offset) numeric X, as the formulation builds it."""
        kind = self._kind()
        if kind == "sparse_splines":
            return self._spline.transform(X) - self._basis_mean
        if kind == "interactions":
            if not self._pairs:
                return X.copy()
            P = np.column_stack([X[:, j] * X[:, l] for j, l in self._pairs])
            return np.hstack([X, (P - self._pair_mean) / self._pair_scale])
        return np.hstack([X, self._category_tree.indicators(category)])

    def _store(self, solution: dict[str, np.ndarray], instance: dict[str, Any], params: dict[str, Any]) -> None:
        self._fit_design(instance, params)
        theta = np.asarray(solution["theta"], dtype=np.float64)
        selected = np.asarray(solution["z"], dtype=np.float64) > 0.5
        owner = np.empty(theta.size, dtype=int)
        for g, cols in enumerate(self._groups):
            owner[cols] = g
        self.coef_ = np.where(selected[owner], theta, 0.0)
        self.support_ = np.flatnonzero(selected).astype(np.int64)
        d = self._x_offset.size
        self.intercept_ = float(self._y_offset - self._x_offset @ self.coef_[:d]) if self._kind() != "sparse_splines" \
            else self._y_offset

    def _new_design(self, X: Any) -> np.ndarray:
        Xa = self._check_X(X)
        if self._kind() == "hierarchical_categorical":
            numeric, category = self._split_category(Xa, self._category_tree.tree)
            return self._design(numeric - self._x_offset, category)
        return self._design(Xa - self._x_offset)

    def predict(self, X: Any) -> np.ndarray:
        """The fitted additive model at X (design of X @ ``coef_`` + ``intercept_``)."""
        return self._new_design(X) @ self.coef_ + self.intercept_

    # -- plotting ----------------------------------------------------------------------------------
    def shape_function(self, feature: int, values: Any) -> np.ndarray:
        """The fitted shape function fⱼ of numeric feature ``feature`` at ``values`` (centred
        as in the model: splines by the training basis means; main effects θⱼ(x − x̄ⱼ))."""
        check_is_fitted(self, "solve_record_")
        values = np.asarray(values, dtype=np.float64).reshape(-1)
        d = self._x_offset.size
        if not (isinstance(feature, (int, np.integer)) and 0 <= feature < d):
            raise InputError(f"feature must be a numeric feature index 0..{d - 1}; got {feature!r}")
        if self._kind() == "sparse_splines":
            grid = np.tile(np.asarray(self._x_range[0], dtype=float), (values.size, 1))
            grid[:, feature] = values
            cols = self._groups[feature]
            return (self._spline.transform(grid)[:, cols] - self._basis_mean[cols]) @ self.coef_[cols]
        return self.coef_[feature] * (values - self._x_offset[feature])

    def plot_shape_functions(self, features: Any = None, *, n_points: int = 200, ncols: int = 3):
        """Plot the fitted shape functions with matplotlib; returns the ``Figure``.

        One panel per numeric feature in ``features`` (default: the selected ones, or all when
        none is selected) over its training range; for the categorical model one more panel
        with the effect of every leaf category (sum of the selected node effects on its path).
        Interaction terms have no one-dimensional shape: the selected ones are listed in the
        figure title. Uses :class:`matplotlib.figure.Figure` directly (no pyplot state)."""
        from matplotlib.figure import Figure

        check_is_fitted(self, "solve_record_")
        d = self._x_offset.size
        if features is None:
            features = [int(g) for g in self.support_ if g < d] or list(range(d))
        features = [int(f) for f in np.atleast_1d(features)]
        panels = len(features) + (1 if self._kind() == "hierarchical_categorical" else 0)
        ncols = max(1, min(ncols, panels))
        nrows = -(-panels // ncols)
        fig = Figure(figsize=(3.2 * ncols, 2.6 * nrows), layout="constrained")
        axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
        names = self.term_names_
        for ax, j in zip(axes, features):
            lo, hi = self._x_range[0][j], self._x_range[1][j]
            grid = np.linspace(lo, hi, n_points)
            ax.plot(grid, self.shape_function(j, grid), color="C0")
            ax.axhline(0.0, color="0.7", lw=0.8)
            ax.set_title(f"{names[j]}{'' if j in self.support_ else ' (not selected)'}", fontsize=9)
            ax.set_xlabel(names[j])
            ax.set_ylabel(f"f({names[j]})")
        if self._kind() == "hierarchical_categorical":
            ax = axes[len(features)]
            leaves = self._category_tree.tree.leaves
            effects = self._category_tree.indicators(leaves) @ self.coef_[d:]
            labels = [names[d + self._category_tree.position[int(v)]] for v in leaves]
            ax.bar(range(leaves.size), effects, color="C1")
            ax.set_xticks(range(leaves.size), labels, rotation=90, fontsize=7)
            ax.set_title("category effects", fontsize=9)
        for ax in axes[panels:]:
            ax.set_visible(False)
        interactions = [names[g] for g in self.support_ if g >= d and self._kind() == "interactions"]
        title = f"{self._formulation_id()}: shape functions"
        if interactions:
            title += f" (interactions selected: {', '.join(interactions)})"
        fig.suptitle(title, fontsize=10)
        return fig


class CategoryTreeCache:
    """The subtree-indicator columns of a category tree (as ``gam.hierarchical_categorical``
    builds them: column t of non-root node v is 1[leaf ∈ subtree(v)])."""

    def __init__(self, parent: Any):
        from ..formulations.gam import CategoryTree

        self.tree = CategoryTree.from_parent(np.asarray(parent))
        nodes = self.tree.nonroot
        self.position = {int(v): t for t, v in enumerate(nodes)}
        self.rows = {int(leaf): np.array([self.position[v] for v in path], dtype=int)
                     for leaf, path in self.tree.paths.items()}

    def indicators(self, category: Any) -> np.ndarray:
        category = np.asarray(category).reshape(-1)
        N = np.zeros((category.size, len(self.position)))
        for i, leaf in enumerate(category.tolist()):
            N[i, self.rows[int(leaf)]] = 1.0
        return N
