"""Turn a results store into ``report.md`` + ``index.html`` with figures (PNG and SVG) and
CSV tables. Every number in the report is computed by :mod:`.tables` from store rows."""
from __future__ import annotations

import html
import json
from pathlib import Path

import pandas as pd

from ..errors import DataMissingError
from ..harness.store import ResultsStore
from ..record import GAP_DENOMINATOR_FLOOR
from . import figures, tables

CONVENTIONS = (
    f"Gap = |primal − bound| / max(|primal|, {GAP_DENOMINATOR_FLOOR:g}) (0 when equal, ∞ without an incumbent), "
    "with the primal re-evaluated by the formulation's evaluator. *Solved* = status `optimal` (feasibility and gap "
    "confirmed by miobench, not taken from the solver). Shifted geometric mean (SGM) of time with shift 10 s; "
    "unsolved runs are charged the time limit; `unsupported`, `not_installed` and `size_limited` runs are not "
    "attempts. Root gap = gap between the best objective found for the problem and the formulation's continuous "
    "relaxation value; `†` marks a relaxation whose solve stopped at its time limit (a valid but weaker "
    "bound). A `*` beside a time marks a run that was not solved."
)


def _md(frame: pd.DataFrame) -> str:
    return frame.to_markdown(index=False, floatfmt=".4g") if not frame.empty else "_no rows_"


def _html_table(frame: pd.DataFrame) -> str:
    return frame.to_html(index=False, float_format=lambda v: f"{v:.4g}", na_rep="", border=0, classes="t") \
        if not frame.empty else "<p><em>no rows</em></p>"


def _with_marks(times: pd.DataFrame, marks: pd.DataFrame) -> pd.DataFrame:
    shown = times.copy()
    for column in marks.columns:
        if column in shown.columns:
            shown[column] = [
                "" if pd.isna(v) else f"{v:.3g}{marks.loc[(i, p), column] if (i, p) in marks.index and isinstance(marks.loc[(i, p), column], str) else ''}"
                for i, p, v in zip(shown["instance"], shown["params_label"], shown[column])
            ]
    return shown


