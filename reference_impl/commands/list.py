"""``miobench list``: the registered formulations."""
from __future__ import annotations

import json

from ._common import command, print_table

NAME = "list"
ORDER = 10

LIST_COLUMNS = ("id", "equation", "class", "solvers", "summary")


def add(sub) -> None:
    p = command(sub, NAME, "list the registered formulations", """\
Every registered formulation: id, equation (the tutorial's numbering), problem class, the
solvers that can take it, and a summary. A table on a terminal; in a pipe or file a header
line and one tab-separated line per formulation (miobench list | grep fairness).""")
    p.add_argument("--json", action="store_true", help="print the formulations as a JSON list instead")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..api import capable_solvers
    from ..registry import formulations

    rows = [{**f.describe(), "solvers": capable_solvers(f)} for f in formulations().values()]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print_table("miobench formulations", LIST_COLUMNS,
                ((row["id"], row["equation"], row["class"], ", ".join(row["solvers"]), row["summary"]) for row in rows))
    return 0
