"""Report tables: each a pure function of the results-store rows, so it can be recomputed.

Conventions (stated once, used by every table):
* *solved* = status ``optimal`` (the evaluator confirmed feasibility and the gap);
* shifted geometric mean (SGM) of time with shift 10 s; a run that is not solved is charged
  its time limit; a heuristic's run (status ``feasible``: a solution and no bound) is no attempt
  to certify either: it is in the status table and in the heuristics table (its primal gap to the
  best proven bound), not in the time, gap and profile tables;
  ``unsupported``/``not_installed``/``size_limited`` runs are not attempts and
  are left out (their counts are shown in the status table), nor are input-error rows (bad
  hyperparameters, unknown ids, missing data: ``extra.input_error``, the solver never ran),
  which stay in the status and per-run tables;
* gaps are the miobench gap (:func:`reference_impl.record.relative_gap`);
* a formulation's *root gap* is the gap between the best objective any run found for the same
  problem (family, instance, hyperparameters) and that formulation's root relaxation value;
  a relaxation solve that stopped at its time limit gives a valid but weaker bound and is
  marked ``†`` (its ``root_status`` is not ``optimal``);
* runs are grouped by *configuration*, never by solver name alone: the solver with its options
  (``bnb[batch_size=1]`` and ``bnb[batch_size=256]`` are two entries), and, where the store holds
  runs of one problem under several run settings (time limit, gap tolerance, threads), those
  settings too (``scip@time_limit=20``), so two settings are never averaged into one entry;
* a *problem* is (family, instance, effective hyperparameters): a big-M given by the user is part
  of it (``M=2``); a derived one is keyed by its source (``M=derived`` — provably valid, so the
  problem's optimum — or ``M=heuristic``, which may cut the optimum off).
"""
from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd

from ..record import SOLVED, STATUSES, relative_gap

SGM_SHIFT = 10.0
NOT_ATTEMPTED = ("unsupported", "not_installed", "size_limited")
#: a heuristic's answer (a solution without a bound): measured by its primal gap, not its time to certify
HEURISTIC = ("feasible",)


def prepare(frame: pd.DataFrame) -> pd.DataFrame:
    """Add readable helper columns: family, params label, problem key, charged time."""
    frame = frame.copy()
    frame["family"] = frame["formulation"].str.split(".").str[0]
    extras = frame["extra"].map(_extra)
    frame["params_label"] = [_params_label(p, e) for p, e in zip(frame["params"], extras)]
    frame["problem"] = frame["family"] + " | " + frame["instance"] + " | " + frame["params_label"]
    frame["solved"] = frame["status"].isin(SOLVED)
    frame["input_error"] = [bool(e.get("input_error")) for e in extras]
    frame["attempted"] = ~frame["status"].isin(NOT_ATTEMPTED + HEURISTIC) & ~frame["input_error"]
    frame["charged_seconds"] = np.where(frame["solved"], frame["solve_seconds"], frame["time_limit"])
    frame["root_status"] = [e.get("root_status") if b == b else None for e, b in zip(extras, frame["root_bound"])]
    frame["configuration"] = [_configuration(s, e.get("solver_options") or {}) for s, e in zip(frame["solver"], extras)]
    frame["settings"] = _setting_labels(frame)
    frame["configuration"] = frame["configuration"] + frame["settings"]
    frame["overshoot_seconds"] = [_number(e.get("overshoot_seconds")) for e in extras]
    return frame


#: run settings that make two runs of one problem different experiments
RUN_SETTINGS = ("time_limit", "rel_gap", "threads")


def _setting_labels(frame: pd.DataFrame) -> pd.Series:
    """``@time_limit=20`` etc. for the settings that vary between runs of the same problem and
    solver configuration in this store ("" where they do not)."""
    labels = pd.Series("", index=frame.index)
    for setting in RUN_SETTINGS:
        values = frame[setting].astype(float)
        varies = values.groupby([frame["problem"], frame["configuration"]]).transform("nunique") > 1
        if varies.any():
            labels = labels + np.where(varies, "@" + setting + "=" + values.map(lambda v: f"{v:g}"), "")
    return labels


def _number(value) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else math.nan


