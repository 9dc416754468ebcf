"""Batched node relaxations by accelerated proximal gradient (FORMULATIONS.md §8; Liu &
Lodi, arXiv 2605.22188, the B-nodes-at-once framework; Liu, Shafiee & Lodi, ICML 2025, the
first-order method with restarts).

B open nodes are solved together.  Their states are padded to a B x |C| layout: the iterate
``beta``, masks ``in1`` (S1), ``free`` and the budget ``kf`` = k - |S1| per row (S0 =
neither).  C is the union over the rows of their S1 and free coordinates (all other columns
are in S0 for every row, hence 0 in every iterate and absent from g*); at the root C is all
p columns, deeper in the tree variable fixing makes it much smaller.  The smooth part
beta -> F(X beta) is handled by an *oracle* whose linear map turns the whole batch into one
matrix-matrix product:

* :class:`GramOracle` (least squares, used when p <= 2n): Q = X^T X, b = X^T y; one
  B x |C| x |C| product per iteration, ``lin(beta) = beta Q_CC``, grad = Q beta - b, and
  -F*(-zeta) = (||y||^2 - beta^T Q beta) / 2 for zeta = y - X beta;
* :class:`DataOracle` (any loss): ``lin(beta) = beta X_C^T`` (B x n) and
  grad = grad F(V) X_C, two products per iteration.

FISTA keeps ``lin`` of the iterates so the extrapolated point's image follows by linearity
(no extra product); each row's step is 1 / L_i with L_i >= L_F lambda_max(X_i^T X_i) over
its own S1 + free columns (supplied by the tree: inherited from the parent, refreshed after
variable fixing).  Momentum is restarted per row with the gradient scheme of O'Donoghue &
Candès.  On NumPy the elementwise
steps (extrapolation, gradient step + prox, restart test) run as compiled numba passes
(:mod:`.kernels`); on CuPy as array expressions plus the row kernel.  Every ``check_every``
iterations each row gets

* a certified bound D(zeta) (see :mod:`.bounds`) at zeta = -grad F at the extrapolated point,
  whose X^T zeta is minus the gradient just computed (no extra product); the best bound and
  its X^T zeta are kept (the caller derives children bounds from them, :func:`child_bounds`);
* the primal relaxation value F(X beta) + g(beta) of the current iterate (an upper bound on
  the relaxation optimum).

Stopping rules are listed in :class:`RelaxOptions`.  :class:`RelaxationBatch` implements
continuous batching: finished rows leave, the caller refills the free slots, so the
products stay (up to) B rows wide instead of waiting for the slowest node of a fixed batch.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from . import kernels
from .bounds import dual_bound
from .losses import Loss, SquaredLoss
from .prox import penalty_value

__all__ = ["GramOracle", "DataOracle", "make_oracle", "SmoothPart", "RelaxOptions",
           "BatchResult", "Finished", "RelaxationBatch", "child_bounds", "solve_relaxations",
           "lipschitz_constant"]


class GramOracle:
    """Least-squares smooth part through the Gram matrix (one product per iteration)."""

    def __init__(self, Q: Any, b: Any, yy: float, xp: Any):
        self.xp, self.Q, self.b, self.yy = xp, Q, b, float(yy)

    @classmethod
    def from_data(cls, X: Any, y: Any, xp: Any) -> "GramOracle":
        return cls(X.T @ X, X.T @ y, float(y @ y), xp)

    def restrict(self, cols: Any) -> "GramOracle":
        return GramOracle(self.xp.ascontiguousarray(self.Q[cols][:, cols]), self.b[cols],
                          self.yy, self.xp)

    def lin(self, beta: Any) -> Any:
        return beta @ self.Q

    def grad(self, Ly: Any, By: Any, want_conj: bool) -> tuple[Any, Any]:
        g = Ly - self.b
        nc = 0.5 * self.yy - 0.5 * self.xp.sum(By * Ly, axis=1) if want_conj else None
        return g, nc

    def value(self, Lx: Any, Bx: Any) -> Any:
        xp = self.xp
        return 0.5 * self.yy - Bx @ self.b + 0.5 * xp.sum(Bx * Lx, axis=1)


class DataOracle:
    """Any loss: predictions V = beta X^T and gradient grad F(V) X (two products)."""

    def __init__(self, X: Any, y: Any, loss: Loss, xp: Any):
        self.xp = xp
        self.X = X
        self.XT = xp.ascontiguousarray(X.T)
        self.y = y
        self.loss = loss

    def restrict(self, cols: Any) -> "DataOracle":
        return DataOracle(self.xp.ascontiguousarray(self.X[:, cols]), self.y, self.loss, self.xp)

    def lin(self, beta: Any) -> Any:
        return beta @ self.XT

    def grad(self, Ly: Any, By: Any, want_conj: bool) -> tuple[Any, Any]:
        G = self.loss.grad(Ly, self.y, self.xp)
        g = G @ self.X
        nc = self.loss.neg_conj(-G, self.y, self.xp) if want_conj else None
        return g, nc

    def value(self, Lx: Any, Bx: Any) -> Any:
        return self.loss.value(Lx, self.y, self.xp)


def make_oracle(X: Any, y: Any, loss: Loss, xp: Any, gram: "bool | None" = None) -> Any:
    """Gram oracle for least squares with p <= 2n (unless ``gram`` says otherwise)."""
    n, p = X.shape
    if gram is None:
        gram = isinstance(loss, SquaredLoss) and p <= 2 * n and p <= 20000
    if gram and isinstance(loss, SquaredLoss):
        return GramOracle.from_data(X, y, xp)
    return DataOracle(X, y, loss, xp)


def _lambda_max(Xc: np.ndarray) -> float:
    from scipy.sparse.linalg import LinearOperator, eigsh

    n, c = Xc.shape
    if min(n, c) <= 300:
        smax = float(np.linalg.norm(Xc, 2))
        return smax * smax
    if c <= n:
        op = LinearOperator((c, c), matvec=lambda v: Xc.T @ (Xc @ v), dtype=np.float64)
    else:
        op = LinearOperator((n, n), matvec=lambda v: Xc @ (Xc.T @ v), dtype=np.float64)
    return float(eigsh(op, k=1, which="LA", tol=1e-10, return_eigenvectors=False)[0])


def lipschitz_constant(X: np.ndarray, loss: Loss) -> float:
    """L_F * ||X||_2^2 (largest eigenvalue of X^T X, 1e-6 safety margin).

    Only the speed of FISTA depends on L; bounds are certified for any iterate."""
    return float(loss.lipschitz_factor) * _lambda_max(X) * (1.0 + 1e-6)


class SmoothPart:
    """The smooth part on the device plus restrictions to column subsets.

    Columns outside the union of S1 and free coordinates of every row in a batch are zero in
    every iterate, so the batch only needs the restricted oracle (Q_CC, or X_C; cached per
    column set).  :meth:`lipschitz` gives L_F * lambda_max(X_C^T X_C) for a node's own
    columns (its FISTA step is the inverse)."""

    def __init__(self, Xh: np.ndarray, yh: np.ndarray, loss: Loss, xp: Any,
                 to_device: Callable[[np.ndarray], Any] | None = None):
        self.Xh, self.loss, self.xp = Xh, loss, xp
        self.to_device = to_device or (lambda a: a)
        self.p = Xh.shape[1]
        self.full = make_oracle(self.to_device(Xh), self.to_device(yh), loss, xp)
        self.L_full = lipschitz_constant(Xh, loss)
        self._cache: dict = {}

    def restricted(self, cols: np.ndarray) -> Any:
        if cols.size == self.p:
            return self.full
        key = cols.tobytes()
        hit = self._cache.get(key)
        if hit is None:
            if len(self._cache) >= 8:
                self._cache.clear()
            hit = self._cache[key] = self.full.restrict(self.to_device(cols))
        return hit

    def lipschitz(self, cols: np.ndarray | None = None) -> float:
        """L_F * lambda_max(X_C^T X_C) (1e-6 safety margin) for the columns ``cols``."""
        if cols is None or cols.size == self.p:
            return self.L_full
        if cols.size == 0:
            return 1.0
        return float(self.loss.lipschitz_factor) * _lambda_max(self.Xh[:, cols]) * (1.0 + 1e-6)


@dataclass
class RelaxOptions:
    """Stopping rules of the node solves.

    A row stops when (i) its bound reaches the pruning threshold, (ii) its relative duality
    gap is below ``rtol``, (iii) after ``min_iter`` iterations its primal value is below the
    threshold (no bound can prune it) and its gap is at most ``unprunable_ratio`` times the
    distance from its bound to the threshold (more iterations would barely move a bound that
    feeds the children and the variable fixing), or (iv) after ``max_iter`` iterations."""

    max_iter: int = 2000
    check_every: int = 10
    min_iter: int = 20
    rtol: float = 1e-9
    stop_unprunable: bool = True
    unprunable_ratio: float = 0.25
    shrink_ratio: float = 0.9


@dataclass
class BatchResult:
    """Per-row outcome of :func:`solve_relaxations` (host arrays)."""

    beta: np.ndarray  # B x p final iterates
    lower: np.ndarray  # B best certified bounds D(zeta)
    primal: np.ndarray  # B best primal relaxation values
    iters: np.ndarray  # B iteration counts
    w: np.ndarray  # B x p: X^T zeta of the dual point that gave ``lower``


@dataclass
class Finished:
    """A row that left the batch: its payload (the tree node), final iterate, the dual
    information of its best bound (``w`` = X^T zeta, so the caller can bound children:
    see :func:`child_bounds`), best primal relaxation value and iteration count (host)."""

    payload: Any
    beta: np.ndarray
    lower: float
    w: np.ndarray
    primal: float
    iters: int


class RelaxationBatch:
    """A persistent batch of node relaxations under FISTA (continuous batching).

    Rows are added with :meth:`add` (warm start, masks, budget, payload; host arrays in the
    full p layout) and leave through :meth:`run`, which iterates all rows together and
    returns as soon as at least one row met a stopping rule at a check.  The caller refills
    the freed slots from the node queue, so the matrix products keep (up to) ``batch_size``
    rows busy instead of waiting for the slowest node of a fixed batch.  With one row this is
    the sequential method.

    Column compaction: the device arrays use the B x |C| layout of the column set C = union
    of S1 and free coordinates over the rows (every other column is in S0 for every row, so
    it is 0 in every iterate and contributes nothing to g*).  C grows when a new row needs
    more columns and shrinks when it is much larger than needed; the restricted oracle is
    switched with it.  Each row has its own step 1 / L_i (L_i bounds the Lipschitz constant
    over that row's own columns, so a row converges as fast as it would alone).
    """

    _COLUMN_ARRAYS = ("x", "xp", "in1", "free", "w")

    def __init__(self, smooth: SmoothPart, lam2: float, M: float,
                 prox_fn: Callable[..., Any], xp: Any, opts: RelaxOptions | None = None,
                 to_host: Callable[[Any], np.ndarray] | None = None,
                 to_device: Callable[[np.ndarray], Any] | None = None, fused: bool = True):
        self.smooth, self.lam2, self.M = smooth, lam2, M
        self.prox_fn, self.xp = prox_fn, xp
        self.fused = xp is np and kernels.HAVE_NUMBA and fused
        self.opts = opts or RelaxOptions()
        self.to_host = to_host or (lambda a: a)
        self.to_device = to_device or (lambda a: a)
        self.p = smooth.p
        self.cols: np.ndarray | None = None
        self.oracle: Any = None
        self.payloads: list = []
        self.iters = np.zeros(0, dtype=np.int64)
        self.row_iterations = 0  # sum over rows of iterations performed
        self.work = 0  # sum over iterations of rows x columns
        self.work2 = 0  # sum over iterations of rows x columns^2 (Gram flop proxy)
        self._glob = 0
        self._arrays: dict | None = None

    def __len__(self) -> int:
        return len(self.payloads)

    @property
    def n_columns(self) -> int:
        return 0 if self.cols is None else int(self.cols.size)

    # -- column management -------------------------------------------------------------
    def _needed_now(self) -> np.ndarray:
        if not self.payloads:
            return np.zeros(0, dtype=np.int64)
        A = self._arrays
        used = self.to_host(self.xp.any(A["in1"] | A["free"], axis=0))
        return self.cols[np.asarray(used, dtype=bool)]

    def _recolumn(self, new_cols: np.ndarray) -> None:
        xp = self.xp
        if self.payloads and self.cols is not None:
            A = self._arrays
            common, i_old, i_new = np.intersect1d(self.cols, new_cols, assume_unique=True,
                                                  return_indices=True)
            io = self.to_device(i_old) if xp is not np else i_old
            inw = self.to_device(i_new) if xp is not np else i_new
            B = len(self.payloads)
            for key in self._COLUMN_ARRAYS:
                old = A[key]
                new = xp.zeros((B, new_cols.size), dtype=old.dtype)
                new[:, inw] = old[:, io]
                A[key] = new
        self.cols = new_cols
        self.oracle = self.smooth.restricted(new_cols)
        if self.payloads:
            A = self._arrays
            A["Lx"] = self.oracle.lin(A["x"])
            A["Lxp"] = self.oracle.lin(A["xp"])

    def add(self, beta0: np.ndarray, in1: np.ndarray, free: np.ndarray, kf: np.ndarray,
            payloads: list, exact: np.ndarray | None = None, L: np.ndarray | None = None) -> None:
        """Append rows given as host arrays in the full layout (m x p masks and warm starts).
        ``L`` gives each row's Lipschitz constant (any upper bound of L_F lambda_max over its
        S1 + free columns; default: the full one); its FISTA step is 1 / L.  Rows flagged
        ``exact`` ignore the "cannot be pruned" rule and are solved to ``rtol`` (used for the
        root, whose dual point drives the variable fixing of the whole tree)."""
        xp = self.xp
        m = len(payloads)
        if m == 0:
            return
        need = np.flatnonzero((in1 | free).any(axis=0))
        union = np.union1d(need, self._needed_now())
        if (self.cols is None or not self.payloads
                or not np.all(np.isin(union, self.cols, assume_unique=True))
                or union.size < self.opts.shrink_ratio * self.cols.size):
            self._recolumn(union)
        c = self.cols
        mask = in1[:, c] | free[:, c]
        x = self.to_device(np.where(mask, beta0[:, c], 0.0))
        new = {"x": x, "xp": x, "in1": self.to_device(np.ascontiguousarray(in1[:, c])),
               "free": self.to_device(np.ascontiguousarray(free[:, c])),
               "w": xp.zeros((m, c.size)), "tk": xp.ones(m), "tkp": xp.ones(m),
               "lb": xp.full(m, -xp.inf), "pr": xp.full(m, xp.inf),
               "kf": self.to_device(np.asarray(kf, dtype=np.int64)),
               "exact": self.to_device(np.zeros(m, dtype=bool) if exact is None
                                       else np.asarray(exact, dtype=bool)),
               "t": self.to_device(1.0 / (np.full(m, self.smooth.L_full) if L is None
                                          else np.asarray(L, dtype=np.float64)))}
        Lx = self.oracle.lin(x)
        new["Lx"], new["Lxp"] = Lx, Lx
        if self._arrays is None or not self.payloads:
            self._arrays = new
        else:
            self._arrays = {k_: xp.concatenate([self._arrays[k_], v]) for k_, v in new.items()}
        self.payloads.extend(payloads)
        self.iters = np.concatenate([self.iters, np.zeros(m, dtype=np.int64)])

    def _take(self, idx: np.ndarray) -> None:
        xp = self.xp
        d = self.to_device(idx) if xp is not np else idx
        self._arrays = {k_: v[d] for k_, v in self._arrays.items()}
        self.payloads = [self.payloads[i] for i in idx]
        self.iters = self.iters[idx]

    def _export(self, idx: np.ndarray) -> list[Finished]:
        xp, A = self.xp, self._arrays
        d = self.to_device(idx) if xp is not np else idx
        xs, ws = self.to_host(A["x"][d]), self.to_host(A["w"][d])
        lb, pr = self.to_host(A["lb"][d]), self.to_host(A["pr"][d])
        beta = np.zeros((idx.size, self.p))
        w = np.zeros((idx.size, self.p))
        beta[:, self.cols] = xs
        w[:, self.cols] = ws
        return [Finished(self.payloads[i], beta[r], float(lb[r]), w[r], float(pr[r]),
                         int(self.iters[i])) for r, i in enumerate(idx)]

    def _remove(self, done: np.ndarray) -> None:
        keep = np.flatnonzero(~done)
        if keep.size:
            self._take(keep)
        else:
            self.payloads = []
            self.iters = np.zeros(0, dtype=np.int64)
            self._arrays = None

    def drain(self) -> list[Finished]:
        """Remove and return every row (e.g. at a time limit) with its best bound so far."""
        if not self.payloads:
            return []
        out = self._export(np.arange(len(self.payloads)))
        self._remove(np.ones(len(self.payloads), dtype=bool))
        return out

    # -- iterations --------------------------------------------------------------------
    def run(self, thr: float, deadline: float = math.inf) -> list[Finished]:
        """Iterate until at least one row finishes (or the deadline); return finished rows."""
        import time

        xp, o = self.xp, self.opts
        lam2, M = self.lam2, self.M
        if not self.payloads:
            return []
        A = self._arrays
        while True:
            t = A["t"]
            self._glob += 1
            check = self._glob % o.check_every == 0
            x = A["x"]
            if self.fused:  # NumPy + numba: the elementwise FISTA steps in compiled passes
                yv, Ly = kernels.extrapolate_cpu(x, A["xp"], A["Lx"], A["Lxp"], A["tk"], A["tkp"])
                grad, nc = self.oracle.grad(Ly, yv, check)
                xn = kernels.prox_step_cpu(yv, grad, t, A["in1"], A["free"], A["kf"], lam2, M)
                Lxn = self.oracle.lin(xn)
                kernels.restart_cpu(yv, xn, x, A["tk"], A["tkp"])
            else:
                mom = ((A["tkp"] - 1.0) / A["tk"]).reshape(-1, 1)
                yv = x + mom * (x - A["xp"])
                Ly = A["Lx"] + mom * (A["Lx"] - A["Lxp"])
                grad, nc = self.oracle.grad(Ly, yv, check)
                xn = self.prox_fn(yv - t.reshape(-1, 1) * grad, t, A["in1"], A["free"], A["kf"],
                                  lam2, M)
                Lxn = self.oracle.lin(xn)
                restart = xp.sum((yv - xn) * (xn - x), axis=1) > 0.0
                tk = A["tk"]
                tk_next = 0.5 * (1.0 + xp.sqrt(1.0 + 4.0 * tk * tk))
                A["tkp"] = xp.where(restart, 1.0, tk)
                A["tk"] = xp.where(restart, 1.0, tk_next)
            A["xp"], A["Lxp"], A["x"], A["Lx"] = x, A["Lx"], xn, Lxn
            self.iters += 1
            self.row_iterations += len(self.payloads)
            self.work += len(self.payloads) * self.cols.size
            self.work2 += len(self.payloads) * self.cols.size ** 2
            if not check:
                continue
            lb = dual_bound(nc, -grad, A["in1"], A["free"], A["kf"], lam2, M, xp)
            pr = self.oracle.value(Lxn, xn) + penalty_value(xn, A["in1"], A["free"], A["kf"],
                                                            lam2, M, xp)
            better = lb > A["lb"]
            A["w"] = xp.where(better.reshape(-1, 1), -grad, A["w"])
            A["lb"] = xp.where(better, lb, A["lb"])
            A["pr"] = xp.minimum(A["pr"], pr)
            best_lb, best_pr = A["lb"], A["pr"]
            gap = best_pr - best_lb
            done = (best_lb >= thr) | (gap <= o.rtol * xp.maximum(xp.abs(best_pr), 1e-10))
            if o.stop_unprunable:
                old = self.iters >= o.min_iter
                old = self.to_device(old) if xp is not np else old
                done = done | (old & ~A["exact"] & (best_pr < thr)
                               & (gap <= o.unprunable_ratio * (thr - best_lb)))
            done_h = np.asarray(self.to_host(done), dtype=bool) | (self.iters >= o.max_iter)
            if time.perf_counter() >= deadline:
                done_h[:] = True
            if not done_h.any():
                continue
            out = self._export(np.flatnonzero(done_h))
            self._remove(done_h)
            return out


def child_bounds(w: np.ndarray, lower: float, free: np.ndarray, kf: int, lam2: float,
                 M: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Certified bounds of the two children of every free j from the node's dual point.

    With h_j = h(w_j) over the free coordinates sorted decreasingly (H_1 >= H_2 >= ...),
    moving j to S1 (budget k' - 1) changes g*(w) by -(H_{k'} - h_j) when j is outside the top
    k' (else 0), and moving j to S0 changes it by -(h_j - H_{k'+1}) when j is inside (else
    0).  The same zeta therefore certifies
        LB(S1 + j) = lower + max(H_{k'} - h_j, 0)   (j outside the top k'),
        LB(S0 + j) = lower + max(h_j - H_{k'+1}, 0) (j inside the top k'),
    where ``lower`` = D(zeta) of the node.  Returns (free indices, LB(S1 + j), LB(S0 + j)).
    Requires 1 <= k' < number of free coordinates (otherwise the node is a leaf)."""
    from .prox import h_conj

    idx = np.flatnonzero(free)
    h = h_conj(w[idx], lam2, M, np)
    order = np.argsort(-h, kind="stable")
    rank = np.empty(idx.size, dtype=np.int64)
    rank[order] = np.arange(idx.size)
    Hs = h[order]
    Hk = Hs[kf - 1]
    Hk1 = Hs[kf] if kf < idx.size else 0.0
    top = rank < kf
    lb_in = lower + np.where(top, 0.0, np.maximum(Hk - h, 0.0))
    lb_out = lower + np.where(top, np.maximum(h - Hk1, 0.0), 0.0)
    return idx, lb_in, lb_out


