import math

import pytest

from reference_impl.record import STATUSES, ResultRecord, relative_gap


def test_gap_formula():
    assert relative_gap(10.0, 9.0) == pytest.approx(0.1)
    assert relative_gap(-10.0, -11.0) == pytest.approx(0.1)
    assert relative_gap(0.0, 0.0) == 0.0
    assert relative_gap(5.0, 5.0) == 0.0
    assert relative_gap(0.0, -1e-12) == pytest.approx(1e-12 / 1e-10)
    assert relative_gap(None, 1.0) == math.inf
    assert relative_gap(1.0, None) == math.inf
    assert relative_gap(float("nan"), 1.0) == math.inf
    assert relative_gap(1.0, -math.inf) == math.inf


def test_record_roundtrip_and_status_check():
    record = ResultRecord(formulation="f", solver="scip", instance="i", params={"k": 3}, status="optimal",
                          objective=1.0, bound=0.5, gap=0.5, extra={"support": [1, 2]})
    again = ResultRecord.from_row(record.to_row())
    assert again == record
    with pytest.raises(ValueError):
        ResultRecord(formulation="f", solver="s", instance="i", status="done")
    assert "crashed" in STATUSES and "size_limited" in STATUSES
