"""Prescriptive policy trees from observational data (tutorial §4.3, (31)-(34); FORMULATIONS.md §5).

Justin, Sun, Gómez & Vayanos, "Responsible Machine Learning via Mixed-Integer Optimization"
(arXiv 2505.05857), problems (31)-(32) with the scores (33) and (34), learned as in Jo, Aghaei,
Gómez & Vayanos (2021), "Learning Optimal Prescriptive Trees from Observational Data"
(arXiv 2108.13628): a flow formulation like (12) whose sinks assign treatments.

Problem. Binary features X ∈ {0,1}^{n×p} (the instance's ``X`` itself must be 0/1: binarize
first, e.g. with :func:`reference_impl.instances.loaders.trees.binarize`; any other value is an
:class:`InputError`), a binary treatment aᵢ ∈ {0, 1} (``treatment``) and an outcome yᵢ
(``outcome``; larger is better). A policy is a tree of depth D (``depth``, counted as in
:mod:`~reference_impl.formulations.trees`: branching nodes 1 … 2^D − 1, x_j = 0 left, x_j = 1
right) whose predicting nodes assign a treatment t ∈ {0, 1}. With a score sᵢ(t) per sample and
treatment, (32) is maximised:

    max Σᵢ sᵢ(π(xᵢ)) − lam · (number of branching nodes).

Scores (``score``), cross-fitted over ``folds`` stratified folds (scikit-learn
``StratifiedKFold(shuffle=True, random_state=random_state)``; ``folds = 1``: fitted and
predicted on the whole sample). The nuisance models, fitted on the other folds and predicted on
each fold: per arm t an outcome model ν̂ₜ(x) = ``DecisionTreeRegressor(min_samples_leaf=5,
random_state=random_state)`` fitted to the units with aᵢ = t, and a propensity model
ê(x) = P̂(a = 1 | x) = ``LogisticRegression(C=1)`` on all units, clipped to [clip, 1 − clip]
(``clip``); μ̂(x, 1) = ê(x), μ̂(x, 0) = 1 − ê(x).

* ``"direct"`` — the direct method: sᵢ(t) = ν̂ₜ(xᵢ);
* ``"ipw"`` — inverse propensity weighting (33): sᵢ(t) = [aᵢ = t] yᵢ / μ̂(xᵢ, aᵢ);
* ``"dr"`` — doubly robust (34): sᵢ(t) = ν̂ₜ(xᵢ) + [aᵢ = t] (yᵢ − ν̂ₜ(xᵢ)) / μ̂(xᵢ, aᵢ).

(The tutorial writes (33)-(34) as averages over samples sharing (x, a) divided by |I|; per
sample and summed over i, as in Jo et al. 2021 and Dudík et al. 2014, they are the above.)
Precomputed scores win: an instance holding ``score_0`` and ``score_1`` (length n each) is
optimised on them as given and ``score``, ``folds``, ``clip``, ``random_state`` are unused
(``info["score_source"]`` says which was used). :func:`policy_scores` gives the n×2 score
matrix, :func:`nuisances` the fitted ν̂ and ê.

Model (``build``, MILP). With two treatments, Σᵢ sᵢ(π(xᵢ)) = Σᵢ minₜ sᵢ(t) + Σᵢ gᵢ [π(xᵢ) = tᵢ*]
with tᵢ* = argmaxₜ sᵢ(t) and gᵢ = |sᵢ(1) − sᵢ(0)| ≥ 0 (:func:`treatment_gains`): the policy
problem is (12) with "label" tᵢ* and sample weight gᵢ, plus a constant — the flow formulation of
Jo et al. (2021) with the treatment as the sink's class. θ (``b``) chooses a feature per
branching node and ϕ (``w``) a treatment per node with (12b)-(12c) (each node branches,
assigns, or lies below an assigning node); sample i may send one unit of flow from the source
along its path ((12d)-(12g): arcs to the left/right child are open only when the node tests a
feature that is 0/1 for the sample) into the sink of node k only when k assigns tᵢ*, (12h);
objective Σᵢ minₜ sᵢ(t) + Σᵢ gᵢ Σₖ sᵢₖ − lam Σ θ. A sample with gᵢ = 0 gains nothing and is
left out of the objective. Because the weights are nonnegative, a sample need not flow at all
(as in (12)), which keeps the model at 2·n·|nodes| flow variables and keeps (12)'s strong
relaxation; a multi-sink form forcing every sample through (needed for three or more
treatments) took 1.5-3 times as long to prove with SCIP on the tiny instance. z and s are
declared binary, as in :mod:`~reference_impl.formulations.trees`.

Solution (``extract``): ``b``, ``w`` (as in the trees family), ``node_feature`` and
``node_class`` (per node the treatment it assigns, −1 none). The evaluator re-reads the tree
(:func:`~reference_impl.formulations.trees.tree_from_solution`), checks its structure
(:func:`~reference_impl.formulations.trees.structure_violations`), routes X through it,
recomputes Σᵢ sᵢ(π(xᵢ)) − lam·splits from the scores (not from the gains), and flags samples
the tree assigns no treatment (``unassigned``). When the instance holds the true mean potential
outcomes ``mu_0``, ``mu_1`` (the ``policy_planted`` generator), ``info`` reports the policy's true value and its
exact ``regret`` = Σᵢ max(μ₀, μ₁)(xᵢ) − Σᵢ μ_{π(xᵢ)}(xᵢ).
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyomo.environ as pyo

from ..errors import InputError
from ..instances.instance import Instance
from ..registry import register
from .base import Evaluation, Formulation, as_float, as_int
from .trees import (MAX_DEPTH, _value, ancestors, n_branching, n_nodes, route, structure_violations,
                    tree_from_solution, tree_text)

#: the score functions (``score``)
SCORES = ("direct", "ipw", "dr")
#: the treatments a leaf may assign
TREATMENTS = (0, 1)
#: ``min_samples_leaf`` of the per-arm outcome trees ν̂ₜ
OUTCOME_MIN_LEAF = 5
#: most cross-fitting folds accepted
MAX_FOLDS = 20
_CACHE: dict[tuple, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
_CACHE_SIZE = 32


# -- data ---------------------------------------------------------------------------------------
def _vector(instance: Instance, name: str, n: int) -> np.ndarray:
    array = np.asarray(instance.arrays[name])
    if array.ndim != 1 or array.shape[0] != n:
        raise InputError(f"{name} must be a 1-D array of length n = {n} (one entry per row of X); got shape {array.shape}")
    if not np.issubdtype(array.dtype, np.number) or np.iscomplexobj(array) or array.dtype == np.bool_:
        raise InputError(f"{name} must be a real numeric array; got dtype {array.dtype}")
    array = array.astype(float)
    if not np.all(np.isfinite(array)):
        raise InputError(f"{name} contains {int(np.sum(~np.isfinite(array)))} NaN or infinite value(s); clean or "
                         "impute them first")
    return array


def binary_features(instance: Instance) -> np.ndarray:
    """X as floats; one :class:`InputError` unless it is a non-empty, finite, 2-D 0/1 array."""
    if "X" not in instance.arrays:
        raise InputError(f"policy.tree needs binary features X; instance {instance.id!r} has: "
                         f"{', '.join(sorted(instance.arrays))}")
    X = np.asarray(instance.arrays["X"])
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise InputError(f"X must be a non-empty 2-D array (n samples × p binary features); got shape {X.shape}")
    if not np.issubdtype(X.dtype, np.number) or np.iscomplexobj(X):
        raise InputError(f"X must be a real numeric array; got dtype {X.dtype}")
    X = X.astype(float)
    if not np.all(np.isfinite(X)):
        raise InputError(f"X contains {int(np.sum(~np.isfinite(X)))} NaN or infinite value(s); clean or impute them first")
    bad = np.flatnonzero(np.any((X != 0.0) & (X != 1.0), axis=0))
    if bad.size:
        j = int(bad[0])
        value = X[:, j][(X[:, j] != 0.0) & (X[:, j] != 1.0)][0]
        name = instance.feature_names[j] if j < len(instance.feature_names) else f"x{j}"
        raise InputError(f"policy.tree needs binary features (0/1): column {j} ({name!r}) holds {value:g}; binarize "
                         "first (reference_impl.instances.loaders.trees.binarize)")
    return X


def precomputed(instance: Instance) -> bool:
    """Whether the instance carries its own scores ``score_0``, ``score_1`` (which then win)."""
    return "score_0" in instance.arrays and "score_1" in instance.arrays


def _check_instance(instance: Instance, folds: int) -> None:
    X = binary_features(instance)
    n = X.shape[0]
    given = [name for name in ("score_0", "score_1") if name in instance.arrays]
    if len(given) == 1:
        other = "score_1" if given[0] == "score_0" else "score_0"
        raise InputError(f"instance {instance.id!r} holds {given[0]} but not {other}: precomputed scores need both")
    for name in given:
        _vector(instance, name, n)
    if not given:
        for name in ("treatment", "outcome"):
            if name not in instance.arrays:
                raise InputError(f"policy.tree needs a {name!r} array to estimate scores (or precomputed score_0 and "
                                 f"score_1); instance {instance.id!r} has: {', '.join(sorted(instance.arrays))}")
    if "treatment" in instance.arrays:
        treatment = _vector(instance, "treatment", n)
        values = sorted(set(np.unique(treatment).tolist()))
        if not set(values) <= {0.0, 1.0}:
            raise InputError(f"treatment must be binary (0 = control, 1 = treated); got values {values[:6]}")
        if not given:
            counts = [int(np.sum(treatment == t)) for t in TREATMENTS]
            need = max(folds, 2) if folds > 1 else 1
            if min(counts) < need:
                raise InputError(f"cross-fitting with folds={folds} needs at least {need} units per arm; the instance "
                                 f"has {counts[0]} control and {counts[1]} treated unit(s) (lower folds)")
    if "outcome" in instance.arrays:
        _vector(instance, "outcome", n)


# -- scores -------------------------------------------------------------------------------------
def _splits(treatment: np.ndarray, folds: int, random_state: int):
    n = treatment.shape[0]
    if folds == 1:
        every = np.arange(n)
        return [(every, every)]
    from sklearn.model_selection import StratifiedKFold

    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=random_state)
    return list(splitter.split(np.zeros((n, 1)), treatment.astype(np.int64)))


def nuisances(instance: Instance, params: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """(ν̂ as n×2, ê as n): cross-fitted outcome predictions per arm and clipped propensities
    P̂(a = 1 | x) (module docstring), from X, ``treatment`` and ``outcome``."""
    key = (instance.sha256, int(params["folds"]), float(params["clip"]), int(params["random_state"]))
    if key not in _CACHE:
        from sklearn.linear_model import LogisticRegression
        from sklearn.tree import DecisionTreeRegressor

        X = binary_features(instance)
        n = X.shape[0]
        treatment = _vector(instance, "treatment", n).astype(np.int64)
        outcome = _vector(instance, "outcome", n)
        nu = np.zeros((n, 2))
        e = np.zeros(n)
        for train, test in _splits(treatment, key[1], key[3]):
            for t in TREATMENTS:
                rows = train[treatment[train] == t]
                model = DecisionTreeRegressor(min_samples_leaf=OUTCOME_MIN_LEAF, random_state=key[3])
                nu[test, t] = model.fit(X[rows], outcome[rows]).predict(X[test])
            propensity = LogisticRegression(C=1.0, max_iter=1000).fit(X[train], treatment[train])
            e[test] = propensity.predict_proba(X[test])[:, list(propensity.classes_).index(1)]
        e = np.clip(e, key[2], 1.0 - key[2])
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = (nu, e, outcome)
    nu, e, _ = _CACHE[key]
    return nu.copy(), e.copy()


def policy_scores(instance: Instance, params: dict[str, Any]) -> np.ndarray:
    """The n×2 score matrix sᵢ(t): the instance's ``score_0``/``score_1`` when present, else
    the ``score`` hyperparameter's direct / IPW (33) / doubly robust (34) scores."""
    n = binary_features(instance).shape[0]
    if precomputed(instance):
        return np.column_stack([_vector(instance, "score_0", n), _vector(instance, "score_1", n)])
    nu, e = nuisances(instance, params)
    if params["score"] == "direct":
        return nu
    treatment = _vector(instance, "treatment", n).astype(np.int64)
    outcome = _vector(instance, "outcome", n)
    received = np.column_stack([treatment == 0, treatment == 1]).astype(float)
    chance = np.where(treatment == 1, e, 1.0 - e)[:, None]  # μ̂(xᵢ, aᵢ)
    if params["score"] == "ipw":
        return received * outcome[:, None] / chance
    return nu + received * (outcome[:, None] - nu) / chance


