"""Sparse linear classifiers (tutorial §2.1.2–§2.1.3; FORMULATIONS.md §1).

Justin, Sun, Gómez & Vayanos, "Responsible Machine Learning via Mixed-Integer Optimization"
(arXiv 2505.05857). Labels are ±1; the score of sample i is sᵢ = θᵀxᵢ + θ₀ and its margin
yᵢsᵢ. This module holds what the two sparse classifiers share (data checks, the logistic
loss and its epigraph, the derived big-M, :class:`_SparseClassifier`); each registered
formulation lives in its own module:

* ``sparse_logistic.perspective`` (:mod:`.sparse_logistic`) — §2.1.2, sparse logistic regression with a ridge term
  in perspective form (Deza & Atamtürk 2022)::

      min  Σᵢ log(1 + exp(−yᵢ(θᵀxᵢ + θ₀))) + λ0 Σⱼ zⱼ + λ2 Σⱼ rⱼ
      s.t. θⱼ² ≤ zⱼ rⱼ,  −Mzⱼ ≤ θⱼ ≤ Mzⱼ,  Σⱼ zⱼ ≤ k,  z ∈ {0,1}ᵈ, r ≥ 0

  (the perspective analogue of (7) for the logistic loss; class MINLP).
* ``sparse_svm.bigm`` (:mod:`.sparse_svm`) — (9), the sparse soft-margin SVM of Dedieu, Hazimeh & Mazumder 2021::

      min  ½‖θ‖² + λ1 Σᵢ rᵢ + λ0 Σⱼ zⱼ
      s.t. yᵢ(θᵀxᵢ + θ₀) ≥ 1 − rᵢ (9b),  −Mzⱼ ≤ θⱼ ≤ Mzⱼ (9c),  r ≥ 0,  Σⱼ zⱼ ≤ k

  (class MIQP). (9) as printed has no intercept; ``intercept="continuous"`` (default) adds a
  free, unpenalised θ₀, ``intercept="none"`` gives (9) exactly.

**Logistic loss in the model.** Each term enters through its epigraph in exponential-cone
form: ``tᵢ ≥ log(1 + exp(−mᵢ))  ⇔  exp(−tᵢ) + exp(−mᵢ − tᵢ) ≤ 1`` (mᵢ the margin). Both
sides describe the same set; the right one is a sum of convex exponentials that SCIP and
Gurobi recognise as convex, so their outer approximations are valid gradient cuts (the
composite ``log(1+exp(·))`` written directly makes SCIP treat it as nonconvex and branch
spatially — 60× slower on a 3-feature example). Identical rows (x, y) are merged into one
term with a weight (exact: the loss is a sum over rows); this shrinks binarised data sets.

**Big-M** (``M="auto"``, the default) is derived so that it is provably valid:
every optimum has objective at most UB, the value of a feasible point, and all other terms
are ≥ 0, so ½‖θ*‖² ≤ UB for the SVM (always) and λ2‖θ*‖² ≤ UB for the logistic model
(λ2 > 0), i.e. |θⱼ*| ≤ sqrt(2·UB) resp. sqrt(UB/λ2). UB is the better of the intercept-only
model and a refit on the k largest coefficients of the full convex fit. For the logistic
model with λ2 = 0 no finite valid M exists in general (separable data); then
M = 2·max|θ| of a lightly ridged fit (``M_source="heuristic"``). Every result reports
whether M bound the solution (``m_binding``), as in ``sparse_regression``. The logistic
model's free intercept also gets a derived bound (``intercept_bound="auto"``, see
:func:`derive_intercept_bound`); without it SCIP cannot bound the relaxation at all.

**Fairness hook.** :meth:`_SparseClassifier.decision_expressions` returns the indexed Pyomo
expression ``model.score[i] = θᵀxᵢ + θ₀`` (one per original sample i = 0..n−1; positive
means "predict +1"). Fairness constraints (tutorial §5) can link favourable-outcome
indicators ζᵢ to these scores without knowing how the loss is modelled. The risk-score
formulations of :mod:`.risk_score` expose the same method.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyomo.environ as pyo

from ..errors import InputError
from ..instances.instance import Instance, check_xy
from ._pyomo import values
from ._support import (M_BINDING_RTOL, all_finite, cardinality_violation, m_binding, read_arrays,
                       support_mask, support_violations)
from .base import Formulation, add_warning, as_big_m, big_m_info, sparsity_terms

INTERCEPT_CHOICES = ("continuous", "none")


# -- shared helpers (also used by risk_score) ----------------------------------------------
def check_binary(instance: Instance) -> tuple[np.ndarray, np.ndarray]:
    """``(X, y)`` with y ∈ {−1, +1} and both labels present; InputError otherwise."""
    X, y = check_xy(instance, y_kind="binary")
    if len(np.unique(y)) < 2:
        raise InputError("binary classification needs both labels -1 and +1 in y; this y has only one")
    return X, y


def logistic_terms(margins: np.ndarray) -> np.ndarray:
    """log(1 + exp(−m)) elementwise, computed stably."""
    return np.logaddexp(0.0, -np.asarray(margins, dtype=float))


def logistic_loss(X: np.ndarray, y: np.ndarray, theta: np.ndarray, intercept: float = 0.0) -> float:
    """Σᵢ log(1 + exp(−yᵢ(θᵀxᵢ + θ₀)))."""
    return float(logistic_terms(y * (X @ theta + intercept)).sum())


def hinge_terms(X: np.ndarray, y: np.ndarray, theta: np.ndarray, intercept: float = 0.0) -> np.ndarray:
    """max(0, 1 − yᵢ(θᵀxᵢ + θ₀)) elementwise (the smallest feasible rᵢ of (9b))."""
    return np.maximum(0.0, 1.0 - y * (X @ theta + intercept))


def unique_rows(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Representative sample index of each distinct row (x, y) and its multiplicity."""
    _, first, counts = np.unique(np.column_stack([X, y]), axis=0, return_index=True, return_counts=True)
    order = np.argsort(first)
    return first[order], counts[order].astype(float)


