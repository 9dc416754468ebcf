"""The OPB (pseudo-Boolean competition) format: write a linear 0-1 Pyomo model, read a file back.

:func:`model_to_opb` turns a Pyomo model whose variables are all binary and whose objective and
constraints are linear with integral coefficients (after scaling the objective by ``scale``)
into OPB text: a minimisation (``min:``), constraints with ``>=`` and ``=`` only, a header
``* #variable= … #constraint= …``, the caller's comment lines, one comment line per variable
(``* x17 w_plus[3,2]``). :func:`read_opb` parses that subset into an :class:`OPBModel`, which
evaluates a 0-1 point; :func:`opb_header_values` reads the ``offset= … scale= …`` comment that
maps the file's objective V back to the model's (objective = offset − V/scale).
Used by ``binarized.pbo`` (:func:`reference_impl.formulations.binarized.write_opb`).

Not a formulation module (leading underscore): the registry does not import it for formulations.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pyomo.environ as pyo

from ..errors import InputError


@dataclass
class OPBModel:
    """A parsed OPB file: minimise Σ objective[j]·x_j subject to Σ a_j x_j (>= or =) rhs."""

    n_vars: int
    objective: dict[int, int]
    constraints: list[tuple[dict[int, int], str, int]]
    comments: list[str] = field(default_factory=list)

    def objective_value(self, x: np.ndarray) -> int:
        return int(sum(a * int(x[j - 1]) for j, a in self.objective.items()))

    def violated(self, x: np.ndarray) -> list[int]:
        """Indices of the constraints that the 0-1 point ``x`` (x[j-1] = value of x_j) violates."""
        bad = []
        for k, (terms, op, rhs) in enumerate(self.constraints):
            lhs = sum(a * int(x[j - 1]) for j, a in terms.items())
            if (op == ">=" and lhs < rhs) or (op == "=" and lhs != rhs):
                bad.append(k)
        return bad


def _integer(value: float, what: str) -> int:
    if abs(value - round(value)) > 1e-9:
        raise InputError(f"OPB needs integer coefficients; {what} is {value}")
    return int(round(value))


def _terms(coefs, variables, index: dict[int, int], scale: int = 1) -> dict[int, int]:
    out: dict[int, int] = {}
    for coef, var in zip(coefs, variables):
        j = index[id(var)]
        out[j] = out.get(j, 0) + _integer(float(coef) * scale, f"the coefficient of {var.name}")
    return {j: a for j, a in out.items() if a != 0}


def _format(terms: dict[int, int]) -> str:
    return " ".join(f"{a:+d} x{j}" for j, a in sorted(terms.items()))


def model_to_opb(model: pyo.Block, *, scale: int = 1,
                 comments: Callable[[float], list[str]] = lambda offset: []) -> str:
    """OPB text of ``model``: minimise scale·(the active objective) with integer coefficients (a
    maximisation is negated), every active constraint as ``>=`` / ``=`` rows. ``comments(offset)``
    gives the header comment lines after the counts (``offset``: the objective's constant, which
    the file leaves out); a constant row that holds is dropped, one that fails is an InputError."""
    from pyomo.repn import generate_standard_repn

    variables = list(model.component_data_objects(pyo.Var, descend_into=True))
    index = {id(v): j + 1 for j, v in enumerate(variables)}
    objective = next(model.component_data_objects(pyo.Objective, active=True))
    repn = generate_standard_repn(objective.expr, compute_values=True)
    offset = float(repn.constant)
    sign = -1 if objective.sense == pyo.maximize else 1
    obj_terms = _terms(repn.linear_coefs, repn.linear_vars, index, scale=sign * scale)
    lines: list[str] = []
    for con in model.component_data_objects(pyo.Constraint, active=True):
        repn = generate_standard_repn(con.body, compute_values=True)
        terms = _terms(repn.linear_coefs, repn.linear_vars, index)
        constant = float(repn.constant)
        lower = None if con.lower is None else _integer(pyo.value(con.lower) - constant, f"the bound of {con.name}")
        upper = None if con.upper is None else _integer(pyo.value(con.upper) - constant, f"the bound of {con.name}")
        if not terms:  # a constant row: it holds (lower <= 0 <= upper) or the model is infeasible
            if (lower is not None and lower > 0) or (upper is not None and upper < 0):
                raise InputError(f"{con.name} has no variables and is violated: the model is infeasible")
            continue
        if lower is not None and lower == upper:
            lines.append(f"{_format(terms)} = {lower} ;")
            continue
        if lower is not None:
            lines.append(f"{_format(terms)} >= {lower} ;")
        if upper is not None:
            lines.append(f"{_format({j: -a for j, a in terms.items()})} >= {-upper} ;")
    header = [f"* #variable= {len(variables)} #constraint= {len(lines)}", *comments(offset)]
    header += [f"* x{index[id(v)]} {v.name}" for v in variables]
    return "\n".join(header + [f"min: {_format(obj_terms)} ;"] + lines) + "\n"


_TERM = re.compile(r"([+-]\d+)\s+x(\d+)")


def read_opb(path: str | os.PathLike) -> OPBModel:
    """Parse a linear OPB file (the subset :func:`write_opb` writes: ``min:``, ``>=``, ``=``)."""
    n_vars, objective, constraints, comments = 0, {}, [], []
    for raw in Path(path).read_text().splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("*"):
            comments.append(line)
            found = re.search(r"#variable=\s*(\d+)", line)
            if found:
                n_vars = int(found.group(1))
            continue
        if not line.endswith(";"):
            raise InputError(f"OPB line does not end with ';': {raw!r}")
        body = line[:-1].strip()
        if body.startswith("min:"):
            objective = {int(j): int(a) for a, j in _TERM.findall(body[4:])}
            continue
        op = ">=" if ">=" in body else "=" if "=" in body else None
        if op is None:
            raise InputError(f"OPB constraint without >= or =: {raw!r}")
        lhs, rhs = body.split(op)
        terms: dict[int, int] = {}
        for a, j in _TERM.findall(lhs):
            terms[int(j)] = terms.get(int(j), 0) + int(a)
        constraints.append((terms, op, int(rhs)))
    return OPBModel(n_vars, objective, constraints, comments)


def opb_header_values(model: OPBModel) -> tuple[float, int]:
    """``(offset, scale)`` from :func:`write_opb`'s header: (10) = offset − V/scale."""
    for line in model.comments:
        found = re.search(r"offset=\s*(\S+)\s+scale=\s*(\d+)", line)
        if found:
            return float(found.group(1)), int(found.group(2))
    raise InputError("the OPB file has no 'offset= … scale= …' header comment")
