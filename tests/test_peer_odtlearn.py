"""The peer solver ``odtlearn`` (PyPI odtlearn, ODTLearn's FlowOCT: the authors' (12)) on tiny tree
instances.

Proves: (1) on ``trees.flow_oct`` its optimum equals HiGHS's on (12) and the enumeration of every
tree of depth ≤ D (tests/tree_bruteforce.py), with and without a split penalty, two and three
classes, and its tree (read from its b, w, p) passes the formulation's evaluator; (2) the mapping
λ = lam/(1 + lam), objective = (1 + lam)·ODTLearn's objective, bound = (1 + lam)·its bound;
(3) fairness is ``unsupported``; (4) the backend: CBC runs only on python-mip 1.15 with cffi 1.15
(otherwise ``not_installed`` with the reason), ``auto`` falls back to Gurobi and the record names
the backend, a model beyond Gurobi's pip licence is ``size_limited``, a stop above the gap is
``time_limit`` at the time limit and ``error`` before it; (5) nothing is printed, a missing
package is ``not_installed`` and a bad option is refused with a clear error."""
from __future__ import annotations

import importlib.metadata

import numpy as np
import pytest

from reference_impl import api
from reference_impl.errors import InputError
from reference_impl.instances import resolve_instance
from reference_impl.registry import get_formulation
from reference_impl.solvers.adapters import odtlearn as adapter
from reference_impl.solvers.adapters.odtlearn import SOLVER, cbc_reason
from tree_bruteforce import catalogue_xy, highs_objective, planted, tree_optimum

PLANTED = "trees-planted-n20-p4-d2"
BACKENDS = [pytest.param("cbc", marks=pytest.mark.skipif(cbc_reason() is not None, reason=str(cbc_reason()))),
            pytest.param("gurobi", marks=pytest.mark.skipif(adapter.gurobi_reason() is not None,
                                                            reason=str(adapter.gurobi_reason())))]


def _solve(instance, backend="auto", **params):
    pytest.importorskip("odtlearn")
    out: dict = {}
    record = api.solve("trees.flow_oct", instance, solver="odtlearn", time_limit=params.pop("time_limit", 30),
                       solution_out=out, solver_options={"solver": backend}, **params)
    return record, out


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("depth, lam", [(1, 0.0), (2, 0.0), (2, 0.5), (2, 1.0)])
def test_catalogue_optimum_equals_highs_and_enumeration(backend, depth, lam):
    record, out = _solve(PLANTED, backend, depth=depth, lam=lam)
    assert record.status == "optimal", record.message
    X, y = catalogue_xy(PLANTED)
    assert record.objective == pytest.approx(tree_optimum(X, y, depth, lam)[0], abs=1e-9)
    assert record.objective == pytest.approx(highs_objective(PLANTED, depth, lam), abs=1e-6)
    assert record.gap <= 1e-4 and record.max_violation <= 1e-9
    assert record.extra["peer_backend"] == backend and f"FlowOCT/{backend}" in record.solver_version


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("n_classes, depth, lam, seed", [(2, 2, 0.0, 1), (2, 2, 0.7, 2), (3, 2, 0.0, 3), (3, 2, 1.5, 4)])
def test_random_optimum_equals_enumeration_and_the_mapping(backend, n_classes, depth, lam, seed):
    X, y = planted(n=14, n_classes=n_classes, noise=0.3, seed=seed)
    record, out = _solve({"X": X, "y": y}, backend, depth=depth, lam=lam)
    assert record.status == "optimal", record.message
    assert record.objective == pytest.approx(tree_optimum(X, y, depth, lam)[0], abs=1e-6)
    formulation = get_formulation("trees.flow_oct")
    instance = resolve_instance({"X": X, "y": y})
    evaluation = formulation.evaluate(instance, formulation.validate(instance, {"depth": depth, "lam": lam}), out)
    assert evaluation.feasible and evaluation.objective == pytest.approx(record.objective, abs=1e-12)
    # the mapping: lambda = lam / (1 + lam); ours = (1 + lam) x ODTLearn's objective and bound
    extra = record.extra
    assert extra["peer_lambda"] == pytest.approx(lam / (1 + lam), rel=1e-15)
    assert record.solver_objective == pytest.approx((1 + lam) * extra["peer_objective"], rel=1e-12)
    assert record.bound == pytest.approx((1 + lam) * extra["peer_bound"], rel=1e-12)
    assert record.solver_objective == pytest.approx(record.objective, abs=1e-6)


