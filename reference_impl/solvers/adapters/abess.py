"""``abess``: the splicing heuristic of the PyPI package ``abess`` (Zhu et al. 2020, "A polynomial
algorithm for best-subset selection problem", PNAS; Zhu et al. 2022, JMLR) as a peer solver for
``sparse_regression.best_subset`` and ``kglm.perspective``.

abess is called as its users call it: ``abess.LinearRegression`` (squared loss) or
``abess.LogisticRegression`` (logistic loss) with ``support_size=k`` (one size, no path),
``fit_intercept=False`` (neither formulation has an intercept), ``thread=threads``, then
``fit(X, y, is_normal=False, beta_low=-M, beta_high=M)``: no internal normalisation (abess
would otherwise scale the columns and put its ridge term on the scaled coefficients) and the
formulation's box |θⱼ| ≤ M (omitted when M = ∞). Logistic labels ±1 are passed as 0/1 (−1 → 0).
It is a heuristic with no dual bound: the status is ``feasible``, ``bound`` None, and the
evaluator re-checks the solution (support, cardinality, box) and recomputes the objective. abess
has no time limit: the harness's hard kill bounds a run.

The ridge weight ``alpha`` (abess 0.4.11, src/AlgorithmGLM.h):

* least squares: abess fits the coefficients on a support by argmin ‖y − Xβ‖² + α‖β‖², and ranks
  supports during splicing by its loss RSS/(2n) + α‖β‖² (``train_loss_``);
* logistic: it fits and ranks by the same Σᵢ log(1 + exp(−yᵢxᵢᵀβ)) + α‖β‖² (``train_loss_``).

Mapping, per formulation:

* ``sparse_regression.best_subset`` (min RSS, ‖θ‖0 ≤ k, |θ| ≤ M): α = 0, exact: abess's
  problem is the same one (its loss is RSS/(2n)). objective = 2n·train_loss_.
* ``kglm.perspective``, ``loss="logistic"`` (min Σ log(1 + exp(−yᵢxᵢᵀβ)) + λ2‖β‖²): α = λ2,
  exact. objective = train_loss_.
* ``kglm.perspective``, ``loss="squared"`` (min ½RSS + λ2‖β‖²): α = 2λ2, which makes abess's
  coefficient fit on a support exactly the formulation's minimiser on that support (½RSS + λ2‖β‖²
  = ½(RSS + 2λ2‖β‖²)); abess's *ranking* loss RSS/(2n) + 2λ2‖β‖² then weighs the ridge term 2n
  times more than the formulation does (no α makes both exact: α = λ2/n would make the ranking
  exact and the fit wrong), so with λ2 > 0 the support abess picks may differ from the one it
  would pick under the formulation's objective. The returned β is a feasible point of the
  formulation, scored by the evaluator like any other. objective = n·train_loss_ − (2n − 1)λ2‖β‖²
  (= ½RSS + λ2‖β‖²).

``SolverOutcome.objective`` is that converted value; ``extra`` keeps abess's own numbers:
``peer_objective`` (``train_loss_``), ``peer_alpha`` (the α passed), ``peer_bound`` and
``peer_gap`` (None: abess proves nothing).

Solver options (abess's own constructor arguments, passed through; none changes the problem):
``max_iter``, ``exchange_num``, ``splicing_type``, ``important_search``, ``screening_size``,
``is_warm_start``, and for logistic loss ``primary_model_fit_max_iter``,
``primary_model_fit_epsilon``, ``approximate_Newton``. A value abess rejects gives the status
``error`` with abess's message.
"""
from __future__ import annotations

import math
import time

import numpy as np

from ...errors import InputError
from ..outcome import SolverOutcome
from ._peer import PeerSolver

#: abess constructor arguments a run may set (``solver_options``)
ABESS_OPTIONS = ("max_iter", "exchange_num", "splicing_type", "important_search", "screening_size", "is_warm_start",
                 "primary_model_fit_max_iter", "primary_model_fit_epsilon", "approximate_Newton")
