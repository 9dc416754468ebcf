"""``sklearn_sparse_pca``: scikit-learn's :class:`sklearn.decomposition.SparsePCA` with one component,
then the leading eigenvector on its support, as a heuristic solver of ``sparse_pca.mio``.

SparsePCA solves another problem, min ½‖A − uvᵀ‖²_F + α‖v‖₁ with ‖u‖₂ ≤ 1 (A the centred data),
whose ℓ1 weight α controls the sparsity of the component v; it is used as people use it to
find a k-sparse component: α is raised along a path until the component has at most k
nonzeros, and the component's support S is then kept (the usual practice: the ℓ1 fit shrinks
the loadings), with θ = the leading eigenvector of Σ_SS, normalised. Its objective is
θᵀΣθ = λ_max(Σ_SS), the formulation's (15a) on that support (the evaluator recomputes it).

The data SparsePCA is fitted on has the formulation's Σ as its covariance:

* the instance's ``X`` when Σ is X's sample covariance (an instance without ``Sigma``); with
  ``standardize=True`` each centred column is divided by its standard deviation, so the
  covariance is the correlation matrix the formulation uses;
* otherwise (the instance gives ``Sigma``, which the formulation uses even when X is there too)
  the 2d × d matrix A = √d·[R; −R], R the symmetric square root of Σ (eigendecomposition,
  negative round-off eigenvalues set to 0): its rows have mean 0, so SparsePCA's centring
  changes nothing, and (1/2d)AᵀA = RᵀR = Σ.

The path: ``n_alphas`` (default 12) values α spaced geometrically and *increasing* from
``eps``·α_max (default ``eps`` = 0.01) to α_max = maxⱼ‖A_{·j}‖₂ (for any unit u the component
soft-thresholds Aᵀu at α, so at α_max it is empty). The first α whose component has 1 … k
nonzeros is chosen. If the path jumps from more than k nonzeros straight to none (coarse grid),
the k largest-magnitude loadings of the last nonempty component are kept instead
(``extra.truncated`` = True). SparsePCA's ``random_state`` is the run's seed.

The status is ``feasible`` (a heuristic, no bound). ``extra``: ``peer_alpha`` (the chosen α),
``peer_nonzeros`` (its component's nonzeros), ``path_alphas`` (how many α were fitted),
``truncated``, ``data`` (``"X"`` or ``"sqrt_Sigma"``), ``peer_bound``/``peer_gap`` None.
Options: ``eps``, ``n_alphas`` (the grid), ``max_iter``, ``tol``, ``method`` (SparsePCA's
``lars``/``cd``), ``ridge_alpha``. A value scikit-learn rejects gives ``error`` with its message.
No time limit: the harness's hard kill bounds a run.
"""
from __future__ import annotations

import time

import numpy as np

from ...errors import InputError
from ..outcome import SolverOutcome
from ._peer import PeerSolver

SPARSE_PCA_OPTIONS = ("eps", "n_alphas", "max_iter", "tol", "method", "ridge_alpha")


