"""A library call prints nothing unless asked (checked at the file-descriptor level: C
libraries write to fd 1 directly), and the API's edge cases are one clear InputError."""
import json
import math
import subprocess
import sys

import numpy as np
import pytest

from reference_impl import solve
from reference_impl.cli import main
from reference_impl.errors import InputError
from reference_impl.solvers import is_installed, solver_version

HIGHS, SCIP, GUROBI = (pytest.mark.skipif(not is_installed(s), reason=f"{s} is not installed")
                       for s in ("highs", "scip", "gurobi"))

#: one small case per solver (a formulation it takes, on a tiny catalogue instance)
QUIET_CASES = [
    pytest.param("risk_score.pwl", "synrisk-n60-d3", "highs", {"k": 2}, marks=HIGHS, id="highs"),
    pytest.param("sparse_regression.perspective", "synreg-n30-p8-k3", "scip", {"k": 3}, marks=SCIP, id="scip"),
    pytest.param("sparse_logistic.perspective", "synclass-n30-p6-k2", "scip", {"k": 2, "lambda2": 1.0},
                 marks=SCIP, id="scip-minlp"),
    pytest.param("sparse_regression.l0l2_bigm", "synreg-n30-p8-k3", "gurobi", {"k": 3, "lambda2": 1.0},
                 marks=GUROBI, id="gurobi"),
    pytest.param("kglm.perspective", "kglm-ls-n40-p12-k3", "bnb", {"k": 3, "lambda2": 1.0, "M": 2.0}, id="bnb"),
    pytest.param("sparse_regression.information_criterion", "synreg-n30-p8-k3", "kscan", {"criterion": "bic"},
                 marks=SCIP, id="kscan"),
    pytest.param("risk_score.cutting_plane", "synrisk-n60-d3", "highs", {"k": 2}, marks=HIGHS, id="cutting-plane"),
]


@pytest.mark.parametrize("formulation, instance, solver, params", QUIET_CASES)
def test_a_solve_prints_nothing(formulation, instance, solver, params, capfd):
    solver_version.cache_clear()  # the version probes (HiGHS's banner came from one) run again
    capfd.readouterr()
    record = solve(formulation, instance, solver=solver, time_limit=30, root_relaxation=True, **params)
    out, err = capfd.readouterr()
    assert record.status == "optimal", record.message
    assert out == "" and err == ""


def _run(*code_or_args: str, module: bool = False) -> subprocess.CompletedProcess:
    """A fresh interpreter (banners are printed once per process, so only a fresh one shows them)."""
    argv = ["-m", "reference_impl", *code_or_args] if module else ["-c", *code_or_args]
    return subprocess.run([sys.executable, *argv], capture_output=True, text=True, timeout=300)


@HIGHS
def test_the_first_highs_solve_of_a_process_prints_no_banner():
    result = _run("from reference_impl import solve; "
                  "print(solve('risk_score.pwl', 'synrisk-n60-d3', solver='highs', time_limit=30, k=2).status)")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "optimal\n" and result.stderr == ""


@HIGHS
def test_solve_json_stdout_is_pure_json_with_highs():
    result = _run("solve", "risk_score.pwl", "--instance", "synrisk-n60-d3", "--solver", "highs",
                  "--time-limit", "30", "--param", "k=2", "--json", module=True)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["status"] == "optimal"


@pytest.mark.parametrize("solver", [pytest.param("highs", marks=HIGHS), pytest.param("scip", marks=SCIP),
                                    pytest.param("gurobi", marks=GUROBI)])
def test_verbose_prints_the_solver_log(solver, capfd):
    capfd.readouterr()
    solve("risk_score.pwl", "synrisk-n60-d3", solver=solver, time_limit=30, k=2, verbose=True)
    assert len(capfd.readouterr().out.splitlines()) > 5


# -- API edges ------------------------------------------------------------------------------
REGRESSION = "sparse_regression.perspective"
TINY = "synreg-n30-p8-k3"


@pytest.mark.parametrize("kwargs, message", [
    ({"time_limit": None}, "time_limit must be a positive number of seconds"),
    ({"rel_gap": None}, "rel_gap must be a number >= 0"),
    ({"k": "3"}, "hyperparameter k must be an integer, not str"),
    ({"lambda2": "0.1"}, "hyperparameter lambda2 must be a number, not str"),
    ({"lambda2": [0.1]}, "hyperparameter lambda2 must be a number, not list"),
    ({"warm_start": {"z": [1, 0, np.nan, 0, 1, 0, 1, 0]}}, "contains NaN or infinite values"),
    ({"warm_start": {"z": [1, 0, math.inf, 0, 1, 0, 1, 0]}}, "contains NaN or infinite values"),
    ({"warm_start": {"z": ["a"] * 8}}, "must be an array of numbers"),
    ({"verbose": "yes"}, "verbose must be true or false"),
])
def test_bad_api_arguments_are_one_input_error(kwargs, message):
    kwargs = {"k": 3, "lambda2": 0.1, "time_limit": 30, **kwargs}
    with pytest.raises(InputError, match=message):
        solve(REGRESSION, TINY, solver="scip", **kwargs)


