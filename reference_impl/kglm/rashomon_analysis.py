"""Analyses of a Rashomon set (:func:`reference_impl.kglm.rashomon.rashomon`): pure functions of
a :class:`~reference_impl.kglm.rashomon.RashomonResult` (and data where they need it), each
returning a pandas DataFrame (the GB paper's Figures 5-9: support frequency, model reliance,
objective versus AUC / accuracy, accuracy versus AUC).

* :func:`support_frequency` - how many models select each feature.
* :func:`model_reliance_table` / :func:`model_reliance` - per model, the increase of the mean
  data-fit loss when one feature's column is permuted (Fisher, Rudin & Dominici 2019, JMLR,
  "All models are wrong, but many are useful": model reliance as a difference); over the set,
  its min / mean / max per feature (the range of the set's reliance on the feature).
* :func:`classification_metrics` - AUC and accuracy of every model (logistic; scikit-learn).
* :func:`regression_metrics` - R² and mean squared error of every model (scikit-learn).
* :func:`pareto_front` - the models not dominated in (objective, secondary measure).
* :func:`coefficient_spread` - min and max of each coefficient over the set.

Models have no intercept (the problem has none): scores are X @ coef.  Logistic labels may be
{-1, +1} or {0, 1}; a prediction is +1 iff its score is > 0.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from .validation import KGLMInputError

__all__ = ["support_frequency", "model_reliance_table", "model_reliance", "classification_metrics",
           "regression_metrics", "pareto_front", "coefficient_spread"]


def _names(result: Any, feature_names: Sequence[str] | None) -> list | None:
    if feature_names is None:
        return None
    names = [str(name) for name in feature_names]
    if len(names) != result.p:
        raise KGLMInputError(f"feature_names has {len(names)} entries, the models have p = {result.p} features")
    return names


def _feature_frame(result: Any, columns: dict, feature_names: Sequence[str] | None) -> pd.DataFrame:
    frame = pd.DataFrame({"feature": np.arange(result.p, dtype=np.int64), **columns})
    names = _names(result, feature_names)
    if names is not None:
        frame.insert(1, "name", names)
    return frame


def _data(result: Any, X: Any, y: Any, *, labels: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(X, y) as float64, shapes checked against the set; ``labels``: y mapped to {-1, +1}."""
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    if X.ndim != 2 or X.shape[1] != result.p:
        raise KGLMInputError(f"X must be a 2-D array with p = {result.p} columns, got shape {X.shape}")
    if y.shape[0] != X.shape[0]:
        raise KGLMInputError(f"shape mismatch: X has {X.shape[0]} rows but y has {y.shape[0]} entries")
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(y))):
        raise KGLMInputError("X and y must be finite")
    if labels:
        vals = set(np.unique(y).tolist())
        if vals <= {0.0, 1.0}:
            y = np.where(y == 0.0, -1.0, 1.0)
        elif not vals <= {-1.0, 1.0}:
            raise KGLMInputError(f"labels must be -1/+1 or 0/1, got {sorted(vals)[:6]}")
        if len(set(np.unique(y).tolist())) < 2:
            raise KGLMInputError("AUC needs both classes in y")
    return X, y


