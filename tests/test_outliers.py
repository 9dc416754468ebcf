"""Outlier-trimmed regression, tutorial (23)–(24) (``outliers.trimmed_direct``, ``outliers.trimmed_bigm``).

What is proved here, independently of every solver:
(a) on tiny instances both formulations reach the least-trimmed-squares optimum found by
    enumerating every set of at most k discarded points (least squares on the rest);
(b) the two formulations (and two solvers) agree on several seeds;
(c) the continuous relaxation of (24) is 0 exactly when M ≥ M₀ (the LP threshold the
    evaluator reports) and positive below it; the relaxation of (23) is exact;
(d) the evaluators flag too many trimmed points, fractional indicators, corrections on kept
    points, boxes exceeded, and a wrong objective is refuted;
(e) bad input ends as one clear InputError (exit 2 on the command line);
(f) the generators are byte-deterministic;
(g) on planted instances exact trimming recovers every planted outlier, where least
    squares, Huber's M-estimator and the LAD fit do not (leverage outliers).
"""
from __future__ import annotations

import hashlib
import itertools
import math

import numpy as np
import pytest

from conftest import has_gurobi
from reference_impl import solve
from reference_impl.api import _fill_from_outcome
from reference_impl.errors import InputError
from reference_impl.formulations.base import FEASIBILITY_TOL
from reference_impl.formulations.outliers import (_eigenvalue_bounds, derive_bounds, lad_fit, largest_residual_set,
                                                  relaxation_zero_threshold, trimmed_sum)
from reference_impl.instances import resolve_instance
from reference_impl.instances.generators.outliers import piecewise_signal_outliers, regression_outliers
from reference_impl.instances.library import generate
from reference_impl.instances.storage import npz_bytes
from reference_impl.record import ResultRecord
from reference_impl.registry import get_formulation
from reference_impl.solvers import SolverOutcome

DIRECT, BIGM = "outliers.trimmed_direct", "outliers.trimmed_bigm"
TINY = "outliers-n10-p2-o2"
MIQP_SOLVERS = ["scip"] + (["gurobi"] if has_gurobi() else [])


# -- the oracle: enumeration, independent of every solver ------------------------------------
def lts_optimum(X: np.ndarray, y: np.ndarray, k: int):
    """min over every discarded set D with |D| ≤ k of the least-squares RSS on the rest:
    (value, D, θ). Ties keep the first (smallest) set found."""
    n = len(y)
    best = (math.inf, None, None)
    for size in range(k + 1):
        for D in itertools.combinations(range(n), size):
            keep = np.setdiff1d(np.arange(n), D)
            theta = np.linalg.lstsq(X[keep], y[keep], rcond=None)[0]
            r = y[keep] - X[keep] @ theta
            value = float(r @ r)
            if value < best[0] - 1e-12:
                best = (value, D, theta)
    return best


def agrees(value: float, optimum: float, rel: float = 2e-4) -> bool:
    return abs(value - optimum) <= rel * max(1.0, abs(optimum))


def as_instance(data: dict) -> dict:
    return {"X": data["X"], "y": data["y"]}


# -- (a) brute force on the tiny catalogue instance ------------------------------------------
@pytest.mark.parametrize("k", [1, 2])
def test_both_formulations_reach_the_enumerated_optimum(k):
    instance = resolve_instance(TINY)
    optimum, discarded, _ = lts_optimum(instance.X, instance.y, k)
    runs = [(DIRECT, "scip")] + [(BIGM, s) for s in MIQP_SOLVERS]
    for formulation_id, solver in runs:
        record = solve(formulation_id, instance, solver=solver, time_limit=30, k=k)
        assert record.status == "optimal", (formulation_id, solver, record.message)
        assert agrees(record.objective, optimum), (formulation_id, solver, record.objective, optimum)
        assert record.extra["trimmed"] == list(discarded), (formulation_id, solver)
        assert record.extra["trimmed_by_residual"] == list(discarded)
        assert record.extra["M_certified"] and not record.extra["m_binding"]


def test_k_zero_is_least_squares():
    instance = resolve_instance(TINY)
    ols = np.linalg.lstsq(instance.X, instance.y, rcond=None)[0]
    rss = float(np.sum((instance.y - instance.X @ ols) ** 2))
    assert relaxation_zero_threshold(instance.X, instance.y, 0) == math.inf
    for formulation_id in (DIRECT, BIGM):
        record = solve(formulation_id, instance, solver="scip", time_limit=30, k=0)
        assert record.status == "optimal" and agrees(record.objective, rss), (formulation_id, record.objective, rss)
        assert record.extra["trimmed"] == []


