"""Sparse counterfactual explanations of a trained classifier (tutorial §2.4, problem (22);
FORMULATIONS.md §4).

Justin, Sun, Gómez & Vayanos, "Responsible Machine Learning via Mixed-Integer Optimization"
(arXiv 2505.05857), §2.4::

    min_x  c(x, x̄)   s.t.  f_θ(x) = y                                        (22)

with the cost and sparsity of the tutorial's text: c(x, x̄) = Σⱼ cⱼ|xⱼ − x̄ⱼ| + λ0 Σⱼ zⱼ, where
zⱼ ∈ {0,1} marks a changed feature through −Mzⱼ ≤ xⱼ − x̄ⱼ ≤ Mzⱼ. Here the big-M of each side is
the actionable range itself, (loⱼ − x̄ⱼ)zⱼ ≤ xⱼ − x̄ⱼ ≤ (hiⱼ − x̄ⱼ)zⱼ, exact (no M to choose),
and x ∈ [lo, hi]. Immutable features are fixed at x̄ⱼ (zⱼ = 0); an optional ``k`` limits the
number of changed features (Σz ≤ k). The model f_θ, embedded by
:mod:`reference_impl.formulations._model_embedding`, is a linear score (logistic regression,
linear SVM: a network without hidden layers), a ReLU network (the big-M system (26), with
pre-activation bounds over the actionable box: ``bounds`` = ``"interval"`` or ``"lp"``) or a
tree ensemble (leaf indicators, one leaf per tree, x kept 1e-4 off the thresholds it passes).
"f_θ(x) = y" is the desired class beating every other class by ``margin`` (for a binary score
s: s ≥ margin for class 1, −s ≥ margin for class 0).

``counterfactual.sparse`` (MILP). Hyperparameters: ``target`` (the desired class y; default
the runner-up class at x̄ — for a binary model, the other class), ``lambda0`` (≥ 0, default 0),
``k`` (optional), ``margin`` (default 1e-3), ``bounds`` (ReLU networks only; linear models and
trees need none). Instance arrays: the model ``W0, b0, …`` (or the trees ``tree_*``),
``x_bar``, the input box ``x_lower``/``x_upper`` and, optional, ``cost`` (cⱼ ≥ 0, default 1),
``immutable`` (0/1 mask), ``action_lower``/``action_upper`` (the actionable bounds lo, hi;
default the input box). A point already of the desired class is an input error; an
actionability set from which the class cannot be reached ends ``infeasible``.

The evaluator re-runs the model's NumPy forward pass on x (no solver): the desired class's
margin, the actionable box, the immutable features, the change indicators (integrality, every
changed feature marked, the cardinality), the network's hidden values and indicators (or the
trees' leaf indicators and the gap around thresholds), and the cost recomputed from x.
Solution arrays: ``x``, ``z`` and ``h``/``active`` (networks) or ``leaf`` (trees).
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyomo.environ as pyo

from ..errors import InputError
from ..instances.instance import Instance
from ..registry import register
from ._model_embedding import (BOUND_METHODS, ModelInstance, TreeEnsemble, add_class_constraint, add_network,
                               add_tree_ensemble, check_box, check_choice, check_target, class_margin,
                               hidden_violations, predict_scores, preactivation_bounds, read_hidden, read_leaves,
                               read_model_instance, tree_violations)
from ._pyomo import values
from ._support import all_finite, cardinality_violation, integrality_violation, missing_values, read_arrays, support_mask
from .base import Evaluation, Formulation, as_float, as_int


def actionability(instance: Instance, model: ModelInstance) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(cost, immutable mask, lo, hi)`` from the instance (defaults: 1, none, the input box);
    immutable features get lo = hi = x̄ⱼ."""
    arrays = instance.arrays
    d = model.network.n_inputs
    cost = np.ones(d)
    if "cost" in arrays:
        cost = np.asarray(arrays["cost"], dtype=float)
        if cost.shape != (d,) or not np.all(np.isfinite(cost)) or np.any(cost < 0):
            raise InputError(f"cost must hold {d} finite nonnegative per-feature costs; got {arrays['cost']!r}")
    immutable = np.zeros(d, dtype=bool)
    if "immutable" in arrays:
        mask = np.asarray(arrays["immutable"])
        if mask.shape != (d,) or not np.all(np.isin(mask, (0, 1))):
            raise InputError(f"immutable must be a 0/1 mask of length {d} (1 = the feature cannot change)")
        immutable = mask.astype(bool)
    if ("action_lower" in arrays) != ("action_upper" in arrays):
        raise InputError("actionable bounds need both action_lower and action_upper")
    if "action_lower" in arrays:
        lo, hi = check_box(arrays["action_lower"], arrays["action_upper"], d, "actionable box")
    else:
        lo, hi = model.lower.copy(), model.upper.copy()
    lo = np.where(immutable, model.x_bar, lo)
    hi = np.where(immutable, model.x_bar, hi)
    return cost, immutable, lo, hi


