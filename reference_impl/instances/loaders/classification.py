"""Binary-classification data (labels ±1): breast cancer (scikit-learn), COMPAS, Adult and
German credit (raw copies under ``$MIOBENCH_DATA_DIR``, sha256 from each ``SOURCE.md``).

Every loader returns ``X`` (n×d float), ``y`` (±1), ``feature_names``, ``x_mean``/``x_scale``
(how each column was standardised; 0/1 for indicator columns) and, except breast cancer
(no protected attribute), ``group`` (integer codes of the protected attribute) with
``group_names`` (``group_names[c]`` is code c's label) and ``group_attribute``.

Two encodings (``encoding=``):

* ``"standard"`` (default): numeric columns standardised (mean 0, unit population standard
  deviation, :func:`~..numerics.standardize_columns`), categorical columns one-hot (one 0/1
  column per level; a two-level column becomes one indicator of its second level).
* ``"binary"``: for risk scores (tutorial (8); Ustun & Rudin 2019 learn scores on binary
  features so that points add up per yes/no question). Numeric columns become threshold
  indicators ``x > q`` at the data's quantiles ``quantiles`` (default 0.25, 0.5, 0.75,
  taken as data values, ``method="lower"``); categoricals are one-hot as above.
Constant and duplicate columns are dropped after encoding.

Optional ``n`` and ``seed`` draw a fixed subsample (without replacement, rows kept in file
order) before encoding, so standardisation refers to the subsample. The protected attribute
is not a feature unless ``include_protected=True``.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ...errors import InputError, IntegrityError
from ..datafiles import DataFile
from ..numerics import standardize_columns
from ..storage import npz_bytes, sha256_bytes
from . import register_loader

DEFAULT_QUANTILES = (0.25, 0.5, 0.75)


# -- encoding ---------------------------------------------------------------------------------
def _subsample(frame, n: int | None, seed: int):
    if n is None or n >= len(frame):
        return frame.reset_index(drop=True)
    if n < 2:
        raise InputError(f"subsample size n must be at least 2; got {n}")
    rows = np.sort(np.random.default_rng(seed).choice(len(frame), size=int(n), replace=False))
    return frame.iloc[rows].reset_index(drop=True)


def encode(frame, numeric: Sequence[str], categorical: Sequence[str], *, encoding: str = "standard",
           quantiles: Sequence[float] = DEFAULT_QUANTILES) -> tuple[np.ndarray, list[str], np.ndarray, np.ndarray]:
    """Encode ``frame``'s columns as described in the module docstring.

    Returns ``(X, names, mean, scale)`` with X = (raw − mean)/scale column-wise for numeric
    columns in the standard encoding (mean 0, scale 1 for indicator columns)."""
    if encoding not in ("standard", "binary"):
        raise InputError(f"encoding must be 'standard' or 'binary'; got {encoding!r}")
    columns: list[np.ndarray] = []
    names: list[str] = []
    means: list[float] = []
    scales: list[float] = []
    for name in numeric:
        values = frame[name].to_numpy(dtype=float)
        if encoding == "standard":
            if np.all(values == values[0]):
                continue
            standardized, mean, scale = standardize_columns(values[:, None])
            columns.append(standardized[:, 0])
            names.append(name)
            means.append(float(mean[0]))
            scales.append(float(scale[0]))
        else:
            for q in sorted(set(np.quantile(values, list(quantiles), method="lower").tolist())):
                columns.append((values > q).astype(float))
                names.append(f"{name}>{q:g}")
                means.append(0.0)
                scales.append(1.0)
    for name in categorical:
        levels = sorted(frame[name].astype(str).unique().tolist())
        raw = frame[name].astype(str).to_numpy()
        for level in levels[1:] if len(levels) == 2 else levels:
            columns.append((raw == level).astype(float))
            names.append(f"{name}={level}")
            means.append(0.0)
            scales.append(1.0)
    keep, seen = [], set()
    for j, column in enumerate(columns):
        key = column.tobytes()
        if np.all(column == column[0]) or key in seen:
            continue
        seen.add(key)
        keep.append(j)
    if not keep:
        raise InputError("every encoded column is constant; the subsample is too small")
    X = np.column_stack([columns[j] for j in keep])
    return X, [names[j] for j in keep], np.array([means[j] for j in keep]), np.array([scales[j] for j in keep])


def _arrays(frame, numeric, categorical, target: np.ndarray, *, encoding, quantiles, group_column=None,
            group_levels=None) -> dict[str, np.ndarray]:
    X, names, mean, scale = encode(frame, numeric, categorical, encoding=encoding, quantiles=quantiles)
    arrays = {"X": X, "y": np.where(target, 1.0, -1.0), "feature_names": np.array(names, dtype=str),
              "x_mean": mean, "x_scale": scale}
    if group_column is not None:
        raw = frame[group_column].astype(str).to_numpy()
        codes = {level: c for c, level in enumerate(group_levels)}
        arrays["group"] = np.array([codes[v] for v in raw], dtype=np.int64)
        arrays["group_names"] = np.array(group_levels, dtype=str)
        arrays["group_attribute"] = np.array([group_column], dtype=str)
    return arrays


def _features(numeric, categorical, protected: Sequence[str], include_protected: bool):
    if include_protected:
        return list(numeric), list(categorical)
    return [c for c in numeric if c not in protected], [c for c in categorical if c not in protected]


# -- breast cancer (scikit-learn) ------------------------------------------------------------
#: sha256 of scikit-learn's raw breast-cancer arrays (X 569×30 then target, via :func:`npz_bytes`).
BREAST_CANCER_RAW_SHA256 = "a48edb5b602868ae99ea03e803daca0847407848e479e21f0167c0b1bf0b0b9c"


@register_loader("breast_cancer")
def load_breast_cancer(encoding: str = "standard", features: Sequence[str] | None = None,
                       quantiles: Sequence[float] = DEFAULT_QUANTILES, n: int | None = None,
                       seed: int = 0) -> dict[str, np.ndarray]:
    """Breast Cancer Wisconsin (Diagnostic) (Street, Wolberg & Mangasarian 1993; UCI 17),
    bundled with scikit-learn: 569 tumours, 30 real features. y = +1 for malignant (the
    event a risk score predicts), −1 for benign. ``features`` restricts to named columns
    (e.g. the ten ``mean ...`` ones); there is no protected attribute."""
    import pandas as pd
    from sklearn.datasets import load_breast_cancer as sk_load

    bunch = sk_load()
    raw_X = np.asarray(bunch.data, dtype=float)
    raw_y = np.asarray(bunch.target, dtype=float)
    digest = sha256_bytes(npz_bytes({"X": raw_X, "y": raw_y}))
    if digest != BREAST_CANCER_RAW_SHA256:
        raise IntegrityError(f"scikit-learn's breast-cancer data have sha256 {digest[:16]}…, expected "
                             f"{BREAST_CANCER_RAW_SHA256[:16]}…; this scikit-learn ships different data.")
    frame = pd.DataFrame(raw_X, columns=list(bunch.feature_names))
    frame["malignant"] = raw_y == 0
    names = list(bunch.feature_names)
    if features is not None:
        unknown = sorted(set(features) - set(names))
        if unknown:
            raise InputError(f"breast_cancer has no feature(s) {unknown}; it has: {', '.join(names)}")
        names = [c for c in names if c in set(features)]
    frame = _subsample(frame, n, seed)
    return _arrays(frame, names, [], frame["malignant"].to_numpy(), encoding=encoding, quantiles=quantiles)


# -- COMPAS -------------------------------------------------------------------------------------
COMPAS = DataFile(
    dataset="COMPAS two-year recidivism (ProPublica)",
    relpath="compas/compas-scores-two-years.csv",
    sha256="c451db85908b2f7fef1d83203bedf6b71ecda0d5af468d82ae62178f91d0cc7d",
    url="https://raw.githubusercontent.com/propublica/compas-analysis/bafff5da3f2e45eca6c2d5055faad269defd135a/"
        "compas-scores-two-years.csv",
    citation="Angwin, Larson, Mattu & Kirchner (2016), 'Machine Bias', ProPublica",
)
COMPAS_NUMERIC = ("age", "priors_count", "juv_fel_count", "juv_misd_count", "juv_other_count")
COMPAS_CATEGORICAL = ("c_charge_degree", "sex", "race")
COMPAS_RACES = ("African-American", "Asian", "Caucasian", "Hispanic", "Native American", "Other")


def compas_frame():
    """ProPublica's filtered COMPAS table (6172 rows): |days_b_screening_arrest| ≤ 30,
    is_recid ≠ −1, c_charge_degree ≠ 'O', score_text ≠ 'N/A' (their analysis notebook)."""
    import pandas as pd

    frame = pd.read_csv(COMPAS.path())
    keep = (
        frame["days_b_screening_arrest"].between(-30, 30)
        & (frame["is_recid"] != -1)
        & (frame["c_charge_degree"] != "O")
        & (frame["score_text"] != "N/A")
        & frame["score_text"].notna()
    )
    return frame[keep].reset_index(drop=True)


@register_loader("compas")
def load_compas(encoding: str = "standard", group_by: str = "race", include_protected: bool = False,
                quantiles: Sequence[float] = DEFAULT_QUANTILES, n: int | None = None,
                seed: int = 0) -> dict[str, np.ndarray]:
    """COMPAS (ProPublica, Broward County 2013–14), after ProPublica's filter; y = +1 if the
    defendant recidivated within two years (``two_year_recid``). Features: age, priors and
    the three juvenile counts, charge degree (F/M), sex, race. ``group`` = race (six codes,
    alphabetical) or sex (``group_by="sex"``); that column is not a feature unless
    ``include_protected``. The COMPAS score itself is never a feature."""
    choices = {"race": list(COMPAS_RACES), "sex": ["Female", "Male"]}
    if group_by not in choices:
        raise InputError(f"group_by must be one of {', '.join(choices)}; got {group_by!r}")
    frame = _subsample(compas_frame(), n, seed)
    numeric, categorical = _features(COMPAS_NUMERIC, COMPAS_CATEGORICAL, [group_by], include_protected)
    return _arrays(frame, numeric, categorical, frame["two_year_recid"].to_numpy() == 1, encoding=encoding,
                   quantiles=quantiles, group_column=group_by, group_levels=choices[group_by])


# -- Adult -------------------------------------------------------------------------------------
ADULT_FILES = {
    "train": DataFile(
        dataset="Adult (UCI 2)", relpath="adult/adult.data",
        sha256="5b00264637dbfec36bdeaab5676b0b309ff9eb788d63554ca0a249491c86603d",
        url="https://archive.ics.uci.edu/ml/machine-learning-databases/adult/adult.data",
        citation="Becker & Kohavi (1996), UCI Machine Learning Repository, doi:10.24432/C5XW20",
    ),
    "test": DataFile(
        dataset="Adult (UCI 2)", relpath="adult/adult.test",
        sha256="a2a9044bc167a35b2361efbabec64e89d69ce82d9790d2980119aac5fd7e9c05",
        url="https://archive.ics.uci.edu/ml/machine-learning-databases/adult/adult.test",
    ),
}
ADULT_COLUMNS = ("age", "workclass", "fnlwgt", "education", "education-num", "marital-status", "occupation",
                 "relationship", "race", "sex", "capital-gain", "capital-loss", "hours-per-week", "native-country",
                 "income")
ADULT_NUMERIC = ("age", "education-num", "capital-gain", "capital-loss", "hours-per-week")
ADULT_CATEGORICAL = ("workclass", "marital-status", "occupation", "relationship", "race", "sex", "native-country")
ADULT_GROUPS = {"sex": ["Female", "Male"],
                "race": ["Amer-Indian-Eskimo", "Asian-Pac-Islander", "Black", "Other", "White"]}


def adult_frame(split: str = "train"):
    """The Adult table (``train`` = adult.data, ``test`` = adult.test without its banner line),
    rows with a missing value (``?``) dropped; ``income`` without the test file's trailing period."""
    import pandas as pd

    if split not in ADULT_FILES:
        raise InputError(f"split must be 'train' or 'test'; got {split!r}")
    frame = pd.read_csv(ADULT_FILES[split].path(), header=None, names=list(ADULT_COLUMNS), skipinitialspace=True,
                        na_values="?", skiprows=1 if split == "test" else 0)
    frame = frame.dropna(axis=0).reset_index(drop=True)
    frame["income"] = frame["income"].str.rstrip(".")
    return frame


