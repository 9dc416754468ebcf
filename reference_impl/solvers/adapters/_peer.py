"""The base of the peer adapters: a package people already use, called as its users call it.

A peer adapter names the package it imports (``package``), its distribution on the index
(``distribution``, for the version probe) and how to install it (``install_hint``); the base
gives it the installed probe, a version probe that never raises, and the ``not_installed``
outcome, so the peer modules do not repeat them. The package (and ``preload`` modules) is imported
before the run starts, and that import counts as build time, never as solve time: every run is a
fresh worker process, and a package import of 0.3–2 s (scikit-learn, pandas behind it) would
otherwise swamp a dynamic program that solves in milliseconds (the Pyomo solvers' packages are
likewise imported by their version probe before their clock starts). A peer also declares its own asv
``benchmark_cases``: small instances *of its own problem* (OKRidge: least squares with no box;
L0BnB: the penalty form), so that ``benchmarks/formulations.py`` runs every peer, also in CI's
quick mode, where a formulation's first case may be one the peer does not take.
"""
from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import time
from typing import Any, ClassVar

from ..native import NativeSolver
from ..outcome import SolverOutcome

#: one asv case of a peer: (formulation id, catalogue instance id, hyperparameters)
BenchmarkCase = tuple[str, str, dict[str, Any]]


class PeerSolver(NativeSolver):
    """A peer package as a native solver. Subclasses set ``package`` (import name),
    ``distribution`` (its name on the index), ``install_hint`` and ``benchmark_cases``."""

    package: ClassVar[str] = ""
    distribution: ClassVar[str] = ""
    version_suffix: ClassVar[str] = ""     # e.g. "lasso_path": what of the package is used
    install_hint: ClassVar[str] = ""
    benchmark_cases: ClassVar[tuple[BenchmarkCase, ...]] = ()
    #: modules imported before the clock starts (default: ``package``), e.g. a submodule ``run`` uses
    preload: ClassVar[tuple[str, ...]] = ()

    def installed(self) -> bool:
        return importlib.util.find_spec(self.package) is not None

    def version(self) -> str:
        """``"<distribution> X.Y.Z[ suffix]"``; empty when the package is missing (never raises)."""
        try:
            text = f"{self.distribution} {importlib.metadata.version(self.distribution)}"
        except importlib.metadata.PackageNotFoundError:
            return ""
        return f"{text} {self.version_suffix}" if self.version_suffix else text

    def solve(self, formulation, instance, params, *, record, **options):
        """:meth:`NativeSolver.solve`, with the package imported first (its import time is added to
        the record's build time, outside the solve time)."""
        started = time.perf_counter()
        self.import_package()
        imported = time.perf_counter() - started
        outcome, solution, model = super().solve(formulation, instance, params, record=record, **options)
        record.build_seconds = (record.build_seconds or 0.0) + imported
        return outcome, solution, model

    def import_package(self) -> None:
        """Import ``preload`` (or ``package``); an import error is left for :meth:`run` to report."""
        for module in self.preload or (self.package,):
            try:
                importlib.import_module(module)
            except Exception:  # noqa: BLE001 - run() reports not_installed / the package's own error
                return

    def missing(self) -> tuple[SolverOutcome, None]:
        """The outcome of a run when the package is not installed: its install hint."""
        return SolverOutcome("not_installed", message=self.install_hint), None
