"""scikit-learn estimators over the registered formulations: ``fit`` is one registry solve.

Each estimator maps ``fit(X, y, **arrays)`` to ``reference_impl.api.solve(formulation_id,
{"X": X, "y": y, ...}, solver=..., time_limit=..., **hyperparameters)`` through the one generic
base class :class:`MIOEstimator` (:mod:`.base`), keeps the run's record as ``solve_record_``
(status, objective, bound, gap) and exposes the model as ``coef_``, ``intercept_``,
``support_``, ``predict`` (``predict_proba`` where the model has probabilities), ``score``.

=============================  ==================================================================
estimator                      formulation(s)
=============================  ==================================================================
SparseLinearRegression         sparse_regression.perspective (default) / l0l2_bigm / best_subset
InformationCriterionRegression sparse_regression.information_criterion
SparseSVC                      sparse_svm.bigm
SparseLogisticRegression       sparse_logistic.perspective
RiskScoreClassifier            risk_score.cutting_plane (default) / pwl / minlp
SparseGAM                      gam.sparse_splines (default) / interactions / hierarchical_categorical
FairSparseRegression           fairness.sparse_regression (``fit(X, y, group=...)``)
FairSparseSVC                  fairness.sparse_svm (``fit(X, y, group=...)``)
=============================  ==================================================================

A fit stopped by a limit with an incumbent warns :class:`SolveLimitWarning` and keeps it; a fit
without a usable model raises :class:`MIOFitError` (a ``MiobenchError`` and a ``ValueError``).
"""
from .base import LIMIT_STATUSES, MIOEstimator, MIOFitError, SolveLimitWarning, solve_with_solution
from .classification import SparseLogisticRegression, SparseSVC
from .fairness import FairSparseRegression, FairSparseSVC
from .gam import SparseGAM
from .linear import InformationCriterionRegression, SparseLinearRegression
from .risk_score import RiskScoreClassifier

__all__ = [
    "MIOEstimator", "MIOFitError", "SolveLimitWarning", "LIMIT_STATUSES", "solve_with_solution",
    "SparseLinearRegression", "InformationCriterionRegression", "SparseSVC", "SparseLogisticRegression",
    "RiskScoreClassifier", "SparseGAM", "FairSparseRegression", "FairSparseSVC",
]
