"""``odtlearn``: ODTLearn's ``FlowOCT`` (Vossler, Aghaei, Justin, Jo, Gómez & Vayanos, "ODTLearn: a
package for learning optimal decision trees for prediction and prescription", 2023; PyPI
``odtlearn``), the authors' own implementation of the flow formulation (12), as a peer solver of
``trees.flow_oct``.

Called as its users call it: ``FlowOCT(solver=backend, depth=D, _lambda=λ, time_limit=t,
num_threads=threads, verbose=verbose).fit(X, y)`` (``obj_mode="acc"``, its default), then its
fitted ``b_value``, ``w_value``, ``p_value`` and ``objective_value`` / ``objective_bound``. X goes
in as a DataFrame with columns ``x0 … x{p−1}`` (so ``b_value``'s keys name the feature index), y
as class indices 0 … C−1 in the order of ``classes``. ODTLearn numbers nodes as (12) does
(children 2k, 2k + 1; x = 0 left) and ``depth`` counts branching levels in both.

Objective mapping (exact). ODTLearn maximises (1 − λ)·Σ correct − λ·Σ splits with λ ∈ [0, 1)
(odtlearn 1.1.0 ``FlowOCT._define_objective``: its flows z[i, 1] count the correct samples, its
b[n, f] the splits). Ours is correct − lam·splits. With λ = lam/(1 + lam) (every lam ≥ 0 maps into
[0, 1)), ODTLearn's objective is (1 − λ)·ours = ours/(1 + lam), so objective = (1 + lam)·
``objective_value`` and bound = (1 + lam)·``objective_bound``; the relative gap is the same in
both scales. ``extra`` keeps ODTLearn's own numbers: ``peer_objective``, ``peer_bound``,
``peer_gap``, ``peer_lambda``, ``peer_backend``.

Read-back: node k predicts when its p[k] > ½, the class argmax_c w[k, c] (ODTLearn declares w
continuous, with Σ_c w[k, c] = p[k]; at an optimum a fractional w splits a tie between equally good
classes, and any of them gives the same objective); it branches on argmax_f b[k, f] when
Σ_f b[k, f] > ½; otherwise it is pruned. ``b`` in the solution is ODTLearn's own θ (so the
evaluator checks that it agrees with the tree), ``w`` the tree's one-hot rows.

Backend (solver option ``solver``): ``"cbc"`` (what ODTLearn's free install uses), ``"gurobi"``,
or ``"auto"`` (the default: CBC where it works, else Gurobi). ODTLearn's CBC backend is its copy
of python-mip 1.15's CBC interface (``odtlearn.utils.mip_cbc``; the ``odtlearn[cbc]`` extra pins
``mip>=1.15,<1.16``), and mip 1.15 pins ``cffi==1.15.*``: with cffi ≥ 2 — which this project's
environment needs (dvc's pygit2 and cryptography require cffi ≥ 2) — mip 1.15's CBC library
crashes the whole process (SIGSEGV) in ``optimize``, and mip ≥ 1.16 has another interface
(``SolverCbc.optimize`` takes other arguments: a TypeError). So the adapter runs CBC only with
mip 1.15.x and cffi 1.15.x installed; otherwise ``"cbc"`` is ``not_installed`` with that reason
and ``"auto"`` uses ODTLearn's Gurobi backend (gurobipy is a dependency of this project; its pip
licence is size-limited: a model beyond it is ``size_limited``). The record's solver version
names the backend, e.g. ``odtlearn 1.1.0 FlowOCT/gurobi (gurobipy 12.0.3)``.

Status: ``optimal`` when the converted gap is within ``rel_gap``; ``time_limit`` when the run
reached its time limit (ODTLearn takes whole seconds: ⌈time_limit⌉, at least 1); otherwise (the
backend stopped at its own default gap, 1e-4, which ODTLearn does not expose) ``error`` with the
gap. No incumbent: no solution. ``fairness`` is ``unsupported`` (FlowOCT has none; ODTLearn's
FairOCT classes constrain the tree their own way). Exceptions from ODTLearn or its backend are
``error`` with the message. Its printing (ODTLearn's Gurobi model ignores its quiet environment)
is silenced unless ``verbose``.
"""
from __future__ import annotations