def intercept_value(solution: dict[str, np.ndarray]) -> float:
    """The intercept of a solution (0 when it has none)."""
    value = solution.get("intercept")
    if value is None:
        return 0.0
    return float(np.asarray(value, dtype=float).reshape(-1)[0])


def add_scores(m: pyo.ConcreteModel, X: np.ndarray, coef, intercept) -> None:
    """``m.samples`` and ``m.score[i] = θᵀxᵢ + θ₀`` (Pyomo Expressions, no new variables)."""
    n, d = X.shape
    m.samples = pyo.RangeSet(0, n - 1)

    def rule(m, i):
        linear = pyo.quicksum(float(X[i, j]) * coef[j] for j in range(d) if X[i, j] != 0.0)
        return linear + intercept if intercept is not None else linear

    m.score = pyo.Expression(m.samples, rule=rule)


def add_logistic_epigraph(m: pyo.ConcreteModel, X: np.ndarray, y: np.ndarray) -> pyo.Expression:
    """Epigraph variables ``m.loss[g] ≥ log(1+exp(−y_g s_g))`` over distinct rows g, in the
    exponential-cone form exp(−t) + exp(−m − t) ≤ 1; returns Σ_g w_g·loss[g]. Needs ``m.score``."""
    rep, weight = unique_rows(X, y)
    m.rows = pyo.RangeSet(0, len(rep) - 1)
    m.loss = pyo.Var(m.rows, bounds=(0, None))
    m.logistic_epigraph = pyo.Constraint(
        m.rows,
        rule=lambda m, g: pyo.exp(-m.loss[g]) + pyo.exp(-float(y[rep[g]]) * m.score[int(rep[g])] - m.loss[g]) <= 1,
    )
    m.row_weight = {g: float(weight[g]) for g in range(len(rep))}
    return pyo.quicksum(float(weight[g]) * m.loss[g] for g in m.rows)


def classification_info(X, y, theta, intercept) -> dict[str, Any]:
    """Accuracy and AUC of the scores θᵀx + θ₀ (information only; not part of any objective)."""
    from sklearn.metrics import roc_auc_score

    scores = X @ theta + intercept
    predicted = np.where(scores > 0, 1.0, -1.0)
    return {"accuracy": float(np.mean(predicted == y)), "auc": float(roc_auc_score(y, scores))}


