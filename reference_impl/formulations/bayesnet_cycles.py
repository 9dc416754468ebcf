"""Bayesian network structure learning with cycle inequalities (tutorial §2.3.2, (16)+(17);
FORMULATIONS.md §3, ``bayesnet.cycle_constraints``).

Problem (16) of Justin, Sun, Gómez & Vayanos, "Responsible Machine Learning via
Mixed-Integer Optimization" (arXiv 2505.05857) for the linear structural equation model with
least-squares loss and an l0 penalty on the arcs — the same objective, big-M links,
hyperparameters and evaluator as ``bayesnet.topological_order``
(:mod:`reference_impl.formulations.bayesnet`, Manzour et al. 2021) — with acyclicity (16c)
written as the cycle inequalities (17) instead of ordering variables::

    min_{B,z}  Σ_k ‖X_k − Σ_{j≠k} B_jk X_j‖² + λ0 Σ_{j≠k} z_jk
    s.t.       −M z_jk ≤ B_jk ≤ M z_jk                            ∀j ≠ k
               Σ_{(j,k)∈C} z_jk ≤ |C| − 1                          ∀ directed cycles C   (17)
               z ∈ {0,1}^{d×d} (off-diagonal; (16b) by the index set)

(17) as printed in the tutorial sums z over *every* ordered pair inside a node set S
(Σ_{j∈S} Σ_{k∈S} z_jk ≤ |S| − 1, the spanning-tree form); read literally it forbids acyclic
graphs too (the transitive triangle 0→1, 1→2, 0→2 has three arcs on |S| = 3 nodes). Its text
("cycles defined by nodes S involve exactly |S| arcs: inequalities (17) thus prevent such
cycles") is the cycle form above, used here: one inequality per directed simple cycle C, on
the |C| arcs of C. An arc set satisfies all of them exactly when it is acyclic.

Two models:

* :meth:`CycleConstraints.master` — arcs, big-M links, objective, and the 2-cycle inequalities
  z_jk + z_kj ≤ 1 only (d(d−1)/2 of them, the most frequent violation: regressing X_j on X_k
  and X_k on X_j both lower the loss), plus an empty ConstraintList ``cycle_cuts``. The native
  solver ``cycle_cuts`` (:mod:`reference_impl.solvers.adapters.cycle_cuts`) solves it in a
  constraint-generation loop (:mod:`reference_impl.solvers.decomposition`): solve the master,
  find directed cycles in its arc set (the shortest cycle through each node, by BFS), add one
  inequality (17) per cycle, repeat until the arc set is acyclic.
* :meth:`CycleConstraints.build` — the full formulation: the master plus *every* cycle
  inequality of length ≥ 3, enumerated (Σ_{l=2}^{d} C(d,l)(l−1)! cycles: 5 for d = 3, 20 for
  d = 4, 16 064 for d = 8). It is what the Pyomo solvers (``scip``, ``gurobi``) take, so that
  ``--solver scip`` solves (16)+(17) exactly rather than a relaxation, and its continuous
  relaxation is the strong root relaxation the tutorial contrasts with (18)'s. Beyond
  :data:`MAX_ENUMERATED_CYCLES` cycles (d ≥ 8) it refuses, naming ``--solver cycle_cuts``: at
  d = 8 (16 064 inequalities) SCIP 10 aborts (SIGABRT, a double free) on the model and on its
  continuous relaxation, and Gurobi's licence refuses it.

With ``perspective=True`` both models carry the perspective terms of (18) (rotated cones,
MISOCP); the objective, its big-M (``M="auto"``: :func:`~.bayesnet.derive_big_m`) and the
evaluation (objective recomputed from X and B, acyclicity by a topological sort of the arcs)
are those of ``bayesnet.topological_order``, reused by inheritance; a solution here has no
positions (``order``), so the ordering checks do not apply.
"""
from __future__ import annotations

import math
from collections import deque
from typing import Any

import numpy as np
import pyomo.environ as pyo

from ..errors import InputError
from ..instances.instance import Instance
from ..registry import register
from .bayesnet import TopologicalOrder, check_data, node_fit, objective_value

#: The full model (:meth:`CycleConstraints.build`) enumerates at most this many cycle inequalities (d ≤ 7:
#: 2 365); at d = 8 (16 064) SCIP 10 aborts on it, so larger graphs go to the native loop cycle_cuts.
MAX_ENUMERATED_CYCLES = 5_000


