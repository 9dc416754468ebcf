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
from sklearn.utils.validation import check_is_fitted

from .api import KGLMResult, solve
from .validation import KGLMInputError

__all__ = ["KSparseRegressor", "KSparseClassifier"]


class _KSparseBase(BaseEstimator):
    _loss = "squared"

    def _solve(self, X: np.ndarray, y: np.ndarray) -> KGLMResult:
        return solve(X, y, k=self.k, loss=self._loss, lambda2=self.lambda2, M=self.M,
                     backend=self.backend, batch_size=self.batch_size,
                     time_limit=self.time_limit, gap_tol=self.gap_tol,
                     node_limit=self.node_limit, seed=self.seed)

    def _store(self, res: KGLMResult, n_features: int) -> None:
        self.result_ = res
        self.coef_ = np.asarray(res.coef, dtype=np.float64)
        self.support_ = np.asarray(res.support)
        self.n_features_in_ = n_features

    def _check_X(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "coef_")
        Xa = np.asarray(X, dtype=np.float64)
        if Xa.ndim != 2 or Xa.shape[1] != self.n_features_in_:
            raise KGLMInputError(
                f"X must be 2-D with {self.n_features_in_} columns, got shape {Xa.shape}")
        return Xa


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
        Xa = np.asarray(X, dtype=np.float64)
        ya = np.asarray(y, dtype=np.float64).reshape(-1)
        if self.fit_intercept:
            if Xa.ndim != 2 or ya.shape[0] != Xa.shape[0]:
                raise KGLMInputError(f"shape mismatch: X {Xa.shape}, y {ya.shape}")
            xm, ym = Xa.mean(axis=0), ya.mean()
            res = self._solve(Xa - xm, ya - ym)
            self.intercept_ = float(ym - xm @ res.coef)
        else:
            res = self._solve(Xa, ya)
            self.intercept_ = 0.0
        self._store(res, Xa.shape[1])
        return self

    def predict(self, X: Any) -> np.ndarray:
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
        Xa = np.asarray(X, dtype=np.float64)
        ya = np.asarray(y).reshape(-1)
        classes = np.unique(ya)
        if classes.size != 2:
            raise KGLMInputError(
                f"KSparseClassifier needs exactly two classes, got {classes.size}: {classes[:5]}")
        self.classes_ = classes
        ypm = np.where(ya == classes[1], 1.0, -1.0)
        res = self._solve(Xa, ypm)
        self.intercept_ = 0.0
        self._store(res, Xa.shape[1])
        return self

    def decision_function(self, X: Any) -> np.ndarray:
        Xa = self._check_X(X)
        return Xa @ self.coef_ + self.intercept_

    def predict_proba(self, X: Any) -> np.ndarray:
        d = self.decision_function(X)
        p1 = 0.5 * (1.0 + np.tanh(0.5 * d))
        return np.column_stack([1.0 - p1, p1])

    def predict(self, X: Any) -> np.ndarray:
        return self.classes_[(self.decision_function(X) > 0).astype(int)]
