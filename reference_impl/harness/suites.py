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

:func:`validate_suite` checks a suite's structure, ids and settings against the declarative
schema of :mod:`reference_impl.schema` (``miobench suites schema`` prints it); what only the expanded
runs tell (each instance, each run's hyperparameters against its formulation, each solver's
options) is checked by :mod:`reference_impl.harness.preflight` before the first run starts.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import InputError, UnknownIdError, did_you_mean

SUITES_DIR = Path(__file__).with_name("suites")
#: names this module takes from :mod:`reference_impl.schema` on first use: a run's worker, which
#: imports :class:`RunSpec`, does not import pydantic
_FROM_SCHEMA = ("SUITE_DEFAULTS", "SUITE_KEYS", "GROUP_KEYS", "GROUP_SETTINGS")


def __getattr__(name: str) -> Any:
    if name in _FROM_SCHEMA:
        from .. import schema

        return getattr(schema, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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


class SuiteLoader(yaml.SafeLoader):
    """YAML as people write numbers: ``1e-3`` is a float (YAML 1.1 wants ``1.0e-3``)."""


SuiteLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
                   |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
                   |\.[0-9_]+(?:[eE][-+]?[0-9]+)?
                   |[-+]?\.(?:inf|Inf|INF)
                   |\.(?:nan|NaN|NAN))$""", re.X),
    list("-+0123456789."))


def list_suites() -> dict[str, str]:
    return {p.stem: yaml.safe_load(p.read_text()).get("description", "") for p in sorted(SUITES_DIR.glob("*.yaml"))}


def load_suite(name_or_path: str) -> dict[str, Any]:
    """Read and validate a suite (by name or path); every problem is reported before any run."""
    if not isinstance(name_or_path, (str, Path)):
        raise InputError(f"a suite is a name or the path of a .yaml file; got {name_or_path!r}")
    path = Path(name_or_path)
    if not (path.suffix in (".yaml", ".yml") and path.exists()):
        path = SUITES_DIR / f"{name_or_path}.yaml"
    if not path.exists():
        known = list(list_suites())
        raise UnknownIdError(f"unknown suite {str(name_or_path)!r}; known: {', '.join(known)}."
                             + did_you_mean(str(name_or_path), known))
    if not path.is_file():
        raise InputError(f"suite file {path} is not a file")
    try:
        suite = yaml.load(path.read_text(), Loader=SuiteLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(f"suite file {path} is not valid YAML{where}: {problem}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read suite file {path}: {exc}") from None
    if not isinstance(suite, dict) or "groups" not in suite:
        raise InputError(f"suite file {path} must be a mapping with a 'groups' list")
    suite.setdefault("name", path.stem)
    from ..schema import SUITE_DEFAULTS

    return validate_suite({**SUITE_DEFAULTS, **suite}, where=str(path))


def validate_suite(suite: dict[str, Any], *, where: str = "suite") -> dict[str, Any]:
    """Check a suite's structure, settings and ids up front (:class:`reference_impl.schema.Suite`);
    return it normalised (scalars where lists are expected become one-element lists; settings
    converted; every setting present). Raises :class:`InputError` / :class:`UnknownIdError` with
    one sentence naming the place."""
    from pydantic import ValidationError

    from ..schema import SUITE_DEFAULTS, Suite
    from ..schema_errors import suite_problem

    try:
        checked = Suite.model_validate(suite)
    except ValidationError as exc:
        raise suite_problem(exc.errors(), suite, where) from None
    out = dict(suite)
    out["name"] = checked.name
    out.update({key: getattr(checked, key) for key in SUITE_DEFAULTS})
    out["groups"] = [group.normalised() for group in checked.groups]
    return out


def _param_sets(params: dict[str, Any] | list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """A validated group's hyperparameter sets: a grid's Cartesian product (a scalar is a
    one-element list), or the listed mappings; none: one empty set."""
    if params is None:
        return [{}]
    if isinstance(params, list):
        return [dict(p) for p in params] or [{}]
    grids = [v if isinstance(v, list) else [v] for v in params.values()]
    return [dict(zip(params, combo)) for combo in itertools.product(*grids)]


def expand(suite: dict[str, Any], *, time_limit: float | None = None) -> list[RunSpec]:
    """All runs of a suite, in a stable order."""
    specs: list[RunSpec] = []
    suite = validate_suite(suite)
    for group in suite["groups"]:
        settings = {key: group.get(key, suite[key]) for key in ("time_limit", "rel_gap", "threads", "seed", "root_relaxation")}
        if time_limit is not None:
            settings["time_limit"] = time_limit
        repeats = int(group.get("repeats", suite["repeats"]))
        solvers = [(s, {}) if isinstance(s, str) else (s["solver"], dict(s.get("options") or {})) for s in group["solvers"]]
        for formulation, instance, params, (solver, options), repeat in itertools.product(
            group["formulations"], group["instances"], _param_sets(group.get("params")), solvers, range(repeats)
        ):
            specs.append(RunSpec(formulation=formulation, solver=solver, instance=instance, params=params,
                                 solver_options=options,
                                 repeat=repeat, time_limit=float(settings["time_limit"]),
                                 rel_gap=float(settings["rel_gap"]), threads=int(settings["threads"]),
                                 seed=int(settings["seed"]) + repeat, root_relaxation=bool(settings["root_relaxation"])))
    return specs


def unique_runs(specs: list[RunSpec]) -> tuple[list[RunSpec], int]:
    """The runs with duplicates (the same run listed by two groups) dropped, in order; and how
    many were dropped."""
    seen: dict[str, RunSpec] = {}
    for spec in specs:
        seen.setdefault(spec.run_id, spec)
    return list(seen.values()), len(specs) - len(seen)
