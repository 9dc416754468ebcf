"""``miobench solve``: one formulation on one instance."""
from __future__ import annotations

from ._common import command, params

NAME = "solve"
ORDER = 30


def add(sub) -> None:
    p = command(sub, NAME, "solve one formulation on one instance", """\
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
    p.set_defaults(func=run)


def run(args) -> int:
    import contextlib

    from ..api import solve
    from ..solvers.quiet import fds_to

    # with --json, stdout holds the record alone: anything a solver library writes goes to stderr
    with fds_to(2, 2) if args.json else contextlib.nullcontext():
        record = solve(
            args.formulation, args.instance, solver=args.solver, time_limit=args.time_limit, rel_gap=args.rel_gap,
            threads=args.threads, seed=args.seed, root_relaxation=args.root,
            solver_options=params(args.option, "--option", "batch_size=1"),
            **params(args.param),
        )
    if args.json:
        print(record.to_json())
    else:
        for key in ("formulation", "solver", "instance", "status", "objective", "bound", "gap", "root_bound",
                    "max_violation", "build_seconds", "solve_seconds", "nodes", "solver_version", "message"):
            print(f"{key:>15}: {getattr(record, key)}")
    return 0
