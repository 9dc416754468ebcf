"""Risk scores: sparse logistic regression with small integer points (tutorial §2.1.2,
problem (8); FORMULATIONS.md §1).

:class:`RiskScoreClassifier` solves problem (8) of Justin, Sun, Gómez & Vayanos (arXiv
2505.05857) — min Σ log(1 + exp(−yᵢ(θᵀxᵢ + θ₀))) + λ0‖θ‖0, θ ∈ ℤᵈ ∩ [l, u], ‖θ‖0 ≤ k — by
one of its registered formulations (``formulation``):

* ``"cutting_plane"`` (default) — Ustun & Rudin's loss cuts on a HiGHS MILP master
  (``risk_score.cutting_plane``, exact; solver ``highs``, its native loop);
* ``"pwl"`` — Sato et al.'s fixed tangent lines, a MILP (``risk_score.pwl``): an *approximation*
  (see its docstring: the gap includes the approximation error, so the status is rarely
  ``optimal`` for the true loss; the fit then warns);
* ``"minlp"`` — the logistic loss directly (``risk_score.minlp``, SCIP).

Labels: any two; ``classes_[1]`` is encoded as +1 (the "risk" is the probability of
``classes_[1]``). :meth:`RiskScoreClassifier.to_card` prints the score card: points per
feature and the score → risk table (:func:`reference_impl.formulations.risk_score.score_card`).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import InputError
from .classification import _BinaryClassifier

__all__ = ["RiskScoreClassifier", "RISK_SCORE_FORMULATIONS"]

RISK_SCORE_FORMULATIONS = {"cutting_plane": "risk_score.cutting_plane", "pwl": "risk_score.pwl",
                           "minlp": "risk_score.minlp"}


class RiskScoreClassifier(_BinaryClassifier):
    """Integer-point risk score (8) (module docstring).

    Parameters (the formulations'; ``None`` = the formulation's default): ``k`` (default 5; at
    or above the number of features: no limit), ``lambda0``, ``l``, ``u`` (integer point
    bounds), ``intercept`` (``"integer"``, ``"continuous"`` or ``"none"``),
    ``intercept_bound``; ``pwl`` only: ``n_tangents``, ``tangent_placement``,
    ``tangent_points``; ``cutting_plane`` only: ``max_iterations``, ``lp_warmup``. Run
    settings: ``solver`` (default HiGHS for ``cutting_plane`` and ``pwl``, SCIP for
    ``minlp``), ``time_limit``, ``rel_gap``, ``seed``.

    Fitted: ``coef_`` (integer points, as floats), ``intercept_``, ``support_``, ``classes_``,
    ``score_table_`` (pandas DataFrame: score, risk, n and observed rate on the training
    data), ``solve_record_``, ``objective_``.
    """

    _hyperparameter_names = ("k", "lambda0", "l", "u", "intercept", "intercept_bound", "n_tangents",
                             "tangent_placement", "tangent_points", "max_iterations", "lp_warmup")

    def __init__(self, formulation: str = "cutting_plane", k: int | None = 5, lambda0: float | None = None,
                 l: int = -5, u: int = 5, intercept: str = "integer", intercept_bound: float = 10,
                 n_tangents: int | None = None, tangent_placement: str | None = None, tangent_points: Any = None,
                 max_iterations: int | None = None, lp_warmup: int | None = None, solver: str | None = None,
                 time_limit: float = 60.0, rel_gap: float = 1e-4, seed: int = 0,
                 solver_options: dict | None = None):
        self.formulation = formulation
        self.k = k
        self.lambda0 = lambda0
        self.l = l
        self.u = u
        self.intercept = intercept
        self.intercept_bound = intercept_bound
        self.n_tangents = n_tangents
        self.tangent_placement = tangent_placement
        self.tangent_points = tangent_points
        self.max_iterations = max_iterations
        self.lp_warmup = lp_warmup
        self.solver = solver
        self.time_limit = time_limit
        self.rel_gap = rel_gap
        self.seed = seed
        self.solver_options = solver_options

    def _formulation_id(self) -> str:
        if self.formulation in RISK_SCORE_FORMULATIONS.values():
            return self.formulation
        if self.formulation not in RISK_SCORE_FORMULATIONS:
            raise InputError(f"formulation must be one of {', '.join(RISK_SCORE_FORMULATIONS)}; "
                             f"got {self.formulation!r}")
        return RISK_SCORE_FORMULATIONS[self.formulation]

    def _store(self, solution: dict[str, np.ndarray], instance: dict[str, Any], params: dict[str, Any]) -> None:
        from ..formulations.risk_score import score_card, score_table

        super()._store(solution, instance, params)
        self.coef_ = np.round(self.coef_)  # integer points (the evaluator checked integrality)
        if params.get("intercept", self.intercept) == "integer":
            self.intercept_ = float(np.round(self.intercept_))
        card_solution = {"theta": self.coef_, "intercept": np.array([self.intercept_])}
        card_instance = {name: instance[name] for name in ("X", "y", "feature_names") if name in instance}
        self.score_table_ = score_table(card_instance, card_solution)
        self._card = score_card(card_instance, card_solution)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Columns P(``classes_[0]``), P(``classes_[1]``): the risk σ(score + intercept)."""
        p1 = 0.5 * (1.0 + np.tanh(0.5 * self.decision_function(X)))
        return np.column_stack([1.0 - p1, p1])

    def to_card(self, print_card: bool = True) -> str:
        """The score card (points per feature, then the score → risk table on the training
        data); printed unless ``print_card=False``; returned as a string."""
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "solve_record_")
        text = f"{self._card}\n(risk = predicted probability of y = {self.classes_[1]})"
        if print_card:
            print(text)
        return text
