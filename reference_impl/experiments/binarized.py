"""The experiments of Tule, Le & Say, "Training Experimentally Robust and Interpretable
Binarized Regression Models Using Mixed-Integer Programming" (arXiv 2112.00434, §IV).

For every data set × training size × (clean, corrupted) cell: the split of
:func:`reference_impl.instances.loaders.binarized.make_split`; the MIP (``binarized.mip``)
and, on clean data, the PBO (``binarized.pbo``) solved through :func:`reference_impl.solve`
(HiGHS by default; SCIP or Gurobi selectable — Gurobi answers ``size_limited`` above its
license); the LR and GD baselines of :mod:`.binarized_baselines`. Each row records train and
test accuracy, status, objective, bound, gap (miobench's one formula), solve time and % zero
weights; the learned ternary weights travel in the row as a '-0+' string.

The paper's setting is one parameter away: ``experiment_config("paper")`` uses every
training size of the paper and its one-hour limit; ``"quick"`` (the default) every Flags and
Ask Ubuntu size, MNIST 20, 60 and 100, and a 20 s limit. Paper §IV-C runs only MIP, LR and GD on the corrupted data; so does
this runner unless ``corrupted_models`` says otherwise.

Solves run in their own process by default (``isolate=True``, the harness's
:func:`~reference_impl.harness.runner.run_one`) with a hard wall-clock limit of the time limit
plus ``grace`` seconds: HiGHS 1.15 does not check its time limit during root cut separation
and was seen to run 108 s on the PBO of MNIST-20 under a 5 s limit. A killed run keeps the
status ``time_limit`` but has no incumbent, hence no accuracy.

Results are cached one CSV per cell under ``cache_dir/config-<key>/`` (the key covers the code
that computes a cell — every module it can execute — and every
setting except the list of sizes and ``isolate``, so runs with more sizes reuse the cells
already done); a cached cell with an ``error`` or ``crashed`` row is run again.
"""
from __future__ import annotations

import hashlib
import json
import math
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd

from ..errors import InputError
from ..formulations.binarized import accuracy, decode_ternary
from ..instances.instance import Instance
from ..instances.loaders.binarized import DATASETS, instance_arrays, load_dataset, make_split
from .binarized_baselines import fit_logistic, fit_ternary_gd

#: Training sizes of the paper (§IV-A, Table I).
PAPER_SIZES: dict[str, tuple[int, ...]] = {
    "mnist": (20, 60, 100, 200, 300, 500, 700, 1000),
    "flags": (10, 25, 35, 50),
    "ubuntu": (10, 23, 43),
}
#: Sizes of the quick setting (under ten minutes on two cores): every Flags and Ask Ubuntu
#: size of the paper (their MIPs and PBOs solve in seconds), the three smallest MNIST sizes.
QUICK_SIZES: dict[str, tuple[int, ...]] = {"mnist": (20, 60, 100), "flags": (10, 25, 35, 50), "ubuntu": (10, 23, 43)}
#: (α, β) per data set (Table I).
PAPER_ALPHA_BETA: dict[str, tuple[float, float]] = {"mnist": (5.0, 10.0), "flags": (2.0, 5.0), "ubuntu": (2.0, 5.0)}
PAPER_TIME_LIMIT = 3600.0
QUICK_TIME_LIMIT = 20.0
#: Model names as in the paper's figures, and the formulation behind each solved one.
FORMULATION_OF = {"MIP": "binarized.mip", "PBO": "binarized.pbo"}
MODELS = ("MIP", "PBO", "LR", "GD")
#: Cached cells with a row of these statuses are run again (failures, not results).
RERUN_STATUSES = ("error", "crashed")


