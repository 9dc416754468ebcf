"""Optimal matching for causal inference (tutorial §4.2; FORMULATIONS.md §5).

Justin, Sun, Gómez & Vayanos, "Responsible Machine Learning via Mixed-Integer Optimization"
(arXiv 2505.05857), problem (30), and Zubizarreta (2012), "Using Mixed Integer Programming for
Matching in an Observational Study of Kidney Failure After Surgery", JASA 107(500).

Instances hold ``X`` (n×d covariates), ``treatment`` (0/1) and ``outcome`` (FORMULATIONS.md
conventions). T = the treated units, C = the controls, in row order; a solution is the dense
assignment ``x`` of length |T|·|C| (row-major: x[t·|C| + c] = 1 iff treated unit t is matched
to control c, t and c counting the treated resp. control rows in order).

* ``matching.assignment`` — (30): min Σ dₜ꜀ zₜ꜀ s.t. Σ꜀ zₜ꜀ = m ∀t (30b), Σₜ zₜ꜀ ≤ 1 ∀c (30c):
  1:m matching, every control used at most once. Its constraint matrix is totally unimodular
  (the tutorial's argument: with (30b) multiplied by −1 every column has at most two nonzeros
  of opposite signs), so it is solved as an **LP** with 0 ≤ z ≤ 1 and the returned optimum must
  be integral: the evaluator reports the largest distance of an entry to {0, 1}
  (``info["max_fractional"]``) and counts the entries farther than :data:`INTEGRALITY_TOL` = 1e-6
  as the violation ``fractional_pairs`` (≥ 1 when the LP optimum is not a matching).
  ``integer=True`` builds the same model with binary z (a MILP, for comparison).
* ``matching.balance`` — Zubizarreta (2012): (30) plus covariate balance on the standardised
  mean differences SMDⱼ(z) = (mean of xⱼ over the treated − (1/(m|T|)) Σₜ꜀ xⱼ꜀ zₜ꜀) / sⱼ:
  the constraint |SMDⱼ(z)| ≤ ``balance_tol`` for every covariate and/or the penalty
  ``balance_weight`` · Σⱼ |SMDⱼ(z)| in the objective (the tutorial's λⱼ|·| with λⱼ = λ/sⱼ,
  linearised by rⱼ ≥ ±SMDⱼ(z)), and optional exact fine balance (Rosenbaum, Ross & Silber 2007)
  on the instance's categorical array ``fine_balance``: for every category k the matched controls
  number m·#{t ∈ T in k}. A MILP: total unimodularity is lost.

Distances (``distance``), computed from X alone (:func:`distance_matrix`). The *pooled*
covariance is S = (S_T + S_C)/2, the average of the treated and control sample covariances
(ddof 1; a group of one unit contributes 0), and sⱼ = sqrt(Sⱼⱼ) the pooled standard deviation
— the usual SMD denominator (Rosenbaum & Rubin 1985), used by the balance terms too:

* ``"mahalanobis"`` (default): dₜ꜀ = sqrt((xₜ − x꜀)ᵀ S⁺ (xₜ − x꜀)) (S⁺ the pseudo-inverse, a
  plain inverse when S is nonsingular);
* ``"std_euclidean"``: dₜ꜀ = sqrt(Σⱼ ((xₜⱼ − x꜀ⱼ)/sⱼ)²).

Covariates with sⱼ = 0 (constant within both groups) carry no information a matching can use:
they are left out of the distance and the balance terms (listed in ``info["constant_covariates"]``).

``caliper`` (in the units of d): pairs with dₜ꜀ > caliper are not allowed (their variables do
not exist, or are fixed to 0 for a treated unit that would otherwise have none).

Infeasibility: a caliper that leaves a treated unit with fewer than m candidates, a set of
treated units whose candidates are too few between them (Hall's condition, checked by a max
flow), or a fine-balance category with fewer than m·(its treated) controls makes the problem
infeasible. The model is still built and solved — the solver proves infeasibility, which
reaches the result record as status ``infeasible`` — and :meth:`validate` names the culprits in
the effective hyperparameters (``record.extra["effective_params"]``): ``infeasible_units``
(instance rows of the treated units), ``infeasible_categories`` and the sentence
``infeasibility``. :meth:`_Matching.explain_infeasibility` returns that sentence (for a
solve path that appends it to the record's message).

:func:`att_estimate` gives the matching estimate of the ATT from an assignment.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyomo.environ as pyo

from ..errors import InputError
from ..instances.instance import Instance
from ..registry import register
from ._support import all_finite, integrality_violation, missing_values, read_arrays
from .base import Evaluation, Formulation, add_warning, as_float, as_int

#: distance of an LP entry to {0, 1} beyond which the optimum counts as fractional
INTEGRALITY_TOL = 1e-6
DISTANCES = ("mahalanobis", "std_euclidean")


# -- data -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MatchingData:
    """The checked arrays of a matching instance."""

    X: np.ndarray            # n×d covariates
    outcome: np.ndarray      # n
    treated: np.ndarray      # instance rows of the treated units, in order
    controls: np.ndarray     # instance rows of the controls, in order
    names: tuple[str, ...]   # covariate names

    @property
    def n_treated(self) -> int:
        return len(self.treated)

    @property
    def n_controls(self) -> int:
        return len(self.controls)


def _numeric(instance: Instance, name: str, ndim: int) -> np.ndarray:
    if name not in instance.arrays:
        raise InputError(f"instance {instance.id!r} has no array {name!r}; a matching instance needs X, treatment "
                         f"and outcome (it has: {', '.join(sorted(instance.arrays))})")
    array = np.asarray(instance.arrays[name])
    if array.ndim != ndim:
        raise InputError(f"{name} must be a {ndim}-D array; got shape {array.shape}")
    if array.dtype == bool:
        array = array.astype(float)
    if not np.issubdtype(array.dtype, np.number) or np.iscomplexobj(array):
        raise InputError(f"{name} must be a real numeric array; got dtype {array.dtype}")
    return array.astype(float)


def matching_data(instance: Instance) -> MatchingData:
    """Check and return a matching instance's arrays: one :class:`InputError` per problem
    (a missing array, wrong shapes, NaN in X or outcome, non-binary treatment, no treated or
    no control units)."""
    X = _numeric(instance, "X", 2)
    treatment = _numeric(instance, "treatment", 1)
    outcome = _numeric(instance, "outcome", 1)
    n = X.shape[0]
    if n == 0 or X.shape[1] == 0:
        raise InputError(f"X is empty (shape {X.shape})")
    for name, array in (("treatment", treatment), ("outcome", outcome)):
        if len(array) != n:
            raise InputError(f"X has {n} rows but {name} has {len(array)} entries; they must match")
    if not np.all(np.isfinite(X)):
        raise InputError(f"X contains {int(np.sum(~np.isfinite(X)))} NaN or infinite value(s); clean or impute them first")
    if not np.all(np.isfinite(outcome)):
        raise InputError(f"outcome contains {int(np.sum(~np.isfinite(outcome)))} NaN or infinite value(s); "
                         "clean or impute them first")
    if not np.all(np.isin(treatment, (0.0, 1.0))):
        bad = sorted(set(treatment[~np.isin(treatment, (0.0, 1.0))].tolist()))[:5]
        raise InputError(f"treatment must be binary (0 = control, 1 = treated); got values such as {bad}")
    treated = np.flatnonzero(treatment == 1.0)
    controls = np.flatnonzero(treatment == 0.0)
    if len(treated) == 0:
        raise InputError("the instance has no treated units (treatment is all 0); matching needs both groups")
    if len(controls) == 0:
        raise InputError("the instance has no control units (treatment is all 1); matching needs both groups")
    return MatchingData(X, outcome, treated, controls, tuple(instance.feature_names[: X.shape[1]]))


def pooled_covariance(data: MatchingData) -> np.ndarray:
    """S = (S_T + S_C)/2, the average of the groups' sample covariances (ddof 1; 0 for a group of one)."""

    def cov(rows):
        block = data.X[rows]
        if len(rows) < 2:
            return np.zeros((block.shape[1], block.shape[1]))
        centred = block - block.mean(axis=0)
        return centred.T @ centred / (len(rows) - 1)

    return (cov(data.treated) + cov(data.controls)) / 2.0


