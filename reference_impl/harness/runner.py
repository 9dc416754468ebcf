"""Run a suite: one subprocess per run, a hard wall-clock limit, resumable, nothing lost.

Each run's wall-clock limit is its solver time limit (twice, when the root relaxation is
also solved) plus a grace period for start-up and model building; past it the whole process
group is killed and the run recorded as ``time_limit`` with the reason. A process that dies
(signal, out of memory) is recorded as ``crashed``. Finished runs are skipped when the
suite is run again (``retry_failed`` re-runs crashed and errored rows).

The time budget: ``time_limit`` bounds the solver call; the worker's start-up, the
preparation (checks, instance loading, derived big-M) and the evaluation are outside it.
Each row records ``wall_seconds`` (the whole worker, as the harness saw it) and
``extra["overshoot_seconds"]`` = max(0, wall_seconds - time_limit x (2 when the root
relaxation was solved in the run, else 1)); the harness's kill comes at that budget + grace.

No worker outlives the harness: Ctrl-C and SIGTERM (``timeout``, CI cancellation, a
scheduler, ``kill``) kill the running worker's process group and end the run (SIGTERM with
:class:`Terminated`, exit status 143), the rows of finished runs being on disk already; a
worker whose harness dies without a word (SIGKILL) is killed by the kernel (Linux:
``PR_SET_PDEATHSIG``) or else by its own watchdog. The run's spec and result travel in
anonymous temporary files, so no scratch folder is left behind on any exit path.
"""
from __future__ import annotations

import ctypes
import datetime as _dt
import functools
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Callable, Iterator

from ..instances import resolve_instance
from ..provenance import git_commit
from ..record import ResultRecord, relative_gap
from .store import ResultsStore
from .suites import RunSpec, expand, load_suite, unique_runs
from .worker import failure_record, looks_out_of_memory

RETRYABLE = ("crashed", "error")

#: the exit status of a harness ended by SIGTERM (128 + the signal's number, as a shell reports it)
TERMINATED_STATUS = 128 + signal.SIGTERM


class Terminated(SystemExit):
    """SIGTERM reached the harness: like Ctrl-C, the running worker is killed and no further
    run starts. A :class:`SystemExit` with status 143, so that uncaught it ends the process
    as SIGTERM would (without a traceback), after the ``finally`` blocks have run."""

    def __init__(self) -> None:
        super().__init__(TERMINATED_STATUS)


class _SigtermGuard:
    """While active (in the main thread; elsewhere Python cannot handle signals), SIGTERM
    raises :class:`Terminated`, at once or, inside :meth:`held`, when the block is done."""

    def __init__(self) -> None:
        self._previous: Any = None
        self._installed = False
        self._holding = 0
        self._pending = False

    def __enter__(self) -> _SigtermGuard:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGTERM, self._handle)
            self._installed = True
        return self

    def __exit__(self, *exc_info: Any) -> None:
        if self._installed:  # None: a handler set outside Python, which cannot be put back
            signal.signal(signal.SIGTERM, signal.SIG_DFL if self._previous is None else self._previous)

    def _handle(self, signum: int, frame: Any) -> None:
        if self._holding:
            self._pending = True
        else:
            raise Terminated()

    @contextmanager
    def held(self) -> Iterator[None]:
        """Defer SIGTERM until the block is done (a row being written is written whole)."""
        self._holding += 1
        try:
            yield
        finally:
            self._holding -= 1
        if not self._holding and self._pending:
            raise Terminated()


#: prctl's option "send me this signal when my parent dies" (linux/prctl.h)
PR_SET_PDEATHSIG = 1


