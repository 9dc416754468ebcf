"""Rashomon sets of k-sparse GLMs (``reference_impl.kglm.rashomon``) against brute force: for
every k-subset S the restricted problem is solved exactly by an independent oracle (active-set
enumeration: each coordinate free, at +M or at -M; the free part by a linear solve for least
squares, by Newton's method for logistic loss; the best candidate inside the box is the exact
optimum of the strictly convex problem), and the collected set must equal the enumerated one,
support for support, for several epsilon (0 included, one exactly at a model's objective) and
several top-N, both losses, M binding or not, and exact ties (a duplicated column)."""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from reference_impl.kglm import KGLMInputError, KGLMLabelWarning
from reference_impl.kglm.rashomon import RashomonResult, rashomon

RTOL = 1e-9  # the solver's default tie tolerance


# -- the oracle ---------------------------------------------------------------------------------
def _objective(X, y, loss, lam2, coef):
    v = X @ coef
    f = 0.5 * float(np.sum((y - v) ** 2)) if loss == "squared" else float(np.sum(np.logaddexp(0.0, -y * v)))
    return f + lam2 * float(coef @ coef)


def _free_part(XF, r_offset, y, loss, lam2):
    """argmin over b of F(XF b + offset) + lam2 ||b||^2 (offset: the fixed coordinates' part)."""
    s = XF.shape[1]
    if s == 0:
        return np.zeros(0)
    if loss == "squared":
        A = np.vstack([XF, math.sqrt(2 * lam2) * np.eye(s)])
        rhs = np.concatenate([y - r_offset, np.zeros(s)])
        return np.linalg.lstsq(A, rhs, rcond=None)[0]
    b = np.zeros(s)
    for _ in range(200):  # damped Newton (strongly convex: lam2 > 0)
        m = y * (XF @ b + r_offset)
        sig = 1.0 / (1.0 + np.exp(m))  # sigmoid(-m)
        g = XF.T @ (-y * sig) + 2 * lam2 * b
        H = (XF * (sig * (1 - sig))[:, None]).T @ XF + 2 * lam2 * np.eye(s)
        d = np.linalg.solve(H, -g)
        f0 = float(np.sum(np.logaddexp(0.0, -m)) + lam2 * b @ b)
        t = 1.0
        while t > 1e-12:
            bn = b + t * d
            fn = float(np.sum(np.logaddexp(0.0, -y * (XF @ bn + r_offset))) + lam2 * bn @ bn)
            if fn <= f0 + 1e-4 * t * float(g @ d) or fn <= f0:
                break
            t *= 0.5
        b = b + t * d
        if np.max(np.abs(t * d)) <= 1e-15 * max(1.0, np.max(np.abs(b))):
            break
    return b


def exact_restricted(X, y, loss, lam2, M, S):
    """(objective, dense coef) of min over supp(beta) in S, |beta| <= M: the best candidate of
    every active set (each coordinate free / +M / -M) whose free part lands in the box."""
    p = X.shape[1]
    S = list(S)
    states = [("free",)] if math.isinf(M) else [("free",), (M,), (-M,)]
    best = (math.inf, None)
    for assign in itertools.product(states, repeat=len(S)):
        coef = np.zeros(p)
        free = [j for j, a in zip(S, assign) if a == ("free",)]
        for j, a in zip(S, assign):
            if a != ("free",):
                coef[j] = a[0]
        offset = X @ coef
        b = _free_part(X[:, free], offset, y, loss, lam2)
        if b.size and np.max(np.abs(b)) > M * (1 + 1e-12):
            continue
        coef[free] = b
        val = _objective(X, y, loss, lam2, coef)
        if val < best[0]:
            best = (val, coef)
    return best


def oracle(X, y, loss, lam2, M, k):
    """{k-subset: (exact objective, coef)} for every k-subset."""
    return {S: exact_restricted(X, y, loss, lam2, M, S) for S in itertools.combinations(range(X.shape[1]), k)}


def expected_set(table, threshold, rtol=RTOL):
    lim = threshold + rtol * max(abs(threshold), 1e-10) if math.isfinite(threshold) else math.inf
    return {S for S, (v, _) in table.items() if v <= lim}


def unambiguous(table, threshold):
    """No objective so close to the threshold that the oracle and the solver could disagree
    (ties of the threshold itself within 1e-12 are fine: both keep them)."""
    if not math.isfinite(threshold):
        return True
    scale = max(abs(threshold), 1e-10)
    return all(not (1e-12 * scale < v - threshold <= 1e-6 * scale) for v, _ in table.values())