import importlib.metadata
import importlib.util
import time
import warnings

import numpy as np

from ...errors import InputError
from ..outcome import SolverOutcome
from ._peer import PeerSolver
from ._tree_peer import common_unsupported, quiet, tree_data, tree_solution, whole_seconds

INSTALL_HINT = "odtlearn needs the Python package 'odtlearn' (pip install odtlearn==1.1.0)"
#: the backends the option ``solver`` names
BACKENDS = ("auto", "cbc", "gurobi")


def _version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def cbc_reason() -> str | None:
    """Why ODTLearn's CBC backend cannot run here (None: it can)."""
    mip, cffi = _version("mip"), _version("cffi")
    if mip is None or importlib.util.find_spec("mip") is None:
        return ("ODTLearn's CBC backend needs python-mip 1.15 (odtlearn[cbc]: mip>=1.15,<1.16), which is not "
                "installed; it pins cffi==1.15.*, which this project's environment cannot hold (dvc's pygit2 and "
                "cryptography need cffi>=2): use solver_options={'solver': 'gurobi'}")
    if not mip.startswith("1.15"):
        return (f"ODTLearn 1.1.0's CBC backend is written for python-mip 1.15 (odtlearn[cbc]: mip>=1.15,<1.16); "
                f"mip {mip} has another interface: use solver_options={{'solver': 'gurobi'}}")
    if cffi is None or not cffi.startswith("1.15"):
        return (f"python-mip {mip} (ODTLearn's CBC backend) needs cffi 1.15.* (its own pin); with cffi {cffi} its CBC "
                "library crashes the process (SIGSEGV) in optimize: use solver_options={'solver': 'gurobi'}")
    return None


def gurobi_reason() -> str | None:
    """Why ODTLearn's Gurobi backend cannot run here (None: it can)."""
    if importlib.util.find_spec("gurobipy") is None:
        return "ODTLearn's Gurobi backend needs gurobipy (pip install gurobipy), which is not installed"
    return None


