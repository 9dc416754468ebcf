"""Array-module selection for the batched branch and bound (FORMULATIONS.md §8, ``kglm.bnb``;
DESIGN.md idea 5, "backends, not forks"; Liu & Lodi, arXiv 2605.22188: CPU tree logic,
batched numerics on the device).

The numerical code of :mod:`reference_impl.kglm` is written once against an array module
``xp`` (``numpy`` or ``cupy``).  :func:`get_backend` returns a :class:`Backend` bundle with
that module, host <-> device copies (timed, so the solver can report its transfer time) and
the row kernel used for the isotonic step of the proximal operator:

* NumPy: the fused numba prox of :mod:`.kernels` (NumPy sorts the rows, one compiled pass
  per row does PAVA and the shrink; falls back to the array-module code without numba);
* CuPy: the numba-cuda kernel from :mod:`.kernels` launched on CuPy arrays (one thread per
  node row), falling back to the array-module twin if numba-cuda cannot target the device.

``backend="cupy"`` without a usable GPU raises :class:`GPUUnavailableError` (a
``RuntimeError``); ``backend="auto"`` silently uses NumPy in that case.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

__all__ = ["Backend", "GPUUnavailableError", "get_backend", "gpu_available"]


class GPUUnavailableError(RuntimeError):
    """``backend="cupy"`` was requested but CuPy or a CUDA device is not usable."""


def _probe_cupy() -> tuple[Any, str | None]:
    try:
        import cupy  # type: ignore
    except Exception as exc:  # ImportError, or a broken CUDA install
        return None, f"CuPy is not importable ({type(exc).__name__}: {exc})"
    try:
        if cupy.cuda.runtime.getDeviceCount() < 1:
            return None, "CuPy found no CUDA device"
        a = cupy.arange(4, dtype=cupy.float64)
        float((a @ a).get())
    except Exception as exc:
        return None, f"CuPy cannot use a CUDA device ({type(exc).__name__}: {exc})"
    return cupy, None


def gpu_available() -> bool:
    """True when CuPy imports and can run a computation on a CUDA device."""
    return _probe_cupy()[0] is not None


@dataclass
class Backend:
    """An array module plus the helpers the solver needs around it."""

    name: str
    xp: Any
    theta_rows: Callable[..., Any]
    transfer_seconds: float = field(default=0.0)

    def prox(self, V: Any, t: float, in1: Any, free: Any, kf: Any, lam2: float, M: float) -> Any:
        """Batched prox of the perspective regulariser (see :mod:`.prox`): the fused numba
        kernel on NumPy, the array-module code with the row kernel on CuPy."""
        from . import kernels
        from .prox import prox_batch

        if self.xp is np and kernels.HAVE_NUMBA:
            return kernels.prox_rows_cpu(V, t, in1, free, kf, lam2, M)
        return prox_batch(V, t, in1, free, kf, lam2, M, self.theta_rows, self.xp)

    def to_device(self, a: np.ndarray) -> Any:
        if self.xp is np:
            return a
        t0 = time.perf_counter()
        out = self.xp.asarray(a)
        self.synchronize()
        self.transfer_seconds += time.perf_counter() - t0
        return out

    def to_host(self, a: Any) -> np.ndarray:
        if self.xp is np:
            return a
        t0 = time.perf_counter()
        out = self.xp.asnumpy(a)
        self.transfer_seconds += time.perf_counter() - t0
        return out

    def synchronize(self) -> None:
        if self.xp is not np:
            self.xp.cuda.Device().synchronize()


def get_backend(name: str) -> Backend:
    """Return the backend for ``"numpy"``, ``"cupy"`` or ``"auto"``.

    Raises :class:`GPUUnavailableError` for ``"cupy"`` when no GPU is usable and
    :class:`~reference_impl.kglm.validation.KGLMInputError` for an unknown name.
    """
    from . import kernels
    from .validation import KGLMInputError

    if name not in ("numpy", "cupy", "auto"):
        raise KGLMInputError(f"unknown backend {name!r}; expected 'numpy', 'cupy' or 'auto'")
    if name in ("cupy", "auto"):
        cp, why = _probe_cupy()
        if cp is not None:
            return Backend("cupy", cp, kernels.theta_rows_for(cp))
        if name == "cupy":
            raise GPUUnavailableError(
                f"backend='cupy' requested but no usable GPU: {why}. "
                "Use backend='numpy' (or 'auto' to pick CuPy only when a GPU works)."
            )
    return Backend("numpy", np, kernels.theta_rows_for(np))
