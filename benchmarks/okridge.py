"""asv: the native solver against OKRidge (Liu, Rosen, Zhong & Rudin, NeurIPS 2023; pip
``okridge``, least squares, M = ∞) on OKRidge's test setting: n = 6000, p = 3000, k = 10,
ρ = 0.5, SNR = 5, λ2 = 0.1 in OKRidge's scaling (Σ(y − xβ)² + λ2‖β‖², i.e. λ2 = 0.05 in ours).
``track_time_ratio`` = bnb time / OKRidge time (target ≤ 1); ``track_same_optimum`` = 1 when
both certify the same objective to 1e-6. Skipped when okridge is not installed (it pins
numpy < 2; install it with ``pip install --no-deps okridge``).
``MIOBENCH_ASV_KGLM_SCALE=small`` uses n = 1000, p = 100.
"""
import os
import time

import numpy as np

from reference_impl.instances.generators import synthetic_regression
from reference_impl.kglm import solve, warm_up

SMALL = os.environ.get("MIOBENCH_ASV_KGLM_SCALE", "full") == "small"
N, P = (1000, 100) if SMALL else (6000, 3000)


class VersusOKRidge:
    timeout = 1800
    number = 1
    repeat = (1, 1, 1800.0)

    def setup_cache(self):
        try:
            from okridge.tree import BNBTree
        except ImportError:
            return None
        data = synthetic_regression(N, P, 10, rho=0.5, snr=5.0, seed=0)
        X, y = data["X"], data["y"]
        warm_up()  # compile kernels outside the timing
        start = time.perf_counter()
        upper, beta_ok, gap_ok, _, _ = BNBTree(X=X, y=y, lambda2=0.1).solve(k=10, gap_tol=1e-4, time_limit=1200)
        okridge_seconds = time.perf_counter() - start
        start = time.perf_counter()
        result = solve(X, y, k=10, lambda2=0.05, gap_tol=1e-4, time_limit=1200)
        bnb_seconds = time.perf_counter() - start
        objective_ok = 0.5 * (float(np.sum((y - X @ beta_ok) ** 2)) + 0.1 * float(beta_ok @ beta_ok))
        return {"ratio": bnb_seconds / okridge_seconds,
                "same": float(gap_ok <= 1e-4 and result.status == "optimal"
                              and abs(objective_ok - result.objective) <= 1e-6 * objective_ok)}

    setup_cache.timeout = 3600

    def setup(self, cache):
        if cache is None:
            raise NotImplementedError("okridge is not installed")

    def track_time_ratio(self, cache):
        return cache["ratio"]

    def track_same_optimum(self, cache):
        return cache["same"]

    track_time_ratio.unit = "bnb / OKRidge"
