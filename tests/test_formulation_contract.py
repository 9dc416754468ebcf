"""One contract test over the registry (issue 12, item 2).

Every registered formulation (``reference_impl.registry.formulations()``), on its benchmark
cases (``Formulation.own_benchmark_cases()``, as the asv suite uses them), with every capable
*installed* solver (``reference_impl.api.capable_solvers``; native solvers are always
installed) is checked for:

(a) unknown hyperparameters are rejected by ``validate`` (every case);
(b) build → solve → extract → evaluate through ``api.solve``: a benign status, a feasible
    re-evaluated objective and the gap recomputed with the one published formula
    (smallest case, short time limit);
(c) the solution the formulation extracts, perturbed generically (indicators set to 0.5,
    to all 0 / all 1, integers shifted by 0.5, values scaled beyond any big-M), is flagged
    by the evaluator (smallest case, every solver's own solution);
(d) the declared problem class (``problem_class_for``) matches the Pyomo model built
    (every case);
(e) the result record's id, provenance and timing fields are filled in.

Nothing here names a formulation: a new family gets every check by registering itself and
declaring ``benchmark_cases``. The k-sparse GLM scikit-learn estimators are run through
scikit-learn's own estimator checks at the end.
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import pytest

from reference_impl.api import capable_solvers, solve
from reference_impl.errors import InputError, MiobenchError
from reference_impl.formulations.base import FEASIBILITY_TOL, PROBLEM_CLASSES
from reference_impl.instances import resolve_instance
from reference_impl.record import relative_gap
from reference_impl.registry import formulations

#: Short solver time limit (seconds): a hard case reports ``time_limit``, never hangs.
SHORT = 3.0
#: Statuses a benchmark case may end with on a capable, installed solver.
#: the classes of base.PROBLEM_CLASSES whose models are no Pyomo model (a cvxpy SDP, taken by a native
#: adapter only)
CONIC_CLASSES = ("SDP",)
BENIGN = ("optimal", "time_limit", "size_limited", "unsupported", "feasible")
#: Statuses of a run that finished solving (so its timings must be there).
FINISHED = ("optimal", "time_limit")


# -- what to run (collected from the registry, nothing loaded) -----------------------------
def _all_cases():
    """(formulation id, case index, instance id) for every benchmark case."""
    return [(f.id, i, iid) for f in formulations().values() for i, (iid, _) in enumerate(f.own_benchmark_cases())]


def _installed(formulation, solver: str) -> bool:
    from reference_impl.solvers.registry import solver_for

    return solver_for(solver, formulation).installed()


def _runs():
    """(formulation id, solver) for every capable installed solver."""
    return [(f.id, s) for f in formulations().values() for s in capable_solvers(f) if _installed(f, s)]


CASES = _all_cases()
RUNS = _runs()
CASE_IDS = [f"{fid}-{iid}" for fid, _, iid in CASES]
RUN_IDS = [f"{fid}-{solver}" for fid, solver in RUNS]


# -- helpers --------------------------------------------------------------------------------
def _load_case(formulation_id: str, index: int):
    formulation = formulations()[formulation_id]
    instance_id, params = formulation.own_benchmark_cases()[index]
    try:
        instance = resolve_instance(instance_id)
    except MiobenchError as exc:  # e.g. real data not in $MIOBENCH_DATA_DIR
        pytest.skip(f"instance {instance_id} unavailable: {exc}")
    return formulation, instance, dict(params)


@lru_cache(maxsize=None)
def smallest_case(formulation_id: str):
    """The benchmark case with the smallest data matrix whose instance is available:
    ``(instance, case params)``, or ``None`` when no case's instance is available."""
    formulation = formulations()[formulation_id]
    best = None
    for instance_id, params in formulation.own_benchmark_cases():
        try:
            instance = resolve_instance(instance_id)
        except MiobenchError:
            continue
        size = int(np.asarray(instance.X).size)
        if best is None or size < best[0]:
            best = (size, instance, dict(params))
    return None if best is None else best[1:]


