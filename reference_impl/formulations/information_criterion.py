"""Best subset chosen by an information criterion inside one MIO (tutorial §2.5;
FORMULATIONS.md §1, ``sparse_regression.information_criterion``).

Justin, Sun, Gómez & Vayanos, "Responsible Machine Learning via Mixed-Integer Optimization"
(arXiv 2505.05857), §2.5: "the best model with respect to an information criterion reduces
to a single MIO where the hyperparameters are determined a priori" (Miyashiro & Takano
2015, "Subset selection by Mallows' Cp: a mixed integer programming approach", and
"Mixed integer second-order cone programming formulations for variable selection in linear
regression"). For the Gaussian linear model y = Xθ + ε (no intercept: instances are
centred) the criteria are, up to constants that do not depend on the subset S,

    AIC(S) = −2 log L + 2|S|,   BIC(S) = −2 log L + log(n)|S|,   penalty π = 2 or log n.

Two forms, chosen by ``sigma2``:

* **known / estimated σ²** (``sigma2`` a number, or ``"estimate"`` = RSS of the full OLS fit
  / (n − p), Mallows' convention; needs n > p): −2 log L = RSS/σ² + const, so

      min_{θ,z}  (1/σ²) Σᵢ (yᵢ − θᵀxᵢ)² + π Σⱼ zⱼ   s.t. −Mzⱼ ≤ θⱼ ≤ Mzⱼ, z ∈ {0,1}ᵖ,

  problem (5)–(6) with λ0 = πσ², λ2 = 0, scaled by 1/σ²: an MIQP solved by SCIP/Gurobi
  through Pyomo. The objective (and the solver bound) is the criterion itself. Big-M comes
  from :func:`~reference_impl.formulations.sparse_regression.derive_big_m` with λ0 = πσ²
  (valid for this problem: it is (5) up to the factor 1/σ²).
* **exact profile likelihood** (``sigma2="profile"``, σ² maximised out):
  −2 log L = n log(RSS/n) + const, and the criterion n log(RSS(S)/n) + π|S| is not a
  quadratic objective. It is solved by the native solver ``kscan``: for every size
  s = 0..k_max one best-subset MIQP (``sparse_regression.best_subset`` with k = s, solved by
  SCIP or Gurobi) gives Rₛ = min_{|S|≤s} RSS(S) and a proven lower bound LBₛ; the answer is
  argminₛ n log(Rₛ/n) + πs, and min_s n log(LBₛ/n) + πs is a valid lower bound on the
  criterion (log is increasing). Every size uses one big-M, the widest coordinate of the
  ellipsoid {θ : ‖y − Xθ‖² ≤ yᵀy} (θ = 0 bounds every Rₛ), valid when XᵀX is nonsingular.
  ``kscan`` also takes the known-σ² form (criterion Rₛ/σ² + πs), an independent second
  route to the same optimum.

``k`` (optional) caps the subset size in both forms.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyomo.environ as pyo

from ..errors import InputError
from ..instances.instance import Instance, check_xy
from ..record import claim_refuted, relative_gap
from ..registry import register
from ..solvers.adapters.kscan import SUBSOLVERS
from .base import Evaluation, Formulation, as_big_m, as_float, as_int
from .sparse_regression import (_SparseRegression, certified_big_m, derive_big_m, greedy_solution, heuristic_big_m,
                                ridge_fit)

CRITERIA = ("aic", "bic")


def _gap_exceeds(objective: float, bound: float, rel_gap: float) -> bool:
    """Whether kscan's criterion gap exceeds what ``api.solve`` accepts for an optimality claim
    (the record's one rule, :func:`reference_impl.record.claim_refuted`)."""
    return claim_refuted(relative_gap(objective, bound), objective, bound, rel_gap)


def criterion_penalty(criterion: str, n: int) -> float:
    """π of the criterion: 2 for AIC, log n for BIC."""
    return 2.0 if criterion == "aic" else math.log(n)


def estimate_sigma2(X: np.ndarray, y: np.ndarray) -> float:
    """Residual variance of the full least-squares fit, RSS/(n − p) (Mallows' Cp convention)."""
    n, p = X.shape
    if n <= p:
        raise InputError(f"sigma2='estimate' needs n > p (got n = {n}, p = {p}); give sigma2 as a number "
                         "or use sigma2='profile'")
    theta = ridge_fit(X, y, range(p), 0.0)
    residual = y - X @ theta
    value = float(residual @ residual) / (n - p)
    if value <= 0:
        raise InputError("the full least-squares fit is exact (RSS = 0); give sigma2 as a number")
    return value


def criterion_value(rss: float, n_selected: int, *, n: int, penalty: float, sigma2: float | None) -> float:
    """The criterion (up to constants): RSS/σ² + π|S| with σ² given, n log(RSS/n) + π|S| profiled."""
    if sigma2 is None:
        return n * math.log(max(rss, 1e-300) / n) + penalty * n_selected
    return rss / sigma2 + penalty * n_selected


@register
class InformationCriterion(_SparseRegression):
    """Best subset by AIC or BIC in one MIO (tutorial §2.5; Miyashiro & Takano 2015)."""

    id = "sparse_regression.information_criterion"
    equation = "§2.5 (Miyashiro & Takano 2015)"
    problem_class = "MIQP"
    summary = "best subset chosen by AIC/BIC inside one MIO (known/estimated sigma^2: MIQP; profile: k-scan)"
    hyperparameters = {"criterion": "bic", "sigma2": "estimate", "k": None, "M": "auto", "subsolver": "scip"}
    benchmark_cases = (("synreg-n30-p8-k3", {"criterion": "bic"}), ("diabetes", {"criterion": "aic"}))

    def validate(self, instance: Instance, params: dict[str, Any]) -> dict[str, Any]:
        params = Formulation.validate(self, instance, params)
        X, y = check_xy(instance)
        n, p = X.shape
        criterion = str(params["criterion"]).lower()
        if criterion not in CRITERIA:
            raise InputError(f"criterion must be 'aic' or 'bic'; got {params['criterion']!r}")
        if params["subsolver"] not in SUBSOLVERS:
            raise InputError(f"subsolver must be one of {', '.join(SUBSOLVERS)}; got {params['subsolver']!r}")
        penalty = criterion_penalty(criterion, n)
        k = as_int(params, "k", minimum=1, maximum=p, what=f" (the instance has p = {p} features)")
        sigma2 = params["sigma2"]
        if sigma2 == "profile":
            mode, sigma2_value = "profile", None
            if n <= (k or p):
                raise InputError(f"sigma2='profile' needs n > k (n = {n}); cap the size with k < n")
        elif sigma2 in (None, "estimate"):
            mode, sigma2_value = "estimated", estimate_sigma2(X, y)
        else:
            mode, sigma2_value = "known", as_float(params, "sigma2", allow_none=False)
            if not (sigma2_value > 0 and math.isfinite(sigma2_value)):
                raise InputError(f"sigma2 must be a positive finite number; got {sigma2_value}")
        lambda0 = None if mode == "profile" else penalty * sigma2_value
        M, source = params.get("M"), "given"
        if M in (None, "auto"):
            if mode == "profile":
                M, source = certified_big_m(X, y, 0.0, float(y @ y), max_size=k or min(p, n - 1)), "derived"
                if M is None:
                    theta = greedy_solution(X, y, k=k or min(p, n - 1), lambda0=0.0, lambda2=0.0)
                    M, source = heuristic_big_m(theta, X, y), "heuristic"
            else:
                M, source = derive_big_m(X, y, k=k, lambda0=lambda0, lambda2=0.0)
        else:
            M = as_big_m(params)
        return {**params, "criterion": criterion, "penalty": penalty, "sigma2_mode": mode, "sigma2": sigma2_value,
                "k": k, "lambda0": lambda0, "lambda2": 0.0, "M": M, "M_source": source}

    def build(self, instance: Instance, params: dict[str, Any]) -> pyo.ConcreteModel:
        if params["sigma2_mode"] == "profile":
            raise InputError("the profile-likelihood criterion (sigma2='profile') is not quadratic; solve it with "
                             "the native solver kscan (--solver kscan), or give sigma2 as a number or 'estimate'")
        m = self._base_model(instance, params)
        m.objective = pyo.Objective(
            expr=(1.0 / params["sigma2"]) * m.loss + params["penalty"] * pyo.quicksum(m.z[j] for j in m.features)
        )
        return m

    def evaluate(self, instance: Instance, params: dict[str, Any], solution: dict[str, np.ndarray]) -> Evaluation:
        evaluation = super().evaluate(instance, params, solution)
        if not math.isfinite(evaluation.objective):
            return evaluation
        X, y = check_xy(instance)
        theta = np.asarray(solution["theta"], dtype=float)
        rss = float(np.sum((y - X @ theta) ** 2))
        n_selected = len(evaluation.info["support"])
        evaluation.objective = criterion_value(rss, n_selected, n=X.shape[0], penalty=params["penalty"],
                                               sigma2=params["sigma2"])
        evaluation.info.update({"criterion": params["criterion"], "sigma2_mode": params["sigma2_mode"],
                                "sigma2": params["sigma2"], "rss": rss})
        return evaluation
