"""Bayesian network structure learning with ordering variables (tutorial §2.3.2; FORMULATIONS.md §3).

Problem (16) of Justin, Sun, Gómez & Vayanos, "Responsible Machine Learning via
Mixed-Integer Optimization" (arXiv 2505.05857), for a linear structural equation model with
least-squares loss and an l0 penalty on the arcs, in the form (18) of Manzour, Küçükyavuz,
Wu & Shojaie (2021), "Integer programming for learning directed acyclic graphs from
continuous data" (INFORMS J. Optimization 3(1)); data X ∈ R^{n×d} (the instance's ``X``; its
``y``, if any, is ignored)::

    min_{B,z,ζ}  Σ_k ‖X_k − Σ_{j≠k} B_jk X_j‖² + λ0 Σ_{j≠k} z_jk          (18a)
    s.t.         B_jj = 0                                   ∀j             (18b)
                 −M z_jk ≤ B_jk ≤ M z_jk                    ∀j ≠ k         (18c)
                 1 − d(1 − z_jk) ≤ ζ_k − ζ_j                ∀j ≠ k         (18d)
                 z ∈ {0,1}^{d×d},  ζ ∈ {1,…,d}^d                           (18e)

B_jk is the weight of arc j → k (column k of B predicts X_k from its parents). Two misprints
of the tutorial's (18) are corrected as its own text describes them: (18c) links B_jk to z_jk
(printed "M z_kj"), and the positions ζ range over {1,…,d} (printed "{0,1}^d"; with ζ binary
(18d) would forbid every path of more than one arc). (18b) is imposed by the index set: B, z
exist for ordered pairs j ≠ k only. (18d) with z_jk = 1 puts k after j; with z_jk = 0 it reads
ζ_k − ζ_j ≥ 1 − d, always true on {1,…,d} — so the arc set of every feasible point is acyclic
(positions strictly increase along every arc) and every DAG is feasible (ζ = any topological
order's positions).

Perspective terms (``perspective=True``; Manzour et al. 2021 §4, as described in tutorial
§2.1.1 / (7)): with G = XᵀX and δ_k slightly below the smallest eigenvalue of G restricted to
V∖{k} (so G_{−k} − δ_k I ⪰ 0), node k's loss is written
θᵀ(G_{−k} − δ_k I)θ − 2G_{−k,k}ᵀθ + G_kk + δ_k Σ_j s_jk with rotated cones B_jk² ≤ s_jk z_jk
(an MISOCP: same integer optimum, tighter relaxation). Without it (the default) the model is
the plain big-M MIQP.

Big-M (``M``): ``"auto"`` (default) derives a value that is provably valid whenever each
X_{−k}ᵀX_{−k} is positive definite: UB is the objective of a feasible DAG (forward stepwise
regression of each node on its predecessors in a few fixed orders), and RSS_l the residual of
node l regressed on *all* other variables (a lower bound on node l's loss under any parent
set). At an optimum node k's loss plus its penalty is at most U_k = UB − Σ_{l≠k} RSS_l, so
its coefficient vector lies in the ellipsoid {θ : ‖X_k − X_{−k}θ‖² ≤ U_k − λ0|S_k|}; M is the
widest coordinate extent of these ellipsoids (:func:`~.sparse_regression.certified_big_m`,
which also certifies the singular case by enumerating supports when there are few). Otherwise
M = 2·max|B| of the heuristic DAG (labelled ``M_source="heuristic"``, a warning in every
result). A user-given M is used as is; whether M bound the solution is reported
(``extra.m_binding``), as for every big-M formulation (:func:`~.base.big_m_info`).
"""
from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pyomo.environ as pyo

from ..errors import InputError
from ..instances.instance import Instance
from ..registry import register
from ._support import all_finite, integrality_violation, m_binding, missing_values
from .base import Evaluation, Formulation, as_big_m, as_float, big_m_info
from .sparse_regression import certified_big_m, greedy_solution, heuristic_big_m