def _extra(text) -> dict:
    if isinstance(text, dict):
        return text
    try:
        value = json.loads(text) if isinstance(text, str) and text else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _configuration(solver: str, options: dict) -> str:
    """Solver plus its options, e.g. ``bnb[batch_size=1]``: what a speedup compares."""
    return solver + ("[" + ",".join(f"{k}={v}" for k, v in sorted(options.items())) + "]" if options else "")


def _params_label(text: str, extra: dict | None = None) -> str:
    """The problem's hyperparameters as a label; M as given, or by its source when derived."""
    params = json.loads(text) if isinstance(text, str) and text else {}
    shown = {k: v for k, v in params.items() if v is not None}
    extra = extra or {}
    source = extra.get("M_source") or (extra.get("effective_params") or {}).get("M_source")
    if "M" not in shown and source:  # also for runs without a solution (the evaluator reports M_source)
        shown["M"] = str(source)
    return ", ".join(f"{k}={v:g}" if isinstance(v, (int, float)) else f"{k}={v}" for k, v in sorted(shown.items())) or "-"


def shifted_geometric_mean(values, shift: float = SGM_SHIFT) -> float:
    values = np.asarray(list(values), dtype=float)
    if values.size == 0:
        return math.nan
    return float(np.exp(np.mean(np.log(values + shift))) - shift)


def status_counts(frame: pd.DataFrame) -> pd.DataFrame:
    """Runs per (formulation, solver) by status, with the number solved."""
    counts = frame.pivot_table(index=["formulation", "configuration"], columns="status", values="run_id",
                               aggfunc="count", fill_value=0)
    counts = counts.reindex(columns=[s for s in STATUSES if s in counts.columns])
    counts["runs"] = counts.sum(axis=1)
    return counts.reset_index()


def sgm_time(frame: pd.DataFrame, by=("formulation", "configuration")) -> pd.DataFrame:
    """SGM of time (shift 10 s, unsolved charged the limit), scaled so the best group is 1.0."""
    attempted = frame[frame["attempted"]]
    rows = []
    for key, group in attempted.groupby(list(by)):
        key = key if isinstance(key, tuple) else (key,)
        rows.append({**dict(zip(by, key)), "attempted": len(group), "solved": int(group["solved"].sum()),
                     "sgm_seconds": shifted_geometric_mean(group["charged_seconds"])})
    table = pd.DataFrame(rows, columns=[*by, "attempted", "solved", "sgm_seconds"])
    if not table.empty:
        table["relative"] = table["sgm_seconds"] / table["sgm_seconds"].min()
        common = _sgm_on_common_problems(attempted, by)
        table = table.merge(common, on=list(by), how="left")
    return table


def _sgm_on_common_problems(attempted: pd.DataFrame, by) -> pd.DataFrame:
    """SGM per group over the problems that every group of the same formulation attempted, so
    solvers of one formulation are compared on the same set (``relative_same_problems``: 1.0
    for the fastest solver of that formulation)."""
    rows = []
    for formulation, runs in attempted.groupby("formulation"):
        groups = runs.groupby(list(by))
        shared = set.intersection(*(set(group["problem"]) for _, group in groups))
        for key, group in groups:
            key = key if isinstance(key, tuple) else (key,)
            on_shared = group[group["problem"].isin(shared)]
            rows.append({**dict(zip(by, key)), "same_problems": len(shared),
                         "sgm_same_problems": shifted_geometric_mean(on_shared["charged_seconds"])})
    common = pd.DataFrame(rows, columns=[*by, "same_problems", "sgm_same_problems"])
    best = common.groupby("formulation")["sgm_same_problems"].transform("min")
    common["relative_same_problems"] = common["sgm_same_problems"] / best
    return common


GAP_BINS = [("0", 0.0), ("≤1e-6", 1e-6), ("≤1e-4", 1e-4), ("≤1e-2", 1e-2), ("≤10%", 0.1), ("≤100%", 1.0)]


def gap_bin(gap: float) -> str:
    if gap is None or not np.isfinite(gap):
        return "no incumbent"
    for label, upper in GAP_BINS:
        if gap <= upper:
            return label
    return ">100%"


def gap_distribution(frame: pd.DataFrame) -> pd.DataFrame:
    """Final gaps of attempted runs, binned, per (formulation, solver)."""
    attempted = frame[frame["attempted"]].copy()
    attempted["gap_bin"] = attempted["gap"].map(gap_bin)
    order = [label for label, _ in GAP_BINS] + [">100%", "no incumbent"]
    table = attempted.pivot_table(index=["formulation", "configuration"], columns="gap_bin", values="run_id",
                                  aggfunc="count", fill_value=0)
    return table.reindex(columns=[c for c in order if c in table.columns]).reset_index()


