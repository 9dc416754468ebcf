"""Binarized real data for optimal classification trees (FORMULATIONS.md §2; tutorial §2.2.1, §5).

Trees on binary features (formulation (12)) need every column to be 0/1. :func:`binarize`
turns a table into such columns:

* a numeric column x becomes threshold indicators ``x<=q`` (1 when x ≤ q) at the data's
  quantiles ``quantiles`` (default 0.25, 0.5, 0.75), taken as data values (``method="lower"``,
  no interpolation, so the thresholds are exact and platform-independent);
* a categorical column becomes one indicator ``col=level`` per level (sorted as strings; a
  two-level column gives one indicator, of its second level; with ``max_levels`` only the
  most frequent levels get one — ties by name — and the others are all-zero);
* constant columns, duplicates and exact complements of an earlier column are dropped (a
  split on 1 − x is the split on x with its children swapped).

Loaders (each registered under its name, each reads the raw files of ``$MIOBENCH_DATA_DIR``
through the checksum-verified readers of :mod:`.classification` and :mod:`.regression`):

* ``trees_compas`` — y = 1: recidivism within two years (unfavourable); group = 1:
  African-American; stratum = 1: felony charge.
* ``trees_adult`` — y = 1: income > 50K (favourable); group = 1: female; stratum = 1:
  education-num ≥ 13.
* ``trees_german`` — y = 1: good credit (favourable); group = 1: female (attribute 9);
  stratum = 1: employed for at least four years.
* ``trees_communities`` — y = 1: violent crime in the top quartile (unfavourable; the
  quartile of all 1993 rows); group = 1: non-white majority (racePctWhite < 0.5 on UCI's
  normalised scale); stratum = 1: pctUrban ≥ 0.5.

For COMPAS and Communities and Crime class 1 is the *unfavourable* outcome: fairness runs
there take ``favourable_class=0``. The attribute that defines ``group`` is never a feature.
Features per data set are listed in each loader (chosen to keep p ≤ 30 binary columns).

``n`` and ``seed`` draw a fixed subsample (without replacement, rows kept in file order, a
seeded ``numpy.random.Generator``) *before* the thresholds are computed, so the quantiles are
the subsample's. Every loader returns ``X`` (n×p float 0/1), ``y`` (int64), ``feature_names``
(unicode array: a tree prints in these names, see
:func:`reference_impl.formulations.trees.tree_text`), ``class_names``, ``group`` (int64 0/1),
``group_names``, ``group_attribute``, ``stratum`` (int64 0/1) and ``stratum_attribute``.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ...errors import InputError
from . import register_loader

DEFAULT_QUANTILES = (0.25, 0.5, 0.75)


def binarize(frame, numeric: Sequence[str], categorical: Sequence[str], *,
             quantiles: Sequence[float] = DEFAULT_QUANTILES, max_levels: int | None = None) -> tuple[np.ndarray, list[str]]:
    """Binary columns of ``frame`` as described in the module docstring: ``(X, names)``, X as
    float 0/1."""
    quantiles = [float(q) for q in quantiles]
    if not quantiles or any(not 0.0 <= q <= 1.0 for q in quantiles):
        raise InputError(f"quantiles must be numbers in [0, 1]; got {quantiles}")
    if max_levels is not None and max_levels < 1:
        raise InputError(f"max_levels must be at least 1; got {max_levels}")
    columns: list[np.ndarray] = []
    names: list[str] = []
    for name in numeric:
        values = frame[name].to_numpy(dtype=float)
        if not np.all(np.isfinite(values)):
            raise InputError(f"numeric column {name!r} has missing values; drop or impute them first")
        for q in sorted(set(np.quantile(values, quantiles, method="lower").tolist())):
            columns.append((values <= q).astype(float))
            names.append(f"{name}<={q:g}")
    for name in categorical:
        raw = frame[name].astype(str).to_numpy()
        levels, counts = np.unique(raw, return_counts=True)
        levels = levels.tolist()
        if len(levels) == 2:
            chosen = levels[1:]
        else:
            order = sorted(range(len(levels)), key=lambda i: (-int(counts[i]), levels[i]))
            chosen = sorted(levels[i] for i in (order if max_levels is None else order[:max_levels]))
        for level in chosen:
            columns.append((raw == level).astype(float))
            names.append(f"{name}={level}")
    keep, seen = [], set()
    for j, column in enumerate(columns):
        if np.all(column == column[0]):
            continue
        key, complement = column.tobytes(), (1.0 - column).tobytes()
        if key in seen or complement in seen:
            continue
        seen.add(key)
        keep.append(j)
    if not keep:
        raise InputError("every binarized column is constant; the subsample is too small")
    return np.column_stack([columns[j] for j in keep]), [names[j] for j in keep]


def subsample(frame, n: int | None, seed: int):
    """A fixed subsample of ``n`` rows (all rows when ``n`` is None or ≥ the table), in file order."""
    if n is None or n >= len(frame):
        return frame.reset_index(drop=True)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise InputError(f"subsample size n must be an integer >= 2; got {n!r}")
    rows = np.sort(np.random.default_rng(seed).choice(len(frame), size=int(n), replace=False))
    return frame.iloc[rows].reset_index(drop=True)


def _arrays(frame, numeric, categorical, target: np.ndarray, class_names: Sequence[str], group: np.ndarray,
            group_names: Sequence[str], group_attribute: str, stratum: np.ndarray, stratum_attribute: str, *,
            quantiles, max_levels) -> dict[str, np.ndarray]:
    X, names = binarize(frame, numeric, categorical, quantiles=quantiles, max_levels=max_levels)
    return {"X": X, "y": np.asarray(target, dtype=np.int64), "feature_names": np.array(names, dtype=str),
            "class_names": np.array(list(class_names), dtype=str),
            "group": np.asarray(group, dtype=np.int64), "group_names": np.array(list(group_names), dtype=str),
            "group_attribute": np.array([group_attribute], dtype=str),
            "stratum": np.asarray(stratum, dtype=np.int64), "stratum_attribute": np.array([stratum_attribute], dtype=str)}


#: COMPAS features (race defines the group and is not one)
TREES_COMPAS_NUMERIC = ("age", "priors_count", "juv_fel_count", "juv_misd_count", "juv_other_count")
TREES_COMPAS_CATEGORICAL = ("c_charge_degree", "sex")


@register_loader("trees_compas")
def load_trees_compas(n: int | None = 300, seed: int = 0, quantiles: Sequence[float] = DEFAULT_QUANTILES,
                      max_levels: int | None = None) -> dict[str, np.ndarray]:
    """COMPAS two-year recidivism (ProPublica's filter, 6172 rows), binarized: age, priors and
    the juvenile counts at their quantiles, charge degree, sex. y = 1 if the defendant
    recidivated within two years (unfavourable); group = 1 for African-American defendants;
    stratum = 1 for a felony charge."""
    from .classification import compas_frame

    frame = subsample(compas_frame(), n, seed)
    return _arrays(frame, TREES_COMPAS_NUMERIC, TREES_COMPAS_CATEGORICAL, frame["two_year_recid"].to_numpy() == 1,
                   ("no recidivism", "recidivism"), frame["race"].to_numpy() == "African-American",
                   ("other", "African-American"), "race", frame["c_charge_degree"].to_numpy() == "F",
                   "c_charge_degree=F", quantiles=quantiles, max_levels=max_levels)


TREES_ADULT_NUMERIC = ("age", "education-num", "hours-per-week", "capital-gain", "capital-loss")
TREES_ADULT_CATEGORICAL = ("workclass", "marital-status", "relationship", "race")


@register_loader("trees_adult")
def load_trees_adult(n: int | None = 300, seed: int = 0, quantiles: Sequence[float] = DEFAULT_QUANTILES,
                     max_levels: int | None = 4, split: str = "train") -> dict[str, np.ndarray]:
    """Adult / Census Income (UCI 2), complete rows, binarized: age, education-num,
    hours-per-week, capital gain and loss at their quantiles; workclass, marital status,
    relationship and race one-hot (the ``max_levels`` = 4 most frequent levels each). y = 1 for
    income > 50K (favourable); group = 1 for women (sex is not a feature); stratum = 1 for
    education-num ≥ 13 (a bachelor's degree or more)."""
    from .classification import adult_frame

    frame = subsample(adult_frame(split), n, seed)
    return _arrays(frame, TREES_ADULT_NUMERIC, TREES_ADULT_CATEGORICAL, frame["income"].to_numpy() == ">50K",
                   ("<=50K", ">50K"), frame["sex"].to_numpy() == "Female", ("Male", "Female"), "sex",
                   frame["education-num"].to_numpy() >= 13, "education-num>=13", quantiles=quantiles,
                   max_levels=max_levels)


TREES_GERMAN_NUMERIC = ("duration", "credit_amount", "age", "installment_rate")
TREES_GERMAN_CATEGORICAL = ("checking_status", "credit_history", "savings", "housing", "employment")
#: attribute 7 (present employment since) codes for at least four years
GERMAN_LONG_EMPLOYMENT = ("A74", "A75")


@register_loader("trees_german")
def load_trees_german(n: int | None = 300, seed: int = 0, quantiles: Sequence[float] = DEFAULT_QUANTILES,
                      max_levels: int | None = 3) -> dict[str, np.ndarray]:
    """German credit (UCI 144), binarized: duration, credit amount, age and installment rate
    at their quantiles; checking account, credit history, savings, housing and employment
    one-hot (the ``max_levels`` = 3 most frequent levels each; codes as in german.doc). y = 1
    for good credit (favourable); group = 1 for women (from attribute 9, which is not a
    feature); stratum = 1 when employed for at least four years (A74, A75)."""
    from .classification import german_frame

    frame = subsample(german_frame(), n, seed)
    return _arrays(frame, TREES_GERMAN_NUMERIC, TREES_GERMAN_CATEGORICAL, frame["label"].to_numpy() == 1,
                   ("bad credit", "good credit"), frame["sex"].to_numpy() == "female", ("male", "female"), "sex",
                   frame["employment"].isin(GERMAN_LONG_EMPLOYMENT).to_numpy(), "employment>=4y",
                   quantiles=quantiles, max_levels=max_levels)


TREES_COMMUNITIES_NUMERIC = ("PctKids2Par", "PctIlleg", "PctPopUnderPov", "PctUnemployed", "medIncome",
                             "PctPersDenseHous", "pctWPubAsst", "HousVacant")


@register_loader("trees_communities")
def load_trees_communities(n: int | None = 300, seed: int = 0, quantiles: Sequence[float] = DEFAULT_QUANTILES,
                           max_levels: int | None = None) -> dict[str, np.ndarray]:
    """Communities and Crime (UCI 183), cleaned as the regression loader does (non-predictive
    and mostly-missing columns dropped, then the row with a missing value: 1993 rows). y = 1
    when ``ViolentCrimesPerPop`` exceeds its 75th percentile over all 1993 rows (the top
    quartile; unfavourable); group = 1 for a non-white majority (``racePctWhite`` < 0.5 — UCI
    normalised every column to [0, 1], so this is the midpoint of the normalised range, not an
    exact 50 %); stratum = 1 for ``pctUrban`` ≥ 0.5. Features: eight socio-economic columns
    (``TREES_COMMUNITIES_NUMERIC``) at their quantiles; no race column is a feature."""
    from .regression import COMMUNITIES_NON_PREDICTIVE, communities_frame

    frame = communities_frame().drop(columns=list(COMMUNITIES_NON_PREDICTIVE))
    mostly_missing = [c for c in frame.columns if frame[c].isna().mean() > 0.5]
    frame = frame.drop(columns=mostly_missing).dropna(axis=0).reset_index(drop=True)
    cut = float(np.quantile(frame["ViolentCrimesPerPop"].to_numpy(dtype=float), 0.75, method="lower"))
    frame = subsample(frame, n, seed)
    return _arrays(frame, TREES_COMMUNITIES_NUMERIC, (), frame["ViolentCrimesPerPop"].to_numpy(dtype=float) > cut,
                   ("not top quartile", "top-quartile violent crime"),
                   frame["racePctWhite"].to_numpy(dtype=float) < 0.5, ("white majority", "non-white majority"),
                   "racePctWhite<0.5", frame["pctUrban"].to_numpy(dtype=float) >= 0.5, "pctUrban>=0.5",
                   quantiles=quantiles, max_levels=max_levels)
