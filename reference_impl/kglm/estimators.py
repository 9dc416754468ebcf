"""scikit-learn style estimators around :func:`reference_impl.kglm.solve` (FORMULATIONS.md
§8, ``kglm.bnb``; Liu & Lodi, arXiv 2605.22188).

* :class:`KSparseRegressor` - certified k-sparse ridge regression (least squares);
  ``fit_intercept=True`` centres X and y (the intercept is then unpenalised and exact for
  least squares: the problem in the centred data is equivalent).
* :class:`KSparseClassifier` - certified k-sparse logistic regression for two classes, no
  intercept (``intercept_ = 0.0``); the two labels in ``classes_`` are mapped to -1 / +1.

Both follow ``sklearn.base.BaseEstimator`` conventions (hyper-parameters stored verbatim in
``__init__``, fitted attributes with a trailing underscore), so ``get_params``,
``set_params`` and ``clone`` work.  After ``fit``: ``coef_``, ``intercept_``,
``support_``, ``result_`` (the :class:`~reference_impl.kglm.api.KGLMResult`).
"""
from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from .api import KGLMResult, solve
from .validation import KGLMInputError

try:  # scikit-learn >= 1.6
    from sklearn.utils.validation import validate_data as _sk_validate_data
except ImportError:  # pragma: no cover - older scikit-learn
    def _sk_validate_data(estimator: Any, X: Any = "no_validation", y: Any = "no_validation",
                          **kw: Any) -> Any:
        return estimator._validate_data(X, y, **kw)

__all__ = ["KSparseRegressor", "KSparseClassifier"]


def _validate(estimator: Any, X: Any, y: Any = "no_validation", **kw: Any) -> Any:
    """scikit-learn's ``validate_data`` (sets / checks ``n_features_in_`` and
    ``feature_names_in_``; rejects NaN / inf, strings, wrong shapes), its ValueErrors turned
    into :class:`KGLMInputError` with the same message."""
    if y is None:
        raise KGLMInputError(
            f"{type(estimator).__name__} requires y to be passed, but the target y is None "
            f"(fit needs the target y)")
    try:
        return _sk_validate_data(estimator, X, y, **kw)
    except KGLMInputError:
        raise
    except (ValueError, TypeError) as exc:
        raise KGLMInputError(f"invalid input to {type(estimator).__name__}: {exc}") from exc


class _KSparseBase(BaseEstimator):
    _loss = "squared"

    def _solve(self, X: np.ndarray, y: np.ndarray) -> KGLMResult:
        return solve(X, y, k=self.k, loss=self._loss, lambda2=self.lambda2, M=self.M,
                     backend=self.backend, batch_size=self.batch_size,
                     time_limit=self.time_limit, gap_tol=self.gap_tol,
                     node_limit=self.node_limit, seed=self.seed)

    def _store(self, res: KGLMResult) -> None:
        self.result_ = res
        self.coef_ = np.asarray(res.coef, dtype=np.float64)
        self.support_ = np.asarray(res.support)

    def _check_X(self, X: Any) -> np.ndarray:
        """X for prediction: fitted estimator (else sklearn's ``NotFittedError``), finite
        numeric 2-D data with the fitted number of columns (and names, for DataFrames)."""
        check_is_fitted(self, "coef_")
        return _validate(self, X, reset=False, dtype=np.float64)


class KSparseRegressor(RegressorMixin, _KSparseBase):
    """Certified k-sparse ridge regression: min ||y - X b||^2 / 2 + lambda2 ||b||^2,
    ||b||_0 <= k, ||b||_inf <= M."""

    _loss = "squared"

    def __init__(self, k: int = 5, lambda2: float = 1e-3, M: float = float("inf"),
                 fit_intercept: bool = False, backend: str = "numpy", batch_size: int = 256,
                 time_limit: float | None = 600.0, gap_tol: float = 1e-6,
                 node_limit: int | None = None, seed: int = 0):
        self.k = k
        self.lambda2 = lambda2
        self.M = M
        self.fit_intercept = fit_intercept
        self.backend = backend
        self.batch_size = batch_size
        self.time_limit = time_limit
        self.gap_tol = gap_tol
        self.node_limit = node_limit
        self.seed = seed

    def fit(self, X: Any, y: Any) -> "KSparseRegressor":
        """Solve the k-sparse ridge problem on (X, y); sets ``coef_``, ``intercept_``,
        ``support_``, ``result_``, ``n_features_in_`` (and ``feature_names_in_``)."""
        Xa, ya = _validate(self, X, y, dtype=np.float64, y_numeric=True)
        ya = np.asarray(ya, dtype=np.float64)
        if self.fit_intercept:
            xm, ym = Xa.mean(axis=0), ya.mean()
            res = self._solve(Xa - xm, ya - ym)
            self.intercept_ = float(ym - xm @ res.coef)
        else:
            res = self._solve(Xa, ya)
            self.intercept_ = 0.0
        self._store(res)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """X @ coef_ + intercept_."""
        Xa = self._check_X(X)
        return Xa @ self.coef_ + self.intercept_


