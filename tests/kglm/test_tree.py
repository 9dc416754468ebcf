"""Branch and bound behaviour (FORMULATIONS.md §8, ``kglm.bnb``).

* Bound validity: with ``trace=True`` every node whose bound was used (pruned by its own
  bound, pruned by an inherited bound, a child closed by variable fixing, branched, leaf)
  records (S1, S0, bound); each bound is
  checked against the best completion of that subtree by enumeration, and the final lower
  bound never exceeds the true optimum.  A deliberately small node budget exercises
  ``node_limit`` runs too.
* Batched and sequential (batch_size=1, the same code path) return the same optimum.
* Status and gap bookkeeping: node_limit / time_limit / optimal, the project's gap formula.
"""
from __future__ import annotations

import math

import pytest

from reference_impl.kglm import relative_gap, solve

from ._brute import all_supports, best, best_completion, make_instance


@pytest.mark.parametrize("loss,seed,m_kind,lam2", [
    ("squared", 1, "inf", 0.05), ("squared", 2, "bind", 0.5), ("squared", 3, "loose", 0.0),
    ("logistic", 4, "inf", 0.1), ("logistic", 5, "bind", 0.3), ("logistic", 6, "loose", 0.0),
])
@pytest.mark.parametrize("batch_size", [1, 8])
def test_every_recorded_bound_is_valid(loss, seed, m_kind, lam2, batch_size):
    n, p, k = (14, 10, 3) if seed % 2 else (40, 9, 3)
    X, y, M = make_instance(loss, n, p, k, seed, rho=0.6, m_kind=m_kind)
    table = all_supports(X, y, loss, lam2, M, k)
    opt, _ = best(table)
    res = solve(X, y, k=k, loss=loss, lambda2=lam2, M=M, batch_size=batch_size, gap_tol=1e-9,
                trace=True, dive_every=2)
    assert res.status == "optimal"
    assert abs(res.objective - opt) <= 1e-7 * opt
    assert res.lower_bound <= opt + 1e-9 * opt
    kinds = {r["kind"] for r in res.trace}
    assert "branched" in kinds and ("pruned" in kinds or "leaf" in kinds)
    for r in res.trace:
        bc = best_completion(table, r["s1"], r["s0"])
        assert r["bound"] <= bc + 1e-9 * abs(bc), r
        if r["kind"] in ("pruned", "pruned_inherited", "fixed"):
            assert r["bound"] >= res.objective - 1e-9 * res.objective - 1e-12


def test_bounds_valid_with_a_weak_incumbent_and_node_limit():
    """Stopped early (node_limit) the reported lower bound is still valid and the gap is the
    project's formula."""
    X, y, M = make_instance("squared", 12, 14, 4, seed=9, rho=0.7)
    table = all_supports(X, y, "squared", 0.01, M, 4)
    opt, _ = best(table)
    res = solve(X, y, k=4, lambda2=0.01, M=M, batch_size=2, node_limit=3, trace=True,
                beam_width=1)
    assert res.status in ("node_limit", "optimal")
    assert res.nodes >= 1
    assert res.lower_bound <= opt + 1e-9 * opt
    assert res.objective >= opt - 1e-9 * opt
    assert res.gap == pytest.approx(relative_gap(res.objective, res.lower_bound))
    for r in res.trace:
        bc = best_completion(table, r["s1"], r["s0"])
        assert r["bound"] <= bc + 1e-9 * abs(bc)


@pytest.mark.parametrize("loss,seed", [("squared", 21), ("squared", 22), ("logistic", 23), ("logistic", 24)])
def test_batched_equals_sequential(loss, seed):
    from reference_impl.kglm.synthetic import make_synthetic

    X, y, _ = make_synthetic(60, 30, 4, 0.7, 3.0, loss, seed, normalize=True)
    out = {}
    for B in (1, 16, 256):
        out[B] = solve(X, y, k=4, loss=loss, lambda2=0.05, M=3.0, batch_size=B, gap_tol=1e-8)
        assert out[B].status == "optimal"
    for B in (16, 256):
        assert out[B].objective == pytest.approx(out[1].objective, rel=1e-8)
        assert out[B].lower_bound <= out[1].objective * (1 + 1e-8)


def test_time_limit_status_and_valid_bound():
    from reference_impl.kglm.synthetic import make_synthetic

    X, y, _ = make_synthetic(120, 120, 10, 0.9, 5.0, "squared", 0)
    res = solve(X, y, k=10, lambda2=1.0, M=2.0, batch_size=32, time_limit=1.0)
    assert res.status in ("time_limit", "optimal")
    assert res.lower_bound <= res.objective
    assert res.gap == pytest.approx(relative_gap(res.objective, res.lower_bound))
    assert set(res.timings) >= {"bound", "heuristics", "queue", "transfer", "total"}
    assert res.timings["total"] < 10.0


def test_gap_formula():
    assert relative_gap(0.0, 0.0) == 0.0
    assert relative_gap(math.inf, 1.0) == math.inf
    assert relative_gap(10.0, 9.0) == pytest.approx(0.1)
    assert relative_gap(-10.0, -11.0) == pytest.approx(0.1)
    assert relative_gap(1e-12, 0.0) == pytest.approx(1e-12 / 1e-10)


def test_k_equals_p_is_a_leaf():
    X, y, M = make_instance("squared", 20, 4, 4, seed=2)
    res = solve(X, y, k=4, lambda2=0.1)
    table = all_supports(X, y, "squared", 0.1, M, 4)
    assert res.status == "optimal"
    assert res.objective == pytest.approx(best(table)[0], rel=1e-9)


@pytest.mark.parametrize("batch_size", [1, 8])
def test_recorded_bounds_valid_on_a_small_optimum(batch_size):
    """Near noise-free least squares with n > p (eigenvalue shift candidate): every recorded
    node bound and the final bound stay below the (tiny) optimum in relative terms."""
    import numpy as np

    rng = np.random.default_rng(7)
    X = rng.standard_normal((30, 9))
    beta = np.zeros(9)
    beta[[1, 4, 6]] = [1.0, -0.7, 1.4]
    y = X @ beta + 1e-5 * rng.standard_normal(30)
    table = all_supports(X, y, "squared", 1e-7, math.inf, 3)
    opt, _ = best(table)
    res = solve(X, y, k=3, lambda2=1e-7, batch_size=batch_size, gap_tol=1e-9, trace=True,
                dive_every=2, beam_width=1)
    assert res.status == "optimal"
    assert abs(res.objective - opt) <= 1e-7 * opt
    assert res.lower_bound <= opt * (1 + 1e-9)
    for r in res.trace:
        bc = best_completion(table, r["s1"], r["s0"])
        assert r["bound"] <= bc * (1 + 1e-9), r
