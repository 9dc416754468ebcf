"""Take any model to any solver: export a formulation's Pyomo model as a standard file, and read
a solver's solution file back through the formulation's own extractor and evaluator.

:func:`export_model` writes MPS, LP, NL or GAMS (Pyomo's writers, symbolic labels) or OPB (the
pseudo-Boolean format, :mod:`reference_impl.formulations._opb`) and, beside it, a JSON sidecar
``PATH.json``: the formulation, instance (id and sha256), the validated hyperparameters, the
model's size and structure, and the map exported variable name -> (Pyomo component, index).

:func:`import_solution` rebuilds the same model, assigns the values of a ``name value`` solution
file (SCIP's ``write solution``, Gurobi's ``.sol``, MIPLIB ``.sol``) to its variables, and
returns what the formulation's evaluator finds: objective, feasibility, largest violation.

What each format can hold (checked against Pyomo 6.10's writers, :data:`FORMATS`):

======  ===========================================================================
mps     linear or quadratic objective, linear or quadratic constraints (QUADOBJ,
        QCMATRIX): LP, MILP, MIQP, MISOCP written as quadratic constraints
lp      the same classes as MPS (CPLEX LP; quadratic terms as ``[ ... ]``). SCIP's LP
        reader does not parse Pyomo's ``x ^ 2``: give SCIP the MPS or NL file of a
        quadratic model
nl      everything (AMPL NL; nonlinear functions such as log, exp): any class
gms     everything the GAMS language holds: any class (GAMS reads it; SCIP does not)
opb     pure 0-1 models only: every variable binary, linear objective and constraints,
        integral constraint coefficients (the objective is scaled to integers)
======  ===========================================================================

A formulation solved by a loop of models (``MILP loop``) has no one model to export.
"""
from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
import weakref
from fractions import Fraction
from pathlib import Path
from typing import Any

from .errors import InputError

#: format -> (file extension, what it holds, structures it cannot hold)
FORMATS: dict[str, dict[str, Any]] = {
    "mps": {"suffix": ".mps", "holds": "linear or quadratic objective and constraints",
            "rejects": ("nonlinear",)},
    "lp": {"suffix": ".lp", "holds": "linear or quadratic objective and constraints", "rejects": ("nonlinear",)},
    "nl": {"suffix": ".nl", "holds": "any objective and constraints (nonlinear included)", "rejects": ()},
    "gms": {"suffix": ".gms", "holds": "any objective and constraints (nonlinear included)", "rejects": ()},
    "opb": {"suffix": ".opb", "holds": "binary variables with linear objective and constraints",
            "rejects": ("quadratic", "nonlinear", "continuous", "general integer")},
}

#: names that solver files add and that are not model variables: Pyomo's LP/MPS writers' constant
#: variable, its GAMS writer's objective variable, SCIP's readers' auxiliary objective variables
AUXILIARY_NAMES = frozenset({"ONE_VAR_CONSTANT", "GAMS_OBJECTIVE", "qmatrixvar", "quadobjvar", "nlobjvar"})

#: problem classes of one Pyomo model, which some format holds (base.PROBLEM_CLASSES less the loops)
EXPORTABLE_CLASSES = ("LP", "MILP", "MIQP", "MISOCP", "MINLP")

#: largest denominator used to scale an OPB objective to integer coefficients
MAX_OPB_SCALE = 10**9


# -- shared -----------------------------------------------------------------------------
def _prepared(formulation_id: str, instance: Any, params: dict[str, Any] | None):
    from .instances import resolve_instance
    from .registry import get_formulation

    if not isinstance(formulation_id, str):
        raise InputError(f"formulation_id must be a formulation id string (see `miobench list`); got {formulation_id!r}")
    if params is not None and not isinstance(params, dict):
        raise InputError(f"params must be a dict of hyperparameters; got {type(params).__name__}")
    formulation = get_formulation(formulation_id)
    inst = resolve_instance(instance)
    checked = formulation.validate(inst, dict(params or {}))
    problem_class = formulation.problem_class_for(checked)
    if problem_class == "MILP loop":
        raise InputError(f"{formulation.id} is solved by a loop of MILPs (class MILP loop: cutting planes), not one "
                         "model, so there is no model to export; export a one-model formulation of the same problem instead "
                         "(e.g. risk_score.pwl or risk_score.minlp)")
    if problem_class not in EXPORTABLE_CLASSES:
        raise InputError(f"{formulation.id} builds a {problem_class} model, which none of the formats "
                         f"({', '.join(FORMATS)}) holds; exportable classes: {', '.join(EXPORTABLE_CLASSES)}")
    return formulation, inst, checked, problem_class