# -- cycles ---------------------------------------------------------------------------------------
def cycle_count(d: int) -> int:
    """Number of directed simple cycles (length ≥ 2) of the complete digraph on d nodes:
    Σ_{l=2}^{d} C(d, l)·(l − 1)!."""
    return sum(math.comb(d, length) * math.factorial(length - 1) for length in range(2, d + 1))


def all_cycles(d: int, min_length: int = 2):
    """Every directed simple cycle of the complete digraph on d nodes, each once, as a tuple
    of nodes starting at its smallest node (the arcs are consecutive pairs, closing back)."""
    def extend(path: list[int], used: set[int]):
        if len(path) >= min_length:
            yield tuple(path)
        for node in range(path[0] + 1, d):
            if node not in used:
                used.add(node)
                path.append(node)
                yield from extend(path, used)
                path.pop()
                used.discard(node)

    for first in range(d):
        yield from extend([first], {first})


def cycle_arcs(cycle) -> list[tuple[int, int]]:
    """The arcs of a cycle given as its node sequence."""
    return [(int(cycle[i]), int(cycle[(i + 1) % len(cycle)])) for i in range(len(cycle))]


def canonical(cycle) -> tuple[int, ...]:
    """The cycle rotated to start at its smallest node (one name per directed cycle)."""
    cycle = [int(v) for v in cycle]
    start = cycle.index(min(cycle))
    return tuple(cycle[start:] + cycle[:start])


def shortest_cycles(adjacency: np.ndarray) -> list[tuple[int, ...]]:
    """Separation of (17) at an integral arc set: for every node, a shortest directed cycle
    through it (breadth-first search from the node back to itself), without repeats; empty
    exactly when the arc set (``adjacency[j, k]``: arc j → k; the diagonal is ignored) is
    acyclic. Each cycle violates its inequality by 1."""
    A = np.asarray(adjacency, dtype=bool).copy()
    np.fill_diagonal(A, False)
    d = A.shape[0]
    successors = [np.flatnonzero(A[j]).tolist() for j in range(d)]
    found: dict[tuple[int, ...], None] = {}
    for source in range(d):
        parent = {source: None}
        queue = deque([source])
        closing = None
        while queue and closing is None:
            node = queue.popleft()
            for nxt in successors[node]:
                if nxt == source:
                    closing = node
                    break
                if nxt not in parent:
                    parent[nxt] = node
                    queue.append(nxt)
        if closing is None:
            continue
        path = [closing]
        while path[-1] != source:
            path.append(parent[path[-1]])
        found.setdefault(canonical(path[::-1]), None)
    return list(found)


def lightest_cycles(z: np.ndarray, tol: float = 1e-5) -> list[tuple[int, ...]]:
    """Exact separation of (17) at a fractional z (the continuous relaxation): with arc weights
    1 − z_jk ≥ 0, the inequality of cycle C is violated exactly when Σ_{(j,k)∈C} (1 − z_jk) < 1.
    For every node, a lightest cycle through it (Floyd–Warshall shortest paths, closed by one
    arc), kept when its weight is below 1 − ``tol``; no repeats. At an integral z these are the
    cycles of the arc set (weight 0)."""
    z = np.clip(np.nan_to_num(np.asarray(z, dtype=float), nan=0.0), 0.0, 1.0)
    d = z.shape[0]
    weight = 1.0 - z
    np.fill_diagonal(weight, np.inf)
    dist, hop = weight.copy(), np.tile(np.arange(d), (d, 1))  # hop[i, j]: the node after i on a path i → j
    for m in range(d):
        through = dist[:, [m]] + dist[[m], :]
        better = through < dist
        dist = np.where(better, through, dist)
        hop = np.where(better, hop[:, [m]], hop)
    found: dict[tuple[int, ...], None] = {}
    for source in range(d):
        closing = weight[source, :] + dist[:, source]  # arc source → k, then a path k → source
        closing[source] = np.inf
        k = int(np.argmin(closing))
        if not closing[k] < 1.0 - tol:
            continue
        path, node = [source], k
        while node != source and len(path) <= d:
            path.append(node)
            node = int(hop[node, source])
        if node == source and len(set(path)) == len(path):
            found.setdefault(canonical(path), None)
    return list(found)


def cycle_inequality(model, cycle):
    """(17) for one cycle: Σ_{(j,k)∈C} z_jk ≤ |C| − 1, over ``model.z``."""
    arcs = cycle_arcs(cycle)
    return pyo.quicksum(model.z[j, k] for j, k in arcs) <= len(arcs) - 1