def test_fairness_is_unsupported():
    X, y = planted(n=12, seed=6)
    group = (np.arange(12) % 2).astype(float)
    record, out = _solve({"X": X, "y": y, "group": group}, depth=2, fairness="statistical_parity", delta=0.1)
    assert record.status == "unsupported" and "fairness" in record.message and not out


@pytest.mark.parametrize("versions, reason", [
    ({"mip": None, "cffi": "2.1.1"}, "which is not installed"),
    ({"mip": "2.0.0", "cffi": "2.1.1"}, "has another interface"),
    ({"mip": "1.15.0", "cffi": "2.1.1"}, "crashes the process"),
])
def test_cbc_runs_only_where_odtlearns_cbc_stack_works(monkeypatch, versions, reason):
    monkeypatch.setattr(adapter, "_version", lambda name: versions.get(name, "13.0.0"))
    monkeypatch.setattr(adapter.importlib.util, "find_spec", lambda name: object())
    assert reason in cbc_reason()
    record, out = _solve(PLANTED, "cbc", depth=2)
    assert record.status == "not_installed" and reason in record.message and "'gurobi'" in record.message and not out


def test_auto_uses_cbc_where_it_works_else_gurobi(monkeypatch):
    assert SOLVER.backend("auto") == (("cbc", "") if cbc_reason() is None else ("gurobi", ""))
    monkeypatch.setattr(adapter, "cbc_reason", lambda: None)
    assert SOLVER.backend("auto") == ("cbc", "") and SOLVER.backend("gurobi") == ("gurobi", "")
    monkeypatch.setattr(adapter, "cbc_reason", lambda: "no cbc")
    monkeypatch.setattr(adapter, "gurobi_reason", lambda: "no gurobi")
    assert SOLVER.backend("auto") == (None, "no cbc; no gurobi") and SOLVER.backend("gurobi") == (None, "no gurobi")


@pytest.mark.skipif(adapter.gurobi_reason() is not None, reason="gurobipy is not installed")
def test_a_model_beyond_gurobis_pip_licence_is_size_limited():
    X, y = planted(n=15, p=3, seed=8)
    record, out = _solve({"X": X, "y": y}, "gurobi", depth=6)  # 15 x 127 flows twice: over 2000 variables
    assert record.status == "size_limited" and "size-limited" in record.message and not out


@pytest.mark.skipif(adapter.gurobi_reason() is not None, reason="gurobipy is not installed")
@pytest.mark.parametrize("time_limit, status", [(0.001, "time_limit"), (30, "error")])
def test_a_stop_above_the_gap_is_time_limit_or_error(monkeypatch, time_limit, status):
    """ODTLearn reports a bound 1 above its objective: at the time limit that is a time_limit run
    (with the converted bound), before it the backend's own gap stopped it."""
    FlowOCT = pytest.importorskip("odtlearn.flow_oct").FlowOCT
    monkeypatch.setattr(FlowOCT, "objective_bound", property(lambda self: self.objective_value + 1.0))
    record, _ = _solve(PLANTED, "gurobi", depth=2, lam=0.5, time_limit=time_limit)
    assert record.status == status and record.bound == pytest.approx(record.solver_objective + 1.5)
    assert record.objective == pytest.approx(highs_objective(PLANTED, 2, 0.5))
    assert status == "time_limit" or "own default gap" in record.message


def test_nothing_is_printed_and_the_version_names_the_backend(capfd):
    record, _ = _solve(PLANTED, depth=2)
    assert record.solver_version.startswith(f"odtlearn {importlib.metadata.version('odtlearn')} FlowOCT/")
    assert record.solver_version.startswith(SOLVER.version())
    assert capfd.readouterr() == ("", "")


def test_a_missing_package_is_not_installed_and_bad_options_are_refused(monkeypatch):
    with pytest.raises(InputError, match="odtlearn option solver must be one of auto, cbc, gurobi; got 'glpk'"):
        api.solve("trees.flow_oct", PLANTED, solver="odtlearn", depth=2, solver_options={"solver": "glpk"})
    with pytest.raises(InputError, match="odtlearn has no option"):
        api.solve("trees.flow_oct", PLANTED, solver="odtlearn", depth=2, solver_options={"_lambda": 0.1})
    monkeypatch.setattr(type(SOLVER), "installed", lambda self: False)
    record = api.solve("trees.flow_oct", PLANTED, solver="odtlearn", depth=2)
    assert record.status == "not_installed" and "odtlearn" in record.message
