"""The ``lasso_path`` baseline adapter (reference_impl/solvers/adapters/sklearn_lasso.py) on tiny
instances.

What is proved: its solution is feasible for ``sparse_regression.best_subset`` and never better
than the brute-force optimum; it is the least-squares refit (within the box M) on the support of
scikit-learn's own ``lasso_path`` that has at most k nonzeros and the lowest refit RSS, and the
adapter's objective is the evaluator's; options scikit-learn rejects give ``error`` with its
message; a missing package gives ``not_installed``; the record carries scikit-learn's version.
"""
from __future__ import annotations

import importlib.metadata

import numpy as np
import pytest
from sklearn.linear_model import lasso_path

from bruteforce import box_ridge, sparse_regression_optimum
from reference_impl import api
from reference_impl.errors import InputError
from reference_impl.registry import get_formulation
from reference_impl.solvers.adapters.sklearn_lasso import SOLVER
from reference_impl.solvers.registry import capable_solvers

FID = "sparse_regression.best_subset"


def path_supports(X, y, k, n_alphas=100, eps=1e-3):
    """The distinct supports of size <= k on scikit-learn's default lasso path, computed independently."""
    alpha_max = np.max(np.abs(X.T @ y)) / X.shape[0]
    _, coefs, _ = lasso_path(X, y, alphas=np.geomspace(alpha_max, alpha_max * eps, n_alphas))
    supports = {tuple(np.flatnonzero(coefs[:, i]).tolist()) for i in range(coefs.shape[1])}
    return {s for s in supports if len(s) <= k} | {()}


def test_registered_and_versioned():
    assert "lasso_path" in capable_solvers(get_formulation(FID))
    assert SOLVER.installed() and SOLVER.version() == f"scikit-learn {importlib.metadata.version('scikit-learn')} lasso_path"


@pytest.mark.parametrize("seed,k", [(0, 3), (1, 2), (2, 4)])
def test_feasible_best_refit_on_the_path_never_below_brute_force(tiny_regression, seed, k):
    data = tiny_regression(n=25, p=7, k=3, seed=seed)
    X, y = data["X"], data["y"]
    out: dict = {}
    record = api.solve(FID, data, solver="lasso_path", time_limit=10, k=k, solution_out=out)
    assert record.status == "feasible" and record.bound is None and record.max_violation == 0.0, record.message
    assert record.solver_version == SOLVER.version()
    M = record.extra["effective_params"]["M"]
    optimum, _, _ = sparse_regression_optimum(X, y, k=k, M=M)
    assert record.objective >= optimum * (1 - 1e-6)
    assert record.solver_objective == pytest.approx(record.objective, rel=1e-9)
    refits = {s: box_ridge(X, y, list(s), 0.0, M) for s in path_supports(X, y, k)}
    support = tuple(np.flatnonzero(out["z"] > 0.5).tolist())
    assert support in refits and len(support) <= k
    theta, rss = refits[support]
    assert np.allclose(out["theta"], theta, atol=1e-7) and record.objective == pytest.approx(rss, rel=1e-9)
    assert record.objective <= min(v for _, v in refits.values()) * (1 + 1e-9)
    assert record.extra["path_supports"] == len(refits)


def test_box_is_respected(tiny_regression):
    data = tiny_regression(n=25, p=7, k=3, seed=4)
    out: dict = {}
    record = api.solve(FID, data, solver="lasso_path", time_limit=10, k=3, M=0.25, solution_out=out)
    assert record.status == "feasible" and record.max_violation == 0.0
    assert np.max(np.abs(out["theta"])) <= 0.25
    X, y = data["X"], data["y"]
    support = list(np.flatnonzero(out["z"] > 0.5))
    assert record.objective == pytest.approx(box_ridge(X, y, support, 0.0, 0.25)[1], rel=1e-7)


def test_options_scikit_learn_rejects_are_errors_with_its_message(tiny_regression):
    data = tiny_regression(n=25, p=7, k=3, seed=0)
    record = api.solve(FID, data, solver="lasso_path", time_limit=10, k=3, solver_options={"max_iter": "many"})
    assert record.status == "error" and record.message.startswith("lasso_path: TypeError") and record.objective is None
    with pytest.raises(InputError, match="lasso_path has no option"):
        api.solve(FID, data, solver="lasso_path", time_limit=10, k=3, solver_options={"alpha": 1.0})
    with pytest.raises(InputError, match="eps"):
        api.solve(FID, data, solver="lasso_path", time_limit=10, k=3, solver_options={"eps": 0.0})


def test_missing_package_is_not_installed(tiny_regression, monkeypatch):
    monkeypatch.setattr(SOLVER, "installed", lambda: False)
    record = api.solve(FID, tiny_regression(n=25, p=7, k=3), solver="lasso_path", time_limit=10, k=3)
    assert record.status == "not_installed" and "scikit-learn" in record.message


def test_version_probe_never_raises_without_the_package(monkeypatch):
    def missing(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", missing)
    assert SOLVER.version() == ""
