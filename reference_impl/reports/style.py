"""One style and one way to save a figure (PNG and SVG), for the reports and the paper figures."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

#: One style for every figure; a fixed SVG hash salt makes the SVGs byte-identical across builds.
STYLE = {"style": "whitegrid", "context": "notebook", "palette": "colorblind", "rc": {"svg.hashsalt": "miobench"}}


def save(fig, directory: Path, name: str) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for ext in ("png", "svg"):
        path = directory / f"{name}.{ext}"
        fig.savefig(path, dpi=130 if ext == "png" else None, bbox_inches="tight", metadata={"Date": None} if ext == "svg" else None)
        paths.append(path)
    plt.close(fig)
    return paths