def _built(formulation, inst, checked: dict[str, Any]):
    """The formulation's Pyomo model; a formulation whose model is not a Pyomo model (e.g. a cvxpy
    problem) cannot be written by Pyomo's writers: an :class:`InputError`."""
    import pyomo.environ as pyo

    model = formulation.build(inst, checked)
    if not isinstance(model, pyo.Block):
        raise InputError(f"{formulation.id} builds a {type(model).__name__}, not a Pyomo model: there is no file "
                         "export for it")
    return model


def _jsonable(value: Any) -> Any:
    """Hyperparameters and indices as JSON values (numpy -> Python, tuples -> lists, others -> str)."""
    import numpy as np

    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, np.ndarray):
        return [_jsonable(v) for v in value.tolist()]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def _var_ref(var) -> list:
    """A variable as the sidecar names it: [component name, index as a JSON value] (survives a rebuild)."""
    return [var.parent_component().name, _jsonable(var.index())]


def _var_key(var) -> tuple[str, str]:
    """A hashable form of :func:`_var_ref`: (component name, JSON text of its index)."""
    return var.parent_component().name, json.dumps(_jsonable(var.index()))


def _active_vars(model) -> list:
    """The unfixed variables that active constraints and the active objective use, in model order."""
    import pyomo.environ as pyo
    from pyomo.core.expr.visitor import identify_variables

    used: dict[int, Any] = {}
    for comp in (*model.component_data_objects(pyo.Objective, active=True, descend_into=True),
                 *model.component_data_objects(pyo.Constraint, active=True, descend_into=True)):
        expr = comp.expr if comp.ctype is pyo.Objective else comp.body
        for var in identify_variables(expr, include_fixed=False):
            used.setdefault(id(var), var)
    return [v for v in model.component_data_objects(pyo.Var, descend_into=True) if id(v) in used]


def model_structure(model) -> dict[str, Any]:
    """Size and structure of a Pyomo model: variables used (binary, general integer, continuous),
    active constraints, linear matrix nonzeros, quadratic and nonlinear parts."""
    import pyomo.environ as pyo
    from pyomo.repn import generate_standard_repn

    variables = _active_vars(model)
    n_binary = sum(1 for v in variables if v.is_binary())
    n_integer = sum(1 for v in variables if v.is_integer() and not v.is_binary())
    objectives = list(model.component_data_objects(pyo.Objective, active=True, descend_into=True))
    if len(objectives) != 1:
        raise InputError(f"the model has {len(objectives)} active objectives; a file holds exactly one")
    kinds = {"objective": "linear", "constraints": "linear"}
    nonzeros = quadratic_terms = quadratic_constraints = nonlinear_constraints = n_cons = 0
    order = ("linear", "quadratic", "nonlinear")

    def kind_of(repn) -> str:
        if repn.nonlinear_expr is not None:
            return "nonlinear"
        return "quadratic" if len(repn.quadratic_vars) else "linear"

    repn = generate_standard_repn(objectives[0].expr, quadratic=True, compute_values=True)
    kinds["objective"] = kind_of(repn)
    quadratic_terms += len(repn.quadratic_vars)
    for con in model.component_data_objects(pyo.Constraint, active=True, descend_into=True):
        n_cons += 1
        repn = generate_standard_repn(con.body, quadratic=True, compute_values=True)
        nonzeros += len(repn.linear_vars)
        quadratic_terms += len(repn.quadratic_vars)
        kind = kind_of(repn)
        quadratic_constraints += kind == "quadratic"
        nonlinear_constraints += kind == "nonlinear"
        if order.index(kind) > order.index(kinds["constraints"]):
            kinds["constraints"] = kind
    discrete = n_binary + n_integer > 0
    worst = max(kinds.values(), key=order.index)
    if worst == "nonlinear":
        detected = "MINLP" if discrete else "NLP"
    elif kinds["constraints"] == "quadratic":
        detected = "MIQCP" if discrete else "QCP"
    elif kinds["objective"] == "quadratic":
        detected = "MIQP" if discrete else "QP"
    else:
        detected = "MILP" if discrete else "LP"
    return {
        "n_vars": len(variables), "n_cons": n_cons, "n_binary": n_binary, "n_integer": n_integer,
        "n_continuous": len(variables) - n_binary - n_integer, "nonzeros": nonzeros, "quadratic_terms": quadratic_terms,
        "quadratic_constraints": quadratic_constraints, "nonlinear_constraints": nonlinear_constraints,
        "objective": kinds["objective"], "constraints": kinds["constraints"], "detected_class": detected,
        "sense": "max" if objectives[0].sense == pyo.maximize else "min",
    }


