"""Pre-flight of `miobench run` (issue 23, item 3): every run of a suite is checked before the
first one starts; a corrected suite supersedes the input-error rows of runs it dropped; a run
in which every executed run errored exits non-zero."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from reference_impl.solvers.adapters.bnb import check_bnb_options
from reference_impl.harness.preflight import (
    NOT_IN_SUITE,
    check_runs,
    find_problems,
    format_problems,
    stale_input_errors,
)
from reference_impl.harness.store import SUPERSEDED, ResultsStore
from reference_impl.harness.suites import expand, load_suite, unique_runs
from reference_impl.harness.worker import failure_record
from reference_impl.errors import InputError

#: a tiny run that really solves in well under a second (SCIP, no root relaxation)
GOOD_GROUP = {"formulations": ["sparse_regression.l0l2_bigm"], "solvers": ["scip"],
              "instances": ["synreg-n60-p12-k4"], "params": [{"k": 4, "lambda2": 0.1}]}


def _suite(path: Path, *groups: dict, name: str = "preflight") -> Path:
    path.write_text(yaml.safe_dump({"name": name, "time_limit": 5, "grace": 20, "root_relaxation": False,
                                    "groups": list(groups)}))
    return path


def _run(suite: Path, store: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "reference_impl", "run", "--suite", str(suite), "--store", str(store),
                           "--quiet"], capture_output=True, text=True, timeout=300, env=env)


def _rows(store: Path):
    return ResultsStore(store).load()


BAD_RUNS = {
    "unknown instance id": ({**GOOD_GROUP, "instances": ["synreg-nope"]}, "synreg-nope"),
    "k > p": ({**GOOD_GROUP, "params": [{"k": 40, "lambda2": 0.1}]}, "k=40"),
    "negative lambda2": ({**GOOD_GROUP, "params": [{"k": 4, "lambda2": -1.0}]}, "lambda2=-1.0"),
    "missing .npz": ({**GOOD_GROUP, "instances": ["{tmp}/no-such-instance.npz"]}, "no-such-instance.npz"),
    "bnb batch_size 0": ({"formulations": ["kglm.perspective"],
                          "solvers": [{"solver": "bnb", "options": {"batch_size": 0}}],
                          "instances": ["kglm-ls-n40-p12-k3"], "params": [{"k": 3, "lambda2": 1.0, "M": 2.0}]},
                         "batch_size"),
}


@pytest.mark.parametrize("case", list(BAD_RUNS))
def test_a_suite_with_one_bad_run_exits_2_before_any_run(tmp_path, case):
    group, named = BAD_RUNS[case]
    group = yaml.safe_load(yaml.safe_dump(group).replace("{tmp}", str(tmp_path)))
    store = tmp_path / "store"
    result = _run(_suite(tmp_path / "suite.yaml", GOOD_GROUP, group), store)
    assert result.returncode == 2, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("miobench: error:")]
    assert len(errors) == 1, result.stderr
    assert "1 of 2 runs cannot run" in errors[0] and named in errors[0], errors[0]
    assert _rows(store).empty  # nothing ran: not even the good run
    assert not list(store.glob("runs/*.parquet"))


def test_every_problem_is_listed_first_few_in_full(tmp_path):
    groups = [{**GOOD_GROUP, "instances": ["synreg-nope"]},
              {**GOOD_GROUP, "params": [{"k": 40, "lambda2": 0.1}, {"k": 4, "lambda2": -1.0}]},
              {**GOOD_GROUP, "solvers": [{"solver": "scip", "options": {"no/such/param": 1}}]},
              {**GOOD_GROUP, "instances": [str(tmp_path / "gone.npz")]}]
    specs, _ = unique_runs(expand(load_suite(str(_suite(tmp_path / "suite.yaml", GOOD_GROUP, *groups)))))
    problems = find_problems(specs)
    assert len(problems) == 5 and sum(map(len, problems.values())) == 5
    with pytest.raises(InputError) as error:
        check_runs(specs, where="suite 'preflight'")
    text = str(error.value)
    assert text.startswith("suite 'preflight': 5 of 6 runs cannot run")
    assert "synreg-nope" in text and "Did you mean" in text and "and 2 more problems" in text
    assert "gone.npz" not in text  # beyond the first three
    assert "and 1 more problem." in format_problems(problems, 6, shown=4)


def test_one_problem_shared_by_many_runs_is_listed_once(tmp_path):
    group = {**GOOD_GROUP, "instances": ["synreg-nope"], "solvers": ["scip", "highs"],
             "params": {"k": [3, 4], "lambda2": [0.1]}}
    specs, _ = unique_runs(expand(load_suite(str(_suite(tmp_path / "suite.yaml", group)))))
    problems = find_problems(specs)
    assert list(map(len, problems.values())) == [4]
    assert "(and 3 other runs)" in format_problems(problems, len(specs))


def test_unavailable_real_data_does_not_stop_the_suite(tmp_path, monkeypatch):
    """A catalogue instance whose raw files are missing: the run goes ahead (and records an
    input-error row); the pre-flight reports nothing for it."""
    monkeypatch.setenv("MIOBENCH_DATA_DIR", str(tmp_path / "no-data"))
    monkeypatch.setenv("MIOBENCH_INSTANCE_DIR", str(tmp_path / "no-library"))
    monkeypatch.delenv("MIOBENCH_ALLOW_DOWNLOAD", raising=False)
    group = {**GOOD_GROUP, "instances": ["communities-crime"]}
    specs, _ = unique_runs(expand(load_suite(str(_suite(tmp_path / "suite.yaml", group)))))
    assert find_problems(specs) == {}


def test_bnb_options_are_checked_as_bnb_checks_them():
    check_bnb_options({"batch_size": 1, "backend": "numpy", "node_limit": 10, "beam_width": 4})
    for bad, says in (({"batch_size": 0}, "batch_size"), ({"batchsize": 1}, r"no option\(s\) batchsize"),
                      ({"backend": "tpu"}, "backend"), ({"node_limit": 0}, "node_limit")):
        with pytest.raises(InputError, match=says):
            check_bnb_options(bad)


def _input_error_row(suite_file: Path, instance: str, suite: str = "preflight", **extra):
    spec = expand(load_suite(str(suite_file)))[0]
    spec = type(spec)(**{**spec.__dict__, "instance": instance})
    record = failure_record(spec, "error", f"unknown instance id {instance!r}", **extra)
    record.suite, record.timestamp = suite, "2024-01-01T00:00:00+00:00"
    return record


def test_a_corrected_suite_supersedes_the_input_error_rows_it_dropped(tmp_path):
    from reference_impl.reports.tables import prepare, runs_table, status_counts

    store = tmp_path / "store"
    typo = _suite(tmp_path / "typo.yaml", {**GOOD_GROUP, "instances": ["synreg-nope"]})
    rows = ResultsStore(store)
    rows.write(_input_error_row(typo, "synreg-nope", input_error=True))      # what the typo left behind
    rows.write(_input_error_row(typo, "synreg-solver-bug"))                  # an error, not an input error
    rows.write(_input_error_row(typo, "other-suite-typo", suite="other", input_error=True))
    rows.consolidate()
    assert set(_rows(store)["instance"]) == {"synreg-nope", "synreg-solver-bug", "other-suite-typo"}

    result = _run(_suite(tmp_path / "fixed.yaml", GOOD_GROUP), store)
    assert result.returncode == 0, result.stderr

    live = _rows(store)
    assert set(live["instance"]) == {"synreg-n60-p12-k4", "synreg-solver-bug", "other-suite-typo"}
    table = prepare(live)
    assert "synreg-nope" not in set(runs_table(table)["instance"])
    assert status_counts(table)["runs"].sum() == 3
    superseded = ResultsStore(store).superseded()
    assert (store / SUPERSEDED).is_file()
    assert list(superseded["instance"]) == ["synreg-nope"]
    assert list(superseded["moved_reason"]) == [NOT_IN_SUITE]
    assert '"superseded": 1' in result.stdout


def test_stale_input_errors_keep_rows_of_runs_still_in_the_suite(tmp_path):
    suite = _suite(tmp_path / "suite.yaml", GOOD_GROUP)
    specs = expand(load_suite(str(suite)))
    kept = failure_record(specs[0], "error", "data missing", input_error=True)
    kept.suite = "preflight"
    dropped = _input_error_row(suite, "synreg-nope", input_error=True)
    assert stale_input_errors([kept, dropped], [s.run_id for s in specs], "preflight") == [dropped.run_id]


def test_a_run_in_which_every_executed_run_errored_exits_non_zero(tmp_path):
    env = {**os.environ, "MIOBENCH_DATA_DIR": str(tmp_path / "no-data"),
           "MIOBENCH_INSTANCE_DIR": str(tmp_path / "no-library")}
    env.pop("MIOBENCH_ALLOW_DOWNLOAD", None)
    store = tmp_path / "store"
    result = _run(_suite(tmp_path / "suite.yaml", {**GOOD_GROUP, "instances": ["communities-crime"]}), store, env)
    assert result.returncode == 1, result.stderr
    assert '"all_errored": true' in result.stdout
    rows = _rows(store)
    assert list(rows["status"]) == ["error"] and '"input_error": true' in rows["extra"].iloc[0]
