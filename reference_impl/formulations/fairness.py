"""Fairness constraints over favourable-outcome indicators, and fair sparse regression
(tutorial §5; FORMULATIONS.md §6).

Justin, Sun, Gómez & Vayanos, "Responsible Machine Learning via Mixed-Integer Optimization"
(arXiv 2505.05857), §5. A model exposes per-sample indicators ζᵢ ∈ {0,1}, ζᵢ = 1 iff the
predicted outcome of i is favourable (35b). With I0 the protected group, I1 = I \\ I0, and
rate(A) = (1/|A|) Σ_{i∈A} ζᵢ, the group-fairness notions are

* statistical parity (36):               |rate(I0) − rate(I1)| ≤ δ
* conditional statistical parity (38):   |rate(I0 ∩ I_w) − rate(I1 ∩ I_w)| ≤ δ  ∀ w ∈ W
  (``stratum`` array: the values w of the legitimate variables)
* predictive equality (39):              |rate(I0 ∩ I−) − rate(I1 ∩ I−)| ≤ δ
  (I− = samples whose *true* outcome is unfavourable: equal false-favourable rates)
* equal opportunity (40):                |rate(I0 ∩ I+) − rate(I1 ∩ I+)| ≤ δ
  (I+ = samples whose true outcome is favourable: equal true-favourable rates)
* equalized odds:                        (39) and (40)

§5.2 variants: **one-sided** constraints drop the absolute value and protect the protected
group only, rate(I0 ∩ ·) ≥ rate(I1 ∩ ·) − δ; **multi-group** labels (more than two values
in ``group``) give one constraint per group g against the rest of the population (Kearns et
al. 2018), for every g in ``protected`` (default: all groups). Comparisons in which one side
is empty (e.g. a stratum without protected samples) are left out and listed in the result.
Group labels may be numbers, booleans or strings (categorical data); they are factorised
(:func:`factorize_groups`: sorted distinct labels, the "larger" label being the last in sort
order) and a missing label (NaN, None) is an input error.

The library is solver- and model-agnostic: :func:`fairness_comparisons` turns group labels
into pairs of index sets, :func:`attach_fairness` adds the linear constraints over any
Pyomo indexed binary ``zeta``, :func:`attach_threshold_link` links ζ to any per-sample
prediction expressions by big-M (37e), and :func:`comparison_gaps`,
:func:`fairness_violation`, :func:`favourable_from_predictions` recompute everything from
plain arrays (the evaluators).

Threshold link (37e), written for "favourable = prediction below the threshold t" (the
tutorial's F = (−∞, y0): cities predicted below the mean crime rate), with u = f(x) − t:

    ζ = 1 ⇒ u ≤ 0:         u ≤ U (1 − ζ)
    ζ = 0 ⇒ u ≥ ε:         u ≥ ε − (ε + L) ζ

with U ≥ max u and L ≥ −min u over the feasible predictions (``favourable="above"`` uses
u = t − f(x)). The margin ε > 0 (``epsilon``) makes ζ a function of the prediction — the
tutorial's (37e) leaves ζ free when f(x) = t exactly, which a solver would exploit to meet
the fairness constraint for free — so every metric can be recomputed from predictions alone
(ζ̂ = 1[u ≤ ε/2]). In the tutorial's (37e) ζ marks the prediction *above* y0; for the
two-sided constraints this is the same model (1 − ζ has the same group gaps up to sign).

Hosts (registered formulations):

* ``fairness.sparse_regression`` = (37): the perspective sparse regression (7)
  (:class:`~reference_impl.formulations.sparse_regression.Perspective`) plus ζ, (37e) and the
  chosen notion (default statistical parity (36)/(37d), δ = 0.2).
* ``fairness.sparse_svm``: the sparse SVM (9)
  (:class:`~reference_impl.formulations.sparse_classification.SparseSVMBigM`), ζ linked to its
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
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np
import pyomo.environ as pyo

from ..errors import InputError
from ..instances.instance import Instance, check_xy
from ..registry import register
from ._pyomo import values
from .base import FEASIBILITY_TOL, Evaluation, as_float
from .sparse_classification import SparseSVMBigM, check_binary, intercept_value
from .sparse_regression import Perspective, certified_big_m, greedy_solution, heuristic_big_m, objective_value
NOTIONS = ("statistical_parity", "conditional_statistical_parity", "predictive_equality",
           "equal_opportunity", "equalized_odds")
DIRECTIONS = ("below", "above")
#: smallest margin ε: the prediction-based recomputation needs ε/2 well above the tolerance
MIN_EPSILON = 10 * FEASIBILITY_TOL


@dataclass(frozen=True)
class Comparison:
    """One fairness comparison: rate(first) vs rate(second); ``first`` is the protected side."""

    name: str
    equation: str
    first: np.ndarray
    second: np.ndarray


# -- which sets are compared --------------------------------------------------------------
#: string group labels that mean "missing" (how None/NaN look once an array is stored as strings)
MISSING_LABELS = frozenset({"none", "nan", "", "<na>", "null"})


def factorize_groups(group) -> tuple[np.ndarray, np.ndarray]:
    """Group labels → (integer codes 0..G−1 per sample, the sorted distinct labels).

    Labels may be numbers, booleans or strings (categorical data: ``np.asarray`` of a pandas
    Categorical gives its values); mixed-type labels are compared as strings. Missing labels
    (NaN, None, infinite values) raise :class:`InputError`: a sample must belong to a group."""
    group = np.asarray(group)
    if group.ndim != 1:
        raise InputError("group must be a 1-D array of group labels, one per sample")
    if group.dtype.kind == "f":
        if not np.all(np.isfinite(group)):
            bad = np.flatnonzero(~np.isfinite(group))
            raise InputError(f"group has missing or infinite labels (NaN/inf) at samples {bad[:10].tolist()}; "
                             "every sample needs a group label")
        if np.all(group == np.round(group)):
            group = group.astype(np.int64)
    elif group.dtype.kind == "O":
        missing = [i for i, v in enumerate(group.tolist())
                   if v is None or (isinstance(v, float) and not math.isfinite(v))]
        if missing:
            raise InputError(f"group has missing labels (None/NaN) at samples {missing[:10]}; "
                             "every sample needs a group label")
        values_ = group.tolist()
        if all(isinstance(v, str) for v in values_) or not all(
                isinstance(v, (int, float, np.integer, np.floating, bool, np.bool_)) for v in values_):
            group = np.array([str(v) for v in values_])
        else:
            group = np.array(values_)
    elif group.dtype.kind == "S":
        group = group.astype(str)
    elif group.dtype.kind not in "biuU":
        raise InputError(f"group labels must be numbers or strings; got dtype {group.dtype}")
    if group.dtype.kind == "U":
        # the instance loader stores object arrays as strings: a missing label arrives as "None"/"nan"
        missing = np.flatnonzero(np.isin(np.char.lower(np.char.strip(group)), list(MISSING_LABELS)))
        if missing.size:
            raise InputError(f"group has missing labels ({str(group[missing[0]])!r}) at samples {missing[:10].tolist()}; "
                             "every sample needs a group label")
    labels, codes = np.unique(group, return_inverse=True)
    return codes.reshape(-1).astype(np.int64), labels


def check_group(instance: Instance, n: int) -> np.ndarray:
    """The instance's ``group`` array, checked (one label per sample, none missing); returns
    the factorised integer codes (see :func:`factorize_groups`)."""
    group = np.asarray(instance["group"])  # a missing array is the instance's own InputError
    if group.shape != (n,):
        raise InputError(f"group must hold one label per sample ({n}); got shape {group.shape}")
    return factorize_groups(group)[0]


def _protected_labels(labels: np.ndarray, protected) -> list:
    if protected is None:
        return [labels[-1]] if labels.size == 2 else labels.tolist()  # np.unique sorts: [-1] is the largest
    wanted = protected if isinstance(protected, (list, tuple, np.ndarray)) else [protected]
    chosen = []
    for label in wanted:
        matches = [v for v in labels.tolist() if v == label or str(v) == str(label)]
        if not matches:
            raise InputError(f"protected group {label!r} does not occur in group (labels: {labels.tolist()})")
        chosen.append(matches[0])
    return chosen


def fairness_comparisons(notion: str, group, *, protected=None, true_favourable=None,
                         stratum=None) -> tuple[list[Comparison], list[str]]:
    """The comparisons a fairness notion imposes; returns (comparisons, names left out as empty).

    ``group``: label per sample (two labels: ``protected`` — default the larger label — vs
    the other; more labels: each protected label vs the rest). ``true_favourable``: boolean
    per sample (needed by (39), (40), equalized odds). ``stratum``: legitimate-variable value
    per sample (needed by (38)).
    """
    if notion not in NOTIONS:
        raise InputError(f"notion must be one of {', '.join(NOTIONS)}; got {notion!r}")
    codes, labels = factorize_groups(group)
    if labels.size < 2:
        raise InputError(f"group must hold at least two different labels; got {labels.tolist()}")
    subsets: list[tuple[str, str, np.ndarray]] = []  # (suffix, equation, mask)
    everyone = np.ones(codes.size, dtype=bool)
    if notion == "statistical_parity":
        subsets.append(("", "(36)", everyone))
    elif notion == "conditional_statistical_parity":
        if stratum is None:
            raise InputError("conditional statistical parity (38) needs a 'stratum' array (legitimate variable per sample)")
        stratum = np.asarray(stratum)
        if stratum.shape != codes.shape:
            raise InputError("stratum must have one value per sample")
        subsets += [(f"w={w}", "(38)", stratum == w) for w in np.unique(stratum).tolist()]
    else:
        if true_favourable is None:
            raise InputError(f"{notion} needs the true outcomes (which samples are truly favourable)")
        truth = np.asarray(true_favourable, dtype=bool)
        if notion in ("predictive_equality", "equalized_odds"):
            subsets.append(("true unfavourable", "(39)", ~truth))
        if notion in ("equal_opportunity", "equalized_odds"):
            subsets.append(("true favourable", "(40)", truth))
    comparisons, skipped = [], []
    for label in _protected_labels(labels, protected):
        in_group = codes == int(np.flatnonzero(labels == label)[0])
        for suffix, equation, mask in subsets:
            name = f"{notion}[group={label} vs rest{', ' + suffix if suffix else ''}]"
            first, second = np.flatnonzero(in_group & mask), np.flatnonzero(~in_group & mask)
            if first.size == 0 or second.size == 0:
                skipped.append(name)
                continue
            comparisons.append(Comparison(name, equation, first, second))
    if not comparisons:
        raise InputError(f"{notion}: every comparison has an empty side ({'; '.join(skipped)})")
    return comparisons, skipped


# -- constraints on a Pyomo model ------------------------------------------------------------
def attach_fairness(model: pyo.Block, zeta, comparisons: list[Comparison], delta: float, *,
                    one_sided: bool = False, name: str = "fairness") -> None:
    """Add rate(first) − rate(second) ≥ −δ (and ≤ δ unless ``one_sided``) for every comparison,
    as indexed constraints ``<name>_lower`` / ``<name>_upper`` over ``<name>_rows``."""
    rows = pyo.RangeSet(0, len(comparisons) - 1)
    model.add_component(f"{name}_rows", rows)

    def gap(m, r):
        c = comparisons[r]
        return (pyo.quicksum(zeta[int(i)] for i in c.first) * (1.0 / c.first.size)
                - pyo.quicksum(zeta[int(i)] for i in c.second) * (1.0 / c.second.size))

    model.add_component(f"{name}_lower", pyo.Constraint(rows, rule=lambda m, r: gap(m, r) >= -float(delta)))
    if not one_sided:
        model.add_component(f"{name}_upper", pyo.Constraint(rows, rule=lambda m, r: gap(m, r) <= float(delta)))


def attach_threshold_link(model: pyo.Block, zeta, prediction, samples, threshold: float,
                          bound: np.ndarray, *, epsilon: float, favourable: str = "below",
                          name: str = "zeta_link") -> None:
    """Link ζᵢ to ``prediction[i]`` by (37e) with margin ε: ζᵢ = 1 ⇒ prediction favourable side
    of ``threshold``; ζᵢ = 0 ⇒ at least ε on the other side. ``bound[i]`` ≥ |prediction[i]|
    over the feasible set (the big-M source); ``samples`` is the index set of ``zeta``."""
    sign = 1.0 if favourable == "below" else -1.0
    t = float(threshold)
    upper = np.maximum(bound - sign * t, 0.0)   # U ≥ max u, u = sign·(f − t)
    lower = np.maximum(bound + sign * t, 0.0)   # L ≥ −min u

    def u(i):
        return sign * (prediction[i] - t)

    model.add_component(f"{name}_favourable", pyo.Constraint(
        samples, rule=lambda m, i: u(i) <= float(upper[i]) * (1 - zeta[i])))
    model.add_component(f"{name}_unfavourable", pyo.Constraint(
        samples, rule=lambda m, i: u(i) >= float(epsilon) - (float(epsilon) + float(lower[i])) * zeta[i]))


# -- evaluators (plain arrays, no solver) ------------------------------------------------------
def favourable_from_predictions(prediction, threshold: float, epsilon: float, favourable: str = "below") -> np.ndarray:
    """ζ̂ recomputed from predictions: 1 iff the prediction is on the favourable side (within ε/2)."""
    sign = 1.0 if favourable == "below" else -1.0
    return (sign * (np.asarray(prediction, dtype=float) - threshold) <= epsilon / 2).astype(float)


def link_violation(zeta, prediction, threshold: float, epsilon: float, favourable: str = "below") -> float:
    """Largest violation of (37e) by (ζ, predictions): ζ=1 needs u ≤ 0, ζ=0 needs u ≥ ε."""
    sign = 1.0 if favourable == "below" else -1.0
    u = sign * (np.asarray(prediction, dtype=float) - threshold)
    on = np.round(np.asarray(zeta, dtype=float)) == 1
    return float(max(np.max(u[on], initial=0.0), np.max(epsilon - u[~on], initial=0.0), 0.0))


def comparison_gaps(zeta, comparisons: list[Comparison]) -> np.ndarray:
    """rate(first) − rate(second) for every comparison."""
    zeta = np.asarray(zeta, dtype=float)
    return np.array([zeta[c.first].mean() - zeta[c.second].mean() for c in comparisons])


def fairness_violation(zeta, comparisons: list[Comparison], delta: float, one_sided: bool = False) -> float:
    """Largest amount by which the comparisons exceed δ (0 when fair)."""
    gaps = comparison_gaps(zeta, comparisons)
    excess = -gaps - delta if one_sided else np.abs(gaps) - delta
    return float(max(np.max(excess, initial=0.0), 0.0))


def prediction_bounds(X: np.ndarray, M: float, k: int | None) -> np.ndarray:
    """Bᵢ ≥ |θᵀxᵢ| for every θ with |θⱼ| ≤ M and at most k nonzeros: M·(k largest |xᵢⱼ|)."""
    magnitudes = np.sort(np.abs(X), axis=1)[:, ::-1]
    width = X.shape[1] if k is None else min(k, X.shape[1])
    return M * magnitudes[:, :width].sum(axis=1)


def threshold_comparisons(y, group, params: dict[str, Any], stratum=None) -> tuple[list[Comparison], list[str]]:
    """Comparisons of ``params["notion"]`` when the true outcome is favourable iff y is on the
    favourable side of ``params["threshold_value"]`` (y ≤ t for "below", y ≥ t for "above")."""
    sign = 1.0 if params["favourable"] == "below" else -1.0
    truth = sign * (np.asarray(y, dtype=float) - params["threshold_value"]) <= 0
    return fairness_comparisons(params["notion"], group, protected=params["protected"],
                                true_favourable=truth, stratum=stratum)


def fair_pattern_ok(prediction: np.ndarray, comparisons: list[Comparison], params: dict[str, Any]) -> bool:
    """Whether predictions admit a ζ satisfying (37e) and the fairness rows: no prediction
    inside the margin band (the evaluator's tolerance allowed, so θ = 0 with t = mean(y) ≈
    ±1e-17 counts) and the notion holds for ζ read off the predictions."""
    sign = 1.0 if params["favourable"] == "below" else -1.0
    u = sign * (np.asarray(prediction, dtype=float) - params["threshold_value"])
    tol = FEASIBILITY_TOL
    if np.any((u > tol) & (u < params["epsilon"] - tol)):
        return False  # a prediction inside the margin band: no ζ fits it
    zeta = (u <= tol).astype(float)
    return fairness_violation(zeta, comparisons, params["delta"], params["one_sided"]) == 0


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


def check_fairness_params(params: dict[str, Any]) -> dict[str, Any]:
    """Validate the shared fairness hyperparameters (delta, notion, one_sided, favourable, epsilon)."""
    delta = as_float(params, "delta", minimum=0.0, allow_none=False)
    if delta > 1:
        raise InputError(f"delta compares two rates in [0, 1]; it must lie in [0, 1], got {delta}")
    if params["notion"] not in NOTIONS:
        raise InputError(f"notion must be one of {', '.join(NOTIONS)}; got {params['notion']!r}")
    if params["favourable"] not in DIRECTIONS:
        raise InputError(f"favourable must be 'below' or 'above' the threshold; got {params['favourable']!r}")
    if not isinstance(params["one_sided"], (bool, np.bool_)):
        raise InputError(f"one_sided must be true or false; got {params['one_sided']!r}")
    epsilon = as_float(params, "epsilon", allow_none=False)
    if not epsilon >= MIN_EPSILON:
        raise InputError(f"epsilon (the margin that makes the favourable indicator a function of the prediction) "
                         f"must be >= {MIN_EPSILON:g}; got {epsilon}")
    return {**params, "delta": delta, "epsilon": epsilon, "one_sided": bool(params["one_sided"])}


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


def add_fairness_evaluation(evaluation: Evaluation, instance: Instance, params: dict[str, Any],
                            prediction: np.ndarray, zeta, comparisons: tuple[list[Comparison], list[str]]) -> None:
    """Add the fairness checks to a host's evaluation, from the solution's ζ and predictions:
    violations ``zeta_integrality``, ``prediction_link`` (37e), ``fairness`` (the notion with
    the solution's ζ) and ``fairness_from_predictions`` (with ζ̂ recomputed from predictions);
    info: favourable share per group and every comparison's gap on the predictions."""
    n = instance.X.shape[0]
    zeta = np.asarray(np.full(n, np.nan) if zeta is None else zeta, dtype=float)
    if zeta.shape != (n,):
        raise InputError(f"solution must have zeta of length {n}")
    if not (np.all(np.isfinite(zeta)) and np.all(np.isfinite(prediction)) and math.isfinite(evaluation.objective)):
        evaluation.objective = math.inf
        evaluation.violations["missing_values"] = math.inf
        return
    t, eps, side = params["threshold_value"], params["epsilon"], params["favourable"]
    comparisons, skipped = comparisons
    zeta_round = np.round(zeta)
    predicted = favourable_from_predictions(prediction, t, eps, side)
    delta, one_sided = params["delta"], params["one_sided"]
    evaluation.violations.update({
        "zeta_integrality": float(np.max(np.abs(zeta - zeta_round))),
        "prediction_link": link_violation(zeta_round, prediction, t, eps, side),
        "fairness": fairness_violation(zeta_round, comparisons, delta, one_sided),
        "fairness_from_predictions": fairness_violation(predicted, comparisons, delta, one_sided),
    })
    codes, labels = factorize_groups(instance["group"])
    evaluation.info.update({
        "threshold": t,
        "favourable_share": {str(g): float(predicted[codes == c].mean()) for c, g in enumerate(labels.tolist())},
        "fairness_gaps": dict(zip((c.name for c in comparisons), comparison_gaps(predicted, comparisons).tolist())),
        "fairness_skipped": skipped,
    })


def attach_to_model(model: pyo.Block, *, prediction: Mapping | Callable, X: np.ndarray, y: np.ndarray, group,
                    bound: np.ndarray, params: dict[str, Any], stratum=None, name: str = "fair") -> list[Comparison]:
    """Attach ζ, the threshold link (37e) and the chosen notion to any model that exposes
    per-sample predictions (``prediction[i]``); ``params`` holds the validated fairness
    hyperparameters plus ``threshold_value``. Returns the comparisons imposed."""
    samples = pyo.RangeSet(0, X.shape[0] - 1)
    model.add_component(f"{name}_samples", samples)
    zeta = pyo.Var(samples, domain=pyo.Binary)
    model.add_component(f"{name}_zeta", zeta)
    attach_threshold_link(model, zeta, prediction, samples, params["threshold_value"], bound,
                          epsilon=params["epsilon"], favourable=params["favourable"], name=f"{name}_link")
    comparisons, _ = threshold_comparisons(y, group, params, stratum=stratum)
    attach_fairness(model, zeta, comparisons, params["delta"], one_sided=params["one_sided"], name=name)
    return comparisons


# -- host: fair sparse SVM ((9) + §5) --------------------------------------------------------
@register
class FairSparseSVM(_WithFairnessIndicators, SparseSVMBigM):
    """The sparse SVM (9) (:class:`~reference_impl.formulations.sparse_classification.SparseSVMBigM`)
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
