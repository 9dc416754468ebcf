"""Unsupervised-learning generators (tutorial §2.3; FORMULATIONS.md §3).

* ``spiked_covariance`` — sparse PCA: a covariance matrix with a planted k-sparse spike,
  Σ = I + β·vvᵀ + (ν/m)·GᵀG, and samples drawn from it.
* ``separated_clusters`` — interpretable clustering: well-separated clusters laid out on an
  axis-aligned grid, so that one depth-D axis-aligned tree recovers them exactly.

Both are byte-deterministic: seeded :class:`numpy.random.Generator` draws, element-wise IEEE
arithmetic and exactly rounded sums (``math.fsum``), never a BLAS product.
"""
from __future__ import annotations

import math

import numpy as np

from . import register_generator


def _exact_gram(G: np.ndarray) -> np.ndarray:
    """GᵀG entry by entry with exactly rounded sums (no BLAS: the same bits on every CPU)."""
    d = G.shape[1]
    out = np.empty((d, d))
    for j in range(d):
        for l in range(j, d):
            out[j, l] = out[l, j] = math.fsum((G[:, j] * G[:, l]).tolist())
    return out


def planted_sparse_vector(rng: np.random.Generator, d: int, k: int) -> np.ndarray:
    """A unit vector with exactly ``k`` nonzeros ±1/√k on a random support."""
    if not 1 <= k <= d:
        raise ValueError(f"need 1 <= k <= d, got k={k}, d={d}")
    support = np.sort(rng.choice(d, size=k, replace=False))
    signs = np.where(rng.random(k) < 0.5, -1.0, 1.0)
    v = np.zeros(d)
    v[support] = signs / math.sqrt(k)
    return v


@register_generator("spiked_covariance")
def spiked_covariance(d: int, k: int, beta: float = 2.0, noise: float = 0.5, n: int = 50, m: int | None = None,
                      population: bool = True, seed: int = 0) -> dict[str, np.ndarray]:
    """Spiked covariance with a planted k-sparse leading direction (Johnstone & Lu 2009;
    the sparse-PCA test bed of Berk & Bertsimas 2019 and d'Aspremont et al. 2008).

    Model: x = e + √β·g·v + √(ν/m)·Gᵀh with e ~ N(0, I_d), g ~ N(0, 1), h ~ N(0, I_m)
    independent, v a unit vector with ``k`` entries ±1/√k (:func:`planted_sparse_vector`) and
    G an m×d standard normal matrix drawn once (``m`` defaults to d). Its covariance is

        Σ = I + β·vvᵀ + (ν/m)·GᵀG,

    a PSD matrix whose leading direction is close to v for β large against ν (the Wishart
    background ν/m·GᵀG makes the problem non-trivial: the best k-support is not read off the
    diagonal). Returns ``X`` (n samples of x, always: every instance holds a data matrix),
    ``Sigma`` (the population Σ above; only with ``population=True`` — otherwise a
    formulation uses the sample covariance of ``X``), ``v_true`` (the planted v) and
    ``support_true`` (its 0/1 support indicator).
    """
    if d < 1 or n < 2:
        raise ValueError(f"need d >= 1 and n >= 2, got d={d}, n={n}")
    if beta < 0 or noise < 0:
        raise ValueError(f"beta and noise must be >= 0, got beta={beta}, noise={noise}")
    m = d if m is None else int(m)
    rng = np.random.default_rng(seed)
    v = planted_sparse_vector(rng, d, k)
    G = rng.standard_normal((m, d))
    scale = noise / m
    # samples: element-wise, the background summed term by term in a fixed order
    E = rng.standard_normal((n, d))
    g = rng.standard_normal(n)
    H = rng.standard_normal((n, m))
    X = E + math.sqrt(beta) * g[:, None] * v[None, :]
    root = math.sqrt(scale)
    for r in range(m):
        X = X + root * H[:, r][:, None] * G[r][None, :]
    out = {"X": X, "v_true": v, "support_true": (v != 0).astype(np.int64)}
    if population:
        Sigma = np.eye(d) + beta * (v[:, None] * v[None, :]) + scale * _exact_gram(G)
        out["Sigma"] = Sigma
    return out


def grid_centres(n_clusters_log2: int, d: int, separation: float) -> np.ndarray:
    """Centres of 2^D clusters on an axis-aligned grid: bit b of the cluster index moves the
    centre by separation·2^(b // d) along feature b mod d. Every feature's coordinates are
    then separation × (0, 1, …, 2^mⱼ − 1), and a depth-D tree that halves one feature's range
    per level (bit by bit) separates the clusters exactly."""
    depth = int(n_clusters_log2)
    centres = np.zeros((2 ** depth, d))
    for c in range(2 ** depth):
        for b in range(depth):
            if (c >> b) & 1:
                centres[c, b % d] += separation * 2 ** (b // d)
    return centres


@register_generator("separated_clusters")
def separated_clusters(n: int, d: int = 2, depth: int = 2, separation: float = 4.0, spread: float = 1.0,
                       seed: int = 0) -> dict[str, np.ndarray]:
    """Well-separated clusters that one axis-aligned tree of depth ``depth`` recovers.

    2^depth clusters with centres on the grid of :func:`grid_centres`; point i belongs to
    cluster i mod 2^depth (balanced sizes, fixed order) and lies uniformly in the box
    centre ± spread/2 on every feature. With ``spread < separation`` the boxes are disjoint
    along the grid's axes, so the tree splitting each level at the grid midpoints
    reproduces the planted clusters exactly. Returns ``X`` (n×d), ``y`` (the planted cluster
    labels 0…2^depth−1) and ``centres``.
    """
    clusters = 2 ** int(depth)
    if n < clusters:
        raise ValueError(f"need n >= 2**depth = {clusters} points, got n={n}")
    if not 0 <= spread < separation:
        raise ValueError(f"need 0 <= spread < separation for separated clusters; got {spread}, {separation}")
    rng = np.random.default_rng(seed)
    centres = grid_centres(depth, d, separation)
    labels = np.arange(n) % clusters
    X = centres[labels] + spread * (rng.random((n, d)) - 0.5)
    return {"X": X, "y": labels.astype(np.int64), "centres": centres}
