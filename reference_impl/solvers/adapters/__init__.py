"""The native and peer solver adapters: one module per solver, found by the solver registry.

Each module of this package defines ``SOLVER``, one :class:`~reference_impl.solvers.native.NativeSolver`
instance (a batched branch and bound, a loop over MIQPs or MILPs, a peer package called as its
users call it). Adding a solver is one new module here: the registry discovers it
(:func:`discover`), and the DVC pipeline makes a stage depend on an adapter module only when the
stage's suite names that solver for a formulation the adapter takes
(:data:`reference_impl.code_deps.REGISTRY_LOOKUPS`), so a new adapter leaves committed results
current. An adapter imports its peer package inside its methods, so that listing solvers never
needs the package installed.
"""
from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType


def adapter_modules() -> list[ModuleType]:
    """Every adapter module, in name order (modules starting with ``_`` are helpers)."""
    names = sorted(info.name for info in pkgutil.iter_modules(__path__) if not info.name.startswith("_"))
    return [importlib.import_module(f"{__name__}.{name}") for name in names]


def discover() -> list:
    """The ``SOLVER`` of every adapter module."""
    found = []
    for module in adapter_modules():
        solver = getattr(module, "SOLVER", None)
        if solver is None:
            raise TypeError(f"solver adapter module {module.__name__} defines no SOLVER")
        found.append(solver)
    return found
