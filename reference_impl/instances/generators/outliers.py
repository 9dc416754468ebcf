"""Regression data with planted outliers (tutorial §3.1; FORMULATIONS.md §4, ``outliers.*``).

Two generators, both byte-deterministic (seeded :class:`numpy.random.Generator`, element-wise
IEEE arithmetic and :func:`~reference_impl.instances.numerics.sparse_matvec`, no BLAS):

* ``regression_outliers`` — a linear model y = Xβ + ε (first column of X all ones when
  ``intercept``) with ``n_outliers`` planted outliers: *vertical* outliers (the response is
  shifted far off the line) or *leverage* outliers (the point is moved far out in x and its
  response put on a wrong line — the case that defeats least squares and Huber's M-estimator
  but not least trimmed squares, Rousseeuw & Leroy 2003).
* ``piecewise_signal_outliers`` — tutorial Figure 11 in spirit: a piecewise-constant signal
  (labelled "activity periods" of given lengths and levels) plus Gaussian noise, with the
  largest measurement planted near the start as an outlier (Figure 11a: "the largest
  measurement recorded at the beginning of the time period is an outlier"). As a regression
  instance: X is the one-hot design of the labelled periods (column s = 1 on period s), so
  xᵢᵀθ is the level of i's period and least trimmed squares (23)/(24) fits the period levels
  while discarding up to k points.

Both store the planted outliers as ``outlier_index`` (sorted int64 indices) and
``outlier_mask`` (int64 0/1 of length n), the clean model (``beta_true``; for the signal also
``signal_true``, the noiseless piecewise-constant signal, ``segment`` and ``t``).
"""
from __future__ import annotations

import numpy as np

from ..numerics import sparse_matvec
from . import register_generator


def _mask(n: int, index: np.ndarray) -> np.ndarray:
    mask = np.zeros(n, dtype=np.int64)
    mask[index] = 1
    return mask


@register_generator("regression_outliers")
def regression_outliers(n: int, p: int, n_outliers: int, *, intercept: bool = True, noise: float = 0.5,
                        shift: float = 10.0, kind: str = "vertical", coef: float = 2.0,
                        seed: int = 0) -> dict[str, np.ndarray]:
    """Linear regression data with planted outliers.

    X: n×p, with a first column of ones when ``intercept`` (then p − 1 standard normal
    features), else p standard normal features. β: intercept 1.0, every slope ``coef`` with
    alternating sign (coef, −coef, coef, ...). y = Xβ + ``noise``·N(0, 1).

    ``n_outliers`` distinct indices are drawn uniformly; at each, ``kind`` = ``"vertical"``
    shifts yᵢ by ±``shift``·(1 + U(0, 1)) (random sign); ``"leverage"`` moves the features of i
    to ``shift``·(1 + U(0, 1)) (each non-intercept feature, same sign per point) and sets yᵢ to
    the *negated* clean prediction minus ``shift`` (a far point on a wrong line).
    """
    if not (isinstance(n, (int, np.integer)) and isinstance(p, (int, np.integer)) and n >= 1 and p >= 1):
        raise ValueError(f"need integers n >= 1 and p >= 1; got n={n!r}, p={p!r}")
    if intercept and p < 2 and kind == "leverage":
        raise ValueError("leverage outliers need a feature besides the intercept (p >= 2)")
    if not 0 <= n_outliers <= n:
        raise ValueError(f"need 0 <= n_outliers <= n; got n_outliers={n_outliers}, n={n}")
    if kind not in ("vertical", "leverage"):
        raise ValueError(f"kind must be 'vertical' or 'leverage'; got {kind!r}")
    rng = np.random.default_rng(seed)
    features = p - 1 if intercept else p
    Z = rng.standard_normal((n, features))
    X = np.hstack([np.ones((n, 1)), Z]) if intercept else Z
    slopes = np.array([coef if j % 2 == 0 else -coef for j in range(features)], dtype=float)
    beta = np.concatenate([[1.0], slopes]) if intercept else slopes
    eps = rng.standard_normal(n)
    index = np.sort(rng.choice(n, size=n_outliers, replace=False)).astype(np.int64)
    signs = np.where(rng.random(n_outliers) < 0.5, -1.0, 1.0)
    sizes = shift * (1.0 + rng.random(n_outliers))
    if kind == "leverage":
        first = 1 if intercept else 0
        X[index, first:] = (signs * sizes)[:, None]
    clean = sparse_matvec(X, beta)
    y = clean + noise * eps
    if kind == "vertical":
        y[index] = y[index] + signs * sizes
    else:
        y[index] = -clean[index] - shift
    return {"X": X, "y": y, "beta_true": beta, "outlier_index": index, "outlier_mask": _mask(n, index)}


@register_generator("piecewise_signal_outliers")
def piecewise_signal_outliers(lengths: list, levels: list, *, noise: float = 0.3, outliers: list | None = None,
                              outlier_excess: float = 3.0, seed: int = 0) -> dict[str, np.ndarray]:
    """A piecewise-constant signal with planted outliers (tutorial Figure 11 in spirit).

    Period s lasts ``lengths[s]`` samples at level ``levels[s]``; yₜ = level + ``noise``·N(0, 1).
    ``outliers`` (default ``[2]``: near the start) are sample indices whose value is set to the
    largest clean level plus ``outlier_excess``·(1 + U(0, 1)) — each is then the largest
    measurement of the series, as in Figure 11a. X is the n×S one-hot design of the periods
    (``segment`` holds each sample's period, ``t`` its time index 0..n−1), ``beta_true`` the
    levels and ``signal_true`` the clean signal.
    """
    lengths = [int(v) for v in lengths]
    levels = [float(v) for v in levels]
    if not lengths or len(lengths) != len(levels) or min(lengths) < 1:
        raise ValueError("lengths and levels must be non-empty lists of the same length, every length >= 1")
    n = sum(lengths)
    outliers = [2] if outliers is None else [int(i) for i in outliers]
    if len(set(outliers)) != len(outliers) or any(not 0 <= i < n for i in outliers):
        raise ValueError(f"outliers must be distinct sample indices in [0, {n}); got {outliers}")
    rng = np.random.default_rng(seed)
    segment = np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)
    X = np.zeros((n, len(lengths)))
    X[np.arange(n), segment] = 1.0
    beta = np.array(levels)
    signal = beta[segment]
    y = signal + noise * rng.standard_normal(n)
    index = np.array(sorted(outliers), dtype=np.int64)
    y[index] = max(levels) + outlier_excess * (1.0 + rng.random(len(index)))
    return {"X": X, "y": y, "beta_true": beta, "signal_true": signal, "segment": segment,
            "t": np.arange(n, dtype=np.int64), "outlier_index": index, "outlier_mask": _mask(n, index)}