@functools.lru_cache(maxsize=1)
def _prctl() -> Callable[..., int] | None:
    """libc's ``prctl`` (Linux), loaded in the harness: a forked child should not load libraries."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # pragma: no cover - a libc without prctl
        return None
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    prctl.restype = ctypes.c_int
    return prctl


def _prepare_worker(gigabytes: float | None) -> Callable[[], None]:
    """What the worker's process does between fork and exec: its own session (so that its
    process group can be killed whole), SIGKILL when the harness dies (Linux; the worker's
    watchdog is the fallback elsewhere) and the memory limit."""
    harness = os.getpid()
    prctl = _prctl()

    def apply() -> None:
        os.setsid()
        if prctl is not None:
            prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != harness:  # the harness died before the death signal was armed
            os._exit(1)
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


def _read_result(file: IO[bytes]) -> ResultRecord | None:
    """The record the worker wrote into ``file`` (None: nothing, or not a whole record)."""
    file.seek(0)
    try:
        return ResultRecord(**json.loads(file.read().decode()))
    except (ValueError, TypeError):  # empty, half-written or foreign: the run is recorded as crashed
        return None


def time_budget(spec: RunSpec) -> float:
    """The seconds the solver calls of ``spec`` may take: its time limit, twice when the root
    relaxation is solved too."""
    return spec.time_limit * (2 if spec.root_relaxation else 1)


def run_one(spec: RunSpec, *, grace: float, memory_limit_gb: float | None, suite: str = "") -> ResultRecord:
    """Run ``spec`` in a fresh Python process and return its record, whatever happens.

    The worker is killed (with its process group) past :func:`time_budget` + ``grace``, on
    Ctrl-C and on SIGTERM (then :class:`Terminated` is raised here); it dies with the harness."""
    wall_limit = time_budget(spec) + grace
    env = {**os.environ, "MIOBENCH_GIT_COMMIT": git_commit(), "PYTHONUNBUFFERED": "1",
           "MIOBENCH_MEMORY_LIMIT_GB": f"{memory_limit_gb:g}" if memory_limit_gb else "",
           "MIOBENCH_HARNESS_PID": str(os.getpid())}
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(spec.threads)
    start = time.perf_counter()
    # anonymous files (no name in any folder): nothing to clean up, however the run ends
    with _SigtermGuard(), tempfile.TemporaryFile(prefix="miobench-run-") as spec_file, \
            tempfile.TemporaryFile(prefix="miobench-run-") as out_file:
        spec_file.write(spec.to_json().encode())
        spec_file.flush()
        spec_file.seek(0)
        fds = (spec_file.fileno(), out_file.fileno())
        process = subprocess.Popen(
            [sys.executable, "-m", "reference_impl.harness.worker", "--fds", *map(str, fds)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, pass_fds=fds,
            preexec_fn=_prepare_worker(memory_limit_gb),
        )
        try:
            _, stderr = process.communicate(timeout=wall_limit)
        except subprocess.TimeoutExpired:
            _kill_group(process)
            process.communicate()
            record = failure_record(spec, "time_limit",
                                    f"killed by the harness after {wall_limit:.0f} s (time limit + grace) without a result")
        except BaseException:  # Ctrl-C, SIGTERM (Terminated) or anything else: leave no worker behind
            _kill_group(process)
            try:
                process.communicate(timeout=5)
            except Exception:
                pass
            raise
        else:
            record = _read_result(out_file)
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
    record.extra["overshoot_seconds"] = round(max(0.0, record.wall_seconds - time_budget(spec)), 3)
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

    The suite, the overrides, the store and every run (:mod:`.preflight`) are checked before
    anything runs; a run listed twice (by two groups) runs once (``duplicates`` in the summary).
    Input-error rows of runs the suite no longer holds are moved to ``superseded.parquet``
    (``superseded``); ``all_errored`` tells whether every executed run ended as error/crashed."""
    from ..schema import check_settings
    from .preflight import all_errored, check_runs, supersede_stale_input_errors

    suite = load_suite(name)
    overrides = {"grace": grace, "time_limit": time_limit, "memory_limit_gb": memory_limit_gb}
    overrides.update(check_settings({key: value for key, value in overrides.items() if value is not None},
                                    hints={"memory_limit_gb": " (gigabytes)"}))  # None: the suite's
    grace, time_limit, memory_limit_gb = overrides["grace"], overrides["time_limit"], overrides["memory_limit_gb"]
    store_obj = ResultsStore(store or Path("results") / suite["name"])
    store_obj.prepare()
    grace = suite["grace"] if grace is None else grace
    memory_limit_gb = suite["memory_limit_gb"] if memory_limit_gb is None else memory_limit_gb
    specs, duplicates = unique_runs(_with_hashes(expand(suite, time_limit=time_limit)))
    check_runs(specs, where=f"suite {suite['name']!r}")  # every run's instance, hyperparameters, options
    recorded = store_obj.records()  # an unreadable row file is skipped (with a warning): its run is redone
    recorded, superseded = supersede_stale_input_errors(store_obj, recorded, specs, suite["name"])
    existing = {r.run_id: r.status for r in recorded}
    todo = [s for s in specs if s.run_id not in existing or (retry_failed and existing[s.run_id] in RETRYABLE)]
    roots = _known_roots(recorded)
    statuses: Counter = Counter()
    bar = _progress(progress, len(todo), suite["name"])
    try:
        try:
            with _SigtermGuard() as guard:  # SIGTERM: the worker is killed, a row is written whole
                for spec in todo:
                    cached = roots.get(spec.root_key)
                    run_spec = RunSpec(**{**spec.__dict__, "root_relaxation": spec.root_relaxation and cached is None})
                    if bar:
                        bar.start(_describe(spec))
                    record = run_one(run_spec, grace=grace, memory_limit_gb=memory_limit_gb, suite=suite["name"])
                    if cached is not None and spec.root_relaxation:
                        record.root_bound, record.root_seconds = cached
                        record.extra["root_cached"] = True
                        if record.objective is not None:
                            record.root_gap = relative_gap(record.objective, record.root_bound)
                    if record.root_bound is not None:
                        roots.setdefault(spec.root_key, (record.root_bound, record.root_seconds))
                    with guard.held():
                        store_obj.write(record)
                    statuses[record.status] += 1
                    if bar:
                        bar.finish(record)
                with guard.held():
                    path = store_obj.consolidate()
        finally:
            if bar:
                bar.close()
    except Terminated:
        print("miobench: terminated (SIGTERM); the running worker was killed, the rows of the finished runs "
              f"are in {store_obj.directory}", file=sys.stderr, flush=True)
        raise
    return {"suite": suite["name"], "runs": len(specs), "executed": len(todo), "skipped": len(specs) - len(todo),
            "duplicates": duplicates, "superseded": superseded, "statuses": dict(statuses),
            "all_errored": all_errored(statuses), "store": str(path)}


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