@lru_cache(maxsize=None)
def run(formulation_id: str, solver: str):
    """``api.solve`` on the smallest case, capturing the solution it evaluated on the way
    (extracted from the model or returned by a native solver): ``(record, solution, instance,
    params)``.
    One solve serves checks (b), (c) and (e)."""
    case = smallest_case(formulation_id)
    if case is None:
        pytest.skip(f"{formulation_id}: no benchmark case's instance is available")
    instance, params = case
    formulation = formulations()[formulation_id]
    captured = {}
    original = formulation.evaluate
    own = "evaluate" in vars(formulation)  # already patched on the instance (e.g. by monkeypatch)

    def capture(inst, prm, solution):
        # every solve path hands the solution it got to the evaluator (DESIGN.md, idea 3):
        # the one place to capture it, whatever solved it (Pyomo adapter or native loop)
        captured["solution"] = {k: np.array(v, copy=True) for k, v in solution.items()}
        return original(inst, prm, solution)

    formulation.evaluate = capture  # an instance attribute over the class's method
    try:
        record = solve(formulation_id, instance, solver=solver, time_limit=SHORT, **params)
    finally:
        if own:
            formulation.evaluate = original
        else:
            del formulation.evaluate
    return record, captured.get("solution"), instance, params


def _run_or_skip(formulation_id: str, solver: str):
    record, solution, instance, params = run(formulation_id, solver)
    if record.status == "not_installed":  # a native loop whose sub-solver is missing
        pytest.skip(f"{solver}: not installed ({record.message})")
    return record, solution, instance, params


def _is_integral(a: np.ndarray) -> bool:
    return a.size > 0 and bool(np.all(np.isfinite(a))) and bool(np.all(np.abs(a - np.round(a)) <= 1e-6))


def _is_indicator(a: np.ndarray) -> bool:
    """0/1 values with at least one 1 (an all-zero array is as likely a slack at 0)."""
    return _is_integral(a) and bool(np.all((np.abs(a) <= 1e-6) | (np.abs(a - 1) <= 1e-6))) and bool(np.any(a > 0.5))


def perturbations(solution: dict) -> dict[str, dict[str, np.ndarray]]:
    """Generic perturbations of a solution dict, by name. Indicator arrays (0/1 valued):
    set to 0.5 (integrality), to all 0 (support links), to all 1 (cardinality); other
    integer-valued arrays: + 0.5 (integrality); every finite non-indicator array: x 1e3 + 1
    (beyond any big-M, box or coefficient bound)."""
    base = {k: np.asarray(v, dtype=float) for k, v in solution.items()}
    indicators = [k for k, a in base.items() if _is_indicator(a)]
    integers = [k for k, a in base.items() if k not in indicators and _is_integral(a) and np.any(a != 0)]
    others = [k for k, a in base.items() if k not in indicators and a.size and np.all(np.isfinite(a))]
    out: dict[str, dict[str, np.ndarray]] = {}

    def make(name, keys, change):
        if keys:
            out[name] = {k: (change(a) if k in keys else a.copy()) for k, a in base.items()}

    make("indicators=0.5", indicators, lambda a: np.full_like(a, 0.5))
    make("indicators=0", indicators, np.zeros_like)
    make("indicators=1", indicators, np.ones_like)
    make("integers+0.5", integers, lambda a: a + 0.5)
    make("values*1e3+1", others, lambda a: a * 1e3 + 1.0)
    return out


def _flagged(formulation, instance, params, solution, baseline: float) -> tuple[bool, str]:
    """Did the evaluator flag ``solution`` (infeasible with a larger violation, or rejected)?"""
    try:
        evaluation = formulation.evaluate(instance, params, solution)
    except MiobenchError as exc:  # rejecting malformed values is flagging them too
        return True, f"rejected ({type(exc).__name__})"
    violated = {k: v for k, v in evaluation.violations.items() if v > FEASIBILITY_TOL}
    flagged = not evaluation.feasible and evaluation.max_violation > baseline
    return flagged, f"max_violation={evaluation.max_violation:.3g} {violated}"


