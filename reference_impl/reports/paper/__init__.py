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

from ...errors import UnknownIdError, did_you_mean


@dataclass(frozen=True)
class PaperFigure:
    id: str                                   # e.g. "tutorial.fig2", "binarized.table2"
    paper: str                                # public name of the paper
    title: str
    build: Callable[..., list[Path]]          # build(out_dir: Path, **params) -> files written
    datasets: tuple[str, ...] = ()            # datasets it needs (MIOBENCH_DATA_DIR names)
    defaults: dict[str, Any] = field(default_factory=dict)  # parameters of the quick setting


_FIGURES: dict[str, PaperFigure] = {}


def register_figure(id: str, *, paper: str, title: str, datasets: tuple[str, ...] = (), **defaults):
    """Decorator registering ``build(out_dir, **params)`` as a paper figure."""

    def decorator(build):
        if id in _FIGURES:
            raise RuntimeError(f"figure {id!r} registered twice")
        _FIGURES[id] = PaperFigure(id, paper, title, build, tuple(datasets), dict(defaults))
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


def build_figure(figure_id: str, out_dir: str | Path | None = None, *, skip_missing_data: bool = False,
                 **params) -> list[Path]:
    """Build one figure into ``out_dir`` (default ``reports/figures/<id>``).

    With ``skip_missing_data`` a figure whose raw data is not available writes a ``page.md``
    saying so instead of failing (the DVC stage uses this: ``dvc repro`` rebuilds every figure
    whose data is available)."""
    from ...errors import DataMissingError

    figure = get_figure(figure_id)
    out = Path(out_dir) if out_dir else Path("reports") / "figures" / figure_id
    out.mkdir(parents=True, exist_ok=True)
    try:
        return figure.build(out, **{**figure.defaults, **params})
    except DataMissingError as exc:
        if not skip_missing_data:
            raise
        page = out / "page.md"
        page.write_text(f"# {figure.title}\n\nNot built: the data it needs is not available here.\n\n> {exc}\n")
        return [page]
