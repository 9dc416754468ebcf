"""Decision sets on binary features (tutorial §2.2.2; FORMULATIONS.md §2).

Formulation (14) of Justin, Sun, Gómez & Vayanos, "Responsible Machine Learning via
Mixed-Integer Optimization" (arXiv 2505.05857), the MILO of Lawless, Dash, Günlük & Wei (2023),
"Interpretable and fair boolean rule sets via column generation" (JMLR 24):

    max_{θ ∈ {0,1}^|K|, z ∈ {0,1}^n}  Σ_{i ∈ I} z_i                                    (14a)
    s.t.  θ_k ≤ 1 − z_i            ∀ i ∈ I: y_i = −1, k ∈ K_i                            (14b)
          Σ_{k ∈ K_i} θ_k ≥ z_i     ∀ i ∈ I: y_i = +1                                    (14c)
          Σ_{k ∈ K} c_k θ_k ≤ δ                                                          (14d)

Binary features X ∈ {0,1}^{n×p}; a *literal* is x_j = 1 or x_j = 0; a *conjunction* is a set
of literals on distinct features (an "and" statement). K holds every conjunction of 1 …
``max_literals`` literals (:func:`candidate_conjunctions`; Σ_{l ≤ L} C(p, l)·2^l of them, in a
fixed order: by size, then features in lexicographic order, then values with x_j = 1 first),
K_i ⊂ K those sample i satisfies, c_k the number of literals of conjunction k and
δ = ``complexity`` the budget on the total number of literals of the selected conjunctions.
A decision set (the selected conjunctions, unordered) predicts a sample positive iff it
satisfies at least one of them; z_i = 1 says that sample i is classified correctly, so (14a)
maximises the number of correct classifications (n minus the 0-1 loss). The empty conjunction
(c = 0, true everywhere) is not a candidate: "everyone positive" costs two literals
(x_j = 1 or x_j = 0).

Labels: the tutorial's y ∈ {−1, +1}. ``positive_class`` names the label read as +1 (every
other label is −1: one-vs-rest); left out, y must hold at most two labels, ⊂ {0, 1} or
⊂ {−1, +1}, with 1 positive — any other labels need ``positive_class``.

Hyperparameters: ``max_literals`` (L ≥ 1, at most p; default 2), ``complexity`` (δ ≥ 1, an
integer; default 4), ``positive_class`` (default: see above). At most
:data:`MAX_CANDIDATES` candidates (lower ``max_literals`` otherwise).

Solution read back (``extract``): ``theta`` (|K|, the selection θ in candidate order), ``z``
(n) and ``rules``, the selected conjunctions as a (#rules × L) array of signed literal codes:
+(j + 1) for x_j = 1, −(j + 1) for x_j = 0, 0 for an unused slot (:func:`encode_rules`,
:func:`decode_rules`; as lists of (feature, value) literals: :func:`rules_from_solution`). The
evaluator re-applies the rules to X (:func:`predict_rules`) and recomputes (14a) from the
data, checks each rule is a valid conjunction (integral codes, features in range, no feature
twice, 1 … L literals), that the rules are the candidates θ selects, the budget (14d) on both,
(14b)-(14c) on (θ, z) and integrality. :func:`rules_text` prints a decision set in the
original feature names.
"""
from __future__ import annotations

import itertools
import math
from typing import Any, Mapping, Sequence

import numpy as np
import pyomo.environ as pyo

from ..errors import InputError
from ..instances.instance import Instance, check_xy
from ..registry import register
from ._pyomo import values
from ._support import all_finite, integrality_violation, missing_values, read_arrays
from .base import Evaluation, Formulation, as_int
from .trees import check_binary_features

#: largest number of candidate conjunctions |K| a model is built with
MAX_CANDIDATES = 50_000

Literal = tuple[int, int]          # (feature j, value v): x_j = v
Conjunction = tuple[Literal, ...]


# -- candidate conjunctions and decision sets as plain data --------------------------------------
def n_candidates(p: int, max_literals: int) -> int:
    """|K| = Σ_{l=1}^{L} C(p, l)·2^l."""
    return sum(math.comb(p, size) * 2 ** size for size in range(1, min(max_literals, p) + 1))


def candidate_conjunctions(p: int, max_literals: int) -> list[Conjunction]:
    """K: every conjunction of 1 … ``max_literals`` literals on distinct features of p, ordered
    by size, then by features (lexicographic), then by values (x_j = 1 before x_j = 0)."""
    out: list[Conjunction] = []
    for size in range(1, min(max_literals, p) + 1):
        for features in itertools.combinations(range(p), size):
            for values_ in itertools.product((1, 0), repeat=size):
                out.append(tuple(zip(features, values_)))
    return out


