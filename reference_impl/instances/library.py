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

from ..errors import DataMissingError, IntegrityError, InputError, MiobenchError, UnknownIdError, did_you_mean
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


def _write_manifest(directory: Path, manifest: dict[str, Any]) -> None:
    path = directory / MANIFEST
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)


def build_library(
    directory: str | os.PathLike | None = None,
    ids: Iterable[str] | None = None,
    strict: bool = False,
) -> dict[str, Any]:
    """Write every selected catalogue instance and a deterministic manifest.

    Without ``ids`` the whole library catalogue is built, the manifest is written afresh and
    stale ``.npz`` files (ids no longer in it) are removed. With ``ids`` only those instances
    are (re)built: the other files stay and their manifest entries are kept (merged).
    Real-data instances whose raw files are missing are listed under ``unavailable`` (or
    raise, with ``strict=True``). Returns the manifest.
    """
    directory = Path(directory) if directory else library_dir()
    if directory.exists() and not directory.is_dir():
        raise InputError(f"library directory {directory} exists and is not a folder")
    entries = catalogue()
    full = ids is None
    selected = [i for i, e in entries.items() if e.get("library", True)] if full else list(dict.fromkeys(ids))
    for instance_id in selected:
        catalogue_entry(instance_id)  # every id checked before anything is written
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create library directory {directory}: {exc.strerror or exc}") from None
    manifest: dict[str, Any] = {"instances": {}, "unavailable": {}}
    if not full:
        try:
            previous = _read_manifest(directory)
        except (ValueError, OSError):
            previous = {}
        manifest["instances"] = dict(previous.get("instances") or {})
        manifest["unavailable"] = dict(previous.get("unavailable") or {})
    for instance_id in selected:
        try:
            instance = generate(instance_id)
        except DataMissingError as exc:
            if strict:
                raise
            warnings.warn(f"skipping {instance_id}: {exc}", stacklevel=2)
            if instance_id not in manifest["instances"]:  # a subset build keeps a file built before
                manifest["unavailable"][instance_id] = str(exc)
            continue
        digest = write_npz(directory / f"{instance_id}.npz", instance.arrays)
        manifest["unavailable"].pop(instance_id, None)
        manifest["instances"][instance_id] = {
            "file": f"{instance_id}.npz",
            "sha256": digest,
            "arrays": {k: {"shape": list(v.shape), "dtype": str(v.dtype)} for k, v in sorted(instance.arrays.items())},
            **instance.meta,
        }
    if full:
        for stale in directory.glob("*.npz"):
            if stale.stem not in manifest["instances"]:
                stale.unlink()
    _write_manifest(directory, manifest)
    return manifest


def verify_library(directory: str | os.PathLike | None = None) -> dict[str, Any]:
    """Check every file listed in the library manifest against its sha256.

    Returns the manifest when every listed file is present and matches; raises
    :class:`IntegrityError` naming each missing or altered file otherwise (and
    :class:`DataMissingError` when there is no manifest). ``.npz`` files that the manifest
    does not list are returned under ``"unlisted"`` (they are never loaded as catalogue
    instances from the library)."""
    directory = Path(directory) if directory else library_dir()
    path = directory / MANIFEST
    if not path.is_file():
        raise DataMissingError(f"no library manifest at {path}; build the library with `miobench instances build"
                               + (f" --out {directory}" if directory != library_dir() else "") + "`")
    try:
        manifest = json.loads(path.read_text())
        listed = manifest["instances"]
        if not isinstance(listed, dict):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        raise IntegrityError(f"{path} is not a valid library manifest (expected JSON with an 'instances' mapping)") from None
    problems: list[str] = []
    for instance_id, record in sorted(listed.items()):
        file = directory / (record.get("file") or f"{instance_id}.npz")
        if not file.is_file():
            problems.append(f"{instance_id}: missing ({file.name})")
            continue
        digest = sha256_file(file)
        if digest != record.get("sha256"):
            problems.append(f"{instance_id}: sha256 {digest[:16]}… but the manifest says {str(record.get('sha256'))[:16]}…")
    if problems:
        raise IntegrityError(
            f"{len(problems)} of {len(listed)} library file(s) in {directory} fail verification: "
            + "; ".join(problems) + " — rebuild them with `miobench instances build` (or `dvc repro instances`)"
        )
    listed_files = {(r.get("file") or f"{i}.npz") for i, r in listed.items()}
    return {**manifest, "unlisted": sorted(p.name for p in directory.glob("*.npz") if p.name not in listed_files)}