def observed_classes(model) -> set[str]:
    """The declared classes the built Pyomo model is compatible with: any non-polynomial
    or higher-degree term: MINLP; quadratic constraints (SOC/rotated cones written as
    quadratics): MISOCP or MINLP; a quadratic objective only: MIQP; all linear: MILP
    (LP also when no variable is discrete)."""
    import pyomo.environ as pyo

    quadratic_objective = quadratic_constraint = nonlinear = False
    for objective in model.component_data_objects(pyo.Objective, active=True):
        degree = objective.expr.polynomial_degree()
        nonlinear |= degree is None or degree > 2
        quadratic_objective |= degree == 2
    for constraint in model.component_data_objects(pyo.Constraint, active=True):
        degree = constraint.body.polynomial_degree()
        nonlinear |= degree is None or degree > 2
        quadratic_constraint |= degree == 2
    discrete = any(not v.is_continuous() for v in model.component_data_objects(pyo.Var, active=True))
    if nonlinear:
        return {"MINLP"}
    if quadratic_constraint:
        return {"MISOCP", "MINLP"}
    if quadratic_objective:
        return {"MIQP"}
    return {"MILP"} if discrete else {"LP", "MILP"}


# -- the registry itself ----------------------------------------------------------------------
@pytest.mark.parametrize("formulation_id", list(formulations()))
def test_formulation_declares_benchmark_cases(formulation_id):
    formulation = formulations()[formulation_id]
    assert formulation.own_benchmark_cases(), f"{formulation_id} declares no benchmark_cases: the contract can't run"
    assert formulation.problem_class in PROBLEM_CLASSES
    assert any(_installed(formulation, s) for s in capable_solvers(formulation)), \
        f"{formulation_id}: no capable solver is installed"


# -- (a) unknown hyperparameters --------------------------------------------------------------
@pytest.mark.parametrize(("formulation_id", "index", "instance_id"), CASES, ids=CASE_IDS)
def test_unknown_hyperparameter_rejected(formulation_id, index, instance_id):
    formulation, instance, params = _load_case(formulation_id, index)
    full = formulation.validate(instance, dict(params))  # the case itself is valid
    assert set(params) <= set(full)
    # InputError, or a family's own MiobenchError (e.g. kglm's), naming the culprit
    with pytest.raises((InputError, MiobenchError), match="nosuch"):
        formulation.validate(instance, {**params, "nosuch": 1})


# -- (d) declared problem class vs the model built ----------------------------------------------
@pytest.mark.parametrize(("formulation_id", "index", "instance_id"), CASES, ids=CASE_IDS)
def test_declared_problem_class_matches_model(formulation_id, index, instance_id):
    formulation, instance, params = _load_case(formulation_id, index)
    params = formulation.validate(instance, params)
    declared = formulation.problem_class_for(params)
    assert declared in PROBLEM_CLASSES and set(CONIC_CLASSES) <= set(PROBLEM_CLASSES)
    if declared in CONIC_CLASSES:  # a conic model built with cvxpy: no Pyomo solver takes it
        cp = pytest.importorskip("cvxpy")
        model = formulation.build(instance, params)
        assert model.problem.is_dcp()
        assert any(isinstance(c, cp.constraints.PSD) for c in model.problem.constraints)
        return
    model = formulation.build(instance, params)
    allowed = observed_classes(model)
    # a formulation's own loop over MILPs builds (and checks) its master MILP here
    as_model = "MILP" if declared == "MILP loop" else declared
    assert as_model in allowed, f"{formulation_id} declares {declared}; the model built is {sorted(allowed)}"


# -- (b) build → solve → extract → evaluate ---------------------------------------------------
@pytest.mark.parametrize(("formulation_id", "solver"), RUNS, ids=RUN_IDS)
def test_solve_status_feasibility_and_gap(formulation_id, solver):
    record, solution, _, _ = _run_or_skip(formulation_id, solver)
    assert record.status in BENIGN, f"{record.status}: {record.message}"
    if record.status == "optimal":
        assert record.objective is not None, "optimal without a re-evaluated objective"
    if record.objective is not None:
        assert math.isfinite(record.objective)
        assert record.max_violation is not None and record.max_violation <= FEASIBILITY_TOL
        expected = relative_gap(record.objective, record.bound)
        assert record.gap == pytest.approx(expected, rel=1e-12, abs=0.0) or (
            math.isinf(record.gap) and math.isinf(expected)), (record.gap, expected)
    else:
        assert math.isinf(record.gap), "a gap without a re-evaluated objective"


