"""``l0bnb``: the certified branch and bound of the PyPI package ``l0bnb`` (Hazimeh, Mazumder & Saab,
"Sparse regression at scale: branch-and-bound rooted in first-order optimization", Math.
Programming 2022) as a peer solver for ``sparse_regression.l0l2_bigm``.

l0bnb is called as its users call it: ``l0bnb.BNBTree(X, y, rel_tol=r)`` then
``.solve(l0, l2, m, gap_tol=rel_gap, time_limit=time_limit, verbose=verbose)``, which returns
``Solution(cost, beta, sol_time, lower_bound, gap)``. Its problem (l0bnb 1.0.0,
l0bnb/node/_utils.py ``upper_bound_solve`` and l0bnb/relaxation/_cost.py) is::

    min_b  ½‖y − Xb‖² + l0‖b‖0 + l2‖b‖²   s.t. |bⱼ| ≤ m

(X and y as given: no centring, scaling or intercept). ``cost`` is that objective at the incumbent
and ``gap`` = (cost − LB)/|cost| with LB its proven dual bound; its ``lower_bound`` field is a
dict of the relaxations' *primal* values per tree level, not a bound, and is not used.

Mapping (exact; nothing dropped): the formulation's objective ‖y − Xθ‖² + λ0‖θ‖0 + λ2‖θ‖² with
|θⱼ| ≤ M is twice l0bnb's with l0 = λ0/2, l2 = λ2/2, m = M. So objective = 2·cost and
bound = 2·LB with LB = cost − max(gap, 0)·|cost| (where its node bounds are valid, see below, a
negative gap, l0bnb's best closed tree level passing its incumbent, proves the incumbent optimal:
LB = cost). The relative gap is the same in
both scales, so rel_gap is passed as l0bnb's ``gap_tol``; ``rel_tol`` (its relaxations' primal-dual
tolerance) is min(1e-4, rel_gap/10), at least 1e-10. Solution ``theta`` = beta, ``z`` = [beta ≠ 0].
``extra`` keeps l0bnb's own numbers: ``peer_objective`` (cost), ``peer_bound`` (LB),
``peer_gap`` (gap), ``peer_l0``, ``peer_l2``, ``peer_m``.

Exhausted tree: l0bnb updates its bound only when a tree level closes, so a search that empties
its queue (no early return: its gap is still above gap_tol) returns a stale gap (often 1e-3 on
tiny instances) although every node was resolved. The adapter then derives the bound the search
proved from l0bnb's own node values: a subclass of ``BNBTree`` records, in ``_solve_node`` (after
l0bnb's own), the dual value of every node whose relaxation came out integral (the search's
leaves); every other node was branched or pruned against the incumbent, so the optimum is at least
min(cost, those duals). The search itself is l0bnb's, unchanged; the bound is the larger of that
and l0bnb's.

Where its bounds are not valid: l0bnb's node dual values (``get_dual_cost``, l0bnb/relaxation/_cost.py,
whose source notes "l2 = 0 should be handled separately") exceed the same nodes' primal values when
√(l0/l2) > m, the regime where the box binds its perspective relaxation (λ2 = 0 included): on a
7-feature instance (tests/test_peer_l0bnb.py) it then stops with a negative gap at a solution 4%
above the enumerated optimum. In that regime the run is a heuristic's: status ``feasible`` (or
``time_limit``), bound None, l0bnb's numbers kept in ``extra``, and a message saying why. With
√(l0/l2) ≤ m (λ0 = 0 included) every node's dual stayed below its primal and every certified
optimum matched enumeration in 60 random tiny instances.

Hyperparameters l0bnb cannot represent give ``unsupported``: no ``lambda0`` (the cardinality form:
l0bnb has no ‖θ‖0 ≤ k constraint), or a k < p together with lambda0 (k = p is no constraint).

The status is ``optimal`` when the converted gap is within rel_gap, ``time_limit`` when l0bnb hit
its ``time_limit`` (passed through) or stopped before an incumbent, ``error`` with l0bnb's message
when it raises. l0bnb compiles numba kernels on first use: one tiny solve per process compiles them
first (``build_seconds``, as for ``bnb``); its parallel kernels run on ``threads`` numba threads
(``numba.set_num_threads`` for the solve, restored after). It needs p ≥ 5 features (its first
active set has int(0.2·p) of them; fewer: ``error`` with its message). l0bnb 1.0.0 reads
``np.Inf``, removed in NumPy 2: the adapter restores that alias (``numpy.Inf = numpy.inf``, the
value NumPy 1 had) before importing it.
"""
from __future__ import annotations

