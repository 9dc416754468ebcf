"""Regression tests for the audit's defects of the native k-sparse GLM solver
(FORMULATIONS.md §8, ``kglm.bnb``): valid bounds on near-perfect fits (eigenvalue shift
rounding), the deadline in the warm start, the trivial bound 0, the three statuses, the
estimators' input checks, overflow-range data and small edge cases."""
from __future__ import annotations

import math
import warnings
from fractions import Fraction

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from reference_impl.kglm import (KGLMInputError, KSparseClassifier, KSparseRegressor, make_synthetic,
                                 relative_gap, solve)
from reference_impl.kglm.heuristics import HostProblem, Incumbent, SupportCache, beam_search
from reference_impl.kglm.losses import get_loss
from reference_impl.kglm.shift import eigen_shift

from ._brute import all_supports, best

STATUSES = {"optimal", "time_limit", "node_limit"}


def _perfect_fit(seed=0, n=30, p=8, scale=1.0, noise=0.0, nnz=2):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) * scale
    b = np.zeros(p)
    b[:nnz] = [1.0, -0.5, 1.5][:nnz] if seed == 0 else rng.uniform(1, 2, nnz)
    return X, X @ b + noise * rng.standard_normal(n)


# -- 1. the shift's rounding error never makes the bound invalid ---------------------------
@pytest.mark.parametrize("case", [
    dict(seed=0, lam2=1e-10, k=2, shape=dict()),                                        # audit case 1
    dict(seed=1, lam2=1e-8, k=3, shape=dict(scale=1e3, noise=1e-4, nnz=3)),             # audit case 2
    dict(seed=2, lam2=1e-6, k=2, shape=dict(n=60, p=10)),
])
def test_near_perfect_fit_bound_is_valid(case):
    X, y = _perfect_fit(case["seed"], **case["shape"])
    opt, _ = best(all_supports(X, y, "squared", case["lam2"], math.inf, case["k"]))
    res = solve(X, y, k=case["k"], lambda2=case["lam2"])
    assert res.status in STATUSES and res.status == "optimal"
    assert res.objective == pytest.approx(opt, rel=1e-6)
    assert res.lower_bound <= res.objective
    assert res.lower_bound <= opt * (1 + 1e-9) + 1e-300
    assert res.gap == pytest.approx(relative_gap(res.objective, res.lower_bound))
    assert res.root_bound <= res.objective


def test_shift_error_covers_its_rounding():
    """|original(beta) - shifted(beta) - C| evaluated exactly on the rounded arrays stays below
    ``Shift.error`` (which the solver subtracts from every bound)."""
    X, y = _perfect_fit(4, n=30, p=8)
    shift = eigen_shift(X, y, 1e-8)
    assert shift is not None and shift.error > 0
    rng = np.random.default_rng(0)
    fx = [[Fraction(float(v)) for v in row] for row in X]
    fa = [[Fraction(float(v)) for v in row] for row in shift.X]
    fy, ft = [Fraction(float(v)) for v in y], [Fraction(float(v)) for v in shift.y]
    for beta in [np.array([1.0, -0.5] + [0.0] * 6), rng.normal(size=8)]:
        fb = [Fraction(float(v)) for v in beta]
        orig = sum((fy[i] - sum(fx[i][j] * fb[j] for j in range(8))) ** 2 for i in range(30)) / 2
        shifted = sum((ft[i] - sum(fa[i][j] * fb[j] for j in range(8))) ** 2 for i in range(8)) / 2
        shifted += Fraction(shift.mu) / 2 * sum(v * v for v in fb)
        assert abs(float(orig - shifted - Fraction(shift.constant))) <= shift.error


def test_shift_skipped_when_it_cannot_certify_the_incumbent():
    from reference_impl.kglm.api import _choose_shift
    from reference_impl.kglm.losses import SquaredLoss

    X, y = _perfect_fit(0)
    hp = HostProblem(X, y, SquaredLoss(), 2, 1e-10, math.inf)
    assert _choose_shift(hp, SquaredLoss(), 1e-10, 1e-6, incumbent=1.25e-10) is None
    assert _choose_shift(hp, SquaredLoss(), 1e-10, 1e-6, incumbent=10.0) is not None


# -- 2. the deadline stops the warm start -------------------------------------------------
def test_beam_search_stops_at_the_deadline():
    X, y, _ = make_synthetic(60, 40, 8, 0.5, 5.0, "logistic", 0)
    hp = HostProblem(X, y, get_loss("logistic"), 8, 1.0, 2.0)
    cache, inc = SupportCache(), Incumbent()
    assert beam_search(hp, cache, inc, deadline=-math.inf) is False
    assert inc.support == () and inc.coef is not None and not inc.coef.any()  # beta = 0, feasible
    assert list(cache.values) == [()]
    cache2, inc2 = SupportCache(), Incumbent()
    assert beam_search(hp, cache2, inc2) is True and len(inc2.support) == 8


def test_solve_respects_a_time_limit_shorter_than_the_warm_start():
    """A deadline that passes during setup: no beam search level, no node; the incumbent is
    beta = 0 and the bound the trivial 0 (valid: losses and ridge are nonnegative)."""
    X, y, _ = make_synthetic(60, 40, 8, 0.5, 5.0, "logistic", 0)
    res = solve(X, y, k=8, loss="logistic", lambda2=1.0, M=2.0, time_limit=1e-9)
    assert res.status == "time_limit" and res.nodes == 0
    assert res.support.size == 0 and res.objective == pytest.approx(60 * math.log(2))
    assert res.lower_bound == 0.0
    assert res.gap == pytest.approx(relative_gap(res.objective, 0.0))


