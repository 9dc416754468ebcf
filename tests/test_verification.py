"""Verification of trained ReLU networks, tutorial (25)+(26) (``verification.relu_bigm``), and the
shared model embedding (``formulations/_model_embedding.py``) and generators (``generators/networks.py``).

What is proved here, independently of every solver in the project:
(a) on tiny networks the MILP optimum (HiGHS, SCIP, Gurobi when installed; interval and LP
    bounds; ‖u‖∞ and ‖u‖1) equals the minimum over *every activation pattern* of the hidden
    ReLUs: fixing a pattern makes the network affine on a polyhedron, so each pattern is one
    LP (scipy's linprog), and every input lies in some pattern's polyhedron;
(b) the adversarial point the solver returns is classified as the target by the network's own
    forward pass, and by scikit-learn itself for a network read from an ``MLPClassifier``;
(c) interval and LP pre-activation bounds contain every pre-activation seen on a dense sample
    of the box, and LP bounds are never looser (strictly tighter on a two-hidden-layer net);
(d) the evaluator flags a shrunk perturbation (target no longer wins), flipped indicators,
    wrong hidden values, a point outside the box, and recomputes the norm;
(e) bad input (unsupported model or activation, target = predicted class, wrong shapes, bad
    hyperparameters) ends as one InputError; no adversarial point in the box: ``infeasible``;
(f) the generators are byte-deterministic.
"""
from __future__ import annotations

import hashlib
import itertools
from functools import lru_cache

import numpy as np
import pytest
from scipy.optimize import linprog

from conftest import has_gurobi
from reference_impl import solve
from reference_impl.errors import InputError
from reference_impl.formulations._model_embedding import (Network, from_sklearn, hidden_preactivations,
                                                          interval_bounds, lp_bounds, make_network, network_to_arrays,
                                                          predict_class, predict_scores, read_model_instance)
from reference_impl.formulations.base import FEASIBILITY_TOL
from reference_impl.instances.generators.networks import det_matmul, trained_linear_model, trained_relu_network
from reference_impl.instances.library import generate
from reference_impl.instances.storage import npz_bytes
from reference_impl.registry import get_formulation

VERIFY = "verification.relu_bigm"
SOLVERS = ["highs", "scip"] + (["gurobi"] if has_gurobi() else [])
TOL = 1e-6


@lru_cache(maxsize=None)
def instance_arrays(instance_id: str) -> dict:
    return dict(generate(instance_id).arrays)


def agrees(value: float, optimum: float, rel: float = 1e-5) -> bool:
    return abs(value - optimum) <= rel * max(1.0, abs(optimum))


# -- the oracle: one LP per activation pattern --------------------------------------------------
def affine_pieces(network: Network, pattern: tuple[int, ...]):
    """For a fixed activation pattern (1 = on, per hidden neuron, layer by layer): the rows
    (G, g) with G x + g ≥ 0 that the pattern needs (a ≥ 0 on, −a ≥ 0 off) and the scores
    S x + s as an affine map of the input."""
    d = network.n_inputs
    A, c = np.eye(d), np.zeros(d)        # current layer's output = A x + c
    rows, consts = [], []
    position = 0
    for W, b in zip(network.weights[:-1], network.biases[:-1]):
        pre_A, pre_c = W @ A, W @ c + b
        on = np.array(pattern[position:position + W.shape[0]], dtype=float)
        position += W.shape[0]
        sign = np.where(on > 0, 1.0, -1.0)
        rows.append(sign[:, None] * pre_A)
        consts.append(sign * pre_c)
        A, c = on[:, None] * pre_A, on * pre_c
    W, b = network.output_weights
    G = np.vstack(rows) if rows else np.zeros((0, d))
    g = np.concatenate(consts) if consts else np.zeros(0)
    return G, g, W @ A, W @ c + b


