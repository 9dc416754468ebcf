"""The command line: list, solve (JSON record), and one clear line for every bad input."""
import json
import subprocess
import sys

import numpy as np
import pytest

from reference_impl.cli import main
from reference_impl.commands._common import parse_param
from reference_impl.record import ResultRecord
from reference_impl.registry import formulations

SMALL = "synreg-n30-p8-k3"


def run_cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "reference_impl", *args], capture_output=True, text=True,
                          timeout=300, env=env)


def test_list_shows_every_formulation_with_class_and_solvers(capsys):
    assert main(["list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in rows] == list(formulations())
    by_id = {r["id"]: r for r in rows}
    assert by_id["sparse_regression.perspective"]["equation"] == "(7)"
    assert by_id["sparse_regression.perspective"]["class"] == "MISOCP"
    assert "highs" not in by_id["sparse_regression.perspective"]["solvers"]
    assert "scip" in by_id["sparse_regression.l0l2_bigm"]["solvers"]


def test_solve_prints_one_json_record():
    result = run_cli("solve", "sparse_regression.perspective", "--instance", SMALL, "--solver", "scip",
                     "--time-limit", "30", "--param", "k=3", "--param", "lambda2=0.1", "--json")
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert set(ResultRecord.columns()) <= set(record)
    assert record["status"] == "optimal" and record["params"] == {"k": 3, "lambda2": 0.1}
    assert len(record["instance_sha256"]) == 64


def test_solve_from_npz_path(tmp_path):
    from reference_impl.instances.generators import synthetic_regression
    from reference_impl.instances.storage import write_npz

    data = synthetic_regression(20, 5, 2, seed=3)
    path = tmp_path / "mine.npz"
    write_npz(path, {"X": data["X"], "y": data["y"]})
    result = run_cli("solve", "sparse_regression.best_subset", "--instance", str(path), "--param", "k=2", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["instance"] == "mine"


@pytest.mark.parametrize(
    "args, message",
    [
        (["solve", "sparse_regression.nope", "--instance", SMALL], "unknown formulation id"),
        (["solve", "sparse_regression.perspective", "--instance", "no-such-instance", "--param", "k=2"], "unknown instance id"),
        (["solve", "sparse_regression.perspective", "--instance", SMALL, "--solver", "cplex", "--param", "k=2"],
         "unknown solver"),
        (["solve", "sparse_regression.perspective", "--instance", SMALL, "--param", "k=9"], "must be <= 8"),
        (["solve", "sparse_regression.perspective", "--instance", SMALL, "--param", "k=-1"], "must be >= 1"),
        (["solve", "sparse_regression.perspective", "--instance", SMALL, "--param", "k=2", "--param", "lambda2=-1"],
         "lambda2 must be >= 0"),
        (["solve", "sparse_regression.perspective", "--instance", SMALL, "--param", "lambda0=-0.5"], "lambda0 must be >= 0"),
        (["solve", "sparse_regression.perspective", "--instance", SMALL], "needs k"),
        (["solve", "sparse_regression.best_subset", "--instance", SMALL, "--param", "k=2", "--param", "lambda2=1"],
         "no hyperparameter"),
        (["solve", "sparse_regression.perspective", "--instance", SMALL, "--param", "k"], "name=value"),
    ],
)
def test_bad_input_gives_one_clear_line(args, message, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1 and "Traceback" not in err


@pytest.mark.parametrize("corruption, message", [("nan", "NaN"), ("shape", "rows but y has")])
def test_bad_arrays_give_clear_errors(tmp_path, corruption, message, capsys):
    from reference_impl.instances.storage import write_npz

    X, y = np.ones((10, 3)) + np.eye(10, 3), np.arange(10.0)
    if corruption == "nan":
        X[2, 1] = np.nan
    else:
        y = y[:-1]
    write_npz(tmp_path / "bad.npz", {"X": X, "y": y})
    assert main(["solve", "sparse_regression.perspective", "--instance", str(tmp_path / "bad.npz"), "--param", "k=2"]) == 2
    assert message in capsys.readouterr().err


def test_missing_data_file_is_one_clear_line(tmp_path):
    import os

    env = {**os.environ, "MIOBENCH_DATA_DIR": str(tmp_path), "MIOBENCH_INSTANCE_DIR": str(tmp_path / "lib")}
    result = run_cli("solve", "sparse_regression.perspective", "--instance", "communities-crime", "--param", "k=4", env=env)
    assert result.returncode == 2
    assert "MIOBENCH_DATA_DIR" in result.stderr and "Traceback" not in result.stderr


def test_param_parsing():
    assert parse_param("k=5") == ("k", 5)
    assert parse_param("lambda2 = 0.1") == ("lambda2", 0.1)
    assert parse_param("M=inf") == ("M", float("inf"))
    assert parse_param("M=auto") == ("M", "auto")
    assert parse_param("lambda0=none") == ("lambda0", None)
