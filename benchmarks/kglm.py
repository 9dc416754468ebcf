"""asv benchmarks of the native batched branch and bound (``reference_impl.kglm``).

* ``Throughput``: nodes per second by batch size (B = 1 is the sequential baseline running the
  same code) on the GB paper's least-squares setting at n = p = 1000, over a fixed node budget.
* ``Certify``: time to certify (zero gap) per backend (``numpy``, ``cupy``; CuPy skips without
  a usable GPU) on the paper's settings (least squares n = p = 1000, logistic n = p = 500).
* ``VersusSCIP``: SCIP's time over ``bnb``'s on the same ``kglm.perspective`` instances, where
  SCIP certifies within its limit (a ratio measured in one run).

``MIOBENCH_ASV_KGLM_SCALE=small`` swaps in small instances (CI's quick run); the default is
the paper's setting. Instances come from the catalogue (``instances/catalogue/kglm.yaml``).
"""
import math
import os
import time

from reference_impl import solve as registry_solve
from reference_impl.instances import resolve_instance
from reference_impl.kglm import gpu_available, solve, warm_up

SMALL = os.environ.get("MIOBENCH_ASV_KGLM_SCALE", "full") == "small"
PAPER = {"lambda2": 1.0, "M": 2.0}
LS_LARGE = "kglm-ls-n100-p100-k5" if SMALL else "kglm-ls-n1000-p1000-k10"
LOGIT_LARGE = "kglm-logit-n100-p50-k5" if SMALL else "kglm-logit-n500-p500-k10"
K = 5 if SMALL else 10


def _data(instance_id):
    instance = resolve_instance(instance_id)
    return instance.X, instance.y


class Throughput:
    params = [1, 64, 256, 1024]
    param_names = ["batch_size"]
    timeout = 900
    node_budget = 256 if SMALL else 2048

    def setup(self, batch_size):
        warm_up()  # JIT-compile the kernels outside the timings
        self.X, self.y = _data(LS_LARGE)

    def track_nodes_per_second(self, batch_size):
        budget = self.node_budget if batch_size > 1 else max(self.node_budget // 16, 32)
        start = time.perf_counter()
        result = solve(self.X, self.y, k=K, batch_size=batch_size, node_limit=budget, time_limit=300, **PAPER)
        return result.nodes / (time.perf_counter() - start)

    track_nodes_per_second.unit = "nodes/s"


class Certify:
    params = (["numpy", "cupy"], ["squared", "logistic"])
    param_names = ["backend", "loss"]
    timeout = 1800
    number = 1
    repeat = (1, 1, 1800.0)
    rounds = 1

    def setup(self, backend, loss):
        if backend == "cupy" and not gpu_available():
            raise NotImplementedError("no usable GPU")
        warm_up(backend)  # JIT-compile the kernels outside the timings
        self.X, self.y = _data(LS_LARGE if loss == "squared" else LOGIT_LARGE)

    def time_certify(self, backend, loss):
        result = solve(self.X, self.y, k=K, loss=loss, backend=backend, batch_size=256, time_limit=1500, **PAPER)
        if result.status != "optimal":
            raise RuntimeError(f"not certified: {result.status}, gap {result.gap:.3g}")

    def track_gap(self, backend, loss):
        return solve(self.X, self.y, k=K, loss=loss, backend=backend, batch_size=256, time_limit=1500, **PAPER).gap

    track_gap.unit = "relative gap"


class VersusSCIP:
    """SCIP time / bnb time on instances SCIP certifies within its limit (NaN otherwise)."""

    params = ["kglm-ls-n40-p12-k3", "kglm-logit-n60-p12-k3"]
    param_names = ["instance"]
    timeout = 600

    def setup(self, instance):
        warm_up()  # JIT-compile the kernels outside the timings
        self.loss = "logistic" if "logit" in instance else "squared"

    def track_speedup_vs_scip(self, instance):
        common = dict(k=3, loss=self.loss, time_limit=120, rel_gap=1e-6, **PAPER)
        scip = registry_solve("kglm.perspective", instance, solver="scip", **common)
        bnb = registry_solve("kglm.perspective", instance, solver="bnb", **common)
        if scip.status != "optimal" or bnb.status != "optimal":
            return math.nan
        return scip.solve_seconds / bnb.solve_seconds

    track_speedup_vs_scip.unit = "x"
