"""Input checks on the data matrices of the unsupervised families: one clear InputError each.
Not a formulation module (leading underscore): the registry does not import it."""
from __future__ import annotations

import numpy as np

from ..errors import InputError


def real_matrix(X, *, rows: str, at_least_two: str) -> np.ndarray:
    """``X`` as a finite float matrix with at least 2 rows (``rows`` names them in the message;
    ``at_least_two`` is the error when there is only one)."""
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise InputError(f"X must be a non-empty 2-D array (n {rows} × d features); got shape {X.shape}")
    if not np.issubdtype(X.dtype, np.number) or np.iscomplexobj(X):
        raise InputError("X must be a real numeric array")
    X = X.astype(float)
    if not np.all(np.isfinite(X)):
        raise InputError(f"X contains {int(np.sum(~np.isfinite(X)))} NaN or infinite value(s); clean or impute them")
    if X.shape[0] < 2:
        raise InputError(at_least_two)
    return X
