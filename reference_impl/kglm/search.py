"""The branch-and-bound search loop (FORMULATIONS.md §8, ``kglm.bnb``; Liu & Lodi, "From
Sequential Nodes to GPU Batches: Parallel Branch and Bound for Optimal k-Sparse GLMs",
arXiv 2605.22188: CPU tree logic around batched numerics on the device).

:class:`BranchAndBound` owns the node queue, the incumbent, the batch of relaxations and the
bookkeeping of closed bounds.  One pass of :meth:`BranchAndBound.run`:

1. refill the batch (:class:`.node_batch.RelaxationBatch`) from the queue -- best bound
   first; every ``dive_every``-th refill gives an eighth of the free slots (at least one) to
   the deepest open nodes (a depth-first dive that reaches leaves, hence incumbents, early);
   nodes whose inherited bound already reaches the threshold are closed without a solve;
2. iterate the batch until some rows finish (continuous batching);
3. for each finished row: its bound is max(inherited, D(zeta)) (:mod:`.bounds`);
   unless pruned, round its relaxation to a support (refits are grouped, :mod:`.heuristics`);
   prune iff bound >= threshold = incumbent - gap_tol * max(|incumbent|, 1e-10); otherwise
   fix variables with the children bounds of its dual point
   (:func:`.node_batch.child_bounds`: a child whose certified bound reaches the threshold is
   closed, i.e. its variable is fixed the other way) and branch on the free j with the
   largest |beta_j|; leaf children are solved exactly and closed with the dual bound of the
   exact solution.

The lower bound reported is min(incumbent, open bounds, every closed bound), so it stays
valid when the search stops early.  ``status`` stays None when the tree is exhausted (every
node closed), else it is ``"time_limit"`` or ``"node_limit"``.  The deadline also stops the
beam-search warm start and drops pending refits at a stop.  Rows still in the batch at a stop go back to the queue
with their best certified bound.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .bounds import support_bound
from .heuristics import (HostProblem, Incumbent, SupportCache, beam_search, evaluate_supports,
                         round_topk)
from .node_batch import Finished, RelaxationBatch, RelaxOptions, SmoothPart, child_bounds
from .tree import Node, NodeQueue, batch_masks, branch_variable, is_leaf, leaf_support

__all__ = ["SearchOptions", "BranchAndBound"]


@dataclass
class SearchOptions:
    """Options of the tree search (see :func:`reference_impl.kglm.solve`)."""

    batch_size: int = 256
    gap_tol: float = 1e-6
    node_limit: int | None = None
    deadline: float = math.inf
    trace: bool = False
    beam_width: int = 8
    dive_every: int = 4
    exact_depth: int = 1
    verbose: bool = False
    relax: RelaxOptions = field(default_factory=RelaxOptions)
    #: constant added to every objective and bound before gaps are measured (the shift C of
    #: :mod:`.shift`), so pruning certifies ``gap_tol`` for the original problem
    objective_offset: float = 0.0
    #: absolute uncertainty of the objectives and bounds (the shift's rounding error
    #: :attr:`.shift.Shift.error`): pruning keeps ``gap_tol`` net of it where it can
    objective_margin: float = 0.0


class BranchAndBound:
    """State and main loop of one solve (host tree, batched relaxations on ``backend``)."""

    def __init__(self, hp: HostProblem, smooth: SmoothPart, backend: Any, opts: SearchOptions,
                 timings: dict, cache: SupportCache | None = None, inc: Incumbent | None = None):
        self.hp, self.smooth, self.be, self.o, self.timings = hp, smooth, backend, opts, timings
        self.k, self.p = hp.k, hp.p
        self.cache = cache if cache is not None else SupportCache()
        self.inc = inc if inc is not None else Incumbent()
        self.queue = NodeQueue()
        self.rb = RelaxationBatch(smooth, hp.lam2, hp.M, backend.prox, backend.xp, opts.relax,
                                  to_host=backend.to_host, to_device=backend.to_device)
        self.records: list | None = [] if opts.trace else None
        self.progress: list = []  # (seconds since start, incumbent, valid lower bound)
        self.closed_min = math.inf
        self.nodes = 0
        self.started = 0
        self.refills = 0
        self.root_bound = -math.inf
        self.status: str | None = None
        self._leaf_lbs: dict = {}
        self._pending: dict = {}  # rounded supports waiting for their exact refit
        self._refit_every = max(8, min(64, opts.batch_size // 4))
        # F >= 0 and lambda2 ||beta||^2 >= 0: 0 is a valid bound for every node
        self.floor = 0.0 if getattr(hp.loss, "nonnegative", False) else -math.inf

    # -- bookkeeping ---------------------------------------------------------------------
    def _tick(self, key: str, t0: float) -> float:
        t1 = time.perf_counter()
        self.timings[key] += t1 - t0
        return t1

    def threshold(self) -> float:
        """Prune a node iff its bound >= this: incumbent - (gap_tol * scale - margin), the
        tolerance net of the objective's rounding margin (never above the incumbent)."""
        ub = self.inc.objective
        if not math.isfinite(ub):
            return math.inf
        scale = max(abs(ub + self.o.objective_offset), 1e-10)
        return ub - max(self.o.gap_tol * scale - self.o.objective_margin, 0.0)

    def exhausted(self) -> bool:
        """True when no node is open (queue and batch empty): every node was closed."""
        return not len(self.queue) and len(self.rb) == 0

    def lower_bound(self) -> float:
        return min(self.inc.objective, self.closed_min, self.queue.min_bound())

    def running_lower_bound(self) -> float:
        """A valid bound mid-run: also the inherited bounds of nodes in the batch."""
        in_flight = min((payload[0].bound for payload in self.rb.payloads), default=math.inf)
        return min(self.lower_bound(), in_flight)

    def _progress(self, t0: float, force: bool = False, bound: float | None = None) -> None:
        """Append (seconds, incumbent, bound) when either changed (at most ~1000 points)."""
        point = (self.inc.objective, self.running_lower_bound() if bound is None else bound)
        if force or not self.progress or point != self.progress[-1][1:]:
            if force or len(self.progress) < 1000 or self.refills % 16 == 0:
                self.progress.append((time.perf_counter() - t0, *point))

    def _record(self, s1: tuple, s0: Any, bnd: float, kind: str) -> None:
        if self.records is not None:
            self.records.append({"s1": tuple(sorted(int(j) for j in s1)),
                                 "s0": tuple(sorted(np.asarray(s0, dtype=np.int64).tolist())),
                                 "bound": float(bnd), "kind": kind})

    def _close(self, nd: Node, bnd: float, kind: str) -> None:
        self.closed_min = min(self.closed_min, bnd)
        self._record(nd.s1, nd.s0, bnd, kind)

    # -- incumbents and leaves -----------------------------------------------------------
    def _flush_refits(self) -> None:
        if self._pending and time.perf_counter() >= self.o.deadline:
            self._pending.clear()  # out of time: rounded supports are only heuristics
        if self._pending:
            t0 = time.perf_counter()
            evaluate_supports(self.hp, list(self._pending), self.cache, self.inc,
                              warm=dict(self._pending))
            self._pending.clear()
            self._tick("heuristics", t0)

    def _round(self, finished: list[Finished], thr: float) -> None:
        """Top-k rounding of the rows that are not pruned (a rounded support completes its
        node, so a pruned node cannot beat the threshold); refits are grouped."""
        live = [f for f in finished if max(f.payload[0].bound, f.lower) < thr]
        if live:
            betas = np.stack([f.beta for f in live])
            fr = np.stack([f.payload[1] for f in live])
            in1s = np.zeros_like(fr)
            for i, f in enumerate(live):
                if f.payload[0].s1:
                    in1s[i, list(f.payload[0].s1)] = True
            for i, s in enumerate(round_topk(betas, in1s, fr, self.k)):
                if s not in self.cache and s not in self._pending:
                    self._pending[s] = betas[i]
        if len(self._pending) >= self._refit_every or (
                self._pending and len(self.queue) < self.o.batch_size):
            self._flush_refits()

    def _solve_leaves(self, leaves: list[Node]) -> None:
        t0 = time.perf_counter()
        hp = self.hp
        sups = [leaf_support(nd, self.k, self.p) for nd in leaves]
        evaluate_supports(hp, sups, self.cache, self.inc)
        for nd, s in zip(leaves, sups):
            if s not in self._leaf_lbs:
                self._leaf_lbs[s] = support_bound(hp.X, hp.y, hp.loss, s, self.cache.coefs[s],
                                                  hp.lam2, hp.M)
            self.nodes += 1
            self._close(nd, max(min(self._leaf_lbs[s], self.cache.values[s]), self.floor), "leaf")
        self._tick("heuristics", t0)

    # -- node expansion ------------------------------------------------------------------
    def _expand(self, nd: Node, f: Finished, free: np.ndarray, bnd: float, thr: float,
                leaves: list[Node]) -> None:
        """Fix variables by the children bounds of the node's dual point, then branch."""
        k, p = self.k, self.p
        s1, s0 = nd.s1, nd.s0
        idx, lb_in, lb_out = child_bounds(f.w, f.lower, free, k - len(s1), self.hp.lam2, self.hp.M)
        lb_in = np.maximum(lb_in, bnd)
        lb_out = np.maximum(lb_out, bnd)
        fix0 = lb_in >= thr  # every completion with z_j = 1 is pruned: z_j = 0
        fix1 = lb_out >= thr  # every completion with z_j = 0 is pruned: z_j = 1
        if fix0.any() or fix1.any():
            if self.records is not None:
                for j, b in zip(idx[fix0], lb_in[fix0]):
                    self._record(s1 + (int(j),), s0, b, "fixed")
                for j, b in zip(idx[fix1], lb_out[fix1]):
                    self._record(s1, np.append(s0, j), b, "fixed")
            self.closed_min = min(self.closed_min, float(np.min(lb_in[fix0], initial=math.inf)),
                                  float(np.min(lb_out[fix1], initial=math.inf)))
            s0 = np.concatenate([s0, idx[fix0]])
            s1 = s1 + tuple(idx[fix1].tolist())
            if len(s1) > k:  # every completion misses some forced j: all pruned
                self._close(Node(s1, s0, bnd, nd.depth), float(np.min(lb_out[fix1])), "pruned")
                return
            nd = Node(s1, s0, bnd, nd.depth, L=nd.L, L_cols=nd.L_cols)
            if is_leaf(nd, k, p):
                leaves.append(nd)
                return
            keep = ~(fix0 | fix1)
            idx, lb_in, lb_out = idx[keep], lb_in[keep], lb_out[keep]
            free = np.zeros(p, dtype=bool)
            free[idx] = True
        self._record(nd.s1, nd.s0, bnd, "branched")
        j = branch_variable(f.beta, free)
        pos = int(np.searchsorted(idx, j))
        nz = np.flatnonzero(f.beta)
        val = f.beta[nz]
        keep0 = nz != j
        kids = (Node(nd.s1 + (j,), nd.s0, float(lb_in[pos]), nd.depth + 1, nz, val,
                     L=nd.L, L_cols=nd.L_cols),
                Node(nd.s1, np.append(nd.s0, j), float(lb_out[pos]), nd.depth + 1, nz[keep0],
                     val[keep0], L=nd.L, L_cols=nd.L_cols))
        for ch in kids:
            if ch.bound >= thr:
                self._close(ch, ch.bound, "pruned_inherited")
            elif is_leaf(ch, k, p):
                leaves.append(ch)
            else:
                self.queue.push(ch)

    def _lipschitz(self, cols: np.ndarray) -> float:
        """A Lipschitz constant for a node's columns: cheap Gershgorin / Frobenius bounds of
        the host Gram matrix when there is one, else Lanczos on X_C."""
        bound = self.hp.lipschitz_bound(cols)
        if bound is None:
            return self.smooth.lipschitz(cols)
        return float(self.hp.loss.lipschitz_factor) * bound * (1.0 + 1e-12) + 1e-300

    # -- main loop -----------------------------------------------------------------------
    def _refill(self) -> None:
        o, rb = self.o, self.rb
        t0 = time.perf_counter()
        thr = self.threshold()
        space = o.batch_size - len(rb)
        if o.node_limit is not None:
            space = min(space, o.node_limit - self.started)
        if space <= 0 or not len(self.queue) or (len(rb) and space < o.batch_size // 16):
            return  # refill in groups: every refill copies the batch state once
        self.refills += 1
        dive = o.dive_every and self.refills % o.dive_every == 0
        if dive:  # a few slots follow a depth-first dive (incumbents early), the rest best bound
            n_deep = max(1, space // 8)
            popped = self.queue.pop_deep(n_deep) + self.queue.pop_best(space - n_deep)
        else:
            popped = self.queue.pop_best(space)
        fresh = []
        for nd in popped:
            if nd.bound >= thr:
                self._close(nd, nd.bound, "pruned_inherited")
            else:
                fresh.append(nd)
        if fresh:
            in1, free, kf, warm = batch_masks(fresh, self.p, self.k)
            t0 = self._tick("queue", t0)
            for r, nd in enumerate(fresh):  # refresh step sizes after much fixing
                ncols = self.p - len(nd.s0)
                if ncols <= 0.7 * nd.L_cols or not math.isfinite(nd.L):
                    nd.L = min(nd.L, self._lipschitz(np.flatnonzero(in1[r] | free[r])))
                    nd.L_cols = ncols
            rb.add(warm, in1, free, kf, [(nd, free[r]) for r, nd in enumerate(fresh)],
                   exact=np.array([nd.depth < o.exact_depth for nd in fresh]),
                   L=np.array([nd.L for nd in fresh]))
            t0 = self._tick("bound", t0)
            self.started += len(fresh)
        self._tick("queue", t0)

    def _process(self, finished: list[Finished], stopping: bool) -> None:
        self.nodes += len(finished)
        if self.root_bound == -math.inf and finished and finished[0].payload[0].depth == 0:
            self.root_bound = finished[0].lower
        t0 = time.perf_counter()
        self._round(finished, self.threshold())
        t0 = time.perf_counter()
        thr = self.threshold()
        leaves: list[Node] = []
        for f in finished:
            nd, free = f.payload
            bnd = max(nd.bound, f.lower, self.floor)
            if bnd >= thr:
                self._close(nd, bnd, "pruned")
            elif stopping:  # unfinished work goes back to the queue with its valid bound
                self.nodes -= 1
                nd.bound = bnd
                self.queue.push(nd)
            else:
                self._expand(nd, f, free, bnd, thr, leaves)
        self._tick("queue", t0)
        if leaves:
            self._solve_leaves(leaves)

    def run(self, warm_supports: list | None = None) -> None:
        """Search until the tree is exhausted (``status`` stays None) or a limit is hit.

        The incumbent is first warm-started by beam search (stopped at the deadline), or,
        when ``warm_supports`` is given, by refitting those supports instead (an empty list:
        the cache and incumbent passed in already hold the warm start)."""
        o, rb = self.o, self.rb
        t0 = t0_run = time.perf_counter()
        if warm_supports is None:
            beam_search(self.hp, self.cache, self.inc, width=o.beam_width, expand=o.beam_width,
                        deadline=o.deadline)
        elif warm_supports:
            evaluate_supports(self.hp, list(warm_supports), self.cache, self.inc)
        self._tick("heuristics", t0)
        # nothing proven yet: the trivial bound (0 for a nonnegative loss)
        self._progress(t0, force=True, bound=0.0 if getattr(self.hp.loss, "nonnegative", False) else -math.inf)
        root = Node((), np.zeros(0, dtype=np.int64), -math.inf, 0, L=self.smooth.L_full,
                    L_cols=self.p)
        if is_leaf(root, self.k, self.p):
            self._solve_leaves([root])
            self.root_bound = self.closed_min
        else:
            self.queue.push(root)
        while True:
            if self.exhausted():
                break
            if time.perf_counter() >= o.deadline:
                self.status = "time_limit"
                break
            self._refill()
            if len(rb) == 0:
                if not len(self.queue):
                    break
                if o.node_limit is not None and self.started >= o.node_limit:
                    self.status = "node_limit"
                    break
                continue
            t0 = time.perf_counter()
            finished = rb.run(self.threshold(), o.deadline)
            self.be.synchronize()
            self._tick("bound", t0)
            self._process(finished, stopping=False)
            self._progress(t0_run)
            if o.verbose and self.refills % 50 == 0:
                print(f"[kglm] nodes {self.nodes}, open {len(self.queue) + len(rb)}, "
                      f"columns {rb.n_columns}, UB {self.inc.objective:.10g}, "
                      f"LB {self.lower_bound():.10g}")
        if len(rb):  # stopped with rows in flight: their nodes stay open with their bounds
            self._process(rb.drain(), stopping=True)
        self._flush_refits()
        self._progress(t0_run, force=True)
