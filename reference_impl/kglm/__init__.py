"""Native batched branch and bound for certified k-sparse GLMs (FORMULATIONS.md §8,
``kglm.bnb``; Liu & Lodi, "From Sequential Nodes to GPU Batches: Parallel Branch and Bound
for Optimal k-Sparse GLMs", arXiv 2605.22188).

    min_beta F(X beta) + lambda2 ||beta||^2   s.t. ||beta||_0 <= k, ||beta||_inf <= M

with F least squares or logistic.  Modules, one job each:

=================  =================================================================
``validation``     input checks (:class:`KGLMInputError`)
``backend``        NumPy / CuPy array module selection (:class:`GPUUnavailableError`)
``losses``         F, its conjugate, gradient, Lipschitz factor (one class per loss)
``kernels``        per-row PAVA kernels: numba CPU, numba-cuda, array-module twin
``prox``           perspective regulariser: h, g*, g and the batched prox
``bounds``         certified node bounds by weak duality
``cuda_kernels``   the numba-cuda twin of the PAVA row kernel (lazy import)
``node_batch``     batched FISTA over node relaxations (continuous batching), child bounds
``tree``           node queue, masks, branching, leaves
``heuristics``     beam search, top-k rounding, exact refits
``search``         the branch-and-bound loop (refill, prune, fix variables, branch)
``api``            :func:`solve` and :class:`KGLMResult`
``estimators``     :class:`KSparseRegressor`, :class:`KSparseClassifier`
``synthetic``      :func:`make_synthetic` (the GB paper's equicorrelated instances)
``bench``          timing script (``python -m reference_impl.kglm.bench``)
=================  =================================================================
"""
from .api import KGLMResult, relative_gap, solve, warm_up
from .backend import GPUUnavailableError, gpu_available
from .losses import LogisticLoss, Loss, SquaredLoss
from .synthetic import make_synthetic
from .validation import KGLMInputError, KGLMLabelWarning

__all__ = [
    "solve",
    "warm_up",
    "KGLMResult",
    "KSparseRegressor",
    "KSparseClassifier",
    "KGLMInputError",
    "KGLMLabelWarning",
    "GPUUnavailableError",
    "gpu_available",
    "Loss",
    "SquaredLoss",
    "LogisticLoss",
    "make_synthetic",
    "relative_gap",
]


def __getattr__(name: str):
    """The scikit-learn estimators load on first use (importing scikit-learn costs a solver
    process about 1.5 s it does not need)."""
    if name in ("KSparseClassifier", "KSparseRegressor"):
        from . import estimators

        return getattr(estimators, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
