"""asv: the native solver against OKRidge (Liu, Rosen, Zhong & Rudin, NeurIPS 2023; pip
``okridge``, least squares, M = ∞) on OKRidge's test setting: n = 6000, p = 3000, k = 10,
ρ = 0.5, SNR = 5, λ2 = 0.1 in OKRidge's scaling (Σ(y − xβ)² + λ2‖β‖², i.e. λ2 = 0.05 in ours).

Both runs go through :func:`reference_impl.api.solve` (solvers ``bnb`` and ``okridge`` of
``kglm.perspective``), so each answer is re-evaluated by the formulation's evaluator and both
objectives are in this package's scale (the ``okridge`` adapter converts OKRidge's). The times
compared are the records' ``solve_seconds`` (kernel compilation and OKRidge's set-up are build time).
``track_time_ratio`` = bnb time / OKRidge time (target ≤ 1); ``track_same_optimum`` = 1 when both
certify (status ``optimal``, gap ≤ 1e-4) and their objectives agree within that certified gap.
Skipped when okridge is not installed (``pip install --no-deps okridge==0.1.1``).
``MIOBENCH_ASV_KGLM_SCALE=small`` uses n = 1000, p = 100.
"""
import os

from reference_impl.api import solve
from reference_impl.instances.generators import synthetic_regression
from reference_impl.solvers.registry import solver_for
from reference_impl.registry import get_formulation

SMALL = os.environ.get("MIOBENCH_ASV_KGLM_SCALE", "full") == "small"
N, P = (1000, 100) if SMALL else (6000, 3000)
REL_GAP, TIME_LIMIT = 1e-4, 1200.0
PARAMS = {"k": 10, "lambda2": 0.05, "M": float("inf")}


class VersusOKRidge:
    timeout = 1800
    number = 1
    repeat = (1, 1, 1800.0)

    def setup_cache(self):
        if not solver_for("okridge", get_formulation("kglm.perspective")).installed():
            return None
        data = synthetic_regression(N, P, 10, rho=0.5, snr=5.0, seed=0)
        instance = {"X": data["X"], "y": data["y"]}
        records = {name: solve("kglm.perspective", instance, solver=name, time_limit=TIME_LIMIT, rel_gap=REL_GAP,
                               **PARAMS)
                   for name in ("okridge", "bnb")}
        okridge, bnb = records["okridge"], records["bnb"]
        both = okridge.status == bnb.status == "optimal"
        agree = both and abs(okridge.objective - bnb.objective) <= REL_GAP * max(abs(okridge.objective), 1.0)
        ratio = bnb.solve_seconds / okridge.solve_seconds if okridge.solve_seconds else float("nan")
        return {"ratio": ratio, "same": float(agree)}

    setup_cache.timeout = 3600

    def setup(self, cache):
        if cache is None:
            raise NotImplementedError("okridge is not installed")

    def track_time_ratio(self, cache):
        return cache["ratio"]

    def track_same_optimum(self, cache):
        return cache["same"]

    track_time_ratio.unit = "bnb / OKRidge"
