"""Rashomon sets of k-sparse GLMs: every k-support whose best model is near-optimal, certified
by the batched branch and bound of :mod:`.search` (Liu & Lodi, arXiv 2605.22188, the
Rashomon-set extension; Fisher, Rudin & Dominici 2019 for the set's use).

Problem (as :func:`reference_impl.kglm.solve`)::

    v(S) = min { F(X beta) + lambda2 ||beta||^2 : supp(beta) in S, ||beta||_inf <= M }

Definitions
-----------
Models.  A model is a support S of exactly k features (k <= p is required) with its best
coefficients on S (the exact refit; a coefficient may be 0) and its objective v(S), in the
scale :func:`~reference_impl.kglm.solve` reports (the original problem: any internal
eigenvalue shift is undone and every collected model is re-evaluated on the original data in
float64).  Supports of size < k are not models of their own: v is monotone (S in T gives
v(T) <= v(S)), so the best models are always k-supports, and a smaller support's fit is one
of its k-supersets' fits with zero coefficients.  A support is stored once (a dict keyed by
its sorted index tuple), so two models never share a support.

Threshold.  The set is {S : |S| = k, v(S) <= threshold + tol}, tol = rtol * max(|threshold|,
1e-10) (``rtol`` = 1e-9 by default: ties and a model exactly at the threshold are kept despite
the last bits of the refits), with

* ``epsilon=E``: threshold = opt + E * max(|opt|, 1e-10), opt = min_S v(S) -- that is
  (1 + E) * opt for the built-in losses (opt >= 0); the floor 1e-10 (the project's gap
  formula's) makes a zero optimum give the threshold E * 1e-10.  Losses that can be negative
  are supported for E <= 1 (threshold (1 - E) * opt when opt < 0); larger E is refused (the
  threshold would not grow with the optimum, which the search relies on).
* ``top=N``: threshold = the N-th smallest v(S) (with multiplicity).  All models tied with
  the N-th (within tol) are included, so the set can hold more than N models; it holds
  fewer only when fewer than N k-supports exist (then threshold = inf and all are listed).

Certification.  A node is pruned iff its certified lower bound is >= the *search threshold*
= threshold + 2 tol (+ twice the shift's rounding margin), i.e. only when it exceeds the
threshold by a clear margin; variable fixing uses the same comparison.  During the search the
threshold is computed from the models found so far (epsilon: the best found; top: the N-th
best found), an upper estimate of the final one that only tightens.  Every k-support lies in
exactly one pruned node or one leaf, and leaves are solved exactly: when the tree is
exhausted (``complete=True``) every k-support not in the set is proven, by a valid node
bound, to have v(S) > threshold.  Stopped early (time or node limit: ``complete=False``) the
set lists the qualifying models found so far, ``open_bound`` bounds every model missing from
it from below.

The warm start is the solver's own (beam search; with ``top`` also the swap neighbourhood of
the best supports, so that N models, hence a finite threshold, are known before the tree
search); the numerics run on ``backend`` (NumPy or CuPy) through the same code as
:func:`~reference_impl.kglm.solve`.

Usage::

    from reference_impl.kglm import rashomon          # the module is callable
    res = rashomon(X, y, k=3, lambda2=0.1, epsilon=0.05)
    res.models[0].support, res.threshold, res.complete
"""
from __future__ import annotations

import heapq
import itertools
import math
import numbers
import sys
import time
import types
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .api import _choose_shift
from .backend import get_backend
from .heuristics import HostProblem, Incumbent, SupportCache, beam_search, evaluate_supports, support_objective
from .losses import get_loss
from .node_batch import RelaxOptions, SmoothPart
from .search import BranchAndBound, SearchOptions
from .validation import KGLMInputError, _scalar, validate_options, validate_problem

__all__ = ["RashomonModel", "RashomonResult", "RashomonSearch", "rashomon", "SCALE_FLOOR"]

#: floor of the objective scale in relative tolerances (as the project's gap formula)
SCALE_FLOOR = 1e-10


@dataclass
class RashomonModel:
    """One model of the set: a k-support, its best coefficients (length p) and objective."""

    support: tuple[int, ...]
    coef: np.ndarray
    objective: float


