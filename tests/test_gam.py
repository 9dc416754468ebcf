"""GAMs (10), (11) and hierarchical categorical features (Carrizosa et al. 2022):
optimality proved by enumerating every admissible support, the grouping / hierarchy / path
constraints checked on every solution, bounds, root relaxations, planted wrong solutions."""
import itertools
import math

import numpy as np
import pytest
from sklearn.preprocessing import SplineTransformer

from bruteforce import box_ridge
from conftest import has_gurobi
from reference_impl import solve
from reference_impl.api import _fill_from_outcome
from reference_impl.errors import InputError
from reference_impl.formulations.base import FEASIBILITY_TOL
from reference_impl.instances import resolve_instance
from reference_impl.instances.library import generate
from reference_impl.instances.storage import npz_bytes
from reference_impl.record import ResultRecord
from reference_impl.registry import get_formulation
from reference_impl.solvers import SolverOutcome

# Gurobi (size-limited license: these models have < 50 variables) certifies the tiny MIQPs in
# milliseconds; SCIP takes seconds on them, so it gets one case per formulation below.
FAST = "gurobi" if has_gurobi() else "scip"


# -- independent oracle ---------------------------------------------------------------------
def enumerate_groups(C, y, groups, admissible, *, k=None, lambda0=0.0, lambda2=0.0, M=math.inf):
    """Optimum over every admissible set of groups (|S| ≤ k): box-constrained ridge on the
    union of the groups' columns + λ0|S|. Returns (value, groups)."""
    best = (math.inf, None)
    q = len(groups)
    for size in range(0, (k if k is not None else q) + 1):
        for chosen in itertools.combinations(range(q), size):
            if not admissible(set(chosen)):
                continue
            columns = sorted(c for g in chosen for c in groups[g])
            _, value = box_ridge(C, y, columns, lambda2, M)
            value += lambda0 * size
            if value < best[0]:
                best = (value, chosen)
    return best


def spline_columns(X, n_knots, degree):
    B = SplineTransformer(n_knots=n_knots, degree=degree, knots="uniform", include_bias=False).fit_transform(X)
    B = B - B.mean(axis=0)
    width = B.shape[1] // X.shape[1]
    return B, [list(range(j * width, (j + 1) * width)) for j in range(X.shape[1])]


def interaction_columns(X):
    d = X.shape[1]
    pairs = [(j, l) for j in range(d) for l in range(j + 1, d)]
    products = np.column_stack([X[:, j] * X[:, l] for j, l in pairs])
    products = (products - products.mean(0)) / products.std(0)
    return np.hstack([X, products]), pairs


def ancestors(parent, node):
    out = []
    while parent[node] != -1:
        out.append(node)
        node = parent[node]
    return out  # root excluded


def categorical_columns(instance):
    parent, category = instance["parent"], instance["category"]
    nodes = [v for v in range(parent.size) if parent[v] != -1]
    N = np.array([[1.0 if v in ancestors(parent, c) else 0.0 for v in nodes] for c in category])
    return np.hstack([instance["X"], N]), nodes


def _solve(formulation, instance, solver=FAST, **params):
    record = solve(formulation, instance, solver=solver, time_limit=60, rel_gap=1e-7, **params)
    assert record.status == "optimal", record.message
    assert record.max_violation <= FEASIBILITY_TOL
    return record


# -- (10) sparse splines ----------------------------------------------------------------------
SPLINE_PARAMS = [{"k": 1}, {"k": 2, "lambda2": 0.05}, {"lambda0": 3.0, "lambda2": 0.1},
                 {"k": 3, "lambda0": 1.0, "n_knots": 3, "degree": 2}]


@pytest.mark.parametrize("params", SPLINE_PARAMS, ids=lambda p: ",".join(f"{k}={v}" for k, v in p.items()))
def test_sparse_splines_match_group_enumeration(params):
    instance = resolve_instance("gam-splines-n60-d4")
    record = _solve("gam.sparse_splines", instance, **params)
    B, groups = spline_columns(instance.X, params.get("n_knots", 4), params.get("degree", 3))
    best, chosen = enumerate_groups(B, instance.y, groups, lambda s: True, k=params.get("k"),
                                    lambda0=params.get("lambda0", 0.0), lambda2=params.get("lambda2", 0.0),
                                    M=record.extra["M"])
    assert record.objective == pytest.approx(best, rel=1e-6)
    assert record.bound <= best * (1 + 1e-6) + 1e-9
    assert sorted(record.extra["support"]) == list(chosen)
    # the grouping: a feature's spline coefficients are all zero unless its indicator is on
    theta = np.asarray(record.extra["theta"])
    for j, columns in enumerate(groups):
        if j not in record.extra["support"]:
            assert np.all(theta[columns] == 0)
        else:
            assert np.any(theta[columns] != 0)
    assert record.extra["M_source"] == "derived"
    assert np.abs(theta).max() < record.extra["M"]


