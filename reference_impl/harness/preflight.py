"""Pre-flight: every run of a suite is checked before the first one starts.

:func:`~reference_impl.harness.suites.validate_suite` checks a suite's structure, ids and
settings; what only the expanded runs tell is checked here, without solving anything:

* each distinct instance is resolved (a catalogue id or an ``.npz`` path: an unknown id, a
  missing or unreadable file, a library file that fails its checksum);
* each run's hyperparameters are validated against its formulation
  (:meth:`~reference_impl.formulations.base.Formulation.validate` on the loaded instance:
  ``k > p``, a negative ``lambda2``, an unknown name, ...);
* each run's solver is one its formulation takes, and its options are checked: a Pyomo
  solver's by :func:`reference_impl.solvers.options.check_solver_options`, a native solver's
  by its adapter's own check (the solver registry, :data:`NATIVE_OPTION_CHECKS`).

Every problem is collected, then one :class:`~reference_impl.errors.InputError` lists them
(so ``miobench run`` exits 2 and no run starts). Real data that is simply not available here
(a :class:`~reference_impl.errors.DataMissingError` while loading a *catalogue* instance, e.g.
its raw files are missing from ``$MIOBENCH_DATA_DIR``) does not stop the suite: those runs
still go ahead and each records an ``error`` row marked ``extra.input_error``, as the pipeline
expects; their hyperparameters cannot be checked without the data. An ``.npz`` *path* that
does not exist is a mistake in the suite, and is reported. An unexpected exception (a bug, not
an input error) is not reported here either: the run records it.

A corrected suite also retires the input-error rows of runs it no longer contains
(:func:`supersede_stale_input_errors`), so a fixed typo does not leave its ``error`` row in the
reports.
"""
from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import DataMissingError, InputError, is_input_error
from ..record import ResultRecord
from .store import ResultsStore
from .suites import RunSpec

#: how many problems the error message spells out in full
SHOWN_PROBLEMS = 3
#: why :func:`supersede_stale_input_errors` moves a row out of the live store
NOT_IN_SUITE = "not in the suite any more"


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


# ------------------------------------------------------------------ native solver options
def _native_option_checks() -> dict[str, Callable[[Mapping[str, Any]], None]]:
    from ..solvers.registry import NATIVE_SOLVERS

    return {solver.name: solver.check_options for solver in NATIVE_SOLVERS}


#: native solver -> the check of its options (each native adapter owns its check)
NATIVE_OPTION_CHECKS: dict[str, Callable[[Mapping[str, Any]], None]] = _native_option_checks()


def check_solver(spec: RunSpec) -> None:
    """Is ``spec.solver`` one its formulation takes, with options that solver accepts?
    Raises :class:`InputError` / :class:`UnknownIdError`; builds and solves nothing. The
    solver registry answers both (:func:`reference_impl.solvers.registry.solver_for`)."""
    from ..registry import get_formulation
    from ..solvers.registry import solver_for

    solver = solver_for(spec.solver, get_formulation(spec.formulation))
    if spec.solver_options:
        solver.check_options(spec.solver_options)


# ------------------------------------------------------------------ the pre-flight
class _LeftToTheRun:
    """A check that cannot decide here: a catalogue instance whose real data is not available,
    or an unexpected failure (a bug, not an input error). The run goes ahead and records it."""


_LEFT_TO_THE_RUN = _LeftToTheRun()


@dataclass(frozen=True)
class _Problem:
    """A check that failed: the input error's one-line message."""

    message: str


def _key(*parts: Any) -> str:
    return json.dumps(parts, sort_keys=True, default=repr)


def describe_run(spec: RunSpec) -> str:
    """A run as a reader finds it in the suite: formulation · solver[options] · instance · params."""
    solver = spec.solver + (json.dumps(spec.solver_options, sort_keys=True) if spec.solver_options else "")
    params = ", ".join(f"{k}={v!r}" if isinstance(v, str) else f"{k}={v}" for k, v in spec.params.items())
    return " · ".join(part for part in (spec.formulation, solver, spec.instance, params) if part)