def fit_logistic(X, y, support, lambda2: float, *, M: float = math.inf, fit_intercept: bool = True):
    """min Σ logistic + λ2‖θ_S‖² over θ_S (|θ| ≤ M) and θ₀, by L-BFGS-B. Returns (θ, θ₀)."""
    from scipy.optimize import minimize

    support = list(support)
    theta = np.zeros(X.shape[1])
    Xs = X[:, support]
    s = len(support)

    def fun(v):
        w, b = v[:s], (v[s] if fit_intercept else 0.0)
        margins = y * (Xs @ w + b)
        grad_m = -y * 0.5 * (1.0 - np.tanh(0.5 * margins))  # d/ds log(1+exp(-y s)) = -y σ(-m)
        g = np.concatenate([Xs.T @ grad_m + 2 * lambda2 * w, [grad_m.sum()] if fit_intercept else []])
        return float(logistic_terms(margins).sum() + lambda2 * w @ w), g

    bounds = [(-M, M) if math.isfinite(M) else (None, None)] * s + ([(None, None)] if fit_intercept else [])
    x0 = np.zeros(s + (1 if fit_intercept else 0))
    if s + fit_intercept == 0:
        return theta, 0.0
    result = minimize(fun, x0, jac=True, method="L-BFGS-B", bounds=bounds,
                      options={"maxiter": 10_000, "ftol": 1e-15, "gtol": 1e-10})
    theta[support] = result.x[:s]
    return theta, (float(result.x[s]) if fit_intercept else 0.0)


def derive_intercept_bound(X: np.ndarray, y: np.ndarray, params: dict[str, Any]) -> float:
    """A bound B with |θ₀*| ≤ B at every optimum of the logistic models (given |θⱼ| ≤ M).

    The loss is convex in the unpenalised θ₀. If every score satisfies |θᵀxᵢ| ≤ R and
    θ₀ > R + c with c = |log(n⁺/n⁻)|, every sᵢ = θᵀxᵢ + θ₀ exceeds c and
    ∂/∂θ₀ = Σ_{y=−1} σ(sᵢ) − Σ_{y=+1} σ(−sᵢ) > n⁻σ(c) − n⁺σ(−c) ≥ 0, so θ₀ is not optimal;
    symmetrically below. R = max over samples of M·(sum of the k largest |xᵢⱼ|) (box), and,
    when M was derived from the ℓ2 ball λ2‖θ‖² ≤ UB (radius M), also ≤ M·(ℓ2 norm of the k
    largest |xᵢⱼ|). The bound matters: SCIP cannot bound the relaxation of the exponential
    epigraphs with a free intercept (no bound after 60 s on 30 samples; 0.7 s with it)."""
    k = params.get("k") or X.shape[1]
    top = np.sort(np.abs(X), axis=1)[:, ::-1][:, :k]
    M = float(params["M"])
    R = M * top.sum(axis=1)
    if params.get("M_source") == "derived":
        R = np.minimum(R, M * np.sqrt((top * top).sum(axis=1)))
    n_pos, n_neg = float(np.sum(y > 0)), float(np.sum(y < 0))
    return float(R.max() + abs(math.log(n_pos / n_neg))) * (1 + 1e-6) + 1e-9


# -- base class -------------------------------------------------------------------------------
def linear_classifier_solution(model: pyo.ConcreteModel, d: int) -> dict[str, np.ndarray]:
    """θ, z and (when the model has one) the intercept of a linear classifier's Pyomo model."""
    solution = {"theta": values(model.theta, d), "z": values(model.z, d)}
    if model.intercept is not None:
        value = model.intercept.value
        solution["intercept"] = np.array([np.nan if value is None else float(value)])
    return solution


