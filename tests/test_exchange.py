"""Export any model to a standard file and read a solver's solution back (reference_impl/exchange.py,
``miobench export`` and ``miobench import-solution``).

The every-formulation round trip: each registered formulation (first own benchmark case) is
exported to a format SCIP reads (LP for linear models, MPS for quadratic ones, NL for nonlinear
ones), solved by SCIP from the file, and the file's optimum compared with ``api.solve`` on the
in-memory model; SCIP's solution file is imported back and re-evaluated.
"""
from __future__ import annotations

import json
import math
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest

from reference_impl.errors import InputError
from reference_impl.exchange import EXPORTABLE_CLASSES, export_model, import_solution, read_solution
from reference_impl.registry import formulations

pyscipopt = pytest.importorskip("pyscipopt")

ROOT = Path(__file__).resolve().parents[1]
#: per-solve limits of the round trip (both the file and the in-memory solve)
TIME_LIMIT = 5.0
#: both solves stop within this gap of the optimum, well inside the 1e-6 of the comparison
REL_GAP = 1e-7
#: SCIP's feasibility tolerance for nonlinear models on both paths: a nonlinear objective is a
#: constraint in SCIP, so its value is only as exact as this tolerance
SCIP_OPTIONS = {"numerics/feastol": 1e-8}
#: least share of the exportable formulations whose optima are compared (the others: a time limit)
MIN_COMPARED = 0.8
#: seconds after which no second try (with a longer limit) starts
RETRY_BUDGET = 75.0


def _close(a: float, b: float, tol: float = 1e-6) -> bool:
    """Equal within ``tol`` relative (``tol`` absolute near 0, as the record's gap check allows)."""
    return math.isclose(a, b, rel_tol=tol, abs_tol=tol)


def _scip_format(structure: dict) -> str:
    """A format SCIP reads for this model: LP when linear, MPS when quadratic (SCIP's LP reader does not
    take Pyomo's ``x ^ 2``), NL when nonlinear."""
    kinds = {structure["objective"], structure["constraints"]}
    return "nl" if "nonlinear" in kinds else "mps" if "quadratic" in kinds else "lp"


def _first_case(formulation):
    cases = formulation.own_benchmark_cases()
    assert cases, f"{formulation.id} has no benchmark case"
    return cases[0]


def _scip_solve(path: Path, tight: bool = False, time_limit: float = TIME_LIMIT):
    model = pyscipopt.Model()
    model.hideOutput()
    model.readProblem(str(path))
    model.setParam("limits/time", time_limit)
    model.setParam("limits/gap", REL_GAP)
    for name, value in (SCIP_OPTIONS.items() if tight else ()):
        model.setParam(name, value)
    model.optimize()
    return model


def _reference_solver(structure: dict) -> str:
    """The solver of the in-memory reference solve: another solver than the file's SCIP where one is
    fast for the class (HiGHS for linear models, Gurobi for quadratic ones), SCIP for nonlinear ones."""
    kinds = {structure["objective"], structure["constraints"]}
    return "scip" if "nonlinear" in kinds else "gurobi" if "quadratic" in kinds else "highs"


