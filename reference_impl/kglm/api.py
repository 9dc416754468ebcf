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
3. lower_bound = min(incumbent, bounds of open nodes, bounds of every closed node), in the
   original problem's scale, lowered by the eigenvalue shift's rounding margin (least
   squares, :mod:`.shift`), raised to 0 (losses and ridge are nonnegative: 0 is valid even
   when no node was processed) and never above the incumbent objective re-evaluated on the
   original data;  gap = |primal - bound| / max(|primal|, 1e-10) (0 when both are 0, inf
   without an incumbent).  Status: ``"optimal"`` when the tree is exhausted (every node
   closed: the gap reported is the honest one, <= gap_tol up to floating-point rounding),
   ``"time_limit"`` / ``"node_limit"`` when stopped early.  No other status exists.

The eigenvalue shift is used only when its rounding margin is below a tenth of the
tolerance the incumbent needs (0.1·max(gap_tol, 1e-9)·incumbent): on a near-perfect fit the
optimum is too small for the shifted problem to certify it, and the plain problem is solved.
The beam-search warm start runs first on the plain problem (it decides that) and stops at
the deadline, as does everything after it.

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
from .heuristics import HostProblem, Incumbent, SupportCache, beam_search
from .losses import Loss, SquaredLoss, get_loss
from .node_batch import RelaxOptions, SmoothPart
from .search import BranchAndBound, SearchOptions
from .shift import Shift
from .shift import eigen_shift as eigen_shift_of
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


def _choose_shift(hp: HostProblem, loss: Loss, lambda2: float, gap_tol: float,
                  incumbent: float) -> Shift | None:
    """The eigenvalue shift (least squares, n > p), or None when it would not help or when
    its rounding margin could not certify the incumbent (``incumbent`` tiny against ‖y‖²)."""
    if not isinstance(loss, SquaredLoss) or hp.n <= hp.p:
        return None
    shift = eigen_shift_of(hp.X, hp.y, lambda2, gram=hp.Q)
    if shift is None or not math.isfinite(incumbent):
        return None
    if shift.error > 0.1 * max(gap_tol, 1e-9) * max(incumbent, 0.0):
        return None
    return shift


def _clamp_bound(bound: float, objective: float, floor: float) -> float:
    """A reported lower bound: at least ``floor`` (0 for a nonnegative loss), at most the
    incumbent objective (valid: the optimum is at most any feasible objective)."""
    return min(max(bound, floor), objective)


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
        tighter; objectives and bounds are reported for the original problem.  Skipped
        automatically when the shift's rounding margin is too coarse for the incumbent (a
        near-perfect fit, objective tiny against ‖y‖²).

    Returns a :class:`KGLMResult` whose ``status`` is ``"optimal"`` (tree exhausted),
    ``"time_limit"`` or ``"node_limit"``; ``lower_bound`` is always a valid bound in
    [0, objective] for the built-in losses.
    """
    t0 = time.perf_counter()
    Xh, yh, k, lam2, Mf = validate_problem(X, y, k, loss, lambda2, M)
    backend, B, tlim, gap_tol, node_limit = validate_options(backend, batch_size, time_limit,
                                                             gap_tol, node_limit)
    deadline = t0 + tlim
    loss_obj = get_loss(loss)
    be = get_backend(backend)
    timings = {"bound": 0.0, "heuristics": 0.0, "queue": 0.0, "transfer": 0.0, "setup": 0.0,
               "total": 0.0}
    hp0 = HostProblem(Xh, yh, loss_obj, k, lam2, Mf)
    floor = 0.0 if getattr(loss_obj, "nonnegative", False) else -math.inf
    # warm start on the plain problem: its incumbent decides whether the shift can certify it
    timings["setup"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    cache0, inc0 = SupportCache(), Incumbent()
    beam_search(hp0, cache0, inc0, width=beam_width, expand=beam_width, deadline=deadline)
    timings["heuristics"] += time.perf_counter() - t1
    t1 = time.perf_counter()
    shift = _choose_shift(hp0, loss_obj, lam2, gap_tol, inc0.objective) if eigen_shift else None
    if shift is not None:
        hp = HostProblem(shift.X, shift.y, loss_obj, k, shift.lambda2, Mf)
        offset, margin = shift.constant, shift.error
        warm = sorted(cache0.values, key=cache0.values.get)[:max(1, beam_width)]
        cache, inc = None, None
    else:
        hp, offset, margin, warm, cache, inc = hp0, 0.0, 0.0, [], cache0, inc0
    smooth = SmoothPart(hp.X, hp.y, loss_obj, be.xp, to_device=be.to_device)
    relax = RelaxOptions(max_iter=max_iter,
                         rtol=min(1e-9, 0.1 * gap_tol) if gap_tol > 0 else 1e-12)
    opts = SearchOptions(batch_size=B, gap_tol=gap_tol, node_limit=node_limit,
                         deadline=deadline, trace=trace, beam_width=beam_width,
                         dive_every=dive_every, exact_depth=exact_depth, verbose=verbose,
                         relax=relax, objective_offset=offset, objective_margin=margin)
    timings["setup"] += time.perf_counter() - t1

    bnb = BranchAndBound(hp, smooth, be, opts, timings, cache=cache, inc=inc)
    bnb.run(warm_supports=warm)

    coef = bnb.inc.coef if bnb.inc.coef is not None else np.zeros(hp.p)
    if bnb.inc.coef is not None:  # re-evaluate the incumbent on the original data
        ub = float(np.sum(loss_obj.value((Xh @ coef)[None, :], yh, np))) + lam2 * float(coef @ coef)
    else:
        ub = bnb.inc.objective + offset
    if shift is not None and math.isfinite(ub):
        # the shift's identity checked at the incumbent: a larger discrepancy widens the margin
        margin = max(margin, 4.0 * abs(ub - (bnb.inc.objective + offset)))
    bound_offset = offset - margin  # shifted-scale bound -> valid original-scale bound
    if bnb.records:
        for record in bnb.records:  # bounds of the original problem
            record["bound"] += bound_offset
    lower = _clamp_bound(bnb.lower_bound() + bound_offset, ub, floor)
    gap = relative_gap(ub, lower)
    status = bnb.status if bnb.status is not None else "optimal"  # None: tree exhausted
    timings["transfer"] = be.transfer_seconds
    timings["total"] = time.perf_counter() - t0
    root = bnb.root_bound + bound_offset
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
        root_bound=float(min(max(root, floor), ub)) if math.isfinite(root) else float(root),
        iterations=int(bnb.rb.row_iterations),
        batches=int(bnb.refills),
        trace=bnb.records,
        progress=[(t, u + offset, _clamp_bound(b + bound_offset, u + offset, floor))
                  for t, u, b in bnb.progress],
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
    from .kernels import compile_layouts

    compile_layouts()  # the Fortran-ordered variants larger logistic problems reach
    return time.perf_counter() - start
