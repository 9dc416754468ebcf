"""GB paper, Figures 5–9: the top-N Rashomon set of k-sparse logistic regression on DOROTHEA
(Liu & Lodi, "From Sequential Nodes to GPU Batches", arXiv 2605.22188, Rashomon-set section),
and the same analyses for one regression data set (Communities and Crime).

The set is collected and certified by :func:`reference_impl.kglm.rashomon.rashomon` (the batched
branch and bound with the Rashomon threshold; ``complete`` = the tree was exhausted, so every
k-support outside the set is proven worse than the N-th best). The analyses are the pure
functions of :mod:`reference_impl.kglm.rashomon_analysis`: support frequency (Figure 5), model
reliance min/max over the set (Figure 6; Fisher, Rudin & Dominici 2019), objective vs AUC (7),
objective vs accuracy (8), accuracy vs AUC (9), the Pareto front objective vs AUC. The cost of
the set is reported as a multiple of the time to certify the optimum alone — that solve goes
through :func:`reference_impl.api.solve` (solver ``bnb`` of ``kglm.perspective``), so the
evaluator confirms the optimum the set must start with.

Setting: the instance ``dorothea-valid-f20`` (the validation split of the data folder, features
active in ≥ 20 compounds: n = 350, p = 1,066) with the kglm suite's hyperparameters (k = 5,
λ2 = 1, M = 2, logistic); the paper's captions state k = 5 and the top 1,000 on DOROTHEA but not
λ2, M or the screening. The metrics are on the data the set is fitted on (the data folder has no
labelled test split of DOROTHEA). The regression set uses ``communities-crime`` (n = 1,993,
p = 100), squared loss, k = 5.
"""
from __future__ import annotations

import math
import time
from pathlib import Path

import pandas as pd

from . import register_figure

PAPER = "Liu & Lodi, From Sequential Nodes to GPU Batches (arXiv 2605.22188)"
CLAIMS = ("- Paper (Figures 5–9): the saved top-1000 DOROTHEA Rashomon set with k = 5 — support frequency, "
          "model reliance, objective vs AUC, objective vs accuracy, accuracy vs AUC; the captions give no "
          "numbers to compare beyond the setting (k = 5, top 1000), so the page reports ours and the setting.\n")


def _data(instance_id: str, loss: str):
    from ...formulations.kglm import glm_data
    from ...instances import resolve_instance

    X, y, _ = glm_data(resolve_instance(instance_id), loss)
    return X, y


def _collect(X, y, *, loss: str, k: int, top: int, lambda2: float, M: float, batch_size: int, time_limit: float):
    from ...kglm.rashomon import rashomon

    return rashomon(X, y, k=k, loss=loss, lambda2=lambda2, M=M, top=top, batch_size=batch_size, time_limit=time_limit)


def _certify(instance_id: str, *, loss: str, k: int, lambda2: float, M: float, batch_size: int, time_limit: float):
    from ...api import solve

    return solve("kglm.perspective", instance_id, solver="bnb", time_limit=time_limit, rel_gap=1e-6,
                 solver_options={"batch_size": batch_size}, k=k, loss=loss, lambda2=lambda2, M=M)


def _cost_rows(label: str, record, collected: list[tuple[str, object]]) -> list[dict]:
    """The cost table: certifying the optimum alone, then each collected set, as multiples of it."""
    rows = [{"data": label, "what": "certify the optimum alone (api.solve, bnb, B = 256)", "status": record.status,
             "seconds": record.solve_seconds, "nodes": record.nodes, "objective": record.objective}]
    rows += [{"data": label, "what": what, "status": r.status, "seconds": r.seconds, "nodes": r.nodes,
              "objective": r.optimum} for what, r in collected]
    base = float(record.solve_seconds) if record.solve_seconds else math.nan
    for row in rows:
        row["multiple_of_certify"] = float(row["seconds"]) / base if base > 0 else math.nan
    return rows


