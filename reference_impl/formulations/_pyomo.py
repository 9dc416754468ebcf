"""Small Pyomo building blocks shared by formulation modules (vectorised, no per-term loops
over constraint objects where one indexed component will do)."""
from __future__ import annotations

import numpy as np
import pyomo.environ as pyo


def squared_loss(model: pyo.ConcreteModel, X: np.ndarray, y: np.ndarray, coef) -> pyo.Expression:
    """Σᵢ (yᵢ − xᵢᵀθ)² as a Pyomo expression over the indexed variable ``coef``.

    With p ≤ n the Gram form θᵀ(XᵀX)θ − 2(Xᵀy)ᵀθ + yᵀy is used (p² terms, independent of n);
    with p > n, residual variables ``model.residual[i] = yᵢ − xᵢᵀθ`` and Σ residual² (n·p linear
    terms). Both have the same value and the same continuous relaxation.
    """
    n, p = X.shape
    if p <= n:
        Q = X.T @ X
        b = X.T @ y
        rows, cols = np.triu_indices(p)
        weights = np.where(rows == cols, 1.0, 2.0) * Q[rows, cols]
        quadratic = pyo.quicksum(
            float(w) * coef[int(j)] * coef[int(l)] for w, j, l in zip(weights, rows, cols) if w != 0.0
        )
        linear = pyo.quicksum(float(-2.0 * b[j]) * coef[j] for j in range(p) if b[j] != 0.0)
        return quadratic + linear + float(y @ y)
    model.samples = pyo.RangeSet(0, n - 1)
    model.residual = pyo.Var(model.samples)
    model.residual_def = pyo.Constraint(
        model.samples,
        rule=lambda m, i: m.residual[i]
        == float(y[i]) - pyo.quicksum(float(X[i, j]) * coef[j] for j in range(p) if X[i, j] != 0.0),
    )
    return pyo.quicksum(model.residual[i] ** 2 for i in model.samples)


def values(component, size: int) -> np.ndarray:
    """Values of an indexed variable as an array (NaN where the variable has no value)."""
    return np.array([np.nan if component[j].value is None else float(component[j].value) for j in range(size)])


def settle_constant(relation):
    """A constraint rule's relation with the constant case settled: a relation without
    variables (e.g. ``0 == 0`` when a sample has no active feature and the bias is fixed,
    which Pyomo may even fold into a Python ``bool``) gives ``Constraint.Skip`` when it holds
    and ``Constraint.Infeasible`` when it is violated; SCIP cannot take either as a constraint."""
    from pyomo.core.expr.visitor import identify_variables

    if isinstance(relation, (bool, np.bool_)):
        return pyo.Constraint.Skip if relation else pyo.Constraint.Infeasible
    if next(iter(identify_variables(relation, include_fixed=False)), None) is None:
        return pyo.Constraint.Skip if bool(pyo.value(relation)) else pyo.Constraint.Infeasible
    return relation
