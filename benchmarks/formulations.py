"""asv benchmarks generated from the formulation registry.

For every registered formulation, each of its ``benchmark_cases`` (catalogue instance,
hyperparameters) and every Pyomo solver: model build time, solve time (under the solver
time limit, so a hard instance reports its limit rather than hanging), final gap, nodes,
root gap and peak memory. Combinations a solver cannot take, or that are not installed or
exceed a license, are skipped with asv's mechanism (``NotImplementedError`` in setup).
The solve benchmarks hand the solver the problem class of the model the case's
hyperparameters build (``problem_class_for``), as :func:`reference_impl.api.solve` does.

Native and peer solvers (a formulation's own loop, e.g. the cutting-plane loop of
``risk_score.cutting_plane``, class ``MILP loop``, the k-scan of
``sparse_regression.information_criterion``, or a peer package such as OKRidge, L0BnB,
abess, FasterRisk) take no Pyomo model: ``NativeSolvers`` benchmarks each adapter of the
solver registry (``solvers/adapters/``) on the same cases, and each peer on its own
``benchmark_cases`` (instances of the peer's own problem). The native
batched branch and bound of ``kglm.perspective`` has its own module (``benchmarks/kglm.py``).
"""
import json
import os

from reference_impl.api import solve
from reference_impl.errors import MiobenchError
from reference_impl.instances import resolve_instance
from reference_impl.registry import formulations
from reference_impl.solvers import PYOMO_SOLVERS, is_installed, solve_model, supports
from reference_impl.solvers.registry import NATIVE_SOLVERS, native_solvers_for, solver_for

TIME_LIMIT = float(os.environ.get("MIOBENCH_ASV_TIME_LIMIT", "30"))
#: "all" benchmark cases of every formulation, or only the "first" (CI's quick run: every
#: formulation × solver still runs, so none can break silently)
CASES_MODE = os.environ.get("MIOBENCH_ASV_CASES", "all")


def _cases():
    cases = []
    for formulation in formulations().values():
        own = formulation.own_benchmark_cases()
        for instance_id, params in own[:1] if CASES_MODE == "first" else own:
            cases.append(f"{formulation.id}|{instance_id}|{json.dumps(params, sort_keys=True)}")
    return cases


def _parse(case):
    formulation_id, instance_id, params = case.split("|", 2)
    return formulations()[formulation_id], instance_id, json.loads(params)


CASES = _cases()
SOLVERS = list(PYOMO_SOLVERS)


def _native_cases():
    """``case|solver`` for every benchmark case of a formulation with native solvers, and for each
    peer's own cases (``PeerSolver.benchmark_cases``: instances of the peer's problem, so every peer
    runs in CI's quick mode too, where its formulation's first case may be one it does not take)."""
    out = []
    for case in CASES:
        formulation, _, _ = _parse(case)
        # a native adapter with a benchmark module of its own (bnb: benchmarks/kglm.py) is benchmarked there
        out += [f"{case}|{solver.name}" for solver in native_solvers_for(formulation.id) if not solver.own_benchmarks]
    for solver in NATIVE_SOLVERS:
        own = getattr(solver, "benchmark_cases", ())
        for formulation_id, instance_id, params in own[:1] if CASES_MODE == "first" else own:
            case = f"{formulation_id}|{instance_id}|{json.dumps(params, sort_keys=True)}|{solver.name}"
            if case not in out:
                out.append(case)
    return out


NATIVE_CASES = _native_cases()


def _check(problem_class, solver):
    if not supports(solver, problem_class):
        raise NotImplementedError(f"{solver} cannot take {problem_class}")
    if not is_installed(solver):
        raise NotImplementedError(f"{solver} is not installed")