def coverage(X: np.ndarray, conjunctions: Sequence[Conjunction]) -> np.ndarray:
    """A (n × |K|, bool): A[i, k] iff sample i satisfies conjunction k (k ∈ K_i)."""
    X = np.asarray(X) > 0.5
    A = np.ones((X.shape[0], len(conjunctions)), dtype=bool)
    for k, conjunction in enumerate(conjunctions):
        for j, v in conjunction:
            A[:, k] &= X[:, j] == bool(v)
    return A


def predict_rules(rules: Sequence[Sequence[Literal]], X) -> np.ndarray:
    """Boolean prediction (True = positive) of the decision set ``rules`` for each row of X:
    positive iff the row satisfies every literal of at least one rule."""
    X = np.asarray(X, dtype=float) > 0.5
    predicted = np.zeros(X.shape[0], dtype=bool)
    for rule in rules:
        holds = np.ones(X.shape[0], dtype=bool)
        for j, v in rule:
            holds &= X[:, int(j)] == bool(v)
        predicted |= holds
    return predicted


def encode_rules(rules: Sequence[Sequence[Literal]], max_literals: int) -> np.ndarray:
    """Rules as a (#rules × max_literals) float array of signed literal codes (+(j+1) for
    x_j = 1, −(j+1) for x_j = 0, 0 = unused slot)."""
    out = np.zeros((len(rules), max_literals))
    for r, rule in enumerate(rules):
        for s, (j, v) in enumerate(rule):
            out[r, s] = (j + 1) if v else -(j + 1)
    return out


def decode_rules(codes) -> list[list[Literal]]:
    """The inverse of :func:`encode_rules` for integral codes (zeros skipped)."""
    codes = np.asarray(codes, dtype=float)
    if codes.ndim == 1:
        codes = codes.reshape(1, -1) if codes.size else codes.reshape(0, 0)
    return [[(abs(int(c)) - 1, int(c > 0)) for c in row.tolist() if int(c) != 0] for row in codes]


def rules_from_solution(solution: Mapping[str, Any], p: int, max_literals: int) -> list[list[Literal]]:
    """The decision set a solution describes, as lists of (feature, value) literals: its
    ``rules`` when given, else the candidates ``theta`` selects (θ_k > ½)."""
    if "rules" in solution:
        return decode_rules(np.round(np.nan_to_num(np.asarray(solution["rules"], dtype=float))))
    theta = np.asarray(solution["theta"], dtype=float).reshape(-1)
    candidates = candidate_conjunctions(p, max_literals)
    return [list(candidates[k]) for k in np.flatnonzero(np.nan_to_num(theta) > 0.5)]


def rules_text(rules: Sequence[Sequence[Literal]], feature_names: Sequence[str] | None = None, *,
               positive: Any = 1, negative: Any = 0) -> str:
    """The decision set in the original feature names, one rule a line, e.g.::

        predict 1 if any rule holds, else 0:
          rule 1: age<=30 AND NOT priors_count<=2
          rule 2: juv_fel_count<=0

    (a literal x_j = 1 prints as the feature's name, x_j = 0 as ``NOT`` name)."""
    def name(j: int) -> str:
        if feature_names is not None and 0 <= j < len(feature_names):
            return str(feature_names[j])
        return f"x{j}"

    if not rules:
        return f"predict {negative} for every sample (no rule)"
    lines = [f"predict {positive} if any rule holds, else {negative}:"]
    for r, rule in enumerate(rules, start=1):
        literals = [name(int(j)) if v else f"NOT {name(int(j))}" for j, v in rule]
        lines.append(f"  rule {r}: {' AND '.join(literals) if literals else '(empty)'}")
    return "\n".join(lines)


def rule_violations(rules: Sequence[Sequence[Literal]], p: int, max_literals: int) -> dict[str, float]:
    """Rules that are not valid conjunctions of K, by kind (counts of rules):

    * ``feature_index`` — a literal's feature outside 0 … p−1;
    * ``conjunction`` — an empty rule, or one testing a feature twice;
    * ``literal_budget`` — more than ``max_literals`` literals (not a candidate of K)."""
    bad_feature = sum(1 for rule in rules if any(not 0 <= int(j) < p for j, _ in rule))
    bad_conjunction = sum(1 for rule in rules if not rule or len({int(j) for j, _ in rule}) < len(rule))
    too_long = sum(1 for rule in rules if len(rule) > max_literals)
    return {"feature_index": float(bad_feature), "conjunction": float(bad_conjunction),
            "literal_budget": float(too_long)}


