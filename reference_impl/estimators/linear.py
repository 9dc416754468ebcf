"""Sparse linear regression estimators (tutorial §2.1.1 and §2.5; FORMULATIONS.md §1).

* :class:`SparseLinearRegression` — problem (5) of Justin, Sun, Gómez & Vayanos (arXiv
  2505.05857), min Σ(y − θᵀx)² + λ0‖θ‖0 + λ2‖θ‖² (s.t. ‖θ‖0 ≤ k), by one of its registered
  formulations: ``formulation="perspective"`` (7) (default), ``"l0l2_bigm"`` (6) or
  ``"best_subset"`` ((5) with ‖θ‖0 ≤ k, λ2 = 0).
* :class:`InformationCriterionRegression` — best subset chosen by AIC/BIC inside one MIO
  (``sparse_regression.information_criterion``, tutorial §2.5, Miyashiro & Takano 2015).

The formulations have no intercept (their instances are centred). ``fit_intercept=True``
(default) centres X and y before the solve and sets ``intercept_ = ȳ − x̄ᵀθ``: for least
squares with an unpenalised intercept this is exact (the optimal intercept of any θ is
ȳ − x̄ᵀθ, and substituting it gives the same problem on centred data), so the fitted θ is the
formulation's optimum on ``X − x̄, y − ȳ``. ``fit_intercept=False`` solves on (X, y) as given.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import RegressorMixin

from ..errors import InputError
from .base import MIOEstimator

__all__ = ["SparseLinearRegression", "InformationCriterionRegression", "LINEAR_FORMULATIONS"]

#: ``formulation`` choices of :class:`SparseLinearRegression` → registry ids
LINEAR_FORMULATIONS = {"perspective": "sparse_regression.perspective", "l0l2_bigm": "sparse_regression.l0l2_bigm",
                       "best_subset": "sparse_regression.best_subset"}


class _LinearRegressor(RegressorMixin, MIOEstimator):
    """Least-squares models with θ (``theta``) and indicators ``z`` per feature; centring for
    the intercept (module docstring). Fitted: ``coef_``, ``intercept_``, ``support_`` (sorted
    indices of the selected features), ``solve_record_``, ``objective_``."""

    def _prepare(self, X: np.ndarray, y: np.ndarray, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
        y = np.asarray(y, dtype=np.float64)
        if self.fit_intercept not in (True, False):
            raise InputError(f"fit_intercept must be True or False; got {self.fit_intercept!r}")
        if self.fit_intercept:
            self._x_offset, self._y_offset = X.mean(axis=0), float(y.mean())
        else:
            self._x_offset, self._y_offset = np.zeros(X.shape[1]), 0.0
        return {"X": X - self._x_offset, "y": y - self._y_offset, **arrays}

    def _store(self, solution: dict[str, np.ndarray], instance: dict[str, Any], params: dict[str, Any]) -> None:
        theta = np.asarray(solution["theta"], dtype=np.float64)
        selected = np.asarray(solution["z"], dtype=np.float64) > 0.5
        theta = np.where(selected, theta, 0.0)  # θⱼ of an unselected feature is 0 up to solver tolerance
        self.coef_ = theta
        self.support_ = np.flatnonzero(selected).astype(np.int64)
        self.intercept_ = float(self._y_offset - self._x_offset @ theta)

    def predict(self, X: Any) -> np.ndarray:
        """``X @ coef_ + intercept_``."""
        Xa = self._check_X(X)
        return Xa @ self.coef_ + self.intercept_


class SparseLinearRegression(_LinearRegressor):
    """Sparse least squares (5), certified by a MIO solve of the chosen formulation.

    Parameters: ``formulation`` (``"perspective"`` (7), ``"l0l2_bigm"`` (6) or
    ``"best_subset"``); ``k`` (cardinality limit, default 5; a ``k`` at or above the number of
    features is no limit), ``lambda0`` (L0 penalty), ``lambda2`` (ridge; ``None`` = the
    formulation's 0; ``best_subset`` takes neither ``lambda0`` nor ``lambda2``), ``M``
    (big-M; ``"auto"`` derives a provably valid one when it can, see
    :mod:`reference_impl.formulations.sparse_regression`), ``fit_intercept``, and the run
    settings ``solver`` (default SCIP), ``time_limit``, ``rel_gap``, ``seed``.

    Fitted: ``coef_``, ``intercept_``, ``support_``, ``objective_`` (the formulation's
    objective on the centred data), ``solve_record_`` (the :class:`ResultRecord`: status,
    bound, gap, big-M facts in ``extra``).
    """

    _hyperparameter_names = ("k", "lambda0", "lambda2", "M")

    def __init__(self, formulation: str = "perspective", k: int | None = 5, lambda0: float | None = None,
                 lambda2: float | None = None, M: Any = "auto", fit_intercept: bool = True, solver: str | None = None,
                 time_limit: float = 60.0, rel_gap: float = 1e-4, seed: int = 0,
                 solver_options: dict | None = None):
        self.formulation = formulation
        self.k = k
        self.lambda0 = lambda0
        self.lambda2 = lambda2
        self.M = M
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.time_limit = time_limit
        self.rel_gap = rel_gap
        self.seed = seed
        self.solver_options = solver_options

    def _formulation_id(self) -> str:
        if self.formulation in LINEAR_FORMULATIONS.values():
            return self.formulation
        if self.formulation not in LINEAR_FORMULATIONS:
            raise InputError(f"formulation must be one of {', '.join(LINEAR_FORMULATIONS)}; got {self.formulation!r}")
        return LINEAR_FORMULATIONS[self.formulation]


class InformationCriterionRegression(_LinearRegressor):
    """Best subset by AIC or BIC inside one MIO (``sparse_regression.information_criterion``).

    Parameters (the formulation's): ``criterion`` (``"aic"``/``"bic"``), ``sigma2`` (a number,
    ``"estimate"`` = RSS/(n − p) of the full fit, or ``"profile"``: σ² maximised out, solved by
    the native ``kscan`` solver, which ``solver=None`` then picks), ``k`` (optional cap),
    ``M``, ``subsolver`` (kscan's MIQP solver); ``fit_intercept`` and the run settings as in
    :class:`SparseLinearRegression`. With ``fit_intercept`` the criterion is computed on the
    centred data (the intercept's one degree of freedom is common to every subset).
    """

    _formulation = "sparse_regression.information_criterion"
    _hyperparameter_names = ("criterion", "sigma2", "k", "M", "subsolver")

    def __init__(self, criterion: str = "bic", sigma2: Any = "estimate", k: int | None = None, M: Any = "auto",
                 subsolver: str | None = None, fit_intercept: bool = True, solver: str | None = None,
                 time_limit: float = 60.0, rel_gap: float = 1e-4, seed: int = 0,
                 solver_options: dict | None = None):
        self.criterion = criterion
        self.sigma2 = sigma2
        self.k = k
        self.M = M
        self.subsolver = subsolver
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.time_limit = time_limit
        self.rel_gap = rel_gap
        self.seed = seed
        self.solver_options = solver_options

    def _solver_name(self, formulation_id: str) -> str:
        if self.solver is None and isinstance(self.sigma2, str) and self.sigma2 == "profile":
            return "kscan"
        return super()._solver_name(formulation_id)
