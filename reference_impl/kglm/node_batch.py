"""Batched node relaxations by accelerated proximal gradient (FORMULATIONS.md §8; Liu &
Lodi, arXiv 2605.22188, the B-nodes-at-once framework; Liu, Shafiee & Lodi, ICML 2025, the
first-order method with restarts).

B open nodes are solved together.  Their states are padded to a B x p layout: the iterate
``beta`` (B x p), masks ``in1`` (S1), ``free`` and the budget ``kf`` = k - |S1| per row
(S0 = neither).  The smooth part beta -> F(X beta) is handled by an *oracle* whose linear map
turns the whole batch into one matrix-matrix product:

* :class:`GramOracle` (least squares, used when p <= 2n): Q = X^T X, b = X^T y; one B x p x p
  product per iteration, ``lin(beta) = beta Q``, grad = Q beta - b, and
  -F*(-zeta) = (||y||^2 - beta^T Q beta) / 2 for zeta = y - X beta;
* :class:`DataOracle` (any loss): ``lin(beta) = beta X^T`` (B x n) and grad = grad F(V) X, two
  products per iteration.

FISTA keeps ``lin`` of the iterates so the extrapolated point's image follows by linearity
(no extra product).  Momentum is restarted per row with the gradient scheme of O'Donoghue &
Candès.  Every ``check_every`` iterations (and at the first) each row gets

* a certified bound D(zeta) (see :mod:`.bounds`) at zeta = -grad F at the extrapolated point,
  whose X^T zeta is minus the gradient just computed (no extra product), and
* the primal relaxation value F(X beta) + g(beta) of the current iterate (an upper bound on
  the relaxation optimum).

A row stops when its best bound reaches the pruning threshold, when its primal value is below
the threshold (then no bound can prune it: branch), when its relative duality gap is below
``rtol``, or after ``max_iter`` iterations.  Finished rows leave the batch (the arrays are
compacted), so the matrix products shrink with the number of rows still running.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from .bounds import dual_bound
from .losses import Loss, SquaredLoss
from .prox import penalty_value, prox_batch

__all__ = ["GramOracle", "DataOracle", "make_oracle", "RelaxOptions", "BatchResult",
           "solve_relaxations", "lipschitz_constant"]


class GramOracle:
    """Least-squares smooth part through the Gram matrix (one product per iteration)."""

    def __init__(self, X: Any, y: Any, xp: Any):
        self.xp = xp
        self.Q = X.T @ X
        self.b = X.T @ y
        self.yy = float(y @ y)

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
        return GramOracle(X, y, xp)
    return DataOracle(X, y, loss, xp)


def lipschitz_constant(X: np.ndarray, loss: Loss) -> float:
    """L_F * ||X||_2^2 (largest eigenvalue of X^T X by Lanczos, 1e-6 safety margin).

    Only the speed of FISTA depends on L; bounds are certified for any iterate."""
    from scipy.sparse.linalg import LinearOperator, eigsh

    n, p = X.shape
    if min(n, p) <= 200:
        smax = float(np.linalg.norm(X, 2))
        lam = smax * smax
    else:
        if p <= n:
            op = LinearOperator((p, p), matvec=lambda v: X.T @ (X @ v), dtype=np.float64)
        else:
            op = LinearOperator((n, n), matvec=lambda v: X @ (X.T @ v), dtype=np.float64)
        lam = float(eigsh(op, k=1, which="LA", tol=1e-10, return_eigenvectors=False)[0])
    return float(loss.lipschitz_factor) * lam * (1.0 + 1e-6)


@dataclass
class RelaxOptions:
    """Stopping rules of the node solves."""

    max_iter: int = 2000
    check_every: int = 10
    min_iter: int = 20
    rtol: float = 1e-9
    stop_unprunable: bool = True


@dataclass
class BatchResult:
    """Per-row outcome of :func:`solve_relaxations` (arrays on the backend's device)."""

    beta: Any  # B x p final iterates
    lower: Any  # B best certified bounds D(zeta)
    primal: Any  # B best primal relaxation values
    iters: np.ndarray  # B iteration counts (host)


@dataclass
class Finished:
    """A row that left the batch: its payload (the tree node), final iterate (host), best
    certified bound, best primal relaxation value and iteration count."""

    payload: Any
    beta: np.ndarray
    lower: float
    primal: float
    iters: int


class RelaxationBatch:
    """A persistent batch of node relaxations under FISTA (continuous batching).

    Rows are added with :meth:`add` (warm start, masks, budget, payload) and leave through
    :meth:`run`, which iterates all rows together and returns as soon as at least one row
    has met a stopping rule at a check.  The caller refills the freed slots from the node
    queue, so the matrix products keep (up to) ``batch_size`` rows busy instead of waiting
    for the slowest node of a fixed batch.  With one row this is the sequential method.
    """

    def __init__(self, oracle: Any, L: float, lam2: float, M: float,
                 theta_fn: Callable[..., Any], xp: Any, opts: RelaxOptions | None = None,
                 to_host: Callable[[Any], np.ndarray] | None = None):
        self.oracle, self.t, self.lam2, self.M = oracle, 1.0 / L, lam2, M
        self.theta_fn, self.xp = theta_fn, xp
        self.opts = opts or RelaxOptions()
        self.to_host = to_host or (lambda a: a)
        self.payloads: list = []
        self.iters = np.zeros(0, dtype=np.int64)
        self.row_iterations = 0  # sum over rows of iterations performed
        self._glob = 0
        self._arrays: dict | None = None

    def __len__(self) -> int:
        return len(self.payloads)

    def add(self, beta0: Any, in1: Any, free: Any, kf: Any, payloads: list) -> None:
        """Append rows (device arrays ``beta0``/``in1``/``free`` m x p, ``kf`` m)."""
        xp = self.xp
        m = len(payloads)
        if m == 0:
            return
        x = xp.where(in1 | free, beta0, 0.0)
        Lx = self.oracle.lin(x)
        new = {"x": x, "xp": x, "Lx": Lx, "Lxp": Lx, "tk": xp.ones(m), "tkp": xp.ones(m),
               "lb": xp.full(m, -xp.inf), "pr": xp.full(m, xp.inf), "in1": in1, "free": free,
               "kf": xp.asarray(kf)}
        if self._arrays is None or not self.payloads:
            self._arrays = new
        else:
            self._arrays = {k_: xp.concatenate([self._arrays[k_], v]) for k_, v in new.items()}
        self.payloads.extend(payloads)
        self.iters = np.concatenate([self.iters, np.zeros(m, dtype=np.int64)])

    def _take(self, idx: np.ndarray) -> None:
        xp = self.xp
        d = xp.asarray(idx) if xp is not np else idx
        self._arrays = {k_: v[d] for k_, v in self._arrays.items()}
        self.payloads = [self.payloads[i] for i in idx]
        self.iters = self.iters[idx]

    def drain(self) -> list[Finished]:
        """Remove and return every row (e.g. at a time limit) with its best bound so far."""
        if not self.payloads:
            return []
        A = self._arrays
        beta = self.to_host(A["x"])
        lb = self.to_host(A["lb"])
        pr = self.to_host(A["pr"])
        out = [Finished(pl, beta[i], float(lb[i]), float(pr[i]), int(self.iters[i]))
               for i, pl in enumerate(self.payloads)]
        self.payloads = []
        self.iters = np.zeros(0, dtype=np.int64)
        self._arrays = None
        return out

    def run(self, thr: float, deadline: float = math.inf) -> list[Finished]:
        """Iterate until at least one row finishes (or the deadline); return finished rows."""
        import time

        xp, o, A, t = self.xp, self.opts, self._arrays, self.t
        lam2, M = self.lam2, self.M
        if not self.payloads:
            return []
        while True:
            self._glob += 1
            check = self._glob % o.check_every == 0
            mom = ((A["tkp"] - 1.0) / A["tk"]).reshape(-1, 1)
            x = A["x"]
            yv = x + mom * (x - A["xp"])
            Ly = A["Lx"] + mom * (A["Lx"] - A["Lxp"])
            grad, nc = self.oracle.grad(Ly, yv, check)
            xn = prox_batch(yv - t * grad, t, A["in1"], A["free"], A["kf"], lam2, M,
                            self.theta_fn, xp)
            Lxn = self.oracle.lin(xn)
            restart = xp.sum((yv - xn) * (xn - x), axis=1) > 0.0
            tk = A["tk"]
            tk_next = 0.5 * (1.0 + xp.sqrt(1.0 + 4.0 * tk * tk))
            A["tkp"] = xp.where(restart, 1.0, tk)
            A["tk"] = xp.where(restart, 1.0, tk_next)
            A["xp"], A["Lxp"], A["x"], A["Lx"] = x, A["Lx"], xn, Lxn
            self.iters += 1
            self.row_iterations += len(self.payloads)
            if not check:
                continue
            lb = dual_bound(nc, -grad, A["in1"], A["free"], A["kf"], lam2, M, xp)
            pr = self.oracle.value(Lxn, xn) + penalty_value(xn, A["in1"], A["free"], A["kf"],
                                                            lam2, M, xp)
            A["lb"] = xp.maximum(A["lb"], lb)
            A["pr"] = xp.minimum(A["pr"], pr)
            best_lb, best_pr = A["lb"], A["pr"]
            done = (best_lb >= thr) | (best_pr - best_lb <= o.rtol * xp.maximum(xp.abs(best_pr), 1e-10))
            if o.stop_unprunable:
                old = xp.asarray(self.iters >= o.min_iter) if xp is not np else self.iters >= o.min_iter
                done = done | ((best_pr < thr) & old)
            done_h = np.asarray(self.to_host(done)) | (self.iters >= o.max_iter)
            if time.perf_counter() >= deadline:
                done_h[:] = True
            if not done_h.any():
                continue
            d_idx = np.flatnonzero(done_h)
            dd = xp.asarray(d_idx) if xp is not np else d_idx
            beta = self.to_host(xn[dd])
            lbh = self.to_host(best_lb[dd])
            prh = self.to_host(best_pr[dd])
            out = [Finished(self.payloads[i], beta[r], float(lbh[r]), float(prh[r]),
                            int(self.iters[i])) for r, i in enumerate(d_idx)]
            keep = np.flatnonzero(~done_h)
            if keep.size:
                self._take(keep)
                A = self._arrays
            else:
                self.payloads = []
                self.iters = np.zeros(0, dtype=np.int64)
                self._arrays = None
            return out


def solve_relaxations(
    oracle: Any,
    L: float,
    beta0: Any,
    in1: Any,
    free: Any,
    kf: Any,
    lam2: float,
    M: float,
    thr: float,
    theta_fn: Callable[..., Any],
    xp: Any,
    opts: RelaxOptions | None = None,
) -> BatchResult:
    """Solve the perspective relaxations of B nodes (one fixed batch) to their stopping
    rules; ``thr`` is the pruning threshold (incumbent minus the absolute gap tolerance)."""
    B, p = beta0.shape
    rb = RelaxationBatch(oracle, L, lam2, M, theta_fn, xp, opts,
                         to_host=(lambda a: a.get()) if xp is not np else None)
    rb.add(beta0, in1, free, kf, list(range(B)))
    beta = np.zeros((B, p))
    lower = np.full(B, -np.inf)
    primal = np.full(B, np.inf)
    iters = np.zeros(B, dtype=np.int64)
    while len(rb):
        for f in rb.run(thr):
            beta[f.payload], lower[f.payload] = f.beta, f.lower
            primal[f.payload], iters[f.payload] = f.primal, f.iters
    return BatchResult(beta, lower, primal, iters)
