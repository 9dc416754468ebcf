"""One run in its own process: ``python -m reference_impl.harness.worker SPEC.json OUT.json``.

Whatever happens — bad input, a solver error, running out of memory — the worker writes one
result record to OUT.json. Only a kill from outside (the harness's wall-clock limit, the
OOM killer) leaves no file, and the parent records that as a row too.
"""
from __future__ import annotations

import json
import os
import sys
import traceback
from pathlib import Path

from ..errors import MiobenchError
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


def _is_input_error(exc: BaseException) -> bool:
    if isinstance(exc, MiobenchError):
        return True
    try:
        from ..kglm.validation import KGLMInputError
    except Exception:  # pragma: no cover
        return False
    return isinstance(exc, KGLMInputError)


def execute(spec: RunSpec) -> ResultRecord:
    from ..api import solve

    try:
        record = solve(spec.formulation, spec.instance, solver=spec.solver, time_limit=spec.time_limit,
                       rel_gap=spec.rel_gap, threads=spec.threads, seed=spec.seed, repeat=spec.repeat,
                       root_relaxation=spec.root_relaxation, solver_options=spec.solver_options, **spec.params)
    except MemoryError:
        record = failure_record(spec, "crashed", f"out of memory ({memory_limit_text()})", out_of_memory=True)
    except Exception as exc:
        if _is_input_error(exc):
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


def main(argv: list[str]) -> int:
    spec_path, out_path = Path(argv[0]), Path(argv[1])
    spec = RunSpec.from_json(spec_path.read_text())
    record = execute(spec)
    tmp = out_path.with_suffix(".tmp")
    tmp.write_text(json.dumps(record.to_dict(), allow_nan=True))
    os.replace(tmp, out_path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