class Formulations:
    params = (CASES, SOLVERS)
    param_names = ["case", "solver"]
    timeout = 4 * TIME_LIMIT + 60
    number = 1
    repeat = (1, 3, 30.0)
    rounds = 1

    def setup_cache(self):
        """Solve every case once; the track_* benchmarks read these records."""
        records = {}
        for case in CASES:
            formulation, instance_id, params = _parse(case)
            try:
                problem_class = formulation.problem_class_for(formulation.validate(resolve_instance(instance_id), params))
            except MiobenchError:  # e.g. missing data: solve() below records the error
                problem_class = formulation.problem_class
            for solver in SOLVERS:
                if supports(solver, problem_class) and is_installed(solver):
                    try:
                        record = solve(formulation.id, instance_id, solver=solver, time_limit=TIME_LIMIT,
                                       root_relaxation=True, **params).to_dict()
                    except MiobenchError as exc:  # e.g. missing data: this case fails, not the suite
                        record = {"status": "error", "message": str(exc)}
                    records[(case, solver)] = record
        return records

    setup_cache.timeout = 3600

    def setup(self, records, case, solver):
        formulation, instance_id, params = _parse(case)
        record = records.get((case, solver))
        if record is None:  # setup_cache solved every combination the solver can take
            raise NotImplementedError(f"{solver} cannot take this case's model, or is not installed")
        if record is not None and record["status"] in ("size_limited", "not_installed", "unsupported"):
            raise NotImplementedError(f"{solver}: {record['status']}")
        if record is not None and record["status"] == "error" and "objective" not in record:
            raise RuntimeError(record["message"])
        self.formulation = formulation
        self.instance = resolve_instance(instance_id)
        self.params = formulation.validate(self.instance, params)
        # the class of *this* model (e.g. MISOCP for squared-loss kglm.perspective), as api.solve uses
        self.problem_class = formulation.problem_class_for(self.params)
        _check(self.problem_class, solver)
        self.model = formulation.build(self.instance, self.params)
        self.record = record

    def time_build(self, records, case, solver):
        self.formulation.build(self.instance, self.params)

    def time_solve(self, records, case, solver):
        solve_model(self.model.clone(), solver, problem_class=self.problem_class, time_limit=TIME_LIMIT)

    def peakmem_solve(self, records, case, solver):
        solve_model(self.model.clone(), solver, problem_class=self.problem_class, time_limit=TIME_LIMIT)

    def track_gap(self, records, case, solver):
        return self.record["gap"]

    def track_nodes(self, records, case, solver):
        return self.record["nodes"] if self.record["nodes"] is not None else float("nan")

    def track_root_gap(self, records, case, solver):
        return self.record["root_gap"] if self.record["root_gap"] is not None else float("nan")

    track_gap.unit = "relative gap"
    track_root_gap.unit = "relative gap"
    track_nodes.unit = "nodes"


class NativeSolvers:
    """Native solvers (a formulation's own loop over MILPs/MIQPs, no single Pyomo model):
    total solve time, peak memory and final gap per benchmark case, via ``api.solve``."""

    params = (NATIVE_CASES,)
    param_names = ["case_solver"]
    timeout = 4 * TIME_LIMIT + 60
    number = 1
    repeat = (1, 3, 30.0)
    rounds = 1

    def setup(self, case_solver):
        case, solver = case_solver.rsplit("|", 1)
        formulation, instance_id, params = _parse(case)
        self.formulation, self.solver = formulation, solver
        self.adapter = solver_for(solver, formulation)
        if not self.adapter.installed():
            raise NotImplementedError(f"{solver} is not installed")
        self.instance = resolve_instance(instance_id)
        self.params = formulation.validate(self.instance, params)
        self.case_params = params
        for name in (solver, self.params.get("subsolver")):  # the MILP/MIQP solver the loop calls
            if name in PYOMO_SOLVERS and not is_installed(name):
                raise NotImplementedError(f"{name} is not installed")
        self._solve()  # a peer may not take this case (OKRidge with a binding box: unsupported): skipped here

    def _solve(self):
        outcome, _ = self.adapter.run(self.formulation, self.instance, dict(self.params), time_limit=TIME_LIMIT,
                                      rel_gap=1e-4, threads=1, seed=0, solver_options={})
        if outcome.status in ("size_limited", "not_installed", "unsupported"):
            raise NotImplementedError(f"{self.solver}: {outcome.status} ({outcome.message})")
        if outcome.status == "error":
            raise RuntimeError(f"{self.solver}: {outcome.status} ({outcome.message})")
        return outcome

    def time_solve(self, case_solver):
        self._solve()

    def peakmem_solve(self, case_solver):
        self._solve()

    def track_gap(self, case_solver):
        record = solve(self.formulation.id, self.instance, solver=self.solver, time_limit=TIME_LIMIT,
                       **self.case_params)
        return record.gap if record.gap is not None else float("nan")

    track_gap.unit = "relative gap"
