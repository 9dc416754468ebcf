"""Incumbents: exact refits on a support, top-k rounding and beam search (FORMULATIONS.md §8;
beam search as in OKRidge, Liu et al. NeurIPS 2023, warm start of the tree; rounding of node
relaxations as in Liu & Lodi, arXiv 2605.22188).

Everything here runs on the host in float64 NumPy.

* :func:`refit_supports` solves min_{beta_S} F(X_S beta_S) + lambda2 ||beta_S||^2,
  |beta_S| <= M for many supports at once by a batched projected Newton method (Bertsekas
  1982): an epsilon-active set of coordinates at the box, a Newton step on the others with
  the batched Hessian X_S^T diag(f'') X_S + 2 lambda2 I, and an Armijo search along the
  projected arc.  For least squares it ends in a few steps (exact solve once the active set
  is right) and, with a host Gram matrix (p <= 4000), never touches the n samples.  Losses
  without ``hess_diag`` are refitted with L-BFGS-B.  Objectives are then recomputed from the
  coefficients in float64 (:func:`objective`).
* :func:`round_topk` turns node relaxation solutions into supports (S1 plus the k - |S1|
  free coordinates with the largest |beta_j|).
* :func:`beam_search` grows supports one coordinate at a time, scoring each candidate j by
  the guaranteed decrease of a one-coordinate step on the quadratic upper model (curvature
  L_F ||x_j||^2 + 2 lambda2, box-clipped), keeping the ``width`` best refitted supports.
* :class:`SupportCache` remembers every refitted support so no support is solved twice.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np

from .losses import Loss, SquaredLoss

__all__ = ["HostProblem", "SupportCache", "refit_supports", "evaluate_supports", "objective",
           "support_objective", "round_topk", "beam_search", "Incumbent"]


@dataclass
class HostProblem:
    """The problem data on the host (float64)."""

    X: np.ndarray
    y: np.ndarray
    loss: Loss
    k: int
    lam2: float
    M: float

    def __post_init__(self) -> None:
        self.XT = np.ascontiguousarray(self.X.T)
        self.colsq = np.einsum("ij,ij->j", self.X, self.X)
        self.n, self.p = self.X.shape
        # host Gram matrix (p <= 4000): least-squares refits work in support space through
        # it, and it gives cheap Lipschitz bounds for node step sizes (any loss)
        self.Q = self.X.T @ self.X if self.p <= 4000 else None
        self.gram = self.Q if isinstance(self.loss, SquaredLoss) else None
        if self.gram is not None:
            self.Xty = self.X.T @ self.y
            self.yy = float(self.y @ self.y)

    def lipschitz_bound(self, cols: np.ndarray) -> float | None:
        """An upper bound of lambda_max(X_C^T X_C) in O(|C|^2): min of the Gershgorin and
        Frobenius bounds of Q_CC (None without a host Gram matrix)."""
        if self.Q is None:
            return None
        Qc = np.abs(self.Q[np.ix_(cols, cols)])
        return float(min(Qc.sum(axis=1).max(), math.sqrt(float(np.sum(Qc * Qc)))))


def objective(prob: HostProblem, coef: np.ndarray) -> float:
    """F(X coef) + lambda2 ||coef||^2 recomputed on the host in float64."""
    coef = np.asarray(coef, dtype=np.float64)
    nz = np.flatnonzero(coef)
    v = prob.X[:, nz] @ coef[nz] if nz.size < prob.p // 2 else prob.X @ coef
    return float(prob.loss.value(v, prob.y, np) + prob.lam2 * float(coef[nz] @ coef[nz]))


@dataclass
class Incumbent:
    """Best known feasible solution."""

    objective: float = math.inf
    coef: np.ndarray | None = None
    support: tuple[int, ...] = ()

    def offer(self, obj: float, coef: np.ndarray, support: tuple[int, ...]) -> bool:
        if obj < self.objective:
            self.objective = float(obj)
            self.coef = np.array(coef, dtype=np.float64)
            self.support = tuple(support)
            return True
        return False


@dataclass
class SupportCache:
    """Objective of every support refitted so far (key: sorted index tuple)."""

    values: dict = field(default_factory=dict)
    coefs: dict = field(default_factory=dict)  # support -> coefficients on the support

    def dense(self, s: tuple[int, ...], p: int) -> np.ndarray:
        c = np.zeros(p)
        c[list(s)] = self.coefs[s]
        return c

    def __contains__(self, s: tuple[int, ...]) -> bool:
        return s in self.values

    def __len__(self) -> int:
        return len(self.values)


def _refit_group(prob: HostProblem, idx: np.ndarray, beta0: np.ndarray | None,
                 max_iter: int = 100) -> np.ndarray:
    """Projected Newton for U supports of equal size s (idx: U x s). Returns U x s coefs.

    Least squares with a Gram matrix works in the s-dimensional space only:
    f(b) = ||y||^2 / 2 - b.c + b^T H b / 2 with H = X_S^T X_S + 2 lambda2 I, c = X_S^T y.
    Other losses evaluate V = X_S b (batched products) and the Hessian X_S^T diag(f'') X_S."""
    loss, lam2, M, y = prob.loss, prob.lam2, prob.M, prob.y
    U, s = idx.shape
    finite_box = not math.isinf(M)
    b = np.zeros((U, s)) if beta0 is None else np.clip(beta0, -M, M)
    eye = np.eye(s)
    quad = prob.gram is not None
    if quad:
        H0 = prob.gram[idx[:, :, None], idx[:, None, :]] + 2.0 * lam2 * eye
        c0 = prob.Xty[idx]
        half_yy = 0.5 * prob.yy

        def fval(bb, rows):
            Hb = np.matmul(H0[rows], bb[:, :, None])[:, :, 0]
            lin = np.einsum("us,us->u", bb, c0[rows])
            return half_yy - lin + 0.5 * np.einsum("us,us->u", bb, Hb), Hb

        def grad_hess(bb, aux, rows):
            return aux - c0[rows], H0[rows]
    else:
        XS = prob.XT[idx]  # U x s x n

        def fval(bb, rows):
            V = np.matmul(bb[:, None, :], XS[rows])[:, 0, :]
            return loss.value(V, y, np) + lam2 * np.einsum("us,us->u", bb, bb), V

        def grad_hess(bb, aux, rows):
            Xr = XS[rows]
            G = loss.grad(aux, y, np)
            g = np.matmul(Xr, G[:, :, None])[:, :, 0] + 2.0 * lam2 * bb
            w = loss.hess_diag(aux, y, np)
            H = np.matmul(Xr * w[:, None, :], Xr.transpose(0, 2, 1)) + 2.0 * lam2 * eye
            return g, H

    rows = np.arange(U)
    f, aux = fval(b, rows)
    for _ in range(max_iter):
        if rows.size == 0:
            break
        br = b[rows]
        g, H = grad_hess(br, aux, rows)
        if finite_box:
            step = np.abs(br - np.clip(br - g, -M, M)).max(axis=1, keepdims=True)
            eps = np.minimum(1e-10 * M, step)
            act = ((br >= M - eps) & (g < 0)) | ((br <= -M + eps) & (g > 0))
        else:
            act = np.zeros_like(br, dtype=bool)
        pg = np.where(act, 0.0, g)
        tr = np.trace(H, axis1=1, axis2=2).reshape(-1, 1, 1)
        H = H + (1e-13 * tr / s + 1e-300) * eye
        both = act[:, :, None] | act[:, None, :]
        Hr = np.where(both, 0.0, H) + np.where(act, 1.0, 0.0)[:, :, None] * eye
        d = np.linalg.solve(Hr, -pg[:, :, None])[:, :, 0]
        d = np.where(act, 0.0, d)
        dec = -np.einsum("us,us->u", pg, d)
        fr = f[rows]
        small = dec <= 1e-24 * np.maximum(1.0, np.abs(fr))
        alpha = np.ones(rows.size)
        acc = np.zeros(rows.size, dtype=bool)
        newb = br.copy()
        newf = fr.copy()
        newaux = aux.copy()
        pend = np.flatnonzero(~small)
        for _ls in range(60):
            if pend.size == 0:
                break
            cand = br[pend] + alpha[pend, None] * d[pend]
            if finite_box:
                cand = np.clip(cand, -M, M)
            fc, auxc = fval(cand, rows[pend])
            ok = fc <= fr[pend] + 1e-4 * np.einsum("us,us->u", g[pend], cand - br[pend])
            okr = pend[ok]
            newb[okr], newf[okr], newaux[okr] = cand[ok], fc[ok], auxc[ok]
            acc[okr] = True
            pend = pend[~ok]
            alpha[pend] *= 0.5
        b[rows] = newb
        f[rows] = newf
        improved = acc & (newf < fr - 1e-15 * np.abs(fr))
        keep = ~small & improved
        rows, aux = rows[keep], newaux[keep]
    return b


def _refit_lbfgs(prob: HostProblem, sup: np.ndarray) -> np.ndarray:
    from scipy.optimize import minimize

    XS = prob.X[:, sup]
    loss, lam2 = prob.loss, prob.lam2

    def fg(bb: np.ndarray) -> tuple[float, np.ndarray]:
        v = XS @ bb
        return (float(loss.value(v, prob.y, np) + lam2 * bb @ bb),
                XS.T @ loss.grad(v, prob.y, np) + 2 * lam2 * bb)

    bnd = None if math.isinf(prob.M) else [(-prob.M, prob.M)] * sup.size
    res = minimize(fg, np.zeros(sup.size), jac=True, method="L-BFGS-B", bounds=bnd,
                   options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 5000})
    return res.x


def support_objective(prob: HostProblem, support: Sequence[int], coef_s: np.ndarray) -> float:
    """F(X_S coef_S) + lambda2 ||coef_S||^2 recomputed on the host in float64."""
    cols = list(support)
    v = prob.X[:, cols] @ coef_s if cols else np.zeros(prob.n)
    return float(prob.loss.value(v, prob.y, np) + prob.lam2 * float(coef_s @ coef_s))


def refit_supports(prob: HostProblem, supports: Sequence[tuple[int, ...]],
                   warm: Sequence[np.ndarray | None] | None = None
                   ) -> tuple[list[np.ndarray], np.ndarray]:
    """Best coefficients on each support (arrays aligned with the support tuples) and their
    objectives recomputed in float64.  ``warm`` holds optional dense p-vector starts."""
    coefs: list[np.ndarray] = [np.zeros(len(s)) for s in supports]
    objs = np.empty(len(supports))
    by_size: dict[int, list[int]] = {}
    for i, s in enumerate(supports):
        by_size.setdefault(len(s), []).append(i)
    for s, members in by_size.items():
        if s == 0:
            continue
        idx = np.array([supports[i] for i in members], dtype=np.int64).reshape(len(members), s)
        if getattr(prob.loss, "hess_diag", None) is None:
            bs = np.stack([_refit_lbfgs(prob, row) for row in idx])
        else:
            b0 = None
            if warm is not None:
                b0 = np.stack([np.zeros(s) if warm[i] is None else warm[i][idx[r]]
                               for r, i in enumerate(members)])
            bs = np.empty((len(members), s))
            chunk = max(1, int(2e7 // max(1, s * prob.n)))  # bound the U x s x n gather
            for c0 in range(0, len(members), chunk):
                sl = slice(c0, c0 + chunk)
                bs[sl] = _refit_group(prob, idx[sl], None if b0 is None else b0[sl])
        for r, i in enumerate(members):
            coefs[i] = bs[r].copy()
    for i, (sup, c) in enumerate(zip(supports, coefs)):
        objs[i] = support_objective(prob, sup, c)
    return coefs, objs


def evaluate_supports(prob: HostProblem, supports: Iterable[tuple[int, ...]], cache: SupportCache,
                      inc: Incumbent, warm: dict | None = None
                      ) -> list[tuple[tuple[int, ...], float]]:
    """Refit the supports not yet in ``cache``, record them, offer them to the incumbent."""
    new = []
    seen = set()
    for s in supports:
        if s not in cache and s not in seen:
            seen.add(s)
            new.append(s)
    out = []
    if new:
        w = [None if warm is None else warm.get(s) for s in new]
        coefs, objs = refit_supports(prob, new, w if warm is not None else None)
        for s, c, o in zip(new, coefs, objs):
            cache.values[s] = float(o)
            cache.coefs[s] = c
            if o < inc.objective:
                dense = np.zeros(prob.p)
                dense[list(s)] = c
                inc.offer(float(objective(prob, dense)), dense, s)
            out.append((s, float(o)))
    return out


def round_topk(beta: np.ndarray, in1: np.ndarray, free: np.ndarray, k: int
               ) -> list[tuple[int, ...]]:
    """Support S1 + (the k - |S1| largest |beta_j| over free j) for each row of ``beta``."""
    B, p = beta.shape
    score = np.where(free, np.abs(beta), -1.0)
    score = np.where(in1, np.inf, score)
    kk = min(k, p)
    part = np.argpartition(-score, kk - 1, axis=1)[:, :kk]
    sups = []
    for r in range(B):
        cols = part[r]
        cols = cols[score[r, cols] >= 0.0]
        sups.append(tuple(sorted(int(j) for j in cols)))
    return sups


def beam_search(prob: HostProblem, cache: SupportCache, inc: Incumbent, width: int = 8,
                expand: int = 8, deadline: float = math.inf) -> bool:
    """OKRidge-style beam search from the empty support up to size k (updates ``inc``).

    Stops early, between two support sizes, once ``time.perf_counter() >= deadline``; the
    incumbent then holds the best (feasible, smaller) support refitted so far.  Returns True
    when it ran to the end, False when the deadline cut it short."""
    loss, lam2, M = prob.loss, prob.lam2, prob.M
    curv = float(loss.lipschitz_factor) * prob.colsq + 2.0 * lam2
    beams: list[tuple[tuple[int, ...], np.ndarray]] = [((), np.zeros(prob.p))]
    if inc.coef is None:  # beta = 0 is feasible: an incumbent exists from the start
        evaluate_supports(prob, [()], cache, inc)
    for _size in range(prob.k):
        if time.perf_counter() >= deadline:
            return False
        C = np.stack([c for _, c in beams])
        G = loss.grad(C @ prob.XT, prob.y, np) @ prob.X + 2.0 * lam2 * C
        delta = -G / curv
        if not math.isinf(M):
            delta = np.clip(delta, -M, M)
        gain = -(G * delta + 0.5 * curv * delta * delta)
        cands: list[tuple[int, ...]] = []
        for r, (sup, _) in enumerate(beams):
            sc = gain[r].copy()
            if sup:
                sc[list(sup)] = -np.inf
            m = min(expand, prob.p - len(sup))
            if m <= 0:
                continue
            top = np.argpartition(-sc, m - 1)[:m]
            for j in top:
                cands.append(tuple(sorted(sup + (int(j),))))
        cands = list(dict.fromkeys(cands))
        if not cands:
            break
        evaluate_supports(prob, cands, cache, inc)
        scored = sorted(cands, key=lambda s: cache.values[s])[:width]
        beams = [(s, cache.dense(s, prob.p)) for s in scored]
    return True
