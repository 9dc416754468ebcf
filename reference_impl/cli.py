"""The ``miobench`` command line: one sub-command per job, each documented by its ``--help``.

Each command is a module of :mod:`reference_impl.commands` (its options, help lines and
defaults, and what it does); ``build_parser`` adds every module found there, in their ``ORDER``.
Adding a command is a new module there: this file stays as it is."""
from __future__ import annotations

import argparse
import sys
from typing import NoReturn, Sequence

from .commands import modules
from .commands._common import RAW, parse_param, print_table, rich_table
from .errors import MiobenchError, is_input_error

__all__ = ["build_parser", "main", "parse_param", "print_table", "rich_table"]


DESCRIPTION = """\
Benchmarks for mixed-integer optimisation (MIO) in responsible machine learning: list the
formulations, solve one on one instance, build the instance library, run suites of runs into
a Parquet results store, and write reports and the papers' figures from them."""

EPILOG = """\
examples:
  miobench list                                   # formulations: id, equation, class, solvers
  miobench solve sparse_regression.perspective --instance synreg-n100-p20-k5 \\
      --solver scip --time-limit 30 --param k=5 --param lambda2=0.1 --json
  miobench solve sparse_regression.best_subset --instance my_data.npz --param k=4
  miobench instances list                         # the instance catalogue (also: build, verify)
  miobench suites                                 # benchmark suites
  miobench run --suite default                    # grid -> results/default (resumable)
  miobench report --store results/default --out reports/default

`miobench COMMAND --help` shows a command's options and their defaults. Listings are tables
on a terminal and tab-separated lines, a header first, in a pipe or file. Bad input gives one
error line and exit status 2."""


class _Parser(argparse.ArgumentParser):
    """argparse that points at ``--help`` after a usage error (exit status 2, as always)."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="miobench", description=DESCRIPTION, epilog=EPILOG, formatter_class=RAW)
    sub = parser.add_subparsers(dest="command", required=True, title="commands", metavar="COMMAND")
    for command in modules():
        command.add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    import warnings

    parser = build_parser()
    args = parser.parse_args(argv)
    previous = warnings.formatwarning
    warnings.formatwarning = _one_line_warning
    try:
        return args.func(args)
    except MiobenchError as exc:
        print(f"miobench: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except ValueError as exc:  # a library's own input error (e.g. KGLMInputError) raised on purpose
        if not is_input_error(exc):
            raise
        print(f"miobench: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("miobench: interrupted", file=sys.stderr)
        return 130
    finally:
        warnings.formatwarning = previous


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _one_line_warning(message, category, filename, lineno, line=None) -> str:
    return f"miobench: warning: {_one_line(message) if isinstance(message, BaseException) else message}\n"


if __name__ == "__main__":
    sys.exit(main())
