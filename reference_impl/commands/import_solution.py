"""``miobench import-solution``: evaluate a solver's solution file with a formulation's evaluator."""
from __future__ import annotations

from ._common import command, params

NAME = "import-solution"
ORDER = 36


def add(sub) -> None:
    p = command(sub, NAME, "evaluate a solver's solution file of an exported model", """\
Rebuild one formulation on one instance (the same --param values as the export), read a
solution file, assign its values to the model's variables, and print what the formulation's
own evaluator finds: objective, feasibility and the largest constraint violation.

Solution files: "name value" lines, as SCIP's `write solution`, Gurobi's .sol and MIPLIB .sol
write them; lines starting with #, the "solution status:" / "objective value:" headers, =obj=
lines and a trailing "(obj:c)" are understood. Names are matched through the export's symbol
map (--map PATH.json, needed for GAMS and OPB names), or else by the variables' Pyomo names and
LP/MPS labels. Auxiliary variables solvers add (ONE_VAR_CONSTANT, GAMS_OBJECTIVE, SCIP's
qmatrixvar / quadobjvar / nlobjvar) are ignored.

Missing variables: as in MIPLIB, a variable the file leaves out is 0 (solvers omit zeros);
one whose bounds exclude 0 is an error. A name the model does not have, a file without
values or an infeasible status is an error (exit 2). An infeasible point is not an error: it
is reported (feasible: False) with exit status 0.""", """\
examples:
  miobench import-solution sparse_regression.perspective --instance synreg-n60-p12-k4 \\
      --param k=5 --param lambda2=1 --solution model.sol --map model.mps.json
  miobench import-solution trees.flow_oct --instance trees-planted-n20-p4-d2 --param depth=2 \\
      --solution tree.sol --json""")
    p.add_argument("formulation", help="formulation id (see `miobench list`)")
    p.add_argument("--instance", required=True,
                   help="catalogue id (see `miobench instances list`) or the path of an .npz file of arrays X, y, ...")
    p.add_argument("--param", action="append", metavar="NAME=VALUE",
                   help="hyperparameter, repeatable, e.g. --param k=5 (default: none, the formulation's own defaults)")
    p.add_argument("--solution", required=True, metavar="FILE.sol", help="the solution file ('name value' lines)")
    p.add_argument("--map", default=None, metavar="PATH.json",
                   help="the export's sidecar (variable name map; default: none, match Pyomo names and LP/MPS labels)")
    p.add_argument("--json", action="store_true", help="print the evaluation as JSON")
    p.set_defaults(func=run)


def run(args) -> int:
    import json

    from ..exchange import _jsonable, import_solution

    result = import_solution(args.formulation, args.instance, params(args.param), args.solution, symbol_map=args.map)
    if args.json:
        print(json.dumps(_jsonable(result), indent=1, allow_nan=False))
        return 0
    for key in ("formulation", "instance", "objective", "feasible", "max_violation", "model_objective",
                "file_objective", "assigned", "missing_set_to_zero", "names_from"):
        print(f"{key:>19}: {result[key]}")
    if result["max_violation"] > 0:
        worst = max(result["violations"], key=lambda name: result["violations"][name])
        print(f"{'worst violation':>19}: {worst} = {result['violations'][worst]}")
    return 0
