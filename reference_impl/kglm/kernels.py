"""Per-row kernels of the batched proximal operator (FORMULATIONS.md §8; Liu & Lodi,
arXiv 2605.22188, "lightweight custom kernels" for the per-node sort / isotonic step).

The proximal operator of the perspective regulariser (see :mod:`.prox`) is computed through
Moreau's identity from the prox of its conjugate, sigma * (sum of the k' largest h(w_j)).
After sorting a_j = |u_j| in decreasing order this is the isotonic problem

    min_{x_1 >= ... >= x_m >= 0}  sum_i 1/2 (x_i - a_i)^2 + sigma * [i <= k'] h(x_i),

solved by pool-adjacent-violators (PAVA).  Each top term alone is minimised by the shrink
s(a) = prox_{sigma h}(a); each bottom term by a itself.  Both halves are already sorted,
so the only violation sits at the boundary k'/k'+1 and the solution is one pooled block
around it with a common value theta: x_i = max(s(a_i), theta) on the top k', x_i =
min(a_i, theta) below.  A pooled block with j top and l bottom entries summing to S has
    theta = S / (j + l + j sigma / (2 lambda2))      if that is <= 2 lambda2 M,
    theta = (S - sigma j M) / (j + l)                 otherwise
(the two branches of h'(x) = x / (2 lambda2) or M; with lambda2 = 0 only the second, clipped
at 0).  The kernels below return theta per row (+inf when k' = 0, 0 when k' >= m).

Three interchangeable implementations, checked equal in ``tests/kglm``:

* :func:`theta_rows_cpu` - numba ``njit(parallel=True)``, one row per ``prange`` step,
  the sequential PAVA loop (O(m) after the sort);
* the numba-cuda kernel from :func:`cuda_theta_kernel` - the same device functions (built
  from the same Python source), one thread per row; testable without a GPU under
  ``NUMBA_ENABLE_CUDASIM=1``;
* :func:`theta_rows_xp` - the array-module twin (NumPy or CuPy) that finds the block by a
  merged sort of the breakpoints and cumulative sums, with no Python loop over rows.
"""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

__all__ = [
    "theta_row_reference",
    "theta_rows_cpu",
    "theta_rows_xp",
    "cuda_theta_kernel",
    "theta_rows_cuda",
    "theta_rows_for",
]


def _build(jit: Callable[[Callable], Callable]) -> Callable:
    """Build the per-row PAVA functions with the given decorator (njit, cuda device jit,
    or the identity for the pure-Python reference)."""

    @jit
    def shrink(a, sigma, lam2, M):
        # prox of sigma * h at a >= 0
        if lam2 > 0.0:
            x = a / (1.0 + sigma / (2.0 * lam2))
            if x <= 2.0 * lam2 * M:
                return x
            return a - sigma * M
        x = a - sigma * M
        return x if x > 0.0 else 0.0

    @jit
    def block_theta(S, j, l, sigma, lam2, M):
        cnt = j + l
        if lam2 > 0.0:
            th = S / (cnt + j * sigma / (2.0 * lam2))
            if th <= 2.0 * lam2 * M:
                return th
        th = (S - sigma * j * M) / cnt
        return th if th > 0.0 else 0.0

    @jit
    def theta_row(a, m, kf, sigma, lam2, M):
        if kf <= 0:
            return math.inf
        if kf >= m:
            return 0.0
        ytop = shrink(a[kf - 1], sigma, lam2, M)
        if ytop >= a[kf]:
            return ytop
        i0 = kf - 1
        e = kf + 1
        S = a[kf - 1] + a[kf]
        j = 1
        l = 1
        th = block_theta(S, j, l, sigma, lam2, M)
        while True:
            if i0 > 0 and shrink(a[i0 - 1], sigma, lam2, M) < th:
                i0 -= 1
                S += a[i0]
                j += 1
            elif e < m and a[e] > th:
                S += a[e]
                e += 1
                l += 1
            else:
                break
            th = block_theta(S, j, l, sigma, lam2, M)
        return th

    return theta_row


theta_row_reference = _build(lambda f: f)
theta_row_reference.__doc__ = "Pure-Python PAVA theta for one sorted row (reference)."

