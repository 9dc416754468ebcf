"""The Pyomo solver adapter: one :class:`PyomoSolver` entry per solver miobench reaches
through Pyomo (HiGHS, SCIP, Gurobi). Adding one more Pyomo solver is one entry of
:data:`PYOMO_SOLVERS` (its package, problem classes, Pyomo factory names, option names,
version probe, node-count key and option probe); the registry
(:mod:`reference_impl.solvers.registry`) lists these entries beside the native adapters."""
from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from ..errors import UnknownIdError, did_you_mean


def _scip_version() -> str:
    import pyscipopt

    from .quiet import silenced_output

    with silenced_output():
        model = pyscipopt.Model()
        core = f"{model.getMajorVersion()}.{model.getMinorVersion()}.{model.getTechVersion()}"
    return f"SCIP {core} (pyscipopt {pyscipopt.__version__})"


def _highs_version() -> str:
    import highspy  # no Highs instance: its first construction prints a banner on fd 1

    return f"HiGHS {highspy.HIGHS_VERSION_MAJOR}.{highspy.HIGHS_VERSION_MINOR}.{highspy.HIGHS_VERSION_PATCH}"


def _gurobi_version() -> str:
    import gurobipy

    return "Gurobi " + ".".join(str(v) for v in gurobipy.gurobi.version())


def _probe(class_name: str) -> Callable[[], Any]:
    """A factory of the option probe ``class_name`` of :mod:`.options` (imported when used)."""
    def make():
        from . import options

        return getattr(options, class_name)()
    make.__name__ = f"make{class_name}"
    return make


@dataclass(frozen=True)
class PyomoSolver:
    """A solver reached through Pyomo's ``contrib.solver`` interfaces (one adapter class, one
    entry per solver). Time limit, relative gap and threads go through Pyomo's common
    configuration; the log switch and the seed go by the solver's own parameter names."""

    name: str
    package: str                      # Python package that must import
    classes: frozenset[str]           # problem classes it accepts
    pyomo_names: dict                 # problem class -> Pyomo (contrib.solver) factory name
    description: str
    log_option: tuple[str, Any, Any]  # (parameter, value for quiet, value for verbose)
    seed_option: str                  # the solver's random-seed parameter
    node_key: str                     # where Pyomo's results.extra_info holds the node count
    version_probe: Callable[[], str]  # the version string (prints nothing)
    option_probe: Callable[[], Any]   # a throwaway object that knows the solver's parameters
    licence: str = ""                 # licence note (e.g. a size-limited pip licence)
    warm_start: bool = False          # takes a (partial) start for the discrete variables
    can_relax: bool = True            # solves continuous relaxations (relaxation.py)
    kind: str = field(default="pyomo", init=False)

    # -- what it takes -------------------------------------------------------------------
    def supports(self, problem_class: str) -> bool:
        return problem_class in self.classes

    def takes(self, formulation) -> bool:
        return self.supports(formulation.problem_class)

    def takes_names(self) -> list[str]:
        return sorted(self.classes)

    # -- installed / version / options ---------------------------------------------------
    def installed(self) -> bool:
        return is_installed(self.name)

    def version(self) -> str:
        return solver_version(self.name)

    def backend_options(self, seed: int | None, verbose: bool = False) -> dict:
        """miobench's quiet/verbose and seed settings by the solver's own parameter names."""
        name, off, on = self.log_option
        options = {name: on if verbose else off}
        if seed is not None:
            options[self.seed_option] = int(seed)
        return options

    def check_options(self, options: Mapping[str, Any]) -> None:
        from .options import check_solver_options

        check_solver_options(self.name, options)

    check_solve_options = check_options  # checked before the instance is loaded

    # -- solving -------------------------------------------------------------------------
    def solve(self, formulation, instance, params, *, problem_class, time_limit, rel_gap, threads, seed,
              solver_options, verbose, warm_start, record):
        """Build the formulation's Pyomo model (build time, size and warm start go into
        ``record``), solve it, extract the solution. Returns ``(outcome, solution, model)``."""
        import time

        from .pyomo_model import model_size, set_start
        from .pyomo_solve import solve_model

        if not self.supports(problem_class):  # nothing to build: the solver cannot take this class (e.g. an SDP)
            return solve_model(None, self.name, problem_class=problem_class), None, None
        build_start = time.perf_counter()
        model = formulation.build(instance, params)
        record.build_seconds = time.perf_counter() - build_start
        record.n_vars, record.n_cons = model_size(model)
        if warm_start:
            set_start(model, warm_start)
            record.extra["warm_start"] = sorted(warm_start)
        outcome = solve_model(model, self.name, problem_class=problem_class, time_limit=time_limit, rel_gap=rel_gap,
                              threads=threads, seed=seed, options=solver_options, warm_start=bool(warm_start),
                              verbose=bool(verbose))
        solution = formulation.extract(model, instance, params) if outcome.has_solution else None
        return outcome, solution, model