def test_derived_bounds_hold_at_the_enumerated_optimum():
    """The derived correction bound (24) and coefficient box (23) hold at the optimum (module
    docstring's ellipsoid argument), on the tiny instance and on ad-hoc seeds; so does the
    Weyl fallback whenever it applies."""
    cases = [(resolve_instance(TINY).X, resolve_instance(TINY).y, 2)]
    for seed in range(4):
        data = regression_outliers(9, 2, 2, noise=0.5, shift=6.0, seed=100 + seed)
        cases.append((data["X"], data["y"], 2))
    weyl_checked = 0
    for X, y, k in cases:
        _, D, theta = lts_optimum(X, y, k)
        correction, box, source = derive_bounds(X, y, k)
        assert source == "derived"
        residual = y - X @ theta
        assert np.max(np.abs(residual[list(D)])) <= correction
        assert np.max(np.abs(theta)) <= box
        weyl = _eigenvalue_bounds(X, y, k, trimmed_sum(residual, k))
        if weyl is not None:
            weyl_checked += 1
            assert np.max(np.abs(residual[list(D)])) <= weyl[0] and np.linalg.norm(theta) <= weyl[1]
    # a design where the Weyl bound applies (many points, small k): it must hold too
    data = regression_outliers(40, 2, 1, noise=0.3, shift=3.0, seed=7)
    X, y = data["X"], data["y"]
    value, D, theta = lts_optimum(X, y, 1)
    weyl = _eigenvalue_bounds(X, y, 1, value)
    assert weyl is not None
    assert np.max(np.abs((y - X @ theta)[list(D)])) <= weyl[0] and np.linalg.norm(theta) <= weyl[1]


def test_uncertifiable_bound_is_flagged_heuristic():
    """k > n − p: some kept set cannot determine θ, nothing is certified: the run says so."""
    data = regression_outliers(5, 2, 1, seed=3)
    record = solve(BIGM, as_instance(data), solver="scip", time_limit=30, k=4)
    assert record.extra["M_source"] == "heuristic" and record.extra["M_certified"] is False
    assert "heuristic" in record.message


# -- (b) the two formulations agree ------------------------------------------------------------
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_formulations_and_solvers_agree(seed):
    data = as_instance(regression_outliers(9, 2, 2, noise=0.5, shift=6.0, seed=seed))
    optimum, discarded, _ = lts_optimum(data["X"], data["y"], 2)
    direct = solve(DIRECT, data, solver="scip", time_limit=30, k=2)
    bigm = [solve(BIGM, data, solver=s, time_limit=30, k=2) for s in MIQP_SOLVERS]
    for record in [direct, *bigm]:
        assert record.status == "optimal", record.message
        assert agrees(record.objective, optimum), (record.formulation, record.solver, record.objective, optimum)
        assert record.extra["trimmed"] == list(discarded)


# -- (c) the relaxations ------------------------------------------------------------------------
def test_bigm_relaxation_is_zero_iff_m_reaches_the_threshold():
    instance = resolve_instance(TINY)
    k = 2
    threshold = relaxation_zero_threshold(instance.X, instance.y, k)
    assert 0 < threshold < math.inf
    scale = float(instance.y @ instance.y)
    for M, zero in [(1.05 * threshold, True), (1e3 * threshold, True), (0.8 * threshold, False)]:
        record = solve(BIGM, instance, solver="scip", time_limit=30, root_relaxation=True, k=k, M=M)
        assert record.root_bound is not None, record.extra.get("root_status")
        assert record.extra["relaxation_zero_M"] == pytest.approx(threshold)
        assert record.extra["relaxation_trivial"] is zero
        if zero:
            assert abs(record.root_bound) <= 1e-6 * scale, (M, record.root_bound)
        else:
            assert record.root_bound > 1e-3, (M, record.root_bound)
        if record.status == "optimal" and M > threshold:  # a large M cuts nothing off
            assert agrees(record.objective, lts_optimum(instance.X, instance.y, k)[0])


def test_bigm_relaxation_zero_also_when_m_exceeds_every_lad_residual():
    """The tutorial's argument (zᵢ = ε, rᵢ = yᵢ − xᵢᵀθ): with M ≥ max|yᵢ − xᵢᵀθ| · n / k for
    any θ (here the LAD fit), the relaxation is 0 — a bound above M₀, checked against the LP."""
    instance = resolve_instance(TINY)
    k = 1
    lad = lad_fit(instance.X, instance.y)
    M = float(np.max(np.abs(instance.y - instance.X @ lad))) * len(instance.y) / k
    assert M >= relaxation_zero_threshold(instance.X, instance.y, k)
    record = solve(BIGM, instance, solver="scip", time_limit=30, root_relaxation=True, k=k, M=M)
    assert abs(record.root_bound) <= 1e-6 * float(instance.y @ instance.y)