import contextlib
import io
import math
import time

import numpy as np

from ..outcome import SolverOutcome
from ._peer import PeerSolver

INSTALL_HINT = "l0bnb needs the Python package 'l0bnb' (pip install l0bnb==1.0.0)"
#: the message of a run in the regime where l0bnb's bounds are not valid (see the module docstring)
UNCERTIFIED = ("l0bnb 1.0.0's node bounds are not valid when sqrt(l0/l2) = {ratio:.4g} > m = {m:.4g} (lambda2 = 0 "
               "included): they exceed its nodes' own primal values, so its optimality claims are not certificates "
               "here; its solution is reported as a heuristic's (feasible, no bound)")
_WARMED = []  # one entry once the numba kernels are compiled in this process


def _numpy2_alias() -> None:
    """``numpy.Inf`` (removed in NumPy 2.0; l0bnb 1.0.0's numba kernel reads it) = ``numpy.inf``."""
    if "Inf" not in vars(np):
        np.Inf = np.inf


def _tracked_tree():
    """``l0bnb.BNBTree`` that also records the dual values of its integral leaves (bound bookkeeping only)."""
    from l0bnb import BNBTree
    from l0bnb.utilities import is_integral

    class TrackedTree(BNBTree):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.leaf_duals: list[float] = []

        def _solve_node(self, curr_node, *args, **kwargs):
            primal, dual = super()._solve_node(curr_node, *args, **kwargs)
            if is_integral(curr_node.z, self.int_tol):
                self.leaf_duals.append(float(dual))
            return primal, dual

    return TrackedTree


def _warm_up() -> float:
    """Compile l0bnb's numba kernels on a tiny problem, once per process; the seconds it took."""
    if _WARMED:
        return 0.0
    start = time.perf_counter()
    rng = np.random.default_rng(0)
    X = rng.standard_normal((12, 10))  # l0bnb's first active set is int(0.2 p) features: p >= 5
    y = X[:, 0] - X[:, 1] + 0.1 * rng.standard_normal(12)
    from l0bnb import BNBTree

    BNBTree(X, y).solve(0.1, 0.1, 5.0, gap_tol=1e-4, time_limit=120)
    _WARMED.append(True)
    return time.perf_counter() - start


