"""Where raw public data files live, and checksum-verified access to them.

Raw files that no Python package ships are read from ``$MIOBENCH_DATA_DIR`` (default:
``../shared/datasets`` relative to the working directory, or else relative to the checkout
that holds this package), one folder per dataset. Each
file is checked against the sha256 on record. If a file is missing and
``MIOBENCH_ALLOW_DOWNLOAD=1`` is set, it is fetched from its canonical URL and checked.
"""
from __future__ import annotations

import os
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from ..errors import DataMissingError, IntegrityError
from .storage import sha256_file

DEFAULT_DATA_DIR = "../shared/datasets"


#: the checkout (repository root) holding this package, for paths relative to it
REPO_ROOT = Path(__file__).resolve().parents[2]


def repo_relative(path: str) -> Path:
    """``path`` relative to the working directory if it exists there, else to the checkout."""
    candidate = Path(path).expanduser()
    if candidate.is_absolute() or candidate.exists():
        return candidate
    in_checkout = REPO_ROOT / path
    return in_checkout if in_checkout.exists() else candidate


def data_dir() -> Path:
    return repo_relative(os.environ.get("MIOBENCH_DATA_DIR", DEFAULT_DATA_DIR))


@dataclass(frozen=True)
class DataFile:
    """One raw file: its place under the data directory, checksum and canonical source."""

    dataset: str
    relpath: str
    sha256: str
    url: str = ""
    citation: str = ""

    def path(self) -> Path:
        """Return the verified local path, downloading it when allowed; else raise clearly."""
        path = data_dir() / self.relpath
        if not path.exists():
            if self.url and os.environ.get("MIOBENCH_ALLOW_DOWNLOAD") == "1":
                path.parent.mkdir(parents=True, exist_ok=True)
                urllib.request.urlretrieve(self.url, path)  # noqa: S310 (canonical source)
            else:
                raise DataMissingError(
                    f"{self.dataset} needs the file {path} which does not exist. Set "
                    f"MIOBENCH_DATA_DIR to the folder holding '{self.relpath}'"
                    + (f", or set MIOBENCH_ALLOW_DOWNLOAD=1 to fetch it from {self.url}" if self.url else "")
                    + "."
                )
        digest = sha256_file(path)
        if digest != self.sha256:
            raise IntegrityError(
                f"{path} has sha256 {digest[:16]}…, expected {self.sha256[:16]}…; the file is not "
                f"the published {self.dataset} copy (altered or truncated)."
            )
        return path