def _check_format(fmt: str, structure: dict[str, Any], formulation_id: str, problem_class: str) -> None:
    worst = max((structure["objective"], structure["constraints"]), key=("linear", "quadratic", "nonlinear").index)
    what = f"{formulation_id} builds a {problem_class} model (detected: {structure['detected_class']})"
    if fmt in ("mps", "lp") and worst == "nonlinear":
        raise InputError(f"format {fmt} cannot hold nonlinear expressions: {what} with a nonlinear "
                         f"{'objective' if structure['objective'] == 'nonlinear' else 'constraint'}; use nl or gms")
    if fmt == "opb":
        if worst != "linear":
            raise InputError(f"format opb holds linear 0-1 models only: {what} with {worst} terms; use nl, mps or lp")
        if structure["n_continuous"] or structure["n_integer"]:
            raise InputError(f"format opb holds pure 0-1 models only: {what} with {structure['n_continuous']} "
                             f"continuous and {structure['n_integer']} general integer variable(s); use mps, lp or nl")


def _checked_format(fmt: str | None, path: Path) -> str:
    if fmt is None:
        fmt = next((name for name, spec in FORMATS.items() if spec["suffix"] == path.suffix.lower()), None)
        if fmt is None:
            raise InputError(f"cannot tell the format from {path.name!r}; give one of {', '.join(FORMATS)} "
                             "(or an --out path ending in .mps, .lp, .nl, .gms or .opb)")
    if not isinstance(fmt, str) or fmt.lower() not in FORMATS:
        raise InputError(f"unknown export format {fmt!r}; known: {', '.join(FORMATS)}")
    fmt = fmt.lower()
    if path.suffix.lower() != FORMATS[fmt]["suffix"]:
        raise InputError(f"the {fmt} file must be named *{FORMATS[fmt]['suffix']} (solvers choose their reader "
                         f"by the extension); got {path.name!r}")
    return fmt


def _deref(obj):
    return obj() if isinstance(obj, weakref.ReferenceType) else obj


