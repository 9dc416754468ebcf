"""The peer solver ``l0bnb`` (PyPI l0bnb, a certified branch and bound for L0L2 least squares) on
tiny instances of ``sparse_regression.l0l2_bigm``.

Proves: (1) its certified optimum equals exhaustive enumeration (tests/bruteforce.py, with the
box) within 1e-6 relative, binding and loose M, λ0 = 0, where √(λ0/λ2) ≤ M, and its converted
bound is valid (≤ the enumerated optimum) and closes the gap, also where l0bnb's own returned gap is
stale (an exhausted tree); where √(λ0/λ2) > M (λ2 = 0 included) l0bnb's bounds are invalid and the
run is a heuristic's (``feasible``, no bound, a solution ≥ the optimum); (2) the mapping l0 = λ0/2,
l2 = λ2/2, m = M, objective = 2·cost, bound = 2·(l0bnb's bound); (3) the cardinality form is
``unsupported`` with the reason (k = p is no constraint and is taken); (4) an input l0bnb rejects
is ``error`` with its message; (5) the record carries l0bnb's version, nothing is printed, and a
missing package is ``not_installed``."""
from __future__ import annotations

import importlib.metadata

import numpy as np
import pytest

from bruteforce import sparse_regression_optimum
from reference_impl import api
from reference_impl.solvers.adapters.l0bnb import SOLVER
from bruteforce import planted_regression as _data

REL = 1e-6


def _solve(X, y, **params):
    out: dict = {}
    record = api.solve("sparse_regression.l0l2_bigm", {"X": X, "y": y}, solver="l0bnb", time_limit=30,
                       rel_gap=1e-6, solution_out=out, **params)
    return record, out


CASES = [  # (lambda0, lambda2, M, seed), all with sqrt(l0/l2) = sqrt(lambda0/lambda2) <= M: l0bnb's bounds are valid
    (2.0, 0.5, 5.0, 0),
    (0.5, 1.0, 3.0, 1),
    (6.0, 4.0, 2.0, 2),
    (1.0, 0.1, 4.0, 3),
    (0.0, 0.3, 1.0, 4),   # no L0 penalty, a binding box
]


@pytest.mark.parametrize("lambda0, lambda2, M, seed", CASES)
def test_optimum_equals_enumeration(lambda0, lambda2, M, seed):
    X, y = _data(seed=seed)
    record, out = _solve(X, y, lambda0=lambda0, lambda2=lambda2, M=M)
    assert record.status == "optimal", record.message
    optimum = sparse_regression_optimum(X, y, lambda0=lambda0, lambda2=lambda2, M=M)[0]
    assert record.objective == pytest.approx(optimum, rel=REL)
    assert record.bound <= optimum * (1 + 1e-9) and record.gap <= 1e-5
    assert np.all(np.abs(out["theta"]) <= M * (1 + 1e-9))
    # the mapping: l0 = lambda0 / 2, l2 = lambda2 / 2, m = M; ours = 2 x l0bnb's
    extra = record.extra
    assert (extra["peer_l0"], extra["peer_l2"], extra["peer_m"]) == (lambda0 / 2, lambda2 / 2, M)
    assert record.solver_objective == 2 * extra["peer_objective"] and record.bound == 2 * extra["peer_bound"]


def test_a_stale_peer_gap_on_an_exhausted_tree_still_gives_a_valid_closed_bound():
    X, y = _data(seed=2)
    record, _ = _solve(X, y, lambda0=2.0, lambda2=0.5, M=5.0)
    assert record.extra["peer_tree_exhausted"] and record.extra["peer_gap"] > 1e-6  # l0bnb's own gap is stale
    optimum = sparse_regression_optimum(X, y, lambda0=2.0, lambda2=0.5, M=5.0)[0]
    assert record.status == "optimal" and record.bound <= optimum * (1 + 1e-9) and record.gap <= 1e-5
    assert record.objective == pytest.approx(optimum, rel=REL)


@pytest.mark.parametrize("lambda0, lambda2, M, seed", [(4.0, 0.0, 1.0, 2), (1.0, 0.2, 0.5, 4)])
def test_where_its_bounds_are_invalid_it_is_a_heuristic(lambda0, lambda2, M, seed):
    """sqrt(lambda0/lambda2) > M (lambda2 = 0 included): l0bnb's node duals exceed its primals; on the
    first instance it claims optimality (a negative gap) 4% above the enumerated optimum."""
    X, y = _data(seed=seed)
    record, out = _solve(X, y, lambda0=lambda0, lambda2=lambda2, M=M)
    optimum = sparse_regression_optimum(X, y, lambda0=lambda0, lambda2=lambda2, M=M)[0]
    assert record.status == "feasible" and record.bound is None and "not valid" in record.message
    assert record.objective >= optimum * (1 - 1e-9) and not record.extra["peer_certified"]
    assert np.all(np.abs(out["theta"]) <= M * (1 + 1e-9))
    if lambda2 == 0.0:  # the wrong claim this guards against
        assert record.extra["peer_gap"] < 0 and record.objective > 1.03 * optimum


def test_the_cardinality_form_is_unsupported_and_k_equal_p_is_taken():
    X, y = _data(seed=5)
    record, out = _solve(X, y, k=3, lambda2=0.5, M=3.0)
    assert record.status == "unsupported" and "penalty form only" in record.message and not out
    record, _ = _solve(X, y, k=3, lambda0=1.0, M=3.0)
    assert record.status == "unsupported" and "no cardinality constraint" in record.message
    record, _ = _solve(X, y, k=X.shape[1], lambda0=1.0, lambda2=0.1, M=4.0)
    assert record.status == "optimal"
    assert record.objective == pytest.approx(sparse_regression_optimum(X, y, lambda0=1.0, lambda2=0.1, M=4.0)[0], rel=REL)


def test_input_l0bnb_rejects_is_an_error_with_its_message():
    X, y = _data(p=4, seed=6)  # l0bnb's first active set, int(0.2 p) features, is empty for p < 5
    record, _ = _solve(X, y, lambda0=1.0, lambda2=0.1, M=3.0)
    assert record.status == "error" and record.message.startswith("l0bnb: TypeError")


def test_record_carries_the_version_and_nothing_is_printed(capfd):
    X, y = _data(seed=7)
    record, _ = _solve(X, y, lambda0=1.0, lambda2=0.1, M=3.0)
    assert record.solver_version == f"l0bnb {importlib.metadata.version('l0bnb')}" == SOLVER.version()
    assert capfd.readouterr() == ("", "")


def test_a_missing_package_is_not_installed(monkeypatch):
    monkeypatch.setattr(type(SOLVER), "installed", lambda self: False)
    X, y = _data(seed=8)
    record, _ = _solve(X, y, lambda0=1.0, M=3.0)
    assert record.status == "not_installed" and "l0bnb" in record.message
