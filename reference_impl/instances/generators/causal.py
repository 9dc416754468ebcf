"""Observational data with confounding and a known treatment effect (matching, FORMULATIONS.md §5).

Selection on observables with exact group sizes: the covariates of the ``n_treated`` treated
units are drawn from N(μ, I) and those of the ``n_control`` controls from N(0, I), with
μⱼ = ``shift`` for the first ⌈d/2⌉ covariates and 0 for the rest. (Two Gaussians with one
covariance: the propensity score is logistic in x, logit e(x) = log(n_t/n_c) + μᵀx − ½‖μ‖².)
The rows are then shuffled, so the treated units are not a block.

Outcomes (potential outcomes model, both known):

    Y(0) = Σⱼ βⱼ xⱼ + ``noise``·ε,  βⱼ = 1/(j+1),  ε ~ N(0, 1)
    τ(x) = ``effect`` + ``effect_slope``·x₀                     (x₀ is shifted: ATT ≠ ATE)
    Y    = Y(0) + T·τ(x)

so the naive difference of means is biased by Σⱼ βⱼ μⱼ + effect_slope·(μ₀ difference) and an
estimate that compares treated units with *similar* controls removes the bias (confounding
through the shifted covariates). ``fine_balance``: a categorical column (codes 0, 1, 2) =
the last covariate x_{d−1} binned at −0.5 and 0.5 (x_{d−1} is unshifted when d ≥ 2, so the
categories have one distribution in both groups and exact fine balance, Rosenbaum, Ross &
Silber 2007, removes the chance imbalance of a prognostic covariate; βⱼ > 0 for every j).

Arrays: ``X`` (n×d), ``treatment`` (0/1 int), ``outcome`` (= Y) and ``y`` (a copy of
``outcome``: the conventions' response), ``fine_balance`` (int codes), ``tau`` (the unit
effects τ(xᵢ)), and the true *sample* effects as 0-d arrays: ``att_true`` (mean of τ over the
treated units), ``ate_true`` (mean of τ over all units) and ``att_benchmark`` (= ``att_true``:
every causal instance, synthetic or LaLonde, holds ``att_benchmark``, the value an ATT estimate
is put beside). All arithmetic is element-wise or :func:`math.fsum` (byte-deterministic).
"""
from __future__ import annotations

import math

import numpy as np

from ..numerics import exact_mean, sparse_matvec
from . import register_generator

#: cut points of x_{d−1} giving the ``fine_balance`` categories 0 (< −0.5), 1, 2 (≥ 0.5)
FINE_BALANCE_CUTS = (-0.5, 0.5)


@register_generator("causal_observational")
def causal_observational(n_treated: int, n_control: int, d: int = 4, shift: float = 0.75, effect: float = 2.0,
                         effect_slope: float = 1.0, noise: float = 1.0, seed: int = 0) -> dict[str, np.ndarray]:
    """Confounded observational data with known effects (see the module docstring)."""
    n_treated, n_control, d = int(n_treated), int(n_control), int(d)
    if n_treated < 1 or n_control < 1:
        raise ValueError(f"need at least one treated and one control unit; got {n_treated}, {n_control}")
    if d < 1:
        raise ValueError(f"need at least one covariate; got d={d}")
    rng = np.random.default_rng(seed)
    n = n_treated + n_control
    mu = np.array([float(shift) if j < (d + 1) // 2 else 0.0 for j in range(d)])
    X_treated = rng.standard_normal((n_treated, d)) + mu
    X_control = rng.standard_normal((n_control, d))
    treatment = np.concatenate([np.ones(n_treated, dtype=np.int64), np.zeros(n_control, dtype=np.int64)])
    order = rng.permutation(n)
    X = np.vstack([X_treated, X_control])[order]
    treatment = treatment[order]
    beta = np.array([1.0 / (j + 1) for j in range(d)])
    y0 = sparse_matvec(X, beta) + float(noise) * rng.standard_normal(n)
    tau = float(effect) + float(effect_slope) * X[:, 0]
    outcome = y0 + treatment * tau
    last = X[:, d - 1]
    fine = (last >= FINE_BALANCE_CUTS[0]).astype(np.int64) + (last >= FINE_BALANCE_CUTS[1]).astype(np.int64)
    att = exact_mean(tau[treatment == 1])
    ate = exact_mean(tau)
    if not (math.isfinite(att) and math.isfinite(ate)):  # pragma: no cover - finite inputs
        raise ValueError("non-finite effects")
    return {
        "X": X,
        "treatment": treatment,
        "outcome": outcome,
        "y": outcome.copy(),
        "fine_balance": fine,
        "tau": tau,
        "att_true": np.array([att]),  # shape (1,): the library stores no 0-d arrays
        "ate_true": np.array([ate]),
        "att_benchmark": np.array([att]),
    }
