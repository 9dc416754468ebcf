"""Run a suite: one subprocess per run, a hard wall-clock limit, resumable, nothing lost.

Each run's wall-clock limit is its solver time limit (twice, when the root relaxation is
also solved) plus a grace period for start-up and model building; past it the whole process
group is killed and the run recorded as ``time_limit`` with the reason. A process that dies
(signal, out of memory) is recorded as ``crashed``. Finished runs are skipped when the
suite is run again (``retry_failed`` re-runs crashed and errored rows).
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from ..instances import resolve_instance
from ..provenance import git_commit
from ..record import ResultRecord, relative_gap
from .store import ResultsStore
from .suites import RunSpec, expand, load_suite, unique_runs
from .worker import failure_record, looks_out_of_memory

RETRYABLE = ("crashed", "error")


def _limit_memory(gigabytes: float | None):
    def apply() -> None:
        os.setsid()
        if gigabytes:
            import resource

            limit = int(gigabytes * 1024**3)
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    return apply


def _kill_group(process: subprocess.Popen) -> None:
    """SIGKILL the worker's process group (its own session: the worker and anything it started)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        try:
            process.kill()
        except ProcessLookupError:
            pass


def _read_result(path: Path) -> ResultRecord | None:
    if not path.exists():
        return None
    try:
        return ResultRecord(**json.loads(path.read_text()))
    except (ValueError, TypeError):  # a half-written or foreign file: the run is recorded as crashed
        return None