# -- export -----------------------------------------------------------------------------
def export_model(formulation_id: str, instance: Any, params: dict[str, Any] | None, fmt: str | None,
                 path: str | os.PathLike) -> dict[str, Any]:
    """Write ``formulation_id`` on ``instance`` with ``params`` to ``path`` in format ``fmt`` (mps, lp,
    nl, gms, opb; ``None``: from the extension) and a JSON sidecar ``path + ".json"``.

    Returns the metadata written to the sidecar (less the variable map): problem class,
    ``n_vars``, ``n_cons``, ``n_integer``, ``n_binary``, ``nonzeros``, structure, the files
    written and ``symbol_map`` (the sidecar's path). A format that cannot hold the model, or a
    path that cannot be written, is an :class:`InputError`; nothing is left behind then.
    """
    import pyomo

    from . import __version__

    if not isinstance(path, (str, os.PathLike)):
        raise InputError(f"path must be a file path; got {path!r}")
    path = Path(path)
    fmt = _checked_format(fmt, path)
    if path.exists() and path.is_dir():
        raise InputError(f"{path} is a folder; give a file path")
    if not path.parent.is_dir():
        raise InputError(f"folder {path.parent} does not exist")
    if not os.access(path.parent, os.W_OK | os.X_OK):
        raise InputError(f"folder {path.parent} is not writable")
    formulation, inst, checked, problem_class = _prepared(formulation_id, instance, params)
    model = _built(formulation, inst, checked)
    structure = model_structure(model)
    _check_format(fmt, structure, formulation.id, problem_class)
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".miobench-export-") as tmp:
        target = Path(tmp) / f"model{FORMATS[fmt]['suffix']}"
        if fmt == "opb":
            names, objective_map = _write_opb(model, target, formulation.id, inst.id)
        else:
            names, objective_map = _write_pyomo(model, target, fmt, formulation.id)
        written = [path]
        shutil.move(str(target), path)
        for extra in (".row", ".col"):  # the NL writer's name files: solvers read names from them
            side = target.with_suffix(extra)
            if side.exists():
                written.append(path.with_suffix(extra))
                shutil.move(str(side), written[-1])
    sidecar = Path(f"{path}.json")
    meta: dict[str, Any] = {
        "format": fmt, "path": str(path), "files": [str(p) for p in written], "symbol_map": str(sidecar),
        "formulation": formulation.id, "instance": inst.id, "instance_sha256": inst.sha256,
        "params": _jsonable(checked), "problem_class": problem_class, **structure,
        "objective_map": objective_map, "missing_values": "0 (MIPLIB convention)",
        "pyomo_version": pyomo.version.version, "miobench_version": __version__,
    }
    sidecar.write_text(json.dumps({**meta, "variables": names}, indent=1, allow_nan=False) + "\n")
    return meta


def _write_pyomo(model, target: Path, fmt: str, formulation_id: str) -> tuple[dict[str, list], dict[str, Any]]:
    """Pyomo's writer; returns exported name -> [component, index] and how the file's objective maps back."""
    import logging

    import pyomo.environ as pyo
    from pyomo.opt import ProblemFormat

    problem_format = {"mps": ProblemFormat.mps, "lp": ProblemFormat.cpxlp, "nl": ProblemFormat.nl,
                      "gms": ProblemFormat.gams}[fmt]
    logger = logging.getLogger("pyomo.core")
    level = logger.level
    logger.setLevel(logging.CRITICAL)  # a failing writer logs the expression it choked on, then raises
    try:
        _, symbol_map_id = model.write(str(target), format=problem_format, io_options={"symbolic_solver_labels": True})
    except (ValueError, RuntimeError, TypeError, KeyError) as exc:  # writers raise these for what they cannot hold
        raise InputError(f"Pyomo's {fmt} writer cannot write {formulation_id}: {' '.join(str(exc).split())}") from None
    finally:
        logger.setLevel(level)
    symbol_map = model.solutions.symbol_map[symbol_map_id]
    col_names: list[str] = []
    if fmt == "nl" and target.with_suffix(".col").exists():  # names solvers take from the .col file, in v-order
        col_names = target.with_suffix(".col").read_text().splitlines()
    names: dict[str, list] = {}
    for symbol, obj in symbol_map.bySymbol.items():
        var = _deref(obj)
        if var is None or var.ctype is not pyo.Var or var.model() is not model:  # e.g. the LP writer's ONE_VAR_CONSTANT
            continue
        if fmt == "nl" and symbol.startswith("v") and symbol[1:].isdigit() and int(symbol[1:]) < len(col_names):
            symbol = col_names[int(symbol[1:])]
        names[symbol] = _var_ref(var)
    objective = next(model.component_data_objects(pyo.Objective, active=True, descend_into=True))
    sense = "max" if objective.sense == pyo.maximize else "min"
    return names, {"sense": sense, "offset": 0.0, "scale": 1, "note": "the file's objective is the model's"}


