"""The solver layer: the solver registry (:mod:`.registry`), one adapter for the solvers
reached through Pyomo (HiGHS, SCIP, Gurobi: :mod:`.spec`, :mod:`.pyomo_solve`) and one file
per native solver (:mod:`.bnb`, :mod:`.kscan`, :mod:`.cutting_plane`)."""
from .outcome import SolverOutcome
from .pyomo_solve import solve_model
from .relaxation import relaxation_bound
from .spec import PYOMO_SOLVERS, PyomoSolver, check_solver_name, is_installed, solver_version, supports

__all__ = ["SolverOutcome", "solve_model", "relaxation_bound", "PYOMO_SOLVERS", "PyomoSolver", "check_solver_name",
           "is_installed", "solver_version", "supports"]
