"""``dl85``: DL8.5 (Aglin, Nijssen & Schaus, "Learning optimal decision trees using caching branch-
and-bound search", AAAI 2020; PyPI ``pydl8.5``), a dynamic program over itemsets that certifies
minimum-error trees, as a peer solver of ``trees.flow_oct`` and ``trees.oct_bigm`` (without
fairness the two describe the same problem).

Called as its users call it: ``DL85Classifier(max_depth=D, time_limit=t).fit(X, y)``, then
``tree_`` (a dict: a node tests ``feat``, its ``left`` side is x = 1 and its ``right`` side x = 0,
``pydl85.predictors.predictor``; a leaf holds ``value``, the label), ``error_`` (its
misclassifications) and ``timeout_``. ``max_depth`` counts branching levels, as the formulations'
``depth`` does; ``min_sup`` stays 1.

Objective mapping (exact): DL8.5's classifier minimises the misclassifications m; ours with
lam = 0 is max correct = n − m, so objective = n − ``error_``. DL8.5's classifier has no
per-split or per-leaf penalty, so lam > 0 is ``unsupported`` with that reason (a custom error
function could add one, but DL8.5's bounds are only stated for its own errors: not its problem as
its users solve it). ``extra`` keeps DL8.5's own numbers: ``peer_error``, ``peer_accuracy``,
``peer_size``, ``peer_depth``, ``peer_lattice_size``, ``peer_timeout``.

Status: ``optimal`` with bound = objective when DL8.5 finishes (it certifies), ``time_limit`` when
it reports its timeout (its best tree, no bound; none found: no solution). DL8.5 takes whole
seconds, and 0 means no limit: the limit handed over is ⌈time_limit⌉ (at least 1). ``fairness`` is
``unsupported``. An exception from DL8.5 is ``error`` with its message (``time_limit`` once past
the time limit). Its printing is silenced unless ``verbose`` (passed as DL8.5's ``verbose``). It
is single-threaded; ``seed`` is unused (DL8.5 is deterministic).
"""
from __future__ import annotations

import time
import warnings

from ..outcome import SolverOutcome
from ._peer import PeerSolver
from ._tree_peer import TREE_FORMULATIONS, common_unsupported, nested_tree, quiet, tree_data, tree_solution, whole_seconds

INSTALL_HINT = "dl85 needs the Python package 'pydl8.5' (pip install pydl8.5==0.1.8; it builds from source: a C++ compiler)"


class DL85(PeerSolver):
    name = "dl85"
    formulations = TREE_FORMULATIONS
    description = "DL8.5's caching branch and bound for minimum-error classification trees (PyPI pydl8.5; certifies)"
    options = ()  # it takes none
    licence = "MIT (pydl8.5)"
    package = "pydl85"
    distribution = "pydl8.5"
    install_hint = INSTALL_HINT
    benchmark_cases = (("trees.flow_oct", "trees-planted-n20-p4-d2", {"depth": 2}),
                       ("trees.oct_bigm", "trees-planted-n30-p6-d2", {"depth": 2}))

    def unsupported_reason(self, params) -> str | None:
        """Why these hyperparameters are not DL8.5's problem (None: they are, exactly)."""
        reason = common_unsupported(params, "DL8.5")
        if reason:
            return reason
        if params["lam"] != 0.0:
            return (f"DL8.5's classifier minimises misclassifications only; it has no per-split penalty "
                    f"(lam = {params['lam']:g}): use lam = 0")
        return None

    def run(self, formulation, instance, params, *, time_limit=60.0, rel_gap=1e-4, threads=1, seed=0,
            solver_options=None, verbose=False):
        """One DL8.5 fit; returns ``(SolverOutcome, solution)``."""
        self.check_options(dict(solver_options or {}))
        if not self.installed():
            return self.missing()
        version = self.version()
        reason = self.unsupported_reason(params)
        if reason:
            return SolverOutcome("unsupported", version=version, message=reason), None
        X, y = tree_data(instance, params)
        n, p = X.shape
        start = time.perf_counter()
        try:
            from pydl85 import DL85Classifier

            model = DL85Classifier(max_depth=int(params["depth"]), time_limit=whole_seconds(time_limit),
                                   verbose=bool(verbose), quiet=not verbose)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                with quiet(verbose):
                    model.fit(X, y)
            seconds = time.perf_counter() - start
            timeout = bool(model.timeout_)
            extra = {"peer_error": float(model.error_), "peer_accuracy": float(model.accuracy_),
                     "peer_size": int(model.size_), "peer_depth": int(model.depth_),
                     "peer_lattice_size": int(model.lattice_size_), "peer_timeout": timeout}
            if model.tree_ is None:  # no tree within the time limit
                return SolverOutcome("time_limit" if timeout else "error", seconds=seconds, version=version,
                                     message="dl85: no tree found", extra=extra), None
            feature, node_class = nested_tree(
                model.tree_, int(params["depth"]), p, len(params["classes"]),
                is_leaf=lambda node: "feat" not in node, leaf_class=lambda node: node["value"],
                feature=lambda node: node["feat"], child_zero=lambda node: node["right"],  # right: x = 0
                child_one=lambda node: node["left"])
        except Exception as exc:  # DL8.5 rejected the input or failed: its message, as a status
            seconds = time.perf_counter() - start  # past the time limit: a failure to find a tree in time
            return SolverOutcome("time_limit" if seconds >= time_limit else "error", seconds=seconds, version=version,
                                 message=f"dl85: {type(exc).__name__}: {exc}"), None
        objective = n - float(model.error_)
        status, bound = ("time_limit", None) if timeout else ("optimal", objective)
        return SolverOutcome(status, has_solution=True, objective=objective, bound=bound, seconds=seconds,
                             version=version, extra=extra), tree_solution(feature, node_class, params, p)


#: the adapter the registry discovers (solvers/adapters/__init__.py)
SOLVER = DL85()
