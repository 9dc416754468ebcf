"""The ``miobench`` command line: one sub-command per job, each documented by its ``--help``
(``build_parser`` holds every option, its help line and its default)."""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import TYPE_CHECKING, Any, Iterable, NoReturn, Sequence

from .errors import InputError, MiobenchError, is_input_error, writable_dir

if TYPE_CHECKING:
    from rich.table import Table


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


def _params(items: Sequence[str] | None, flag: str = "--param", example: str = "k=5") -> dict[str, Any]:
    return dict(parse_param(item, flag, example) for item in items or [])


def _checked_args(args, **checks) -> None:
    """Validate numeric options up front (one clear line naming the flag)."""
    from .errors import check_number

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
        _write_lines("\t".join(row) for row in [list(columns), *cells])


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


def _write_lines(lines: Iterable[str]) -> None:
    """Print ``lines``; a reader that stops early (``| head``) ends the output quietly."""
    try:
        for line in lines:
            print(line)
        sys.stdout.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # else the interpreter's last flush fails again


LIST_COLUMNS = ("id", "equation", "class", "solvers", "summary")


def cmd_list(args) -> int:
    from .api import capable_solvers
    from .registry import formulations

    rows = [{**f.describe(), "solvers": capable_solvers(f)} for f in formulations().values()]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print_table("miobench formulations", LIST_COLUMNS,
                ((row["id"], row["equation"], row["class"], ", ".join(row["solvers"]), row["summary"]) for row in rows))
    return 0


SOLVERS_COLUMNS = ("name", "kind", "takes", "installed", "version", "licence")


def cmd_solvers(args) -> int:
    from .solvers.registry import describe_all

    rows = describe_all()
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print_table("miobench solvers", SOLVERS_COLUMNS,
                ((row["name"], row["kind"], ", ".join(row.get("classes") or row.get("formulations") or []),
                  "yes" if row["installed"] else "no", row["version"] or "-", row["licence"] or "-") for row in rows))
    return 0


def cmd_solve(args) -> int:
    import contextlib

    from .api import solve
    from .solvers.quiet import fds_to

    # with --json, stdout holds the record alone: anything a solver library writes goes to stderr
    with fds_to(2, 2) if args.json else contextlib.nullcontext():
        record = solve(
            args.formulation, args.instance, solver=args.solver, time_limit=args.time_limit, rel_gap=args.rel_gap,
            threads=args.threads, seed=args.seed, root_relaxation=args.root,
            solver_options=_params(args.option, "--option", "batch_size=1"),
            **_params(args.param),
        )
    if args.json:
        print(record.to_json())
    else:
        for key in ("formulation", "solver", "instance", "status", "objective", "bound", "gap", "root_bound",
                    "max_violation", "build_seconds", "solve_seconds", "nodes", "solver_version", "message"):
            print(f"{key:>15}: {getattr(record, key)}")
    return 0


def cmd_instances(args) -> int:
    from .instances import library

    if args.action == "list":
        if args.ids is not None:
            raise InputError("`miobench instances list` lists the whole catalogue; it takes no --ids")
        print_table("instance catalogue", ("id", "description"),
                    ((instance_id, entry.get("description", "")) for instance_id, entry in library.catalogue().items()))
        return 0
    if args.action == "build":
        if args.ids is not None and not args.ids:
            raise InputError("--ids needs one or more catalogue ids (`miobench instances list`); "
                             "leave it out to build the whole catalogue")
        manifest = library.build_library(args.out, ids=args.ids or None, strict=args.strict)
        wanted = list(dict.fromkeys(args.ids)) if args.ids else list(manifest["instances"])
        built = [i for i in wanted if i in manifest["instances"] and i not in manifest["unavailable"]]
        unavailable = [i for i in (wanted if args.ids else manifest["unavailable"]) if i in manifest["unavailable"]]
        print(f"built {len(built)} instance(s) in {args.out or library.library_dir()}"
              + (f" ({len(manifest['instances'])} in its manifest)" if args.ids else "")
              + (f"; unavailable: {', '.join(unavailable)}" if unavailable else ""))
        return 0
    if args.action == "verify":
        if args.ids:
            raise InputError("`miobench instances verify` checks the whole library; it takes no --ids")
        manifest = library.verify_library(args.out)
        print(f"verified {len(manifest['instances'])} instance file(s) in {args.out or library.library_dir()} "
              "against the manifest's sha256: all match")
        if manifest.get("unlisted"):
            print(f"not in the manifest (ignored): {', '.join(manifest['unlisted'])}")
        return 0
    raise InputError(f"unknown action {args.action}")


