"""``miobench export``: write one formulation's model on one instance as a standard file."""
from __future__ import annotations

from ._common import command, params

NAME = "export"
ORDER = 35


def add(sub) -> None:
    p = command(sub, NAME, "write a model as an MPS, LP, NL, GAMS or OPB file", """\
Build one formulation on one instance and write the model as a file any solver reads, with a
JSON sidecar PATH.json: formulation, instance id and sha256, the validated hyperparameters, the
model's size (variables, constraints, integers, binaries, nonzeros) and class, and the map from
exported variable names to Pyomo variables, which `miobench import-solution` uses to read a
solver's solution back.

What each format holds (Pyomo's writers, symbolic names):
  mps, lp   linear or quadratic objective and constraints (LP, MILP, MIQP, MISOCP as quadratic
            constraints); not nonlinear functions (log, exp). SCIP's LP reader does not take
            Pyomo's quadratic LP syntax: give SCIP the .mps or .nl of a quadratic model
  nl        any model, nonlinear included (names in PATH.col / PATH.row beside it)
  gms       any model (GAMS)
  opb       pure 0-1 models with linear objective and constraints (pseudo-Boolean); the
            objective is scaled to integers, the sidecar says how to map it back
A format that cannot hold the model is an error (exit 2); so is a formulation solved by a loop
of models (risk_score.cutting_plane).""", """\
examples:
  miobench export sparse_regression.perspective --instance synreg-n60-p12-k4 --param k=5 \\
      --param lambda2=1 --format mps --out model.mps
  miobench export risk_score.minlp --instance synrisk-n200-d6 --param k=3 --out risk.nl
  scip -c "read model.mps optimize write solution model.sol quit"
  miobench import-solution sparse_regression.perspective --instance synreg-n60-p12-k4 \\
      --param k=5 --param lambda2=1 --solution model.sol --map model.mps.json""")
    p.add_argument("formulation", help="formulation id (see `miobench list`)")
    p.add_argument("--instance", required=True,
                   help="catalogue id (see `miobench instances list`) or the path of an .npz file of arrays X, y, ...")
    p.add_argument("--param", action="append", metavar="NAME=VALUE",
                   help="hyperparameter, repeatable, e.g. --param k=5 (default: none, the formulation's own defaults)")
    p.add_argument("--format", choices=("mps", "lp", "nl", "gms", "opb"), default=None,
                   help="file format (default: from the extension of --out)")
    p.add_argument("--out", required=True, metavar="PATH",
                   help="the file to write, ending in the format's extension (.mps, .lp, .nl, .gms, .opb); "
                        "the sidecar is PATH.json")
    p.add_argument("--json", action="store_true", help="print the metadata as JSON")
    p.set_defaults(func=run)


def run(args) -> int:
    import json

    from ..exchange import export_model

    meta = export_model(args.formulation, args.instance, params(args.param), args.format, args.out)
    if args.json:
        print(json.dumps(meta, indent=1))
        return 0
    for key in ("formulation", "instance", "format", "problem_class", "detected_class", "n_vars", "n_cons",
                "n_binary", "n_integer", "nonzeros", "quadratic_terms", "nonlinear_constraints", "symbol_map"):
        print(f"{key:>21}: {meta[key]}")
    print(f"{'files':>21}: {', '.join(meta['files'])}")
    return 0
