"""Paper figures: each registered figure builds (tiny settings here), its numbers agree across
methods, and a figure whose data is missing says so instead of failing."""
import pandas as pd
import pytest

from reference_impl.errors import DataMissingError
from reference_impl.instances.datafiles import data_dir
from reference_impl.reports.paper import build_figure, figures


def test_every_figure_in_params_yaml_is_registered():
    import yaml
    from pathlib import Path

    params = yaml.safe_load((Path(__file__).resolve().parents[1] / "params.yaml").read_text())
    assert set(params["figures"]) <= set(figures())


def test_gb_batch_size_figure_certifies_the_same_optimum_at_every_batch_size(tmp_path):
    files = build_figure("gb.batch_size", tmp_path, n=40, batch_sizes="1,8,64", time_limit=120.0)
    assert all(path.exists() for path in files)
    table = pd.read_csv(tmp_path / "batch_size.csv")
    assert table["batch_size"].tolist()[:3] == [1, 8, 64]
    assert (table["status"] == "optimal").all()
    assert table["objective"].max() - table["objective"].min() <= 1e-7 * abs(table["objective"].iloc[0])
    sequential = table[table["batch_size"] == 1].iloc[0]
    assert table["speedup_vs_sequential_cpu"].iloc[0] == pytest.approx(1.0)
    assert (table["speedup_vs_sequential_cpu"] * table["seconds"]).round(9).eq(round(sequential["seconds"], 9)).all()
    page = (tmp_path / "page.md").read_text()
    assert "Published and setting" in page and "backends measured" in page


def test_gb_certify_vs_p_figure_agrees_with_scip(tmp_path):
    build_figure("gb.certify_vs_p", tmp_path, sizes="20,30", time_limit=120.0, scip_sizes="20",
                 scip_time_limit=120.0)
    table = pd.read_csv(tmp_path / "certify_vs_p.csv")
    assert set(table["n=p"]) == {20, 30}
    native = table[~table["method"].str.startswith("SCIP")]
    assert (native["status"] == "optimal").all()
    for _, rows in native.groupby("n=p"):
        assert rows["objective"].max() - rows["objective"].min() <= 1e-7 * abs(rows["objective"].iloc[0])
    scip = table[table["method"].str.startswith("SCIP")]
    assert len(scip) == 1 and scip["status"].iloc[0] == "optimal"
    batched = native[(native["n=p"] == 20) & native["method"].str.startswith("batched")]["objective"].iloc[0]
    assert scip["objective"].iloc[0] == pytest.approx(batched, rel=1e-5)


def test_a_figure_without_its_data_writes_a_note_or_raises(tmp_path, monkeypatch):
    monkeypatch.setenv("MIOBENCH_DATA_DIR", str(tmp_path / "empty"))      # no raw data
    monkeypatch.setenv("MIOBENCH_INSTANCE_DIR", str(tmp_path / "library"))  # and no built library
    with pytest.raises(DataMissingError):
        build_figure("tutorial.fig2", tmp_path / "strict")
    files = build_figure("tutorial.fig2", tmp_path / "lenient", skip_missing_data=True)
    assert [path.name for path in files] == ["page.md"]
    assert "Not built" in files[0].read_text()


@pytest.mark.skipif(not (data_dir() / "communities_and_crime").exists(),
                    reason="needs Communities and Crime in MIOBENCH_DATA_DIR")
def test_tutorial_fig2_builds_with_the_published_values_beside_ours(tmp_path):
    build_figure("tutorial.fig2", tmp_path, time_limit=5.0)
    r2 = pd.read_csv(tmp_path / "r2.csv")
    assert len(r2) == 4 and {"r2_ours", "r2_paper"} <= set(r2.columns)
    assert r2["r2_paper"].tolist() == [0.68, 0.62, 0.33, 0.63]
    # OLS on all features fits at least as well as any of the sparse or penalised models.
    assert r2["r2_ours"].iloc[0] == r2["r2_ours"].max()
    coefficients = pd.read_csv(tmp_path / "coefficients.csv", index_col=0)
    assert (coefficients.iloc[:, 3] != 0).sum() <= 4
    assert "R² (paper)" in (tmp_path / "page.md").read_text()


def test_the_paper_setting_overrides_the_quick_defaults(tmp_path):
    from reference_impl.errors import InputError
    from reference_impl.reports import paper

    seen = []
    paper.register_figure("test.setting_probe", paper="-", title="-", paper_setting={"time_limit": 3600.0},
                          time_limit=5.0, size=3)(lambda out, **params: seen.append(params) or [])
    try:
        build_figure("test.setting_probe", tmp_path)
        build_figure("test.setting_probe", tmp_path, setting="paper")
        build_figure("test.setting_probe", tmp_path, setting="paper", size=7)
        with pytest.raises(InputError, match="setting"):
            build_figure("test.setting_probe", tmp_path, setting="full")
    finally:
        paper._FIGURES.pop("test.setting_probe")
    assert seen == [{"time_limit": 5.0, "size": 3}, {"time_limit": 3600.0, "size": 3}, {"time_limit": 3600.0, "size": 7}]
    # every registered figure's paper setting only overrides parameters its quick setting has
    for figure in figures().values():
        assert set(figure.paper_setting) <= set(figure.defaults), figure.id


def test_gb_rashomon_figure_collects_complete_sets_that_start_at_the_certified_optimum(tmp_path):
    build_figure("gb.rashomon", tmp_path, instance="kglm-logit-n60-p12-k3", regression_instance="kglm-ls-n40-p12-k3",
                 k=3, top=15, sequential_top=5, time_limit=60.0)
    summary = pd.read_csv(tmp_path / "summary.csv")
    assert summary["complete"].all() and (summary["models"] >= 15).all()
    # the set's best model is the optimum certified alone through api.solve (evaluator-checked)
    assert (summary["api_solve_status"] == "optimal").all()
    assert ((summary["optimum"] - summary["optimum_by_api_solve"]).abs() <= 1e-4 * summary["optimum"].abs()).all()
    cost = pd.read_csv(tmp_path / "cost.csv")
    batched_and_sequential = cost[cost["what"].str.startswith("collect the top 5")]
    assert len(batched_and_sequential) == 2
    spread = batched_and_sequential["objective"].max() - batched_and_sequential["objective"].min()
    assert spread <= 1e-9 * abs(cost["objective"].iloc[0])
    metrics = pd.read_csv(tmp_path / "dorothea_metrics.csv")
    assert metrics["objective"].is_monotonic_increasing and metrics["auc"].between(0, 1).all()
    page = (tmp_path / "page.md").read_text()
    assert "Published and setting" in page and "## Provenance" in page and "rebuild: `miobench figures build gb.rashomon" in page