def test_sparse_splines_scip_and_root_relaxation():
    instance = resolve_instance("gam-splines-n60-d4")
    params = {"k": 2, "n_knots": 3, "degree": 2, "lambda2": 0.05}
    record = solve("gam.sparse_splines", instance, solver="scip", time_limit=60, root_relaxation=True, **params)
    assert record.status == "optimal", record.message
    B, groups = spline_columns(instance.X, 3, 2)
    best, chosen = enumerate_groups(B, instance.y, groups, lambda s: True, k=2, lambda2=0.05)
    assert record.objective == pytest.approx(best, rel=2e-4)
    assert record.bound <= best * (1 + 1e-6)
    assert record.extra["selected"] == [f"x{j}" for j in chosen]  # the two active features
    assert sorted(chosen) == [0, 1]
    assert record.root_bound is not None and record.root_bound <= best * (1 + 1e-6)
    assert record.root_gap == pytest.approx(relative(best, record.root_bound), rel=1e-4)


def relative(primal, bound):
    return abs(primal - bound) / abs(primal)


# -- (11) interactions with hierarchy ---------------------------------------------------------
def hierarchy_ok(chosen, pairs, d, kind):
    for t, (j, l) in enumerate(pairs):
        if d + t in chosen:
            if kind == "strong" and not (j in chosen and l in chosen):
                return False
            if kind == "weak" and not (j in chosen or l in chosen):
                return False
    return True


@pytest.mark.parametrize("hierarchy", ["none", "strong", "weak"])
@pytest.mark.parametrize("params", [{"k": 1}, {"k": 4}, {"lambda0": 8.0, "lambda2": 0.1}],
                         ids=lambda p: ",".join(f"{k}={v}" for k, v in p.items()))
def test_interactions_match_enumeration(hierarchy, params):
    instance = resolve_instance("gam-inter-n50-d4")
    record = _solve("gam.interactions", instance, hierarchy=hierarchy, **params)
    C, pairs = interaction_columns(instance.X)
    d = instance.X.shape[1]
    groups = [[c] for c in range(C.shape[1])]
    best, chosen = enumerate_groups(C, instance.y, groups, lambda s: hierarchy_ok(s, pairs, d, hierarchy),
                                    k=params.get("k"), lambda0=params.get("lambda0", 0.0),
                                    lambda2=params.get("lambda2", 0.0), M=record.extra["M"])
    assert record.objective == pytest.approx(best, rel=1e-6)
    assert record.bound <= best * (1 + 1e-6) + 1e-9
    support = set(record.extra["support"])
    assert hierarchy_ok(support, pairs, d, hierarchy)  # the hierarchy holds in the solution
    assert support == set(chosen)


def test_hierarchy_changes_the_optimum():
    """The test instance exercises the constraint: without hierarchy the optimum (k = 4) uses
    x1*x2 without x2; the strong model must not, and pays for it."""
    instance = resolve_instance("gam-inter-n50-d4")
    free = _solve("gam.interactions", instance, k=4, hierarchy="none")
    strong = solve("gam.interactions", instance, solver="scip", time_limit=60, k=4, hierarchy="strong")
    assert strong.status == "optimal", strong.message
    assert "x1*x2" in free.extra["selected"] and "x2" not in free.extra["selected"]
    assert strong.objective > free.objective * 1.5
    for term in strong.extra["selected"]:
        if "*" in term:
            assert all(main in strong.extra["selected"] for main in term.split("*"))


# -- hierarchical categorical -----------------------------------------------------------------
@pytest.mark.parametrize("params", [{"k": 2}, {"k": 3, "lambda2": 0.1}, {"lambda0": 4.0, "lambda2": 0.05}],
                         ids=lambda p: ",".join(f"{k}={v}" for k, v in p.items()))
def test_hierarchical_categorical_matches_enumeration(params):
    instance = resolve_instance("gam-hiercat-n80-b222")
    record = _solve("gam.hierarchical_categorical", instance, **params)
    C, nodes = categorical_columns(instance)
    d, parent = instance.X.shape[1], instance["parent"]
    leaves = [v for v in range(parent.size) if v not in parent]
    position = {v: d + t for t, v in enumerate(nodes)}

    def paths_ok(chosen):
        return all(sum(position[v] in chosen for v in ancestors(parent, leaf)) <= 1 for leaf in leaves)

    groups = [[c] for c in range(C.shape[1])]
    best, chosen = enumerate_groups(C, instance.y, groups, paths_ok, k=params.get("k"),
                                    lambda0=params.get("lambda0", 0.0), lambda2=params.get("lambda2", 0.0),
                                    M=record.extra["M"])
    assert record.objective == pytest.approx(best, rel=1e-6)
    assert record.bound <= best * (1 + 1e-6) + 1e-9
    assert paths_ok(set(record.extra["support"]))  # at most one category on every root-to-leaf path


