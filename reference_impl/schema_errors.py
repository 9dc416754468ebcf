"""pydantic's errors as miobench's: one sentence that names the place.

A :class:`pydantic.ValidationError` of :mod:`reference_impl.schema` lists every problem it
found, each with a location (``("groups", 1, "time_limit")``) and a type (``greater_than``).
The functions here pick the problem a reader meets first (unknown keys, then the settings,
then each group in order) and say it the way miobench always has, e.g. ``suite.yaml, group 2:
time_limit must be > 0 (seconds); got 0.0``, as an :class:`~reference_impl.errors.InputError`
(an unregistered id: :class:`~reference_impl.errors.UnknownIdError`).
"""
from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic_core import ErrorDetails

from .errors import InputError, MiobenchError, UnknownIdError, did_you_mean
from .schema import GROUP_KEYS, GROUP_SETTINGS, HINTS, SUITE_DEFAULTS, SUITE_KEYS, RunSettings, as_groups, as_list

PARAMS_HINT = "a group's params must be a mapping of lists (a grid) or a list of mappings (exactly those)"
_UNKNOWN_KEY = ("extra_forbidden", "invalid_key")
_BOUNDS = {"greater_than": (">", "gt"), "greater_than_equal": (">=", "ge"), "less_than": ("<", "lt"),
           "less_than_equal": ("<=", "le")}
_LISTS = ("formulations", "solvers", "instances")
_SETTINGS = tuple(RunSettings.model_fields)
_FLOATS = {name for name, default in SUITE_DEFAULTS.items() if isinstance(default, float)}  # the float settings


def _number(limit: Any) -> str:
    return f"{limit:g}" if isinstance(limit, float) else str(limit)


def _shown(error: ErrorDetails, as_float: bool) -> Any:
    """The value as the sentence shows it: out of a float's bounds, as a float (``got -1.0``)."""
    value = error["input"]
    return float(value) if as_float and error["type"] in _BOUNDS else value




def setting_sentence(error: ErrorDetails, name: str, hint: str = "", *, as_float: bool = False) -> str:
    """``NAME must be ...; got VALUE`` for one run setting's error (``as_float``: a float setting)."""
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind == "bool_type":
        return f"{name} must be true or false; got {error['input']!r}"
    if kind in _BOUNDS:
        op, key = _BOUNDS[kind]
        what = f"{op} {_number(ctx[key])}"
    elif kind == "finite_number":
        what = "a finite number"
    else:
        what = "an integer" if kind.startswith("int") else "a number"
    return f"{name} must be {what}{hint}; got {_shown(error, as_float)!r}"


def setting_problem(error: ErrorDetails, *, labels: Mapping[str, str], hints: Mapping[str, str] | None = None,
                    where: str = "") -> InputError:
    """One run setting's error (``where: NAME must be ...``)."""
    key = str(error["loc"][-1])
    hint = (HINTS if hints is None else {**HINTS, **hints}).get(key, "")
    sentence = setting_sentence(error, labels.get(key, key), hint, as_float=key in _FLOATS)
    return InputError(f"{where}: {sentence}" if where else sentence)


def _unknown_keys(errors: Sequence[ErrorDetails], parent: tuple, where: str, what: str, allowed: Sequence[str]) -> InputError:
    unknown = [e["loc"][-1] for e in errors if e["type"] in _UNKNOWN_KEY and tuple(e["loc"][:-1]) == parent]
    return InputError(f"{where}: unknown key(s) {', '.join(map(repr, unknown))}; {what} takes: {', '.join(allowed)}."
                      + did_you_mean(str(unknown[0]), allowed))


# ------------------------------------------------------------------ suites
def _group_rank(rest: tuple, error: ErrorDetails) -> tuple:
    if not rest:
        return (0,) if error["type"] == "model_type" else (9,)  # not a mapping; the registry checks
    if error["type"] in _UNKNOWN_KEY and len(rest) == 1:
        return (1,)
    key = rest[0]
    if key in GROUP_SETTINGS:
        return (2, GROUP_SETTINGS.index(key))
    return (3, GROUP_KEYS.index(key)) if key in GROUP_KEYS else (8,)


def _suite_rank(error: ErrorDetails) -> tuple:
    """Which problem a reader meets first: unknown keys, the settings, then each group in order."""
    loc = tuple(error["loc"])
    if not loc:
        return (0,)
    if error["type"] in _UNKNOWN_KEY and len(loc) == 1:
        return (1,)
    if loc[0] in _SETTINGS:
        return (3, _SETTINGS.index(loc[0]))
    if loc[0] == "groups":
        if len(loc) == 1:
            return (2,) if error["type"] == "missing" else (4,)
        return (5, loc[1], *_group_rank(loc[2:], error))
    return (6,)