class _SparseClassifier(Formulation):
    """Validation, read-back and the evaluator's common checks for ±1 sparse classifiers."""

    hyperparameters: dict[str, Any] = {"k": None, "lambda0": None, "M": "auto", "intercept": "continuous"}
    #: why a heuristic M (``M_source="heuristic"``) cannot be certified, for the result's warning
    heuristic_m_reason = "lambda2 = 0: no finite valid M exists for separable data"

    def validate(self, instance: Instance, params: dict[str, Any]) -> dict[str, Any]:
        params = super().validate(instance, params)
        X, y = check_binary(instance)
        p = X.shape[1]
        k, lambda0 = sparsity_terms(self.id, params, p, f" (the instance has d = {p} features)")
        if params.get("intercept") not in INTERCEPT_CHOICES:
            raise InputError(f"intercept must be one of {', '.join(INTERCEPT_CHOICES)}; got {params.get('intercept')!r}")
        params = {**params, "k": k, "lambda0": lambda0}
        params.update(self._validate_more(X, y, params))
        M, source = params.get("M"), "given"
        if M in (None, "auto"):
            M, source = self.derive_big_m(X, y, params)
        else:
            M = as_big_m(params)
        return {**params, "M": float(M), "M_source": source}

    def _validate_more(self, X, y, params) -> dict[str, Any]:
        return {}

    def derive_big_m(self, X, y, params) -> tuple[float, str]:  # pragma: no cover - abstract
        raise NotImplementedError

    # -- model pieces --------------------------------------------------------------------------
    def _base_model(self, instance: Instance, params: dict[str, Any]) -> pyo.ConcreteModel:
        X, _ = check_binary(instance)
        p = X.shape[1]
        M = float(params["M"])
        m = pyo.ConcreteModel(name=self.id)
        m.features = pyo.RangeSet(0, p - 1)
        m.theta = pyo.Var(m.features, bounds=(-M, M))
        m.z = pyo.Var(m.features, domain=pyo.Binary)
        m.big_m_upper = pyo.Constraint(m.features, rule=lambda m, j: m.theta[j] <= M * m.z[j])
        m.big_m_lower = pyo.Constraint(m.features, rule=lambda m, j: -M * m.z[j] <= m.theta[j])
        if params["k"] is not None:
            m.cardinality = pyo.Constraint(expr=pyo.quicksum(m.z[j] for j in m.features) <= params["k"])
        B = params.get("intercept_bound")
        bounds = (-B, B) if B is not None else (None, None)
        m.intercept = pyo.Var(bounds=bounds) if params["intercept"] == "continuous" else None
        add_scores(m, X, m.theta, m.intercept)
        return m

    def decision_expressions(self, model: pyo.ConcreteModel):
        """The per-sample scores θᵀxᵢ + θ₀ as an indexed Pyomo Expression (index i = 0..n−1,
        in the instance's row order); ``yᵢ·score[i]`` is sample i's margin. Built by
        :meth:`build`; fairness constraints attach to it (tutorial §5, eq. (35))."""
        return model.score

    def extract(self, model, instance: Instance, params: dict[str, Any]) -> dict[str, np.ndarray]:
        return linear_classifier_solution(model, instance.X.shape[1])

    def _common_checks(self, X, params, solution) -> tuple[np.ndarray, np.ndarray, float, dict[str, float]] | None:
        theta, z = read_arrays(solution, {"theta": X.shape[1], "z": X.shape[1]})
        intercept = intercept_value(solution)
        if not all_finite(theta, z, intercept):
            return None
        selected = support_mask(z)
        M, k = float(params["M"]), params["k"]
        violations = support_violations(theta, z, M=M)  # cardinality last, after the intercept's rows
        if params["intercept"] == "none":
            violations["intercept_fixed"] = abs(intercept)
        elif params.get("intercept_bound") is not None:
            violations["intercept_bound"] = max(abs(intercept) - float(params["intercept_bound"]), 0.0)
        if k is not None:
            violations["cardinality"] = cardinality_violation(selected, k)
        return theta, z, intercept, violations

    def _info(self, X, y, theta, z, intercept, params) -> dict[str, Any]:
        selected = support_mask(z)
        binding = m_binding(theta, selected, float(params["M"]))
        info = {"support": np.flatnonzero(selected).tolist(), "intercept": intercept,
                **big_m_info(params, binding, reason=self.heuristic_m_reason),
                **classification_info(X, y, theta, intercept)}
        if params.get("intercept_bound") is not None and params["intercept"] != "none":
            info["intercept_bound"] = float(params["intercept_bound"])
            if abs(intercept) >= (1 - M_BINDING_RTOL) * float(params["intercept_bound"]):
                add_warning(info, "the intercept reached intercept_bound: the solution is optimal for this bound; "
                                  "raise it (or use intercept_bound=auto, which is provably valid)")
        return info