def test_direct_relaxation_is_exact():
    """For fixed θ, (23) is linear in z over {z ∈ [0,1]ⁿ : Σz ≤ k}, whose vertices are integral:
    the relaxation's value is the optimum itself."""
    instance = resolve_instance(TINY)
    optimum = lts_optimum(instance.X, instance.y, 1)[0]
    record = solve(DIRECT, instance, solver="scip", time_limit=30, root_relaxation=True, k=1)
    assert record.root_bound == pytest.approx(optimum, rel=1e-3)


# -- (d) the evaluators flag what is wrong -------------------------------------------------------
@pytest.fixture(scope="module")
def tiny_optimum():
    instance = resolve_instance(TINY)
    value, D, theta = lts_optimum(instance.X, instance.y, 2)
    z = np.zeros(len(instance.y))
    z[list(D)] = 1.0
    r = np.where(z > 0.5, instance.y - instance.X @ theta, 0.0)
    return instance, value, theta, z, r


def test_evaluators_recompute_the_optimum_from_data(tiny_optimum):
    instance, value, theta, z, r = tiny_optimum
    for formulation_id, solution in [(DIRECT, {"theta": theta, "z": z}), (BIGM, {"theta": theta, "z": z, "r": r})]:
        formulation = get_formulation(formulation_id)
        params = formulation.validate(instance, {"k": 2})
        evaluation = formulation.evaluate(instance, params, solution)
        assert evaluation.feasible and evaluation.objective == pytest.approx(value, rel=1e-10)
        assert evaluation.info["lts_objective"] == pytest.approx(value, rel=1e-10)
        assert evaluation.info["z_is_best_trim"]


def test_evaluators_flag_infeasible_solutions(tiny_optimum):
    instance, value, theta, z, r = tiny_optimum
    one_more = z.copy()
    one_more[np.flatnonzero(z == 0)[0]] = 1.0
    fractional = z * 0.5
    direct = get_formulation(DIRECT)
    params = direct.validate(instance, {"k": 2})
    planted = {"cardinality": {"theta": theta, "z": one_more}, "integrality": {"theta": theta, "z": fractional},
               "box": {"theta": theta + 2 * params["M"], "z": z}}
    for kind, solution in planted.items():
        evaluation = direct.evaluate(instance, params, solution)
        assert not evaluation.feasible and evaluation.violations[kind] > FEASIBILITY_TOL, kind
    bigm = get_formulation(BIGM)
    params = bigm.validate(instance, {"k": 2})
    kept = int(np.flatnonzero(z == 0)[0])
    planted = {
        "cardinality": {"theta": theta, "z": one_more, "r": r},
        "integrality": {"theta": theta, "z": fractional, "r": r},
        "correction_link": {"theta": theta, "z": z, "r": r + np.eye(len(r))[kept] * 0.3},  # rᵢ ≠ 0 while zᵢ = 0
        "big_m": {"theta": theta, "z": z, "r": r * 0 + z * 2 * params["M"]},
    }
    for kind, solution in planted.items():
        evaluation = bigm.evaluate(instance, params, solution)
        assert not evaluation.feasible and evaluation.violations[kind] > FEASIBILITY_TOL, kind
    # a claimed optimum with too many trimmed points is refuted (status error)
    record = ResultRecord(formulation=BIGM, solver="scip", instance=instance.id, rel_gap=1e-4)
    _fill_from_outcome(record, bigm, instance, params, SolverOutcome("optimal", has_solution=True, objective=0.0,
                                                                     bound=0.0), planted["cardinality"])
    assert record.status == "error" and "evaluator found a violation" in record.message


