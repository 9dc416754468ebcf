"""DOROTHEA (NIPS 2003 feature-selection challenge; UCI 169): the real data set the GB paper
(Liu & Lodi, arXiv 2605.22188) names for k-sparse logistic regression.

Drug discovery (thrombin binding): each row is a compound, each of the 100,000 features a
binary structural property. Only the labelled *validation* split is available here (350
rows, 34 positive; the 800-row training data are not in the shared data folder, see its
README), so the instance is that split.

Cleaning: the sparse index lists become a 0/1 design; features active in fewer than
``min_count`` compounds are dropped (label-free screening: with the default 20 the design
has p = 1,066 > n = 350 columns, none constant, none duplicated); labels are ±1 as shipped.
Columns are kept as 0/1 (no scaling: "feature present" is the unit of a coefficient).
``feature_index`` holds the kept features' 1-based indices in the original 100,000.
"""
from __future__ import annotations

import numpy as np

from ...errors import InputError
from ..datafiles import DataFile
from . import register_loader

_CITATION = "Guyon et al., NIPS 2003 feature selection challenge; UCI Machine Learning Repository id 169"
DOROTHEA_VALID_DATA = DataFile(
    dataset="DOROTHEA (UCI 169), validation split",
    relpath="dorothea/dorothea_valid.data",
    sha256="dfa3bf047974f1e3a2d59aca1c2715b2ce9153806e92709f11e0288311370f02",
    citation=_CITATION,
)
DOROTHEA_VALID_LABELS = DataFile(
    dataset="DOROTHEA (UCI 169), validation split",
    relpath="dorothea/dorothea_valid.labels",
    sha256="8af3b491a0b1ee57d1ca9fd5d800e22bff4b84d94020892d1919897e726b6db1",
    citation=_CITATION,
)
N_FEATURES = 100_000


@register_loader("dorothea")
def load_dorothea(min_count: int = 20) -> dict[str, np.ndarray]:
    """The DOROTHEA validation split as a dense 0/1 design screened to features active in at
    least ``min_count`` rows; ``y`` in {−1, +1}."""
    if isinstance(min_count, bool) or int(min_count) != min_count or not 1 <= min_count <= 350:
        raise InputError(f"dorothea: min_count must be an integer in 1..350, got {min_count!r}")
    lines = DOROTHEA_VALID_DATA.path().read_text().splitlines()
    y = np.loadtxt(DOROTHEA_VALID_LABELS.path(), dtype=float)
    rows = [np.asarray(line.split(), dtype=np.int64) - 1 for line in lines]
    counts = np.zeros(N_FEATURES, dtype=np.int64)
    for r in rows:
        counts[r] += 1
    keep = np.flatnonzero(counts >= int(min_count))
    position = np.full(N_FEATURES, -1, dtype=np.int64)
    position[keep] = np.arange(keep.size)
    X = np.zeros((len(rows), keep.size))
    for i, r in enumerate(rows):
        cols = position[r]
        X[i, cols[cols >= 0]] = 1.0
    return {"X": X, "y": y, "feature_index": keep + 1}