def _write_opb(model, target: Path, formulation_id: str, instance_id: str) -> tuple[dict[str, list], dict[str, Any]]:
    """OPB through :func:`~reference_impl.formulations._opb.model_to_opb`, the objective scaled to integers."""
    import pyomo.environ as pyo
    from pyomo.repn import generate_standard_repn

    from .formulations._opb import model_to_opb

    objective = next(model.component_data_objects(pyo.Objective, active=True, descend_into=True))
    repn = generate_standard_repn(objective.expr, compute_values=True)
    scale = 1
    for coef in repn.linear_coefs:
        scale = math.lcm(scale, Fraction(float(coef)).limit_denominator(10**6).denominator)
        if scale > MAX_OPB_SCALE:
            break
    bad = [c for c in repn.linear_coefs if abs(float(c) * scale - round(float(c) * scale)) > 1e-9 * max(1.0, abs(c) * scale)]
    if scale > MAX_OPB_SCALE or bad:
        raise InputError(f"format opb needs integer objective coefficients: no scale up to {MAX_OPB_SCALE:g} makes "
                         f"{formulation_id}'s objective integral; use mps, lp or nl")
    sign = -1 if objective.sense == pyo.maximize else 1
    offset_seen: list[float] = []

    def comments(offset: float) -> list[str]:
        offset_seen.append(offset)
        verb = "maximised" if sign < 0 else "minimised"
        return [f"* {formulation_id} on instance {instance_id}, exported by miobench",
                f"* model objective ({verb}) = offset {'-' if sign < 0 else '+'} V / scale with offset= "
                f"{offset:.17g} scale= {scale}"]

    target.write_text(model_to_opb(model, scale=scale, comments=comments))
    variables = list(model.component_data_objects(pyo.Var, descend_into=True))  # model_to_opb's x1, x2, ... order
    names = {f"x{j + 1}": _var_ref(var) for j, var in enumerate(variables)}  # fixed ones too: the file lists them
    return names, {"sense": "max" if sign < 0 else "min", "offset": offset_seen[0] if offset_seen else 0.0,
                   "scale": scale, "sign": sign, "note": "model objective = offset + sign * V / scale"}


# -- import -----------------------------------------------------------------------------
def read_solution(sol_path: str | os.PathLike) -> tuple[dict[str, float], dict[str, Any]]:
    """Parse a ``name value`` solution file: SCIP's ``write solution`` (``solution status:`` and
    ``objective value:`` headers, a trailing ``(obj:c)``), Gurobi's ``.sol`` (``#`` comments),
    MIPLIB ``.sol`` (``=obj=`` line). Returns (values by name, header facts)."""
    if not isinstance(sol_path, (str, os.PathLike)):
        raise InputError(f"the solution must be a file path; got {sol_path!r}")
    path = Path(sol_path)
    if not path.is_file():
        raise InputError(f"solution file {path} does not exist")
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read solution file {path}: {exc}") from None
    values: dict[str, float] = {}
    header: dict[str, Any] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            if "objective value" in line.lower() and "=" in line:
                header.setdefault("objective", _float(line.split("=", 1)[1].split()[0], path, number))
            continue
        lowered = line.lower()
        if lowered.startswith("<?xml"):
            raise InputError(f"{path} is an XML solution (CPLEX); give a 'name value' solution file")
        if lowered.startswith("solution status"):
            header["status"] = line.split(":", 1)[1].strip() if ":" in line else ""
            continue
        if lowered.startswith("objective value"):
            header["objective"] = _float(line.split(":", 1)[1].split()[0], path, number) if ":" in line else None
            continue
        if lowered.startswith("no solution"):
            raise InputError(f"{path} holds no solution ({line})")
        tokens = line.split()
        if tokens[0] == "=obj=":
            header["objective"] = _float(tokens[1], path, number) if len(tokens) > 1 else None
            continue
        if tokens[0] == "=infeas=":
            raise InputError(f"{path} says the problem is infeasible (=infeas=): there is no solution to import")
        if len(tokens) < 2:
            raise InputError(f"{path}, line {number}: expected 'name value'; got {raw.strip()!r}")
        value = _float(tokens[1], path, number)
        if tokens[0] in values and values[tokens[0]] != value:
            raise InputError(f"{path} gives variable {tokens[0]} two values ({values[tokens[0]]} and {value})")
        values[tokens[0]] = value
    if "status" in header and "infeasible" in header["status"].lower():
        raise InputError(f"{path} says: solution status: {header['status']}; there is no solution to import")
    if not values and "objective" not in header:
        raise InputError(f"{path} holds no 'name value' lines and no objective: not a solution file")
    return values, header


