"""The base of the peer adapters: a package people already use, called as its users call it.

A peer adapter names the package it imports (``package``), its distribution on the index
(``distribution``, for the version probe) and how to install it (``install_hint``); the base
gives it the installed probe, a version probe that never raises, and the ``not_installed``
outcome, so the six peer modules do not repeat them. A peer also declares its own asv
``benchmark_cases``: small instances *of its own problem* (OKRidge: least squares with no box;
L0BnB: the penalty form), so that ``benchmarks/formulations.py`` runs every peer, also in CI's
quick mode, where a formulation's first case may be one the peer does not take.
"""
from __future__ import annotations

import importlib.metadata
import importlib.util
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

    def installed(self) -> bool:
        return importlib.util.find_spec(self.package) is not None

    def version(self) -> str:
        """``"<distribution> X.Y.Z[ suffix]"``; empty when the package is missing (never raises)."""
        try:
            text = f"{self.distribution} {importlib.metadata.version(self.distribution)}"
        except importlib.metadata.PackageNotFoundError:
            return ""
        return f"{text} {self.version_suffix}" if self.version_suffix else text

    def missing(self) -> tuple[SolverOutcome, None]:
        """The outcome of a run when the package is not installed: its install hint."""
        return SolverOutcome("not_installed", message=self.install_hint), None
