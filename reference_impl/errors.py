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