def pattern_lp(network, pattern, x_bar, lower, upper, target, margin, norm, fixed=None, cost=None):
    """min ‖x − x̄‖ (linf or weighted l1) over the pattern's polyhedron, the box and the target's
    win; ``fixed``: features held at x̄. Returns (value, x) or (inf, None)."""
    d = len(x_bar)
    G, g, S, s = affine_pieces(network, pattern)
    others = [j for j in range(S.shape[0]) if j != target]
    # variables: x (d), then t (1 for linf, d for l1)
    n_t = 1 if norm == "linf" else d
    A_ub, b_ub = [], []
    for row, const in zip(G, g):                       # G x + g ≥ 0
        A_ub.append(np.concatenate([-row, np.zeros(n_t)]))
        b_ub.append(const)
    for j in others:                                   # (S_t − S_j) x + (s_t − s_j) ≥ margin
        A_ub.append(np.concatenate([-(S[target] - S[j]), np.zeros(n_t)]))
        b_ub.append(s[target] - s[j] - margin)
    for i in range(d):                                 # ±(x_i − x̄_i) ≤ t
        for sign in (1.0, -1.0):
            row = np.zeros(d + n_t)
            row[i] = sign
            row[d + (0 if norm == "linf" else i)] = -1.0
            A_ub.append(row)
            b_ub.append(sign * x_bar[i])
    bounds = [(float(lower[i]), float(upper[i])) for i in range(d)] + [(0, None)] * n_t
    for i in fixed if fixed is not None else []:
        bounds[i] = (float(x_bar[i]), float(x_bar[i]))
    c = np.concatenate([np.zeros(d), np.ones(n_t) if cost is None else cost])
    result = linprog(c, A_ub=np.array(A_ub), b_ub=np.array(b_ub), bounds=bounds, method="highs")
    if result.status != 0:
        return np.inf, None
    return float(result.fun), result.x[:d]


def enumerate_patterns(network: Network, x_bar, lower, upper, target, margin, norm):
    """min over all 2^(hidden neurons) activation patterns: (optimum, argmin x)."""
    best = (np.inf, None)
    for pattern in itertools.product((0, 1), repeat=network.n_hidden):
        value, x = pattern_lp(network, pattern, x_bar, lower, upper, target, margin, norm)
        if value < best[0]:
            best = (value, x)
    return best


# -- (a) brute force ----------------------------------------------------------------------------
CASES = [("relu-d2-h4-c2", "linf", "interval"), ("relu-d2-h4-c2", "l1", "lp"),
         ("relu-d3-h6-c3", "linf", "interval"), ("relu-d3-h6-c3", "l1", "interval"),
         ("relu-d4-h6x4-c2", "linf", "lp")]


@pytest.mark.parametrize(("instance_id", "norm", "bounds"), CASES)
def test_milp_optimum_equals_activation_pattern_enumeration(instance_id, norm, bounds):
    arrays = instance_arrays(instance_id)
    model = read_model_instance(generate(instance_id))
    target = model.runner_up()
    optimum, x_star = enumerate_patterns(model.network, model.x_bar, model.lower, model.upper, target, 1e-3, norm)
    assert np.isfinite(optimum) and predict_class(model.network, x_star) == target  # the oracle is sane
    for solver in SOLVERS:
        record = solve(VERIFY, arrays, solver=solver, time_limit=60, norm=norm, bounds=bounds)
        assert record.status == "optimal", (solver, record.message)
        assert agrees(record.objective, optimum), (solver, record.objective, optimum)
        assert record.max_violation <= FEASIBILITY_TOL
        assert record.extra["predicted_class"] == target and record.extra["original_class"] == model.predicted


@pytest.mark.parametrize("target", [1, 2])
def test_every_target_class_of_a_three_class_net(target):
    instance_id = "relu-d3-h6-c3"
    model = read_model_instance(generate(instance_id))
    assert model.predicted == 0
    optimum, _ = enumerate_patterns(model.network, model.x_bar, model.lower, model.upper, target, 0.05, "linf")
    values = [solve(VERIFY, instance_arrays(instance_id), solver=s, time_limit=60, target=target, margin=0.05).objective
              for s in ("highs", "scip")]
    assert all(agrees(v, optimum) for v in values), (values, optimum)


def test_larger_margin_needs_a_larger_perturbation():
    arrays = instance_arrays("relu-d2-h4-c2")
    small = solve(VERIFY, arrays, solver="highs", margin=0.0).objective
    large = solve(VERIFY, arrays, solver="highs", margin=0.5).objective
    assert large > small + 1e-3


