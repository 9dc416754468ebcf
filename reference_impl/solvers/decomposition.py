"""One driver for constraint-generation loops (lazy constraints, cutting planes on a master).

A formulation with too many constraints to write down (cycle inequalities of a DAG, subtour
constraints, loss cuts) is solved as a sequence of *masters*: a Pyomo model holding only some
of its constraints, hence a relaxation of the full problem. :func:`constraint_generation`
runs the loop::

    repeat
        solve the master (a Pyomo solver by name, the time left as its limit)
        bound ← the master's proven bound (valid for the full problem: the master is a relaxation)
        solution ← extract(master)
        cuts ← separate(solution)            # the constraints of the full problem it violates
        if no cut:   the solution is feasible for the full problem, and optimal when the master was
                     solved to the requested gap (its bound is then within that gap of it): stop
        else:        candidate ← repair(solution) (optional): a feasible point, the incumbent if better
                     add the cuts to a ConstraintList of the master
    until the incumbent and the bound meet (relative gap ≤ rel_gap), the time limit, or max_iterations

What it returns is a :class:`~reference_impl.solvers.outcome.SolverOutcome` (plus the incumbent
solution) with the guarantees the harness expects:

* ``bound`` is the best proven bound of any master solve (the largest, when minimising). A
  master stopped by its time limit contributes *its proven bound*, never its incumbent's
  objective (the incumbent of an unfinished master bounds nothing).
* an incumbent exists only when it passed separation (no violated constraint) or came from
  the caller's ``repair`` (which must return a point feasible for the full problem); its
  objective is the caller's ``objective(solution)`` when given, else the master's objective.
* ``status``: ``optimal`` when a master solved to the gap has a solution with no violated
  constraint, or the incumbent and the bound meet; ``iteration_limit`` when ``max_iterations``
  master solves did not get there; ``time_limit``; ``infeasible`` when a master is infeasible
  (a relaxation: the full problem is too); ``error`` when separation returns constraints the
  master's solution does not violate (the loop would never end) or a master fails. A master
  status of ``unsupported``/``not_installed``/``size_limited`` is passed on as the loop's.
* ``extra``: ``iterations`` (master solves), ``cuts`` (constraints added), ``master_seconds``,
  ``first_master_bound`` (the bound of the first master: what the loop starts from),
  ``bounds`` (each master's proven bound, in order) and ``repaired`` (incumbents found by
  ``repair``).

``separate(solution)`` returns a list whose items are either Pyomo relational expressions over
the master's variables (added to the ConstraintList ``cut_list``; the driver checks that at
least one of them is violated at the master's point, so a separation bug cannot loop for ever)
or callables ``f(model)`` that add constraints themselves and return how many they added
(unchecked). ``nodes`` is the sum of the masters' branch-and-bound nodes (the number of
master solves when no master reports nodes).

A formulation's own loop (a native adapter under ``solvers/adapters/``) calls the driver; the
driver knows nothing about any formulation. Gurobi's lazy-constraint callback (``cbLazy``
through ``gurobi_persistent``) is not used: the iterative path is the one every subsolver
(SCIP, Gurobi, HiGHS for MILP masters) takes and the one the tests prove.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import Any

from ..errors import InputError
from .outcome import SolverOutcome
from .pyomo_solve import solve_model

#: A cut returned by ``separate`` is "violated" when the master's point violates it by more than
#: this (absolute); weaker ones are still added, but every iteration must add one violated cut.
VIOLATION_TOL = 1e-6

#: Master statuses passed on as the loop's own (the subsolver cannot run this master at all).
_PASSED_ON = ("unsupported", "not_installed", "size_limited")


def constraint_generation(
    master,
    separate: Callable[[Any], Sequence[Any]],
    *,
    solver: str,
    problem_class: str,
    extract: Callable[[Any], Any],
    objective: Callable[[Any], float] | None = None,
    repair: Callable[[Any], tuple[Any, float] | None] | None = None,
    load_start: Callable[[Any, Any], None] | None = None,
    master_gap: Callable[[float], float] | None = None,
    exact_gap: float | None = None,
    bound_from_objective: bool = False,
    time_limit: float = 60.0,
    rel_gap: float = 1e-4,
    threads: int = 1,
    seed: int | None = 0,
    max_iterations: int = 1000,
    options: dict | None = None,
    cut_list: str = "generated_cuts",
    verbose: bool = False,
) -> tuple[SolverOutcome, Any]:
    """Run the constraint-generation loop on ``master``; returns ``(SolverOutcome, incumbent)``
    (``incumbent`` is ``None`` without a feasible point). See the module docstring.

    ``extract(master)`` reads the master's solution (any representation ``separate``,
    ``objective`` and ``repair`` understand); ``objective(solution)`` recomputes the full
    problem's objective at a feasible solution (default: the master's incumbent objective);
    ``repair(solution)`` turns an infeasible master solution into ``(feasible solution, its
    objective)`` or ``None``; ``load_start(master, incumbent)`` loads the incumbent into the
    master's variables before the next solve, which is then warm-started from it.
    ``master_gap(current_gap)`` (optional) sets the relative gap each master is solved to
    from the loop's current gap (``inf`` before an incumbent), never below ``rel_gap``: early
    masters need not be exact, their proven bounds are valid at any gap; a loosely solved
    master whose solution passes separation is followed by one solved exactly (unless the
    incumbent already meets the bound); "exactly" is to ``exact_gap`` (default ``rel_gap``; a
    smaller value leaves room for the objective's recomputation). ``bound_from_objective``: for
    continuous convex masters only (a relaxation), an optimal master without a reported dual
    bound contributes its objective less the master's gap (as
    :func:`~reference_impl.solvers.relaxation.relaxation_bound` does). ``master`` is modified:
    the cuts stay in its ConstraintList ``cut_list`` (created when absent)."""
    import pyomo.environ as pyo

    if not isinstance(max_iterations, int) or isinstance(max_iterations, bool) or max_iterations < 1:
        raise InputError(f"max_iterations must be a positive integer; got {max_iterations!r}")
    if not (isinstance(time_limit, (int, float)) and time_limit > 0):
        raise InputError(f"time_limit must be a positive number of seconds; got {time_limit!r}")
    objectives = list(master.component_data_objects(pyo.Objective, active=True))
    if len(objectives) != 1:
        raise InputError(f"the master must have exactly one active objective; it has {len(objectives)}")
    minimise = objectives[0].sense == pyo.minimize
    cuts_component = getattr(master, cut_list, None)
    if cuts_component is None:
        cuts_component = pyo.ConstraintList()
        master.add_component(cut_list, cuts_component)
    elif not isinstance(cuts_component, pyo.ConstraintList):
        raise InputError(f"the master's component {cut_list!r} must be a ConstraintList")

    exact_master_gap = rel_gap if exact_gap is None else min(float(exact_gap), rel_gap)
    start = time.perf_counter()
    best_bound = -math.inf if minimise else math.inf
    incumbent, incumbent_value = None, (math.inf if minimise else -math.inf)
    bounds: list[float | None] = []
    state = {"cuts": 0, "repaired": 0, "master_seconds": 0.0, "nodes": 0.0, "has_nodes": False}
    iterations, status, message, version, exact = 0, "error", "", "", False

    def better(value: float, than: float) -> bool:
        return value < than if minimise else value > than

    def current_gap() -> float:
        from ..record import relative_gap

        return relative_gap(incumbent_value, best_bound) if incumbent is not None else math.inf

    def gap_closed() -> bool:
        return current_gap() <= rel_gap

    def remaining() -> float:
        return time_limit - (time.perf_counter() - start)

    while True:
        if iterations >= max_iterations:
            status, message = "iteration_limit", f"stopped after max_iterations = {max_iterations} master solves"
            break
        if remaining() <= 0:
            status, message = "time_limit", ""
            break
        warm = False
        if load_start is not None and incumbent is not None:
            load_start(master, incumbent)
            warm = True
        this_gap = exact_master_gap
        if master_gap is not None and not exact:
            this_gap = max(exact_master_gap, float(master_gap(current_gap())))
        out = solve_model(master, solver, problem_class=problem_class, time_limit=max(remaining(), 1e-3),
                          rel_gap=this_gap, threads=threads, seed=seed, options=options, warm_start=warm,
                          verbose=verbose)
        iterations += 1
        version = out.version or version
        state["master_seconds"] += out.seconds or 0.0
        if out.nodes is not None:
            state["nodes"] += out.nodes
            state["has_nodes"] = True
        if out.status in _PASSED_ON:
            status, message = out.status, f"master {iterations}: {out.message}".strip()
            break
        if out.status == "infeasible":
            status, message = "infeasible", f"master {iterations} is infeasible, so is the full problem"
            break
        bound = out.bound if out.bound is not None and math.isfinite(out.bound) else None
        if bound is None and bound_from_objective and out.status == "optimal" and out.objective is not None:
            # a continuous convex master whose interface reports no dual bound (Gurobi's barrier
            # on a QCP): its optimum moved by the tolerance towards the relaxed side bounds it
            slack = this_gap * max(1.0, abs(out.objective))
            bound = out.objective - slack if minimise else out.objective + slack
        bounds.append(bound)
        if bound is not None and better(best_bound, bound):  # the tighter of two valid bounds
            best_bound = bound
        if out.status not in ("optimal", "time_limit"):
            status, message = "error", f"master {iterations}: {out.status} {out.message}".strip()
            break
        if not out.has_solution:  # a master stopped at its time limit before any incumbent
            status = "time_limit" if out.status == "time_limit" else "error"
            message = "" if status == "time_limit" else f"master {iterations}: optimal without a solution"
            break
        solution = extract(master)
        found = list(separate(solution))
        if not found:
            value = float(objective(solution)) if objective is not None else out.objective
            if value is not None and better(value, incumbent_value):
                incumbent, incumbent_value = solution, float(value)
            if out.status == "optimal" and (this_gap <= exact_master_gap or gap_closed()):
                # the master's optimum (to rel_gap) satisfies every constraint: optimal for the full problem
                status, message = "optimal", ""
                break
            if out.status == "optimal":  # a loosely solved master: solve the next one exactly
                exact = True
                continue
            status, message = "time_limit", ""
            break
        if repair is not None:
            repaired = repair(solution)
            if repaired is not None:
                candidate, value = repaired
                state["repaired"] += 1
                if better(float(value), incumbent_value):
                    incumbent, incumbent_value = candidate, float(value)
        if gap_closed():
            status, message = "optimal", "the repaired incumbent meets the master bound"
            break
        if out.status == "time_limit":
            status, message = "time_limit", ""
            break
        exact = False
        violated = _add_cuts(master, cuts_component, found, state)
        if not violated:
            status = "error"
            message = (f"separation at master {iterations} returned {len(found)} constraint(s), none violated "
                       "by the master's solution: the loop cannot progress")
            break

    finite_bound = best_bound if math.isfinite(best_bound) else None
    outcome = SolverOutcome(
        status=status,
        has_solution=incumbent is not None,
        objective=incumbent_value if incumbent is not None else None,
        bound=finite_bound,
        nodes=state["nodes"] if state["has_nodes"] else float(iterations),
        seconds=time.perf_counter() - start,
        version=f"constraint generation on {version}" if version else "constraint generation",
        message=message,
        extra={"iterations": iterations, "cuts": state["cuts"], "master_seconds": state["master_seconds"],
               "first_master_bound": bounds[0] if bounds else None, "bounds": bounds,
               "repaired": state["repaired"]},
    )
    return outcome, incumbent


def _add_cuts(master, cuts_component, found, state: dict) -> bool:
    """Add each cut of ``found`` to the master; whether at least one was violated at the
    master's current point (callables count as violated: they add their own constraints)."""
    import pyomo.environ as pyo

    violated = False
    for cut in found:
        relational = _is_relational(cut)  # (checked first: Pyomo expressions are callable too)
        if not relational and callable(cut):
            added = cut(master)
            state["cuts"] += int(added) if added is not None else 1
            violated = True
            continue
        if not relational:
            raise InputError(f"separate() must return Pyomo relational expressions or callables; got {cut!r}")
        con = cuts_component.add(cut)
        state["cuts"] += 1
        body = pyo.value(con.body, exception=False)
        if body is None:
            violated = True  # a variable without a value: cannot tell, trust the separation
            continue
        lower = None if con.lower is None else pyo.value(con.lower)
        upper = None if con.upper is None else pyo.value(con.upper)
        excess = max(0.0 if lower is None else lower - body, 0.0 if upper is None else body - upper)
        violated |= excess > VIOLATION_TOL
    return violated


def _is_relational(cut) -> bool:
    from pyomo.core.expr import ExpressionType

    is_expression_type = getattr(cut, "is_expression_type", None)
    return is_expression_type is not None and bool(is_expression_type(ExpressionType.RELATIONAL))


__all__ = ["constraint_generation", "VIOLATION_TOL"]