@register_figure("gb.rashomon", paper=PAPER,
                 title="Figures 5–9: the top-1000 Rashomon set on DOROTHEA (k = 5), and on Communities and Crime",
                 datasets=("dorothea", "communities_and_crime"),
                 instance="dorothea-valid-f20", regression_instance="communities-crime", k=5, top=1000, lambda2=1.0,
                 M=2.0, time_limit=1800.0, sequential_top=20, paper_setting={"time_limit": 3600.0, "sequential_top": 1000})
def build(out: Path, *, instance: str, regression_instance: str, k: int, top: int, lambda2: float, M: float,
          time_limit: float, sequential_top: int) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    from ...kglm import rashomon_analysis as ra
    from ..style import STYLE, save as _save

    sns.set_theme(**STYLE)
    started = time.perf_counter()
    cost, written = [], []
    sets = {}
    for label, instance_id, loss in (("DOROTHEA", instance, "logistic"),
                                     ("Communities and Crime", regression_instance, "squared")):
        X, y = _data(instance_id, loss)
        record = _certify(instance_id, loss=loss, k=k, lambda2=lambda2, M=M, batch_size=256, time_limit=time_limit)
        result = _collect(X, y, loss=loss, k=k, top=top, lambda2=lambda2, M=M, batch_size=256, time_limit=time_limit)
        collected = [(f"collect and certify the top {top} (B = 256)", result)]
        if sequential_top and label == "DOROTHEA":  # batched vs sequential on the same (smaller) set
            for batch in (256, 1):
                collected.append((f"collect the top {sequential_top} (B = {batch})",
                                  _collect(X, y, loss=loss, k=k, top=sequential_top, lambda2=lambda2, M=M,
                                           batch_size=batch, time_limit=time_limit)))
        cost += _cost_rows(label, record, collected)
        sets[label] = (result, X, y, loss, record)

    # DOROTHEA: Figures 5-9
    result, X, y, loss, _ = sets["DOROTHEA"]
    freq = ra.support_frequency(result).sort_values("frequency", ascending=False)
    reliance = ra.model_reliance(result, X, y, seed=0)
    metrics = ra.classification_metrics(result, X, y)
    front = ra.pareto_front(metrics, "auc")
    result.to_frame().to_csv(out / "dorothea_models.csv", index=False)
    metrics.drop(columns=["support"]).to_csv(out / "dorothea_metrics.csv", index=False)
    freq.to_csv(out / "dorothea_support_frequency.csv", index=False)
    reliance.to_csv(out / "dorothea_model_reliance.csv", index=False)

    fig, axes = plt.subplots(2, 3, figsize=(16, 9))
    top_features = freq[freq["count"] > 0].head(25)
    sns.barplot(data=top_features, x="feature", y="frequency", order=list(top_features["feature"]), ax=axes[0, 0],
                color="C0")
    axes[0, 0].set_title("Fig. 5: support frequency (top 25 features)")
    axes[0, 0].tick_params(axis="x", rotation=90)
    shown = reliance.set_index("feature").loc[list(top_features["feature"])].reset_index()
    axes[0, 1].vlines(range(len(shown)), shown["min"], shown["max"], color="C1")
    axes[0, 1].scatter(range(len(shown)), shown["mean"], color="C1", s=12)
    axes[0, 1].set_xticks(range(len(shown)), [str(f) for f in shown["feature"]], rotation=90)
    axes[0, 1].set_title("Fig. 6: model reliance, min–max over the set")
    axes[0, 1].set_ylabel("increase in mean logistic loss")
    for ax, (xcol, ycol, title) in zip([axes[0, 2], axes[1, 0], axes[1, 1]],
                                       [("objective", "auc", "Fig. 7: objective vs AUC"),
                                        ("objective", "accuracy", "Fig. 8: objective vs accuracy"),
                                        ("auc", "accuracy", "Fig. 9: accuracy vs AUC")]):
        ax.scatter(metrics[xcol], metrics[ycol], s=8, alpha=0.6)
        ax.set_xlabel(xcol)
        ax.set_ylabel(ycol)
        ax.set_title(title)
    axes[0, 2].plot(front["objective"], front["auc"], color="C3", marker="o", ms=3, label="Pareto front")
    axes[0, 2].legend()
    # Communities and Crime: the same support frequency and the objective vs R² trade-off
    reg, Xr, yr, _, _ = sets["Communities and Crime"]
    reg_metrics = ra.regression_metrics(reg, Xr, yr)
    reg_metrics.drop(columns=["support"]).to_csv(out / "communities_metrics.csv", index=False)
    reg.to_frame().to_csv(out / "communities_models.csv", index=False)
    axes[1, 2].scatter(reg_metrics["objective"], reg_metrics["r2"], s=8, alpha=0.6, color="C2")
    axes[1, 2].set_xlabel("objective")
    axes[1, 2].set_ylabel("R²")
    axes[1, 2].set_title(f"Communities and Crime: objective vs R² (top {reg.top})")
    fig.suptitle(f"Top-{top} Rashomon sets, k = {k}, λ2 = {lambda2:g}, M = {M:g}")
    fig.tight_layout()
    paths = _save(fig, out, "gb_rashomon")

    cost_table = pd.DataFrame(cost)
    cost_table.to_csv(out / "cost.csv", index=False)
    reg_freq = ra.support_frequency(reg).sort_values("frequency", ascending=False).head(10)
    summary = pd.DataFrame([{"data": label, "models": len(r), "complete": r.complete, "status": r.status,
                             "optimum": r.optimum, "threshold": r.threshold,
                             "optimum_by_api_solve": rec.objective, "api_solve_status": rec.status,
                             "supports_evaluated": r.evaluated}
                            for label, (r, *_, rec) in sets.items()])
    summary.to_csv(out / "summary.csv", index=False)
    best = metrics.iloc[0]
    best_auc = metrics.loc[metrics["auc"].idxmax()]
    page = out / "page.md"
    from ...provenance import machine

    page.write_text(
        f"# {PAPER}: Rashomon sets (Figures 5–9)\n\n![figure](gb_rashomon.png)\n\n"
        "## The sets\n\n" + summary.to_markdown(index=False, floatfmt=".6g") + "\n\n"
        "`complete` = the search tree was exhausted: every k-support outside the set is proven (weak-duality "
        "node bounds) to have an objective above the threshold. `optimum_by_api_solve` is the optimum certified "
        "alone through `api.solve` (solver `bnb`, evaluator-checked); it must equal the set's best objective.\n\n"
        "## Cost of the set (multiple of certifying the optimum alone)\n\n"
        + cost_table.to_markdown(index=False, floatfmt=".4g") + "\n\n"
        "## What the DOROTHEA set says\n\n"
        f"- the optimum (rank 0) has training AUC {best['auc']:.4f} and accuracy {best['accuracy']:.4f}; the best "
        f"AUC in the set is {best_auc['auc']:.4f} (rank {int(best_auc['rank'])}, objective "
        f"{best_auc['objective']:.6g}, {100 * (best_auc['objective'] / best['objective'] - 1):.3f} % above the optimum)\n"
        f"- {int((freq['count'] > 0).sum())} features appear in some model; the most frequent:\n\n"
        + freq.head(10).to_markdown(index=False, floatfmt=".3g") + "\n\n"
        f"- Pareto front objective vs AUC: {len(front)} models\n\n"
        "## Communities and Crime: most frequent features\n\n" + reg_freq.to_markdown(index=False, floatfmt=".3g")
        + "\n\n## Published and setting\n\n" + CLAIMS
        + f"- Ours: machine {machine()}; NumPy backend (no GPU was usable here: the GPU timings are not measured); "
          f"time limit {time_limit:g} s per set; the metrics are on the data the set is fitted on (no labelled "
          f"test split of DOROTHEA is in the data folder); model reliance = increase of the mean loss when one "
          f"column is permuted (one seeded permutation per feature, shared by all models).\n"
        + f"- Built in {time.perf_counter() - started:.0f} s.\n")
    written += [*paths, page, out / "cost.csv", out / "summary.csv", out / "dorothea_models.csv",
                out / "dorothea_metrics.csv", out / "dorothea_support_frequency.csv", out / "dorothea_model_reliance.csv",
                out / "communities_metrics.csv", out / "communities_models.csv"]
    return written