def best_objectives(frame: pd.DataFrame) -> pd.Series:
    """Best evaluator-confirmed objective per problem over all runs (the least for minimisation,
    the greatest for maximisation: the formulation's ``sense``). A relaxation formulation's
    objective (an ``SDP`` bound, e.g. ``sparse_pca.sdp_bound``) is a bound, not a solution's
    value: it is left out (it counts in :func:`best_bounds`)."""
    feasible = frame[frame["objective"].notna() & ~_relaxations(frame)]
    if feasible.empty:
        return pd.Series(dtype=float, name="objective")
    sign = pd.Series(np.where(_senses(feasible) == "max", -1.0, 1.0), index=feasible.index)
    best = (feasible["objective"] * sign).groupby(feasible["problem"]).min()
    return best * sign.groupby(feasible["problem"]).min()  # -1 where the problem is a maximisation


#: statuses whose bound is trusted (the evaluator confirmed the incumbent; the bound is the solver's proof)
BOUND_STATUSES = ("optimal", "time_limit", "node_limit", "iteration_limit")


def best_bounds(frame: pd.DataFrame) -> pd.Series:
    """Tightest bound any solver proved per problem (the greatest for minimisation, the least for
    maximisation), over runs that ended with a trusted bound (:data:`BOUND_STATUSES`)."""
    proven = frame[frame["bound"].notna() & frame["status"].isin(BOUND_STATUSES)]
    proven = proven[np.isfinite(proven["bound"].astype(float))]
    if proven.empty:
        return pd.Series(dtype=float, name="bound")
    sign = pd.Series(np.where(_senses(proven) == "max", -1.0, 1.0), index=proven.index)
    best = (proven["bound"] * sign).groupby(proven["problem"]).max()
    return best * sign.groupby(proven["problem"]).min()


def heuristic_gaps(frame: pd.DataFrame) -> pd.DataFrame:
    """Heuristic runs (status ``feasible``: a solution, no bound of their own): per run, its
    evaluated objective, its primal gap to the best bound any solver proved for that problem
    (an upper bound on how far from optimal it is) and its gap to the best objective found."""
    heuristic = frame[frame["status"] == "feasible"]
    columns = ["problem", "configuration", "objective", "best_bound", "primal_gap_to_best_bound",
               "best_objective", "gap_to_best_objective", "solve_seconds"]
    if heuristic.empty:
        return pd.DataFrame(columns=columns)
    bounds, objectives = best_bounds(frame), best_objectives(frame)
    rows = []
    for _, run in heuristic.iterrows():
        bound, best = bounds.get(run["problem"]), objectives.get(run["problem"])
        rows.append({"problem": run["problem"], "configuration": run["configuration"], "objective": run["objective"],
                     "best_bound": bound, "primal_gap_to_best_bound": relative_gap(run["objective"], bound),
                     "best_objective": best, "gap_to_best_objective": relative_gap(run["objective"], best),
                     "solve_seconds": run["solve_seconds"]})
    return pd.DataFrame(rows, columns=columns).sort_values(["problem", "configuration"]).reset_index(drop=True)


#: problem classes whose "objective" is the value of a relaxation (an upper bound of a maximisation)
RELAXATION_CLASSES = ("SDP",)


def _relaxations(frame: pd.DataFrame) -> pd.Series:
    """Whether each row's formulation is a relaxation (its objective bounds the problem's)."""
    from ..registry import formulations

    known = formulations()
    return pd.Series([getattr(known.get(f), "problem_class", "") in RELAXATION_CLASSES for f in frame["formulation"]],
                     index=frame.index, dtype=bool)


def _senses(frame: pd.DataFrame) -> np.ndarray:
    """Each row's optimisation sense, from the formulation registry (``min`` if unknown)."""
    from ..registry import formulations

    known = formulations()
    return np.asarray([getattr(known.get(f), "sense", "min") for f in frame["formulation"]], dtype=object)


