"""``pgmpy_hillclimb``: pgmpy's hill-climbing structure search (``pgmpy.causal_discovery.HillClimbSearch``;
Koller & Friedman 2009, §18.4.3) as a heuristic solver of ``bayesnet.topological_order`` and
``bayesnet.cycle_constraints``, searching with *the formulation's own score*.

pgmpy takes a custom score: an instance of its ``BaseStructureScore`` whose ``_local_score(variable,
parents)`` is maximised, summed over the nodes (the search adds, removes or reverses the one arc
that raises the sum most, keeping the graph acyclic, until no move gains ``epsilon``). The score
written here, :class:`FormulationScore` (built by :func:`formulation_score`), is the negated
per-node term of (18a)::

    local_score(k, P) = −( min_{|θ|≤M} ‖X_k − X_P θ‖² + λ0·|P| )

so the sum over nodes is −(18a) minimised over B for the DAG's arc set, within the formulation's
box |B_jk| ≤ M: least squares on the parents, or bounded least squares (BVLS) when the
unconstrained fit leaves the box. Hill climbing therefore optimises exactly the formulation's
objective over DAGs (pgmpy's structure prior is left at its default, 0). The data is the
instance's X, unscaled and uncentred, as the formulation uses it.

The returned DAG (``return_type="dag"``) becomes the formulation's solution: z_jk = 1 on its arcs,
B's column k the (box-)least-squares fit of X_k on its parents (the same fit the score used), and
for ``bayesnet.topological_order`` the positions ``order`` (1..d) of a topological sort of the
arcs, so that the evaluator checks (18d) too. ``SolverOutcome.objective`` is −(pgmpy's score of
the DAG), which is (18a) for that solution. The status is ``feasible`` (a local optimum, no
bound). ``perspective`` changes the model's relaxation, not its objective, so it does not
matter here.

Options (pgmpy's own ``HillClimbSearch`` arguments): ``tabu_length`` (default 100), ``max_indegree``
(default none), ``epsilon`` (the least score gain that counts as a move, default 1e-4, in units
of (18a)), ``max_iter`` (default 1e6). A value pgmpy rejects gives ``error`` with its message.
``extra``: ``peer_objective`` (pgmpy's score, = −objective), ``peer_arcs``, ``peer_bound``/``peer_gap``
None. No time limit: the harness's hard kill bounds a run.
"""
from __future__ import annotations

import math
import time

import numpy as np

from ..outcome import SolverOutcome
from ._peer import PeerSolver

HILLCLIMB_OPTIONS = ("tabu_length", "max_indegree", "epsilon", "max_iter")


def box_fit(X: np.ndarray, k: int, parents, M: float) -> tuple[np.ndarray, float]:
    """min ‖X_k − X_P θ‖² s.t. |θ| ≤ M: ``(θ over parents, RSS)`` (BVLS when least squares leaves the box)."""
    parents = list(parents)
    target = X[:, k]
    if not parents:
        return np.zeros(0), float(target @ target)
    A = X[:, parents]
    coef = np.linalg.lstsq(A, target, rcond=None)[0]
    if math.isfinite(M) and np.max(np.abs(coef)) > M:
        from scipy.optimize import lsq_linear

        coef = np.clip(lsq_linear(A, target, bounds=(-M, M), method="bvls", tol=1e-12).x, -M, M)
    residual = target - A @ coef
    return coef, float(residual @ residual)


def node_names(d: int) -> list[str]:
    """pgmpy's variable names for the columns of X."""
    return [f"x{j}" for j in range(d)]


_SCORE_CLASS = None


