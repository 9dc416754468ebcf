"""Facts of and changes to a built Pyomo model that every Pyomo solver needs: its size, and a
warm start set from named arrays."""
from __future__ import annotations

import numpy as np

from ..errors import InputError


def model_size(model) -> tuple[int, int]:
    """(active variables, active constraints) of a Pyomo model."""
    import pyomo.environ as pyo

    n_vars = sum(1 for _ in model.component_data_objects(pyo.Var, active=True))
    n_cons = sum(1 for _ in model.component_data_objects(pyo.Constraint, active=True))
    return n_vars, n_cons


def set_start(model, start: dict[str, np.ndarray]) -> None:
    """Give the model's indexed variables the starting values of ``start`` (by name)."""
    import pyomo.environ as pyo

    for name, values in start.items():
        component = model.component(name)
        if not isinstance(component, pyo.Var):
            raise InputError(f"warm start names {name!r}, which is not a variable of the model")
        if len(values) != len(component):
            raise InputError(f"warm start {name!r} has {len(values)} values; the model has {len(component)}")
        for index, value in zip(component, values):
            component[index].set_value(float(value), skip_validation=True)
