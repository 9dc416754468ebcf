"""Instance library: byte-determinism, checksums, loaders, resolution of ids/paths/mappings."""
import json
import shutil

import numpy as np
import pytest

from reference_impl.errors import DataMissingError, IntegrityError, InputError, UnknownIdError
from reference_impl.instances import build_library, catalogue, resolve_instance
from reference_impl.instances.generators import synthetic_regression
from reference_impl.instances.library import generate, load_from_library
from reference_impl.instances.storage import npz_bytes, read_npz, sha256_file, write_npz

SYNTHETIC = [i for i, e in catalogue().items() if "generator" in e]


def test_generators_are_byte_deterministic():
    a = npz_bytes(synthetic_regression(50, 12, 3, rho=0.7, snr=2.0, seed=5))
    b = npz_bytes(synthetic_regression(50, 12, 3, rho=0.7, snr=2.0, seed=5))
    c = npz_bytes(synthetic_regression(50, 12, 3, rho=0.7, snr=2.0, seed=6))
    assert a == b and a != c


def test_synthetic_design_has_the_requested_structure():
    data = synthetic_regression(20000, 10, 2, rho=0.6, snr=4.0, seed=0)
    corr = np.corrcoef(data["X"], rowvar=False)
    off_diagonal = corr[~np.eye(10, dtype=bool)]
    assert abs(off_diagonal.mean() - 0.6) < 0.02
    assert np.flatnonzero(data["beta_true"]).tolist() == [0, 5]
    residual = data["y"] - data["X"] @ data["beta_true"]
    signal = data["X"] @ data["beta_true"]
    assert signal.var() / residual.var() == pytest.approx(4.0, rel=0.05)


def test_library_build_is_reproducible_and_verified(tmp_path):
    first = build_library(tmp_path / "a", ids=SYNTHETIC)
    second = build_library(tmp_path / "b", ids=SYNTHETIC)
    assert first == second
    for instance_id in SYNTHETIC:
        assert (tmp_path / "a" / f"{instance_id}.npz").read_bytes() == (tmp_path / "b" / f"{instance_id}.npz").read_bytes()
        assert first["instances"][instance_id]["sha256"] == sha256_file(tmp_path / "a" / f"{instance_id}.npz")
    assert (tmp_path / "a" / "manifest.json").read_bytes() == (tmp_path / "b" / "manifest.json").read_bytes()
    # numpy reads the files; arrays equal the generator's
    arrays = dict(np.load(tmp_path / "a" / f"{SYNTHETIC[0]}.npz"))
    np.testing.assert_array_equal(arrays["X"], generate(SYNTHETIC[0]).X)


def test_tampered_instance_is_refused(tmp_path):
    build_library(tmp_path, ids=SYNTHETIC[:1])
    path = tmp_path / f"{SYNTHETIC[0]}.npz"
    arrays = read_npz(path)
    arrays["y"] = arrays["y"] + 1e-12
    write_npz(path, arrays)
    with pytest.raises(IntegrityError, match="sha256"):
        load_from_library(SYNTHETIC[0], tmp_path)


def test_resolve_id_path_and_mapping(tmp_path):
    by_id = resolve_instance(SYNTHETIC[0])
    path = tmp_path / "mine.npz"
    write_npz(path, by_id.arrays)
    by_path = resolve_instance(str(path))
    by_mapping = resolve_instance({k: v.tolist() for k, v in by_id.arrays.items()})
    assert by_id.sha256 == by_path.sha256 == by_mapping.sha256
    assert by_path.id == "mine" and by_mapping.id.startswith("adhoc-")


def test_unknown_and_missing_instances_have_clear_errors(tmp_path):
    with pytest.raises(UnknownIdError, match="Did you mean"):
        resolve_instance("synreg-n30-p8-k")
    with pytest.raises(DataMissingError, match="does not exist"):
        resolve_instance(str(tmp_path / "nope.npz"))
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(InputError, match="cannot read"):
        resolve_instance(str(tmp_path / "bad.npz"))


def test_diabetes_loader():
    instance = resolve_instance("diabetes")
    assert instance.X.shape == (442, 10)
    np.testing.assert_allclose(instance.X.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(instance.X.std(axis=0), 1, atol=1e-12)
    assert abs(instance.y.mean()) < 1e-9 and instance.y.std() == pytest.approx(1.0)
    assert instance.feature_names[:3] == ["age", "sex", "bmi"]


def test_communities_and_crime_loader_matches_the_tutorial_setting():
    instance = resolve_instance("communities-crime")
    assert instance.X.shape == (1993, 100)  # n = 1,993 cities, d = 100 features (tutorial Fig. 2)
    names = instance.feature_names
    assert "PctIlleg" in names and "racepctblack" in names
    assert "communityname" not in names and "fold" not in names and "LemasSwornFT" not in names
    assert instance["y_raw"].min() >= 0 and instance["y_raw"].max() <= 1
    assert not np.isnan(instance.X).any()


def test_missing_or_altered_raw_data(tmp_path, monkeypatch):
    monkeypatch.setenv("MIOBENCH_DATA_DIR", str(tmp_path))
    with pytest.raises(DataMissingError, match="MIOBENCH_DATA_DIR"):
        generate("communities-crime")
    folder = tmp_path / "communities_and_crime"
    folder.mkdir()
    (folder / "communities.data").write_text("1,2,3\n")
    (folder / "communities.names").write_text("@attribute a numeric\n")
    with pytest.raises(IntegrityError, match="not the published"):
        generate("communities-crime")


def test_library_records_unavailable_real_data(tmp_path, monkeypatch):
    monkeypatch.setenv("MIOBENCH_DATA_DIR", str(tmp_path / "empty"))
    with pytest.warns(UserWarning, match="skipping communities-crime"):
        manifest = build_library(tmp_path / "lib", ids=["communities-crime", SYNTHETIC[0]])
    assert "communities-crime" in manifest["unavailable"] and SYNTHETIC[0] in manifest["instances"]
    with pytest.raises(DataMissingError):
        build_library(tmp_path / "lib", ids=["communities-crime"], strict=True)


def test_dvc_lock_is_current_for_the_instance_stage():
    """The instance stage's code dependency in dvc.lock matches the checkout.

    CI regenerates the library and compares dvc.lock; a stale lock (code changed,
    lock not updated) would fail there, so catch it here first.
    """
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    dvc = shutil.which("dvc") or str(Path(sys.executable).with_name("dvc"))
    if not (root / ".git").exists() or not Path(dvc).exists():
        pytest.skip("needs a git checkout with dvc installed")
    proc = subprocess.run([dvc, "status", "--json", "instances"], cwd=root,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    status = json.loads(proc.stdout or "{}")
    stale = [entry for entry in status.get("instances", [])
             if isinstance(entry, dict) and "changed deps" in entry]
    assert not stale, f"dvc.lock is stale for stage 'instances' ({stale}); run `dvc repro instances`"
