"""The ``exkmc`` peer (the ExKMC package; reference_impl/solvers/adapters/exkmc.py) on tiny instances of
the clustering formulations.

ExKMC 0.0.3 does not build on Python >= 3.11 (its generated C includes ``longintrepr.h``): where it
does not import, the package tests are skipped and the adapter's ``not_installed`` answer is
tested. Where it imports: its trees, converted, are feasible and never better than the optimum
over every tree, and its IMM tree (max_leaves = k) makes the same partition as the NumPy IMM of
``imm`` from the same k-means centres.
"""
from __future__ import annotations

import importlib.util

import pytest

from reference_impl import api
from reference_impl.errors import InputError
from reference_impl.formulations.clustering import best_tree_bruteforce, route, same_partition
from reference_impl.instances import resolve_instance
from reference_impl.solvers.adapters._threshold_tree import imm_tree, kmeans_fit, to_solution
from reference_impl.solvers.adapters.exkmc import SOLVER

FID = "clustering.tree_mccormick"


def test_bad_options_are_one_clear_error():
    with pytest.raises(InputError, match="exkmc option n_init must be a positive integer"):
        api.solve(FID, "clust-n6-d2-D1", solver="exkmc", depth=1, solver_options={"n_init": -1})
    with pytest.raises(InputError, match="exkmc has no option"):
        api.solve(FID, "clust-n6-d2-D1", solver="exkmc", depth=1, solver_options={"light": False})


def test_missing_package_is_not_installed(monkeypatch):
    monkeypatch.setattr(SOLVER, "installed", lambda: False)
    record = api.solve(FID, "clust-n6-d2-D1", solver="exkmc", depth=1)
    assert record.status == "not_installed" and "ExKMC" in record.message and record.objective is None


def test_installed_probe_matches_the_import():
    assert SOLVER.installed() == (importlib.util.find_spec("ExKMC") is not None)


@pytest.mark.parametrize("fid", ["clustering.tree_mccormick", "clustering.tree_convexified"])
@pytest.mark.parametrize("instance,depth", [("clust-n6-d2-D1", 1), ("clust-n8-d2-D2", 2), ("clust-n10-d1-D2", 2),
                                            ("clust-iris-n8", 2)])
def test_feasible_never_below_enumeration(fid, instance, depth):
    pytest.importorskip("ExKMC")
    record = api.solve(fid, instance, solver="exkmc", depth=depth)
    assert record.status == "feasible" and record.max_violation == 0.0, record.message
    assert record.objective >= best_tree_bruteforce(resolve_instance(instance).X, depth).value * (1 - 1e-9)
    assert record.extra["peer_k"] <= record.extra["peer_max_leaves"] <= 2 ** depth


@pytest.mark.parametrize("instance,k", [("clust-n8-d2-D2", 4), ("clust-iris-n12", 3), ("clust-n12-d2-D2", 2)])
def test_exkmc_imm_tree_is_the_numpy_imm_partition(instance, k):
    pytest.importorskip("ExKMC")
    from ExKMC.Tree import Tree

    X = resolve_instance(instance).X
    kmeans = kmeans_fit(X, k, 0, 10, 300)
    theirs = Tree(k, max_leaves=k, random_state=0).fit(X, kmeans).tree
    ours = imm_tree(X, kmeans.labels_, kmeans.cluster_centers_)
    depth = 8
    a, b = to_solution(theirs, X, depth), to_solution(ours, X, depth)
    leaves_a = route(X, a["feature"].astype(int), a["threshold"], depth)
    leaves_b = route(X, b["feature"].astype(int), b["threshold"], depth)
    assert same_partition(leaves_a, leaves_b)
