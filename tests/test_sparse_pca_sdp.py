"""sparse_pca.sdp_bound (d'Aspremont et al. SDP relaxation of (15)) and its adapter ``clarabel``:
the reported bound is ≥ the enumerated k-sparse optimum (synthetic and real data), the dual
bound is valid for any multiplier matrix, the relaxation is exact where theory says it is
(k = 1, k = d), the evaluator checks every constraint, bad input is one InputError."""
import itertools
from unittest import mock

import numpy as np
import pytest

from reference_impl.api import solve
from reference_impl.errors import InputError
from reference_impl.formulations.base import FEASIBILITY_TOL
from reference_impl.formulations.sparse_pca import covariance
from reference_impl.formulations.sparse_pca_sdp import dual_bound, repair_primal
from reference_impl.instances import resolve_instance
from reference_impl.instances.generators import get_generator
from reference_impl.instances.instance import Instance
from reference_impl.registry import get_formulation
from reference_impl.solvers.adapters import cvxpy_sdp
from reference_impl.solvers.registry import capable_solvers, solver_for
from bruteforce import sparse_pca_optimum as _enumerate

F = "sparse_pca.sdp_bound"
spiked = get_generator("spiked_covariance")


def _instance(d, k, seed, **kw):
    return Instance(id=f"spiked-d{d}-k{k}-s{seed}", arrays=spiked(d=d, k=k, seed=seed, **kw))


def _wishart(d, seed, n):
    G = np.random.default_rng(seed).standard_normal((n, d))
    return G.T @ G / n


# -- the bound is an upper bound on the k-sparse optimum -------------------------------------------------------
SEEDED = [(6, 2, 0, {}), (8, 3, 1, {"population": False}), (10, 3, 2, {"noise": 3.0}), (12, 4, 3, {"beta": 1.0}),
          (12, 2, 4, {"noise": 2.0, "population": False})]


@pytest.mark.parametrize(("d", "k", "seed", "kw"), SEEDED)
def test_sdp_bound_is_above_the_enumerated_optimum(d, k, seed, kw):
    instance = _instance(d, k, seed, **kw)
    S = covariance(instance)
    optimum = _enumerate(S, k)
    record = solve(F, instance, solver="clarabel", time_limit=60, k=k)
    assert record.status == "optimal", record.message
    assert record.max_violation <= FEASIBILITY_TOL
    assert record.bound >= optimum                                   # the certificate
    assert record.objective <= record.bound                          # a feasible X is below its dual
    assert record.bound <= np.linalg.eigvalsh(S)[-1] + 1e-9          # never worse than dense PCA (U = 0)
    assert record.gap <= 1e-4
    assert record.extra["bound_source"] == "dual"


@pytest.mark.parametrize("seed", [21, 22])
def test_sdp_bound_on_unstructured_low_rank_matrices(seed):
    S = _wishart(9, seed, n=4)                                       # rank 4, mixed signs
    for k in (2, 3):
        record = solve(F, Instance(id="w", arrays={"Sigma": S}), solver="clarabel", time_limit=60, k=k)
        assert record.status == "optimal", record.message
        assert record.bound >= _enumerate(S, k)


@pytest.mark.parametrize(("instance_id", "k", "standardize"), [("spca-iris", 2, True), ("spca-wine", 3, True),
                                                                ("spca-breast-cancer-mean", 3, False)])
def test_sdp_bound_on_real_data(instance_id, k, standardize):
    try:
        instance = resolve_instance(instance_id)
    except Exception as exc:  # real data not in $MIOBENCH_DATA_DIR
        pytest.skip(f"{instance_id} unavailable: {exc}")
    record = solve(F, instance, solver="clarabel", time_limit=60, k=k, standardize=standardize)
    optimum = _enumerate(covariance(instance, standardize), k)
    assert record.status == "optimal", record.message
    assert record.bound >= optimum
    exact = solve("sparse_pca.mio", instance, solver="spca_bnb", time_limit=60, k=k, standardize=standardize)
    assert exact.objective <= record.bound and exact.objective == pytest.approx(optimum, rel=1e-6)


