"""``miobench solvers``: the registered solvers."""
from __future__ import annotations

import json

from ._common import command, print_table

NAME = "solvers"
ORDER = 20

SOLVERS_COLUMNS = ("name", "kind", "takes", "installed", "version", "licence")


def add(sub) -> None:
    p = command(sub, NAME, "list the registered solvers", """\
Every registered solver (the solver registry): name, kind (pyomo: reached through Pyomo;
native: an adapter of its own), the problem classes (pyomo) or formulation ids (native) it
takes, whether it is installed, its version and any licence note. A table on a terminal; in
a pipe or file a header line and one tab-separated line per solver. A native solver may share
a Pyomo solver's name (the cutting-plane loop "highs"): it answers for its formulations only.""")
    p.add_argument("--json", action="store_true",
                   help="print the solvers as a JSON list instead (default: off, a table)")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..solvers.registry import describe_all

    rows = describe_all()
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print_table("miobench solvers", SOLVERS_COLUMNS,
                ((row["name"], row["kind"], ", ".join(row.get("classes") or row.get("formulations") or []),
                  "yes" if row["installed"] else "no", row["version"] or "-", row["licence"] or "-") for row in rows))
    return 0
