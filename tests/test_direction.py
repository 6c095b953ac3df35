import numpy as np
import pytest

from blindspot.direction import METRIC_DIRECTION, direction_of, higher_is_better


def test_metric_direction_is_declared_once_and_resolves_derived_names():
    assert higher_is_better("accuracy") is True
    assert higher_is_better("recall_negative") is True
    assert higher_is_better("f1_macro") is True  # its own entry, not "f1"
    assert higher_is_better("error_rate") is False
    assert higher_is_better("confidently_incorrect_rate") is False
    assert higher_is_better("ece") is False
    assert higher_is_better("something_else") is None
    assert set(METRIC_DIRECTION.values()) == {True, False}


@pytest.mark.parametrize("delta, changed, higher, expected", [
    (0.1, True, True, "improved"), (-0.1, True, True, "worsened"), (-0.1, True, False, "improved"),
    (0.1, True, False, "worsened"), (0.1, False, True, "unchanged"), (0.1, True, None, "unchanged")])
def test_direction_of(delta, changed, higher, expected):
    assert direction_of(delta, changed, higher) == expected


def test_direction_of_nan_or_zero_delta_is_unchanged():
    assert direction_of(float("nan"), True, True) == "unchanged"
    assert direction_of(np.float64(0.0), True, True) == "unchanged"
    assert direction_of(np.float64(0.2), True, True) == "improved"