@dataclass
class RashomonResult:
    """Outcome of :func:`rashomon`. ``models`` in increasing (objective, support) order.

    ``status``: ``"complete"`` (tree exhausted: the set is certified), ``"time_limit"`` or
    ``"node_limit"``.  ``open_bound``: a valid lower bound on v(S) for every k-support not
    listed that was not proven above the threshold (inf when complete)."""

    models: list[RashomonModel]
    threshold: float
    optimum: float
    complete: bool
    status: str
    nodes: int
    seconds: float
    k: int
    p: int
    loss: str
    lambda2: float
    M: float
    epsilon: float | None = None
    top: int | None = None
    rtol: float = 1e-9
    open_bound: float = math.inf
    backend: str = "numpy"
    evaluated: int = 0  #: k-supports refitted during the search (in or out of the set)
    eigen_shift: bool = False  #: whether the search ran on the eigenvalue-shifted problem
    timings: dict = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.models)

    @property
    def supports(self) -> list[tuple[int, ...]]:
        return [m.support for m in self.models]

    @property
    def objectives(self) -> np.ndarray:
        return np.array([m.objective for m in self.models], dtype=np.float64)

    @property
    def coefs(self) -> np.ndarray:
        """The models' coefficients, one row per model (len(models) x p)."""
        if not self.models:
            return np.zeros((0, self.p))
        return np.stack([m.coef for m in self.models])

    def to_frame(self):
        """One row per model: rank, objective, size, support (list), coef (list, aligned with
        support)."""
        import pandas as pd

        return pd.DataFrame({
            "rank": np.arange(len(self.models), dtype=np.int64),
            "objective": self.objectives,
            "size": np.array([len(m.support) for m in self.models], dtype=np.int64),
            "support": [list(m.support) for m in self.models],
            "coef": [[float(m.coef[j]) for j in m.support] for m in self.models],
        })

    def summary(self) -> dict:
        """The set's metadata as plain JSON-able values."""
        return {"models": len(self.models), "threshold": self.threshold, "optimum": self.optimum,
                "complete": self.complete, "status": self.status, "nodes": self.nodes,
                "seconds": self.seconds, "k": self.k, "p": self.p, "loss": self.loss,
                "lambda2": self.lambda2, "M": self.M, "epsilon": self.epsilon, "top": self.top,
                "rtol": self.rtol, "open_bound": self.open_bound, "backend": self.backend,
                "evaluated": self.evaluated, "eigen_shift": self.eigen_shift}


class _TrackedValues(dict):
    """``SupportCache.values`` that also keeps the best objective and the ``top`` smallest
    objectives of the k-supports stored (a max-heap of negated values), so the Rashomon
    threshold follows every refit the search makes, wherever it makes it."""

    def __init__(self, k: int, top: int | None) -> None:
        super().__init__()
        self.k, self.top = k, top
        self.best = math.inf
        self.count = 0
        self._heap: list[float] = []

    def __setitem__(self, support, value) -> None:
        new = support not in self
        super().__setitem__(support, value)
        if new and len(support) == self.k and math.isfinite(value):
            self.count += 1
            self.best = min(self.best, float(value))
            if self.top is not None:
                if len(self._heap) < self.top:
                    heapq.heappush(self._heap, -float(value))
                elif value < -self._heap[0]:
                    heapq.heapreplace(self._heap, -float(value))

    def nth(self) -> float:
        """The ``top``-th smallest k-support objective stored (inf while fewer are known)."""
        return -self._heap[0] if self.top is not None and len(self._heap) >= self.top else math.inf


class _Rule:
    """The Rashomon threshold: final (original scale) and during the search (internal scale)."""

    def __init__(self, epsilon: float | None, top: int | None, rtol: float) -> None:
        self.epsilon, self.top, self.rtol = epsilon, top, rtol
        self.values: _TrackedValues | None = None
        self.offset = 0.0
        self.margin = 0.0

    def target(self, opt: float) -> float:
        """Threshold for an optimum ``opt`` (epsilon mode, original scale)."""
        return opt + self.epsilon * max(abs(opt), SCALE_FLOOR)

    def tol(self, threshold: float) -> float:
        return self.rtol * max(abs(threshold), SCALE_FLOOR) if math.isfinite(threshold) else 0.0

    def search_threshold(self) -> float:
        """Prune iff a node bound (internal scale) is >= this.  Every k-support whose original
        objective is <= final threshold + tol has internal objective (hence node bounds) at
        most final threshold + tol - offset + margin, which this exceeds."""
        vals = self.values
        if vals is None:
            return math.inf
        if self.epsilon is not None:
            if not math.isfinite(vals.best):
                return math.inf
            theta = self.target(vals.best + self.offset + self.margin)
        else:
            q = vals.nth()
            if not math.isfinite(q):
                return math.inf
            theta = q + self.offset + self.margin
        return theta - self.offset + self.margin + 2.0 * self.tol(theta)


