"""numba-cuda twin of the per-row PAVA kernel of :mod:`.kernels` (FORMULATIONS.md §8;
Liu & Lodi, arXiv 2605.22188, lightweight per-node kernels on the GPU).

Imported lazily (only by :func:`reference_impl.kglm.kernels.cuda_theta_kernel`): importing
it needs numba-cuda, and either a CUDA device or ``NUMBA_ENABLE_CUDASIM=1`` (the simulator,
used by the tests).  The device function is built from the same Python source as the CPU
kernel, so both compute the same PAVA pass; one thread handles one node row.
"""
from __future__ import annotations

from numba import cuda

from .kernels import _build

theta_row_dev = _build(cuda.jit(device=True))


@cuda.jit
def theta_kernel(A, m, kf, sigma, lam2, M, out):  # pragma: no cover - device code
    i = cuda.grid(1)
    if i < A.shape[0]:
        out[i] = theta_row_dev(A[i], m[i], kf[i], sigma[i], lam2, M)
