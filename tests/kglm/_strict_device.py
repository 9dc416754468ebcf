"""A strict stand-in for CuPy that computes with NumPy but keeps CuPy's boundaries.

No GPU is available to the test suite, so the CuPy backend of the batched branch and bound
is exercised with this module instead.  Its arrays (:class:`DeviceArray`) are *not*
``numpy.ndarray`` objects and, like CuPy's, they refuse what a GPU array refuses:

* implicit conversion to a host array (``numpy.asarray(d)``, ``numpy.array(d)``, the
  buffer / ``__array_interface__`` protocols) raises ``TypeError``; only
  :func:`asnumpy` (the timed ``Backend.to_host``) copies to the host;
* arithmetic, comparisons and module functions that mix a device array with a host
  ``numpy.ndarray`` raise ``TypeError`` (CuPy: "Unsupported type <class 'numpy.ndarray'>");
  Python and NumPy scalars are accepted, as in CuPy;
* calling a NumPy function on a device array (``numpy.sum(d)``) raises ``TypeError``: the
  solver must call the array module it was given;
* reductions and scalar indexing return 0-d device arrays (not NumPy scalars); ``float``,
  ``int`` and ``bool`` of a 0-d array synchronise and return Python scalars.

Host arrays enter only through ``asarray`` / ``array`` (the timed ``Backend.to_device``).
A solver run that passes here touches the host <-> device boundary exactly where CuPy
allows it, which a NumPy-backed fake module alone cannot show.
"""
from __future__ import annotations

import types
from typing import Any

import numpy as np
from numpy.lib.mixins import NDArrayOperatorsMixin

__all__ = ["DeviceArray", "StrictDeviceModule", "BoundaryError"]


class BoundaryError(TypeError):
    """A host array met a device array where CuPy would refuse it."""


def _is_host_array(a: Any) -> bool:
    return isinstance(a, np.ndarray)


def _unwrap(a: Any, where: str) -> Any:
    if isinstance(a, DeviceArray):
        return a._a
    if _is_host_array(a):
        raise BoundaryError(f"{where}: host numpy.ndarray mixed with device arrays "
                            f"(shape {a.shape}); copy it with to_device first")
    if isinstance(a, (list, tuple)):
        return type(a)(_unwrap(v, where) for v in a)
    if isinstance(a, dict):
        return {k: _unwrap(v, where) for k, v in a.items()}
    return a


def _wrap(r: Any) -> Any:
    if isinstance(r, np.ndarray):
        return DeviceArray(r)
    if isinstance(r, np.generic) and not isinstance(r, (np.dtype,)):
        return DeviceArray(np.asarray(r))
    if isinstance(r, tuple):
        return tuple(_wrap(v) for v in r)
    if isinstance(r, list):
        return [_wrap(v) for v in r]
    return r


