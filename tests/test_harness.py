"""The harness: a grid into a Parquet store, resumable, and no run is ever lost."""

import pandas as pd
import pyarrow.parquet as pq
import pytest

from reference_impl.harness.runner import run_one, run_suite
from reference_impl.harness.store import SCHEMA, ResultsStore
from reference_impl.harness.suites import RunSpec, expand, load_suite
from reference_impl.record import ResultRecord

SUITE = """
name: tiny
description: test suite
time_limit: 20
grace: 30
groups:
  - formulations: [sparse_regression.l0l2_bigm, sparse_regression.perspective]
    solvers: [scip, highs]
    instances: [synreg-n30-p8-k3]
    params: {k: [3], lambda2: [0.1]}
"""


@pytest.fixture(scope="module")
def tiny_store(tmp_path_factory):
    root = tmp_path_factory.mktemp("harness")
    suite = root / "tiny.yaml"
    suite.write_text(SUITE)
    summary = run_suite(str(suite), store=root / "store", progress=False)
    return root, suite, summary


def test_suite_expansion_is_the_full_grid():
    suite = load_suite("default")
    specs = expand(suite)
    assert len({s.run_id for s in specs}) == len(specs)
    group = suite["groups"][0]
    assert sum(1 for s in specs if s.instance in group["instances"] and s.solver in group["solvers"]) >= \
        len(group["formulations"]) * len(group["instances"]) * len(group["params"]) * len(group["solvers"])


def test_run_writes_every_row_to_parquet(tiny_store):
    root, _, summary = tiny_store
    assert summary["executed"] == 4 and summary["statuses"] == {"optimal": 2, "unsupported": 2}
    table = pq.read_table(root / "store" / "results.parquet")
    assert table.schema.equals(SCHEMA, check_metadata=False)
    frame = table.to_pandas()
    assert len(frame) == 4 and frame["run_id"].is_unique
    optimal = frame[frame["status"] == "optimal"]
    assert optimal["root_bound"].notna().all() and (optimal["gap"] <= 1e-4).all()
    assert (frame["suite"] == "tiny").all()


def test_rerun_skips_finished_runs(tiny_store):
    root, suite, _ = tiny_store
    again = run_suite(str(suite), store=root / "store", progress=False)
    assert again["executed"] == 0 and again["skipped"] == 4


def test_killed_run_is_recorded_as_time_limit():
    # a wall-clock limit shorter than the worker needs to start: the harness must kill it
    spec = RunSpec("sparse_regression.best_subset", "scip", "synreg-n200-p40-k5", {"k": 5}, time_limit=0.2,
                   root_relaxation=False)
    record = run_one(spec, grace=0.0, memory_limit_gb=None)
    assert record.status == "time_limit" and "killed by the harness" in record.message
    assert record.run_id == spec.run_id and record.wall_seconds < 10


def test_out_of_memory_run_is_recorded_as_crashed():
    spec = RunSpec("sparse_regression.perspective", "scip", "synreg-n30-p8-k3", {"k": 3}, time_limit=5)
    record = run_one(spec, grace=30, memory_limit_gb=0.05)
    assert record.status == "crashed" and "without a result" in record.message


def test_bad_params_are_an_error_row_not_a_crash(tmp_path):
    spec = RunSpec("sparse_regression.perspective", "scip", "synreg-n30-p8-k3", {"k": 99}, time_limit=5)
    record = run_one(spec, grace=30, memory_limit_gb=None)
    assert record.status == "error" and "must be <= 8" in record.message
    store = ResultsStore(tmp_path)
    store.write(record)
    assert ResultsStore(tmp_path).records()[0].status == "error"


def test_store_roundtrip(tmp_path):
    store = ResultsStore(tmp_path)
    record = ResultRecord(formulation="f", solver="s", instance="i", status="time_limit", run_id="abc",
                          params={"k": 2}, extra={"x": [1, 2]})
    store.write(record)
    assert store.records() == [record]
    store.consolidate()
    assert len(pd.read_parquet(tmp_path / "results.parquet")) == 1


def test_suite_numbers_written_in_exponent_form_are_numbers(tmp_path):
    suite = tmp_path / "exp.yaml"
    suite.write_text("name: exp\ntime_limit: 5\nrel_gap: 1e-6\ngroups:\n"
                     "  - {formulations: [sparse_regression.perspective], solvers: [scip],"
                     " instances: [synreg-n30-p8-k3], params: {k: [3], lambda2: [1e-3]}}\n")
    loaded = load_suite(str(suite))
    assert loaded["rel_gap"] == 1e-6
    assert expand(loaded)[0].params == {"k": 3, "lambda2": 0.001}
