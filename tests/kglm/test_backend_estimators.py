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


class _FakeCupy:
    """A stand-in array module that is not ``numpy`` itself (so every CuPy-only branch of the
    solver runs: explicit host <-> device copies, the array-module FISTA steps, the
    merged-breakpoint PAVA twin) but computes with NumPy."""

    class cuda:  # noqa: N801 - mimics cupy.cuda
        class Device:
            def synchronize(self):
                return None

    def __getattr__(self, name):
        return getattr(np, name)

    @staticmethod
    def asnumpy(a):
        return np.array(a)


@pytest.mark.parametrize("loss", ["squared", "logistic"])
def test_gpu_code_path_with_a_fake_array_module(monkeypatch, loss):
    from reference_impl.kglm import api as api_mod
    from reference_impl.kglm import kernels
    from reference_impl.kglm.backend import Backend

    fake = _FakeCupy()
    # without a GPU the numba-cuda kernel cannot launch: theta_rows_for falls back to the twin
    theta = kernels.theta_rows_for(fake)
    if not gpu_available():
        assert theta is kernels.theta_rows_xp
    monkeypatch.setattr(api_mod, "get_backend", lambda name: Backend("cupy", fake, kernels.theta_rows_xp))
    X, y, _ = make_synthetic(60, 25, 4, 0.7, 3.0, loss, 5, normalize=True)
    a = solve(X, y, k=4, loss=loss, lambda2=0.05, M=3.0, batch_size=16, gap_tol=1e-8)
    monkeypatch.undo()
    b = solve(X, y, k=4, loss=loss, lambda2=0.05, M=3.0, batch_size=16, gap_tol=1e-8)
    assert a.backend == "cupy" and a.status == b.status == "optimal"
    assert a.objective == pytest.approx(b.objective, rel=1e-9)
    assert a.timings["transfer"] > 0.0
