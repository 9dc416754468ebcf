"""The solver's optimum equals exhaustive enumeration (FORMULATIONS.md §8: optimality proved
on small instances by brute force).

Every support of size <= k is solved by an independent SciPy reference (tests/kglm/_brute.py);
the solver's objective must match the best one to 1e-7 relative, its returned coefficients
must be feasible and reproduce the objective, and its lower bound must not exceed the optimum.
Instances: both losses, p < n and p > n, M binding / loose / infinite, lambda2 = 0 with a
finite box, batch sizes 1 (sequential), 4 and 64.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from reference_impl.kglm import solve

from ._brute import all_supports, best, make_instance, objective

# (loss, n, p, k, m_kind, lambda2, batch_size, seed)
CASES = []
_ls_shapes = [(30, 8, 3), (40, 10, 3), (25, 10, 4), (8, 12, 3), (10, 14, 2), (60, 12, 4), (12, 10, 2)]
for i in range(28):
    n, p, k = _ls_shapes[i % len(_ls_shapes)]
    m_kind = ("inf", "bind", "loose")[i % 3]
    lam2 = (0.1, 1.0, 0.01, 0.0)[i % 4] if m_kind != "inf" else (0.1, 1.0, 0.01)[i % 3]
    CASES.append(("squared", n, p, k, m_kind, lam2, (1, 4, 64)[i % 3], i))
_lg_shapes = [(40, 8, 3), (60, 10, 3), (8, 10, 2), (30, 9, 3), (12, 10, 3)]
for i in range(24):
    n, p, k = _lg_shapes[i % len(_lg_shapes)]
    m_kind = ("inf", "bind", "loose")[i % 3]
    lam2 = (0.1, 1.0, 0.03, 0.0)[i % 4] if m_kind != "inf" else (0.1, 1.0, 0.03)[i % 3]
    CASES.append(("logistic", n, p, k, m_kind, lam2, (64, 1, 4)[i % 3], 100 + i))


def _id(c):
    loss, n, p, k, m_kind, lam2, B, seed = c
    return f"{loss[:2]}-n{n}-p{p}-k{k}-M{m_kind}-l{lam2}-B{B}-s{seed}"


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_matches_enumeration(case):
    loss, n, p, k, m_kind, lam2, B, seed = case
    X, y, M = make_instance(loss, n, p, k, seed, m_kind=m_kind, lam2=lam2)
    table = all_supports(X, y, loss, lam2, M, k)
    opt, opt_support = best(table)

    res = solve(X, y, k=k, loss=loss, lambda2=lam2, M=M, batch_size=B, gap_tol=1e-9,
                time_limit=60)
    assert res.status == "optimal"
    # matches the enumerated optimum
    assert abs(res.objective - opt) <= 1e-7 * max(abs(opt), 1e-10), (res.objective, opt)
    # the returned coefficients are feasible and reproduce the reported objective
    assert np.count_nonzero(res.coef) <= k
    if math.isfinite(M):
        assert np.max(np.abs(res.coef)) <= M * (1 + 1e-12)
    assert abs(objective(X, y, loss, lam2, res.coef) - res.objective) <= 1e-12 * max(1.0, opt)
    assert list(res.support) == sorted(np.flatnonzero(res.coef).tolist())
    # certified bound: valid (relative: these optima may be < 1) and closing the gap
    assert res.lower_bound <= opt * (1 + 1e-9) + 1e-300
    assert res.lower_bound <= res.objective
    assert res.gap <= 1e-9


SMALL_OPT = [  # (n, p, k, noise, lambda2, seed): near noise-free least squares, n > p (shift)
    (30, 8, 2, 0.0, 1e-10, 0), (30, 8, 2, 0.0, 1e-6, 1), (40, 10, 3, 1e-6, 1e-8, 2),
    (25, 6, 2, 1e-4, 1e-8, 3), (60, 12, 3, 0.0, 1e-9, 4), (10, 12, 2, 0.0, 1e-10, 5),
]


@pytest.mark.parametrize("case", SMALL_OPT, ids=[f"n{c[0]}-p{c[1]}-k{c[2]}-e{c[3]}-l{c[4]}" for c in SMALL_OPT])
def test_small_optimum_bound_is_valid(case):
    """Optima far below 1 (and far below ||y||^2): the bound must stay below the optimum in
    relative terms, which the eigenvalue shift's rounding used to break."""
    n, p, k, noise, lam2, seed = case
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    beta = np.zeros(p)
    beta[rng.choice(p, size=k, replace=False)] = rng.uniform(0.5, 2.0, size=k)
    y = X @ beta + noise * rng.standard_normal(n)
    opt, _ = best(all_supports(X, y, "squared", lam2, math.inf, k))
    assert opt < 1e-4 * float(y @ y)
    res = solve(X, y, k=k, lambda2=lam2, gap_tol=1e-9)
    assert res.status == "optimal"
    assert abs(res.objective - opt) <= 1e-7 * opt
    assert res.lower_bound <= res.objective
    assert res.lower_bound <= opt * (1 + 1e-9) + 1e-300
    assert res.root_bound <= opt * (1 + 1e-9) + 1e-300


def test_cases_cover_the_required_settings():
    """>= 50 instances, both losses, p < n and p > n, binding and infinite M."""
    assert len(CASES) >= 50
    for loss in ("squared", "logistic"):
        sub = [c for c in CASES if c[0] == loss]
        assert any(c[2] > c[1] for c in sub) and any(c[2] < c[1] for c in sub)
        assert {c[4] for c in sub} == {"inf", "bind", "loose"}
        assert any(c[5] == 0.0 for c in sub)
    assert max(c[2] for c in CASES) >= 14


@pytest.mark.parametrize("loss,seed", [("squared", 3), ("squared", 5), ("logistic", 104), ("logistic", 110)])
def test_box_binds_in_bind_cases(loss, seed):
    """Sanity check of the instance generator: with m_kind='bind' the optimum sits on the box."""
    X, y, M = make_instance(loss, 40, 8, 3, seed, m_kind="bind", lam2=0.1)
    table = all_supports(X, y, loss, 0.1, M, 3)
    opt, S = best(table)
    from ._brute import restricted_opt

    _, coef = restricted_opt(X, y, loss, 0.1, M, S)
    assert np.max(np.abs(coef)) >= M * (1 - 1e-6)
    res = solve(X, y, k=3, loss=loss, lambda2=0.1, M=M, gap_tol=1e-9)
    assert abs(res.objective - opt) <= 1e-7 * opt