def root_strength(frame: pd.DataFrame) -> pd.DataFrame:
    """Formulation strength: per problem, each formulation's root bound and root gap against
    the best objective any run found for that problem."""
    best = best_objectives(frame)
    roots = (frame[frame["root_bound"].notna()]
             .groupby(["problem", "family", "instance", "params_label", "formulation"], as_index=False)
             .agg(root_bound=("root_bound", "first"), root_seconds=("root_seconds", "first"),
                  root_status=("root_status", "first")))
    roots["best_objective"] = roots["problem"].map(best)
    roots["root_gap"] = [relative_gap(p, b) if pd.notna(p) else math.nan
                         for p, b in zip(roots["best_objective"], roots["root_bound"])]
    return roots


def strength_vs_time(frame: pd.DataFrame, family: str | None = None) -> pd.DataFrame:
    """Side by side per problem: root gap and solve time (charged) of each formulation × solver."""
    data = frame if family is None else frame[frame["family"] == family]
    strength = root_strength(data)
    strength["root_gap_shown"] = [
        "" if g != g else f"{g:.4g}" + ("" if s in (None, "optimal") or s != s else "†")
        for g, s in zip(strength["root_gap"], strength["root_status"])
    ]
    roots = strength.pivot_table(index=["instance", "params_label"], columns="formulation",
                                 values="root_gap_shown", aggfunc="first")
    roots.columns = [f"root gap · {_short(c)}" for c in roots.columns]
    attempted = data[data["attempted"]]
    times = attempted.pivot_table(index=["instance", "params_label"], columns=["formulation", "configuration"],
                                  values="charged_seconds", aggfunc="mean")
    times.columns = [f"time s · {_short(f)} · {s}" for f, s in times.columns]
    status = attempted.assign(mark=np.where(attempted["solved"], "", "*")).pivot_table(
        index=["instance", "params_label"], columns=["formulation", "configuration"], values="mark", aggfunc="first")
    status.columns = [f"time s · {_short(f)} · {s}" for f, s in status.columns]
    return roots.join(times, how="outer").reset_index(), status


def _short(formulation: str) -> str:
    return formulation.split(".", 1)[-1]


def runs_table(frame: pd.DataFrame) -> pd.DataFrame:
    columns = ["run_id", "formulation", "configuration", "instance", "params_label", "status", "objective", "bound", "gap",
               "root_gap", "max_violation", "build_seconds", "solve_seconds", "overshoot_seconds", "nodes", "message"]
    table = frame[columns].sort_values(["formulation", "instance", "params_label", "configuration"]).copy()
    table["message"] = table["message"].fillna("").str.slice(0, 90)
    return table.rename(columns={"params_label": "params"})


def performance_profile(frame: pd.DataFrame, family: str | None = None) -> pd.DataFrame:
    """Dolan–Moré performance profile data for the (formulation, solver) configurations of a
    family: for each problem, ratio of a configuration's time to the best time of any
    configuration on it; unsolved runs have ratio ∞. Returns one row per (configuration,
    problem) with its ratio; the profile ρ(τ) is the share of problems with ratio ≤ τ."""
    data = frame[frame["attempted"]] if family is None else frame[frame["attempted"] & (frame["family"] == family)]
    data = data.assign(configuration=data["formulation"].map(_short) + " · " + data["configuration"])
    times = data.groupby(["problem", "configuration"])
    solved_time = times.apply(lambda g: g.loc[g["solved"], "solve_seconds"].min() if g["solved"].any() else math.inf,
                              include_groups=False).rename("seconds").reset_index()
    best = solved_time.groupby("problem")["seconds"].transform("min")
    solved_time["ratio"] = np.where(np.isfinite(solved_time["seconds"]), solved_time["seconds"] / best.clip(lower=1e-9), np.inf)
    return solved_time


#: (name, baseline configuration test, target configuration test): speedup = baseline / target
SPEEDUP_PAIRS = (
    ("batched vs sequential", lambda c: c == "bnb[batch_size=1]", lambda c: c in ("bnb", "bnb[batch_size=256]")),
    ("bnb vs SCIP", lambda c: c == "scip", lambda c: c in ("bnb", "bnb[batch_size=256]")),
    ("bnb vs Gurobi", lambda c: c == "gurobi", lambda c: c in ("bnb", "bnb[batch_size=256]")),
    ("GPU vs CPU", lambda c: c in ("bnb", "bnb[batch_size=256]"), lambda c: "backend=cupy" in c),
)


