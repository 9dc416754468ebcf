"""Fair sparse regression and the fair sparse SVM: the registered fair formulations
(tutorial §5; FORMULATIONS.md §6).

Justin, Sun, Gómez & Vayanos, "Responsible Machine Learning via Mixed-Integer Optimization"
(arXiv 2505.05857), §5.

The fairness-constraint library these hosts use — the notions (36), (38), (39), (40),
equalized odds, their one-sided and multi-group variants, the threshold link (37e) of the
favourable-outcome indicators ζ and the evaluators — is
:mod:`reference_impl.formulations._fairness_constraints` (its names are re-exported here).

Hosts (registered formulations):

* ``fairness.sparse_regression`` = (37): the perspective sparse regression (7)
  (:class:`~reference_impl.formulations.sparse_regression.Perspective`) plus ζ, (37e) and the
  chosen notion (default statistical parity (36)/(37d), δ = 0.2).
* ``fairness.sparse_svm``: the sparse SVM (9)
  (:class:`~reference_impl.formulations.sparse_svm.SparseSVMBigM`), ζ linked to its
  scores θᵀx + θ₀ (``decision_expressions``) with threshold 0 (favourable = predicted +1).
  Its big-M derivation is in :class:`FairSparseSVM`.

Big-M values of (37), derived and documented (the regression host):

* coefficient box M (``M="auto"``): the fairness constraints cut off the greedy solution
  that :func:`~reference_impl.formulations.sparse_regression.derive_big_m` relies on, so the
  upper bound UB is taken from a point feasible for (37) — the greedy solution if its
  predictions satisfy the fairness constraint, and θ = 0 (all predictions 0, every group
  has the same rate, feasible when 0 is not inside the margin band) — and M is the widest
  coordinate of the ellipsoid {θ : ‖y − Xθ‖² + λ2‖θ‖² ≤ UB}
  (:func:`~reference_impl.formulations.sparse_regression.ellipsoid_big_m`), valid when XᵀX + λ2I is
  positive definite, or the largest over the supports' own ellipsoids when they are few
  (:func:`~reference_impl.formulations.sparse_regression.certified_big_m`: the same predictions
  on fewer columns keep ζ, so it stays valid under the fairness rows); otherwise a heuristic
  that may cut off the optimum, flagged in every result (``M_certified = False``, a warning).
* prediction bounds: with |θⱼ| ≤ M and at most k nonzeros, |θᵀxᵢ| ≤ M·(sum of the k largest
  |xᵢⱼ|) =: Bᵢ, so U = max(Bᵢ − t, 0) and L = max(Bᵢ + t, 0) for "below" (mirror for
  "above").
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyomo.environ as pyo

from ..errors import InputError
from ..instances.instance import Instance, check_xy
from ..registry import register
from ._fairness_constraints import (DIRECTIONS, MIN_EPSILON, MISSING_LABELS, NOTIONS,  # noqa: F401 (re-exported)
                                    Comparison, add_fairness_evaluation, attach_fairness, attach_threshold_link,
                                    attach_to_model, check_fairness_params, check_group, comparison_gaps,
                                    factorize_groups, fair_pattern_ok, fairness_comparisons, fairness_violation,
                                    favourable_from_predictions, link_violation, prediction_bounds,
                                    threshold_comparisons)
from ._pyomo import values
from .base import Evaluation, as_float
from .sparse_classification import check_binary, intercept_value
from .sparse_svm import SparseSVMBigM
from .sparse_regression import Perspective, certified_big_m, greedy_solution, heuristic_big_m, objective_value


def fair_objective(X: np.ndarray, y: np.ndarray, theta: np.ndarray, comparisons: list[Comparison],
                   params: dict[str, Any]) -> float:
    """Objective of (37) at θ when θ is feasible with ζ read off its predictions
    (:func:`fair_pattern_ok`) and has at most k nonzeros, else +inf (the box |θ| ≤ M is not
    checked: this serves to derive M)."""
    theta = np.asarray(theta, dtype=float)
    nonzeros = int(np.count_nonzero(theta))
    if params.get("k") is not None and nonzeros > params["k"]:
        return math.inf
    if not fair_pattern_ok(X @ theta, comparisons, params):
        return math.inf
    return objective_value(X, y, theta, nonzeros, params["lambda0"] or 0.0, params["lambda2"])


#: shrink factors τ of the group-mean gap tried by :func:`fair_heuristic`
HEURISTIC_TAUS = np.linspace(0.0, 2.0, 41)


def fair_heuristic(X: np.ndarray, y: np.ndarray, comparisons: list[Comparison], params: dict[str, Any], *,
                   max_passes: int = 3) -> np.ndarray:
    """A feasible point of (37) (θ = 0 if nothing better is found), for big-M and warm starts.

    For a support S, the mean-prediction gaps dᵣᵀθ (dᵣ = sign·(mean x over the protected side
    − mean x over the other side) of comparison r, the linear "disparate impact" proxy) of the
    unconstrained ridge fit θ₀ are shrunk: θ(τ) = argmin ‖y − X_Sθ‖² + λ2‖θ‖² s.t.
    Dθ = (1 − τ)Dθ₀ (an equality-constrained least squares, solved by its KKT system) for τ
    on a grid in [0, 2]; the best θ(τ) feasible for (37) (:func:`fair_objective`) scores S.
    S starts from forward stepwise selection and improves by best swaps (one feature out,
    one in) for at most ``max_passes`` passes. Deterministic; no solver involved.
    """
    n, p = X.shape
    lambda0, lambda2 = params["lambda0"] or 0.0, params["lambda2"]
    sign = 1.0 if params["favourable"] == "below" else -1.0
    D_full = np.array([sign * (X[c.first].mean(axis=0) - X[c.second].mean(axis=0)) for c in comparisons])

    def score(support: list[int]) -> tuple[float, np.ndarray]:
        best = (fair_objective(X, y, np.zeros(p), comparisons, params), np.zeros(p))
        if not support:
            return best
        Xs, D = X[:, support], D_full[:, support]
        A = Xs.T @ Xs + lambda2 * np.eye(len(support))
        b = Xs.T @ y
        theta0 = np.linalg.lstsq(A, b, rcond=None)[0]
        kkt = np.block([[A, D.T], [D, np.zeros((D.shape[0], D.shape[0]))]])
        for tau in HEURISTIC_TAUS:
            rhs = np.concatenate([b, (1.0 - tau) * (D @ theta0)])
            solution = np.linalg.lstsq(kkt, rhs, rcond=None)[0]
            theta = np.zeros(p)
            theta[support] = solution[: len(support)]
            value = fair_objective(X, y, theta, comparisons, params)
            if value < best[0]:
                best = (value, theta)
        return best

    start = greedy_solution(X, y, k=params["k"], lambda0=lambda0, lambda2=lambda2)
    support = np.flatnonzero(start).tolist()
    best_value, best_theta = score(support)
    for _ in range(max_passes):
        improved = False
        for position in range(len(support)):
            for j in range(p):
                if j in support:
                    continue
                trial = sorted(support[:position] + [j] + support[position + 1:])
                value, theta = score(trial)
                if value < best_value - 1e-12 * max(1.0, abs(best_value)):
                    best_value, best_theta, support, improved = value, theta, trial, True
        if not improved:
            break
    return best_theta


# -- host: fair sparse regression (37) ------------------------------------------------------
def _threshold_value(y: np.ndarray, threshold) -> float:
    if threshold in (None, "mean"):
        return float(np.mean(y))
    if threshold == "median":
        return float(np.median(y))
    try:
        value = float(threshold)
    except (TypeError, ValueError):
        raise InputError(f"threshold must be 'mean', 'median' or a number; got {threshold!r}") from None
    if not math.isfinite(value):
        raise InputError("threshold must be finite")
    return value


class _WithFairnessIndicators:
    """Adds the favourable-outcome indicators ζ (``model.fair_zeta``) to the extracted solution."""

    def extract(self, model, instance: Instance, params: dict[str, Any]) -> dict[str, np.ndarray]:
        solution = super().extract(model, instance, params)
        solution["zeta"] = values(model.fair_zeta, instance.X.shape[0])
        return solution


@register
class FairSparseRegression(_WithFairnessIndicators, Perspective):
    """Formulation (37): perspective sparse regression (7) with favourable-outcome indicators
    ζ linked to predictions by big-M (37e) and a group-fairness constraint ((36)/(37d) by
    default; any notion of §5) — tutorial eq. 37, Figure 13."""

    id = "fairness.sparse_regression"
    equation = "(37)"
    problem_class = "MISOCP"
    family = "fairness"
    summary = "perspective sparse regression (7) with statistical-parity-type fairness constraints on predictions"
    hyperparameters = {**Perspective.hyperparameters, "delta": 0.2, "notion": "statistical_parity",
                       "one_sided": False, "protected": None, "threshold": "mean", "favourable": "below",
                       "epsilon": 1e-3}
    benchmark_cases = (("fairreg-n40-p5", {"k": 2, "lambda2": 0.1, "delta": 0.1}),
                       ("fairreg-n120-p10", {"k": 2, "lambda2": 0.1, "delta": 0.1}))

    # -- validation -----------------------------------------------------------------
    def validate(self, instance: Instance, params: dict[str, Any]) -> dict[str, Any]:
        auto_m = params.get("M") in (None, "auto")
        base = super().validate(instance, {**params, "M": 1.0} if auto_m else params)
        base = check_fairness_params(base)
        X, y = check_xy(instance)
        check_group(instance, X.shape[0])
        base["threshold_value"] = _threshold_value(y, base["threshold"])
        self.comparisons(instance, base)  # raises InputError on bad groups / missing arrays
        if auto_m:
            base["M"], base["M_source"] = self._derive_box(instance, base)
        return base

    def comparisons(self, instance: Instance, params: dict[str, Any]) -> tuple[list[Comparison], list[str]]:
        return threshold_comparisons(instance.y, instance["group"], params, stratum=instance.arrays.get("stratum"))

    def _derive_box(self, instance: Instance, params: dict[str, Any]) -> tuple[float, str]:
        X, y = check_xy(instance)
        comparisons, _ = self.comparisons(instance, params)
        greedy = greedy_solution(X, y, k=params["k"], lambda0=params["lambda0"] or 0.0, lambda2=params["lambda2"])
        heuristic = fair_heuristic(X, y, comparisons, params)
        upper = min(fair_objective(X, y, theta, comparisons, params) for theta in (greedy, heuristic, np.zeros(X.shape[1])))
        if math.isfinite(upper):
            M = certified_big_m(X, y, params["lambda2"], upper, max_size=params["k"],
                                lambda0=params["lambda0"] or 0.0)
            if M is not None:
                return M, "derived"
        return heuristic_big_m(greedy, X, y), "heuristic"

    # -- model ------------------------------------------------------------------------
    def build(self, instance: Instance, params: dict[str, Any]) -> pyo.ConcreteModel:
        m = super().build(instance, params)
        X, _ = check_xy(instance)
        n, p = X.shape
        m.prediction_samples = pyo.RangeSet(0, n - 1)
        m.prediction = pyo.Expression(
            m.prediction_samples,
            rule=lambda m, i: pyo.quicksum(float(X[i, j]) * m.theta[j] for j in range(p) if X[i, j] != 0.0),
        )
        attach_to_model(m, prediction=m.prediction, X=X, y=instance.y, group=instance["group"],
                        bound=prediction_bounds(X, float(params["M"]), params["k"]), params=params,
                        stratum=instance.arrays.get("stratum"))
        return m

    # -- evaluator --------------------------------------------------------------------
    def evaluate(self, instance: Instance, params: dict[str, Any], solution: dict[str, np.ndarray]) -> Evaluation:
        evaluation = super().evaluate(instance, params, solution)
        X, _ = check_xy(instance)
        theta = np.asarray(solution["theta"], dtype=float)
        prediction = X @ theta if np.all(np.isfinite(theta)) else np.full(X.shape[0], np.nan)
        add_fairness_evaluation(evaluation, instance, params, prediction, solution.get("zeta"),
                                self.comparisons(instance, params))
        if math.isfinite(evaluation.objective):
            evaluation.info["theta"] = theta.tolist()
        return evaluation


# -- host: fair sparse SVM ((9) + §5) --------------------------------------------------------
@register
class FairSparseSVM(_WithFairnessIndicators, SparseSVMBigM):
    """The sparse SVM (9) (:class:`~reference_impl.formulations.sparse_svm.SparseSVMBigM`)
    with favourable-outcome indicators on its scores sᵢ = θᵀxᵢ + θ₀ (favourable = predicted +1:
    ζᵢ = 1 ⇒ sᵢ ≥ 0, ζᵢ = 0 ⇒ sᵢ ≤ −ε; ``favourable="below"`` makes −1 the favourable label)
    and any fairness notion of §5; the true outcome of i is favourable iff yᵢ is the
    favourable label. Tutorial (9) + (35)–(40).

    Big-M, derived for the fair problem: UB is the best of the fair-feasible points
    θ = 0 with θ₀ = ±1 (all samples on one side: every rate equal; θ₀ = 0 without intercept)
    and the convex-SVM refit (clipped to a user-given box M) with its best fair intercept;
    ½‖θ*‖² ≤ UB gives M = sqrt(2·UB) (as in ``sparse_svm.bigm``). The intercept is bounded too
    (it bounds the scores in (37e)): if θ₀ > R + c, R = maxᵢ M·(k largest |xᵢⱼ|), every −1
    sample has hinge > 1 + c, so with c = UB/(λ1 n₋) − 1 the objective would exceed UB; hence
    |θ₀*| ≤ R + max(UB/(λ1 min(n₊, n₋)) − 1, 0) (``intercept_bound="auto"``), and |sᵢ| ≤
    M·(k largest |xᵢⱼ|) + that bound. UB must come from a point inside the box |θⱼ| ≤ M, or the
    bound can cut off the optimum of the boxed problem. ``intercept_bound`` may also be given
    (a number); the result then reports whether the intercept reached it.
    """

    id = "fairness.sparse_svm"
    equation = "(9) + (35)-(40)"
    problem_class = "MIQP"
    family = "fairness"
    summary = "sparse SVM (9) with statistical-parity-type fairness constraints on its predicted labels"
    hyperparameters = {**SparseSVMBigM.hyperparameters, "delta": 0.2, "notion": "statistical_parity",
                       "one_sided": False, "protected": None, "favourable": "above", "epsilon": 1e-3,
                       "intercept_bound": "auto"}
    benchmark_cases = (("fairclf-n40-p5", {"k": 2, "delta": 0.1}),)

    def validate(self, instance: Instance, params: dict[str, Any]) -> dict[str, Any]:
        auto_m = params.get("M") in (None, "auto")
        base = super().validate(instance, {**params, "M": 1.0} if auto_m else params)
        base = check_fairness_params(base)
        X, y = check_binary(instance)
        check_group(instance, X.shape[0])
        base["threshold_value"] = 0.0
        comparisons, _ = self.comparisons(instance, base)
        upper = self._fair_upper_bound(X, y, base, comparisons, box=None if auto_m else float(base["M"]))
        if auto_m:
            base["M"], base["M_source"] = math.sqrt(2.0 * upper) * (1 + 1e-6) + 1e-9, "derived"
        bound = base.get("intercept_bound")
        if base["intercept"] != "continuous":
            base["intercept_bound"] = None
        elif bound in (None, "auto"):
            R = float(prediction_bounds(X, float(base["M"]), base["k"]).max())
            n_min = float(min(np.sum(y > 0), np.sum(y < 0)))
            base["intercept_bound"] = (R + max(upper / (base["lambda1"] * n_min) - 1.0, 0.0)) * (1 + 1e-6) + 1e-9
            base["intercept_bound_source"] = "derived"
        else:
            base["intercept_bound"] = as_float(base, "intercept_bound", minimum=0.0, allow_none=False, allow_inf=False)
            base["intercept_bound_source"] = "given"
        return base

    def comparisons(self, instance: Instance, params: dict[str, Any]) -> tuple[list[Comparison], list[str]]:
        return threshold_comparisons(instance.y, instance["group"], params, stratum=instance.arrays.get("stratum"))

    def _fair_upper_bound(self, X, y, params, comparisons, box: float | None = None) -> float:
        """Objective of the best fair-feasible point inside the coefficient box ``box`` (|θⱼ| ≤
        box; ``None``: no box, M is derived from this value) among θ = 0 and the convex-SVM refit
        on the k largest coefficients, clipped to the box, each with its best fair intercept.

        The intercept of each θ is chosen among the breakpoints of the hinge sum,
        θ₀ ∈ {yᵢ − θᵀxᵢ} (the convex piecewise-linear hinge attains its minimum at one of them;
        for θ = 0 these are ±1), keeping only fair-feasible ones (θ₀ = 0 without intercept).
        Every candidate is feasible for the boxed problem, so the value bounds its optimum —
        which the intercept bound relies on."""
        from sklearn.svm import SVC

        p = X.shape[1]
        thetas = [np.zeros(p)]
        if params["intercept"] == "continuous":
            full = SVC(kernel="linear", C=params["lambda1"]).fit(X, y).coef_.ravel()
            support = np.sort(np.argsort(-np.abs(full), kind="stable")[: (params["k"] or p)])
            model = SVC(kernel="linear", C=params["lambda1"]).fit(X[:, support], y)
            theta = np.zeros(p)
            theta[support] = model.coef_.ravel()
            thetas.append(theta if box is None else np.clip(theta, -box, box))
        values_ = []
        for theta in thetas:
            scores = X @ theta
            intercepts = np.unique(y - scores) if params["intercept"] == "continuous" else np.zeros(1)
            for b in intercepts:
                if fair_pattern_ok(scores + b, comparisons, params):
                    values_.append(self.objective_value(X, y, theta, float(b), int(np.count_nonzero(theta)), params))
        if not values_:  # pragma: no cover - θ = 0 with θ₀ = ±1 (or 0) is always fair
            raise InputError("no fair-feasible starting point found to derive big-M; give M")
        return min(values_)

    def build(self, instance: Instance, params: dict[str, Any]) -> pyo.ConcreteModel:
        m = super().build(instance, params)
        X, y = check_binary(instance)
        bound = prediction_bounds(X, float(params["M"]), params["k"]) + float(params.get("intercept_bound") or 0.0)
        attach_to_model(m, prediction=self.decision_expressions(m), X=X, y=y, group=instance["group"], bound=bound,
                        params=params, stratum=instance.arrays.get("stratum"))
        return m

    def evaluate(self, instance: Instance, params: dict[str, Any], solution: dict[str, np.ndarray]) -> Evaluation:
        evaluation = super().evaluate(instance, params, solution)
        X, _ = check_binary(instance)
        theta = np.asarray(solution["theta"], dtype=float)
        scores = X @ theta + intercept_value(solution) if np.all(np.isfinite(theta)) else np.full(X.shape[0], np.nan)
        add_fairness_evaluation(evaluation, instance, params, scores, solution.get("zeta"),
                                self.comparisons(instance, params))
        if math.isfinite(evaluation.objective):
            evaluation.info["theta"] = theta.tolist()
        return evaluation