def pooled_sd(data: MatchingData) -> np.ndarray:
    """sⱼ = sqrt(Sⱼⱼ), the pooled standard deviation of every covariate (the SMD denominator)."""
    return np.sqrt(np.clip(np.diag(pooled_covariance(data)), 0.0, None))


def varying_covariates(data: MatchingData) -> np.ndarray:
    """Mask of the covariates with a positive pooled sd (the others are constant within both groups)."""
    sd = pooled_sd(data)
    scale = np.maximum(np.max(np.abs(data.X), axis=0), 1.0)
    return sd > 1e-12 * scale


def _euclidean(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """‖aᵢ − bⱼ‖ for all rows, row by row of A (no n_t × n_c × d temporary)."""
    out = np.empty((A.shape[0], B.shape[0]))
    for i in range(A.shape[0]):
        diff = B - A[i]
        out[i] = np.sqrt(np.einsum("ij,ij->i", diff, diff))
    return out


_DISTANCE_CACHE: dict[tuple[str, str], np.ndarray] = {}


def distance_matrix(instance: Instance, distance: str, data: MatchingData | None = None) -> np.ndarray:
    """The |T|×|C| matrix dₜ꜀ of ``distance`` (see the module docstring), cached per instance hash."""
    if distance not in DISTANCES:
        raise InputError(f"distance must be one of {', '.join(DISTANCES)}; got {distance!r}")
    key = (instance.sha256, distance)
    if key in _DISTANCE_CACHE:
        return _DISTANCE_CACHE[key]
    data = data or matching_data(instance)
    keep = varying_covariates(data)
    X = data.X[:, keep]
    if X.shape[1] == 0:
        D = np.zeros((data.n_treated, data.n_controls))
    elif distance == "std_euclidean":
        Z = X / pooled_sd(data)[keep]
        D = _euclidean(Z[data.treated], Z[data.controls])
    else:
        S = pooled_covariance(data)[np.ix_(keep, keep)]
        eigenvalues, vectors = np.linalg.eigh(S)
        positive = eigenvalues > 1e-12 * max(eigenvalues.max(), 1e-300)
        W = vectors[:, positive] / np.sqrt(eigenvalues[positive])   # S⁺ = W Wᵀ
        Z = X @ W
        D = _euclidean(Z[data.treated], Z[data.controls])
    if len(_DISTANCE_CACHE) >= 8:
        _DISTANCE_CACHE.pop(next(iter(_DISTANCE_CACHE)))
    _DISTANCE_CACHE[key] = D
    return D


def allowed_pairs(D: np.ndarray, caliper: float | None) -> np.ndarray:
    """Mask of the pairs within the caliper (all pairs without one)."""
    return np.ones(D.shape, dtype=bool) if caliper is None else D <= caliper


def hall_violators(allowed: np.ndarray, m: int) -> list[int]:
    """Treated positions that cannot all get m distinct allowed controls (a set violating Hall's
    condition: the source side of a minimum cut of the matching flow network), or [] when a
    1:m matching exists. scipy's max flow on source → treated (capacity m) → allowed control
    (1) → sink (1)."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import breadth_first_order, maximum_flow

    n_t, n_c = allowed.shape
    source, sink = 0, n_t + n_c + 1
    pt, pc = np.nonzero(allowed)
    rows = np.concatenate([np.zeros(n_t, dtype=np.int64), 1 + pt, 1 + n_t + np.arange(n_c)])
    cols = np.concatenate([1 + np.arange(n_t), 1 + n_t + pc, np.full(n_c, sink)])
    caps = np.concatenate([np.full(n_t, m), np.ones(len(pt)), np.ones(n_c)]).astype(np.int32)
    size = n_t + n_c + 2
    capacity = csr_matrix((caps, (rows, cols)), shape=(size, size))
    result = maximum_flow(capacity, source, sink)
    if result.flow_value >= m * n_t:
        return []
    residual = (capacity - result.flow).tocsr()
    residual.data[residual.data <= 0] = 0
    residual.eliminate_zeros()
    reached = breadth_first_order(residual, source, directed=True, return_predecessors=False)
    return sorted(int(v) - 1 for v in reached if 1 <= v <= n_t)


# -- pairs of the model ------------------------------------------------------------------------
@dataclass(frozen=True)
class Pairs:
    """The modelled (treated position, control position) pairs, their distances and upper bounds."""

    t: np.ndarray
    c: np.ndarray
    d: np.ndarray
    upper: np.ndarray   # 1 for an allowed pair, 0 for a pair beyond the caliper kept for a short unit


def model_pairs(D: np.ndarray, allowed: np.ndarray, m: int) -> Pairs:
    """Allowed pairs, plus every pair (fixed to 0 beyond the caliper) of a treated unit with fewer
    than m allowed controls, so that its row (30b) is a constraint with variables and the solver
    proves the infeasibility."""
    short = allowed.sum(axis=1) < m
    keep = allowed | short[:, None]
    t, c = np.nonzero(keep)
    return Pairs(t, c, D[t, c], allowed[t, c].astype(float))


def _groups(index: np.ndarray, size: int) -> list[list[int]]:
    order = np.argsort(index, kind="stable")
    bounds = np.searchsorted(index[order], np.arange(size + 1))
    return [order[bounds[i]:bounds[i + 1]].tolist() for i in range(size)]


def _flag(params: dict[str, Any], name: str) -> bool:
    value = params.get(name)
    if not isinstance(value, (bool, np.bool_)):
        raise InputError(f"hyperparameter {name} must be true or false; got {value!r}")
    return bool(value)


def fine_balance_codes(instance: Instance, n: int) -> np.ndarray:
    """The instance's ``fine_balance`` categories as integer codes (one InputError if absent or bad)."""
    if "fine_balance" not in instance.arrays:
        raise InputError(f"fine_balance=true needs an array 'fine_balance' (a category per row) in instance "
                         f"{instance.id!r} (it has: {', '.join(sorted(instance.arrays))})")
    codes = np.asarray(instance.arrays["fine_balance"])
    if codes.ndim != 1 or len(codes) != n:
        raise InputError(f"fine_balance must be a 1-D array with one category per row ({n}); got shape {codes.shape}")
    if np.issubdtype(codes.dtype, np.number):
        if not np.all(np.isfinite(codes)):
            raise InputError("fine_balance contains NaN or infinite values; give a category for every row")
        return np.unique(codes, return_inverse=True)[1].astype(np.int64)
    return np.unique(codes.astype(str), return_inverse=True)[1].astype(np.int64)


# -- assignment checks shared by the evaluators and att_estimate -------------------------------------
def assignment_matrix(assignment: Any, n_treated: int, n_controls: int) -> np.ndarray:
    """An assignment as a |T|×|C| float matrix: a solution dict (its ``x``), a flat ``x`` of length
    |T|·|C| or a |T|×|C| array."""
    if isinstance(assignment, dict):
        if "x" not in assignment:
            raise InputError("the assignment must hold 'x' (the |T|·|C| matching indicators)")
        assignment = assignment["x"]
    try:
        x = np.asarray(assignment, dtype=float)
    except (TypeError, ValueError):
        raise InputError("the assignment must be an array of numbers") from None
    if x.shape == (n_treated * n_controls,):
        x = x.reshape(n_treated, n_controls)
    if x.shape != (n_treated, n_controls):
        raise InputError(f"the assignment must be {n_treated}×{n_controls} (treated × controls) or flat of length "
                         f"{n_treated * n_controls}; got shape {x.shape}")
    return x


def att_estimate(instance: Any, assignment: Any) -> float:
    """The matching estimate of the ATT: mean over the treated units of their outcome minus the
    mean outcome of their matched controls (weights zₜ꜀ / Σ꜀ zₜ꜀, i.e. the plain mean of the m
    matched controls for an integral assignment). ``instance``: anything
    :func:`~reference_impl.instances.resolve_instance` takes; ``assignment``: a solution dict,
    flat ``x`` or a |T|×|C| array. InputError when a treated unit has no match."""
    from ..instances import resolve_instance

    instance = resolve_instance(instance)
    data = matching_data(instance)
    x = assignment_matrix(assignment, data.n_treated, data.n_controls)
    if not np.all(np.isfinite(x)):
        raise InputError("the assignment contains NaN or infinite values")
    weight = x.sum(axis=1)
    if np.any(weight <= 0):
        bad = data.treated[np.flatnonzero(weight <= 0)].tolist()[:5]
        raise InputError(f"treated unit(s) at row(s) {bad} have no matched control; no ATT estimate")
    counterfactual = (x @ data.outcome[data.controls]) / weight
    return float(np.mean(data.outcome[data.treated] - counterfactual))


def smd(data: MatchingData, x: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
    """(SMD before, SMD after) of every covariate: (treated mean − all controls' mean)/sⱼ and
    (treated mean − matched controls' mean)/sⱼ, matched mean = Σₜ꜀ zₜ꜀ x꜀ⱼ / (m|T|); NaN for a
    covariate with sⱼ = 0."""
    sd = pooled_sd(data)
    keep = varying_covariates(data)
    mean_t = data.X[data.treated].mean(axis=0)
    mean_c = data.X[data.controls].mean(axis=0)
    matched = (x.sum(axis=0) @ data.X[data.controls]) / (m * data.n_treated)
    with np.errstate(divide="ignore", invalid="ignore"):
        before = np.where(keep, (mean_t - mean_c) / np.where(keep, sd, 1.0), np.nan)
        after = np.where(keep, (mean_t - matched) / np.where(keep, sd, 1.0), np.nan)
    return before, after


def _nan_to_none(values: np.ndarray) -> list:
    return [None if not math.isfinite(v) else float(v) for v in values]


# -- formulations --------------------------------------------------------------------------------
class _Matching(Formulation):
    """Shared validation, model of (30), read-back and evaluation."""

    family = "matching"
    hyperparameters = {"m": 1, "distance": "mahalanobis", "caliper": None}

    # -- validation ---------------------------------------------------------------------------
    def validate(self, instance: Instance, params: dict[str, Any]) -> dict[str, Any]:
        params = super().validate(instance, params)
        m = as_int(params, "m", minimum=1)
        if m is None:
            raise InputError("hyperparameter m (controls per treated unit) is required")
        distance = params.get("distance")
        if distance not in DISTANCES:
            raise InputError(f"distance must be one of {', '.join(DISTANCES)}; got {distance!r}")
        caliper = as_float(params, "caliper")
        if caliper is not None and not caliper > 0:
            raise InputError(f"caliper must be a positive distance; got {caliper}")
        data = matching_data(instance)
        if m * data.n_treated > data.n_controls:
            raise InputError(f"m × treated = {m} × {data.n_treated} = {m * data.n_treated} exceeds the "
                             f"{data.n_controls} controls: every control is used at most once; lower m")
        return {**params, "m": m, "distance": distance, "caliper": caliper}

    def _diagnose(self, instance: Instance, params: dict[str, Any], data: MatchingData,
                  fine: np.ndarray | None = None) -> dict[str, Any]:
        """Name what makes the problem infeasible (empty dict when nothing is found)."""
        m, caliper = params["m"], params["caliper"]
        found: dict[str, Any] = {}
        texts: list[str] = []
        if caliper is not None:
            allowed = allowed_pairs(distance_matrix(instance, params["distance"], data), caliper)
            counts = allowed.sum(axis=1)
            short = np.flatnonzero(counts < m)
            if len(short):
                found["infeasible_units"] = data.treated[short].tolist()
                texts.append("caliper {:g} leaves ".format(caliper) + ", ".join(
                    f"treated unit at row {data.treated[t]} with {counts[t]} candidate control(s)" for t in short[:10])
                    + (f" (and {len(short) - 10} more)" if len(short) > 10 else "") + f", fewer than m = {m}")
            else:
                violators = hall_violators(allowed, m)
                if violators:
                    reachable = int(np.any(allowed[violators], axis=0).sum())
                    found["infeasible_units"] = data.treated[violators].tolist()
                    texts.append(f"caliper {caliper:g} leaves the treated units at rows "
                                 f"{data.treated[violators].tolist()[:20]} only {reachable} candidate controls between "
                                 f"them, fewer than m × {len(violators)} = {m * len(violators)}")
        if fine is not None:
            categories = np.unique(fine)
            need = {int(k): m * int(np.sum(fine[data.treated] == k)) for k in categories}
            have = {int(k): int(np.sum(fine[data.controls] == k)) for k in categories}
            bad = [k for k in need if have[k] < need[k]]
            if bad:
                found["infeasible_categories"] = bad
                texts.append("fine balance needs " + ", ".join(
                    f"{need[k]} controls in category {k} (there are {have[k]})" for k in bad))
        if texts:
            found["infeasibility"] = "infeasible: " + "; ".join(texts)
        return found

    def explain_infeasibility(self, instance: Instance, params: dict[str, Any]) -> str | None:
        """The sentence naming what makes this problem infeasible, if :meth:`validate` found it."""
        return params.get("infeasibility")

    # -- model ----------------------------------------------------------------------------------
    def _pairs(self, instance: Instance, params: dict[str, Any]) -> tuple[MatchingData, np.ndarray, Pairs]:
        data = matching_data(instance)
        D = distance_matrix(instance, params["distance"], data)
        allowed = allowed_pairs(D, params["caliper"])
        return data, D, model_pairs(D, allowed, params["m"])

    def _assignment_model(self, instance: Instance, params: dict[str, Any], integer: bool):
        data, _, pairs = self._pairs(instance, params)
        m_ = params["m"]
        model = pyo.ConcreteModel(name=self.id)
        model.pairs = pyo.RangeSet(0, len(pairs.t) - 1)
        model.treated = pyo.RangeSet(0, data.n_treated - 1)
        model.controls = pyo.RangeSet(0, data.n_controls - 1)
        upper = pairs.upper
        model.x = pyo.Var(model.pairs, domain=pyo.Binary if integer else pyo.NonNegativeReals,
                          bounds=lambda _, p: (0.0, float(upper[p])))
        by_treated = _groups(pairs.t, data.n_treated)
        by_control = _groups(pairs.c, data.n_controls)
        model.match_count = pyo.Constraint(  # (30b)
            model.treated, rule=lambda mdl, t: pyo.quicksum(mdl.x[p] for p in by_treated[t]) == m_)
        model.control_once = pyo.Constraint(  # (30c)
            model.controls,
            rule=lambda mdl, c: pyo.quicksum(mdl.x[p] for p in by_control[c]) <= 1 if by_control[c]
            else pyo.Constraint.Skip)
        cost = pairs.d
        model.distance = pyo.Expression(
            expr=pyo.quicksum(float(cost[p]) * model.x[p] for p in range(len(cost)) if cost[p] != 0.0))
        return model, data, pairs

    def extract(self, model, instance: Instance, params: dict[str, Any]) -> dict[str, np.ndarray]:
        data, _, pairs = self._pairs(instance, params)
        x = np.zeros(data.n_treated * data.n_controls)
        values = np.array([np.nan if model.x[p].value is None else float(model.x[p].value) for p in range(len(pairs.t))])
        x[pairs.t * data.n_controls + pairs.c] = values
        return {"x": x}

    # -- evaluation -----------------------------------------------------------------------------
    def _evaluate_assignment(self, instance: Instance, params: dict[str, Any], solution) -> tuple[Evaluation, Any]:
        data = matching_data(instance)
        (x,) = read_arrays(solution, {"x": data.n_treated * data.n_controls})
        if not all_finite(x):
            return missing_values(), None
        D = distance_matrix(instance, params["distance"], data)
        m_ = params["m"]
        Z = x.reshape(data.n_treated, data.n_controls)
        fractional = np.abs(Z - np.round(Z))
        allowed = allowed_pairs(D, params["caliper"])
        violations = {
            "bounds": float(max(0.0, -Z.min(), Z.max() - 1.0)),
            "integrality": integrality_violation(Z),
            "fractional_pairs": float(np.sum(fractional > INTEGRALITY_TOL)),
            "match_count": float(np.max(np.abs(Z.sum(axis=1) - m_))),                   # (30b)
            "control_reuse": float(np.max(np.maximum(Z.sum(axis=0) - 1.0, 0.0))),        # (30c)
            "caliper": float(np.max(np.abs(Z[~allowed]), initial=0.0)),
        }
        total = math.fsum((D * Z).ravel().tolist())
        before, after = smd(data, Z, m_)
        matched = [data.controls[np.flatnonzero(row > 0.5)].tolist() for row in Z]
        max_fractional = float(fractional.max(initial=0.0))
        info: dict[str, Any] = {
            "distance": params["distance"], "m": m_, "caliper": params["caliper"],
            "n_treated": data.n_treated, "n_controls": data.n_controls,
            "total_distance": total,
            "max_fractional": max_fractional,
            "integral": max_fractional <= INTEGRALITY_TOL,
            "matched_controls": matched,
            "covariates": list(data.names),
            "smd_before": _nan_to_none(before),
            "smd_after": _nan_to_none(after),
            "max_abs_smd_before": float(np.nanmax(np.abs(before))) if np.any(np.isfinite(before)) else None,
            "max_abs_smd_after": float(np.nanmax(np.abs(after))) if np.any(np.isfinite(after)) else None,
            "constant_covariates": [data.names[j] for j in np.flatnonzero(~varying_covariates(data))],
        }
        if max_fractional > INTEGRALITY_TOL:
            add_warning(info, f"the matching is fractional (an entry is {max_fractional:.3g} from 0/1): not a matching")
        if np.all(Z.sum(axis=1) > 0):
            info["att_estimate"] = att_estimate(instance, Z)
        if "att_benchmark" in instance.arrays:
            info["att_benchmark"] = float(instance.arrays["att_benchmark"].item())  # a one-element array
        return Evaluation(objective=total, violations=violations, info=info), (data, Z, after)


@register
class MatchingAssignment(_Matching):
    """Optimal 1:m matching (30) of the tutorial (Justin et al., arXiv 2505.05857, §4.2): min total
    distance, every treated unit gets m controls (30b), each control used at most once (30c);
    solved as an LP (totally unimodular), integrality of the optimum asserted by the evaluator."""

    id = "matching.assignment"
    equation = "(30)"
    problem_class = "LP"
    summary = "optimal 1:m matching, totally unimodular LP (integral optimum asserted); integer=true for the MILP"
    hyperparameters = {**_Matching.hyperparameters, "integer": False}
    benchmark_cases = (("causal-tiny-t10-c25", {"m": 1}),
                       ("causal-tiny-t10-c25", {"m": 2, "distance": "std_euclidean"}),
                       ("causal-tiny-t10-c25", {"m": 1, "integer": True}),
                       ("causal-medium-t50-c200", {"m": 2}))

    def validate(self, instance: Instance, params: dict[str, Any]) -> dict[str, Any]:
        params = super().validate(instance, params)
        params["integer"] = _flag(params, "integer")
        return {**params, **self._diagnose(instance, params, matching_data(instance))}

    def problem_class_for(self, params: dict[str, Any]) -> str:
        return "MILP" if params.get("integer") else "LP"

    def build(self, instance: Instance, params: dict[str, Any]):
        model, _, _ = self._assignment_model(instance, params, integer=bool(params["integer"]))
        model.objective = pyo.Objective(expr=model.distance)
        return model

    def evaluate(self, instance: Instance, params: dict[str, Any], solution: dict[str, np.ndarray]) -> Evaluation:
        return self._evaluate_assignment(instance, params, solution)[0]


@register
class MatchingBalance(_Matching):
    """Zubizarreta's (2012) matching: (30) plus covariate balance — |SMDⱼ| ≤ ``balance_tol`` and/or the
    penalty ``balance_weight``·Σⱼ|SMDⱼ| (tutorial §4.2, the MILO reformulation after (30)) — and
    optional exact fine balance on the ``fine_balance`` categories. A MILP: TU is lost."""

    id = "matching.balance"
    equation = "Zubizarreta 2012 ((30) + balance)"
    problem_class = "MILP"
    summary = "optimal 1:m matching with mean-balance constraints/penalty and fine balance (Zubizarreta 2012)"
    hyperparameters = {**_Matching.hyperparameters, "balance_tol": None, "balance_weight": None, "fine_balance": False}
    benchmark_cases = (("causal-tiny-t10-c25", {"m": 1, "balance_tol": 0.25}),
                       ("causal-tiny-t10-c25", {"m": 1, "balance_weight": 5.0, "fine_balance": True}),
                       ("causal-brute-t3-c6", {"m": 1, "balance_tol": 1.5, "balance_weight": 1.0}))

    def validate(self, instance: Instance, params: dict[str, Any]) -> dict[str, Any]:
        params = super().validate(instance, params)
        tol = as_float(params, "balance_tol", minimum=0.0)
        weight = as_float(params, "balance_weight", minimum=0.0)
        if tol is None and weight is None:
            raise InputError(f"{self.id} needs balance_tol (|SMD| ≤ tol for every covariate) or balance_weight "
                             "(penalty on Σ|SMD|), or both")
        fine = _flag(params, "fine_balance")
        data = matching_data(instance)
        codes = fine_balance_codes(instance, data.X.shape[0]) if fine else None
        params = {**params, "balance_tol": tol, "balance_weight": weight, "fine_balance": fine}
        return {**params, **self._diagnose(instance, params, data, codes)}

    def build(self, instance: Instance, params: dict[str, Any]):
        model, data, pairs = self._assignment_model(instance, params, integer=True)
        m_ = params["m"]
        keep = np.flatnonzero(varying_covariates(data))
        sd = pooled_sd(data)
        mean_t = data.X[data.treated].mean(axis=0)
        Xc = data.X[data.controls]
        model.covariates = pyo.Set(initialize=keep.tolist(), ordered=True)
        scale = 1.0 / (m_ * data.n_treated)

        target = {int(j): float(mean_t[j] / sd[j]) for j in keep}

        def matched_mean(mdl, j):  # the matched controls' mean of xⱼ / sⱼ: SMDⱼ(z) = target_j − this
            coef = Xc[pairs.c, j] * (scale / sd[j])
            return pyo.quicksum(float(coef[p]) * mdl.x[p] for p in range(len(coef)) if coef[p] != 0.0)

        # variables on the left, constants on the right (no ranged rows: Pyomo's scip_direct
        # mistranslates a ranged row whose body holds a constant)
        model.matched_mean = pyo.Expression(model.covariates, rule=matched_mean)
        tol, weight = params["balance_tol"], params["balance_weight"]
        if tol is not None:
            model.balance_upper = pyo.Constraint(
                model.covariates, rule=lambda mdl, j: mdl.matched_mean[j] <= target[j] + tol)
            model.balance_lower = pyo.Constraint(
                model.covariates, rule=lambda mdl, j: mdl.matched_mean[j] >= target[j] - tol)
        objective = model.distance
        if weight is not None:  # rⱼ ≥ |SMDⱼ(z)|
            model.r = pyo.Var(model.covariates, bounds=(0, None))
            model.r_upper = pyo.Constraint(model.covariates,
                                           rule=lambda mdl, j: mdl.r[j] + mdl.matched_mean[j] >= target[j])
            model.r_lower = pyo.Constraint(model.covariates,
                                           rule=lambda mdl, j: mdl.r[j] - mdl.matched_mean[j] >= -target[j])
            objective = objective + float(weight) * pyo.quicksum(model.r[j] for j in model.covariates)
        if params["fine_balance"]:
            codes = fine_balance_codes(instance, data.X.shape[0])
            categories = np.unique(codes).tolist()
            need = {k: m_ * int(np.sum(codes[data.treated] == k)) for k in categories}
            control_code = codes[data.controls][pairs.c]
            members = {k: np.flatnonzero(control_code == k).tolist() for k in categories}
            model.categories = pyo.Set(initialize=categories, ordered=True)

            def fine_rule(mdl, k):
                if not members[k]:
                    return pyo.Constraint.Skip if need[k] == 0 else pyo.Constraint.Infeasible
                return pyo.quicksum(mdl.x[p] for p in members[k]) == need[k]

            model.fine_balance = pyo.Constraint(model.categories, rule=fine_rule)
        model.objective = pyo.Objective(expr=objective)
        return model

    def evaluate(self, instance: Instance, params: dict[str, Any], solution: dict[str, np.ndarray]) -> Evaluation:
        evaluation, state = self._evaluate_assignment(instance, params, solution)
        if state is None:
            return evaluation
        data, Z, after = state
        finite = np.isfinite(after)
        abs_after = np.abs(after[finite])
        tol, weight = params["balance_tol"], params["balance_weight"]
        if tol is not None:
            evaluation.violations["balance"] = float(np.max(np.maximum(abs_after - tol, 0.0), initial=0.0))
        if params["fine_balance"]:
            codes = fine_balance_codes(instance, data.X.shape[0])
            used = Z.sum(axis=0)
            gaps = [abs(math.fsum(used[codes[data.controls] == k].tolist()) - params["m"] * np.sum(codes[data.treated] == k))
                    for k in np.unique(codes)]
            evaluation.violations["fine_balance"] = float(max(gaps))
        penalty = float(weight) * math.fsum(abs_after.tolist()) if weight is not None else 0.0
        evaluation.objective = evaluation.info["total_distance"] + penalty
        evaluation.info["balance_penalty"] = penalty
        return evaluation