def test_numeric_numpy_hyperparameters_are_still_numbers():
    record = solve(REGRESSION, TINY, solver="scip", time_limit=30, k=np.int64(3), lambda2=np.array(0.1))
    assert record.status == "optimal" and record.extra["effective_params"]["k"] == 3


@pytest.mark.parametrize("solver, options, message", [
    pytest.param("scip", {"nosuch": 1}, "scip has no option 'nosuch'", marks=SCIP),
    pytest.param("scip", {"limits/gap": "abc"}, "scip option limits/gap must be a number; got 'abc'", marks=SCIP),
    pytest.param("scip", {"display/verblevel": 1.5}, "must be an integer", marks=SCIP),
    pytest.param("scip", {"limits/gap": -1}, "scip refuses option limits/gap=-1", marks=SCIP),
    pytest.param("gurobi", {"TimeLimt": 3}, "Did you mean: TimeLimit", marks=GUROBI),
    pytest.param("gurobi", {"MIPGap": -1}, "gurobi refuses option MIPGap=-1", marks=GUROBI),
    pytest.param("highs", {"presolve": "bogus"}, "highs refuses option presolve='bogus'", marks=HIGHS),
    pytest.param("highs", {"time_limit": "5"}, "must be a number", marks=HIGHS),
    pytest.param("highs", {"nosuch": 1}, "highs has no option 'nosuch'", marks=HIGHS),
])
def test_bad_solver_options_are_rejected_before_the_build(solver, options, message, monkeypatch, capfd):
    from reference_impl.formulations.risk_score import RiskScorePWL

    monkeypatch.setattr(RiskScorePWL, "build", lambda *a: pytest.fail("the model was built"))
    with pytest.raises(InputError, match=message.replace("(", r"\(")):
        solve("risk_score.pwl", "synrisk-n60-d3", solver=solver, time_limit=30, k=2, solver_options=options)
    assert capfd.readouterr() == ("", "")


@pytest.mark.parametrize("solver, options", [pytest.param("scip", {"presolving/maxrounds": 1, "lp/presolving": True},
                                                          marks=SCIP),
                                             pytest.param("highs", {"presolve": "off", "mip_max_nodes": 100000},
                                                          marks=HIGHS)])
def test_good_solver_options_pass(solver, options):
    record = solve("risk_score.pwl", "synrisk-n60-d3", solver=solver, time_limit=30, k=2, solver_options=options)
    assert record.status == "optimal" and record.extra["solver_options"] == options


@pytest.fixture
def one_class(tmp_path):
    from reference_impl.instances.storage import write_npz

    X = np.random.default_rng(0).normal(size=(20, 4))
    path = tmp_path / "one_class.npz"
    write_npz(path, {"X": X, "y": np.ones(20)})
    return path


@pytest.mark.parametrize("solver", ["bnb", pytest.param("scip", marks=SCIP)])
def test_kglm_rejects_logistic_labels_of_one_class(one_class, solver):
    with pytest.raises(InputError, match="logistic loss needs both classes"):
        solve("kglm.perspective", str(one_class), solver=solver, time_limit=30, k=2, loss="logistic")


def test_kglm_solve_rejects_logistic_labels_of_one_class():
    from reference_impl.kglm import KGLMInputError, solve as kglm_solve

    X = np.random.default_rng(0).normal(size=(20, 4))
    for labels in (np.ones(20), np.zeros(20), -np.ones(20)):
        with pytest.raises(KGLMInputError, match="needs both classes"):
            kglm_solve(X, labels, k=2, loss="logistic", lambda2=1.0)


# -- the same through the command line: exit 2, one line -----------------------------------
def _one_line(argv, message, capsys) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1 and "Traceback" not in err, err


SOLVE = ["solve", REGRESSION, "--instance", TINY, "--time-limit", "30", "--param", "k=3"]


@pytest.mark.parametrize("extra, message", [
    pytest.param(["--option", "nosuch=1"], "scip has no option 'nosuch'", marks=SCIP),
    pytest.param(["--option", "limits/gap=abc"], "scip option limits/gap must be a number", marks=SCIP),
    (["--param", "lambda2=abc"], "hyperparameter lambda2 must be a number, not str"),
])
def test_bad_cli_values_are_one_line(extra, message, capsys):
    _one_line(SOLVE + extra, message, capsys)


def test_cli_one_class_kglm_is_one_line(one_class, capsys):
    _one_line(["solve", "kglm.perspective", "--instance", str(one_class), "--solver", "bnb",
               "--param", "k=2", "--param", "loss=logistic"], "logistic loss needs both classes", capsys)


@SCIP
def test_python_m_reference_impl_exits_2_on_an_unknown_option():
    result = _run(*SOLVE, "--option", "nosuch=1", module=True)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.splitlines() == ["miobench: error: scip has no option 'nosuch'."]
