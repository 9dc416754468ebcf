"""Timing script for the GB paper's synthetic setting (FORMULATIONS.md §8; Liu & Lodi,
arXiv 2605.22188): rho = 0.9 equicorrelated design, k = 10, lambda2 = 1, M = 2, true support
every p/k indices with coefficients 1.

    python -m reference_impl.kglm.bench certify --n 1000 --loss squared --normalize
    python -m reference_impl.kglm.bench certify --n 500 --loss logistic
    python -m reference_impl.kglm.bench throughput --n 1000 --batch-sizes 1,64,256,1024

``certify`` runs one solve and prints status, objective, bound, gap, nodes and timings;
``throughput`` runs the same instance with each batch size (to completion, or up to
``--node-limit`` nodes / ``--time-limit`` seconds) and prints nodes per second and the ratio
to the first batch size.  Not a test: numbers depend on the machine (set
``OPENBLAS_NUM_THREADS=1`` on a shared or loaded machine, where OpenBLAS's spinning threads
otherwise compete with other processes).
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from .api import solve
from .synthetic import make_synthetic


def _instance(args: argparse.Namespace) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return make_synthetic(args.n, args.n, 10, 0.9, args.snr, args.loss, args.seed,
                          normalize=args.normalize)


def _run(X: np.ndarray, y: np.ndarray, args: argparse.Namespace, B: int):
    t0 = time.perf_counter()
    res = solve(X, y, k=10, loss=args.loss, lambda2=1.0, M=2.0, batch_size=B,
                time_limit=args.time_limit, node_limit=args.node_limit, backend=args.backend)
    return res, time.perf_counter() - t0


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("mode", choices=("certify", "throughput"))
    ap.add_argument("--n", type=int, default=1000, help="n = p")
    ap.add_argument("--loss", default="squared", choices=("squared", "logistic"))
    ap.add_argument("--snr", type=float, default=5.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--normalize", action="store_true", help="unit-norm columns")
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--batch-sizes", default="1,64,256,1024")
    ap.add_argument("--time-limit", type=float, default=600.0)
    ap.add_argument("--node-limit", type=int, default=None)
    ap.add_argument("--backend", default="numpy")
    args = ap.parse_args(argv)
    X, y, beta = _instance(args)
    solve(X[:40, :12], y[:40], k=2, loss=args.loss, lambda2=1.0, M=2.0)  # compile kernels
    if args.mode == "certify":
        res, wall = _run(X, y, args, args.batch_size)
        print(f"n=p={args.n} {args.loss} normalize={args.normalize} B={args.batch_size}: "
              f"{res.status}, objective {res.objective:.10g}, bound {res.lower_bound:.10g}, "
              f"gap {res.gap:.2e}, nodes {res.nodes}, wall {wall:.1f}s, root bound "
              f"{res.root_bound:.10g}")
        print("timings:", {k: round(v, 2) for k, v in res.timings.items()})
        print("support:", res.support.tolist(), "true:", np.flatnonzero(beta).tolist())
        return
    base = None
    for B in [int(b) for b in args.batch_sizes.split(",")]:
        res, wall = _run(X, y, args, B)
        rate = res.nodes / wall
        base = base or rate
        print(f"B={B}: {res.status}, gap {res.gap:.2e}, nodes {res.nodes}, wall {wall:.1f}s, "
              f"{rate:.1f} nodes/s, x{rate / base:.2f} vs B={args.batch_sizes.split(',')[0]}, "
              f"bound {res.timings['bound']:.1f}s heuristics {res.timings['heuristics']:.1f}s "
              f"queue {res.timings['queue']:.1f}s", flush=True)


if __name__ == "__main__":
    main()
