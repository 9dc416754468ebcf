"""The ``sklearn_sparse_pca`` heuristic (reference_impl/solvers/adapters/sklearn_sparse_pca.py) on tiny
instances of ``sparse_pca.mio``.

What is proved: its solution is feasible (the evaluator's status ``feasible``) and never better than
the enumeration optimum; it is the leading eigenvector of Σ on the support of scikit-learn's own
SparsePCA component at the α it reports (the first α of the increasing grid with 1..k nonzeros);
the data built from a given Σ has Σ as its covariance; bad options give one clear error; options
scikit-learn rejects give ``error`` with its message; a missing package gives ``not_installed``.
"""
from __future__ import annotations

import importlib.metadata
import warnings

import numpy as np
import pytest

from bruteforce import sparse_pca_optimum
from reference_impl import api
from reference_impl.errors import InputError
from reference_impl.formulations.sparse_pca import covariance
from reference_impl.instances import resolve_instance
from reference_impl.instances.instance import Instance
from reference_impl.registry import get_formulation
from reference_impl.solvers.adapters.sklearn_sparse_pca import SOLVER, sparse_pca_data
from reference_impl.solvers.registry import capable_solvers

pytest.importorskip("sklearn")
FID = "sparse_pca.mio"


def _data(seed, n=40, d=7):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    X[:, 1] += 1.5 * X[:, 0]
    X[:, 2] -= 1.2 * X[:, 0]
    return X


def test_registered_and_versioned():
    assert "sklearn_sparse_pca" in capable_solvers(get_formulation(FID))
    assert SOLVER.version() == f"scikit-learn {importlib.metadata.version('scikit-learn')} SparsePCA"


@pytest.mark.parametrize("instance,k,standardize", [("spca-d6-k2", 2, False), ("spca-d8-k3", 3, False),
                                                    ("spca-d8-k3", 2, True)])
def test_catalogue_feasible_never_above_enumeration(instance, k, standardize):
    out: dict = {}
    record = api.solve(FID, instance, solver="sklearn_sparse_pca", k=k, standardize=standardize, solution_out=out)
    assert record.status == "feasible" and record.bound is None and record.max_violation == 0.0, record.message
    S = covariance(resolve_instance(instance), standardize)
    assert record.objective <= sparse_pca_optimum(S, k) * (1 + 1e-9)
    assert record.extra["data"] == "sqrt_Sigma"  # these instances give Sigma: the formulation uses it
    support = np.flatnonzero(out["z"] > 0.5)
    assert 1 <= len(support) <= k and record.extra["peer_nonzeros"] == len(support)
    assert record.objective == pytest.approx(np.linalg.eigvalsh(S[np.ix_(support, support)])[-1], rel=1e-9)
    assert record.solver_objective == pytest.approx(record.objective, rel=1e-9)


@pytest.mark.parametrize("seed,k", [(0, 2), (1, 3), (2, 1)])
def test_data_instance_is_sparse_pca_of_x_at_the_reported_alpha(seed, k):
    from sklearn.decomposition import SparsePCA

    X = _data(seed)
    out: dict = {}
    record = api.solve(FID, {"X": X}, solver="sklearn_sparse_pca", k=k, seed=3, solution_out=out)
    assert record.status == "feasible", record.message
    assert record.extra["data"] == "X" and not record.extra["truncated"]
    Xc = X - X.mean(axis=0)
    S = Xc.T @ Xc / len(X)
    assert record.objective <= sparse_pca_optimum(S, k) * (1 + 1e-9)
    # scikit-learn's own SparsePCA on X at the reported alpha has the returned support ...
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        component = SparsePCA(n_components=1, alpha=record.extra["peer_alpha"], random_state=3).fit(X).components_[0]
    support = np.flatnonzero(out["z"] > 0.5)
    assert np.array_equal(np.flatnonzero(component), support)
    # ... and the first alpha of the increasing grid (eps·α_max .. α_max) with at most k nonzeros
    alpha_max = np.max(np.linalg.norm(Xc, axis=0))
    grid = np.geomspace(0.01 * alpha_max, alpha_max, 12)
    position = int(np.flatnonzero(np.isclose(grid, record.extra["peer_alpha"]))[0])
    assert record.extra["path_alphas"] == position + 1
    # θ is the unit leading eigenvector of Σ on that support
    values, vectors = np.linalg.eigh(S[np.ix_(support, support)])
    assert abs(abs(out["theta"][support] @ vectors[:, -1]) - 1) < 1e-9 and np.linalg.norm(out["theta"]) == pytest.approx(1)


def test_sigma_only_instance_uses_a_square_root_with_that_covariance():
    X = _data(4)
    Xc = X - X.mean(axis=0)
    S = Xc.T @ Xc / len(X)
    A, source = sparse_pca_data(Instance(id="s", arrays={"Sigma": S}), standardize=False)
    assert source == "sqrt_Sigma" and np.allclose(A.mean(axis=0), 0, atol=1e-12)
    assert np.allclose(A.T @ A / len(A), S, atol=1e-10)
    A, _ = sparse_pca_data(Instance(id="s", arrays={"Sigma": S}), standardize=True)
    assert np.allclose(A.T @ A / len(A), covariance(Instance(id="s", arrays={"Sigma": S}), True), atol=1e-10)
    record = api.solve(FID, {"Sigma": S}, solver="sklearn_sparse_pca", k=2)
    assert record.status == "feasible" and record.objective <= sparse_pca_optimum(S, 2) * (1 + 1e-9)


def test_coarse_grid_falls_back_to_the_top_k_loadings():
    X = _data(5)
    record = api.solve(FID, {"X": X}, solver="sklearn_sparse_pca", k=1, solver_options={"n_alphas": 1, "eps": 0.01})
    assert record.status == "feasible" and record.extra["truncated"], record.extra
    assert record.extra["path_alphas"] == 1


def test_bad_options_are_one_clear_error():
    with pytest.raises(InputError, match="sklearn_sparse_pca has no option"):
        api.solve(FID, "spca-d6-k2", solver="sklearn_sparse_pca", k=2, solver_options={"alpha": 1.0})
    with pytest.raises(InputError, match="n_alphas must be a positive integer"):
        api.solve(FID, "spca-d6-k2", solver="sklearn_sparse_pca", k=2, solver_options={"n_alphas": 0})
    with pytest.raises(InputError, match="eps"):
        api.solve(FID, "spca-d6-k2", solver="sklearn_sparse_pca", k=2, solver_options={"eps": 2.0})
    record = api.solve(FID, "spca-d6-k2", solver="sklearn_sparse_pca", k=2, solver_options={"method": "nonsense"})
    assert record.status == "error" and record.message.startswith("sklearn_sparse_pca: ") and record.objective is None


def test_missing_package_is_not_installed(monkeypatch):
    monkeypatch.setattr(SOLVER, "installed", lambda: False)
    record = api.solve(FID, "spca-d6-k2", solver="sklearn_sparse_pca", k=2)
    assert record.status == "not_installed" and "scikit-learn" in record.message