@register_loader("adult")
def load_adult(encoding: str = "standard", split: str = "train", group_by: str = "sex",
               include_protected: bool = False, quantiles: Sequence[float] = DEFAULT_QUANTILES,
               n: int | None = None, seed: int = 0) -> dict[str, np.ndarray]:
    """Adult / Census Income (UCI 2): y = +1 for income > 50K. ``fnlwgt`` (a census sampling
    weight) and ``education`` (duplicated by ``education-num``) are dropped. ``group`` = sex
    (default) or race; that column is not a feature unless ``include_protected``."""
    if group_by not in ADULT_GROUPS:
        raise InputError(f"group_by must be one of {', '.join(ADULT_GROUPS)}; got {group_by!r}")
    frame = _subsample(adult_frame(split), n, seed)
    numeric, categorical = _features(ADULT_NUMERIC, ADULT_CATEGORICAL, [group_by], include_protected)
    return _arrays(frame, numeric, categorical, frame["income"].to_numpy() == ">50K", encoding=encoding,
                   quantiles=quantiles, group_column=group_by, group_levels=ADULT_GROUPS[group_by])


# -- German credit ------------------------------------------------------------------------------
GERMAN = DataFile(
    dataset="Statlog (German Credit Data) (UCI 144)", relpath="german_credit/german.data",
    sha256="b21f3d81db8071257d5ff1deaeba1fd4303b62712e6fcc9715c7a86202cb5871",
    url="https://archive.ics.uci.edu/ml/machine-learning-databases/statlog/german/german.data",
    citation="Hofmann (1994), UCI Machine Learning Repository, doi:10.24432/C5NC77",
)
GERMAN_COLUMNS = ("checking_status", "duration", "credit_history", "purpose", "credit_amount", "savings",
                  "employment", "installment_rate", "personal_status_sex", "other_debtors", "residence_since",
                  "property", "age", "other_installment_plans", "housing", "existing_credits", "job",
                  "people_liable", "telephone", "foreign_worker", "label")
