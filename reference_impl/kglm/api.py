"""``solve``: certified k-sparse GLMs by batched branch and bound (FORMULATIONS.md §8,
``kglm.bnb``; Liu & Lodi, "From Sequential Nodes to GPU Batches: Parallel Branch and Bound
for Optimal k-Sparse GLMs", arXiv 2605.22188).

Problem:  min_beta F(X beta) + lambda2 ||beta||^2  s.t. ||beta||_0 <= k, ||beta||_inf <= M.

Algorithm
---------
1. Incumbent warm start by beam search (:mod:`.heuristics`).
2. Continuous batching (:class:`.node_batch.RelaxationBatch`, loop in :mod:`.search`): up
   to ``batch_size`` open nodes iterate FISTA together on their perspective relaxations;
   whenever some rows meet a stopping rule they leave the batch and the freed slots are
   refilled from the queue (best bound first; every ``dive_every``-th refill gives some
   slots to the deepest nodes: a depth-first dive), nodes whose inherited bound already
   reaches the threshold being closed unsolved.  For every row that leaves:
   a. its certified bound is D(zeta) at its best dual point (:mod:`.bounds`); the node's
      bound is max(inherited bound, D(zeta));
   b. unless pruned, its relaxation solution is rounded (S1 + the k - |S1| largest free
      |beta_j|) and the support refitted exactly; the incumbent is updated with the
      objective recomputed on the host in float64;
   c. prune iff bound >= threshold = incumbent - gap_tol * max(|incumbent|, 1e-10);
   d. otherwise variable fixing: the same dual point certifies a bound for each child
      (:func:`.node_batch.child_bounds`); a free j whose child "z_j = 1" (resp. "z_j = 0")
      has bound >= threshold is moved to S0 (resp. S1) -- that child subtree is closed by a
      certified weak-duality bound, exactly as if it had been branched and pruned;
   e. then branch on the free j with the largest |beta_j|; the children (warm-started from
      the parent's solution) inherit max(node bound, their child bound); children that are
      leaves (|S1| = k or |S1| + |free| <= k) are solved exactly at once and closed with
      the dual bound of their exact solution.
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

from ..record import relative_gap  # the project's one gap formula
from .backend import get_backend
from .heuristics import HostProblem
from .losses import get_loss
from .node_batch import RelaxOptions, SmoothPart
from .search import BranchAndBound, SearchOptions
from .validation import validate_options, validate_problem

__all__ = ["KGLMResult", "solve", "relative_gap"]


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
    #: (seconds, incumbent, lower bound) whenever either changed: the primal and dual bound
    #: over time, in the original problem's scale
    progress: list = field(default_factory=list, repr=False)


def _shift_for(X, y, loss, lambda2):
    from .losses import SquaredLoss
    from .shift import eigen_shift

    return eigen_shift(X, y, lambda2) if isinstance(loss, SquaredLoss) else None


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
    exact_depth: int = 1,
    eigen_shift: bool = True,
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
    batch_size : rows of the continuously refilled batch of node relaxations (1 = the
        sequential baseline, same code).
    time_limit : seconds (None = no limit).   gap_tol : relative gap for pruning / status.
    node_limit : maximum number of node relaxations started (None = no limit).
    seed : accepted for API stability; the algorithm is deterministic.
    trace : record every node whose bound was used (S1, S0, bound, kind) in
        ``result.trace`` (for tests and debugging; costs memory on large trees).

    Threads: on NumPy the heavy products go through the BLAS; on a loaded or shared machine
    ``OPENBLAS_NUM_THREADS=1`` avoids OpenBLAS's spinning threads competing for the cores.
    beam_width, max_iter, dive_every : beam-search width, iteration cap per node solve,
        period of depth-first refills (0 = never).
    exact_depth : nodes shallower than this are solved to full accuracy even when they
        cannot be pruned (their dual points fix variables for whole subtrees).
    eigen_shift : least squares with n > p: solve the equivalent problem with λ_min(XᵀX)/2
        moved from the loss into the ridge term (:mod:`.shift`), whose perspective bounds are
        tighter; objectives and bounds are reported for the original problem.
    """
    t0 = time.perf_counter()
    Xh, yh, k, lam2, Mf = validate_problem(X, y, k, loss, lambda2, M)
    backend, B, tlim, gap_tol, node_limit = validate_options(backend, batch_size, time_limit,
                                                             gap_tol, node_limit)
    loss_obj = get_loss(loss)
    be = get_backend(backend)
    timings = {"bound": 0.0, "heuristics": 0.0, "queue": 0.0, "transfer": 0.0, "setup": 0.0,
               "total": 0.0}
    shift = _shift_for(Xh, yh, loss_obj, lam2) if eigen_shift else None
    Xs, ys, lam2s, offset = (shift.X, shift.y, shift.lambda2, shift.constant) if shift else (Xh, yh, lam2, 0.0)
    hp = HostProblem(Xs, ys, loss_obj, k, lam2s, Mf)
    smooth = SmoothPart(Xs, ys, loss_obj, be.xp, to_device=be.to_device)
    relax = RelaxOptions(max_iter=max_iter,
                         rtol=min(1e-9, 0.1 * gap_tol) if gap_tol > 0 else 1e-12)
    opts = SearchOptions(batch_size=B, gap_tol=gap_tol, node_limit=node_limit,
                         deadline=t0 + tlim, trace=trace, beam_width=beam_width,
                         dive_every=dive_every, exact_depth=exact_depth, verbose=verbose,
                         relax=relax, objective_offset=offset)
    timings["setup"] = time.perf_counter() - t0

    bnb = BranchAndBound(hp, smooth, be, opts, timings)
    bnb.run()

    coef = bnb.inc.coef if bnb.inc.coef is not None else np.zeros(hp.p)
    if offset and bnb.records:
        for record in bnb.records:  # bounds of the original problem
            record["bound"] += offset
    lower = bnb.lower_bound() + offset
    ub = bnb.inc.objective + offset
    if shift is not None and bnb.inc.coef is not None:  # re-evaluate the incumbent on the original data
        ub = float(np.sum(loss_obj.value((Xh @ coef)[None, :], yh, np))) + lam2 * float(coef @ coef)
    gap = relative_gap(ub, lower)
    status = bnb.status
    if status is None:
        status = "optimal" if gap <= gap_tol else "numerical_limit"
    timings["transfer"] = be.transfer_seconds
    timings["total"] = time.perf_counter() - t0
    return KGLMResult(
        coef=np.asarray(coef, dtype=np.float64),
        support=np.flatnonzero(coef).astype(np.int64),
        objective=float(ub),
        lower_bound=float(lower),
        gap=float(gap),
        status=status,
        nodes=int(bnb.nodes),
        timings=timings,
        backend=be.name,
        batch_size=B,
        root_bound=float(bnb.root_bound) + offset,
        iterations=int(bnb.rb.row_iterations),
        batches=int(bnb.refills),
        trace=bnb.records,
        progress=[(t, u + offset, b + offset) for t, u, b in bnb.progress],
    )


def warm_up(backend: str = "numpy") -> float:
    """Compile (or load from numba's on-disk cache) the solver's kernels with a tiny solve of
    each loss, so that the timings that follow measure the algorithm, not the JIT; returns
    the seconds it took. Later calls in the same process cost milliseconds."""
    start = time.perf_counter()
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 8))
    y = X[:, :2].sum(axis=1) + 0.1 * rng.standard_normal(30)
    solve(X, y, k=2, lambda2=1.0, M=2.0, backend=backend)
    solve(X, np.where(y > 0, 1.0, -1.0), k=2, loss="logistic", lambda2=1.0, M=2.0, backend=backend)
    return time.perf_counter() - start