class DeviceArray(NDArrayOperatorsMixin):
    """An array "on the device": NumPy storage behind CuPy's boundaries."""

    __slots__ = ("_a",)

    def __init__(self, a: np.ndarray):
        object.__setattr__(self, "_a", a)

    # -- refused host conversions ------------------------------------------------------
    def __array__(self, *args: Any, **kwargs: Any):
        raise BoundaryError("implicit conversion of a device array to a host array; "
                            "use asnumpy (Backend.to_host)")

    def __array_function__(self, func, types_, args, kwargs):
        raise BoundaryError(f"numpy.{func.__name__} called on a device array; "
                            "call the backend's array module instead")

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        where = f"ufunc {ufunc.__name__}"
        ins = _unwrap(list(inputs), where)
        if "out" in kwargs:
            kwargs["out"] = _unwrap(tuple(kwargs["out"]), where)
        return _wrap(getattr(ufunc, method)(*ins, **kwargs))

    # -- the ndarray surface ------------------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        attr = getattr(self._a, name)
        if callable(attr):
            def method(*args: Any, **kwargs: Any) -> Any:
                return _wrap(attr(*_unwrap(list(args), f".{name}()"), **_unwrap(kwargs, f".{name}()")))

            return method
        return _wrap(attr)

    @property
    def shape(self) -> tuple[int, ...]:
        return self._a.shape

    @property
    def dtype(self) -> np.dtype:
        return self._a.dtype

    @property
    def ndim(self) -> int:
        return self._a.ndim

    @property
    def size(self) -> int:
        return self._a.size

    @property
    def T(self) -> "DeviceArray":
        return DeviceArray(self._a.T)

    def get(self) -> np.ndarray:
        return np.array(self._a)

    def _index(self, key: Any) -> Any:
        # CuPy accepts host integer/boolean index arrays (it copies them); keep that.
        if isinstance(key, tuple):
            return tuple(k._a if isinstance(k, DeviceArray) else k for k in key)
        return key._a if isinstance(key, DeviceArray) else key

    def __getitem__(self, key: Any) -> "DeviceArray":
        return DeviceArray(np.asarray(self._a[self._index(key)]))

    def __setitem__(self, key: Any, value: Any) -> None:
        self._a[self._index(key)] = _unwrap(value, "__setitem__")

    def __len__(self) -> int:
        return len(self._a)

    def __iter__(self):
        return (DeviceArray(np.asarray(v)) for v in self._a)

    def __float__(self) -> float:
        return float(self._a)

    def __int__(self) -> int:
        return int(self._a)

    def __bool__(self) -> bool:
        return bool(self._a)

    def __repr__(self) -> str:
        return f"DeviceArray({self._a!r})"


def _wrap_function(fn: Any, name: str, converts_host: bool = False) -> Any:
    def call(*args: Any, **kwargs: Any) -> Any:
        if converts_host:  # asarray / array: the one sanctioned host -> device copy
            args = tuple(a._a if isinstance(a, DeviceArray) else a for a in args)
            return DeviceArray(np.array(fn(*args, **kwargs)))
        return _wrap(fn(*_unwrap(list(args), f"xp.{name}"), **_unwrap(kwargs, f"xp.{name}")))

    call.__name__ = name
    return call


class _Namespace:
    """A wrapped NumPy namespace (the module itself, ``linalg``, ``random``...)."""

    def __init__(self, target: Any, prefix: str):
        self._target, self._prefix = target, prefix

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._target, name)
        if isinstance(attr, types.ModuleType):
            return _Namespace(attr, f"{self._prefix}{name}.")
        if isinstance(attr, type) or not callable(attr):  # dtypes, constants
            return attr
        return _wrap_function(attr, self._prefix + name)


class StrictDeviceModule(_Namespace):
    """The array module (``xp``) of the strict stand-in: NumPy's functions behind CuPy's
    boundaries, ``asnumpy`` for the copy back and ``cuda.Device().synchronize()``."""

    ndarray = DeviceArray

    class cuda:  # noqa: N801 - mimics cupy.cuda
        class Device:
            def synchronize(self) -> None:
                return None

    def __init__(self) -> None:
        super().__init__(np, "")
        self.copies_to_device = 0
        self.copies_to_host = 0

    def asarray(self, a: Any, dtype: Any = None) -> DeviceArray:
        if isinstance(a, DeviceArray):
            return a if dtype is None else DeviceArray(a._a.astype(dtype))
        self.copies_to_device += 1
        return DeviceArray(np.array(a, dtype=dtype))

    def array(self, a: Any, dtype: Any = None) -> DeviceArray:
        if isinstance(a, DeviceArray):
            return DeviceArray(np.array(a._a, dtype=dtype))
        self.copies_to_device += 1
        return DeviceArray(np.array(a, dtype=dtype))

    def asnumpy(self, a: Any) -> np.ndarray:
        if not isinstance(a, DeviceArray):
            return np.asarray(a)
        self.copies_to_host += 1
        return np.array(a._a)