def repair_to_dag(X: np.ndarray, B: np.ndarray, z: np.ndarray, lambda0: float, M: float) -> tuple[dict, float]:
    """A feasible point near a cyclic master solution: while the arc set has a cycle, drop the
    arc of the shortest cycle with the smallest |B_jk|; then refit each node by least squares on
    the parents it kept (used when the refit stays inside the box |B| ≤ M, else the master's
    coefficients on those arcs are kept). Returns ``({"B", "z"}, objective)``; the objective is
    the evaluator's (``objective_value``)."""
    d = X.shape[1]
    arcs = np.asarray(z, dtype=float) > 0.5
    np.fill_diagonal(arcs, False)
    B = np.where(arcs, np.asarray(B, dtype=float), 0.0)
    while True:
        cycles = shortest_cycles(arcs)
        if not cycles:
            break
        j, k = min(cycle_arcs(cycles[0]), key=lambda arc: (abs(B[arc]), arc))
        arcs[j, k] = False
        B[j, k] = 0.0
    for k in range(d):
        parents = np.flatnonzero(arcs[:, k]).tolist()
        if parents:
            coef, _ = node_fit(X, k, parents)
            if np.all(np.isfinite(coef)) and np.max(np.abs(coef)) <= M:
                B[parents, k] = coef
    value = objective_value(X, B, int(arcs.sum()), lambda0)
    return {"B": B, "z": arcs.astype(float)}, value


# -- the formulation ------------------------------------------------------------------------------
@register
class CycleConstraints(TopologicalOrder):
    """Formulation (16)+(17): l0-penalised linear SEM structure learning with big-M arc links
    and cycle inequalities (17) (tutorial eq. 16–17); no ordering variables. ``build`` is the
    full model (every cycle enumerated, d ≤ 7); the native solver ``cycle_cuts`` adds the
    inequalities on violation to :meth:`master` (2-cycles only)."""

    id = "bayesnet.cycle_constraints"
    equation = "(16)+(17)"
    problem_class = "MIQP"  # MISOCP with perspective=True (problem_class_for, inherited)
    family = "bayesnet"
    summary = "DAG learning (linear SEM, l0 arcs), cycle inequalities (17): all enumerated, or added on violation"
    hyperparameters = {"lambda0": None, "M": "auto", "perspective": False}
    benchmark_cases = (("bn-tiny-d3-n30", {"lambda0": 2.0}),
                       ("bn-small-d4-n50", {"lambda0": 4.0, "perspective": True}))

    def master(self, instance: Instance, params: dict[str, Any]) -> pyo.ConcreteModel:
        """The loop's first master: (18)'s arcs, big-M links and objective (perspective terms
        included when asked) without the positions ζ and (18d); the 2-cycle inequalities
        z_jk + z_kj ≤ 1; an empty ConstraintList ``cycle_cuts`` for the cuts."""
        d = check_data(instance).shape[1]
        m = TopologicalOrder.build(self, instance, params)
        m.del_component(m.ordering)
        m.del_component(m.zeta)
        m.pairs = pyo.Set(initialize=[(j, k) for j in range(d) for k in range(j + 1, d)], dimen=2, ordered=True)
        m.two_cycles = pyo.Constraint(m.pairs, rule=lambda m, j, k: m.z[j, k] + m.z[k, j] <= 1)
        m.cycle_cuts = pyo.ConstraintList()
        return m

    def build(self, instance: Instance, params: dict[str, Any]) -> pyo.ConcreteModel:
        """The full formulation: :meth:`master` plus every cycle inequality of length ≥ 3
        (``cycles``, indexed by position in :func:`all_cycles`' order)."""
        d = check_data(instance).shape[1]
        count = cycle_count(d)
        if count > MAX_ENUMERATED_CYCLES:
            raise InputError(f"{self.id} with every cycle inequality written out needs {count} constraints for "
                             f"d = {d} variables (at most {MAX_ENUMERATED_CYCLES}); solve it with the native "
                             "solver cycle_cuts (--solver cycle_cuts), which adds them on violation")
        m = self.master(instance, params)
        cycles = list(all_cycles(d, min_length=3))
        m.cycle_index = pyo.RangeSet(0, len(cycles) - 1)
        m.cycles = pyo.Constraint(m.cycle_index, rule=lambda m, i: cycle_inequality(m, cycles[i]))
        return m

    def extract(self, model, instance: Instance, params: dict[str, Any]) -> dict[str, np.ndarray]:
        d = check_data(instance).shape[1]
        B, z = np.zeros((d, d)), np.zeros((d, d))
        for j, k in model.arcs:
            B[j, k] = np.nan if model.B[j, k].value is None else float(model.B[j, k].value)
            z[j, k] = np.nan if model.z[j, k].value is None else float(model.z[j, k].value)
        return {"B": B, "z": z}
