"""The one result record and the one gap formula (DESIGN.md, ideas 2 and 3).

Every run — whatever solved it, however it ended — becomes one :class:`ResultRecord`.

Gap (used everywhere in miobench; solvers' own gaps are never copied)::

    gap = |primal - bound| / max(|primal|, 1e-10)
    gap = 0      when primal == bound (in particular both 0)
    gap = inf    when there is no incumbent (primal is None/NaN) or no finite bound

``primal`` is the objective of the incumbent *as re-evaluated by the formulation's
evaluator*, ``bound`` the best dual bound the solver proved. For maximisation problems the
same formula applies with the roles of the bound reversed; it is symmetric in the two.
"""
from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from typing import Any

#: Every status a run can end with.
STATUSES: tuple[str, ...] = (
    "optimal",        # evaluator confirms feasibility and gap <= the run's tolerance
    "time_limit",     # stopped by the time limit (solver's or the harness's hard kill)
    "node_limit",     # stopped by a node limit (native solver)
    "iteration_limit",  # stopped by an iteration limit (a decomposition loop's max_iterations)
    "feasible",       # a heuristic (no bound, e.g. a peer's splicing or beam search): the evaluator confirms its
                      # solution feasible; never counted as solved, reported by its primal gap to the best bound
    "infeasible",     # solver proved infeasibility
    "unbounded",      # solver proved unboundedness
    "unsupported",    # the solver cannot take this problem class (e.g. HiGHS on an MIQP)
    "size_limited",   # the solver's license is too small for the model (Gurobi errno 10010)
    "not_installed",  # the solver's Python package is missing
    "error",          # bad input, solver error, or a solver claim the evaluator refuted
    "crashed",        # the run's process died (signal, out of memory, hard kill)
)

#: Statuses that count as "solved" in reports.
SOLVED = ("optimal",)

GAP_DENOMINATOR_FLOOR = 1e-10


def relative_gap(primal: float | None, bound: float | None) -> float:
    """The miobench gap: ``|primal - bound| / max(|primal|, 1e-10)``; see module docstring."""
    if primal is None or bound is None:
        return math.inf
    primal, bound = float(primal), float(bound)
    if math.isnan(primal) or math.isnan(bound) or math.isinf(primal) or math.isinf(bound):
        return math.inf
    if primal == bound:
        return 0.0
    return abs(primal - bound) / max(abs(primal), GAP_DENOMINATOR_FLOOR)


def _clean(value: Any) -> Any:
    """Make numpy scalars and non-finite floats JSON friendly (inf stays a float)."""
    try:
        import numpy as np

        if isinstance(value, np.generic):
            value = value.item()
        elif isinstance(value, np.ndarray):
            value = value.tolist()
    except ImportError:  # pragma: no cover
        pass
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def _strict(value: Any) -> Any:
    """Replace non-finite floats by the strings "inf", "-inf", "nan" (strict JSON)."""
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        return {k: _strict(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_strict(v) for v in value]
    return value


@dataclass
class ResultRecord:
    """One run: ids, status, objective and bound, timings, provenance."""

    formulation: str
    solver: str
    instance: str
    instance_sha256: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    repeat: int = 0
    status: str = "error"
    message: str = ""
    objective: float | None = None         # re-evaluated by the formulation's evaluator
    solver_objective: float | None = None  # what the solver reported, for comparison
    bound: float | None = None             # best proven dual bound
    gap: float = math.inf                  # relative_gap(objective, bound)
    max_violation: float | None = None     # largest constraint violation found by the evaluator
    root_bound: float | None = None        # continuous (root) relaxation value
    root_gap: float | None = None          # relative_gap(objective, root_bound)
    build_seconds: float | None = None
    solve_seconds: float | None = None
    root_seconds: float | None = None
    wall_seconds: float | None = None      # whole run as seen by the harness
    nodes: float | None = None
    n_vars: int | None = None
    n_cons: int | None = None
    time_limit: float | None = None
    rel_gap: float | None = None
    threads: int | None = None
    seed: int | None = None
    solver_version: str = ""
    git_commit: str = ""
    machine: str = ""
    miobench_version: str = ""
    timestamp: str = ""
    run_id: str = ""
    suite: str = ""
    extra: dict[str, Any] = field(default_factory=dict)  # formulation/solver specifics

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status!r}; expected one of {STATUSES}")

    def to_dict(self) -> dict[str, Any]:
        return _clean(dataclasses.asdict(self))

    def to_json(self, indent: int | None = 2) -> str:
        """Strict JSON (RFC 8259): non-finite floats (a gap of ∞ without an incumbent, ...)
        are written as the strings ``"inf"``, ``"-inf"`` and ``"nan"``."""
        return json.dumps(_strict(self.to_dict()), indent=indent, allow_nan=False, sort_keys=False)

    def to_row(self) -> dict[str, Any]:
        """Flat row for the Parquet store: dict-valued fields become JSON strings."""
        row = self.to_dict()
        row["params"] = json.dumps(row["params"], sort_keys=True)
        row["extra"] = json.dumps(row["extra"], sort_keys=True, allow_nan=True)
        return row

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> "ResultRecord":
        data = {k: row[k] for k in (f.name for f in dataclasses.fields(cls)) if k in row}
        for key in ("params", "extra"):
            if isinstance(data.get(key), str):
                data[key] = json.loads(data[key])
        for key, value in list(data.items()):
            if isinstance(value, float) and math.isnan(value) and key not in ("gap",):
                data[key] = None
        return cls(**data)

    @classmethod
    def columns(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls)]


#: Slack on top of the requested relative gap before a solver's optimality claim is refuted:
#: solvers accept each constraint to a feasibility tolerance of ~1e-6, and over the n epigraph
#: constraints of a loss (e.g. the exponential-cone logistic terms) their objective can sit a
#: few 1e-6 below the evaluator's; a larger discrepancy is a refuted claim.
GAP_SLACK = 1e-5
#: ...and a claim is refuted only if the objective is also more than this far from the bound in
#: absolute terms: on an (almost) exact fit the relative gap divides by ~0 (the 1e-10 floor),
#: while solvers, like the gap formula's users, stop on an absolute gap of this order too.
GAP_ABS_SLACK = 1e-6


def claim_refuted(gap: float, objective: float, bound: float | None, rel_gap: float | None) -> bool:
    """Is a solver's optimality claim refuted by the recomputed ``gap``?  Beyond the requested
    relative gap plus :data:`GAP_SLACK`, and (with a bound) beyond :data:`GAP_ABS_SLACK` absolute."""
    if gap <= (rel_gap or 0.0) + GAP_SLACK:
        return False
    return bound is None or not math.isfinite(bound) or abs(objective - bound) > GAP_ABS_SLACK
