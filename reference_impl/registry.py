"""The formulation registry (DESIGN.md, idea 1): one place that knows every formulation.

Formulations register themselves under their catalogue id with :func:`register`. The CLI,
the harness, the asv suite and the reports all look formulations up here; nothing keeps a
second list.
"""
from __future__ import annotations

import importlib
import pkgutil
from typing import TYPE_CHECKING

from .errors import UnknownIdError, did_you_mean

if TYPE_CHECKING:  # pragma: no cover
    from .formulations.base import Formulation

_REGISTRY: dict[str, "Formulation"] = {}
_LOADED = False


def register(cls):
    """Class decorator: instantiate and register a formulation under ``cls.id``."""
    if cls.id in _REGISTRY:
        raise RuntimeError(f"formulation id {cls.id!r} registered twice")
    _REGISTRY[cls.id] = cls()
    return cls


def _load_all() -> None:
    """Import every module of :mod:`reference_impl.formulations` so they register."""
    global _LOADED
    if _LOADED:
        return
    from . import formulations

    for module in pkgutil.iter_modules(formulations.__path__):
        if not module.name.startswith("_") and module.name != "base":
            importlib.import_module(f"{formulations.__name__}.{module.name}")
    _LOADED = True


def get_formulation(formulation_id: str) -> "Formulation":
    _load_all()
    try:
        return _REGISTRY[formulation_id]
    except KeyError:
        raise UnknownIdError(
            f"unknown formulation id {formulation_id!r}; `miobench list` shows them all."
            + did_you_mean(formulation_id, _REGISTRY)
        ) from None


def formulations() -> dict[str, "Formulation"]:
    """Every registered formulation, sorted by id."""
    _load_all()
    return dict(sorted(_REGISTRY.items()))
