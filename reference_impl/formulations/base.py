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

import math
import numbers
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from ..errors import InputError
from ..instances.instance import Instance

#: Problem classes, from least to most general; "MILP loop" is a sequence of MILPs solved by
#: a formulation's own loop (cutting planes, constraint generation), never one Pyomo model;
#: "SDP" is a conic model built with cvxpy (a relaxation's bound), which no Pyomo solver takes.
PROBLEM_CLASSES = ("LP", "MILP", "MIQP", "MISOCP", "MINLP", "MILP loop", "SDP")

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


#: Largest magnitude a numeric hyperparameter may have: beyond it solvers reject their input
#: (SCIP: "error in input data" near its infinity 1e20) or lose all precision; rescale the data.
MAX_MAGNITUDE = 1e12
#: Largest big-M coefficient (``M``) accepted from a user: larger values wreck the relaxation's
#: numerics long before they are "large enough".
MAX_BIG_M = 1e12


def _number(value: Any, name: str, what: str = "a number") -> float:
    """``value`` as a float: a Python or NumPy number, or a 0-d numeric array. Booleans and
    strings are refused, not converted (``k='3'`` is a mistake that would also change the
    run's identity)."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if isinstance(value, (bool, np.bool_)):
        raise InputError(f"hyperparameter {name} must be {what}, not a boolean; got {value!r}")
    if not isinstance(value, numbers.Real):
        raise InputError(f"hyperparameter {name} must be {what}, not {type(value).__name__}; got {value!r}")
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError):
        raise InputError(f"hyperparameter {name} must be {what}; got {value!r}") from None


def as_float(params: dict[str, Any], name: str, *, minimum: float | None = None, allow_none: bool = True,
             allow_inf: bool | None = None, maximum_magnitude: float = MAX_MAGNITUDE):
    """Coerce a hyperparameter to float: one :class:`InputError` for booleans, non-numbers,
    NaN, infinities, magnitudes beyond ``maximum_magnitude`` and values below ``minimum``.

    ``allow_inf``: whether +inf is accepted (a formulation that documents it, e.g. ``M=inf`` =
    no box in ``kglm.perspective``). ``None`` (the default) accepts it for ``M`` only, the one
    hyperparameter whose infinite value a formulation documents; every other name rejects it."""
    value = params.get(name)
    if value is None:
        if allow_none:
            return None
        raise InputError(f"hyperparameter {name} is required")
    value = _number(value, name)
    if np.isnan(value):
        raise InputError(f"hyperparameter {name} is NaN")
    if allow_inf is None:
        allow_inf = name == "M"
    if math.isinf(value):
        if not (allow_inf and value > 0):
            raise InputError(f"hyperparameter {name} must be finite; got {value}")
    elif abs(value) > maximum_magnitude:
        raise InputError(f"hyperparameter {name} = {value:g} is beyond {maximum_magnitude:g} in magnitude, which "
                         "solvers cannot take; rescale the data or choose a smaller value")
    if minimum is not None and value < minimum:
        raise InputError(f"hyperparameter {name} must be >= {minimum}; got {value}")
    return value


def as_int(params: dict[str, Any], name: str, *, minimum: int | None = None, maximum: int | None = None, what: str = ""):
    """Coerce a hyperparameter to int: one :class:`InputError` for booleans, non-numbers, NaN,
    infinities, non-integers, magnitudes beyond :data:`MAX_MAGNITUDE` and values out of range."""
    value = params.get(name)
    if value is None:
        return None
    as_float_value = _number(value, name, "an integer")
    if not math.isfinite(as_float_value):
        raise InputError(f"hyperparameter {name} must be a finite integer; got {value!r}")
    if abs(as_float_value) > MAX_MAGNITUDE:
        raise InputError(f"hyperparameter {name} = {value!r} is beyond {MAX_MAGNITUDE:g} in magnitude")
    if as_float_value != int(as_float_value):
        raise InputError(f"hyperparameter {name} must be an integer; got {value!r}")
    value = int(as_float_value)
    if minimum is not None and value < minimum:
        raise InputError(f"hyperparameter {name} must be >= {minimum}; got {value}")
    if maximum is not None and value > maximum:
        raise InputError(f"hyperparameter {name} must be <= {maximum}{what}; got {value}")
    return value


def as_big_m(params: dict[str, Any], name: str = "M") -> float:
    """A user-given big-M coefficient: positive, finite and at most :data:`MAX_BIG_M`."""
    value = as_float(params, name, allow_none=False, allow_inf=False, maximum_magnitude=math.inf)
    if not value > 0:
        raise InputError(f"{name} must be a positive finite number; got {value}")
    if value > MAX_BIG_M:
        raise InputError(f"{name} = {value:g} is too large for a big-M coefficient (at most {MAX_BIG_M:g}): solvers "
                         f"cannot take it; give a smaller {name} (a bound on the coefficients' magnitude) or "
                         f"leave {name} out to have it derived")
    return value


def add_warning(info: dict[str, Any], text: str | None) -> None:
    """Append ``text`` to ``info["warning"]`` (joined by "; "), never overwriting an earlier one."""
    if text:
        info["warning"] = "; ".join(w for w in (info.get("warning"), text) if w)


#: Why a heuristic big-M could not be certified, per family (the default: least squares).
SINGULAR_GRAM_REASON = "p > n or collinear columns, lambda2 = 0"


def big_m_info(params: dict[str, Any], m_binding: bool, *, what: str = "|theta_j|",
               reason: str = SINGULAR_GRAM_REASON) -> dict[str, Any]:
    """The big-M facts every big-M formulation reports (``M``, ``M_source``, ``M_certified``,
    ``m_binding``) and its warning: a heuristic M is always flagged (it may cut off the
    optimum, bound or not), and a binding M that is not provably valid is flagged too."""
    M = float(params["M"])
    source = params.get("M_source", "given")
    info: dict[str, Any] = {"M": M, "M_source": source, "M_certified": source == "derived", "m_binding": m_binding}
    if source == "heuristic":
        add_warning(info, f"big-M M={M:.4g} is a heuristic, not a certified bound ({reason}): the optimum may be "
                          "cut off; pass M explicitly")
    if m_binding:
        add_warning(info, f"big-M bound the solution ({what} reached M = {M:.4g}): it is optimal for this M, "
                          "not certified for the problem without the box; raise M"
                    if source != "derived" else "big-M reached, but M is provably valid")
    return info


def sparsity_terms(formulation_id: str, params: dict[str, Any], count: int, what: str) -> tuple[int | None, float | None]:
    """The sparsity hyperparameters: cardinality ``k`` (1..count) and L0 penalty ``lambda0``
    (≥ 0); at least one of them is required (both: the penalty under a hard limit)."""
    k = as_int(params, "k", minimum=1, maximum=count, what=what)
    lambda0 = as_float(params, "lambda0", minimum=0.0)
    if k is None and lambda0 is None:
        raise InputError(f"{formulation_id} needs k (cardinality form) or lambda0 (penalty form), or both")
    return k, lambda0