GERMAN_NUMERIC = ("duration", "credit_amount", "installment_rate", "residence_since", "age", "existing_credits",
                  "people_liable")
GERMAN_CATEGORICAL = tuple(c for c in GERMAN_COLUMNS if c not in GERMAN_NUMERIC and c != "label")
#: attribute 9 codes (german.doc): A92 and A95 are female, A91/A93/A94 male
GERMAN_FEMALE = ("A92", "A95")


def german_frame():
    """The German credit table with attribute names from german.doc, plus ``sex`` (from
    attribute 9) and ``age_group`` (``young`` = age < 25, else ``adult``)."""
    import pandas as pd

    frame = pd.read_csv(GERMAN.path(), header=None, sep=" ", names=list(GERMAN_COLUMNS))
    frame["sex"] = np.where(frame["personal_status_sex"].isin(GERMAN_FEMALE), "female", "male")
    frame["age_group"] = np.where(frame["age"] < 25, "young", "adult")
    return frame


@register_loader("german_credit")
def load_german_credit(encoding: str = "standard", group_by: str = "sex", include_protected: bool = False,
                       quantiles: Sequence[float] = DEFAULT_QUANTILES, n: int | None = None,
                       seed: int = 0) -> dict[str, np.ndarray]:
    """German credit (UCI 144): y = +1 for good credit (label 1, the favourable outcome),
    −1 for bad (label 2). ``group`` = sex (from attribute 9, which mixes sex and marital
    status; default) or age (``group_by="age"``: young = under 25). Unless
    ``include_protected``, the attribute defining the group (``personal_status_sex`` resp.
    ``age``) is not a feature."""
    groups: dict[str, tuple[str, list[str], str]] = {
        "sex": ("sex", ["female", "male"], "personal_status_sex"),
        "age": ("age_group", ["adult", "young"], "age"),
    }
    if group_by not in groups:
        raise InputError(f"group_by must be one of {', '.join(groups)}; got {group_by!r}")
    column, levels, source = groups[group_by]
    frame = _subsample(german_frame(), n, seed)
    numeric, categorical = _features(GERMAN_NUMERIC, GERMAN_CATEGORICAL, [source], include_protected)
    return _arrays(frame, numeric, categorical, frame["label"].to_numpy() == 1, encoding=encoding,
                   quantiles=quantiles, group_column=column, group_levels=levels)


def describe(arrays: dict[str, Any]) -> str:
    """One line: shape, label balance and groups (for `miobench instances` style listings)."""
    X, y = arrays["X"], arrays["y"]
    text = f"{X.shape[0]} x {X.shape[1]}, {int(np.sum(y > 0))} positive"
    if "group" in arrays:
        text += f", groups {dict(zip(arrays['group_names'].tolist(), np.bincount(arrays['group']).tolist()))}"
    return text
