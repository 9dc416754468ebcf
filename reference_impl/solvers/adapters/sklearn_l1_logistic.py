"""``l1_logistic``: scikit-learn's L1-regularised logistic regression path, the usual heuristic for
sparse logistic regression, as a solver of ``sparse_logistic.perspective`` (status ``feasible``:
a solution, no bound).

Called as its users call it: ``LogisticRegression(l1_ratio=1, solver="liblinear", C=C)`` (``penalty="l1"``
before scikit-learn 1.8) over a
grid of ``n_alphas`` values of C from :func:`sklearn.svm.l1_min_c` (the smallest C with a nonzero
coefficient) up to 10⁴ times it, on the raw X and y ∈ {−1, +1}. Each distinct support of at most
k features on the path (every support when the formulation has no k) is then refit on the
formulation's own objective — Σ log(1 + exp(−yᵢ(θᵀxᵢ + θ₀))) + λ2‖θ‖² (+ λ0|S| in penalty
form), with the box |θⱼ| ≤ M and the intercept inside its bound — by
:func:`~reference_impl.formulations.sparse_classification.fit_logistic` (L-BFGS-B), and the
support whose refit objective is least is returned: the common "lasso for selection, refit for
estimation" baseline. The lasso's own penalised value is kept as ``extra.peer_objective`` (its
scale, C·Σ loss + ‖θ‖₁, differs from the formulation's) beside the C chosen (``peer_C``).
scikit-learn has no time limit for this: the harness's hard kill bounds the run.
"""
from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from ..outcome import SolverOutcome
from ._peer import PeerSolver


class L1Logistic(PeerSolver):
    name = "l1_logistic"
    formulations = ("sparse_logistic.perspective",)
    description = "scikit-learn's L1 logistic regression path, refit on each support of size <= k (heuristic)"
    options = ("n_alphas",)
    licence = "BSD-3-Clause (scikit-learn)"
    package, distribution, version_suffix = "sklearn", "scikit-learn", "l1 logistic path"
    preload = ('sklearn.linear_model', 'sklearn.svm', 'sklearn.exceptions')  # imported before the clock starts (build time)
    install_hint = "l1_logistic needs scikit-learn (pip install scikit-learn)"
    benchmark_cases = (("sparse_logistic.perspective", "synclass-n30-p6-k2", {"k": 2, "lambda2": 1.0}),)

    def run(self, formulation, instance, params: dict[str, Any], *, time_limit: float, rel_gap: float, threads: int,
            seed: int, solver_options: dict[str, Any] | None = None, verbose: bool = False):
        from ...errors import InputError
        from ...formulations.sparse_classification import check_binary, fit_logistic

        if not self.installed():
            return self.missing()
        options = dict(solver_options or {})
        self.check_options(options)
        n_alphas = options.get("n_alphas", 30)
        if isinstance(n_alphas, bool) or not isinstance(n_alphas, int) or n_alphas < 2:
            raise InputError(f"l1_logistic option n_alphas must be an integer >= 2; got {n_alphas!r}")
        start = time.perf_counter()
        X, y = check_binary(instance)
        p = X.shape[1]
        k = params.get("k") or p
        fit_intercept = params["intercept"] == "continuous"
        bound = float(params.get("intercept_bound", math.inf)) if fit_intercept else 0.0
        try:
            supports = self._path_supports(X, y, k, fit_intercept, n_alphas, seed)
        except (ValueError, ArithmeticError) as exc:
            return SolverOutcome("error", message=f"scikit-learn: {type(exc).__name__}: {exc}",
                                 seconds=time.perf_counter() - start, version=self.version()), None
        best = None
        for support, c_value, lasso_value in supports:
            theta, intercept = fit_logistic(X, y, support, params["lambda2"], M=float(params["M"]),
                                            fit_intercept=fit_intercept)
            intercept = float(np.clip(intercept, -bound, bound)) if fit_intercept else 0.0
            value = formulation.objective_value(X, y, theta, intercept, len(support), params)
            if best is None or value < best[0]:
                best = (value, theta, intercept, c_value, lasso_value)
        value, theta, intercept, c_value, lasso_value = best
        solution = {"theta": theta, "z": (np.abs(theta) > 0).astype(float)}
        if fit_intercept:
            solution["intercept"] = np.array([intercept])
        extra = {"peer_C": c_value, "peer_objective": lasso_value, "path_supports": len(supports),
                 "peer_bound": None, "peer_gap": None}
        return SolverOutcome("feasible", has_solution=True, objective=float(value), bound=None,
                             seconds=time.perf_counter() - start, version=self.version(), extra=extra), solution

    @staticmethod
    def _path_supports(X, y, k: int, fit_intercept: bool, n_alphas: int, seed: int):
        """Distinct supports of size 1..k on the L1 path: (support, C, lasso objective)."""
        import warnings

        from sklearn.exceptions import ConvergenceWarning
        from sklearn.linear_model import LogisticRegression
        from sklearn.svm import l1_min_c

        from importlib.metadata import version

        # scikit-learn 1.8 deprecated penalty="l1" for l1_ratio=1 (the same model)
        major, minor = (int(v) for v in version("scikit-learn").split(".")[:2])
        L1 = {"l1_ratio": 1.0} if (major, minor) >= (1, 8) else {"penalty": "l1"}
        c_min = l1_min_c(X, y, loss="log", fit_intercept=fit_intercept)
        seen: dict[tuple[int, ...], tuple[float, float]] = {}
        for c_value in c_min * np.logspace(0.0, 4.0, n_alphas):
            model = LogisticRegression(**L1, solver="liblinear", C=float(c_value), fit_intercept=fit_intercept,
                                       intercept_scaling=100.0, max_iter=1000, random_state=seed)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                model.fit(X, y)
            coef = model.coef_.ravel()
            support = tuple(int(j) for j in np.flatnonzero(np.abs(coef) > 1e-10))
            if not support or len(support) > k:
                continue
            margins = y * (X @ coef + float(model.intercept_[0]))
            lasso_value = float(c_value * np.logaddexp(0.0, -margins).sum() + np.abs(coef).sum())
            seen.setdefault(support, (float(c_value), lasso_value))
        if not seen:  # even the sparsest point of the path is denser than k
            raise ValueError(f"no point of the L1 path has between 1 and {k} nonzero coefficients")
        return [(list(s), c, v) for s, (c, v) in seen.items()]


#: the adapter the registry discovers (solvers/adapters/__init__.py)
SOLVER = L1Logistic()