def treatment_gains(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """(better treatment tᵢ* = argmaxₜ sᵢ(t) (0 on ties), gain gᵢ = |sᵢ(1) − sᵢ(0)|, base Σᵢ minₜ sᵢ(t)):
    for every policy π, Σᵢ sᵢ(π(xᵢ)) = base + Σᵢ gᵢ [π(xᵢ) = tᵢ*]."""
    better = (scores[:, 1] > scores[:, 0]).astype(np.int64)
    gain = np.abs(scores[:, 1] - scores[:, 0])
    return better, gain, math.fsum(np.min(scores, axis=1).tolist())


def policy_value(scores: np.ndarray, assigned: np.ndarray) -> float:
    """Σᵢ sᵢ(assignedᵢ) over the samples with an assignment (exactly rounded sum)."""
    rows = np.flatnonzero(assigned >= 0)
    return math.fsum(scores[rows, assigned[rows]].tolist())


# -- the formulation ------------------------------------------------------------------------------
@register
class PolicyTree(Formulation):
    """Prescriptive tree (tutorial eq. 31-34; Jo et al. 2021): a depth-D tree on binary features
    whose leaves assign a binary treatment, maximising the direct, IPW (33) or doubly robust (34)
    score of the assigned treatments, by the multi-sink flow formulation like (12)."""

    id = "policy.tree"
    equation = "(31)-(34)"
    family = "policy"
    problem_class = "MILP"
    sense = "max"
    summary = "prescriptive policy tree (Jo et al. 2021) with direct, IPW or doubly robust scores, binary features"
    hyperparameters = {"depth": 2, "score": "dr", "folds": 2, "clip": 0.05, "lam": 0.0, "random_state": 0}
    benchmark_cases = (("policy-planted-n30-p4-d2", {"depth": 2, "score": "direct"}),
                       ("policy-planted-n30-p4-d2", {"depth": 1, "score": "dr", "lam": 0.5}))

    # -- validation ------------------------------------------------------------------
    def validate(self, instance: Instance, params: dict[str, Any]) -> dict[str, Any]:
        params = super().validate(instance, params)
        depth = as_int(params, "depth", minimum=1, maximum=MAX_DEPTH)
        if depth is None:
            raise InputError(f"hyperparameter depth is required (1..{MAX_DEPTH})")
        score = params.get("score")
        if not isinstance(score, str) or score not in SCORES:
            raise InputError(f"hyperparameter score must be one of {', '.join(SCORES)}; got {score!r}")
        folds = as_int(params, "folds", minimum=1, maximum=MAX_FOLDS)
        if folds is None:
            raise InputError("hyperparameter folds is required (1 = no cross-fitting)")
        clip = as_float(params, "clip", minimum=0.0, allow_none=False)
        if not clip < 0.5:
            raise InputError(f"hyperparameter clip (propensities are clipped to [clip, 1 - clip]) must be < 0.5; got {clip}")
        lam = as_float(params, "lam", minimum=0.0, allow_none=False)
        random_state = as_int(params, "random_state", minimum=0)
        if random_state is None:
            raise InputError("hyperparameter random_state is required (a non-negative integer)")
        _check_instance(instance, folds)
        out = {**params, "depth": depth, "score": score, "folds": folds, "clip": clip, "lam": lam,
               "random_state": random_state}
        scores = policy_scores(instance, out)
        if not np.all(np.isfinite(scores)):  # pragma: no cover - finite inputs, clipped propensities
            raise InputError("the scores are not finite; check outcome and treatment")
        return out

    # -- model ---------------------------------------------------------------------------
    def build(self, instance: Instance, params: dict[str, Any]) -> pyo.ConcreteModel:
        X = binary_features(instance)
        scores = policy_scores(instance, params)
        n, p = X.shape
        depth = params["depth"]
        branching, total = n_branching(depth), n_nodes(depth)
        zeros = [np.flatnonzero(X[i] == 0.0).tolist() for i in range(n)]
        ones = [np.flatnonzero(X[i] == 1.0).tolist() for i in range(n)]
        better, gain, base = treatment_gains(scores)
        m = pyo.ConcreteModel(name=self.id)
        m.I = pyo.RangeSet(0, n - 1)
        m.F = pyo.RangeSet(0, p - 1)
        m.K = pyo.RangeSet(0, len(TREATMENTS) - 1)
        m.B = pyo.RangeSet(1, branching)
        m.L = pyo.RangeSet(branching + 1, total)
        m.N = pyo.RangeSet(1, total)
        m.b = pyo.Var(m.B, m.F, domain=pyo.Binary)        # θ_{k,j}: node k tests feature j
        m.w = pyo.Var(m.N, m.K, domain=pyo.Binary)        # ϕ_{k,t}: node k assigns treatment t
        m.z = pyo.Var(m.I, m.N, domain=pyo.Binary)        # flow of sample i into node k
        m.s = pyo.Var(m.I, m.N, domain=pyo.Binary)        # flow of sample i from k into the sink

        def assigned_above(m, k):
            return pyo.quicksum(m.w[a, t] for a in ancestors(k) for t in m.K)

        m.branch_or_assign = pyo.Constraint(m.B, rule=lambda m, k: pyo.quicksum(m.b[k, j] for j in m.F)
                                            + pyo.quicksum(m.w[k, t] for t in m.K) + assigned_above(m, k) == 1)  # (12b)
        m.leaf_assigns = pyo.Constraint(m.L, rule=lambda m, k: pyo.quicksum(m.w[k, t] for t in m.K)
                                        + assigned_above(m, k) == 1)                                       # (12c)
        m.conserve_branch = pyo.Constraint(m.I, m.B, rule=lambda m, i, k: m.z[i, k]
                                           == m.z[i, 2 * k] + m.z[i, 2 * k + 1] + m.s[i, k])               # (12d)
        m.conserve_leaf = pyo.Constraint(m.I, m.L, rule=lambda m, i, k: m.z[i, k] == m.s[i, k])            # (12e)
        m.left_arc = pyo.Constraint(m.I, m.B, rule=lambda m, i, k: m.z[i, 2 * k]
                                    <= pyo.quicksum(m.b[k, j] for j in zeros[i]))                         # (12f)
        m.right_arc = pyo.Constraint(m.I, m.B, rule=lambda m, i, k: m.z[i, 2 * k + 1]
                                     <= pyo.quicksum(m.b[k, j] for j in ones[i]))                         # (12g)
        m.sink = pyo.Constraint(m.I, m.N, rule=lambda m, i, k: m.s[i, k] <= m.w[k, int(better[i])])        # (12h)
        m.gain = pyo.Expression(expr=pyo.quicksum(float(gain[i]) * m.s[i, k] for i in m.I for k in m.N if gain[i] > 0))
        m.splits = pyo.Expression(expr=pyo.quicksum(m.b[k, j] for k in m.B for j in m.F))
        m.objective = pyo.Objective(expr=base + m.gain - float(params["lam"]) * m.splits, sense=pyo.maximize)
        return m

    def extract(self, model, instance: Instance, params: dict[str, Any]) -> dict[str, np.ndarray]:
        p = instance.X.shape[1]
        depth = params["depth"]
        branching, total = n_branching(depth), n_nodes(depth)
        b = np.array([[_value(model.b[k, j]) for j in range(p)] for k in range(1, branching + 1)])
        w = np.array([[_value(model.w[k, t]) for t in TREATMENTS] for k in range(1, total + 1)])
        safe_b, safe_w = np.nan_to_num(b), np.nan_to_num(w)
        feature = np.where(safe_b.max(axis=1) > 0.5, np.argmax(safe_b, axis=1), -1)
        node_class = np.where(safe_w.max(axis=1) > 0.5, np.argmax(safe_w, axis=1), -1)
        return {"b": b.reshape(-1), "w": w.reshape(-1), "node_feature": feature.astype(float),
                "node_class": node_class.astype(float)}

    # -- evaluator -----------------------------------------------------------------------
    def evaluate(self, instance: Instance, params: dict[str, Any], solution: dict[str, np.ndarray]) -> Evaluation:
        X = binary_features(instance)
        scores = policy_scores(instance, params)
        n, p = X.shape
        tree, violations = tree_from_solution(solution, params["depth"], p, np.asarray(TREATMENTS))
        violations.update(structure_violations(tree, p))
        _, assigned = route(tree, X)
        violations["unassigned"] = float(np.sum(assigned < 0))
        value = policy_value(scores, assigned)
        objective = value - params["lam"] * tree.n_splits()
        info: dict[str, Any] = {
            "policy_value": value, "mean_policy_value": value / n, "n_splits": tree.n_splits(),
            "n_treated": int(np.sum(assigned == 1)), "treated_fraction": float(np.mean(assigned == 1)),
            "score_source": "precomputed (score_0, score_1)" if precomputed(instance) else params["score"],
            "tree": tree_text(tree, instance.feature_names, ["0 (control)", "1 (treat)"]),
            "tree_feature": tree.feature.tolist(), "tree_treatment": tree.node_class.tolist(),
        }
        info.update(true_regret(instance, assigned))
        if violations.get("missing_values") or not math.isfinite(objective):
            objective = -math.inf
        return Evaluation(objective=float(objective), violations=violations, info=info)


def true_regret(instance: Instance, assigned: np.ndarray) -> dict[str, float]:
    """``true_value`` (Σᵢ μ_{π(xᵢ)}(xᵢ)), ``regret`` (Σᵢ max(μ₀, μ₁)(xᵢ) − true_value) and
    ``mean_regret`` when the instance holds ``mu_0`` and ``mu_1`` and every sample is assigned;
    nothing otherwise."""
    if "mu_0" not in instance.arrays or "mu_1" not in instance.arrays or np.any(assigned < 0):
        return {}
    n = assigned.shape[0]
    mu = np.column_stack([_vector(instance, "mu_0", n), _vector(instance, "mu_1", n)])
    value = math.fsum(mu[np.arange(n), assigned].tolist())
    best = math.fsum(np.max(mu, axis=1).tolist())
    return {"true_value": value, "regret": best - value, "mean_regret": (best - value) / n}

