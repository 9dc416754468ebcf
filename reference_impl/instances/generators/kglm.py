"""k-sparse GLM instances of the GB paper's synthetic setting (Liu & Lodi, arXiv 2605.22188;
FORMULATIONS.md §8): n × p equicorrelated design (ρ = 0.9), true support every p/k indices
with coefficients 1, least-squares or logistic response.

Byte-deterministic twin of :func:`reference_impl.kglm.make_synthetic`: the same design law,
built with element-wise IEEE operations and exactly rounded sums only (no BLAS), so that
``dvc repro`` reproduces the library's hashes on any machine. ``normalize=True`` scales each
column to unit Euclidean norm before the response is drawn (the setting in which the
perspective relaxation is tight enough to certify on a CPU; see ``reference_impl.kglm.synthetic``).
"""
from __future__ import annotations

import math

import numpy as np

from ..numerics import sparse_matvec
from . import register_generator
from .regression import equicorrelated_design, evenly_spaced_support


@register_generator("synthetic_glm")
def synthetic_glm(n: int, p: int, k: int, rho: float = 0.9, snr: float = 5.0, loss: str = "squared",
                  normalize: bool = True, seed: int = 0) -> dict[str, np.ndarray]:
    if loss not in ("squared", "logistic"):
        raise ValueError(f"loss must be 'squared' or 'logistic', got {loss!r}")
    rng = np.random.default_rng(seed)
    X = equicorrelated_design(rng, n, p, rho)
    if normalize:
        norms = np.array([math.sqrt(math.fsum((X[:, j] * X[:, j]).tolist())) for j in range(p)])
        X = X / norms
    beta = np.zeros(p)
    beta[evenly_spaced_support(p, k)] = 1.0
    signal = sparse_matvec(X, beta)
    if loss == "squared":
        mean = math.fsum(signal.tolist()) / n
        variance = math.fsum(((signal - mean) ** 2).tolist()) / n
        y = signal + math.sqrt(variance / snr) * rng.standard_normal(n)
    else:
        probability = np.array([1.0 / (1.0 + math.exp(-s)) for s in signal.tolist()])
        y = np.where(rng.random(n) < probability, 1.0, -1.0)
    return {"X": X, "y": y, "beta_true": beta}