# -- instances ------------------------------------------------------------------------------------
def make(loss, n, p, seed, *, m_kind="inf", lam2=0.1, duplicate=False, noise=0.5):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    if duplicate:  # column p-1 is a copy of column 0: exact ties
        X[:, p - 1] = X[:, 0]
    beta = np.zeros(p)
    beta[:3] = [1.5, -1.0, 0.8]
    v = X @ beta + noise * rng.standard_normal(n)
    y = v if loss == "squared" else np.where(v + 0.5 * rng.standard_normal(n) > 0, 1.0, -1.0)
    if m_kind == "inf":
        M = math.inf
    else:  # binding: below the largest coefficient of the best unconstrained 3-sparse fits
        M = 0.6
    return X, y, lam2, M


#: name: (loss, n, p, k, seed, M binding or not, duplicated column, noise)
INSTANCES = {
    "ls-inf-k2": ("squared", 40, 8, 2, 1, "inf", False, 0.5),
    "ls-bind-k3": ("squared", 40, 9, 3, 2, "bind", False, 0.5),
    "ls-noisy-k3": ("squared", 30, 10, 3, 8, "inf", False, 3.0),
    "ls-wide-k2": ("squared", 8, 10, 2, 3, "inf", False, 0.5),  # p > n: no eigenvalue shift
    "logit-inf-k2": ("logistic", 60, 8, 2, 4, "inf", False, 0.5),
    "logit-bind-k3": ("logistic", 60, 8, 3, 5, "bind", False, 0.5),
    "logit-noisy-k3": ("logistic", 50, 10, 3, 9, "bind", False, 2.0),
    "ls-ties-k2": ("squared", 40, 8, 2, 6, "inf", True, 0.5),
    "logit-ties-k2": ("logistic", 60, 7, 2, 7, "inf", True, 0.5),
}


@pytest.fixture(scope="module", params=sorted(INSTANCES))
def case(request):
    loss, n, p, k, seed, m_kind, dup, noise = INSTANCES[request.param]
    X, y, lam2, M = make(loss, n, p, seed, m_kind=m_kind, duplicate=dup, noise=noise)
    table = oracle(X, y, loss, lam2, M, k)
    return request.param, dict(X=X, y=y, k=k, loss=loss, lambda2=lam2, M=M), table


def check_models(res: RashomonResult, table, params):
    """Each model's objective and coefficients agree with the oracle; models sorted, unique,
    feasible, within the threshold."""
    sups = [m.support for m in res.models]
    assert len(set(sups)) == len(sups)
    objs = [m.objective for m in res.models]
    assert objs == sorted(objs)
    for m in res.models:
        v, coef = table[m.support]
        assert len(m.support) == params["k"] and list(m.support) == sorted(m.support)
        assert m.objective == pytest.approx(v, rel=1e-9, abs=1e-12)
        assert np.all(np.abs(m.coef) <= params["M"] * (1 + 1e-12))
        assert set(np.flatnonzero(m.coef)) <= set(m.support)
        np.testing.assert_allclose(m.coef, coef, rtol=1e-5, atol=1e-6)
        assert m.objective <= res.threshold + RTOL * max(abs(res.threshold), 1e-10)


