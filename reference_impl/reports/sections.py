"""The report's sections, registered (issue 12, item 4): one :class:`Section` object per
section, with its id, title, explanatory text, the function computing its table from the
prepared store frame (:func:`.tables.prepare`), an optional function drawing its figures and
its Markdown/HTML rendering (shared by default).

Sections register with the :func:`section` decorator (on their table function) or with
:func:`register`; :func:`per_family` registers a section that expands into one group of
sections per problem family. :func:`.build.build_report` renders :func:`registered` in
``order`` (ties: registration order) and keeps no list of its own. A new section is one
decorated function here (or anywhere that is imported before the report is built)::

    @section("solved_share", "Solved share", "Share of attempted runs solved.", order=75)
    def _solved_share(frame):
        return frame[frame["attempted"]].groupby("formulation", as_index=False)["solved"].mean()
"""
from __future__ import annotations

import html
import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Literal

import pandas as pd

from . import figures, tables

TableFunction = Callable[[pd.DataFrame], "pd.DataFrame | None"]
FigureFunction = Callable[[pd.DataFrame, Path], "list[Path]"]

#: ``order`` of a section registered without one: after the built-in sections, before "All runs"
DEFAULT_ORDER = 80.0


@dataclass(frozen=True)
class Rendered:
    """One section of one report: the section, its computed table and figures, the report folder."""

    section: "Section"
    table: pd.DataFrame | None
    figures: list[Path]
    out: Path


def table_markdown(frame: pd.DataFrame) -> str:
    return frame.to_markdown(index=False, floatfmt=".4g") if not frame.empty else "_no rows_"


def table_html(frame: pd.DataFrame) -> str:
    return frame.to_html(index=False, float_format=lambda v: f"{v:.4g}", na_rep="", border=0, classes="t") \
        if not frame.empty else "<p><em>no rows</em></p>"


def default_markdown(part: Rendered) -> list[str]:
    """Heading, text, each figure (its PNG), then the table."""
    lines = [f"## {part.section.title}", "", part.section.text, ""]
    for fig in part.figures:
        if fig.suffix == ".png":
            lines += [f"![{fig.stem}]({fig.relative_to(part.out).as_posix()})", ""]
    if part.table is not None:
        lines += [table_markdown(part.table), ""]
    return lines


def default_html(part: Rendered) -> list[str]:
    """Heading, text, each figure (its SVG), then the table."""
    lines = [f"<h2>{html.escape(part.section.title)}</h2>", f"<p>{html.escape(part.section.text)}</p>"]
    for fig in part.figures:
        if fig.suffix == ".png":
            rel = fig.relative_to(part.out).as_posix()
            lines += [f'<p><img src="{rel[:-4]}.svg" alt="{fig.stem}"></p>']
    if part.table is not None:
        lines += [table_html(part.table)]
    return lines


@dataclass(frozen=True)
class Section:
    """One report section.

    ``table(frame)`` returns its table (``None``: a section without one); ``figures(frame,
    folder)`` draws its figures there and returns their paths. ``requires`` drops the section
    from a report where its ``"table"`` is empty or it draws no ``"figures"``. A section with
    ``expand`` is a group: ``expand(frame)`` yields the sections that take its place (e.g. one
    per family); its own table/figures are unused.
    """

    id: str
    title: str
    text: str = ""
    table: TableFunction | None = None
    figures: FigureFunction | None = None
    requires: Literal["table", "figures"] | None = None
    order: float = DEFAULT_ORDER
    render_markdown: Callable[[Rendered], list[str]] = default_markdown
    render_html: Callable[[Rendered], list[str]] = default_html
    expand: Callable[[pd.DataFrame], Iterable["Section"]] | None = field(default=None, compare=False)

    def compute(self, frame: pd.DataFrame, fig_dir: Path, out: Path) -> Rendered | None:
        """Table, then figures (figures first where they decide); ``None`` where ``requires`` drops the section."""
        if self.requires == "figures":  # its figures decide whether it exists: drawn first
            drawn = self.figures(frame, fig_dir) if self.figures is not None else []
            if not drawn:
                return None
            return Rendered(self, self.table(frame) if self.table is not None else None, drawn, out)
        table = self.table(frame) if self.table is not None else None
        if self.requires == "table" and (table is None or table.empty):
            return None
        drawn = self.figures(frame, fig_dir) if self.figures is not None else []
        return Rendered(self, table, drawn, out)


