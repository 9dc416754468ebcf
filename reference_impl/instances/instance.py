"""The :class:`Instance` record and the checks every formulation relies on."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from ..errors import InputError
from .storage import npz_bytes, sha256_bytes


@dataclass
class Instance:
    """Arrays of one problem instance plus where they came from.

    ``arrays`` always holds ``X`` (n×d float) and ``y`` (n) and may hold family-specific
    arrays (``group``, ``feature_names``, ...). ``sha256`` is the hash of the canonical
    ``.npz`` serialisation, so the same arrays have the same hash wherever they came from.
    """

    id: str
    arrays: dict[str, np.ndarray]
    sha256: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.sha256:
            self.sha256 = sha256_bytes(npz_bytes(self.arrays))

    @property
    def X(self) -> np.ndarray:
        return self.arrays["X"]

    @property
    def y(self) -> np.ndarray:
        return self.arrays["y"]

    @property
    def shape(self) -> tuple[int, int]:
        return tuple(self.X.shape)  # type: ignore[return-value]

    @property
    def feature_names(self) -> list[str]:
        if "feature_names" in self.arrays:
            return [str(v) for v in self.arrays["feature_names"]]
        return [f"x{j}" for j in range(self.X.shape[1])]

    def __getitem__(self, name: str) -> np.ndarray:
        try:
            return self.arrays[name]
        except KeyError:
            raise InputError(
                f"instance {self.id!r} has no array {name!r} (it has: {', '.join(sorted(self.arrays))})"
            ) from None


def check_xy(instance: Instance, *, y_kind: str = "real") -> tuple[np.ndarray, np.ndarray]:
    """Validate and return ``(X, y)`` as float arrays; raise :class:`InputError` otherwise.

    ``y_kind`` is ``"real"`` (regression), ``"binary"`` (labels ±1) or ``"multiclass"``
    (labels 0..C-1).
    """
    if "X" not in instance.arrays or "y" not in instance.arrays:
        raise InputError(f"instance {instance.id!r} must hold arrays 'X' and 'y'")
    X = np.asarray(instance.arrays["X"])
    y = np.asarray(instance.arrays["y"])
    if X.ndim != 2:
        raise InputError(f"X must be a 2-D array (n samples × d features); got shape {X.shape}")
    if y.ndim != 1:
        raise InputError(f"y must be a 1-D array of length n; got shape {y.shape}")
    if X.shape[0] != y.shape[0]:
        raise InputError(f"X has {X.shape[0]} rows but y has {y.shape[0]} entries; they must match")
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise InputError(f"X is empty (shape {X.shape})")
    if not np.issubdtype(X.dtype, np.number) or not np.issubdtype(y.dtype, np.number):
        raise InputError("X and y must be numeric arrays")
    if np.iscomplexobj(X) or np.iscomplexobj(y):
        raise InputError("X and y must be real-valued; got a complex array")
    X = X.astype(float)
    y = y.astype(float)
    if not np.all(np.isfinite(X)):
        bad = int(np.sum(~np.isfinite(X)))
        raise InputError(f"X contains {bad} NaN or infinite value(s); clean or impute them first")
    if not np.all(np.isfinite(y)):
        raise InputError("y contains NaN or infinite values; clean or impute them first")
    if y_kind == "binary":
        labels = set(np.unique(y).tolist())
        if not labels <= {-1.0, 1.0}:
            raise InputError(f"binary labels must be -1/+1; got values {sorted(labels)[:6]}")
    elif y_kind == "multiclass":
        if not np.all(y == np.round(y)) or y.min() < 0:
            raise InputError("multiclass labels must be integers 0..C-1")
    return X, y


def arrays_from_mapping(data: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Convert a user mapping (lists, arrays, pandas objects) to plain numpy arrays."""
    arrays: dict[str, np.ndarray] = {}
    for name, value in data.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise InputError(f"array names must be identifiers; got {name!r}")
        try:
            array = np.asarray(value)
        except (ValueError, TypeError) as exc:
            raise InputError(f"array {name!r} cannot be converted to a rectangular numpy array "
                             f"(ragged rows or mixed types?): {str(exc).splitlines()[0]}") from None
        if np.iscomplexobj(array):
            raise InputError(f"array {name!r} is complex; miobench takes real-valued data only")
        if array.dtype == object:
            try:
                array = array.astype(float)
            except (TypeError, ValueError):
                array = array.astype(str)
        arrays[name] = array
    return arrays
