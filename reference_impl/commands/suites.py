"""``miobench suites``: the benchmark suites, and the JSON Schema of a suite file."""
from __future__ import annotations

from ._common import command, print_table, write_lines

NAME = "suites"
ORDER = 60


def add(sub) -> None:
    p = command(sub, NAME, "list the benchmark suites (or print the suite-file schema)", """\
list: the benchmark suites that `miobench run --suite NAME` takes: name and description. A table
on a terminal; tab-separated lines, a header first, in a pipe or file.
schema: the JSON Schema of a suite file (for editors: point the YAML language server at it).""", """\
examples:
  miobench suites
  miobench suites schema > suite.schema.json""")
    p.add_argument("action", nargs="?", choices=["list", "schema"], default="list",
                   help="list the suites, or print the JSON Schema of a suite file (default: %(default)s)")
    p.set_defaults(func=run)


def run(args) -> int:
    if args.action == "schema":
        import json

        from ..schema import suite_json_schema

        write_lines(json.dumps(suite_json_schema(), indent=2).splitlines())
        return 0
    from ..harness.suites import list_suites

    print_table("benchmark suites", ("name", "description"), list_suites().items())
    return 0
