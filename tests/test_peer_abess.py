"""The ``abess`` peer adapter (reference_impl/solvers/adapters/abess.py) on tiny instances.

What is proved: abess's solutions are feasible for ``sparse_regression.best_subset`` and
``kglm.perspective`` (both losses) and never better than the brute-force optimum; the objective
the adapter converts from abess's own ``train_loss_`` equals the evaluator's; the ridge mapping
(α = 0 / 2λ2 / λ2) makes abess's coefficients the formulation's minimiser on the support it picks;
the box M is respected; input abess rejects gives ``error`` with abess's message; a missing
package gives ``not_installed``; the record carries abess's version.
"""
from __future__ import annotations

import importlib.metadata

import numpy as np
import pytest

from bruteforce import box_ridge, sparse_regression_optimum
from kglm._brute import all_supports, best, make_instance, restricted_opt
from reference_impl import api
from reference_impl.errors import InputError
from reference_impl.solvers.adapters.abess import SOLVER
from reference_impl.solvers.registry import capable_solvers, describe
from reference_impl.registry import get_formulation

VERSION = f"abess {importlib.metadata.version('abess')}"


def _rel(a, b):
    return abs(a - b) / max(abs(b), 1e-12)


def test_registered_installed_and_versioned():
    assert SOLVER.installed()
    for fid in ("sparse_regression.best_subset", "kglm.perspective"):
        assert "abess" in capable_solvers(get_formulation(fid))
    row = describe(SOLVER)
    assert row["installed"] and row["version"] == VERSION and row["formulations"] == list(SOLVER.formulations)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_best_subset_feasible_never_below_brute_force(tiny_regression, seed):
    data = tiny_regression(n=25, p=7, k=3, seed=seed)
    out: dict = {}
    record = api.solve("sparse_regression.best_subset", data, solver="abess", time_limit=10, k=3, solution_out=out)
    assert record.status == "feasible" and record.bound is None and record.gap == float("inf")
    assert record.solver_version == VERSION
    X, y = data["X"], data["y"]
    optimum, _, _ = sparse_regression_optimum(X, y, k=3, M=record.extra["effective_params"]["M"])
    assert record.objective >= optimum * (1 - 1e-6)
    # abess's loss RSS/(2n), mapped: 2n·train_loss_ is the evaluator's RSS
    assert _rel(record.solver_objective, record.objective) < 1e-9
    assert _rel(record.extra["peer_objective"] * 2 * len(y), record.objective) < 1e-9
    # α = 0: on its support abess's coefficients are the least-squares fit (the box not binding)
    support = list(np.flatnonzero(out["z"] > 0.5))
    assert len(support) <= 3 and np.all(out["theta"][np.flatnonzero(out["z"] < 0.5)] == 0)
    theta, rss = box_ridge(X, y, support, 0.0, np.inf)
    assert np.allclose(out["theta"], theta, atol=1e-8) and _rel(record.objective, rss) < 1e-9


def test_best_subset_box_is_respected(tiny_regression):
    data = tiny_regression(n=25, p=7, k=3, seed=3)
    out: dict = {}
    record = api.solve("sparse_regression.best_subset", data, solver="abess", time_limit=10, k=3, M=0.2,
                       solution_out=out)
    assert record.status == "feasible" and record.max_violation == 0.0
    assert np.max(np.abs(out["theta"])) <= 0.2 + 1e-12


@pytest.mark.parametrize("loss,lam2,m_kind,seed", [("squared", 0.5, "inf", 0), ("squared", 0.0, "loose", 1),
                                                   ("squared", 1.0, "bind", 2), ("logistic", 0.5, "inf", 3),
                                                   ("logistic", 0.1, "loose", 4)])
def test_kglm_feasible_mapped_and_never_below_brute_force(loss, lam2, m_kind, seed):
    X, y, M = make_instance(loss, 30, 6, 2, seed, m_kind=m_kind, lam2=lam2)
    if lam2 == 0.0 and not np.isfinite(M):
        M = 10.0
    out: dict = {}
    record = api.solve("kglm.perspective", {"X": X, "y": y}, solver="abess", time_limit=10, k=2, loss=loss,
                       lambda2=lam2, M=M, solution_out=out)
    assert record.status == "feasible", record.message
    assert record.bound is None and record.solver_version == VERSION
    optimum, _ = best(all_supports(X, y, loss, lam2, M, 2))
    assert record.objective >= optimum * (1 - 1e-6)
    # the objective converted from abess's train_loss_ is the evaluator's
    assert _rel(record.solver_objective, record.objective) < 1e-9
    assert record.extra["peer_alpha"] == pytest.approx(lam2 if loss == "logistic" else 2 * lam2)
    beta = out["beta"]
    assert np.max(np.abs(beta)) <= M + 1e-12
    support = tuple(np.flatnonzero(out["z"] > 0.5).tolist())
    value, coef = restricted_opt(X, y, loss, lam2, M, support)
    if np.max(np.abs(coef), initial=0.0) < M * (1 - 1e-6):
        # the box does not bind on this support: abess's fit there is the formulation's minimiser,
        # which proves the α mapping (a wrong α fits other coefficients)
        assert _rel(record.objective, value) < 1e-6
        assert np.allclose(beta, coef, atol=1e-6 * max(1.0, float(np.max(np.abs(coef)))))
    else:
        assert record.objective >= value * (1 - 1e-6)


def test_kglm_logistic_labels_01_are_mapped():
    X, y, _ = make_instance("logistic", 30, 5, 2, 7, lam2=0.2)
    record = api.solve("kglm.perspective", {"X": X, "y": (y > 0).astype(float)}, solver="abess", time_limit=10, k=2,
                       loss="logistic", lambda2=0.2)
    reference = api.solve("kglm.perspective", {"X": X, "y": y}, solver="abess", time_limit=10, k=2,
                          loss="logistic", lambda2=0.2)
    assert record.status == reference.status == "feasible"
    assert record.objective == pytest.approx(reference.objective, rel=1e-12)


def test_input_abess_rejects_is_an_error_with_its_message(tiny_regression):
    data = tiny_regression(n=25, p=7, k=3, seed=0)
    record = api.solve("sparse_regression.best_subset", data, solver="abess", time_limit=10, k=3,
                       solver_options={"screening_size": 1})
    assert record.status == "error" and "screening size should be more than max(support_size)" in record.message
    assert record.solver_version == VERSION and record.objective is None
    record = api.solve("sparse_regression.best_subset", data, solver="abess", time_limit=10, k=3,
                       solver_options={"splicing_type": 7})
    assert record.status == "error" and "splicing type should be 0 or 1" in record.message


def test_options_miobench_rejects(tiny_regression):
    data = tiny_regression(n=25, p=7, k=3, seed=0)
    with pytest.raises(InputError, match="abess has no option"):
        api.solve("sparse_regression.best_subset", data, solver="abess", time_limit=10, k=3,
                  solver_options={"nonsense": 1})
    with pytest.raises(InputError, match="logistic loss only"):
        api.solve("sparse_regression.best_subset", data, solver="abess", time_limit=10, k=3,
                  solver_options={"approximate_Newton": True})


def test_missing_package_is_not_installed(tiny_regression, monkeypatch):
    monkeypatch.setattr(SOLVER, "installed", lambda: False)
    record = api.solve("sparse_regression.best_subset", tiny_regression(n=25, p=7, k=3), solver="abess",
                       time_limit=10, k=3)
    assert record.status == "not_installed" and "abess" in record.message and record.objective is None


def test_version_probe_never_raises_without_the_package(monkeypatch):
    def missing(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", missing)
    assert SOLVER.version() == ""