def suite_problem(errors: Sequence[ErrorDetails], suite: Any, where: str) -> MiobenchError:
    """The first problem of a suite (see :func:`_suite_rank`) as one sentence naming its place."""
    error = min(errors, key=_suite_rank)
    loc = tuple(error["loc"])
    if not loc or loc == ("groups",) and error["type"] == "missing":
        return InputError(f"{where} must be a mapping with a 'groups' list")
    if error["type"] in _UNKNOWN_KEY and len(loc) == 1:
        return _unknown_keys(errors, (), where, "a suite", SUITE_KEYS)
    if loc[0] in _SETTINGS:
        return setting_problem(error, labels={}, where=where)
    if len(loc) == 1:
        return InputError(f"{where}: 'groups' must be a non-empty list of groups; got {suite.get('groups')!r}")
    number = int(loc[1])
    group = as_groups(suite["groups"])[number]
    return _group_problem(errors, error, loc[2:], group, f"{where}, group {number + 1}")


def _group_problem(errors: Sequence[ErrorDetails], error: ErrorDetails, rest: tuple, group: Any, label: str) -> MiobenchError:
    kind = error["type"]
    if not rest:
        if kind == "unknown_id":
            return UnknownIdError(f"{label}: {error['msg']}")
        if kind == "empty_grid":
            return InputError(f"{label}: {PARAMS_HINT}; {error['msg']}")
        return InputError(f"{label} must be a mapping (formulations, solvers, instances, params); got {group!r}")
    key = rest[0]
    if kind in _UNKNOWN_KEY and len(rest) == 1:
        return _unknown_keys(errors, tuple(error["loc"][:-1]), label, "a group", GROUP_KEYS)
    if key in GROUP_SETTINGS:
        return setting_problem(error, labels={}, where=label)
    if key == "params":
        params = group.get("params")
        if isinstance(params, dict) and not all(isinstance(k, str) for k in params):
            return InputError(f"{label}: {PARAMS_HINT}; hyperparameter names must be strings, got {list(params)!r}")
        return InputError(f"{label}: {PARAMS_HINT}; got {params!r}")
    if kind == "missing" or len(rest) == 1 and error["input"] is None:
        return InputError(f"{label} has no '{key}' list")
    if len(rest) == 1:
        return InputError(f"{label}: '{key}' must be a non-empty list; got {error['input']!r}")
    if key == "formulations":
        return InputError(f"{label}: a formulation is an id string; got {error['input']!r}")
    if key == "instances":
        return InputError(f"{label}: an instance is a catalogue id or an .npz path; got {error['input']!r}")
    return _solver_problem(as_list(group["solvers"])[int(rest[1])], label)


def _solver_problem(entry: Any, label: str) -> InputError:
    if not isinstance(entry, dict):
        return InputError(f"{label}: a solver is a name string; got {entry!r}")
    if "solver" not in entry or any(k not in ("solver", "options") for k in entry):
        return InputError(f"{label}: a solver entry is a name or {{solver: NAME, options: {{...}}}}; got {entry!r}")
    options = entry.get("options") or {}
    if not isinstance(options, dict) or not all(isinstance(k, str) for k in options):
        return InputError(f"{label}: solver options must be a mapping; got {options!r}")
    return InputError(f"{label}: a solver is a name string; got {entry['solver']!r}")


# ------------------------------------------------------------------ figure parameters
def _figure_what(error: ErrorDetails) -> str:
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind == "figure_value":
        return str(ctx["what"])
    if kind in ("bool_type", "bool_parsing"):
        return "true or false"
    if kind == "greater_than":
        return "a positive number of seconds"
    if kind == "greater_than_equal":
        return f"{'a number' if isinstance(ctx['ge'], float) else 'an integer'} >= {_number(ctx['ge'])}"
    if kind == "finite_number":
        return "a finite number"
    return "an integer" if kind.startswith("int") else "a number" if kind.startswith("float") else error["msg"]


def figure_problem(errors: Sequence[ErrorDetails], params: Mapping[str, Any], *, figure_id: str, describe: str,
                   defaults: Mapping[str, Any], known: Sequence[str] | None) -> InputError:
    """The first problem of a figure's parameters: unknown names, else the first bad value given."""
    unknown = [str(e["loc"][0]) for e in errors if e["type"] in _UNKNOWN_KEY]
    if unknown:
        return InputError(f"figure {figure_id} has no parameter(s) {', '.join(map(repr, unknown))}; "
                          + describe.split(" ", 2)[2] + did_you_mean(unknown[0], known or []))
    order = list(params)
    error = min(errors, key=lambda e: order.index(e["loc"][0]) if e["loc"][0] in order else len(order))
    name = str(error["loc"][0])
    value = params.get(name)
    if value is None and defaults.get(name) is not None:
        what = f"a value like its default {defaults[name]!r}"
    else:
        default = defaults.get(name)
        as_float = isinstance(default, numbers.Real) and not isinstance(default, numbers.Integral)
        what, value = _figure_what(error), _shown(error, as_float)
    return InputError(f"figure {figure_id}: parameter {name} must be {what}; got {value!r} ({describe})")
