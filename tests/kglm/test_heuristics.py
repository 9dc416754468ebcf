"""Incumbent machinery: the batched projected-Newton refit equals an independent SciPy solve
of each restricted convex problem; rounding respects the node's fixings; beam search returns
a feasible k-sparse incumbent whose objective is recomputed exactly."""
from __future__ import annotations

import math

import numpy as np
import pytest

from reference_impl.kglm.heuristics import (HostProblem, Incumbent, SupportCache, beam_search,
                                            objective, refit_supports, round_topk)
from reference_impl.kglm.losses import get_loss

from ._brute import make_instance, restricted_opt


@pytest.mark.parametrize("loss", ["squared", "logistic"])
@pytest.mark.parametrize("lam2,m_kind", [(0.1, "inf"), (0.5, "bind"), (0.0, "bind"), (0.01, "loose")])
def test_refit_matches_scipy(loss, lam2, m_kind):
    X, y, M = make_instance(loss, 30, 12, 4, seed=3, rho=0.5, m_kind=m_kind)
    hp = HostProblem(X, y, get_loss(loss), 4, lam2, M)
    rng = np.random.default_rng(0)
    sups = [tuple(sorted(rng.choice(12, size=int(rng.integers(1, 5)), replace=False).tolist()))
            for _ in range(25)]
    coefs, objs = refit_supports(hp, sups)
    for s, c, o in zip(sups, coefs, objs):
        ref, _ = restricted_opt(X, y, loss, lam2, M, s)
        assert o <= ref + 1e-9 * max(1.0, ref)
        assert o == pytest.approx(ref, rel=1e-8)
        if math.isfinite(M):
            assert np.max(np.abs(c)) <= M
        dense = np.zeros(12)
        dense[list(s)] = c
        assert objective(hp, dense) == pytest.approx(o, rel=1e-12)


def test_round_topk_respects_fixings():
    beta = np.array([[0.1, -3.0, 2.0, 0.5, -0.2, 0.0]])
    in1 = np.array([[True, False, False, False, False, False]])
    free = np.array([[False, False, True, True, True, True]])  # column 1 is in S0
    assert round_topk(beta, in1, free, 3) == [(0, 2, 3)]


@pytest.mark.parametrize("loss", ["squared", "logistic"])
def test_beam_search_incumbent(loss):
    X, y, M = make_instance(loss, 40, 15, 3, seed=1, m_kind="bind")
    hp = HostProblem(X, y, get_loss(loss), 3, 0.1, M)
    cache, inc = SupportCache(), Incumbent()
    beam_search(hp, cache, inc, width=4, expand=4)
    assert len(inc.support) == 3 and np.count_nonzero(inc.coef) <= 3
    assert np.max(np.abs(inc.coef)) <= M
    assert inc.objective == pytest.approx(objective(hp, inc.coef), rel=1e-14)
    assert inc.objective == min(cache.values.values())
