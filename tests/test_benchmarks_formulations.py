"""The registry-generated asv benchmarks (benchmarks/formulations.py): native solvers have a
benchmark, and solve timings hand the solver the class of the model actually built."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import formulations as bench  # noqa: E402


def test_cutting_plane_loop_has_a_native_benchmark():
    cases = [c for c in bench.NATIVE_CASES if c.startswith("risk_score.cutting_plane|")]
    assert cases and all(c.endswith("|highs") for c in cases)
    benchmark = bench.NativeSolvers()
    benchmark.setup(cases[0])
    benchmark.time_solve(cases[0])
    assert benchmark.track_gap(cases[0]) <= 1e-4
    # bnb has its own module (benchmarks/kglm.py); the peers of kglm.perspective are benchmarked here
    assert not any(c.startswith("kglm.perspective|") and c.endswith("|bnb") for c in bench.NATIVE_CASES)
    assert any(c.startswith("kglm.perspective|") and c.endswith("|abess") for c in bench.NATIVE_CASES)


def test_solve_benchmarks_use_the_built_models_problem_class(monkeypatch):
    """Squared-loss kglm.perspective builds an MISOCP (class-level: MINLP): time_solve must
    pass MISOCP, as api.solve does, or it times another solver interface."""
    case = next(c for c in bench.CASES if c.startswith("kglm.perspective|") and '"loss"' not in c)
    seen = []
    monkeypatch.setattr(bench, "solve_model", lambda model, solver, **kw: seen.append(kw["problem_class"]))
    benchmark = bench.Formulations()
    records = {(case, "scip"): {"status": "optimal", "gap": 0.0, "nodes": 1.0, "root_gap": None}}
    benchmark.setup(records, case, "scip")
    benchmark.time_solve(records, case, "scip")
    benchmark.peakmem_solve(records, case, "scip")
    assert seen == ["MISOCP", "MISOCP"]
    with pytest.raises(NotImplementedError):  # a combination setup_cache did not solve is skipped
        benchmark.setup(records, case, "highs")
