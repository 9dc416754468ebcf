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

:func:`validate_suite` checks a suite's structure, ids and settings; what only the expanded
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
    return validate_suite({**SUITE_DEFAULTS, **suite}, where=str(path))


#: keys a suite may set (besides its groups), and those a group may override
SUITE_KEYS = ("name", "description", "groups", *SUITE_DEFAULTS)
GROUP_SETTINGS = ("time_limit", "rel_gap", "threads", "seed", "root_relaxation", "repeats")
GROUP_KEYS = ("formulations", "solvers", "instances", "params", *GROUP_SETTINGS)


def _check_setting(key: str, value: Any, where: str) -> Any:
    from ..errors import check_number

    label = f"{where}: {key}"
    if key == "time_limit":
        return check_number(label, value, positive=True, hint=" (seconds)")
    if key == "grace":
        return check_number(label, value, minimum=0, hint=" (seconds)")
    if key == "rel_gap":
        return check_number(label, value, minimum=0)
    if key in ("repeats", "threads"):
        return check_number(label, value, integer=True, minimum=1)
    if key == "seed":
        from ..errors import MAX_SEED

        return check_number(label, value, integer=True, minimum=0, maximum=MAX_SEED)
    if key == "memory_limit_gb":
        return None if value is None else check_number(label, value, positive=True,
                                                       hint=" (gigabytes; null for no limit)")
    if key == "root_relaxation":
        if not isinstance(value, bool):
            raise InputError(f"{label} must be true or false; got {value!r}")
        return value
    return value


def _names(group: dict, key: str, where: str, *, required: bool = True) -> list:
    """A list of names; a single name is taken as a one-element list."""
    if key not in group or group[key] is None:
        if required:
            raise InputError(f"{where} has no '{key}' list")
        return []
    value = group[key]
    if isinstance(value, (str, dict)):
        value = [value]
    if not isinstance(value, list) or not value:
        raise InputError(f"{where}: '{key}' must be a non-empty list; got {value!r}")
    return value


def validate_suite(suite: dict[str, Any], *, where: str = "suite") -> dict[str, Any]:
    """Check a suite's structure, settings and ids up front; return it normalised (scalars where
    lists are expected become one-element lists; settings converted). Raises
    :class:`InputError` / :class:`UnknownIdError` with one sentence naming the place."""
    from ..registry import formulations as registered
    from ..solvers.registry import PYOMO_SOLVERS, native_names

    unknown = [k for k in suite if k not in SUITE_KEYS]
    if unknown:
        raise InputError(f"{where}: unknown key(s) {', '.join(map(repr, unknown))}; a suite takes: "
                         f"{', '.join(SUITE_KEYS)}." + did_you_mean(str(unknown[0]), SUITE_KEYS))
    out = dict(suite)
    out["name"] = str(suite.get("name") or "suite")
    if "groups" not in suite:
        raise InputError(f"{where} must be a mapping with a 'groups' list")
    for key in SUITE_DEFAULTS:
        out[key] = _check_setting(key, suite.get(key, SUITE_DEFAULTS[key]), where)
    groups = suite["groups"]
    if isinstance(groups, dict):
        groups = [groups]
    if not isinstance(groups, list) or not groups:
        raise InputError(f"{where}: 'groups' must be a non-empty list of groups; got {groups!r}")
    known_formulations = registered()
    checked_groups = []
    for number, group in enumerate(groups, 1):
        label = f"{where}, group {number}"
        if not isinstance(group, dict):
            raise InputError(f"{label} must be a mapping (formulations, solvers, instances, params); got {group!r}")
        unknown = [k for k in group if k not in GROUP_KEYS]
        if unknown:
            raise InputError(f"{label}: unknown key(s) {', '.join(map(repr, unknown))}; a group takes: "
                             f"{', '.join(GROUP_KEYS)}." + did_you_mean(str(unknown[0]), GROUP_KEYS))
        checked = {key: _check_setting(key, group[key], label) for key in GROUP_SETTINGS if key in group}
        checked["formulations"] = _names(group, "formulations", label)
        for formulation in checked["formulations"]:
            if not isinstance(formulation, str):
                raise InputError(f"{label}: a formulation is an id string; got {formulation!r}")
            if formulation not in known_formulations:
                raise UnknownIdError(f"{label}: unknown formulation id {formulation!r}; `miobench list` shows them."
                                     + did_you_mean(formulation, known_formulations))
        solvers = []
        for entry in _names(group, "solvers", label):
            if isinstance(entry, dict):
                extra = [k for k in entry if k not in ("solver", "options")]
                if "solver" not in entry or extra:
                    raise InputError(f"{label}: a solver entry is a name or {{solver: NAME, options: {{...}}}}; "
                                     f"got {entry!r}")
                options = entry.get("options") or {}
                if not isinstance(options, dict) or not all(isinstance(k, str) for k in options):
                    raise InputError(f"{label}: solver options must be a mapping; got {options!r}")
                name = entry["solver"]
            else:
                name, options = entry, {}
            if not isinstance(name, str):
                raise InputError(f"{label}: a solver is a name string; got {name!r}")
            natives = {s for f in checked["formulations"] for s in native_names(f)}  # the solver registry's
            if name not in PYOMO_SOLVERS and name not in natives:
                known = [*PYOMO_SOLVERS, *sorted(natives)]
                raise UnknownIdError(f"{label}: unknown solver {name!r}; known: {', '.join(known)}."
                                     + did_you_mean(name, known))
            solvers.append(name if not options and not isinstance(entry, dict) else {"solver": name, "options": dict(options)})
        checked["solvers"] = solvers
        checked["instances"] = _names(group, "instances", label)
        for instance in checked["instances"]:
            if not isinstance(instance, str) or not instance:
                raise InputError(f"{label}: an instance is a catalogue id or an .npz path; got {instance!r}")
        params = group.get("params")
        try:
            _param_sets(params)
        except InputError as exc:
            raise InputError(f"{label}: {exc}") from None
        checked["params"] = params
        checked_groups.append(checked)
    out["groups"] = checked_groups
    return out


def _param_sets(params: Any) -> list[dict[str, Any]]:
    hint = "a group's params must be a mapping of lists (a grid) or a list of mappings (exactly those)"
    if params is None:
        return [{}]
    if isinstance(params, list):
        if not all(isinstance(p, dict) and all(isinstance(k, str) for k in p) for p in params):
            raise InputError(f"{hint}; got {params!r}")
        return [dict(p) for p in params] or [{}]
    if isinstance(params, dict):
        if not all(isinstance(k, str) for k in params):
            raise InputError(f"{hint}; hyperparameter names must be strings, got {list(params)!r}")
        names = list(params)
        grids = [v if isinstance(v, list) else [v] for v in params.values()]
        empty = [n for n, g in zip(names, grids) if not g]
        if empty:
            raise InputError(f"{hint}; the list for {empty[0]!r} is empty")
        return [dict(zip(names, combo)) for combo in itertools.product(*grids)]
    raise InputError(f"{hint}; got {params!r}")


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