def find_problems(specs: Sequence[RunSpec]) -> dict[str, list[RunSpec]]:
    """Every problem of ``specs`` (one sentence each) with the runs it affects, in suite order.

    Each distinct instance is loaded once, each distinct (formulation, instance,
    hyperparameters) validated once and each distinct (formulation, solver, options) checked
    once; nothing is solved. See the module docstring for what is and is not a problem."""
    from ..instances import catalogue, resolve_instance
    from ..registry import get_formulation

    problems: dict[str, list[RunSpec]] = {}
    outcomes: dict[str, Any] = {}  # check key -> the check's value, a _Problem or _LEFT_TO_THE_RUN
    of_catalogue: dict[str, bool] = {}  # check key -> whether it loads a catalogue instance

    def checked(key: str, check: Callable[[], Any]) -> Any:
        """Run ``check`` once per key; return its value, a _Problem or _LEFT_TO_THE_RUN."""
        if key not in outcomes:
            try:
                outcomes[key] = check()
            except DataMissingError as exc:  # unavailable real data, or a mistyped .npz path
                outcomes[key] = _LEFT_TO_THE_RUN if of_catalogue.get(key) else _Problem(_one_line(exc))
            except Exception as exc:  # noqa: BLE001 - input errors are collected; anything else is the run's
                outcomes[key] = _Problem(_one_line(exc)) if is_input_error(exc) else _LEFT_TO_THE_RUN
        return outcomes[key]

    for spec in specs:
        outcomes_of_run = [checked(_key("solver", spec.formulation, spec.solver, spec.solver_options),
                                   lambda: check_solver(spec))]
        instance_key = _key("instance", spec.instance)
        of_catalogue.setdefault(instance_key, spec.instance in catalogue())
        instance = checked(instance_key, lambda: resolve_instance(spec.instance))
        outcomes_of_run.append(instance)
        if not isinstance(instance, (_Problem, _LeftToTheRun)):
            params_key = _key("params", spec.formulation, instance_key, spec.params)
            of_catalogue[params_key] = of_catalogue[instance_key]
            with warnings.catch_warnings():  # e.g. a label-mapping note: the run itself says it
                warnings.simplefilter("ignore")
                outcomes_of_run.append(checked(
                    params_key, lambda: get_formulation(spec.formulation).validate(instance, dict(spec.params))))
        for outcome in outcomes_of_run:
            if isinstance(outcome, _Problem):
                problems.setdefault(outcome.message, []).append(spec)
    return problems


def format_problems(problems: Mapping[str, Sequence[RunSpec]], total: int, *, where: str = "suite",
                    shown: int = SHOWN_PROBLEMS) -> str:
    """One paragraph: how many runs cannot run, the first ``shown`` problems in full (each
    naming a run it affects), "and N more"."""
    bad = len({spec.run_id for runs in problems.values() for spec in runs})
    parts = []
    for number, (message, runs) in enumerate(list(problems.items())[:shown], 1):
        others = f" (and {len(runs) - 1} other run{'s' if len(runs) > 2 else ''})" if len(runs) > 1 else ""
        end = "" if message.endswith((".", "!", "?")) else "."
        parts.append(f"({number}) run {describe_run(runs[0])}{others}: {message}{end}")
    more = len(problems) - shown
    tail = f" … and {more} more problem{'s' if more > 1 else ''}." if more > 0 else ""
    return (f"{where}: {bad} of {total} run{'s' if total != 1 else ''} cannot run, so none was started; "
            f"fix the suite and run it again. " + " ".join(parts) + tail)


def check_runs(specs: Sequence[RunSpec], *, where: str = "suite") -> None:
    """Check every run of ``specs`` before any starts (see the module docstring); raise one
    :class:`InputError` listing every problem found. Runs of a catalogue instance whose real
    data is unavailable are not problems: they run and record an input-error row."""
    problems = find_problems(specs)
    if problems:
        raise InputError(format_problems(problems, len(specs), where=where))


# ------------------------------------------------------------------ stale input-error rows
def stale_input_errors(records: Iterable[ResultRecord], run_ids: Iterable[str], suite: str) -> list[str]:
    """Run ids of the input-error rows (``extra.input_error``) of suite ``suite`` (or of no
    recorded suite) whose run is not among ``run_ids`` any more. Other rows are never stale."""
    current = set(run_ids)
    return [r.run_id for r in records
            if r.extra.get("input_error") and r.run_id not in current and r.suite in (suite, "", None)]


def supersede_stale_input_errors(store: ResultsStore, records: list[ResultRecord], specs: Sequence[RunSpec],
                                 suite: str) -> tuple[list[ResultRecord], int]:
    """Move the stale input-error rows (:func:`stale_input_errors`) out of the live store into
    ``superseded.parquet`` (kept, never deleted); return the records left and how many moved."""
    stale = stale_input_errors(records, (s.run_id for s in specs), suite)
    if not stale:
        return records, 0
    moved = store.supersede(stale, reason=NOT_IN_SUITE)
    gone = set(stale)
    return [r for r in records if r.run_id not in gone], moved


def all_errored(statuses: Mapping[str, int]) -> bool:
    """Did every executed run end as ``error`` or ``crashed`` (and was at least one executed)?"""
    executed = {status for status, count in statuses.items() if count}
    return bool(executed) and executed <= {"error", "crashed"}


__all__ = ["check_runs", "find_problems", "format_problems", "describe_run", "check_solver",
           "NATIVE_OPTION_CHECKS", "stale_input_errors", "supersede_stale_input_errors",
           "all_errored", "NOT_IN_SUITE"]
