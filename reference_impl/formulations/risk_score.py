"""Risk scores: sparse logistic regression with small integer coefficients (tutorial §2.1.2,
problem (8); FORMULATIONS.md §1).

Problem (8) of Justin, Sun, Gómez & Vayanos, "Responsible Machine Learning via Mixed-Integer
Optimization" (arXiv 2505.05857), with the intercept of Ustun & Rudin's RiskSLIM::

    min  Σᵢ log(1 + exp(−yᵢ(θᵀxᵢ + θ₀))) + λ0 Σⱼ zⱼ
    s.t. l·zⱼ ≤ θⱼ ≤ u·zⱼ,  θ ∈ ℤᵈ,  z ∈ {0,1}ᵈ,  Σⱼ zⱼ ≤ k (optional),  |θ₀| ≤ B

Hyperparameters: ``l``, ``u`` (integer point bounds, default −5, 5), ``lambda0`` and/or ``k``,
``intercept`` — ``"integer"`` (default; as in RiskSLIM, so scores and the score→risk table
stay integral), ``"continuous"`` or ``"none"`` ((8) exactly, θ₀ = 0) — and
``intercept_bound`` B (default 10). The intercept is not penalised. Labels are ±1.

Three registered ways to solve it:

* ``risk_score.minlp`` — (8) directly as an MINLP; each loss term enters through its
  exponential-cone epigraph exp(−tᵢ) + exp(−mᵢ − tᵢ) ≤ 1 (see :mod:`.sparse_classification`),
  solved by SCIP, or by Gurobi (``gurobi_direct_minlp``) when the license allows.
* ``risk_score.pwl`` — Sato, Takano, Miyashiro & Yoshise (2016): a MILP in which every loss
  term is replaced by the upper envelope of a fixed set of tangent lines of
  f(m) = log(1+exp(−m)), chosen *a priori* (``tangent_points`` or ``n_tangents`` +
  ``tangent_placement``), plus the two asymptotes 0 and −m. See :class:`RiskScorePWL` for
  how its objective, bound and gap are to be read.
* ``risk_score.cutting_plane`` — Ustun & Rudin (2019): the loss is a single variable L
  bounded below by cuts L ≥ ℓ(θᵏ) + ∇ℓ(θᵏ)ᵀ(θ − θᵏ) generated at the incumbents of a HiGHS
  MILP master, iterated until the true objective and the master's bound agree within the
  run's relative gap (:class:`RiskScoreCuttingPlane`).

:func:`score_table` and :func:`score_card` print a solution as a score card: points per
feature and a score → risk table.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyomo.environ as pyo

from ..errors import InputError
from ..instances.instance import Instance
from ..registry import register
from ._support import (
    all_finite,
    cardinality_violation,
    integrality_violation,
    missing_values,
    read_arrays,
    support_link_violation,
    support_mask,
)
from .base import Evaluation, Formulation, as_float, as_int, sparsity_terms
from .sparse_classification import (
    add_logistic_epigraph,
    add_scores,
    check_binary,
    classification_info,
    intercept_value,
    linear_classifier_solution,
    logistic_loss,
    logistic_terms,
    unique_rows,
)

INTERCEPT_CHOICES = ("integer", "continuous", "none")


# -- the objective of (8), shared by the evaluator and the cutting-plane loop ----------------
def risk_objective(X, y, theta, intercept, n_selected, lambda0) -> float:
    """Σ log(1 + exp(−y(Xθ + θ₀))) + λ0·(number selected): the objective of (8)."""
    return logistic_loss(X, y, np.asarray(theta, dtype=float), float(intercept)) + (lambda0 or 0.0) * n_selected


def best_intercept(X, y, theta, params) -> float:
    """The intercept minimising the loss for fixed θ (1-D convex), respecting its type and bound."""
    from scipy.optimize import minimize_scalar

    if params["intercept"] == "none":
        return 0.0
    B = float(params["intercept_bound"])
    scores = X @ theta
    if B == 0:
        return 0.0
    found = minimize_scalar(lambda b: float(logistic_terms(y * (scores + b)).sum()), bounds=(-B, B),
                            method="bounded", options={"xatol": 1e-10})
    best = float(found.x)
    if params["intercept"] == "integer":
        candidates = {min(max(math.floor(best), -B), B), min(max(math.ceil(best), -B), B)}
        best = min(candidates, key=lambda b: float(logistic_terms(y * (scores + b)).sum()))
    return float(best)


def margin_bound(X, params) -> np.ndarray:
    """Largest |θᵀxᵢ + θ₀| the bounds allow, per sample (uses k when given)."""
    A = np.sort(np.abs(X), axis=1)[:, ::-1] * max(abs(params["l"]), abs(params["u"]))
    if params["k"] is not None:
        A = A[:, : params["k"]]
    B = 0.0 if params["intercept"] == "none" else float(params["intercept_bound"])
    return A.sum(axis=1) + B


# -- base class -------------------------------------------------------------------------------
class _RiskScore(Formulation):
    """Validation, model skeleton, read-back and the evaluator of (8)."""

    family = "risk_score"
    hyperparameters: dict[str, Any] = {"k": None, "lambda0": None, "l": -5, "u": 5, "intercept": "integer",
                                       "intercept_bound": 10}

    def validate(self, instance: Instance, params: dict[str, Any]) -> dict[str, Any]:
        params = super().validate(instance, params)
        X, _ = check_binary(instance)
        d = X.shape[1]
        k, lambda0 = sparsity_terms(self.id, params, d, f" (the instance has d = {d} features)")
        for name in ("l", "u"):
            if params.get(name) is None:
                raise InputError(f"hyperparameter {name} (integer coefficient bound) is required")
        lower, upper = as_int(params, "l"), as_int(params, "u")
        if lower > upper:
            raise InputError(f"the coefficient bounds need l <= u; got l = {lower} > u = {upper}")
        if params.get("intercept") not in INTERCEPT_CHOICES:
            raise InputError(f"intercept must be one of {', '.join(INTERCEPT_CHOICES)}; got {params.get('intercept')!r}")
        bound = as_float(params, "intercept_bound", minimum=0.0, allow_none=False)
        if not math.isfinite(bound):
            raise InputError("intercept_bound must be finite")
        if params["intercept"] == "integer":
            bound = float(math.floor(bound))
        return {**params, "k": k, "lambda0": lambda0, "l": lower, "u": upper, "intercept_bound": bound,
                **self._validate_more(X, params)}

    def _validate_more(self, X, params) -> dict[str, Any]:
        return {}

    def _skeleton(self, instance: Instance, params: dict[str, Any]) -> pyo.ConcreteModel:
        """θ ∈ ℤ ∩ [min(l,0), max(u,0)], z, links lzⱼ ≤ θⱼ ≤ uzⱼ, cardinality, intercept, scores."""
        X, _ = check_binary(instance)
        lower, upper = params["l"], params["u"]
        m = pyo.ConcreteModel(name=self.id)
        m.features = pyo.RangeSet(0, X.shape[1] - 1)
        m.theta = pyo.Var(m.features, domain=pyo.Integers, bounds=(min(lower, 0), max(upper, 0)))
        m.z = pyo.Var(m.features, domain=pyo.Binary, bounds=(0, 1))
        m.bound_lower = pyo.Constraint(m.features, rule=lambda m, j: lower * m.z[j] <= m.theta[j])
        m.bound_upper = pyo.Constraint(m.features, rule=lambda m, j: m.theta[j] <= upper * m.z[j])
        if params["k"] is not None:
            m.cardinality = pyo.Constraint(expr=pyo.quicksum(m.z[j] for j in m.features) <= params["k"])
        B = params["intercept_bound"]
        if params["intercept"] == "none":
            m.intercept = None
        else:
            domain = pyo.Integers if params["intercept"] == "integer" else pyo.Reals
            m.intercept = pyo.Var(domain=domain, bounds=(-B, B))
        add_scores(m, X, m.theta, m.intercept)
        return m

    def _penalty(self, m, params):
        return (params["lambda0"] or 0.0) * pyo.quicksum(m.z[j] for j in m.features)

    def decision_expressions(self, model: pyo.ConcreteModel):
        """Per-sample scores θᵀxᵢ + θ₀ (indexed Pyomo Expression over i = 0..n−1)."""
        return model.score

    def extract(self, model, instance: Instance, params: dict[str, Any]) -> dict[str, np.ndarray]:
        return linear_classifier_solution(model, instance.X.shape[1])

    def evaluate(self, instance: Instance, params: dict[str, Any], solution: dict[str, np.ndarray]) -> Evaluation:
        """Recompute (8) from θ, z, θ₀ and check integrality, links, bounds, cardinality."""
        X, y = check_binary(instance)
        theta, z = read_arrays(solution, {"theta": X.shape[1], "z": X.shape[1]})
        intercept = intercept_value(solution)
        if not all_finite(theta, z, intercept):
            return missing_values()
        lower, upper, B = params["l"], params["u"], params["intercept_bound"]
        selected = support_mask(z)
        integral = [theta, z] + ([np.array([intercept])] if params["intercept"] == "integer" else [])
        violations = {
            "integrality": integrality_violation(*integral),
            "support_link": support_link_violation(theta, selected),
            "coefficient_bounds": float(np.max(np.maximum(lower * z - theta, theta - upper * z), initial=0.0)),
            "intercept_bound": max(abs(intercept) - B, 0.0) if params["intercept"] != "none" else abs(intercept),
        }
        if params["k"] is not None:
            violations["cardinality"] = cardinality_violation(selected, params["k"])
        objective = risk_objective(X, y, theta, intercept, int(selected.sum()), params["lambda0"])
        names = instance.feature_names
        info = {
            "support": np.flatnonzero(selected).tolist(),
            "points": {names[j]: int(round(theta[j])) for j in np.flatnonzero(np.round(theta) != 0)},
            "intercept": intercept,
            "logistic_loss": logistic_loss(X, y, theta, intercept),
            **classification_info(X, y, theta, intercept),
        }
        info.update(self._extra_info(X, y, theta, z, intercept, params))
        return Evaluation(objective=objective, violations=violations, info=info)

    def _extra_info(self, X, y, theta, z, intercept, params) -> dict[str, Any]:
        return {}


@register
class RiskScoreMINLP(_RiskScore):
    """Problem (8) as an MINLP: integer points, logistic loss in exponential-cone epigraph form
    (tutorial eq. 8; solved directly by SCIP / Gurobi)."""

    id = "risk_score.minlp"
    equation = "(8)"
    problem_class = "MINLP"
    summary = "integer-coefficient risk score, logistic loss solved directly (exp-cone epigraph)"
    benchmark_cases = (("synrisk-n200-d6", {"k": 3}), ("breast-cancer-binary", {"k": 5}))

    def build(self, instance: Instance, params: dict[str, Any]) -> pyo.ConcreteModel:
        X, y = check_binary(instance)
        m = self._skeleton(instance, params)
        loss = add_logistic_epigraph(m, X, y)
        m.objective = pyo.Objective(expr=loss + self._penalty(m, params))
        return m


# -- piecewise-linear (tangent) outer approximation ------------------------------------------
def _f(s):
    return logistic_terms(s)


def _fprime(s):
    return -0.5 * (1.0 - np.tanh(0.5 * np.asarray(s, dtype=float)))


def tangent_lines(points) -> tuple[np.ndarray, np.ndarray]:
    """Slopes and intercepts of the tangents of f(m) = log(1+exp(−m)) at ``points``, plus the
    asymptotes −m (slope −1) and 0, sorted by slope (the order of the envelope's pieces)."""
    points = np.sort(np.asarray(points, dtype=float))
    slopes = np.concatenate([[-1.0], _fprime(points), [0.0]])
    intercepts = np.concatenate([[0.0], _f(points) - _fprime(points) * points, [0.0]])
    return slopes, intercepts


def envelope(s, points) -> np.ndarray:
    """max over the tangent lines (and asymptotes) at ``s``: the PWL surrogate of f."""
    slopes, intercepts = tangent_lines(points)
    s = np.asarray(s, dtype=float)
    return np.max(np.multiply.outer(s, slopes) + intercepts, axis=-1)


def envelope_max_error(points, S: float) -> tuple[float, float]:
    """max_{|m| ≤ S} f(m) − envelope(m), exactly, and where it is attained.

    f − (a line) is convex, so on each linear piece of the envelope the error is largest at
    the piece's ends: the max is at a breakpoint of the envelope inside [−S, S] or at ±S.
    Consecutive lines (sorted by slope) of tangents to a convex function meet at exactly the
    envelope's breakpoints."""
    slopes, intercepts = tangent_lines(points)
    keep = np.concatenate([[True], np.diff(slopes) > 1e-15])  # drop duplicate tangents
    slopes, intercepts = slopes[keep], intercepts[keep]
    breaks = (intercepts[1:] - intercepts[:-1]) / (slopes[:-1] - slopes[1:])
    candidates = np.concatenate([breaks[np.abs(breaks) <= S], [-S, S]])
    errors = _f(candidates) - envelope(candidates, points)
    worst = int(np.argmax(errors))
    return float(max(errors[worst], 0.0)), float(candidates[worst])


def choose_tangent_points(n: int, S: float, placement: str = "greedy") -> np.ndarray:
    """``n`` tangent points for margins in [−S, S].

    ``uniform``: evenly spaced on [−S, S]. ``greedy`` (default): start from m = 0 and add, one
    at a time, a tangent at the point of largest envelope error (Sato et al. 2016 choose their
    points to keep the approximation error small; this is a deterministic rule to that end).
    """
    if placement == "uniform":
        return np.linspace(-S, S, n) if n > 1 else np.zeros(1)
    points = [0.0]
    while len(points) < n:
        _, where = envelope_max_error(points, S)
        if any(abs(where - p) < 1e-12 for p in points):
            break
        points.append(where)
    return np.sort(np.array(points))


@register
class RiskScorePWL(_RiskScore):
    """Problem (8) with the logistic loss replaced by the upper envelope of fixed tangent lines
    (Sato, Takano, Miyashiro & Yoshise 2016): a MILP, an *a-priori* outer approximation.

    Reading its result record: the MILP minimises a surrogate L̃ ≤ L (tangents of a convex
    function lie below it), so
    * the MILP value, and the solver's bound on it (``record.bound``), are valid *lower*
      bounds on the true optimum of (8);
    * the evaluator reports the TRUE logistic objective of the returned θ
      (``record.objective``), an upper bound on the optimum; the surrogate (MILP) objective
      recomputed from θ is in ``extra.surrogate_objective`` (the status `optimal` means the
      surrogate was solved to optimality: api checks the claim against it);
    * ``record.gap`` therefore certifies the true suboptimality of the PWL solution, and it
      includes the approximation error: true − surrogate ≤ Σᵢ max_{|m|≤Sᵢ} (f − envelope),
      reported as ``extra.pwl_error_bound`` (per-sample worst case ``pwl_max_error`` over the
      margins the bounds allow, |m| ≤ ``pwl_margin_range``). With a coarse tangent set the gap
      exceeds the run's tolerance even when the MILP is solved exactly; ``extra.warning``
      says so, and ``extra.surrogate_gap`` is the gap of the surrogate itself.
    """

    id = "risk_score.pwl"
    equation = "(8), PWL loss (Sato et al. 2016)"
    problem_class = "MILP"
    summary = "integer-coefficient risk score, logistic loss by a fixed set of tangent lines (MILP)"
    benchmark_cases = RiskScoreMINLP.benchmark_cases
    hyperparameters = {**_RiskScore.hyperparameters, "n_tangents": 9, "tangent_placement": "greedy",
                       "tangent_points": None}
    #: the MILP optimises an approximation; its optimum need not be optimal for (8)
    approximation = True

    def _validate_more(self, X, params) -> dict[str, Any]:
        S = float(margin_bound(X, params).max())
        if params.get("tangent_points") is not None:
            try:
                points = np.asarray(params["tangent_points"], dtype=float).reshape(-1)
            except (TypeError, ValueError):
                raise InputError("tangent_points must be a list of numbers") from None
            if points.size == 0 or not np.all(np.isfinite(points)):
                raise InputError("tangent_points must be a non-empty list of finite numbers")
        else:
            n = as_int(params, "n_tangents", minimum=1)
            if n is None:
                raise InputError("n_tangents is required when tangent_points is not given")
            if params.get("tangent_placement") not in ("greedy", "uniform"):
                raise InputError(f"tangent_placement must be greedy or uniform; got {params.get('tangent_placement')!r}")
            points = choose_tangent_points(n, S, params["tangent_placement"])
        points = np.unique(points)
        max_error, _ = envelope_max_error(points, S)
        return {"tangent_points": points.tolist(), "pwl_margin_range": S, "pwl_max_error": max_error}

    def build(self, instance: Instance, params: dict[str, Any]) -> pyo.ConcreteModel:
        X, y = check_binary(instance)
        m = self._skeleton(instance, params)
        rep, weight = unique_rows(X, y)
        slopes, intercepts = tangent_lines(params["tangent_points"])
        slopes, intercepts = slopes[:-1], intercepts[:-1]  # the asymptote 0 is the bound loss >= 0
        m.rows = pyo.RangeSet(0, len(rep) - 1)
        m.lines = pyo.RangeSet(0, len(slopes) - 1)
        m.loss = pyo.Var(m.rows, bounds=(0, None))
        m.tangent = pyo.Constraint(
            m.rows, m.lines,
            rule=lambda m, g, t: m.loss[g] >= float(intercepts[t])
            + float(slopes[t] * y[rep[g]]) * m.score[int(rep[g])],
        )
        m.objective = pyo.Objective(
            expr=pyo.quicksum(float(weight[g]) * m.loss[g] for g in m.rows) + self._penalty(m, params)
        )
        return m

    def _extra_info(self, X, y, theta, z, intercept, params) -> dict[str, Any]:
        margins = y * (X @ theta + intercept)
        surrogate = float(envelope(margins, params["tangent_points"]).sum())
        per_sample = np.array([envelope_max_error(params["tangent_points"], S)[0] for S in margin_bound(X, params)])
        bound = float(per_sample.sum())
        true_loss = logistic_loss(X, y, theta, intercept)
        penalty = (params["lambda0"] or 0.0) * int((z > 0.5).sum())
        return {
            "surrogate_objective": surrogate + penalty,
            "pwl_realized_error": true_loss - surrogate,
            "pwl_error_bound": bound,
            "pwl_max_error": params["pwl_max_error"],
            "pwl_margin_range": params["pwl_margin_range"],
            "pwl_n_tangents": len(params["tangent_points"]),
            "warning": (f"PWL surrogate (Sato et al. 2016): objective is the true logistic objective of the "
                        f"surrogate's solution; it exceeds the surrogate by {true_loss - surrogate:.4g} "
                        f"(at most {bound:.4g}), so the gap includes the approximation error"),
        }


# -- cutting planes on a MILP master (Ustun & Rudin 2019) -------------------------------------
@register
class RiskScoreCuttingPlane(_RiskScore):
    """Problem (8) by loss cuts on a MILP master (Ustun & Rudin 2019, RiskSLIM's cutting planes
    as an iterative loop rather than lazy callbacks).

    Master: min L + λ0 Σz over the constraints of (8), L ≥ 0 and the cuts
    L ≥ ℓ(θᵏ,θ₀ᵏ) + ∇ℓᵀ((θ,θ₀) − (θᵏ,θ₀ᵏ)) collected so far. ℓ is convex, so every cut
    under-estimates it and the master's bound is a valid lower bound on (8); the best true
    objective over the points visited is an upper bound. The loop:

    1. cut at θ = 0 (with its best intercept), which is also the first incumbent;
    2. ``lp_warmup`` rounds of Kelley's method on the master's LP relaxation (cuts at
       fractional points are valid too; they make the first MILP masters much tighter);
    3. repeat: solve the MILP master with HiGHS; bound ← its proven bound; evaluate the true
       objective at its θ (and at θ with the best intercept for that θ); cut at both points;
       stop when ``relative_gap(incumbent, bound) ≤ rel_gap`` (the miobench gap) or at the
       time or ``max_iterations`` limit. Masters are solved to a relative gap of a quarter of
       the loop's current gap (at most 5 %, at least min(rel_gap/10, 1e-7)): a loosely solved
       master's proven bound is still valid and its incumbent still a new cut point, and
       early masters are where an exact solve is wasted.

    An exactly solved master that returns a point it already has a cut at proves the gap
    closed (its value there is the true loss); with integer θ and θ₀ there are finitely many
    points, so the loop is finite (with a continuous θ₀ it converges, Kelley-style). The native
    solver name is ``highs``. The class is ``MILP loop``
    (FORMULATIONS.md): a sequence of MILPs, not one Pyomo model, so no Pyomo solver takes it
    and ``--solver scip``/``gurobi`` give status ``unsupported``. No root relaxation is
    recorded for it (``api.solve`` records one only for Pyomo models); the LP warm-up's
    last bound is in ``extra.lp_bound``.
    """

    id = "risk_score.cutting_plane"
    equation = "(8), loss cuts (Ustun & Rudin 2019)"
    problem_class = "MILP loop"
    summary = "integer-coefficient risk score by logistic-loss cutting planes on a HiGHS MILP master (loop)"
    hyperparameters = {**_RiskScore.hyperparameters, "max_iterations": 1000, "lp_warmup": 100}
    #: benchmarked by asv's ``NativeSolvers`` (the loop is no Pyomo model); tiny and quick
    benchmark_cases = (("synrisk-n60-d3", {"k": 2}),)

    def _validate_more(self, X, params) -> dict[str, Any]:
        limits = {"max_iterations": as_int(params, "max_iterations", minimum=1),
                  "lp_warmup": as_int(params, "lp_warmup", minimum=0)}
        for name, value in limits.items():
            if value is None:
                raise InputError(f"hyperparameter {name} must be an integer (default {self.hyperparameters[name]})")
        return limits

    def build(self, instance: Instance, params: dict[str, Any]) -> pyo.ConcreteModel:
        """The master MILP without cuts (the loop itself runs in :mod:`reference_impl.solvers.adapters.cutting_plane`). Its
        problem class ``MILP loop`` is one no Pyomo solver takes, so asking for one gives the
        status ``unsupported``."""
        return self.master(instance, params)

    def master(self, instance: Instance, params: dict[str, Any]) -> pyo.ConcreteModel:
        """The master MILP without cuts: min L + λ0Σz subject to (8)'s constraints, L ≥ 0."""
        m = self._skeleton(instance, params)
        m.total_loss = pyo.Var(bounds=(0, None))
        m.cuts = pyo.ConstraintList()
        m.objective = pyo.Objective(expr=m.total_loss + self._penalty(m, params))
        return m


# -- score card ---------------------------------------------------------------------------------
def _as_instance(instance) -> Instance:
    from ..instances import resolve_instance

    return resolve_instance(instance)


def score_table(instance, solution: dict[str, np.ndarray]):
    """Score → risk table of a risk score (pandas DataFrame).

    One row per attainable total score s = Σⱼ θⱼxⱼ: ``risk`` = 1/(1 + exp(−(s + θ₀))) (the
    predicted probability of y = +1), plus the number of instance samples with that score
    (``n``) and their observed rate of y = +1 (``observed``). When the features on the support
    take integer values in the data, every integer score between the smallest and largest
    attainable one is listed; otherwise the observed scores."""
    import pandas as pd

    inst = _as_instance(instance)
    X, y = check_binary(inst)
    theta = np.round(np.asarray(solution["theta"], dtype=float))
    b = intercept_value(solution)
    scores = X @ theta
    support = np.flatnonzero(theta)
    if support.size and np.all(X[:, support] == np.round(X[:, support])):
        lo = float(np.sum(np.minimum(theta[support] * X[:, support].min(axis=0), theta[support] * X[:, support].max(axis=0))))
        hi = float(np.sum(np.maximum(theta[support] * X[:, support].min(axis=0), theta[support] * X[:, support].max(axis=0))))
        grid = np.arange(round(lo), round(hi) + 1, dtype=float)
    else:
        grid = np.unique(np.round(scores, 6))
    rows = []
    for s in grid:
        mask = np.isclose(scores, s, atol=1e-6)
        rows.append({"score": s, "risk": 1.0 / (1.0 + math.exp(-(s + b))), "n": int(mask.sum()),
                     "observed": float(np.mean(y[mask] > 0)) if mask.any() else float("nan")})
    return pd.DataFrame(rows, columns=["score", "risk", "n", "observed"])


def score_card(instance, solution: dict[str, np.ndarray]) -> str:
    """A printable score card: points per feature, then the score → risk table."""
    inst = _as_instance(instance)
    names = inst.feature_names
    theta = np.round(np.asarray(solution["theta"], dtype=float)).astype(int)
    b = intercept_value(solution)
    width = max([len(names[j]) for j in np.flatnonzero(theta)] + [len("feature")])
    lines = ["RISK SCORE CARD", f"{'feature':<{width}}  points"]
    lines += [f"{names[j]:<{width}}  {theta[j]:+d}" for j in np.flatnonzero(theta)]
    lines += [f"{'SCORE':<{width}}  = sum of points", f"risk = 1 / (1 + exp(-(SCORE {b:+g})))", ""]
    table = score_table(inst, solution)
    formatted = table.assign(score=table["score"].map(lambda v: f"{v:g}"),
                             risk=table["risk"].map(lambda v: f"{100 * v:.1f}%"),
                             observed=table["observed"].map(lambda v: "" if np.isnan(v) else f"{100 * v:.1f}%"))
    lines.append(formatted.to_string(index=False))
    return "\n".join(lines)
