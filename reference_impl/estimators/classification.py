"""Sparse linear classifiers (tutorial §2.1.2–§2.1.3; FORMULATIONS.md §1).

* :class:`SparseSVC` — the sparse soft-margin SVM (9) of Justin, Sun, Gómez & Vayanos (arXiv
  2505.05857), ``sparse_svm.bigm``: min ½‖θ‖² + λ1 Σ hinge + λ0‖θ‖0 (s.t. ‖θ‖0 ≤ k).
* :class:`SparseLogisticRegression` — L0L2 logistic regression in perspective form (§2.1.2,
  Deza & Atamtürk 2022), ``sparse_logistic.perspective``.

Both are binary classifiers: ``y`` may hold any two labels; ``classes_`` is their sorted
pair and ``classes_[1]`` is encoded as +1, ``classes_[0]`` as −1 (the formulations' ±1
labels). The intercept is the formulations' own hyperparameter ``intercept``
(``"continuous"``: a free, unpenalised θ₀; ``"none"``: θ₀ = 0).
"""
from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets, type_of_target

from ..errors import InputError
from .base import MIOEstimator

__all__ = ["SparseSVC", "SparseLogisticRegression"]


def _classes(y: np.ndarray) -> np.ndarray:
    """Sorted distinct labels; missing (None/NaN) or infinite labels and unorderable mixed
    label types are an :class:`InputError`."""
    if y.dtype == object:
        if any(v is None for v in y):
            raise InputError("y contains missing labels (None); every sample needs a label")
        if any(isinstance(v, (float, np.floating)) and not np.isfinite(v) for v in y):
            raise InputError("y contains NaN or infinite labels")
        try:
            return np.unique(y)
        except TypeError as exc:
            kinds = sorted({type(v).__name__ for v in y})
            raise InputError(f"y mixes label types that cannot be ordered ({', '.join(kinds)}): {exc}") from exc
    if y.dtype.kind in "fc" and not np.all(np.isfinite(y)):
        raise InputError("y contains NaN or infinite labels")
    return np.unique(y)


class _BinaryClassifier(ClassifierMixin, MIOEstimator):
    """Two-class linear models with θ (``theta``), indicators ``z`` and an optional
    ``intercept``; labels encoded to ±1 (module docstring). Fitted: ``classes_``, ``coef_``,
    ``intercept_``, ``support_``, ``solve_record_``, ``objective_``."""

    _y_numeric = False

    def _encode(self, y: np.ndarray) -> np.ndarray:
        classes = _classes(np.asarray(y))
        try:  # e.g. a continuous target is not a set of class labels
            check_classification_targets(y)
        except ValueError as exc:
            raise InputError(f"invalid labels for {type(self).__name__}: {exc}") from exc
        if classes.size > 2:
            raise InputError(f"Only binary classification is supported by {type(self).__name__}. The type of the "
                             f"target is {type_of_target(y, input_name='y')} ({classes.size} classes).")
        if classes.size != 2:
            raise InputError(f"{type(self).__name__} needs exactly two classes in y, got 1 class: {classes.tolist()}")
        self.classes_ = classes
        return np.where(y == classes[1], 1.0, -1.0)

    def _prepare(self, X: np.ndarray, y: np.ndarray, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
        return {"X": X, "y": self._encode(y), **arrays}

    def _store(self, solution: dict[str, np.ndarray], instance: dict[str, Any], params: dict[str, Any]) -> None:
        theta = np.asarray(solution["theta"], dtype=np.float64)
        selected = np.asarray(solution["z"], dtype=np.float64) > 0.5
        self.coef_ = np.where(selected, theta, 0.0)
        self.support_ = np.flatnonzero(selected).astype(np.int64)
        intercept = solution.get("intercept")
        self.intercept_ = 0.0 if intercept is None else float(np.asarray(intercept, dtype=float).reshape(-1)[0])

    def __sklearn_tags__(self):
        """A binary classifier: scikit-learn's checks give it two-class data."""
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        return tags

    def decision_function(self, X: Any) -> np.ndarray:
        """Scores ``X @ coef_ + intercept_``; positive means ``classes_[1]``."""
        Xa = self._check_X(X)
        return Xa @ self.coef_ + self.intercept_

    def predict(self, X: Any) -> np.ndarray:
        """``classes_[1]`` where the score is positive, else ``classes_[0]``."""
        positive = self.decision_function(X) > 0  # checks the fit first (NotFittedError)
        return self.classes_[positive.astype(int)]


class SparseSVC(_BinaryClassifier):
    """Sparse soft-margin SVM (9), ``sparse_svm.bigm`` (Dedieu, Hazimeh & Mazumder 2021).

    Parameters (the formulation's): ``k`` (default 5; at or above the number of features: no
    limit), ``lambda0``, ``lambda1`` (hinge weight, scikit-learn's ``C``), ``M`` (``"auto"``:
    derived, provably valid), ``intercept`` (``"continuous"`` or ``"none"``); run settings
    ``solver`` (default SCIP: the model is an MIQP), ``time_limit``, ``rel_gap``, ``seed``.
    There is no ``predict_proba`` (hinge loss: no probability model); ``decision_function``
    gives the scores.
    """

    _formulation = "sparse_svm.bigm"
    _hyperparameter_names = ("k", "lambda0", "lambda1", "M", "intercept")

    def __init__(self, k: int | None = 5, lambda0: float | None = None, lambda1: float = 1.0, M: Any = "auto",
                 intercept: str = "continuous", solver: str | None = None, time_limit: float = 60.0,
                 rel_gap: float = 1e-4, seed: int = 0,
                 solver_options: dict | None = None):
        self.k = k
        self.lambda0 = lambda0
        self.lambda1 = lambda1
        self.M = M
        self.intercept = intercept
        self.solver = solver
        self.time_limit = time_limit
        self.rel_gap = rel_gap
        self.seed = seed
        self.solver_options = solver_options


class SparseLogisticRegression(_BinaryClassifier):
    """L0L2 logistic regression, perspective form (``sparse_logistic.perspective``).

    Parameters (the formulation's): ``k`` (default 5), ``lambda0``, ``lambda2`` (ridge, default
    1), ``M`` (``"auto"``: derived; provably valid when λ2 > 0), ``intercept``,
    ``intercept_bound`` (``"auto"``: derived); run settings as in :class:`SparseSVC` (default
    solver SCIP: the model is an MINLP). ``predict_proba`` is the logistic model's
    σ(θᵀx + θ₀) for ``classes_[1]``.
    """

    _formulation = "sparse_logistic.perspective"
    _hyperparameter_names = ("k", "lambda0", "lambda2", "M", "intercept", "intercept_bound")

    def __init__(self, k: int | None = 5, lambda0: float | None = None, lambda2: float = 1.0, M: Any = "auto",
                 intercept: str = "continuous", intercept_bound: Any = "auto", solver: str | None = None,
                 time_limit: float = 60.0, rel_gap: float = 1e-4, seed: int = 0,
                 solver_options: dict | None = None):
        self.k = k
        self.lambda0 = lambda0
        self.lambda2 = lambda2
        self.M = M
        self.intercept = intercept
        self.intercept_bound = intercept_bound
        self.solver = solver
        self.time_limit = time_limit
        self.rel_gap = rel_gap
        self.seed = seed
        self.solver_options = solver_options

    def predict_proba(self, X: Any) -> np.ndarray:
        """Columns P(``classes_[0]``), P(``classes_[1]``) = 1 − σ(s), σ(s) with s the score."""
        p1 = 0.5 * (1.0 + np.tanh(0.5 * self.decision_function(X)))
        return np.column_stack([1.0 - p1, p1])
