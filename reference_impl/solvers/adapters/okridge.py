"""``okridge``: the certified branch and bound of the PyPI package ``okridge`` (Liu, Rosen, Zhong &
Rudin, "OKRidge: Scalable Optimal k-Sparse Ridge Regression", NeurIPS 2023) as a peer solver for
``kglm.perspective`` and ``sparse_regression.perspective``, where the two problems coincide exactly.

OKRidge is called as its users call it: ``okridge.tree.BNBTree(X, y, lambda2=λ')`` then
``.solve(k, gap_tol=g', verbose=verbose, time_limit=time_limit)``, which returns
``(upper, beta, gap, lower, seconds)``. Its problem (okridge 0.1.1, okridge/solvers.py and
okridge/node.py) is::

    min_b  L(b) = bᵀ(XᵀX + λ'I)b − 2yᵀXb  =  ‖y − Xb‖² + λ'‖b‖² − ‖y‖²   s.t. ‖b‖0 ≤ k

(the constant ‖y‖² dropped, no ½, no intercept, no box, X and y used as given: no centring or
scaling). ``upper`` is L at the returned ``beta``, ``lower`` its proven dual bound in the same
scale (``-sys.maxsize`` before its first tree level closes: no bound), and ``gap`` =
(upper − lower)/|upper|.

Mapping, with c = ‖y‖² (nothing is dropped or approximated):

* ``sparse_regression.perspective`` (min ‖y − Xθ‖² + λ2‖θ‖² s.t. ‖θ‖0 ≤ k, |θⱼ| ≤ M): λ' = λ2;
  objective = upper + c, bound = min(lower, upper) + c. Solution ``theta`` = beta, ``z`` = [beta ≠ 0].
* ``kglm.perspective``, ``loss="squared"`` (min ½‖y − Xβ‖² + λ2‖β‖² s.t. ‖β‖0 ≤ k, ‖β‖∞ ≤ M):
  λ' = 2λ2 (½‖y − Xβ‖² + λ2‖β‖² = ½(‖y − Xβ‖² + 2λ2‖β‖²)); objective = ½(upper + c),
  bound = ½(min(lower, upper) + c). Solution ``beta`` = beta, ``z`` = [beta ≠ 0].

(``min(lower, upper)``: OKRidge's bound is the best over closed tree levels and may pass its
incumbent by rounding; the optimum is at least the smaller of the two.) ``extra`` keeps OKRidge's
own numbers: ``peer_objective`` (upper), ``peer_bound`` (lower, None without one), ``peer_gap``
(gap), ``peer_lambda2`` (λ') and ``peer_gap_tol`` (g').

The problems coincide, and the run goes ahead, only with all of these; otherwise the status is
``unsupported`` with the reason:

* no L0 penalty (``lambda0`` None or 0) and a cardinality limit k: OKRidge has no λ0‖θ‖0 term;
* least squares (``kglm.perspective`` with ``loss="logistic"`` is another problem);
* the formulation's box |θⱼ| ≤ M is provably inactive: M = ∞ (``kglm.perspective``), or a
  *certified* big-M — every optimum lies in the box — so the boxed and the box-free problems have
  the same optimal value: ``sparse_regression`` with ``M_source="derived"`` (its derived M is
  certified) or a given M at least the certified value of
  :func:`~reference_impl.formulations.sparse_regression.derive_big_m`; ``kglm`` with a finite M at
  least :func:`~reference_impl.formulations.kglm.link_bound` (λ2 > 0) or that certified value. A
  heuristic M (``M_source="heuristic"``), or a given M below every certificate, may cut off the
  box-free optimum: unsupported, never solved as another problem. (A returned point that is
  near-optimal but outside the box would be caught by the evaluator as a box violation.)

Inputs OKRidge itself fails on give ``error`` with its message: p = 1 (it reads the second
eigenvalue of XᵀX: IndexError), and a rank-deficient XᵀX with two or more zero eigenvalues, e.g.
p ≥ n + 2 (its ADMM step-size tuning calls ``Node.lower_solve``, which okridge 0.1.1 lacks:
AttributeError).

Gap: the miobench gap is relative to the objective above, c + upper (or half of it), while
OKRidge's is relative to |upper| ≤ c, so OKRidge is given g' = rel_gap·R/c with R ≥ 0 the
unconstrained ridge residual min_b ‖y − Xb‖² + λ'‖b‖² ≤ c + upper: OKRidge's gap ≤ g' then implies
the miobench gap ≤ rel_gap. The status is ``optimal`` when the converted gap is within rel_gap
(an exhausted tree or k = 1, which OKRidge solves exactly, gives bound = objective),
``time_limit`` when OKRidge hit its ``time_limit`` (passed through), and ``error`` otherwise (its
memory limit, or an exception: OKRidge's message). Its printing (a memory note and a legend) is
silenced unless ``verbose``; ``verbose`` is passed to ``solve``. OKRidge calls ``gc.collect()`` at
every node, whose cost grows with the host process's heap (miobench, Pyomo), not with OKRidge's
work: the run freezes the objects that exist before it (``gc.freeze()``, ``gc.unfreeze()`` after),
so a collection scans only OKRidge's own, as in a script of its users (one 7-feature test went from
7.4 s to 1.0 s). The time limit is checked between nodes, so a run may pass it by one node.

Caveat (OKRidge's own proof, not checked here): a node whose fixed support reaches k gets the
incumbent as its bound, which is exact when the parent's beam search (50 children per parent)
saw every completion, as on the tiny instances of the tests.
"""
from __future__ import annotations