def epsilons(table):
    """0, midpoints between consecutive distinct objectives, one exactly at a model's
    objective (its ratio to the optimum), and one that takes every model."""
    vals = np.unique(np.round(sorted(v for v, _ in table.values()), 12))
    opt = min(v for v, _ in table.values())
    out = [0.0]
    for i in (0, 1, 3, len(vals) // 2):
        if i + 1 < len(vals):
            out.append(((vals[i] + vals[i + 1]) / 2) / opt - 1.0)
    at = sorted(v for v, _ in table.values())[min(4, len(table) - 1)]
    out.append(at / opt - 1.0)  # a model exactly at the threshold
    out.append(vals[-1] / opt)  # everything
    return out


#: beam width 8 (the default warm start) and 1 (almost no warm start: the tree finds the models)
@pytest.mark.parametrize("beam_width", [8, 1])
def test_epsilon_sets_equal_brute_force(case, beam_width):
    name, params, table = case
    opt = min(v for v, _ in table.values())
    for eps in epsilons(table):
        res = rashomon(**params, epsilon=eps, time_limit=60, beam_width=beam_width)
        theta = opt + eps * max(abs(opt), 1e-10)
        assert unambiguous(table, theta), (name, eps)
        assert res.complete and res.status == "complete", (name, eps)
        assert res.optimum == pytest.approx(opt, rel=1e-9)
        assert res.threshold == pytest.approx(theta, rel=1e-9)
        assert set(res.supports) == expected_set(table, theta), (name, eps)
        check_models(res, table, params)


@pytest.mark.parametrize("beam_width", [8, 1])
def test_top_n_sets_equal_brute_force(case, beam_width):
    name, params, table = case
    ordered = sorted(v for v, _ in table.values())
    for N in (1, 2, 3, 7, len(table) // 2, len(table), len(table) + 5):
        res = rashomon(**params, top=N, time_limit=60, beam_width=beam_width)
        assert res.complete, (name, N)
        if N > len(table):
            assert res.threshold == math.inf and len(res) == len(table)
            continue
        theta = ordered[N - 1]
        assert res.threshold == pytest.approx(theta, rel=1e-9)
        assert set(res.supports) == expected_set(table, theta), (name, N)
        assert len(res) >= N
        check_models(res, table, params)


def test_instances_exercise_the_tree_the_box_and_the_shift():
    """The brute-force grid is not vacuous: with beam width 1 the tree (not the warm start)
    finds the models and prunes supports it never refits; M binds in the "bind" instances;
    the eigenvalue shift is used on the tall least-squares instances."""
    pruned = 0
    for name, (loss, n, p, k, seed, m_kind, dup, noise) in INSTANCES.items():
        X, y, lam2, M = make(loss, n, p, seed, m_kind=m_kind, duplicate=dup, noise=noise)
        res = rashomon(X, y, k=k, loss=loss, lambda2=lam2, M=M, epsilon=0.05, beam_width=1)
        pruned += res.evaluated < math.comb(p, k)
        if m_kind == "bind":
            assert any(np.max(np.abs(m.coef)) == pytest.approx(M) for m in res.models), name
        assert res.eigen_shift == (loss == "squared" and n > p and not dup), name
    assert pruned == len(INSTANCES)


@pytest.mark.parametrize("beam_width", [8, 1])
def test_lambda2_zero_with_a_binding_box(beam_width):
    X, y, lam2, M = make("squared", 30, 9, 17, m_kind="bind", lam2=0.0, noise=1.5)
    params = dict(X=X, y=y, k=3, loss="squared", lambda2=0.0, M=M)
    table = oracle(X, y, "squared", 0.0, M, 3)
    opt = min(v for v, _ in table.values())
    for eps in (0.0, 0.1, 0.5):
        res = rashomon(**params, epsilon=eps, beam_width=beam_width)
        theta = opt + eps * opt
        assert unambiguous(table, theta) and res.complete
        assert set(res.supports) == expected_set(table, theta)
        check_models(res, table, params)
    res = rashomon(**params, top=10, beam_width=beam_width)
    assert set(res.supports) == expected_set(table, sorted(v for v, _ in table.values())[9])


def test_ties_are_all_kept():
    """A duplicated column: S with column 0 and the same S with its copy tie exactly; epsilon = 0
    and top = 1 keep both (every model tied with the threshold is in the set)."""
    X, y, lam2, M = make("squared", 40, 8, 6, duplicate=True)
    res0 = rashomon(X, y, k=2, lambda2=lam2, epsilon=0.0)
    res1 = rashomon(X, y, k=2, lambda2=lam2, top=1)
    for res in (res0, res1):
        assert res.complete
        assert len(res) >= 2
        best = res.models[0].support
        twin = tuple(sorted(7 if j == 0 else 0 if j == 7 else j for j in best))
        assert twin != best and twin in res.supports
        assert res.models[1].objective == pytest.approx(res.models[0].objective, rel=1e-12)


def test_shift_and_batch_size_do_not_change_the_set():
    X, y, lam2, M = make("squared", 50, 9, 11)
    ref = rashomon(X, y, k=3, lambda2=lam2, epsilon=0.3, eigen_shift=False)
    for kw in ({"eigen_shift": True}, {"batch_size": 1}, {"batch_size": 7, "dive_every": 0}):
        res = rashomon(X, y, k=3, lambda2=lam2, epsilon=0.3, **kw)
        assert res.complete and res.supports == ref.supports, kw
        np.testing.assert_allclose(res.objectives, ref.objectives, rtol=1e-10)


def test_optimum_matches_solve():
    from reference_impl.kglm import solve

    X, y, lam2, M = make("logistic", 60, 10, 12, m_kind="bind")
    sol = solve(X, y, k=3, loss="logistic", lambda2=lam2, M=M, gap_tol=1e-9)
    res = rashomon(X, y, k=3, loss="logistic", lambda2=lam2, M=M, top=3)
    assert res.optimum == pytest.approx(sol.objective, rel=1e-8)


def test_p_equal_k_and_labels_01():
    X, y, lam2, M = make("logistic", 30, 3, 13)
    with pytest.warns(KGLMLabelWarning):
        res = rashomon(X, (y > 0).astype(float), k=3, loss="logistic", lambda2=lam2, epsilon=1.0)
    assert res.complete and res.supports == [(0, 1, 2)]


def test_incomplete_under_limits():
    X, y, lam2, M = make("squared", 60, 30, 14)
    res = rashomon(X, y, k=4, lambda2=lam2, epsilon=5.0, node_limit=2, batch_size=2)
    assert not res.complete and res.status == "node_limit"
    assert res.open_bound <= res.threshold
    for m in res.models:  # what was found is still right
        assert m.objective <= res.threshold * (1 + RTOL)
    res = rashomon(X, y, k=4, lambda2=lam2, top=50, time_limit=1e-6)
    assert not res.complete and res.status == "time_limit"


def test_module_is_callable():
    import reference_impl.kglm as kglm
    from reference_impl.kglm import rashomon as module

    X, y, lam2, M = make("squared", 30, 6, 15)
    assert module(X, y, k=2, lambda2=lam2, top=2).supports == kglm.rashomon(X, y, k=2, lambda2=lam2, top=2).supports


def test_to_frame_round_trip():
    X, y, lam2, M = make("squared", 30, 6, 16)
    res = rashomon(X, y, k=2, lambda2=lam2, top=4)
    frame = res.to_frame()
    assert list(frame.columns) == ["rank", "objective", "size", "support", "coef"]
    assert len(frame) == len(res) and frame["objective"].is_monotonic_increasing
    for row, m in zip(frame.itertuples(), res.models):
        assert tuple(row.support) == m.support and row.coef == [m.coef[j] for j in m.support]
    assert res.summary()["models"] == len(res)


X0 = np.random.default_rng(0).standard_normal((20, 5))
Y0 = X0[:, 0] + 0.1 * np.random.default_rng(1).standard_normal(20)


@pytest.mark.parametrize("kwargs, match", [
    ({"epsilon": -0.1}, "epsilon"),
    ({"epsilon": float("nan")}, "epsilon"),
    ({"epsilon": float("inf")}, "epsilon"),
    ({"epsilon": True}, "epsilon"),
    ({"epsilon": "0.1"}, "epsilon"),
    ({"top": 0}, "top"),
    ({"top": -3}, "top"),
    ({"top": 2.5}, "top"),
    ({"top": True}, "top"),
    ({}, "exactly one"),
    ({"epsilon": 0.1, "top": 3}, "exactly one"),
    ({"epsilon": 0.1, "k": 6}, "k must satisfy"),
    ({"epsilon": 0.1, "k": 0}, "k must satisfy"),
    ({"epsilon": 0.1, "lambda2": -1.0}, "lambda2"),
    ({"epsilon": 0.1, "lambda2": 0.0}, "lambda2 = 0"),
    ({"epsilon": 0.1, "M": -1.0}, "M must be"),
    ({"epsilon": 0.1, "loss": "hinge"}, "unknown loss"),
    ({"epsilon": 0.1, "loss": "logistic"}, "logistic labels"),
    ({"epsilon": 0.1, "rtol": -1e-9}, "rtol"),
    ({"epsilon": 0.1, "time_limit": 0}, "time_limit"),
    ({"epsilon": 0.1, "backend": "tpu"}, "backend"),
])
def test_bad_input(kwargs, match):
    params = {"k": 2, "lambda2": 0.1, **kwargs}
    with pytest.raises(KGLMInputError, match=match):
        rashomon(X0, Y0, **params)


def test_epsilon_above_one_needs_a_nonnegative_loss():
    from reference_impl.kglm.losses import SquaredLoss

    class Signed(SquaredLoss):
        nonnegative = False

    with pytest.raises(KGLMInputError, match="nonnegative loss"):
        rashomon(X0, Y0, k=2, lambda2=0.1, loss=Signed(), epsilon=2.0)
    assert rashomon(X0, Y0, k=2, lambda2=0.1, loss=Signed(), epsilon=0.5).complete


def test_bad_data():
    with pytest.raises(KGLMInputError, match="NaN"):
        rashomon(np.where(X0 > 2, np.nan, X0), Y0, k=2, lambda2=0.1, top=1)
    with pytest.raises(KGLMInputError, match="shape mismatch"):
        rashomon(X0, Y0[:-1], k=2, lambda2=0.1, top=1)
