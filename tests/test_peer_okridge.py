"""The peer solver ``okridge`` (PyPI okridge, OKRidge's certified branch and bound) on tiny instances.

Proves: (1) on ``sparse_regression.perspective`` and ``kglm.perspective`` (least squares, M = ∞ or a
box provably inactive) its certified optimum equals exhaustive enumeration (tests/bruteforce.py,
tests/kglm/_brute.py) within 1e-6 relative, its converted bound is valid (≤ the enumerated optimum)
and closes the gap; (2) the objective mapping (objective = s·(OKRidge's upper + ‖y‖²), s = 1 or ½,
OKRidge's λ' = λ2 or 2λ2); (3) hyperparameters OKRidge cannot represent (λ0, logistic loss, a box
that may bind) are ``unsupported`` with the reason; (4) an input OKRidge rejects is ``error`` with
its message; (5) the record carries okridge's version, nothing is printed, and a missing package is
``not_installed``."""
from __future__ import annotations

import importlib.metadata
import importlib.util
import math

import numpy as np
import pytest

from bruteforce import sparse_regression_optimum
from kglm._brute import all_supports, best
from reference_impl import api
from reference_impl.formulations.kglm import link_bound
from reference_impl.solvers.adapters.okridge import SOLVER
from bruteforce import planted_regression as _data

REL = 1e-6
#: okridge 0.1.1 declares numpy < 2 (and psutil < 6), so pip's resolver cannot install it in the
#: project's environment (numpy 2) from an extra; it is installed apart, with
#: ``pip install --no-deps okridge==0.1.1`` (its real dependencies are the project's own).
needs_okridge = pytest.mark.skipif(importlib.util.find_spec("okridge") is None,
                                   reason="okridge is installed apart: pip install --no-deps okridge==0.1.1")


def _solve(formulation, X, y, **params):
    out: dict = {}
    record = api.solve(formulation, {"X": X, "y": y}, solver="okridge", time_limit=30, rel_gap=1e-8,
                       solution_out=out, **params)
    return record, out


@needs_okridge
@pytest.mark.parametrize("k, lambda2, seed", [(1, 0.5, 0), (2, 0.0, 1), (3, 0.5, 2), (4, 2.0, 3)])
def test_sparse_regression_optimum_equals_enumeration(k, lambda2, seed):
    X, y = _data(seed=seed)
    record, out = _solve("sparse_regression.perspective", X, y, k=k, lambda2=lambda2)
    assert record.status == "optimal", record.message
    optimum = sparse_regression_optimum(X, y, k=k, lambda2=lambda2)[0]
    assert record.objective == pytest.approx(optimum, rel=REL)
    assert record.bound <= optimum * (1 + 1e-9) and record.gap <= 1e-6
    assert int(np.count_nonzero(out["theta"])) <= k
    # the mapping: objective = OKRidge's upper + ||y||^2, its lambda2 is ours
    assert record.extra["peer_lambda2"] == lambda2
    assert record.extra["peer_objective"] + float(y @ y) == pytest.approx(record.solver_objective, rel=1e-12)
    assert record.extra["peer_bound"] + float(y @ y) == pytest.approx(record.bound, rel=1e-12, abs=1e-9)


@needs_okridge
@pytest.mark.parametrize("k, lambda2, seed", [(2, 0.5, 4), (3, 1.0, 5)])
def test_kglm_squared_optimum_equals_enumeration(k, lambda2, seed):
    X, y = _data(seed=seed)
    record, out = _solve("kglm.perspective", X, y, k=k, lambda2=lambda2)  # M = inf (the default)
    assert record.status == "optimal", record.message
    optimum = best(all_supports(X, y, "squared", lambda2, math.inf, k))[0]  # 1/2 RSS + lambda2 ||b||^2
    assert record.objective == pytest.approx(optimum, rel=REL)
    assert record.bound <= optimum * (1 + 1e-9) and record.gap <= 1e-6
    assert set(out) == {"beta", "z"}
    # the mapping: OKRidge's lambda2 = 2 lambda2, objective = (upper + ||y||^2) / 2
    assert record.extra["peer_lambda2"] == 2 * lambda2
    assert 0.5 * (record.extra["peer_objective"] + float(y @ y)) == pytest.approx(record.solver_objective, rel=1e-12)


@needs_okridge
def test_kglm_box_provably_inactive_is_taken():
    X, y = _data(seed=6)
    M = 1.01 * link_bound(X, y, "squared", 1.0)
    record, _ = _solve("kglm.perspective", X, y, k=2, lambda2=1.0, M=M)
    assert record.status == "optimal", record.message
    assert record.objective == pytest.approx(best(all_supports(X, y, "squared", 1.0, M, 2))[0], rel=REL)


@needs_okridge
@pytest.mark.parametrize("formulation, params, reason", [
    ("sparse_regression.perspective", {"k": 2, "lambda0": 1.0}, "no L0 penalty"),
    ("sparse_regression.perspective", {"lambda0": 1.0}, "no L0 penalty"),
    ("sparse_regression.perspective", {"k": 2, "M": 0.05}, "may cut off the optimum"),
    ("kglm.perspective", {"k": 2, "lambda2": 1.0, "M": 0.05}, "may cut off the optimum"),
    ("kglm.perspective", {"k": 2, "lambda2": 1.0, "loss": "logistic"}, "least squares only"),
])
def test_problems_okridge_cannot_express_are_unsupported(formulation, params, reason):
    X, y = _data(seed=7)
    if params.get("loss") == "logistic":
        y = np.where(y > 0, 1.0, -1.0)
    record, out = _solve(formulation, X, y, **params)
    assert record.status == "unsupported" and reason in record.message
    assert record.objective is None and not out


@needs_okridge
@pytest.mark.parametrize("n, p, k, lambda2, error", [
    (20, 1, 1, 0.0, "IndexError"),       # it reads the second eigenvalue of X'X
    (6, 9, 3, 0.5, "AttributeError"),    # p > n + 1: its ADMM step-size tuning calls a method Node lacks
])
def test_input_okridge_rejects_is_an_error_with_its_message(n, p, k, lambda2, error):
    X, y = _data(n=n, p=p, seed=8)
    record, _ = _solve("sparse_regression.perspective", X, y, k=k, lambda2=lambda2)
    assert record.status == "error" and record.message.startswith(f"okridge: {error}")


@needs_okridge
def test_record_carries_the_version_and_nothing_is_printed(capfd):
    X, y = _data(seed=9)
    record, _ = _solve("sparse_regression.perspective", X, y, k=2, lambda2=0.1)
    assert record.solver_version == f"okridge {importlib.metadata.version('okridge')}" == SOLVER.version()
    assert capfd.readouterr() == ("", "")


def test_a_missing_package_is_not_installed(monkeypatch):
    monkeypatch.setattr(type(SOLVER), "installed", lambda self: False)
    X, y = _data(seed=10)
    record, _ = _solve("sparse_regression.perspective", X, y, k=2)
    assert record.status == "not_installed" and "okridge" in record.message
