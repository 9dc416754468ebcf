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


def execute(spec: RunSpec) -> ResultRecord:
    from ..api import solve

    try:
        record = solve(spec.formulation, spec.instance, solver=spec.solver, time_limit=spec.time_limit,
                       rel_gap=spec.rel_gap, threads=spec.threads, seed=spec.seed, repeat=spec.repeat,
                       root_relaxation=spec.root_relaxation, solver_options=spec.solver_options, **spec.params)
    except MiobenchError as exc:
        record = failure_record(spec, "error", str(exc))
    except MemoryError:
        record = failure_record(spec, "crashed", "out of memory (the run exceeded its memory limit)")
    except Exception as exc:  # a bug or an unclassified library failure: keep the row, say what
        tail = traceback.format_exc().strip().splitlines()[-3:]
        record = failure_record(spec, "error", f"{type(exc).__name__}: {exc}", traceback=tail)
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
