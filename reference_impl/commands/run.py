"""``miobench run``: a suite into a results store."""
from __future__ import annotations

import json

from ._common import command

NAME = "run"
ORDER = 50


def add(sub) -> None:
    p = command(sub, NAME, "run a suite into a results store", """\
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
    p.set_defaults(func=run)


def run(args) -> int:
    from ..harness.runner import run_suite
    from ..schema import check_settings

    flags = {"grace": args.grace, "time_limit": args.time_limit, "memory_limit_gb": args.memory_limit_gb}
    given = {key: value for key, value in flags.items() if value is not None}  # None: the suite's
    check_settings(given, labels={key: "--" + key.replace("_", "-") for key in given}, hints={"memory_limit_gb": " (gigabytes)"})
    summary = run_suite(
        args.suite, store=args.store, grace=args.grace, retry_failed=args.retry_failed,
        time_limit=args.time_limit, progress=not args.quiet, memory_limit_gb=args.memory_limit_gb,
    )
    print(json.dumps(summary))
    return 1 if summary.get("all_errored") else 0  # every executed run errored or crashed