import contextlib
import gc
import io
import math
import sys
import time

import numpy as np

from ..outcome import SolverOutcome
from ._peer import PeerSolver

INSTALL_HINT = ("okridge needs the Python package 'okridge': pip install --no-deps okridge==0.1.1 (it declares numpy < 2; "
                "it runs on numpy 2 with numpy, scipy, scikit-learn, psutil and requests installed)")


def _box_reason(formulation_id: str, X: np.ndarray, y: np.ndarray, params: dict, peer_lambda2: float) -> str | None:
    """Why the formulation's box |θⱼ| ≤ M may change the optimum (None: provably inactive)."""
    from ...formulations.kglm import link_bound
    from ...formulations.sparse_regression import derive_big_m

    M = float(params["M"])
    if math.isinf(M):
        return None
    if formulation_id == "sparse_regression.perspective" and params.get("M_source") == "derived":
        return None  # the formulation's own derived M is certified: no optimum is outside it
    if params.get("M_source") == "heuristic":
        return (f"big-M M={M:.4g} is a heuristic (not certified) and may cut off the optimum; OKRidge solves the "
                "problem without a box: pass M at least a certified bound (or leave M out where it is derived)")
    if formulation_id == "kglm.perspective" and params["lambda2"] > 0 and M >= link_bound(X, y, "squared",
                                                                                          params["lambda2"]):
        return None
    certified, source = derive_big_m(X, y, k=params["k"], lambda0=0.0, lambda2=peer_lambda2)
    if source == "derived" and M >= certified:
        return None
    what = f"the certified bound {certified:.6g}" if source == "derived" else "no certified bound exists"
    return (f"the box |theta_j| <= M = {M:.6g} may cut off the optimum ({what}); OKRidge solves the problem "
            "without a box, a different problem: use M = inf (kglm) or M at least a certified bound")


