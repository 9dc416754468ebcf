"""Every bad input gives a clear :class:`KGLMInputError` (a ValueError); {0, 1} logistic labels
are mapped with a warning."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from reference_impl.kglm import KGLMInputError, KGLMLabelWarning, solve


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 6))
    y = X[:, 0] - X[:, 1] + 0.1 * rng.standard_normal(20)
    return X, y


def _err(match, *args, **kw):
    with pytest.raises(KGLMInputError, match=match) as ei:
        solve(*args, **kw)
    assert isinstance(ei.value, ValueError)
    return ei.value


def test_nan_and_inf(data):
    X, y = data
    Xn = X.copy()
    Xn[3, 2] = np.nan
    _err("NaN or infinite", Xn, y, k=2, lambda2=0.1)
    Xi = X.copy()
    Xi[0, 0] = np.inf
    _err("NaN or infinite", Xi, y, k=2, lambda2=0.1)
    yn = y.copy()
    yn[1] = np.nan
    _err("y contains NaN", X, yn, k=2, lambda2=0.1)
    yi = y.copy()
    yi[1] = -np.inf
    _err("y contains NaN", X, yi, k=2, lambda2=0.1)


def test_shapes(data):
    X, y = data
    _err("shape mismatch", X, y[:-1], k=2, lambda2=0.1)
    _err("2-D", X[:, 0], y, k=2, lambda2=0.1)
    _err("2-D", X[None], y, k=2, lambda2=0.1)
    _err("1-D", X, np.stack([y, y], axis=1), k=2, lambda2=0.1)
    _err("numeric", np.array([["a"] * 6] * 20), y, k=2, lambda2=0.1)


@pytest.mark.parametrize("k", [0, -1, 7, 2.5, "3", None])
def test_bad_k(data, k):
    X, y = data
    _err("k must", X, y, k=k, lambda2=0.1)


@pytest.mark.parametrize("lam2", [-0.1, -1e-12, math.nan, math.inf, "1"])
def test_bad_lambda2(data, lam2):
    X, y = data
    _err("lambda2", X, y, k=2, lambda2=lam2)


@pytest.mark.parametrize("M", [0.0, -1.0, math.nan, "2"])
def test_bad_M(data, M):
    X, y = data
    _err("M must", X, y, k=2, lambda2=0.1, M=M)


def test_lambda2_zero_needs_finite_M(data):
    X, y = data
    _err("lambda2 = 0 requires a finite box M", X, y, k=2, lambda2=0.0)
    assert solve(X, y, k=2, lambda2=0.0, M=5.0).status == "optimal"


def test_unknown_loss_and_backend(data):
    X, y = data
    _err("unknown loss", X, y, k=2, lambda2=0.1, loss="hinge")
    _err("unknown backend", X, y, k=2, lambda2=0.1, backend="torch")


def test_logistic_labels(data):
    X, y = data
    _err("labels must be in", X, y, k=2, lambda2=0.1, loss="logistic")
    _err("labels must be in", X, np.where(y > 0, 2.0, 1.0), k=2, lambda2=0.1, loss="logistic")
    _err("labels must be in", X, np.tile([-1.0, 0.0, 1.0], 7)[:20], k=2, lambda2=0.1, loss="logistic")
    y01 = (y > 0).astype(float)
    with pytest.warns(KGLMLabelWarning, match="mapping 0 -> -1"):
        r01 = solve(X, y01, k=2, lambda2=0.1, loss="logistic")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rpm = solve(X, 2 * y01 - 1, k=2, lambda2=0.1, loss="logistic")
    assert r01.objective == pytest.approx(rpm.objective, rel=1e-12)


def test_constant_columns(data):
    X, y = data
    Xc = X.copy()
    Xc[:, 4] = 3.0
    _err("constant", Xc, y, k=2, lambda2=0.1)
    Xz = X.copy()
    Xz[:, 0] = 0.0
    _err("constant", Xz, y, k=2, lambda2=0.1)


def test_bad_options(data):
    X, y = data
    _err("batch_size", X, y, k=2, lambda2=0.1, batch_size=0)
    _err("batch_size", X, y, k=2, lambda2=0.1, batch_size=2.0)
    _err("time_limit", X, y, k=2, lambda2=0.1, time_limit=0)
    _err("gap_tol", X, y, k=2, lambda2=0.1, gap_tol=-1e-3)
    _err("node_limit", X, y, k=2, lambda2=0.1, node_limit=0)
