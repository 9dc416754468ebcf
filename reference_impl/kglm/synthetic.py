"""Deterministic synthetic instances of the GB paper's setting (FORMULATIONS.md §8; Liu &
Lodi, arXiv 2605.22188: n = p, rho = 0.9 equicorrelated design, k = 10, true support every
p/k indices).

Rows are x_i = sqrt(rho) * c_i * 1 + sqrt(1 - rho) * e_i with c_i ~ N(0, 1) shared by all
features of row i and e_i ~ N(0, I_p), so every pair of features has correlation rho.  The
true coefficient vector is 1 on the indices 0, p//k, 2 p//k, ... (k of them) and 0 elsewhere.

* least squares: y = X beta + eps, eps ~ N(0, sigma^2 I) with sigma^2 = Var(X beta) / snr
  (the sample variance of the noiseless signal);
* logistic: y_i in {-1, +1} with P(y_i = +1) = 1 / (1 + exp(-x_i^T beta)); ``snr`` is not
  used for this loss.

``normalize=True`` rescales every column of X to unit Euclidean norm *before* y is drawn
(so beta_true still has entries 1 and ``M = 2`` still contains it).  On the raw design the
columns have squared norm ~ n, which dwarfs lambda2 = 1, and the perspective relaxation is
weak (root gaps of 9-26 % at n = p = 1000); with unit-norm columns it is within ~1 % and
the instance is certifiable on a CPU.

All randomness comes from ``numpy.random.default_rng(seed)`` in a fixed order, so equal
arguments give byte-identical arrays.
"""
from __future__ import annotations

import numpy as np

__all__ = ["make_synthetic"]


def make_synthetic(n: int, p: int, k: int, rho: float = 0.9, snr: float = 5.0,
                   loss: str = "squared", seed: int = 0, *, normalize: bool = False
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(X, y, beta_true)`` (float64; logistic labels in {-1.0, +1.0})."""
    if not (0.0 <= rho < 1.0):
        raise ValueError(f"rho must be in [0, 1), got {rho}")
    if not (1 <= k <= p):
        raise ValueError(f"k must satisfy 1 <= k <= p, got k={k}, p={p}")
    if loss not in ("squared", "logistic"):
        raise ValueError(f"loss must be 'squared' or 'logistic', got {loss!r}")
    rng = np.random.default_rng(seed)
    common = rng.standard_normal((n, 1))
    indep = rng.standard_normal((n, p))
    X = np.sqrt(rho) * common + np.sqrt(1.0 - rho) * indep
    if normalize:
        X = X / np.linalg.norm(X, axis=0)
    beta = np.zeros(p)
    beta[np.arange(k) * (p // k)] = 1.0
    signal = X @ beta
    if loss == "squared":
        if snr <= 0:
            raise ValueError(f"snr must be > 0, got {snr}")
        sigma = np.sqrt(np.var(signal) / snr)
        y = signal + sigma * rng.standard_normal(n)
    else:
        prob = 1.0 / (1.0 + np.exp(-signal))
        y = np.where(rng.random(n) < prob, 1.0, -1.0)
    return X, y, beta
