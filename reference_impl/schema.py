"""One declarative schema for what people write: suite files, run settings and figure parameters.

* :class:`RunSettings`: the settings of a suite's runs (time limit, grace, gap, repeats, threads,
  seed, root relaxation, memory limit); :func:`check_settings` checks any of them alone (the
  ``miobench run`` flags, :func:`~reference_impl.harness.runner.run_suite`'s overrides).
* :class:`Suite`, its :class:`Group` s and their :data:`SolverEntry` s: a suite file
  (:func:`reference_impl.harness.suites.validate_suite` returns it normalised; ``miobench suites
  schema`` prints its JSON Schema for editors). A group's formulation ids and solver names are
  checked against the registries by :class:`Group`'s own validator.
* :func:`figure_params_model`: the model of a figure's parameters, built from its defaults.

pydantic is strict here: a boolean is not a number, a string is not a number (``"5"``), and only
integral floats (``2.0``) pass as integers. Its :class:`pydantic.ValidationError` never reaches
a caller: :mod:`reference_impl.schema_errors` turns it into the one-sentence
:class:`~reference_impl.errors.InputError` / :class:`~reference_impl.errors.UnknownIdError`
that names the place.
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Annotated, Any, Union

from pydantic import (BaseModel, BeforeValidator, ConfigDict, Field, Strict, StrictStr, ValidationError, WithJsonSchema,
                      create_model, model_validator)
from pydantic_core import PydanticCustomError

from .errors import MAX_SEED, did_you_mean


# ------------------------------------------------------------------ numbers
def _number(value: Any) -> Any:
    """A real number of another type (numpy, Fraction) as a float; anything else unchanged."""
    if isinstance(value, numbers.Real) and not isinstance(value, (bool, int, float)):
        return float(value)
    return value


def _integer(value: Any) -> Any:
    """An integral number (``2.0``, numpy integers) as an int; anything else unchanged (``True`` too)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or isinstance(value, int):
        return value
    number = float(value)
    return int(number) if math.isfinite(number) and number.is_integer() else value


# (a BeforeValidator listed last runs first; a NaN is "not finite" before it is "not > 0")
Positive = Annotated[float, Strict(), Field(gt=0, allow_inf_nan=False), BeforeValidator(_number)]
NonNegative = Annotated[float, Strict(), Field(ge=0, allow_inf_nan=False), BeforeValidator(_number)]
Count = Annotated[int, Strict(), Field(ge=1), BeforeValidator(_integer)]
Seed = Annotated[int, Strict(), Field(ge=0, le=MAX_SEED), BeforeValidator(_integer)]
Flag = Annotated[bool, Strict()]

#: what a setting's number means, appended to its error ("time_limit must be > 0 (seconds)")
HINTS = {"time_limit": " (seconds)", "grace": " (seconds)", "memory_limit_gb": " (gigabytes; null for no limit)"}


class RunSettings(BaseModel):
    """The settings of a suite's runs, with their defaults (a suite file may set each)."""

    model_config = ConfigDict(extra="forbid")

    time_limit: Positive = Field(60.0, description="solver time limit per run, seconds")
    grace: NonNegative = Field(30.0, description="extra seconds before the harness kills a run")
    rel_gap: NonNegative = Field(1e-4, description="relative gap tolerance")
    repeats: Count = Field(1, description="runs of each (formulation, solver, instance, params); seeds seed, seed+1, ...")
    threads: Count = Field(1, description="solver threads")
    seed: Seed = Field(0, description="random seed of the first repeat")
    root_relaxation: Flag = Field(True, description="also record each formulation's continuous relaxation")
    memory_limit_gb: Positive | None = Field(8.0, description="memory limit of each run, gigabytes; null for no limit")


