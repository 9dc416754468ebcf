"""Bad input gives one clear line (exit 2), never a traceback; nothing is lost or duplicated."""
import json
import math
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from reference_impl import solve
from reference_impl.cli import main
from reference_impl.errors import DataMissingError, IntegrityError, MiobenchError
from reference_impl.harness.store import ResultsStore
from reference_impl.harness.suites import RunSpec, expand, load_suite, unique_runs
from reference_impl.instances import build_library, resolve_instance
from reference_impl.instances.library import verify_library
from reference_impl.instances.storage import write_npz
from reference_impl.record import ResultRecord

IDS = ["synreg-n30-p8-k3", "synreg-n60-p12-k4"]
F = "sparse_regression.l0l2_bigm"
RNG = np.random.default_rng(0)
X = RNG.normal(size=(20, 5))
Y = X[:, 0] - X[:, 1]


def one_line_error(capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err, err
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err


# -- instance library ----------------------------------------------------------------------
def test_verify_library_passes_then_names_missing_and_altered_files(tmp_path, capsys):
    build_library(tmp_path, ids=IDS)
    assert main(["instances", "verify", "--out", str(tmp_path)]) == 0
    assert "verified 2 instance file(s)" in capsys.readouterr().out
    path = tmp_path / f"{IDS[1]}.npz"
    path.write_bytes(path.read_bytes() + b"x")
    (tmp_path / f"{IDS[0]}.npz").unlink()
    with pytest.raises(IntegrityError) as info:
        verify_library(tmp_path)
    assert f"{IDS[0]}: missing" in str(info.value) and f"{IDS[1]}: sha256" in str(info.value)
    one_line_error(capsys, ["instances", "verify", "--out", str(tmp_path)], "fail verification")
    with pytest.raises(DataMissingError, match="no library manifest"):
        verify_library(tmp_path / "nowhere")


def test_building_a_subset_keeps_the_other_instances(tmp_path, capsys):
    full = build_library(tmp_path, ids=IDS)
    before = (tmp_path / f"{IDS[1]}.npz").read_bytes()
    assert main(["instances", "build", "--ids", IDS[0], "--out", str(tmp_path)]) == 0
    assert "built 1 instance(s)" in capsys.readouterr().out
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["instances"] == full["instances"]
    assert (tmp_path / f"{IDS[1]}.npz").read_bytes() == before
    assert verify_library(tmp_path)["instances"].keys() == set(IDS)
    one_line_error(capsys, ["instances", "build", "--ids", "nope-id", "--out", str(tmp_path)], "unknown instance id")
    assert set(json.loads((tmp_path / "manifest.json").read_text())["instances"]) == set(IDS)


@pytest.mark.parametrize("built_library", [True, False])
def test_a_modified_copy_of_a_catalogue_instance_is_not_recorded_under_its_id(tmp_path, monkeypatch, built_library):
    from reference_impl.instances import library

    if not built_library:  # a fresh clone: compare with the instance generated afresh
        monkeypatch.setattr(library, "_catalogue_record", lambda instance_id: None)
    locked = resolve_instance(IDS[0])
    copy = tmp_path / f"{IDS[0]}.npz"
    write_npz(copy, locked.arrays)  # an identical copy keeps the catalogue id
    assert resolve_instance(str(copy)).id == IDS[0]
    arrays = dict(locked.arrays)
    arrays["y"] = arrays["y"] + 1.0
    write_npz(copy, arrays)
    tampered = resolve_instance(str(copy))
    assert tampered.id == str(copy) and tampered.meta["differs_from_catalogue"] == IDS[0]


@pytest.mark.parametrize("content, message", [(b"a,b\n1,2\n", "is not an .npz archive"),
                                              (b"", "is not an .npz archive")])
def test_a_text_file_as_instance_says_it_is_not_an_npz(tmp_path, capsys, content, message):
    path = tmp_path / "data.csv"
    path.write_bytes(content)
    one_line_error(capsys, ["solve", F, "--instance", str(path), "--param", "k=2"], message)


# -- the Python API's arguments ------------------------------------------------------------
@pytest.mark.parametrize("kwargs, message", [
    ({"instance": {"X": [[1, 2], [3]], "y": [1, 2]}}, "rectangular"),
    ({"instance": {"X": X + 1j, "y": Y}}, "complex"),
    ({"solver": None}, "solver must be a solver name"),
    ({"formulation_id": None}, "formulation_id must be"),
    ({"solver_options": [1, 2]}, "solver_options must be a mapping"),
    ({"time_limit": True}, "time_limit must be a number"),
    ({"time_limit": math.inf}, "time_limit must be a finite number"),
    ({"time_limit": -1}, "time_limit must be > 0"),
    ({"rel_gap": -1}, "rel_gap must be >= 0"),
    ({"rel_gap": math.nan}, "rel_gap must be a finite"),
    ({"threads": -3}, "threads must be >= 1"),
    ({"threads": 1.5}, "threads must be an integer"),
    ({"seed": -1}, "seed must be >= 0"),
])
def test_solve_rejects_bad_arguments_with_one_sentence(kwargs, message):
    kwargs = {"formulation_id": F, "instance": {"X": X, "y": Y}, "time_limit": 5, **kwargs}
    with pytest.raises(MiobenchError, match=message.replace("(", r"\(")):
        solve(kwargs.pop("formulation_id"), kwargs.pop("instance"), k=2, lambda2=1.0, **kwargs)


def test_wall_seconds_account_for_the_time_before_the_solver_starts():
    record = solve(F, {"X": X, "y": Y}, solver="scip", time_limit=5, k=2, lambda2=1.0)
    assert record.extra["prepare_seconds"] > 0  # checks, loading, a derived big-M: not model build
    assert record.wall_seconds >= (record.extra["prepare_seconds"] + record.build_seconds
                                   + record.solve_seconds - 1e-6)


def test_json_record_is_strict_json():
    record = ResultRecord(formulation="f", solver="s", instance="i", status="time_limit", bound=-math.inf)
    data = json.loads(record.to_json(), parse_constant=lambda c: pytest.fail(f"non-strict JSON constant {c}"))
    assert data["gap"] == "inf" and data["bound"] == "-inf"


# -- command-line values -------------------------------------------------------------------
SOLVE = ["solve", "sparse_regression.perspective", "--instance", "synreg-n30-p8-k3", "--param", "k=2"]


@pytest.mark.parametrize("argv, message", [
    (SOLVE + ["--time-limit", "inf"], "time_limit must be a finite number"),
    (SOLVE + ["--rel-gap", "-1"], "rel_gap must be >= 0"),
    (SOLVE + ["--rel-gap", "nan"], "rel_gap must be a finite"),
    (SOLVE + ["--threads", "-3"], "threads must be >= 1"),
    (SOLVE + ["--seed", "-1"], "seed must be >= 0"),
    (SOLVE + ["--option", "x"], "--option takes name=value"),
    (SOLVE + ["--param", "=3"], "--param needs a name before '='"),
    (["run", "--suite", "smoke", "--grace", "-10"], "--grace must be >= 0"),
    (["run", "--suite", "smoke", "--time-limit", "-1"], "--time-limit must be > 0"),
    (["run", "--suite", "smoke", "--memory-limit-gb", "0"], "--memory-limit-gb must be > 0"),
    (["bench", "compare", "a", "b", "--factor", "-1"], "--factor must be >= 1"),
    (["figures", "build", "gb.batch_size", "--param", "bogus=1"], "has no parameter(s) 'bogus'"),
    (["figures", "build", "gb.batch_size", "--param", "n=abc"], "parameter n must be an integer"),
    (["figures", "build", "gb.certify_vs_p", "--param", "sizes=abc"], "comma-separated list of integers"),
    (["figures", "build", "gb.batch_size", "--param", "batch_sizes=0,-1"], "positive integers"),
    (["figures", "build", "gb.batch_size", "--param", "time_limit=-1"], "parameter time_limit must be"),
    (["figures", "build", "tutorial.fig2", "--param", "k=-1"], "parameter k must be an integer >= 1"),
])
def test_bad_values_are_one_clear_line(argv, message, capsys):
    one_line_error(capsys, argv, message)


def test_kglm_input_error_inside_a_figure_is_one_line(tmp_path, capsys, monkeypatch):
    from reference_impl.kglm.validation import KGLMInputError
    from reference_impl.reports import paper

    figure = paper.get_figure("gb.batch_size")

    def build(out, *, n, batch_sizes, time_limit):
        raise KGLMInputError("k must be <= p\n(second line)")

    monkeypatch.setitem(paper._FIGURES, "gb.batch_size", paper.PaperFigure(
        figure.id, figure.paper, figure.title, build, figure.datasets, figure.defaults, figure.paper_setting))
    one_line_error(capsys, ["figures", "build", "gb.batch_size", "--out", str(tmp_path)], "k must be <= p")


# -- suites and stores ---------------------------------------------------------------------
GROUP = "{formulations: [sparse_regression.perspective], solvers: [scip], instances: [synreg-n30-p8-k3]"


@pytest.mark.parametrize("text, message", [
    ("groups:\n  - {formulations: [sparse_regression.perspective], instances: [synreg-n30-p8-k3]}\n", "no 'solvers' list"),
    ("groups: 5\n", "'groups' must be a non-empty list"),
    ("groups: [\n", "not valid YAML"),
    (f"time_limit: abc\ngroups:\n  - {GROUP}}}\n", "time_limit must be a number"),
    (f"repeats: abc\ngroups:\n  - {GROUP}}}\n", "repeats must be an integer"),
    (f"grace: -1\ngroups:\n  - {GROUP}}}\n", "grace must be >= 0"),
    ("groups:\n  - {formulations: [sparse_regression.perspective], solvers: [{solvr: scip}], instances: [synreg-n30-p8-k3]}\n",
     "a solver entry is a name or"),
    (f"groups:\n  - {GROUP}, params: [[1, 2]]}}\n", "params must be a mapping of lists"),
    (f"groups:\n  - {GROUP}, parms: {{k: [2]}}}}\n", "unknown key(s) 'parms'"),
    ("groups:\n  - {formulations: [sparse_regression.nope], solvers: [scip], instances: [synreg-n30-p8-k3]}\n",
     "unknown formulation id"),
])
def test_bad_suites_are_rejected_before_any_run(tmp_path, capsys, text, message):
    suite = tmp_path / "bad.yaml"
    suite.write_text("name: bad\n" + text)
    one_line_error(capsys, ["run", "--suite", str(suite), "--store", str(tmp_path / "store"), "--quiet"], message)
    assert not (tmp_path / "store" / "runs").exists() or not any((tmp_path / "store" / "runs").iterdir())


def test_a_scalar_is_a_one_element_list_and_duplicate_runs_run_once(tmp_path):
    suite = tmp_path / "dup.yaml"
    suite.write_text("name: dup\ngroups:\n"
                     "  - {formulations: sparse_regression.perspective, solvers: scip, instances: synreg-n30-p8-k3,"
                     " params: {k: [2, 3]}}\n"
                     f"  - {GROUP}, params: {{k: 3}}}}\n")
    specs = expand(load_suite(str(suite)))
    assert len(specs) == 3 and {s.formulation for s in specs} == {"sparse_regression.perspective"}
    unique, duplicates = unique_runs(specs)
    assert len(unique) == 2 and duplicates == 1


def test_store_path_that_is_a_file_is_refused_up_front(tmp_path, capsys):
    store = tmp_path / "afile"
    store.write_text("")
    one_line_error(capsys, ["run", "--suite", "smoke", "--store", str(store), "--quiet"], "is a file, not a folder")


def test_report_out_that_cannot_be_created_is_one_line(tmp_path, capsys):
    ResultsStore(tmp_path / "store").write(ResultRecord(formulation="f.x", solver="s", instance="i", run_id="a"))
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    one_line_error(capsys, ["report", "--store", str(tmp_path / "store"), "--out", str(blocker / "sub")], "report folder")


def test_a_corrupt_row_file_is_skipped_with_a_warning(tmp_path):
    store = ResultsStore(tmp_path)
    record = ResultRecord(formulation="f.x", solver="s", instance="i", status="optimal", run_id="good")
    store.write(record)
    (store.runs / "bad.parquet").write_bytes(b"junk!")
    with pytest.warns(UserWarning, match="bad.parquet"):
        assert [r.run_id for r in store.records()] == ["good"]


def test_input_error_rows_are_not_attempts(tmp_path):
    from reference_impl.harness.worker import execute
    from reference_impl.reports.tables import prepare, runs_table, sgm_time

    bad = execute(RunSpec("sparse_regression.perspective", "scip", "synreg-n30-p8-k3", {"k": 99}, time_limit=5))
    assert bad.status == "error" and bad.extra["input_error"] is True
    bad.run_id = "bad"
    good = ResultRecord(formulation="sparse_regression.perspective", solver="scip", instance="synreg-n30-p8-k3",
                        params={"k": 3}, status="optimal", solve_seconds=1.0, time_limit=5.0, run_id="good")
    store = ResultsStore(tmp_path)
    store.write(bad)
    store.write(good)
    frame = prepare(store.load())
    table = sgm_time(frame)
    assert table["attempted"].tolist() == [1] and table["solved"].tolist() == [1]
    assert len(runs_table(frame)) == 2


def test_out_of_memory_messages_are_recognised(monkeypatch):
    from reference_impl.harness import worker

    monkeypatch.setenv("MIOBENCH_MEMORY_LIMIT_GB", "0.5")

    def fake_solve(*args, **kwargs):
        return ResultRecord(formulation="f", solver="scip", instance="i", status="error",
                            message="scip failed: DeferredImportError: ... failed to map segment from shared object")

    monkeypatch.setattr("reference_impl.api.solve", fake_solve)
    record = worker.execute(RunSpec("f", "scip", "i", time_limit=5))
    assert record.status == "crashed" and record.message.startswith("out of memory (limit 0.5 GB)")


def _children(parent: int, marker: str) -> list[int]:
    """Processes whose parent is ``parent`` and whose command line contains ``marker``, read
    from /proc (``ps`` cuts its lines at the terminal width, so a long checkout path would
    push the module name out of sight)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and _ppid(int(entry)) == parent and marker in _cmdline(int(entry)):
            found.append(int(entry))
    return found


def _ppid(pid: int) -> int | None:
    try:
        stat = open(f"/proc/{pid}/stat").read()
    except OSError:  # gone meanwhile
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])  # the name in parentheses may hold spaces


def _cmdline(pid: int) -> str:
    try:
        return open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for its parent to reap it counts as dead)."""
    try:
        stat = open(f"/proc/{pid}/stat").read()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs /proc (Linux)")
def test_ctrl_c_kills_the_running_worker(tmp_path):
    suite = tmp_path / "slow.yaml"
    suite.write_text("name: slow\ntime_limit: 60\ngrace: 5\nroot_relaxation: false\ngroups:\n"
                     "  - {formulations: [sparse_regression.best_subset], solvers: [scip],"
                     " instances: [synreg-n200-p40-k5], params: {k: 5}}\n")
    process = subprocess.Popen([sys.executable, "-m", "reference_impl", "run", "--suite", str(suite), "--store",
                                str(tmp_path / "store"), "--quiet"], stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))

    def workers() -> list[int]:
        return _children(process.pid, "reference_impl.harness.worker")

    deadline = time.monotonic() + 60
    while not workers() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.2)
    pids = workers()
    assert pids, "the worker never started"
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 130 and "interrupted" in err
    deadline = time.monotonic() + 10  # the kill is asynchronous; a loaded machine may take a moment
    while any(map(_alive, pids)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in pids if _alive(pid)]