# -- (b) the solver's point against independent forward passes --------------------------------
def test_adversarial_point_of_a_scikit_learn_mlp():
    from sklearn.neural_network import MLPClassifier

    data = trained_relu_network(60, 2, [4], n_classes=3, seed=5)
    X, y = data["X"], data["y"].astype(int)
    mlp = MLPClassifier(hidden_layer_sizes=(5,), activation="relu", max_iter=3000, random_state=0).fit(X, y)
    network = from_sklearn(mlp)
    assert np.array_equal(mlp.classes_[predict_class(network, X)], mlp.predict(X))
    x_bar = X[np.flatnonzero(mlp.predict(X) == y)[0]]
    arrays = {**network_to_arrays(network), "X": X, "y": data["y"], "x_bar": x_bar,
              "x_lower": data["x_lower"], "x_upper": data["x_upper"]}
    start = int(mlp.predict(x_bar[None])[0])
    solved = 0
    for target in sorted(set(range(3)) - {start}):
        solution: dict = {}
        record = solve(VERIFY, arrays, solver="scip", time_limit=60, target=target, margin=1e-2, solution_out=solution)
        if record.status == "infeasible":
            continue
        assert record.status == "optimal", record.message
        x_adv = x_bar + solution["u"]
        assert int(mlp.predict(x_adv[None])[0]) == target
        assert agrees(record.objective, float(np.max(np.abs(solution["u"]))))
        solved += 1
    assert solved >= 1


def test_from_sklearn_linear_models():
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import LinearSVC

    data = trained_relu_network(60, 3, [4], n_classes=3, seed=2)
    X, y = data["X"], data["y"].astype(int)
    for labels in (y, (y == 1).astype(int)):
        for estimator in (LogisticRegression(max_iter=1000), LinearSVC()):
            fitted = estimator.fit(X, labels)
            network = from_sklearn(fitted)
            assert network.n_hidden == 0
            assert np.array_equal(fitted.classes_[predict_class(network, X)], fitted.predict(X))


# -- (c) the bounds ---------------------------------------------------------------------------------
@pytest.mark.parametrize("instance_id", ["relu-d4-h6x4-c2", "relu-d6-h8x8-c3"])
def test_bounds_contain_sampled_preactivations_and_lp_is_tighter(instance_id):
    model = read_model_instance(generate(instance_id))
    network = model.network
    interval = interval_bounds(network, model.lower, model.upper)
    lp = lp_bounds(network, model.lower, model.upper)
    rng = np.random.default_rng(0)
    samples = rng.uniform(model.lower, model.upper, size=(2000, network.n_inputs))
    corners = np.array(list(itertools.product(*zip(model.lower, model.upper))))
    for x in np.vstack([samples, corners, model.x_bar[None]]):
        for (l_int, u_int), (l_lp, u_lp), a in zip(interval, lp, hidden_preactivations(network, x)):
            assert np.all(l_lp <= a + 1e-9) and np.all(a <= u_lp + 1e-9)
    widths_interval = sum(float(np.sum(u - l)) for l, u in interval)
    widths_lp = sum(float(np.sum(u - l)) for l, u in lp)
    for (l_int, u_int), (l_lp, u_lp) in zip(interval, lp):
        assert np.all(l_lp >= l_int) and np.all(u_lp <= u_int)
    assert np.allclose(interval[0][0], lp[0][0]) and np.allclose(interval[0][1], lp[0][1])  # exact on layer 1
    assert widths_lp < widths_interval - 1.0


def test_only_unstable_neurons_get_a_free_binary():
    """Stable neurons (bounds of one sign) are fixed: one free binary per unstable neuron only."""
    import pyomo.environ as pyo

    from reference_impl.instances import resolve_instance

    arrays = dict(instance_arrays("relu-d2-h4-c2"))
    network = read_model_instance(generate("relu-d2-h4-c2")).network
    formulation = get_formulation(VERIFY)
    counts = []
    for radius in (3.0, 0.8, 0.05):
        box = {"x_lower": arrays["x_bar"] - radius, "x_upper": arrays["x_bar"] + radius}
        instance = resolve_instance({**arrays, **box})
        built = formulation.build(instance, formulation.validate(instance, {}))
        free = [v for v in built.component_data_objects(pyo.Var) if v.is_binary() and not v.fixed]
        unstable = sum(int(np.sum((l < 0) & (u > 0))) for l, u in interval_bounds(network, box["x_lower"],
                                                                                  box["x_upper"]))
        assert len(free) == unstable
        counts.append(unstable)
    assert counts[0] > counts[-1] and counts[-1] == 0


