"""``fasterrisk``: FasterRisk (Liu, Zhong, Seltzer & Rudin, NeurIPS 2022; PyPI ``fasterrisk``) as a
peer heuristic for ``risk_score.minlp``, problem (8)::

    min  Σᵢ log(1 + exp(−yᵢ(θᵀxᵢ + θ₀)))   s.t. l·zⱼ ≤ θⱼ ≤ u·zⱼ, θ ∈ ℤᵈ, Σⱼ zⱼ ≤ k, |θ₀| ≤ B

Called as its users call it: ``RiskScoreOptimizer(X, y, k, lb=l, ub=u, ...)``, ``.optimize()``,
then ``.get_models()`` (labels ±1, as both use). FasterRisk returns a pool of models
(multiplier mᵢ, integer intercept β₀ᵢ, integer coefficients βᵢ with ‖βᵢ‖0 ≤ k and l ≤ βᵢⱼ ≤ u),
each meaning P(y = +1 | x) = 1/(1 + exp(−(β₀ᵢ + βᵢᵀx)/mᵢ)).

Multiplier: (8) has none (its score θᵀx + θ₀ is the logit itself), so a FasterRisk model with
mᵢ ≠ 1 is not a point of (8). The adapter returns the integer coefficients as FasterRisk scores
them, θ = βᵢ, z = [βᵢ ≠ 0], and θ₀ = β₀ᵢ — clipped to [−B, B] when FasterRisk's intercept (which
it bounds by ±100 in its own integer scale) exceeds (8)'s intercept bound — and drops the
multiplier; the evaluator scores that point of (8) by (8)'s objective (with mᵢ > 1 it is steeper
than FasterRisk's own model, so its loss is usually higher than FasterRisk reports). Of the pool it
returns the model with the lowest (8)-objective. ``SolverOutcome.objective`` is that value, computed
exactly as the evaluator does; FasterRisk's own numbers are kept in ``extra``: ``peer_objective``
(its logistic loss Σ log(1 + exp(−yᵢ(β₀ + βᵀxᵢ)/m)) of the chosen model, equal to the objective
only when m = 1), ``peer_multiplier``, ``peer_intercept`` (before clipping), ``peer_best_objective``
(the lowest loss in its pool, in its own scale), ``pool_size``; ``peer_bound`` and ``peer_gap``
are None (FasterRisk proves nothing). The status is ``feasible``, with no bound.

What FasterRisk cannot express is ``unsupported`` (never solved as another problem): the penalty
form (``lambda0`` > 0, or no ``k``), ``intercept="none"`` (FasterRisk always fits an intercept),
and bounds it rejects (it needs l ≤ 0 ≤ u: its own message is reported). FasterRisk has no time
limit: the harness's hard kill bounds a run; ``seed`` is unused (FasterRisk is deterministic).

Solver options (FasterRisk's own constructor arguments, passed through): ``select_top_m``,
``gap_tolerance``, ``parent_size``, ``child_size``, ``maxAttempts``, ``num_ray_search``,
``lineSearch_early_stop_tolerance``.

NumPy 2: fasterrisk 0.1.10's ``starRaySearchModel.star_ray_search_scale_and_round`` calls
``ndarray.tostring()``, removed in NumPy 2.0. Under NumPy 2 the adapter binds, to that one object,
the same method with ``tobytes()`` (the identical bytes; :func:`_star_ray_search`); nothing else
of FasterRisk is changed.
"""
from __future__ import annotations

import time
import types

import numpy as np

from ..outcome import SolverOutcome
from ._peer import PeerSolver

#: FasterRisk constructor arguments a run may set (``solver_options``)
FASTERRISK_OPTIONS = ("select_top_m", "gap_tolerance", "parent_size", "child_size", "maxAttempts", "num_ray_search",
                      "lineSearch_early_stop_tolerance")


def _star_ray_search(self, beta0_continuous, betas_continuous):
    """fasterrisk 0.1.10's ``starRaySearchModel.star_ray_search_scale_and_round`` with
    ``tostring()`` (removed in NumPy 2) replaced by ``tobytes()``: for each continuous solution of
    the pool, its best multiplier and integer solution, keeping the first of any two with the same
    integer support."""
    from fasterrisk.utils import get_support_indices

    pool = np.hstack((beta0_continuous.reshape(-1, 1), betas_continuous))
    integer, multipliers, seen = [], [], set()
    mask = np.zeros((self.p,), dtype=bool)
    for i in range(len(pool)):
        multiplier, solution = self.line_search_scale_and_round(pool[i])
        mask[:] = False
        mask[get_support_indices(solution)] = True
        key = mask.tobytes()
        if key in seen:
            continue
        seen.add(key)
        multipliers.append(multiplier)
        integer.append(solution)
    integer = np.vstack(integer)
    return np.array(multipliers), integer[:, 0], integer[:, 1:]