def test_path_constraint_binds():
    """Without the path constraints the best 3 columns nest (region r0 and one of its leaves);
    the formulation may not, and pays for it. (SCIP needs ~20 s on this MIQP, so the fast
    solver runs here; SCIP is checked on the splines and interactions models.)"""
    instance = resolve_instance("gam-hiercat-n80-b222")
    C, nodes = categorical_columns(instance)
    parent, d = instance["parent"], instance.X.shape[1]
    leaves = [v for v in range(parent.size) if v not in parent]
    position = {v: d + t for t, v in enumerate(nodes)}
    groups = [[c] for c in range(C.shape[1])]
    unconstrained, nested = enumerate_groups(C, instance.y, groups, lambda s: True, k=3, lambda2=0.1)
    assert position[1] in nested  # region r0 with a leaf below it
    best, _ = enumerate_groups(
        C, instance.y, groups,
        lambda s: all(sum(position[v] in s for v in ancestors(parent, leaf)) <= 1 for leaf in leaves),
        k=3, lambda2=0.1)
    record = solve("gam.hierarchical_categorical", instance, solver=FAST, time_limit=60, root_relaxation=True,
                   k=3, lambda2=0.1)
    assert record.status == "optimal", record.message
    assert record.objective == pytest.approx(best, rel=2e-4)
    assert record.objective > unconstrained * 1.05
    assert record.bound <= best * (1 + 1e-6)
    assert record.root_bound is not None and record.root_bound <= best * (1 + 1e-6)


def test_categorical_big_m_is_labelled_heuristic_when_columns_nest():
    instance = resolve_instance("gam-hiercat-n80-b222")
    formulation = get_formulation("gam.hierarchical_categorical")
    assert formulation.validate(instance, {"k": 3})["M_source"] == "heuristic"  # λ2 = 0: nested columns
    assert formulation.validate(instance, {"k": 3, "lambda2": 0.1})["M_source"] == "derived"


# -- evaluators: planted wrong solutions ------------------------------------------------------
def _planted(formulation_id, instance_id, params, make_valid):
    formulation = get_formulation(formulation_id)
    instance = resolve_instance(instance_id)
    validated = formulation.validate(instance, params)
    design = formulation.design(instance, validated)
    theta, z = make_valid(design)
    assert formulation.evaluate(instance, validated, {"theta": theta, "z": z}).feasible
    return formulation, instance, validated, design, theta, z


def _assert_caught(formulation, instance, params, solution, kind):
    evaluation = formulation.evaluate(instance, params, solution)
    assert not evaluation.feasible, kind
    assert evaluation.violations[kind] > FEASIBILITY_TOL, kind


def test_spline_evaluator_catches_partial_groups_and_more():
    def valid(design):
        theta = np.zeros(design.matrix.shape[1])
        theta[design.groups[0]] = 0.3
        z = np.zeros(design.n_groups)
        z[0] = 1
        return theta, z

    f, inst, params, design, theta, z = _planted("gam.sparse_splines", "gam-splines-n60-d4", {"k": 1}, valid)
    leaked = theta.copy()
    leaked[design.groups[2][1]] = 0.2  # one spline coefficient of an unselected feature
    _assert_caught(f, inst, params, {"theta": leaked, "z": z}, "support_link")
    _assert_caught(f, inst, params, {"theta": theta, "z": z + np.eye(design.n_groups)[1]}, "cardinality")
    _assert_caught(f, inst, params, {"theta": theta, "z": z + 0.3 * np.eye(design.n_groups)[1]}, "integrality")
    _assert_caught(f, inst, params, {"theta": theta * 0 + (theta != 0) * 2 * params["M"], "z": z}, "big_m")
    # a solver that claims optimality for such a point is refuted
    record = ResultRecord(formulation=f.id, solver="scip", instance=inst.id, rel_gap=1e-4)
    _fill_from_outcome(record, f, inst, params, SolverOutcome("optimal", has_solution=True, objective=1.0, bound=1.0),
                       {"theta": leaked, "z": z})
    assert record.status == "error" and "evaluator found a violation" in record.message


