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


def _is_number_list(text: str) -> bool:
    parts = [part.strip() for part in text.split(",")]
    try:
        [float(part) for part in parts]
    except ValueError:
        return False
    return bool(parts)


def _check_value(figure: PaperFigure, name: str, value: Any, default: Any) -> Any:
    """Cast ``value`` to the type of the figure's default and check its range generically."""
    import math
    import numbers

    def bad(what: str):
        from ...errors import InputError

        return InputError(f"figure {figure.id}: parameter {name} must be {what}; got {value!r} ({_describe(figure)})")

    if default is None:
        return value
    if value is None:
        raise bad(f"a value like its default {default!r}")
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
        if str(value).lower() in ("1", "true", "yes", "0", "false", "no"):
            return str(value).lower() in ("1", "true", "yes")
        raise bad("true or false")
    if isinstance(default, numbers.Integral):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not float(value).is_integer():
            raise bad("an integer")
        value = int(value)
        if default >= 1 and value < 1:
            raise bad("an integer >= 1")
        if default >= 0 and value < 0:
            raise bad("an integer >= 0")
        return value
    if isinstance(default, numbers.Real):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise bad("a number")
        value = float(value)
        if not math.isfinite(value):
            raise bad("a finite number")
        if default > 0 and value < 0:
            raise bad("a number >= 0")
        if "time_limit" in name and value <= 0:
            raise bad("a positive number of seconds")
        return value
    if isinstance(default, str) and _is_number_list(default):
        text = ",".join(str(v) for v in value) if isinstance(value, (list, tuple)) else str(value)
        integers = all(float(p).is_integer() for p in default.split(","))
        kind = "integers" if integers else "numbers"
        try:
            numbers_ = [int(p) if integers else float(p) for p in (part.strip() for part in text.split(","))]
        except ValueError:
            raise bad(f"a comma-separated list of {kind} like {default!r}") from None
        if any(not math.isfinite(v) for v in numbers_):
            raise bad(f"a comma-separated list of finite {kind} like {default!r}")
        if all(float(p) > 0 for p in default.split(",")) and any(v <= 0 for v in numbers_):
            raise bad(f"a comma-separated list of positive {kind} like {default!r}")
        return ",".join(str(v) for v in numbers_)
    if isinstance(default, str):
        return str(value)
    return value


def check_params(figure: PaperFigure, params: dict[str, Any], *, setting: str = "quick") -> dict[str, Any]:
    """Check explicit ``params`` against what ``figure`` takes (names, and values against the
    type and sign of its defaults); return them cast. Raises :class:`InputError` naming the
    figure's parameters."""
    from ...errors import InputError

    known = _known_names(figure)
    if known is not None:
        unknown = [n for n in params if n not in known]
        if unknown:
            raise InputError(f"figure {figure.id} has no parameter(s) {', '.join(map(repr, unknown))}; "
                             + _describe(figure).split(" ", 2)[2] + did_you_mean(unknown[0], known))
    defaults = {**figure.defaults, **(figure.paper_setting if setting == "paper" else {})}
    return {name: _check_value(figure, name, value, defaults.get(name)) for name, value in params.items()}


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
        return figure.build(out, **chosen)
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
