"""The generic scikit-learn estimator over a registered formulation: ``fit`` is one registry solve.

:class:`MIOEstimator` turns ``fit(X, y, **arrays)`` into
``reference_impl.api.solve(formulation_id, {"X": X, "y": y, **arrays}, solver=..., time_limit=...,
rel_gap=..., seed=..., **hyperparameters)`` — an in-memory mapping of arrays is a valid instance
(:func:`reference_impl.instances.resolve_instance`), and the array names are those of
FORMULATIONS.md's conventions (``X``, ``y``, plus family arrays such as ``group``). The solve is
exactly the one ``miobench solve`` runs: same validation, same big-M derivation, same evaluator;
its :class:`~reference_impl.record.ResultRecord` (status, objective, bound, gap, ...) is kept as
``solve_record_``.

Conventions (scikit-learn's): the constructor stores its arguments verbatim and does nothing
else, so ``get_params``/``set_params``/``clone`` work; every fitted attribute ends with ``_``.
The constructor parameters of a subclass are its formulation's hyperparameters (same names
as the registry's: ``k``, ``lambda0``, ``lambda2``, ``M``, ...; ``None`` = the formulation's
default) plus the run settings

* ``solver`` — a registry solver name (``highs``, ``scip``, ``gurobi``, or a native one);
  ``None`` picks HiGHS for a MILP (or a MILP loop) and SCIP for everything else;
* ``time_limit`` (seconds), ``rel_gap`` (relative gap tolerance), ``seed``;
* ``solver_options`` — parameters for the solver by its own names (e.g. SCIP's
  ``{"limits/nodes": 100}``), as ``api.solve``'s ``solver_options``.

How a fit ends, by the record's status:

* ``optimal`` — the fitted model is a certified optimum (within ``rel_gap``);
* ``time_limit``, ``node_limit``, ``iteration_limit`` with a feasible incumbent — the
  incumbent is kept and a :class:`SolveLimitWarning` (a scikit-learn ``ConvergenceWarning``)
  names the status and the gap;
* anything else (``infeasible``, ``unbounded``, a limit without a feasible incumbent,
  ``unsupported``, ``size_limited``, ``not_installed``, ``error``) — :class:`MIOFitError`, a
  :class:`~reference_impl.errors.MiobenchError` *and* a ``ValueError``, naming the status (its
  ``status`` and ``record`` attributes hold them).

Bad data or hyperparameters raise :class:`~reference_impl.errors.InputError` (also a
``ValueError``) with the registry's one-sentence message, before anything is solved.

The record does not carry the solution arrays (θ, z, ...), which the estimator needs: until
``api.solve`` can hand them back (see :func:`solve_with_solution`), they are read from the one
call of the formulation's evaluator that ``api.solve`` makes on the solver's solution.
"""
from __future__ import annotations

import math
import warnings
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted

from ..errors import InputError, MiobenchError
from ..record import ResultRecord

try:  # scikit-learn >= 1.6
    from sklearn.utils.validation import validate_data as _sk_validate_data
except ImportError:  # pragma: no cover - older scikit-learn
    def _sk_validate_data(estimator: Any, X: Any = "no_validation", y: Any = "no_validation", **kw: Any) -> Any:
        return estimator._validate_data(X, y, **kw)

__all__ = ["MIOEstimator", "MIOFitError", "SolveLimitWarning", "solve_with_solution", "LIMIT_STATUSES"]

#: statuses of a run that stopped early; with a feasible incumbent the fit keeps it and warns
LIMIT_STATUSES = ("time_limit", "node_limit", "iteration_limit")
#: problem classes HiGHS takes (the default solver for them); SCIP for every other class
_HIGHS_CLASSES = ("LP", "MILP", "MILP loop")


class SolveLimitWarning(ConvergenceWarning):
    """A fit stopped at a time, node or iteration limit before certifying optimality; the
    fitted model is the solver's best feasible solution (its gap is in ``solve_record_.gap``)."""


class MIOFitError(MiobenchError, ValueError):
    """A fit that produced no usable model (infeasible, no incumbent, solver unavailable, ...).

    ``status`` is the run's status, ``record`` its :class:`ResultRecord`."""

    def __init__(self, message: str, status: str = "error", record: ResultRecord | None = None):
        super().__init__(message)
        self.status = status
        self.record = record