def cmd_run(args) -> int:
    from .harness.runner import run_suite

    _checked_args(args, grace={"minimum": 0, "hint": " of seconds"}, time_limit={"positive": True, "hint": " of seconds"},
                  memory_limit_gb={"positive": True, "hint": " (gigabytes)"})
    summary = run_suite(
        args.suite, store=args.store, grace=args.grace, retry_failed=args.retry_failed,
        time_limit=args.time_limit, progress=not args.quiet, memory_limit_gb=args.memory_limit_gb,
    )
    print(json.dumps(summary))
    return 1 if summary.get("all_errored") else 0  # every executed run errored or crashed


def cmd_suites(args) -> int:
    from .harness.suites import list_suites

    print_table("benchmark suites", ("name", "description"), list_suites().items())
    return 0


def cmd_report(args) -> int:
    from pathlib import Path

    source = Path(args.asv or args.store)
    if not source.is_dir():
        raise InputError(f"{'asv results' if args.asv else 'results store'} {source} is not a folder"
                         + ("" if source.exists() else " (it does not exist)"))
    _require_rows(args)
    writable_dir(args.out, "report folder")
    if args.asv:
        from .reports.asv_history import build_asv_report

        paths = build_asv_report(args.asv, args.out)
    else:
        from .reports.build import build_report

        paths = build_report(args.store, args.out, title=args.title)
    print("\n".join(str(p) for p in paths))
    return 0


def _require_rows(args) -> None:
    """An empty results store (or asv results folder) is one error line, before --out exists."""
    if args.asv:
        from .bench import load_results

        if load_results(args.asv).empty:
            raise InputError(f"no asv results in {args.asv}; run `miobench bench run` first")
        return
    import warnings

    from .harness.store import ResultsStore

    with warnings.catch_warnings(record=True) as skipped:
        warnings.simplefilter("always")
        empty = ResultsStore(args.store).load().empty
    if empty:
        for warning in skipped:  # say why the files there gave no rows
            warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
        raise InputError(f"results store {args.store} has no rows; "
                         f"run `miobench run --suite NAME --store {args.store}` first")


def cmd_figures(args) -> int:
    from .reports.paper import build_figure, figures

    if args.action == "list":
        if args.ids:
            raise InputError("`miobench figures list` lists every figure; it takes no ids")
        print_table("reproduced paper figures", ("id", "paper", "title"),
                    ((figure.id, figure.paper, figure.title) for figure in figures().values()))
        return 0
    if not args.ids:
        raise InputError("`miobench figures build` needs one or more figure ids (see `miobench figures list`)")
    if args.out and len(args.ids) > 1:
        raise InputError("--out takes a single figure id; with several, each goes to reports/figures/<id>")
    from .reports.paper import check_params, get_figure

    params = _params(args.param, "--param", "time_limit=10")
    for figure_id in args.ids:  # every id and parameter checked before any figure is built
        check_params(get_figure(figure_id), params, setting=args.setting)
    if args.out:
        writable_dir(args.out, "figure folder")
    for figure_id in args.ids:
        for path in build_figure(figure_id, args.out, setting=args.setting,
                                 skip_missing_data=args.skip_missing_data, **params):
            print(path)
    return 0


def cmd_bench(args) -> int:
    from . import bench

    if args.action == "run":
        return bench.run(quick=args.quick, bench=args.bench)
    if args.action == "check":
        return bench.check()
    if args.action == "publish":
        return bench.publish()
    if len(args.commits) != 2:
        raise InputError("`miobench bench compare` takes two commits: BASE HEAD")
    _checked_args(args, factor={"minimum": 1, "hint": " (slowdown factor, e.g. 1.2)"})
    changes = bench.compare(*args.commits, factor=args.factor, results_dir=args.results, machine=args.machine)
    regressions = [c for c in changes if c.kind in bench.REGRESSIONS]
    for change in sorted(changes, key=lambda c: (c.kind not in bench.REGRESSIONS, c.benchmark)):
        mark = "REGRESSION" if change.kind in bench.REGRESSIONS else change.kind
        print(f"{mark:>10}  {change.benchmark} [{change.params}]: {change.base:.4g} -> {change.head:.4g}"
              f" (x{change.ratio:.2f})")
    print(f"{len(regressions)} regression(s) beyond factor {args.factor:g} / gap tolerance")
    return 1 if regressions else 0


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

RAW = argparse.RawDescriptionHelpFormatter


