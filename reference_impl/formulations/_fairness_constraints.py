"""Fairness constraints over favourable-outcome indicators: the library every fair formulation uses
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

Attaching everything to a host at once: :func:`attach_to_model` (ζ as ``<name>_zeta``, the
threshold link and the notion, from validated hyperparameters — :func:`check_fairness_params`);
:func:`add_fairness_evaluation` adds the matching checks to the host's evaluation. The
registered fair formulations (hosts) are in :mod:`reference_impl.formulations.fairness`.
Not a formulation module (leading underscore): the registry does not import it for formulations.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np
import pyomo.environ as pyo

from ..errors import InputError
from ..instances.instance import Instance
from ._support import integrality_violation
from .base import FEASIBILITY_TOL, Evaluation, as_float

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
        "zeta_integrality": integrality_violation(zeta),
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