#: The brute-force oracle enumerates DAGs on at most this many variables (543 DAGs for d = 4).
MAX_BRUTEFORCE_D = 4
#: δ_k = (1 − this)·λ_min(X_{−k}ᵀX_{−k}) in the perspective terms (keeps G − δI safely PSD).
PERSPECTIVE_MARGIN = 1e-3


# -- data -------------------------------------------------------------------------------------
def check_data(instance: Instance | dict) -> np.ndarray:
    """The instance's ``X`` as a finite float n×d matrix with d ≥ 2; one :class:`InputError` otherwise."""
    arrays = instance.arrays if isinstance(instance, Instance) else instance
    if "X" not in arrays:
        raise InputError("a Bayesian-network instance must hold the data matrix 'X' (n samples × d variables)")
    X = np.asarray(arrays["X"])
    if X.ndim != 2:
        raise InputError(f"X must be a 2-D array (n samples × d variables); got shape {X.shape}")
    if not np.issubdtype(X.dtype, np.number) or np.iscomplexobj(X):
        raise InputError("X must be a real numeric array")
    if X.shape[1] < 2:
        raise InputError(f"a DAG instance needs at least two variables; X has d = {X.shape[1]}")
    if X.shape[0] == 0:
        raise InputError("X has no rows (n = 0)")
    X = X.astype(float)
    if not np.all(np.isfinite(X)):
        raise InputError(f"X contains {int(np.sum(~np.isfinite(X)))} NaN or infinite value(s); clean or impute them first")
    return X


def _flag(value: Any, name: str) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise InputError(f"hyperparameter {name} must be true or false; got {value!r}")


# -- scores, acyclicity, the oracle -------------------------------------------------------------
def node_fit(X: np.ndarray, k: int, parents) -> tuple[np.ndarray, float]:
    """Least-squares fit of X_k on the columns ``parents``: (coefficients over ``parents``, RSS)."""
    parents = list(parents)
    target = X[:, k]
    if not parents:
        return np.zeros(0), float(target @ target)
    coef = np.linalg.lstsq(X[:, parents], target, rcond=None)[0]
    residual = target - X[:, parents] @ coef
    return coef, float(residual @ residual)


def objective_value(X: np.ndarray, B: np.ndarray, n_arcs: int, lambda0: float) -> float:
    """(18a): Σ_k ‖X_k − X B_{·k}‖² + λ0·(number of arcs)."""
    residual = X - X @ B
    return float(np.sum(residual * residual) + lambda0 * n_arcs)


def topological_sort(adjacency: np.ndarray) -> tuple[list[int], list[int]]:
    """Kahn's algorithm on the 0/1 matrix ``adjacency`` (arc j → k where ``adjacency[j, k]``):
    ``(order, stuck)`` — a topological order of the nodes it could remove, and the nodes left
    over (empty exactly when the graph is acyclic; a self-loop counts as a cycle)."""
    A = np.asarray(adjacency, dtype=bool)
    d = A.shape[0]
    indegree = A.sum(axis=0).astype(int)
    ready = [k for k in range(d) if indegree[k] == 0]
    order: list[int] = []
    while ready:
        j = ready.pop(0)
        order.append(j)
        for k in np.flatnonzero(A[j]):
            indegree[k] -= 1
            if indegree[k] == 0:
                ready.append(int(k))
    stuck = [k for k in range(d) if k not in order]
    return order, stuck


def all_dags(d: int):
    """Every DAG on d labelled nodes as a boolean adjacency matrix (each unordered pair absent,
    j → k or k → j; the cyclic ones are skipped by :func:`topological_sort`)."""
    pairs = list(itertools.combinations(range(d), 2))
    for states in itertools.product((0, 1, 2), repeat=len(pairs)):
        A = np.zeros((d, d), dtype=bool)
        for (j, k), state in zip(pairs, states):
            if state == 1:
                A[j, k] = True
            elif state == 2:
                A[k, j] = True
        if not topological_sort(A)[1]:
            yield A


