"""The perspective regulariser of a node, its conjugate and its proximal operator, batched.

FORMULATIONS.md §8 (``kglm.bnb``); Liu, Shafiee & Lodi, "Scalable First-Order Method for
Certifying Optimal k-Sparse GLMs" (ICML 2025); Liu & Lodi, arXiv 2605.22188.

A node fixes S1 (z = 1), S0 (z = 0) and leaves the rest free; with k' = k - |S1| its
regulariser is

    g(beta) = min_z  lambda2 * sum_{S1} beta_j^2 + lambda2 * sum_free beta_j^2 / z_j
              s.t.  z_j in [0, 1], sum_free z_j <= k', |beta_j| <= M z_j (free),
                    |beta_j| <= M (S1), beta_j = 0 (S0),

(0/0 := 0).  Rows of a batch carry the masks ``in1`` (S1), ``free`` and the count ``kf`` = k'.

Conjugate (derivation).  g*(w) = sup_beta w^T beta - g(beta) splits by coordinate class:
* S0: beta_j = 0, contribution 0 (whatever w_j is);
* S1: sup_{|b| <= M} w b - lambda2 b^2 = h(w) with
      h(w) = w^2 / (4 lambda2)       if |w| <= 2 lambda2 M   (unconstrained b = w / (2 lambda2)),
      h(w) = M |w| - lambda2 M^2     otherwise               (b = M sign w);
* free, for fixed z_j: substitute b = z_j c with |c| <= M:
      sup_{|b| <= M z_j} w b - lambda2 b^2 / z_j = z_j sup_{|c| <= M} (w c - lambda2 c^2) = z_j h(w)
  (also right at z_j = 0, where b = 0), and sup over {z in [0,1]^free, sum z <= k'} of the
  linear function sum z_j h(w_j) with h >= 0 is the sum of the k' largest h(w_j).
So g*(w) = sum_{S1} h(w_j) + (sum of the k' largest h(w_j) over free j).  Special cases:
M = inf gives h(w) = w^2 / (4 lambda2); lambda2 = 0 with M < inf gives h(w) = M |w| (the
formula's first branch is empty); lambda2 = 0 with M = inf gives h = +inf off 0 and is
rejected by :mod:`.validation`.

Primal value.  For z_j = min(1, c_j tau) with c = |beta_free| sorted decreasingly, the
minimisation over z is the k-support-type expression
    g_free = lambda2 * (sum_{i <= r} c_i^2 + (sum_{i > r} c_i)^2 / (k' - r)),
r the smallest index in [0, k') with c_{r+1} (k' - r) <= sum_{i > r} c_i (the box constraint
|beta_j| <= M z_j never changes the minimiser for a feasible beta: the multiplier of
sum z <= k' satisfies sqrt(nu) <= M unless sum |beta_j| / M = k' exactly, where z = c / M
has the same form).

Proximal operator.  prox_{t g}(v) = v - t prox_{g*/t}(v / t) (Moreau).  The S1 part is the
box-clipped ridge shrink min(|v| / (1 + 2 t lambda2), M); S0 gives 0; on the free part the
conjugate prox is the isotonic problem solved by the PAVA kernels of :mod:`.kernels`, whose
pooled level theta yields
    |beta_j| = min(min(|v_j| / (1 + 2 t lambda2), M), max(|v_j| - t theta, 0))   (top k'),
    |beta_j| = max(|v_j| - t theta, 0)                                          (other free),
i.e. a ridge shrink on the k' largest entries capped by a soft threshold at level t theta.
"""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

__all__ = ["h_conj", "conj_value", "penalty_value", "prox_batch", "topk_sum"]


def h_conj(W: Any, lam2: float, M: float, xp: Any = np) -> Any:
    """Elementwise h(w), the conjugate of b -> lambda2 b^2 + indicator(|b| <= M)."""
    aw = xp.abs(W)
    if math.isinf(M):
        return aw * aw / (4.0 * lam2)
    if lam2 == 0.0:
        return M * aw
    return xp.where(aw <= 2.0 * lam2 * M, aw * aw / (4.0 * lam2), M * aw - lam2 * M * M)


def topk_sum(Hm: Any, kf: Any, xp: Any = np) -> Any:
    """Sum of the kf[i] largest entries of each row of the nonnegative array ``Hm``."""
    B, p = Hm.shape
    kmax = int(xp.max(kf)) if B else 0
    if kmax <= 0:
        return xp.zeros(B, dtype=Hm.dtype)
    kmax = min(kmax, p)
    if kmax < p:
        part = -xp.partition(-Hm, kmax - 1, axis=1)[:, :kmax]
    else:
        part = Hm
    part = -xp.sort(-part, axis=1)
    cs = xp.cumsum(part, axis=1)
    kk = xp.clip(xp.asarray(kf), 1, kmax).reshape(B, 1) - 1
    out = xp.take_along_axis(cs, kk, axis=1)[:, 0]
    return xp.where(xp.asarray(kf) > 0, out, 0.0)