# -- (d) the evaluator -----------------------------------------------------------------------------
def _solved(instance_id="relu-d2-h4-c2", **params):
    arrays = instance_arrays(instance_id)
    solution: dict = {}
    record = solve(VERIFY, arrays, solver="highs", time_limit=60, solution_out=solution, **params)
    assert record.status == "optimal"
    formulation = get_formulation(VERIFY)
    from reference_impl.instances import resolve_instance

    instance = resolve_instance(arrays)
    return formulation, instance, formulation.validate(instance, dict(params)), solution, record


def test_evaluator_recomputes_and_flags():
    formulation, instance, params, solution, record = _solved()
    base = formulation.evaluate(instance, params, solution)
    assert base.feasible and agrees(base.objective, record.objective)
    assert agrees(base.objective, float(np.max(np.abs(solution["u"]))))
    shrunk = {**solution, "u": 0.5 * solution["u"]}     # not far enough: the target loses
    ev = formulation.evaluate(instance, params, shrunk)
    assert ev.violations["target_margin"] > 1e-3 and not ev.feasible
    flipped = {**solution, "active": 1.0 - solution["active"]}
    assert formulation.evaluate(instance, params, flipped).violations["activation_link"] > FEASIBILITY_TOL
    half = {**solution, "active": np.full_like(solution["active"], 0.5)}
    assert formulation.evaluate(instance, params, half).violations["activation_integrality"] == 0.5
    wrong_h = {**solution, "h": solution["h"] + 0.1}
    assert formulation.evaluate(instance, params, wrong_h).violations["relu_value"] == pytest.approx(0.1)
    outside = {**solution, "u": solution["u"] + 10.0}
    assert formulation.evaluate(instance, params, outside).violations["input_box"] > 1.0
    l1 = formulation.evaluate(instance, {**params, "norm": "l1"}, solution)
    assert agrees(l1.objective, float(np.sum(np.abs(solution["u"]))))
    with pytest.raises(InputError, match="length"):
        formulation.evaluate(instance, params, {**solution, "u": solution["u"][:1]})
    nan = formulation.evaluate(instance, params, {**solution, "u": np.full_like(solution["u"], np.nan)})
    assert not nan.feasible


def test_evaluator_flags_a_point_that_only_ties():
    formulation, instance, params, solution, _ = _solved(margin=0.0)
    params = {**params, "margin": 0.2}
    assert formulation.evaluate(instance, params, solution).violations["target_margin"] == pytest.approx(0.2, abs=1e-5)


# -- (e) bad input and infeasibility ----------------------------------------------------------------
def test_bad_input_is_one_input_error():
    arrays = instance_arrays("relu-d2-h4-c2")
    model = read_model_instance(generate("relu-d2-h4-c2"))
    cases = [
        ({"target": model.predicted}, "already predicted as class"),
        ({"target": 2}, "must be <= 1"),
        ({"target": 0.5}, "integer"),
        ({"norm": "l2"}, "norm must be one of linf, l1"),
        ({"bounds": "crown"}, "bounds must be one of interval, lp"),
        ({"margin": -1.0}, "margin must be >= 0"),
        ({"nosuch": 1}, "nosuch"),
    ]
    for params, match in cases:
        with pytest.raises(InputError, match=match):
            solve(VERIFY, arrays, solver="highs", **params)
    shapes = [
        ({"W1": arrays["W1"][:, :3]}, "W1 takes 3 inputs but layer 0 has 4 outputs"),
        ({"b0": arrays["b0"][:2]}, "b0 must have shape"),
        ({"x_bar": arrays["x_bar"][:1]}, "x_bar must have shape"),
        ({"x_lower": arrays["x_upper"] + 1}, "input box is empty"),
        ({"x_bar": arrays["x_upper"] + 1}, "outside the input box"),
        ({"W0": np.full_like(arrays["W0"], np.nan)}, "NaN"),
    ]
    for change, match in shapes:
        with pytest.raises(InputError, match=match):
            solve(VERIFY, {**arrays, **change}, solver="highs")
    no_model = {k: v for k, v in arrays.items() if not k.startswith(("W", "b"))}
    with pytest.raises(InputError, match="no trained model"):
        solve(VERIFY, no_model, solver="highs")


