"""Certified node lower bounds by weak duality (FORMULATIONS.md §8, ``kglm.bnb``).

For a node (S1, S0, free, k' = k - |S1|) the perspective relaxation is

    P = min_beta F(X beta) + g(beta)        (g: see :mod:`.prox`)

and its Fenchel dual is max_zeta D(zeta) with

    D(zeta) = -F*(-zeta) - g*(X^T zeta).

Weak duality, F(X beta) >= -F*(-zeta) - zeta^T X beta and g(beta) >= (X^T zeta)^T beta -
g*(X^T zeta), gives D(zeta) <= F(X beta) + g(beta) for EVERY zeta and beta; hence D(zeta) is
a valid lower bound on the relaxation and on every completion of the node (the
relaxation's feasible set contains every k-sparse beta consistent with S1 / S0).  Only such
D values prune in :mod:`.api`.  The dual point used is zeta = -grad F(X beta) at the current
first-order iterate (the residual y - X beta for least squares, y * sigmoid(-y X beta) for
logistic, which lies in the domain of F*(-.)); at the relaxation optimum D(zeta) = P
(strong duality; tested in ``tests/kglm/test_bounds.py``).

These helpers work on any array module ``xp`` and on batches (rows = nodes).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .losses import Loss
from .prox import conj_value, penalty_value

__all__ = ["dual_bound", "dual_bound_at", "relaxation_value", "support_bound"]


def dual_bound(neg_conj: Any, XtZeta: Any, in1: Any, free: Any, kf: Any, lam2: float, M: float,
               xp: Any = np) -> Any:
    """D(zeta) per row from -F*(-zeta) (``neg_conj``) and X^T zeta (``XtZeta``)."""
    return neg_conj - conj_value(XtZeta, in1, free, kf, lam2, M, xp)


def dual_bound_at(X: Any, y: Any, loss: Loss, beta: Any, in1: Any, free: Any, kf: Any,
                  lam2: float, M: float, xp: Any = np, zeta: Any = None) -> Any:
    """D(zeta) for the dual point zeta = -grad F(X beta) of each row of ``beta`` (or for the
    given ``zeta`` rows)."""
    if zeta is None:
        zeta = loss.dual_point(xp.atleast_2d(beta) @ X.T, y, xp)
    zeta = xp.atleast_2d(zeta)
    return dual_bound(loss.neg_conj(zeta, y, xp), zeta @ X, xp.atleast_2d(in1),
                      xp.atleast_2d(free), xp.atleast_1d(xp.asarray(kf)), lam2, M, xp)


def relaxation_value(X: Any, y: Any, loss: Loss, beta: Any, in1: Any, free: Any, kf: Any,
                     lam2: float, M: float, xp: Any = np) -> Any:
    """Primal objective of the node relaxation, F(X beta) + g(beta), per row."""
    beta = xp.atleast_2d(beta)
    return loss.value(beta @ X.T, y, xp) + penalty_value(
        beta, xp.atleast_2d(in1), xp.atleast_2d(free), xp.atleast_1d(xp.asarray(kf)), lam2, M, xp)


def support_bound(X: np.ndarray, y: np.ndarray, loss: Loss, support: tuple, coef_s: np.ndarray,
                  lam2: float, M: float) -> float:
    """D(zeta) for a leaf whose completions are the single support ``support`` (S1 = support,
    no free coordinate), at zeta = -grad F(X_S coef_s); O(n |S|).  Equals ``dual_bound_at``
    with S1 = support (S0 columns contribute nothing to g*)."""
    from .prox import h_conj

    cols = list(support)
    Xs = X[:, cols]
    zeta = loss.dual_point(Xs @ coef_s, y, np)
    w = zeta @ Xs
    return float(loss.neg_conj(zeta, y, np) - np.sum(h_conj(w, lam2, M, np)))
