"""Platform-independent numerics for instance generation.

BLAS kernels and SIMD reductions may round differently on different CPUs, which would break
byte-for-byte reproducibility of instance files. Generators therefore use only element-wise
IEEE operations (exactly rounded everywhere) and exactly rounded sums (``math.fsum``).
"""
from __future__ import annotations

import math

import numpy as np


def exact_column_means(X: np.ndarray) -> np.ndarray:
    return np.array([math.fsum(X[:, j].tolist()) / X.shape[0] for j in range(X.shape[1])])


def exact_mean(v: np.ndarray) -> float:
    return math.fsum(np.asarray(v, dtype=float).tolist()) / len(v)


def standardize_columns(X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centre each column and scale it to unit (population) standard deviation.

    Returns ``(Xs, mean, scale)``; constant columns raise, since no model can use them.
    """
    X = np.asarray(X, dtype=float)
    mean = exact_column_means(X)
    centred = X - mean
    scale = np.array(
        [math.sqrt(math.fsum((centred[:, j] * centred[:, j]).tolist()) / X.shape[0]) for j in range(X.shape[1])]
    )
    if np.any(scale == 0):
        raise ValueError(f"constant columns at positions {np.flatnonzero(scale == 0).tolist()}")
    return centred / scale, mean, scale


def sparse_matvec(X: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """``X @ beta`` for a sparse ``beta``, summed column by column in index order (no BLAS)."""
    out = np.zeros(X.shape[0])
    for j in np.flatnonzero(beta):
        out = out + X[:, j] * beta[j]
    return out
