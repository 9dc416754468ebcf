"""The ``truncated_power`` heuristic (Yuan & Zhang 2013; reference_impl/solvers/adapters/truncated_power.py)
on tiny instances of ``sparse_pca.mio``.

What is proved: its solution is feasible and never better than the enumeration optimum (and reaches
it on the planted catalogue instances); restarts are deterministic under a seed; more restarts
never do worse; bad options give one clear error. It needs only NumPy (no not-installed case).
"""
from __future__ import annotations

import numpy as np
import pytest

from bruteforce import sparse_pca_optimum
from reference_impl import api
from reference_impl.errors import InputError
from reference_impl.formulations.sparse_pca import covariance
from reference_impl.instances import resolve_instance
from reference_impl.registry import get_formulation
from reference_impl.solvers.adapters.truncated_power import SOLVER
from reference_impl.solvers.registry import capable_solvers

FID = "sparse_pca.mio"


def test_registered():
    assert "truncated_power" in capable_solvers(get_formulation(FID)) and SOLVER.installed()
    assert "Yuan & Zhang 2013" in SOLVER.version()


@pytest.mark.parametrize("instance,k", [("spca-d6-k2", 2), ("spca-d8-k3", 3)])
def test_catalogue_reaches_the_enumeration_optimum(instance, k):
    out: dict = {}
    record = api.solve(FID, instance, solver="truncated_power", k=k, solution_out=out)
    assert record.status == "feasible" and record.bound is None and record.max_violation == 0.0, record.message
    optimum = sparse_pca_optimum(covariance(resolve_instance(instance)), k)
    assert record.objective <= optimum * (1 + 1e-9) and record.objective == pytest.approx(optimum, rel=1e-7)
    assert np.count_nonzero(out["theta"]) <= k and np.linalg.norm(out["theta"]) == pytest.approx(1)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_random_covariances_never_above_enumeration(seed):
    rng = np.random.default_rng(seed)
    G = rng.standard_normal((9, 9))
    S = G.T @ G / 9
    record = api.solve(FID, {"Sigma": S}, solver="truncated_power", k=3, seed=seed)
    assert record.status == "feasible", record.message
    assert record.objective <= sparse_pca_optimum(S, 3) * (1 + 1e-9)
    again = api.solve(FID, {"Sigma": S}, solver="truncated_power", k=3, seed=seed)
    assert again.objective == record.objective  # seeded restarts: deterministic
    one = api.solve(FID, {"Sigma": S}, solver="truncated_power", k=3, seed=seed, solver_options={"restarts": 1})
    assert one.objective <= record.objective + 1e-12  # the first start is one of the ten


def test_bad_options_are_one_clear_error():
    for options, match in [({"restarts": 0}, "restarts must be a positive integer"),
                           ({"max_iter": 2.5}, "max_iter must be a positive integer"),
                           ({"tol": -1.0}, "tol must be a finite number"),
                           ({"alpha": 1}, "truncated_power has no option")]:
        with pytest.raises(InputError, match=match):
            api.solve(FID, "spca-d6-k2", solver="truncated_power", k=2, solver_options=options)
