"""Benchmark suites: YAML grids of (formulation × solver × instance × hyperparameters × repeat).

A suite file (``suites/<name>.yaml`` in this package, or any path) looks like::

    name: default
    description: ...
    time_limit: 20          # solver time limit per run, seconds
    grace: 30               # extra seconds before the harness kills a run
    rel_gap: 1.0e-4
    repeats: 1
    root_relaxation: true   # also record each formulation's continuous relaxation
    groups:
      - formulations: [sparse_regression.l0l2_bigm, sparse_regression.perspective]
        solvers: [scip, gurobi, highs]
        instances: [synreg-n60-p12-k4]
        params: {k: [4], lambda2: [0.1]}    # dict of lists = Cartesian product,
                                            # or a list of dicts = exactly those

A solver entry is a name or ``{solver: NAME, options: {...}}`` (solver options, e.g. the
native solver's batch size: ``{solver: bnb, options: {batch_size: 1}}``).
"""
from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import InputError, UnknownIdError, did_you_mean

SUITES_DIR = Path(__file__).with_name("suites")

SUITE_DEFAULTS = {
    "time_limit": 60.0,
    "grace": 30.0,
    "rel_gap": 1e-4,
    "repeats": 1,
    "threads": 1,
    "seed": 0,
    "root_relaxation": True,
    "memory_limit_gb": 8.0,
}


@dataclass(frozen=True)
class RunSpec:
    """Everything that defines one run; its hash is the run id (used to resume)."""

    formulation: str
    solver: str
    instance: str
    params: dict[str, Any] = field(default_factory=dict)
    repeat: int = 0
    time_limit: float = 60.0
    rel_gap: float = 1e-4
    threads: int = 1
    seed: int = 0
    root_relaxation: bool = True
    instance_sha256: str = ""
    solver_options: dict[str, Any] = field(default_factory=dict)

    @property
    def run_id(self) -> str:
        key = asdict(self)
        key.pop("root_relaxation")
        if not key["solver_options"]:
            key.pop("solver_options")  # keeps the ids of runs without options unchanged
        return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "RunSpec":
        return cls(**json.loads(text))

    @property
    def root_key(self) -> str:
        """Runs sharing this key share one root relaxation (it does not depend on the solver)."""
        return json.dumps([self.formulation, self.instance_sha256 or self.instance, self.params], sort_keys=True)


def list_suites() -> dict[str, str]:
    return {p.stem: yaml.safe_load(p.read_text()).get("description", "") for p in sorted(SUITES_DIR.glob("*.yaml"))}


def load_suite(name_or_path: str) -> dict[str, Any]:
    path = Path(name_or_path)
    if not (path.suffix in (".yaml", ".yml") and path.exists()):
        path = SUITES_DIR / f"{name_or_path}.yaml"
    if not path.exists():
        known = list(list_suites())
        raise UnknownIdError(f"unknown suite {name_or_path!r}; known: {', '.join(known)}." + did_you_mean(name_or_path, known))
    suite = yaml.safe_load(path.read_text())
    if not isinstance(suite, dict) or "groups" not in suite:
        raise InputError(f"suite file {path} must be a mapping with a 'groups' list")
    suite.setdefault("name", path.stem)
    return {**SUITE_DEFAULTS, **suite}


def _param_sets(params: Any) -> list[dict[str, Any]]:
    if params is None:
        return [{}]
    if isinstance(params, list):
        return [dict(p) for p in params]
    if isinstance(params, dict):
        names = list(params)
        grids = [v if isinstance(v, list) else [v] for v in params.values()]
        return [dict(zip(names, combo)) for combo in itertools.product(*grids)]
    raise InputError("a group's params must be a mapping of lists or a list of mappings")


def expand(suite: dict[str, Any], *, time_limit: float | None = None) -> list[RunSpec]:
    """All runs of a suite, in a stable order."""
    specs: list[RunSpec] = []
    for group in suite["groups"]:
        settings = {key: group.get(key, suite[key]) for key in ("time_limit", "rel_gap", "threads", "seed", "root_relaxation")}
        if time_limit is not None:
            settings["time_limit"] = time_limit
        repeats = int(group.get("repeats", suite["repeats"]))
        solvers = [(s, {}) if isinstance(s, str) else (s["solver"], dict(s.get("options", {}))) for s in group["solvers"]]
        for formulation, instance, params, (solver, options), repeat in itertools.product(
            group["formulations"], group["instances"], _param_sets(group.get("params")), solvers, range(repeats)
        ):
            specs.append(RunSpec(formulation=formulation, solver=solver, instance=instance, params=params,
                                 solver_options=options,
                                 repeat=repeat, time_limit=float(settings["time_limit"]),
                                 rel_gap=float(settings["rel_gap"]), threads=int(settings["threads"]),
                                 seed=int(settings["seed"]) + repeat, root_relaxation=bool(settings["root_relaxation"])))
    return specs