def formulation_score(X: np.ndarray, lambda0: float, M: float):
    """A pgmpy ``BaseStructureScore`` whose local score is −(node k's term of (18a)) (module docstring)."""
    global _SCORE_CLASS
    if _SCORE_CLASS is None:
        import pandas as pd
        from pgmpy.structure_score import BaseStructureScore

        class FormulationScore(BaseStructureScore):
            """−(min_{|θ|≤M} ‖X_k − X_P θ‖² + λ0|P|) for node k with parents P: the negated (18a) term."""

            _tags = {"name": "miobench-l0-sem", "supported_datatype": "continuous", "default_for": None,
                     "is_parameteric": False}

            def __init__(self, X, lambda0, M):
                self.X, self.lambda0, self.M = np.asarray(X, dtype=float), float(lambda0), float(M)
                self.index = {name: j for j, name in enumerate(node_names(self.X.shape[1]))}
                super().__init__(pd.DataFrame(self.X, columns=list(self.index)))

            def _local_score(self, variable, parents):
                _, rss = box_fit(self.X, self.index[variable], [self.index[p] for p in parents], self.M)
                return -(rss + self.lambda0 * len(parents))

        _SCORE_CLASS = FormulationScore
    return _SCORE_CLASS(X, lambda0, M)


class PgmpyHillClimb(PeerSolver):
    name = "pgmpy_hillclimb"
    formulations = ("bayesnet.topological_order", "bayesnet.cycle_constraints")
    description = "pgmpy's HillClimbSearch scored by the formulation's own objective (l0-penalised SEM RSS); no bound"
    options = HILLCLIMB_OPTIONS
    licence = "MIT (pgmpy)"
    package = distribution = "pgmpy"
    preload = ('pgmpy.causal_discovery', 'pgmpy.structure_score')  # imported before the clock starts (build time)
    version_suffix = "HillClimbSearch"
    install_hint = "pgmpy_hillclimb needs the Python package 'pgmpy' (pip install 'miobench[peers]')"
    benchmark_cases = (("bayesnet.cycle_constraints", "bn-tiny-d3-n30", {"lambda0": 2.0}),
                       ("bayesnet.topological_order", "bn-small-d4-n50", {"lambda0": 4.0}))

    def run(self, formulation, instance, params, *, time_limit=60.0, rel_gap=1e-4, threads=1, seed=0,
            solver_options=None, verbose=False):
        """One hill climb from the empty graph with :func:`formulation_score`; returns ``(SolverOutcome, solution)``."""
        from ...formulations.bayesnet import check_data, topological_sort

        options = dict(solver_options or {})
        self.check_options(options)
        if not self.installed():
            return self.missing()
        version = self.version()
        X = check_data(instance)
        d = X.shape[1]
        lambda0, M = float(params["lambda0"]), float(params["M"])
        start = time.perf_counter()
        try:
            import warnings

            from pgmpy.causal_discovery import HillClimbSearch

            score = formulation_score(X, lambda0, M)
            names = node_names(d)
            search = HillClimbSearch(scoring_method=score, return_type="dag", show_progress=False, **options)
            with warnings.catch_warnings():
                if not verbose:
                    warnings.simplefilter("ignore")
                import pandas as pd

                search.fit(pd.DataFrame(X, columns=names))
            dag = search.causal_graph_
            peer = float(score.score(dag))
        except Exception as exc:  # pgmpy rejected an option or failed: its message, as a status
            return SolverOutcome("error", seconds=time.perf_counter() - start, version=version,
                                 message=f"pgmpy_hillclimb: {type(exc).__name__}: {exc}"), None
        seconds = time.perf_counter() - start
        index = {name: j for j, name in enumerate(names)}
        arcs = np.zeros((d, d), dtype=bool)
        for a, b in dag.edges():
            arcs[index[a], index[b]] = True
        B = np.zeros((d, d))
        for k in range(d):
            parents = np.flatnonzero(arcs[:, k]).tolist()
            B[parents, k] = box_fit(X, k, parents, M)[0]
        solution = {"B": B, "z": arcs.astype(float)}
        order, stuck = topological_sort(arcs)
        if stuck:  # pgmpy returns DAGs; a cycle here would be its bug, left for the evaluator to name
            order = order + stuck
        if formulation.id == "bayesnet.topological_order":
            positions = np.zeros(d)
            positions[order] = np.arange(1, d + 1)
            solution["order"] = positions
        outcome = SolverOutcome(
            "feasible", has_solution=True, objective=-peer, bound=None, seconds=seconds, version=version,
            extra={"peer_objective": peer, "peer_arcs": int(arcs.sum()), "peer_bound": None, "peer_gap": None},
        )
        return outcome, solution


#: the adapter the registry discovers (solvers/adapters/__init__.py)
SOLVER = PgmpyHillClimb()
