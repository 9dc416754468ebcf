"""``miobench rashomon``: the set on an .npz or catalogue instance, its summary, --json and
--out (Parquet, CSV), and bad input: one error line, exit status 2, no traceback."""
from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from reference_impl.cli import main
from reference_impl.commands import rashomon as command


@pytest.fixture(scope="module")
def npz(tmp_path_factory):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 8))
    y = X[:, 0] - X[:, 1] + 0.5 * rng.standard_normal(50)
    path = tmp_path_factory.mktemp("rashomon") / "toy.npz"
    np.savez(path, X=X, y=y)
    return path, X, y


def run(argv, capsys):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_summary_and_table(npz, capsys):
    path, X, y = npz
    code, out, err = run(["rashomon", path, "--k", 2, "--lambda2", 0.1, "--top", 3], capsys)
    assert code == 0, err
    assert "models: 3" in out and "complete: True" in out and "threshold:" in out
    lines = out.splitlines()
    header = lines.index("rank\tobjective\tsupport\tcoef")
    assert lines[header + 1].split("\t")[2] == "0 1"  # the planted support is the best model


def test_json_and_out_files(npz, capsys, tmp_path):
    from reference_impl.kglm import solve

    path, X, y = npz
    for suffix in (".parquet", ".csv"):
        out_file = tmp_path / f"models{suffix}"
        code, out, err = run(["rashomon", path, "--k", 2, "--lambda2", 0.1, "--epsilon", 9.0, "--json", "--show", 2,
                              "--out", out_file], capsys)
        assert code == 0, err
        summary = json.loads(out)
        assert summary["complete"] is True and summary["instance"] == "toy" and summary["epsilon"] == 9.0
        assert summary["threshold"] == pytest.approx(10 * summary["optimum"])
        assert len(summary["best"]) == 2 and summary["best"][0]["support"] == [0, 1]
        assert summary["optimum"] == pytest.approx(solve(X, y, k=2, lambda2=0.1, gap_tol=1e-9).objective, rel=1e-8)
        frame = pd.read_parquet(out_file) if suffix == ".parquet" else pd.read_csv(out_file)
        assert len(frame) == summary["models"] and list(frame.columns) == ["rank", "objective", "size", "support", "coef"]
        assert frame["objective"].is_monotonic_increasing
        first = frame.iloc[0]
        support = list(first["support"]) if suffix == ".parquet" else [int(j) for j in first["support"].split()]
        coef = list(first["coef"]) if suffix == ".parquet" else [float(c) for c in first["coef"].split()]
        assert support == [0, 1] and coef == summary["best"][0]["coef"]  # exact, CSV included
        assert first["objective"] == summary["best"][0]["objective"]


def test_catalogue_instance_logistic(capsys):
    code, out, err = run(["rashomon", "kglm-logit-n60-p12-k3", "--k", 3, "--loss", "logistic", "--lambda2", 1, "--M", 2,
                          "--top", 4, "--json"], capsys)
    assert code == 0, err
    summary = json.loads(out)
    assert summary["models"] >= 4 and summary["complete"] and summary["loss"] == "logistic"


def test_incomplete_run_says_so(npz, capsys):
    path, _, _ = npz
    code, out, err = run(["rashomon", path, "--k", 3, "--lambda2", 0.1, "--epsilon", 5, "--node-limit", 1,
                          "--batch-size", 1, "--json"], capsys)
    assert code == 0, err
    summary = json.loads(out)
    assert summary["complete"] is False and summary["status"] == "node_limit"
    assert math.isfinite(summary["open_bound"]) or summary["open_bound"] in ("inf", "-inf")


@pytest.mark.parametrize("extra, match", [
    (["--k", 2, "--epsilon", -1], "--epsilon must be >= 0"),
    (["--k", 2, "--top", 0], "--top must be >= 1"),
    (["--k", 99, "--top", 1], "k must satisfy"),
    (["--k", 2, "--top", 1, "--lambda2", -1], "--lambda2 must be >= 0"),
    (["--k", 2, "--top", 1, "--M", 0], "--M must be > 0"),
    (["--k", 2, "--top", 1, "--time-limit", 0], "--time-limit must be > 0"),
    (["--k", 2, "--top", 1, "--out", "models.txt"], "--out must end in .parquet or .csv"),
    (["--k", 2, "--top", 1, "--out", "no/such/folder/m.csv"], "does not exist"),
    (["--k", 2, "--top", 1, "--loss", "logistic"], "logistic labels"),
])
def test_bad_input_exits_2_with_one_line(npz, capsys, extra, match):
    path, _, _ = npz
    code, out, err = run(["rashomon", path, *extra], capsys)
    assert code == 2
    assert match in err and err.startswith("miobench: error:") and err.count("\n") == 1
    assert "Traceback" not in err


def test_missing_instance_exits_2(capsys):
    code, out, err = run(["rashomon", "no-such-file.npz", "--k", 2, "--top", 1], capsys)
    assert code == 2 and "does not exist" in err


@pytest.mark.parametrize("argv", [["--k", "2"], ["--k", "2", "--top", "1", "--epsilon", "0.1"], ["--top", "1"]])
def test_usage_errors_exit_2(npz, capsys, argv):
    path, _, _ = npz
    with pytest.raises(SystemExit) as info:
        main(["rashomon", str(path), *argv])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "error:" in err and "Traceback" not in err


def test_command_module_contract():
    assert command.NAME == "rashomon" and callable(command.add) and callable(command.run)