def check_settings(values: Mapping[str, Any], *, labels: Mapping[str, str] | None = None,
                   hints: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Check some run settings alone (the others keep their defaults); return them converted.

    ``labels`` names a setting in the error (e.g. ``--grace`` on the command line); ``hints``
    override :data:`HINTS`. Raises :class:`~reference_impl.errors.InputError`."""
    from .schema_errors import setting_problem

    try:
        checked = RunSettings.model_validate(dict(values))
    except ValidationError as exc:
        raise setting_problem(exc.errors()[0], labels=labels or {}, hints=hints) from None
    return {name: getattr(checked, name) for name in values}


# ------------------------------------------------------------------ suites
def as_list(value: Any) -> Any:
    """A single name (or mapping) where a list is expected is a one-element list."""
    return [value] if isinstance(value, (str, dict)) else value


def as_groups(value: Any) -> Any:
    """A single group (a mapping) is a one-element list of groups."""
    return [value] if isinstance(value, dict) else value


class SolverWithOptions(BaseModel):
    """A solver with options, e.g. {solver: bnb, options: {batch_size: 1}}."""

    model_config = ConfigDict(extra="forbid")

    solver: StrictStr
    options: dict[StrictStr, Any] | None = Field(None, description="solver options (checked by the solver before any run)")


#: a solver entry of a group: a name, or a name with options
SolverEntry = Annotated[Union[StrictStr, SolverWithOptions], Field(union_mode="left_to_right")]
Id = Annotated[StrictStr, Field(min_length=1)]
#: a group's hyperparameters: a mapping of lists (their Cartesian product; a scalar is a one-element
#: list) or a list of mappings (exactly those)
Params = Union[dict[StrictStr, Any], list[dict[StrictStr, Any]], None]


# non-empty lists; a single name (or solver mapping) is a one-element list
Formulations = Annotated[list[StrictStr], BeforeValidator(as_list), Field(min_length=1)]
Solvers = Annotated[list[SolverEntry], BeforeValidator(as_list), Field(min_length=1)]
Instances = Annotated[list[Id], BeforeValidator(as_list), Field(min_length=1)]


#: settings a group may override (unset: the suite's)
GROUP_SETTINGS = ("time_limit", "rel_gap", "threads", "seed", "root_relaxation", "repeats")


class Group(BaseModel):
    """One grid of runs: formulations × solvers × instances × params × repeats."""

    model_config = ConfigDict(extra="forbid")

    formulations: Formulations = Field(description="formulation ids (`miobench list`)")
    solvers: Solvers = Field(description="solver names, or {solver: NAME, options: {...}}")
    instances: Instances = Field(description="catalogue ids (`miobench instances list`) or .npz paths")
    params: Params = Field(None, description="hyperparameters: a mapping of lists (a grid) or a list of mappings")
    # a setting left out is the suite's; given, it must be a value (the default is never validated)
    time_limit: Positive = Field(None, description="overrides the suite's")  # type: ignore[assignment]
    rel_gap: NonNegative = Field(None, description="overrides the suite's")  # type: ignore[assignment]
    threads: Count = Field(None, description="overrides the suite's")  # type: ignore[assignment]
    seed: Seed = Field(None, description="overrides the suite's")  # type: ignore[assignment]
    root_relaxation: Flag = Field(None, description="overrides the suite's")  # type: ignore[assignment]
    repeats: Count = Field(None, description="overrides the suite's")  # type: ignore[assignment]

    @model_validator(mode="after")
    def _registered(self) -> "Group":
        """Every formulation id and solver name is registered (an error names the closest); no
        list of a params grid is empty."""
        from .registry import formulations as registered
        from .solvers.registry import PYOMO_SOLVERS, native_names

        known_formulations = registered()
        for formulation in self.formulations:
            if formulation not in known_formulations:
                raise _unknown(f"unknown formulation id {formulation!r}; `miobench list` shows them."
                               + did_you_mean(formulation, known_formulations))
        natives = {s for f in self.formulations for s in native_names(f)}  # the solver registry's
        for entry in self.solvers:
            name = entry if isinstance(entry, str) else entry.solver
            if name not in PYOMO_SOLVERS and name not in natives:
                known = [*PYOMO_SOLVERS, *sorted(natives)]
                raise _unknown(f"unknown solver {name!r}; known: {', '.join(known)}." + did_you_mean(name, known))
        if isinstance(self.params, dict):  # a grid's lists are not empty
            empty = next((k for k, v in self.params.items() if isinstance(v, list) and not v), None)
            if empty is not None:
                raise PydanticCustomError("empty_grid", "the list for {name} is empty", {"name": repr(empty)})
        return self

    def normalised(self) -> dict[str, Any]:
        """The group as :func:`~reference_impl.harness.suites.validate_suite` returns it: the settings
        it sets, then its lists (a solver with options as ``{solver, options}``) and params as given."""
        out: dict[str, Any] = {key: getattr(self, key) for key in GROUP_SETTINGS if key in self.model_fields_set}
        out["formulations"] = list(self.formulations)
        out["solvers"] = [s if isinstance(s, str) else {"solver": s.solver, "options": dict(s.options or {})}
                          for s in self.solvers]
        out["instances"] = list(self.instances)
        out["params"] = self.params
        return out


def _unknown(message: str) -> PydanticCustomError:
    return PydanticCustomError("unknown_id", "{message}", {"message": message})


class Suite(RunSettings):
    """A suite file: its name, description, run settings (with their defaults) and groups."""

    name: Annotated[str, BeforeValidator(lambda v: str(v or "suite"))] = Field("suite", description="the suite's name")
    description: Annotated[Any, WithJsonSchema({"type": "string"})] = Field(None, description="one line for `miobench suites`")
    groups: Annotated[list[Group], BeforeValidator(as_groups), Field(min_length=1, description="the grids of runs")]


#: a suite's settings when it does not set them
SUITE_DEFAULTS: dict[str, Any] = RunSettings.model_validate({}).model_dump()
#: keys a suite may set (besides its groups), and those a group may set
SUITE_KEYS = ("name", "description", "groups", *RunSettings.model_fields)
GROUP_KEYS = tuple(Group.model_fields)


def suite_json_schema() -> dict[str, Any]:
    """The JSON Schema of a suite file (``miobench suites schema``)."""
    schema = Suite.model_json_schema()
    schema["title"] = "miobench suite"
    for name in GROUP_SETTINGS:  # a group's unset setting is the suite's, not null
        schema["$defs"]["Group"]["properties"][name].pop("default", None)
    return schema


# ------------------------------------------------------------------ figure parameters
def _truthy(value: Any) -> Any:
    text = str(value).lower()
    if isinstance(value, bool) or text not in ("1", "true", "yes", "0", "false", "no"):
        return value
    return text in ("1", "true", "yes")


def is_number_list(text: str) -> bool:
    """Is ``text`` a comma-separated list of numbers ("1,4,16")?"""
    try:
        [float(part.strip()) for part in text.split(",")]
    except ValueError:
        return False
    return True


def _number_list(default: str) -> BeforeValidator:
    """Parse a comma-separated list (or a list) of numbers like ``default``; return it as text."""
    integers = all(float(p).is_integer() for p in default.split(","))
    positive = all(float(p) > 0 for p in default.split(","))
    kind = "integers" if integers else "numbers"

    def parse(value: Any) -> Any:
        if value is None:
            return value
        text = ",".join(str(v) for v in value) if isinstance(value, (list, tuple)) else str(value)
        try:
            parsed = [int(p) if integers else float(p) for p in (part.strip() for part in text.split(","))]
        except ValueError:
            raise _what(f"a comma-separated list of {kind} like {default!r}") from None
        if any(not math.isfinite(v) for v in parsed):
            raise _what(f"a comma-separated list of finite {kind} like {default!r}")
        if positive and any(v <= 0 for v in parsed):
            raise _what(f"a comma-separated list of positive {kind} like {default!r}")
        return ",".join(str(v) for v in parsed)

    return BeforeValidator(parse)


def _what(what: str) -> PydanticCustomError:
    return PydanticCustomError("figure_value", "{what}", {"what": what})


def figure_param_type(name: str, default: Any) -> Any:
    """The type of a figure parameter, from its default: its type, and its sign as a bound (a
    default >= 1 wants an integer >= 1, a positive float a number >= 0, a time limit > 0)."""
    if default is None:
        return Any
    if isinstance(default, bool):
        return Annotated[bool, BeforeValidator(_truthy), Strict()]
    if isinstance(default, numbers.Integral):
        low = 1 if int(default) >= 1 else 0 if int(default) >= 0 else None
        return Annotated[int, Strict(), Field(ge=low), BeforeValidator(_integer)]
    if isinstance(default, numbers.Real):
        positive = "time_limit" in name  # a time limit is > 0; another positive default wants >= 0
        least = None if positive or not float(default) > 0 else 0.0
        return Annotated[float, Strict(), Field(allow_inf_nan=False, gt=0.0 if positive else None, ge=least),
                         BeforeValidator(_number)]
    if isinstance(default, str) and is_number_list(default):
        return Annotated[str, _number_list(default)]
    if isinstance(default, str):
        return Annotated[str, BeforeValidator(lambda v: v if v is None else str(v))]
    return Any


def figure_params_model(figure_id: str, defaults: Mapping[str, Any], known: list[str] | None) -> type[BaseModel]:
    """The model of a figure's parameters: one field per parameter its build takes (``known``;
    ``None``: any, and those with defaults are checked), typed by :func:`figure_param_type`.
    Every field is optional: only the parameters given are checked."""
    fields: dict[str, Any] = {name: (figure_param_type(name, defaults.get(name)), None)
                              for name in (known if known is not None else defaults)}
    config = ConfigDict(extra="forbid" if known is not None else "allow", arbitrary_types_allowed=True)
    return create_model(f"FigureParams[{figure_id}]", __config__=config, **fields)