# -- labels --------------------------------------------------------------------------------------
def positive_labels(y: np.ndarray, positive_class: Any) -> tuple[np.ndarray, Any, Any]:
    """(boolean "y_i = +1", positive label, a negative label for printing) under
    ``positive_class`` (``None``: y ⊂ {0, 1} or ⊂ {−1, +1}, positive 1)."""
    labels = sorted(set(np.unique(y).tolist()))
    if positive_class is None:
        if not (set(labels) <= {0.0, 1.0} or set(labels) <= {-1.0, 1.0}):
            shown = ", ".join(f"{v:g}" for v in labels[:6]) + (", …" if len(labels) > 6 else "")
            raise InputError(f"decision_sets.milp is a binary classifier: labels y must be 0/1 or -1/+1, got {len(labels)} "
                             f"label(s) ({shown}); give positive_class (that label against all others)")
        negative = -1 if -1.0 in labels else 0
        return y == 1.0, 1, negative
    if isinstance(positive_class, (bool, np.bool_)) or not isinstance(positive_class, (int, float, np.integer, np.floating)) \
            or not math.isfinite(float(positive_class)):
        raise InputError(f"positive_class must be a label of y (a number); got {positive_class!r}")
    value = float(positive_class)
    if value not in labels:
        shown = ", ".join(f"{v:g}" for v in labels[:6])
        raise InputError(f"positive_class {positive_class!r} does not occur in the labels y (which hold {shown})")
    label = int(value) if value == round(value) else value
    return y == value, label, f"not {label}"