def _model_kind(model) -> str:
    if isinstance(model, TreeEnsemble):
        return f"trees[{len(model.roots)}]"
    return "linear" if model.n_hidden == 0 else f"relu{list(model.hidden_sizes)}"


@register
class SparseCounterfactual(Formulation):
    """Minimal-cost sparse counterfactual (22) of a linear model or a ReLU network (big-M (26))."""

    id = "counterfactual.sparse"
    equation = "(22)"
    problem_class = "MILP"
    family = "counterfactual"
    summary = "cheapest sparse change of x_bar (L1 cost + lambda0 per changed feature) reaching a desired class"
    hyperparameters = {"target": None, "lambda0": 0.0, "k": None, "margin": 1e-3, "bounds": "interval"}
    benchmark_cases = (("linear-d3-c2", {"lambda0": 0.1}),
                       ("relu-d2-h4-c2", {"lambda0": 0.1}),
                       ("relu-d4-h6-c2-immutable", {"lambda0": 0.5, "k": 2}),
                       ("forest-d3-t5-c3", {"lambda0": 0.1}))

    def validate(self, instance: Instance, params: dict[str, Any]) -> dict[str, Any]:
        params = super().validate(instance, params)
        model = read_model_instance(instance)
        target = check_target(self.id, model, params, "classified as the desired")
        d = model.network.n_inputs
        lambda0 = as_float(params, "lambda0", minimum=0.0, allow_none=False)
        k = as_int(params, "k", minimum=1, maximum=d, what=f" (the model has {d} features)")
        margin = as_float(params, "margin", minimum=0.0, allow_none=False)
        bounds = check_choice(params, "bounds", BOUND_METHODS)
        actionability(instance, model)
        return {**params, "target": target, "lambda0": lambda0, "k": k, "margin": margin, "bounds": bounds}

    def build(self, instance: Instance, params: dict[str, Any]) -> pyo.ConcreteModel:
        model = read_model_instance(instance)
        network, x_bar = model.network, model.x_bar
        cost, immutable, lo, hi = actionability(instance, model)
        d = network.n_inputs
        m = pyo.ConcreteModel(name=self.id)
        m.features = pyo.RangeSet(0, d - 1)
        m.x = pyo.Var(m.features, bounds=lambda _, j: (float(lo[j]), float(hi[j])))
        m.z = pyo.Var(m.features, domain=pyo.Binary)
        m.deviation = pyo.Var(m.features, bounds=lambda _, j: (0.0, float(max(hi[j] - x_bar[j], x_bar[j] - lo[j], 0.0))))
        for j in np.flatnonzero(immutable):
            m.x[int(j)].fix(float(x_bar[j]))
            m.z[int(j)].fix(0)
        m.mutable = pyo.Set(initialize=[int(j) for j in np.flatnonzero(~immutable)], ordered=True)
        m.change_upper = pyo.Constraint(
            m.mutable, rule=lambda m, j: m.x[j] - float(x_bar[j]) <= float(hi[j] - x_bar[j]) * m.z[j])
        m.change_lower = pyo.Constraint(
            m.mutable, rule=lambda m, j: m.x[j] - float(x_bar[j]) >= float(lo[j] - x_bar[j]) * m.z[j])
        m.deviation_upper = pyo.Constraint(m.mutable, rule=lambda m, j: m.x[j] - float(x_bar[j]) <= m.deviation[j])
        m.deviation_lower = pyo.Constraint(m.mutable, rule=lambda m, j: float(x_bar[j]) - m.x[j] <= m.deviation[j])
        for j in np.flatnonzero(immutable):
            m.deviation[int(j)].fix(0.0)
        if params["k"] is not None:
            m.cardinality = pyo.Constraint(expr=pyo.quicksum(m.z[j] for j in m.mutable) <= int(params["k"]))
        lambda0 = float(params["lambda0"])
        m.objective = pyo.Objective(expr=pyo.quicksum(float(cost[j]) * m.deviation[j] for j in m.mutable if cost[j] != 0)
                                    + lambda0 * pyo.quicksum(m.z[j] for j in m.mutable))
        m.net = pyo.Block()
        if isinstance(network, TreeEnsemble):
            add_tree_ensemble(m.net, m.x, network, lo, hi)
        else:
            add_network(m.net, m.x, network, preactivation_bounds(network, lo, hi, params["bounds"]))
        add_class_constraint(m.net, network, int(params["target"]), float(params["margin"]))
        return m

    def extract(self, model, instance: Instance, params: dict[str, Any]) -> dict[str, np.ndarray]:
        network = read_model_instance(instance).network
        d = network.n_inputs
        solution = {"x": values(model.x, d), "z": values(model.z, d)}
        if isinstance(network, TreeEnsemble):
            return {**solution, "leaf": read_leaves(model.net, network)}
        h, active = read_hidden(model.net, network)
        return {**solution, "h": h, "active": active}

    def evaluate(self, instance: Instance, params: dict[str, Any], solution: dict[str, np.ndarray]) -> Evaluation:
        model = read_model_instance(instance)
        network = model.network
        d = network.n_inputs
        trees = isinstance(network, TreeEnsemble)
        parts = {"leaf": network.n_leaves} if trees else {"h": network.n_hidden, "active": network.n_hidden}
        x, z, *embedded = read_arrays(solution, {"x": d, "z": d, **parts})
        if not all_finite(x, z, *embedded):
            return missing_values()
        cost, immutable, lo, hi = actionability(instance, model)
        target, margin = int(params["target"]), float(params["margin"])
        change = x - model.x_bar
        changed = support_mask(z)
        scores = predict_scores(network, x)
        achieved = class_margin(scores, target)
        mutable = ~immutable
        violations = {
            "integrality": integrality_violation(z),
            "support_link": float(np.max(np.abs(change[~changed]), initial=0.0)),
            "actionable_box": float(np.max(np.maximum(lo - x, x - hi)[mutable], initial=0.0)),
            "immutable": float(np.max(np.abs(change[immutable]), initial=0.0)),
            "immutable_indicator": float(np.max(np.abs(z[immutable]), initial=0.0)),
        }
        if params["k"] is not None:
            violations["cardinality"] = cardinality_violation(changed, int(params["k"]))
        violations["target_margin"] = max(margin - achieved, 0.0)
        violations.update(tree_violations(network, x, *embedded) if trees else hidden_violations(network, x, *embedded))
        n_changed = int(np.sum(changed))
        distance = math.fsum((cost * np.abs(change)).tolist())
        objective = distance + float(params["lambda0"]) * n_changed
        info = {"original_class": model.predicted, "target": target, "predicted_class": int(np.argmax(scores)),
                "target_margin": achieved, "changed_features": np.flatnonzero(changed).tolist(),
                "n_changed": n_changed, "weighted_l1": distance, "bounds": params["bounds"],
                "model": _model_kind(network)}
        return Evaluation(objective=objective, violations=violations, info=info)