try:  # numba is a dependency of the fast CPU path, not of correctness
    from numba import njit, prange

    _theta_row_nb = _build(njit(cache=False, nogil=True))

    @njit(parallel=False, cache=False, nogil=True)
    def _theta_rows_nb(A, m, kf, sigma, lam2, M, out):  # pragma: no cover - compiled
        for i in range(A.shape[0]):
            out[i] = _theta_row_nb(A[i], m[i], kf[i], sigma, lam2, M)

    HAVE_NUMBA = True
except Exception:  # pragma: no cover - numba missing
    HAVE_NUMBA = False


def theta_rows_cpu(A: np.ndarray, m: np.ndarray, kf: np.ndarray, sigma: float, lam2: float,
                   M: float, xp: Any = np) -> np.ndarray:
    """theta per row of ``A`` (rows sorted decreasingly; the first ``m[i]`` entries are the
    free coordinates) with the numba CPU kernel."""
    if not HAVE_NUMBA:  # pragma: no cover
        return theta_rows_xp(A, m, kf, sigma, lam2, M, np)
    out = np.empty(A.shape[0], dtype=np.float64)
    _theta_rows_nb(np.ascontiguousarray(A, dtype=np.float64), np.asarray(m, dtype=np.int64),
                   np.asarray(kf, dtype=np.int64), float(sigma), float(lam2), float(M), out)
    return out


def theta_rows_xp(A: Any, m: Any, kf: Any, sigma: float, lam2: float, M: float, xp: Any = np) -> Any:
    """Array-module twin of the PAVA kernel (same theta up to rounding).

    The root theta* of the monotone function
        Phi(t) = sum_{top i: s(a_i) < t} (t - a_i + sigma h'(t)) + sum_{bottom i: a_i > t} (t - a_i)
    is located between two consecutive breakpoints of the merged list {s(a_i): top} U
    {a_i: bottom}; the block counts and sums on each interval come from cumulative sums.
    """
    B, p = A.shape
    sigma = float(sigma)
    lam2 = float(lam2)
    M = float(M)
    m = xp.asarray(m).reshape(B, 1)
    kf = xp.asarray(kf).reshape(B, 1)
    idx = xp.arange(p).reshape(1, p)
    valid = idx < m
    top = (idx < kf) & valid
    bot = valid & ~top
    Ac = xp.where(valid, A, 0.0)
    if lam2 > 0.0:
        x1 = Ac / (1.0 + sigma / (2.0 * lam2))
        s = xp.where(x1 <= 2.0 * lam2 * M, x1, Ac - sigma * M)
    else:
        s = xp.maximum(Ac - sigma * M, 0.0)
    P = xp.where(top, s, xp.where(bot, Ac, xp.inf))
    order = xp.argsort(P, axis=1)
    Ps = xp.take_along_axis(P, order, axis=1)
    a_s = xp.take_along_axis(Ac, order, axis=1)
    t_s = xp.take_along_axis(top, order, axis=1).astype(A.dtype)
    b_s = xp.take_along_axis(bot, order, axis=1).astype(A.dtype)
    ct = xp.cumsum(t_s, axis=1)
    st = xp.cumsum(a_s * t_s, axis=1)
    nb = xp.sum(b_s, axis=1, keepdims=True)
    sb_tot = xp.sum(a_s * b_s, axis=1, keepdims=True)
    cb = nb - xp.cumsum(b_s, axis=1)
    sb = sb_tot - xp.cumsum(a_s * b_s, axis=1)
    # Phi at each breakpoint, counts of the interval just above it
    Pf = xp.where(xp.isfinite(Ps), Ps, 0.0)
    if lam2 > 0.0:
        hp = xp.where(Pf <= 2.0 * lam2 * M, Pf / (2.0 * lam2), M)
    else:
        hp = xp.full_like(Pf, M)
    phi = ct * (Pf + sigma * hp) - st + cb * Pf - sb
    phi = xp.where(xp.isfinite(Ps), phi, xp.inf)
    r = xp.sum(phi <= 0.0, axis=1, keepdims=True) - 1
    r = xp.maximum(r, 0)
    j = xp.take_along_axis(ct, r, axis=1)[:, 0]
    l = xp.take_along_axis(cb, r, axis=1)[:, 0]
    S = xp.take_along_axis(st + sb, r, axis=1)[:, 0]
    cnt = xp.maximum(j + l, 1.0)
    if lam2 > 0.0:
        th = S / (cnt + j * sigma / (2.0 * lam2))
        if not math.isinf(M):
            th2 = xp.maximum((S - sigma * j * M) / cnt, 0.0)
            th = xp.where(th <= 2.0 * lam2 * M, th, th2)
    else:
        th = xp.maximum((S - sigma * j * M) / cnt, 0.0)
        # with lambda2 = 0 the top terms have the kink x >= 0 (Phi jumps at 0): theta = 0
        # whenever Phi(0+) = sum_{top, s(a)=0} (sigma M - a) - sum_{bottom} a >= 0
        phi0 = xp.sum(xp.where(top & (s <= 0.0), sigma * M - Ac, 0.0), axis=1) - xp.sum(
            xp.where(bot, Ac, 0.0), axis=1)
        th = xp.where(phi0 >= 0.0, 0.0, th)
    # rows without a violation: theta = s(a_{k'}) (any value between a_{k'+1} and s(a_{k'}))
    kf1 = kf[:, 0]
    m1 = m[:, 0]
    kk = xp.clip(kf1 - 1, 0, p - 1).reshape(B, 1)
    s_last = xp.take_along_axis(s, kk, axis=1)[:, 0]
    a_next = xp.take_along_axis(Ac, xp.clip(kf1, 0, p - 1).reshape(B, 1), axis=1)[:, 0]
    no_viol = s_last >= a_next
    th = xp.where(no_viol, s_last, th)
    th = xp.where(kf1 >= m1, 0.0, th)
    th = xp.where(kf1 <= 0, xp.inf, th)
    return th


