"""Certifiably optimal sparse PCA by a batched branch and bound over supports.

The problem is (15) of the tutorial (``sparse_pca.mio``), in its combinatorial form

    max_{S ⊆ {0..d-1}, |S| ≤ k}  λ_max(Σ_SS)

(the optimum of (15) on a fixed support S is the top eigenvalue of the principal submatrix
Σ_SS; see :mod:`reference_impl.formulations.sparse_pca`). In the spirit of Berk & Bertsimas,
"Certifiably optimal sparse principal component analysis", Math. Prog. Comp. 11 (2019),
a node of the tree fixes some features *in* (set I) and some *out* (set O); the rest are free
(F). Its completions are the supports S with I ⊆ S ⊆ I ∪ F and |S| ≤ k; r = k − |I| is the
number of free slots left.

Upper bounds (each valid for every completion S of the node; the node's bound is their minimum,
and never more than its parent's, whose completions include the child's):

1. **Interlacing.** λ_max(Σ_SS) ≤ λ_max(Σ_AA) for A = I ∪ F, since S ⊆ A and by Cauchy's
   interlacing theorem the largest eigenvalue of a principal submatrix never exceeds that of
   the matrix (equivalently: the max of xᵀΣx over unit x supported in S is over a subset of
   the unit x supported in A). When r = 0 the only completion is I and the bound is λ_max(Σ_II).
2. **Gershgorin with the cardinality.** Every eigenvalue of Σ_SS lies in a Gershgorin disc
   of Σ_SS, so λ_max(Σ_SS) ≤ max_{i∈S} Σ_{j∈S} |Σᵢⱼ| (Σᵢᵢ ≥ 0 for PSD Σ). For i ∈ S the row
   sum is at most Σ_{j∈I}|Σᵢⱼ| plus, for i ∈ I, the r largest |Σᵢⱼ| over j ∈ F, and for
   i ∈ F, Σᵢᵢ plus the r − 1 largest |Σᵢⱼ| over j ∈ F \\ {i} (S holds at most r free
   features, i among them). The bound is the max of these over i ∈ I ∪ F ⊇ S.
3. **Trace.** Σ_SS is PSD, so λ_max(Σ_SS) ≤ tr(Σ_SS) ≤ Σ_{i∈I} Σᵢᵢ + (the r largest Σᵢᵢ over F).
4. **Spectral, with sparse projections.** Let Σ_AA = Σ_l λ_l u_l u_lᵀ (λ₁ ≥ … ≥ 0, orthonormal
   u_l; A's block padded with zeros to d × d). For a unit x supported on a completion S,
   xᵀΣx = Σ_l λ_l t_l with t_l = (u_lᵀx)², Σ_l t_l = 1, and t_l ≤ c_l := ‖u_l restricted to S‖²
   (Cauchy–Schwarz) ≤ ‖u_l on I‖² + (the r largest u_l[j]² over j ∈ F). The max of Σ λ_l t_l
   over 0 ≤ t_l ≤ min(c_l, 1), Σ t_l ≤ 1 (a relaxation of Σ t_l = 1: λ_l ≥ 0) is a fractional
   knapsack with unit weights, solved exactly by filling greedily in order of λ: with
   C_q = min(c₁ + … + c_q, 1) its value is Σ_l λ_l (C_l − C_{l−1}). (The code takes the least
   of λ_{q+1}(1 − C_q) + Σ_{l≤q} λ_l (C_l − C_{l−1}) over q = 0..d, each an upper bound on
   that value, q = 0 giving bound 1 and q = d the value itself.) It is much below bound 1 when
   the leading eigenvectors of the block are spread over many features (noise directions).

Each computed bound is raised by a rounding allowance (:data:`BOUND_SLACK` × λ_max(Σ) + the
eigensolver's error scale), so the floating-point value stays ≥ the exact one.

A node is a *leaf* when its completions have one best member known exactly: r = 0 (only I) or
|I ∪ F| ≤ k (S = I ∪ F is best by interlacing); its bound is then its exact value.

Incumbents: greedy forward selection (add the feature that raises λ_max most), the truncated
power method (Yuan & Zhang 2013, :func:`~reference_impl.formulations.sparse_pca.truncated_power_method`)
and, at every node, the support I ∪ (the r free features with the largest weights in the
leading eigenvector of Σ_AA); each candidate support's value is its exact λ_max, and a new
incumbent is polished by best-improvement 1-swap local search (:func:`swap_search`).

Search: best-first. Each round pops up to ``batch_size`` open nodes with the largest bounds and
processes them together: one stacked ``eigh`` of the masked d × d blocks (rows and columns
outside A set to 0, which leaves λ_max(Σ_AA) and its eigenvector unchanged since Σ_AA is PSD),
one stacked sort for the Gershgorin bounds, one stacked ``eigh`` of the k × k heuristic
supports. A node whose bound is ≤ incumbent·(1 + rel_gap) is pruned; the certified bound is
the max of the incumbent, the open nodes' bounds and those pruned nodes' bounds, so the run is
``optimal`` exactly when that bound is ≤ incumbent·(1 + rel_gap). A non-leaf node branches on
the free feature with the largest |weight| in the leading eigenvector of its block: one child
fixes it in, the other out.
"""
from __future__ import annotations