class FasterRisk(PeerSolver):
    name = "fasterrisk"
    formulations = ("risk_score.minlp",)
    description = "FasterRisk's beam search + star-ray rounding for integer risk scores (PyPI fasterrisk; no bound)"
    options = FASTERRISK_OPTIONS
    licence = "BSD-3-Clause (fasterrisk)"
    package = distribution = "fasterrisk"
    preload = ('fasterrisk.fasterrisk', 'fasterrisk.utils')  # imported before the clock starts (build time)
    install_hint = ("fasterrisk needs the Python package 'fasterrisk'; install it "
                    "(pip install --no-deps fasterrisk==0.1.10)")
    benchmark_cases = (("risk_score.minlp", "synrisk-n60-d3", {"k": 3}),)

    def run(self, formulation, instance, params, *, time_limit=60.0, rel_gap=1e-4, threads=1, seed=0,
            solver_options=None, verbose=False):
        """FasterRisk's pool of risk scores; the one with the lowest (8)-objective is returned."""
        from ...formulations.risk_score import risk_objective
        from ...formulations.sparse_classification import check_binary, logistic_terms

        options = dict(solver_options or {})
        self.check_options(options)
        if not self.installed():
            return self.missing()
        version = self.version()
        reason = self._unsupported(params)
        if reason:
            message = f"fasterrisk cannot express this problem: {reason}"
            return SolverOutcome("unsupported", version=version, message=message), None
        X, y = check_binary(instance)
        start = time.perf_counter()
        try:
            from fasterrisk.fasterrisk import RiskScoreOptimizer

            from ..quiet import silenced_output

            optimizer = RiskScoreOptimizer(X, y, int(params["k"]), lb=int(params["l"]), ub=int(params["u"]), **options)
            if not hasattr(np.ndarray, "tostring"):  # NumPy 2 (see the module docstring)
                search = optimizer.starRaySearchModel_object
                search.star_ray_search_scale_and_round = types.MethodType(_star_ray_search, search)
            if verbose:
                optimizer.optimize()
            else:
                with silenced_output():
                    optimizer.optimize()
            multipliers, intercepts, coefficients = optimizer.get_models()
        except AssertionError as exc:  # FasterRisk checks its input with assertions: a problem it does not take
            return SolverOutcome("unsupported", seconds=time.perf_counter() - start, version=version,
                                 message=f"fasterrisk rejected the input: {exc}"), None
        except Exception as exc:
            return SolverOutcome("error", seconds=time.perf_counter() - start, version=version,
                                 message=f"fasterrisk: {type(exc).__name__}: {exc}"), None
        seconds = time.perf_counter() - start
        multipliers = np.asarray(multipliers, dtype=float).reshape(-1)
        intercepts = np.asarray(intercepts, dtype=float).reshape(-1)
        coefficients = np.asarray(coefficients, dtype=float).reshape(len(multipliers), -1)
        if len(multipliers) == 0 or not (np.all(np.isfinite(coefficients)) and np.all(np.isfinite(intercepts))):
            return SolverOutcome("error", seconds=seconds, version=version,
                                 message="fasterrisk returned no finite model"), None
        B = float(params["intercept_bound"])
        best = None
        peer_losses = []
        for m, b0, beta in zip(multipliers, intercepts, coefficients):
            theta = np.round(beta)  # FasterRisk's coefficients are integers stored as floats
            b = min(max(float(np.round(b0)), -B), B)
            value = risk_objective(X, y, theta, b, int(np.count_nonzero(theta)), params["lambda0"])
            peer_loss = float(logistic_terms(y * (X @ beta + b0) / m).sum())
            peer_losses.append(peer_loss)
            if best is None or value < best[0]:
                best = (value, theta, b, float(m), float(b0), peer_loss)
        value, theta, b, m, b0, peer_loss = best
        solution = {"theta": theta, "z": (theta != 0).astype(float), "intercept": np.array([b])}
        outcome = SolverOutcome(
            "feasible", has_solution=True, objective=value, bound=None, seconds=seconds, version=version,
            message="" if b == b0 else f"fasterrisk's intercept {b0:g} clipped to the intercept bound {B:g}",
            extra={"peer_objective": peer_loss, "peer_bound": None, "peer_gap": None, "peer_multiplier": m,
                   "peer_intercept": b0, "peer_best_objective": min(peer_losses), "pool_size": len(multipliers)},
        )
        return outcome, solution

    @staticmethod
    def _unsupported(params) -> str:
        if params["k"] is None:
            return "it needs the sparsity k (the penalty form lambda0 has no FasterRisk counterpart)"
        if params["lambda0"]:
            return f"lambda0 = {params['lambda0']:g}: FasterRisk has no L0 penalty, only the sparsity k"
        if params["intercept"] == "none":
            return "intercept='none': FasterRisk always fits an intercept"
        return ""


#: the adapter the registry discovers (solvers/adapters/__init__.py)
SOLVER = FasterRisk()
