"""Generators for the GAM, information-criterion and fairness families (tutorial §2.1.4,
§2.5, §5). Byte-deterministic: seeded ``numpy.random.Generator`` draws, element-wise IEEE
arithmetic (products, max, abs — no transcendental functions, whose SIMD implementations
differ between CPUs) and exactly rounded sums from :mod:`reference_impl.instances.numerics`.
Every generator returns centred ``y`` (the GAM models have no intercept).
"""
from __future__ import annotations

import math

import numpy as np

from ..numerics import exact_mean, sparse_matvec, standardize_columns
from . import register_generator


def _noise_scale(signal: np.ndarray, snr: float) -> float:
    centred = signal - exact_mean(signal)
    variance = math.fsum((centred * centred).tolist()) / signal.size
    return math.sqrt(variance / snr) if variance > 0 else 1.0


def _centre(v: np.ndarray) -> np.ndarray:
    return v - exact_mean(v)


@register_generator("synthetic_gam")
def synthetic_gam(n: int, d: int, active: int = 2, snr: float = 4.0, seed: int = 0) -> dict[str, np.ndarray]:
    """Additive nonlinear data for (10): xⱼ ~ U(−1, 1); y = Σ_{j active} fⱼ(xⱼ) + ε with
    f cycling through x² − 1/3, max(x, 0), x³ − x/2, |x| (polynomial / piecewise linear);
    the first ``active`` features are active; ``active_true`` marks them."""
    if not 1 <= active <= d:
        raise ValueError(f"need 1 <= active <= d; got active={active}, d={d}")
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, size=(n, d))
    shapes = (lambda x: x * x - 1.0 / 3.0, lambda x: np.maximum(x, 0.0), lambda x: x * x * x - 0.5 * x, np.abs)
    signal = np.zeros(n)
    for j in range(active):
        signal = signal + 2.0 * shapes[j % len(shapes)](X[:, j])
    y = signal + _noise_scale(signal, snr) * rng.standard_normal(n)
    flags = np.zeros(d, dtype=np.int64)
    flags[:active] = 1
    return {"X": X, "y": _centre(y), "active_true": flags}


@register_generator("synthetic_interactions")
def synthetic_interactions(n: int, d: int, snr: float = 4.0, seed: int = 0) -> dict[str, np.ndarray]:
    """Data for (11): X standardised Gaussian; y = x₀ + x₁ + 1.5·x₀x₁ + 1.2·x₁x₂ + ε.

    The x₁x₂ term has only one main effect (x₂ has none), so the strong hierarchy changes
    the optimal model (it must add x₂ or drop x₁x₂); ``terms_true`` names the true terms."""
    if d < 3:
        raise ValueError("synthetic_interactions needs d >= 3")
    rng = np.random.default_rng(seed)
    X, _, _ = standardize_columns(rng.standard_normal((n, d)))
    beta = np.zeros(d)
    beta[[0, 1]] = 1.0
    signal = sparse_matvec(X, beta) + 1.5 * (X[:, 0] * X[:, 1]) + 1.2 * (X[:, 1] * X[:, 2])
    y = signal + _noise_scale(signal, snr) * rng.standard_normal(n)
    return {"X": X, "y": _centre(y), "terms_true": np.array(["x0", "x1", "x0*x1", "x1*x2"])}


def _tree(branching: list[int]) -> tuple[np.ndarray, list[str], list[int]]:
    """Parent array of a tree with the given branching per level; names like r1.d0.s1."""
    parent, names, frontier = [-1], ["root"], [0]
    prefixes = ("r", "d", "s", "c", "e")
    for level, width in enumerate(branching):
        next_frontier = []
        for node in frontier:
            for child in range(width):
                parent.append(node)
                base = "" if node == 0 else names[node] + "."
                names.append(f"{base}{prefixes[level % len(prefixes)]}{child}")
                next_frontier.append(len(parent) - 1)
        frontier = next_frontier
    return np.array(parent, dtype=np.int64), names, frontier


