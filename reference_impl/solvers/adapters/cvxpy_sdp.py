"""``clarabel``: the SDP relaxation ``sparse_pca.sdp_bound`` solved through cvxpy with the
Clarabel interior-point solver (SCS when Clarabel is missing), as cvxpy's users call it.

The record's ``bound`` is not the solver's dual objective but a certified one: the dual
multipliers of |X| ≤ Y give a matrix U, and λ_max(Σ+U) + k·max|U| (recomputed here with a
dense eigensolver) is ≥ the SDP optimum for any U; the least of those candidates and λ_max(Σ)
is reported. The ``objective`` is tr(ΣX) of the solver's X repaired to exact feasibility. Both
are documented (with their proofs) in :mod:`reference_impl.formulations.sparse_pca_sdp`."""
from __future__ import annotations

import importlib.util
import time
import warnings

import numpy as np

from ..native import NativeSolver
from ..outcome import SolverOutcome

#: cvxpy statuses after which the solver's numbers are worth reading
_USABLE = ("optimal", "optimal_inaccurate", "user_limit")


def _backend() -> str | None:
    """The conic solver cvxpy will use: CLARABEL, else SCS, else None."""
    if importlib.util.find_spec("cvxpy") is None:
        return None
    import cvxpy as cp

    installed = cp.installed_solvers()
    for name in ("CLARABEL", "SCS"):
        if name in installed:
            return name
    return None


def _package_version(name: str) -> str:
    import importlib.metadata

    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "?"


class CvxpySDP(NativeSolver):
    name = "clarabel"
    formulations = ("sparse_pca.sdp_bound",)
    description = "cvxpy with Clarabel (SCS fallback) on the SDP relaxation; bound from a repaired dual point"
    options = ()  # it takes none

    def installed(self) -> bool:
        return _backend() is not None

    def version(self) -> str:
        backend = _backend()
        if backend is None:
            return ""
        package = "clarabel" if backend == "CLARABEL" else "scs"
        return f"cvxpy {_package_version('cvxpy')} / {backend} {_package_version(package)}"

    def run(self, formulation, instance, params, *, time_limit=60.0, rel_gap=1e-4, threads=1, seed=0,
            solver_options=None, verbose=False):
        from ...formulations.sparse_pca_sdp import dual_bound, repair_primal
        from ...record import relative_gap

        self.check_options(solver_options or {})
        backend = _backend()
        if backend is None:
            return SolverOutcome("not_installed", message="the SDP adapter needs cvxpy with Clarabel or SCS "
                                                          "(pip install cvxpy clarabel)"), None
        import cvxpy as cp

        build_start = time.perf_counter()
        model = formulation.build(instance, params)
        build_seconds = time.perf_counter() - build_start
        S, k = model.Sigma, model.k
        limit = max(float(time_limit), 1e-3)
        kwargs = {"time_limit": limit} if backend == "CLARABEL" else {"time_limit_secs": limit}
        start = time.perf_counter()
        message = ""
        try:
            with warnings.catch_warnings():
                # cvxpy warns on stderr about an inaccurate solution; its status is recorded instead
                if not verbose:
                    warnings.simplefilter("ignore")
                model.problem.solve(solver=backend, verbose=bool(verbose), **kwargs)
            solver_status = str(model.problem.status)
        except cp.error.SolverError as exc:
            solver_status, message = "solver_error", f"{backend}: {' '.join(str(exc).split())}"
        seconds = time.perf_counter() - start
        # the certified bound: λ_max(Σ) always; the repaired dual points when there are multipliers
        candidates = {"lambda_max": dual_bound(S, np.zeros_like(S), k)}
        P, N = model.upper.dual_value, model.lower.dual_value
        if solver_status in _USABLE and P is not None and N is not None:
            P, N = np.asarray(P, dtype=float), np.asarray(N, dtype=float)
            candidates["dual"] = dual_bound(S, N - P, k)
            candidates["dual_flipped"] = dual_bound(S, P - N, k)  # whichever sign convention cvxpy used
        source = min(candidates, key=candidates.get)
        bound = candidates[source]
        solution, objective = None, None
        if solver_status in _USABLE and model.X.value is not None:
            X = repair_primal(np.asarray(model.X.value, dtype=float), k)
            solution = {"X": X}
            objective = float(np.sum(S * X))
        gap = relative_gap(objective, bound)
        if solution is None:
            status = "time_limit" if seconds >= 0.99 * limit else "error"
            message = message or f"{backend} ended with status {solver_status} and no solution"
        elif gap <= rel_gap:
            status = "optimal"
        elif solver_status == "user_limit" or seconds >= 0.99 * limit:
            status = "time_limit"
        else:
            status = "error"
            message = (f"{backend} ended with status {solver_status}; the repaired primal and dual leave a gap of "
                       f"{gap:.3g} > rel_gap {rel_gap:g}")
        outcome = SolverOutcome(
            status=status, has_solution=solution is not None, objective=objective, bound=bound, nodes=None,
            seconds=seconds, version=self.version(), message=message,
            extra={"build_seconds": build_seconds, "solver_status": solver_status, "backend": backend,
                   "bound_source": source, "bound_candidates": {n: float(v) for n, v in candidates.items()},
                   "solver_dual_objective": float(model.problem.value) if model.problem.value is not None
                   and np.isfinite(model.problem.value) else None},
        )
        return outcome, solution


#: the adapter the registry discovers (solvers/adapters/__init__.py)
SOLVER = CvxpySDP()