def sparse_pca_data(instance, standardize: bool) -> tuple[np.ndarray, str]:
    """Data whose centred covariance is the formulation's Σ (module docstring): ``(A, source)``."""
    from ...formulations.sparse_pca import covariance

    if "Sigma" not in instance.arrays:
        X = np.asarray(instance.arrays["X"], dtype=float)
        A = X - X.mean(axis=0)
        if standardize:
            A = A / np.sqrt(np.mean(A * A, axis=0))
        return A, "X"
    S = covariance(instance, standardize)
    values, vectors = np.linalg.eigh(S)
    R = (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T
    d = S.shape[0]
    return np.sqrt(d) * np.vstack([R, -R]), "sqrt_Sigma"


def leading_on_support(Sigma: np.ndarray, support) -> tuple[np.ndarray, float]:
    """θ = the unit leading eigenvector of Σ_SS (zero elsewhere) and λ_max(Σ_SS)."""
    index = list(support)
    values, vectors = np.linalg.eigh(Sigma[np.ix_(index, index)])
    theta = np.zeros(Sigma.shape[0])
    theta[index] = vectors[:, -1]
    return theta / np.linalg.norm(theta), float(values[-1])


class SklearnSparsePCA(PeerSolver):
    name = "sklearn_sparse_pca"
    formulations = ("sparse_pca.mio",)
    description = ("scikit-learn's SparsePCA (one component), alpha raised until <= k nonzeros, then the leading "
                   "eigenvector on that support (no bound)")
    options = SPARSE_PCA_OPTIONS
    licence = "BSD-3-Clause (scikit-learn)"
    package, distribution, version_suffix = "sklearn", "scikit-learn", "SparsePCA"
    preload = ('sklearn.decomposition', 'sklearn.exceptions')  # imported before the clock starts (build time)
    install_hint = "sklearn_sparse_pca needs scikit-learn (pip install scikit-learn)"
    benchmark_cases = (("sparse_pca.mio", "spca-d6-k2", {"k": 2}),
                       ("sparse_pca.mio", "spca-d8-k3", {"k": 3}))

    def run(self, formulation, instance, params, *, time_limit=60.0, rel_gap=1e-4, threads=1, seed=0,
            solver_options=None, verbose=False):
        """SparsePCA along an increasing α grid; the first component with 1..k nonzeros gives the support."""
        from ...formulations.sparse_pca import covariance

        options = {"eps": 0.01, "n_alphas": 12, **(solver_options or {})}
        self.check_options(options)
        eps, n_alphas = options.pop("eps"), options.pop("n_alphas")
        if not (isinstance(n_alphas, int) and not isinstance(n_alphas, bool) and n_alphas >= 1):
            raise InputError(f"sklearn_sparse_pca option n_alphas must be a positive integer; got {n_alphas!r}")
        if not (isinstance(eps, (int, float)) and not isinstance(eps, bool) and 0 < eps <= 1):
            raise InputError(f"sklearn_sparse_pca option eps (alpha_min / alpha_max) must be in (0, 1]; got {eps!r}")
        if not self.installed():
            return self.missing()
        version = self.version()
        S = covariance(instance, params["standardize"])
        k = int(params["k"])
        A, source = sparse_pca_data(instance, params["standardize"])
        alpha_max = float(np.max(np.linalg.norm(A, axis=0)))
        grid = np.geomspace(alpha_max * float(eps), alpha_max, n_alphas)
        start = time.perf_counter()
        chosen, last_nonempty, fitted = None, None, 0
        try:
            import warnings

            from sklearn.decomposition import SparsePCA
            from sklearn.exceptions import ConvergenceWarning

            with warnings.catch_warnings():
                if not verbose:
                    warnings.simplefilter("ignore", ConvergenceWarning)
                for alpha in grid:
                    model = SparsePCA(n_components=1, alpha=float(alpha), random_state=int(seed), **options)
                    component = np.asarray(model.fit(A).components_, dtype=float).reshape(-1)
                    fitted += 1
                    nonzeros = int(np.count_nonzero(component))
                    if 1 <= nonzeros <= k:
                        chosen = (float(alpha), component)
                        break
                    if nonzeros:
                        last_nonempty = (float(alpha), component)
                    else:
                        break
        except Exception as exc:  # scikit-learn rejected an option or failed: its message, as a status
            return SolverOutcome("error", seconds=time.perf_counter() - start, version=version,
                                 message=f"sklearn_sparse_pca: {type(exc).__name__}: {exc}"), None
        truncated = chosen is None
        if truncated:
            if last_nonempty is None:
                return SolverOutcome("error", seconds=time.perf_counter() - start, version=version,
                                     message="sklearn_sparse_pca: SparsePCA's component is empty at every alpha "
                                             "of the grid (lower eps)"), None
            alpha, component = last_nonempty
            support = np.sort(np.argsort(-np.abs(component), kind="stable")[:k])
        else:
            alpha, component = chosen
            support = np.flatnonzero(component)
        theta, value = leading_on_support(S, support)
        seconds = time.perf_counter() - start
        z = np.zeros(S.shape[0])
        z[support] = 1.0
        outcome = SolverOutcome(
            "feasible", has_solution=True, objective=value, bound=None, seconds=seconds, version=version,
            extra={"peer_alpha": alpha, "peer_nonzeros": int(np.count_nonzero(component)), "path_alphas": fitted,
                   "truncated": truncated, "data": source, "peer_bound": None, "peer_gap": None},
        )
        return outcome, {"theta": theta, "z": z}


#: the adapter the registry discovers (solvers/adapters/__init__.py)
SOLVER = SklearnSparsePCA()
