"""What a solver call returned, before the formulation's evaluator has looked at it."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class SolverOutcome:
    """Solver-side facts of one solve.

    ``status`` uses the result-record vocabulary; ``optimal`` here only means the *solver*
    claims optimality — :func:`reference_impl.api.solve` confirms it with the evaluator.
    """

    status: str
    has_solution: bool = False
    objective: float | None = None   # solver's incumbent objective
    bound: float | None = None       # solver's proven dual bound
    nodes: float | None = None
    seconds: float | None = None
    version: str = ""
    message: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
