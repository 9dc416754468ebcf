"""``miobench rashomon``: the Rashomon set of k-sparse GLMs on one instance
(:func:`reference_impl.kglm.rashomon.rashomon`)."""
from __future__ import annotations

from ._common import command

NAME = "rashomon"
ORDER = 33

#: file types --out writes
OUT_SUFFIXES = (".parquet", ".csv")


def add(sub) -> None:
    p = command(sub, NAME, "every near-optimal k-sparse GLM (Rashomon set), certified by branch and bound", """\
Collect the Rashomon set of the k-sparse GLM  min F(X beta) + lambda2 ||beta||^2  s.t.
||beta||_0 <= k, ||beta||_inf <= M  (kglm.perspective's problem, F least squares or logistic)
on one instance: every support of exactly k features whose best model has objective
  <= (1 + epsilon) * optimum                       (--epsilon; objective scale as `miobench
                                                    solve kglm.perspective` reports it)
  <= the objective of the N-th best support        (--top N; ties with the N-th all kept)
Ties within a relative 1e-9 of the threshold are kept. The native batched branch and bound
certifies the set: "complete: True" means every other k-support was proven worse than the
threshold; stopped by --time-limit or --node-limit, the set lists what was found.

Prints the set's size, threshold, optimum, the complete flag and the best models; --out
writes every model (rank, objective, size, support, coef on the support) as Parquet or CSV
(CSV: support and coef as space-separated lists).""", """\
examples:
  miobench rashomon kglm-logit-n60-p12-k3 --k 3 --loss logistic --lambda2 1 --M 2 --top 20
  miobench rashomon my_data.npz --k 5 --lambda2 0.1 --epsilon 0.05 --out rashomon.parquet --json""")
    p.add_argument("instance", help="catalogue id (see `miobench instances list`) or the path of an .npz file of arrays X, y")
    p.add_argument("--k", type=int, required=True, help="number of features of every model (1 <= k <= p)")
    p.add_argument("--loss", choices=("squared", "logistic"), default="squared",
                   help="data-fit loss F; logistic labels -1/+1 or 0/1 (mapped 0 -> -1) (default: %(default)s)")
    p.add_argument("--lambda2", type=float, default=1.0, help="ridge weight lambda2 >= 0 (default: %(default)s)")
    p.add_argument("--M", type=float, default=float("inf"), help="box bound on every coefficient, inf allowed "
                   "(default: %(default)s)")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--epsilon", type=float, help="keep every model within a factor 1 + EPSILON of the optimum "
                       "(default: none; give this or --top)")
    which.add_argument("--top", type=int, metavar="N", help="keep the N best models, ties included "
                       "(default: none; give this or --epsilon)")
    p.add_argument("--time-limit", type=float, default=600.0, metavar="SECONDS",
                   help="stop the search after this many seconds; the set is then not certified (default: %(default)s)")
    p.add_argument("--node-limit", type=int, default=None, metavar="NODES",
                   help="stop after this many node relaxations (default: none, no limit)")
    p.add_argument("--batch-size", type=int, default=256, help="node relaxations solved together (default: %(default)s)")
    p.add_argument("--backend", choices=("numpy", "cupy", "auto"), default="numpy",
                   help="array backend: numpy (CPU), cupy (GPU) or auto (default: %(default)s)")
    p.add_argument("--show", type=int, default=10, metavar="N",
                   help="how many of the best models to print (default: %(default)s)")
    p.add_argument("--out", metavar="FILE", default=None,
                   help="write every model to FILE.parquet or FILE.csv (default: none, nothing written)")
    p.add_argument("--json", action="store_true", help="print the summary and the best --show models as JSON")
    p.set_defaults(func=run)


def _out_path(text: str | None):
    """The --out file, checked before any work (suffix, parent folder)."""
    from pathlib import Path

    from ..errors import InputError

    if text is None:
        return None
    path = Path(text)
    if path.suffix.lower() not in OUT_SUFFIXES:
        raise InputError(f"--out must end in .parquet or .csv; got {text!r}")
    if path.is_dir():
        raise InputError(f"--out {text} is a folder; give a file name ending in .parquet or .csv")
    if not path.parent.is_dir():
        raise InputError(f"--out: folder {path.parent} does not exist")
    return path


def write_models(frame, path) -> None:
    """Write the models' frame (``RashomonResult.to_frame()``) as Parquet, or CSV with the list
    columns as space-separated values (floats written exactly, as repr)."""
    from ..errors import InputError

    try:
        if path.suffix.lower() == ".parquet":
            frame.to_parquet(path, index=False)
        else:
            flat = frame.copy()
            flat["support"] = [" ".join(str(j) for j in s) for s in frame["support"]]
            flat["coef"] = [" ".join(repr(float(c)) for c in cs) for cs in frame["coef"]]
            flat.to_csv(path, index=False, float_format="%.17g")
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from None


def _model_rows(res, limit: int) -> list[dict]:
    return [{"rank": i, "objective": m.objective, "support": list(m.support),
             "coef": [float(m.coef[j]) for j in m.support]} for i, m in enumerate(res.models[:limit])]


def run(args) -> int:
    import json

    from ..errors import check_number
    from ..formulations.kglm import glm_data
    from ..instances import resolve_instance
    from ..kglm.rashomon import rashomon
    from ..record import _strict
    from ._common import print_table

    k = check_number("--k", args.k, integer=True, minimum=1)
    if args.epsilon is not None:
        check_number("--epsilon", args.epsilon, minimum=0)
    if args.top is not None:
        check_number("--top", args.top, integer=True, minimum=1)
    check_number("--lambda2", args.lambda2, minimum=0)
    check_number("--M", args.M, positive=True, finite=False)
    check_number("--time-limit", args.time_limit, positive=True, hint=" (seconds)")
    if args.node_limit is not None:
        check_number("--node-limit", args.node_limit, integer=True, minimum=1)
    check_number("--batch-size", args.batch_size, integer=True, minimum=1)
    show = check_number("--show", args.show, integer=True, minimum=0)
    out = _out_path(args.out)

    instance = resolve_instance(args.instance)
    X, y, mapped = glm_data(instance, args.loss)
    res = rashomon(X, y, k=k, loss=args.loss, lambda2=args.lambda2, M=args.M, epsilon=args.epsilon, top=args.top,
                   backend=args.backend, batch_size=args.batch_size, time_limit=args.time_limit, node_limit=args.node_limit)
    if out is not None:
        write_models(res.to_frame(), out)
    summary = {"instance": instance.id, **res.summary()}
    if mapped:
        summary["label_mapping"] = {"0": -1, "1": 1}
    if out is not None:
        summary["out"] = str(out)
    if args.json:
        print(json.dumps(_strict({**summary, "best": _model_rows(res, show)}), indent=1, allow_nan=False))
        return 0
    for key in ("instance", "models", "threshold", "optimum", "complete", "status", "open_bound", "nodes", "evaluated",
                "seconds", "out"):
        if key in summary:
            print(f"{key:>10}: {summary[key]}")
    if show and res.models:
        rows = _model_rows(res, show)
        print_table(f"best {len(rows)} of {len(res)} models", ["rank", "objective", "support", "coef"],
                    [(r["rank"], f"{r['objective']:.10g}", " ".join(map(str, r["support"])),
                      " ".join(f"{c:.6g}" for c in r["coef"])) for r in rows])
    return 0
