"""Observational data on binary features with a planted optimal treatment policy (prescriptive
trees, FORMULATIONS.md §5 ``policy.tree``; tutorial §4.3, (31)-(34)).

Generator ``policy_planted`` (see :func:`policy_planted`):

* X: n×p binary features (float 0/1), each entry 1 with probability ``density``.
* A planted tree of depth ``depth`` (:func:`~.trees.planted_tree_structure`: every branching
  node tests a feature not tested above it, sibling leaves of the last level differ) whose
  leaves say whether the planted rule holds (1) or not (0).
* Potential-outcome means (known): μ₀(x) = Σⱼ βⱼ xⱼ with βⱼ = 1/(j+1), and
  μ₁(x) = μ₀(x) + ``effect`` where the rule holds, μ₀(x) − ``effect`` where it does not: the
  treatment effect is ±``effect``, so the optimal policy treats exactly where the rule holds
  and is itself a tree of depth ``depth``.
* Treatment (confounded): P(T = 1 | x) = ½ + ``confounding``·(2x₀ − 1) — units with x₀ = 1 are
  treated more often (x₀ also moves μ₀, so a naive comparison is biased).
* Outcome: Y = μ_T(x) + ``noise``·ε, ε ~ N(0, 1).

Arrays: ``X``, ``treatment`` (int64 0/1), ``outcome`` and ``y`` (a copy: the conventions'
response), ``mu_0``, ``mu_1`` (the true mean potential outcomes), ``tau`` (±``effect``, exactly),
``optimal_treatment`` (int64, 1 where the rule holds), ``propensity_true`` (P(T = 1 | x)),
``tree_feature`` / ``tree_leaf_treatment`` (the planted tree, as in the trees generator),
``feature_names`` and ``optimal_value`` (Σᵢ max(μ₀, μ₁)(xᵢ), shape (1,): the library stores
no 0-d arrays). The regret of any policy π is Σᵢ max(μ₀, μ₁)(xᵢ) − Σᵢ μ_{π(xᵢ)}(xᵢ).

Byte-deterministic: seeded draws, comparisons, element-wise arithmetic, :func:`math.fsum`.
"""
from __future__ import annotations

import math

import numpy as np

from ..numerics import sparse_matvec
from . import register_generator
from .trees import apply_planted, planted_tree_structure


@register_generator("policy_planted")
def policy_planted(n: int, p: int, depth: int = 2, effect: float = 1.0, noise: float = 1.0, confounding: float = 0.2,
                   density: float = 0.5, seed: int = 0) -> dict[str, np.ndarray]:
    """Binary features, confounded binary treatment and a planted optimal policy (module docstring)."""
    n, p, depth = int(n), int(p), int(depth)
    if depth < 1 or p < depth:
        raise ValueError(f"policy_planted needs 1 <= depth <= p; got depth={depth}, p={p}")
    if n < 4:
        raise ValueError(f"policy_planted needs n >= 4; got {n}")
    if not 0.0 <= confounding < 0.5:
        raise ValueError(f"confounding must lie in [0, 0.5); got {confounding}")
    if not effect > 0:
        raise ValueError(f"effect must be positive; got {effect}")
    rng = np.random.default_rng(seed)
    X = (rng.random((n, p)) < density).astype(float)
    feature, leaves = planted_tree_structure(rng, p, depth, 2)
    rule = apply_planted(X, feature, leaves, depth).astype(np.int64)
    beta = np.array([1.0 / (j + 1) for j in range(p)])
    mu_0 = sparse_matvec(X, beta)
    tau = float(effect) * (2.0 * rule - 1.0)
    mu_1 = mu_0 + tau
    propensity = 0.5 + float(confounding) * (2.0 * X[:, 0] - 1.0)
    treatment = (rng.random(n) < propensity).astype(np.int64)
    if min(int(treatment.sum()), n - int(treatment.sum())) < 2:
        raise ValueError("policy_planted drew fewer than two units in one arm; use a larger n or another seed")
    outcome = np.where(treatment == 1, mu_1, mu_0) + float(noise) * rng.standard_normal(n)
    optimal_value = math.fsum(np.maximum(mu_0, mu_1).tolist())
    return {
        "X": X,
        "treatment": treatment,
        "outcome": outcome,
        "y": outcome.copy(),
        "mu_0": mu_0,
        "mu_1": mu_1,
        "tau": tau,
        "optimal_treatment": rule,
        "propensity_true": propensity,
        "tree_feature": feature,
        "tree_leaf_treatment": leaves,
        "feature_names": np.array([f"x{j}" for j in range(p)], dtype=str),
        "optimal_value": np.array([optimal_value]),
    }
