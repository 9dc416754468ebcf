"""The evaluation contract every formulation fulfils (DESIGN.md, idea 1).

A formulation knows how to
1. check an instance and hyperparameters and fill in defaults (:meth:`Formulation.validate`),
2. build a Pyomo model (:meth:`Formulation.build`),
3. read the solution back as plain arrays (:meth:`Formulation.extract`),
4. evaluate a solution *independently of any solver* (:meth:`Formulation.evaluate`):
   recompute the objective from the data and check every constraint, reporting the
   largest violation.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from ..errors import InputError
from ..instances.instance import Instance

#: Problem classes, from least to most general; "MILP loop" is a sequence of MILPs solved by
#: a formulation's own loop (cutting planes, constraint generation), never one Pyomo model.
PROBLEM_CLASSES = ("LP", "MILP", "MIQP", "MISOCP", "MINLP", "MILP loop")

#: Absolute tolerance under which a constraint violation counts as feasible.
FEASIBILITY_TOL = 1e-5


@dataclass
class Evaluation:
    """What the evaluator found: objective recomputed from data, and violations by kind."""

    objective: float
    violations: dict[str, float] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def max_violation(self) -> float:
        return max([0.0, *self.violations.values()])

    @property
    def feasible(self) -> bool:
        return self.max_violation <= FEASIBILITY_TOL


class Formulation(ABC):
    """Base class of every registered formulation."""

    id: ClassVar[str]
    equation: ClassVar[str]          # equation reference, e.g. "(7) tutorial"
    problem_class: ClassVar[str]     # one of PROBLEM_CLASSES
    family: ClassVar[str]
    summary: ClassVar[str]
    sense: ClassVar[str] = "min"
    #: hyperparameter name -> default (None = must be given or derived)
    hyperparameters: ClassVar[dict[str, Any]] = {}
    #: solvers implemented natively (outside Pyomo) for this formulation, e.g. ("bnb",)
    native_solvers: ClassVar[tuple[str, ...]] = ()
    #: small representative (catalogue instance id, hyperparameters) pairs: the asv suite
    #: benchmarks every registered formulation on these with every capable solver
    benchmark_cases: ClassVar[tuple[tuple[str, dict[str, Any]], ...]] = ()
    #: True when the model optimises an approximation (e.g. a piecewise-linear surrogate):
    #: the evaluator's objective is the true one and ``info["surrogate_objective"]`` the
    #: model's; a solver's optimality claim is checked against the surrogate, and the gap
    #: of the record (true objective vs bound) then includes the approximation error.
    approximation: ClassVar[bool] = False

    # -- contract ---------------------------------------------------------------------
    def validate(self, instance: Instance, params: dict[str, Any]) -> dict[str, Any]:
        """Return complete hyperparameters (defaults filled in); raise InputError if bad."""
        unknown = sorted(set(params) - set(self.hyperparameters))
        if unknown:
            raise InputError(
                f"{self.id} has no hyperparameter(s) {', '.join(unknown)}; "
                f"it takes: {', '.join(self.hyperparameters) or 'none'}"
            )
        return {**self.hyperparameters, **params}

    @abstractmethod
    def build(self, instance: Instance, params: dict[str, Any]):
        """Build the Pyomo model (a ``ConcreteModel`` with one active objective)."""

    @abstractmethod
    def extract(self, model, instance: Instance, params: dict[str, Any]) -> dict[str, np.ndarray]:
        """Read the solution arrays back from a solved model."""

    @abstractmethod
    def evaluate(self, instance: Instance, params: dict[str, Any], solution: dict[str, np.ndarray]) -> Evaluation:
        """Recompute objective and check constraints from ``solution`` alone (no solver)."""

    def problem_class_for(self, params: dict[str, Any]) -> str:
        """The problem class of the model these hyperparameters build (default: the class's);
        a formulation whose class depends on a hyperparameter (e.g. the loss) overrides it."""
        return self.problem_class

    def solve_native(self, solver: str, instance: Instance, params: dict[str, Any], **options):
        """Run a native solver; returns ``(SolverOutcome, solution)``. Only for ``native_solvers``.

        ``options`` holds ``time_limit``, ``rel_gap``, ``threads``, ``seed`` and the run's
        ``solver_options`` (a dict)."""
        raise InputError(f"{self.id} has no native solver {solver!r}")

    # -- helpers for subclasses -------------------------------------------------------
    def own_benchmark_cases(self) -> tuple[tuple[str, dict[str, Any]], ...]:
        """This class's own benchmark cases (a subclass inherits none: its hyperparameters
        and instances differ)."""
        return type(self).__dict__.get("benchmark_cases", ())

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "equation": self.equation,
            "class": self.problem_class,
            "family": self.family,
            "summary": self.summary,
            "sense": self.sense,
            "hyperparameters": dict(self.hyperparameters),
        }


def as_float(params: dict[str, Any], name: str, *, minimum: float | None = None, allow_none: bool = True):
    """Coerce a hyperparameter to float, checking finiteness and a lower bound."""
    value = params.get(name)
    if value is None:
        if allow_none:
            return None
        raise InputError(f"hyperparameter {name} is required")
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise InputError(f"hyperparameter {name} must be a number; got {value!r}") from None
    if np.isnan(value):
        raise InputError(f"hyperparameter {name} is NaN")
    if minimum is not None and value < minimum:
        raise InputError(f"hyperparameter {name} must be >= {minimum}; got {value}")
    return value


def as_int(params: dict[str, Any], name: str, *, minimum: int | None = None, maximum: int | None = None, what: str = ""):
    value = params.get(name)
    if value is None:
        return None
    try:
        as_float_value = float(value)
    except (TypeError, ValueError):
        raise InputError(f"hyperparameter {name} must be an integer; got {value!r}") from None
    if as_float_value != int(as_float_value):
        raise InputError(f"hyperparameter {name} must be an integer; got {value!r}")
    value = int(as_float_value)
    if minimum is not None and value < minimum:
        raise InputError(f"hyperparameter {name} must be >= {minimum}; got {value}")
    if maximum is not None and value > maximum:
        raise InputError(f"hyperparameter {name} must be <= {maximum}{what}; got {value}")
    return value


def sparsity_terms(formulation_id: str, params: dict[str, Any], count: int, what: str) -> tuple[int | None, float | None]:
    """The sparsity hyperparameters: cardinality ``k`` (1..count) and L0 penalty ``lambda0``
    (≥ 0); at least one of them is required (both: the penalty under a hard limit)."""
    k = as_int(params, "k", minimum=1, maximum=count, what=what)
    lambda0 = as_float(params, "lambda0", minimum=0.0)
    if k is None and lambda0 is None:
        raise InputError(f"{formulation_id} needs k (cardinality form) or lambda0 (penalty form), or both")
    return k, lambda0