def solve_relaxations(
    smooth: SmoothPart,
    beta0: np.ndarray,
    in1: np.ndarray,
    free: np.ndarray,
    kf: np.ndarray,
    lam2: float,
    M: float,
    thr: float,
    backend: Any = None,
    opts: RelaxOptions | None = None,
) -> BatchResult:
    """Solve the perspective relaxations of B nodes (one fixed batch, host arrays) to their
    stopping rules; ``thr`` is the pruning threshold (incumbent minus the absolute gap
    tolerance).  ``backend`` is a :class:`~reference_impl.kglm.backend.Backend` (NumPy by
    default) and must be the one ``smooth`` was built with."""
    from .backend import get_backend

    be = backend or get_backend("numpy")
    B, p = beta0.shape
    rb = RelaxationBatch(smooth, lam2, M, be.prox, be.xp, opts, to_host=be.to_host,
                         to_device=be.to_device)
    rb.add(beta0, in1, free, kf, list(range(B)))
    beta = np.zeros((B, p))
    w = np.zeros((B, p))
    lower = np.full(B, -np.inf)
    primal = np.full(B, np.inf)
    iters = np.zeros(B, dtype=np.int64)
    while len(rb):
        for f in rb.run(thr):
            i = f.payload
            beta[i], lower[i], w[i], primal[i], iters[i] = f.beta, f.lower, f.w, f.primal, f.iters
    return BatchResult(beta, lower, primal, iters, w)
