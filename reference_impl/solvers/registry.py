"""The solver registry, beside the formulation registry (DESIGN.md, idea 5).

A solver is one object: a :class:`~reference_impl.solvers.spec.PyomoSolver` entry of
:data:`~reference_impl.solvers.spec.PYOMO_SOLVERS` (HiGHS, SCIP, Gurobi: one adapter class,
one entry each) or a :class:`~reference_impl.solvers.native.NativeSolver` adapter in its own
module under ``solvers/adapters/`` (``bnb``, ``kscan``, the cutting-plane loop ``highs``, the
peers), discovered there. Each declares what it takes
(problem classes, or formulation ids for a native adapter), its options and their check, its
version probe, whether it is installed and any licence note. :func:`reference_impl.api.solve`
dispatches through :func:`solver_for`; :func:`capable_solvers`, ``miobench solvers``, suite
validation and the pre-flight read the registry.

A native adapter takes precedence over a Pyomo entry of the same name for the formulations it
declares (the cutting-plane loop is called ``highs``; every other formulation's ``highs`` is
the Pyomo entry).
"""
from __future__ import annotations

from typing import Any, Union

from ..errors import UnknownIdError, did_you_mean
from .adapters import discover
from .native import NativeSolver
from .spec import PYOMO_SOLVERS, PyomoSolver, is_installed, solver_version

Solver = Union[PyomoSolver, NativeSolver]

#: the native and peer adapters: one module each under solvers/adapters/, discovered (name order)
NATIVE_SOLVERS: list[NativeSolver] = discover()


def register_solver(solver: Solver) -> Solver:
    """Add a solver: a :class:`PyomoSolver` becomes an entry of ``PYOMO_SOLVERS``, a native
    adapter is appended to :data:`NATIVE_SOLVERS`."""
    if isinstance(solver, PyomoSolver):
        PYOMO_SOLVERS[solver.name] = solver
        _clear_caches()
    else:
        NATIVE_SOLVERS.append(solver)
    return solver


def unregister_solver(solver: Solver) -> None:
    """Remove a solver added with :func:`register_solver`."""
    if solver.kind == "pyomo":
        if PYOMO_SOLVERS.get(solver.name) is solver:
            del PYOMO_SOLVERS[solver.name]
        _clear_caches()
    elif solver in NATIVE_SOLVERS:
        NATIVE_SOLVERS.remove(solver)


def _clear_caches() -> None:
    is_installed.cache_clear()
    solver_version.cache_clear()


def all_solvers() -> list[Solver]:
    """Every registered solver: the Pyomo entries, then the native adapters."""
    return [*PYOMO_SOLVERS.values(), *NATIVE_SOLVERS]


def native_solvers_for(formulation_id: str) -> list[NativeSolver]:
    return [s for s in NATIVE_SOLVERS if formulation_id in s.formulations]


def native_names(formulation_id: str) -> tuple[str, ...]:
    """Names of the native solvers that take ``formulation_id`` (the registry is the one list)."""
    return tuple(s.name for s in native_solvers_for(formulation_id))


def known_names(formulation_ids) -> list[str]:
    """The solver names a run of these formulations may ask for: Pyomo entries, then (sorted)
    the native adapters of those formulations."""
    natives = {s.name for f in formulation_ids for s in native_solvers_for(f)}
    return [*PYOMO_SOLVERS, *sorted(n for n in natives if n not in PYOMO_SOLVERS)]


def solver_for(name: str, formulation) -> Solver:
    """The solver called ``name`` for ``formulation``: its native adapter of that name, else the
    Pyomo entry; :class:`UnknownIdError` (with a suggestion) for any other name."""
    for solver in native_solvers_for(formulation.id):
        if solver.name == name:
            return solver
    if name in PYOMO_SOLVERS:
        return PYOMO_SOLVERS[name]
    known = [*PYOMO_SOLVERS, *native_names(formulation.id)]
    raise UnknownIdError(f"unknown solver {name!r}; known: {', '.join(known)}." + did_you_mean(name, known))


def is_native(name: str, formulation) -> bool:
    return any(s.name == name for s in native_solvers_for(formulation.id))


def capable_solvers(formulation) -> list[str]:
    """Solvers that can take this formulation: the Pyomo entries that take its problem class
    (unless a native adapter of the same name takes it), then its native adapters."""
    natives = native_names(formulation.id)
    pyomo = [s.name for s in PYOMO_SOLVERS.values() if s.takes(formulation) and s.name not in natives]
    return pyomo + list(natives)


def licence_note(solver: Solver) -> str:
    return solver.licence


def describe(solver: Solver) -> dict[str, Any]:
    """One row of ``miobench solvers``."""
    installed = solver.installed()
    return {"name": solver.name, "kind": solver.kind,
            ("classes" if solver.kind == "pyomo" else "formulations"): solver.takes_names(),
            "installed": installed, "version": solver.version() if installed else "",
            "licence": solver.licence, "description": solver.description}


def describe_all() -> list[dict[str, Any]]:
    return [describe(s) for s in all_solvers()]


__all__ = ["Solver", "NativeSolver", "PyomoSolver", "NATIVE_SOLVERS", "PYOMO_SOLVERS", "register_solver",
           "unregister_solver", "all_solvers", "native_solvers_for", "native_names", "known_names",
           "solver_for", "is_native", "capable_solvers", "describe", "describe_all"]