def build_report(store: str | Path, out: str | Path, *, title: str | None = None) -> list[Path]:
    """Write the report for ``store`` into ``out``; return the files written."""
    store_obj = ResultsStore(store)
    raw = store_obj.load()
    if raw.empty:
        raise DataMissingError(f"results store {store} has no rows; run `miobench run` first")
    frame = tables.prepare(raw)
    out = Path(out)
    fig_dir, table_dir = out / "figures", out / "tables"
    table_dir.mkdir(parents=True, exist_ok=True)
    title = title or f"miobench report: {Path(store).name}"

    sections: list[tuple[str, str, pd.DataFrame | None, list[Path]]] = []
    sections.append(("Status counts", "Runs per formulation and solver, by final status.", tables.status_counts(frame), []))
    sections.append(("Time (shifted geometric mean)", "Scaled so that the fastest formulation × solver is 1.0 (`relative`, over each one's own runs); `relative_same_problems` compares the solvers of one formulation on the problems all of them attempted.",
                     tables.sgm_time(frame), figures.sgm_time(frame, fig_dir)))
    sections.append(("Final gap distribution", "Attempted runs by final gap.", tables.gap_distribution(frame),
                     figures.gap_distribution(frame, fig_dir)))
    for family in sorted(frame["family"].unique()):
        roots = tables.root_strength(frame[frame["family"] == family])
        if roots.empty:
            continue
        side, marks = tables.strength_vs_time(frame, family)
        sections.append((f"Formulation strength: {family}",
                         "Root relaxation of each formulation of the same problem, with the solve time of each "
                         "formulation × solver beside it (the tutorial's claim: a stronger relaxation is easier to solve).",
                         _with_marks(side, marks),
                         figures.root_strength(frame, fig_dir, family) + figures.strength_vs_time(frame, fig_dir, family)))
        sections.append((f"Root relaxations: {family}", "Per formulation and problem.",
                         roots.drop(columns=["problem", "family"]), []))
        profile = figures.performance_profile(frame, fig_dir, family)
        if profile:
            ratios = tables.performance_profile(frame, family).pivot_table(
                index="problem", columns="configuration", values="ratio", aggfunc="first").reset_index()
            sections.append((f"Performance profile: {family}",
                             "Dolan–Moré performance profile: for each configuration (formulation · solver), the share "
                             "of problems it solves within τ times the fastest configuration's time (∞ = not solved).",
                             ratios, profile))
    speedup_table = tables.speedups(frame)
    if not speedup_table.empty:
        sections.append(("Speedups", "Time ratios baseline / target on the same problem, from this store's runs "
                         "(`≥`: the baseline did not solve within its limit, which it is charged).", speedup_table, []))
    integrals = tables.primal_dual_integral(frame)
    if not integrals.empty:
        sections.append(("Progress: primal and dual bounds over time",
                         "For runs whose solver reports its progress (the native solver records every change of its "
                         "incumbent and of its valid lower bound). Primal-dual integral (Berthold 2013): ∫ min(1, gap(t)) "
                         "dt in seconds, lower is better.", integrals, figures.progress(frame, fig_dir)))
    budget = tables.time_budget(frame)
    if not budget.empty:
        sections.append(("Time budget", "`time_limit` bounds the solver call (twice the limit when the root relaxation "
                         "is also solved). Start-up, loading, checks, model building and evaluation are outside it: "
                         "each run's overshoot is its wall time past that budget (the harness kills a run at budget + "
                         "grace).", budget, []))
    sections.append(("All runs", "One row per run of the store (`run_id` identifies the row).", tables.runs_table(frame), []))

    provenance = {
        "store": str(store),
        "rows": len(frame),
        "git commits": ", ".join(sorted(frame["git_commit"].dropna().unique())),
        "machines": "; ".join(sorted(frame["machine"].dropna().unique())),
        "solvers": "; ".join(sorted(v for v in frame["solver_version"].dropna().unique() if v)),
        "time limits (s)": ", ".join(f"{v:g}" for v in sorted(frame["time_limit"].dropna().unique())),
    }
    written: list[Path] = []
    for index, (name, _, table, _) in enumerate(sections):
        if table is not None:
            path = table_dir / f"{index:02d}_{_slug(name)}.csv"
            table.to_csv(path, index=False)
            written.append(path)

    md = [f"# {html.escape(title)}", "", "## Provenance", ""]
    md += [f"- **{k}**: {v}" for k, v in provenance.items()]
    md += ["", "## Conventions", "", CONVENTIONS, ""]
    body = [f"<h1>{html.escape(title)}</h1>", "<h2>Provenance</h2><ul>"]
    body += [f"<li><b>{html.escape(k)}</b>: {html.escape(str(v))}</li>" for k, v in provenance.items()]
    body += ["</ul>", "<h2>Conventions</h2>", f"<p>{html.escape(CONVENTIONS)}</p>"]
    for name, text, table, figs in sections:
        md += [f"## {name}", "", text, ""]
        body += [f"<h2>{html.escape(name)}</h2>", f"<p>{html.escape(text)}</p>"]
        for fig in figs:
            if fig.suffix == ".png":
                rel = fig.relative_to(out).as_posix()
                md += [f"![{fig.stem}]({rel})", ""]
                body += [f'<p><img src="{rel[:-4]}.svg" alt="{fig.stem}"></p>']
        if table is not None:
            md += [_md(table), ""]
            body += [_html_table(table)]
        written += figs
    (out / "report.md").write_text("\n".join(md) + "\n")
    (out / "index.html").write_text(_HTML.format(title=html.escape(title), body="\n".join(body)))
    (out / "provenance.json").write_text(json.dumps(provenance, indent=2) + "\n")
    return [out / "report.md", out / "index.html", *written]


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in text.lower()).strip("_")


_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1200px; color: #222; }}
table.t {{ border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0 1.5em; }}
table.t th, table.t td {{ padding: 3px 8px; border-bottom: 1px solid #ddd; text-align: right; }}
table.t th {{ background: #f3f3f3; }}
img {{ max-width: 100%; }}
</style></head><body>
{body}
</body></html>
"""
