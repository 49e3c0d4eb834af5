"""Impossible activities, weights and ages are refused by the calculators, never capped.

One weight range (``BODY_WEIGHT_RANGE_KG``) serves the dose calculators and the scenario reader,
so ``nenscope dose activity`` and ``nenscope recommend`` refuse the same weights.
"""

from __future__ import annotations

import math

import pytest

from nenscope.knowledge.calculators import (
    compute_exam_dose,
    compute_exam_effective_dose,
    compute_follow_up_dose,
)
from nenscope.knowledge.kb import KnowledgeBase, load_knowledge_base
from nenscope.knowledge.physics import (
    BODY_WEIGHT_RANGE_KG,
    PhysicsInputError,
    check_age_years,
    check_body_weight_kg,
    compute_activity_after_mbq,
    compute_fdg_activity_eanm_mbq,
)
from nenscope.knowledge.scenario import NUMERIC_LIMITS

GA68_HALF_LIFE_S = 4062.6


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_knowledge_base()


def test_scenario_and_calculators_share_the_weight_range() -> None:
    assert NUMERIC_LIMITS["weight_kg"][:2] == BODY_WEIGHT_RANGE_KG == (0.5, 350.0)


@pytest.mark.parametrize("activity", [-100.0, 0.0, math.nan, math.inf])
def test_decay_refuses_a_non_positive_activity(activity: float) -> None:
    with pytest.raises(PhysicsInputError, match=r"activity_mbq must be finite and > 0 MBq"):
        compute_activity_after_mbq(activity, elapsed_s=3600.0, half_life_s=GA68_HALF_LIFE_S)


def test_decay_message_names_the_value() -> None:
    with pytest.raises(PhysicsInputError) as caught:
        compute_activity_after_mbq(-100.0, elapsed_s=3600.0, half_life_s=GA68_HALF_LIFE_S)
    assert "got -100 MBq" in str(caught.value)
    assert "cannot be zero or negative" in str(caught.value)


def test_decay_of_a_real_activity() -> None:
    got = compute_activity_after_mbq(
        100.0, elapsed_s=GA68_HALF_LIFE_S, half_life_s=GA68_HALF_LIFE_S
    )
    assert got == pytest.approx(50.0, rel=1e-12)


@pytest.mark.parametrize("weight", [0.0, 0.49, 350.01, 7000.0, -70.0, math.nan])
def test_impossible_weight_is_refused(weight: float) -> None:
    with pytest.raises(PhysicsInputError, match=r"possible body weight: expected 0.5 to 350"):
        check_body_weight_kg(weight)


@pytest.mark.parametrize("weight", [0.5, 3.0, 75.0, 350.0])
def test_possible_weight_passes(weight: float) -> None:
    assert check_body_weight_kg(weight) == weight


@pytest.mark.parametrize("age", [-1.0, 121.0, math.inf])
def test_impossible_age_is_refused(age: float) -> None:
    with pytest.raises(PhysicsInputError, match="not a possible age"):
        check_age_years(age)


def test_dose_activity_refuses_an_impossible_weight_instead_of_capping(kb: KnowledgeBase) -> None:
    with pytest.raises(PhysicsInputError, match="7000"):
        compute_exam_dose(kb, "ga68-sstr-pet", weight_kg=7000.0)
    # A heavy but possible patient is still capped by the rule, and says so.
    heavy = compute_exam_dose(kb, "ga68-sstr-pet", weight_kg=200.0)
    assert any("capped" in n for n in heavy.prescription.notes)


def test_weight_is_checked_even_when_the_activity_is_given(kb: KnowledgeBase) -> None:
    with pytest.raises(PhysicsInputError, match="7000"):
        compute_exam_dose(kb, "ga68-sstr-pet", weight_kg=7000.0, activity_mbq=150.0)


@pytest.mark.parametrize("activity", [0.0, -5.0, math.nan])
def test_given_activity_must_be_positive(kb: KnowledgeBase, activity: float) -> None:
    with pytest.raises(PhysicsInputError, match="activity_mbq must be finite and > 0"):
        compute_exam_effective_dose(kb, "ga68-sstr-pet", activity_mbq=activity)


def test_follow_up_dose_refuses_an_impossible_weight(kb: KnowledgeBase) -> None:
    with pytest.raises(PhysicsInputError, match="1000"):
        compute_follow_up_dose(kb, [("ct-cap", 6.0)], duration_months=24.0, weight_kg=1000.0)


def test_fdg_rule_refuses_an_impossible_weight() -> None:
    with pytest.raises(PhysicsInputError, match="not a possible body weight"):
        compute_fdg_activity_eanm_mbq(500.0, minutes_per_bed=3.0, overlap_over_30_percent=True)
