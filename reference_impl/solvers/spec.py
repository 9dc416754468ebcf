"""Which solvers miobench knows, what each can take, and whether it is installed."""
from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from functools import lru_cache

from ..errors import UnknownIdError, did_you_mean


@dataclass(frozen=True)
class SolverSpec:
    name: str
    package: str                      # Python package that must import
    classes: frozenset[str]           # problem classes it accepts
    pyomo_names: dict                 # problem class -> Pyomo (contrib.solver) factory name
    description: str


_ALL = frozenset({"LP", "MILP", "MIQP", "MISOCP", "MINLP"})

#: Solvers reachable through Pyomo. Native solvers (e.g. ``bnb``) are declared by formulations.
PYOMO_SOLVERS: dict[str, SolverSpec] = {
    "highs": SolverSpec(
        "highs", "highspy", frozenset({"LP", "MILP"}), {"LP": "highs", "MILP": "highs"},
        "HiGHS via highspy (LP/MILP only; cannot take quadratic or nonlinear terms)",
    ),
    "scip": SolverSpec(
        "scip", "pyscipopt", _ALL, {c: "scip_direct" for c in _ALL},
        "SCIP via pyscipopt and Pyomo's scip_direct (MILP, MIQP, MIQCP, MINLP)",
    ),
    "gurobi": SolverSpec(
        "gurobi", "gurobipy", _ALL,
        {"LP": "gurobi_persistent", "MILP": "gurobi_persistent", "MIQP": "gurobi_persistent",
         "MISOCP": "gurobi_persistent", "MINLP": "gurobi_direct_minlp"},
        "Gurobi via gurobipy (optional; the pip license is size-limited)",
    ),
}


def check_solver_name(name: str, native: tuple[str, ...] = ()) -> None:
    if name not in PYOMO_SOLVERS and name not in native:
        known = [*PYOMO_SOLVERS, *native]
        raise UnknownIdError(f"unknown solver {name!r}; known: {', '.join(known)}." + did_you_mean(name, known))


def supports(name: str, problem_class: str) -> bool:
    """Whether solver ``name`` takes one Pyomo model of ``problem_class``."""
    return problem_class in PYOMO_SOLVERS[name].classes


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
        if name == "scip":
            import pyscipopt

            from .quiet import silenced_output

            with silenced_output():
                model = pyscipopt.Model()
                core = f"{model.getMajorVersion()}.{model.getMinorVersion()}.{model.getTechVersion()}"
            return f"SCIP {core} (pyscipopt {pyscipopt.__version__})"
        if name == "highs":
            import highspy

            return f"HiGHS {highspy.HIGHS_VERSION_MAJOR}.{highspy.HIGHS_VERSION_MINOR}.{highspy.HIGHS_VERSION_PATCH}"
        if name == "gurobi":
            import gurobipy

            return "Gurobi " + ".".join(str(v) for v in gurobipy.gurobi.version())
    except Exception:  # pragma: no cover - version is informative only
        return "unknown"
    return ""
