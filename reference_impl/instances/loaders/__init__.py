"""Real-data loaders, one module per family; each registers under a name with
:func:`register_loader`. Every module of this package is imported on first use, so a new
family's loaders only need a new module here."""
from __future__ import annotations

import importlib
import pkgutil
from typing import Callable

import numpy as np

LOADERS: dict[str, Callable[..., dict[str, np.ndarray]]] = {}


def register_loader(name: str):
    def decorator(func):
        if name in LOADERS:
            raise RuntimeError(f"loader {name!r} registered twice")
        LOADERS[name] = func
        return func

    return decorator


def get_loader(name: str) -> Callable[..., dict[str, np.ndarray]]:
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
    return LOADERS[name]