def _round_trip(tmp_path: Path, fid: str, formulation, time_limit: float) -> str | None:
    """Export, solve the file with SCIP, import its solution back, compare with api.solve in memory.
    Returns ``None`` when the optima were compared, else why not (a solve stopped at ``time_limit``)."""
    from reference_impl.api import solve
    from reference_impl.instances import resolve_instance

    instance, params = _first_case(formulation)
    declared = formulation.problem_class_for(formulation.validate(resolve_instance(instance), dict(params)))
    fmt = {"LP": "lp", "MILP": "lp", "MIQP": "mps", "MISOCP": "mps"}.get(declared, "nl")
    meta = export_model(fid, instance, params, fmt, tmp_path / f"{fid}.{fmt}")
    assert _scip_format(meta) in (fmt, "mps"), (fid, declared, meta["detected_class"])  # a class the file holds
    assert meta["n_vars"] > 0 and Path(meta["symbol_map"]).is_file()
    nonlinear = "nonlinear" in (meta["objective"], meta["constraints"])
    scip = _scip_solve(Path(meta["path"]), tight=nonlinear, time_limit=time_limit)
    assert scip.getNSols(), f"{fid}: SCIP found no solution of the {fmt} file in {time_limit:g} s"
    sol = tmp_path / f"{fid}.sol"
    scip.writeBestSol(str(sol))
    result = import_solution(fid, instance, params, sol, symbol_map=meta["symbol_map"])
    # the values went back to the right variables: the model's objective at them is SCIP's
    assert _close(result["model_objective"], scip.getObjVal()), (fid, result["model_objective"], scip.getObjVal())
    assert result["feasible"], (fid, result["max_violation"], result["violations"])
    if scip.getStatus() not in ("optimal", "gaplimit"):  # gaplimit: optimal within REL_GAP
        return f"SCIP stopped on the {fmt} file at {scip.getStatus()} ({time_limit:g} s)"
    solver = _reference_solver(meta)
    record = solve(fid, instance, solver=solver, time_limit=time_limit, rel_gap=REL_GAP,
                   solver_options=SCIP_OPTIONS if solver == "scip" and nonlinear else None, **params)
    if record.status in ("not_installed", "size_limited", "unsupported") and solver != "scip":
        solver = "scip"
        record = solve(fid, instance, solver=solver, time_limit=time_limit, rel_gap=REL_GAP, **params)
    if record.status != "optimal":
        return f"the in-memory solve ({solver}) ended {record.status} ({time_limit:g} s)"
    # the evaluator's objective at SCIP's optimum of the file against api.solve's on the in-memory model
    assert _close(result["objective"], record.objective), (fid, fmt, solver, result["objective"], record.objective)
    reference = record.solver_objective if formulation.approximation else record.objective
    assert _close(scip.getObjVal(), reference), (fid, fmt, solver, scip.getObjVal(), reference)
    return None


@pytest.mark.slow
def test_every_formulation_round_trips_through_scip(tmp_path):
    """Every formulation: export, SCIP solves the file, its optimum equals api.solve's on the in-memory
    model (another solver where one fits, see :func:`_reference_solver`), and SCIP's solution file
    imported back re-evaluates to SCIP's objective. A formulation without one Pyomo model (a loop of
    MILPs, an SDP) must be refused with an InputError; a comparison is skipped (with its reason) only
    when a solve stops at its time limit; those get a second try with a longer limit while the budget
    lasts. At least 80% of the exportable formulations must be compared."""
    started = time.perf_counter()
    every = formulations()
    exportable = {fid: f for fid, f in every.items() if f.problem_class in EXPORTABLE_CLASSES}
    skipped = {}
    for fid, formulation in every.items():
        if fid not in exportable:
            instance, params = _first_case(formulation)
            with pytest.raises(InputError, match=formulation.problem_class):
                export_model(fid, instance, params, "mps", tmp_path / f"{fid}.mps")
            warnings.warn(f"{fid}: no file export for a {formulation.problem_class} formulation (InputError, as it "
                          "should)", stacklevel=1)
    pending = dict(exportable)
    for time_limit in (TIME_LIMIT, 3 * TIME_LIMIT):
        for fid, formulation in pending.items():
            if time_limit > TIME_LIMIT and time.perf_counter() - started > RETRY_BUDGET:
                break  # out of budget: what stopped at the first limit stays skipped
            reason = _round_trip(tmp_path, fid, formulation, time_limit)
            if reason is None:
                skipped.pop(fid, None)
            else:
                skipped[fid] = reason
        pending = {fid: exportable[fid] for fid in skipped}
    for fid, reason in skipped.items():
        warnings.warn(f"{fid}: optimum not compared: {reason}", stacklevel=1)
    compared = len(exportable) - len(skipped)
    assert compared >= MIN_COMPARED * len(exportable), f"only {compared}/{len(exportable)} compared; skipped: {skipped}"
    assert time.perf_counter() - started < 300  # about 60 s on an idle machine; this only catches a runaway


# -- formats and bad input ------------------------------------------------------------
CASE = ("sparse_regression.perspective", "synreg-n30-p8-k3", {"k": 3, "lambda2": 0.1})
LINEAR = ("decision_sets.milp", "trees-planted-n20-p4-d2", {"max_literals": 2, "complexity": 4})
NONLINEAR = ("risk_score.minlp", "synrisk-n60-d3", {"k": 2})


