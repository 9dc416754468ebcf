"""``lasso_path``: the lasso-then-refit baseline for ``sparse_regression.best_subset`` with
scikit-learn's :func:`sklearn.linear_model.lasso_path` (coordinate descent).

The lasso path is computed as scikit-learn's users compute it: ``lasso_path(X, y, alphas=grid)``
on the instance's X and y as they are (best subset has no intercept and no scaling, and
``lasso_path`` fits none), with scikit-learn's default grid made explicit (so that every
scikit-learn version computes the same path): ``n_alphas`` (default 100) values spaced
geometrically from α_max = max|Xᵀy|/n, where the path is empty, down to ``eps``·α_max (default
``eps`` = 1e-3). scikit-learn's lasso objective is (1/(2n))‖y − Xw‖² + α‖w‖₁, a different
problem: the path only proposes supports. Every distinct support on the path with at most k
nonzeros (the empty one included) is refit by least squares under the formulation's box
|θⱼ| ≤ M (ordinary least squares, or bounded least squares when OLS leaves the box), and the
refit with the lowest residual sum of squares — best subset's objective, in its scale — is
returned. The status is ``feasible`` (a heuristic: no bound); the evaluator re-checks the
solution and recomputes the objective.

``SolverOutcome.objective`` is the chosen refit's RSS. ``extra``: ``peer_alpha`` (the largest
path α giving the chosen support), ``peer_objective`` (the lasso objective (1/(2n))‖y − Xw‖² +
α‖w‖₁ of the path point at that α: another problem's value, kept for reference), ``path_supports``
(distinct supports of size ≤ k tried), ``path_max_support`` (largest support on the path);
``peer_bound``/``peer_gap`` None. Options: ``eps``, ``n_alphas``, ``max_iter``, ``tol``
(``lasso_path``'s coordinate-descent settings). No time limit: the harness's hard kill bounds a
run (a path of a few hundred points is fast).
"""
from __future__ import annotations

import math
import time

import numpy as np

from ...errors import InputError
from ..outcome import SolverOutcome
from ._peer import PeerSolver

LASSO_OPTIONS = ("eps", "n_alphas", "max_iter", "tol")


def refit(X: np.ndarray, y: np.ndarray, support, M: float) -> tuple[np.ndarray, float]:
    """Least squares on ``support`` within |θⱼ| ≤ M: ``(θ, RSS)``."""
    theta = np.zeros(X.shape[1])
    support = list(support)
    if support:
        A = X[:, support]
        coef = np.linalg.lstsq(A, y, rcond=None)[0]
        if math.isfinite(M) and np.max(np.abs(coef)) > M:
            from scipy.optimize import lsq_linear

            coef = np.clip(lsq_linear(A, y, bounds=(-M, M), method="bvls", tol=1e-12).x, -M, M)
        theta[support] = coef
    residual = y - X @ theta
    return theta, float(residual @ residual)


class LassoPath(PeerSolver):
    name = "lasso_path"
    formulations = ("sparse_regression.best_subset",)
    description = "scikit-learn's lasso path, then least squares refit on the best support of size <= k (no bound)"
    options = LASSO_OPTIONS
    licence = "BSD-3-Clause (scikit-learn)"
    package, distribution, version_suffix = "sklearn", "scikit-learn", "lasso_path"
    preload = ('sklearn.linear_model', 'sklearn.exceptions')  # imported before the clock starts (build time)
    install_hint = "lasso_path needs scikit-learn (pip install scikit-learn)"
    benchmark_cases = (("sparse_regression.best_subset", "synreg-n60-p12-k4", {"k": 5}),)

    def run(self, formulation, instance, params, *, time_limit=60.0, rel_gap=1e-4, threads=1, seed=0,
            solver_options=None, verbose=False):
        """The lasso path, a refit per distinct support of size ≤ k, the best refit returned."""
        from ...instances.instance import check_xy

        options = {"eps": 1e-3, "n_alphas": 100, **(solver_options or {})}
        self.check_options(options)
        eps, n_alphas = options.pop("eps"), options.pop("n_alphas")
        if not (isinstance(n_alphas, int) and not isinstance(n_alphas, bool) and n_alphas >= 1):
            raise InputError(f"lasso_path option n_alphas must be a positive integer; got {n_alphas!r}")
        if not (isinstance(eps, (int, float)) and 0 < eps <= 1):
            raise InputError(f"lasso_path option eps (alpha_min / alpha_max) must be in (0, 1]; got {eps!r}")
        if not self.installed():
            return self.missing()
        version = self.version()
        X, y = check_xy(instance)
        n, p = X.shape
        k, M = int(params["k"]), float(params["M"])
        start = time.perf_counter()
        try:
            import warnings

            from sklearn.exceptions import ConvergenceWarning
            from sklearn.linear_model import lasso_path

            alpha_max = float(np.max(np.abs(X.T @ y))) / n
            if not alpha_max > 0:  # y orthogonal to every column: the path is empty
                alphas, coefs = np.array([0.0]), np.zeros((p, 1))
            else:
                grid = np.geomspace(alpha_max, alpha_max * float(eps), n_alphas)
                with warnings.catch_warnings():
                    if not verbose:
                        warnings.simplefilter("ignore", ConvergenceWarning)
                    alphas, coefs, _ = lasso_path(X, y, alphas=grid, **options)
        except Exception as exc:  # scikit-learn rejected an option or failed: its message, as a status
            return SolverOutcome("error", seconds=time.perf_counter() - start, version=version,
                                 message=f"lasso_path: {type(exc).__name__}: {exc}"), None
        coefs = np.asarray(coefs, dtype=float).reshape(p, -1)
        tried: dict[tuple[int, ...], tuple[float, np.ndarray, float, float]] = {}
        for i, alpha in enumerate(alphas):
            support = tuple(np.flatnonzero(coefs[:, i] != 0.0).tolist())
            if len(support) > k or support in tried:
                continue
            theta, rss = refit(X, y, support, M)
            w = coefs[:, i]
            lasso_value = float(np.sum((y - X @ w) ** 2)) / (2 * n) + float(alpha) * float(np.abs(w).sum())
            tried[support] = (rss, theta, float(alpha), lasso_value)
        if () not in tried:
            tried[()] = (float(y @ y), np.zeros(p), math.inf, float(y @ y) / (2 * n))
        support = min(tried, key=lambda s: tried[s][0])
        rss, theta, alpha, lasso_value = tried[support]
        seconds = time.perf_counter() - start
        outcome = SolverOutcome(
            "feasible", has_solution=True, objective=rss, bound=None, seconds=seconds, version=version,
            extra={"peer_alpha": alpha if math.isfinite(alpha) else None, "peer_objective": lasso_value,
                   "peer_bound": None, "peer_gap": None, "path_supports": len(tried),
                   "path_max_support": int(np.max((coefs != 0.0).sum(axis=0), initial=0))},
        )
        return outcome, {"theta": theta, "z": (theta != 0.0).astype(float)}


#: the adapter the registry discovers (solvers/adapters/__init__.py)
SOLVER = LassoPath()