class OKRidge(PeerSolver):
    name = "okridge"
    formulations = ("kglm.perspective", "sparse_regression.perspective")
    description = "OKRidge's certified branch and bound for k-sparse ridge regression (PyPI okridge; no box)"
    options = ()  # it takes none
    licence = "BSD-3-Clause (okridge)"
    package = distribution = "okridge"
    preload = ('okridge.tree',)  # imported before the clock starts (build time)
    install_hint = INSTALL_HINT
    benchmark_cases = (("kglm.perspective", "kglm-ls-n40-p12-k3", {"k": 3, "lambda2": 1.0, "M": math.inf}),
                       ("sparse_regression.perspective", "synreg-n60-p12-k4", {"k": 5, "lambda2": 1.0}))

    def unsupported_reason(self, formulation, instance, params) -> str | None:
        """Why this formulation × hyperparameters is not OKRidge's problem (None: it is, exactly)."""
        if formulation.id == "kglm.perspective":
            if params["loss"] != "squared":
                return f"OKRidge solves least squares only; loss={params['loss']!r} is another problem"
        else:
            if params.get("lambda0"):
                return (f"OKRidge has no L0 penalty (lambda0 = {params['lambda0']:g}); it solves the cardinality form "
                        "only: set k and leave lambda0 out")
            if params.get("k") is None:
                return "OKRidge needs the cardinality limit k"
        return None

    def run(self, formulation, instance, params, *, time_limit=60.0, rel_gap=1e-4, threads=1, seed=0,
            solver_options=None, verbose=False):
        """One OKRidge branch and bound; returns ``(SolverOutcome, solution)``."""
        self.check_options(dict(solver_options or {}))
        if not self.installed():
            return self.missing()
        version = self.version()
        reason = self.unsupported_reason(formulation, instance, params)
        if reason:
            return SolverOutcome("unsupported", version=version, message=reason), None
        prepare = time.perf_counter()
        if formulation.id == "kglm.perspective":
            from ...formulations.kglm import glm_data

            X, y, _ = glm_data(instance, "squared")
            peer_lambda2, scale, names = 2.0 * float(params["lambda2"]), 0.5, ("beta", "z")
        else:
            from ...instances.instance import check_xy

            X, y = check_xy(instance)
            peer_lambda2, scale, names = float(params["lambda2"]), 1.0, ("theta", "z")
        X = np.ascontiguousarray(X, dtype=float)
        y = np.ascontiguousarray(y, dtype=float)
        reason = _box_reason(formulation.id, X, y, params, peer_lambda2)
        if reason:
            return SolverOutcome("unsupported", version=version, message=reason), None
        c = float(y @ y)
        residual = _ridge_residual(X, y, peer_lambda2)
        peer_gap_tol = rel_gap * residual / c if c > 0 else 0.0
        build_seconds = time.perf_counter() - prepare
        start = time.perf_counter()
        try:
            from okridge.tree import BNBTree

            from ..quiet import silenced_output

            def solve():
                tree = BNBTree(X=X, y=y, lambda2=peer_lambda2)
                return tree, tree.solve(int(params["k"]), gap_tol=peer_gap_tol, verbose=bool(verbose),
                                        time_limit=float(time_limit))

            gc.freeze()  # OKRidge runs gc.collect() at every node: the host's heap is not its work
            try:
                if verbose:
                    tree, (upper, beta, gap, lower, _) = solve()
                else:
                    with silenced_output(), contextlib.redirect_stdout(io.StringIO()), \
                            contextlib.redirect_stderr(io.StringIO()):
                        tree, (upper, beta, gap, lower, _) = solve()
            finally:
                gc.unfreeze()
        except Exception as exc:  # OKRidge rejected the input or failed: its message, as a status
            return SolverOutcome("error", seconds=time.perf_counter() - start, version=version,
                                 message=f"okridge: {type(exc).__name__}: {exc}",
                                 extra={"build_seconds": build_seconds}), None
        seconds = time.perf_counter() - start
        beta = np.asarray(beta, dtype=float).reshape(-1)
        upper = float(upper)
        if beta.shape != (X.shape[1],) or not np.all(np.isfinite(beta)) or not math.isfinite(upper):
            return SolverOutcome("error", seconds=seconds, version=version,
                                 message="okridge returned non-finite coefficients or objective",
                                 extra={"build_seconds": build_seconds}), None
        has_bound = lower is not None and math.isfinite(float(lower)) and float(lower) > -sys.maxsize / 2
        objective = scale * (upper + c)
        bound = scale * (min(float(lower), upper) + c) if has_bound else None
        from ...record import relative_gap

        gap_ours = relative_gap(objective, bound)
        exhausted = tree.bfs_queue is not None and tree.bfs_queue.qsize() == 0 and tree.dfs_queue.qsize() == 0
        if gap_ours <= rel_gap:
            status, message = "optimal", ""
        elif seconds >= time_limit:
            status, message = "time_limit", ""
        else:
            status = "error"
            message = (f"okridge stopped with gap {gap_ours:.3g} > rel_gap {rel_gap:g} before its time limit "
                       "(its memory limit)" if not exhausted else
                       f"okridge exhausted its tree but reports gap {gap_ours:.3g} > rel_gap {rel_gap:g}")
        outcome = SolverOutcome(
            status, has_solution=True, objective=objective, bound=bound, nodes=float(tree.number_of_nodes),
            seconds=seconds, version=version, message=message,
            extra={"peer_objective": upper, "peer_bound": float(lower) if has_bound else None,
                   "peer_gap": float(gap), "peer_lambda2": peer_lambda2, "peer_gap_tol": peer_gap_tol,
                   "build_seconds": build_seconds},
        )
        return outcome, {names[0]: beta, names[1]: (beta != 0.0).astype(float)}


def _ridge_residual(X: np.ndarray, y: np.ndarray, lambda2: float) -> float:
    """min_b ‖y − Xb‖² + λ2‖b‖² (all features), a lower bound on every objective c + L(b); ≥ 0."""
    from ...formulations.sparse_regression import ridge_fit

    b = ridge_fit(X, y, range(X.shape[1]), lambda2)
    r = y - X @ b
    return max(float(r @ r + lambda2 * b @ b), 0.0)


#: the adapter the registry discovers (solvers/adapters/__init__.py)
SOLVER = OKRidge()
