"""Report sections are registered (issue 12, item 4): every one renders, a new one appears in
the report without touching build.py, ids are unique; the README's formulation table agrees
with the formulation and solver registries."""
import itertools
import re
from pathlib import Path

import pytest

from reference_impl.harness.store import ResultsStore
from reference_impl.record import ResultRecord, relative_gap
from reference_impl.reports import sections, tables
from reference_impl.reports.build import build_report

ROOT = Path(__file__).resolve().parents[1]


def _record(formulation, solver, instance, status, objective, bound, seconds, *, root=None, options=None,
            progress=None, overshoot=None, limit=10.0):
    extra = {}
    if options:
        extra["solver_options"] = options
    if progress:
        extra["progress"] = progress
    if overshoot is not None:
        extra["overshoot_seconds"] = overshoot
    return ResultRecord(formulation=formulation, solver=solver, instance=instance, status=status, objective=objective,
                        bound=bound, gap=relative_gap(objective, bound), solve_seconds=seconds, time_limit=limit,
                        root_bound=root, params={"k": 3}, run_id=f"{formulation}{solver}{options}{instance}",
                        machine="test machine", solver_version="SCIP x", git_commit="abc", extra=extra,
                        wall_seconds=None if seconds is None else seconds + 0.5)


@pytest.fixture
def synthetic_store(tmp_path):
    """Small, but with rows for every built-in section (speedups, progress, time budget too)."""
    store = ResultsStore(tmp_path / "store")
    rows = [
        _record("sparse_regression.l0l2_bigm", "scip", "a", "optimal", 10.0, 10.0, 2.0, root=8.0, overshoot=0.5),
        _record("sparse_regression.perspective", "scip", "a", "optimal", 10.0, 10.0, 1.0, root=9.5, overshoot=0.4),
        _record("sparse_regression.l0l2_bigm", "scip", "b", "time_limit", 20.0, 15.0, 10.0, root=12.0),
        _record("sparse_regression.perspective", "scip", "b", "optimal", 19.0, 19.0, 4.0, root=18.0),
        _record("sparse_regression.perspective", "highs", "b", "unsupported", None, None, None),
        _record("sparse_regression.l0l2_bigm", "abess", "b", "feasible", 21.0, None, 0.3),  # a heuristic
        _record("kglm.perspective", "bnb", "x", "optimal", 1.0, 1.0, 2.0, root=0.5,
                progress=[[0.1, 3.0, 0.0], [1.0, 1.5, 0.8], [2.0, 1.0, 1.0]]),
        _record("kglm.perspective", "bnb", "x", "optimal", 1.0, 1.0, 6.0, options={"batch_size": 1}),
        _record("kglm.perspective", "scip", "x", "time_limit", 1.2, 0.7, 10.0, root=0.5),
    ]
    for row in rows:
        store.write(row)
    return store


def test_every_registered_section_renders(synthetic_store, tmp_path):
    frame = tables.prepare(synthetic_store.load())
    out = tmp_path / "parts"
    expanded = sections.expanded(frame)
    # groups expand: one set of per-family sections per family with root relaxations
    assert {s.id for s in expanded} >= {"formulation_strength:kglm", "root_relaxations:sparse_regression"}
    for item in expanded:
        part = item.compute(frame, out / "figures", out)
        assert part is not None, f"section {item.id} is empty on the synthetic store"
        md, body = "\n".join(item.render_markdown(part)), "\n".join(item.render_html(part))
        assert f"## {item.title}" in md and item.title in body, item.id
        if part.table is not None:
            assert not part.table.empty, item.id
    paths = build_report(synthetic_store.directory, tmp_path / "report")
    md = (tmp_path / "report" / "report.md").read_text()
    headings = [line[3:] for line in md.splitlines() if line.startswith("## ")]
    assert headings == ["Provenance", "Conventions", *(s.title for s in expanded)]
    assert sum(p.suffix == ".csv" for p in paths) == sum(s.table is not None for s in expanded)


def test_heuristic_runs_are_measured_against_the_best_proven_bound(synthetic_store):
    """Problem b (one problem for both sparse-regression formulations): SCIP proved 19 (optimal)
    and 15 (time limit); the heuristic's 21 is (21 - 19) / 21 from the best bound, and its
    solution is never counted as solved."""
    frame = tables.prepare(synthetic_store.load())
    table = tables.heuristic_gaps(frame)
    assert len(table) == 1
    row = table.iloc[0]
    assert row["best_bound"] == 19.0 and row["best_objective"] == 19.0
    assert row["primal_gap_to_best_bound"] == pytest.approx(2.0 / 21.0)
    assert not frame.loc[frame["status"] == "feasible", "solved"].any()
    counts = tables.status_counts(frame)
    assert counts.loc[counts["configuration"] == "abess", "feasible"].item() == 1


def test_a_decorated_section_appears_without_editing_build(synthetic_store, tmp_path):
    @sections.section("test_solved_share", "Solved share (test)", "Share of attempted runs solved.", order=85)
    def solved_share(frame):
        return frame[frame["attempted"]].groupby("formulation", as_index=False)["solved"].mean()

    try:
        assert "test_solved_share" in [s.id for s in sections.registered()]
        paths = build_report(synthetic_store.directory, tmp_path / "report")
    finally:
        sections.unregister("test_solved_share")
    md = (tmp_path / "report" / "report.md").read_text()
    headings = [line[3:] for line in md.splitlines() if line.startswith("## ")]
    assert headings.index("Solved share (test)") == headings.index("All runs") - 1  # order 85: before "All runs"
    assert "Share of attempted runs solved." in md
    assert "Solved share (test)" in (tmp_path / "report" / "index.html").read_text()
    assert any(p.name.endswith("_solved_share__test.csv") for p in paths)
    assert "test_solved_share" not in [s.id for s in sections.registered()]


