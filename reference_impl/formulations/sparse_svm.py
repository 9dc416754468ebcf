"""``sparse_svm.bigm``: formulation (9), the sparse soft-margin SVM (tutorial eq. 9; Dedieu, Hazimeh &
Mazumder 2021). The shared pieces are in :mod:`.sparse_classification`, whose docstring states
the model."""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyomo.environ as pyo

from ..errors import InputError
from ..instances.instance import Instance
from ..registry import register
from ._pyomo import values
from ._support import missing_values
from .base import Evaluation, as_float
from .sparse_classification import _SparseClassifier, check_binary, hinge_terms


@register
class SparseSVMBigM(_SparseClassifier):
    """Formulation (9): sparse soft-margin SVM, hinge constraints (9b), big-M links (9c)
    (tutorial eq. 9; Dedieu, Hazimeh & Mazumder 2021)."""

    id = "sparse_svm.bigm"
    equation = "(9)"
    problem_class = "MIQP"
    family = "sparse_svm"
    summary = "L0 sparse hinge-loss SVM, 1/2||theta||^2 + lambda1 sum r + lambda0 sum z, big-M"
    benchmark_cases = (("synclass-n100-p12-k3", {"k": 3}), ("compas-n200", {"k": 3}))
    hyperparameters = {"k": None, "lambda0": None, "lambda1": 1.0, "M": "auto", "intercept": "continuous"}

    def _validate_more(self, X, y, params):
        lambda1 = as_float(params, "lambda1", minimum=0.0, allow_none=False)
        if lambda1 <= 0:
            raise InputError("lambda1 (the hinge weight) must be > 0; with 0 the optimum is theta = 0")
        return {"lambda1": lambda1}

    def objective_value(self, X, y, theta, intercept, n_selected, params) -> float:
        """½‖θ‖² + λ1 Σ max(0, 1 − yᵢ(θᵀxᵢ+θ₀)) + λ0·(number selected)."""
        return (0.5 * float(theta @ theta) + params["lambda1"] * float(hinge_terms(X, y, theta, intercept).sum())
                + (params["lambda0"] or 0.0) * n_selected)

    def derive_big_m(self, X, y, params) -> tuple[float, str]:
        from sklearn.svm import SVC

        lambda1, k = params["lambda1"], params["k"]
        n_pos, n_neg = int(np.sum(y > 0)), int(np.sum(y < 0))
        fit_intercept = params["intercept"] == "continuous"
        # θ = 0 with the best intercept (θ₀ = ±1 leaves only the other class's hinge at 2)
        upper = lambda1 * (2.0 * min(n_pos, n_neg) if fit_intercept else float(len(y)))
        if fit_intercept:  # a refit of the convex SVM on its k largest coefficients (any θ is feasible)
            full = SVC(kernel="linear", C=lambda1).fit(X, y).coef_.ravel()
            support = np.sort(np.argsort(-np.abs(full), kind="stable")[: (k or X.shape[1])])
            model = SVC(kernel="linear", C=lambda1).fit(X[:, support], y)
            theta = np.zeros(X.shape[1])
            theta[support] = model.coef_.ravel()
            upper = min(upper, self.objective_value(X, y, theta, float(model.intercept_[0]), len(support), params))
        return math.sqrt(2.0 * upper) * (1 + 1e-6) + 1e-9, "derived"

    def build(self, instance: Instance, params: dict[str, Any]) -> pyo.ConcreteModel:
        X, y = check_binary(instance)
        m = self._base_model(instance, params)
        m.r = pyo.Var(m.samples, bounds=(0, None))
        m.hinge = pyo.Constraint(m.samples, rule=lambda m, i: float(y[i]) * m.score[i] >= 1 - m.r[i])
        m.objective = pyo.Objective(
            expr=0.5 * pyo.quicksum(m.theta[j] ** 2 for j in m.features)
            + params["lambda1"] * pyo.quicksum(m.r[i] for i in m.samples)
            + (params["lambda0"] or 0.0) * pyo.quicksum(m.z[j] for j in m.features)
        )
        return m

    def extract(self, model, instance: Instance, params: dict[str, Any]) -> dict[str, np.ndarray]:
        solution = super().extract(model, instance, params)
        solution["r"] = values(model.r, instance.X.shape[0])
        return solution

    def evaluate(self, instance: Instance, params: dict[str, Any], solution: dict[str, np.ndarray]) -> Evaluation:
        """Objective with the smallest feasible slacks rᵢ = max(0, 1 − yᵢsᵢ); if the solution
        carries r, (9b) and r ≥ 0 are checked for it too."""
        X, y = check_binary(instance)
        checked = self._common_checks(X, params, solution)
        if checked is None:
            return missing_values()
        theta, z, intercept, violations = checked
        if solution.get("r") is not None:
            r = np.asarray(solution["r"], dtype=float)
            if r.shape != (X.shape[0],) or not np.all(np.isfinite(r)):
                return missing_values()
            violations["hinge"] = float(np.max(1.0 - r - y * (X @ theta + intercept), initial=0.0))
            violations["slack_nonnegative"] = float(np.max(-r, initial=0.0))
        objective = self.objective_value(X, y, theta, intercept, int((z > 0.5).sum()), params)
        info = self._info(X, y, theta, z, intercept, params)
        info["margin_violations"] = int(np.sum(hinge_terms(X, y, theta, intercept) > 0))
        return Evaluation(objective=objective, violations=violations, info=info)
