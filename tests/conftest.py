import os
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parent.parent
# Real data: $MIOBENCH_DATA_DIR, else the documented default (../shared/datasets beside the repo).
os.environ.setdefault("MIOBENCH_DATA_DIR", str((REPO / ".." / "shared" / "datasets").resolve()))


@pytest.fixture
def tiny_regression():
    """A tiny synthetic regression instance (mapping of arrays)."""
    from reference_impl.instances.generators import synthetic_regression

    def make(n=25, p=7, k=3, rho=0.4, snr=4.0, seed=0):
        data = synthetic_regression(n, p, k, rho=rho, snr=snr, seed=seed)
        return {"X": data["X"], "y": data["y"]}

    return make


def has_gurobi() -> bool:
    import importlib.util

    return importlib.util.find_spec("gurobipy") is not None


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
