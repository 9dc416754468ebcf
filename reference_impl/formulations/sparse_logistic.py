"""``sparse_logistic.perspective``: sparse logistic regression with perspective ridge terms (tutorial §2.1.2;
Deza & Atamtürk 2022). The shared pieces (loss epigraph, derived big-M, data checks) are in
:mod:`.sparse_classification`, whose docstring states the model."""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyomo.environ as pyo

from ..instances.instance import Instance
from ..registry import register
from ._support import missing_values
from .base import Evaluation, as_float
from .sparse_classification import (_SparseClassifier, add_logistic_epigraph, check_binary, derive_intercept_bound,
                                    fit_logistic, logistic_loss)


@register
class SparseLogisticPerspective(_SparseClassifier):
    """Sparse logistic regression + ridge in perspective form θⱼ² ≤ zⱼrⱼ (tutorial §2.1.2;
    Deza & Atamtürk 2022), with big-M links and the exponential-cone epigraph of the loss."""

    id = "sparse_logistic.perspective"
    equation = "§2.1.2 (perspective, Deza & Atamtürk 2022)"
    problem_class = "MINLP"
    family = "sparse_logistic"
    summary = "L0L2 logistic regression, perspective ridge terms (penalty and/or cardinality form)"
    benchmark_cases = (("synclass-n30-p6-k2", {"k": 2, "lambda2": 1.0}), ("compas-n200", {"k": 3, "lambda2": 1.0}))
    hyperparameters = {"k": None, "lambda0": None, "lambda2": 1.0, "M": "auto", "intercept": "continuous",
                       "intercept_bound": "auto"}

    def _validate_more(self, X, y, params):
        return {"lambda2": as_float(params, "lambda2", minimum=0.0, allow_none=False)}

    def validate(self, instance: Instance, params: dict[str, Any]) -> dict[str, Any]:
        params = super().validate(instance, params)
        bound = params.get("intercept_bound")
        if bound in (None, "auto"):
            X, y = check_binary(instance)
            bound = derive_intercept_bound(X, y, params)
        else:
            bound = as_float(params, "intercept_bound", minimum=0.0, allow_none=False, allow_inf=False)
        return {**params, "intercept_bound": float(bound)}

    def objective_value(self, X, y, theta, intercept, n_selected, params) -> float:
        """Σ logistic + λ0·(number selected) + λ2‖θ‖²."""
        return (logistic_loss(X, y, theta, intercept) + (params["lambda0"] or 0.0) * n_selected
                + params["lambda2"] * float(theta @ theta))

    def derive_big_m(self, X, y, params) -> tuple[float, str]:
        lambda2, k = params["lambda2"], params["k"]
        fit_intercept = params["intercept"] == "continuous"
        n_pos, n = float(np.sum(y > 0)), float(len(y))
        if fit_intercept:  # intercept-only model: the class-frequency log-likelihood
            upper = -(n_pos * math.log(n_pos / n) + (n - n_pos) * math.log((n - n_pos) / n))
        else:
            upper = n * math.log(2.0)
        ridge = max(lambda2, 1e-3)
        theta, _ = fit_logistic(X, y, range(X.shape[1]), ridge, fit_intercept=fit_intercept)
        support = np.argsort(-np.abs(theta), kind="stable")[: (k or X.shape[1])]
        refit, b = fit_logistic(X, y, support, ridge, fit_intercept=fit_intercept)
        if lambda2 > 0:
            upper = min(upper, self.objective_value(X, y, refit, b, len(support), params))
            return math.sqrt(upper / lambda2) * (1 + 1e-6) + 1e-9, "derived"
        scale = float(np.abs(refit).max())
        return 2.0 * max(scale, 1e-3), "heuristic"

    def build(self, instance: Instance, params: dict[str, Any]) -> pyo.ConcreteModel:
        X, y = check_binary(instance)
        m = self._base_model(instance, params)
        loss = add_logistic_epigraph(m, X, y)
        m.r = pyo.Var(m.features, bounds=(0, None))
        m.rotated_cone = pyo.Constraint(m.features, rule=lambda m, j: m.theta[j] ** 2 <= m.z[j] * m.r[j])
        m.objective = pyo.Objective(
            expr=loss + (params["lambda0"] or 0.0) * pyo.quicksum(m.z[j] for j in m.features)
            + params["lambda2"] * pyo.quicksum(m.r[j] for j in m.features)
        )
        return m

    def evaluate(self, instance: Instance, params: dict[str, Any], solution: dict[str, np.ndarray]) -> Evaluation:
        X, y = check_binary(instance)
        checked = self._common_checks(X, params, solution)
        if checked is None:
            return missing_values()
        theta, z, intercept, violations = checked
        objective = self.objective_value(X, y, theta, intercept, int((z > 0.5).sum()), params)
        return Evaluation(objective=objective, violations=violations,
                          info=self._info(X, y, theta, z, intercept, params))
