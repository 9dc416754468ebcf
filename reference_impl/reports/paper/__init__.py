"""The paper-figure registry: each reproduced figure or table is one registered entry.

An entry names the paper (by its public name), what it reproduces, the data it needs, and a
``build(out_dir, **params)`` function that runs what the figure needs (through the registry,
:func:`reference_impl.solve` or the harness), draws it, and writes into ``out_dir``:

* the figure(s) as PNG and SVG, and the numbers behind them as CSV;
* ``page.md``: our values next to the paper's published values, and the differences in
  setting (solver, time limit, data subset).

Modules of this package register entries with :func:`register_figure`; every module is
imported on first use. ``miobench figures list|build`` and the DVC stage ``figures`` use it.
"""
from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ...errors import UnknownIdError, did_you_mean, writable_dir


@dataclass(frozen=True)
class PaperFigure:
    id: str                                   # e.g. "tutorial.fig2", "binarized.table2"
    paper: str                                # public name of the paper
    title: str
    build: Callable[..., list[Path]]          # build(out_dir: Path, **params) -> files written
    datasets: tuple[str, ...] = ()            # datasets it needs (MIOBENCH_DATA_DIR names)
    defaults: dict[str, Any] = field(default_factory=dict)  # parameters of the quick setting
    paper_setting: dict[str, Any] = field(default_factory=dict)  # overrides for the paper's setting


_FIGURES: dict[str, PaperFigure] = {}


#: ``quick``: the defaults, small enough for the main pipeline; ``paper``: the paper's own
#: limits and grids (e.g. one hour per problem), one DVC parameter away (``figure_setting``).
SETTINGS = ("quick", "paper")


def register_figure(id: str, *, paper: str, title: str, datasets: tuple[str, ...] = (),
                    paper_setting: dict[str, Any] | None = None, **defaults):
    """Decorator registering ``build(out_dir, **params)`` as a paper figure.

    ``defaults`` are the parameters of the quick setting; ``paper_setting`` overrides them for
    the paper's setting."""

    def decorator(build):
        if id in _FIGURES:
            raise RuntimeError(f"figure {id!r} registered twice")
        _FIGURES[id] = PaperFigure(id, paper, title, build, tuple(datasets), dict(defaults), dict(paper_setting or {}))
        return build

    return decorator


def figures() -> dict[str, PaperFigure]:
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
    return dict(sorted(_FIGURES.items()))


def get_figure(figure_id: str) -> PaperFigure:
    known = figures()
    if figure_id not in known:
        raise UnknownIdError(f"unknown figure {figure_id!r}; `miobench figures list` shows them."
                             + did_you_mean(figure_id, known))
    return known[figure_id]


def _describe(figure: PaperFigure) -> str:
    names = _known_names(figure)
    if names is None:
        return f"figure {figure.id} takes its own parameters (see its module docstring)"
    shown = ", ".join(f"{n}={figure.defaults[n]!r}" if n in figure.defaults else n for n in names)
    return f"figure {figure.id} takes: {shown or 'no parameters'}"


def _known_names(figure: PaperFigure) -> list[str] | None:
    """The parameters ``figure.build`` accepts, or ``None`` when it takes any (``**params``)."""
    import inspect

    try:
        signature = inspect.signature(figure.build)
    except (TypeError, ValueError):  # pragma: no cover
        return None
    parameters = list(signature.parameters.values())[1:]  # after out_dir
    if any(p.kind is p.VAR_KEYWORD for p in parameters):
        return None
    return [p.name for p in parameters if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)]


def check_params(figure: PaperFigure, params: dict[str, Any], *, setting: str = "quick") -> dict[str, Any]:
    """Check explicit ``params`` against what ``figure`` takes (names, and values against the
    type and sign of the setting's defaults: :func:`reference_impl.schema.figure_params_model`);
    return them cast. Raises :class:`InputError` naming the figure's parameters."""
    from pydantic import ValidationError

    from ...schema import figure_params_model
    from ...schema_errors import figure_problem

    known = _known_names(figure)
    defaults = {**figure.defaults, **(figure.paper_setting if setting == "paper" else {})}
    try:
        checked = figure_params_model(figure.id, defaults, known).model_validate(params)
    except ValidationError as exc:
        raise figure_problem(exc.errors(), params, figure_id=figure.id, describe=_describe(figure), defaults=defaults,
                             known=known) from None
    values = {**checked.model_dump(exclude_unset=True), **(checked.model_extra or {})}
    return {name: values[name] for name in params}


def build_figure(figure_id: str, out_dir: str | Path | None = None, *, setting: str = "quick",
                 skip_missing_data: bool = False, **params) -> list[Path]:
    """Build one figure into ``out_dir`` (default ``reports/figures/<id>``) in ``setting``
    (``quick`` or ``paper``); explicit ``params`` override the setting's.

    With ``skip_missing_data`` a figure whose raw data is not available writes a ``page.md``
    saying so instead of failing (the DVC stage uses this: ``dvc repro`` rebuilds every figure
    whose data is available)."""
    from ...errors import DataMissingError, InputError

    if setting not in SETTINGS:
        raise InputError(f"figure setting must be one of {', '.join(SETTINGS)}; got {setting!r}")
    figure = get_figure(figure_id)
    params = check_params(figure, params, setting=setting)
    chosen = {**figure.defaults, **(figure.paper_setting if setting == "paper" else {}), **params}
    out = Path(out_dir) if out_dir else Path("reports") / "figures" / figure_id
    writable_dir(out, "figure folder")
    try:
        written = figure.build(out, **chosen)
    except ValueError as exc:
        from ...errors import is_input_error

        if is_input_error(exc):  # the native solver's input errors are plain ValueErrors
            raise InputError(f"figure {figure.id}: {' '.join(str(exc).split())}") from None
        raise
    except DataMissingError as exc:
        if not skip_missing_data:
            raise
        page = out / "page.md"
        page.write_text(f"# {figure.title}\n\nNot built: the data it needs is not available here.\n\n> {exc}\n")
        return [page]
    page = out / "page.md"
    if page.exists():
        with page.open("a") as handle:
            handle.write(provenance_section(figure, setting, chosen, params))
    return written


def provenance_section(figure: PaperFigure, setting: str, chosen: dict[str, Any], explicit: dict[str, Any]) -> str:
    """The ``## Provenance`` section every figure page ends with: the code commit that built it,
    the machine, the parameters and limits used, the installed solvers' versions and the one
    command that rebuilds the page."""
    from ...provenance import git_commit, machine
    from ...solvers.registry import all_solvers

    versions = sorted({s.version() for s in all_solvers() if s.installed() and s.version()})
    command = f"miobench figures build {figure.id} --setting {setting}" + "".join(
        f" --param {name}={value}" for name, value in explicit.items())
    settings = ", ".join(f"{name} = {value!r}" for name, value in sorted(chosen.items()))
    return ("\n## Provenance\n\n"
            f"- code commit: `{git_commit()}`\n"
            f"- machine: {machine()}\n"
            f"- setting `{setting}`: {settings}\n"
            f"- installed solvers: {'; '.join(versions)}\n"
            f"- rebuild: `{command}` (or `dvc repro figure-{figure.id}`)\n")
