"""The harness's life cycle: SIGTERM and SIGKILL leave no worker and no scratch files behind,
each row records its overshoot of the time budget, and the progress in a log is whole lines."""
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from reference_impl.harness.runner import TERMINATED_STATUS, Terminated, _SigtermGuard, time_budget
from reference_impl.harness.store import ResultsStore

needs_proc = pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs /proc (Linux)")
WORKER = "reference_impl.harness.worker"

SLOW_SUITE = ("name: slow\ntime_limit: 60\ngrace: 5\nroot_relaxation: false\ngroups:\n"
              "  - {formulations: [sparse_regression.best_subset], solvers: [scip],"
              " instances: [synreg-n200-p40-k5], params: {k: 5}}\n")

QUICK_SUITE = ("name: quick\ntime_limit: 10\ngrace: 30\nroot_relaxation: false\ngroups:\n"
               "  - {formulations: [sparse_regression.l0l2_bigm, sparse_regression.perspective], solvers: [highs],"
               " instances: [synreg-n30-p8-k3], params: {k: 3, lambda2: 0.1}}\n")


# -- processes, read from /proc (``ps`` cuts its lines at the terminal width) -----------------
def _stat_fields(pid: int) -> list[str] | None:
    try:
        stat = open(f"/proc/{pid}/stat").read()
    except OSError:  # gone meanwhile
        return None
    return stat.rsplit(")", 1)[1].split()  # the name in parentheses may hold spaces


def _cmdline(pid: int) -> str:
    try:
        return open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _children(parent: int, marker: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat_fields(int(entry))
            if fields and int(fields[1]) == parent and marker in _cmdline(int(entry)):
                found.append(int(entry))
    return found


def _alive(pid: int) -> bool:
    """Running (a zombie waiting to be reaped counts as dead)."""
    fields = _stat_fields(pid)
    return fields is not None and fields[0] != "Z"


def _wait_until(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.1)
    return condition()


def _start_harness(tmp_path: Path, suite_text: str, *extra: str) -> tuple[subprocess.Popen, Path]:
    """``miobench run`` of ``suite_text`` as a subprocess, its temporary files in a folder of its own."""
    suite = tmp_path / "suite.yaml"
    suite.write_text(suite_text)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {**os.environ, "TMPDIR": str(scratch)}
    process = subprocess.Popen([sys.executable, "-m", "reference_impl", "run", "--suite", str(suite),
                                "--store", str(tmp_path / "store"), *extra],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    return process, scratch


def _running_worker(process: subprocess.Popen) -> int:
    assert _wait_until(lambda: _children(process.pid, WORKER) or process.poll() is not None, 90)
    workers = _children(process.pid, WORKER)
    assert workers, f"the worker never started: {process.communicate()[1][-2000:]}"
    time.sleep(1.0)  # well into the solve
    return workers[0]


def _scratch_left(scratch: Path) -> list[str]:
    return sorted(p.name for p in scratch.glob("miobench-run-*"))


# -- SIGTERM and SIGKILL ----------------------------------------------------------------------
@needs_proc
def test_sigterm_kills_the_worker_and_exits_143(tmp_path):
    process, scratch = _start_harness(tmp_path, SLOW_SUITE, "--quiet")
    worker = _running_worker(process)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=30)
    assert process.returncode == TERMINATED_STATUS == 143
    assert "miobench: terminated" in err and "Traceback" not in err
    assert _wait_until(lambda: not _alive(worker), 10), "the worker outlived the harness"
    assert _scratch_left(scratch) == []
    store = tmp_path / "store"
    assert not list(store.rglob("*.tmp")) and not list(store.glob("runs/*.parquet"))  # nothing half-done


@needs_proc
def test_sigkill_of_the_harness_takes_the_worker_down(tmp_path):
    process, scratch = _start_harness(tmp_path, SLOW_SUITE, "--quiet")
    worker = _running_worker(process)
    process.kill()
    process.communicate(timeout=30)
    assert _wait_until(lambda: not _alive(worker), 5), "the worker outlived its SIGKILLed harness"
    assert _scratch_left(scratch) == []


def test_watchdog_kills_a_worker_whose_harness_is_gone():
    """Without the kernel's death signal (not Linux), the worker's own watchdog ends it: here
    its parent is not the harness named in MIOBENCH_HARNESS_PID, as after the harness died."""
    code = ("import time\nfrom reference_impl.harness.worker import watch_harness\n"
            "watch_harness(0.05)\ntime.sleep(60)\n")
    env = {**os.environ, "MIOBENCH_HARNESS_PID": str(os.getpid() + 10**6)}  # not anyone's pid
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", code], env=env, start_new_session=True, timeout=50)
    assert done.returncode == -signal.SIGKILL and time.monotonic() - started < 40


def test_sigterm_while_a_row_is_written_waits_for_the_row():
    reached = []
    with _SigtermGuard() as guard:
        with pytest.raises(Terminated) as raised:
            with guard.held():
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(0.2)  # the handler runs here and must not interrupt the block
                reached.append(True)
    assert reached == [True] and raised.value.code == 143
    assert signal.getsignal(signal.SIGTERM) is not guard._handle  # put back


# -- time budget and progress -----------------------------------------------------------------
def test_a_log_gets_whole_progress_lines_and_rows_record_their_overshoot(tmp_path):
    process, scratch = _start_harness(tmp_path, QUICK_SUITE)
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err[-2000:]
    summary = json.loads(out.strip().splitlines()[-1])  # stdout holds the summary alone
    assert summary["executed"] == 2
    lines = [line for line in err.splitlines() if line.startswith("[")]
    pattern = re.compile(r"^\[(\d)/2\] sparse_regression\.\w+ · highs · synreg-n30-p8-k3 -> \w+ \(\d+\.\d s\)$")
    assert [pattern.match(line).group(1) for line in lines] == ["1", "2"], err
    assert "…" not in err and "━" not in err  # no cut bar
    assert _scratch_left(scratch) == []
    for record in ResultsStore(tmp_path / "store").records():  # no root relaxation: the budget is the limit
        expected = max(0.0, record.wall_seconds - record.time_limit)
        assert record.extra["overshoot_seconds"] == pytest.approx(expected, abs=2e-3)


def test_time_budget_doubles_with_the_root_relaxation():
    from reference_impl.harness.suites import RunSpec

    spec = RunSpec("sparse_regression.perspective", "scip", "synreg-n30-p8-k3", {"k": 3}, time_limit=7)
    assert time_budget(spec) == 14
    assert time_budget(RunSpec(**{**spec.__dict__, "root_relaxation": False})) == 7
