"""The registry-generated asv benchmarks (benchmarks/formulations.py): native solvers have a
benchmark, and solve timings hand the solver the class of the model actually built."""
import json
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


#: peers the project's extras cannot install here (ExKMC 0.0.3 does not build on Python >= 3.11)
NOT_INSTALLABLE = ("exkmc",)


def _peers():
    from reference_impl.solvers.adapters._peer import PeerSolver
    from reference_impl.solvers.registry import NATIVE_SOLVERS

    return [s for s in NATIVE_SOLVERS if isinstance(s, PeerSolver)]


def test_every_peer_declares_asv_cases_of_its_own_problem():
    peers = _peers()
    assert {p.name for p in peers} >= {"okridge", "l0bnb", "abess", "fasterrisk", "lasso_path", "l1_logistic"}
    for peer in peers:
        assert peer.benchmark_cases, f"{peer.name} has no asv case of its own"
        for formulation_id, _, _ in peer.benchmark_cases:
            assert formulation_id in peer.formulations, (peer.name, formulation_id)


@pytest.mark.parametrize("peer", [p.name for p in _peers()])
def test_every_peer_runs_its_first_asv_case(peer, monkeypatch):
    """CI's quick asv run (first cases only) benchmarks every peer: its first own case is in
    NATIVE_CASES and the peer takes it (setup does not skip) and answers within the case."""
    monkeypatch.setattr(bench, "CASES_MODE", "first")
    monkeypatch.setattr(bench, "TIME_LIMIT", 30.0)
    adapter = next(p for p in _peers() if p.name == peer)
    formulation_id, instance_id, params = adapter.benchmark_cases[0]
    first = f"{formulation_id}|{instance_id}|{json.dumps(params, sort_keys=True)}|{peer}"
    assert first in bench._native_cases()
    benchmark = bench.NativeSolvers()
    if peer in NOT_INSTALLABLE:  # asv skips it, with the reason, instead of failing
        with pytest.raises(NotImplementedError, match="not installed"):
            benchmark.setup(first)
        return
    benchmark.setup(first)  # raises NotImplementedError if the peer does not take its own case
    gap = benchmark.track_gap(first)  # through api.solve: the evaluator checks the peer's answer
    assert gap == gap or adapter.name in ("abess", "fasterrisk", "lasso_path", "l1_logistic")  # heuristics: no gap