def test_relaxation_is_exact_for_k_one_and_k_d():
    """k = 1: 1ᵀ|X|1 ≤ 1 = tr X forces X diagonal, the SDP is max Σᵢᵢ; k = d: the L1 constraint
    is implied (|Xᵢⱼ| ≤ √(XᵢᵢXⱼⱼ)), the SDP is λ_max(Σ). Checks the model is the one documented."""
    instance = _instance(7, 3, 5, noise=2.0)
    S = covariance(instance)
    one = solve(F, instance, solver="clarabel", time_limit=60, k=1)
    assert one.objective == pytest.approx(np.diag(S).max(), rel=1e-6) and one.bound >= np.diag(S).max()
    full = solve(F, instance, solver="clarabel", time_limit=60, k=7)
    assert full.objective == pytest.approx(np.linalg.eigvalsh(S)[-1], rel=1e-6)
    assert full.bound >= np.linalg.eigvalsh(S)[-1]


# -- the certificate itself, independent of any solver -----------------------------------------------------------
def test_dual_bound_is_valid_for_any_multiplier():
    rng = np.random.default_rng(0)
    for trial in range(30):
        d, k = int(rng.integers(3, 9)), None
        k = int(rng.integers(1, d + 1))
        S = _wishart(d, trial, n=int(rng.integers(1, d + 2)))
        optimum = _enumerate(S, k)
        U = rng.standard_normal((d, d)) * rng.choice([0.01, 0.3, 3.0])
        assert dual_bound(S, U, k) >= optimum
        X = repair_primal(rng.standard_normal((d, d)), k)           # a feasible X of the SDP
        assert dual_bound(S, U, k) >= float(np.sum(S * X))
        assert float(np.sum(S * X)) <= dual_bound(S, np.zeros((d, d)), k)
    assert dual_bound(np.eye(2), np.full((2, 2), np.nan), 1) == np.inf


def test_repaired_primal_is_feasible():
    formulation = get_formulation(F)
    rng = np.random.default_rng(3)
    instance = Instance(id="i", arrays={"Sigma": np.eye(6)})
    for k in (1, 2, 6):
        params = formulation.validate(instance, {"k": k})
        for scale in (0.1, 1.0, 50.0):
            X = repair_primal(rng.standard_normal((6, 6)) * scale, k)
            evaluation = formulation.evaluate(instance, params, {"X": X})
            assert evaluation.feasible, evaluation.violations


def test_sdp_bound_with_a_loosely_solved_scs_is_still_valid():
    """SCS (the fallback) at a loose tolerance: the reported bound still holds."""
    import cvxpy as cp

    if "SCS" not in cp.installed_solvers():
        pytest.skip("SCS not installed")
    instance = _instance(9, 3, 7, noise=2.0)
    optimum = _enumerate(covariance(instance), 3)
    with mock.patch.object(cvxpy_sdp, "_backend", return_value="SCS"):
        record = solve(F, instance, solver="clarabel", time_limit=60, k=3, rel_gap=1e-2)
    assert record.extra["backend"] == "SCS"
    assert record.status in ("optimal", "error"), record.message
    assert record.bound >= optimum


def test_not_installed_is_a_status():
    with mock.patch.object(cvxpy_sdp, "_backend", return_value=None):
        record = solve(F, _instance(6, 2, 0), solver="clarabel", time_limit=5, k=2)
    assert record.status == "not_installed" and "cvxpy" in record.message