# -- reading the solution back from api.solve ----------------------------------------------
def solve_with_solution(formulation_id: str, instance: Any, **kwargs: Any) -> tuple[ResultRecord, dict | None]:
    """``api.solve(formulation_id, instance, **kwargs)`` and the solution arrays the record
    was evaluated on (``None`` when the solver returned none), through ``solution_out``."""
    from .. import api

    out: dict = {}
    record = api.solve(formulation_id, instance, solution_out=out, **kwargs)
    return record, (dict(out) or None)


# -- the generic estimator ----------------------------------------------------------------------
class MIOEstimator(BaseEstimator):
    """A scikit-learn estimator whose ``fit`` solves one registered formulation (module docstring).

    Subclasses declare

    * ``_formulation`` — the registry id (or override :meth:`_formulation_id` when a
      constructor parameter chooses it),
    * ``_hyperparameter_names`` — constructor parameters that are formulation hyperparameters,
    * ``_fit_arrays`` — the extra arrays ``fit`` takes as keyword arguments (one value per
      sample, e.g. ``group``); ``_required_arrays`` those it cannot do without,

    and implement :meth:`_prepare` (validated X, y and arrays → the instance's arrays and
    what prediction needs) and :meth:`_store` (solution → fitted attributes).
    """

    #: the registry id this estimator solves (or override :meth:`_formulation_id`)
    _formulation: ClassVar[str] = ""
    _hyperparameter_names: ClassVar[tuple[str, ...]] = ()
    _fit_arrays: ClassVar[tuple[str, ...]] = ()
    _required_arrays: ClassVar[tuple[str, ...]] = ()
    #: hyperparameter counted against the model's size ("k" ≥ count means no limit: capped)
    _cardinality_name: ClassVar[str | None] = "k"
    #: ``y`` must be numeric (regression) or may hold any labels (classification)
    _y_numeric: ClassVar[bool] = True

    # -- subclass hooks ---------------------------------------------------------------------
    def _formulation_id(self) -> str:
        return self._formulation

    def _prepare(self, X: np.ndarray, y: np.ndarray, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
        """The instance's arrays (at least ``X`` and ``y``) for the solve; may set fitted
        attributes that prediction needs (label encoding, centring, ...)."""
        return {"X": X, "y": y, **arrays}

    def _group_count(self, instance: dict[str, Any]) -> int:
        """How many indicators the cardinality limit counts (features by default)."""
        return int(np.asarray(instance["X"]).shape[1])

    def _hyperparameters(self, instance: dict[str, Any]) -> dict[str, Any]:
        """The formulation's hyperparameters: every non-``None`` constructor value named in
        ``_hyperparameter_names`` (``None`` leaves the formulation's default); ``k`` at or above
        the number of indicators is no constraint and is passed as that number (same problem)."""
        values = {name: getattr(self, name) for name in self._hyperparameter_names}
        values = {name: value for name, value in values.items() if value is not None}
        name = self._cardinality_name
        if name and name in values:
            count = self._group_count(instance)
            value = values[name]
            if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_)) \
                    and math.isfinite(float(value)) and float(value) == int(value) and int(value) > count:
                values[name] = count
        return values

    def _store(self, solution: dict[str, np.ndarray], instance: dict[str, Any], params: dict[str, Any]) -> None:
        raise NotImplementedError

    # -- run settings --------------------------------------------------------------------------
    def _solver_name(self, formulation_id: str) -> str:
        if self.solver is not None:
            return self.solver
        from ..registry import get_formulation

        formulation = get_formulation(formulation_id)
        return "highs" if formulation.problem_class in _HIGHS_CLASSES else "scip"

    # -- validation ----------------------------------------------------------------------------
    def _validate(self, X: Any, y: Any = "no_validation", **kw: Any) -> Any:
        """scikit-learn's ``validate_data`` (sets/checks ``n_features_in_`` and
        ``feature_names_in_``; refuses NaN/inf, wrong shapes); its ``ValueError`` becomes an
        :class:`InputError` with the same message (a ``TypeError``, e.g. sparse input, stays)."""
        if y is None:
            raise InputError(f"{type(self).__name__} requires y to be passed, but the target y is None "
                             "(fit needs the target y)")
        try:
            return _sk_validate_data(self, X, y, **kw)
        except MiobenchError:
            raise
        except ValueError as exc:
            raise InputError(f"invalid input to {type(self).__name__}: {exc}") from exc

    def _check_X(self, X: Any) -> np.ndarray:
        """X for prediction: a fitted estimator (else ``NotFittedError``), finite numeric 2-D data
        with the fitted number of columns (and names, for DataFrames)."""
        check_is_fitted(self, "solve_record_")
        return self._validate(X, reset=False, dtype=np.float64)

    def _check_arrays(self, arrays: dict[str, Any], n: int) -> dict[str, np.ndarray]:
        unknown = sorted(set(arrays) - set(self._fit_arrays))
        if unknown:
            takes = ", ".join(self._fit_arrays) or "none"
            raise InputError(f"{type(self).__name__}.fit got unexpected keyword argument(s) {', '.join(unknown)}; "
                             f"the extra arrays it takes: {takes}")
        missing = [name for name in self._required_arrays if arrays.get(name) is None]
        if missing:
            raise InputError(f"{type(self).__name__}.fit needs the array(s) {', '.join(missing)} as keyword "
                             f"argument(s), one value per sample, e.g. fit(X, y, {missing[0]}=...)")
        checked = {}
        for name, value in arrays.items():
            if value is None:
                continue
            array = np.asarray(value)
            if array.ndim != 1 or array.shape[0] != n:
                raise InputError(f"{name} must hold one value per sample ({n}); got shape {array.shape}")
            checked[name] = array
        return checked

    # -- fit -------------------------------------------------------------------------------------
    def fit(self, X: Any, y: Any = None, **arrays: Any) -> "MIOEstimator":
        """Solve the formulation on (X, y) and the extra ``arrays``; sets ``solve_record_`` and
        the model's fitted attributes (see the class). Warns :class:`SolveLimitWarning` when a
        limit stopped the solver with an incumbent; raises :class:`MIOFitError` when no model
        came back and :class:`InputError` for bad input."""
        Xa, ya = self._validate(X, y, dtype=np.float64, y_numeric=self._y_numeric)
        Xa = np.asarray(Xa, dtype=np.float64)
        instance = self._prepare(Xa, np.asarray(ya), {})  # labels and centring first: their errors come first
        instance.update(self._check_arrays(arrays, Xa.shape[0]))
        if hasattr(self, "feature_names_in_") and "feature_names" not in instance \
                and len(self.feature_names_in_) == np.asarray(instance["X"]).shape[1]:
            instance["feature_names"] = np.asarray(self.feature_names_in_, dtype=str)
        formulation_id = self._formulation_id()
        hyper = self._hyperparameters(instance)
        record, solution = solve_with_solution(formulation_id, instance, solver=self._solver_name(formulation_id),
                                               time_limit=self.time_limit, rel_gap=self.rel_gap, seed=self.seed,
                                               solver_options=self.solver_options, **hyper)
        self._check_outcome(record, solution)
        self.solve_record_ = record
        self.objective_ = float(record.objective)
        self._store(solution, instance, record.extra.get("effective_params", {}))
        return self

    def _check_outcome(self, record: ResultRecord, solution: dict | None) -> None:
        name = type(self).__name__
        feasible = solution is not None and record.objective is not None and math.isfinite(record.objective)
        if record.status == "optimal" and feasible:
            return
        if record.status in LIMIT_STATUSES and feasible:
            warnings.warn(
                f"{name}: the solver stopped at its {record.status.replace('_', ' ')} ({record.solver}, "
                f"time_limit={record.time_limit:g} s) before certifying optimality; the fitted model is its best "
                f"feasible solution, objective {record.objective:.6g}, bound "
                f"{'none' if record.bound is None else format(record.bound, '.6g')}, gap {record.gap:.3g}",
                SolveLimitWarning, stacklevel=3)
            return
        if record.status in LIMIT_STATUSES:
            why = "stopped without a feasible solution"
        elif record.status == "infeasible":
            why = "the problem is infeasible for these data and hyperparameters (no model satisfies its constraints)"
        elif record.status == "optimal":
            why = "no feasible solution came back"
        else:
            why = "no model came back"
        detail = f": {record.message}" if record.message else ""
        raise MIOFitError(f"{name}.fit failed with status {record.status!r} ({record.formulation} with solver "
                          f"{record.solver}): {why}{detail}", status=record.status, record=record)

    # -- common fitted helpers ---------------------------------------------------------------------
    @property
    def gap_(self) -> float:
        """The certified relative gap of the fit (``solve_record_.gap``)."""
        check_is_fitted(self, "solve_record_")
        return float(self.solve_record_.gap)

    @property
    def status_(self) -> str:
        """The status of the fit's solve (``optimal`` or a limit status)."""
        check_is_fitted(self, "solve_record_")
        return self.solve_record_.status
