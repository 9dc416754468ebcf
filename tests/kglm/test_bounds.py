"""The conjugate / dual-bound code (FORMULATIONS.md §8: g*(w) = sum_{S1} h(w_j) + top-(k-|S1|)
h(w_j) over free j; LB(zeta) = -F*(-zeta) - g*(X^T zeta) valid for ANY zeta).

* weak duality: LB(zeta) <= primal relaxation value for random zeta and random feasible beta,
  both losses, M finite / infinite, lambda2 = 0 with finite M;
* Fenchel-Young: g(beta) + g*(w) >= w^T beta for random pairs, with equality at
  beta = prox_{tg}(v), w = (v - beta)/t (checks prox, g and g* against each other);
* g (the perspective value minimised over z) equals a direct numerical minimisation over z;
* the duality gap closes at the relaxation optimum and the relaxation value is below the best
  completion of the node (enumeration);
* g* matches sup_beta w^T beta - g(beta) computed by brute force on a grid (p = 2).
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import minimize

from reference_impl.kglm import kernels
from reference_impl.kglm.bounds import dual_bound_at, relaxation_value
from reference_impl.kglm.losses import get_loss
from reference_impl.kglm.node_batch import RelaxOptions, SmoothPart, solve_relaxations
from reference_impl.kglm.prox import conj_value, h_conj, penalty_value, prox_batch

from ._brute import all_supports, best_completion, make_instance

PARAMS = [(1.0, math.inf), (0.3, 2.0), (1.0, 0.5), (0.0, 1.0), (0.05, 3.0)]


def _random_masks(rng, B, p, k):
    in1 = np.zeros((B, p), bool)
    free = np.zeros((B, p), bool)
    kf = np.zeros(B, dtype=np.int64)
    for b in range(B):
        perm = rng.permutation(p)
        n1 = int(rng.integers(0, k + 1))
        n0 = int(rng.integers(0, p - n1 + 1))
        in1[b, perm[:n1]] = True
        free[b, perm[n1 + n0:]] = True
        kf[b] = k - n1
    return in1, free, kf


@pytest.mark.parametrize("lam2,M", PARAMS)
@pytest.mark.parametrize("loss", ["squared", "logistic"])
def test_weak_duality_random_points(loss, lam2, M):
    rng = np.random.default_rng(7)
    n, p, k, B = 15, 9, 4, 40
    X = rng.standard_normal((n, p))
    y = rng.standard_normal(n) if loss == "squared" else rng.choice([-1.0, 1.0], n)
    lo = get_loss(loss)
    in1, free, kf = _random_masks(rng, B, p, k)
    beta = prox_batch(rng.standard_normal((B, p)) * 2, 0.7, in1, free, kf, lam2, M,
                      kernels.theta_rows_cpu)
    primal = relaxation_value(X, y, lo, beta, in1, free, kf, lam2, M)
    assert np.all(np.isfinite(primal))
    for scale in (0.01, 0.3, 1.0, 5.0):
        zeta = rng.standard_normal((B, n)) * scale
        if loss == "logistic":  # any zeta is allowed; also try points inside the domain
            zeta = np.where(rng.random((B, n)) < 0.5, zeta, y * rng.random((B, n)))
        lb = dual_bound_at(X, y, lo, None, in1, free, kf, lam2, M, zeta=zeta)
        assert np.all(lb <= primal + 1e-9 * np.maximum(1, np.abs(primal)))
    # the dual point of beta itself
    lb = np.concatenate([dual_bound_at(X, y, lo, beta[i], in1[i], free[i], kf[i], lam2, M)
                         for i in range(B)])
    assert np.all(lb <= primal + 1e-9 * np.maximum(1, np.abs(primal)))


@pytest.mark.parametrize("lam2,M", PARAMS)
def test_fenchel_young_and_prox(lam2, M):
    rng = np.random.default_rng(11)
    worst = 0.0
    for trial in range(40):
        B, p = 6, int(rng.integers(2, 13))
        k = int(rng.integers(1, p + 1))
        in1, free, kf = _random_masks(rng, B, p, k)
        V = rng.standard_normal((B, p)) * rng.choice([0.1, 1.0, 5.0])
        t = float(rng.choice([0.05, 1.0, 4.0]))
        for fn in (kernels.theta_rows_cpu, kernels.theta_rows_xp):
            beta = prox_batch(V, t, in1, free, kf, lam2, M, fn)
            W = (V - beta) / t
            g = penalty_value(beta, in1, free, kf, lam2, M)
            gs = conj_value(W, in1, free, kf, lam2, M)
            ip = np.sum(W * beta, axis=1)
            err = np.abs(g + gs - ip) / (1 + np.abs(ip))
            worst = max(worst, float(err.max()))
        W2 = rng.standard_normal((B, p)) * 3
        assert np.all(penalty_value(beta, in1, free, kf, lam2, M) + conj_value(W2, in1, free, kf, lam2, M)
                      >= np.sum(W2 * beta, axis=1) - 1e-10)
    assert worst < 1e-10


def test_penalty_value_equals_minimisation_over_z():
    rng = np.random.default_rng(3)
    for trial in range(30):
        p = int(rng.integers(2, 8))
        k = int(rng.integers(1, p + 1))
        lam2 = float(rng.choice([0.5, 1.0]))
        M = float(rng.choice([math.inf, 3.0]))
        free = np.ones(p, bool)
        beta = rng.standard_normal(p) * (rng.random(p) < 0.7)
        if math.isfinite(M):  # make beta feasible: |b| <= M z, sum z <= k
            beta *= min(1.0, 0.9 * k * M / max(np.abs(beta).sum(), 1e-12))
            beta = np.clip(beta, -M, M)
        nz = np.flatnonzero(beta)
        c = np.abs(beta[nz])
        lo = c / M if math.isfinite(M) else np.full(nz.size, 1e-9)
        def obj(z):
            return lam2 * np.sum(c * c / z)

        z0 = np.clip(np.full(nz.size, min(1.0, k / max(nz.size, 1))), lo, 1)
        cons = [{"type": "ineq", "fun": lambda z: k - np.sum(z)}]
        best_val = math.inf
        if nz.size:
            r = minimize(obj, z0, method="SLSQP", bounds=list(zip(np.maximum(lo, 1e-9), np.ones(nz.size))),
                         constraints=cons, options={"ftol": 1e-14, "maxiter": 500})
            best_val = r.fun
        else:
            best_val = 0.0
        got = penalty_value(beta[None], np.zeros((1, p), bool), free[None], np.array([k]), lam2, M)[0]
        assert abs(got - best_val) <= 1e-6 * max(1.0, best_val), (got, best_val)


@pytest.mark.parametrize("lam2,M", [(1.0, math.inf), (0.5, 1.5), (0.0, 1.0)])
def test_conjugate_by_grid(lam2, M):
    """g*(w) = sup_beta w.beta - g(beta) on a fine grid (p = 2, free coordinates, k' = 1)."""
    span = M if math.isfinite(M) else 6.0
    grid = np.linspace(-span, span, 601)
    B1, B2 = np.meshgrid(grid, grid)
    betas = np.column_stack([B1.ravel(), B2.ravel()])
    free = np.ones_like(betas, dtype=bool)
    in1 = np.zeros_like(free)
    g = penalty_value(betas, in1, free, np.ones(len(betas), dtype=np.int64), lam2, M)
    rng = np.random.default_rng(0)
    for _ in range(10):
        w = rng.standard_normal(2) * 1.5
        brute = np.max(betas @ w - g)
        exact = conj_value(w[None], in1[:1], free[:1], np.array([1]), lam2, M)[0]
        assert brute <= exact + 1e-9
        assert exact - brute <= 2e-2 * max(1.0, exact)
    # S1 coordinate alone: h(w), and an S0 coordinate contributes nothing
    w = np.array([[0.7, -5.0]])
    val = conj_value(w, np.array([[True, False]]), np.array([[False, False]]), np.array([0]), lam2, M)[0]
    assert val == pytest.approx(h_conj(np.array([0.7]), lam2, M)[0])


@pytest.mark.parametrize("loss", ["squared", "logistic"])
@pytest.mark.parametrize("lam2,M", [(0.5, math.inf), (0.2, 1.0), (0.0, 0.8)])
def test_gap_closes_at_relaxation_optimum(loss, lam2, M):
    k = 3
    X, y, _ = make_instance(loss, 25, 8, k, seed=5)
    lo = get_loss(loss)
    table = all_supports(X, y, loss, lam2, M, k)
    rng = np.random.default_rng(1)
    in1, free, kf = _random_masks(rng, 12, 8, k)
    in1[0], free[0], kf[0] = False, True, k  # the root
    res = solve_relaxations(SmoothPart(X, y, lo, np), np.zeros((12, 8)), in1, free, kf, lam2, M, math.inf,
                            opts=RelaxOptions(max_iter=20000, rtol=1e-11, stop_unprunable=False))
    primal = relaxation_value(X, y, lo, res.beta, in1, free, kf, lam2, M)
    for i in range(12):
        scale = max(1.0, abs(primal[i]))
        assert res.lower[i] <= primal[i] + 1e-10 * scale
        assert primal[i] - res.lower[i] <= 1e-8 * scale, (primal[i], res.lower[i])
        s1 = tuple(np.flatnonzero(in1[i]))
        s0 = tuple(np.flatnonzero(~(in1[i] | free[i])))
        assert res.lower[i] <= best_completion(table, s1, s0) + 1e-9 * scale


@pytest.mark.parametrize("loss,lam2,M", [("squared", 0.2, math.inf), ("squared", 0.5, 1.0),
                                         ("logistic", 0.3, 2.0), ("logistic", 0.0, 1.0)])
def test_child_bounds_are_valid(loss, lam2, M):
    """Children bounds from a node's dual point (used for variable fixing) never exceed the
    best completion of the child subtree."""
    from reference_impl.kglm.node_batch import child_bounds

    k, p = 3, 9
    X, y, _ = make_instance(loss, 20, p, k, seed=8, rho=0.5)
    lo = get_loss(loss)
    table = all_supports(X, y, loss, lam2, M, k)
    rng = np.random.default_rng(2)
    in1, free, kf = _random_masks(rng, 30, p, k)
    ok = (kf >= 1) & (free.sum(1) > kf)
    in1, free, kf = in1[ok], free[ok], kf[ok]
    for max_iter in (15, 3000):  # loose and converged dual points
        res = solve_relaxations(SmoothPart(X, y, lo, np), np.zeros((len(kf), p)), in1, free, kf, lam2, M,
                                math.inf, opts=RelaxOptions(max_iter=max_iter, stop_unprunable=False,
                                                            rtol=1e-12))
        for i in range(len(kf)):
            idx, lb_in, lb_out = child_bounds(res.w[i], res.lower[i], free[i], int(kf[i]), lam2, M)
            s1 = tuple(np.flatnonzero(in1[i]))
            s0 = tuple(np.flatnonzero(~(in1[i] | free[i])))
            # the stored (lower, w) pair is a genuine dual value
            assert np.all(lb_in >= res.lower[i]) and np.all(lb_out >= res.lower[i])
            for j, a, b in zip(idx, lb_in, lb_out):
                bc1 = best_completion(table, s1 + (int(j),), s0)
                bc0 = best_completion(table, s1, s0 + (int(j),))
                assert a <= bc1 + 1e-9 * max(1.0, abs(bc1)), (i, j, a, bc1)
                assert b <= bc0 + 1e-9 * max(1.0, abs(bc0)), (i, j, b, bc0)
