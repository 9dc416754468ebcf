"""``pystreed``: STreeD (van der Linden, de Weerdt & Demirović, "Necessary and sufficient
conditions for optimal decision trees using dynamic programming", NeurIPS 2023; PyPI ``pystreed``),
a dynamic program that certifies optimal trees, as a peer solver of ``trees.flow_oct`` and
``trees.oct_bigm`` (without fairness the two describe the same problem: the same trees, objective
and evaluator).

Called as its users call it: ``STreeDClassifier(optimization_task=..., max_depth=D,
cost_complexity=α, time_limit=t, random_seed=seed).fit(X, y)``, then ``fit_result`` (``score()``,
``is_optimal()``, ``tree_nodes()``) and ``get_tree()``. ``max_depth`` counts branching levels, as
the formulations' ``depth`` does (STreeD's node limit stays at its default 2^D − 1, no limit).

Objective mapping (exact). Ours: max correct − lam·splits ⇔ min misclassified + lam·splits.

* lam = 0: ``optimization_task="accuracy"`` — STreeD minimises the misclassifications m.
* lam > 0: ``"cost-complex-accuracy"`` with ``cost_complexity`` α = lam / n: STreeD minimises
  m + α·n·splits (its branching cost is α times the training-set size, pystreed 1.4.0
  ``CostComplexAccuracy::GetBranchingCosts``), i.e. m + lam·splits. pystreed takes α ∈ [0, 1]
  only, so lam > n (a split would have to classify more than every sample correctly to pay) is
  ``unsupported`` with that reason.

``score()`` is STreeD's training accuracy (n − m)/n; the objective is n·score − lam·splits
(``tree_nodes()`` splits) = n − (STreeD's cost), and ``extra`` keeps STreeD's own numbers:
``peer_cost`` (m + α·n·splits), ``peer_score``, ``peer_task``, ``peer_cost_complexity``.

Status: ``optimal`` with bound = objective when STreeD proves optimality (``is_optimal()``),
``time_limit`` when it stops without that proof, which it does only at ``time_limit`` (its best
tree, no bound; no tree: no solution). STreeD returns no dual bound of its own. ``fairness`` is
``unsupported`` (STreeD's group-fairness task constrains demographic parity its own way: another
problem). An exception from STreeD is ``error`` with its message, e.g. fewer than two samples
(``time_limit`` once past the time limit). Its printing is silenced unless ``verbose`` (passed as
STreeD's ``verbose``). It is single-threaded; ``seed`` is its ``random_seed`` (which only its
hyper-tuning uses).
"""
from __future__ import annotations

import time
import warnings

from ..outcome import SolverOutcome
from ._peer import PeerSolver
from ._tree_peer import TREE_FORMULATIONS, common_unsupported, nested_tree, quiet, tree_data, tree_solution

INSTALL_HINT = "pystreed needs the Python package 'pystreed' (pip install pystreed==1.4.0)"


class PySTreeD(PeerSolver):
    name = "pystreed"
    formulations = TREE_FORMULATIONS
    description = "STreeD's dynamic program for optimal classification trees (PyPI pystreed; certifies)"
    options = ()  # it takes none
    licence = "MIT (pystreed)"
    package = distribution = "pystreed"
    install_hint = INSTALL_HINT
    benchmark_cases = (("trees.flow_oct", "trees-planted-n20-p4-d2", {"depth": 2}),
                       ("trees.oct_bigm", "trees-planted-n30-p6-d2", {"depth": 2, "lam": 0.5}))

    def unsupported_reason(self, instance, params) -> str | None:
        """Why these hyperparameters are not STreeD's problem (None: they are, exactly)."""
        reason = common_unsupported(params, "STreeD")
        if reason:
            return reason
        n = instance.arrays["X"].shape[0]
        if params["lam"] > n:
            return (f"lam = {params['lam']:g} > n = {n}: STreeD's cost_complexity lam/n must lie in [0, 1] "
                    "(pystreed's range); no split can pay for itself there")
        return None

    def run(self, formulation, instance, params, *, time_limit=60.0, rel_gap=1e-4, threads=1, seed=0,
            solver_options=None, verbose=False):
        """One STreeD fit; returns ``(SolverOutcome, solution)``."""
        self.check_options(dict(solver_options or {}))
        if not self.installed():
            return self.missing()
        version = self.version()
        reason = self.unsupported_reason(instance, params)
        if reason:
            return SolverOutcome("unsupported", version=version, message=reason), None
        X, y = tree_data(instance, params)
        n, p = X.shape
        lam = float(params["lam"])
        task, alpha = ("accuracy", 0.0) if lam == 0.0 else ("cost-complex-accuracy", lam / n)
        start = time.perf_counter()
        try:
            from pystreed import STreeDClassifier

            model = STreeDClassifier(optimization_task=task, max_depth=int(params["depth"]), cost_complexity=alpha,
                                     time_limit=float(time_limit), random_seed=int(seed), verbose=bool(verbose))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                with quiet(verbose):
                    model.fit(X, y)
            seconds = time.perf_counter() - start
            if not model.is_fitted():  # no feasible tree before the time limit
                return SolverOutcome("time_limit", seconds=seconds, version=version,
                                     message="pystreed: no feasible tree found"), None
            binarizer = model.binarizer_
            if list(binarizer.binary_columns) != list(range(p)) or binarizer.continuous_columns \
                    or binarizer.categorical_columns:
                raise ValueError("STreeD's binarizer changed the binary feature columns")
            result = model.fit_result
            score, splits, optimal = float(result.score()), int(result.tree_nodes()), bool(result.is_optimal())
            feature, node_class = nested_tree(
                model.get_tree(), int(params["depth"]), p, len(params["classes"]),
                is_leaf=lambda node: node.is_leaf_node(), leaf_class=lambda node: node.label,
                feature=lambda node: node.feature, child_zero=lambda node: node.left_child,  # left: x = 0
                child_one=lambda node: node.right_child)
        except Exception as exc:  # STreeD rejected the input or failed: its message, as a status
            seconds = time.perf_counter() - start  # past the time limit: a failure to find a tree in time
            return SolverOutcome("time_limit" if seconds >= time_limit else "error", seconds=seconds, version=version,
                                 message=f"pystreed: {type(exc).__name__}: {exc}"), None
        peer_cost = n * (1.0 - score) + alpha * n * splits
        objective = n - peer_cost
        # STreeD stops without a proof only at its time limit (no hyper-tuning here)
        status, bound = ("optimal", objective) if optimal else ("time_limit", None)
        outcome = SolverOutcome(status, has_solution=True, objective=objective, bound=bound, seconds=seconds,
                                version=version,
                                extra={"peer_cost": peer_cost, "peer_score": score, "peer_task": task,
                                       "peer_cost_complexity": alpha, "peer_optimal": optimal, "peer_splits": splits})
        return outcome, tree_solution(feature, node_class, params, p)


#: the adapter the registry discovers (solvers/adapters/__init__.py)
SOLVER = PySTreeD()