#: the options only ``abess.LogisticRegression`` takes
LOGISTIC_ONLY = ("primary_model_fit_max_iter", "primary_model_fit_epsilon", "approximate_Newton")


class Abess(PeerSolver):
    name = "abess"
    formulations = ("sparse_regression.best_subset", "kglm.perspective")
    description = "abess's splicing best-subset heuristic (PyPI abess; feasible solutions, no bound)"
    options = ABESS_OPTIONS
    licence = "GPL-3.0 (abess)"
    package = distribution = "abess"
    install_hint = "abess needs the Python package 'abess'; install it (pip install 'miobench[peers]')"
    benchmark_cases = (("sparse_regression.best_subset", "synreg-n60-p12-k4", {"k": 5}),
                       ("kglm.perspective", "kglm-logit-n60-p12-k3", {"k": 3, "loss": "logistic", "lambda2": 1.0,
                                                                      "M": math.inf}))

    def run(self, formulation, instance, params, *, time_limit=60.0, rel_gap=1e-4, threads=1, seed=0,
            solver_options=None, verbose=False):
        """One abess fit with ``support_size = k``; returns ``(SolverOutcome, solution)``."""
        options = dict(solver_options or {})
        self.check_options(options)
        if not self.installed():
            return self.missing()
        version = self.version()
        if formulation.id == "sparse_regression.best_subset":
            from ...instances.instance import check_xy

            X, y = check_xy(instance)
            loss, lambda2, names = "squared", 0.0, ("theta", "z")
            alpha = 0.0
        else:
            from ...formulations.kglm import glm_data

            loss, lambda2, names = params["loss"], float(params["lambda2"]), ("beta", "z")
            X, y, _ = glm_data(instance, loss)
            alpha = lambda2 if loss == "logistic" else 2.0 * lambda2
        if loss != "logistic":
            wrong = sorted(set(options) & set(LOGISTIC_ONLY))
            if wrong:
                raise InputError(f"abess option(s) {', '.join(wrong)} apply to logistic loss only")
        n = X.shape[0]
        M = float(params["M"])
        bounds = {"beta_low": -M, "beta_high": M} if math.isfinite(M) else {}
        start = time.perf_counter()
        try:
            import abess

            from ..quiet import silenced_output

            cls = abess.LogisticRegression if loss == "logistic" else abess.LinearRegression
            model = cls(support_size=int(params["k"]), alpha=alpha, fit_intercept=False, thread=int(threads), **options)
            target = (y > 0).astype(float) if loss == "logistic" else y
            if verbose:
                model.fit(X, target, is_normal=False, **bounds)
            else:
                with silenced_output():
                    model.fit(X, target, is_normal=False, **bounds)
        except Exception as exc:  # abess rejected the input or failed: its message, as a status
            return SolverOutcome("error", seconds=time.perf_counter() - start, version=version,
                                 message=f"abess: {type(exc).__name__}: {exc}"), None
        seconds = time.perf_counter() - start
        coef = np.asarray(model.coef_, dtype=float).reshape(-1)
        peer = float(model.train_loss_)
        if coef.shape != (X.shape[1],) or not np.all(np.isfinite(coef)) or not math.isfinite(peer):
            return SolverOutcome("error", seconds=seconds, version=version,
                                 message="abess returned non-finite coefficients or loss"), None
        ridge = float(coef @ coef)
        if formulation.id == "sparse_regression.best_subset":
            objective = 2.0 * n * peer
        elif loss == "logistic":
            objective = peer
        else:
            objective = n * peer - (2.0 * n - 1.0) * lambda2 * ridge
        z = (coef != 0.0).astype(float)
        outcome = SolverOutcome(
            "feasible", has_solution=True, objective=objective, bound=None, seconds=seconds, version=version,
            extra={"peer_objective": peer, "peer_bound": None, "peer_gap": None, "peer_alpha": alpha,
                   "peer_support_size": int(params["k"])},
        )
        return outcome, {names[0]: coef, names[1]: z}


#: the adapter the registry discovers (solvers/adapters/__init__.py)
SOLVER = Abess()
