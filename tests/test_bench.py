"""asv glue: the regression check flags a planted slowdown and a worse gap, passes an
unchanged result set, and the asv history report renders."""
import json

import pytest

from reference_impl import asv_glue as bench
from reference_impl.cli import main

COLUMNS = ["result", "params", "version", "started_at", "duration"]
PARAMS = [["'case-a'", "'case-b'"], ["'scip'"]]


def write_results(directory, commit, *, time_solve, gap, date):
    machine = directory / "testbox"
    machine.mkdir(parents=True, exist_ok=True)
    (machine / "machine.json").write_text(json.dumps({"machine": "testbox", "version": 1}))
    results = {
        "formulations.Formulations.time_solve": [time_solve, PARAMS, "v", 0, 1.0],
        "formulations.Formulations.track_gap": [gap, PARAMS, "v", 0, 1.0],
        "formulations.Formulations.track_nodes": [[10.0, 20.0], PARAMS, "v", 0, 1.0],
    }
    data = {"commit_hash": commit, "env_name": "existing", "date": date, "params": {}, "python": "3.11",
            "requirements": {}, "env_vars": {}, "result_columns": COLUMNS, "results": results,
            "durations": {}, "version": 2}
    (machine / f"{commit[:8]}-existing.json").write_text(json.dumps(data))


@pytest.fixture
def results(tmp_path):
    write_results(tmp_path, "a" * 40, time_solve=[1.0, 2.0], gap=[0.0, 1e-9], date=1_700_000_000_000)
    write_results(tmp_path, "b" * 40, time_solve=[1.05, 2.1], gap=[0.0, 2e-9], date=1_700_000_100_000)  # unchanged
    write_results(tmp_path, "c" * 40, time_solve=[2.0, 2.0], gap=[0.0, 1e-9], date=1_700_000_200_000)  # 2x slower
    write_results(tmp_path, "d" * 40, time_solve=[1.0, 2.0], gap=[0.05, None], date=1_700_000_300_000)  # gap worse, broken
    return tmp_path


def test_unchanged_results_pass(results, capsys):
    assert [c for c in bench.compare("aaaa", "bbbb", factor=1.2, results_dir=results) if c.kind in bench.REGRESSIONS] == []
    assert main(["bench", "compare", "aaaa", "bbbb", "--results", str(results)]) == 0
    assert "0 regression(s)" in capsys.readouterr().out


def test_planted_slowdown_is_flagged(results, capsys):
    changes = bench.compare("aaaa", "cccc", factor=1.5, results_dir=results)
    slower = [c for c in changes if c.kind == "slower"]
    assert len(slower) == 1 and slower[0].params == "case-a / scip" and slower[0].ratio == pytest.approx(2.0)
    assert main(["bench", "compare", "aaaa", "cccc", "--factor", "1.5", "--results", str(results)]) == 1
    assert "REGRESSION" in capsys.readouterr().out


def test_worse_gap_and_broken_benchmark_are_flagged(results):
    kinds = {(c.params, c.kind) for c in bench.compare("aaaa", "dddd", results_dir=results)}
    assert ("case-a / scip", "gap worse") in kinds and ("case-b / scip", "broken") in kinds


def test_missing_commit_is_a_clear_error(results, capsys):
    assert main(["bench", "compare", "aaaa", "ffff", "--results", str(results)]) == 2
    assert "no asv results for commit 'ffff'" in capsys.readouterr().err


def test_asv_history_report(results, tmp_path):
    assert main(["report", "--asv", str(results), "--out", str(tmp_path / "asv")]) == 0
    text = (tmp_path / "asv" / "report.md").read_text()
    assert "formulations.Formulations.time_solve" in text and "aaaaaaaa" in text
    assert (tmp_path / "asv" / "formulations_Formulations_time_solve.svg").exists()
