"""``imm``: IMM threshold trees (Dasgupta, Frost, Moshkovitz & Rashtchian, "Explainable k-means and
k-medians clustering", ICML 2020) from scikit-learn's KMeans centres, as a heuristic solver of
``clustering.tree_mccormick`` and ``clustering.tree_convexified``.

Both formulations ask for a depth-D axis-aligned tree whose 2^D leaves are the clusters, scored
by (19), the sum of dissimilarities dᵢⱼ over pairs in the same leaf. IMM is what people use to
make k-means explainable by such a tree: fit k-means, then cut the space axis by axis,
separating the k centres with the fewest points sent away from their centre. IMM is implemented
here in NumPy (:func:`._threshold_tree.imm_tree`; the ExKMC package, ``exkmc``, is its authors'
implementation but does not build on current Python, see ``exkmc.py``); the k-means step is
scikit-learn's ``KMeans`` (``n_init``, ``max_iter``, ``random_state`` = the run's seed).

IMM's tree has k leaves but not necessarily depth log2 k: with k = 2^D it is a depth-D tree only
when balanced. So a run tries k = 2^D, 2^D − 1, …, 2 (k-means + IMM for each), keeps the trees of
depth ≤ D (k = 2 always: one cut), pads each to the full depth-D heap (a leaf above depth D gets
splits that send every point left: the same partition, :func:`._threshold_tree.to_solution`) and
returns the one with the lowest (19) under the formulation's ``metric``. The problems differ:
k-means minimises the within-cluster sum of squares Σ‖xᵢ − μ‖² (sqeuclidean, size-weighted as
(19) is not), IMM minimises mistakes, and neither sees (19) until the final choice among these
candidates. The formulations' objectives agree at binary z ((21)'s shift term vanishes), so the
evaluator scores both the same. The status is ``feasible`` (a heuristic, no bound).

Options: ``n_init`` (k-means restarts, default 10), ``max_iter`` (default 300). ``extra``:
``peer_k`` (the k of the chosen tree), ``peer_inertia`` (its k-means inertia), ``candidates``
(trees built), ``fitting`` (of depth ≤ D), ``peer_bound``/``peer_gap`` None.
"""
from __future__ import annotations

import time

import numpy as np

from ...errors import InputError
from ..outcome import SolverOutcome
from ._peer import PeerSolver

CLUSTERING_OPTIONS = ("n_init", "max_iter")
CLUSTERING_FORMULATIONS = ("clustering.tree_mccormick", "clustering.tree_convexified")


def kmeans_options(name: str, solver_options) -> tuple[int, int]:
    """``(n_init, max_iter)`` from the options, checked (one InputError naming the option)."""
    options = {"n_init": 10, "max_iter": 300, **(solver_options or {})}
    for key in CLUSTERING_OPTIONS:
        value = options[key]
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise InputError(f"{name} option {key} must be a positive integer; got {value!r}")
    return int(options["n_init"]), int(options["max_iter"])


class IMM(PeerSolver):
    name = "imm"
    formulations = CLUSTERING_FORMULATIONS
    description = "IMM threshold tree (Dasgupta et al. 2020, NumPy) from scikit-learn KMeans centres, k <= 2^D (no bound)"
    options = CLUSTERING_OPTIONS
    licence = "BSD-3-Clause (scikit-learn; IMM in this project)"
    package, distribution, version_suffix = "sklearn", "scikit-learn", "KMeans + IMM (numpy)"
    preload = ('sklearn.cluster',)  # imported before the clock starts (build time)
    install_hint = "imm needs scikit-learn (pip install scikit-learn)"
    benchmark_cases = (("clustering.tree_mccormick", "clust-n8-d2-D2", {"depth": 2}),
                       ("clustering.tree_convexified", "clust-iris-n12", {"depth": 2}))

    def run(self, formulation, instance, params, *, time_limit=60.0, rel_gap=1e-4, threads=1, seed=0,
            solver_options=None, verbose=False):
        """k-means + IMM for k = 2^D … 2; the best tree of depth <= D by (19)."""
        from ...formulations.clustering import check_points
        from ._threshold_tree import best_tree, imm_tree, kmeans_fit

        self.check_options(dict(solver_options or {}))
        n_init, max_iter = kmeans_options(self.name, solver_options)
        if not self.installed():
            return self.missing()
        version = self.version()
        X = check_points(instance)
        depth = int(params["depth"])

        def fits():
            for k in range(2 ** depth, 1, -1):
                model = kmeans_fit(X, k, int(seed), n_init, max_iter)
                yield imm_tree(X, model.labels_, model.cluster_centers_), {"k": k, "inertia": float(model.inertia_)}

        start = time.perf_counter()
        try:
            solution, facts = best_tree(fits(), X, params)
        except Exception as exc:  # scikit-learn failed: its message, as a status
            return SolverOutcome("error", seconds=time.perf_counter() - start, version=version,
                                 message=f"imm: {type(exc).__name__}: {exc}"), None
        seconds = time.perf_counter() - start
        if solution is None:
            return SolverOutcome("error", seconds=seconds, version=version,
                                 message=f"imm: no IMM tree of depth <= {depth} ({facts['candidates']} built)"), None
        outcome = SolverOutcome(
            "feasible", has_solution=True, objective=facts["objective"], bound=None, seconds=seconds, version=version,
            extra={"peer_k": facts["k"], "peer_inertia": facts["inertia"], "candidates": facts["candidates"],
                   "fitting": facts["fitting"], "peer_bound": None, "peer_gap": None},
        )
        return outcome, solution


#: the adapter the registry discovers (solvers/adapters/__init__.py)
SOLVER = IMM()