def _mean_loss(loss: str, V: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Mean data-fit loss per row of V (m x n): ½(y - v)² or log(1 + exp(-y v))."""
    if loss == "squared":
        return 0.5 * np.mean((y - V) ** 2, axis=-1)
    if loss == "logistic":
        return np.mean(np.logaddexp(0.0, -y * V), axis=-1)
    raise KGLMInputError(f"model reliance needs the squared or logistic loss, the set has loss {loss!r}")


def support_frequency(result: Any, feature_names: Sequence[str] | None = None) -> pd.DataFrame:
    """Per feature: ``count`` (models whose support holds it) and ``frequency`` (count / models;
    0 for an empty set)."""
    count = np.zeros(result.p, dtype=np.int64)
    for m in result.models:
        count[list(m.support)] += 1
    freq = count / len(result.models) if result.models else np.zeros(result.p)
    return _feature_frame(result, {"count": count, "frequency": freq}, feature_names)


def model_reliance_table(result: Any, X: Any, y: Any, *, seed: int = 0, n_repeats: int = 1) -> pd.DataFrame:
    """Model reliance of every model (rows, by rank) on every feature (columns 0..p-1): the mean
    data-fit loss with column j permuted minus the mean loss on the data as given, averaged
    over ``n_repeats`` permutations.  The permutations come from ``numpy.random.default_rng(seed)``,
    one per (repeat, feature), shared by all models (common random numbers: the models are
    compared on the same shuffles).  A feature outside a model's support (or with a zero
    coefficient) has reliance exactly 0.  The ridge term does not depend on the data and
    cancels."""
    if isinstance(n_repeats, bool) or not isinstance(n_repeats, (int, np.integer)) or n_repeats < 1:
        raise KGLMInputError(f"n_repeats must be an integer >= 1, got {n_repeats!r}")
    X, y = _data(result, X, y, labels=result.loss == "logistic")
    n, p = X.shape
    B = result.coefs  # m x p
    table = np.zeros((len(result.models), p))
    if not result.models:
        return pd.DataFrame(table, columns=list(range(p)))
    V = B @ X.T  # m x n
    base = _mean_loss(result.loss, V, y)
    rng = np.random.default_rng(seed)
    used = np.flatnonzero(np.any(B != 0.0, axis=0))
    for _ in range(int(n_repeats)):
        perms = [rng.permutation(n) for _ in range(p)]  # one per feature, drawn for all: stable
        for j in used:
            delta = X[perms[j], j] - X[:, j]
            table[:, j] += _mean_loss(result.loss, V + np.outer(B[:, j], delta), y) - base
    table /= n_repeats
    frame = pd.DataFrame(table, columns=list(range(p)))
    frame.index.name = "rank"
    return frame


def model_reliance(result: Any, X: Any, y: Any, *, seed: int = 0, n_repeats: int = 1,
                   feature_names: Sequence[str] | None = None) -> pd.DataFrame:
    """Per feature, over the set: ``min``, ``mean`` and ``max`` model reliance (the range of
    reliance on the feature across near-optimal models; NaN for an empty set)."""
    table = model_reliance_table(result, X, y, seed=seed, n_repeats=n_repeats).to_numpy()
    if table.shape[0] == 0:
        nan = np.full(result.p, np.nan)
        cols = {"min": nan, "mean": nan, "max": nan}
    else:
        cols = {"min": table.min(axis=0), "mean": table.mean(axis=0), "max": table.max(axis=0)}
    return _feature_frame(result, cols, feature_names)


def _model_rows(result: Any) -> dict:
    return {"rank": np.arange(len(result.models), dtype=np.int64),
            "objective": result.objectives,
            "support": [list(m.support) for m in result.models]}


def classification_metrics(result: Any, X: Any, y: Any) -> pd.DataFrame:
    """Per model: ``auc`` (ROC AUC of the scores X @ coef) and ``accuracy`` (prediction +1 iff
    score > 0), with rank, objective and support."""
    from sklearn.metrics import accuracy_score, roc_auc_score

    X, y = _data(result, X, y, labels=True)
    S = X @ result.coefs.T  # n x m
    auc = [float(roc_auc_score(y, S[:, i])) for i in range(S.shape[1])]
    acc = [float(accuracy_score(y, np.where(S[:, i] > 0, 1.0, -1.0))) for i in range(S.shape[1])]
    return pd.DataFrame({**_model_rows(result), "auc": np.array(auc, dtype=float),
                         "accuracy": np.array(acc, dtype=float)})


def regression_metrics(result: Any, X: Any, y: Any) -> pd.DataFrame:
    """Per model: ``r2`` (coefficient of determination) and ``mse`` of the predictions X @ coef."""
    from sklearn.metrics import mean_squared_error, r2_score

    X, y = _data(result, X, y)
    P = X @ result.coefs.T
    r2 = [float(r2_score(y, P[:, i])) for i in range(P.shape[1])]
    mse = [float(mean_squared_error(y, P[:, i])) for i in range(P.shape[1])]
    return pd.DataFrame({**_model_rows(result), "r2": np.array(r2, dtype=float), "mse": np.array(mse, dtype=float)})


def pareto_front(frame: pd.DataFrame, secondary: str = "auc", *, objective: str = "objective",
                 maximize: bool = True) -> pd.DataFrame:
    """The rows of ``frame`` not dominated in (``objective``: smaller is better, ``secondary``:
    larger is better, or smaller with ``maximize=False``), in increasing objective order (the
    index is kept).  A row is dominated when another is at least as good in both and strictly
    better in one; rows equal in both are all kept."""
    for column in (objective, secondary):
        if column not in frame.columns:
            raise KGLMInputError(f"pareto_front: no column {column!r} in the frame (columns: {list(frame.columns)})")
    if frame.empty:
        return frame.copy()
    obj = frame[objective].to_numpy(dtype=float)
    sec = frame[secondary].to_numpy(dtype=float)
    if not maximize:
        sec = -sec
    order = np.lexsort((-sec, obj))  # objective ascending, then secondary best first
    keep = []
    best_sec, best_obj = -np.inf, np.nan
    for i in order:
        if sec[i] > best_sec:
            keep.append(i)
            best_sec, best_obj = sec[i], obj[i]
        elif sec[i] == best_sec and obj[i] == best_obj:  # an exact duplicate of a kept row
            keep.append(i)
    return frame.iloc[keep]


def coefficient_spread(result: Any, feature_names: Sequence[str] | None = None) -> pd.DataFrame:
    """Per feature over the set: ``min`` and ``max`` of its coefficient (0 in models that do
    not select it), ``selected`` (models whose support holds it), ``min_selected`` /
    ``max_selected`` over those models only (NaN when none)."""
    B = result.coefs
    m, p = B.shape
    mask = np.zeros((m, p), dtype=bool)
    for i, model in enumerate(result.models):
        mask[i, list(model.support)] = True
    with np.errstate(invalid="ignore"):
        cols = {
            "min": B.min(axis=0) if m else np.full(p, np.nan),
            "max": B.max(axis=0) if m else np.full(p, np.nan),
            "selected": mask.sum(axis=0).astype(np.int64),
            "min_selected": np.where(mask.any(axis=0), np.where(mask, B, np.inf).min(axis=0, initial=np.inf), np.nan),
            "max_selected": np.where(mask.any(axis=0), np.where(mask, B, -np.inf).max(axis=0, initial=-np.inf), np.nan),
        }
    return _feature_frame(result, cols, feature_names)
