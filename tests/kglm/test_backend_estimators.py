"""Backends (NumPy / CuPy selection, the clear GPU error, NumPy vs CuPy agreement when a GPU
exists), scikit-learn estimators, and the synthetic generator."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone

from reference_impl.kglm import (GPUUnavailableError, KGLMInputError, KGLMResult, KSparseClassifier,
                                 KSparseRegressor, gpu_available, make_synthetic, solve)
from reference_impl.kglm.backend import get_backend


def test_public_exports():
    import reference_impl.kglm as kg

    for name in ("solve", "KSparseRegressor", "KSparseClassifier", "KGLMResult", "KGLMInputError"):
        assert hasattr(kg, name)
    X, y, _ = make_synthetic(30, 8, 2, 0.3, 5.0, "squared", 0)
    res = solve(X, y, k=2, lambda2=0.1)
    assert isinstance(res, KGLMResult)
    assert res.coef.shape == (8,) and res.support.dtype.kind == "i"
    assert set(res.timings) >= {"bound", "heuristics", "queue", "transfer", "total"}


@pytest.mark.skipif(gpu_available(), reason="a GPU is present")
def test_cupy_without_gpu_is_a_clear_error():
    X, y, _ = make_synthetic(30, 8, 2, 0.3, 5.0, "squared", 0)
    with pytest.raises(GPUUnavailableError, match="no usable GPU") as ei:
        solve(X, y, k=2, lambda2=0.1, backend="cupy")
    assert isinstance(ei.value, RuntimeError)
    assert solve(X, y, k=2, lambda2=0.1, backend="auto").backend == "numpy"
    assert get_backend("auto").name == "numpy"


@pytest.mark.skipif(not gpu_available(), reason="needs CuPy and a CUDA GPU")
@pytest.mark.parametrize("loss", ["squared", "logistic"])
def test_numpy_and_cupy_agree(loss):
    X, y, _ = make_synthetic(120, 60, 5, 0.7, 3.0, loss, 1, normalize=True)
    a = solve(X, y, k=5, loss=loss, lambda2=0.1, M=3.0, backend="numpy", batch_size=64, gap_tol=1e-8)
    b = solve(X, y, k=5, loss=loss, lambda2=0.1, M=3.0, backend="cupy", batch_size=64, gap_tol=1e-8)
    assert b.backend == "cupy" and a.status == b.status == "optimal"
    assert b.objective == pytest.approx(a.objective, rel=1e-8)


def test_regressor_sklearn_conventions():
    X, y, beta = make_synthetic(80, 12, 3, 0.3, 20.0, "squared", 1)
    est = KSparseRegressor(k=3, lambda2=0.01)
    assert clone(est).get_params() == est.get_params()
    est.set_params(k=3, M=5.0)
    est.fit(X, y)
    assert est.coef_.shape == (12,) and est.intercept_ == 0.0
    assert set(np.flatnonzero(est.coef_)) == set(np.flatnonzero(beta))
    assert est.result_.status == "optimal"
    assert est.predict(X).shape == (80,)
    assert est.score(X, y) > 0.5
    # fit_intercept by centering
    est2 = KSparseRegressor(k=3, lambda2=0.01, fit_intercept=True).fit(X, y + 7.0)
    assert est2.intercept_ == pytest.approx(7.0, abs=1.0)
    np.testing.assert_allclose(est2.predict(X), X @ est2.coef_ + est2.intercept_)
    with pytest.raises(KGLMInputError):
        est.predict(X[:, :5])


def test_classifier_sklearn_conventions():
    X, y, beta = make_synthetic(200, 10, 2, 0.3, 5.0, "logistic", 2)
    labels = np.where(y > 0, "yes", "no")
    clf = KSparseClassifier(k=2, lambda2=0.1).fit(X, labels)
    assert list(clf.classes_) == ["no", "yes"]
    proba = clf.predict_proba(X)
    assert proba.shape == (200, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert set(clf.predict(X)) <= {"no", "yes"}
    assert clf.score(X, labels) > 0.6
    assert np.count_nonzero(clf.coef_) <= 2 and clf.intercept_ == 0.0
    c2 = clone(clf)
    assert c2.get_params()["k"] == 2 and not hasattr(c2, "coef_")
    with pytest.raises(KGLMInputError, match="two classes"):
        KSparseClassifier(k=1).fit(X, np.zeros(200))


@pytest.mark.parametrize("loss", ["squared", "logistic"])
def test_synthetic_generator(loss):
    X1, y1, b1 = make_synthetic(400, 50, 5, 0.9, 5.0, loss, 3)
    X2, y2, b2 = make_synthetic(400, 50, 5, 0.9, 5.0, loss, 3)
    assert X1.tobytes() == X2.tobytes() and y1.tobytes() == y2.tobytes()
    assert list(np.flatnonzero(b1)) == [0, 10, 20, 30, 40] and np.all(b1[b1 != 0] == 1.0)
    C = np.corrcoef(X1, rowvar=False)
    off = C[~np.eye(50, dtype=bool)]
    assert abs(off.mean() - 0.9) < 0.05
    if loss == "logistic":
        assert set(np.unique(y1)) == {-1.0, 1.0}
    else:
        resid = y1 - X1 @ b1
        assert np.var(X1 @ b1) / np.var(resid) == pytest.approx(5.0, rel=0.3)
    Xn, _, _ = make_synthetic(400, 50, 5, 0.9, 5.0, loss, 3, normalize=True)
    np.testing.assert_allclose(np.linalg.norm(Xn, axis=0), 1.0)
    assert not np.array_equal(make_synthetic(400, 50, 5, 0.9, 5.0, loss, 4)[0], X1)


def test_strict_device_module_keeps_cupys_boundaries():
    """The stand-in used below refuses what CuPy refuses (so the solver test can fail)."""
    from ._strict_device import BoundaryError, StrictDeviceModule

    xp = StrictDeviceModule()
    d = xp.asarray(np.arange(4.0))
    h = np.ones(4)
    for bad in (lambda: d + h, lambda: h * d, lambda: d < h, lambda: np.asarray(d), lambda: np.sum(d),
                lambda: xp.where(d > 1, h, 0.0), lambda: xp.concatenate([d, h])):
        with pytest.raises(BoundaryError):
            bad()
    assert isinstance(d.sum(), xp.ndarray) and float(d.sum()) == 6.0
    np.testing.assert_array_equal(xp.asnumpy(xp.where(d > 1, d, 0.0)), [0, 0, 2, 3])
    d[np.array([0])] = xp.asarray(np.array([9.0]))  # host index arrays are accepted, like CuPy
    assert xp.asnumpy(d)[0] == 9.0 and xp.copies_to_host == 2


@pytest.mark.parametrize("loss", ["squared", "logistic"])
@pytest.mark.parametrize("M,time_limit", [(3.0, None), (np.inf, None), (3.0, 0.05)])
def test_gpu_code_path_with_a_strict_device_module(monkeypatch, loss, M, time_limit):
    """The CuPy backend's code path end to end (explicit copies, the array-module FISTA
    steps, the merged-breakpoint PAVA twin, column compaction, draining at a time limit) on a
    stand-in array module that refuses host/device mixing as CuPy does; it must return the
    NumPy backend's optimum."""
    from reference_impl.kglm import api as api_mod
    from reference_impl.kglm import kernels
    from reference_impl.kglm.backend import Backend

    from ._strict_device import StrictDeviceModule

    xp = StrictDeviceModule()
    # without a GPU the numba-cuda kernel cannot launch: theta_rows_for falls back to the twin
    theta = kernels.theta_rows_for(xp)
    if not gpu_available():
        assert theta is kernels.theta_rows_xp
    monkeypatch.setattr(api_mod, "get_backend", lambda name: Backend("cupy", xp, kernels.theta_rows_xp))
    X, y, _ = make_synthetic(60, 25, 4, 0.7, 3.0, loss, 5, normalize=True)
    kw = dict(k=4, loss=loss, lambda2=0.05, M=M, batch_size=16, gap_tol=1e-8)
    if time_limit is not None:
        kw["time_limit"] = time_limit
    a = solve(X, y, **kw)
    monkeypatch.undo()
    b = solve(X, y, k=4, loss=loss, lambda2=0.05, M=M, batch_size=16, gap_tol=1e-8)
    assert a.backend == "cupy" and b.status == "optimal"
    assert xp.copies_to_device > 0 and xp.copies_to_host > 0 and a.timings["transfer"] > 0.0
    if time_limit is None:
        assert a.status == "optimal"
        assert a.objective == pytest.approx(b.objective, rel=1e-9)
    else:  # a bound and an incumbent survive the limit, consistent with the true optimum
        assert a.status in ("optimal", "time_limit")
        assert a.lower_bound <= b.objective * (1 + 1e-9) and a.objective >= b.objective * (1 - 1e-9)
