"""The two baselines of Tule, Le & Say (arXiv 2112.00434, §IV-A), trained on the same splits
as the binarized MIP/PBO models.

* **LR** — multinomial logistic regression with real weights (scikit-learn's
  ``LogisticRegression``, its defaults: L2 penalty, C = 1, lbfgs; ``max_iter`` raised so it
  converges).
* **GD** — gradient descent with ternary weights and integer biases through the
  straight-through estimator, in NumPy (the paper used Larq on Keras). As in Larq's
  ``ste_tern`` quantizer: latent real weights W, forward weights
  q(W) = −1 if W < −0.05, 0 if |W| ≤ 0.05, +1 if W > 0.05, and the gradient of q passed
  through where |W| ≤ 1 (zero outside). Biases: latent real b, forward round(b) clipped to
  [−B, B], identity straight-through gradient. Softmax cross-entropy, Adam (learning rate
  0.001, β₁ = 0.9, β₂ = 0.999, ε = 1e-7 as in Keras), 200 epochs, mini-batches of 32 (Keras's
  default), Glorot-uniform initial weights and zero biases (Keras's defaults), fixed seed.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Larq ``ste_tern`` defaults.
TERNARY_THRESHOLD = 0.05
STE_CLIP = 1.0


@dataclass
class LinearModel:
    """Scores = X @ W + b; predicted class = argmax (ties to the lowest index)."""

    W: np.ndarray   # F × C
    b: np.ndarray   # C

    def scores(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(X, dtype=float) @ self.W + self.b[None, :]

    def predict(self, X: np.ndarray) -> np.ndarray:
        return np.argmax(self.scores(X), axis=1)

    def accuracy(self, X: np.ndarray, y: np.ndarray) -> float:
        return float(np.mean(self.predict(X) == np.asarray(y))) if len(y) else float("nan")

    @property
    def zero_weight_percent(self) -> float:
        return 100.0 * float(np.mean(self.W == 0))


def fit_logistic(X: np.ndarray, y: np.ndarray, n_classes: int, *, seed: int = 0) -> LinearModel:
    """Multinomial logistic regression (real weights) over all ``n_classes`` classes.

    Classes absent from the training labels get score −inf (never predicted); a training
    set with one class predicts that class.
    """
    from sklearn.linear_model import LogisticRegression

    y = np.asarray(y, dtype=np.int64)
    F = X.shape[1]
    present = np.unique(y)
    W = np.zeros((F, n_classes))
    b = np.full(n_classes, -np.inf)
    if len(present) == 1:
        b[present[0]] = 0.0
        return LinearModel(W, b)
    model = LogisticRegression(max_iter=10_000, random_state=seed).fit(np.asarray(X, dtype=float), y)
    if len(present) == 2:  # scikit-learn returns one score column: class 1 vs class 0
        coef = np.vstack([-model.coef_[0] / 2, model.coef_[0] / 2])
        intercept = np.array([-model.intercept_[0] / 2, model.intercept_[0] / 2])
    else:
        coef, intercept = model.coef_, model.intercept_
    W[:, present] = coef.T
    b[present] = intercept
    return LinearModel(W, b)


def ternarize(W: np.ndarray, threshold: float = TERNARY_THRESHOLD) -> np.ndarray:
    """Larq ``ste_tern`` forward pass: −1, 0, +1 with a dead zone of ±``threshold``."""
    return np.where(W > threshold, 1.0, np.where(W < -threshold, -1.0, 0.0))


def _softmax(Z: np.ndarray) -> np.ndarray:
    Z = Z - Z.max(axis=1, keepdims=True)
    E = np.exp(Z)
    return E / E.sum(axis=1, keepdims=True)


def fit_ternary_gd(
    X: np.ndarray,
    y: np.ndarray,
    n_classes: int,
    *,
    B: int,
    epochs: int = 200,
    learning_rate: float = 1e-3,
    batch_size: int = 32,
    seed: int = 0,
) -> LinearModel:
    """Train ternary weights / integer biases by STE + Adam (module docstring); returns the
    quantised model (integer ``W`` in {−1, 0, 1}, integer ``b`` in [−B, B])."""
    rng = np.random.default_rng(seed)
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=np.int64)
    n, F = X.shape
    limit = np.sqrt(6.0 / (F + n_classes))
    params = [rng.uniform(-limit, limit, size=(F, n_classes)), np.zeros(n_classes)]
    moments = [[np.zeros_like(p), np.zeros_like(p)] for p in params]
    beta1, beta2, eps = 0.9, 0.999, 1e-7
    onehot = np.eye(n_classes)[y]
    step = 0
    for _ in range(epochs):
        order = rng.permutation(n)
        for start in range(0, n, batch_size):
            batch = order[start:start + batch_size]
            W, b = params
            Wq, bq = ternarize(W), np.clip(np.rint(b), -B, B)
            G = (_softmax(X[batch] @ Wq + bq) - onehot[batch]) / len(batch)
            grads = [(X[batch].T @ G) * (np.abs(W) <= STE_CLIP), G.sum(axis=0)]
            step += 1
            for p, g, (m, v) in zip(params, grads, moments):
                m *= beta1
                m += (1 - beta1) * g
                v *= beta2
                v += (1 - beta2) * g * g
                m_hat = m / (1 - beta1**step)
                v_hat = v / (1 - beta2**step)
                p -= learning_rate * m_hat / (np.sqrt(v_hat) + eps)
    W, b = params
    return LinearModel(ternarize(W).astype(np.int64), np.clip(np.rint(b), -B, B).astype(np.int64))
