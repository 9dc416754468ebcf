"""Binarized regression for multiclass classification, as an MIP and as its PBO twin
(FORMULATIONS.md §7).

Source: Tule, Le & Say, "Training Experimentally Robust and Interpretable Binarized
Regression Models Using Mixed-Integer Programming" (arXiv 2112.00434, IEEE SSCI 2022), §III.

**This is a reconstruction.** The paper's text lost every formula; what follows is
FORMULATIONS.md §7's reconstruction from the paper's prose, implemented as written there.
Binary features xᵢf ∈ {0, 1} (f ∈ F), classes c ∈ C, training instances i with labels yᵢ.

Variables: w⁺f,c, w⁻f,c ∈ {0,1} (the weight is w⁺ − w⁻ ∈ {−1, 0, 1}); bias b_c ∈ ℤ ∩ [−B, B];
prediction p_c,i ∈ ℤ; margins m⁺ᵢ, m⁻ᵢ ≥ 0 (continuous here; see note 2).

    (2)  w⁺f,c + w⁻f,c ≤ 1                                   ∀ f, c
    (3)  p_c,i = Σf (w⁺f,c − w⁻f,c) xᵢf + b_c                 ∀ c, i
    (4)  p_yᵢ,i − p_c,i ≥ m⁺ᵢ − m⁻ᵢ                          ∀ i, c ≠ yᵢ
    (5)  m⁺ᵢ, m⁻ᵢ ≥ 0
    (10) max  α Σᵢ m⁺ᵢ − β Σᵢ m⁻ᵢ + Σf,c (1 − w⁺f,c − w⁻f,c)

Notes.

1. *α < β is required.* Write δᵢ = min_{c≠yᵢ} (p_yᵢ,i − p_c,i) for the prediction margin of
   instance i. Given the weights, (4) says m⁺ᵢ − m⁻ᵢ ≤ δᵢ, and raising m⁺ᵢ and m⁻ᵢ together by t
   changes (10) by (α − β)t: with α > β the model is unbounded; with α = β the margins are not
   determined (only their difference is); with 0 ≤ α < β the optimal margins are unique,
   m⁺ᵢ = max(δᵢ, 0) and m⁻ᵢ = max(−δᵢ, 0) (for α = 0 any m⁺ᵢ ∈ [0, max(δᵢ, 0)] is optimal), so
   the optimum of (10) is that of the concave piecewise-linear function
   Σᵢ [α max(δᵢ, 0) − β max(−δᵢ, 0)] + #{zero weights} over ternary weights and bounded
   integer biases. The evaluator computes exactly this from (w, b) alone.
2. *Integrality of p and m.* With binary x, ternary w and integer b, p and δ are integers at
   every feasible point, so the optimal margins are integers: declaring p integer (as the
   paper does) is redundant, and keeping m continuous changes neither the optimum nor the
   continuous relaxation.
3. *The bias bound B* is a hyperparameter (the paper's value was lost; default 10). It is
   part of the model, not a derived bound: without it (10) can be unbounded when one class
   dominates the training set (raising its bias by t gains α·t on each of its instances and
   loses β·t on each of the others). Since (10) depends on the biases only through their
   differences, results report B as binding (``bias_binding``) when no common shift of the
   biases fits strictly inside (−B, B), i.e. max b − min b ≥ 2B − 1.

**PBO twin** (``binarized.pbo``, paper §III-C, eqs. (11)–(13)): every bounded integer
v ∈ [L, U] is written v = L + Σ_{k<K} 2ᵏ bₖ (11) with K = ⌈log₂(U − L + 1)⌉ bits (13) and,
where 2ᴷ − 1 > U − L (otherwise it cannot bind and is omitted), L + Σₖ 2ᵏ bₖ ≤ U (12), so only
0-1 variables remain. The bounds, with sᵢ = Σf xᵢf the number of active features of row i:

* b_c ∈ [−B, B] — the model's own bound.
* p_c,i ∈ [−sᵢ − B, sᵢ + B] — exact: by (3) p_c,i is a sum of sᵢ terms in {−1, 0, 1} plus
  b_c ∈ [−B, B], and both ends are attained. Valid for every feasible point.
* m⁺ᵢ, m⁻ᵢ ∈ [0, 2(sᵢ + B)] — by the bound on p, |δᵢ| ≤ (sᵢ + B) − (−sᵢ − B) = 2(sᵢ + B) at
  every feasible point; by note 1, at every optimum m⁺ᵢ = max(δᵢ, 0) ≤ 2(sᵢ + B) and
  m⁻ᵢ = max(−δᵢ, 0) ≤ 2(sᵢ + B) (for α = 0, any optimal m⁺ᵢ ≤ max(δᵢ, 0)), and by note 2 these
  are integers. So the bounds cut off no optimal solution, while every point of the bounded
  model is feasible for the MIP: the two models have the same optimal value, and every
  optimum of the PBO is an optimum of the MIP.

:func:`write_opb` exports the PBO in the pseudo-Boolean competition's OPB format (a
minimisation of −scale·(10) with integer coefficients; the header comments give the map back
to (10) and to the variables); :func:`read_opb` parses such a file (the format itself, reading
and writing, is :mod:`reference_impl.formulations._opb`; its names are re-exported here).
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pyomo.environ as pyo

from ..errors import InputError
from ..instances.instance import Instance, check_xy
from ..registry import register
from ._opb import OPBModel, model_to_opb, opb_header_values, read_opb  # noqa: F401 (read_opb & co re-exported)
from ._pyomo import settle_constant
from .base import Evaluation, Formulation, as_float, as_int

#: Symbols of the compact weight string (``info["weights"]``): −1, 0, +1.
TERNARY_SYMBOLS = "-0+"


# -- data and pure functions (shared by the models, the evaluator and the experiments) ----
@dataclass(frozen=True)
class BinarizedInputs:
    """Checked training data: binary ``X`` (n × F int), labels ``y`` (n int), ``n_classes``."""

    X: np.ndarray
    y: np.ndarray
    n_classes: int

    @property
    def row_sums(self) -> np.ndarray:
        return self.X.sum(axis=1)


def binarized_inputs(instance: Instance) -> BinarizedInputs:
    """Validate ``X`` (0/1 features) and ``y`` (labels 0..C−1); C from ``n_classes`` or max(y)+1."""
    X, y = check_xy(instance, y_kind="multiclass")
    if not np.all((X == 0) | (X == 1)):
        raise InputError("binarized models need binary features: every entry of X must be 0 or 1")
    labels = y.astype(np.int64)
    n_classes = int(labels.max()) + 1
    if "n_classes" in instance.arrays:
        given_array = np.asarray(instance.arrays["n_classes"]).reshape(-1)
        if given_array.size != 1 or given_array[0] != np.rint(given_array[0]):
            raise InputError("n_classes must be a single integer")
        given = int(given_array[0])
        if given < n_classes:
            raise InputError(f"n_classes = {given} but the labels go up to {n_classes - 1}")
        n_classes = given
    if n_classes < 2:
        raise InputError("binarized models need at least two classes (labels 0..C-1 with C >= 2)")
    return BinarizedInputs(X.astype(np.int64), labels, n_classes)


def predictions(X: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(3): p[i, c] = Σf w[f, c]·X[i, f] + b[c] (n × C)."""
    return np.asarray(X, dtype=float) @ np.asarray(w, dtype=float) + np.asarray(b, dtype=float)[None, :]


