"""Reproduced tables and figures of Tule, Le & Say, "Training Experimentally Robust and
Interpretable Binarized Regression Models Using Mixed-Integer Programming" (arXiv 2112.00434,
IEEE SSCI 2022).

* ``binarized.table2`` — Table II: gap, time and model-size reduction (% zero weights) of the
  MIP and the PBO per data set and training size, with the published numbers beside ours.
* ``binarized.fig1`` — Figure 1: train and test accuracy vs training size (MIP, PBO, LR, GD).
* ``binarized.fig2`` — Figure 2: test accuracy under 10 % label corruption (MIP, LR, GD) and
  the drop from the clean test accuracy.
* ``binarized.fig3`` — Figure 3: the MIP's MNIST weights per class (black +1, white −1, grey 0).

All four share one experiment run (:mod:`reference_impl.experiments.binarized`), cached per
cell in each output folder (``<out>/experiment-cache/``, or ``cache_dir``); a figure reuses
the cells that a sibling ``binarized.*`` figure already ran. Parameters: ``setting`` ("quick" | "paper"), ``time_limit``, ``mnist_sizes``,
``flags_sizes``, ``ubuntu_sizes``, ``datasets``, ``solver``, ``seed``, ``B``, ``grace``,
``isolate``, ``cache_dir``, ``progress``. The models are FORMULATIONS.md §7's
*reconstruction* of the paper's lost formulas.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ...errors import InputError
from ...experiments.binarized import ExperimentConfig, PAPER_TIME_LIMIT, experiment_config, run_experiment
from . import register_figure

PAPER = ("Tule, Le & Say, Training Experimentally Robust and Interpretable Binarized Regression Models Using "
         "Mixed-Integer Programming (arXiv 2112.00434, SSCI 2022)")
DATASETS = ("mnist", "flags", "ask_ubuntu")
LABEL = {"mnist": "MNIST", "flags": "Flags", "ubuntu": "Ask Ubuntu"}
MODEL_ORDER = ("MIP", "PBO", "LR", "GD")
MODEL_COLORS = {"MIP": "#0072B2", "PBO": "#E69F00", "LR": "#009E73", "GD": "#CC79A7"}
#: Marker and line style per model, so that overlapping curves stay visible.
MODEL_STYLES = {"MIP": "o-", "PBO": "s--", "LR": "D-.", "GD": "^:"}

#: Table II as published (model, dataset, training size, gap, time in s or None for "T.O."
#: = the one-hour limit, reduction %). Extracted from the paper's text; the rows printed
#: "PB" and the stray "x" before one "T.O." are typos of the original.
PUBLISHED_TABLE2: tuple[tuple[str, str, int, float, float | None, float], ...] = (
    ("MIP", "mnist", 20, 0.00, 3.99, 62.19), ("PBO", "mnist", 20, 0.34, None, 3.48),
    ("MIP", "mnist", 60, 0.00, 304.87, 55.23), ("PBO", "mnist", 60, 0.52, None, 11.28),
    ("MIP", "mnist", 100, 0.00034, None, 49.72), ("PBO", "mnist", 100, 0.51, None, 17.48),
    ("MIP", "mnist", 200, 0.00063, None, 44.87), ("PBO", "mnist", 200, 0.85, None, 34.22),
    ("MIP", "mnist", 300, 0.00068, None, 43.52), ("PBO", "mnist", 300, 1.28, None, 31.98),
    ("MIP", "mnist", 500, 0.00078, None, 40.47), ("PBO", "mnist", 500, 9.76, None, 19.97),
    ("MIP", "mnist", 700, 0.0010, None, 39.31), ("PBO", "mnist", 700, 12.60, None, 15.30),
    ("MIP", "mnist", 1000, 0.00081, None, 37.33), ("PBO", "mnist", 1000, 140.89, None, 6.54),
    ("MIP", "flags", 10, 0.00, 0.13, 69.77), ("PBO", "flags", 10, 0.00, 22.00, 53.48),
    ("MIP", "flags", 25, 0.00, 0.71, 48.37), ("PBO", "flags", 25, 96.25, None, 51.62),
    ("MIP", "flags", 35, 0.00, 0.58, 41.40), ("PBO", "flags", 35, 72.03, None, 47.44),
    ("MIP", "flags", 50, 0.00, 2.43, 44.19), ("PBO", "flags", 50, 119.56, None, 37.67),
    ("MIP", "ubuntu", 10, 0.00, 0.11, 69.58), ("PBO", "ubuntu", 10, 0.00, 13.16, 28.75),
    ("MIP", "ubuntu", 23, 0.00, 0.35, 68.17), ("PBO", "ubuntu", 23, 0.00, 1192.20, 33.54),
    ("MIP", "ubuntu", 43, 0.00, 0.83, 65.88), ("PBO", "ubuntu", 43, 251.08, None, 31.50),
)

#: What differs from the paper in every reproduction, whatever the numbers.
SETTING_DIFFERENCES = [
    "**Model** — the paper's formulas were lost from its text; we solve FORMULATIONS.md §7's reconstruction "
    "(module `reference_impl.formulations.binarized`). The bias bound B was lost too (ours: {B}).",
    "**Solvers** — the paper solved the MIP with Gurobi and the PBO with RoundingSat (a native pseudo-Boolean "
    "solver); we solve both as MILPs with {solver}, so the PBO reaches a MILP solver as its binary expansion; how "
    "RoundingSat's native pseudo-Boolean reasoning would fare on it is not measured here.",
    "**Time limit** — {time_limit:g} s per problem (paper: one hour, single thread). Quick runs stop long before "
    "the paper's runs did: more problems stop at the limit, with larger gaps, and their models are "
    "incumbents rather than optima.",
    "**Data** — MNIST splits are drawn from the 10,000-image test set ({mnist_source}) rather than all 70,000 "
    "images; pixels > 127 → 1 (the paper's threshold was lost). Flags: PMLB's 178 flags (paper: 143), counts "
    "thresholded to keep 43 features. Ask Ubuntu: bag of words fitted per training split. Stratified random "
    "splits, seed {seed}; the paper's splits are unknown, and with 10–50 training instances a different split "
    "moves test accuracy by several points.",
    "**Baselines** — LR is scikit-learn's default multinomial logistic regression (as in the paper); GD is our "
    "NumPy straight-through-estimator trainer mirroring Larq's ternary quantizer (paper: Larq), Adam, learning "
    "rate 0.001, 200 epochs.",
]


def published_table2() -> pd.DataFrame:
    rows = [{"model": m, "dataset": d, "n_train": n, "paper_gap": g, "paper_time_s": PAPER_TIME_LIMIT if t is None else t,
             "paper_timed_out": t is None, "paper_reduction_pct": r} for m, d, n, g, t, r in PUBLISHED_TABLE2]
    return pd.DataFrame(rows)


# -- shared experiment ----------------------------------------------------------------------
def _config(params: dict[str, Any]) -> ExperimentConfig:
    keys = ("time_limit", "solver", "seed", "B", "grace", "isolate", "corruption", "gd_epochs")
    overrides = {k: params[k] for k in keys if params.get(k) is not None}
    if isinstance(overrides.get("isolate"), str):
        overrides["isolate"] = overrides["isolate"].lower() in ("1", "true", "yes")
    return experiment_config(params.get("setting") or "quick", mnist_sizes=params.get("mnist_sizes"),
                             flags_sizes=params.get("flags_sizes"), ubuntu_sizes=params.get("ubuntu_sizes"),
                             datasets=params.get("datasets"), **overrides)


#: Sub-folder of each figure's output folder that caches the experiment's cells.
CACHE_FOLDER = "experiment-cache"


def experiment_frame(out_dir: Path, params: dict[str, Any]) -> tuple[pd.DataFrame, ExperimentConfig]:
    """Run (or reuse) the shared experiment; also write its rows to ``out_dir/experiment.csv``.

    Cells are cached in ``out_dir/experiment-cache`` (or ``cache_dir``); cells already run for
    another binarized figure (``../binarized.*/experiment-cache``) are reused, not re-run.
    """
    config = _config(params)
    out_dir = Path(out_dir)
    if params.get("cache_dir"):
        cache, others = Path(params["cache_dir"]), []
    else:
        cache = out_dir / CACHE_FOLDER
        others = sorted(p / CACHE_FOLDER for p in out_dir.parent.glob("binarized.*") if p.resolve() != out_dir.resolve())
    frame = run_experiment(config, cache, progress=bool(params.get("progress", True)), other_caches=others)
    frame.drop(columns=["weights"], errors="ignore").to_csv(Path(out_dir) / "experiment.csv", index=False)
    return frame, config


def _setting_text(frame: pd.DataFrame, config: ExperimentConfig) -> str:
    sources = sorted(set(frame.loc[frame["dataset"] == "mnist", "data_source"])) or ["not run"]
    values = {"B": config.B, "solver": config.solver, "time_limit": config.time_limit, "seed": config.seed,
              "mnist_source": ", ".join(sources)}
    sizes = "; ".join(f"{LABEL[d]} {list(s)}" for d, s in config.sizes.items())
    lines = [f"Setting of this run: solver `{config.solver}`, time limit {config.time_limit:g} s per problem "
             f"(hard kill at +{config.grace:g} s), training sizes {sizes}, seed {config.seed}, B = {config.B}, "
             f"(α, β) = (5, 10) for MNIST and (2, 5) for Flags and Ask Ubuntu, cache key `{config.key()}`.", "",
             "Differences from the paper's setting:", ""]
    lines += [f"- {item.format(**values)}" for item in SETTING_DIFFERENCES]
    return "\n".join(lines)


def _md_table(frame: pd.DataFrame) -> str:
    return frame.to_markdown(index=False, floatfmt=".4g") if not frame.empty else "_no rows_"


def _page(out_dir: Path, title: str, intro: str, body: list[str], frame, config) -> Path:
    text = "\n\n".join([f"# {title}", f"Paper: {PAPER}.", intro, *body, "## Setting", _setting_text(frame, config)])
    path = Path(out_dir) / "page.md"
    path.write_text(text.rstrip() + "\n")
    return path


def _save(fig, out_dir: Path, name: str) -> list[Path]:
    from ..style import save

    return save(fig, Path(out_dir), name)


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    from ..style import STYLE

    sns.set_theme(**STYLE)
    return plt


def _datasets_in(frame: pd.DataFrame) -> list[str]:
    return [d for d in ("mnist", "flags", "ubuntu") if d in set(frame["dataset"])]


def _fmt_time(seconds: float, timed_out: bool) -> str:
    return "T.O." if timed_out else ("" if pd.isna(seconds) else f"{seconds:.2f}")


# -- Table II -------------------------------------------------------------------------------------
def table2_frame(frame: pd.DataFrame) -> pd.DataFrame:
    ours = frame[(~frame["corrupted"].astype(bool)) & frame["model"].isin(["MIP", "PBO"])].copy()
    ours = ours.assign(timed_out=ours["status"] == "time_limit",
                       reduction_pct=ours["zero_weight_percent"])[
        ["model", "dataset", "n_train", "status", "gap", "solve_seconds", "timed_out", "reduction_pct", "objective",
         "bound", "bias_binding", "message"]]
    table = ours.merge(published_table2(), on=["model", "dataset", "n_train"], how="left")
    table["dataset"] = pd.Categorical(table["dataset"], ["mnist", "flags", "ubuntu"], ordered=True)
    return table.sort_values(["dataset", "n_train", "model"]).reset_index(drop=True)


@register_figure("binarized.table2", paper=PAPER, title="Table II: gap, time and size reduction of MIP and PBO",
                 datasets=DATASETS, setting="quick", paper_setting={"setting": "paper"})
def build_table2(out_dir: Path, **params: Any) -> list[Path]:
    """Table II (ours beside the published numbers) + a figure of reduction and time."""
    frame, config = experiment_frame(out_dir, params)
    table = table2_frame(frame)
    written = [Path(out_dir) / "experiment.csv", Path(out_dir) / "table2.csv"]
    table.to_csv(written[-1], index=False)
    plt = _plt()
    datasets = _datasets_in(table)
    fig, axes = plt.subplots(2, len(datasets), figsize=(4.2 * len(datasets), 6.5), squeeze=False)
    for k, dataset in enumerate(datasets):
        part = table[table["dataset"] == dataset]
        for model in ("MIP", "PBO"):
            rows = part[part["model"] == model]
            color = MODEL_COLORS[model]
            axes[0, k].plot(rows["n_train"], rows["reduction_pct"], "o-", color=color, label=f"{model} (ours)")
            axes[0, k].plot(rows["n_train"], rows["paper_reduction_pct"], "s--", color=color, alpha=0.6,
                            label=f"{model} (paper)")
            seconds = rows["solve_seconds"].where(~(rows["timed_out"] & rows["solve_seconds"].isna()), config.time_limit)
            axes[1, k].plot(rows["n_train"], seconds, "o-", color=color, label=f"{model} (ours)")
            axes[1, k].plot(rows["n_train"], rows["paper_time_s"], "s--", color=color, alpha=0.6, label=f"{model} (paper)")
        axes[1, k].axhline(config.time_limit, color="grey", lw=0.8, ls=":")
        axes[1, k].axhline(PAPER_TIME_LIMIT, color="grey", lw=0.8, ls="-.")
        axes[1, k].set_yscale("log")
        for ax in axes[:, k]:
            ax.set_xticks(sorted(part["n_train"].unique()))
        axes[0, k].set_title(LABEL[dataset])
        axes[1, k].set_xlabel("training instances")
    axes[0, 0].set_ylabel("size reduction (% zero weights)")
    axes[1, 0].set_ylabel("time (s; dotted: our limit, dash-dot: 1 h)")
    axes[0, -1].legend(fontsize=8, loc="best")
    fig.suptitle("Table II: MIP vs PBO (ours solid, paper dashed)")
    fig.tight_layout()
    written += _save(fig, out_dir, "table2")
    shown = table.assign(
        gap=table["gap"].map(lambda g: "inf" if not np.isfinite(g) else f"{g:.3g}"),
        time=[_fmt_time(s, t) for s, t in zip(table["solve_seconds"], table["timed_out"])],
        paper_time=[_fmt_time(s, t) for s, t in zip(table["paper_time_s"], table["paper_timed_out"])],
    )[["model", "dataset", "n_train", "status", "gap", "paper_gap", "time", "paper_time", "reduction_pct", "paper_reduction_pct"]]
    body = ["## Table II, ours beside the paper's",
            "Gap: ours is miobench's |primal − bound| / |primal| (relative); the paper does not define its gap "
            "column (its MIP gaps look like Gurobi's relative MIPGap; its PBO gaps of 96–141 cannot be relative "
            "gaps of the same kind). Time: solver seconds, T.O. = stopped at the time limit. Reduction: % of "
            "weights equal to 0.", _md_table(shown), "## Comparison", _table2_comparison(table, config)]
    written.append(_page(out_dir, "Binarized regression — Table II", "Model size, runtime and optimality gap of "
                         "the MIP and the PBO on the clean data sets.", body, frame, config))
    return written


def _table2_comparison(table: pd.DataFrame, config: ExperimentConfig) -> str:
    lines = []
    pairs = table.pivot_table(index=["dataset", "n_train"], columns="model", values="solve_seconds", observed=True)
    if {"MIP", "PBO"} <= set(pairs.columns):
        pairs = pairs.dropna()
        faster = int((pairs["MIP"] < pairs["PBO"]).sum())
        lines.append(f"- Paper: the MIP is faster than the PBO on every training problem and the PBO almost always "
                     f"times out. Ours: the MIP was faster on {faster} of {len(pairs)} problems; the PBO timed out on "
                     f"{int(table[(table.model == 'PBO')].timed_out.sum())} of {int((table.model == 'PBO').sum())}, "
                     f"the MIP on {int(table[(table.model == 'MIP')].timed_out.sum())} of {int((table.model == 'MIP').sum())}.")
    mip = table[(table["model"] == "MIP") & table["paper_reduction_pct"].notna() & table["reduction_pct"].notna()]
    if not mip.empty:
        diff = (mip["reduction_pct"] - mip["paper_reduction_pct"])
        lines.append(f"- Size reduction of the MIP: ours {mip['reduction_pct'].min():.1f}–{mip['reduction_pct'].max():.1f} % "
                     f"vs the paper's {mip['paper_reduction_pct'].min():.1f}–{mip['paper_reduction_pct'].max():.1f} % on the "
                     f"same problems (mean difference {diff.mean():+.1f} points). Even where both runs are optimal "
                     "the two need not agree: the splits differ, the model is a reconstruction (B in particular), and "
                     "optima with equal objective can differ in sparsity.")
        solved_both = mip[(mip["status"] == "optimal") & (mip["paper_gap"] == 0)]
        lines.append(f"- The MIP was proved optimal on {int((mip['status'] == 'optimal').sum())} of {len(mip)} problems "
                     f"(paper: {int((mip['paper_gap'] == 0).sum())} of {len(mip)} with gap 0.00); both on {len(solved_both)}.")
    pbo = table[(table["model"] == "PBO") & table["reduction_pct"].notna()]
    if not pbo.empty:
        lines.append(f"- PBO incumbents: size reduction {pbo['reduction_pct'].min():.1f}–{pbo['reduction_pct'].max():.1f} % "
                     f"(paper {pbo['paper_reduction_pct'].min():.1f}–{pbo['paper_reduction_pct'].max():.1f} %).")
    binding = table[(table["model"] == "MIP") & table["bias_binding"].notna()]
    if not binding.empty:
        lines.append(f"- The bias bound B = {config.B} binds (max b − min b ≥ 2B − 1, so no common shift of the biases fits "
                     f"inside (−B, B)) in {int(binding['bias_binding'].astype(bool).sum())} of {len(binding)} MIP "
                     "solutions: there the optimum of (10) may depend on B, whose value in the paper is unknown.")
    missing = table[table["objective"].isna()]
    if not missing.empty:
        killed = missing["message"].astype(str).str.contains("killed by the harness")
        for subset, why in ((missing[killed], "Killed at the hard limit (time limit + grace) before returning"),
                            (missing[~killed], "No incumbent found within the time limit")):
            if not subset.empty:
                names = ", ".join(f"{r.model} {LABEL[r.dataset]} {r.n_train}" for r in subset.itertuples())
                lines.append(f"- {why}: {names}.")
        if killed.any():
            lines.append("- HiGHS 1.15 does not check its time limit during root cut separation: on the PBO of "
                         "MNIST-20 it ran 108 s under a 5 s limit (measured separately), hence the hard kill.")
    if config.time_limit < PAPER_TIME_LIMIT:
        lines.append(f"- With {config.time_limit:g} s instead of one hour, our times cannot reach the paper's "
                     "T.O. entries and our gaps on the larger problems are larger than the paper's; "
                     "`--param setting=paper` runs the paper's sizes with its one-hour limit.")
    return "\n".join(lines)


# -- Figure 1 -----------------------------------------------------------------------------------
def _accuracy_grid(frame: pd.DataFrame, models, columns: list[tuple[str, str]], title: str):
    plt = _plt()
    datasets = _datasets_in(frame)
    fig, axes = plt.subplots(len(datasets), len(columns), figsize=(5.0 * len(columns), 3.3 * len(datasets)),
                             squeeze=False)
    for r, dataset in enumerate(datasets):
        part = frame[frame["dataset"] == dataset]
        for k, (column, label) in enumerate(columns):
            ax = axes[r, k]
            for model in models:
                rows = part[part["model"] == model].sort_values("n_train")
                if rows.empty or column not in rows:
                    continue
                ax.plot(rows["n_train"], rows[column], MODEL_STYLES[model], color=MODEL_COLORS[model], label=model,
                        markersize=6 if model == "MIP" else 4)
            ax.set_title(f"{LABEL[dataset]}: {label}")
            ax.set_xticks(sorted(part["n_train"].unique()))
            ax.set_xlabel("training instances")
    axes[0, -1].legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def accuracy_table(frame: pd.DataFrame, corrupted: bool, models=MODEL_ORDER) -> pd.DataFrame:
    part = frame[(frame["corrupted"].astype(bool) == corrupted) & frame["model"].isin(models)]
    table = part.pivot_table(index=["dataset", "n_train"], columns="model",
                             values=["train_accuracy", "test_accuracy"], observed=True)
    table.columns = [f"{model}_{'train' if kind == 'train_accuracy' else 'test'}" for kind, model in table.columns]
    order = [f"{m}_{k}" for k in ("train", "test") for m in models if f"{m}_{k}" in table.columns]
    table = table[order].reset_index()
    table["dataset"] = pd.Categorical(table["dataset"], ["mnist", "flags", "ubuntu"], ordered=True)
    return table.sort_values(["dataset", "n_train"]).reset_index(drop=True)


@register_figure("binarized.fig1", paper=PAPER, title="Figure 1: train and test accuracy vs training size",
                 datasets=DATASETS, setting="quick", paper_setting={"setting": "paper"})
def build_fig1(out_dir: Path, **params: Any) -> list[Path]:
    frame, config = experiment_frame(out_dir, params)
    clean = frame[~frame["corrupted"].astype(bool)]
    table = accuracy_table(frame, corrupted=False)
    written = [Path(out_dir) / "experiment.csv", Path(out_dir) / "fig1.csv"]
    table.to_csv(written[-1], index=False)
    fig = _accuracy_grid(clean, MODEL_ORDER, [("train_accuracy", "train accuracy"), ("test_accuracy", "test accuracy")],
                         "Figure 1: accuracy on the standard data sets")
    written += _save(fig, out_dir, "fig1")
    body = ["## Accuracy (clean data)", _md_table(table), "## Comparison with the paper's claims (§IV-B)",
            "The paper gives Figure 1 as plots only (no numbers survive in its text); we check its stated findings.",
            _fig1_comparison(table)]
    written.append(_page(out_dir, "Binarized regression — Figure 1", "Training (left) and test (right) accuracy of "
                         "the MIP, the PBO, logistic regression (LR, real weights) and the binarized GD baseline.",
                         body, frame, config))
    return written


def _count(table: pd.DataFrame, dataset: str, better: str, worse: str) -> tuple[int, int]:
    rows = table[table["dataset"] == dataset][[better, worse]].dropna() if {better, worse} <= set(table.columns) else []
    return (int((rows[better] > rows[worse]).sum()), len(rows)) if len(rows) else (0, 0)


def _fig1_comparison(table: pd.DataFrame) -> str:
    lines = []
    wins, total = _count(table, "mnist", "MIP_test", "GD_test")
    if total:
        lines.append(f"- Paper: on MNIST the MIP beats GD in test accuracy on 7 of 8 sizes. Ours: {wins} of {total}.")
        rows = table[table["dataset"] == "mnist"][["MIP_test", "LR_test"]].dropna()
        if len(rows):
            lines.append(f"- Paper: the MIP is competitive with LR on MNIST. Ours: mean MIP − LR test accuracy "
                         f"{(rows['MIP_test'] - rows['LR_test']).mean():+.3f}.")
        if "PBO_test" in table:
            pbo = table[table["dataset"] == "mnist"][["n_train", "PBO_test"]].dropna()
            if len(pbo) >= 2:
                trend = np.polyfit(pbo["n_train"], pbo["PBO_test"], 1)[0] * 100
                lines.append(f"- Paper: the PBO degrades as the training set grows. Ours: PBO test accuracy changes by "
                             f"{trend:+.3f} per 100 more training images (sizes with an incumbent: {pbo['n_train'].tolist()}).")
    for dataset in ("flags", "ubuntu"):
        for model in ("MIP", "PBO"):
            wins, total = _count(table, dataset, f"{model}_test", "GD_test")
            if total:
                lines.append(f"- Paper: on {LABEL[dataset]} the {model} consistently beats GD. Ours: {wins} of {total} sizes.")
        rows = table[table["dataset"] == dataset][["MIP_test", "LR_test"]].dropna() if "MIP_test" in table else []
        if len(rows):
            lines.append(f"- {LABEL[dataset]}: mean MIP − LR test accuracy {(rows['MIP_test'] - rows['LR_test']).mean():+.3f} "
                         "(paper: competitive).")
    lines.append("- Why numbers differ: small training sets make test accuracy depend strongly on the split (ours are "
                 "seeded stratified draws, the paper's are unknown); time-limited MIP/PBO runs return incumbents, not "
                 "optima; and the MNIST test pool is the t10k set, not the remaining 69,980 images.")
    return "\n".join(lines)


# -- Figure 2 -----------------------------------------------------------------------------------
@register_figure("binarized.fig2", paper=PAPER, title="Figure 2: test accuracy under 10 % label corruption",
                 datasets=DATASETS, setting="quick", paper_setting={"setting": "paper"})
def build_fig2(out_dir: Path, **params: Any) -> list[Path]:
    frame, config = experiment_frame(out_dir, params)
    models = [m for m in MODEL_ORDER if m in set(frame.loc[frame["corrupted"].astype(bool), "model"])]
    clean = frame[~frame["corrupted"].astype(bool)][["dataset", "n_train", "model", "test_accuracy"]]
    corrupted = frame[frame["corrupted"].astype(bool)]
    merged = corrupted.merge(clean, on=["dataset", "n_train", "model"], suffixes=("", "_clean"), how="left")
    merged["accuracy_drop"] = merged["test_accuracy_clean"] - merged["test_accuracy"]
    table = merged[["dataset", "n_train", "model", "n_flipped", "test_accuracy", "test_accuracy_clean", "accuracy_drop"]]
    table = table.assign(dataset=pd.Categorical(table["dataset"], ["mnist", "flags", "ubuntu"], ordered=True)) \
        .sort_values(["dataset", "n_train", "model"]).reset_index(drop=True)
    written = [Path(out_dir) / "experiment.csv", Path(out_dir) / "fig2.csv"]
    table.to_csv(written[-1], index=False)
    fig = _accuracy_grid(merged, models, [("test_accuracy", "test accuracy (corrupted)"),
                                          ("accuracy_drop", "drop vs clean (clean − corrupted)")],
                         "Figure 2: 10 % of training labels reassigned")
    written += _save(fig, out_dir, "fig2")
    wide = table.pivot_table(index=["dataset", "n_train"], columns="model", values=["test_accuracy", "accuracy_drop"],
                             observed=True)
    wide.columns = [f"{m}_{'test' if k == 'test_accuracy' else 'drop'}" for k, m in wide.columns]
    wide = wide.reset_index()
    body = ["## Test accuracy with corrupted training labels, and the drop from clean", _md_table(table),
            "## Comparison with the paper's claims (§IV-C)", _fig2_comparison(wide, table)]
    written.append(_page(out_dir, "Binarized regression — Figure 2", "10 % of the training labels are reassigned to "
                         "another class (seeded; test labels untouched); the MIP is compared with LR and GD, as in "
                         "the paper.", body, frame, config))
    return written


def _fig2_comparison(wide: pd.DataFrame, table: pd.DataFrame) -> str:
    lines = []
    for dataset in ("mnist", "flags", "ubuntu"):
        rows = wide[wide["dataset"] == dataset]
        if rows.empty or "MIP_test" not in rows:
            continue
        parts = []
        for other in ("LR", "GD"):
            if f"{other}_test" in rows:
                both = rows[["MIP_test", f"{other}_test"]].dropna()
                parts.append(f"beats {other} on {int((both['MIP_test'] > both[f'{other}_test']).sum())} of {len(both)} sizes")
        drops = {m: rows[f"{m}_drop"].mean() for m in ("MIP", "LR", "GD") if f"{m}_drop" in rows}
        drop_text = ", ".join(f"{m} {v:+.3f}" for m, v in drops.items() if not math.isnan(v))
        claim = ("the MIP beats LR and GD with a minimal drop" if dataset != "ubuntu"
                 else "the MIP beats GD and is competitive with LR")
        lines.append(f"- {LABEL[dataset]} — paper: {claim}. Ours: the MIP {', '.join(parts)}; mean drop {drop_text}.")
    flips = table.groupby("dataset", observed=True)["n_flipped"].agg(["min", "max"])
    flip_text = "; ".join(f"{LABEL[d]} {r['min']}–{r['max']}" for d, r in flips.iterrows())
    negative = int((table["accuracy_drop"] < 0).sum())
    lines.append(f"- 10 % corruption flips few labels here ({flip_text} per training set), so each drop depends on which "
                 f"instances were flipped, on one split: {negative} of {len(table)} model × size cells even gained "
                 "accuracy after corruption. Time-limited MIP runs (incumbents, not optima) add noise of their own.")
    return "\n".join(lines)


# -- Figure 3 -----------------------------------------------------------------------------------
@register_figure("binarized.fig3", paper=PAPER, title="Figure 3: MIP weights on MNIST per class",
                 datasets=("mnist",), setting="quick", paper_setting={"setting": "paper"})
def build_fig3(out_dir: Path, **params: Any) -> list[Path]:
    from matplotlib.colors import ListedColormap

    from ...formulations.binarized import decode_ternary

    frame, config = experiment_frame(out_dir, params)
    rows = frame[(frame["dataset"] == "mnist") & (frame["model"] == "MIP") & (~frame["corrupted"].astype(bool))
                 & (frame["weights"].astype(str).str.len() > 0)]
    if rows.empty:
        raise InputError("binarized.fig3 needs a clean MNIST MIP run with an incumbent; include mnist in the sizes")
    row = rows.sort_values("n_train").iloc[-1]
    w = decode_ternary(str(row["weights"]), 784, 10)
    biases = json.loads(row["biases"]) if row["biases"] else [0] * 10
    plt = _plt()
    fig, axes = plt.subplots(2, 5, figsize=(10, 4.6))
    cmap = ListedColormap(["white", "0.6", "black"])  # -1, 0, +1
    for c, ax in enumerate(axes.ravel()):
        ax.imshow(w[:, c].reshape(28, 28), cmap=cmap, vmin=-1, vmax=1, interpolation="nearest")
        ax.set_title(f"class {c} (b = {biases[c]})", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
    fig.suptitle(f"Figure 3: MIP weights, MNIST, {int(row['n_train'])} training images "
                 "(black +1, white −1, grey 0)")
    fig.tight_layout()
    counts = pd.DataFrame({"class": range(10), "plus": (w == 1).sum(axis=0), "minus": (w == -1).sum(axis=0),
                           "zero": (w == 0).sum(axis=0), "bias": biases})
    written = [Path(out_dir) / "experiment.csv", Path(out_dir) / "fig3.csv"]
    counts.to_csv(written[-1], index=False)
    np.savetxt(Path(out_dir) / "fig3_weights.csv", w, fmt="%d", delimiter=",", header="784 pixels (row-major 28x28) x 10 classes")
    written.append(Path(out_dir) / "fig3_weights.csv")
    written += _save(fig, out_dir, "fig3")
    body = ["## Weights per class", f"From the MIP on {int(row['n_train'])} clean MNIST training images "
            f"(status `{row['status']}`, gap {row['gap']:.3g}, test accuracy {row['test_accuracy']:.3f}, "
            f"{row['zero_weight_percent']:.1f} % zero weights).", _md_table(counts),
            "## Comparison", "The paper shows the same kind of picture for its MIP (subfigures 3(a)–(j)) and reads "
            "each one as what the model expects the digit to look like (black) and not to look like (white); it "
            "publishes no numbers for it, and which training size it shows did not survive in its text. We show "
            f"the largest MNIST size of this run ({int(row['n_train'])} images; the paper's runs went to 1,000 with "
            "one hour of Gurobi each), so the comparison is visual only: a time-limited incumbent or a smaller "
            "training set gives a different, typically less regular, picture than the paper's."]
    written.append(_page(out_dir, "Binarized regression — Figure 3", "Simulatability: the learned ternary weights "
                         "of the MIP drawn as 28×28 images, one per digit.", body, frame, config))
    return written
