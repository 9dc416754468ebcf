"""The peer solver ``dl85`` (PyPI pydl8.5, DL8.5's caching branch and bound) on tiny tree instances.

Proves: (1) on ``trees.flow_oct`` and ``trees.oct_bigm`` with lam = 0 its certified optimum equals
HiGHS's on (12) and the enumeration of every tree of depth ≤ D (tests/tree_bruteforce.py), two
and three classes, and its tree passes the formulation's evaluator; (2) the mapping objective =
n − DL8.5's error; (3) a split penalty (lam > 0) and fairness are ``unsupported`` with the reason;
(4) a DL8.5 failure is ``error`` with its message, a timeout ``time_limit`` without a bound;
(5) the record carries pydl8.5's version, nothing is printed, a missing package is
``not_installed`` and an option is refused."""
from __future__ import annotations

import importlib.metadata

import numpy as np
import pytest

from reference_impl import api
from reference_impl.errors import InputError
from reference_impl.instances import resolve_instance
from reference_impl.registry import get_formulation
from reference_impl.solvers.adapters.dl85 import SOLVER
from tree_bruteforce import catalogue_xy, highs_objective, planted, tree_optimum

PLANTED = "trees-planted-n20-p4-d2"


def _solve(instance, formulation="trees.flow_oct", **params):
    pytest.importorskip("pydl85")
    out: dict = {}
    record = api.solve(formulation, instance, solver="dl85", time_limit=30, solution_out=out, **params)
    return record, out


@pytest.mark.parametrize("formulation", ["trees.flow_oct", "trees.oct_bigm"])
@pytest.mark.parametrize("depth", [1, 2])
def test_catalogue_optimum_equals_highs_and_enumeration(formulation, depth):
    record, out = _solve(PLANTED, formulation, depth=depth)
    assert record.status == "optimal", record.message
    X, y = catalogue_xy(PLANTED)
    assert record.objective == pytest.approx(tree_optimum(X, y, depth)[0], abs=1e-9)
    assert record.objective == pytest.approx(highs_objective(PLANTED, depth, 0.0), abs=1e-6)
    assert record.bound == record.solver_objective == record.objective
    assert record.max_violation == 0.0 and set(out) == {"b", "w", "node_feature", "node_class"}


@pytest.mark.parametrize("n_classes, depth, seed", [(2, 2, 1), (2, 2, 2), (3, 2, 3), (3, 1, 4), (2, 1, 5)])
def test_random_optimum_equals_enumeration_and_the_evaluator_agrees(n_classes, depth, seed):
    X, y = planted(n=16, n_classes=n_classes, noise=0.3, seed=seed)
    record, out = _solve({"X": X, "y": y}, depth=depth)
    assert record.status == "optimal", record.message
    assert record.objective == pytest.approx(tree_optimum(X, y, depth)[0], abs=1e-9)
    formulation = get_formulation("trees.flow_oct")
    instance = resolve_instance({"X": X, "y": y})
    evaluation = formulation.evaluate(instance, formulation.validate(instance, {"depth": depth}), out)
    assert evaluation.feasible and evaluation.objective == record.objective
    # the mapping: objective = n - DL8.5's misclassifications
    assert record.solver_objective == len(y) - record.extra["peer_error"] and not record.extra["peer_timeout"]


def test_problems_dl85_cannot_express_are_unsupported():
    X, y = planted(n=12, seed=6)
    record, out = _solve({"X": X, "y": y}, depth=2, lam=0.5)
    assert record.status == "unsupported" and "no per-split penalty" in record.message and not out
    group = (np.arange(12) % 2).astype(float)
    record, _ = _solve({"X": X, "y": y, "group": group}, depth=2, fairness="statistical_parity", delta=0.1)
    assert record.status == "unsupported" and "fairness" in record.message


def test_a_timeout_is_time_limit_without_a_bound(monkeypatch):
    DL85Classifier = pytest.importorskip("pydl85").DL85Classifier
    fit = DL85Classifier.fit

    def fit_then_time_out(self, *args, **kwargs):
        out = fit(self, *args, **kwargs)
        self.timeout_ = True
        return out

    monkeypatch.setattr(DL85Classifier, "fit", fit_then_time_out)
    record, _ = _solve(PLANTED, depth=2)
    assert record.status == "time_limit" and record.bound is None and record.max_violation == 0.0
    assert record.objective == pytest.approx(highs_objective(PLANTED, 2, 0.0))


def test_dl85s_failure_is_an_error_with_its_message(monkeypatch):
    DL85Classifier = pytest.importorskip("pydl85").DL85Classifier

    def fail(self, *args, **kwargs):
        raise ValueError("y contains previously unseen labels")

    monkeypatch.setattr(DL85Classifier, "fit", fail)
    record, out = _solve(PLANTED, depth=2)
    assert record.status == "error" and record.message == "dl85: ValueError: y contains previously unseen labels"
    assert not out


def test_record_carries_the_version_and_nothing_is_printed(capfd):
    record, _ = _solve(PLANTED, depth=2)
    assert record.solver_version == f"pydl8.5 {importlib.metadata.version('pydl8.5')}" == SOLVER.version()
    assert capfd.readouterr() == ("", "")


def test_a_missing_package_is_not_installed_and_options_are_refused(monkeypatch):
    with pytest.raises(InputError, match="dl85 has no option"):
        api.solve("trees.flow_oct", PLANTED, solver="dl85", depth=2, solver_options={"min_sup": 2})
    monkeypatch.setattr(type(SOLVER), "installed", lambda self: False)
    record = api.solve("trees.flow_oct", PLANTED, solver="dl85", depth=2)
    assert record.status == "not_installed" and "pydl8.5" in record.message