class KSparseClassifier(ClassifierMixin, _KSparseBase):
    """Certified k-sparse logistic regression (two classes, no intercept):
    min sum log(1 + exp(-y_i x_i^T b)) + lambda2 ||b||^2, ||b||_0 <= k, ||b||_inf <= M."""

    _loss = "logistic"

    def __init__(self, k: int = 5, lambda2: float = 1e-3, M: float = float("inf"),
                 backend: str = "numpy", batch_size: int = 256,
                 time_limit: float | None = 600.0, gap_tol: float = 1e-6,
                 node_limit: int | None = None, seed: int = 0):
        self.k = k
        self.lambda2 = lambda2
        self.M = M
        self.backend = backend
        self.batch_size = batch_size
        self.time_limit = time_limit
        self.gap_tol = gap_tol
        self.node_limit = node_limit
        self.seed = seed

    def fit(self, X: Any, y: Any) -> "KSparseClassifier":
        """Solve the k-sparse logistic problem; the two labels of y (any sortable values,
        no NaN / inf / None) become ``classes_`` and are mapped to -1 / +1."""
        Xa, ya = _validate(self, X, y, dtype=np.float64)
        classes = _classes(np.asarray(ya))
        try:  # sklearn's check: e.g. a continuous target is not a set of class labels
            check_classification_targets(ya)
        except ValueError as exc:
            raise KGLMInputError(f"invalid labels for KSparseClassifier: {exc}") from exc
        if classes.size > 2:
            from sklearn.utils.multiclass import type_of_target

            raise KGLMInputError("Only binary classification is supported. The type of the target is "
                                 f"{type_of_target(ya, input_name='y')}.")
        if classes.size != 2:
            raise KGLMInputError(
                f"KSparseClassifier needs exactly two classes, got {classes.size} class(es): {classes[:5]}")
        self.classes_ = classes
        ypm = np.where(ya == classes[1], 1.0, -1.0)
        res = self._solve(Xa, ypm)
        self.intercept_ = 0.0
        self._store(res)
        return self

    def __sklearn_tags__(self):
        """A binary classifier: scikit-learn's checks give it two-class data."""
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        return tags

    def decision_function(self, X: Any) -> np.ndarray:
        Xa = self._check_X(X)
        return Xa @ self.coef_ + self.intercept_

    def predict_proba(self, X: Any) -> np.ndarray:
        d = self.decision_function(X)
        p1 = 0.5 * (1.0 + np.tanh(0.5 * d))
        return np.column_stack([1.0 - p1, p1])

    def predict(self, X: Any) -> np.ndarray:
        """The class of ``classes_`` on the side of the decision function's sign."""
        positive = self.decision_function(X) > 0  # checks fitted first (NotFittedError)
        return self.classes_[positive.astype(int)]


def _classes(y: np.ndarray) -> np.ndarray:
    """Sorted distinct labels; missing (None / NaN) or infinite labels and labels of mixed,
    unorderable types are rejected with a clear error."""
    if y.dtype == object:
        if any(v is None for v in y):
            raise KGLMInputError("y contains missing labels (None); every sample needs a label")
        if any(isinstance(v, (float, np.floating)) and not np.isfinite(v) for v in y):
            raise KGLMInputError("y contains NaN or infinite labels")
        try:
            return np.unique(y)
        except TypeError as exc:
            kinds = sorted({type(v).__name__ for v in y})
            raise KGLMInputError(
                f"y mixes label types that cannot be ordered ({', '.join(kinds)}): {exc}") from exc
    if y.dtype.kind in "fc" and not np.all(np.isfinite(y)):
        raise KGLMInputError("y contains NaN or infinite labels")
    return np.unique(y)