# -- (e) the record's fields ------------------------------------------------------------------
@pytest.mark.parametrize(("formulation_id", "solver"), RUNS, ids=RUN_IDS)
def test_record_fields_complete(formulation_id, solver):
    record, _, instance, _ = _run_or_skip(formulation_id, solver)
    required = ["formulation", "solver", "instance", "instance_sha256", "status", "solver_version",
                "git_commit", "machine", "timestamp", "time_limit"]
    if record.status in FINISHED:
        required += ["build_seconds", "solve_seconds"]
    empty = [name for name in required if getattr(record, name) in (None, "")]
    assert not empty, f"empty record fields: {empty} (status {record.status})"
    assert (record.formulation, record.solver, record.instance) == (formulation_id, solver, instance.id)
    assert record.instance_sha256 == instance.sha256
    assert record.time_limit == SHORT
    for name in ("build_seconds", "solve_seconds"):
        value = getattr(record, name)
        assert value is None or (math.isfinite(value) and value >= 0), (name, value)


# -- (c) perturbed solutions are flagged -------------------------------------------------------
@pytest.mark.parametrize(("formulation_id", "solver"), RUNS, ids=RUN_IDS)
def test_perturbed_solution_flagged(formulation_id, solver):
    record, solution, instance, params = _run_or_skip(formulation_id, solver)
    formulation = formulations()[formulation_id]
    if solution is None or record.objective is None:
        pytest.skip(f"{solver} returned no feasible solution to perturb (status {record.status})")
    params = formulation.validate(instance, params)
    baseline = formulation.evaluate(instance, params, solution)
    assert baseline.feasible, f"the solver's solution is not feasible: {baseline.violations}"
    candidates = perturbations(solution)
    if not candidates:
        pytest.skip(f"{formulation_id}: no generic perturbation applies to solution keys {sorted(solution)}")
    results = {name: _flagged(formulation, instance, params, perturbed, baseline.max_violation)
               for name, perturbed in candidates.items()}
    report = "; ".join(f"{name}: {'flagged' if ok else 'NOT flagged'} ({why})" for name, (ok, why) in results.items())
    assert any(ok for ok, _ in results.values()), f"no perturbation was flagged: {report}"
    # fractional indicators are never feasible; nor is moving every indicator at once
    # (all 0 breaks the support links of a nonzero solution, all 1 any cardinality limit)
    if "indicators=0.5" in results:
        assert results["indicators=0.5"][0], f"fractional indicators not flagged: {report}"
        assert results["indicators=0"][0] or results["indicators=1"][0], f"indicator flips not flagged: {report}"


# -- scikit-learn's estimator checks for the k-sparse GLM estimators ----------------------------
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from reference_impl.kglm.estimators import KSparseClassifier, KSparseRegressor  # noqa: E402


_DTYPE_OBJECT = ("an object array holding a dict is refused with miobench's KGLMInputError "
                 "('invalid input ...'), not the TypeError sklearn expects")
EXPECTED_FAILED = {
    "KSparseRegressor": {"check_dtype_object": _DTYPE_OBJECT},
    "KSparseClassifier": {"check_dtype_object": _DTYPE_OBJECT},
}


def _expected_failed(estimator):
    return EXPECTED_FAILED.get(type(estimator).__name__, {})


# k=1 so sklearn's small test matrices (down to one feature) are valid; the default k=5 is not
@parametrize_with_checks([KSparseRegressor(k=1, time_limit=10.0), KSparseClassifier(k=1, time_limit=10.0)],
                         expected_failed_checks=_expected_failed, xfail_strict=True)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