def test_wrong_objective_is_refuted(tiny_optimum):
    """The objective is recomputed from data: a feasible but worse point whose solver claims
    the optimum's value as its bound is refuted; a z that is not the best trim is reported."""
    instance, value, theta, z, r = tiny_optimum
    for formulation_id, solution in [(DIRECT, {"theta": theta * 0.85, "z": z}),
                                     (BIGM, {"theta": theta * 0.85, "z": z, "r": r})]:
        formulation = get_formulation(formulation_id)
        params = formulation.validate(instance, {"k": 2})
        evaluation = formulation.evaluate(instance, params, solution)
        assert evaluation.feasible and evaluation.objective > value * 1.5
        record = ResultRecord(formulation=formulation_id, solver="scip", instance=instance.id, rel_gap=1e-4)
        _fill_from_outcome(record, formulation, instance, params,
                           SolverOutcome("optimal", has_solution=True, objective=value, bound=value), solution)
        assert record.status == "error" and "recomputed gap" in record.message
    # keeping the two planted outliers and trimming two good points: feasible, not the best trim
    wrong = np.zeros_like(z)
    wrong[np.flatnonzero(z == 0)[:2]] = 1.0
    direct = get_formulation(DIRECT)
    evaluation = direct.evaluate(instance, direct.validate(instance, {"k": 2}), {"theta": theta, "z": wrong})
    assert evaluation.feasible and not evaluation.info["z_is_best_trim"]
    assert evaluation.objective > value + 10


def test_bigm_correction_consistency_is_reported(tiny_optimum):
    """On a discarded point the optimal correction is the residual; a smaller one is feasible,
    costs its square in the objective, and shows as ``correction_gap``."""
    instance, value, theta, z, r = tiny_optimum
    bigm = get_formulation(BIGM)
    params = bigm.validate(instance, {"k": 2})
    short = r * 0.5
    evaluation = bigm.evaluate(instance, params, {"theta": theta, "z": z, "r": short})
    assert evaluation.feasible
    assert evaluation.info["correction_gap"] == pytest.approx(np.max(np.abs(r - short)))
    assert evaluation.objective == pytest.approx(value + float(np.sum((r - short) ** 2)))


# -- (e) bad input -------------------------------------------------------------------------------
@pytest.mark.parametrize("formulation_id", [DIRECT, BIGM])
@pytest.mark.parametrize(("params", "message"), [
    ({"k": 10}, "must be <= 9"),
    ({"k": 12}, "must be <= 9"),
    ({"k": -1}, "must be >= 0"),
    ({}, "needs k"),
    ({"k": 1.5}, "must be an integer"),
    ({"k": float("nan")}, "finite integer"),
    ({"k": True}, "boolean"),
    ({"k": 2, "M": -1.0}, "positive"),
    ({"k": 2, "M": float("nan")}, "NaN"),
    ({"k": 2, "lambda2": 1.0}, "no hyperparameter"),
])
def test_bad_hyperparameters(formulation_id, params, message):
    formulation = get_formulation(formulation_id)
    with pytest.raises(InputError, match=message):
        formulation.validate(resolve_instance(TINY), params)


@pytest.mark.parametrize("formulation_id", [DIRECT, BIGM])
def test_bad_instances(formulation_id):
    data = as_instance(regression_outliers(10, 2, 2, seed=1))
    bad = {
        "NaN": {"X": data["X"], "y": np.where(np.arange(10) == 3, np.nan, data["y"])},
        "rows": {"X": data["X"][:9], "y": data["y"]},
        "2-D": {"X": data["X"][:, 0], "y": data["y"]},
    }
    for match, arrays in bad.items():
        with pytest.raises(InputError, match=match):
            solve(formulation_id, arrays, solver="scip", k=2)


def test_cli_bad_k_exits_2(capsys):
    from reference_impl.cli import main

    assert main(["solve", BIGM, "--instance", TINY, "--param", "k=10"]) == 2
    err = capsys.readouterr().err
    assert "must be <= 9" in err and "Traceback" not in err


# -- (f) generators ------------------------------------------------------------------------------
def _digest(arrays) -> str:
    return hashlib.sha256(npz_bytes(arrays)).hexdigest()


def test_generators_are_byte_deterministic():
    for make in (lambda s: regression_outliers(30, 3, 3, kind="leverage", seed=s),
                 lambda s: piecewise_signal_outliers([5, 7, 4], [0.0, 2.0, 1.0], outliers=[1, 9], seed=s)):
        assert _digest(make(4)) == _digest(make(4))
        assert _digest(make(4)) != _digest(make(5))
    for instance_id in (TINY, "outliers-n30-p2-o3", "outliers-fig11-signal-n64"):
        assert generate(instance_id).sha256 == generate(instance_id).sha256


