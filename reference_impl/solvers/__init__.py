"""The solver layer: one uniform way to solve a Pyomo model with HiGHS, SCIP or Gurobi."""
from .outcome import SolverOutcome
from .pyomo_solve import solve_model
from .relaxation import relaxation_bound
from .spec import PYOMO_SOLVERS, check_solver_name, is_installed, solver_version, supports

__all__ = ["SolverOutcome", "solve_model", "relaxation_bound", "PYOMO_SOLVERS", "check_solver_name", "is_installed", "solver_version", "supports"]
