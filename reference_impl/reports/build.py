"""Turn a results store into ``report.md`` + ``index.html`` with figures (PNG and SVG) and
CSV tables. Every number in the report is computed by :mod:`.tables` from store rows; the
sections are those registered in :mod:`.sections`, in their order (none is listed here)."""
from __future__ import annotations

import html
import json
from pathlib import Path

from ..errors import DataMissingError
from ..harness.store import ResultsStore
from ..record import GAP_DENOMINATOR_FLOOR
from . import sections, tables

CONVENTIONS = (
    f"Gap = |primal − bound| / max(|primal|, {GAP_DENOMINATOR_FLOOR:g}) (0 when equal, ∞ without an incumbent), "
    "with the primal re-evaluated by the formulation's evaluator. *Solved* = status `optimal` (feasibility and gap "
    "confirmed by miobench, not taken from the solver). Shifted geometric mean (SGM) of time with shift 10 s; "
    "unsolved runs are charged the time limit; `unsupported`, `not_installed` and `size_limited` runs are not "
    "attempts, nor are heuristic runs (status `feasible`: a solution without a bound), which the heuristics "
    "section measures by their primal gap to the best proven bound. Root gap = gap between the best objective found for the problem and the formulation's continuous "
    "relaxation value; `†` marks a relaxation whose solve stopped at its time limit (a valid but weaker "
    "bound). A `*` beside a time marks a run that was not solved."
)


def build_report(store: str | Path, out: str | Path, *, title: str | None = None) -> list[Path]:
    """Write the report for ``store`` into ``out``; return the files written."""
    store_obj = ResultsStore(store)
    raw = store_obj.load()
    if raw.empty:
        raise DataMissingError(f"results store {store} has no rows; run `miobench run` first")
    frame = tables.prepare(raw)
    out = Path(out)
    table_dir = out / "tables"
    table_dir.mkdir(parents=True, exist_ok=True)
    title = title or f"miobench report: {Path(store).name}"

    parts = sections.render(frame, out)  # every registered section, in its order

    provenance = {
        "store": str(store),
        "rows": len(frame),
        "git commits": ", ".join(sorted(frame["git_commit"].dropna().unique())),
        "machines": "; ".join(sorted(frame["machine"].dropna().unique())),
        "solvers": "; ".join(sorted(v for v in frame["solver_version"].dropna().unique() if v)),
        "time limits (s)": ", ".join(f"{v:g}" for v in sorted(frame["time_limit"].dropna().unique())),
    }
    written: list[Path] = []
    for index, part in enumerate(parts):
        if part.table is not None:
            path = table_dir / f"{index:02d}_{_slug(part.section.title)}.csv"
            part.table.to_csv(path, index=False)
            written.append(path)

    md = [f"# {html.escape(title)}", "", "## Provenance", ""]
    md += [f"- **{k}**: {v}" for k, v in provenance.items()]
    md += ["", "## Conventions", "", CONVENTIONS, ""]
    body = [f"<h1>{html.escape(title)}</h1>", "<h2>Provenance</h2><ul>"]
    body += [f"<li><b>{html.escape(k)}</b>: {html.escape(str(v))}</li>" for k, v in provenance.items()]
    body += ["</ul>", "<h2>Conventions</h2>", f"<p>{html.escape(CONVENTIONS)}</p>"]
    for part in parts:
        md += part.section.render_markdown(part)
        body += part.section.render_html(part)
        written += part.figures
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