class L0BnB(PeerSolver):
    name = "l0bnb"
    formulations = ("sparse_regression.l0l2_bigm",)
    description = "l0bnb's certified branch and bound for L0L2 least squares with a box (PyPI l0bnb)"
    options = ()  # it takes none
    licence = "MIT (l0bnb)"
    package = distribution = "l0bnb"
    preload = ('l0bnb', 'l0bnb.utilities')  # imported before the clock starts (build time)
    install_hint = INSTALL_HINT
    benchmark_cases = (("sparse_regression.l0l2_bigm", "synreg-n60-p12-k4", {"lambda0": 1.0, "lambda2": 1.0, "M": 5.0}),)

    def unsupported_reason(self, instance, params) -> str | None:
        """Why these hyperparameters are not l0bnb's problem (None: they are, exactly)."""
        p = instance.arrays["X"].shape[1]
        if params.get("lambda0") is None:
            return "l0bnb solves the penalty form only (lambda0 ||theta||_0); it has no cardinality limit k"
        if params.get("k") is not None and params["k"] < p:
            return (f"l0bnb has no cardinality constraint: k = {params['k']} < p = {p} with lambda0 is another "
                    "problem (leave k out)")
        return None

    def run(self, formulation, instance, params, *, time_limit=60.0, rel_gap=1e-4, threads=1, seed=0,
            solver_options=None, verbose=False):
        """One l0bnb branch and bound; returns ``(SolverOutcome, solution)``."""
        self.check_options(dict(solver_options or {}))
        if not self.installed():
            return self.missing()
        version = self.version()
        reason = self.unsupported_reason(instance, params)
        if reason:
            return SolverOutcome("unsupported", version=version, message=reason), None
        from ...instances.instance import check_xy
        from ...record import relative_gap
        from ..quiet import silenced_output

        X, y = check_xy(instance)
        X = np.ascontiguousarray(X, dtype=float)
        y = np.ascontiguousarray(y, dtype=float)
        l0, l2, m = float(params["lambda0"]) / 2.0, float(params["lambda2"]) / 2.0, float(params["M"])
        rel_tol = max(min(1e-4, rel_gap / 10.0), 1e-10)
        build_seconds, start = 0.0, time.perf_counter()
        try:
            _numpy2_alias()
            import numba

            saved_threads = numba.get_num_threads()
            numba.set_num_threads(max(1, min(int(threads), numba.config.NUMBA_NUM_THREADS)))
            try:
                with silenced_output():
                    build_seconds = _warm_up()
                start = time.perf_counter()
                tree = _tracked_tree()(X, y, rel_tol=rel_tol)
                if verbose:
                    sol = tree.solve(l0, l2, m, gap_tol=rel_gap, time_limit=float(time_limit), verbose=True)
                else:
                    with silenced_output(), contextlib.redirect_stdout(io.StringIO()), \
                            contextlib.redirect_stderr(io.StringIO()):
                        sol = tree.solve(l0, l2, m, gap_tol=rel_gap, time_limit=float(time_limit), verbose=False)
            finally:
                numba.set_num_threads(saved_threads)
        except Exception as exc:  # l0bnb rejected the input or failed: its message, as a status
            seconds = time.perf_counter() - start
            stopped_early = isinstance(exc, TypeError) and seconds >= time_limit  # no incumbent before the limit
            return SolverOutcome("time_limit" if stopped_early else "error", seconds=seconds, version=version,
                                 message=f"l0bnb: {type(exc).__name__}: {exc}",
                                 extra={"build_seconds": build_seconds}), None
        seconds = time.perf_counter() - start
        cost, gap = float(sol.cost), float(sol.gap)
        beta = np.asarray(sol.beta, dtype=float).reshape(-1)
        if beta.shape != (X.shape[1],) or not np.all(np.isfinite(beta)) or not math.isfinite(cost):
            return SolverOutcome("error", seconds=seconds, version=version,
                                 message="l0bnb returned non-finite coefficients or objective",
                                 extra={"build_seconds": build_seconds}), None
        peer_bound = cost - max(gap, 0.0) * abs(cost) if math.isfinite(gap) and abs(gap) < 1e12 else -math.inf
        exhausted = tree.bfs_queue.qsize() == 0 and tree.dfs_queue.qsize() == 0
        if exhausted and gap > rel_gap:  # the loop ran out of nodes (an early return has gap <= gap_tol)
            peer_bound = max(peer_bound, min([cost, *tree.leaf_duals]))
        objective = 2.0 * cost
        bound = 2.0 * peer_bound if math.isfinite(peer_bound) else None
        certified = l2 > 0 and math.sqrt(l0 / l2) <= m
        if not certified:  # its node duals are unreliable here: a heuristic's run, no bound
            bound = None
            status = "time_limit" if seconds >= time_limit else "feasible"
            message = UNCERTIFIED.format(ratio=math.sqrt(l0 / l2) if l2 > 0 else math.inf, m=m)
        elif relative_gap(objective, bound) <= rel_gap:
            status, message = "optimal", ""
        elif seconds >= time_limit:
            status, message = "time_limit", ""
        else:
            status, message = "error", f"l0bnb stopped with gap {relative_gap(objective, bound):.3g} > rel_gap {rel_gap:g}"
        outcome = SolverOutcome(
            status, has_solution=True, objective=objective, bound=bound, nodes=float(tree.number_of_nodes),
            seconds=seconds, version=version, message=message,
            extra={"peer_objective": cost, "peer_bound": peer_bound if math.isfinite(peer_bound) else None,
                   "peer_gap": gap, "peer_l0": l0, "peer_l2": l2, "peer_m": m, "peer_rel_tol": rel_tol,
                   "peer_tree_exhausted": exhausted, "peer_certified": certified, "peer_leaf_duals": len(tree.leaf_duals),
                   "build_seconds": build_seconds},
        )
        return outcome, {"theta": beta, "z": (beta != 0.0).astype(float)}


#: the adapter the registry discovers (solvers/adapters/__init__.py)
SOLVER = L0BnB()
