"""``bnb``: the batched branch and bound of :mod:`reference_impl.kglm` for ``kglm.perspective``."""
from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from ...errors import InputError
from ..native import NativeSolver
from ..outcome import SolverOutcome

#: the solver options of ``bnb`` (keyword arguments of ``reference_impl.kglm.solve``)
BNB_OPTIONS = ("backend", "batch_size", "node_limit", "beam_width", "max_iter", "dive_every")


def check_bnb_options(options: Mapping[str, Any]) -> None:
    """The checks ``bnb`` applies to its options before it starts (unknown names, then
    :func:`reference_impl.kglm.validation.validate_options` on backend, batch size and node
    limit), without solving; raises :class:`InputError` for the first bad one."""
    from ...kglm.validation import KGLMInputError, validate_options

    unknown = sorted(set(options) - set(BNB_OPTIONS))
    if unknown:
        raise InputError(f"bnb has no option(s) {', '.join(unknown)}; it takes: {', '.join(sorted(BNB_OPTIONS))}")
    try:
        validate_options(options.get("backend", "numpy"), options.get("batch_size", 256), None, 0.0,
                         options.get("node_limit"))
    except KGLMInputError as exc:
        raise InputError(f"bnb option {' '.join(str(exc).split()) or type(exc).__name__}") from None


class BnB(NativeSolver):
    name = "bnb"
    formulations = ("kglm.perspective",)
    description = "miobench's batched branch and bound for k-sparse GLMs (NumPy on CPU, CuPy on GPU)"
    options = BNB_OPTIONS
    own_benchmarks = "benchmarks/kglm.py"

    def version(self) -> str:
        from ... import __version__

        return f"miobench bnb {__version__}"

    def check_options(self, options: Mapping[str, Any]) -> None:
        check_bnb_options(options)

    def run(self, formulation, instance, params, *, time_limit, rel_gap, threads, seed, solver_options=None,
            verbose=False):
        """Run the batched branch and bound (``reference_impl.kglm.solve``); it prints its
        progress only with ``verbose``."""
        from ... import __version__
        from ...formulations.kglm import _thin, glm_data
        from ...kglm import KGLMInputError, solve as kglm_solve, warm_up as kglm_warm_up
        from ...kglm.backend import GPUUnavailableError

        options = {"backend": "numpy", "batch_size": 256, **(solver_options or {})}
        unknown = sorted(set(options) - set(BNB_OPTIONS))
        if unknown:
            raise InputError(f"bnb has no option(s) {', '.join(unknown)}; it takes: {', '.join(sorted(BNB_OPTIONS))}")
        X, y, _ = glm_data(instance, params["loss"])
        try:
            # the kernels' JIT (or numba cache load) is build time, as a Pyomo model's build is
            build_seconds = kglm_warm_up(options["backend"])
            result = kglm_solve(X, y, k=params["k"], loss=params["loss"], lambda2=params["lambda2"], M=params["M"],
                                time_limit=time_limit, gap_tol=rel_gap, seed=seed, verbose=verbose, **options)
        except GPUUnavailableError as exc:
            return SolverOutcome("not_installed", message=str(exc)), None
        except KGLMInputError as exc:
            raise InputError(str(exc)) from None
        # bnb's statuses are exactly these three (an exhausted tree is "optimal"); anything
        # else would be a bug of the native solver, reported as an error
        status = result.status if result.status in ("optimal", "time_limit", "node_limit") else "error"
        beta = np.asarray(result.coef, dtype=float)
        z = np.zeros_like(beta)
        z[np.asarray(result.support, dtype=int)] = 1.0
        outcome = SolverOutcome(
            status=status, has_solution=math.isfinite(result.objective), objective=float(result.objective),
            bound=float(result.lower_bound), nodes=float(result.nodes), seconds=float(result.timings.get("total", 0.0)),
            version=f"miobench bnb {__version__} ({result.backend}, batch {result.batch_size})",
            message="" if status != "error" else f"bnb ended with status {result.status}",
            extra={"timings": dict(result.timings), "batch_size": result.batch_size, "backend": result.backend,
                   "build_seconds": build_seconds,
                   "root_bound": float(result.root_bound) if math.isfinite(result.root_bound) else None,
                   "progress": _thin(result.progress)},
        )
        return outcome, ({"beta": beta, "z": z} if outcome.has_solution else None)


#: the adapter the registry discovers (solvers/adapters/__init__.py)
SOLVER = BnB()
