"""Sparse logistic-model generator: equicorrelated design, evenly spaced true support, ±1 labels."""
from __future__ import annotations

import math

import numpy as np

from ..numerics import sparse_matvec
from . import register_generator
from .regression import equicorrelated_design, evenly_spaced_support


@register_generator("synthetic_classification")
def synthetic_classification(
    n: int,
    p: int,
    k: int,
    rho: float = 0.3,
    coef: float = 1.0,
    intercept: float = 0.0,
    binary: bool = False,
    alternate_signs: bool = True,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """Labels from a sparse logistic model: P(y = +1 | x) = 1 / (1 + exp(−(βᵀx + β₀))).

    The design is :func:`~.regression.equicorrelated_design` (correlation ``rho``). With
    ``binary=True`` every entry is replaced by the indicator ``x > 0`` (a binarised design,
    as risk scores use; ``coef`` should then be an integer so that the true model is a risk
    score). β has ``k`` nonzeros of size ``coef`` on :func:`~.regression.evenly_spaced_support`,
    with alternating signs unless ``alternate_signs=False``; β₀ = ``intercept``.

    Determinism: X uses only the regression generator's draws and element-wise arithmetic;
    the labels compare a uniform draw uᵢ with σ(ηᵢ). ``exp`` is not guaranteed to round the
    same on every platform, but a label could only change if uᵢ fell within one ulp of
    σ(ηᵢ) (probability ~1e-16 per sample). A ``group`` array (fair coin, independent of X and
    y) is added for fairness experiments.
    """
    rng = np.random.default_rng(seed)
    X = equicorrelated_design(rng, n, p, rho)
    if binary:
        X = (X > 0).astype(float)
    beta = np.zeros(p)
    support = evenly_spaced_support(p, k)
    signs = np.where(np.arange(k) % 2 == 0, 1.0, -1.0) if alternate_signs else np.ones(k)
    beta[support] = coef * signs
    eta = sparse_matvec(X, beta) + float(intercept)
    probability = np.array([1.0 / (1.0 + math.exp(-v)) for v in eta.tolist()])
    u = rng.random(n)
    y = np.where(u < probability, 1.0, -1.0)
    group = (rng.random(n) < 0.5).astype(np.int64)
    return {"X": X, "y": y, "beta_true": beta, "intercept_true": np.array([float(intercept)]), "group": group}