def conj_value(W: Any, in1: Any, free: Any, kf: Any, lam2: float, M: float, xp: Any = np) -> Any:
    """g*(w) per row: sum over S1 of h(w_j) plus the kf largest h(w_j) over free j."""
    H = h_conj(W, lam2, M, xp)
    s1 = xp.sum(xp.where(in1, H, 0.0), axis=1)
    return s1 + topk_sum(xp.where(free, H, 0.0), kf, xp)


def penalty_value(beta: Any, in1: Any, free: Any, kf: Any, lam2: float, M: float,
                  xp: Any = np) -> Any:
    """g(beta) per row (the perspective penalty minimised over z), assuming beta feasible
    (as produced by :func:`prox_batch`).  Returns +inf for rows with a nonzero S0 entry, with
    k' = 0 and nonzero free entries, or violating the box or the budget by more than 1e-9."""
    B, p = beta.shape
    s1 = lam2 * xp.sum(xp.where(in1, beta * beta, 0.0), axis=1)
    C = xp.where(free, xp.abs(beta), 0.0)
    Cs = -xp.sort(-C, axis=1)
    # suffix sums T[:, r] = sum of entries r, r+1, ... (0-based), accumulated from the small
    # end so that T[:, r] >= Cs[:, r] holds exactly in floating point
    T = xp.cumsum(Cs[:, ::-1], axis=1)[:, ::-1]
    total = T[:, :1]
    sq_prefix = xp.cumsum(Cs * Cs, axis=1) - Cs * Cs
    r = xp.arange(p).reshape(1, p)
    kfc = xp.asarray(kf).reshape(B, 1)
    cond = ((Cs * (kfc - r) <= T) & (r < kfc)) | (r == kfc - 1)
    rstar = xp.argmax(cond, axis=1).reshape(B, 1)
    Tr = xp.take_along_axis(T, rstar, axis=1)[:, 0]
    Sq = xp.take_along_axis(sq_prefix, rstar, axis=1)[:, 0]
    denom = xp.maximum(kfc[:, 0] - rstar[:, 0], 1)
    free_val = lam2 * (Sq + Tr * Tr / denom)
    free_val = xp.where(kfc[:, 0] > 0, free_val, xp.where(total[:, 0] > 0, xp.inf, 0.0))
    out = s1 + free_val
    out = xp.where(xp.any(~(in1 | free) & (beta != 0), axis=1), xp.inf, out)  # S0 must be 0
    if not math.isinf(M):
        tol = 1e-9
        box_bad = xp.any((in1 | free) & (xp.abs(beta) > M * (1 + tol)), axis=1)
        budget_bad = total[:, 0] > M * kfc[:, 0] * (1 + tol) + tol
        out = xp.where(box_bad | budget_bad, xp.inf, out)
    return out


def prox_batch(V: Any, t: Any, in1: Any, free: Any, kf: Any, lam2: float, M: float,
               theta_fn: Callable[..., Any], xp: Any = np) -> Any:
    """prox_{t g}(V) row by row (each row with its own S1 / free masks, k' and step t; ``t``
    a scalar or one value per row)."""
    B, p = V.shape
    absV = xp.abs(V)
    t = xp.broadcast_to(xp.asarray(t, dtype=V.dtype).reshape(-1), (B,)).reshape(B, 1)
    inv_t = 1.0 / t
    A = xp.where(free, absV * inv_t, -1.0)
    As = -xp.sort(-A, axis=1)
    m = xp.sum(free, axis=1)
    kfa = xp.asarray(kf)
    theta = theta_fn(As, m, kfa, inv_t[:, 0], lam2, M, xp)
    kk = xp.clip(kfa - 1, 0, p - 1).reshape(B, 1)
    tau = xp.where(kfa > 0, xp.take_along_axis(As, kk, axis=1)[:, 0], xp.inf)
    top = free & (A >= tau.reshape(B, 1))
    ridge = absV / (1.0 + 2.0 * t * lam2)
    if not math.isinf(M):
        ridge = xp.minimum(ridge, M)
    soft = xp.maximum(absV - t * theta.reshape(B, 1), 0.0)
    mag = xp.where(in1, ridge, xp.where(top, xp.minimum(ridge, soft), xp.where(free, soft, 0.0)))
    return xp.sign(V) * mag