_SECTIONS: dict[str, Section] = {}


def register(item: Section) -> Section:
    if item.id in _SECTIONS:
        raise ValueError(f"report section id {item.id!r} registered twice")
    _SECTIONS[item.id] = item
    return item


def unregister(section_id: str) -> Section:
    return _SECTIONS.pop(section_id)


def registered() -> list[Section]:
    """Every registered section (groups unexpanded), in report order."""
    position = {key: i for i, key in enumerate(_SECTIONS)}
    return sorted(_SECTIONS.values(), key=lambda s: (s.order, position[s.id]))


def section(id: str, title: str, text: str = "", *, order: float = DEFAULT_ORDER, figures: FigureFunction | None = None,
            requires: Literal["table", "figures"] | None = None, **rendering) -> Callable[[TableFunction], TableFunction]:
    """Decorator: register the decorated ``table(frame)`` function as a section."""
    def decorate(table: TableFunction) -> TableFunction:
        register(Section(id, title, text, table=table, figures=figures, requires=requires, order=order, **rendering))
        return table
    return decorate


def per_family(id: str, title: str = "", *, order: float = DEFAULT_ORDER):
    """Decorator: register ``build(frame, family) -> list[Section]`` as a group that expands,
    for each family of the store (sorted), into the sections it returns."""
    def decorate(build: Callable[[pd.DataFrame, str], list[Section]]):
        def expand(frame: pd.DataFrame) -> Iterable[Section]:
            for family in sorted(frame["family"].unique()):
                yield from build(frame, family)
        register(Section(id, title or id, order=order, expand=expand))
        return build
    return decorate


def expanded(frame: pd.DataFrame) -> list[Section]:
    """The registered sections in report order, groups replaced by their sections."""
    out: list[Section] = []
    for item in registered():
        out.extend(item.expand(frame) if item.expand is not None else [item])
    return out


def render(frame: pd.DataFrame, out: Path) -> list[Rendered]:
    """Compute every section (tables, and figures into ``out/figures``) in report order."""
    fig_dir = Path(out) / "figures"
    parts = (item.compute(frame, fig_dir, Path(out)) for item in expanded(frame))
    return [part for part in parts if part is not None]


# --- the sections -------------------------------------------------------------------------

@section("status_counts", "Status counts", "Runs per formulation and solver, by final status.", order=10)
def _status_counts(frame):
    return tables.status_counts(frame)


@section("sgm_time", "Time (shifted geometric mean)",
         "Scaled so that the fastest formulation × solver is 1.0 (`relative`, over each one's own runs); "
         "`relative_same_problems` compares the solvers of one formulation on the problems all of them attempted.",
         order=20, figures=figures.sgm_time)
def _sgm_time(frame):
    return tables.sgm_time(frame)


@section("gap_distribution", "Final gap distribution", "Attempted runs by final gap.", order=30,
         figures=figures.gap_distribution)
def _gap_distribution(frame):
    return tables.gap_distribution(frame)


def with_marks(times: pd.DataFrame, marks: pd.DataFrame) -> pd.DataFrame:
    """Times formatted to 3 significant digits, each followed by its mark (``*``: not solved)."""
    shown = times.copy()
    for column in marks.columns:
        if column in shown.columns:
            shown[column] = [
                "" if pd.isna(v) else f"{v:.3g}{marks.loc[(i, p), column] if (i, p) in marks.index and isinstance(marks.loc[(i, p), column], str) else ''}"
                for i, p, v in zip(shown["instance"], shown["params_label"], shown[column])
            ]
    return shown