import heapq
import math
import time
from dataclasses import dataclass, field

import numpy as np

#: relative rounding allowance added to every computed upper bound (× λ_max(Σ))
BOUND_SLACK = 1e-10
#: statuses :func:`solve` ends with
STATUSES = ("optimal", "time_limit", "node_limit")


@dataclass
class BnBResult:
    """What :func:`solve` found: ``value`` = λ_max(Σ_SS) of the best ``support`` S (``theta``,
    its unit leading eigenvector on S), ``bound`` ≥ the optimum (certified), ``status`` one of
    :data:`STATUSES`."""

    status: str
    value: float
    support: tuple[int, ...]
    theta: np.ndarray
    bound: float
    root_bound: float
    nodes: int
    batches: int
    seconds: float
    open_nodes: int
    incumbent_source: str
    root_bounds: dict[str, float] = field(default_factory=dict)
    progress: list[tuple[float, int, float, float]] = field(default_factory=list)  # (t, nodes, incumbent, bound)


# -- exact values ------------------------------------------------------------------------------------------
def support_value(Sigma: np.ndarray, support) -> tuple[float, np.ndarray]:
    """λ_max(Σ_SS) and its unit eigenvector embedded in R^d (0 off S)."""
    S = np.asarray(Sigma, dtype=float)
    index = np.asarray(sorted(int(i) for i in support), dtype=int)
    theta = np.zeros(S.shape[0])
    if index.size == 0:
        return 0.0, theta
    w, V = np.linalg.eigh(S[np.ix_(index, index)])
    theta[index] = V[:, -1]
    return float(w[-1]), theta