def prediction_margins(P: np.ndarray, y: np.ndarray) -> np.ndarray:
    """δᵢ = p[i, yᵢ] − max_{c≠yᵢ} p[i, c]: positive iff instance i is classified correctly."""
    rows = np.arange(len(y))
    others = P.astype(float).copy()
    others[rows, y] = -np.inf
    return P[rows, y] - others.max(axis=1)


def objective_value(delta: np.ndarray, w: np.ndarray, alpha: float, beta: float) -> float:
    """(10) at the optimal margins: α Σ max(δ, 0) − β Σ max(−δ, 0) + Σ (1 − |w|)."""
    return float(alpha * np.maximum(delta, 0).sum() - beta * np.maximum(-delta, 0).sum()
                 + (1.0 - np.abs(w)).sum())


def predict(X: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Predicted classes: argmax_c p[i, c], ties to the lowest class index."""
    return np.argmax(predictions(X, w, b), axis=1)


def accuracy(X: np.ndarray, y: np.ndarray, w: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean(predict(X, w, b) == np.asarray(y))) if len(y) else math.nan


def ternary_string(w: np.ndarray) -> str:
    """Ternary weights (F × C) as one string over '-0+', row-major (f, then c)."""
    idx = np.rint(np.asarray(w)).astype(np.int64).ravel() + 1
    if idx.size and (idx.min() < 0 or idx.max() > 2):
        raise InputError("weights must lie in {-1, 0, 1}")
    return "".join(TERNARY_SYMBOLS[k] for k in idx)


def decode_ternary(text: str, n_features: int, n_classes: int) -> np.ndarray:
    """Inverse of :func:`ternary_string`."""
    if len(text) != n_features * n_classes:
        raise InputError(f"weight string has {len(text)} symbols, expected {n_features}×{n_classes}")
    lookup = {s: k - 1 for k, s in enumerate(TERNARY_SYMBOLS)}
    return np.array([lookup[s] for s in text], dtype=np.int64).reshape(n_features, n_classes)


def encoding_bits(lower: int, upper: int) -> int:
    """(13): K = ⌈log₂(U − L + 1)⌉ (0 when U = L)."""
    if upper < lower:
        raise ValueError(f"empty range [{lower}, {upper}]")
    return int(upper - lower).bit_length()


@dataclass(frozen=True)
class PBOBounds:
    """Integer ranges of the PBO twin (module docstring): per row for p and the margins."""

    bias: tuple[int, int]
    p_lower: np.ndarray     # per row i: −sᵢ − B
    p_upper: np.ndarray     # per row i: sᵢ + B
    margin_upper: np.ndarray  # per row i: 2(sᵢ + B)


def pbo_bounds(data: BinarizedInputs, B: int) -> PBOBounds:
    s = data.row_sums.astype(np.int64)
    return PBOBounds((-B, B), -s - B, s + B, 2 * (s + B))


# -- the formulations -------------------------------------------------------------------
class _Binarized(Formulation):
    """Validation, read-back and the solver-independent evaluator shared by MIP and PBO."""

    family = "binarized"
    problem_class = "MILP"
    sense = "max"
    hyperparameters = {"B": 10, "alpha": 2.0, "beta": 5.0}

    def validate(self, instance: Instance, params: dict[str, Any]) -> dict[str, Any]:
        params = super().validate(instance, params)
        binarized_inputs(instance)
        B = as_int(params, "B", minimum=0)
        if B is None:
            raise InputError("hyperparameter B (bias bound) is required")
        alpha = as_float(params, "alpha", minimum=0.0, allow_none=False)
        beta = as_float(params, "beta", minimum=0.0, allow_none=False)
        if not (math.isfinite(alpha) and math.isfinite(beta)):
            raise InputError(f"alpha and beta must be finite; got alpha={alpha}, beta={beta}")
        if alpha >= beta:
            raise InputError(
                f"{self.id} needs alpha < beta (got alpha={alpha:g}, beta={beta:g}): with alpha > beta the "
                "objective (10) is unbounded (raise m+ and m- together) and with alpha = beta the margins "
                "are undetermined; the paper uses (5, 10) for MNIST and (2, 5) for Flags and Ask Ubuntu"
            )
        return {**params, "B": B, "alpha": alpha, "beta": beta}

    # -- model pieces (shared) -------------------------------------------------------------
    def _skeleton(self, data: BinarizedInputs, params: dict[str, Any]) -> pyo.ConcreteModel:
        n, F = data.X.shape
        m = pyo.ConcreteModel(name=self.id)
        m.features = pyo.RangeSet(0, F - 1)
        m.classes = pyo.RangeSet(0, data.n_classes - 1)
        m.samples = pyo.RangeSet(0, n - 1)
        m.w_plus = pyo.Var(m.features, m.classes, domain=pyo.Binary)
        m.w_minus = pyo.Var(m.features, m.classes, domain=pyo.Binary)
        m.one_sign = pyo.Constraint(m.features, m.classes,                                   # (2)
                                    rule=lambda m, f, c: m.w_plus[f, c] + m.w_minus[f, c] <= 1)
        return m

    def _core(self, m, data: BinarizedInputs, params: dict[str, Any], b, p, m_plus, m_minus) -> None:
        """Constraints (3), (4) and objective (10) over indexable b, p, m⁺, m⁻ (Var or Expression)."""
        active = [np.flatnonzero(row).tolist() for row in data.X]
        y = data.y.tolist()
        m.prediction = pyo.Constraint(                                                        # (3)
            m.samples, m.classes,
            rule=lambda m, i, c: settle_constant(
                p[i, c] == pyo.quicksum(m.w_plus[f, c] - m.w_minus[f, c] for f in active[i]) + b[c]),
        )
        m.margin_pairs = pyo.Set(initialize=[(i, c) for i in range(len(y)) for c in range(data.n_classes) if c != y[i]],
                                 dimen=2, ordered=True)
        m.margin = pyo.Constraint(                                                            # (4)
            m.margin_pairs, rule=lambda m, i, c: settle_constant(p[i, y[i]] - p[i, c] >= m_plus[i] - m_minus[i]))
        alpha, beta = params["alpha"], params["beta"]
        m.objective = pyo.Objective(                                                          # (10)
            expr=alpha * pyo.quicksum(m_plus[i] for i in m.samples)
            - beta * pyo.quicksum(m_minus[i] for i in m.samples)
            + pyo.quicksum(1 - m.w_plus[f, c] - m.w_minus[f, c] for f in m.features for c in m.classes),
            sense=pyo.maximize,
        )

    @staticmethod
    def _weights(model, data: BinarizedInputs) -> tuple[np.ndarray, np.ndarray]:
        F, C = data.X.shape[1], data.n_classes
        get = lambda var, f, c: np.nan if var[f, c].value is None else float(var[f, c].value)  # noqa: E731
        w_plus = np.array([[get(model.w_plus, f, c) for c in range(C)] for f in range(F)])
        w_minus = np.array([[get(model.w_minus, f, c) for c in range(C)] for f in range(F)])
        return w_plus, w_minus

    # -- evaluator ------------------------------------------------------------------------
    def _range_violations(self, data: BinarizedInputs, params: dict[str, Any], solution) -> dict[str, float]:
        return {}

    def evaluate(self, instance: Instance, params: dict[str, Any], solution: dict[str, np.ndarray]) -> Evaluation:
        """Recompute p, the optimal margins and (10) from the weights and biases alone.

        ``solution`` holds ``w`` (F × C) or ``w_plus``/``w_minus``, and ``b`` (C); the model's
        ``p`` (n × C), ``m_plus``, ``m_minus`` (n), when present, are checked against (3)–(5).
        """
        data = binarized_inputs(instance)
        n, F = data.X.shape
        C = data.n_classes
        if "w" in solution:
            w = np.asarray(solution["w"], dtype=float)
        elif "w_plus" in solution and "w_minus" in solution:
            w = np.asarray(solution["w_plus"], dtype=float) - np.asarray(solution["w_minus"], dtype=float)
        else:
            raise InputError("a binarized solution needs weights: 'w' or 'w_plus' and 'w_minus'")
        b = np.asarray(solution.get("b", np.zeros(C)), dtype=float)
        if w.shape != (F, C) or b.shape != (C,):
            raise InputError(f"solution must have w of shape ({F}, {C}) and b of length {C}; "
                             f"got {w.shape} and {b.shape}")
        if not (np.all(np.isfinite(w)) and np.all(np.isfinite(b))):
            return Evaluation(objective=-math.inf, violations={"missing_values": math.inf})
        violations = {
            "weight_domain": float(np.max(np.abs(w - np.clip(np.rint(w), -1, 1)))),
            "bias_integrality": float(np.max(np.abs(b - np.rint(b)))),
            "bias_bound": float(np.max(np.abs(b) - params["B"], initial=0.0)),
        }
        if "w_plus" in solution and "w_minus" in solution:
            w_plus, w_minus = np.asarray(solution["w_plus"], float), np.asarray(solution["w_minus"], float)
            violations["weight_domain"] = max(
                violations["weight_domain"],
                float(np.max(np.abs(w_plus - np.clip(np.rint(w_plus), 0, 1)))),
                float(np.max(np.abs(w_minus - np.clip(np.rint(w_minus), 0, 1)))))
            violations["one_sign"] = float(np.max(w_plus + w_minus - 1, initial=0.0))            # (2)
        P = predictions(data.X, w, b)
        delta = prediction_margins(P, data.y)
        if "p" in solution:                                                                      # (3)
            given_p = np.asarray(solution["p"], dtype=float)
            violations["prediction"] = float(np.max(np.abs(given_p - P))) if given_p.shape == P.shape else math.inf
        if "m_plus" in solution and "m_minus" in solution:                                       # (4), (5)
            m_plus, m_minus = np.asarray(solution["m_plus"], float), np.asarray(solution["m_minus"], float)
            violations["margin"] = float(np.max(m_plus - m_minus - delta, initial=0.0))
            violations["margin_sign"] = float(np.max(-np.minimum(m_plus, m_minus), initial=0.0))
        violations.update(self._range_violations(data, params, solution))
        objective = objective_value(delta, w, params["alpha"], params["beta"])
        w_int, b_int = np.clip(np.rint(w), -1, 1).astype(np.int64), np.rint(b).astype(np.int64)
        zero = int(np.count_nonzero(w_int == 0))
        info = {
            "train_accuracy": accuracy(data.X, data.y, w_int, b_int),
            "correct_margin_count": int(np.count_nonzero(delta > 0)),
            "zero_weight_percent": 100.0 * zero / w_int.size,
            "n_nonzero_weights": int(w_int.size - zero),
            # (10) only sees bias differences; B binds when no shift of b fits strictly inside (−B, B)
            "bias_binding": bool(params["B"] > 0 and int(b_int.max() - b_int.min()) >= 2 * params["B"] - 1),
            "weights": ternary_string(w_int),
            "weights_shape": [F, C],
            "biases": b_int.tolist(),
        }
        return Evaluation(objective=objective, violations=violations, info=info)


@register
class BinarizedMIP(_Binarized):
    """The MIP (2)–(10) of Tule, Le & Say (arXiv 2112.00434, §III-B), as reconstructed in
    FORMULATIONS.md §7: ternary weights w⁺ − w⁻, integer biases in [−B, B], integer
    predictions, continuous margins."""

    id = "binarized.mip"
    equation = "BR (2)-(10), reconstructed"
    summary = "binarized (ternary-weight) multiclass regression, margins + sparsity objective (10)"
    benchmark_cases = (("binsyn-n60-f16-c4", {}), ("flags-bin-train10-s0", {"alpha": 2.0, "beta": 5.0}),
                       ("mnist-bin-train20-s0", {"alpha": 5.0, "beta": 10.0}))

    def build(self, instance: Instance, params: dict[str, Any]) -> pyo.ConcreteModel:
        data = binarized_inputs(instance)
        m = self._skeleton(data, params)
        B = params["B"]
        m.b = pyo.Var(m.classes, domain=pyo.Integers, bounds=(-B, B))
        m.p = pyo.Var(m.samples, m.classes, domain=pyo.Integers)
        m.m_plus = pyo.Var(m.samples, domain=pyo.NonNegativeReals)
        m.m_minus = pyo.Var(m.samples, domain=pyo.NonNegativeReals)
        self._core(m, data, params, m.b, m.p, m.m_plus, m.m_minus)
        return m

    def extract(self, model, instance: Instance, params: dict[str, Any]) -> dict[str, np.ndarray]:
        data = binarized_inputs(instance)
        n, C = data.X.shape[0], data.n_classes
        value = lambda v: np.nan if v.value is None else float(v.value)  # noqa: E731
        w_plus, w_minus = self._weights(model, data)
        return {
            "w_plus": w_plus, "w_minus": w_minus, "w": w_plus - w_minus,
            "b": np.array([value(model.b[c]) for c in range(C)]),
            "p": np.array([[value(model.p[i, c]) for c in range(C)] for i in range(n)]),
            "m_plus": np.array([value(model.m_plus[i]) for i in range(n)]),
            "m_minus": np.array([value(model.m_minus[i]) for i in range(n)]),
        }


@register
class BinarizedPBO(_Binarized):
    """The PBO twin (paper §III-C, (11)–(13)): b, p, m⁺, m⁻ binary-encoded over the bounds
    derived in the module docstring; only 0-1 variables remain."""

    id = "binarized.pbo"
    equation = "BR (2)-(10) with (11)-(13), reconstructed"
    summary = "binarized regression as a pseudo-Boolean program (binary-encoded integers)"
    benchmark_cases = (("binsyn-n12-f4-c3", {}), ("flags-bin-train10-s0", {"alpha": 2.0, "beta": 5.0}))

    def build(self, instance: Instance, params: dict[str, Any]) -> pyo.ConcreteModel:
        data = binarized_inputs(instance)
        bounds = pbo_bounds(data, params["B"])
        m = self._skeleton(data, params)
        n, C = data.X.shape[0], data.n_classes
        b_lo, b_hi = bounds.bias
        kb = encoding_bits(b_lo, b_hi)
        kp = [encoding_bits(int(lo), int(hi)) for lo, hi in zip(bounds.p_lower, bounds.p_upper)]
        km = [encoding_bits(0, int(hi)) for hi in bounds.margin_upper]
        m.b_bits = pyo.Var(pyo.Set(initialize=[(c, k) for c in range(C) for k in range(kb)], dimen=2, ordered=True),
                           domain=pyo.Binary)
        m.p_bits = pyo.Var(pyo.Set(initialize=[(i, c, k) for i in range(n) for c in range(C) for k in range(kp[i])],
                                   dimen=3, ordered=True), domain=pyo.Binary)
        margin_index = [(i, k) for i in range(n) for k in range(km[i])]
        m.m_plus_bits = pyo.Var(pyo.Set(initialize=margin_index, dimen=2, ordered=True), domain=pyo.Binary)
        m.m_minus_bits = pyo.Var(pyo.Set(initialize=margin_index, dimen=2, ordered=True), domain=pyo.Binary)
        # (11): v = L + Σ 2^k bits_k
        m.b = pyo.Expression(m.classes, rule=lambda m, c: b_lo + pyo.quicksum(2**k * m.b_bits[c, k] for k in range(kb)))
        m.p = pyo.Expression(m.samples, m.classes, rule=lambda m, i, c: int(bounds.p_lower[i])
                             + pyo.quicksum(2**k * m.p_bits[i, c, k] for k in range(kp[i])))
        m.m_plus = pyo.Expression(m.samples, rule=lambda m, i: pyo.quicksum(2**k * m.m_plus_bits[i, k] for k in range(km[i])))
        m.m_minus = pyo.Expression(m.samples, rule=lambda m, i: pyo.quicksum(2**k * m.m_minus_bits[i, k] for k in range(km[i])))
        # (12): L + Σ 2^k bits_k <= U, only where 2^K - 1 > U - L (else it cannot bind)
        if 2**kb - 1 > b_hi - b_lo:
            m.b_range = pyo.Constraint(m.classes, rule=lambda m, c: m.b[c] <= b_hi)
        p_rows = [i for i in range(n) if 2 ** kp[i] - 1 > int(bounds.p_upper[i] - bounds.p_lower[i])]
        m.p_range = pyo.Constraint(pyo.Set(initialize=[(i, c) for i in p_rows for c in range(C)], dimen=2, ordered=True),
                                   rule=lambda m, i, c: m.p[i, c] <= int(bounds.p_upper[i]))
        m_rows = [i for i in range(n) if 2 ** km[i] - 1 > int(bounds.margin_upper[i])]
        m.m_plus_range = pyo.Constraint(pyo.Set(initialize=m_rows, ordered=True),
                                        rule=lambda m, i: m.m_plus[i] <= int(bounds.margin_upper[i]))
        m.m_minus_range = pyo.Constraint(pyo.Set(initialize=m_rows, ordered=True),
                                         rule=lambda m, i: m.m_minus[i] <= int(bounds.margin_upper[i]))
        self._core(m, data, params, m.b, m.p, m.m_plus, m.m_minus)
        return m

    def extract(self, model, instance: Instance, params: dict[str, Any]) -> dict[str, np.ndarray]:
        data = binarized_inputs(instance)
        n, C = data.X.shape[0], data.n_classes

        def value(expr) -> float:
            v = pyo.value(expr, exception=False)
            return np.nan if v is None else float(v)

        w_plus, w_minus = self._weights(model, data)
        return {
            "w_plus": w_plus, "w_minus": w_minus, "w": w_plus - w_minus,
            "b": np.array([value(model.b[c]) for c in range(C)]),
            "p": np.array([[value(model.p[i, c]) for c in range(C)] for i in range(n)]),
            "m_plus": np.array([value(model.m_plus[i]) for i in range(n)]),
            "m_minus": np.array([value(model.m_minus[i]) for i in range(n)]),
        }

    def _range_violations(self, data: BinarizedInputs, params: dict[str, Any], solution) -> dict[str, float]:
        """(12): decoded values must lie in their ranges (p and margins, when given)."""
        bounds = pbo_bounds(data, params["B"])
        out = {}
        if "p" in solution:
            p = np.asarray(solution["p"], dtype=float)
            if p.shape == (data.X.shape[0], data.n_classes):
                out["encoding_range"] = float(max(np.max(p - bounds.p_upper[:, None], initial=0.0),
                                                  np.max(bounds.p_lower[:, None] - p, initial=0.0)))
        if "m_plus" in solution and "m_minus" in solution:
            margins = np.stack([np.asarray(solution["m_plus"], float), np.asarray(solution["m_minus"], float)])
            if margins.shape[1] == data.X.shape[0]:
                out["encoding_range"] = max(out.get("encoding_range", 0.0),
                                            float(np.max(margins - bounds.margin_upper[None, :], initial=0.0)))
        return out


# -- OPB export (the format itself: _opb.py) --------------------------------------------------------
def write_opb(instance: Any, params: dict[str, Any] | None, path: str | os.PathLike) -> Path:
    """Write ``binarized.pbo`` on ``instance`` as an OPB file (pseudo-Boolean competition format).

    The file minimises V = −scale·(objective (10) − offset) with integer coefficients, where
    ``scale`` is the least integer making α·scale and β·scale integral and ``offset`` = F·C is
    the constant of (10); so (10) = offset − V/scale. Both are stated in the header comments,
    followed by one comment line per variable (``* x17 w_plus[3,2]``). Constraints use ``>=``
    and ``=`` only (:func:`~reference_impl.formulations._opb.model_to_opb`).
    """
    from ..instances import resolve_instance

    formulation = BinarizedPBO()
    inst = resolve_instance(instance)
    params = formulation.validate(inst, dict(params or {}))
    model = formulation.build(inst, params)
    scale = math.lcm(*(Fraction(str(params[k])).limit_denominator(10**6).denominator for k in ("alpha", "beta")))

    def comments(offset: float) -> list[str]:
        return [
            f"* binarized.pbo (FORMULATIONS.md section 7; Tule, Le & Say, arXiv 2112.00434), instance {inst.id}",
            f"* alpha= {params['alpha']:g} beta= {params['beta']:g} B= {params['B']}",
            f"* objective (10) = offset - V / scale with offset= {offset:.17g} scale= {scale}",
        ]

    path = Path(path)
    path.write_text(model_to_opb(model, scale=scale, comments=comments))
    return path