def _float(text: str, path: Path, number: int) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"{path}, line {number}: {text!r} is not a number") from None
    if not math.isfinite(value):
        raise InputError(f"{path}, line {number}: the value {text} is not finite")
    return value


def _names_from_labels(model) -> dict[str, Any]:
    """Without a sidecar: a variable is known by its Pyomo name and its LP and MPS labels; a label two
    variables share is ambiguous (None)."""
    import pyomo.environ as pyo
    from pyomo.core.base.label import LPFileLabeler, TextLabeler

    lp_label, text_label = LPFileLabeler(), TextLabeler()
    names: dict[str, Any] = {}
    for var in model.component_data_objects(pyo.Var, descend_into=True):
        for label in {var.name, lp_label(var), text_label(var)}:
            names[label] = var if names.get(label, var) is var else None
    return names


def _names_from_sidecar(model, sidecar: dict[str, Any], source: str) -> dict[str, Any]:
    import pyomo.environ as pyo

    by_key = {_var_key(var): var for var in model.component_data_objects(pyo.Var, descend_into=True)}
    names = {}
    for exported, (component, index) in sidecar["variables"].items():
        var = by_key.get((component, json.dumps(index)))
        if var is None:
            raise InputError(f"the symbol map {source} names {component}{index} ({exported}), which the rebuilt model "
                             "does not have: it was exported by another version of the formulation")
        names[exported] = var
    return names


