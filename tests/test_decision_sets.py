"""Decision sets (tutorial (14), Lawless et al. 2023; FORMULATIONS.md §2): optima proved by
enumerating every decision set within the literal budget, solvers agreeing, monotonicity in the
budget, the evaluator on over-budget / mis-scored / malformed decision sets, bad input and the
printed rules."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from conftest import has_gurobi
from reference_impl import solve
from reference_impl.errors import InputError
from reference_impl.formulations.decision_sets import (candidate_conjunctions, encode_rules, n_candidates, predict_rules,
                                                       rules_from_solution, rules_text)
from reference_impl.instances import resolve_instance
from reference_impl.instances.generators.trees import planted_tree
from reference_impl.registry import get_formulation

ID = "decision_sets.milp"
SOLVERS = ["highs", "scip"] + (["gurobi"] if has_gurobi() else [])
TINY = "trees-planted-n20-p4-d2"


# -- independent oracle: every decision set within the budget -------------------------------------
def oracle_conjunctions(p: int, max_literals: int) -> list[frozenset]:
    """Every conjunction of 1 … max_literals literals, built another way than the module does:
    each feature is absent, x_j = 1 or x_j = 0."""
    out = []
    for choice in itertools.product((None, 1, 0), repeat=p):
        literals = frozenset((j, v) for j, v in enumerate(choice) if v is not None)
        if 1 <= len(literals) <= max_literals:
            out.append(literals)
    return out


def _covers(x, conjunction) -> bool:
    return all(int(x[j]) == v for j, v in conjunction)


def enumerated_optimum(X, positive, complexity: int, max_literals: int) -> tuple[int, int]:
    """max over every set S of conjunctions with Σ_{k∈S} |k| ≤ complexity of the number of samples
    classified correctly (positive iff some k ∈ S covers it), sample by sample; also how many
    sets were enumerated. Coverage as bitmasks (Python ints), no formulation code."""
    conjunctions = oracle_conjunctions(X.shape[1], max_literals)
    masks = [sum(1 << i for i, x in enumerate(X) if _covers(x, c)) for c in conjunctions]
    sizes = [len(c) for c in conjunctions]
    positive_mask = sum(1 << i for i, flag in enumerate(positive) if flag)
    n = len(positive)
    full = (1 << n) - 1
    best, count = -1, 0

    def visit(start: int, budget: int, covered: int) -> None:
        nonlocal best, count
        count += 1
        correct = n - bin((covered ^ positive_mask) & full).count("1")
        best = max(best, correct)
        for k in range(start, len(conjunctions)):
            if sizes[k] <= budget:
                visit(k + 1, budget - sizes[k], covered | masks[k])

    visit(0, complexity, 0)
    return best, count


def _planted(n=24, p=4, seed=1, noise=0.15, **kw):
    data = planted_tree(n, p, 2, noise=noise, seed=seed, **kw)
    return {"X": data["X"], "y": data["y"]}


@pytest.fixture(scope="module")
def tiny():
    return resolve_instance(TINY)


def test_candidates_are_every_conjunction_once():
    for p, L in [(4, 1), (4, 2), (5, 3), (3, 3)]:
        module = [frozenset(c) for c in candidate_conjunctions(p, L)]
        assert len(module) == len(set(module)) == n_candidates(p, L)
        assert set(module) == set(oracle_conjunctions(p, L))
    assert n_candidates(4, 2) == 4 * 2 + 6 * 4


# -- (a) solver optimum = enumerated optimum ----------------------------------------------------
BRUTE_CASES = {
    "tiny": (TINY, 2, [1, 2, 3, 4]),
    "seed1": ({"seed": 1}, 2, [1, 2, 4, 5]),
    "seed3": ({"seed": 3}, 2, [1, 2, 4, 6]),
    "seed3-L3": ({"seed": 3}, 3, [3, 5]),
}


def _case_instance(source):
    return resolve_instance(source) if isinstance(source, str) else resolve_instance(_planted(**source))


@pytest.mark.parametrize("case", list(BRUTE_CASES))
def test_optimum_matches_enumeration(case):
    source, max_literals, budgets = BRUTE_CASES[case]
    instance = _case_instance(source)
    X, positive = instance.X, instance.y == 1
    expected = {}
    for delta in budgets:
        expected[delta], count = enumerated_optimum(X, positive, delta, max_literals)
        assert count > 1
        for solver in SOLVERS:
            record = solve(ID, instance, solver, time_limit=60, rel_gap=1e-9, max_literals=max_literals, complexity=delta)
            assert record.status == "optimal", (solver, record.message)
            assert record.objective == pytest.approx(expected[delta], abs=1e-9), (solver, delta)
            assert record.bound == pytest.approx(expected[delta], abs=1e-3), (solver, delta)
            assert record.extra["literals"] <= delta
    if case != "tiny":  # the budget binds somewhere: the proofs are not of one constant value
        assert len(set(expected.values())) > 1, expected


# -- (b) two solvers agree ------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [4, 5])
def test_solvers_agree(seed):
    instance = _planted(n=40, p=6, seed=seed, noise=0.2)
    for params in ({"max_literals": 2, "complexity": 3}, {"max_literals": 3, "complexity": 5}):
        objectives = {}
        for solver in SOLVERS:
            record = solve(ID, instance, solver, time_limit=60, rel_gap=1e-9, **params)
            if record.status == "size_limited":
                continue
            assert record.status == "optimal", (solver, record.message)
            objectives[solver] = record.objective
        assert len(objectives) >= 2 and max(objectives.values()) - min(objectives.values()) < 1e-9, objectives


# -- (c) a larger budget never worsens the optimum ------------------------------------------------
def test_larger_budget_or_longer_rules_never_worse():
    instance = _planted(n=30, p=5, seed=2, noise=0.2)
    previous = -1.0
    values = []
    for delta in range(1, 7):
        record = solve(ID, instance, "highs", time_limit=60, rel_gap=1e-9, complexity=delta)
        assert record.status == "optimal"
        assert record.objective >= previous - 1e-9
        previous = record.objective
        values.append(record.objective)
    assert values[-1] > values[0]  # the sequence is not flat
    longer = solve(ID, instance, "highs", time_limit=60, rel_gap=1e-9, complexity=4, max_literals=3)
    assert longer.objective >= values[3] - 1e-9  # K grows with max_literals, so the optimum cannot drop


# -- (d) the evaluator ------------------------------------------------------------------------------
def _solution(instance, params, rules, z=None):
    """A solution dict for ``rules`` (lists of (j, v)) built by hand: θ from candidate positions,
    z = classified correctly unless given."""
    p = instance.X.shape[1]
    candidates = [frozenset(c) for c in candidate_conjunctions(p, params["max_literals"])]
    theta = np.zeros(len(candidates))
    for rule in rules:
        theta[candidates.index(frozenset(rule))] = 1.0
    if z is None:
        z = (predict_rules(rules, instance.X) == (instance.y == 1)).astype(float)
    return {"theta": theta, "z": np.asarray(z, dtype=float), "rules": encode_rules(rules, params["max_literals"])}


def _hand_correct(X, y, rules) -> int:
    return sum(int(any(all(int(x[j]) == v for j, v in rule) for rule in rules) == (label == 1)) for x, label in zip(X, y))


def test_evaluator_recomputes_solver_solution(tiny):
    formulation = get_formulation(ID)
    captured = {}

    def capture(instance, params, solution):
        captured.update(params=params, solution=solution)
        return type(formulation).evaluate(formulation, instance, params, solution)

    formulation.evaluate = capture  # an instance attribute over the class's method, removed below
    try:
        record = solve(ID, tiny, "scip", time_limit=60, rel_gap=1e-9, complexity=3)
    finally:
        del formulation.evaluate
    params, solution = captured["params"], captured["solution"]
    rules = rules_from_solution(solution, 4, 2)
    evaluation = formulation.evaluate(tiny, params, solution)
    assert evaluation.feasible, evaluation.violations
    assert evaluation.objective == _hand_correct(tiny.X, tiny.y, rules) == record.objective
    assert record.solver_objective == pytest.approx(record.objective)
    assert rules_from_solution({"theta": solution["theta"]}, 4, 2) == rules  # θ and rules describe one set
    assert evaluation.info["literals"] == sum(len(r) for r in rules) <= 3


def test_evaluator_flags_over_budget_wrong_objective_and_bad_rules(tiny):
    formulation = get_formulation(ID)
    params = formulation.validate(tiny, {"complexity": 3})
    X, y = tiny.X, tiny.y
    good_rules = [[(2, 0)], [(0, 1), (1, 0)]]                       # 3 literals: within the budget
    good = formulation.evaluate(tiny, params, _solution(tiny, params, good_rules))
    assert good.feasible, good.violations
    assert good.objective == _hand_correct(X, y, good_rules)

    over = formulation.evaluate(tiny, params, _solution(tiny, params, good_rules + [[(3, 1)]]))  # 4 literals > 3
    assert not over.feasible and over.violations["complexity"] == pytest.approx(1.0)
    assert over.objective == _hand_correct(X, y, good_rules + [[(3, 1)]])

    # a wrong objective: z claims every sample correct; the evaluator recomputes and flags (14b)/(14c)
    claimed = _solution(tiny, params, good_rules, z=np.ones(X.shape[0]))
    wrong = formulation.evaluate(tiny, params, claimed)
    assert good.objective < X.shape[0]
    assert wrong.objective == good.objective and wrong.info["claimed_correct"] == X.shape[0]
    assert not wrong.feasible
    assert max(wrong.violations["negative_covered"], wrong.violations["positive_uncovered"]) == 1.0

    # rules that are not what θ selects
    mismatch = _solution(tiny, params, good_rules)
    mismatch["rules"] = encode_rules([[(2, 1)], [(0, 1), (1, 0)]], 2)
    assert formulation.evaluate(tiny, params, mismatch).violations["rules_theta"] > 0

    # invalid conjunctions: a feature twice, a feature out of range; a rule listed twice; fractional θ
    for codes, kind in [([[3.0, -3.0]], "conjunction"), ([[9.0, 0.0]], "feature_index")]:
        broken = _solution(tiny, params, [])
        broken["rules"] = np.array(codes)
        assert formulation.evaluate(tiny, params, broken).violations[kind] >= 1, kind
    twice = _solution(tiny, params, [[(2, 0)]])
    twice["rules"] = encode_rules([[(2, 0)], [(2, 0)]], 2)  # one selected candidate listed as two rules
    assert formulation.evaluate(tiny, params, twice).violations["rules_theta"] == 1
    padded = _solution(tiny, params, [])
    padded["rules"] = np.array([[1.0, 2.0, 3.0]])
    with pytest.raises(InputError, match="rules must be"):
        formulation.evaluate(tiny, params, padded)
    fractional = _solution(tiny, params, good_rules)
    fractional["theta"] = fractional["theta"] * 0.5
    assert formulation.evaluate(tiny, params, fractional).violations["integrality"] == 0.5
    with pytest.raises(InputError, match="theta of length 32 and z of length 20"):
        formulation.evaluate(tiny, params, {"theta": np.zeros(3), "z": np.zeros(X.shape[0])})


def test_rule_violations_flag_literal_budget():
    from reference_impl.formulations.decision_sets import rule_violations

    found = rule_violations([[(0, 1), (1, 1), (2, 0)], [(1, 1), (1, 0)], [], [(7, 1)]], p=4, max_literals=2)
    assert found == {"feature_index": 1.0, "conjunction": 2.0, "literal_budget": 1.0}


# -- (e) bad input ----------------------------------------------------------------------------------
def _tiny_arrays(**changes):
    arrays = {"X": np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 1.0], [1.0, 1.0, 0.0], [0.0, 0.0, 0.0]]),
              "y": np.array([1, 0, 1, 0]), "feature_names": np.array(["a", "b", "c"])}
    arrays.update(changes)
    return arrays


BAD = {
    "non-binary column": (_tiny_arrays(X=np.array([[0.0, 1.0, 2.5], [1, 0, 1], [1, 1, 0], [0, 0, 0]])), {},
                          r"column 2 \('c'\) holds 2.5"),
    "max_literals 0": (_tiny_arrays(), {"max_literals": 0}, "max_literals must be >= 1"),
    "max_literals > p": (_tiny_arrays(), {"max_literals": 4}, "max_literals must be <= 3"),
    "max_literals fractional": (_tiny_arrays(), {"max_literals": 1.5}, "max_literals must be an integer"),
    "complexity 0": (_tiny_arrays(), {"complexity": 0}, "complexity must be >= 1"),
    "complexity string": (_tiny_arrays(), {"complexity": "3"}, "complexity must be an integer"),
    "multiclass y": (_tiny_arrays(y=np.array([0, 1, 2, 1])), {}, "give positive_class"),
    "labels 2/5": (_tiny_arrays(y=np.array([2, 5, 2, 5])), {}, "labels y must be 0/1 or -1/"),
    "absent positive_class": (_tiny_arrays(), {"positive_class": 3}, "positive_class 3 does not occur"),
    "boolean positive_class": (_tiny_arrays(), {"positive_class": True}, "positive_class must be a label"),
    "unknown hyperparameter": (_tiny_arrays(), {"delta": 3}, "has no hyperparameter"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_is_one_clear_error(case):
    arrays, params, message = BAD[case]
    with pytest.raises(InputError, match=message):
        solve(ID, arrays, "highs", time_limit=10, **params)


def test_too_many_candidates_refused():
    rng = np.random.default_rng(0)
    arrays = {"X": (rng.random((5, 40)) < 0.5).astype(float), "y": np.array([0, 1, 0, 1, 1])}
    with pytest.raises(InputError, match="candidate conjunctions"):
        get_formulation(ID).validate(resolve_instance(arrays), {"max_literals": 4})


def test_positive_class_one_vs_rest_and_pm_one_labels():
    three = resolve_instance("trees-planted-n40-p5-d2-c3")
    for positive in (0, 2):
        expected, _ = enumerated_optimum(three.X, three.y == positive, 2, 2)
        record = solve(ID, three, "highs", time_limit=60, rel_gap=1e-9, complexity=2, positive_class=positive)
        assert record.status == "optimal" and record.objective == expected
        assert record.extra["rules_text"].startswith(f"predict {positive} if any rule holds, else not {positive}")
    tiny = resolve_instance(TINY)
    pm = {"X": tiny.X, "y": np.where(tiny.y == 1, 1, -1)}
    record = solve(ID, pm, "highs", time_limit=60, rel_gap=1e-9, complexity=2)
    assert record.objective == solve(ID, tiny, "highs", time_limit=60, rel_gap=1e-9, complexity=2).objective
    assert record.extra["rules_text"].startswith("predict 1 if any rule holds, else -1")


def test_cli_solve_and_bad_column_exit_code(tmp_path, capsys):
    from reference_impl.cli import main

    assert main(["solve", ID, "--instance", TINY, "--solver", "highs", "--param", "complexity=2"]) == 0
    bad = tmp_path / "bad.npz"
    np.savez(bad, X=np.array([[0.0, 2.0], [1.0, 0.0]]), y=np.array([0, 1]))
    assert main(["solve", ID, "--instance", str(bad), "--solver", "highs"]) == 2
    assert "column 1 ('x1') holds 2" in capsys.readouterr().err


# -- (f) rules_text -----------------------------------------------------------------------------------
def test_rules_text_uses_feature_names():
    rules = [[(0, 1), (2, 0)], [(1, 1)]]
    text = rules_text(rules, ["age<=30", "priors<=2", "male"])
    assert text.splitlines() == ["predict 1 if any rule holds, else 0:",
                                 "  rule 1: age<=30 AND NOT male",
                                 "  rule 2: priors<=2"]
    assert rules_text(rules).splitlines()[1] == "  rule 1: x0 AND NOT x2"
    assert rules_text([], ["a"], positive="yes", negative="no") == "predict no for every sample (no rule)"


def test_rules_text_of_a_real_data_solve_names_the_loaders_features():
    try:
        compas = resolve_instance("trees-compas-n300")
    except Exception as exc:  # real data not in $MIOBENCH_DATA_DIR
        pytest.skip(f"COMPAS unavailable: {exc}")
    names = compas.feature_names
    record = solve(ID, compas, "highs", time_limit=60, complexity=1)
    assert record.status == "optimal"
    rules = record.extra["rules"]
    assert len(rules) == 1 and len(rules[0]) == 1
    j, v = rules[0][0]
    assert record.extra["rules_text"].splitlines()[1] == f"  rule 1: {'' if v else 'NOT '}{names[j]}"
    # the single literal is the best one: check against every single-literal rule by hand
    best = max(int(np.sum((compas.X[:, jj] == vv) == (compas.y == 1))) for jj in range(compas.X.shape[1]) for vv in (0, 1))
    assert record.objective == max(best, int(np.sum(compas.y == 0)))
