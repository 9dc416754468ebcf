"""Seeded synthetic instance generators, one module per family; each registers under a name
with :func:`register_generator`. Generators must be byte-deterministic across machines: use
seeded ``numpy.random.Generator`` draws and the platform-independent arithmetic of
:mod:`reference_impl.instances.numerics` (no BLAS products, exactly rounded sums)."""
from __future__ import annotations

import importlib
import pkgutil
from typing import Callable

import numpy as np

GENERATORS: dict[str, Callable[..., dict[str, np.ndarray]]] = {}


def register_generator(name: str):
    def decorator(func):
        if name in GENERATORS:
            raise RuntimeError(f"generator {name!r} registered twice")
        GENERATORS[name] = func
        return func

    return decorator


def get_generator(name: str) -> Callable[..., dict[str, np.ndarray]]:
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
    return GENERATORS[name]


from .regression import equicorrelated_design, evenly_spaced_support, synthetic_regression  # noqa: E402,F401
