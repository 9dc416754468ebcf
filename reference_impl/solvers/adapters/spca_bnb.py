"""``spca_bnb``: the batched branch and bound over supports of :mod:`reference_impl.spca_bnb`
(after Berk & Bertsimas 2019) for ``sparse_pca.mio``. The algorithm, its bounds and their
validity are documented there; this adapter reads Σ and k, runs it and returns the solution in
the formulation's variable names (``theta`` unit, ``z`` 0/1), which :func:`reference_impl.api.solve`
re-evaluates."""
from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from ...errors import InputError, check_number
from ..native import NativeSolver
from ..outcome import SolverOutcome

#: the solver options of ``spca_bnb`` (keyword arguments of ``reference_impl.spca_bnb.solve``)
SPCA_BNB_OPTIONS = ("batch_size", "node_limit", "restarts")


def check_spca_bnb_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """The options as ``reference_impl.spca_bnb.solve`` takes them; one :class:`InputError` for
    an unknown name or a bad value."""
    unknown = sorted(set(options) - set(SPCA_BNB_OPTIONS))
    if unknown:
        raise InputError(f"spca_bnb has no option(s) {', '.join(unknown)}; it takes: {', '.join(SPCA_BNB_OPTIONS)}")
    checked: dict[str, Any] = {}
    if "batch_size" in options:
        checked["batch_size"] = check_number("spca_bnb option batch_size", options["batch_size"], integer=True, minimum=1,
                                             maximum=1_000_000)
    if options.get("node_limit") is not None:
        checked["node_limit"] = check_number("spca_bnb option node_limit", options["node_limit"], integer=True,
                                             minimum=1)
    if "restarts" in options:
        checked["restarts"] = check_number("spca_bnb option restarts", options["restarts"], integer=True, minimum=1,
                                           maximum=100_000)
    return checked


class SpcaBnB(NativeSolver):
    name = "spca_bnb"
    formulations = ("sparse_pca.mio",)
    description = ("miobench's batched branch and bound over supports for sparse PCA (NumPy; interlacing, "
                   "Gershgorin, trace and spectral bounds; after Berk & Bertsimas 2019)")
    options = SPCA_BNB_OPTIONS

    def version(self) -> str:
        from ... import __version__

        return f"miobench spca_bnb {__version__}"

    def check_options(self, options: Mapping[str, Any]) -> None:
        check_spca_bnb_options(options)

    def run(self, formulation, instance, params, *, time_limit=60.0, rel_gap=1e-4, threads=1, seed=0,
            solver_options=None, verbose=False):
        from ...formulations.sparse_pca import covariance
        from ...spca_bnb import solve as bnb_solve

        options = check_spca_bnb_options(solver_options or {})
        if int(params.get("n_components", 1)) != 1:
            # sparse_pca.mio's validate refuses this already; kept for a direct call
            return SolverOutcome("unsupported", version=self.version(),
                                 message="spca_bnb solves the first component only (n_components=1): sparse_pca.mio "
                                         "has no deflation; use sparse_pca.deflated_components"), None
        Sigma = covariance(instance, params["standardize"])
        result = bnb_solve(Sigma, int(params["k"]), time_limit=float(time_limit), rel_gap=float(rel_gap),
                           seed=int(seed), threads=int(threads), **options)
        theta = np.asarray(result.theta, dtype=float)
        z = np.zeros_like(theta)
        z[list(result.support)] = 1.0
        has_solution = math.isfinite(result.value) and len(result.support) > 0
        status = result.status if result.status in ("optimal", "time_limit", "node_limit") else "error"
        outcome = SolverOutcome(
            status=status, has_solution=has_solution, objective=float(result.value),
            bound=float(result.bound) if math.isfinite(result.bound) else None, nodes=float(result.nodes),
            seconds=float(result.seconds), version=self.version(),
            message="" if status != "error" else f"spca_bnb ended with status {result.status}",
            extra={"root_bound": float(result.root_bound) if math.isfinite(result.root_bound) else None,
                   "root_bounds": dict(result.root_bounds), "batches": result.batches, "open_nodes": result.open_nodes,
                   "incumbent_source": result.incumbent_source, "batch_size": options.get("batch_size", 64)},
        )
        return outcome, ({"theta": theta, "z": z} if has_solution else None)


#: the adapter the registry discovers (solvers/adapters/__init__.py)
SOLVER = SpcaBnB()
