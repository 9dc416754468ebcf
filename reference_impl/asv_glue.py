"""asv glue: run the benchmark suite with the machine file kept in the repository, read asv
result files, and flag regressions between two commits.

asv keeps its machine file in ``~/.asv-machine.json``; every asv call made here sets
``HOME`` to ``<repo>/.asv/home`` so that file, like results and environments (``.asv/`` in
``asv.conf.json``), stays inside the ignored ``.asv/`` folder.

Regression rule (:func:`compare`): a ``time_*`` or ``peakmem_*`` benchmark regresses when
head / base > ``factor``; a ``track_gap`` / ``track_root_gap`` benchmark regresses when the
head gap exceeds the base gap by more than ``gap_tol`` (or becomes infinite/NaN); a benchmark
that ran at base and fails at head is a regression too. Other ``track_*`` values (nodes)
are reported but never fail the comparison.
"""
from __future__ import annotations

import itertools
import json
import math
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from typing import TYPE_CHECKING

from .errors import DataMissingError, InputError

if TYPE_CHECKING:
    import pandas as pd

ASV_DIR = Path(".asv")


def asv_env(root: Path = Path(".")) -> dict[str, str]:
    home = (root / ASV_DIR / "home").resolve()
    home.mkdir(parents=True, exist_ok=True)
    return {**os.environ, "HOME": str(home)}


#: asv from this interpreter, benchmarking this interpreter's environment: works whether or
#: not the virtual environment is activated (``existing`` alone would take ``python`` from PATH).
ASV = [sys.executable, "-m", "asv"]
EXISTING = f"existing:{sys.executable}"


def _asv(args: list[str], root: Path = Path(".")) -> int:
    if not (Path(root) / "asv.conf.json").exists():
        raise InputError(f"no asv.conf.json in {Path(root).resolve()}: run `miobench bench` from the repository root")
    env = asv_env(root)
    try:
        if not (Path(env["HOME"]) / ".asv-machine.json").exists():
            subprocess.run([*ASV, "machine", "--yes"], cwd=root, env=env, check=True, capture_output=True)
        return subprocess.run([*ASV, *args], cwd=root, env=env).returncode
    except subprocess.CalledProcessError as exc:
        reason = (exc.stderr or exc.stdout or b"").decode(errors="replace").strip() or f"exit status {exc.returncode}"
        raise InputError(f"asv could not set up its machine file: {reason}") from None


def run(*, quick: bool = False, bench: str | None = None, root: Path = Path(".")) -> int:
    """``asv run -E existing --set-commit-hash HEAD`` (results saved under .asv/results).

    A ``quick`` run (one sample of each benchmark: a check that every benchmark runs, CI's use)
    forks each benchmark from a server process that imported the suite once (asv's
    ``forkserver``), about 3x faster than a fresh interpreter per benchmark; a measuring run
    keeps ``spawn`` (asv.conf.json), so no benchmark inherits another's memory or JIT state."""
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True).stdout.strip()
    args = ["run", "-E", EXISTING, "--set-commit-hash", commit, "--show-stderr"]
    args += ["--quick", "--launch-method", "forkserver"] if quick else []
    args += ["--bench", bench] if bench else []
    return _asv(args, root)


def check(root: Path = Path(".")) -> int:
    return _asv(["check", "-E", EXISTING], root)


def publish(root: Path = Path(".")) -> int:
    return _asv(["publish"], root)


# -- reading result files -------------------------------------------------------------------
def load_results(results_dir: str | Path = ASV_DIR / "results") -> "pd.DataFrame":
    """Every benchmark value of every result file: one row per (machine, commit, benchmark, params)."""
    import pandas as pd

    rows = []
    for path in sorted(Path(results_dir).glob("*/*.json")):
        if path.name == "machine.json":
            continue
        data = json.loads(path.read_text())
        columns = data.get("result_columns", ["result", "params"])
        for name, entry in data.get("results", {}).items():
            fields = dict(zip(columns, entry))
            params = fields.get("params") or []
            values = fields.get("result")
            combos = list(itertools.product(*params)) if params else [()]
            if not isinstance(values, list):
                values = [values]
            for combo, value in zip(combos, values):
                rows.append({"machine": path.parent.name, "commit": data["commit_hash"], "date": data.get("date"),
                             "benchmark": name, "params": " / ".join(str(p).strip("'") for p in combo),
                             "value": math.nan if value is None else float(value)})
    return pd.DataFrame(rows, columns=["machine", "commit", "date", "benchmark", "params", "value"])


@dataclass
class Change:
    benchmark: str
    params: str
    base: float
    head: float
    kind: str          # "slower", "gap worse", "broken", "faster", "info"

    @property
    def ratio(self) -> float:
        return self.head / self.base if self.base else math.inf


def compare(base: str, head: str, *, factor: float = 1.2, gap_tol: float = 1e-6,
            results_dir: str | Path = ASV_DIR / "results", machine: str | None = None) -> list[Change]:
    """Changes between the results of two commits (hash prefixes); see the module docstring."""
    frame = load_results(results_dir)
    if machine:
        frame = frame[frame["machine"] == machine]
    picked = {}
    for label, prefix in (("base", base), ("head", head)):
        rows = frame[frame["commit"].str.startswith(prefix)]
        if rows.empty:
            raise DataMissingError(f"no asv results for commit {prefix!r} in {results_dir}; run `miobench bench run` on it first")
        if rows["machine"].nunique() > 1:
            raise InputError(f"results for {prefix!r} come from several machines; pass --machine")
        picked[label] = rows.set_index(["benchmark", "params"])["value"]
    joined = picked["base"].to_frame("base").join(picked["head"].to_frame("head"), how="inner")
    changes = []
    for (name, params), (b, h) in joined.iterrows():
        short = name.rsplit(".", 1)[-1]
        if math.isnan(b):
            continue
        if math.isnan(h):
            changes.append(Change(name, params, b, h, "broken"))
        elif short.startswith(("time_", "peakmem_", "mem_")):
            if h > b * factor:
                changes.append(Change(name, params, b, h, "slower"))
            elif h * factor < b:
                changes.append(Change(name, params, b, h, "faster"))
        elif "gap" in short:
            if h > b + gap_tol or (math.isinf(h) and not math.isinf(b)):
                changes.append(Change(name, params, b, h, "gap worse"))
        elif h != b:
            changes.append(Change(name, params, b, h, "info"))
    return changes


REGRESSIONS = ("slower", "gap worse", "broken")