def best_dag_bruteforce(X: np.ndarray, lambda0: float) -> tuple[float, np.ndarray, np.ndarray]:
    """Optimum of (16)/(18) without the big-M box by enumerating every DAG on d ≤ 4 variables:
    each DAG's score is Σ_k (RSS of X_k least-squares fitted on its parents) + λ0·#arcs.
    Returns ``(value, adjacency, B)``; ties keep the DAG found first (fewest-arc order is not
    implied). Independent of every solver (NumPy least squares only)."""
    X = np.asarray(X, dtype=float)
    d = X.shape[1]
    if not 2 <= d <= MAX_BRUTEFORCE_D:
        raise InputError(f"best_dag_bruteforce enumerates DAGs on 2..{MAX_BRUTEFORCE_D} variables; got d = {d}")
    cache: dict[tuple[int, tuple[int, ...]], tuple[np.ndarray, float]] = {}

    def score(k: int, parents: tuple[int, ...]):
        if (k, parents) not in cache:
            cache[(k, parents)] = node_fit(X, k, parents)
        return cache[(k, parents)]

    best = (math.inf, None, None)
    for A in all_dags(d):
        value = lambda0 * int(A.sum()) + sum(score(k, tuple(np.flatnonzero(A[:, k]).tolist()))[1] for k in range(d))
        if value < best[0] - 1e-12:
            B = np.zeros((d, d))
            for k in range(d):
                parents = tuple(np.flatnonzero(A[:, k]).tolist())
                B[list(parents), k] = score(k, parents)[0]
            best = (value, A.copy(), B)
    return best


# -- big-M -----------------------------------------------------------------------------------
def heuristic_dag(X: np.ndarray, lambda0: float) -> tuple[np.ndarray, float]:
    """A feasible DAG: for the identity order and its reverse, forward stepwise regression of
    each node on its predecessors (penalty λ0 per arc); the better one ``(B, objective)``."""
    d = X.shape[1]
    best = (None, math.inf)
    for order in (list(range(d)), list(range(d - 1, -1, -1))):
        B = np.zeros((d, d))
        for position, k in enumerate(order):
            predecessors = order[:position]
            if predecessors:
                B[predecessors, k] = greedy_solution(X[:, predecessors], X[:, k], k=None, lambda0=lambda0, lambda2=0.0)
        value = objective_value(X, B, int(np.count_nonzero(B)), lambda0)
        if value < best[1]:
            best = (B, value)
    return best


def derive_big_m(X: np.ndarray, lambda0: float) -> tuple[float, str]:
    """A big-M value for (18c) and how it was obtained (``derived`` = provably valid; see the
    module docstring), else the heuristic 2·max|B| (``heuristic``)."""
    d = X.shape[1]
    B, upper = heuristic_dag(X, lambda0)
    full_rss = [node_fit(X, k, [j for j in range(d) if j != k])[1] for k in range(d)]
    M = 0.0
    for k in range(d):
        others = [j for j in range(d) if j != k]
        budget = upper - math.fsum(full_rss[l] for l in others)
        extent = certified_big_m(X[:, others], X[:, k], 0.0, budget, lambda0=lambda0)
        if extent is None:
            return heuristic_big_m(B[B != 0] if np.any(B) else np.zeros(1), X, X[:, 0]), "heuristic"
        M = max(M, extent)
    return (M if M > 0 else 1.0), "derived"


def perspective_deltas(X: np.ndarray) -> np.ndarray:
    """δ_k = (1 − :data:`PERSPECTIVE_MARGIN`)·λ_min(X_{−k}ᵀX_{−k}) (0 when singular)."""
    d = X.shape[1]
    G = X.T @ X
    deltas = np.zeros(d)
    for k in range(d):
        others = [j for j in range(d) if j != k]
        smallest = float(np.linalg.eigvalsh(G[np.ix_(others, others)])[0])
        deltas[k] = max(smallest, 0.0) * (1.0 - PERSPECTIVE_MARGIN)
    return deltas