def test_generators_plant_what_they_say():
    data = regression_outliers(30, 3, 4, seed=2)
    assert data["outlier_index"].dtype == np.int64 and len(data["outlier_index"]) == 4
    assert np.flatnonzero(data["outlier_mask"]).tolist() == data["outlier_index"].tolist()
    assert np.all(data["X"][:, 0] == 1.0)
    clean = np.flatnonzero(data["outlier_mask"] == 0)
    assert np.max(np.abs(data["y"][clean] - data["X"][clean] @ data["beta_true"])) < 5 * 0.5
    signal = generate("outliers-fig11-signal-n64").arrays
    assert signal["X"].shape == (64, 5) and np.all(signal["X"].sum(axis=1) == 1.0)
    assert signal["outlier_index"].tolist() == [2]
    assert int(np.argmax(signal["y"])) == 2  # the largest measurement, near the start (Figure 11a)
    with pytest.raises(ValueError):
        regression_outliers(5, 2, 6)
    with pytest.raises(ValueError):
        piecewise_signal_outliers([3, 3], [0.0, 1.0], outliers=[6])


# -- (g) planted outliers: exact trimming vs the continuous alternatives --------------------------
@pytest.mark.parametrize("seed", [0, 3])
def test_exact_trimming_recovers_leverage_outliers_where_robust_fits_fail(seed):
    from sklearn.linear_model import HuberRegressor, LinearRegression, RANSACRegressor

    data = regression_outliers(16, 2, 3, noise=0.5, shift=10.0, kind="leverage", seed=seed)
    X, y, planted, beta = data["X"], data["y"], data["outlier_index"].tolist(), data["beta_true"]
    record = solve(BIGM, as_instance(data), solver=MIQP_SOLVERS[-1], time_limit=30, k=3)
    assert record.status == "optimal" and record.extra["trimmed"] == planted
    lts_error = float(np.max(np.abs(np.array(record.extra["theta"]) - beta)))
    assert lts_error < 0.5
    # least squares, Huber's M-estimator and LAD are pulled by the leverage points: none flags
    # them all as its 3 largest residuals / outliers, and each coefficient error is far larger
    ols = np.linalg.lstsq(X, y, rcond=None)[0]
    huber = HuberRegressor(fit_intercept=False).fit(X, y)
    lad = lad_fit(X, y)
    for name, coef in (("ols", ols), ("huber", huber.coef_), ("lad", lad)):
        assert not set(planted) <= set(largest_residual_set(y - X @ coef, 3).tolist()), name
        assert np.max(np.abs(coef - beta)) > 4 * lts_error, name
    # RANSAC (random consensus) is recorded only: its answer depends on its random draws
    RANSACRegressor(LinearRegression(fit_intercept=False), random_state=0).fit(X, y)


def test_exact_trimming_flags_the_figure11_outlier():
    instance = resolve_instance("outliers-fig11-signal-n64")
    record = solve(BIGM, instance, solver="scip", time_limit=30, k=1)
    assert record.status == "optimal"
    assert record.extra["trimmed"] == instance["outlier_index"].tolist()
    levels = np.array(record.extra["theta"])
    assert np.max(np.abs(levels - instance["beta_true"])) < 0.3  # the period levels, fitted without it


# -- the paper figure (tutorial Figure 11 in spirit) ------------------------------------------------
def test_fig11_alternatives_are_what_they_say():
    from reference_impl.reports.paper.tutorial_fig11 import haar_denoise, l1_relaxation

    instance = resolve_instance("outliers-fig11-signal-n64")
    X, y = instance.X, instance.y
    lam = 0.8
    theta, r = l1_relaxation(X, y, lam)
    e = y - X @ theta - r
    # optimality conditions of min ‖y − Xθ − r‖² + λ‖r‖₁: Xᵀe = 0, e = (λ/2)·sign(r) where r ≠ 0, |e| ≤ λ/2 elsewhere
    assert np.max(np.abs(X.T @ e)) < 1e-8
    on = np.abs(r) > 1e-9
    assert np.allclose(e[on], lam / 2 * np.sign(r[on]), atol=1e-8) and np.all(np.abs(e[~on]) <= lam / 2 + 1e-8)
    assert np.allclose(haar_denoise(np.full(16, 3.0)), 3.0)  # orthonormal round trip, nothing to shrink
    with pytest.raises(ValueError):
        haar_denoise(np.ones(12))


def test_fig11_builds_with_the_tutorial_beside_ours(tmp_path):
    import pandas as pd

    from reference_impl.reports.paper import build_figure

    files = build_figure("tutorial.fig11", tmp_path, time_limit=30.0)
    assert {p.name for p in files} >= {"page.md", "tutorial_fig11.png", "summary.csv"}
    summary = pd.read_csv(tmp_path / "summary.csv").set_index("method")
    assert summary.loc["(b) exact (24)", "flagged"] == "2" and summary.loc["(b) exact (24)", "n_flagged"] == 1
    page = (tmp_path / "page.md").read_text()
    assert "tutorial Figure 11" in page and "Provenance: miobench commit" in page and "status `optimal`" in page