class _Parser(argparse.ArgumentParser):
    """argparse that points at ``--help`` after a usage error (exit status 2, as always)."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def _command(sub, name: str, summary: str, description: str, epilog: str | None = None) -> argparse.ArgumentParser:
    return sub.add_parser(name, help=summary, description=description, epilog=epilog, formatter_class=RAW)


def _add_list(sub) -> None:
    p = _command(sub, "list", "list the registered formulations", """\
Every registered formulation: id, equation (the tutorial's numbering), problem class, the
solvers that can take it, and a summary. A table on a terminal; in a pipe or file a header
line and one tab-separated line per formulation (miobench list | grep fairness).""")
    p.add_argument("--json", action="store_true", help="print the formulations as a JSON list instead")
    p.set_defaults(func=cmd_list)


def _add_solvers(sub) -> None:
    p = _command(sub, "solvers", "list the registered solvers", """\
Every registered solver (the solver registry): name, kind (pyomo: reached through Pyomo;
native: an adapter of its own), the problem classes (pyomo) or formulation ids (native) it
takes, whether it is installed, its version and any licence note. A table on a terminal; in
a pipe or file a header line and one tab-separated line per solver. A native solver may share
a Pyomo solver's name (the cutting-plane loop "highs"): it answers for its formulations only.""")
    p.add_argument("--json", action="store_true",
                   help="print the solvers as a JSON list instead (default: off, a table)")
    p.set_defaults(func=cmd_solvers)


def _add_solve(sub) -> None:
    p = _command(sub, "solve", "solve one formulation on one instance", """\
Solve one formulation on one instance and print the result record: status, objective
(re-evaluated by the formulation's evaluator), bound, gap, times, nodes, ...""", """\
examples:
  miobench solve sparse_regression.perspective --instance synreg-n100-p20-k5 --param k=5 --json
  miobench solve kglm.perspective --instance kglm-ls-n100-p100-k5 --solver bnb \\
      --option batch_size=1 --param k=5 --param M=2""")
    p.add_argument("formulation", help="formulation id (see `miobench list`)")
    p.add_argument("--instance", required=True,
                   help="catalogue id (see `miobench instances list`) or the path of an .npz file of arrays X, y, ...")
    p.add_argument("--solver", default="scip", help="highs, scip, gurobi, or a formulation's native solver "
                   "(bnb, kscan; `miobench list` shows which solvers take which formulation) (default: %(default)s)")
    p.add_argument("--time-limit", type=float, default=60.0, metavar="SECONDS",
                   help="solver time limit in seconds (default: %(default)s)")
    p.add_argument("--rel-gap", type=float, default=1e-4, metavar="GAP",
                   help="relative gap at which the solver stops and the run counts as optimal (default: %(default)s)")
    p.add_argument("--threads", type=int, default=1, help="solver threads (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="solver random seed (default: %(default)s)")
    p.add_argument("--param", action="append", metavar="NAME=VALUE",
                   help="hyperparameter, repeatable, e.g. --param k=5 (default: none, the formulation's own "
                        "defaults; required ones such as k must be given)")
    p.add_argument("--option", action="append", metavar="NAME=VALUE",
                   help="solver option, repeatable, e.g. --option batch_size=1 for bnb (default: none, the "
                        "solver's own settings)")
    p.add_argument("--root", action="store_true", help="also solve the continuous (root) relaxation")
    p.add_argument("--json", action="store_true", help="print the result record as JSON")
    p.set_defaults(func=cmd_solve)


def _add_instances(sub) -> None:
    p = _command(sub, "instances", "build, list or verify the instance library", """\
list: the instance catalogue (id, description); build: generate or fetch the instance files
and their manifest; verify: check every file against the manifest's sha256.""")
    p.add_argument("action", choices=["build", "list", "verify"], help="what to do (see above)")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="library folder (default: $MIOBENCH_INSTANCE_DIR, else instances/data)")
    p.add_argument("--ids", nargs="*", metavar="ID",
                   help="build only these catalogue ids (default: the whole catalogue)")
    p.add_argument("--strict", action="store_true", help="fail when real data is missing instead of skipping it")
    p.set_defaults(func=cmd_instances)


def _add_run(sub) -> None:
    p = _command(sub, "run", "run a suite into a results store", """\
Run every (formulation, solver, instance, hyperparameters, repeat) of a suite, each in its own
process, into a Parquet results store. Resumable: runs already in the store are skipped.
Prints a JSON summary at the end.""")
    p.add_argument("--suite", default="default",
                   help="suite name (see `miobench suites`) or the path of a suite .yaml file (default: %(default)s)")
    p.add_argument("--store", default=None, metavar="DIR", help="results folder (default: results/<suite name>)")
    p.add_argument("--grace", type=float, default=None, metavar="SECONDS",
                   help="seconds past the time limit before a run is killed (default: the suite's grace, "
                        "30 unless the suite says otherwise)")
    p.add_argument("--time-limit", type=float, default=None, metavar="SECONDS",
                   help="time limit of every run, overriding the suite's (default: the suite's time limits)")
    p.add_argument("--memory-limit-gb", type=float, default=None, metavar="GB",
                   help="memory limit of each run in GB (default: the suite's memory_limit_gb, 8 GB unless the "
                        "suite says otherwise)")
    p.add_argument("--retry-failed", action="store_true", help="re-run rows that crashed or errored")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_run)