@dataclass(frozen=True)
class ExperimentConfig:
    """Everything that defines the experiment (``sizes`` aside, all of it enters the cache key)."""

    sizes: dict[str, tuple[int, ...]] = field(default_factory=lambda: dict(QUICK_SIZES))
    time_limit: float = QUICK_TIME_LIMIT
    solver: str = "highs"
    seed: int = 0
    B: int = 10
    corruption: float = 0.1
    clean_models: tuple[str, ...] = MODELS
    corrupted_models: tuple[str, ...] = ("MIP", "LR", "GD")
    gd_epochs: int = 200
    gd_learning_rate: float = 1e-3
    rel_gap: float = 1e-4
    threads: int = 1
    isolate: bool = True
    grace: float = 30.0

    def __post_init__(self) -> None:
        unknown = sorted(set(self.sizes) - set(DATASETS))
        if unknown:
            raise InputError(f"unknown binarized dataset(s) {', '.join(unknown)}; known: {', '.join(DATASETS)}")
        for models in (self.clean_models, self.corrupted_models):
            bad = sorted(set(models) - set(MODELS))
            if bad:
                raise InputError(f"unknown model(s) {', '.join(bad)}; known: {', '.join(MODELS)}")
        if not (self.time_limit > 0):
            raise InputError(f"time_limit must be positive; got {self.time_limit}")

    def key(self) -> str:
        """The settings and the code that computes a cell: a cached cell is reused only by the
        same experiment run by the same code."""
        from ..code_deps import code_fingerprint

        settings = {k: v for k, v in asdict(self).items() if k not in ("sizes", "isolate")}
        settings["code"] = code_fingerprint([Path(__file__)])
        return hashlib.sha256(json.dumps(settings, sort_keys=True, default=list).encode()).hexdigest()[:12]

    def cells(self) -> list[tuple[str, int, bool]]:
        out = []
        for dataset in DATASETS:
            for n in self.sizes.get(dataset, ()):
                out += [(dataset, int(n), False), (dataset, int(n), True)]
        return out