def run_one(spec: RunSpec, *, grace: float, memory_limit_gb: float | None, suite: str = "") -> ResultRecord:
    """Run ``spec`` in a fresh Python process and return its record, whatever happens."""
    wall_limit = spec.time_limit * (2 if spec.root_relaxation else 1) + grace
    env = {**os.environ, "MIOBENCH_GIT_COMMIT": git_commit(), "PYTHONUNBUFFERED": "1",
           "MIOBENCH_MEMORY_LIMIT_GB": f"{memory_limit_gb:g}" if memory_limit_gb else ""}
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(spec.threads)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="miobench-run-") as tmp:
        spec_path, out_path = Path(tmp, "spec.json"), Path(tmp, "out.json")
        spec_path.write_text(spec.to_json())
        process = subprocess.Popen(
            [sys.executable, "-m", "reference_impl.harness.worker", str(spec_path), str(out_path)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
            preexec_fn=_limit_memory(memory_limit_gb),
        )
        try:
            _, stderr = process.communicate(timeout=wall_limit)
        except subprocess.TimeoutExpired:
            _kill_group(process)
            process.communicate()
            record = failure_record(spec, "time_limit",
                                    f"killed by the harness after {wall_limit:.0f} s (time limit + grace) without a result")
        except BaseException:  # Ctrl-C (KeyboardInterrupt) or anything else: leave no worker behind
            _kill_group(process)
            try:
                process.communicate(timeout=5)
            except Exception:
                pass
            raise
        else:
            record = _read_result(out_path)
            if record is None:
                code = process.returncode
                why = (f"killed by signal {-code}" + (" (likely out of memory)" if -code == signal.SIGKILL else "")
                       if code < 0 else f"exited with status {code}")
                tail = " | ".join(stderr.strip().splitlines()[-3:])
                message = f"process {why} without a result: {tail}"
                if memory_limit_gb and looks_out_of_memory(stderr):
                    message = f"out of memory (limit {memory_limit_gb:g} GB): {message}"
                record = failure_record(spec, "crashed", message[:2000],
                                        **({"out_of_memory": True} if message.startswith("out of memory") else {}))
    record.wall_seconds = time.perf_counter() - start
    record.suite = suite
    record.run_id = spec.run_id
    if not record.timestamp:
        record.timestamp = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    return record


def _known_roots(records: list[ResultRecord]) -> dict[str, tuple[float, float | None]]:
    roots: dict[str, tuple[float, float | None]] = {}
    for record in records:
        if record.root_bound is not None:
            key = json.dumps([record.formulation, record.instance_sha256, record.params], sort_keys=True)
            roots.setdefault(key, (record.root_bound, record.root_seconds))
    return roots


def run_suite(
    name: str,
    *,
    store: str | os.PathLike | None = None,
    grace: float | None = None,
    retry_failed: bool = False,
    time_limit: float | None = None,
    progress: bool = True,
    memory_limit_gb: float | None = None,
) -> dict[str, Any]:
    """Run every not-yet-recorded run of suite ``name``; return a summary of statuses.

    The suite, the overrides and the store are checked before anything runs; a run listed twice
    (by two groups) runs once (``duplicates`` in the summary)."""
    from ..errors import check_number

    suite = load_suite(name)
    if grace is not None:
        grace = check_number("grace", grace, minimum=0, hint=" (seconds)")
    if time_limit is not None:
        time_limit = check_number("time_limit", time_limit, positive=True, hint=" (seconds)")
    if memory_limit_gb is not None:
        memory_limit_gb = check_number("memory_limit_gb", memory_limit_gb, positive=True, hint=" (gigabytes)")
    store_obj = ResultsStore(store or Path("results") / suite["name"])
    store_obj.prepare()
    grace = suite["grace"] if grace is None else grace
    memory_limit_gb = suite["memory_limit_gb"] if memory_limit_gb is None else memory_limit_gb
    specs, duplicates = unique_runs(_with_hashes(expand(suite, time_limit=time_limit)))
    recorded = store_obj.records()  # an unreadable row file is skipped (with a warning): its run is redone
    existing = {r.run_id: r.status for r in recorded}
    todo = [s for s in specs if s.run_id not in existing or (retry_failed and existing[s.run_id] in RETRYABLE)]
    roots = _known_roots(recorded)
    statuses: Counter = Counter()
    bar = _progress(progress, len(todo), suite["name"])
    try:
        for spec in todo:
            cached = roots.get(spec.root_key)
            run_spec = RunSpec(**{**spec.__dict__, "root_relaxation": spec.root_relaxation and cached is None})
            if bar:
                bar.update(f"{spec.formulation} · {spec.solver}{spec.solver_options or ''} · {spec.instance}")
            record = run_one(run_spec, grace=grace, memory_limit_gb=memory_limit_gb, suite=suite["name"])
            if cached is not None and spec.root_relaxation:
                record.root_bound, record.root_seconds = cached
                record.extra["root_cached"] = True
                if record.objective is not None:
                    record.root_gap = relative_gap(record.objective, record.root_bound)
            if record.root_bound is not None:
                roots.setdefault(spec.root_key, (record.root_bound, record.root_seconds))
            store_obj.write(record)
            statuses[record.status] += 1
            if bar:
                bar.advance()
    finally:
        if bar:
            bar.close()
    path = store_obj.consolidate()
    return {"suite": suite["name"], "runs": len(specs), "executed": len(todo), "skipped": len(specs) - len(todo),
            "duplicates": duplicates, "statuses": dict(statuses), "store": str(path)}


def _with_hashes(specs: list[RunSpec]) -> list[RunSpec]:
    """Attach each instance's sha256 so a changed instance gets new run ids."""
    hashes: dict[str, str] = {}
    out = []
    for spec in specs:
        if spec.instance not in hashes:
            try:
                hashes[spec.instance] = resolve_instance(spec.instance).sha256
            except Exception:  # missing data etc.: the run itself will record the error
                hashes[spec.instance] = ""
        out.append(RunSpec(**{**spec.__dict__, "instance_sha256": hashes[spec.instance]}))
    return out


class _progress:
    """A rich progress bar (or nothing when disabled)."""

    def __new__(cls, enabled: bool, total: int, title: str):
        if not enabled or total == 0:
            return None
        return super().__new__(cls)

    def __init__(self, enabled: bool, total: int, title: str) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self._progress = Progress(TextColumn(f"[bold]{title}"), BarColumn(), MofNCompleteColumn(),
                                  TimeElapsedColumn(), TextColumn("{task.description}"))
        self._progress.start()
        self._task = self._progress.add_task("", total=total)

    def update(self, description: str) -> None:
        self._progress.update(self._task, description=description)

    def advance(self) -> None:
        self._progress.advance(self._task)

    def close(self) -> None:
        self._progress.stop()
