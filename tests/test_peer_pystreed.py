"""The peer solver ``pystreed`` (PyPI pystreed, STreeD's dynamic program) on tiny tree instances.

Proves: (1) on ``trees.flow_oct`` and ``trees.oct_bigm`` its certified optimum equals HiGHS's on
(12) and the enumeration of every tree of depth ≤ D (tests/tree_bruteforce.py), for plain
accuracy and with a split penalty, two and three classes, and its tree passes the formulation's
evaluator; (2) the mapping: lam = 0 is STreeD's accuracy task, lam > 0 its cost-complex-accuracy
with α = lam/n, objective = n − STreeD's cost; (3) what STreeD cannot express (fairness, lam > n)
is ``unsupported`` with the reason; (4) an input STreeD rejects is ``error`` with its message, a
run that does not finish is ``time_limit``; (5) the record carries pystreed's version, nothing is
printed, a missing package is ``not_installed`` and an option is refused with a clear error."""
from __future__ import annotations

import importlib.metadata

import numpy as np
import pytest

from reference_impl import api
from reference_impl.errors import InputError
from reference_impl.registry import get_formulation
from tree_bruteforce import catalogue_xy, highs_objective, planted, tree_optimum

from reference_impl.solvers.adapters.pystreed import SOLVER

PLANTED = "trees-planted-n20-p4-d2"


def _solve(instance, formulation="trees.flow_oct", **params):
    pytest.importorskip("pystreed")
    out: dict = {}
    record = api.solve(formulation, instance, solver="pystreed", time_limit=30, solution_out=out, **params)
    return record, out


@pytest.mark.parametrize("formulation", ["trees.flow_oct", "trees.oct_bigm"])
@pytest.mark.parametrize("depth, lam", [(1, 0.0), (2, 0.0), (2, 0.5), (2, 1.0)])
def test_catalogue_optimum_equals_highs_and_enumeration(formulation, depth, lam):
    record, out = _solve(PLANTED, formulation, depth=depth, lam=lam)
    assert record.status == "optimal", record.message
    X, y = catalogue_xy(PLANTED)
    assert record.objective == pytest.approx(tree_optimum(X, y, depth, lam)[0], abs=1e-9)
    assert record.objective == pytest.approx(highs_objective(PLANTED, depth, lam), abs=1e-6)
    assert record.bound == record.solver_objective == pytest.approx(record.objective, abs=1e-9)
    assert record.max_violation == 0.0 and set(out) == {"b", "w", "node_feature", "node_class"}


@pytest.mark.parametrize("n_classes, depth, lam, seed", [(2, 2, 0.0, 1), (2, 2, 0.7, 2), (3, 2, 0.0, 3), (3, 2, 1.5, 4),
                                                         (2, 1, 0.0, 5), (2, 2, 2.0, 6)])
def test_random_optimum_equals_enumeration_and_the_evaluator_agrees(n_classes, depth, lam, seed):
    X, y = planted(n=16, n_classes=n_classes, noise=0.3, seed=seed)
    record, out = _solve({"X": X, "y": y}, depth=depth, lam=lam)
    assert record.status == "optimal", record.message
    assert record.objective == pytest.approx(tree_optimum(X, y, depth, lam)[0], abs=1e-9)
    # the solution, re-read by the formulation's own evaluator, is the tree with that objective
    formulation = get_formulation("trees.flow_oct")
    from reference_impl.instances import resolve_instance

    instance = resolve_instance({"X": X, "y": y})
    evaluation = formulation.evaluate(instance, formulation.validate(instance, {"depth": depth, "lam": lam}), out)
    assert evaluation.feasible and evaluation.objective == pytest.approx(record.objective, abs=1e-12)
    # the mapping: STreeD's task and cost_complexity, objective = n - its cost
    extra = record.extra
    assert extra["peer_task"] == ("accuracy" if lam == 0 else "cost-complex-accuracy")
    assert extra["peer_cost_complexity"] == pytest.approx(lam / len(y), rel=1e-15)
    assert record.solver_objective == pytest.approx(len(y) - extra["peer_cost"], abs=1e-9)
    assert extra["peer_splits"] == evaluation.info["n_splits"]


def test_problems_streed_cannot_express_are_unsupported():
    X, y = planted(n=12, seed=6)
    group = (np.arange(12) % 2).astype(float)
    record, out = _solve({"X": X, "y": y, "group": group}, depth=2, fairness="statistical_parity", delta=0.1)
    assert record.status == "unsupported" and "fairness" in record.message and not out
    record, _ = _solve({"X": X, "y": y}, depth=2, lam=13.0)  # lam > n: alpha = lam/n outside [0, 1]
    assert record.status == "unsupported" and "[0, 1]" in record.message
    record, _ = _solve({"X": X, "y": y}, depth=2, lam=12.0)  # lam = n is alpha = 1: taken
    assert record.status == "optimal" and record.objective == pytest.approx(tree_optimum(X, y, 2, 12.0)[0])


def test_input_streed_rejects_is_an_error_with_its_message():
    record, out = _solve({"X": np.array([[0.0, 1.0, 1.0]]), "y": np.array([1.0])}, depth=2)  # one sample
    assert record.status == "error" and record.message.startswith("pystreed: ValueError") and not out


def test_a_run_without_proof_is_time_limit(monkeypatch):
    """STreeD's is_optimal() False after its time limit: its tree, no bound."""
    STreeDClassifier = pytest.importorskip("pystreed").STreeDClassifier

    fit = STreeDClassifier.fit

    class Unproven:
        def __init__(self, result):
            self._result = result

        def is_optimal(self):
            return False

        def __getattr__(self, name):
            return getattr(self._result, name)

    def fit_then_time_out(self, *args, **kwargs):
        out = fit(self, *args, **kwargs)
        self.fit_result = Unproven(self.fit_result)
        return out

    monkeypatch.setattr(STreeDClassifier, "fit", fit_then_time_out)
    record, _ = _solve(PLANTED, depth=2)
    assert record.status == "time_limit" and record.bound is None and record.max_violation == 0.0
    assert record.objective == pytest.approx(highs_objective(PLANTED, 2, 0.0))


def test_record_carries_the_version_and_nothing_is_printed(capfd):
    record, _ = _solve(PLANTED, depth=2)
    assert record.solver_version == f"pystreed {importlib.metadata.version('pystreed')}" == SOLVER.version()
    assert capfd.readouterr() == ("", "")


def test_a_missing_package_is_not_installed_and_options_are_refused(monkeypatch):
    with pytest.raises(InputError, match="pystreed has no option"):
        api.solve("trees.flow_oct", PLANTED, solver="pystreed", depth=2, solver_options={"max_num_nodes": 2})
    monkeypatch.setattr(type(SOLVER), "installed", lambda self: False)
    record = api.solve("trees.flow_oct", PLANTED, solver="pystreed", depth=2)
    assert record.status == "not_installed" and "pystreed" in record.message
