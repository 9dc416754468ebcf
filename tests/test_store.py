"""The results store never drops a recorded row, and skips rows it cannot trust (with a warning)."""
import shutil

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from reference_impl.harness.store import SCHEMA, ResultsStore
from reference_impl.record import ResultRecord


def _record(run_id: str, status: str = "optimal", timestamp: str = "2026-01-01T00:00:00+00:00", **kw) -> ResultRecord:
    return ResultRecord(formulation="sparse_regression.perspective", solver="scip", instance=f"inst-{run_id}",
                        status=status, run_id=run_id, timestamp=timestamp, params={"k": 3}, **kw)


def _fresh_clone(store_dir, clone_dir):
    """What a fresh clone has: the committed consolidated table, no runs/ folder (git-ignored)."""
    clone_dir.mkdir()
    shutil.copy(store_dir / "results.parquet", clone_dir / "results.parquet")
    return ResultsStore(clone_dir)


def test_new_runs_on_a_fresh_clone_keep_the_committed_rows(tmp_path):
    original = ResultsStore(tmp_path / "original")
    for run_id in ("a", "b", "c"):
        original.write(_record(run_id))
    original.consolidate()
    clone = _fresh_clone(tmp_path / "original", tmp_path / "clone")
    assert sorted(clone.load()["run_id"]) == ["a", "b", "c"]
    clone.write(_record("d", timestamp="2026-02-01T00:00:00+00:00"))
    assert sorted(clone.load()["run_id"]) == ["a", "b", "c", "d"]
    clone.consolidate()
    assert sorted(pd.read_parquet(tmp_path / "clone" / "results.parquet")["run_id"]) == ["a", "b", "c", "d"]


def test_a_retried_run_replaces_its_row_and_keeps_the_others(tmp_path):
    original = ResultsStore(tmp_path / "original")
    original.write(_record("a"))
    original.write(_record("b", status="error", message="solver failed"))
    original.consolidate()
    clone = _fresh_clone(tmp_path / "original", tmp_path / "clone")
    clone.write(_record("b", status="optimal", timestamp="2026-03-01T00:00:00+00:00"))  # --retry-failed
    clone.consolidate()
    frame = ResultsStore(tmp_path / "clone").load().set_index("run_id")
    assert sorted(frame.index) == ["a", "b"] and frame.loc["b", "status"] == "optimal"
    # an older per-run file never overrides a newer consolidated row
    (tmp_path / "clone" / "runs" / "b.parquet").unlink()
    clone.write(_record("b", status="error", timestamp="2025-01-01T00:00:00+00:00"))
    assert ResultsStore(tmp_path / "clone").load().set_index("run_id").loc["b", "status"] == "optimal"


def test_the_runner_keeps_committed_rows_when_a_suite_grows(tmp_path):
    """The issue's sequence end to end: a suite run, 'committed' (runs/ dropped), then one more run."""
    from reference_impl.harness.runner import run_suite

    one = "name: s\ntime_limit: 10\nroot_relaxation: false\ngroups:\n" \
          "  - {formulations: [risk_score.pwl], solvers: [highs], instances: %s, params: {k: 2}}\n"
    suite = tmp_path / "s.yaml"
    suite.write_text(one % "[synrisk-n60-d3]")
    store = tmp_path / "store"
    run_suite(str(suite), store=store, progress=False)
    shutil.rmtree(store / "runs")
    suite.write_text(one % "[synrisk-n60-d3, synrisk-n200-d6]")
    summary = run_suite(str(suite), store=store, progress=False)
    assert summary["executed"] == 1 and summary["skipped"] == 1
    assert len(pd.read_parquet(store / "results.parquet")) == 2


@pytest.mark.parametrize("foreign", ["other_schema", "unknown_status", "wrong_type", "no_status"])
def test_a_foreign_row_file_is_skipped_with_a_warning(tmp_path, foreign):
    store = ResultsStore(tmp_path)
    store.write(_record("good"))
    path = tmp_path / "runs" / "foreign.parquet"
    if foreign == "other_schema":
        pq.write_table(pa.table({"name": ["x"], "score": [1.0]}), path)
    else:
        row = _record("foreign").to_row()
        if foreign == "unknown_status":
            row["status"] = "finished"
        elif foreign == "no_status":
            row["status"] = None
        table = pa.Table.from_pylist([row], schema=SCHEMA)
        if foreign == "wrong_type":
            table = table.set_column(SCHEMA.get_field_index("objective"), "objective", pa.array(["abc"]))
        pq.write_table(table, path)
    with pytest.warns(UserWarning, match="foreign.parquet"):
        frame = ResultsStore(tmp_path).load()
    assert list(frame["run_id"]) == ["good"]
    with pytest.warns(UserWarning):
        ResultsStore(tmp_path).consolidate()
    assert path.exists()  # kept for the user to look at, never deleted


def test_rewriting_a_run_keeps_the_foreign_file_it_replaces(tmp_path):
    store = ResultsStore(tmp_path)
    path = tmp_path / "runs" / "x.parquet"
    path.parent.mkdir()
    pq.write_table(pa.table({"name": ["x"]}), path)
    store.write(_record("x"))
    assert (tmp_path / "runs" / "x.parquet.rejected").exists()
    assert list(ResultsStore(tmp_path).load()["run_id"]) == ["x"]


def test_invalid_consolidated_rows_are_kept_aside_and_the_rest_loads(tmp_path):
    rows = [_record("a").to_row(), {**_record("b").to_row(), "status": "weird"}]
    pq.write_table(pa.Table.from_pylist(rows, schema=SCHEMA), tmp_path / "results.parquet")
    store = ResultsStore(tmp_path)
    with pytest.warns(UserWarning, match="not valid records"):
        assert list(store.load()["run_id"]) == ["a"]
        store.consolidate()
    rejected = pd.read_parquet(tmp_path / "rejected.parquet")
    assert list(rejected["run_id"]) == ["b"] and rejected["status"].tolist() == ["weird"]


def test_an_unreadable_consolidated_file_is_moved_aside_not_overwritten(tmp_path):
    (tmp_path / "results.parquet").write_bytes(b"not parquet")
    store = ResultsStore(tmp_path)
    store.write(_record("a"))
    with pytest.warns(UserWarning):
        store.consolidate()
    aside = list(tmp_path.glob("results.parquet.unreadable-*"))
    assert len(aside) == 1 and aside[0].read_bytes() == b"not parquet"
    assert list(pd.read_parquet(tmp_path / "results.parquet")["run_id"]) == ["a"]


def test_supersede_moves_rows_out_of_the_live_store_and_keeps_them(tmp_path):
    store = ResultsStore(tmp_path)
    for run_id in ("a", "b"):
        store.write(_record(run_id))
    store.consolidate()
    store.write(_record("c"))
    assert store.supersede(["b", "c", "zzz"], reason="not in the suite any more") == 2
    assert list(ResultsStore(tmp_path).load()["run_id"]) == ["a"]
    store.consolidate()
    assert list(pd.read_parquet(tmp_path / "results.parquet")["run_id"]) == ["a"]
    moved = store.superseded()
    assert sorted(moved["run_id"]) == ["b", "c"] and set(moved["moved_reason"]) == {"not in the suite any more"}
    assert store.supersede(["a"], reason="again") == 1 and len(store.superseded()) == 3
