"""Real data for the unsupervised family (sparse PCA, interpretable clustering; tutorial §2.3).

Both data sets are bundled with scikit-learn (offline, no download); the raw arrays' checksum
is verified as for the other scikit-learn loaders. ``X`` is kept in its original units (a
formulation standardises it when asked, e.g. ``sparse_pca.mio``'s ``standardize``), ``y``
holds the known classes (0…C−1) — for clustering they are reference labels, never used by
the models.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ...errors import InputError, IntegrityError
from ..storage import npz_bytes, sha256_bytes
from . import register_loader

#: sha256 of scikit-learn's raw arrays (``X`` then ``y`` as floats, serialised with :func:`npz_bytes`)
WINE_RAW_SHA256 = "62ebfd91659795aa9298c61f882d47df32d4ce616a8b1f740a272eeb52ef6c7c"
IRIS_RAW_SHA256 = "1003d44a1c3620c8007011dc9b5b29369aa15de852014dc1e3b3d68002cae1d3"


def _checked(bunch, expected: str, name: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    X = np.asarray(bunch.data, dtype=float)
    y = np.asarray(bunch.target, dtype=float)
    digest = sha256_bytes(npz_bytes({"X": X, "y": y}))
    if digest != expected:
        raise IntegrityError(f"scikit-learn's {name} data have sha256 {digest[:16]}…, expected {expected[:16]}…; "
                             "this scikit-learn ships different data.")
    return X, y, [str(f) for f in bunch.feature_names]


def _select(X: np.ndarray, y: np.ndarray, names: list[str], name: str, features: Sequence[str] | None,
            n: int | None, seed: int) -> dict[str, np.ndarray]:
    """Restrict to the named ``features`` (in the data's order) and to ``n`` rows drawn without
    replacement by a seeded generator (kept in their original order)."""
    if features is not None:
        unknown = sorted(set(features) - set(names))
        if unknown:
            raise InputError(f"{name} has no feature(s) {unknown}; it has: {', '.join(names)}")
        keep = [j for j, f in enumerate(names) if f in set(features)]
        X, names = X[:, keep], [names[j] for j in keep]
    if n is not None:
        if not 1 <= int(n) <= X.shape[0]:
            raise InputError(f"{name}: n must lie in 1..{X.shape[0]}; got {n}")
        rows = np.sort(np.random.default_rng(seed).choice(X.shape[0], size=int(n), replace=False))
        X, y = X[rows], y[rows]
    return {"X": X, "y": y.astype(np.int64), "feature_names": np.array(names, dtype=str)}


@register_loader("wine")
def load_wine(features: Sequence[str] | None = None, n: int | None = None, seed: int = 0) -> dict[str, np.ndarray]:
    """Wine recognition (Forina et al.; UCI 109), bundled with scikit-learn: 178 wines, 13
    chemical measurements, 3 cultivars (``y``). The classic correlation-matrix sparse-PCA
    example (its features differ in scale by orders of magnitude: use ``standardize``)."""
    from sklearn.datasets import load_wine as sk_load

    X, y, names = _checked(sk_load(), WINE_RAW_SHA256, "wine")
    return _select(X, y, names, "wine", features, n, seed)


@register_loader("iris")
def load_iris(features: Sequence[str] | None = None, n: int | None = None, seed: int = 0) -> dict[str, np.ndarray]:
    """Iris (Fisher 1936; UCI 53), bundled with scikit-learn: 150 flowers, 4 measurements in
    cm, 3 species (``y``). ``features``/``n`` give the tiny clustering instances (e.g. the two
    petal measurements of 12 flowers)."""
    from sklearn.datasets import load_iris as sk_load

    X, y, names = _checked(sk_load(), IRIS_RAW_SHA256, "iris")
    return _select(X, y, names, "iris", features, n, seed)
