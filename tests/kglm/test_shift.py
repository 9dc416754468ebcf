"""Minimum-eigenvalue shift: the shifted problem is the same problem, and its bound is tighter."""
import numpy as np
import pytest

from reference_impl.instances.generators import synthetic_regression
from reference_impl.kglm import solve
from reference_impl.kglm.shift import eigen_shift


def test_shifted_objective_equals_the_original_everywhere():
    data = synthetic_regression(80, 12, 3, rho=0.5, snr=3.0, seed=3)
    X, y, lam2 = data["X"], data["y"], 0.1
    shift = eigen_shift(X, y, lam2)
    assert shift is not None and shift.mu > 0 and shift.lambda2 == pytest.approx(lam2 + shift.mu / 2)
    assert np.all(np.linalg.eigvalsh(X.T @ X - shift.mu * np.eye(12)) > 0)
    rng = np.random.default_rng(0)
    for _ in range(20):
        beta = rng.normal(size=12) * (rng.random(12) < 0.4)
        original = 0.5 * np.sum((y - X @ beta) ** 2) + lam2 * beta @ beta
        shifted = 0.5 * np.sum((shift.y - shift.X @ beta) ** 2) + shift.lambda2 * beta @ beta + shift.constant
        assert shifted == pytest.approx(original, rel=1e-10)


def test_no_shift_when_p_exceeds_n():
    data = synthetic_regression(10, 12, 3, seed=1)
    assert eigen_shift(data["X"], data["y"], 0.1) is None


def test_shift_tightens_the_root_bound_and_keeps_the_optimum():
    data = synthetic_regression(300, 30, 5, rho=0.5, snr=5.0, seed=2)
    plain = solve(data["X"], data["y"], k=5, lambda2=0.05, eigen_shift=False)
    shifted = solve(data["X"], data["y"], k=5, lambda2=0.05, eigen_shift=True)
    assert plain.status == shifted.status == "optimal"
    assert shifted.objective == pytest.approx(plain.objective, rel=1e-9)
    assert shifted.root_bound > plain.root_bound
    assert shifted.root_bound <= shifted.objective * (1 + 1e-9)
    assert shifted.nodes <= plain.nodes
