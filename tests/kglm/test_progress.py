"""The native solver's progress trace: valid bounds at every time, incumbents never below the
optimum and never increasing, and the primal-dual integral computed from it."""
import pytest

from reference_impl.harness.store import ResultsStore
from reference_impl.instances.generators.kglm import synthetic_glm
from reference_impl.kglm import solve
from reference_impl.reports import tables
from ._brute import all_supports, best


@pytest.mark.parametrize("loss", ["squared", "logistic"])
def test_progress_brackets_the_optimum(loss):
    data = synthetic_glm(30, 10, 3, loss=loss, normalize=loss == "squared", seed=4)
    X, y = data["X"], data["y"]
    opt, _ = best(all_supports(X, y, loss, 0.2, 1.0, 3))
    result = solve(X, y, k=3, loss=loss, lambda2=0.2, M=1.0, batch_size=2, dive_every=2)
    assert result.status == "optimal" and len(result.progress) >= 2
    times = [t for t, _, _ in result.progress]
    primals = [u for _, u, _ in result.progress]
    assert times == sorted(times) and primals == sorted(primals, reverse=True)
    for _, primal, dual in result.progress:
        assert dual <= opt * (1 + 1e-9) + 1e-12
        assert primal >= opt * (1 - 1e-9)
    assert result.progress[-1][1] == pytest.approx(result.objective)
    assert result.progress[-1][2] == pytest.approx(result.lower_bound)


def test_primal_dual_integral_from_a_store(tmp_path):
    from reference_impl import solve as registry_solve

    record = registry_solve("kglm.perspective", "kglm-logit-n60-p12-k3", solver="bnb", k=3, loss="logistic", M=2.0)
    record.run_id = "r1"
    store = ResultsStore(tmp_path)
    store.write(record)
    frame = tables.prepare(store.load())
    points = tables.progress(frame)
    assert len(points) == len(record.extra["progress"]) >= 2
    integral = tables.primal_dual_integral(frame).iloc[0]
    assert 0 <= integral["primal_dual_integral"] <= integral["seconds"] + 1e-9
