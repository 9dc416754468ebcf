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
from .suites import RunSpec, expand, load_suite
from .worker import failure_record

RETRYABLE = ("crashed", "error")


def _limit_memory(gigabytes: float | None):
    def apply() -> None:
        os.setsid()
        if gigabytes:
            import resource

            limit = int(gigabytes * 1024**3)
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    return apply


def run_one(spec: RunSpec, *, grace: float, memory_limit_gb: float | None, suite: str = "") -> ResultRecord:
    """Run ``spec`` in a fresh Python process and return its record, whatever happens."""
    wall_limit = spec.time_limit * (2 if spec.root_relaxation else 1) + grace
    env = {**os.environ, "MIOBENCH_GIT_COMMIT": git_commit(), "PYTHONUNBUFFERED": "1"}
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
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            record = failure_record(spec, "time_limit",
                                    f"killed by the harness after {wall_limit:.0f} s (time limit + grace) without a result")
        else:
            if out_path.exists():
                record = ResultRecord(**json.loads(out_path.read_text()))
            else:
                code = process.returncode
                why = (f"killed by signal {-code}" + (" (likely out of memory)" if -code == signal.SIGKILL else "")
                       if code < 0 else f"exited with status {code}")
                tail = " | ".join(stderr.strip().splitlines()[-3:])
                record = failure_record(spec, "crashed", f"process {why} without a result: {tail}"[:2000])
    record.wall_seconds = time.perf_counter() - start
    record.suite = suite
    record.run_id = spec.run_id
    if not record.timestamp:
        record.timestamp = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    return record


def _known_roots(store: ResultsStore) -> dict[str, tuple[float, float | None]]:
    roots: dict[str, tuple[float, float | None]] = {}
    for record in store.records():
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
    """Run every not-yet-recorded run of suite ``name``; return a summary of statuses."""
    suite = load_suite(name)
    store_obj = ResultsStore(store or Path("results") / suite["name"])
    grace = suite["grace"] if grace is None else grace
    memory_limit_gb = suite["memory_limit_gb"] if memory_limit_gb is None else memory_limit_gb
    specs = _with_hashes(expand(suite, time_limit=time_limit))
    existing = {r.run_id: r.status for r in store_obj.records()}
    todo = [s for s in specs if s.run_id not in existing or (retry_failed and existing[s.run_id] in RETRYABLE)]
    roots = _known_roots(store_obj)
    statuses: Counter = Counter()
    bar = _progress(progress, len(todo), suite["name"])
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
    if bar:
        bar.close()
    path = store_obj.consolidate()
    return {"suite": suite["name"], "runs": len(specs), "executed": len(todo), "skipped": len(specs) - len(todo),
            "statuses": dict(statuses), "store": str(path)}


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
