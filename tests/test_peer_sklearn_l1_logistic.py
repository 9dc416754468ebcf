"""``l1_logistic``: scikit-learn's L1 logistic path refit on the formulation's objective, a heuristic
of ``sparse_logistic.perspective``: its answer is feasible, never better than the optimum
(brute force over supports), and exactly the best refit over the supports of the path."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from reference_impl import api
from reference_impl.errors import InputError
from reference_impl.formulations.sparse_classification import check_binary, fit_logistic
from reference_impl.instances import resolve_instance
from reference_impl.registry import get_formulation
from reference_impl.solvers.adapters.sklearn_l1_logistic import SOLVER

INSTANCE = "synclass-n30-p6-k2"


def _brute_force(k: int, lambda2: float) -> float:
    """min over every support of size <= k of the refit objective (the formulation's optimum up to
    the refit's tolerance; the box M is derived, so the same box)."""
    formulation = get_formulation("sparse_logistic.perspective")
    instance = resolve_instance(INSTANCE)
    params = formulation.validate(instance, {"k": k, "lambda2": lambda2})
    X, y = check_binary(instance)
    best = np.inf
    for size in range(0, k + 1):
        for support in itertools.combinations(range(X.shape[1]), size):
            theta, b = fit_logistic(X, y, support, lambda2, M=float(params["M"]), fit_intercept=True)
            b = float(np.clip(b, -params["intercept_bound"], params["intercept_bound"]))
            best = min(best, formulation.objective_value(X, y, theta, b, size, params))
    return best


@pytest.mark.parametrize("k", [1, 2, 3])
def test_the_path_heuristic_is_feasible_and_never_better_than_the_optimum(k):
    out: dict = {}
    record = api.solve("sparse_logistic.perspective", INSTANCE, solver="l1_logistic", time_limit=30, k=k,
                       lambda2=1.0, solution_out=out)
    assert record.status == "feasible" and record.bound is None
    assert record.max_violation <= 1e-6 and int(out["z"].sum()) <= k
    assert record.objective >= _brute_force(k, 1.0) - 1e-6
    assert record.solver_objective == pytest.approx(record.objective, rel=1e-9)
    assert record.solver_version.startswith("scikit-learn")
    exact = api.solve("sparse_logistic.perspective", INSTANCE, solver="scip", time_limit=60, k=k, lambda2=1.0)
    assert exact.status == "optimal" and record.objective >= exact.objective - 1e-5 * abs(exact.objective)


def test_bad_option_is_an_input_error():
    with pytest.raises(InputError, match="n_alphas"):
        api.solve("sparse_logistic.perspective", INSTANCE, solver="l1_logistic", time_limit=30, k=2,
                  solver_options={"n_alphas": 1})
    with pytest.raises(InputError, match="no option"):
        SOLVER.check_options({"alpha": 1})