def _describe(spec: RunSpec) -> str:
    return f"{spec.formulation} · {spec.solver}{spec.solver_options or ''} · {spec.instance}"


def _progress(enabled: bool, total: int, title: str) -> _BarProgress | _LineProgress | None:
    """The progress display on stderr (stdout keeps the summary): a rich bar on a terminal, one
    whole line per finished run in a log or a pipe (where a bar is cut to the log's width)."""
    if not enabled or total == 0:
        return None
    isatty = getattr(sys.stderr, "isatty", None)
    return _BarProgress(total, title) if isatty is not None and isatty() else _LineProgress(total, title)


class _BarProgress:
    """A rich progress bar on stderr, showing the run under way."""

    def __init__(self, total: int, title: str) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self._progress = Progress(TextColumn(f"[bold]{title}"), BarColumn(), MofNCompleteColumn(),
                                  TimeElapsedColumn(), TextColumn("{task.description}"),
                                  console=Console(stderr=True))
        self._progress.start()
        self._task = self._progress.add_task("", total=total)

    def start(self, description: str) -> None:
        self._progress.update(self._task, description=description)

    def finish(self, record: ResultRecord) -> None:
        self._progress.advance(self._task)

    def close(self) -> None:
        self._progress.stop()


class _LineProgress:
    """``[12/52] sparse_regression.perspective · scip · synreg-n60-p12-k4 -> optimal (3.2 s)``:
    one line on stderr per finished run, flushed at once."""

    def __init__(self, total: int, title: str) -> None:
        self._total, self._done, self._current = total, 0, ""
        self._say(f"{title}: {total} run(s) to do")

    def start(self, description: str) -> None:
        self._current = description

    def finish(self, record: ResultRecord) -> None:
        self._done += 1
        wall = f" ({record.wall_seconds:.1f} s)" if record.wall_seconds is not None else ""
        self._say(f"[{self._done}/{self._total}] {self._current} -> {record.status}{wall}")

    def close(self) -> None:
        pass

    @staticmethod
    def _say(line: str) -> None:
        print(line, file=sys.stderr, flush=True)
