"""Are the committed pipeline outputs current with their code and parameters?

``dvc status`` lists every stage whose dependencies changed after its outputs were committed.
This module reads it and fails on any stage whose *code* (a ``reference_impl`` file) or
*parameters* changed, except the stages named in :data:`KNOWN_STALE`, each with the reason it
was not rerun; data dependencies that a fresh clone has not built yet (the instance library)
are not counted. No stage of the pipeline imports this module, so editing the list leaves every
stage as it is.

    python -m reference_impl.pipeline_status     # exit 1 and the list when a stage is stale
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: stages whose committed outputs are known to be older than their code, and why; each one is
#: rerun (`dvc repro STAGE`) on a machine held alone, then removed from here
KNOWN_STALE: dict[str, str] = {}


def stale_stages(root: Path = ROOT, *, outputs: bool = False) -> dict[str, list]:
    """``{stage: [changed code or parameters, ...]}`` from ``dvc status --json``; with
    ``outputs``, every change counts (data dependencies and outputs too: what CI checks once
    it has built the instance library)."""
    dvc = shutil.which("dvc") or str(Path(sys.executable).with_name("dvc"))
    proc = subprocess.run([dvc, "status", "--json"], cwd=root, capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(f"dvc status failed: {proc.stderr.strip()}")
    stale: dict[str, list] = {}
    for stage, entries in json.loads(proc.stdout or "{}").items():
        for entry in entries:
            if not isinstance(entry, dict):
                stale.setdefault(stage, []).append(entry)  # e.g. "changed command", "always changed"
                continue
            if outputs:
                stale.setdefault(stage, []).append(entry)
                continue
            changed = {path: how for path, how in (entry.get("changed deps") or {}).items()
                       if path.startswith("reference_impl") or path == "params.yaml"}
            if changed:
                stale.setdefault(stage, []).append(changed)
    return stale


def unexpected_stale(root: Path = ROOT, *, outputs: bool = False) -> dict[str, list]:
    """The stale stages that :data:`KNOWN_STALE` does not name."""
    return {stage: why for stage, why in stale_stages(root, outputs=outputs).items() if stage not in KNOWN_STALE}


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m reference_impl.pipeline_status", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--outputs", action="store_true",
                        help="count changed outputs and data dependencies too (once the instance library is built)")
    args = parser.parse_args(argv)
    stale = stale_stages(outputs=args.outputs)
    for stage, reason in KNOWN_STALE.items():
        print(f"known stale: {stage}: {reason}" + ("" if stage in stale else " (now current: remove it from KNOWN_STALE)"))
    unexpected = {s: w for s, w in stale.items() if s not in KNOWN_STALE}
    for stage, why in unexpected.items():
        print(f"STALE: {stage}: {why}", file=sys.stderr)
    if unexpected:
        print("rerun them (`dvc repro STAGE`) and commit the outputs with dvc.lock", file=sys.stderr)
        return 1
    print("every committed stage is current with its code and parameters")
    return 0


if __name__ == "__main__":
    sys.exit(main())
