"""Helpers the command modules share: ``name=value`` parameters, option checks, listings
(a table on a terminal, tab-separated lines in a pipe) and each command's sub-parser."""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import TYPE_CHECKING, Any, Iterable, Sequence

from ..errors import InputError

if TYPE_CHECKING:
    from rich.table import Table

RAW = argparse.RawDescriptionHelpFormatter


def parse_param(text: str, flag: str = "--param", example: str = "k=5") -> tuple[str, Any]:
    """``name=value`` → (name, value) with ints, floats, inf, none and auto understood."""
    if "=" not in text:
        raise InputError(f"{flag} takes name=value (e.g. {flag} {example}); got {text!r}")
    name, raw = (part.strip() for part in text.split("=", 1))
    if not name:
        raise InputError(f"{flag} needs a name before '=' (e.g. {flag} {example}); got {text!r}")
    lowered = raw.lower()
    if lowered in ("none", "null"):
        return name, None
    if lowered in ("inf", "+inf", "infinity"):
        return name, float("inf")
    for convert in (int, float):
        try:
            return name, convert(raw)
        except ValueError:
            pass
    try:
        return name, json.loads(raw)
    except json.JSONDecodeError:
        return name, raw


def params(items: Sequence[str] | None, flag: str = "--param", example: str = "k=5") -> dict[str, Any]:
    """Repeated ``name=value`` options → a dict (none given: empty)."""
    return dict(parse_param(item, flag, example) for item in items or [])


def checked_args(args, **checks) -> None:
    """Validate numeric options up front (one clear line naming the flag)."""
    from ..errors import check_number

    for dest, rules in checks.items():
        value = getattr(args, dest, None)
        if value is not None:
            setattr(args, dest, check_number("--" + dest.replace("_", "-"), value, **rules))


def _cell(value: Any) -> str:
    """One cell on one line: tabs and line breaks become spaces, so a row stays one line."""
    return " ".join(str(value).split())


def print_table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """A listing whose first column is an id: a rich table on a terminal; otherwise (a pipe, a
    file) a header line and one tab-separated line per row, every id whole, for grep/cut/awk."""
    cells = [[_cell(value) for value in row] for row in rows]
    if sys.stdout.isatty():
        from rich.console import Console

        Console().print(rich_table(title, columns, cells))
    else:
        write_lines("\t".join(row) for row in [list(columns), *cells])


def rich_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> "Table":
    """The terminal form of a listing: the id column never wraps or folds (it keeps the width of
    the longest id), the last column (summary, description) folds, the others wrap at spaces."""
    from rich.table import Table

    table = Table(title=title)
    id_width = max([len(columns[0]), *(len(row[0]) for row in rows)])
    table.add_column(columns[0], no_wrap=True, min_width=id_width)
    for column in columns[1:-1]:
        table.add_column(column)
    table.add_column(columns[-1], overflow="fold")
    for row in rows:
        table.add_row(*row)
    return table


def write_lines(lines: Iterable[str]) -> None:
    """Print ``lines``; a reader that stops early (``| head``) ends the output quietly."""
    try:
        for line in lines:
            print(line)
        sys.stdout.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # else the interpreter's last flush fails again


def command(sub, name: str, summary: str, description: str, epilog: str | None = None) -> argparse.ArgumentParser:
    """A command's sub-parser: its one-line summary in ``miobench --help``, its description and
    examples shown as written in ``miobench NAME --help``."""
    return sub.add_parser(name, help=summary, description=description, epilog=epilog, formatter_class=RAW)
