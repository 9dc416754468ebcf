"""Reports keep solver configurations, big-M values and run settings apart; bounds respect the sense."""
import math

import pandas as pd
import pytest
import pyomo.environ as pyo

from reference_impl.record import ResultRecord
from reference_impl.reports import tables
from reference_impl.solvers import relaxation
from reference_impl.solvers.outcome import SolverOutcome


def _frame(records: list[ResultRecord]) -> pd.DataFrame:
    return tables.prepare(pd.DataFrame([r.to_row() for r in records]))


def _run(run_id, solver="bnb", options=None, seconds=1.0, params=None, time_limit=60.0, extra=None,
         formulation="kglm.perspective", objective=1.0, status="optimal", instance="dorothea"):
    extra = dict(extra or {})
    if options:
        extra["solver_options"] = options
    return ResultRecord(formulation=formulation, solver=solver, instance=instance, status=status, run_id=run_id,
                        objective=objective, bound=objective, gap=0.0, solve_seconds=seconds,
                        time_limit=time_limit, params=params if params is not None else {"k": 5, "M": 2.0},
                        extra=extra)


def test_batched_and_sequential_bnb_are_separate_entries():
    frame = _frame([_run("a", options={"batch_size": 1}, seconds=5.19),
                    _run("b", options={"batch_size": 256}, seconds=2.24), _run("c", solver="scip", seconds=30)])
    sgm = tables.sgm_time(frame).set_index("configuration")
    assert set(sgm.index) == {"bnb[batch_size=1]", "bnb[batch_size=256]", "scip"}
    assert math.isclose(sgm.loc["bnb[batch_size=1]", "sgm_seconds"], 5.19)
    assert math.isclose(sgm.loc["bnb[batch_size=256]", "sgm_seconds"], 2.24)
    counts = tables.status_counts(frame)
    assert len(counts) == 3 and set(counts["configuration"]) == set(sgm.index)
    assert len(tables.gap_distribution(frame)) == 3
    side, _ = tables.strength_vs_time(frame, "kglm")
    assert {"time s · perspective · bnb[batch_size=1]", "time s · perspective · bnb[batch_size=256]"} <= set(side.columns)
    profile = tables.performance_profile(frame, "kglm")
    assert profile["configuration"].nunique() == 3


def test_problems_are_keyed_by_the_big_m():
    frame = _frame([_run("a", params={"k": 5, "M": 1.0}, objective=3.0),
                    _run("b", params={"k": 5, "M": 2.0}, objective=2.0),
                    _run("c", params={"k": 5}, extra={"M_source": "derived"}, objective=1.5),
                    _run("d", params={"k": 5}, extra={"M_source": "heuristic"}, objective=1.7)])
    assert frame["problem"].nunique() == 4
    assert {"M=1, k=5", "M=2, k=5", "M=derived, k=5", "M=heuristic, k=5"} == set(frame["params_label"])
    best = tables.best_objectives(frame)
    assert sorted(best.to_list()) == [1.5, 1.7, 2.0, 3.0]


def test_two_time_limits_are_reported_apart():
    frame = _frame([_run("a", solver="scip", time_limit=20, status="time_limit", seconds=20),
                    _run("b", solver="scip", time_limit=120, seconds=50), _run("c", time_limit=20)])
    sgm = tables.sgm_time(frame).set_index("configuration")
    assert {"scip@time_limit=20", "scip@time_limit=120", "bnb"} == set(sgm.index)


def test_speedups_compare_configurations_under_the_same_settings():
    frame = _frame([_run("a", options={"batch_size": 1}, seconds=6.0), _run("b", options={"batch_size": 256}, seconds=2.0)])
    table = tables.speedups(frame)
    assert list(table["comparison"]) == ["batched vs sequential"] and math.isclose(table["ratio"].iloc[0], 3.0)


def test_best_objective_of_a_maximisation_problem_is_the_largest():
    runs = [_run(i, formulation="binarized.mip", solver=s, objective=v, params={"B": 2}, instance="flags")
            for i, s, v in (("a", "highs", 10.0), ("b", "scip", 12.0))]
    assert tables.best_objectives(_frame(runs)).iloc[0] == 12.0


def test_relaxation_fallback_bound_is_valid_for_maximisation(monkeypatch):
    model = pyo.ConcreteModel()
    model.x = pyo.Var(within=pyo.Binary)
    model.obj = pyo.Objective(expr=10 * model.x, sense=pyo.maximize)

    def no_dual_bound(*args, **kwargs):
        return SolverOutcome(status="optimal", objective=10.0, bound=None, seconds=0.0)

    monkeypatch.setattr(relaxation, "solve_model", no_dual_bound)
    outcome = relaxation.relaxation_bound(model, "MILP", rel_gap=1e-4)
    assert outcome.bound >= 10.0  # an upper bound on a maximisation's optimum
    model.obj.sense = pyo.minimize
    assert relaxation.relaxation_bound(model, "MILP", rel_gap=1e-4).bound <= 10.0


def test_runs_without_a_solution_share_the_problem_of_the_derived_m():
    """A size-limited or unsupported run has no evaluation (no M_source in extra), but its
    effective hyperparameters say where M came from: it belongs to the same problem."""
    frame = _frame([_run("a", params={"k": 5}, extra={"M_source": "derived", "effective_params": {"M_source": "derived"}}),
                    _run("b", params={"k": 5}, status="size_limited", objective=None,
                         extra={"effective_params": {"M": 1.2, "M_source": "derived"}})])
    assert frame["problem"].nunique() == 1


def test_a_relaxations_value_is_a_bound_not_the_best_objective():
    """sparse_pca.sdp_bound shares its problem with sparse_pca.mio; its value (above the optimum of a
    maximisation) bounds the problem and never counts as the best objective found."""
    runs = [_run("mio", formulation="sparse_pca.mio", solver="spca_bnb", objective=6.27, params={"k": 3}, instance="s"),
            _run("sdp", formulation="sparse_pca.sdp_bound", solver="clarabel", objective=6.46, params={"k": 3},
                 instance="s"),
            _run("tp", formulation="sparse_pca.mio", solver="truncated_power", objective=6.20, params={"k": 3},
                 instance="s", status="feasible")]
    frame = _frame(runs)
    assert tables.best_objectives(frame).iloc[0] == 6.27
    assert tables.best_bounds(frame).iloc[0] == 6.27
    gaps = tables.heuristic_gaps(frame)
    assert gaps["gap_to_best_objective"].iloc[0] == pytest.approx(0.07 / 6.20)