_CUDA_KERNEL = None


def cuda_theta_kernel() -> Callable:
    """Compile (once) and return the numba-cuda kernel ``kernel[blocks, threads](A, m, kf,
    sigma, lam2, M, out)``; under ``NUMBA_ENABLE_CUDASIM=1`` this is the CUDA simulator."""
    global _CUDA_KERNEL
    if _CUDA_KERNEL is None:
        from numba import cuda

        theta_row_dev = _build(cuda.jit(device=True))

        @cuda.jit
        def kernel(A, m, kf, sigma, lam2, M, out):  # pragma: no cover - device code
            i = cuda.grid(1)
            if i < A.shape[0]:
                out[i] = theta_row_dev(A[i], m[i], kf[i], sigma, lam2, M)

        _CUDA_KERNEL = kernel
    return _CUDA_KERNEL


def theta_rows_cuda(A: Any, m: Any, kf: Any, sigma: float, lam2: float, M: float, xp: Any) -> Any:
    """Launch the numba-cuda kernel on device arrays (CuPy arrays, or NumPy arrays under the
    simulator); one thread per row."""
    kernel = cuda_theta_kernel()
    B = A.shape[0]
    out = xp.empty(B, dtype=np.float64)
    threads = 128
    blocks = max(1, (B + threads - 1) // threads)
    kernel[blocks, threads](A, xp.asarray(m, dtype=np.int64), xp.asarray(kf, dtype=np.int64),
                            float(sigma), float(lam2), float(M), out)
    return out


def theta_rows_for(xp: Any) -> Callable:
    """The theta kernel to use with array module ``xp``."""
    if xp is np:
        return theta_rows_cpu if HAVE_NUMBA else theta_rows_xp
    try:  # CuPy: prefer the numba-cuda kernel, verified on a tiny input against the twin
        A = xp.asarray(np.array([[3.0, 2.5, 2.0, 0.5]]))
        m = xp.asarray(np.array([4]))
        kf = xp.asarray(np.array([1]))
        got = float(theta_rows_cuda(A, m, kf, 1.0, 1.0, 2.0, xp)[0])
        want = float(theta_rows_xp(A, m, kf, 1.0, 1.0, 2.0, xp)[0])
        if abs(got - want) <= 1e-12 * max(1.0, abs(want)):
            return theta_rows_cuda
    except Exception:
        pass
    return theta_rows_xp
