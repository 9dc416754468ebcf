"""The base of native solver adapters: a solver that is no Pyomo model solve (a batched
branch and bound, a loop over MIQPs or MILPs) declares the formulation ids it takes, its
options, how to tell it is installed and its version; :meth:`NativeSolver.run` calls into
the existing code and returns ``(SolverOutcome, solution)``."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from ..errors import InputError


class NativeSolver:
    """One native solver. Subclasses set the class attributes and implement :meth:`run`."""

    kind: ClassVar[str] = "native"
    name: ClassVar[str] = ""
    formulations: ClassVar[tuple[str, ...]] = ()   # formulation ids it takes
    description: ClassVar[str] = ""
    options: ClassVar[tuple[str, ...]] = ()        # option names it takes (solver_options)
    licence: ClassVar[str] = ""
    can_relax: ClassVar[bool] = False               # it solves no relaxation on request
    own_benchmarks: ClassVar[str] = ""              # its own asv module, if not benchmarks/formulations.py

    def takes(self, formulation) -> bool:
        return formulation.id in self.formulations

    def takes_names(self) -> list[str]:
        return list(self.formulations)

    def installed(self) -> bool:
        return True

    def version(self) -> str:
        return ""

    def check_options(self, options: Mapping[str, Any]) -> None:
        """Reject options the solver does not take (what a suite's pre-flight applies)."""
        unknown = sorted(set(options) - set(self.options))
        if unknown:
            takes = f"it takes: {', '.join(sorted(self.options))}" if self.options else "it takes none"
            raise InputError(f"{self.name} has no option(s) {', '.join(unknown)}; {takes}")

    def check_solve_options(self, options: Mapping[str, Any]) -> None:
        """Nothing before the instance is loaded: a native solver checks its own options when
        it runs (as it always has)."""

    def run(self, formulation, instance, params: dict[str, Any], *, time_limit: float, rel_gap: float,
            threads: int, seed: int, solver_options: dict[str, Any] | None = None, verbose: bool = False):
        raise NotImplementedError

    def solve(self, formulation, instance, params, *, problem_class, time_limit, rel_gap, threads, seed,
              solver_options, verbose, warm_start, record):
        """:meth:`run`, with its build time (e.g. kernel compilation) put into ``record``.
        Returns ``(outcome, solution, None)`` (no Pyomo model)."""
        outcome, solution = self.run(formulation, instance, params, time_limit=time_limit, rel_gap=rel_gap,
                                     threads=threads, seed=seed, solver_options=solver_options, verbose=bool(verbose))
        record.build_seconds = float(outcome.extra.pop("build_seconds", 0.0))
        return outcome, solution, None

    def __repr__(self) -> str:
        return f"<native solver {self.name} for {', '.join(self.formulations)}>"
