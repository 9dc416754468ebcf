"""One run in its own process: ``python -m reference_impl.harness.worker SPEC.json OUT.json``,
or ``... --fds SPEC_FD OUT_FD`` with the spec and the result in files the harness opened
(anonymous ones: nothing is left on disk however the run ends).

Whatever happens — bad input, a solver error, running out of memory — the worker writes one
result record to OUT.json. Only a kill from outside (the harness's wall-clock limit, the
OOM killer) leaves no file, and the parent records that as a row too.

A worker does not outlive its harness: on Linux the harness has the kernel send it SIGKILL
when the harness dies (``PR_SET_PDEATHSIG``); elsewhere, and as a fallback, a watchdog
thread kills the worker's process group once its parent is no longer the harness whose pid
``MIOBENCH_HARNESS_PID`` holds.
"""
from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
import traceback
from pathlib import Path

from ..errors import is_input_error
from ..record import ResultRecord
from .suites import RunSpec


#: what running out of memory looks like in a message (Python, C++ and loader errors under RLIMIT_AS)
OOM_MARKERS = ("MemoryError", "failed to map segment", "std::bad_alloc", "Cannot allocate memory",
               "out of memory", "Out of memory", "OutOfMemory", "cannot allocate memory", "Unable to allocate",
               "Memory allocation", "memory allocation failed")


def looks_out_of_memory(text: str) -> bool:
    return any(marker in (text or "") for marker in OOM_MARKERS)


def memory_limit_text() -> str:
    """The run's memory limit as the harness set it (``MIOBENCH_MEMORY_LIMIT_GB``)."""
    value = os.environ.get("MIOBENCH_MEMORY_LIMIT_GB", "")
    try:
        return f"limit {float(value):g} GB" if value and float(value) > 0 else "no limit set"
    except ValueError:
        return "no limit set"


def execute(spec: RunSpec) -> ResultRecord:
    from ..api import solve

    try:
        record = solve(spec.formulation, spec.instance, solver=spec.solver, time_limit=spec.time_limit,
                       rel_gap=spec.rel_gap, threads=spec.threads, seed=spec.seed, repeat=spec.repeat,
                       root_relaxation=spec.root_relaxation, solver_options=spec.solver_options, **spec.params)
    except MemoryError:
        record = failure_record(spec, "crashed", f"out of memory ({memory_limit_text()})", out_of_memory=True)
    except Exception as exc:
        if is_input_error(exc):
            # bad input, unknown id, missing data: the solver never ran; not an attempt in reports
            record = failure_record(spec, "error", " ".join(str(exc).split()), input_error=True)
        else:  # a bug or an unclassified library failure: keep the row, say what
            tail = traceback.format_exc().strip().splitlines()[-3:]
            message = f"{type(exc).__name__}: {exc}"
            if looks_out_of_memory(message) or looks_out_of_memory("\n".join(tail)):
                record = failure_record(spec, "crashed", f"out of memory ({memory_limit_text()}): {message}"[:2000],
                                        out_of_memory=True, traceback=tail)
            else:
                record = failure_record(spec, "error", message, traceback=tail)
    else:
        if record.status == "error" and looks_out_of_memory(record.message):
            # e.g. "scip failed: DeferredImportError ... failed to map segment" under RLIMIT_AS
            record.message = f"out of memory ({memory_limit_text()}): {record.message}"[:2000]
            record.status = "crashed"
            record.extra["out_of_memory"] = True
    record.run_id = spec.run_id
    return record


def failure_record(spec: RunSpec, status: str, message: str, **extra) -> ResultRecord:
    from .. import __version__
    from ..provenance import git_commit, machine

    return ResultRecord(
        formulation=spec.formulation, solver=spec.solver, instance=spec.instance,
        instance_sha256=spec.instance_sha256, params=dict(spec.params), repeat=spec.repeat, status=status,
        message=message, time_limit=spec.time_limit, rel_gap=spec.rel_gap, threads=spec.threads,
        seed=spec.seed, git_commit=git_commit(), machine=machine(), miobench_version=__version__,
        run_id=spec.run_id, extra={**({"solver_options": spec.solver_options} if spec.solver_options else {}), **extra},
    )


def watch_harness(poll_seconds: float = 0.5) -> threading.Thread | None:
    """Start the watchdog: a daemon thread that kills this worker's process group (the worker
    and whatever it started) as soon as its parent is not the harness of ``MIOBENCH_HARNESS_PID``
    any more — the harness died and left it to another parent. None without that variable."""
    value = os.environ.get("MIOBENCH_HARNESS_PID", "")
    if not value.isdigit():
        return None
    harness = int(value)

    def watch() -> None:
        while os.getppid() == harness:
            time.sleep(poll_seconds)
        _die_with_group()

    thread = threading.Thread(target=watch, name="miobench-harness-watchdog", daemon=True)
    try:
        thread.start()
    except RuntimeError:  # no room for a thread (a tight memory limit): the kernel's signal remains
        return None
    return thread


def _die_with_group() -> None:
    """SIGKILL this process's group if it leads one (the harness starts each worker in its own
    session), else only this process."""
    try:
        if os.getpgid(0) == os.getpid():
            os.killpg(0, signal.SIGKILL)
    finally:
        os._exit(1)


def _run_files(spec_fd: int, out_fd: int) -> None:
    """Run the spec read from ``spec_fd``; write the record to ``out_fd`` (the harness reads it
    once this process has ended: a record cut short by a kill is not valid JSON)."""
    with os.fdopen(spec_fd, "r", encoding="utf-8") as spec_file:
        spec = RunSpec.from_json(spec_file.read())
    record = execute(spec)
    with os.fdopen(out_fd, "w", encoding="utf-8") as out_file:
        out_file.write(json.dumps(record.to_dict(), allow_nan=True))


def _run_paths(spec_path: Path, out_path: Path) -> None:
    """Run the spec of ``spec_path``; write the record to ``out_path`` atomically."""
    record = execute(RunSpec.from_json(spec_path.read_text()))
    tmp = out_path.with_suffix(".tmp")
    tmp.write_text(json.dumps(record.to_dict(), allow_nan=True))
    os.replace(tmp, out_path)


def main(argv: list[str]) -> int:
    """``SPEC.json OUT.json`` or ``--fds SPEC_FD OUT_FD``: run the spec, write its record."""
    watch_harness()
    if argv and argv[0] == "--fds":
        _run_files(int(argv[1]), int(argv[2]))
    else:
        _run_paths(Path(argv[0]), Path(argv[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