def test_unsupported_models_name_the_supported_ones():
    from sklearn.neural_network import MLPClassifier
    from sklearn.neighbors import KNeighborsClassifier

    X = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0], [1.0, 0.0]])
    y = np.array([0, 1, 1, 0])
    tanh = MLPClassifier(hidden_layer_sizes=(3,), activation="tanh", max_iter=50).fit(X, y)
    with pytest.raises(InputError, match="activation='tanh' is not supported.*supported: MLPClassifier"):
        from_sklearn(tanh)
    with pytest.raises(InputError, match="cannot embed a KNeighborsClassifier: supported models are"):
        from_sklearn(KNeighborsClassifier(n_neighbors=1).fit(X, y))
    with pytest.raises(InputError, match="not fitted"):
        from_sklearn(MLPClassifier())
    with pytest.raises(InputError, match="one bias per weight matrix"):
        make_network([np.ones((2, 2))], [])


def test_cli_target_equal_to_prediction_exits_2(capsys):
    from reference_impl.cli import main

    model = read_model_instance(generate("relu-d2-h4-c2"))
    assert main(["solve", VERIFY, "--instance", "relu-d2-h4-c2", "--solver", "highs",
                 "--param", f"target={model.predicted}"]) == 2
    err = capsys.readouterr().err
    assert "already predicted as class" in err and "Traceback" not in err


def test_no_adversarial_point_in_a_small_box_is_infeasible():
    arrays = dict(instance_arrays("relu-d2-h4-c2"))
    x_bar = arrays["x_bar"]
    arrays.update(x_lower=x_bar - 0.05, x_upper=x_bar + 0.05)
    model = read_model_instance(generate("relu-d2-h4-c2"))
    oracle, _ = enumerate_patterns(model.network, x_bar, x_bar - 0.05, x_bar + 0.05, model.runner_up(), 1e-3, "linf")
    assert oracle == np.inf
    for solver in ("highs", "scip"):
        assert solve(VERIFY, arrays, solver=solver, time_limit=30).status == "infeasible"


# -- (f) generators ---------------------------------------------------------------------------------
def _digest(arrays) -> str:
    return hashlib.sha256(npz_bytes(arrays)).hexdigest()


def test_generators_are_byte_deterministic():
    for make in (lambda s: trained_relu_network(40, 3, [4, 3], n_classes=3, epochs=60, seed=s),
                 lambda s: trained_linear_model(40, 3, epochs=60, seed=s)):
        assert _digest(make(4)) == _digest(make(4))
        assert _digest(make(4)) != _digest(make(5))
    for instance_id in ("relu-d2-h4-c2", "linear-d3-c2"):
        assert generate(instance_id).sha256 == generate(instance_id).sha256


def test_generated_models_are_what_they_say():
    rng = np.random.default_rng(0)
    A, B = rng.standard_normal((7, 5)), rng.standard_normal((5, 3))
    assert np.allclose(det_matmul(A, B), A @ B, rtol=0, atol=1e-12)
    for instance_id in ("relu-d2-h4-c2", "relu-d3-h6-c3", "relu-d4-h6x4-c2", "relu-d6-h8x8-c3", "linear-d3-c2",
                        "linear-d4-c3"):
        arrays = instance_arrays(instance_id)
        model = read_model_instance(generate(instance_id))
        assert model.predicted == int(arrays["x_bar_class"][0])          # x̄ correctly classified
        accuracy = float(np.mean(predict_class(model.network, arrays["X"]) == arrays["y"]))
        assert accuracy == pytest.approx(float(arrays["train_accuracy"][0])) and accuracy >= 0.8
        for W in (arrays[k] for k in arrays if k.startswith("W")):
            assert np.all(W * 256 == np.round(W * 256))                 # weights on the 1/256 grid
        assert np.all(arrays["X"] >= arrays["x_lower"]) and np.all(arrays["X"] <= arrays["x_upper"])
    binary = read_model_instance(generate("linear-d3-c2")).network
    assert binary.binary and binary.n_classes == 2
    scores = predict_scores(binary, instance_arrays("linear-d3-c2")["X"])
    assert np.all(scores[:, 0] == 0.0)
