"""The peer solver ``gosdt`` (PyPI gosdt, GOSDT's dynamic program with bounds) on tiny tree instances.

Proves: (1) on ``trees.flow_oct`` and ``trees.oct_bigm`` its certified optimum equals HiGHS's on
(12) and the enumeration of every tree of depth ≤ D (tests/tree_bruteforce.py), for plain
accuracy and with a split penalty, two and three classes, and its tree passes the formulation's
evaluator; (2) the mapping r = lam/n (GOSDT's per-leaf regularization, never raised to 1/n),
objective = n + lam − n·(GOSDT's upper bound), bound likewise from its lower bound; (3) fairness
is ``unsupported``; (4) a GOSDT failure is ``error`` with its message, a timeout ``time_limit``
with GOSDT's converted lower bound, one class its constant tree; (5) the record carries gosdt's
version, nothing is printed, a missing package is ``not_installed`` and an option is refused."""
from __future__ import annotations

import importlib.metadata
from types import SimpleNamespace

import numpy as np
import pytest

from reference_impl import api
from reference_impl.errors import InputError
from reference_impl.instances import resolve_instance
from reference_impl.registry import get_formulation
from reference_impl.solvers.adapters.gosdt import SOLVER
from tree_bruteforce import catalogue_xy, highs_objective, planted, tree_optimum

PLANTED = "trees-planted-n20-p4-d2"
#: GOSDT computes in single precision
TOL = 1e-5


def _solve(instance, formulation="trees.flow_oct", **params):
    pytest.importorskip("gosdt")
    out: dict = {}
    record = api.solve(formulation, instance, solver="gosdt", time_limit=30, solution_out=out, **params)
    return record, out


@pytest.mark.parametrize("formulation", ["trees.flow_oct", "trees.oct_bigm"])
@pytest.mark.parametrize("depth, lam", [(1, 0.0), (2, 0.0), (2, 0.5), (2, 1.0)])
def test_catalogue_optimum_equals_highs_and_enumeration(formulation, depth, lam):
    record, out = _solve(PLANTED, formulation, depth=depth, lam=lam)
    assert record.status == "optimal", record.message
    X, y = catalogue_xy(PLANTED)
    assert record.objective == pytest.approx(tree_optimum(X, y, depth, lam)[0], abs=1e-9)
    assert record.objective == pytest.approx(highs_objective(PLANTED, depth, lam), abs=1e-6)
    assert record.bound == record.solver_objective == pytest.approx(record.objective, abs=TOL)
    assert record.max_violation == 0.0 and set(out) == {"b", "w", "node_feature", "node_class"}


@pytest.mark.parametrize("n_classes, depth, lam, seed", [(2, 2, 0.0, 1), (2, 2, 0.7, 2), (3, 2, 0.0, 3), (3, 2, 1.5, 4),
                                                         (2, 1, 0.0, 5), (2, 2, 2.0, 6)])
def test_random_optimum_equals_enumeration_and_the_evaluator_agrees(n_classes, depth, lam, seed):
    X, y = planted(n=16, n_classes=n_classes, noise=0.3, seed=seed)
    record, out = _solve({"X": X, "y": y}, depth=depth, lam=lam)
    assert record.status == "optimal", record.message
    assert record.objective == pytest.approx(tree_optimum(X, y, depth, lam)[0], abs=1e-9)
    formulation = get_formulation("trees.flow_oct")
    instance = resolve_instance({"X": X, "y": y})
    evaluation = formulation.evaluate(instance, formulation.validate(instance, {"depth": depth, "lam": lam}), out)
    assert evaluation.feasible and evaluation.objective == pytest.approx(record.objective, abs=1e-12)
    # the mapping: r = lam / n; ours = n + lam - n * G, G = (misclassified + lam * leaves) / n
    n, extra = len(y), record.extra
    assert extra["peer_regularization"] == lam / n and extra["peer_status"] == "CONVERGED"
    assert record.solver_objective == pytest.approx(n + lam - n * extra["peer_upper_bound"], abs=1e-12)
    leaves = evaluation.info["n_splits"] + 1
    assert extra["peer_upper_bound"] == pytest.approx((n - evaluation.info["correct"] + lam * leaves) / n, abs=TOL)


def test_fairness_is_unsupported():
    X, y = planted(n=12, seed=6)
    group = (np.arange(12) % 2).astype(float)
    record, out = _solve({"X": X, "y": y, "group": group}, depth=2, fairness="statistical_parity", delta=0.1)
    assert record.status == "unsupported" and "fairness" in record.message and not out


def test_one_class_is_its_constant_tree():
    X, _ = planted(n=10, seed=7)
    record, out = _solve({"X": X, "y": np.ones(10)}, depth=2, lam=0.5)
    assert record.status == "optimal" and record.objective == record.bound == 10.0
    assert out["node_class"][0] == 0 and np.all(out["node_feature"] == -1)


def _patched_result(monkeypatch, status: str, lower_shift: float):
    """GOSDT's get_result() with another status and its lower bound moved down (the tree unchanged)."""
    GOSDTClassifier = pytest.importorskip("gosdt").GOSDTClassifier
    get_result = GOSDTClassifier.get_result

    def result(self):
        out = dict(get_result(self))
        out["status"] = SimpleNamespace(name=status)
        out["lower_bound"] = out["lower_bound"] - lower_shift
        return out

    monkeypatch.setattr(GOSDTClassifier, "get_result", result)


def test_a_timeout_is_time_limit_with_gosdts_bound(monkeypatch):
    _patched_result(monkeypatch, "TIMEOUT", 0.1)
    record, _ = _solve(PLANTED, depth=2, lam=0.5)
    optimum = highs_objective(PLANTED, 2, 0.5)
    assert record.status == "time_limit" and record.objective == pytest.approx(optimum)
    n = 20
    assert record.bound == pytest.approx(n + 0.5 - n * record.extra["peer_lower_bound"], abs=1e-12)
    assert record.bound >= optimum + 1.9  # the lower bound moved by 0.1 is 2 samples in our scale


def test_gosdts_failures_are_errors_with_its_message(monkeypatch):
    _patched_result(monkeypatch, "NON_CONVERGENCE", 0.0)
    record, _ = _solve(PLANTED, depth=2)
    assert record.status == "error" and "NON_CONVERGENCE" in record.message and record.bound is None
    GOSDTClassifier = pytest.importorskip("gosdt").GOSDTClassifier

    def false_convergence(self, *args, **kwargs):  # what GOSDT's fit raises on false convergence
        raise RuntimeError("[ERROR] Optimization shows false convergence, no model was found.")

    monkeypatch.setattr(GOSDTClassifier, "fit", false_convergence)
    record, out = _solve(PLANTED, depth=2)
    assert record.status == "error" and record.message.startswith("gosdt: RuntimeError") and not out


def test_record_carries_the_version_and_nothing_is_printed(capfd):
    record, _ = _solve(PLANTED, depth=2)  # lam = 0 < 1/n: GOSDT prints a warning, silenced
    assert record.solver_version == f"gosdt {importlib.metadata.version('gosdt')}" == SOLVER.version()
    assert capfd.readouterr() == ("", "")


def test_a_missing_package_is_not_installed_and_options_are_refused(monkeypatch):
    with pytest.raises(InputError, match="gosdt has no option"):
        api.solve("trees.flow_oct", PLANTED, solver="gosdt", depth=2, solver_options={"regularization": 0.1})
    monkeypatch.setattr(type(SOLVER), "installed", lambda self: False)
    record = api.solve("trees.flow_oct", PLANTED, solver="gosdt", depth=2)
    assert record.status == "not_installed" and "gosdt" in record.message
