"""Tiny synthetic multiclass data with binary features, for the binarized-regression models.

Used by the tests of ``binarized.mip`` / ``binarized.pbo`` (FORMULATIONS.md §7; Tule, Le &
Say, "Training Experimentally Robust and Interpretable Binarized Regression Models Using
Mixed-Integer Programming", arXiv 2112.00434). Each class has a random binary prototype;
a sample is its class prototype with every bit flipped independently with probability
``flip``. Labels are balanced (sample i has class i mod C) and then shuffled.

Byte-deterministic: only seeded ``numpy.random.Generator`` draws and comparisons (no BLAS,
no floating-point reductions), so the same seed gives the same bytes on every machine.
"""
from __future__ import annotations

import numpy as np

from . import register_generator


@register_generator("binarized_synthetic")
def binarized_synthetic(
    n: int, n_features: int, n_classes: int, density: float = 0.4, flip: float = 0.15, seed: int = 0
) -> dict[str, np.ndarray]:
    """``n`` samples × ``n_features`` binary features, labels 0 … ``n_classes`` − 1.

    Returns arrays ``X`` (float 0/1), ``y`` (float labels), ``n_classes`` (one-element int array) and
    ``prototypes`` (C × F, the class prototypes the samples were drawn around).
    """
    if n < 1 or n_features < 1 or n_classes < 2:
        raise ValueError(f"need n >= 1, n_features >= 1, n_classes >= 2; got {n}, {n_features}, {n_classes}")
    if not (0.0 <= density <= 1.0 and 0.0 <= flip <= 1.0):
        raise ValueError(f"density and flip must lie in [0, 1]; got {density}, {flip}")
    rng = np.random.default_rng(seed)
    prototypes = (rng.random((n_classes, n_features)) < density).astype(np.int8)
    y = rng.permutation(np.arange(n) % n_classes)
    flips = (rng.random((n, n_features)) < flip).astype(np.int8)
    X = np.bitwise_xor(prototypes[y], flips).astype(float)
    return {
        "X": X,
        "y": y.astype(float),
        "n_classes": np.array([n_classes], dtype=np.int64),
        "prototypes": prototypes.astype(float),
    }
