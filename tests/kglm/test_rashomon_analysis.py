"""The Rashomon-set analyses (``reference_impl.kglm.rashomon_analysis``) against direct
computations: support frequency, model reliance (permutation), AUC / accuracy, R², the Pareto
front and the coefficient spread."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import r2_score, roc_auc_score

from reference_impl.kglm import KGLMInputError
from reference_impl.kglm.rashomon import RashomonModel, RashomonResult, rashomon
from reference_impl.kglm.rashomon_analysis import (classification_metrics, coefficient_spread, model_reliance,
                                                   model_reliance_table, pareto_front, regression_metrics,
                                                   support_frequency)


def data(loss, seed=0, n=60, p=7):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    v = X[:, 0] - X[:, 1] + 0.7 * X[:, 2] + rng.standard_normal(n)
    return X, (v if loss == "squared" else np.where(v > 0, 1.0, -1.0))


@pytest.fixture(scope="module")
def logit():
    X, y = data("logistic")
    return X, y, rashomon(X, y, k=2, loss="logistic", lambda2=0.1, M=3.0, top=8)


@pytest.fixture(scope="module")
def ls():
    X, y = data("squared", seed=1)
    return X, y, rashomon(X, y, k=3, lambda2=0.1, epsilon=0.5)


def hand_result(coefs, objectives, loss="squared"):
    coefs = np.asarray(coefs, dtype=float)
    models = [RashomonModel(tuple(int(j) for j in np.flatnonzero(c)), c, float(o)) for c, o in zip(coefs, objectives)]
    return RashomonResult(models=models, threshold=max(objectives, default=math.inf),
                          optimum=min(objectives, default=math.inf), complete=True, status="complete", nodes=1,
                          seconds=0.0, k=2, p=coefs.shape[1], loss=loss, lambda2=0.1, M=math.inf, top=len(models))


def test_support_frequency(logit):
    X, y, res = logit
    freq = support_frequency(res, feature_names=[f"f{j}" for j in range(7)])
    assert list(freq.columns) == ["feature", "name", "count", "frequency"]
    for j in range(7):
        assert freq["count"][j] == sum(j in m.support for m in res.models)
    assert freq["frequency"].sum() == pytest.approx(res.k)
    with pytest.raises(KGLMInputError, match="feature_names"):
        support_frequency(res, feature_names=["a"])


def test_model_reliance_matches_a_direct_permutation(logit):
    X, y, res = logit
    table = model_reliance_table(res, X, y, seed=3)
    assert table.shape == (len(res), 7)
    rng = np.random.default_rng(3)
    perms = [rng.permutation(X.shape[0]) for _ in range(7)]
    for i, m in enumerate(res.models):
        base = np.mean(np.logaddexp(0.0, -y * (X @ m.coef)))
        for j in range(7):
            Xp = X.copy()
            Xp[:, j] = X[perms[j], j]
            want = np.mean(np.logaddexp(0.0, -y * (Xp @ m.coef))) - base
            assert table.iloc[i, j] == pytest.approx(want, abs=1e-12)
            if j not in m.support:
                assert table.iloc[i, j] == 0.0
    again = model_reliance_table(res, X, y, seed=3)
    pd.testing.assert_frame_equal(table, again)  # deterministic
    summary = model_reliance(res, X, y, seed=3, n_repeats=1)
    np.testing.assert_allclose(summary["min"], table.min(axis=0))
    np.testing.assert_allclose(summary["max"], table.max(axis=0))
    assert np.all(summary["min"] <= summary["mean"]) and np.all(summary["mean"] <= summary["max"])
    assert summary["max"][0] > 0.05  # the strong features matter to the models that use them


def test_model_reliance_repeats_and_squared_loss(ls):
    X, y, res = ls
    one = model_reliance_table(res, X, y, seed=0, n_repeats=1)
    three = model_reliance_table(res, X, y, seed=0, n_repeats=3)
    assert one.shape == three.shape and not np.allclose(one, three)
    m = res.models[0]
    j = m.support[0]
    rng = np.random.default_rng(0)
    perms = [rng.permutation(X.shape[0]) for _ in range(X.shape[1])]
    Xp = X.copy()
    Xp[:, j] = X[perms[j], j]
    want = 0.5 * np.mean((y - Xp @ m.coef) ** 2) - 0.5 * np.mean((y - X @ m.coef) ** 2)
    assert one.iloc[0, j] == pytest.approx(want, rel=1e-12)
    with pytest.raises(KGLMInputError, match="n_repeats"):
        model_reliance_table(res, X, y, n_repeats=0)


def test_classification_metrics(logit):
    X, y, res = logit
    frame = classification_metrics(res, X, y)
    assert list(frame.columns) == ["rank", "objective", "support", "auc", "accuracy"]
    for i, m in enumerate(res.models):
        s = X @ m.coef
        assert frame["auc"][i] == pytest.approx(roc_auc_score(y, s))
        assert frame["accuracy"][i] == pytest.approx(np.mean(np.where(s > 0, 1, -1) == y))
    pd.testing.assert_frame_equal(frame, classification_metrics(res, X, (y > 0).astype(int)))
    with pytest.raises(KGLMInputError, match="labels"):
        classification_metrics(res, X, y * 2)
    with pytest.raises(KGLMInputError, match="columns"):
        classification_metrics(res, X[:, :3], y)


def test_regression_metrics(ls):
    X, y, res = ls
    frame = regression_metrics(res, X, y)
    for i, m in enumerate(res.models):
        pred = X @ m.coef
        assert frame["r2"][i] == pytest.approx(r2_score(y, pred))
        assert frame["r2"][i] == pytest.approx(1 - np.sum((y - pred) ** 2) / np.sum((y - y.mean()) ** 2))
        assert frame["mse"][i] == pytest.approx(np.mean((y - pred) ** 2))
    with pytest.raises(KGLMInputError, match="shape mismatch"):
        regression_metrics(res, X, y[:-1])


def test_pareto_front():
    frame = pd.DataFrame({"objective": [1.0, 2.0, 2.0, 3.0, 4.0, 4.0, 5.0],
                          "auc": [0.70, 0.80, 0.75, 0.78, 0.90, 0.90, 0.85]})
    front = pareto_front(frame, "auc")
    assert list(front.index) == [0, 1, 4, 5]  # 2 and 3 dominated by 1, 6 by 4; 4 and 5 equal: both kept
    low = pareto_front(frame, "auc", maximize=False)
    assert list(low.index) == [0]
    with pytest.raises(KGLMInputError, match="no column"):
        pareto_front(frame, "accuracy")
    assert pareto_front(frame.iloc[:0], "auc").empty


def test_pareto_front_of_a_set_is_non_dominated(logit):
    X, y, res = logit
    frame = classification_metrics(res, X, y)
    front = pareto_front(frame, "accuracy")
    assert front.index[0] == 0  # the optimum is always on the front
    for i in frame.index:
        dominated = any((frame["objective"][j] <= frame["objective"][i] and frame["accuracy"][j] >= frame["accuracy"][i]
                         and (frame["objective"][j] < frame["objective"][i] or frame["accuracy"][j] > frame["accuracy"][i]))
                        for j in frame.index)
        assert (i in front.index) == (not dominated)


def test_coefficient_spread():
    res = hand_result([[1.0, -2.0, 0.0], [0.5, 0.0, 3.0], [-1.5, 0.0, 1.0]], [1.0, 2.0, 3.0])
    spread = coefficient_spread(res)
    np.testing.assert_array_equal(spread["min"], [-1.5, -2.0, 0.0])
    np.testing.assert_array_equal(spread["max"], [1.0, 0.0, 3.0])
    np.testing.assert_array_equal(spread["selected"], [3, 1, 2])
    np.testing.assert_array_equal(spread["min_selected"], [-1.5, -2.0, 1.0])
    np.testing.assert_array_equal(spread["max_selected"], [1.0, -2.0, 3.0])
    empty = hand_result(np.zeros((0, 3)), [])
    assert coefficient_spread(empty)["selected"].tolist() == [0, 0, 0]
    assert support_frequency(empty)["frequency"].tolist() == [0.0, 0.0, 0.0]
    assert model_reliance(empty, np.ones((4, 3)) * np.arange(4)[:, None], np.arange(4.0))["min"].isna().all()
