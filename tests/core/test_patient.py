from __future__ import annotations

import math

import pytest

from nenscope.core import ImpossibleValueError
from nenscope.core.patient import BODY_WEIGHT_RANGE_KG, check_age_years, check_body_weight_kg


@pytest.mark.parametrize("weight", [0.0, -70.0, 7000.0, math.nan, math.inf])
def test_impossible_weights_are_refused_with_the_range(weight: float) -> None:
    with pytest.raises(ImpossibleValueError, match=r"expected 0\.5 to 350 kg"):
        check_body_weight_kg(weight, name="--weight-kg")


def test_limits_are_inclusive() -> None:
    low, high = BODY_WEIGHT_RANGE_KG
    assert check_body_weight_kg(low) == low
    assert check_body_weight_kg(high) == high
    assert check_age_years(120.0) == 120.0
    with pytest.raises(ValueError, match="not a possible age"):
        check_age_years(121.0)