class RashomonSearch(BranchAndBound):
    """:class:`.search.BranchAndBound` whose pruning threshold is the Rashomon search threshold
    (prune iff bound >= it, variable fixing alike); every leaf refit lands in the cache, whose
    k-supports are the candidate models."""

    def __init__(self, *args: Any, rule: _Rule, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rule = rule

    def threshold(self) -> float:
        return self.rule.search_threshold()


def _check_choice(epsilon: Any, top: Any, loss_obj: Any) -> tuple[float | None, int | None]:
    epsilon, top = _scalar(epsilon), _scalar(top)
    if (epsilon is None) == (top is None):
        raise KGLMInputError("give exactly one of epsilon (near-optimal within a factor) or top (the N best models); "
                             f"got epsilon={epsilon!r}, top={top!r}")
    if epsilon is not None:
        if isinstance(epsilon, bool) or not isinstance(epsilon, numbers.Real):
            raise KGLMInputError(f"epsilon must be a number >= 0, got {epsilon!r}")
        eps = float(epsilon)
        if not math.isfinite(eps) or eps < 0:
            raise KGLMInputError(f"epsilon must be finite and >= 0, got {epsilon!r}")
        if eps > 1 and not getattr(loss_obj, "nonnegative", False):
            raise KGLMInputError(f"epsilon > 1 needs a nonnegative loss (the threshold (1 + epsilon) * optimum is not "
                                 f"monotone in a negative optimum); got epsilon = {eps}")
        return eps, None
    if isinstance(top, bool) or not isinstance(top, numbers.Integral):
        if isinstance(top, numbers.Real) and not isinstance(top, bool) and float(top).is_integer():
            top = int(top)
        else:
            raise KGLMInputError(f"top must be an integer >= 1, got {top!r}")
    if int(top) < 1:
        raise KGLMInputError(f"top must be an integer >= 1, got {top!r}")
    return None, int(top)


def _check_rtol(rtol: Any) -> float:
    rtol = _scalar(rtol)
    if isinstance(rtol, bool) or not isinstance(rtol, numbers.Real) or not (0 <= float(rtol) < 1e-3):
        raise KGLMInputError(f"rtol must be a number in [0, 1e-3), got {rtol!r}")
    return float(rtol)


def _swap_neighbours(best: list[tuple[int, ...]], p: int, limit: int) -> list[tuple[int, ...]]:
    """Supports one swap away from the given ones (in their order), at most ``limit``."""
    out: dict[tuple[int, ...], None] = {}
    for s in best:
        rest = [j for j in range(p) if j not in s]
        for i, j in itertools.product(range(len(s)), rest):
            out[tuple(sorted(s[:i] + s[i + 1:] + (j,)))] = None
            if len(out) >= limit:
                return list(out)
    return list(out)


def rashomon(
    X: Any,
    y: Any,
    *,
    k: int,
    loss: Any = "squared",
    lambda2: float,
    M: float = float("inf"),
    epsilon: float | None = None,
    top: int | None = None,
    backend: str = "numpy",
    batch_size: int = 256,
    time_limit: float | None = 600.0,
    node_limit: int | None = None,
    seed: int = 0,
    rtol: float = 1e-9,
    beam_width: int = 8,
    max_iter: int = 2000,
    dive_every: int = 4,
    exact_depth: int = 1,
    eigen_shift: bool = True,
) -> RashomonResult:
    """The Rashomon set of k-sparse GLMs (see the module docstring for the definitions).

    Parameters as :func:`reference_impl.kglm.solve`, plus exactly one of

    epsilon : every k-support with objective <= opt + epsilon * max(|opt|, 1e-10)
        ((1 + epsilon) * opt for the built-in losses).
    top : the ``top`` best k-supports (all ties with the last one included).

    rtol : relative tolerance of the threshold comparisons (kept models: objective <=
        threshold + rtol * max(|threshold|, 1e-10); pruning keeps a margin of twice that).
    seed : accepted for API stability; the search is deterministic.

    Returns a :class:`RashomonResult`; ``complete`` is True only when the tree was exhausted.
    Bad input raises :class:`~.validation.KGLMInputError`.
    """
    t0 = time.perf_counter()
    Xh, yh, k, lam2, Mf = validate_problem(X, y, k, loss, lambda2, M)
    loss_obj = get_loss(loss)
    eps, top_n = _check_choice(epsilon, top, loss_obj)
    rtol = _check_rtol(rtol)
    backend, B, tlim, _, node_limit = validate_options(backend, batch_size, time_limit, 0.0, node_limit)
    deadline = t0 + tlim
    be = get_backend(backend)
    timings = {"bound": 0.0, "heuristics": 0.0, "queue": 0.0, "transfer": 0.0, "setup": 0.0, "total": 0.0}
    rule = _Rule(eps, top_n, rtol)
    hp0 = HostProblem(Xh, yh, loss_obj, k, lam2, Mf)
    p = hp0.p

    # warm start on the plain problem (as solve): beam search, with `top` widened to N models
    t1 = time.perf_counter()
    vals0 = _TrackedValues(k, top_n)
    rule.values = vals0
    cache0, inc0 = SupportCache(values=vals0), Incumbent()
    beam_search(hp0, cache0, inc0, width=beam_width, expand=beam_width, deadline=deadline)
    if top_n is not None and vals0.count < top_n and time.perf_counter() < deadline:
        best = sorted((s for s in cache0.values if len(s) == k), key=cache0.values.get)[:max(1, beam_width)]
        evaluate_supports(hp0, _swap_neighbours(best, p, limit=2 * top_n + 64), cache0, inc0)
    timings["heuristics"] += time.perf_counter() - t1

    t1 = time.perf_counter()
    shift = _choose_shift(hp0, loss_obj, lam2, max(rtol, 1e-9), inc0.objective) if eigen_shift else None
    if shift is not None:
        hp = HostProblem(shift.X, shift.y, loss_obj, k, shift.lambda2, Mf)
        rule.offset, rule.margin = shift.constant, shift.error
        vals = _TrackedValues(k, top_n)
        cache, inc = SupportCache(values=vals), Incumbent()
        warm = sorted((s for s in cache0.values if len(s) == k), key=cache0.values.get)
        rule.values = vals
    else:
        hp, cache, inc, warm = hp0, cache0, inc0, []
    smooth = SmoothPart(hp.X, hp.y, loss_obj, be.xp, to_device=be.to_device)
    opts = SearchOptions(batch_size=B, gap_tol=0.0, node_limit=node_limit, deadline=deadline,
                         beam_width=beam_width, dive_every=dive_every, exact_depth=exact_depth,
                         relax=RelaxOptions(max_iter=max_iter, rtol=1e-9),
                         objective_offset=rule.offset, objective_margin=rule.margin)
    timings["setup"] += time.perf_counter() - t1

    bnb = RashomonSearch(hp, smooth, be, opts, timings, cache=cache, inc=inc, rule=rule)
    bnb.run(warm_supports=warm)
    complete = bnb.status is None

    # candidates: every k-support refitted below the search threshold, re-evaluated on the
    # original data (the shift, if any, undone); then the final threshold on those values
    search_thr = rule.search_threshold()
    candidates = [s for s, v in cache.values.items() if len(s) == k and v <= search_thr]
    models = []
    for s in candidates:
        coef = np.zeros(p)
        coef[list(s)] = cache.coefs[s]
        models.append(RashomonModel(support=tuple(int(j) for j in s), coef=coef,
                                    objective=support_objective(hp0, s, coef[list(s)])))
    models.sort(key=lambda m: (m.objective, m.support))
    optimum = models[0].objective if models else math.inf
    if eps is not None:
        threshold = rule.target(optimum) if models else math.inf
    else:
        threshold = models[top_n - 1].objective if len(models) >= top_n else math.inf
    limit = threshold + rule.tol(threshold)
    models = [m for m in models if m.objective <= limit]

    open_bound = math.inf if complete else max(bnb.queue.min_bound() + rule.offset - rule.margin, bnb.floor)
    timings["transfer"] = be.transfer_seconds
    timings["total"] = time.perf_counter() - t0
    return RashomonResult(
        models=models, threshold=float(threshold), optimum=float(optimum), complete=complete,
        status="complete" if complete else str(bnb.status), nodes=int(bnb.nodes),
        seconds=float(timings["total"]), k=k, p=p, loss=str(getattr(loss_obj, "name", "loss")),
        lambda2=lam2, M=Mf, epsilon=eps, top=top_n, rtol=rtol, open_bound=float(open_bound),
        backend=be.name, evaluated=int(cache.values.count), eigen_shift=shift is not None, timings=timings)


class _CallableModule(types.ModuleType):
    """``reference_impl.kglm.rashomon(X, y, ...)`` calls :func:`rashomon` (the package's
    ``__init__`` is left as it is: ``from reference_impl.kglm import rashomon`` gives this
    module, which is callable)."""

    def __call__(self, *args: Any, **kwargs: Any) -> RashomonResult:
        return rashomon(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