def test_sidecar_holds_ids_params_and_name_map(tmp_path):
    fid, instance, params = CASE
    meta = export_model(fid, instance, params, "mps", tmp_path / "m.mps")
    sidecar = json.loads(Path(meta["symbol_map"]).read_text())
    assert sidecar["formulation"] == fid and sidecar["instance"] == instance and len(sidecar["instance_sha256"]) == 64
    assert sidecar["params"]["k"] == 3 and sidecar["problem_class"] == "MISOCP"
    assert {"n_vars", "n_cons", "n_integer", "n_binary", "nonzeros"} <= set(sidecar)
    assert sidecar["n_binary"] == 8 and sidecar["constraints"] == "quadratic"
    assert len(sidecar["variables"]) == sidecar["n_vars"]
    component, index = next(iter(sidecar["variables"].values()))
    assert isinstance(component, str)


@pytest.mark.parametrize("fmt", ["mps", "lp", "nl", "gms"])
def test_quadratic_model_writes_to_every_pyomo_format(tmp_path, fmt):
    fid, instance, params = CASE
    meta = export_model(fid, instance, params, fmt, tmp_path / f"m.{fmt}")
    assert Path(meta["path"]).stat().st_size > 0
    if fmt == "nl":
        assert (tmp_path / "m.col").is_file() and (tmp_path / "m.row").is_file()


def test_opb_round_trip_through_scip(tmp_path):
    fid, instance, params = LINEAR
    meta = export_model(fid, instance, params, None, tmp_path / "d.opb")  # format from the extension
    assert meta["format"] == "opb" and meta["n_binary"] == meta["n_vars"]
    scip = pyscipopt.Model()
    scip.hideOutput()
    scip.readProblem(meta["path"])
    scip.setParam("limits/time", 20.0)
    scip.optimize()
    assert scip.getStatus() == "optimal"
    sol = tmp_path / "d.sol"
    scip.writeBestSol(str(sol))
    result = import_solution(fid, instance, params, sol, symbol_map=meta["symbol_map"])
    assert result["feasible"]
    om = meta["objective_map"]
    assert _close(result["model_objective"], om["offset"] + om["sign"] * scip.getObjVal() / om["scale"])


def test_solution_by_pyomo_names_without_sidecar(tmp_path):
    fid, instance, params = LINEAR
    meta = export_model(fid, instance, params, "lp", tmp_path / "d.lp")
    scip = _scip_solve(Path(meta["path"]))
    sol = tmp_path / "d.sol"
    scip.writeBestSol(str(sol))
    result = import_solution(fid, instance, params, sol)  # LP labels: no symbol map needed
    assert result["names_from"].startswith("Pyomo") and _close(result["model_objective"], scip.getObjVal())
    assert "ONE_VAR_CONSTANT" in result["ignored"] or result["assigned"] > 0


def test_read_solution_formats(tmp_path):
    path = tmp_path / "a.sol"
    path.write_text("solution status: optimal solution found\nobjective value: 3.5\nx(1) 1 \t(obj:2)\n"
                    "# a comment\n=obj= 3.5\ny 2.5e-1\n")
    values, header = read_solution(path)
    assert values == {"x(1)": 1.0, "y": 0.25} and header["objective"] == 3.5 and header["status"].startswith("optimal")
    path.write_text("# Objective value = 7\nz 1\n")
    assert read_solution(path)[1]["objective"] == 7.0
    for text, match in [("solution status: infeasible\n", "infeasible"), ("no solution available\n", "no solution"),
                        ("x abc\n", "not a number"), ("x 1\nx 2\n", "two values"), ("\n", "not a solution file")]:
        path.write_text(text)
        with pytest.raises(InputError, match=match):
            read_solution(path)


@pytest.mark.parametrize("fmt, match", [("xls", "unknown export format"), ("opb", "0-1"), ("mps", "nonlinear"),
                                        ("lp", "nonlinear")])
def test_export_refuses_what_the_format_cannot_hold(tmp_path, fmt, match):
    fid, instance, params = NONLINEAR if fmt != "opb" else CASE
    with pytest.raises(InputError, match=match):
        export_model(fid, instance, params, fmt, tmp_path / f"m.{fmt}")
    assert not list(tmp_path.iterdir())  # nothing left behind


def test_nonlinear_into_opb_is_refused(tmp_path):
    fid, instance, params = NONLINEAR
    with pytest.raises(InputError, match="opb holds linear 0-1 models only"):
        export_model(fid, instance, params, "opb", tmp_path / "m.opb")