def _sizes(value: Any) -> tuple[int, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [v for v in value.replace(";", ",").split(",") if v.strip()]
    elif isinstance(value, (int, float)):
        value = [value]
    return tuple(int(v) for v in value)


def experiment_config(setting: str = "quick", *, mnist_sizes=None, flags_sizes=None, ubuntu_sizes=None,
                      datasets: Iterable[str] | str | None = None, **overrides: Any) -> ExperimentConfig:
    """The ``"quick"`` or ``"paper"`` setting, with sizes, data sets and any field overridden.

    ``datasets`` (a list or comma-separated string) keeps only those data sets.
    """
    if setting not in ("quick", "paper"):
        raise InputError(f"setting must be 'quick' or 'paper'; got {setting!r}")
    sizes = dict(PAPER_SIZES if setting == "paper" else QUICK_SIZES)
    for name, given in (("mnist", mnist_sizes), ("flags", flags_sizes), ("ubuntu", ubuntu_sizes)):
        if given is not None:
            sizes[name] = _sizes(given)
    if datasets is not None:
        keep = [d.strip() for d in datasets.split(",")] if isinstance(datasets, str) else list(datasets)
        unknown = sorted(set(keep) - set(DATASETS))
        if unknown:
            raise InputError(f"unknown binarized dataset(s) {', '.join(unknown)}; known: {', '.join(DATASETS)}")
        sizes = {d: s for d, s in sizes.items() if d in keep}
    fields = {"time_limit": PAPER_TIME_LIMIT if setting == "paper" else QUICK_TIME_LIMIT}
    for name, value in overrides.items():
        if name not in ExperimentConfig.__dataclass_fields__:
            raise InputError(f"unknown experiment setting {name!r}")
        if name in ("clean_models", "corrupted_models") and isinstance(value, str):
            value = tuple(v.strip() for v in value.split(",") if v.strip())
        fields[name] = value
    for name, cast in (("time_limit", float), ("grace", float), ("B", int), ("seed", int), ("threads", int),
                       ("gd_epochs", int), ("corruption", float), ("rel_gap", float), ("gd_learning_rate", float)):
        if name in fields:
            fields[name] = cast(fields[name])
    for name in ("clean_models", "corrupted_models"):
        if name in fields:
            fields[name] = tuple(fields[name])
    return ExperimentConfig(sizes={d: s for d, s in sizes.items() if s}, **fields)


def instance_id(dataset: str, n_train: int, seed: int, corrupted: bool) -> str:
    """Same ids as the catalogue entries (``instances/catalogue/binarized.yaml``)."""
    return f"{dataset}-bin-train{n_train}-s{seed}" + ("-corrupt" if corrupted else "")


def _solve(model: str, instance: Instance, config: ExperimentConfig, alpha: float, beta: float, workdir: Path):
    """One MIP/PBO solve through :func:`reference_impl.solve` (in a worker process if isolated)."""
    params = {"B": config.B, "alpha": alpha, "beta": beta}
    formulation = FORMULATION_OF[model]
    if not config.isolate:
        from ..api import solve

        return solve(formulation, instance, solver=config.solver, time_limit=config.time_limit,
                     rel_gap=config.rel_gap, threads=config.threads, seed=config.seed, **params)
    from ..harness.runner import run_one
    from ..harness.suites import RunSpec
    from ..instances.storage import write_npz

    path = workdir / f"{instance.id}.npz"
    write_npz(path, instance.arrays)
    spec = RunSpec(formulation=formulation, solver=config.solver, instance=str(path), params=params,
                   time_limit=config.time_limit, rel_gap=config.rel_gap, threads=config.threads, seed=config.seed,
                   root_relaxation=False, instance_sha256=instance.sha256)
    return run_one(spec, grace=config.grace, memory_limit_gb=None)


def run_cell(dataset: str, n_train: int, corrupted: bool, config: ExperimentConfig,
             progress: bool = False) -> pd.DataFrame:
    """All models of one (data set, training size, clean/corrupted) cell, one row per model."""
    split = make_split(dataset, n_train, seed=config.seed, corrupted=corrupted, corruption=config.corruption)
    alpha, beta = PAPER_ALPHA_BETA[dataset]
    X_tr, y_tr, y_clean = split["X_train"], split["y_train"], split["y_train_clean"]
    X_te, y_te, C = split["X_test"], split["y_test"], split["n_classes"]
    arrays = instance_arrays(X_tr, y_tr, C, split["feature_names"], split["source"], y_clean=y_clean.astype(float),
                     train_index=split["train_index"], flipped=split["flipped"])
    instance = Instance(id=instance_id(dataset, n_train, config.seed, corrupted), arrays=arrays)
    base = {"dataset": dataset, "n_train": n_train, "corrupted": corrupted, "n_test": len(y_te),
            "n_features": X_tr.shape[1], "n_classes": C, "n_flipped": len(split["flipped"]),
            "alpha": alpha, "beta": beta, "B": config.B, "seed": config.seed, "time_limit": config.time_limit,
            "data_source": split["source"], "instance": instance.id, "config_key": config.key()}
    rows = []
    models = config.corrupted_models if corrupted else config.clean_models
    with tempfile.TemporaryDirectory(prefix="miobench-binarized-") as tmp:
        for model in models:
            start = time.perf_counter()
            row: dict[str, Any] = {**base, "model": model, "solver": "", "status": "", "objective": math.nan,
                                   "bound": math.nan, "gap": math.nan, "solve_seconds": math.nan,
                                   "weights": "", "biases": "", "message": ""}
            if model in FORMULATION_OF:
                record = _solve(model, instance, config, alpha, beta, Path(tmp))
                row.update(solver=config.solver, status=record.status, message=record.message,
                           objective=math.nan if record.objective is None else record.objective,
                           bound=math.nan if record.bound is None else record.bound, gap=record.gap,
                           solve_seconds=math.nan if record.solve_seconds is None else record.solve_seconds,
                           n_vars=record.n_vars, n_cons=record.n_cons)
                if "weights" in record.extra and record.objective is not None:
                    w = decode_ternary(record.extra["weights"], X_tr.shape[1], C)
                    b = np.asarray(record.extra["biases"], dtype=np.int64)
                    row.update(weights=record.extra["weights"], biases=json.dumps(b.tolist()),
                               train_accuracy=accuracy(X_tr, y_tr, w, b), train_accuracy_clean=accuracy(X_tr, y_clean, w, b),
                               test_accuracy=accuracy(X_te, y_te, w, b), zero_weight_percent=float(np.mean(w == 0) * 100),
                               bias_binding=bool(record.extra.get("bias_binding", False)))
            else:
                fitted = (fit_logistic(X_tr, y_tr, C, seed=config.seed) if model == "LR" else
                          fit_ternary_gd(X_tr, y_tr, C, B=config.B, epochs=config.gd_epochs,
                                         learning_rate=config.gd_learning_rate, seed=config.seed))
                row.update(status="trained", train_accuracy=fitted.accuracy(X_tr, y_tr),
                           train_accuracy_clean=fitted.accuracy(X_tr, y_clean), test_accuracy=fitted.accuracy(X_te, y_te),
                           zero_weight_percent=fitted.zero_weight_percent)
                if model == "GD":
                    row.update(weights="".join("-0+"[k + 1] for k in fitted.W.ravel()),
                               biases=json.dumps(fitted.b.astype(int).tolist()))
            row["wall_seconds"] = time.perf_counter() - start
            rows.append(row)
            if progress:
                print(f"[binarized] {dataset} n={n_train} {'corrupted' if corrupted else 'clean'} {model}: "
                      f"{row['status']} test acc {row.get('test_accuracy', math.nan):.3f} "
                      f"gap {row['gap']:.3g} ({row['wall_seconds']:.1f} s)", file=sys.stderr, flush=True)
    return pd.DataFrame(rows)


def _write_cell(frame: pd.DataFrame, path: Path, config: ExperimentConfig) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    settings = {k: v for k, v in asdict(config).items() if k != "sizes"}
    (path.parent / "config.json").write_text(json.dumps(settings, indent=2, default=list) + "\n")
    tmp = path.with_suffix(".tmp")
    frame.to_csv(tmp, index=False)
    tmp.replace(path)


def cell_path(cache_dir: Path, config: ExperimentConfig, dataset: str, n_train: int, corrupted: bool) -> Path:
    source = load_dataset(dataset).source
    label = "corrupted" if corrupted else "clean"
    return Path(cache_dir) / f"config-{config.key()}" / f"{dataset}-{source}-n{n_train}-{label}.csv"


def _read_cell(path: Path) -> pd.DataFrame | None:
    if not path.exists():
        return None
    cached = pd.read_csv(path, keep_default_na=False, na_values=["", "nan", "NaN"])
    return None if cached["status"].isin(RERUN_STATUSES).any() else cached


def run_experiment(config: ExperimentConfig, cache_dir: str | Path | None = None, *, progress: bool = False,
                   other_caches: Iterable[str | Path] = ()) -> pd.DataFrame:
    """Every cell of ``config``; cells already in ``cache_dir`` are read, not re-run.

    ``other_caches`` are searched (read-only) for cells missing from ``cache_dir``; a cell
    found there is copied into ``cache_dir``, so each cache folder stays self-contained.
    """
    frames = []
    for dataset, n_train, corrupted in config.cells():
        path = cell_path(Path(cache_dir), config, dataset, n_train, corrupted) if cache_dir else None
        cached = _read_cell(path) if path is not None else None
        for other in other_caches if cached is None else ():
            cached = _read_cell(cell_path(Path(other), config, dataset, n_train, corrupted))
            if cached is not None:
                if path is not None:
                    _write_cell(cached, path, config)
                break
        if cached is not None:
            frames.append(cached)
            continue
        frame = run_cell(dataset, n_train, corrupted, config, progress=progress)
        if path is not None:
            _write_cell(frame, path, config)
        frames.append(frame)
    if not frames:
        raise InputError("the experiment has no cells: give at least one data set with one training size")
    frame = pd.concat(frames, ignore_index=True)
    for column in ("weights", "biases", "message", "solver", "status"):
        if column in frame:
            frame[column] = frame[column].astype(object).where(frame[column].notna(), "").astype(str)
    return frame
