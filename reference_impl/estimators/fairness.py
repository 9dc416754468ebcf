"""Fair sparse models: the registered fairness hosts as estimators (tutorial §5; FORMULATIONS.md §6).

* :class:`FairSparseRegression` — (37) of Justin, Sun, Gómez & Vayanos (arXiv 2505.05857):
  perspective sparse regression (7) with favourable-outcome indicators on its predictions
  and a group-fairness constraint (``fairness.sparse_regression``).
* :class:`FairSparseSVC` — the sparse SVM (9) with the same constraints on its predicted
  labels (``fairness.sparse_svm``).

The protected attribute is a fit keyword array: ``fit(X, y, group=g)`` (one label per sample;
numbers, booleans or strings), plus ``stratum=`` for conditional statistical parity (38).
The fairness hyperparameters are the formulations' (``delta``, ``notion``, ``one_sided``,
``protected``, ``favourable``, ``epsilon``; the regression's ``threshold``). With
``fit_intercept`` the regression centres y: a numeric ``threshold`` is given in the units of
y and shifted with it (``"mean"`` and ``"median"`` shift by themselves), so "prediction below
the threshold" means the same before and after centring. In cross-validation the arrays are
split with X (scikit-learn routes fit keyword arrays of length n that way).
"""
from __future__ import annotations

import numbers
from typing import Any


from .classification import _BinaryClassifier
from .linear import _LinearRegressor

__all__ = ["FairSparseRegression", "FairSparseSVC"]


class FairSparseRegression(_LinearRegressor):
    """Fair sparse least squares (37), ``fairness.sparse_regression``; ``fit(X, y, group=...)``.

    Parameters: ``k`` (default 5), ``lambda0``, ``lambda2``, ``M`` (as in
    :class:`~reference_impl.estimators.SparseLinearRegression`), the fairness hyperparameters
    (module docstring; ``None`` = the formulation's default: statistical parity, δ = 0.2,
    favourable = prediction below the mean of y), ``fit_intercept`` and the run settings
    (default solver SCIP). Fitted attributes as the sparse regression's.
    """

    _formulation = "fairness.sparse_regression"
    _hyperparameter_names = ("k", "lambda0", "lambda2", "M", "delta", "notion", "one_sided", "protected",
                             "threshold", "favourable", "epsilon")
    _fit_arrays = ("group", "stratum")
    _required_arrays = ("group",)

    def __init__(self, k: int | None = 5, lambda0: float | None = None, lambda2: float | None = None, M: Any = "auto",
                 delta: float | None = None, notion: str | None = None, one_sided: bool | None = None,
                 protected: Any = None, threshold: Any = None, favourable: str | None = None,
                 epsilon: float | None = None, fit_intercept: bool = True, solver: str | None = None,
                 time_limit: float = 60.0, rel_gap: float = 1e-4, seed: int = 0,
                 solver_options: dict | None = None):
        self.k = k
        self.lambda0 = lambda0
        self.lambda2 = lambda2
        self.M = M
        self.delta = delta
        self.notion = notion
        self.one_sided = one_sided
        self.protected = protected
        self.threshold = threshold
        self.favourable = favourable
        self.epsilon = epsilon
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.time_limit = time_limit
        self.rel_gap = rel_gap
        self.seed = seed
        self.solver_options = solver_options

    def _hyperparameters(self, instance: dict[str, Any]) -> dict[str, Any]:
        values = super()._hyperparameters(instance)
        threshold = values.get("threshold")
        if isinstance(threshold, numbers.Real) and not isinstance(threshold, bool):
            values["threshold"] = float(threshold) - self._y_offset  # the same cut in centred units
        return values

    def fit(self, X: Any, y: Any = None, group: Any = None, stratum: Any = None) -> "FairSparseRegression":
        """Solve on (X, y) with the protected attribute ``group`` (one label per sample) and, for
        conditional statistical parity, ``stratum``; see :meth:`MIOEstimator.fit`. The explicit
        keywords let scikit-learn's metadata routing request them (``set_fit_request(group=True)``)."""
        return super().fit(X, y, group=group, stratum=stratum)


class FairSparseSVC(_BinaryClassifier):
    """Fair sparse SVM ((9) + (35)–(40)), ``fairness.sparse_svm``; ``fit(X, y, group=...)``.

    The favourable outcome is the predicted label ``classes_[1]`` (+1) by default
    (``favourable="above"``; ``"below"`` makes ``classes_[0]`` favourable). Parameters: those
    of :class:`~reference_impl.estimators.SparseSVC`, the fairness hyperparameters (module
    docstring) and ``intercept_bound`` (``None``/``"auto"``: derived, provably valid).
    """

    _formulation = "fairness.sparse_svm"
    _hyperparameter_names = ("k", "lambda0", "lambda1", "M", "intercept", "delta", "notion", "one_sided",
                             "protected", "favourable", "epsilon", "intercept_bound")
    _fit_arrays = ("group", "stratum")
    _required_arrays = ("group",)

    def __init__(self, k: int | None = 5, lambda0: float | None = None, lambda1: float = 1.0, M: Any = "auto",
                 intercept: str = "continuous", delta: float | None = None, notion: str | None = None,
                 one_sided: bool | None = None, protected: Any = None, favourable: str | None = None,
                 epsilon: float | None = None, intercept_bound: Any = None, solver: str | None = None,
                 time_limit: float = 60.0, rel_gap: float = 1e-4, seed: int = 0,
                 solver_options: dict | None = None):
        self.k = k
        self.lambda0 = lambda0
        self.lambda1 = lambda1
        self.M = M
        self.intercept = intercept
        self.delta = delta
        self.notion = notion
        self.one_sided = one_sided
        self.protected = protected
        self.favourable = favourable
        self.epsilon = epsilon
        self.intercept_bound = intercept_bound
        self.solver = solver
        self.time_limit = time_limit
        self.rel_gap = rel_gap
        self.seed = seed
        self.solver_options = solver_options

    def fit(self, X: Any, y: Any = None, group: Any = None, stratum: Any = None) -> "FairSparseSVC":
        """Solve on (X, y) with the protected attribute ``group`` (one label per sample) and, for
        conditional statistical parity, ``stratum``; see :meth:`MIOEstimator.fit`. The explicit
        keywords let scikit-learn's metadata routing request them (``set_fit_request(group=True)``)."""
        return super().fit(X, y, group=group, stratum=stratum)
