"""Input checking for the k-sparse GLM solver (FORMULATIONS.md §8, ``kglm.bnb``).

Every bad input raises :class:`KGLMInputError` (a ``ValueError``) with a message that names
the offending argument.  Logistic labels in {0, 1} are accepted and mapped 0 -> -1 with a
:class:`KGLMLabelWarning`.

Supported parameter ranges
--------------------------
* ``k``: integer, 1 <= k <= p.
* ``lambda2``: finite, >= 0.  ``lambda2 = 0`` is supported only with a finite box ``M``:
  with ``lambda2 = 0`` and ``M = inf`` the perspective term vanishes, the conjugate
  ``h(w)`` is +inf for every w != 0, and no finite node bound exists, so that combination
  is rejected.
* ``M``: > 0, ``float("inf")`` allowed.
* ``X``: finite 2-D array with n >= 2 rows and no constant (zero-variance) column; ``y``
  finite, length n (logistic loss: labels -1/+1 or 0/1, both classes present).  Entries
  whose squares overflow float64 (magnitudes above ``1e150``,
  or sums of squares that are not finite) are rejected: rescale such data first.
* Scalars may be Python or NumPy numbers, or 0-d arrays.
"""
from __future__ import annotations

import math
import numbers
import warnings
from typing import Any

import numpy as np

__all__ = ["KGLMInputError", "KGLMLabelWarning", "validate_problem", "validate_options"]

LOSSES = ("squared", "logistic")
#: largest magnitude accepted in X and y: squares and Gram entries stay far from overflow
MAX_ABS = 1e150
BACKENDS = ("numpy", "cupy", "auto")


class KGLMInputError(ValueError):
    """Raised for any invalid argument or data passed to the k-sparse GLM solver."""


class KGLMLabelWarning(UserWarning):
    """Emitted when logistic labels given as {0, 1} are mapped to {-1, +1}."""


def _as_float_matrix(X: Any) -> np.ndarray:
    try:
        arr = np.asarray(X)
    except Exception as exc:  # pragma: no cover - exotic inputs
        raise KGLMInputError(f"X could not be converted to an array: {exc}") from exc
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise KGLMInputError(f"X must be numeric, got dtype {arr.dtype}")
    if np.iscomplexobj(arr):
        raise KGLMInputError("X must be real-valued, got a complex array")
    if arr.ndim != 2:
        raise KGLMInputError(f"X must be a 2-D array (n x p), got {arr.ndim} dimension(s)")
    if arr.shape[0] < 1 or arr.shape[1] < 1:
        raise KGLMInputError(f"X must have at least one row and one column, got shape {arr.shape}")
    return np.ascontiguousarray(arr, dtype=np.float64)


def _as_float_vector(y: Any, n: int) -> np.ndarray:
    try:
        arr = np.asarray(y)
    except Exception as exc:  # pragma: no cover
        raise KGLMInputError(f"y could not be converted to an array: {exc}") from exc
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise KGLMInputError(f"y must be numeric, got dtype {arr.dtype}")
    if np.iscomplexobj(arr):
        raise KGLMInputError("y must be real-valued, got a complex array")
    if arr.ndim == 2 and 1 in arr.shape:
        arr = arr.reshape(-1)
    if arr.ndim != 1:
        raise KGLMInputError(f"y must be a 1-D array, got shape {arr.shape}")
    if arr.shape[0] != n:
        raise KGLMInputError(f"shape mismatch: X has {n} rows but y has {arr.shape[0]} entries")
    return np.ascontiguousarray(arr, dtype=np.float64)