def _batched_values(Sigma: np.ndarray, supports: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """λ_max and leading eigenvectors (in R^d) of Σ_SS for each row of ``supports`` (B × s
    feature indices, all of the same size s)."""
    B, s = supports.shape
    blocks = Sigma[supports[:, :, None], supports[:, None, :]]
    w, V = np.linalg.eigh(blocks)
    thetas = np.zeros((B, Sigma.shape[0]))
    np.put_along_axis(thetas, supports, V[:, :, -1], axis=1)
    return w[:, -1], thetas


# -- heuristics --------------------------------------------------------------------------------------------
def greedy_support(Sigma: np.ndarray, k: int) -> tuple[int, ...]:
    """Greedy forward selection (Moghaddam, Weiss & Avidan 2006): start from the largest
    variance, add the feature that raises λ_max most, until k features (batched per step)."""
    S = np.asarray(Sigma, dtype=float)
    d = S.shape[0]
    chosen = [int(np.argmax(np.diag(S)))]
    while len(chosen) < min(k, d):
        rest = np.array([j for j in range(d) if j not in chosen], dtype=int)
        supports = np.column_stack([np.tile(np.array(chosen, dtype=int), (rest.size, 1)), rest])
        values, _ = _batched_values(S, supports)
        chosen.append(int(rest[int(np.argmax(values))]))
    return tuple(sorted(chosen))


def swap_search(Sigma: np.ndarray, support, max_rounds: int = 50) -> tuple[int, ...]:
    """Best-improvement 1-swap local search: exchange one feature of S with one outside while
    λ_max(Σ_SS) grows (batched over all swaps of one round)."""
    S = np.asarray(Sigma, dtype=float)
    d = S.shape[0]
    current = tuple(sorted(int(i) for i in support))
    value, _ = support_value(S, current)
    if len(current) in (0, d):
        return current
    for _ in range(max_rounds):
        inside = np.array(current, dtype=int)
        outside = np.array([j for j in range(d) if j not in current], dtype=int)
        pairs = [(a, b) for a in range(inside.size) for b in outside]
        supports = np.array([np.sort(np.concatenate([np.delete(inside, a), [b]])) for a, b in pairs], dtype=int)
        values, _ = _batched_values(S, supports)
        best = int(np.argmax(values))
        if values[best] <= value * (1 + 1e-12):
            break
        value, current = float(values[best]), tuple(int(i) for i in supports[best])
    return current


# -- bounds ----------------------------------------------------------------------------------------------
def node_bounds(Sigma: np.ndarray, k: int, states: np.ndarray, *, absSigma: np.ndarray | None = None,
                slack: float = 0.0) -> dict[str, np.ndarray]:
    """The three upper bounds of the module docstring for a batch of nodes.

    ``states``: B × d, entries 1 (fixed in), 0 (free), −1 (fixed out). Returns arrays of length
    B: ``eig`` (interlacing), ``gershgorin``, ``trace``, ``bound`` (their minimum, the exact value
    for a leaf), ``leaf`` (bool), plus ``vectors`` (B × d: the leading eigenvector of each node's
    block, for branching and the heuristic). Every bound is raised by ``slack``."""
    S = np.asarray(Sigma, dtype=float)
    A = np.abs(S) if absSigma is None else absSigma
    states = np.asarray(states)
    B, d = states.shape
    inn, free = states == 1, states == 0
    avail = inn | free
    nin, navail = inn.sum(axis=1), avail.sum(axis=1)
    r = k - nin
    leaf = (r <= 0) | (navail <= k)
    block = np.where((r <= 0)[:, None], inn, avail)
    masked = S[None, :, :] * (block[:, :, None] & block[:, None, :])
    w, V = np.linalg.eigh(masked)
    eig = w[:, -1] + slack
    vectors = V[:, :, -1]
    # Gershgorin rows with the cardinality limit
    rows = np.arange(d)
    diag = np.diag(S)
    in_sum = inn.astype(float) @ A                             # Σ_{j∈I} |Σᵢⱼ| for every row i (A symmetric)
    free_entries = np.where(free[:, None, :], A[None, :, :], 0.0)
    free_entries[:, rows, rows] = 0.0                          # j ≠ i
    top = -np.sort(-free_entries, axis=2)
    cum = np.concatenate([np.zeros((B, d, 1)), np.cumsum(top, axis=2)], axis=2)   # cum[..., m] = top-m sum
    rr = np.clip(r, 0, d)
    take_in = np.take_along_axis(cum, np.broadcast_to(rr[:, None, None], (B, d, 1)), axis=2)[:, :, 0]
    take_free = np.take_along_axis(cum, np.broadcast_to(np.clip(rr - 1, 0, d)[:, None, None], (B, d, 1)), axis=2)[:, :, 0]
    row_bound = np.where(inn, in_sum + take_in, np.where(free, diag[None, :] + in_sum + take_free, -np.inf))
    gershgorin = row_bound.max(axis=1) + slack
    # trace
    free_diag = -np.sort(-np.where(free, diag[None, :], 0.0), axis=1)
    cum_diag = np.concatenate([np.zeros((B, 1)), np.cumsum(free_diag, axis=1)], axis=1)
    trace = (inn * diag[None, :]).sum(axis=1) + cum_diag[np.arange(B), rr] + slack
    spectral = _spectral_bound(w, V, inn, free, rr) + slack
    bound = np.where(leaf, eig, np.minimum(np.minimum(np.minimum(eig, gershgorin), trace), spectral))
    return {"eig": eig, "gershgorin": gershgorin, "trace": trace, "spectral": spectral, "bound": bound, "leaf": leaf,
            "vectors": vectors}


def _spectral_bound(w: np.ndarray, V: np.ndarray, inn: np.ndarray, free: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Bound 4 of the module docstring for a batch: ``w`` (B × d, ascending) and ``V`` (B × d × d,
    eigenvectors in columns) of the masked blocks, ``r`` free slots."""
    B, d = w.shape
    lam = np.maximum(w[:, ::-1], 0.0)                    # λ₁ ≥ … ≥ λ_d ≥ 0 (PSD; rounding clipped up)
    U2 = (V[:, :, ::-1]) ** 2                            # U2[b, j, l] = u_l[j]²
    in_part = np.einsum("bj,bjl->bl", inn.astype(float), U2)
    free_part = np.where(free[:, :, None], U2, 0.0)
    top = -np.sort(-free_part, axis=1)
    cum = np.concatenate([np.zeros((B, 1, d)), np.cumsum(top, axis=1)], axis=1)
    caps = in_part + np.take_along_axis(cum, np.broadcast_to(r[:, None, None], (B, 1, d)), axis=1)[:, 0, :]
    caps = np.minimum(caps, 1.0)
    filled = np.minimum(np.cumsum(caps, axis=1), 1.0)    # C_q: what the first q directions can take
    amounts = np.diff(np.concatenate([np.zeros((B, 1)), filled], axis=1), axis=1)
    gained = np.cumsum(lam * amounts, axis=1)            # Σ_{l≤q} λ_l a_l
    rest = np.concatenate([lam[:, 1:], np.zeros((B, 1))], axis=1)   # λ_{q+1} (0 past the last)
    candidates = rest * (1.0 - filled) + gained          # q = 1..d
    return np.minimum(candidates.min(axis=1), lam[:, 0])


# -- the search --------------------------------------------------------------------------------------------
def solve(Sigma: np.ndarray, k: int, *, time_limit: float = 60.0, rel_gap: float = 1e-4, batch_size: int = 64,
          node_limit: int | None = None, seed: int = 0, restarts: int = 10, swap_rounds: int = 50,
          threads: int | None = 1) -> BnBResult:
    """Branch and bound for max_{|S| ≤ k} λ_max(Σ_SS) (module docstring). ``Sigma``: a symmetric
    PSD matrix (checked by the caller); ``k`` in 1..d. Returns a :class:`BnBResult` whose
    ``bound`` is ≥ the optimum and ``value`` ≤ it; ``status`` is ``optimal`` when
    bound ≤ value·(1 + rel_gap), else ``time_limit`` or ``node_limit``.

    ``threads`` caps the BLAS/LAPACK threads for the run (threadpoolctl, when installed;
    ``None`` leaves them alone): many small stacked ``eigh`` calls run fastest on one thread."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        threadpool_limits = None
    if threads is None or threadpool_limits is None:
        return _solve(Sigma, k, time_limit=time_limit, rel_gap=rel_gap, batch_size=batch_size, node_limit=node_limit,
                      seed=seed, restarts=restarts, swap_rounds=swap_rounds)
    with threadpool_limits(limits=int(threads)):
        return _solve(Sigma, k, time_limit=time_limit, rel_gap=rel_gap, batch_size=batch_size, node_limit=node_limit,
                      seed=seed, restarts=restarts, swap_rounds=swap_rounds)


def _solve(Sigma, k, *, time_limit, rel_gap, batch_size, node_limit, seed, restarts, swap_rounds) -> BnBResult:
    from .formulations.sparse_pca import truncated_power_method

    start = time.perf_counter()
    S = np.asarray(Sigma, dtype=float)
    S = (S + S.T) / 2.0
    d = S.shape[0]
    k = int(min(k, d))
    A = np.abs(S)
    top_eigenvalue = float(np.linalg.eigvalsh(S)[-1])
    slack = BOUND_SLACK * max(top_eigenvalue, 1e-300) + 64 * d * np.finfo(float).eps * float(np.abs(S).max())

    # incumbents: greedy + swaps, truncated power method + swaps
    best = {"value": -math.inf, "support": (), "theta": np.zeros(d), "source": ""}

    def offer(support, source):
        value, theta = support_value(S, support)
        if value > best["value"]:
            best.update(value=value, support=tuple(sorted(int(i) for i in support)), theta=theta, source=source)
            return True
        return False

    offer(greedy_support(S, k), "greedy")
    tpm = truncated_power_method(S, k, seed=seed, restarts=restarts)
    offer(np.flatnonzero(tpm), "truncated_power")
    offer(swap_search(S, best["support"], swap_rounds), best["source"] + "+swap")

    counter = 0
    heap: list[tuple[float, int, bytes]] = []
    root = np.zeros(d, dtype=np.int8)
    heapq.heappush(heap, (-math.inf, counter, root.tobytes()))
    pruned_max = -math.inf          # the largest bound of a node pruned by the gap tolerance
    nodes = batches = 0
    root_bound, root_bounds = math.inf, {}
    progress: list[tuple[float, int, float, float]] = []
    status = "optimal"

    def threshold() -> float:
        return best["value"] * (1.0 + rel_gap) if best["value"] > 0 else best["value"] + rel_gap * 1e-10

    while heap:
        if -heap[0][0] <= threshold():
            pruned_max = max(pruned_max, -heap[0][0])
            break
        if batches and time.perf_counter() - start >= time_limit:   # the root is always bounded
            status = "time_limit"
            break
        if node_limit is not None and nodes >= node_limit:
            status = "node_limit"
            break
        batch, parents = [], []
        while heap and len(batch) < batch_size and -heap[0][0] > threshold():
            key, _, state = heapq.heappop(heap)
            batch.append(np.frombuffer(state, dtype=np.int8))
            parents.append(-key)
        states = np.array(batch)
        parent_bound = np.array(parents)
        out = node_bounds(S, k, states, absSigma=A, slack=slack)
        bound = np.minimum(out["bound"], parent_bound)
        nodes += len(batch)
        batches += 1
        if batches == 1:
            root_bound = float(bound[0])
            root_bounds = {name: float(out[name][0]) for name in ("eig", "gershgorin", "trace", "spectral")}
        leaf = out["leaf"]
        inn, free = states == 1, states == 0
        # leaves: their bound is their exact value (the support I, or I ∪ F)
        for b in np.flatnonzero(leaf & (out["eig"] - slack > best["value"])):
            support = np.flatnonzero(inn[b]) if k - inn[b].sum() <= 0 else np.flatnonzero(inn[b] | free[b])
            offer(support, "node")
        # heuristic at the other nodes: I ∪ the r free features with the largest eigenvector weights
        branch = np.flatnonzero(~leaf)
        if branch.size:
            weights = np.abs(out["vectors"][branch])
            score = np.where(inn[branch], np.inf, np.where(free[branch], weights, -np.inf))
            order = np.argsort(-score, axis=1, kind="stable")[:, :k]
            supports = np.sort(order, axis=1)
            values, _ = _batched_values(S, supports)
            top = int(np.argmax(values))
            if values[top] > best["value"] and offer(supports[top], "node"):
                offer(swap_search(S, best["support"], swap_rounds), "node+swap")
        limit = threshold()
        for b in range(len(batch)):
            if leaf[b]:
                continue
            if bound[b] <= limit:
                if bound[b] > best["value"]:
                    pruned_max = max(pruned_max, float(bound[b]))
                continue
            weights = np.where(free[b], np.abs(out["vectors"][b]), -1.0)
            j = int(np.argmax(weights))
            for value in (1, -1):
                child = states[b].copy()
                child[j] = value
                counter += 1
                heapq.heappush(heap, (-float(bound[b]), counter, child.tobytes()))
        # the pruning threshold may have risen with a new incumbent: nothing else to do here, the
        # heap is filtered as nodes are popped
        open_bound = -heap[0][0] if heap else -math.inf
        progress.append((time.perf_counter() - start, nodes, best["value"], max(best["value"], open_bound, pruned_max)))

    open_bound = max((-key for key, _, _ in heap), default=-math.inf)
    if status == "optimal":
        # every open node's bound is within the tolerance: it counts as pruned
        pruned_max = max(pruned_max, open_bound)
        open_nodes = 0
    else:
        open_nodes = len(heap)
    final_bound = max(best["value"], open_bound, pruned_max)
    if not math.isfinite(final_bound):
        final_bound = math.inf
    if status == "optimal" and final_bound > threshold():
        status = "time_limit"  # defensive: never claim more than the bounds show
    return BnBResult(status=status, value=float(best["value"]), support=best["support"], theta=best["theta"],
                     bound=float(final_bound), root_bound=float(root_bound), nodes=nodes, batches=batches,
                     seconds=time.perf_counter() - start, open_nodes=open_nodes, incumbent_source=best["source"],
                     root_bounds=root_bounds, progress=progress)
