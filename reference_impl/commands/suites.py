"""``miobench suites``: the benchmark suites."""
from __future__ import annotations

from ._common import command, print_table

NAME = "suites"
ORDER = 60


def add(sub) -> None:
    p = command(sub, NAME, "list the benchmark suites", """\
The benchmark suites that `miobench run --suite NAME` takes: name and description. A table on
a terminal; tab-separated lines, a header first, in a pipe or file.""")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..harness.suites import list_suites

    print_table("benchmark suites", ("name", "description"), list_suites().items())
    return 0
