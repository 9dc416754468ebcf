"""``gosdt``: GOSDT (Lin, Zhong, Hu, Rudin & Seltzer, "Generalized and scalable optimal sparse
decision trees", ICML 2020; McTavish et al., AAAI 2022; PyPI ``gosdt``), a dynamic program with
branch-and-bound that certifies optimal sparse trees, as a peer solver of ``trees.flow_oct`` and
``trees.oct_bigm`` (without fairness the two describe the same problem).

Called as its users call it: ``GOSDTClassifier(regularization=r, allow_small_reg=True,
depth_budget=D, time_limit=t, worker_limit=threads).fit(X, y)``, then ``get_result()``
(``lower_bound``, ``upper_bound``, ``model_loss``, ``status``) and ``trees_[0]`` (its tree: a node
tests ``feature``, its ``left_child`` is the side where the feature is true, x = 1; a leaf's
``prediction`` indexes ``classes_``). ``depth_budget`` counts branching levels, as the
formulations' ``depth`` does (gosdt 1.0.4: "a tree with just the root node as a tree of depth 0").

Objective mapping (exact). GOSDT minimises (m + r·n·leaves)/n over trees, m the
misclassifications (its default cost matrix puts 1/n off the diagonal) and leaves = splits + 1 in
a binary tree. With r = lam/n that is (m + lam·splits + lam)/n, so ours, max correct − lam·splits
= n − m − lam·splits, is ``n + lam − n·G`` for GOSDT's objective G: objective = n + lam −
n·upper_bound and bound = n + lam − n·lower_bound. GOSDT raises a regularization below 1/n to 1/n
unless ``allow_small_reg`` (that would be another problem): the adapter always allows it, so lam =
0 is r = 0, plain accuracy. GOSDT computes in single precision: its values carry a relative error
near 1e-7, which the adapter does not hide (the evaluator recomputes the objective exactly).
``extra`` keeps GOSDT's own numbers: ``peer_upper_bound``, ``peer_lower_bound``,
``peer_model_loss``, ``peer_status``, ``peer_regularization``.

Status: ``optimal`` with bound = objective when GOSDT converges (its bounds meet); ``time_limit``
when it stops at its time limit (its best tree, its lower bound converted as the bound); another
GOSDT status (non-convergence) is ``error`` with GOSDT's status, its tree kept. GOSDT takes whole
seconds: the limit handed over is ⌈time_limit⌉ (at least 1). With one class in y GOSDT returns its
constant tree without searching (status UNINITIALIZED): that tree classifies every sample
correctly with no split, the optimum, so the run is ``optimal`` with objective = bound = n.
``fairness`` is ``unsupported``. An exception from GOSDT is ``error`` with its message
(``time_limit`` once past the time limit). Its printing (warnings on stdout) is silenced unless
``verbose`` (passed as GOSDT's ``verbose``).
"""
from __future__ import annotations

import time
import warnings

from ..outcome import SolverOutcome
from ._peer import PeerSolver
from ._tree_peer import TREE_FORMULATIONS, common_unsupported, nested_tree, quiet, tree_data, tree_solution, whole_seconds

INSTALL_HINT = "gosdt needs the Python package 'gosdt' (pip install gosdt==1.0.4)"


class GOSDT(PeerSolver):
    name = "gosdt"
    formulations = TREE_FORMULATIONS
    description = "GOSDT's dynamic program for optimal sparse classification trees (PyPI gosdt; certifies)"
    options = ()  # it takes none
    licence = "BSD-3-Clause (gosdt)"
    package = distribution = "gosdt"
    install_hint = INSTALL_HINT
    benchmark_cases = (("trees.flow_oct", "trees-planted-n20-p4-d2", {"depth": 2}),
                       ("trees.oct_bigm", "trees-planted-n30-p6-d2", {"depth": 2, "lam": 0.5}))

    def run(self, formulation, instance, params, *, time_limit=60.0, rel_gap=1e-4, threads=1, seed=0,
            solver_options=None, verbose=False):
        """One GOSDT fit; returns ``(SolverOutcome, solution)``."""
        self.check_options(dict(solver_options or {}))
        if not self.installed():
            return self.missing()
        version = self.version()
        reason = common_unsupported(params, "GOSDT")
        if reason:
            return SolverOutcome("unsupported", version=version, message=reason), None
        X, y = tree_data(instance, params)
        n, p = X.shape
        lam = float(params["lam"])
        regularization = lam / n
        start = time.perf_counter()
        try:
            from gosdt import GOSDTClassifier

            model = GOSDTClassifier(regularization=regularization, allow_small_reg=True,
                                    depth_budget=int(params["depth"]), time_limit=whole_seconds(time_limit),
                                    worker_limit=max(1, int(threads)), verbose=bool(verbose))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                with quiet(verbose):
                    model.fit(X, y)
            seconds = time.perf_counter() - start
            result = model.get_result()
            classes = [int(c) for c in model.classes_]  # the class indices GOSDT saw, sorted
            feature, node_class = nested_tree(
                model.trees_[0].tree, int(params["depth"]), p, len(params["classes"]),
                is_leaf=lambda node: not hasattr(node, "feature"), leaf_class=lambda node: classes[int(node.prediction)],
                feature=lambda node: node.feature, child_zero=lambda node: node.right_child,  # right: x = 0 (false)
                child_one=lambda node: node.left_child)
        except Exception as exc:  # GOSDT rejected the input or failed: its message, as a status
            seconds = time.perf_counter() - start  # past the time limit: a failure to find a tree in time
            return SolverOutcome("time_limit" if seconds >= time_limit else "error", seconds=seconds, version=version,
                                 message=f"gosdt: {type(exc).__name__}: {exc}"), None
        peer_status = getattr(result["status"], "name", str(result["status"]))
        upper, lower = float(result["upper_bound"]), float(result["lower_bound"])
        extra = {"peer_upper_bound": upper, "peer_lower_bound": lower, "peer_model_loss": float(result["model_loss"]),
                 "peer_status": peer_status, "peer_regularization": regularization}
        solution = tree_solution(feature, node_class, params, p)
        if len(classes) == 1:  # GOSDT's constant tree, returned without a search: every sample correct
            return SolverOutcome("optimal", has_solution=True, objective=float(n), bound=float(n), seconds=seconds,
                                 version=version, extra=extra), solution
        objective = n + lam - n * upper
        if peer_status == "CONVERGED":
            status, bound, message = "optimal", objective, ""
        elif peer_status == "TIMEOUT":
            status, bound, message = "time_limit", max(n + lam - n * lower, objective), ""
        else:
            status, bound = "error", None
            message = f"gosdt stopped with status {peer_status} (its bounds {lower:.6g} / {upper:.6g} did not meet)"
        return SolverOutcome(status, has_solution=True, objective=objective, bound=bound, seconds=seconds,
                             version=version, message=message, extra=extra), solution


#: the adapter the registry discovers (solvers/adapters/__init__.py)
SOLVER = GOSDT()
