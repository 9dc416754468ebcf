"""The ``fasterrisk`` peer adapter (reference_impl/solvers/adapters/fasterrisk.py) on tiny instances.

What is proved: FasterRisk's returned risk score is feasible for ``risk_score.minlp`` (integer
points in [l, u], at most k of them, an intercept within its bound) and never better than the
optimum of (8) found by enumerating every integer point; it is, exactly, the model of FasterRisk's
own pool (``RiskScoreOptimizer(...).optimize(); get_models()``) with the lowest (8)-objective,
multiplier dropped, and the adapter's objective is the evaluator's; what FasterRisk cannot express
is ``unsupported`` (with FasterRisk's own message when FasterRisk rejects it); a missing package is
``not_installed``; the record carries FasterRisk's version.

fasterrisk 0.1.10 pins numpy<2, pandas==1.5.2 and scikit-learn==1.2.0, which no resolver can
install beside miobench (pandas>=2.1, scikit-learn>=1.4): it is installed with
``pip install --no-deps fasterrisk==0.1.10``, and the tests that call it skip where it is absent.
"""
from __future__ import annotations

import importlib.metadata
import itertools
import math
import types

import numpy as np
import pytest

from reference_impl import api
from reference_impl.instances.generators.classification import synthetic_classification
from reference_impl.registry import get_formulation
from reference_impl.solvers.adapters.fasterrisk import SOLVER, _star_ray_search
from reference_impl.solvers.registry import capable_solvers


def fasterrisk():
    return pytest.importorskip("fasterrisk", reason="fasterrisk is installed with pip install --no-deps fasterrisk==0.1.10")


def tiny(seed=1, n=40, p=3):
    data = synthetic_classification(n, p, 2, rho=0.2, coef=2.0, intercept=-0.5, binary=True, seed=seed)
    return {"X": data["X"], "y": data["y"]}


def loss8(X, y, theta, b):
    return float(np.logaddexp(0.0, -y * (X @ theta + b)).sum())


def optimum8(X, y, *, l, u, k, B):
    """min (8) (integer intercept) over every θ ∈ {l..u}^d with ≤ k nonzeros and every |θ₀| ≤ B."""
    best = math.inf
    for theta in itertools.product(range(l, u + 1), repeat=X.shape[1]):
        theta = np.array(theta, dtype=float)
        if np.count_nonzero(theta) > k:
            continue
        best = min(best, min(loss8(X, y, theta, b) for b in range(-B, B + 1)))
    return best


def test_registered_and_missing_package_is_not_installed(monkeypatch):
    assert "fasterrisk" in capable_solvers(get_formulation("risk_score.minlp"))
    monkeypatch.setattr(SOLVER, "installed", lambda: False)
    record = api.solve("risk_score.minlp", tiny(), solver="fasterrisk", time_limit=10, k=2)
    assert record.status == "not_installed" and "fasterrisk" in record.message and record.objective is None


