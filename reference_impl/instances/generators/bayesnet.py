"""Random DAG with a linear-Gaussian structural equation model (Bayesian networks, FORMULATIONS.md §3).

A planted topological order π (a random permutation of the d variables); each pair that is
ordered π(a) before π(b) is an arc π(a) → π(b) with probability ``edge_prob``; each arc weight
has a magnitude uniform on [``w_min``, ``w_max``] and a random sign. The samples follow the
SEM in the planted order::

    X_k = Σ_{j ∈ pa(k)} B_jk X_j + ``noise``·ε_k,   ε_k ~ N(0, 1) i.i.d.

(equal noise variances: the DAG is identifiable from the distribution, Peters & Bühlmann 2014,
and the l0-penalised least-squares score of tutorial (18) is its natural estimator).

Arrays: ``X`` (n×d), ``B_true`` (d×d weighted adjacency, B_jk the weight of j → k),
``order_true`` (d ints: ``order_true[k]`` = 1-based position of node k in the planted order),
``noise`` (shape (1,): the library stores no 0-d arrays) and ``y`` (zeros: the conventions'
response, unused by the Bayesian-network formulations). The SEM is evaluated column by column
with element-wise IEEE operations in a fixed order (no BLAS products): byte-deterministic.
"""
from __future__ import annotations

import numpy as np

from . import register_generator


@register_generator("random_dag_sem")
def random_dag_sem(d: int, n: int, edge_prob: float = 0.5, w_min: float = 0.5, w_max: float = 2.0,
                   noise: float = 1.0, seed: int = 0) -> dict[str, np.ndarray]:
    """Linear-Gaussian SEM on a random DAG (see the module docstring)."""
    d, n = int(d), int(n)
    if d < 2:
        raise ValueError(f"a DAG instance needs at least two variables; got d={d}")
    if n < 1:
        raise ValueError(f"need at least one sample; got n={n}")
    if not 0.0 <= edge_prob <= 1.0:
        raise ValueError(f"edge_prob must lie in [0, 1]; got {edge_prob}")
    if not 0.0 <= w_min <= w_max:
        raise ValueError(f"need 0 <= w_min <= w_max; got w_min={w_min}, w_max={w_max}")
    if not noise > 0.0:
        raise ValueError(f"noise must be positive; got {noise}")
    rng = np.random.default_rng(seed)
    permutation = rng.permutation(d)                      # permutation[a] = the node at position a
    present = rng.random((d, d)) < edge_prob             # drawn in full: the stream is shape-fixed
    magnitude = w_min + (w_max - w_min) * rng.random((d, d))
    sign = np.where(rng.random((d, d)) < 0.5, -1.0, 1.0)
    B = np.zeros((d, d))
    for a in range(d):
        for b in range(a + 1, d):
            if present[a, b]:
                B[permutation[a], permutation[b]] = sign[a, b] * magnitude[a, b]
    eps = rng.standard_normal((n, d))
    X = np.zeros((n, d))
    for k in permutation:                                  # parents are already filled in
        column = float(noise) * eps[:, k]
        for j in np.flatnonzero(B[:, k]):
            column = column + X[:, j] * B[j, k]
        X[:, k] = column
    order = np.empty(d, dtype=np.int64)
    order[permutation] = np.arange(1, d + 1)
    return {"X": X, "y": np.zeros(n), "B_true": B, "order_true": order, "noise": np.array([float(noise)])}
