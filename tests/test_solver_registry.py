"""The solver registry (DESIGN.md, idea 5): every solver is one entry or adapter that declares
what it takes, its options and their check, its version and whether it is installed;
``capable_solvers``, ``miobench solvers`` and the dispatch of ``api.solve`` read it."""
import json

import pytest

from reference_impl.api import capable_solvers
from reference_impl.cli import main
from reference_impl.errors import InputError, UnknownIdError
from reference_impl.registry import formulations, get_formulation
from reference_impl.solvers import PYOMO_SOLVERS, PyomoSolver, supports
from reference_impl.solvers.native import NativeSolver
from reference_impl.solvers.outcome import SolverOutcome
from reference_impl.solvers.registry import (NATIVE_SOLVERS, all_solvers, register_solver, solver_for,
                                             unregister_solver)

#: capable_solvers of every formulation, as computed at the commit before the registry existed, plus the
#: peers added since as adapter modules (natives after the Pyomo entries, in adapter-module name order)
EXPECTED_CAPABLE = {
    "binarized.mip": ["highs", "scip", "gurobi"],
    "binarized.pbo": ["highs", "scip", "gurobi"],
    "fairness.sparse_regression": ["scip", "gurobi"],
    "fairness.sparse_svm": ["scip", "gurobi"],
    "gam.hierarchical_categorical": ["scip", "gurobi"],
    "gam.interactions": ["scip", "gurobi"],
    "gam.sparse_splines": ["scip", "gurobi"],
    "kglm.perspective": ["scip", "gurobi", "abess", "bnb", "okridge"],
    "risk_score.cutting_plane": ["highs"],
    "risk_score.minlp": ["scip", "gurobi", "fasterrisk"],
    "risk_score.pwl": ["highs", "scip", "gurobi"],
    "sparse_logistic.perspective": ["scip", "gurobi", "l1_logistic"],
    "sparse_regression.best_subset": ["scip", "gurobi", "abess", "lasso_path"],
    "sparse_regression.information_criterion": ["scip", "gurobi", "kscan"],
    "sparse_regression.l0l2_bigm": ["scip", "gurobi", "l0bnb"],
    "sparse_regression.perspective": ["scip", "gurobi", "okridge"],
    "sparse_svm.bigm": ["scip", "gurobi"],
}


@pytest.mark.parametrize("solver", all_solvers(), ids=lambda s: f"{s.kind}-{s.name}")
def test_every_solver_declares_itself(solver):
    assert solver.name and solver.kind in ("pyomo", "native") and solver.description
    assert solver.takes_names()
    assert isinstance(solver.installed(), bool)
    assert isinstance(solver.version(), str)  # the probe does not raise
    assert isinstance(solver.can_relax, bool)


@pytest.mark.parametrize("solver", all_solvers(), ids=lambda s: f"{s.kind}-{s.name}")
def test_every_solver_rejects_an_unknown_option(solver):
    if not solver.installed():
        pytest.skip(f"{solver.name} is not installed (its options cannot be asked about)")
    with pytest.raises(InputError, match="no option"):
        solver.check_options({"no_such_option_xyz": 1})


@pytest.mark.parametrize("formulation_id", sorted(EXPECTED_CAPABLE))
def test_capable_solvers_match_the_answers_before_the_registry(formulation_id):
    formulation = get_formulation(formulation_id)
    assert capable_solvers(formulation) == EXPECTED_CAPABLE[formulation_id]
    for name in EXPECTED_CAPABLE[formulation_id]:
        assert solver_for(name, formulation).takes(formulation)


def test_native_solvers_of_formulations_come_from_the_registry():
    """The registry is the one list of native solvers: no formulation names its own (no
    ``native_solvers`` attribute, no ``solve_native`` branch); ``native_names`` reads the adapters."""
    from reference_impl.solvers.registry import native_names

    for formulation in formulations().values():
        assert not hasattr(formulation, "native_solvers") and not hasattr(formulation, "solve_native"), formulation.id
        assert native_names(formulation.id) == tuple(s.name for s in NATIVE_SOLVERS if formulation.id in s.formulations)
    assert native_names("kglm.perspective") == ("abess", "bnb", "okridge")


def test_a_native_name_shadows_the_pyomo_entry_only_for_its_formulations():
    assert solver_for("highs", get_formulation("risk_score.cutting_plane")).kind == "native"
    assert solver_for("highs", get_formulation("risk_score.pwl")) is PYOMO_SOLVERS["highs"]
    with pytest.raises(UnknownIdError, match="known: highs, scip, gurobi, abess, bnb, okridge"):
        solver_for("bnbb", get_formulation("kglm.perspective"))
    with pytest.raises(UnknownIdError):
        solver_for("bnb", get_formulation("sparse_regression.best_subset"))  # bnb takes kglm.perspective only


def _solvers_json(capsys) -> list[dict]:
    capsys.readouterr()
    assert main(["solvers", "--json"]) == 0
    return json.loads(capsys.readouterr().out)


class _FakeNative(NativeSolver):
    name = "fake_native"
    formulations = ("sparse_regression.best_subset",)
    description = "a test adapter"
    options = ("depth",)

    def run(self, formulation, instance, params, **_):
        return SolverOutcome("error", message="fake"), None


def test_a_fake_pyomo_entry_appears_everywhere_and_goes_again(capsys):
    fake = PyomoSolver("fakeopt", "json", frozenset({"MILP"}), {"MILP": "fakeopt"}, "a test entry",
                       log_option=("log", 0, 1), seed_option="seed", node_key="nodes",
                       version_probe=lambda: "FakeOpt 1.0", option_probe=lambda: None)
    formulation = get_formulation("binarized.mip")
    register_solver(fake)
    try:
        assert capable_solvers(formulation) == ["highs", "scip", "gurobi", "fakeopt"]
        assert supports("fakeopt", "MILP") and solver_for("fakeopt", formulation) is fake
        row = next(r for r in _solvers_json(capsys) if r["name"] == "fakeopt")
        assert row == {"name": "fakeopt", "kind": "pyomo", "classes": ["MILP"], "installed": True,
                       "version": "FakeOpt 1.0", "licence": "", "description": "a test entry"}
    finally:
        unregister_solver(fake)
    assert capable_solvers(formulation) == EXPECTED_CAPABLE["binarized.mip"]
    assert "fakeopt" not in [r["name"] for r in _solvers_json(capsys)]


def test_a_fake_native_adapter_appears_everywhere_and_goes_again(capsys):
    fake = _FakeNative()
    formulation = get_formulation("sparse_regression.best_subset")
    register_solver(fake)
    try:
        assert capable_solvers(formulation) == [*EXPECTED_CAPABLE["sparse_regression.best_subset"], "fake_native"]
        row = next(r for r in _solvers_json(capsys) if r["name"] == "fake_native")
        assert row["kind"] == "native" and row["formulations"] == ["sparse_regression.best_subset"]
        with pytest.raises(InputError, match="fake_native has no option"):
            fake.check_options({"width": 2})
        fake.check_options({"depth": 2})
    finally:
        unregister_solver(fake)
    assert capable_solvers(formulation) == EXPECTED_CAPABLE["sparse_regression.best_subset"]
    assert "fake_native" not in [r["name"] for r in _solvers_json(capsys)]


def test_solvers_listing_in_a_pipe(capsys):
    capsys.readouterr()
    assert main(["solvers"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split("\t") == ["name", "kind", "takes", "installed", "version", "licence"]
    assert [line.split("\t")[:2] for line in lines[1:]] == [[s.name, s.kind] for s in all_solvers()]