class ODTLearn(PeerSolver):
    name = "odtlearn"
    formulations = ("trees.flow_oct",)
    description = "ODTLearn's FlowOCT, the authors' implementation of (12), on CBC or Gurobi (PyPI odtlearn; certifies)"
    options = ("solver",)  # the backend: auto (default), cbc, gurobi
    licence = "BSD-3-Clause (odtlearn); CBC: EPL-2.0; Gurobi: the pip licence is size-limited"
    package = distribution = "odtlearn"
    preload = ('odtlearn.flow_oct',)  # imported before the clock starts (build time)
    install_hint = INSTALL_HINT
    benchmark_cases = (("trees.flow_oct", "trees-planted-n20-p4-d2", {"depth": 2}),
                       ("trees.flow_oct", "trees-planted-n30-p6-d2", {"depth": 2, "lam": 0.5}))

    def check_options(self, options) -> None:
        super().check_options(options)
        backend = options.get("solver", "auto")
        if backend not in BACKENDS:
            raise InputError(f"odtlearn option solver must be one of {', '.join(BACKENDS)}; got {backend!r}")

    def backend(self, requested: str) -> tuple[str | None, str]:
        """(the backend a run uses, or None; the reason when None)."""
        cbc = cbc_reason()
        if requested == "cbc" or (requested == "auto" and cbc is None):
            return (None, cbc) if cbc else ("cbc", "")
        gurobi = gurobi_reason()
        if gurobi:
            return None, gurobi if requested == "gurobi" else f"{cbc}; {gurobi}"
        return "gurobi", ""

    def run(self, formulation, instance, params, *, time_limit=60.0, rel_gap=1e-4, threads=1, seed=0,
            solver_options=None, verbose=False):
        """One ODTLearn FlowOCT fit; returns ``(SolverOutcome, solution)``."""
        options = dict(solver_options or {})
        self.check_options(options)
        if not self.installed():
            return self.missing()
        version = self.version()
        backend, why = self.backend(options.get("solver", "auto"))
        if backend is None:
            return SolverOutcome("not_installed", version=version, message=why), None
        version = f"{version} FlowOCT/{backend} ({'mip' if backend == 'cbc' else 'gurobipy'} " \
                  f"{_version('mip' if backend == 'cbc' else 'gurobipy')})"
        reason = common_unsupported(params, "ODTLearn's FlowOCT")
        if reason:
            return SolverOutcome("unsupported", version=version, message=reason), None
        import pandas as pd

        from ...record import relative_gap

        X, y = tree_data(instance, params)
        n, p = X.shape
        depth, C = int(params["depth"]), len(params["classes"])
        lam = float(params["lam"])
        peer_lambda = lam / (1.0 + lam)
        columns = [f"x{j}" for j in range(p)]
        limit = whole_seconds(time_limit)
        start = time.perf_counter()
        try:
            from odtlearn.flow_oct import FlowOCT

            def fit():  # the constructor already talks to the backend (Gurobi prints its parameters)
                model = FlowOCT(solver=backend, depth=depth, _lambda=peer_lambda, time_limit=limit,
                                num_threads=max(1, int(threads)), verbose=bool(verbose))
                return model.fit(pd.DataFrame(X, columns=columns), y)

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                with quiet(verbose):
                    model = fit()
            seconds = time.perf_counter() - start
            peer_objective, peer_bound = model.objective_value, model.objective_bound
            peer_gap = model.optim_gap
        except Exception as exc:  # ODTLearn or its backend failed: its message, as a status
            seconds = time.perf_counter() - start
            if getattr(exc, "errno", None) == 10010 or "size-limited" in str(exc):
                return SolverOutcome("size_limited", seconds=seconds, version=version,
                                     message=f"odtlearn: {type(exc).__name__}: {exc}"), None
            status = "time_limit" if seconds >= time_limit else "error"
            return SolverOutcome(status, seconds=seconds, version=version,
                                 message=f"odtlearn: {type(exc).__name__}: {exc}"), None
        if peer_objective is None:
            return SolverOutcome("time_limit" if seconds >= time_limit else "error", seconds=seconds, version=version,
                                 message="odtlearn: no solution"), None
        feature, node_class, b = self._tree(model, depth, p, C, columns)
        scale = 1.0 + lam
        objective = scale * float(peer_objective)
        bound = scale * float(peer_bound) if peer_bound is not None and np.isfinite(peer_bound) else None
        gap = relative_gap(objective, bound)
        if gap <= rel_gap:
            status, message = "optimal", ""
        elif seconds >= time_limit:
            status, message = "time_limit", ""
        else:
            status = "error"
            message = (f"odtlearn stopped with gap {gap:.3g} > rel_gap {rel_gap:g} before its time limit (its backend's "
                       "own default gap; ODTLearn sets none)")
        outcome = SolverOutcome(
            status, has_solution=True, objective=objective, bound=bound, seconds=seconds, version=version,
            message=message,
            extra={"peer_objective": float(peer_objective), "peer_bound": None if peer_bound is None else float(peer_bound),
                   "peer_gap": None if peer_gap is None else float(peer_gap), "peer_lambda": peer_lambda,
                   "peer_backend": backend})
        return outcome, tree_solution(feature, node_class, params, p, b=b)

    @staticmethod
    def _tree(model, depth: int, p: int, C: int, columns: list[str]):
        """(node_feature, node_class, θ) from ODTLearn's fitted ``b_value``, ``w_value``, ``p_value``."""
        branching, total = 2 ** depth - 1, 2 ** (depth + 1) - 1
        b = np.array([[float(model.b_value[k, columns[j]]) for j in range(p)] for k in range(1, branching + 1)])
        w = np.array([[float(model.w_value.get((k, c), 0.0)) for c in range(C)] for k in range(1, total + 1)])
        predicts = np.array([float(model.p_value[k]) for k in range(1, total + 1)]) > 0.5
        node_class = np.where(predicts, np.argmax(w, axis=1), -1).astype(np.int64)
        node_feature = np.where(~predicts[:branching] & (b.sum(axis=1) > 0.5), np.argmax(b, axis=1), -1).astype(np.int64)
        return node_feature, node_class, b


#: the adapter the registry discovers (solvers/adapters/__init__.py)
SOLVER = ODTLearn()
