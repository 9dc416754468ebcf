"""Verification of a trained ReLU network: the smallest adversarial perturbation
(tutorial §3.2, problem (25) with the ReLU big-M system (26); FORMULATIONS.md §4).

Justin, Sun, Gómez & Vayanos, "Responsible Machine Learning via Mixed-Integer Optimization"
(arXiv 2505.05857), §3.2, after Tjeng et al. (2017)::

    min_u ‖u‖   s.t.  f_θ(x̄ + u) = k                                        (25)

with k ≠ y = f_θ(x̄) given a priori: if the optimum exceeds ε the network is certified robust
at x̄ against class k within radius ε. Here f_θ(x) = argmax of the class scores, so "= k" is
written, as the tutorial states it, as class k beating *every* other class:
score_k(x) ≥ score_j(x) + margin for all j ≠ k (``margin`` ≥ 0, default 1e-3: a strict win
that survives the solvers' tolerances). Each hidden ReLU max{0, a} = h is the big-M system of
(26), 0 ≤ h, a ≤ h, h ≤ u·z, h ≤ a − l(1 − z), with pre-activation bounds l ≤ a ≤ u over the
input box (``bounds="interval"``: interval arithmetic; ``"lp"``: one LP per neuron, see
:mod:`reference_impl.formulations._model_embedding`). The perturbed point stays in the input
box x_lower ≤ x̄ + u ≤ x_upper.

``verification.relu_bigm`` (MILP). Hyperparameters: ``target`` (class k; default the
runner-up class at x̄), ``margin``, ``norm`` (``"linf"``: min r with −r ≤ uⱼ ≤ r; ``"l1"``:
min Σ aⱼ with aⱼ ≥ ±uⱼ), ``bounds``. The instance holds the network ``W0, b0, W1, b1, …``,
``x_bar`` and the box (generator ``trained_relu_network``). No perturbation inside the box
reaching class k: status ``infeasible`` (the network is robust against k on the whole box).

The evaluator runs the NumPy forward pass on x̄ + u (no solver): the target's margin
(violation: how much it misses ``margin``), the box, the hidden values and indicators the
solver returned against the forward pass, and the norm recomputed from u.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyomo.environ as pyo

from ..errors import InputError
from ..instances.instance import Instance
from ..registry import register
from ._model_embedding import (BOUND_METHODS, TreeEnsemble, add_class_constraint, add_network, check_choice, check_target,
                               class_margin, hidden_violations, predict_scores, preactivation_bounds,
                               read_hidden, read_model_instance)
from ._pyomo import values
from ._support import all_finite, missing_values, read_arrays
from .base import Evaluation, Formulation, as_float

NORMS = ("linf", "l1")


def perturbation_norm(u: np.ndarray, norm: str) -> float:
    u = np.abs(np.asarray(u, dtype=float))
    return float(u.max(initial=0.0)) if norm == "linf" else math.fsum(u.tolist())


@register
class ReluBigM(Formulation):
    """Minimal ‖u‖∞ / ‖u‖1 adversarial perturbation of a ReLU network, (25) with big-M ReLUs (26)."""

    id = "verification.relu_bigm"
    equation = "(25)+(26)"
    problem_class = "MILP"
    family = "verification"
    summary = "smallest perturbation making a trained ReLU net predict a target class (big-M ReLUs)"
    hyperparameters = {"target": None, "margin": 1e-3, "norm": "linf", "bounds": "interval"}
    benchmark_cases = (("relu-d2-h4-c2", {}),
                       ("relu-d3-h6-c3", {"norm": "l1"}),
                       ("relu-d4-h6x4-c2", {"bounds": "lp"}))

    def validate(self, instance: Instance, params: dict[str, Any]) -> dict[str, Any]:
        params = super().validate(instance, params)
        model = read_model_instance(instance)
        if isinstance(model.network, TreeEnsemble):
            raise InputError(f"{self.id} embeds ReLU networks (and linear models); this instance holds a tree ensemble")
        target = check_target(self.id, model, params, "predicted as")
        margin = as_float(params, "margin", minimum=0.0, allow_none=False)
        norm = check_choice(params, "norm", NORMS)
        bounds = check_choice(params, "bounds", BOUND_METHODS)
        if np.any(model.x_bar < model.lower) or np.any(model.x_bar > model.upper):
            raise InputError("x_bar lies outside the input box x_lower..x_upper")
        return {**params, "target": target, "margin": margin, "norm": norm, "bounds": bounds}

    def build(self, instance: Instance, params: dict[str, Any]) -> pyo.ConcreteModel:
        model = read_model_instance(instance)
        network, x_bar = model.network, model.x_bar
        d = network.n_inputs
        m = pyo.ConcreteModel(name=self.id)
        m.inputs = pyo.RangeSet(0, d - 1)
        m.u = pyo.Var(m.inputs, bounds=lambda _, j: (float(model.lower[j] - x_bar[j]), float(model.upper[j] - x_bar[j])))
        m.x = pyo.Expression(m.inputs, rule=lambda m, j: float(x_bar[j]) + m.u[j])
        widest = float(np.max(np.maximum(x_bar - model.lower, model.upper - x_bar)))
        if params["norm"] == "linf":
            m.radius = pyo.Var(bounds=(0.0, widest))
            m.radius_upper = pyo.Constraint(m.inputs, rule=lambda m, j: m.u[j] <= m.radius)
            m.radius_lower = pyo.Constraint(m.inputs, rule=lambda m, j: -m.radius <= m.u[j])
            m.objective = pyo.Objective(expr=m.radius)
        else:
            m.magnitude = pyo.Var(m.inputs, bounds=(0.0, widest))
            m.magnitude_upper = pyo.Constraint(m.inputs, rule=lambda m, j: m.u[j] <= m.magnitude[j])
            m.magnitude_lower = pyo.Constraint(m.inputs, rule=lambda m, j: -m.magnitude[j] <= m.u[j])
            m.objective = pyo.Objective(expr=pyo.quicksum(m.magnitude[j] for j in m.inputs))
        bounds = preactivation_bounds(network, model.lower, model.upper, params["bounds"])
        m.net = pyo.Block()
        add_network(m.net, m.x, network, bounds)
        add_class_constraint(m.net, network, int(params["target"]), float(params["margin"]))
        return m

    def extract(self, model, instance: Instance, params: dict[str, Any]) -> dict[str, np.ndarray]:
        network = read_model_instance(instance).network
        h, active = read_hidden(model.net, network)
        return {"u": values(model.u, network.n_inputs), "h": h, "active": active}

    def evaluate(self, instance: Instance, params: dict[str, Any], solution: dict[str, np.ndarray]) -> Evaluation:
        model = read_model_instance(instance)
        network = model.network
        u, h, active = read_arrays(solution, {"u": network.n_inputs, "h": network.n_hidden, "active": network.n_hidden})
        if not all_finite(u, h, active):
            return missing_values()
        target, margin = int(params["target"]), float(params["margin"])
        x = model.x_bar + u
        scores = predict_scores(network, x)
        achieved = class_margin(scores, target)
        violations = {
            "input_box": float(np.max(np.maximum(model.lower - x, x - model.upper), initial=0.0)),
            "target_margin": max(margin - achieved, 0.0),
            **hidden_violations(network, x, h, active),
        }
        objective = perturbation_norm(u, params["norm"])
        info = {"original_class": model.predicted, "target": target, "predicted_class": int(np.argmax(scores)),
                "target_margin": achieved, "norm": params["norm"], "bounds": params["bounds"],
                "n_hidden": network.n_hidden, "n_active": int(np.sum(active > 0.5)),
                "scores": [float(s) for s in scores]}
        return Evaluation(objective=objective, violations=violations, info=info)
