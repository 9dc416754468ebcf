"""k-sparse GLMs with a perspective formulation (FORMULATIONS.md §8; Liu & Lodi, "From
Sequential Nodes to GPU Batches: Parallel Branch and Bound for Optimal k-Sparse GLMs",
arXiv 2605.22188)::

    min_β  F(Xβ) + λ2‖β‖²   s.t. ‖β‖0 ≤ k, ‖β‖∞ ≤ M

with F(Xβ) = ½‖y − Xβ‖² (``loss="squared"``) or Σ log(1 + exp(−yᵢxᵢᵀβ)) (``"logistic"``,
labels ±1). ``kglm.perspective`` is the mixed-integer model

    min F(Xβ) + λ2 Σ sⱼ   s.t. Σ zⱼ ≤ k, |βⱼ| ≤ M zⱼ (M finite), βⱼ² ≤ zⱼ sⱼ, z ∈ {0,1}ᵖ

(an MISOCP for least squares, an MINLP for logistic loss) that SCIP and Gurobi solve as
baselines, and the native solver ``bnb`` (:mod:`reference_impl.kglm`, batched branch and
bound with certified dual bounds) solves the same problem, so one instance compares all
three. Both are checked by the same evaluator.

Logistic labels may be given as {0, 1}: they are mapped 0 → −1 everywhere (model, ``bnb``,
evaluator) and the record says so (``extra["label_mapping"]`` and a note in its message).

With M = ∞ (and λ2 > 0) the model still links β to z by a big-M constraint with a *derived*
bound M' = √(UB/λ2), UB the objective of a cheap feasible point (FORMULATIONS.md §8: every
optimum β* has λ2‖β*‖² ≤ F(Xβ*) + λ2‖β*‖² ≤ UB because F ≥ 0, so |β*ⱼ| ≤ M'): the problem
is unchanged, but a solver can no longer leave |βⱼ| at its cone tolerance while zⱼ = 0.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyomo.environ as pyo

from ..errors import InputError
from ..instances.instance import Instance, check_xy
from ..registry import register
from ..solvers.adapters.bnb import BNB_OPTIONS  # noqa: F401 (re-exported: the bnb adapter's options)
from ._pyomo import squared_loss, values
from ._support import (
    all_finite,
    box_violation,
    cardinality_violation,
    integrality_violation,
    m_binding,
    missing_values,
    read_arrays,
    support_link_violation,
    support_mask,
)
from .base import Evaluation, Formulation, as_float, as_int
from .sparse_classification import add_logistic_epigraph, add_scores, logistic_terms

LOSSES = ("squared", "logistic")
#: the solver options of the native solver ``bnb`` are declared by its adapter (``BNB_OPTIONS``,
#: solvers/adapters/bnb.py)


def glm_objective(X: np.ndarray, y: np.ndarray, beta: np.ndarray, loss: str, lambda2: float) -> float:
    """F(Xβ) + λ2‖β‖², computed in float64 (log1p/exp written to avoid overflow)."""
    if loss == "squared":
        residual = y - X @ beta
        value = 0.5 * float(residual @ residual)
    else:
        margins = y * (X @ beta)
        value = float(np.sum(logistic_terms(margins)))
    return value + lambda2 * float(beta @ beta)


LABEL_NOTE = "logistic labels {0, 1} mapped to {-1, +1} (0 -> -1)"


def glm_data(instance: Instance, loss: str) -> tuple[np.ndarray, np.ndarray, bool]:
    """``(X, y, mapped)``: the instance's data with logistic labels {0, 1} mapped 0 → −1
    (``mapped`` tells whether that happened); InputError for other labels or a single class."""
    X, y = check_xy(instance)
    if loss != "logistic":
        return X, y, False
    labels = set(np.unique(y).tolist())
    if len(labels) == 1:
        raise InputError(f"logistic loss needs both classes in y (labels -1 and +1, or 0 and 1); "
                         f"every label is {labels.pop()!r}")
    if labels <= {-1.0, 1.0}:
        return X, y, False
    if labels <= {0.0, 1.0}:
        return X, np.where(y == 0.0, -1.0, 1.0), True
    raise InputError(f"logistic labels must be -1/+1 (or 0/1, mapped 0 -> -1); got {sorted(labels)[:6]}")


def link_bound(X: np.ndarray, y: np.ndarray, loss: str, lambda2: float) -> float:
    """A valid bound M' on |β*ⱼ| at any optimum of the M = ∞ problem (λ2 > 0):
    √(UB/λ2) with UB the objective of a feasible point (FORMULATIONS.md §8), the better of
    β = 0 and, for least squares, the best one-feature ridge fit (closed form)."""
    ub = glm_objective(X, y, np.zeros(X.shape[1]), loss, lambda2)
    if loss == "squared":
        xty = X.T @ y
        denom = np.einsum("ij,ij->j", X, X) + 2.0 * lambda2
        j = int(np.argmax(xty * xty / denom))
        beta = np.zeros(X.shape[1])
        beta[j] = xty[j] / denom[j]
        ub = min(ub, glm_objective(X, y, beta, loss, lambda2))
    return math.sqrt(max(ub, 0.0) / lambda2) * (1.0 + 1e-9) + 1e-12


def _thin(progress: list, limit: int = 200) -> list:
    """At most ``limit`` (seconds, primal, dual) points, first and last kept (for the record)."""
    if len(progress) <= limit:
        return [list(map(float, point)) for point in progress]
    keep = np.unique(np.linspace(0, len(progress) - 1, limit).round().astype(int))
    return [list(map(float, progress[i])) for i in keep]


@register
class KGLMPerspective(Formulation):
    """The perspective MIQCP/MINLP of the k-sparse GLM (FORMULATIONS.md §8, ``kglm.perspective``)."""

    id = "kglm.perspective"
    equation = "GB §8 (perspective, k-sparse GLM)"
    problem_class = "MINLP"  # MISOCP for least squares: see problem_class_for
    family = "kglm"
    summary = "k-sparse least squares / logistic regression, perspective; native batched BnB `bnb`"
    hyperparameters = {"k": None, "loss": "squared", "lambda2": 1.0, "M": math.inf}
    benchmark_cases = (("kglm-ls-n40-p12-k3", {"k": 3, "lambda2": 1.0, "M": 2.0}),
                       ("kglm-logit-n60-p12-k3", {"k": 3, "loss": "logistic", "lambda2": 1.0, "M": 2.0}))

    def validate(self, instance: Instance, params: dict[str, Any]) -> dict[str, Any]:
        params = super().validate(instance, params)
        loss = params["loss"]
        if loss not in LOSSES:
            raise InputError(f"loss must be one of {', '.join(LOSSES)}; got {loss!r}")
        X, _, _ = glm_data(instance, loss)
        p = X.shape[1]
        k = as_int(params, "k", minimum=1, maximum=p, what=f" (the instance has p = {p} features)")
        if k is None:
            raise InputError(f"{self.id} needs the cardinality limit k (e.g. --param k=5)")
        lambda2 = as_float(params, "lambda2", minimum=0.0, allow_none=False)
        M = as_float(params, "M", allow_none=False)
        if not M > 0:
            raise InputError(f"M must be positive (inf allowed); got {M}")
        if lambda2 == 0 and math.isinf(M):
            raise InputError("lambda2 = 0 needs a finite M (the perspective term vanishes otherwise)")
        constant = np.flatnonzero(np.ptp(X, axis=0) == 0)
        if constant.size:
            raise InputError(f"X has constant columns {constant[:5].tolist()}; drop them first")
        return {**params, "k": k, "lambda2": lambda2, "M": M}

    def problem_class_for(self, params: dict[str, Any]) -> str:
        return "MISOCP" if params.get("loss", "squared") == "squared" else "MINLP"

    def build(self, instance: Instance, params: dict[str, Any]) -> pyo.ConcreteModel:
        """The perspective model; labels {0, 1} mapped 0 → −1.  With M = ∞ and λ2 > 0 the
        big-M links use the derived bound M' of :func:`link_bound` (FORMULATIONS.md §8: no
        optimum has |βⱼ| > M', so the problem is unchanged), which keeps solvers from leaving
        βⱼ ≠ 0 within their cone tolerance where zⱼ = 0."""
        X, y, _ = glm_data(instance, params["loss"])
        p = X.shape[1]
        M, k, lambda2 = params["M"], params["k"], params["lambda2"]
        link = M if math.isfinite(M) else link_bound(X, y, params["loss"], lambda2)
        m = pyo.ConcreteModel(name=self.id)
        m.features = pyo.RangeSet(0, p - 1)
        m.beta = pyo.Var(m.features, bounds=(-link, link))
        m.z = pyo.Var(m.features, domain=pyo.Binary)
        m.s = pyo.Var(m.features, bounds=(0, None))
        m.cardinality = pyo.Constraint(expr=pyo.quicksum(m.z[j] for j in m.features) <= k)
        m.link_bound = pyo.Param(initialize=float(link), mutable=False)
        m.box_upper = pyo.Constraint(m.features, rule=lambda m, j: m.beta[j] <= link * m.z[j])
        m.box_lower = pyo.Constraint(m.features, rule=lambda m, j: -link * m.z[j] <= m.beta[j])
        m.perspective = pyo.Constraint(m.features, rule=lambda m, j: m.beta[j] ** 2 <= m.z[j] * m.s[j])
        if params["loss"] == "squared":
            loss = 0.5 * squared_loss(m, X, y, m.beta)
        else:  # epigraph in exponential-cone form (SCIP sees its convexity; see sparse_classification)
            add_scores(m, X, m.beta, None)
            loss = add_logistic_epigraph(m, X, y)
        m.objective = pyo.Objective(expr=loss + lambda2 * pyo.quicksum(m.s[j] for j in m.features))
        return m

    def extract(self, model, instance: Instance, params: dict[str, Any]) -> dict[str, np.ndarray]:
        p = instance.X.shape[1]
        return {"beta": values(model.beta, p), "z": values(model.z, p)}

    def evaluate(self, instance: Instance, params: dict[str, Any], solution: dict[str, np.ndarray]) -> Evaluation:
        X, y, mapped = glm_data(instance, params["loss"])
        beta, z = read_arrays(solution, {"beta": X.shape[1], "z": X.shape[1]})
        if not all_finite(beta, z):
            return missing_values()
        selected = support_mask(z)
        M = params["M"]
        violations = {  # kglm lists the cardinality before the box
            "integrality": integrality_violation(z),
            "support_link": support_link_violation(beta, selected),
            "cardinality": cardinality_violation(selected, params["k"]),
            "box": box_violation(beta, M),
        }
        objective = glm_objective(X, y, beta, params["loss"], params["lambda2"])
        info = {"support": np.flatnonzero(selected).tolist(), "m_binding": m_binding(beta, selected, M)}
        if mapped:
            info.update(label_mapping={"0": -1, "1": 1}, warning=LABEL_NOTE)
        return Evaluation(objective=objective, violations=violations, info=info)
