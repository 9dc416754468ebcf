"""``truncated_power``: the truncated power method of Yuan & Zhang ("Truncated power method for
sparse eigenvalue problems", JMLR 14, 2013, Algorithm 1) as a heuristic solver of ``sparse_pca.mio``.

It is an algorithm, not a package: the NumPy implementation is the one the formulation module
already offers as its baseline, :func:`reference_impl.formulations.sparse_pca.truncated_power_method`
(x ← truncate_k(Σx)/‖·‖ until x stops moving). Restarts are deterministic: the first starts from
the k largest diagonal entries of Σ, the others from Gaussian vectors truncated to k entries,
drawn from a generator seeded with the run's ``seed``; the start with the largest Rayleigh
quotient θᵀΣθ — the formulation's objective (15a) on the unit sphere — is returned as a unit
k-sparse θ with z its support. For PSD Σ each start's Rayleigh quotient increases monotonically
(Yuan & Zhang, Theorem 1), but it may stop at a local optimum: the status is ``feasible`` (no
bound); the evaluator re-checks the solution and recomputes the objective.

Options: ``restarts`` (default 10), ``max_iter`` (per start, default 1000), ``tol`` (the stop
when ‖x_new − x‖ ≤ tol, default 1e-10). ``extra``: ``restarts``, ``peer_bound``/``peer_gap``
None. No time limit: the harness's hard kill bounds a run.
"""
from __future__ import annotations

import math
import time

import numpy as np

from ...errors import InputError
from ..native import NativeSolver
from ..outcome import SolverOutcome

TPOWER_OPTIONS = ("restarts", "max_iter", "tol")


def _positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise InputError(f"truncated_power option {name} must be a positive integer; got {value!r}")
    return int(value)


class TruncatedPower(NativeSolver):
    name = "truncated_power"
    formulations = ("sparse_pca.mio",)
    description = "truncated power method (Yuan & Zhang 2013), seeded restarts, best returned (no bound)"
    options = TPOWER_OPTIONS
    licence = "BSD-3-Clause (this project; NumPy)"

    def version(self) -> str:
        return f"truncated_power (Yuan & Zhang 2013) on numpy {np.__version__}"

    def run(self, formulation, instance, params, *, time_limit=60.0, rel_gap=1e-4, threads=1, seed=0,
            solver_options=None, verbose=False):
        """The best of ``restarts`` truncated power iterations; returns ``(SolverOutcome, solution)``."""
        from ...formulations.sparse_pca import covariance, explained_variance, truncated_power_method

        options = {"restarts": 10, "max_iter": 1000, "tol": 1e-10, **(solver_options or {})}
        self.check_options(options)
        restarts = _positive_int(options["restarts"], "restarts")
        max_iter = _positive_int(options["max_iter"], "max_iter")
        tol = options["tol"]
        if isinstance(tol, bool) or not isinstance(tol, (int, float)) or not (math.isfinite(tol) and tol >= 0):
            raise InputError(f"truncated_power option tol must be a finite number >= 0; got {tol!r}")
        S = covariance(instance, params["standardize"])
        start = time.perf_counter()
        theta = truncated_power_method(S, int(params["k"]), seed=int(seed), restarts=restarts, max_iter=max_iter,
                                       tol=float(tol))
        seconds = time.perf_counter() - start
        norm = float(np.linalg.norm(theta))
        if not (np.all(np.isfinite(theta)) and norm > 0):
            return SolverOutcome("error", seconds=seconds, version=self.version(),
                                 message="truncated_power: the iteration ended at the zero vector (Σx = 0)"), None
        theta = theta / norm
        outcome = SolverOutcome("feasible", has_solution=True, objective=explained_variance(S, theta), bound=None,
                                seconds=seconds, version=self.version(),
                                extra={"restarts": restarts, "peer_bound": None, "peer_gap": None})
        return outcome, {"theta": theta, "z": (theta != 0.0).astype(float)}


#: the adapter the registry discovers (solvers/adapters/__init__.py)
SOLVER = TruncatedPower()
