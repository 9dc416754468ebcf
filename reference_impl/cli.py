"""The ``miobench`` command line.

    miobench list                                  formulations, equations, classes, solvers
    miobench solve ID --instance I --solver S ...  one run, printed as a result record
    miobench instances build|list|verify           the DVC-tracked instance library
    miobench run --suite NAME                      a grid of runs into a Parquet results store
    miobench report --store DIR --out reports/     Markdown + HTML report with figures
    miobench figures list|build ID                 reproduced paper figures and tables
    miobench bench run|check|publish|compare       asv benchmarks and regression checks
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Sequence

from .errors import InputError, MiobenchError, writable_dir


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


def cmd_list(args) -> int:
    from .api import capable_solvers
    from .registry import formulations

    rows = [{**f.describe(), "solvers": capable_solvers(f)} for f in formulations().values()]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table(title="miobench formulations")
    for column in ("id", "equation", "class", "solvers", "summary"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(row["id"], row["equation"], row["class"], ", ".join(row["solvers"]), row["summary"])
    Console(width=max(120, Console().width)).print(table)
    return 0


def cmd_solve(args) -> int:
    from .api import solve

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
        for instance_id, entry in library.catalogue().items():
            print(f"{instance_id:28s} {entry.get('description', '')}")
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
    return 0


def cmd_suites(args) -> int:
    from .harness.suites import list_suites

    for name, description in list_suites().items():
        print(f"{name:16s} {description}")
    return 0


def cmd_report(args) -> int:
    from pathlib import Path

    source = Path(args.asv or args.store)
    if not source.is_dir():
        raise InputError(f"{'asv results' if args.asv else 'results store'} {source} is not a folder"
                         + ("" if source.exists() else " (it does not exist)"))
    writable_dir(args.out, "report folder")
    if args.asv:
        from .reports.asv_history import build_asv_report

        paths = build_asv_report(args.asv, args.out)
    else:
        from .reports.build import build_report

        paths = build_report(args.store, args.out, title=args.title)
    print("\n".join(str(p) for p in paths))
    return 0


def cmd_figures(args) -> int:
    from .reports.paper import build_figure, figures

    if args.action == "list":
        for figure in figures().values():
            print(f"{figure.id:24s} {figure.paper}: {figure.title}")
        return 0
    if not args.ids:
        raise InputError("`miobench figures build` needs one or more figure ids (see `miobench figures list`)")
    from .reports.paper import check_params, get_figure

    params = _params(args.param, "--param", "time_limit=10")
    for figure_id in args.ids:  # every id and parameter checked before any figure is built
        check_params(get_figure(figure_id), params, setting=args.setting)
    if args.out and len(args.ids) == 1:
        writable_dir(args.out, "figure folder")
    for figure_id in args.ids:
        for path in build_figure(figure_id, args.out if len(args.ids) == 1 else None, setting=args.setting,
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="miobench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("list", help="list registered formulations")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("solve", help="solve one formulation on one instance")
    p.add_argument("formulation")
    p.add_argument("--instance", required=True, help="catalogue id or .npz path")
    p.add_argument("--solver", default="scip")
    p.add_argument("--time-limit", type=float, default=60.0)
    p.add_argument("--rel-gap", type=float, default=1e-4)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--param", action="append", metavar="NAME=VALUE", help="hyperparameter (repeatable)")
    p.add_argument("--option", action="append", metavar="NAME=VALUE",
                   help="solver option (repeatable), e.g. --option batch_size=1 for bnb")
    p.add_argument("--root", action="store_true", help="also solve the continuous (root) relaxation")
    p.add_argument("--json", action="store_true", help="print the result record as JSON")
    p.set_defaults(func=cmd_solve)

    p = sub.add_parser("instances", help="build, list or verify the instance library")
    p.add_argument("action", choices=["build", "list", "verify"])
    p.add_argument("--out", default=None, help="library directory (default instances/data)")
    p.add_argument("--ids", nargs="*", help="only these catalogue ids")
    p.add_argument("--strict", action="store_true", help="fail if real data is missing")
    p.set_defaults(func=cmd_instances)

    p = sub.add_parser("run", help="run a suite into a results store")
    p.add_argument("--suite", default="default")
    p.add_argument("--store", default=None, help="results directory (default results/<suite>)")
    p.add_argument("--grace", type=float, default=None, help="seconds past the time limit before a run is killed")
    p.add_argument("--time-limit", type=float, default=None, help="override the suite's time limit")
    p.add_argument("--memory-limit-gb", type=float, default=None)
    p.add_argument("--retry-failed", action="store_true", help="re-run rows that crashed or errored")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("suites", help="list the benchmark suites")
    p.set_defaults(func=cmd_suites)

    p = sub.add_parser("report", help="write reports from a results store")
    p.add_argument("--store", default="results/default")
    p.add_argument("--out", default="reports/default")
    p.add_argument("--title", default=None)
    p.add_argument("--asv", default=None, metavar="RESULTS_DIR",
                   help="report asv results over commits instead (e.g. .asv/results)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("figures", help="list or build reproduced paper figures")
    p.add_argument("action", choices=["list", "build"])
    p.add_argument("ids", nargs="*")
    p.add_argument("--out", default=None, help="output folder (default reports/figures/<id>)")
    p.add_argument("--param", action="append", metavar="NAME=VALUE", help="figure parameter (repeatable)")
    p.add_argument("--setting", choices=["quick", "paper"], default="quick",
                   help="quick (default, the pipeline's) or paper (the paper's limits and grids)")
    p.add_argument("--skip-missing-data", action="store_true",
                   help="write a note instead of failing when the figure's data is unavailable")
    p.set_defaults(func=cmd_figures)

    p = sub.add_parser("bench", help="asv benchmarks: run, check, publish, compare BASE HEAD")
    p.add_argument("action", choices=["run", "check", "publish", "compare"])
    p.add_argument("commits", nargs="*", help="for compare: BASE HEAD (commit hashes or prefixes)")
    p.add_argument("--quick", action="store_true", help="run each benchmark once")
    p.add_argument("--bench", default=None, help="regular expression selecting benchmarks")
    p.add_argument("--factor", type=float, default=1.2, help="slowdown factor that counts as a regression")
    p.add_argument("--results", default=".asv/results")
    p.add_argument("--machine", default=None)
    p.set_defaults(func=cmd_bench)
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
        if not _is_input_error(exc):
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


def _is_input_error(exc: BaseException) -> bool:
    """Input errors of miobench's own libraries that are not MiobenchErrors (the native solver's
    KGLMInputError is a plain ValueError so that the library stands alone)."""
    try:
        from .kglm.validation import KGLMInputError
    except Exception:  # pragma: no cover
        return False
    return isinstance(exc, KGLMInputError)


if __name__ == "__main__":
    sys.exit(main())