def test_export_checks_path_and_formulation(tmp_path):
    fid, instance, params = CASE
    with pytest.raises(InputError, match=r"must be named \*\.mps"):
        export_model(fid, instance, params, "mps", tmp_path / "m.lp")
    with pytest.raises(InputError, match="cannot tell the format"):
        export_model(fid, instance, params, None, tmp_path / "m.txt")
    with pytest.raises(InputError, match="does not exist"):
        export_model(fid, instance, params, "mps", tmp_path / "no" / "m.mps")
    with pytest.raises(InputError, match="no model to export"):
        export_model("risk_score.cutting_plane", "synrisk-n60-d3", {"k": 2}, "mps", tmp_path / "r.mps")


def test_import_refuses_unknown_names_and_other_params(tmp_path):
    fid, instance, params = CASE
    meta = export_model(fid, instance, params, "mps", tmp_path / "m.mps")
    sol = tmp_path / "bad.sol"
    sol.write_text("objective value: 1\nnosuchvar 1\n")
    with pytest.raises(InputError, match="does not have: nosuchvar"):
        import_solution(fid, instance, params, sol, symbol_map=meta["symbol_map"])
    with pytest.raises(InputError, match="does not have: nosuchvar"):
        import_solution(fid, instance, params, sol)
    sol.write_text("objective value: 1\n")
    with pytest.raises(InputError, match="hyperparameters"):
        import_solution(fid, instance, {**params, "k": 2}, sol, symbol_map=meta["symbol_map"])
    with pytest.raises(InputError, match="is of sparse_regression.perspective"):
        import_solution("sparse_regression.l0l2_bigm", instance, params, sol, symbol_map=meta["symbol_map"])


def test_missing_values_are_zero(tmp_path):
    """MIPLIB convention: an empty assignment (only an objective line) is the all-zero point."""
    fid, instance, params = LINEAR
    sol = tmp_path / "zero.sol"
    sol.write_text("=obj= 0\n")
    result = import_solution(fid, instance, params, sol)
    assert result["assigned"] == 0 and result["missing_set_to_zero"] > 0
    assert isinstance(result["feasible"], bool) and math.isfinite(result["max_violation"])


# -- the CLI ----------------------------------------------------------------------------
def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "reference_impl", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


def test_cli_export_and_import_solution(tmp_path):
    fid, instance, params = LINEAR
    out = tmp_path / "d.lp"
    flags = [f"--param={k}={v}" for k, v in params.items()]
    done = _cli("export", fid, "--instance", instance, *flags, "--format", "lp", "--out", str(out), "--json")
    assert done.returncode == 0, done.stderr
    meta = json.loads(done.stdout)
    assert meta["n_binary"] > 0 and Path(meta["symbol_map"]).is_file()
    scip = _scip_solve(out)
    sol = tmp_path / "d.sol"
    scip.writeBestSol(str(sol))
    done = _cli("import-solution", fid, "--instance", instance, *flags, "--solution", str(sol), "--map",
                meta["symbol_map"], "--json")
    assert done.returncode == 0, done.stderr
    assert _close(json.loads(done.stdout)["model_objective"], scip.getObjVal())


@pytest.mark.parametrize("argv", [
    ["export", NONLINEAR[0], "--instance", NONLINEAR[1], "--param", "k=2", "--format", "opb", "--out", "{tmp}/r.opb"],
    ["export", CASE[0], "--instance", CASE[1], "--param", "k=3", "--out", "{tmp}/r.txt"],
    ["import-solution", LINEAR[0], "--instance", LINEAR[1], "--param", "max_literals=2", "--param", "complexity=4",
     "--solution", "{tmp}/unknown.sol"],
    ["import-solution", LINEAR[0], "--instance", LINEAR[1], "--param", "max_literals=2", "--param", "complexity=4",
     "--solution", "{tmp}/missing.sol"],
])
def test_cli_bad_input_is_one_line_and_exit_2(tmp_path, argv):
    from reference_impl.cli import main

    (tmp_path / "unknown.sol").write_text("=obj= 1\nnot_a_variable 1\n")
    argv = [arg.replace("{tmp}", str(tmp_path)) for arg in argv]
    import contextlib
    import io

    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        status = main(argv)
    assert status == 2
    lines = err.getvalue().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("miobench: error: ")


def test_cli_subprocess_bad_format_exit_2(tmp_path):
    done = _cli("export", CASE[0], "--instance", CASE[1], "--param", "k=3", "--format", "xls", "--out", str(tmp_path / "m.x"))
    assert done.returncode == 2 and "invalid choice" in done.stderr
    done = _cli("export", NONLINEAR[0], "--instance", NONLINEAR[1], "--param", "k=2", "--out", str(tmp_path / "m.mps"))
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "cannot hold nonlinear" in done.stderr