# -- 3. the trivial bound, in the original scale (shift or not) ---------------------------
@pytest.mark.parametrize("n,p", [(40, 6), (6, 10)])
def test_lower_bound_is_zero_when_no_node_ran(n, p):
    rng = np.random.default_rng(3)
    X = rng.standard_normal((n, p))
    y = X[:, 0] + 0.1 * rng.standard_normal(n)
    res = solve(X, y, k=2, lambda2=0.1, time_limit=1e-9)
    assert res.nodes == 0 and res.lower_bound == 0.0 and math.isfinite(res.gap)
    assert all(b >= 0.0 for _, _, b in res.progress)


# -- 4. statuses: an exhausted tree is optimal ---------------------------------------------
@pytest.mark.parametrize("gap_tol", [0.0, 1e-12, 1e-6])
def test_exhausted_tree_is_optimal(gap_tol):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 6))
    y = X[:, 0] - X[:, 1] + 0.1 * rng.standard_normal(20)
    res = solve(X, y, k=2, lambda2=0.1, gap_tol=gap_tol)
    assert res.status == "optimal"
    assert 0.0 <= res.gap <= max(gap_tol, 1e-9)
    assert res.lower_bound <= res.objective


def test_only_three_statuses():
    X, y = _perfect_fit(1, scale=1e3, noise=1e-4, nnz=3)
    for kw in (dict(), dict(eigen_shift=False), dict(gap_tol=0.0), dict(node_limit=1, batch_size=1)):
        assert solve(X, y, k=3, lambda2=1e-8, **kw).status in STATUSES


# -- 5./6. estimators -----------------------------------------------------------------------
@pytest.fixture
def clf_data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 6))
    return X, X[:, 0] > 0


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_classifier_rejects_non_finite_labels(clf_data, bad):
    X, lab = clf_data
    with pytest.raises(KGLMInputError, match="NaN|infinity|infinite"):
        KSparseClassifier(k=2, lambda2=0.1).fit(X, np.where(lab, 1.0, bad))


def test_classifier_rejects_missing_and_mixed_labels(clf_data):
    X, lab = clf_data
    with pytest.raises(KGLMInputError, match="None"):
        KSparseClassifier(k=2, lambda2=0.1).fit(X, np.array(["a" if v else None for v in lab], dtype=object))
    with pytest.raises(KGLMInputError, match="mixes label types"):
        KSparseClassifier(k=2, lambda2=0.1).fit(X, np.array(["a" if v else 3 for v in lab], dtype=object))


@pytest.mark.parametrize("est", [KSparseClassifier(k=2), KSparseRegressor(k=2)])
def test_predict_before_fit_is_not_fitted_error(clf_data, est):
    with pytest.raises(NotFittedError):
        est.predict(clf_data[0])


def test_estimator_input_checks(clf_data):
    pd = pytest.importorskip("pandas")
    X, lab = clf_data
    y = X[:, 0] - 2 * X[:, 1]
    reg = KSparseRegressor(k=2, lambda2=0.1).fit(pd.DataFrame(X, columns=list("abcdef")), y)
    assert reg.n_features_in_ == 6 and list(reg.feature_names_in_) == list("abcdef")
    assert reg.predict(pd.DataFrame(X, columns=list("abcdef"))).shape == (40,)
    clf = KSparseClassifier(k=2, lambda2=0.1).fit(X, lab)
    assert clf.n_features_in_ == 6 and not hasattr(clf, "feature_names_in_")
    with pytest.raises(KGLMInputError, match="NaN"):
        clf.predict(np.full((2, 6), np.nan))
    with pytest.raises(KGLMInputError, match="infinity"):
        reg.predict(pd.DataFrame(np.full((2, 6), np.inf), columns=list("abcdef")))
    with pytest.raises(KGLMInputError, match="6 features"):
        clf.predict(X[:, :5])
    with pytest.raises(KGLMInputError, match="string"):
        KSparseRegressor(k=2).fit(np.array([["a"] * 6] * 40), y)
    with pytest.raises(KGLMInputError, match="1d array"):
        KSparseRegressor(k=2).fit(X, np.stack([y, y], axis=1))
    with pytest.raises(KGLMInputError, match="needs the target y"):
        KSparseClassifier(k=2).fit(X, None)
    with pytest.raises(KGLMInputError, match="needs the target y"):
        KSparseRegressor(k=2).fit(X, None)


# -- 8. overflow-range data -----------------------------------------------------------------
@pytest.mark.parametrize("sx,sy,loss", [(1e160, 1.0, "squared"), (1e160, 1.0, "logistic"),
                                         (1.0, 1e160, "squared")])
def test_overflow_range_data_is_rejected(sx, sy, loss):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 6))
    y = X[:, 0] - X[:, 1] + 0.1 * rng.standard_normal(20)
    y = y * sy if loss == "squared" else np.sign(y)
    with pytest.raises(KGLMInputError, match="overflow"):
        solve(X * sx, y, k=2, lambda2=0.1, loss=loss)


# -- 9. small edge cases ----------------------------------------------------------------------
def test_one_sample_needs_two():
    with pytest.raises(KGLMInputError, match="n >= 2"):
        solve(np.ones((1, 3)), np.ones(1), k=1, lambda2=0.1)


def test_single_feature_has_no_arpack_warning():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 1))
    y = 2 * X[:, 0] + 0.1 * rng.standard_normal(20)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = solve(X, y, k=1, lambda2=0.1)
    assert res.status == "optimal" and list(res.support) == [0]


def test_zero_dimensional_array_scalars():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 6))
    y = X[:, 0] - X[:, 1] + 0.1 * rng.standard_normal(20)
    a = solve(X, y, k=np.array(2), lambda2=np.array(0.1), M=np.array(3.0))
    b = solve(X, y, k=2, lambda2=0.1, M=3.0)
    assert a.status == "optimal" and a.objective == b.objective
