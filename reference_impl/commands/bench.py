"""``miobench bench``: asv benchmarks (run, check, publish, compare BASE HEAD)."""
from __future__ import annotations

from ..errors import InputError
from ._common import checked_args, command

NAME = "bench"
ORDER = 90


def add(sub) -> None:
    p = command(sub, NAME, "asv benchmarks: run, check, publish, compare BASE HEAD", """\
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
    p.set_defaults(func=run)


def run(args) -> int:
    from .. import asv_glue as bench

    if args.action == "run":
        return bench.run(quick=args.quick, bench=args.bench)
    if args.action == "check":
        return bench.check()
    if args.action == "publish":
        return bench.publish()
    if len(args.commits) != 2:
        raise InputError("`miobench bench compare` takes two commits: BASE HEAD")
    checked_args(args, factor={"minimum": 1, "hint": " (slowdown factor, e.g. 1.2)"})
    changes = bench.compare(*args.commits, factor=args.factor, results_dir=args.results, machine=args.machine)
    regressions = [c for c in changes if c.kind in bench.REGRESSIONS]
    for change in sorted(changes, key=lambda c: (c.kind not in bench.REGRESSIONS, c.benchmark)):
        mark = "REGRESSION" if change.kind in bench.REGRESSIONS else change.kind
        print(f"{mark:>10}  {change.benchmark} [{change.params}]: {change.base:.4g} -> {change.head:.4g}"
              f" (x{change.ratio:.2f})")
    print(f"{len(regressions)} regression(s) beyond factor {args.factor:g} / gap tolerance")
    return 1 if regressions else 0