# -- the formulation -----------------------------------------------------------------------------
@register
class DecisionSetMILP(Formulation):
    """Formulation (14): decision sets of Lawless, Dash, Günlük & Wei (2023) as in the tutorial
    (Justin, Sun, Gómez & Vayanos, arXiv 2505.05857, eq. 14a-14d): choose conjunctions θ among
    every conjunction of ≤ ``max_literals`` literals, at most δ = ``complexity`` literals in
    all, maximising the number of correctly classified samples."""

    id = "decision_sets.milp"
    equation = "(14)"
    problem_class = "MILP"
    family = "decision_sets"
    sense = "max"
    summary = "decision set (DNF rule set) over enumerated conjunctions, literal budget (Lawless et al. 2023)"
    hyperparameters = {"max_literals": 2, "complexity": 4, "positive_class": None}
    benchmark_cases = (("trees-planted-n20-p4-d2", {"max_literals": 2, "complexity": 4}),
                       ("trees-planted-n30-p6-d2", {"max_literals": 2, "complexity": 3}))

    # -- validation ------------------------------------------------------------------
    def validate(self, instance: Instance, params: dict[str, Any]) -> dict[str, Any]:
        params = super().validate(instance, params)
        X = check_binary_features(instance, self.id)
        p = X.shape[1]
        max_literals = as_int(params, "max_literals", minimum=1, maximum=p,
                              what=" (the number of features: a conjunction tests each feature at most once)")
        if max_literals is None:
            raise InputError("hyperparameter max_literals is required (an integer >= 1)")
        complexity = as_int(params, "complexity", minimum=1)
        if complexity is None:
            raise InputError("hyperparameter complexity is required (the budget δ on the total number of literals, >= 1)")
        count = n_candidates(p, max_literals)
        if count > MAX_CANDIDATES:
            raise InputError(f"max_literals = {max_literals} gives {count} candidate conjunctions on {p} features, more "
                             f"than {MAX_CANDIDATES}; lower max_literals")
        _, y = check_xy(instance)
        _, positive, _ = positive_labels(y, params.get("positive_class"))
        return {**params, "max_literals": max_literals, "complexity": complexity,
                "positive_class": None if params.get("positive_class") is None else positive}

    # -- data in model form -----------------------------------------------------------
    @staticmethod
    def _data(instance: Instance, params: dict[str, Any]):
        X, y = check_xy(instance)
        is_positive, positive, negative = positive_labels(y, params.get("positive_class"))
        candidates = candidate_conjunctions(X.shape[1], params["max_literals"])
        return X, is_positive, positive, negative, candidates

    def build(self, instance: Instance, params: dict[str, Any]) -> pyo.ConcreteModel:
        X, is_positive, _, _, candidates = self._data(instance, params)
        n = X.shape[0]
        A = coverage(X, candidates)
        cost = [len(c) for c in candidates]
        rows, cols = np.nonzero(A & ~is_positive[:, None])
        negative_pairs = list(zip(rows.tolist(), cols.tolist()))
        covering = {int(i): np.flatnonzero(A[i]).tolist() for i in np.flatnonzero(is_positive)}
        m = pyo.ConcreteModel(name=self.id)
        m.I = pyo.RangeSet(0, n - 1)
        m.K = pyo.RangeSet(0, len(candidates) - 1)
        m.POS = pyo.Set(initialize=sorted(covering), within=m.I)
        m.NEG_PAIRS = pyo.Set(initialize=negative_pairs, dimen=2)
        m.theta = pyo.Var(m.K, domain=pyo.Binary)      # θ_k: conjunction k selected
        m.z = pyo.Var(m.I, domain=pyo.Binary)          # z_i: sample i classified correctly
        m.negative_uncovered = pyo.Constraint(m.NEG_PAIRS, rule=lambda m, i, k: m.theta[k] <= 1 - m.z[i])      # (14b)
        m.positive_covered = pyo.Constraint(m.POS, rule=lambda m, i: pyo.quicksum(m.theta[k] for k in covering[i])
                                            >= m.z[i])                                                    # (14c)
        m.complexity = pyo.Constraint(expr=pyo.quicksum(cost[k] * m.theta[k] for k in m.K)
                                      <= int(params["complexity"]))                                      # (14d)
        m.objective = pyo.Objective(expr=pyo.quicksum(m.z[i] for i in m.I), sense=pyo.maximize)        # (14a)
        return m

    def extract(self, model, instance: Instance, params: dict[str, Any]) -> dict[str, np.ndarray]:
        n, p = instance.X.shape
        L = params["max_literals"]
        theta = values(model.theta, n_candidates(p, L))
        z = values(model.z, n)
        candidates = candidate_conjunctions(p, L)
        rules = [candidates[k] for k in np.flatnonzero(np.nan_to_num(theta) > 0.5)]
        return {"theta": theta, "z": z, "rules": encode_rules(rules, L)}

    # -- evaluator --------------------------------------------------------------------
    def evaluate(self, instance: Instance, params: dict[str, Any], solution: dict[str, np.ndarray]) -> Evaluation:
        X, is_positive, positive, negative, candidates = self._data(instance, params)
        n, p = X.shape
        L, delta = params["max_literals"], params["complexity"]
        theta, z = read_arrays(solution, {"theta": len(candidates), "z": n})
        codes = None
        if "rules" in solution:
            codes = np.asarray(solution["rules"], dtype=float)
            if codes.size == 0:
                codes = codes.reshape(0, L)
            if codes.ndim != 2 or codes.shape[1] != L:
                raise InputError(f"solution rules must be a (#rules × {L}) array of literal codes; got shape {codes.shape}")
        if not all_finite(theta, z, *([] if codes is None else [codes])):
            return missing_values(-math.inf)
        violations: dict[str, float] = {
            "integrality": integrality_violation(theta, z, *([] if codes is None else [codes]))}
        selected = [candidates[k] for k in np.flatnonzero(theta > 0.5)]
        if codes is None:
            rules = [list(c) for c in selected]
        else:
            rules = decode_rules(np.round(codes))
        violations.update(rule_violations(rules, p, L))
        # the rules must be exactly the candidates θ selects (as sets of literals, in any order)
        as_sets = [frozenset((int(j), int(v)) for j, v in rule) for rule in rules]
        chosen = [frozenset(c) for c in selected]
        violations["rules_theta"] = float(len(set(as_sets) ^ set(chosen)) + abs(len(as_sets) - len(set(as_sets))))
        # (14d) on θ (fractional values too) and on the rules themselves
        cost = np.array([len(c) for c in candidates], dtype=float)
        literals_theta = float(np.sum(cost * theta))
        literals_rules = sum(len(rule) for rule in rules)
        violations["complexity"] = max(0.0, literals_theta - delta, literals_rules - delta)
        # (14b)-(14c) on (θ, z)
        A = coverage(X, candidates)
        negative_pairs = A & ~is_positive[:, None]
        excess = np.where(negative_pairs, theta[None, :] + z[:, None] - 1.0, 0.0)
        violations["negative_covered"] = float(max(0.0, np.max(excess, initial=0.0)))                 # (14b)
        cover = np.sum(np.where(A, theta[None, :], 0.0), axis=1)
        violations["positive_uncovered"] = float(max(0.0, np.max(np.where(is_positive, z - cover, 0.0), initial=0.0)))
        # (14a) recomputed from the data: re-apply the rules (valid literals only) to X
        usable = [[(int(j), int(v)) for j, v in rule if 0 <= int(j) < p] for rule in rules]
        predicted = predict_rules([r for r in usable if r], X)
        correct = predicted == is_positive
        objective = float(np.sum(correct))
        info = {
            "correct": int(objective), "accuracy": objective / n, "claimed_correct": float(np.sum(z)),
            "n_rules": len(rules), "literals": literals_rules, "n_candidates": len(candidates),
            "rules": [[[int(j), int(v)] for j, v in rule] for rule in rules],
            "rules_text": rules_text(rules, instance.feature_names, positive=positive, negative=negative),
        }
        return Evaluation(objective=objective, violations=violations, info=info)
