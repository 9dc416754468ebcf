"""The instance catalogue and the on-disk library (one ``.npz`` per instance + manifest).

The catalogue (``catalogue/*.yaml`` beside this module) is committed; the library directory
(``instances/data`` in the repository, or ``$MIOBENCH_INSTANCE_DIR``) is built by
:func:`build_library` — the DVC stage ``instances`` — and tracked by DVC. Loading an instance
from the library checks its sha256 against the manifest.
"""
from __future__ import annotations

import json
import os
import warnings
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np
import yaml

from ..errors import DataMissingError, IntegrityError, InputError, UnknownIdError, did_you_mean
from .generators import get_generator
from .instance import Instance, arrays_from_mapping
from .loaders import get_loader
from .storage import read_npz, sha256_file, write_npz

CATALOGUE_DIR = Path(__file__).with_name("catalogue")
MANIFEST = "manifest.json"
DEFAULT_LIBRARY_DIR = "instances/data"


def library_dir() -> Path:
    """``$MIOBENCH_INSTANCE_DIR``, else ``instances/data`` (in the working directory, or else
    in the checkout holding this package)."""
    from .datafiles import repo_relative

    return repo_relative(os.environ.get("MIOBENCH_INSTANCE_DIR", DEFAULT_LIBRARY_DIR))


@lru_cache(maxsize=1)
def catalogue() -> dict[str, dict[str, Any]]:
    """Every catalogue entry by id, from all ``catalogue/*.yaml`` files (one per family)."""
    entries: dict[str, dict[str, Any]] = {}
    for path in sorted(CATALOGUE_DIR.glob("*.yaml")):
        for entry in yaml.safe_load(path.read_text())["instances"]:
            if entry["id"] in entries:
                raise RuntimeError(f"instance id {entry['id']!r} appears twice in the catalogue")
            entries[entry["id"]] = {**entry, "family_file": path.stem}
    return entries


def catalogue_entry(instance_id: str) -> dict[str, Any]:
    entries = catalogue()
    if instance_id not in entries:
        raise UnknownIdError(
            f"unknown instance id {instance_id!r}; `miobench instances list` shows the catalogue."
            + did_you_mean(instance_id, entries)
        )
    return entries[instance_id]


def generate(instance_id: str) -> Instance:
    """Generate (or load from raw data) a catalogue instance in memory."""
    entry = catalogue_entry(instance_id)
    params = dict(entry.get("params", {}))
    if "generator" in entry:
        arrays = get_generator(entry["generator"])(**params, seed=entry.get("seed", 0))
        source = {"generator": entry["generator"], "params": params, "seed": entry.get("seed", 0)}
    else:
        arrays = get_loader(entry["loader"])(**params)
        source = {"loader": entry["loader"], "params": params}
    meta = {"description": entry.get("description", ""), **source}
    return Instance(id=instance_id, arrays=arrays, meta=meta)


def _read_manifest(directory: Path) -> dict[str, Any]:
    path = directory / MANIFEST
    return json.loads(path.read_text()) if path.exists() else {"instances": {}, "unavailable": {}}


def load_from_library(instance_id: str, directory: Path | None = None) -> Instance | None:
    """Load a built instance and verify its hash; ``None`` when it is not built."""
    directory = Path(directory) if directory else library_dir()
    record = _read_manifest(directory)["instances"].get(instance_id)
    path = directory / f"{instance_id}.npz"
    if record is None or not path.exists():
        return None
    digest = sha256_file(path)
    if digest != record["sha256"]:
        raise IntegrityError(
            f"instance file {path} has sha256 {digest[:16]}…, manifest says {record['sha256'][:16]}…; "
            "rebuild the library with `miobench instances build` (or `dvc repro instances`)."
        )
    meta = {k: v for k, v in record.items() if k not in ("sha256", "file", "arrays")}
    return Instance(id=instance_id, arrays=read_npz(path), sha256=digest, meta=meta)


def build_library(
    directory: str | os.PathLike | None = None,
    ids: Iterable[str] | None = None,
    strict: bool = False,
) -> dict[str, Any]:
    """Write every selected catalogue instance and a deterministic manifest.

    Real-data instances whose raw files are missing are listed under ``unavailable`` (or
    raise, with ``strict=True``). Returns the manifest.
    """
    directory = Path(directory) if directory else library_dir()
    directory.mkdir(parents=True, exist_ok=True)
    entries = catalogue()
    selected = list(ids) if ids is not None else [i for i, e in entries.items() if e.get("library", True)]
    manifest: dict[str, Any] = {"instances": {}, "unavailable": {}}
    for instance_id in selected:
        catalogue_entry(instance_id)
        try:
            instance = generate(instance_id)
        except DataMissingError as exc:
            if strict:
                raise
            warnings.warn(f"skipping {instance_id}: {exc}", stacklevel=2)
            manifest["unavailable"][instance_id] = str(exc)
            continue
        digest = write_npz(directory / f"{instance_id}.npz", instance.arrays)
        manifest["instances"][instance_id] = {
            "file": f"{instance_id}.npz",
            "sha256": digest,
            "arrays": {k: {"shape": list(v.shape), "dtype": str(v.dtype)} for k, v in sorted(instance.arrays.items())},
            **instance.meta,
        }
    for stale in directory.glob("*.npz"):
        if stale.stem not in manifest["instances"]:
            stale.unlink()
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest


def resolve_instance(spec: Any) -> Instance:
    """Turn a catalogue id, an ``.npz`` path, a mapping of arrays or an Instance into an Instance."""
    if isinstance(spec, Instance):
        return spec
    if isinstance(spec, Mapping):
        arrays = arrays_from_mapping(spec)
        instance = Instance(id="", arrays=arrays, meta={"source": "in-memory arrays"})
        instance.id = f"adhoc-{instance.sha256[:12]}"
        return instance
    if isinstance(spec, (str, os.PathLike)):
        text = os.fspath(spec)
        path = Path(text)
        if path.suffix == ".npz" or path.exists():
            if not path.exists():
                raise DataMissingError(f"instance file {path} does not exist")
            try:
                arrays = read_npz(path)
            except Exception as exc:  # zip/npy errors, pickled content, ...
                raise InputError(f"cannot read {path} as an .npz of arrays: {exc}") from None
            digest = sha256_file(path)
            record = _read_manifest(path.parent)["instances"].get(path.stem)
            if record is not None and record["sha256"] != digest:
                raise IntegrityError(f"{path} does not match the sha256 in {path.parent / MANIFEST}")
            return Instance(id=path.stem, arrays=arrays, sha256=digest, meta={"source": str(path)})
        catalogue_entry(text)  # raises UnknownIdError with a hint
        return load_from_library(text) or generate(text)
    raise InputError(f"an instance must be a catalogue id, an .npz path or a mapping of arrays; got {type(spec).__name__}")
