"""The per-row PAVA kernels agree (FORMULATIONS.md §8: "light per-node work in custom
kernels"; DESIGN.md idea 5: GPU-only kernels testable without a GPU).

* numba CPU kernel == pure-Python reference (same source) exactly, and == the array-module
  twin (merged-breakpoint search, used with CuPy) to rounding;
* the numba-cuda kernel, run under ``NUMBA_ENABLE_CUDASIM=1`` in a subprocess, returns the
  same theta as the NumPy twins;
* the batched prox with the CUDA-simulated kernel equals the prox with the CPU kernel.
"""
from __future__ import annotations

import math
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from reference_impl.kglm import kernels


def _random_rows(rng, B, p):
    A = np.abs(rng.standard_normal((B, p))) * rng.choice([0.1, 1.0, 10.0], size=(B, 1))
    A[rng.random((B, p)) < 0.1] = 0.0
    ties = rng.random(B) < 0.3
    A[ties, : p // 2] = A[ties, :1]  # blocks of ties
    m = rng.integers(0, p + 1, size=B)
    A = np.where(np.arange(p) < m[:, None], A, -1.0)
    A = -np.sort(-A, axis=1)
    kf = np.minimum(rng.integers(0, p + 2, size=B), p)
    return A, m, kf


@pytest.mark.parametrize("lam2,M,sigma", [(1.0, math.inf, 1.0), (0.3, 2.0, 0.5), (1.0, 0.2, 3.0),
                                          (0.0, 1.0, 1.0), (0.0, 0.1, 7.0), (2.0, 1e6, 0.01)])
def test_cpu_reference_and_xp_twin_agree(lam2, M, sigma):
    rng = np.random.default_rng(0)
    A, m, kf = _random_rows(rng, 300, 17)
    cpu = kernels.theta_rows_cpu(A, m, kf, sigma, lam2, M)
    ref = np.array([kernels.theta_row_reference(A[i], int(m[i]), int(kf[i]), sigma, lam2, M)
                    for i in range(len(A))])
    twin = kernels.theta_rows_xp(A, m, kf, sigma, lam2, M, np)
    np.testing.assert_array_equal(cpu, ref)
    fin = np.isfinite(ref)
    np.testing.assert_array_equal(np.isfinite(twin), fin)
    np.testing.assert_allclose(twin[fin], ref[fin], rtol=1e-12, atol=1e-12)


_SIM_SCRIPT = textwrap.dedent(
    """
    import json, math, sys
    import numpy as np
    from reference_impl.kglm import kernels
    from reference_impl.kglm.prox import prox_batch
    from numba import cuda
    assert cuda.simulator_enabled if hasattr(cuda, "simulator_enabled") else True
    rng = np.random.default_rng(1)
    out = {}
    for lam2, M, sigma in [(1.0, math.inf, 1.0), (0.3, 2.0, 0.5), (0.0, 1.0, 1.5)]:
        B, p = 40, 9
        A = np.abs(rng.standard_normal((B, p)))
        m = rng.integers(0, p + 1, size=B)
        A = -np.sort(-np.where(np.arange(p) < m[:, None], A, -1.0), axis=1)
        kf = rng.integers(0, p + 1, size=B)
        sim = kernels.theta_rows_cuda(A, m, kf, sigma, lam2, M, np)
        cpu = kernels.theta_rows_cpu(A, m, kf, sigma, lam2, M)
        twin = kernels.theta_rows_xp(A, m, kf, sigma, lam2, M, np)
        V = rng.standard_normal((B, p))
        in1 = rng.random((B, p)) < 0.2
        free = ~in1 & (rng.random((B, p)) < 0.8)
        kfree = np.maximum(0, 4 - in1.sum(1))
        px_sim = prox_batch(V, 0.7, in1, free, kfree, lam2, M, kernels.theta_rows_cuda, np)
        px_cpu = prox_batch(V, 0.7, in1, free, kfree, lam2, M, kernels.theta_rows_cpu, np)
        out[f"{lam2},{M},{sigma}"] = dict(
            sim_cpu_equal=bool(np.array_equal(sim, cpu)),
            sim_twin_close=bool(np.allclose(np.where(np.isinf(sim), 0, sim), np.where(np.isinf(twin), 0, twin),
                                            rtol=1e-12, atol=1e-12)
                                and np.array_equal(np.isinf(sim), np.isinf(twin))),
            prox_equal=bool(np.array_equal(px_sim, px_cpu)))
    print("RESULT" + json.dumps(out))
    """
)


def test_cuda_kernel_under_simulator():
    pytest.importorskip("numba.cuda")
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run([sys.executable, "-c", _SIM_SCRIPT], env=env, capture_output=True,
                          text=True, timeout=240, cwd=root)
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT")][-1]
    import json

    res = json.loads(line[len("RESULT"):])
    assert res and all(all(v.values()) for v in res.values()), res


def test_fused_cpu_prox_equals_array_code():
    from reference_impl.kglm.prox import prox_batch

    rng = np.random.default_rng(4)
    for trial in range(150):
        B, p = int(rng.integers(1, 25)), int(rng.integers(1, 30))
        lam2 = float(rng.choice([0.0, 0.5, 1.0]))
        M = float(rng.choice([math.inf, 0.3, 2.0])) if lam2 > 0 else float(rng.choice([0.3, 2.0]))
        k = int(rng.integers(1, p + 1))
        in1 = rng.random((B, p)) < 0.2
        free = ~in1 & (rng.random((B, p)) < 0.7)
        kf = np.maximum(0, k - in1.sum(1))
        Y = rng.standard_normal((B, p)) * rng.choice([0.01, 1.0, 10.0])
        Y[rng.random((B, p)) < 0.1] = 0.0
        G = rng.standard_normal((B, p))
        t = float(rng.choice([0.01, 1.0, 5.0]))
        ref = prox_batch(Y - t * G, t, in1, free, kf, lam2, M, kernels.theta_rows_cpu)
        np.testing.assert_array_equal(kernels.prox_rows_cpu(Y - t * G, t, in1, free, kf, lam2, M), ref)
        np.testing.assert_array_equal(kernels.prox_step_cpu(Y, G, t, in1, free, kf, lam2, M), ref)


def test_fused_fista_steps_equal_array_code():
    """The compiled FISTA path (NumPy backend) and the array-module path (the CuPy code run
    on NumPy) produce identical node solves."""
    from reference_impl.kglm.backend import get_backend
    from reference_impl.kglm.losses import get_loss
    from reference_impl.kglm.node_batch import RelaxationBatch, RelaxOptions, SmoothPart

    rng = np.random.default_rng(5)
    be = get_backend("numpy")
    for loss in ("squared", "logistic"):
        X = rng.standard_normal((30, 12))
        y = rng.standard_normal(30) if loss == "squared" else rng.choice([-1.0, 1.0], 30)
        sm = SmoothPart(X, y, get_loss(loss), np)
        B = 7
        in1 = np.zeros((B, 12), bool)
        in1[np.arange(B), np.arange(B)] = True
        free = ~in1
        free[:, -2:] = False
        kf = np.full(B, 3)
        out = []
        for fused in (True, False):
            rb = RelaxationBatch(sm, 0.3, 2.0, be.prox, np, RelaxOptions(max_iter=200, stop_unprunable=False,
                                                                        rtol=0.0), fused=fused)
            rb.add(np.zeros((B, 12)), in1, free, kf, list(range(B)))
            res = sorted((f.payload, f.lower, tuple(f.beta)) for f in rb.run(np.inf))
            out.append(res)
        assert out[0] == out[1]
