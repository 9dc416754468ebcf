"""When api.py refutes a solver's optimality claim (README "Gap"; DESIGN.md idea 3)."""
from __future__ import annotations

import math

from reference_impl.record import GAP_ABS_SLACK, GAP_SLACK, claim_refuted as _refuted
from reference_impl.record import relative_gap


def test_claim_refuted_beyond_relative_and_absolute_slack():
    # a clearly wrong claim: 1 % off on an objective of 10
    assert _refuted(relative_gap(10.1, 10.0), 10.1, 10.0, 1e-6)
    # within the relative slack
    assert not _refuted(relative_gap(10.0 + 5e-5, 10.0), 10.0 + 5e-5, 10.0, 1e-6)
    assert relative_gap(10.0 + 5e-5, 10.0) < GAP_SLACK
    # an exact fit: objective 1e-9 vs bound -5e-8 is a huge relative gap but no refutation
    assert relative_gap(1e-9, -5e-8) > 10.0
    assert not _refuted(relative_gap(1e-9, -5e-8), 1e-9, -5e-8, 1e-6)
    # ... unless the absolute difference is beyond the absolute slack
    assert _refuted(relative_gap(1e-3, 0.0), 1e-3, 0.0, 1e-6)
    assert 1e-3 > GAP_ABS_SLACK
    # no bound, or an infinite one: an optimality claim with an infinite gap is refuted
    assert _refuted(math.inf, 1.0, None, 1e-6)
    assert _refuted(math.inf, 1.0, -math.inf, 1e-6)
