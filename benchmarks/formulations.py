"""asv benchmarks generated from the formulation registry.

For every registered formulation, each of its ``benchmark_cases`` (catalogue instance,
hyperparameters) and every Pyomo solver: model build time, solve time (under the solver
time limit, so a hard instance reports its limit rather than hanging), final gap, nodes,
root gap and peak memory. Combinations a solver cannot take, or that are not installed or
exceed a license, are skipped with asv's mechanism (``NotImplementedError`` in setup).
"""
import json
import os

from reference_impl.api import solve
from reference_impl.errors import MiobenchError
from reference_impl.instances import resolve_instance
from reference_impl.registry import formulations
from reference_impl.solvers import PYOMO_SOLVERS, is_installed, solve_model, supports

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


def _check(formulation, solver):
    if not supports(solver, formulation.problem_class):
        raise NotImplementedError(f"{solver} cannot take {formulation.problem_class}")
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
            for solver in SOLVERS:
                if supports(solver, formulation.problem_class) and is_installed(solver):
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
        _check(formulation, solver)
        record = records.get((case, solver))
        if record is not None and record["status"] in ("size_limited", "not_installed", "unsupported"):
            raise NotImplementedError(f"{solver}: {record['status']}")
        if record is not None and record["status"] == "error" and "objective" not in record:
            raise RuntimeError(record["message"])
        self.formulation = formulation
        self.instance = resolve_instance(instance_id)
        self.params = formulation.validate(self.instance, params)
        self.model = formulation.build(self.instance, self.params)
        self.record = record

    def time_build(self, records, case, solver):
        self.formulation.build(self.instance, self.params)

    def time_solve(self, records, case, solver):
        solve_model(self.model.clone(), solver, problem_class=self.formulation.problem_class, time_limit=TIME_LIMIT)

    def peakmem_solve(self, records, case, solver):
        solve_model(self.model.clone(), solver, problem_class=self.formulation.problem_class, time_limit=TIME_LIMIT)

    def track_gap(self, records, case, solver):
        return self.record["gap"]

    def track_nodes(self, records, case, solver):
        return self.record["nodes"] if self.record["nodes"] is not None else float("nan")

    def track_root_gap(self, records, case, solver):
        return self.record["root_gap"] if self.record["root_gap"] is not None else float("nan")

    track_gap.unit = "relative gap"
    track_root_gap.unit = "relative gap"
    track_nodes.unit = "nodes"