def test_section_ids_are_unique(synthetic_store):
    ids = [s.id for s in sections.registered()]
    assert len(ids) == len(set(ids))
    expanded = [s.id for s in sections.expanded(tables.prepare(synthetic_store.load()))]
    assert len(expanded) == len(set(expanded))
    with pytest.raises(ValueError, match="twice"):
        sections.register(sections.registered()[0])


# --- the README's formulation table -------------------------------------------------------

_ASCII = {"→": "->", "–": "-", "—": "-", "≤": "<=", "≥": ">=", "‖": "||", "θ": "theta", "λ": "lambda"}


def equation_references(text: str) -> set[str]:
    """What an equation cell cites, whatever its wording: equation numbers (ranges expanded),
    sections §, figures, author-year citations and the source prefixes BR / GB."""
    for uni, ascii_ in _ASCII.items():
        text = text.replace(uni, ascii_)
    refs: set[str] = set()
    for first, last in re.findall(r"\((\d+)\)(?:\s*-\s*\((\d+)\))?", text):
        refs.update(f"({n})" for n in range(int(first), int(last or first) + 1))
    refs.update("§" + s.rstrip(".") for s in re.findall(r"§\s*([\d.]+)", text))
    refs.update(f"Figure {n}" for n in re.findall(r"Figure (\d+)", text))
    refs.update(re.findall(r"[A-Z][\w-]+(?: et al\.| & [A-Z][\w-]+)? \d{4}", text))
    refs.update(re.findall(r"\b(BR|GB)\b", text))
    return refs


def _solver_names(cell: str) -> set[str]:
    """``scip, gurobi, kscan (native: one MIQP per size)`` -> {scip, gurobi, kscan}."""
    return {re.sub(r"\(.*?\)", "", item).strip() for item in re.sub(r"\(.*?\)", "", cell).split(",")} - {""}


def readme_formulation_rows() -> dict[str, dict[str, str]]:
    text = (ROOT / "README.md").read_text()
    section = text.split("\n## Formulations", 1)[1].split("\n## ", 1)[0]
    # the section's first table (the solver table of "### Solvers" follows it)
    lines = list(itertools.takewhile(lambda line: line.startswith("|"),
                                     itertools.dropwhile(lambda line: not line.startswith("|"), section.splitlines())))
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    assert header == ["id", "equation", "class", "solvers"], header
    rows: dict[str, dict[str, str]] = {}
    for line in lines[2:]:
        cells = dict(zip(header, (c.strip() for c in line.strip().strip("|").split("|"))))
        key = cells["id"].strip("`")
        assert key not in rows, f"README lists {key} twice"
        rows[key] = cells
    return rows


def test_readme_formulation_table_matches_the_registry():
    from reference_impl.api import capable_solvers
    from reference_impl.registry import formulations

    readme, registry = readme_formulation_rows(), formulations()
    expected = sections.formulation_table_markdown()
    assert set(readme) == set(registry), (
        f"README ids differ: only in README {sorted(set(readme) - set(registry))}, "
        f"only registered {sorted(set(registry) - set(readme))}; the registry renders:\n{expected}")
    problems = []
    for key, formulation in registry.items():
        row, described = readme[key], formulation.describe()
        if equation_references(row["equation"]) != equation_references(described["equation"]):
            problems.append(f"{key}: equation {row['equation']!r} cites {sorted(equation_references(row['equation']))}, "
                            f"the registry {described['equation']!r} cites {sorted(equation_references(described['equation']))}")
        if described["class"] not in [c.strip() for c in row["class"].split("/")]:
            problems.append(f"{key}: class {row['class']!r}, registry {described['class']!r}")
        if _solver_names(row["solvers"]) != set(capable_solvers(formulation)):
            problems.append(f"{key}: solvers {sorted(_solver_names(row['solvers']))}, "
                            f"registry {capable_solvers(formulation)}")
    assert not problems, "\n".join(problems) + "\n\nthe registry renders:\n" + expected


def test_formulation_table_markdown_renders_every_formulation():
    from reference_impl.registry import formulations

    table = sections.formulation_table_markdown()
    lines = table.splitlines()
    assert lines[0] == "| id | equation | class | solvers |" and lines[1] == "|---|---|---|---|"
    assert [line.split("|")[1].strip().strip("`") for line in lines[2:]] == list(formulations())
    assert "| `sparse_regression.l0l2_bigm` | (5)→(6) | MIQP | scip, gurobi, l0bnb |" in lines


def test_a_family_without_root_relaxations_still_gets_its_performance_profile(synthetic_store):
    """A suite run without root relaxations (the peers suite) has no strength or root sections,
    but each family keeps its performance profile."""
    frame = tables.prepare(synthetic_store.load())
    frame["root_bound"] = float("nan")
    ids = [s.id for s in sections.expanded(frame)]
    assert "performance_profile:kglm" in ids and "performance_profile:sparse_regression" in ids
    assert not any(i.startswith(("root_relaxations:", "formulation_strength:")) for i in ids)
