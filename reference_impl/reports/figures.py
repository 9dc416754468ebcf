"""Report figures (seaborn, one consistent style), each saved as PNG and SVG."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from . import tables  # noqa: E402
from .style import STYLE  # noqa: E402
from .style import save as _save  # noqa: E402


def gap_distribution(frame: pd.DataFrame, directory: Path) -> list[Path]:
    sns.set_theme(**STYLE)
    table = tables.gap_distribution(frame)
    if table.empty:
        return []
    bins = [c for c in table.columns if c not in ("formulation", "configuration")]
    table["configuration"] = table["formulation"].str.split(".", n=1).str[-1] + " · " + table["configuration"]
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(table) + 1.5))
    left = np.zeros(len(table))
    colors = sns.color_palette("viridis", len(bins) - ("no incumbent" in bins))
    colors += [(0.8, 0.2, 0.2)] if "no incumbent" in bins else []
    for color, label in zip(colors, bins):
        ax.barh(table["configuration"], table[label], left=left, color=color, label=label)
        left += table[label].to_numpy()
    ax.set_xlabel("runs")
    ax.set_title("Final gap of attempted runs (miobench gap)")
    ax.legend(title="gap", bbox_to_anchor=(1.01, 1), loc="upper left")
    return _save(fig, directory, "gap_distribution")


def sgm_time(frame: pd.DataFrame, directory: Path) -> list[Path]:
    sns.set_theme(**STYLE)
    table = tables.sgm_time(frame)
    if table.empty:
        return []
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(table) + 1.5))
    table = table.assign(formulation=table["formulation"].str.split(".", n=1).str[-1])
    sns.barplot(data=table, y="formulation", x="relative", hue="configuration", ax=ax, orient="h")
    ax.set_xlabel("shifted geometric mean of time, relative to the best (shift 10 s, unsolved = limit)")
    ax.set_ylabel("")
    ax.axvline(1.0, color="k", lw=0.8)
    return _save(fig, directory, "sgm_time")


def root_strength(frame: pd.DataFrame, directory: Path, family: str) -> list[Path]:
    sns.set_theme(**STYLE)
    roots = tables.root_strength(frame[frame["family"] == family])
    if roots.empty:
        return []
    roots = roots.assign(problem_label=roots["instance"] + "\n" + roots["params_label"],
                         formulation=roots["formulation"].str.split(".", n=1).str[-1],
                         root_gap_pct=100 * roots["root_gap"])
    fig, ax = plt.subplots(figsize=(9, 0.5 * roots["problem_label"].nunique() + 1.8))
    sns.barplot(data=roots, y="problem_label", x="root_gap_pct", hue="formulation", ax=ax, orient="h")
    ax.set_xlabel("root gap, % (best objective vs continuous relaxation)")
    ax.set_ylabel("")
    ax.set_title(f"Formulation strength: {family}")
    return _save(fig, directory, f"root_strength_{family}")


def strength_vs_time(frame: pd.DataFrame, directory: Path, family: str) -> list[Path]:
    """Does relaxation strength predict difficulty? Root gap vs charged time, per run."""
    sns.set_theme(**STYLE)
    data = frame[(frame["family"] == family) & frame["attempted"] & frame["root_bound"].notna()].copy()
    if data.empty:
        return []
    best = tables.best_objectives(frame)
    data["root_gap_pct"] = [100 * tables.relative_gap(best.get(p), b) for p, b in zip(data["problem"], data["root_bound"])]
    data["formulation"] = data["formulation"].str.split(".", n=1).str[-1]
    data["outcome"] = np.where(data["solved"], "solved", "not solved")
    fig, ax = plt.subplots(figsize=(7, 4.5))
    sns.scatterplot(data=data, x="root_gap_pct", y="charged_seconds", hue="formulation", style="configuration",
                    size="outcome", sizes={"solved": 60, "not solved": 120}, ax=ax)
    ax.set_yscale("log")
    ax.set_xlabel("root gap, %")
    ax.set_ylabel("time, s (unsolved = time limit)")
    ax.set_title(f"Relaxation strength vs difficulty: {family}")
    ax.legend(bbox_to_anchor=(1.01, 1), loc="upper left")
    return _save(fig, directory, f"strength_vs_time_{family}")


def performance_profile(frame: pd.DataFrame, directory: Path, family: str) -> list[Path]:
    """Dolan–Moré performance profile (labelled as such): ρ(τ) = share of problems that a
    configuration solves within τ times the best configuration's time."""
    sns.set_theme(**STYLE)
    data = tables.performance_profile(frame, family)
    if data.empty or not np.isfinite(data["ratio"]).any():
        return []
    finite = data.loc[np.isfinite(data["ratio"]), "ratio"]
    taus = np.logspace(0, np.log10(max(finite.max(), 1.0) * 1.5), 200)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for configuration, rows in data.groupby("configuration"):
        ratios = rows["ratio"].to_numpy()
        ax.step(taus, [(ratios <= t).mean() for t in taus], where="post", label=configuration)
    ax.set_xscale("log")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("τ (time relative to the best configuration)")
    ax.set_ylabel("share of problems solved within τ·best")
    ax.set_title(f"Dolan–Moré performance profile: {family}")
    ax.legend(bbox_to_anchor=(1.01, 1), loc="upper left")
    return _save(fig, directory, f"performance_profile_{family}")


def progress(frame: pd.DataFrame, directory: Path) -> list[Path]:
    """Primal (solid) and dual (dashed) bound over time, one panel per problem."""
    sns.set_theme(**STYLE)
    data = tables.progress(frame)
    if data.empty:
        return []
    problems = sorted(data["problem"].unique())[:12]
    columns = min(3, len(problems))
    rows = int(np.ceil(len(problems) / columns))
    fig, axes = plt.subplots(rows, columns, figsize=(5 * columns, 3.4 * rows), squeeze=False)
    palette = dict(zip(sorted(data["configuration"].unique()), sns.color_palette()))
    for ax, problem in zip(axes.flat, problems):
        for configuration, points in data[data["problem"] == problem].groupby("configuration"):
            points = points.sort_values("seconds")
            color = palette[configuration]
            ax.step(points["seconds"], points["primal"], where="post", color=color, label=f"{configuration} primal")
            dual = points["dual"].where(np.isfinite(points["dual"]))
            ax.step(points["seconds"], dual, where="post", color=color, ls="--", label=f"{configuration} dual")
        ax.set_title(problem, fontsize=8)
        ax.set_xlabel("seconds")
    for ax in list(axes.flat)[len(problems):]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7)
    fig.tight_layout()
    return _save(fig, directory, "progress")