@register_generator("synthetic_hierarchical_categorical")
def synthetic_hierarchical_categorical(n: int, branching: list[int] = (2, 2, 2), d: int = 2, snr: float = 4.0,
                                       seed: int = 0) -> dict[str, np.ndarray]:
    """A categorical variable whose values are the leaves of a tree (e.g. regions → divisions
    → states, as in the tutorial's Figure 6) plus ``d`` numeric features.

    Effects: region r0 shifts y by +1.5 except its last leaf (−0.5 instead: with few
    categories the best model nests that leaf under r0, which the path constraints forbid);
    the last leaf of the tree by +1.0; the first numeric feature with slope 1. Arrays: ``X``
    (standardised numeric features), ``y`` (centred), ``parent``, ``category`` (leaf id per
    sample), ``node_names``.
    """
    rng = np.random.default_rng(seed)
    parent, names, leaves = _tree(list(branching))
    category = np.array(leaves, dtype=np.int64)[rng.integers(0, len(leaves), size=n)]
    X, _, _ = standardize_columns(rng.standard_normal((n, d)))
    effect = np.zeros(len(parent))

    region0 = 1
    under_region0 = [v for v in leaves if region0 in _ancestors(parent, v)]
    effect[under_region0] = 1.5
    effect[under_region0[-1]] = -0.5
    effect[leaves[-1]] = 1.0
    signal = effect[category] + X[:, 0]
    y = signal + _noise_scale(signal, snr) * rng.standard_normal(n)
    return {"X": X, "y": _centre(y), "parent": parent, "category": category, "node_names": np.array(names)}


def _ancestors(parent: np.ndarray, node: int) -> list[int]:
    out = [node]
    while parent[node] != -1:
        node = int(parent[node])
        out.append(node)
    return out


@register_generator("synthetic_fair_regression")
def synthetic_fair_regression(n: int, p: int, group_share: float = 0.4, shift: float = 1.0, snr: float = 4.0,
                              seed: int = 0) -> dict[str, np.ndarray]:
    """Regression data with a protected group for the fairness constraints (§5).

    ``group`` ~ Bernoulli(group_share) (1 = protected); feature x₀ = shift·group + noise is a
    proxy of the group; y = x₀ + 0.5·x₁ − 0.5·x₂ + ε, so an unconstrained fit predicts the
    protected group's outcomes above the mean more often (statistical parity fails);
    ``stratum`` (a legitimate binary variable: x₁ above its median) supports conditional
    statistical parity (38). X is standardised, y centred.
    """
    if p < 3:
        raise ValueError("synthetic_fair_regression needs p >= 3")
    rng = np.random.default_rng(seed)
    group = (rng.uniform(size=n) < group_share).astype(np.int64)
    group[0], group[1] = 1, 0  # both groups present whatever the seed
    raw = rng.standard_normal((n, p))
    raw[:, 0] = raw[:, 0] + shift * group
    X, _, _ = standardize_columns(raw)
    beta = np.zeros(p)
    beta[[0, 1, 2]] = (1.0, 0.5, -0.5)
    signal = sparse_matvec(X, beta)
    y = signal + _noise_scale(signal, snr) * rng.standard_normal(n)
    stratum = (X[:, 1] > np.sort(X[:, 1])[n // 2]).astype(np.int64)
    return {"X": X, "y": _centre(y), "group": group, "stratum": stratum}


@register_generator("synthetic_fair_classification")
def synthetic_fair_classification(n: int, p: int, group_share: float = 0.4, shift: float = 1.0, snr: float = 4.0,
                                  seed: int = 0) -> dict[str, np.ndarray]:
    """:func:`synthetic_fair_regression` with labels yᵢ = +1 where its outcome is above 0 (the
    mean), else −1; +1 is the favourable label, which the proxy feature x₀ makes more
    frequent in the protected group."""
    data = synthetic_fair_regression(n, p, group_share=group_share, shift=shift, snr=snr, seed=seed)
    data["y"] = np.where(data["y"] > 0, 1.0, -1.0)
    return data
