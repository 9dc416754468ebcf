"""``solve``: certified k-sparse GLMs by batched branch and bound (FORMULATIONS.md §8,
``kglm.bnb``; Liu & Lodi, "From Sequential Nodes to GPU Batches: Parallel Branch and Bound
for Optimal k-Sparse GLMs", arXiv 2605.22188).

Problem:  min_beta F(X beta) + lambda2 ||beta||^2  s.t. ||beta||_0 <= k, ||beta||_inf <= M.

Algorithm
---------
1. Incumbent warm start by beam search (:mod:`.heuristics`).
2. Loop until no open node is left (or a time / node limit):
   a. pop up to ``batch_size`` open nodes, best bound first (every ``dive_every``-th batch
      the deepest nodes instead: a depth-first dive), dropping nodes whose inherited bound
      already reaches the pruning threshold;
   b. solve their perspective relaxations together (:mod:`.node_batch`), each row giving a
      certified dual bound D(zeta) (:mod:`.bounds`);
   c. round every relaxation solution to a support (S1 + top k - |S1| free |beta_j|), refit
      the new supports exactly, update the incumbent (objective recomputed on the host);
   d. prune a node iff max(inherited bound, D(zeta)) >= threshold, where threshold =
      incumbent - gap_tol * max(|incumbent|, 1e-10); otherwise branch on the free j with the
      largest |beta_j| (children S1 + {j} and S0 + {j}, warm-started from the parent);
      children that are leaves (|S1| = k or |S1| + |free| <= k) are solved exactly at once and
      closed with the dual bound of their exact solution.
3. lower_bound = min(incumbent, bounds of open nodes, bounds of every closed node);
   gap = |primal - bound| / max(|primal|, 1e-10) (0 when both are 0, inf without an
   incumbent); status ``"optimal"`` iff no open node is left and gap <= gap_tol
   (``"time_limit"`` / ``"node_limit"`` when stopped early; ``"numerical_limit"`` if the tree
   is exhausted but floating point kept the gap above a gap_tol below ~1e-12).

``batch_size=1`` is the sequential baseline and runs exactly the same code.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .backend import get_backend
from .bounds import dual_bound_at
from .heuristics import (HostProblem, Incumbent, SupportCache, beam_search, evaluate_supports,
                         round_topk)
from .losses import get_loss
from .node_batch import RelaxationBatch, RelaxOptions, lipschitz_constant, make_oracle
from .tree import Node, NodeQueue, batch_masks, branch_variable, is_leaf, leaf_support
from .validation import validate_options, validate_problem

__all__ = ["KGLMResult", "solve", "relative_gap"]


def relative_gap(primal: float, bound: float) -> float:
    """The project's gap formula: |primal - bound| / max(|primal|, 1e-10), 0 if both are 0,
    inf without an incumbent."""
    if not math.isfinite(primal):
        return math.inf
    if primal == 0.0 and bound == 0.0:
        return 0.0
    if not math.isfinite(bound):
        return math.inf
    return abs(primal - bound) / max(abs(primal), 1e-10)


@dataclass
class KGLMResult:
    """Outcome of :func:`solve`.

    ``timings`` (seconds): ``bound`` (batched relaxation solves), ``heuristics`` (beam
    search, rounding, refits, leaves), ``queue`` (node selection, masks, branching),
    ``transfer`` (host <-> device copies; 0 on NumPy), ``setup`` (checks, Gram / Lipschitz
    constant), ``total``.  ``trace`` (with ``trace=True``) lists every node whose bound was
    used, as a dict ``{"s1", "s0", "bound", "kind"}`` with kind ``"pruned"`` (closed by its
    own dual bound), ``"pruned_inherited"`` (closed by its parent's bound after the
    incumbent improved), ``"leaf"`` (solved exactly) or ``"branched"`` (bound passed on to
    its two children)."""

    coef: np.ndarray
    support: np.ndarray
    objective: float
    lower_bound: float
    gap: float
    status: str
    nodes: int
    timings: dict
    backend: str = "numpy"
    batch_size: int = 1
    root_bound: float = -math.inf
    iterations: int = 0
    batches: int = 0
    trace: list | None = field(default=None, repr=False)


def solve(
    X: Any,
    y: Any,
    *,
    k: int,
    loss: Any = "squared",
    lambda2: float,
    M: float = float("inf"),
    backend: str = "numpy",
    batch_size: int = 256,
    time_limit: float | None = 600.0,
    gap_tol: float = 1e-6,
    node_limit: int | None = None,
    seed: int = 0,
    trace: bool = False,
    beam_width: int = 8,
    max_iter: int = 2000,
    dive_every: int = 4,
    verbose: bool = False,
) -> KGLMResult:
    """Certify min F(X beta) + lambda2 ||beta||^2 s.t. ||beta||_0 <= k, ||beta||_inf <= M.

    Parameters
    ----------
    X, y : data (n x p, n); logistic labels in {-1, +1} ({0, 1} accepted with a warning).
    k : sparsity (1 <= k <= p).   loss : "squared", "logistic" or a :class:`~.losses.Loss`.
    lambda2 : ridge weight (>= 0; 0 needs a finite M).   M : box bound (inf allowed).
    backend : "numpy", "cupy" (GPU required, else :class:`~.backend.GPUUnavailableError`)
        or "auto".
    batch_size : nodes per batched relaxation solve (1 = sequential baseline).
    time_limit : seconds (None = no limit).   gap_tol : relative gap for pruning / status.
    node_limit : maximum number of node relaxations (None = no limit).
    seed : accepted for API stability; the algorithm is deterministic.
    trace : record every closed node (S1, S0, bound) in ``result.trace``.
    beam_width, max_iter, dive_every : beam-search width, iteration cap per node solve,
        period of depth-first batches (0 = never).
    """
    t0 = time.perf_counter()
    Xh, yh, k, lam2, Mf = validate_problem(X, y, k, loss, lambda2, M)
    backend, B, tlim, gap_tol, node_limit = validate_options(backend, batch_size, time_limit,
                                                             gap_tol, node_limit)
    loss_obj = get_loss(loss)
    be = get_backend(backend)
    xp = be.xp
    n, p = Xh.shape
    deadline = t0 + tlim
    timings = {"bound": 0.0, "heuristics": 0.0, "queue": 0.0, "transfer": 0.0, "setup": 0.0,
               "total": 0.0}

    hp = HostProblem(Xh, yh, loss_obj, k, lam2, Mf)
    Xd, yd = be.to_device(Xh), be.to_device(yh)
    oracle = make_oracle(Xd, yd, loss_obj, xp)
    L = lipschitz_constant(Xh, loss_obj)
    opts = RelaxOptions(max_iter=max_iter, rtol=min(1e-9, 0.1 * gap_tol) if gap_tol > 0 else 1e-12)
    timings["setup"] = time.perf_counter() - t0

    cache, inc = SupportCache(), Incumbent()
    th = time.perf_counter()
    beam_search(hp, cache, inc, width=beam_width, expand=beam_width)
    timings["heuristics"] += time.perf_counter() - th

    records: list | None = [] if trace else None
    closed_min = math.inf
    nodes = 0
    iterations = 0
    batches = 0
    root_bound = -math.inf
    status = None
    leaf_lbs: dict = {}

    def threshold() -> float:
        ub = inc.objective
        return ub - gap_tol * max(abs(ub), 1e-10) if math.isfinite(ub) else math.inf

    def close(nd: Node, bnd: float, kind: str) -> None:
        nonlocal closed_min
        closed_min = min(closed_min, bnd)
        if records is not None:
            records.append({"s1": tuple(sorted(nd.s1)), "s0": tuple(sorted(nd.s0)),
                            "bound": float(bnd), "kind": kind})

    def solve_leaves(leaves: list[Node]) -> None:
        nonlocal nodes
        th_ = time.perf_counter()
        sups = [leaf_support(nd, k, p) for nd in leaves]
        evaluate_supports(hp, sups, cache, inc)
        for nd, s in zip(leaves, sups):
            if s not in leaf_lbs:
                coef = cache.dense(s, p) if s else np.zeros(p)
                in1 = np.zeros(p, dtype=bool)
                in1[list(s)] = True
                leaf_lbs[s] = float(dual_bound_at(Xh, yh, loss_obj, coef, in1, np.zeros(p, bool),
                                                  0, lam2, Mf, np)[0])
            nodes += 1
            close(nd, min(leaf_lbs[s], cache.values[s]), "leaf")
        timings["heuristics"] += time.perf_counter() - th_

    queue = NodeQueue()
    root = Node((), (), -math.inf, 0)
    if is_leaf(root, k, p):
        solve_leaves([root])
        root_bound = closed_min
    else:
        queue.push(root)

    rb = RelaxationBatch(oracle, L, lam2, Mf, be.theta_rows, xp, opts, to_host=be.to_host)
    started = 0
    refills = 0
    first = True
    while True:
        if time.perf_counter() >= deadline:
            status = "time_limit"
            break
        # -- refill the batch from the queue (best bound first, periodic depth-first dive)
        tq = time.perf_counter()
        thr = threshold()
        space = B - len(rb)
        if node_limit is not None:
            space = min(space, node_limit - started)
        if space > 0 and len(queue):
            refills += 1
            popped = (queue.pop_deep(space) if dive_every and refills % dive_every == 0
                      else queue.pop_best(space))
            fresh = []
            for nd in popped:
                if nd.bound >= thr:
                    close(nd, nd.bound, "pruned_inherited")
                else:
                    fresh.append(nd)
            if fresh:
                in1, free, kf, warm = batch_masks(fresh, p, k)
                rb.add(be.to_device(warm), be.to_device(in1), be.to_device(free),
                       be.to_device(kf), [(nd, free[r]) for r, nd in enumerate(fresh)])
                started += len(fresh)
                batches += 1
        timings["queue"] += time.perf_counter() - tq
        if len(rb) == 0:
            if len(queue) == 0:
                break
            if node_limit is not None and started >= node_limit:
                status = "node_limit"
                break
            continue

        # -- iterate the batch until some rows finish
        tb = time.perf_counter()
        finished = rb.run(thr, deadline)
        be.synchronize()
        timings["bound"] += time.perf_counter() - tb
        timed_out = time.perf_counter() >= deadline
        if timed_out:
            finished += rb.drain()
        nodes += len(finished)
        if first and finished:
            root_bound = finished[0].lower
            first = False

        # -- incumbents from the finished rows: top-k rounding + exact refit
        th_ = time.perf_counter()
        betas = np.stack([f.beta for f in finished])
        frees = np.stack([f.payload[1] for f in finished])
        in1s = np.zeros_like(frees)
        for r, f in enumerate(finished):
            if f.payload[0].s1:
                in1s[r, list(f.payload[0].s1)] = True
        sups = round_topk(betas, in1s, frees, k)
        evaluate_supports(hp, sups, cache, inc, warm={s: betas[r] for r, s in enumerate(sups)})
        timings["heuristics"] += time.perf_counter() - th_

        # -- prune or branch
        tq = time.perf_counter()
        thr = threshold()
        leaves: list[Node] = []
        for r, f in enumerate(finished):
            nd = f.payload[0]
            bnd = max(nd.bound, f.lower)
            if bnd >= thr:
                close(nd, bnd, "pruned")
                continue
            if timed_out:  # unfinished work goes back to the queue with its valid bound
                nd.bound = bnd
                queue.push(nd)
                continue
            if records is not None:
                records.append({"s1": tuple(sorted(nd.s1)), "s0": tuple(sorted(nd.s0)),
                                "bound": float(bnd), "kind": "branched"})
            j = branch_variable(f.beta, frees[r])
            idx = np.flatnonzero(f.beta)
            val = f.beta[idx]
            keep0 = idx != j
            kids = (Node(nd.s1 + (j,), nd.s0, bnd, nd.depth + 1, idx, val),
                    Node(nd.s1, nd.s0 + (j,), bnd, nd.depth + 1, idx[keep0], val[keep0]))
            for ch in kids:
                (leaves.append(ch) if is_leaf(ch, k, p) else queue.push(ch))
        timings["queue"] += time.perf_counter() - tq
        if leaves:
            solve_leaves(leaves)
        if verbose and batches % 50 == 0:
            print(f"[kglm] nodes {nodes}, open {len(queue) + len(rb)}, UB {inc.objective:.10g}, "
                  f"LB {min(closed_min, queue.min_bound(), inc.objective):.10g}")
        if timed_out:
            status = "time_limit"
            break
    iterations = rb.row_iterations

    ub = inc.objective
    lower = min(ub, closed_min, queue.min_bound())
    gap = relative_gap(ub, lower)
    if status is None:
        status = "optimal" if gap <= gap_tol else "numerical_limit"
    coef = inc.coef if inc.coef is not None else np.zeros(p)
    timings["transfer"] = be.transfer_seconds
    timings["total"] = time.perf_counter() - t0
    return KGLMResult(
        coef=np.asarray(coef, dtype=np.float64),
        support=np.flatnonzero(coef).astype(np.int64),
        objective=float(ub),
        lower_bound=float(lower),
        gap=float(gap),
        status=status,
        nodes=int(nodes),
        timings=timings,
        backend=be.name,
        batch_size=B,
        root_bound=float(root_bound),
        iterations=int(iterations),
        batches=int(batches),
        trace=records,
    )