@per_family("per_family", "Per family: formulation strength, root relaxations, performance profile", order=40)
def _family_sections(frame: pd.DataFrame, family: str) -> list[Section]:
    """A family without root relaxations gets no strength or root sections; every family gets its
    performance profile (dropped where no configuration solves a problem)."""
    roots = tables.root_strength(frame[frame["family"] == family])

    def strength(frame):
        side, marks = tables.strength_vs_time(frame, family)
        return with_marks(side, marks)

    def ratios(frame):
        return tables.performance_profile(frame, family).pivot_table(
            index="problem", columns="configuration", values="ratio", aggfunc="first").reset_index()

    profile = Section(f"performance_profile:{family}", f"Performance profile: {family}",
                      "Dolan–Moré performance profile: for each configuration (formulation · solver), the share "
                      "of problems it solves within τ times the fastest configuration's time (∞ = not solved).",
                      table=ratios, figures=lambda frame, d: figures.performance_profile(frame, d, family),
                      requires="figures")
    if roots.empty:
        return [profile]
    return [
        Section(f"formulation_strength:{family}", f"Formulation strength: {family}",
                "Root relaxation of each formulation of the same problem, with the solve time of each "
                "formulation × solver beside it (the tutorial's claim: a stronger relaxation is easier to solve).",
                table=strength,
                figures=lambda frame, d: figures.root_strength(frame, d, family) + figures.strength_vs_time(frame, d, family)),
        Section(f"root_relaxations:{family}", f"Root relaxations: {family}", "Per formulation and problem.",
                table=lambda frame: roots.drop(columns=["problem", "family"])),
        profile,
    ]


@section("heuristics", "Heuristics: primal gap to the best proven bound",
         "Runs of solvers that return a solution without a bound (status `feasible`, never counted as solved): "
         "the evaluator's objective of their solution, its gap to the best bound any solver proved for the same "
         "problem (∞ where none did) and to the best objective found.", order=45, requires="table")
def _heuristics(frame):
    return tables.heuristic_gaps(frame)


@section("speedups", "Speedups", "Time ratios baseline / target on the same problem, from this store's runs "
         "(`≥`: the baseline did not solve within its limit, which it is charged).", order=50, requires="table")
def _speedups(frame):
    return tables.speedups(frame)


@section("progress", "Progress: primal and dual bounds over time",
         "For runs whose solver reports its progress (the native solver records every change of its "
         "incumbent and of its valid lower bound). Primal-dual integral (Berthold 2013): ∫ min(1, gap(t)) "
         "dt in seconds, lower is better.", order=60, figures=figures.progress, requires="table")
def _progress(frame):
    return tables.primal_dual_integral(frame)


@section("time_budget", "Time budget", "`time_limit` bounds the solver call (twice the limit when the root relaxation "
         "is also solved). Start-up, loading, checks, model building and evaluation are outside it: "
         "each run's overshoot is its wall time past that budget (the harness kills a run at budget + "
         "grace).", order=70, requires="table")
def _time_budget(frame):
    return tables.time_budget(frame)


@section("all_runs", "All runs", "One row per run of the store (`run_id` identifies the row).", order=90)
def _all_runs(frame):
    return tables.runs_table(frame)


# --- the README's formulation table --------------------------------------------------------

_PRETTY = (("->", "→"), ("<=", "≤"), (">=", "≥"), ("||theta||_0", "‖θ‖0"), ("lambda2", "λ2"), (")-(", ")–("))


def formulation_table_markdown() -> str:
    """The README's "Formulations" table (id, equation, class, solvers) rendered from the
    formulation registry and the solver registry (:func:`reference_impl.api.capable_solvers`),
    with the README's typography (→, ≤, ‖θ‖0, λ2, en dashes in ranges)."""
    # imported by name so that the report's code closure (reference_impl.pipeline) does not
    # grow by the solver layer: building a report never calls this
    api = importlib.import_module("reference_impl.api")
    registry = importlib.import_module("reference_impl.registry")
    lines = ["| id | equation | class | solvers |", "|---|---|---|---|"]
    for key, formulation in registry.formulations().items():
        described = formulation.describe()
        equation = described["equation"]
        for plain, pretty in _PRETTY:
            equation = equation.replace(plain, pretty)
        lines.append(f"| `{key}` | {equation} | {described['class']} | {', '.join(api.capable_solvers(formulation))} |")
    return "\n".join(lines)