# -- the formulation ---------------------------------------------------------------------------
def _matrix(solution: dict[str, Any], name: str, d: int) -> np.ndarray:
    if name not in solution:
        raise InputError(f"solution must have {name} (a {d}×{d} matrix)")
    a = np.asarray(solution[name], dtype=float)
    if a.shape != (d, d):
        raise InputError(f"solution must have {name} of shape ({d}, {d}); got {a.shape}")
    return a


@register
class TopologicalOrder(Formulation):
    """Formulation (18): l0-penalised linear SEM structure learning with ordering variables
    ζ ∈ {1..d}, big-M links |B_jk| ≤ M z_jk and optional perspective terms (tutorial eq. 16–18;
    Manzour et al. 2021)."""

    id = "bayesnet.topological_order"
    equation = "(16)->(18)"
    problem_class = "MIQP"  # MISOCP with perspective=True: see problem_class_for
    family = "bayesnet"
    summary = "DAG learning (linear SEM, l0 arcs), topological-order variables, big-M (+ perspective)"
    hyperparameters = {"lambda0": None, "M": "auto", "perspective": False}
    benchmark_cases = (("bn-tiny-d3-n30", {"lambda0": 2.0}),
                       ("bn-small-d4-n50", {"lambda0": 4.0, "perspective": True}))

    def problem_class_for(self, params: dict[str, Any]) -> str:
        return "MISOCP" if params.get("perspective") else "MIQP"

    def validate(self, instance: Instance, params: dict[str, Any]) -> dict[str, Any]:
        params = super().validate(instance, params)
        X = check_data(instance)
        lambda0 = as_float(params, "lambda0", minimum=0.0, allow_none=True)
        if lambda0 is None:
            raise InputError(f"{self.id} needs the arc penalty lambda0 (e.g. --param lambda0=2)")
        perspective = _flag(params.get("perspective"), "perspective")
        M, source = params.get("M"), "given"
        if M in (None, "auto"):
            M, source = derive_big_m(X, lambda0)
        else:
            M = as_big_m(params)
        return {**params, "lambda0": lambda0, "perspective": perspective, "M": float(M), "M_source": source}

    def build(self, instance: Instance, params: dict[str, Any]) -> pyo.ConcreteModel:
        X = check_data(instance)
        d = X.shape[1]
        M, lambda0 = float(params["M"]), float(params["lambda0"])
        G = X.T @ X
        m = pyo.ConcreteModel(name=self.id)
        m.nodes = pyo.RangeSet(0, d - 1)
        m.arcs = pyo.Set(initialize=[(j, k) for j in range(d) for k in range(d) if j != k], dimen=2, ordered=True)
        m.B = pyo.Var(m.arcs, bounds=(-M, M))                      # (18b): no (j, j) entries
        m.z = pyo.Var(m.arcs, domain=pyo.Binary)
        m.zeta = pyo.Var(m.nodes, domain=pyo.Integers, bounds=(1, d))  # (18e), positions 1..d
        m.big_m_upper = pyo.Constraint(m.arcs, rule=lambda m, j, k: m.B[j, k] <= M * m.z[j, k])  # (18c)
        m.big_m_lower = pyo.Constraint(m.arcs, rule=lambda m, j, k: -M * m.z[j, k] <= m.B[j, k])
        m.ordering = pyo.Constraint(                                                           # (18d)
            m.arcs, rule=lambda m, j, k: 1 - d * (1 - m.z[j, k]) <= m.zeta[k] - m.zeta[j])
        deltas = perspective_deltas(X) if params["perspective"] else np.zeros(d)
        terms = []
        for k in range(d):
            others = [j for j in range(d) if j != k]
            for a, j in enumerate(others):
                for l in others[a:]:
                    weight = G[j, l] - (deltas[k] if j == l else 0.0)
                    weight = weight if j == l else 2.0 * weight
                    if weight != 0.0:
                        terms.append(float(weight) * m.B[j, k] * m.B[l, k])
                if G[j, k] != 0.0:
                    terms.append(float(-2.0 * G[j, k]) * m.B[j, k])
        loss = pyo.quicksum(terms) + float(np.trace(G))
        if params["perspective"]:
            m.s = pyo.Var(m.arcs, bounds=(0, None))
            m.rotated_cone = pyo.Constraint(m.arcs, rule=lambda m, j, k: m.B[j, k] ** 2 <= m.s[j, k] * m.z[j, k])
            loss = loss + pyo.quicksum(float(deltas[k]) * m.s[j, k] for j, k in m.arcs)
        m.loss = pyo.Expression(expr=loss)
        m.objective = pyo.Objective(expr=m.loss + lambda0 * pyo.quicksum(m.z[a] for a in m.arcs))
        return m

    def extract(self, model, instance: Instance, params: dict[str, Any]) -> dict[str, np.ndarray]:
        d = instance.X.shape[1]
        B, z = np.zeros((d, d)), np.zeros((d, d))
        for j, k in model.arcs:
            B[j, k] = np.nan if model.B[j, k].value is None else float(model.B[j, k].value)
            z[j, k] = np.nan if model.z[j, k].value is None else float(model.z[j, k].value)
        order = np.array([np.nan if model.zeta[k].value is None else float(model.zeta[k].value) for k in range(d)])
        return {"B": B, "z": z, "order": order}

    def evaluate(self, instance: Instance, params: dict[str, Any], solution: dict[str, np.ndarray]) -> Evaluation:
        """Objective (18a) from X and B, the arcs from z; violations: ``integrality`` (z and, when
        given, the positions ``order``), ``self_loop`` (B_jj, z_jj), ``support_link`` (|B_jk| with
        z_jk = 0), ``big_m`` (|B_jk| − M), ``acyclicity`` (nodes left on cycles by a topological
        sort of the arcs, independent of ``order``) and, when ``order`` is given, ``order_range``
        (positions outside [1, d]) and ``ordering`` ((18d) on every arc)."""
        X = check_data(instance)
        d = X.shape[1]
        B, z = _matrix(solution, "B", d), _matrix(solution, "z", d)
        order = None
        if solution.get("order") is not None:
            order = np.asarray(solution["order"], dtype=float)
            if order.shape != (d,):
                raise InputError(f"solution order must have length {d}; got shape {order.shape}")
        if not all_finite(B, z, *(() if order is None else (order,))):
            return missing_values()
        M, lambda0 = float(params["M"]), float(params["lambda0"])
        arcs = z > 0.5
        off = ~np.eye(d, dtype=bool)
        violations = {
            "integrality": integrality_violation(z, *(() if order is None else (order,))),
            "self_loop": float(max(np.max(np.abs(np.diag(B))), np.max(np.abs(np.diag(z))))),
            "support_link": float(np.max(np.abs(B[off & ~arcs]), initial=0.0)),
            "big_m": float(max(np.max(np.abs(B)) - M, 0.0)) if math.isfinite(M) else 0.0,
        }
        topo, stuck = topological_sort(arcs)
        violations["acyclicity"] = float(len(stuck))
        if order is not None:
            violations["order_range"] = float(max(np.max(1.0 - order), np.max(order - d), 0.0))
            gaps = [1.0 - d * (1.0 - z[j, k]) - (order[k] - order[j]) for j in range(d) for k in range(d) if j != k]
            violations["ordering"] = float(max(max(gaps), 0.0))
        n_arcs = int(np.sum(arcs & off))
        objective = objective_value(X, B, n_arcs, lambda0)
        info = {
            "arcs": [[int(j), int(k)] for j, k in zip(*np.nonzero(arcs & off))],
            "n_arcs": n_arcs,
            "topological_order": topo if not stuck else None,
            "perspective": bool(params.get("perspective")),
            **big_m_info(params, m_binding(B[off], arcs[off], M), what="|B_jk|",
                         reason="singular X_{-k}'X_{-k} with too many supports to enumerate"),
        }
        return Evaluation(objective=objective, violations=violations, info=info)
