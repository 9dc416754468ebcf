"""The GB paper's real data set (DOROTHEA, validation split) as a k-sparse logistic instance:
the loader's screening, and the native BnB certifying a small k on it (p > n, where
OKRidge-style least-squares solvers do not apply)."""
from __future__ import annotations

import numpy as np
import pytest

from reference_impl import solve
from reference_impl.errors import InputError
from reference_impl.instances import resolve_instance
from reference_impl.instances.loaders.dorothea import load_dorothea


def test_dorothea_instance_shape_and_screening():
    arrays = resolve_instance("dorothea-valid-f20").arrays
    X, y = arrays["X"], arrays["y"]
    assert X.shape == (350, 1066) and set(np.unique(X)) == {0.0, 1.0}
    assert (y == 1).sum() == 34 and (y == -1).sum() == 316
    counts = X.sum(axis=0)
    assert counts.min() >= 20 and counts.max() < 350  # screened, no constant column
    assert len({c.tobytes() for c in X.T}) == X.shape[1]
    assert np.all(np.diff(arrays["feature_index"]) > 0) and arrays["feature_index"].max() <= 100_000
    assert load_dorothea(min_count=50)["X"].shape == (350, 22)
    with pytest.raises(InputError, match="min_count"):
        load_dorothea(min_count=0)


def test_bnb_certifies_sparse_logistic_on_dorothea():
    record = solve("kglm.perspective", "dorothea-valid-f20", solver="bnb", time_limit=120, k=3,
                   loss="logistic", lambda2=1.0, M=2.0)
    assert record.status == "optimal", record.message
    assert record.gap <= record.rel_gap and record.bound <= record.objective * (1 + 1e-9)
    # Gurobi's size-limited license cannot take 1066 variables once the model is nonlinear
    gurobi = solve("kglm.perspective", "dorothea-valid-f20", solver="gurobi", time_limit=10, k=3,
                   loss="logistic", lambda2=1.0, M=2.0)
    assert gurobi.status in ("size_limited", "not_installed")
