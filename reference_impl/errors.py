"""User-facing error types.

Every mistake a user can make (bad shapes, NaN, k > p, an unknown id, a missing data file)
is raised as a subclass of :class:`MiobenchError` with one sentence that says what is wrong
and how to fix it. The CLI prints that sentence and exits with status 2; the harness turns
it into an ``error`` row. Nothing deeper in a library is allowed to surface as a traceback.
"""
from __future__ import annotations


class MiobenchError(Exception):
    """Base class of every error miobench raises on purpose."""


class InputError(MiobenchError, ValueError):
    """Bad data or hyperparameters (shapes, NaN, k > p, negative penalties, ...)."""


class UnknownIdError(MiobenchError, LookupError):
    """An id (formulation, solver, instance, suite, figure) that is not registered."""

    def __str__(self) -> str:  # LookupError would quote the message
        return str(self.args[0]) if self.args else ""


class DataMissingError(MiobenchError, FileNotFoundError):
    """A data file that a loader needs is not where it should be."""


class IntegrityError(MiobenchError):
    """A stored file whose checksum does not match the one on record."""


def did_you_mean(name: str, choices) -> str:
    """A short hint naming the closest registered ids."""
    import difflib

    close = difflib.get_close_matches(name, list(choices), n=3, cutoff=0.5)
    return f" Did you mean: {', '.join(close)}?" if close else ""


def check_number(name: str, value, *, integer: bool = False, minimum: float | None = None,
                 positive: bool = False, maximum: float | None = None, finite: bool = True,
                 hint: str = ""):
    """Validate a run setting (time limit, gap, threads, seed, ...) and return it as a Python
    ``int``/``float``; raise :class:`InputError` with one sentence otherwise. Booleans are not
    numbers here (``time_limit=True`` is a mistake, not one second)."""
    import math
    import numbers

    kind = "an integer" if integer else "a number"
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral if integer else numbers.Real)):
        if integer and isinstance(value, numbers.Real) and not isinstance(value, bool) \
                and float(value).is_integer():
            value = int(float(value))
        else:
            raise InputError(f"{name} must be {kind}{hint}; got {value!r}")
    value = int(value) if integer else float(value)
    if not integer and (math.isnan(value) or (finite and math.isinf(value))):
        raise InputError(f"{name} must be a finite number{hint}; got {value!r}")
    if positive and not value > 0:
        raise InputError(f"{name} must be > 0{hint}; got {value!r}")
    if minimum is not None and value < minimum:
        raise InputError(f"{name} must be >= {minimum:g}{hint}; got {value!r}")
    if maximum is not None and value > maximum:
        raise InputError(f"{name} must be <= {maximum:g}{hint}; got {value!r}")
    return value


#: largest seed every solver takes (SCIP and Gurobi: a 32-bit signed integer)
MAX_SEED = 2**31 - 1


#: what each run setting must be, for the error on a missing one
_RUN_SETTINGS = {"time_limit": "a positive number of seconds (runs are always bounded)",
                 "rel_gap": "a number >= 0 (relative gap tolerance)", "threads": "an integer >= 1",
                 "seed": "an integer >= 0", "repeat": "an integer >= 0"}


def check_run_settings(*, time_limit=None, rel_gap=None, threads=None, seed=None, repeat=None,
                       required: bool = False) -> dict:
    """The settings every run shares, validated and converted. ``None`` means "not given":
    skipped, or with ``required`` an :class:`InputError` (``time_limit=None`` does not mean "no limit")."""
    given = {"time_limit": time_limit, "rel_gap": rel_gap, "threads": threads, "seed": seed, "repeat": repeat}
    if required:
        missing = next((name for name, value in given.items() if value is None), None)
        if missing:
            raise InputError(f"{missing} must be {_RUN_SETTINGS[missing]}; got None")
    checked = {}
    if time_limit is not None:
        checked["time_limit"] = check_number("time_limit", time_limit, positive=True, hint=" (seconds)")
    if rel_gap is not None:
        checked["rel_gap"] = check_number("rel_gap", rel_gap, minimum=0, hint=" (relative gap tolerance)")
    if threads is not None:
        checked["threads"] = check_number("threads", threads, integer=True, minimum=1)
    if seed is not None:
        checked["seed"] = check_number("seed", seed, integer=True, minimum=0, maximum=MAX_SEED)
    if repeat is not None:
        checked["repeat"] = check_number("repeat", repeat, integer=True, minimum=0)
    return checked


def writable_dir(path, what: str):
    """Create folder ``path`` (or check it is one) and check it is writable, before any work is
    done; ``what`` names it in the one-line error (e.g. "report folder")."""
    import os
    from pathlib import Path

    path = Path(path)
    if path.exists() and not path.is_dir():
        raise InputError(f"{what} {path} is a file, not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create {what} {path}: {exc.strerror or exc}") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise InputError(f"{what} {path} is not writable")
    return path


def is_input_error(exc: BaseException) -> bool:
    """Bad input, raised on purpose: a :class:`MiobenchError`, or the input error of one of
    miobench's stand-alone libraries (the native solver's ``KGLMInputError`` is a plain
    ``ValueError`` so that the library stands alone). A library that was never imported cannot
    have raised one, so this imports nothing."""
    if isinstance(exc, MiobenchError):
        return True
    import sys

    validation = sys.modules.get("reference_impl.kglm.validation")
    return validation is not None and isinstance(exc, validation.KGLMInputError)