def _add_suites(sub) -> None:
    p = _command(sub, "suites", "list the benchmark suites", """\
The benchmark suites that `miobench run --suite NAME` takes: name and description. A table on
a terminal; tab-separated lines, a header first, in a pipe or file.""")
    p.set_defaults(func=cmd_suites)


def _add_report(sub) -> None:
    p = _command(sub, "report", "write a report from a results store", """\
Write a Markdown and HTML report (tables and figures: status counts, gaps, times,
formulation strength) from a results store, or from asv results with --asv.""")
    p.add_argument("--store", default="results/default", metavar="DIR",
                   help="results store to report on (default: %(default)s)")
    p.add_argument("--out", default="reports/default", metavar="DIR",
                   help="folder the report is written to, created if needed (default: %(default)s)")
    p.add_argument("--title", default=None, help="report title (default: 'miobench report: <store folder name>')")
    p.add_argument("--asv", default=None, metavar="RESULTS_DIR",
                   help="report asv results over commits from this folder instead, e.g. .asv/results "
                        "(default: none, report the results store)")
    p.set_defaults(func=cmd_report)


def _add_figures(sub) -> None:
    p = _command(sub, "figures", "list or build reproduced paper figures", """\
list: the reproduced figures and tables (id, paper, title); build ID...: run their experiments
and write each into reports/figures/<id>/.""", """\
examples:
  miobench figures list
  miobench figures build tutorial.fig2 --setting paper""")
    p.add_argument("action", choices=["list", "build"], help="what to do (see above)")
    p.add_argument("ids", nargs="*", metavar="ID", help="for build: figure ids (see `miobench figures list`)")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="output folder, with a single id (default: reports/figures/<id>)")
    p.add_argument("--param", action="append", metavar="NAME=VALUE",
                   help="figure parameter, repeatable (default: none, the setting's values)")
    p.add_argument("--setting", choices=["quick", "paper"], default="quick",
                   help="quick (the pipeline's short limits) or paper (the paper's limits and grids) "
                        "(default: %(default)s)")
    p.add_argument("--skip-missing-data", action="store_true",
                   help="write a note instead of failing when the figure's data is unavailable")
    p.set_defaults(func=cmd_figures)


def _add_bench(sub) -> None:
    p = _command(sub, "bench", "asv benchmarks: run, check, publish, compare BASE HEAD", """\
run: asv on the current commit (results under .asv/results); check: asv check; publish: asv's
HTML pages; compare BASE HEAD: slowdowns between two commits' results (exit status 1 if any).""")
    p.add_argument("action", choices=["run", "check", "publish", "compare"], help="what to do (see above)")
    p.add_argument("commits", nargs="*", metavar="COMMIT", help="for compare: BASE HEAD (commit hashes or prefixes)")
    p.add_argument("--quick", action="store_true", help="for run: run each benchmark once")
    p.add_argument("--bench", default=None, metavar="REGEX",
                   help="for run: regular expression selecting benchmarks (default: all)")
    p.add_argument("--factor", type=float, default=1.2,
                   help="for compare: slowdown factor that counts as a regression (default: %(default)s)")
    p.add_argument("--results", default=".asv/results", metavar="DIR",
                   help="for compare: asv results folder (default: %(default)s)")
    p.add_argument("--machine", default=None,
                   help="for compare: the asv machine whose results are compared (default: any; needed when "
                        "a commit has results from several machines)")
    p.set_defaults(func=cmd_bench)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="miobench", description=DESCRIPTION, epilog=EPILOG, formatter_class=RAW)
    sub = parser.add_subparsers(dest="command", required=True, title="commands", metavar="COMMAND")
    for add in (_add_list, _add_solvers, _add_solve, _add_instances, _add_run, _add_suites, _add_report, _add_figures,
                _add_bench):
        add(sub)
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