def test_version_probe_never_raises_without_the_package(monkeypatch):
    def missing(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", missing)
    assert SOLVER.version() == ""


@pytest.mark.parametrize("seed,k,l,u", [(1, 2, -3, 3), (2, 1, -2, 2), (3, 2, -4, 2)])
def test_feasible_never_below_enumeration_and_the_best_of_its_pool(seed, k, l, u):
    fasterrisk()
    data = tiny(seed)
    X, y = data["X"], data["y"]
    out: dict = {}
    record = api.solve("risk_score.minlp", data, solver="fasterrisk", time_limit=10, k=k, l=l, u=u, intercept_bound=4,
                       solution_out=out)
    assert record.status == "feasible" and record.bound is None and record.max_violation == 0.0, record.message
    assert record.solver_version == f"fasterrisk {importlib.metadata.version('fasterrisk')}" == SOLVER.version()
    theta, b = out["theta"], float(out["intercept"][0])
    assert np.all(theta == np.round(theta)) and b == round(b) and abs(b) <= 4
    assert np.count_nonzero(theta) <= k and np.all((theta == 0) | ((theta >= l) & (theta <= u)))
    assert record.objective >= optimum8(X, y, l=l, u=u, k=k, B=4) * (1 - 1e-9)
    assert record.solver_objective == pytest.approx(record.objective, rel=1e-12)
    # the same call as FasterRisk's users make: the returned point is its pool's best in (8)'s scale
    from fasterrisk.fasterrisk import RiskScoreOptimizer

    optimizer = RiskScoreOptimizer(X, y, k, lb=l, ub=u)
    if not hasattr(np.ndarray, "tostring"):  # NumPy 2: the adapter's one-method shim, as it applies it
        search = optimizer.starRaySearchModel_object
        search.star_ray_search_scale_and_round = types.MethodType(_star_ray_search, search)
    optimizer.optimize()
    multipliers, intercepts, coefficients = optimizer.get_models()
    values = [loss8(X, y, beta, min(max(b0, -4), 4)) for b0, beta in zip(intercepts, coefficients)]
    i = int(np.argmin(values))
    assert np.array_equal(theta, coefficients[i]) and record.objective == pytest.approx(values[i], rel=1e-12)
    assert record.extra["peer_multiplier"] == pytest.approx(multipliers[i])
    assert record.extra["peer_intercept"] == pytest.approx(intercepts[i])
    m = multipliers[i]
    assert record.extra["peer_objective"] == pytest.approx(loss8(X, y, coefficients[i] / m, intercepts[i] / m), rel=1e-9)
    assert record.extra["pool_size"] == len(multipliers)


def test_intercept_is_clipped_to_its_bound():
    fasterrisk()
    out: dict = {}
    record = api.solve("risk_score.minlp", tiny(2), solver="fasterrisk", time_limit=10, k=2, intercept_bound=0,
                       solution_out=out)
    assert record.status == "feasible" and float(out["intercept"][0]) == 0.0
    if record.extra["peer_intercept"] != 0:
        assert "clipped" in record.message


def test_continuous_intercept_takes_fasterrisk_integers():
    fasterrisk()
    record = api.solve("risk_score.minlp", tiny(1), solver="fasterrisk", time_limit=10, k=2, intercept="continuous")
    assert record.status == "feasible" and record.max_violation == 0.0


def test_bounds_fasterrisk_rejects_are_unsupported_with_its_message():
    fasterrisk()
    record = api.solve("risk_score.minlp", tiny(), solver="fasterrisk", time_limit=10, k=2, l=1, u=3)
    assert record.status == "unsupported" and "lb needs to be <= 0" in record.message and record.objective is None
    assert record.solver_version == SOLVER.version()


@pytest.mark.parametrize("params,words", [({"k": 2, "intercept": "none"}, "always fits an intercept"),
                                          ({"lambda0": 1.0}, "needs the sparsity k"),
                                          ({"k": 2, "lambda0": 0.5}, "no L0 penalty")])
def test_problems_fasterrisk_cannot_express_are_unsupported(params, words):
    fasterrisk()
    record = api.solve("risk_score.minlp", tiny(), solver="fasterrisk", time_limit=10, **params)
    assert record.status == "unsupported" and words in record.message and record.objective is None


class _WithToString(np.ndarray):
    """An array that still has NumPy 1's ``tostring`` (the bytes ``tobytes`` gives)."""

    def tostring(self):
        return self.tobytes()


def test_numpy2_shim_is_fasterrisks_own_method(monkeypatch):
    """The shim returns what fasterrisk's ``star_ray_search_scale_and_round`` returns where
    ``tostring`` exists (emulated here under NumPy 2 by an array subclass that has it)."""
    fasterrisk()
    import fasterrisk.rounding as rounding
    from fasterrisk.fasterrisk import RiskScoreOptimizer

    data = tiny(3, n=60, p=4)
    X, y = data["X"], data["y"]
    optimizer = RiskScoreOptimizer(X, y, 2, lb=-3, ub=3)
    model = optimizer.sparseLogRegModel_object
    model.get_sparse_sol_via_OMP(k=2, parent_size=optimizer.parent_size, child_size=optimizer.child_size)
    pool = optimizer.sparseDiversePoolLogRegModel_object
    pool.warm_start_from_beta0_betas_ExpyXB(*model.get_beta0_betas_ExpyXB())
    beta0, betas = pool.get_sparseDiversePool(gap_tolerance=0.05, select_top_m=50, maxAttempts=50)
    search = optimizer.starRaySearchModel_object
    shimmed = _star_ray_search(search, beta0, betas)

    class _NumPy1:
        def __getattr__(self, name):
            return getattr(np, name)

        @staticmethod
        def zeros(*args, **kwargs):
            return np.zeros(*args, **kwargs).view(_WithToString)

    monkeypatch.setattr(rounding, "np", _NumPy1())
    original = type(search).star_ray_search_scale_and_round(search, beta0, betas)
    for a, b in zip(shimmed, original):
        assert np.array_equal(np.asarray(a), np.asarray(b))
