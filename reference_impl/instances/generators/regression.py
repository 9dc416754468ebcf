"""Sparse-regression generator: equicorrelated design, evenly spaced true support."""
from __future__ import annotations

import math

import numpy as np

from ..numerics import sparse_matvec
from . import register_generator


def evenly_spaced_support(p: int, k: int) -> np.ndarray:
    """Indices 0, p//k, 2·(p//k), ... (k of them): "true support every p/k indices"."""
    if not 1 <= k <= p:
        raise ValueError(f"need 1 <= k <= p, got k={k}, p={p}")
    return np.arange(k) * (p // k)


def equicorrelated_design(rng: np.random.Generator, n: int, p: int, rho: float) -> np.ndarray:
    """Rows x = sqrt(ρ)·c + sqrt(1−ρ)·e with c ~ N(0,1) shared, e ~ N(0, I): corr(x_j, x_l) = ρ."""
    if not 0.0 <= rho < 1.0:
        raise ValueError(f"rho must lie in [0, 1); got {rho}")
    common = rng.standard_normal(n)
    noise = rng.standard_normal((n, p))
    return math.sqrt(rho) * common[:, None] + math.sqrt(1.0 - rho) * noise


@register_generator("synthetic_regression")
def synthetic_regression(
    n: int, p: int, k: int, rho: float = 0.5, snr: float = 5.0, seed: int = 0, coef: float = 1.0
) -> dict[str, np.ndarray]:
    """Sparse linear regression data: y = Xβ + ε.

    Design equicorrelated with correlation ``rho``; β has ``k`` entries equal to ``coef`` on
    :func:`evenly_spaced_support`; ε ~ N(0, σ²) with σ² = βᵀΣβ / snr, where
    Σ = ρ11ᵀ + (1−ρ)I is the population covariance (Hastie, Tibshirani & Tibshirani 2020).
    """
    rng = np.random.default_rng(seed)
    X = equicorrelated_design(rng, n, p, rho)
    beta = np.zeros(p)
    beta[evenly_spaced_support(p, k)] = coef
    signal_var = (1.0 - rho) * math.fsum((beta * beta).tolist()) + rho * math.fsum(beta.tolist()) ** 2
    sigma = math.sqrt(signal_var / snr)
    y = sparse_matvec(X, beta) + sigma * rng.standard_normal(n)
    return {"X": X, "y": y, "beta_true": beta}

