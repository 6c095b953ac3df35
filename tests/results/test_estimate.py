"""The one encoding of an estimate: written and read by the same code."""

from __future__ import annotations

import math

from blindspot.results import Estimate, Unmeasured, measured


def test_an_estimate_round_trips_with_its_method():
    e = Estimate(0.71, 0.68, 0.74, "wilson")
    assert e.encode() == {"value": 0.71, "ci_low": 0.68, "ci_high": 0.74, "method": "wilson"}
    assert Estimate.decode(e.encode()) == e and e.ok and e.has_interval


def test_a_point_estimate_writes_no_bounds_and_an_unmeasured_one_says_why():
    assert Estimate(3.0).encode() == {"value": 3.0}
    gone = Estimate(float("nan"), reason="no row of class 'x' in the data").encode()
    back = Estimate.decode(gone)
    assert isinstance(back.value, Unmeasured) and back.value.reason == "no row of class 'x' in the data"
    assert math.isnan(back.value) and not back.ok and not measured(back.value)
    assert Estimate.decode({"value": None}).value.reason == "no value recorded"
