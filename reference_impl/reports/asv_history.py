"""Benchmarks over commits, from asv result files (``.asv/results``): one line per benchmark
case, x = commit date, y = value; plus the table of values behind it."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..asv_glue import load_results
from ..errors import DataMissingError


def build_asv_report(results_dir: str | Path, out: str | Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    from .style import STYLE, save as _save

    frame = load_results(results_dir)
    if frame.empty:
        raise DataMissingError(f"no asv results in {results_dir}; run `miobench bench run` first")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    frame["when"] = pd.to_datetime(frame["date"], unit="ms")
    frame["commit"] = frame["commit"].str.slice(0, 8)
    frame.to_csv(out / "asv_results.csv", index=False)
    written = [out / "asv_results.csv"]
    sns.set_theme(**STYLE)
    lines = ["# Benchmarks over commits (asv)", "", f"From `{results_dir}`; every value is a row of asv_results.csv.", ""]
    for benchmark, rows in frame.dropna(subset=["value"]).groupby("benchmark"):
        fig, ax = plt.subplots(figsize=(9, 4))
        sns.lineplot(data=rows.sort_values("when"), x="when", y="value", hue="params", marker="o", ax=ax, legend=False)
        ax.set_title(benchmark)
        ax.set_xlabel("commit date")
        if benchmark.rsplit(".", 1)[-1].startswith("time_"):
            ax.set_yscale("log")
            ax.set_ylabel("seconds")
        name = benchmark.replace(".", "_")
        written += _save(fig, out, name)
        pivot = rows.pivot_table(index="params", columns="commit", values="value", aggfunc="first")
        lines += [f"## {benchmark}", "", f"![{name}]({name}.png)", "", pivot.to_markdown(floatfmt=".4g"), ""]
    (out / "report.md").write_text("\n".join(lines) + "\n")
    return [out / "report.md", *written]
