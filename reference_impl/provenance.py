"""Where and with what a run happened: git commit, machine, library versions."""
from __future__ import annotations

import os
import platform
import subprocess
from functools import lru_cache
from pathlib import Path


#: What decides a result: everything else in the checkout is generated or documentation.
CODE_PATHS = ("reference_impl", "benchmarks", "pyproject.toml", "dvc.yaml", "params.yaml", "asv.conf.json")


@lru_cache(maxsize=1)
def git_commit() -> str:
    """The commit of the miobench checkout, or ``unknown``.

    ``+dirty`` when the code that produces results (the package, benchmarks, suite and
    pipeline definitions) has local changes; generated outputs (results, reports, dvc.lock)
    do not count, since a pipeline run rewrites them as it goes."""
    if os.environ.get("MIOBENCH_GIT_COMMIT"):
        return os.environ["MIOBENCH_GIT_COMMIT"]
    root = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True,
                                timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", *CODE_PATHS], cwd=root,
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return commit + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


@lru_cache(maxsize=1)
def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


@lru_cache(maxsize=1)
def machine() -> str:
    """A short machine description: host, CPU model and core count."""
    return f"{platform.node()} | {cpu_model()} | {os.cpu_count()} cores | {platform.system()} {platform.machine()}"