SolverSpec = PyomoSolver  # the former name

_ALL = frozenset({"LP", "MILP", "MIQP", "MISOCP", "MINLP"})

#: Solvers reachable through Pyomo (entries of the one Pyomo adapter). Native solvers (e.g.
#: ``bnb``) are adapters of their own (:mod:`reference_impl.solvers.registry`).
PYOMO_SOLVERS: dict[str, PyomoSolver] = {
    "highs": PyomoSolver(
        "highs", "highspy", frozenset({"LP", "MILP"}), {"LP": "highs", "MILP": "highs"},
        "HiGHS via highspy (LP/MILP only; cannot take quadratic or nonlinear terms)",
        log_option=("output_flag", False, True), seed_option="random_seed", node_key="mip_node_count",
        version_probe=_highs_version, option_probe=_probe("_HighsProbe"),
    ),
    "scip": PyomoSolver(
        "scip", "pyscipopt", _ALL, {c: "scip_direct" for c in _ALL},
        "SCIP via pyscipopt and Pyomo's scip_direct (MILP, MIQP, MIQCP, MINLP)",
        log_option=("display/verblevel", 0, 4), seed_option="randomization/randomseedshift", node_key="NNodes",
        version_probe=_scip_version, option_probe=_probe("_ScipProbe"), warm_start=True,
    ),
    "gurobi": PyomoSolver(
        "gurobi", "gurobipy", _ALL,
        {"LP": "gurobi_persistent", "MILP": "gurobi_persistent", "MIQP": "gurobi_persistent",
         "MISOCP": "gurobi_persistent", "MINLP": "gurobi_direct_minlp"},
        "Gurobi via gurobipy (optional; the pip license is size-limited)",
        log_option=("OutputFlag", 0, 1), seed_option="Seed", node_key="NodeCount",
        version_probe=_gurobi_version, option_probe=_probe("_GurobiProbe"),
        licence="the pip package's licence is size-limited (status size_limited beyond it)", warm_start=True,
    ),
}


def check_solver_name(name: str, native: tuple[str, ...] = ()) -> None:
    if name not in PYOMO_SOLVERS and name not in native:
        known = [*PYOMO_SOLVERS, *native]
        raise UnknownIdError(f"unknown solver {name!r}; known: {', '.join(known)}." + did_you_mean(name, known))


def supports(name: str, problem_class: str) -> bool:
    """Whether solver ``name`` takes one Pyomo model of ``problem_class``."""
    return PYOMO_SOLVERS[name].supports(problem_class)


@lru_cache(maxsize=None)
def is_installed(name: str) -> bool:
    return importlib.util.find_spec(PYOMO_SOLVERS[name].package) is not None


@lru_cache(maxsize=None)
def solver_version(name: str) -> str:
    """Version string of the solver library (and its Python binding). Prints nothing: no
    HiGHS instance is made (its first construction prints a banner on fd 1), and SCIP's probe
    model runs with the output descriptors silenced."""
    if not is_installed(name):
        return ""
    try:
        return PYOMO_SOLVERS[name].version_probe()
    except Exception:  # pragma: no cover - version is informative only
        return "unknown"