# -- the evaluator ----------------------------------------------------------------------------------------------
def test_evaluator_recomputes_and_checks_every_constraint():
    instance = _instance(7, 2, 8)
    formulation = get_formulation(F)
    params = formulation.validate(instance, {"k": 2})
    S = covariance(instance)
    best = max(itertools.combinations(range(7), 2), key=lambda c: np.linalg.eigvalsh(S[np.ix_(c, c)])[-1])
    w, V = np.linalg.eigh(S[np.ix_(best, best)])
    theta = np.zeros(7)
    theta[list(best)] = V[:, -1]
    X = np.outer(theta, theta)                                       # the rank-one point of the optimum
    evaluation = formulation.evaluate(instance, params, {"X": X})
    assert evaluation.feasible and evaluation.objective == pytest.approx(w[-1], rel=1e-12)
    assert evaluation.info["x_rank_1e-6"] == 1
    asymmetric = X.copy()
    asymmetric[0, 1] += 0.1
    indefinite = X - 0.05 * np.outer(np.eye(7)[3], np.eye(7)[3]) + 0.05 * np.outer(np.eye(7)[4], np.eye(7)[4])
    dense = np.full((7, 7), 1 / 7)                                   # PSD, trace 1, 1ᵀ|X|1 = 7 > k
    for bad, which in ((asymmetric, "symmetry"), (2 * X, "trace"), (indefinite, "psd"), (dense, "l1")):
        evaluation = formulation.evaluate(instance, params, {"X": bad})
        assert not evaluation.feasible and evaluation.violations[which] > FEASIBILITY_TOL, (which, evaluation.violations)
    assert formulation.evaluate(instance, params, {"X": np.full((7, 7), np.nan)}).violations["missing_values"] == np.inf
    with pytest.raises(InputError, match="shape 7 × 7"):
        formulation.evaluate(instance, params, {"X": np.eye(6)})


def test_solution_out_is_the_evaluated_matrix():
    out = {}
    instance = _instance(6, 2, 0)
    record = solve(F, instance, solver="clarabel", time_limit=60, k=2, solution_out=out)
    assert out["X"].shape == (6, 6)
    assert record.objective == pytest.approx(float(np.sum(covariance(instance) * out["X"])), rel=1e-12)


# -- registry and bad input --------------------------------------------------------------------------------------
def test_only_the_sdp_adapter_takes_it():
    formulation = get_formulation(F)
    assert capable_solvers(formulation) == ["clarabel"]            # no Pyomo solver takes an SDP
    assert formulation.sense == "max" and formulation.problem_class == "SDP"


@pytest.mark.parametrize(("arrays", "params", "message"), [
    ({"Sigma": np.array([[1.0, 2.0], [2.0, 1.0]])}, {"k": 1}, "not positive semidefinite"),
    ({"Sigma": np.array([[1.0, 0.5], [0.0, 1.0]])}, {"k": 1}, "not symmetric"),
    ({"Sigma": np.eye(3)}, {"k": 4}, "k must be <= 3"),
    ({"Sigma": np.eye(3)}, {"k": 0}, "k must be >= 1"),
    ({"Sigma": np.eye(3)}, {}, "needs the cardinality limit k"),
    ({"Sigma": np.eye(3)}, {"k": 2, "n_components": 2}, "no hyperparameter"),
    ({"Sigma": np.eye(3)}, {"k": 2, "standardize": "yes"}, "true or false"),
])
def test_bad_input_gives_one_input_error(arrays, params, message):
    with pytest.raises(InputError, match=message):
        solve(F, Instance(id="bad", arrays=arrays), solver="clarabel", time_limit=5, **params)


def test_bad_options_give_one_input_error():
    with pytest.raises(InputError, match="no option"):
        solve(F, _instance(6, 2, 0), solver="clarabel", time_limit=5, k=2, solver_options={"eps": 1e-3})


def test_the_registry_adapter_runs_and_a_pyomo_solver_is_unsupported():
    formulation = get_formulation(F)
    instance = _instance(6, 2, 0)
    params = formulation.validate(instance, {"k": 2})
    outcome, solution = solver_for("clarabel", formulation).run(formulation, instance, params, time_limit=30,
                                                                rel_gap=1e-4, threads=1, seed=0, solver_options={})
    assert outcome.status == "optimal" and solution["X"].shape == (6, 6)
    assert solve(F, instance, solver="scip", time_limit=5, k=2).status == "unsupported"
