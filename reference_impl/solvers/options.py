"""Solver options checked up front, before any model is built: an unknown name or a value of
the wrong type or out of range is an :class:`~reference_impl.errors.InputError` (exit 2 in
the CLI), never a run that ends as ``error``.

Each solver is asked about its own parameters on a throwaway object (a SCIP model, an empty
Gurobi environment that starts no license, a HiGHS instance), with the output descriptors
silenced: SCIP prints range errors and HiGHS unknown-option errors on fd 1.
"""
from __future__ import annotations

import numbers
from collections.abc import Iterable, Mapping
from typing import Any

from ..errors import InputError, did_you_mean
from .quiet import silenced_output
from .spec import PYOMO_SOLVERS, is_installed


class _Probe:
    """A solver's parameters: names, the type of each (from its default) and a setter that
    says whether a value is accepted (``None``) or why not."""

    def names(self) -> Iterable[str]:
        raise NotImplementedError

    def default(self, name: str) -> Any:
        """The parameter's default value; ``KeyError`` for an unknown name."""
        raise NotImplementedError

    def reject(self, name: str, value: Any) -> str | None:
        raise NotImplementedError

    def close(self) -> None:
        pass


class _ScipProbe(_Probe):
    def __init__(self) -> None:
        import pyscipopt

        self._model = pyscipopt.Model()
        self._model.hideOutput(True)
        self._params = self._model.getParams()

    def names(self) -> Iterable[str]:
        return self._params

    def default(self, name: str) -> Any:
        return self._params[name]

    def reject(self, name: str, value: Any) -> str | None:
        try:
            self._model.setParam(name, value)
        except Exception as exc:  # pyscipopt raises ValueError/TypeError/KeyError
            return str(exc)
        return None


class _GurobiProbe(_Probe):
    def __init__(self) -> None:
        import gurobipy

        self._env = gurobipy.Env(empty=True)  # not started: no license check, no banner
        self._names = [n for n in dir(gurobipy.GRB.Param) if not n.startswith("_")]

    def names(self) -> Iterable[str]:
        return self._names

    def default(self, name: str) -> Any:
        try:
            return self._env.getParam(name)
        except Exception:
            raise KeyError(name) from None

    def reject(self, name: str, value: Any) -> str | None:
        try:
            self._env.setParam(name, value)
        except Exception as exc:  # GurobiError or TypeError
            return str(exc)
        return None

    def close(self) -> None:
        self._env.dispose()


class _HighsProbe(_Probe):
    def __init__(self) -> None:
        import highspy

        self._highs = highspy.Highs()
        self._highs.setOptionValue("output_flag", False)
        self._ok = highspy.HighsStatus.kOk
        self._names = [n for n in dir(highspy.HighsOptions) if not n.startswith("_")]

    def names(self) -> Iterable[str]:
        return self._names

    def default(self, name: str) -> Any:
        if name not in self._names:
            raise KeyError(name)
        return self._highs.getOptionValue(name)[1]

    def reject(self, name: str, value: Any) -> str | None:
        if self._highs.setOptionValue(name, value) != self._ok:
            return "out of range or not one of its choices"
        return None


def _type_error(value: Any, default: Any) -> str | None:
    """Why ``value`` cannot stand for a parameter whose default is ``default`` (its type
    decides), or ``None`` when it can. Solvers convert silently (SCIP and Gurobi truncate
    1.5 to 1; HiGHS reads "5" as 5), so the types are checked here."""
    if isinstance(default, bool):
        ok = isinstance(value, bool) or (isinstance(value, numbers.Integral) and value in (0, 1))
        return None if ok else "must be true or false"
    if isinstance(default, numbers.Integral):
        ok = isinstance(value, numbers.Real) and float(value).is_integer()
        return None if ok else "must be an integer"
    if isinstance(default, numbers.Real):
        ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
        return None if ok else "must be a number"
    if isinstance(default, str):
        return None if isinstance(value, str) else "must be a string"
    return None


def check_solver_options(solver: str, options: Mapping[str, Any]) -> None:
    """Check every option of ``solver`` (a Pyomo solver) by name, type and range; raise one
    :class:`InputError` for the first bad one. Nothing is checked for a solver that is not
    installed (the run's status says so) or that miobench does not reach through Pyomo."""
    if not options or solver not in PYOMO_SOLVERS or not is_installed(solver):
        return
    with silenced_output():
        probe = PYOMO_SOLVERS[solver].option_probe()  # the entry's probe (spec.py)
        try:
            problem = next(filter(None, (_problem(solver, probe, name, value) for name, value in options.items())), None)
        finally:
            probe.close()
    if problem:
        raise InputError(problem)


def _problem(solver: str, probe: _Probe, name: str, value: Any) -> str | None:
    """What is wrong with option ``name=value`` (one sentence), or ``None``."""
    try:
        default = probe.default(name)
    except KeyError:
        return f"{solver} has no option {name!r}.{did_you_mean(name, probe.names())}"
    reason = _type_error(value, default)
    if reason:
        return f"{solver} option {name} {reason}; got {value!r}"
    refusal = probe.reject(name, value)
    return f"{solver} refuses option {name}={value!r}: {refusal}" if refusal else None
