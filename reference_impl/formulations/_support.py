"""Support links and integrality: the checks every sparse evaluator shares (DESIGN.md, idea 1).

A sparse formulation has coefficients θ (``theta``, ``beta``, ...) and support indicators
z ∈ {0,1}, one per coefficient or one per group of coefficients (``owner[c]`` = the group of
column c). Its evaluator recomputes, from the solution alone:

* ``integrality``  — max |z − round(z)| (:func:`integrality_violation`; any integer arrays);
* ``support_link`` — max |θⱼ| over the coefficients whose indicator is off (zⱼ ≤ ½), i.e. the
  violation of the link |θⱼ| ≤ M·zⱼ at zⱼ = 0 (:func:`support_link_violation`);
* ``big_m``        — max(|θⱼ| − M, 0), the box of the big-M link (:func:`box_violation`;
  0 for M = ∞, "no box");
* ``cardinality``  — max(#{zⱼ > ½} − k, 0) (:func:`cardinality_violation`);

and reports whether M bound the solution (:func:`m_binding`). :func:`support_violations`
gives the first three (and the fourth when ``k`` is given) in that order — the order in which
every evaluator lists them, which :mod:`reference_impl.api` keeps when it names the worst one.

Not a formulation module (leading underscore): the registry does not import it for formulations.
"""
from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np

from ..errors import InputError
from .base import Evaluation

#: relative closeness to M at which a coefficient counts as bound by the big-M box
M_BINDING_RTOL = 1e-4


def read_arrays(solution: Mapping[str, Any], lengths: Mapping[str, int]) -> list[np.ndarray]:
    """The solution's 1-D arrays ``lengths`` names, as floats; :class:`InputError` when one has
    another shape ("solution must have theta and z of length 5")."""
    arrays = [np.asarray(solution[name], dtype=float) for name in lengths]
    if any(a.shape != (n,) for a, n in zip(arrays, lengths.values())):
        sizes = set(lengths.values())
        if len(sizes) == 1:
            text = f"{' and '.join(lengths)} of length {sizes.pop()}"
        else:
            text = " and ".join(f"{name} of length {n}" for name, n in lengths.items())
        raise InputError(f"solution must have {text}")
    return arrays


def all_finite(*values) -> bool:
    """Whether every entry of every array (or scalar) is finite (no NaN from a missing value)."""
    return all(bool(np.all(np.isfinite(v))) for v in values)


def missing_values(objective: float = math.inf) -> Evaluation:
    """The evaluation of a solution with missing (non-finite) values."""
    return Evaluation(objective=objective, violations={"missing_values": math.inf})


def support_mask(z) -> np.ndarray:
    """The support: indicators above ½."""
    return np.asarray(z, dtype=float) > 0.5


def integrality_violation(*arrays) -> float:
    """Largest distance of an entry of ``arrays`` to the nearest integer."""
    return float(max(np.max(np.abs(np.asarray(v, dtype=float) - np.round(v)), initial=0.0) for v in arrays))


def support_link_violation(coefficients: np.ndarray, active: np.ndarray) -> float:
    """Largest |θⱼ| of a coefficient outside the support (``active[j]`` False)."""
    return float(np.max(np.abs(coefficients[~active]), initial=0.0))


def box_violation(coefficients: np.ndarray, M: float) -> float:
    """Largest excess of |θⱼ| over the box M (0 when M is infinite: no box)."""
    if not math.isfinite(M):
        return 0.0
    return float(np.max(np.abs(coefficients) - M, initial=0.0))


def cardinality_violation(active: np.ndarray, k: int) -> float:
    """How many indicators are on beyond the limit k."""
    return float(max(int(np.sum(active)) - k, 0))


def m_binding(coefficients: np.ndarray, active: np.ndarray, M: float, rtol: float = M_BINDING_RTOL) -> bool:
    """Whether a selected coefficient reached the box M (within ``rtol``); never for M = ∞."""
    return bool(math.isfinite(M) and np.any(np.abs(coefficients[active]) >= (1 - rtol) * M))


def support_violations(coefficients: np.ndarray, z: np.ndarray, *, M: float, k: int | None = None,
                       owner: np.ndarray | None = None, box: str = "big_m") -> dict[str, float]:
    """``integrality`` of z, ``support_link``, the box (named ``box``) and, when ``k`` is given,
    ``cardinality``, in that order. ``owner[c]``: the indicator of coefficient c (default: its own)."""
    active = support_mask(z)
    coefficient_active = active if owner is None else active[owner]
    violations = {
        "integrality": integrality_violation(z),
        "support_link": support_link_violation(coefficients, coefficient_active),
        box: box_violation(coefficients, M),
    }
    if k is not None:
        violations["cardinality"] = cardinality_violation(active, k)
    return violations