def test_interaction_evaluator_catches_hierarchy_violations():
    def valid(design):
        theta = np.zeros(design.matrix.shape[1])
        z = np.zeros(design.n_groups)
        theta[[0, 1, 4]] = 0.5  # x0, x1, x0*x1 (group 4 = the first pair)
        z[[0, 1, 4]] = 1
        return theta, z

    f, inst, params, design, theta, z = _planted("gam.interactions", "gam-inter-n50-d4",
                                                 {"k": 4, "hierarchy": "strong"}, valid)
    assert design.group_names[4] == "x0*x1"
    orphan = theta.copy()
    orphan[1] = 0.0
    z_orphan = z.copy()
    z_orphan[1] = 0  # x0*x1 without x1
    _assert_caught(f, inst, params, {"theta": orphan, "z": z_orphan}, "hierarchy")
    weak = f.validate(inst, {"k": 4, "hierarchy": "weak"})
    assert f.evaluate(inst, weak, {"theta": orphan, "z": z_orphan}).feasible  # weak: one main suffices
    none_z = np.zeros(design.n_groups)
    none_z[4] = 1
    _assert_caught(f, inst, weak, {"theta": np.where(np.arange(theta.size) == 4, 0.5, 0.0), "z": none_z}, "hierarchy")


def test_categorical_evaluator_catches_two_categories_on_a_path():
    def valid(design):
        theta = np.zeros(design.matrix.shape[1])
        z = np.zeros(design.n_groups)
        theta[[0, 2]] = 0.5  # x0 and region r0 (first node column)
        z[[0, 2]] = 1
        return theta, z

    f, inst, params, design, theta, z = _planted("gam.hierarchical_categorical", "gam-hiercat-n80-b222",
                                                 {"k": 4, "lambda2": 0.1}, valid)
    assert design.group_names[2] == "r0" and design.group_names[4] == "r0.d0"
    nested = theta.copy()
    nested[4] = 0.3
    _assert_caught(f, inst, params, {"theta": nested, "z": z + np.eye(design.n_groups)[4]}, "path")


# -- inputs and instances ---------------------------------------------------------------------
def test_bad_hyperparameters_and_trees_are_input_errors():
    with pytest.raises(InputError, match="hierarchy must be one of"):
        solve("gam.interactions", "gam-inter-n50-d4", k=2, hierarchy="sideways")
    with pytest.raises(InputError, match="indicator groups"):
        solve("gam.sparse_splines", "gam-splines-n60-d4", k=5)
    with pytest.raises(InputError, match="k \\(cardinality form\\) or lambda0"):
        solve("gam.sparse_splines", "gam-splines-n60-d4")
    data = dict(generate("gam-hiercat-n80-b222").arrays)
    bad = {**data, "parent": np.where(data["parent"] == -1, 3, data["parent"])}
    with pytest.raises(InputError, match="exactly one root"):
        solve("gam.hierarchical_categorical", bad, k=2)
    cyclic = data["parent"].copy()
    cyclic[1] = 3  # r0's parent becomes its own child
    with pytest.raises(InputError, match="cycle"):
        solve("gam.hierarchical_categorical", {**data, "parent": cyclic}, k=2)
    with pytest.raises(InputError, match="leaves"):
        solve("gam.hierarchical_categorical", {**data, "category": np.full_like(data["category"], 1)}, k=2)


def test_gam_generators_are_byte_deterministic():
    for instance_id in ("gam-splines-n60-d4", "gam-inter-n50-d4", "gam-hiercat-n80-b222", "fairreg-n40-p5"):
        assert npz_bytes(generate(instance_id).arrays) == npz_bytes(generate(instance_id).arrays)
        assert abs(generate(instance_id).y.mean()) < 1e-12  # centred: the models have no intercept


def test_heuristic_big_m_is_flagged_in_every_result():
    """λ2 = 0 with nested categorical columns: M is a heuristic; the evaluation says so even
    when M does not bind (it may still cut off the optimum)."""
    instance = resolve_instance("gam-hiercat-n80-b222")
    formulation = get_formulation("gam.hierarchical_categorical")
    params = formulation.validate(instance, {"k": 3})
    design = formulation.design(instance, params)
    solution = {"theta": np.zeros(design.matrix.shape[1]), "z": np.zeros(design.n_groups)}
    info = formulation.evaluate(instance, params, solution).info
    assert info["M_certified"] is False and info["m_binding"] is False
    assert "is a heuristic, not a certified bound" in info["warning"]
    derived = formulation.evaluate(instance, formulation.validate(instance, {"k": 3, "lambda2": 0.1}), solution).info
    assert derived["M_certified"] is True and "warning" not in derived
