"""Regression data: diabetes (scikit-learn) and Communities and Crime (UCI 183).

Every loader documents its source, its cleaning, and checks the raw data's checksum.
Regression loaders standardise ``X`` column-wise and ``y`` (centred, unit variance), so the
models need no intercept and penalties (λ0, λ2) mean the same on every data set; the
original scales are kept as ``x_mean``/``x_scale``/``y_mean``/``y_scale``.
"""
from __future__ import annotations

import numpy as np

from ..datafiles import DataFile
from ..numerics import standardize_columns
from ..storage import npz_bytes, sha256_bytes
from . import register_loader


def _regression_arrays(X: np.ndarray, y: np.ndarray, names: list[str]) -> dict[str, np.ndarray]:
    Xs, mean, scale = standardize_columns(X)
    ys, y_mean, y_scale = standardize_columns(np.asarray(y, dtype=float)[:, None])
    return {
        "X": Xs,
        "y": ys[:, 0],
        "feature_names": np.array(names, dtype=str),
        "x_mean": mean,
        "x_scale": scale,
        "y_mean": y_mean,
        "y_scale": y_scale,
    }


#: sha256 of the raw (unscaled) diabetes arrays as shipped by scikit-learn
#: (``load_diabetes(scaled=False)``: X 442×10 then y, serialised with :func:`npz_bytes`).
DIABETES_RAW_SHA256 = "0a60245097bb62f69f7e94d36e5b4ba66a4ea3b122d32a4a2797902f17dbc17e"


@register_loader("diabetes")
def load_diabetes() -> dict[str, np.ndarray]:
    """Diabetes (Efron, Hastie, Johnstone & Tibshirani 2004), bundled with scikit-learn.

    442 patients, 10 baseline variables, target = disease progression after one year.
    Raw (unscaled) data are standardised here; the raw arrays' checksum is verified.
    """
    from sklearn.datasets import load_diabetes as sk_load

    bunch = sk_load(scaled=False)
    X = np.asarray(bunch.data, dtype=float)
    y = np.asarray(bunch.target, dtype=float)
    digest = sha256_bytes(npz_bytes({"X": X, "y": y}))
    if digest != DIABETES_RAW_SHA256:
        from ...errors import IntegrityError

        raise IntegrityError(
            f"scikit-learn's diabetes data have sha256 {digest[:16]}…, expected "
            f"{DIABETES_RAW_SHA256[:16]}…; this scikit-learn ships different data."
        )
    return _regression_arrays(X, y, list(bunch.feature_names))


COMMUNITIES = DataFile(
    dataset="Communities and Crime (UCI 183)",
    relpath="communities_and_crime/communities.data",
    sha256="d90d85bd66bad9a00fa0ed6c15ac017b5966d528e55ba2940ad028d071353f95",
    url="https://archive.ics.uci.edu/ml/machine-learning-databases/communities/communities.data",
    citation="Redmond (2009), UCI Machine Learning Repository, doi:10.24432/C53W3X",
)
COMMUNITIES_NAMES = DataFile(
    dataset="Communities and Crime (UCI 183)",
    relpath="communities_and_crime/communities.names",
    sha256="80914f24ab37261fb0fbda7e417cad8001335dadda4a8d702c265601ef8434fc",
    url="https://archive.ics.uci.edu/ml/machine-learning-databases/communities/communities.names",
)
#: Columns that identify a community or a CV fold rather than describe it.
COMMUNITIES_NON_PREDICTIVE = ("state", "county", "community", "communityname", "fold")


def communities_frame():
    """The raw Communities and Crime table as a DataFrame with the UCI attribute names."""
    import pandas as pd

    names = [
        line.split()[1]
        for line in COMMUNITIES_NAMES.path().read_text(encoding="latin-1").splitlines()
        if line.startswith("@attribute")
    ]
    return pd.read_csv(COMMUNITIES.path(), header=None, names=names, na_values="?")


@register_loader("communities_and_crime")
def load_communities_and_crime() -> dict[str, np.ndarray]:
    """Communities and Crime (UCI 183): 1994 US communities, target ``ViolentCrimesPerPop``.

    Cleaning, as in the tutorial's Figure 2 setting (n = 1,993, d = 100): drop the five
    non-predictive columns (state, county, community, name, fold), drop the 22 LEMAS police
    columns that are missing for 1675 of 1994 rows, then drop the one row with a missing
    ``OtherPerCap``. Keeps the ``racePctHisp`` column and the raw target for fairness
    experiments (arrays ``pct_hispanic``, ``y_raw``).
    """
    frame = communities_frame()
    target = "ViolentCrimesPerPop"
    frame = frame.drop(columns=list(COMMUNITIES_NON_PREDICTIVE))
    mostly_missing = [c for c in frame.columns if frame[c].isna().mean() > 0.5]
    frame = frame.drop(columns=mostly_missing).dropna(axis=0).reset_index(drop=True)
    features = [c for c in frame.columns if c != target]
    X = frame[features].to_numpy(dtype=float)
    y = frame[target].to_numpy(dtype=float)
    arrays = _regression_arrays(X, y, features)
    arrays["y_raw"] = y
    arrays["pct_hispanic"] = frame["racePctHisp"].to_numpy(dtype=float)
    return arrays