def _scalar(value: Any) -> Any:
    """Unwrap a 0-d array (``np.array(0.1)``) to its Python scalar; other values unchanged."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return value.item()
    return value


def _check_magnitude(name: str, arr: np.ndarray) -> None:
    """Reject finite data whose squares (or sums of squares) overflow float64."""
    amax = float(np.max(np.abs(arr))) if arr.size else 0.0
    if amax > MAX_ABS or not math.isfinite(amax * amax * arr.shape[0]):
        raise KGLMInputError(
            f"{name} has entries of magnitude up to {amax:.3g}; their squares overflow float64 "
            f"(entries must be at most {MAX_ABS:.0e} in magnitude): rescale the data first")


def validate_problem(
    X: Any, y: Any, k: Any, loss: Any, lambda2: Any, M: Any
) -> tuple[np.ndarray, np.ndarray, int, float, float]:
    """Check and normalise the problem data.

    Returns ``(X, y, k, lambda2, M)`` as float64 arrays / Python scalars.  ``loss`` must be a
    name in ``("squared", "logistic")`` or an object implementing the
    :class:`reference_impl.kglm.losses.Loss` interface (its ``name`` selects label handling).
    """
    Xa = _as_float_matrix(X)
    n, p = Xa.shape
    ya = _as_float_vector(y, n)
    if not np.all(np.isfinite(Xa)):
        raise KGLMInputError("X contains NaN or infinite values")
    if not np.all(np.isfinite(ya)):
        raise KGLMInputError("y contains NaN or infinite values")
    _check_magnitude("X", Xa)
    _check_magnitude("y", ya)
    if n < 2:
        raise KGLMInputError(f"X must have at least n >= 2 rows (samples), got n_samples = {n}")
    const = np.flatnonzero(np.ptp(Xa, axis=0) == 0.0)
    if const.size:
        show = ", ".join(str(int(j)) for j in const[:10])
        raise KGLMInputError(
            f"X has {const.size} constant (zero-variance) column(s): {show}"
            f"{' ...' if const.size > 10 else ''}; remove them before solving"
        )

    k, lambda2, M = _scalar(k), _scalar(lambda2), _scalar(M)
    if isinstance(k, bool) or not isinstance(k, numbers.Integral):
        if isinstance(k, numbers.Real) and float(k).is_integer() and not isinstance(k, bool):
            k = int(k)
        else:
            raise KGLMInputError(f"k must be an integer, got {k!r}")
    k = int(k)
    if k <= 0 or k > p:
        raise KGLMInputError(f"k must satisfy 1 <= k <= p = {p}, got k = {k}")

    if isinstance(lambda2, bool) or not isinstance(lambda2, numbers.Real):
        raise KGLMInputError(f"lambda2 must be a real number, got {lambda2!r}")
    lam2 = float(lambda2)
    if not math.isfinite(lam2):
        raise KGLMInputError(f"lambda2 must be finite, got {lam2}")
    if lam2 < 0:
        raise KGLMInputError(f"lambda2 must be >= 0, got {lam2}")

    if isinstance(M, bool) or not isinstance(M, numbers.Real):
        raise KGLMInputError(f"M must be a positive real number or inf, got {M!r}")
    Mf = float(M)
    if math.isnan(Mf) or Mf <= 0:
        raise KGLMInputError(f"M must be > 0 (float('inf') allowed), got {Mf}")
    if lam2 == 0.0 and math.isinf(Mf):
        raise KGLMInputError(
            "lambda2 = 0 requires a finite box M: with lambda2 = 0 and M = inf the perspective "
            "relaxation gives no finite node bound (use lambda2 > 0 or a finite M)"
        )

    loss_name = loss if isinstance(loss, str) else getattr(loss, "name", None)
    if isinstance(loss, str) and loss not in LOSSES:
        raise KGLMInputError(f"unknown loss {loss!r}; expected one of {LOSSES}")
    if not isinstance(loss, str):
        needed = ("value", "grad", "neg_conj", "lipschitz_factor")
        if not all(hasattr(loss, a) for a in needed):
            raise KGLMInputError(
                f"loss must be one of {LOSSES} or a Loss object with {needed}, got {loss!r}"
            )
    if loss_name == "logistic":
        ya = _logistic_labels(ya)
    return Xa, ya, k, lam2, Mf


def _logistic_labels(y: np.ndarray) -> np.ndarray:
    vals = np.unique(y)
    if vals.size < 2:
        raise KGLMInputError(
            f"logistic loss needs both classes in y (labels -1 and +1, or 0 and 1); "
            f"every label is {float(vals[0])!r}")
    if np.all(np.isin(vals, (-1.0, 1.0))):
        return y
    if np.all(np.isin(vals, (0.0, 1.0))):
        warnings.warn(
            "logistic labels given in {0, 1}; mapping 0 -> -1 (the solver uses labels in {-1, +1})",
            KGLMLabelWarning,
            stacklevel=4,
        )
        return np.where(y == 0.0, -1.0, 1.0)
    shown = ", ".join(repr(float(v)) for v in vals[:6])
    raise KGLMInputError(
        f"logistic labels must be in {{-1, +1}} (or {{0, 1}}), got values {{{shown}"
        f"{', ...' if vals.size > 6 else ''}}}"
    )


def validate_options(
    backend: Any, batch_size: Any, time_limit: Any, gap_tol: Any, node_limit: Any
) -> tuple[str, int, float, float, int | None]:
    """Check the algorithmic options; returns them normalised."""
    batch_size, time_limit, gap_tol, node_limit = (
        _scalar(batch_size), _scalar(time_limit), _scalar(gap_tol), _scalar(node_limit))
    if not isinstance(backend, str) or backend not in BACKENDS:
        raise KGLMInputError(f"unknown backend {backend!r}; expected one of {BACKENDS}")
    if (isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral)
            or batch_size < 1):
        raise KGLMInputError(f"batch_size must be a positive integer, got {batch_size!r}")
    if time_limit is None:
        tl = math.inf
    else:
        if isinstance(time_limit, bool) or not isinstance(time_limit, numbers.Real):
            raise KGLMInputError(
                f"time_limit must be a positive number or None, got {time_limit!r}")
        tl = float(time_limit)
        if math.isnan(tl) or tl <= 0:
            raise KGLMInputError(f"time_limit must be > 0, got {time_limit!r}")
    if isinstance(gap_tol, bool) or not isinstance(gap_tol, numbers.Real):
        raise KGLMInputError(f"gap_tol must be a number, got {gap_tol!r}")
    gt = float(gap_tol)
    if not math.isfinite(gt) or gt < 0:
        raise KGLMInputError(f"gap_tol must be finite and >= 0, got {gap_tol!r}")
    if node_limit is not None:
        if (isinstance(node_limit, bool) or not isinstance(node_limit, numbers.Integral)
                or node_limit < 1):
            raise KGLMInputError(
                f"node_limit must be a positive integer or None, got {node_limit!r}")
        node_limit = int(node_limit)
    return backend, int(batch_size), tl, gt, node_limit