def _catalogue_record(instance_id: str) -> dict[str, Any] | None:
    """The manifest entry vouching for catalogue instance ``instance_id`` in the locked
    library (``library_dir()``, else ``instances/data`` of the checkout), if there is one."""
    from .datafiles import REPO_ROOT

    for directory in dict.fromkeys([library_dir(), REPO_ROOT / DEFAULT_LIBRARY_DIR]):
        try:
            record = _read_manifest(Path(directory))["instances"].get(instance_id)
        except (ValueError, OSError, KeyError, AttributeError):
            continue
        if record is not None:
            return record
    return None


def _read_arrays(path: Path) -> dict[str, np.ndarray]:
    import zipfile

    if not zipfile.is_zipfile(path):
        raise InputError(f"cannot read {path}: it is not an .npz archive (numpy's zip of .npy arrays, e.g. from numpy.savez); "
                         "convert the data first, e.g. np.savez(path, X=X, y=y)")
    try:
        arrays = read_npz(path)
    except Exception as exc:  # zip/npy errors, pickled content, ...
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"cannot read {path} as an .npz of arrays: {reason}") from None
    _reject_complex(arrays, str(path))
    return arrays


def _reject_complex(arrays: Mapping[str, np.ndarray], where: str) -> None:
    for name, array in arrays.items():
        if np.iscomplexobj(array):
            raise InputError(f"array {name!r} of {where} is complex; miobench takes real-valued data only")


def _generated_sha256(instance_id: str) -> str | None:
    """sha256 of the catalogue instance generated afresh (no built library to compare with);
    None when it cannot be generated here (e.g. its real data is missing)."""
    try:
        return generate(instance_id).sha256
    except MiobenchError:
        return None


def resolve_instance(spec: Any) -> Instance:
    """Turn a catalogue id, an ``.npz`` path, a mapping of arrays or an Instance into an Instance."""
    if isinstance(spec, Instance):
        return spec
    if isinstance(spec, Mapping):
        arrays = arrays_from_mapping(spec)
        _reject_complex(arrays, "the instance")
        instance = Instance(id="", arrays=arrays, meta={"source": "in-memory arrays"})
        instance.id = f"adhoc-{instance.sha256[:12]}"
        return instance
    if isinstance(spec, (str, os.PathLike)):
        text = os.fspath(spec)
        path = Path(text)
        if path.suffix == ".npz" or path.exists():
            if not path.exists():
                raise DataMissingError(f"instance file {path} does not exist")
            if path.is_dir():
                raise InputError(f"instance {path} is a folder; give an .npz file or a catalogue id")
            arrays = _read_arrays(path)
            digest = sha256_file(path)
            try:
                record = _read_manifest(path.parent)["instances"].get(path.stem)
            except (ValueError, OSError, KeyError, AttributeError):
                record = None
            if record is not None and record["sha256"] != digest:
                raise IntegrityError(f"{path} does not match the sha256 in {path.parent / MANIFEST}")
            instance_id = path.stem
            meta: dict[str, Any] = {"source": str(path)}
            if record is None and path.stem in catalogue():
                # no manifest beside it vouches for the file: it may only carry the catalogue id
                # if it is the catalogue's (locked) instance; otherwise it is recorded by its path
                locked = _catalogue_record(path.stem)
                expected = locked.get("sha256") if locked is not None else _generated_sha256(path.stem)
                if expected is not None and expected != digest:
                    instance_id = str(path)
                    meta["differs_from_catalogue"] = path.stem
            return Instance(id=instance_id, arrays=arrays, sha256=digest, meta=meta)
        catalogue_entry(text)  # raises UnknownIdError with a hint
        return load_from_library(text) or generate(text)
    raise InputError(f"an instance must be a catalogue id, an .npz path or a mapping of arrays; got {type(spec).__name__}")
