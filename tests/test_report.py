"""Reports: render from a store, and every table equals a recomputation from the rows."""
import math

import numpy as np
import pandas as pd
import pytest

from reference_impl.harness.store import ResultsStore
from reference_impl.record import ResultRecord, relative_gap
from reference_impl.reports import tables
from reference_impl.reports.build import build_report


def _record(formulation, solver, instance, status, objective, bound, seconds, root=None, params=None, limit=10.0):
    return ResultRecord(formulation=formulation, solver=solver, instance=instance, status=status, objective=objective,
                        bound=bound, gap=relative_gap(objective, bound), solve_seconds=seconds, time_limit=limit,
                        root_bound=root, params=params or {"k": 3}, run_id=f"{formulation}{solver}{instance}",
                        machine="test machine", solver_version="SCIP x", git_commit="abc")


@pytest.fixture
def synthetic_store(tmp_path):
    store = ResultsStore(tmp_path / "store")
    rows = [
        _record("sparse_regression.l0l2_bigm", "scip", "a", "optimal", 10.0, 10.0, 2.0, root=8.0),
        _record("sparse_regression.perspective", "scip", "a", "optimal", 10.0, 10.0, 1.0, root=9.5),
        _record("sparse_regression.l0l2_bigm", "scip", "b", "time_limit", 20.0, 15.0, 10.0, root=12.0),
        _record("sparse_regression.perspective", "scip", "b", "optimal", 19.0, 19.0, 4.0, root=18.0),
        _record("sparse_regression.perspective", "highs", "b", "unsupported", None, None, None),
        _record("sparse_regression.l0l2_bigm", "gurobi", "b", "time_limit", None, None, 10.0),
    ]
    for row in rows:
        store.write(row)
    return store


def test_tables_equal_recomputation(synthetic_store):
    frame = tables.prepare(synthetic_store.load())
    sgm = tables.sgm_time(frame).set_index(["formulation", "configuration"])
    # by hand: bigm/scip charged 2 s and the 10 s limit; perspective/scip 1 s and 4 s
    expected_bigm = math.exp((math.log(12) + math.log(20)) / 2) - 10
    expected_persp = math.exp((math.log(11) + math.log(14)) / 2) - 10
    assert sgm.loc[("sparse_regression.l0l2_bigm", "scip"), "sgm_seconds"] == pytest.approx(expected_bigm)
    assert sgm.loc[("sparse_regression.perspective", "scip"), "sgm_seconds"] == pytest.approx(expected_persp)
    assert sgm["relative"].min() == pytest.approx(1.0)
    assert ("sparse_regression.perspective", "highs") not in sgm.index  # unsupported = not an attempt
    counts = tables.status_counts(frame).set_index(["formulation", "configuration"])
    assert counts.loc[("sparse_regression.l0l2_bigm", "scip"), "optimal"] == 1
    assert counts.loc[("sparse_regression.l0l2_bigm", "scip"), "time_limit"] == 1
    assert counts["runs"].sum() == len(frame)
    roots = tables.root_strength(frame).set_index(["instance", "formulation"])
    # best objective for instance b is 19 (perspective); big-M root 12 -> (19 - 12) / 19
    assert roots.loc[("b", "sparse_regression.l0l2_bigm"), "root_gap"] == pytest.approx(7 / 19)
    assert roots.loc[("a", "sparse_regression.perspective"), "root_gap"] == pytest.approx(0.05)
    gaps = tables.gap_distribution(frame).set_index(["formulation", "configuration"])
    assert gaps.loc[("sparse_regression.l0l2_bigm", "gurobi"), "no incumbent"] == 1
    assert gaps.loc[("sparse_regression.l0l2_bigm", "scip"), "≤100%"] == 1


def test_report_renders_markdown_html_and_figures(synthetic_store, tmp_path):
    paths = build_report(synthetic_store.directory, tmp_path / "report")
    md = (tmp_path / "report" / "report.md").read_text()
    html = (tmp_path / "report" / "index.html").read_text()
    for text in (md, html):
        assert "Formulation strength: sparse_regression" in text and "test machine" in text
    assert (tmp_path / "report" / "figures" / "root_strength_sparse_regression.svg").exists()
    assert (tmp_path / "report" / "figures" / "sgm_time.png").exists()
    # the CSV of all runs holds every row of the store, traceable by run_id
    runs = pd.read_csv(next(p for p in paths if p.name.endswith("all_runs.csv")))
    assert set(runs["run_id"]) == set(synthetic_store.load()["run_id"])
    side = pd.read_csv(next(p for p in paths if "formulation_strength" in p.name))
    assert {"root gap · l0l2_bigm", "root gap · perspective"} <= set(side.columns)


def test_empty_store_is_a_clear_error(tmp_path):
    from reference_impl.errors import DataMissingError

    with pytest.raises(DataMissingError, match="no rows"):
        build_report(tmp_path / "nothing", tmp_path / "out")


def test_performance_profile_ratios(synthetic_store):
    frame = tables.prepare(synthetic_store.load())
    data = tables.performance_profile(frame, "sparse_regression").set_index(["problem", "configuration"])["ratio"]
    problem_a = next(p for p in data.index.get_level_values(0) if "| a |" in p)
    problem_b = next(p for p in data.index.get_level_values(0) if "| b |" in p)
    assert data[(problem_a, "l0l2_bigm · scip")] == pytest.approx(2.0)  # 2 s vs the best 1 s
    assert data[(problem_a, "perspective · scip")] == pytest.approx(1.0)
    assert data[(problem_b, "l0l2_bigm · scip")] == np.inf  # not solved


def test_speedups_from_one_store(tmp_path):
    store = ResultsStore(tmp_path)
    base = dict(formulation="kglm.perspective", instance="x", params={"k": 3})
    runs = [("bnb", {}, "optimal", 2.0), ("bnb", {"batch_size": 1}, "optimal", 10.0), ("scip", {}, "time_limit", 60.0)]
    for solver, options, status, seconds in runs:
        store.write(ResultRecord(**base, solver=solver, status=status, solve_seconds=seconds, time_limit=60.0,
                                 objective=1.0, bound=1.0, gap=0.0, run_id=f"{solver}{options}",
                                 extra={"solver_options": options} if options else {}))
    table = tables.speedups(tables.prepare(store.load())).set_index("comparison")
    assert table.loc["batched vs sequential", "ratio"] == pytest.approx(5.0)
    assert table.loc["batched vs sequential", "bound"] == "="
    assert table.loc["bnb vs SCIP", "ratio"] == pytest.approx(30.0) and table.loc["bnb vs SCIP", "bound"] == "≥"
    assert "GPU vs CPU" not in table.index


def test_sgm_on_the_problems_every_solver_of_a_formulation_attempted(synthetic_store):
    frame = tables.prepare(synthetic_store.load())
    sgm = tables.sgm_time(frame).set_index(["formulation", "configuration"])
    attempted = frame[frame["attempted"]]
    for formulation, runs in attempted.groupby("formulation"):
        shared = set.intersection(*(set(g["problem"]) for _, g in runs.groupby("solver")))
        for solver, group in runs.groupby("solver"):
            expected = tables.shifted_geometric_mean(group[group["problem"].isin(shared)]["charged_seconds"])
            row = sgm.loc[(formulation, solver)]
            assert row["same_problems"] == len(shared)
            assert row["sgm_same_problems"] == pytest.approx(expected, nan_ok=True)
        assert sgm.loc[formulation, "relative_same_problems"].min() == pytest.approx(1.0)