def speedups(frame: pd.DataFrame) -> pd.DataFrame:
    """Time ratios baseline / target on the same problem, from runs of the same store.

    ``ratio`` is exact when both solved; when only the target solved, the baseline is charged
    its time limit and the ratio is a lower bound (``bound`` = "≥"); when the target did not
    solve, there is no ratio. GPU rows appear only where GPU runs were recorded."""
    rows = []
    attempted = frame[frame["attempted"]]
    for name, is_baseline, is_target in SPEEDUP_PAIRS:
        for (problem, settings), runs in attempted.groupby(["problem", "settings"]):
            solver_configuration = runs["configuration"].str.slice(0, -len(settings) or None)
            base = runs[solver_configuration.map(is_baseline)]
            target = runs[solver_configuration.map(is_target)]
            if base.empty or target.empty:
                continue
            b, t = base.iloc[0], target.iloc[0]
            if not t["solved"]:
                continue
            rows.append({"comparison": name, "problem": problem, "baseline": b["configuration"],
                         "target": t["configuration"], "baseline_seconds": b["charged_seconds"],
                         "target_seconds": t["solve_seconds"], "bound": "=" if b["solved"] else "≥",
                         "ratio": b["charged_seconds"] / max(t["solve_seconds"], 1e-9)})
    return pd.DataFrame(rows, columns=["comparison", "problem", "baseline", "target", "baseline_seconds",
                                       "target_seconds", "bound", "ratio"])


def progress(frame: pd.DataFrame) -> pd.DataFrame:
    """Primal and dual bound over time of the runs whose solver reported its progress
    (``extra.progress``: (seconds, primal, dual) points; the native solver records them)."""
    rows = []
    for row in frame.itertuples():
        extra = json.loads(row.extra) if isinstance(row.extra, str) and row.extra else {}
        for seconds, primal, dual in extra.get("progress") or []:
            rows.append({"run_id": row.run_id, "problem": row.problem, "configuration": row.configuration,
                         "seconds": seconds, "primal": primal, "dual": dual})
    return pd.DataFrame(rows, columns=["run_id", "problem", "configuration", "seconds", "primal", "dual"])


def primal_dual_integral(frame: pd.DataFrame) -> pd.DataFrame:
    """Primal-dual integral (Berthold 2013) of each run with progress: ∫ γ(t) dt over the run,
    γ(t) = min(1, miobench gap of the current primal and dual bound) — a step function
    between reported points, 1 before the first incumbent. Lower is better; its units are
    seconds."""
    data = progress(frame)
    rows = []
    for (run_id, problem, configuration), points in data.groupby(["run_id", "problem", "configuration"]):
        points = points.sort_values("seconds")
        gaps = [min(1.0, relative_gap(p, d)) if np.isfinite(p) else 1.0
                for p, d in zip(points["primal"], points["dual"])]
        times = points["seconds"].to_numpy()
        integral = float(np.sum(np.diff(times) * np.asarray(gaps[:-1]))) + (times[0] if len(times) else 0.0)
        rows.append({"run_id": run_id, "problem": problem, "configuration": configuration,
                     "seconds": float(times[-1]) if len(times) else math.nan, "primal_dual_integral": integral})
    return pd.DataFrame(rows, columns=["run_id", "problem", "configuration", "seconds", "primal_dual_integral"])


def time_budget(frame: pd.DataFrame) -> pd.DataFrame:
    """How far runs went past their time budget, per (formulation, configuration).

    The budget rule: ``time_limit`` bounds the solver call (twice the limit when the root
    relaxation is also solved); what comes before and after it — process start-up, instance
    loading and checks, model building, the evaluator — is outside the limit and recorded as
    the run's ``overshoot_seconds`` (``wall_seconds`` less the budget, never negative); the
    harness kills a run at budget + grace."""
    data = frame[frame["overshoot_seconds"].notna()]
    rows = []
    for (formulation, configuration), group in data.groupby(["formulation", "configuration"]):
        overshoot = group["overshoot_seconds"]
        rows.append({"formulation": formulation, "configuration": configuration, "runs": len(group),
                     "median_overshoot_seconds": float(overshoot.median()),
                     "max_overshoot_seconds": float(overshoot.max()),
                     "median_wall_seconds": float(group["wall_seconds"].median())})
    return pd.DataFrame(rows, columns=["formulation", "configuration", "runs", "median_overshoot_seconds",
                                       "max_overshoot_seconds", "median_wall_seconds"])
