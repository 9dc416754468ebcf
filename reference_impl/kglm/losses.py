"""Losses F of the k-sparse GLM problem (FORMULATIONS.md §8; Liu & Lodi, "From Sequential
Nodes to GPU Batches: Parallel Branch and Bound for Optimal k-Sparse GLMs", arXiv 2605.22188).

A loss is one small class acting on the linear predictions ``v = X beta`` (rows of a batch
``V`` of shape (B, n) or a single vector of shape (n,)); every method takes the array module
``xp`` so the same code runs on NumPy and CuPy:

* ``value(V, y, xp)``     F(v) = sum_i f(v_i; y_i), one value per row;
* ``grad(V, y, xp)``      dF/dv, elementwise;
* ``dual_point(V, y, xp)`` zeta = -grad F(v), which lies in dom F*(-.) by construction;
* ``neg_conj(Z, y, xp)``  -F*(-zeta) per row (zeta first projected into the domain);
* ``lipschitz_factor``    L_F with ||grad F(u) - grad F(v)|| <= L_F ||u - v||, so the smooth
  part beta -> F(X beta) has gradient Lipschitz constant L_F * ||X||_2^2;
* ``hess_diag(V, y, xp)`` optional, d^2 f / dv^2 elementwise (the Newton refit of supports
  uses it; a loss without it is refitted with L-BFGS-B instead);
* ``nonnegative`` optional, True when F >= 0 (then 0 also bounds every node: it keeps
  floating-point noise of dual bounds from reporting a gap on perfect fits).

Weak duality used by the node bounds (see :mod:`.bounds`): Fenchel-Young with u = -zeta
gives F(v) >= -F*(-zeta) - zeta^T v for every zeta, and combined with g(beta) >=
beta^T w - g*(w) at w = X^T zeta this yields LB(zeta) = -F*(-zeta) - g*(X^T zeta).

Conjugates
----------
* squared, f(v) = (y - v)^2 / 2:  -F*(-zeta) = zeta^T y - ||zeta||^2 / 2  (all zeta).
* logistic, f(v) = log(1 + exp(-y v)), y in {-1, +1}: with s_i = y_i zeta_i,
  -F*(-zeta) = sum_i H(s_i), H(s) = -s log s - (1 - s) log(1 - s), domain s in [0, 1].
  The dual point -grad F(v) has s_i = sigmoid(-y_i v_i) in [0, 1]; we still clip s into
  [0, 1] so any zeta gives a finite, valid value.
"""
from __future__ import annotations

from typing import Any

__all__ = ["Loss", "SquaredLoss", "LogisticLoss", "get_loss"]


def _sigmoid(t: Any, xp: Any) -> Any:
    # 0.5 * (1 + tanh(t / 2)) is overflow-free and always lies in [0, 1] in floating point.
    return 0.5 * (1.0 + xp.tanh(0.5 * t))


class Loss:
    """Interface of a separable GLM loss F(v) = sum_i f(v_i; y_i)."""

    name: str = "loss"
    lipschitz_factor: float = 1.0
    nonnegative: bool = False  # F >= 0 everywhere: 0 is then a valid bound for every node

    def value(self, V: Any, y: Any, xp: Any) -> Any:  # pragma: no cover - interface
        raise NotImplementedError

    def grad(self, V: Any, y: Any, xp: Any) -> Any:  # pragma: no cover - interface
        raise NotImplementedError

    def dual_point(self, V: Any, y: Any, xp: Any) -> Any:
        return -self.grad(V, y, xp)

    def neg_conj(self, Z: Any, y: Any, xp: Any) -> Any:  # pragma: no cover - interface
        raise NotImplementedError

    hess_diag = None  # optional: callable(V, y, xp) -> elementwise second derivative

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class SquaredLoss(Loss):
    """F(v) = ||y - v||^2 / 2."""

    name = "squared"
    lipschitz_factor = 1.0
    nonnegative = True

    def value(self, V: Any, y: Any, xp: Any) -> Any:
        r = y - V
        return 0.5 * xp.sum(r * r, axis=-1)

    def grad(self, V: Any, y: Any, xp: Any) -> Any:
        return V - y

    def dual_point(self, V: Any, y: Any, xp: Any) -> Any:
        return y - V

    def neg_conj(self, Z: Any, y: Any, xp: Any) -> Any:
        return xp.sum(Z * y, axis=-1) - 0.5 * xp.sum(Z * Z, axis=-1)

    def hess_diag(self, V: Any, y: Any, xp: Any) -> Any:  # type: ignore[override]
        return xp.ones_like(V)


class LogisticLoss(Loss):
    """F(v) = sum_i log(1 + exp(-y_i v_i)) with labels y_i in {-1, +1}."""

    name = "logistic"
    lipschitz_factor = 0.25
    nonnegative = True

    def value(self, V: Any, y: Any, xp: Any) -> Any:
        return xp.sum(xp.logaddexp(0.0, -(y * V)), axis=-1)

    def grad(self, V: Any, y: Any, xp: Any) -> Any:
        return -y * _sigmoid(-(y * V), xp)

    def dual_point(self, V: Any, y: Any, xp: Any) -> Any:
        return y * _sigmoid(-(y * V), xp)

    def neg_conj(self, Z: Any, y: Any, xp: Any) -> Any:
        s = xp.clip(y * Z, 0.0, 1.0)
        u = 1.0 - s
        # x log x with the convention 0 log 0 = 0
        ent = s * xp.log(xp.where(s > 0, s, 1.0)) + u * xp.log(xp.where(u > 0, u, 1.0))
        return -xp.sum(ent, axis=-1)

    def hess_diag(self, V: Any, y: Any, xp: Any) -> Any:  # type: ignore[override]
        s = _sigmoid(y * V, xp)
        return s * (1.0 - s)


_LOSSES = {"squared": SquaredLoss, "logistic": LogisticLoss}


def get_loss(loss: "str | Loss") -> Loss:
    """Return a loss object for a name (``"squared"``, ``"logistic"``) or pass one through."""
    if isinstance(loss, Loss):
        return loss
    if isinstance(loss, str) and loss in _LOSSES:
        return _LOSSES[loss]()
    if not isinstance(loss, str) and all(
        hasattr(loss, a) for a in ("value", "grad", "neg_conj", "lipschitz_factor")
    ):
        return loss  # duck-typed custom loss
    from .validation import KGLMInputError

    raise KGLMInputError(f"unknown loss {loss!r}; expected 'squared' or 'logistic'")