def load_sidecar(path: str | os.PathLike) -> dict[str, Any]:
    """The JSON sidecar :func:`export_model` wrote; one :class:`InputError` if it is not one."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise InputError(f"symbol map {path} does not exist") from None
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read symbol map {path}: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("variables"), dict):
        raise InputError(f"{path} is not a miobench export sidecar (no 'variables' map)")
    return data


def import_solution(formulation_id: str, instance: Any, params: dict[str, Any] | None, sol_path: str | os.PathLike,
                    *, symbol_map: str | os.PathLike | dict[str, Any] | None = None) -> dict[str, Any]:
    """Evaluate a solver's solution file on ``formulation_id`` × ``instance`` × ``params``.

    The model is rebuilt and each ``name value`` line assigned to the variable it names: by the
    export sidecar ``symbol_map`` (a path or its loaded dict) when given, else by the Pyomo name
    or the LP/MPS label of the variable. A variable the file leaves out is 0 (the MIPLIB
    convention; solvers omit zeros); one whose bounds exclude 0 is an error. Solver auxiliaries
    (:data:`AUXILIARY_NAMES`) are ignored. Unknown names, unreadable files, a sidecar of another
    formulation, instance or hyperparameters: :class:`InputError`.

    Returns an Evaluation-like dict: ``objective`` (the evaluator's), ``feasible``,
    ``max_violation``, ``violations``, ``info``, ``model_objective`` (the Pyomo objective at the
    point), ``file_objective`` (the file's header, if any) and counts of what was assigned.
    """
    import pyomo.environ as pyo

    from .formulations.base import FEASIBILITY_TOL

    formulation, inst, checked, problem_class = _prepared(formulation_id, instance, params)
    sidecar, source = None, None
    if isinstance(symbol_map, dict):
        sidecar, source = symbol_map, "given"
        if not isinstance(sidecar.get("variables"), dict):
            raise InputError("the symbol map dict has no 'variables' map")
    elif symbol_map is not None:
        sidecar, source = load_sidecar(symbol_map), str(symbol_map)
    if sidecar is not None:
        _check_sidecar(sidecar, source, formulation.id, inst, checked)
    values, header = read_solution(sol_path)
    model = _built(formulation, inst, checked)
    names = _names_from_sidecar(model, sidecar, source) if sidecar is not None else _names_from_labels(model)
    unknown = sorted(name for name in values if name not in names and name not in AUXILIARY_NAMES)
    if unknown:
        shown = ", ".join(unknown[:5]) + (f" and {len(unknown) - 5} more" if len(unknown) > 5 else "")
        raise InputError(f"the solution names {len(unknown)} variable(s) that {formulation.id} does not have: {shown}"
                         + ("" if sidecar is not None else " (give the export's symbol map for GAMS or OPB names)"))
    ambiguous = sorted(name for name in values if name in names and names[name] is None)
    if ambiguous:
        raise InputError(f"the solution's name(s) {', '.join(ambiguous[:5])} fit more than one variable; give the "
                         "export's symbol map (PATH.json)")
    assigned: dict[int, float] = {}
    for name, value in values.items():
        var = names.get(name)
        if var is None:
            continue
        if id(var) in assigned and assigned[id(var)] != value:
            raise InputError(f"the solution gives {var.name} two values ({assigned[id(var)]} and {value})")
        assigned[id(var)] = value
    used = {id(v) for v in _active_vars(model)}
    free_fixed = sidecar is not None and sidecar.get("format") == "opb"
    set_count = zero_count = 0
    for var in model.component_data_objects(pyo.Var, descend_into=True):
        if var.fixed:  # OPB lists fixed variables as free ones (no row holds them): their values mean nothing
            fixed_at = pyo.value(var)
            if id(var) in assigned and not free_fixed and abs(assigned[id(var)] - fixed_at) > 1e-6 * max(1.0, abs(fixed_at)):
                raise InputError(f"the solution sets {var.name} = {assigned[id(var)]}, but the model fixes it at "
                                 f"{fixed_at}")
            continue
        if id(var) in assigned:
            var.set_value(assigned[id(var)], skip_validation=True)
            set_count += 1
            continue
        lower, upper = var.lb, var.ub
        excludes_zero = (lower is not None and lower > FEASIBILITY_TOL) or (upper is not None and upper < -FEASIBILITY_TOL)
        if id(var) in used and excludes_zero:
            raise InputError(f"the solution leaves out {var.name}, whose bounds [{lower}, {upper}] exclude the "
                             "default 0 (MIPLIB convention: a missing variable is 0); give its value")
        # unused variables (no file holds them) take 0, or the bound nearest to 0
        var.set_value(min(max(0.0, lower if lower is not None else -math.inf), upper if upper is not None else math.inf),
                      skip_validation=True)
        zero_count += id(var) in used
    objective = next(model.component_data_objects(pyo.Objective, active=True, descend_into=True))
    try:
        model_objective = float(pyo.value(objective.expr))
    except (ValueError, ArithmeticError):
        model_objective = math.nan
    solution = formulation.extract(model, inst, checked)
    evaluation = formulation.evaluate(inst, checked, solution)
    return {
        "formulation": formulation.id, "instance": inst.id, "instance_sha256": inst.sha256,
        "params": _jsonable(checked), "problem_class": problem_class, "solution_file": str(sol_path),
        "objective": float(evaluation.objective), "feasible": bool(evaluation.feasible),
        "max_violation": float(evaluation.max_violation), "violations": _jsonable(evaluation.violations),
        "info": _jsonable(evaluation.info), "model_objective": model_objective,
        "file_objective": header.get("objective"), "file_status": header.get("status"),
        "assigned": set_count, "missing_set_to_zero": zero_count,
        "ignored": sorted(name for name in values if name in AUXILIARY_NAMES and name not in names),
        "names_from": "symbol map" if sidecar is not None else "Pyomo names and LP/MPS labels",
    }


def _check_sidecar(sidecar: dict[str, Any], source: str | None, formulation_id: str, inst, checked: dict) -> None:
    if sidecar.get("formulation") not in (None, formulation_id):
        raise InputError(f"the symbol map {source} is of {sidecar['formulation']}, not {formulation_id}")
    if sidecar.get("instance_sha256") not in (None, inst.sha256):
        raise InputError(f"the symbol map {source} is of instance {sidecar.get('instance')} "
                         f"(sha256 {str(sidecar['instance_sha256'])[:12]}...), not {inst.id} "
                         f"(sha256 {inst.sha256[:12]}...)")
    if "params" in sidecar and sidecar["params"] != _jsonable(checked):
        raise InputError(f"the symbol map {source} was exported with hyperparameters {sidecar['params']}, not "
                         f"{_jsonable(checked)}; pass the same --param values")


__all__ = ["FORMATS", "EXPORTABLE_CLASSES", "AUXILIARY_NAMES", "export_model", "import_solution", "read_solution", "load_sidecar",
           "model_structure"]
