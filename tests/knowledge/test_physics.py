"""Tests of knowledge/physics.py against worked examples from labels and guidelines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nenscope.core.errors import NotComputableError
from nenscope.knowledge.physics import (
    ActivityRule,
    ActivityRuleKind,
    PhysicsInputError,
    ScheduledExam,
    compute_decay_factor,
    compute_decayed_activity_mbq,
    compute_effective_dose_msv,
    compute_fdg_activity_eanm_mbq,
    compute_latest_time_with_activity,
    compute_schedule_dose_msv,
    prescribe_activity,
)

GA68_HALF_LIFE_S = 4062.6  # 67.71 min, NNDC/NuDat 3 (nenscope.quantification.radionuclides)
F18_HALF_LIFE_S = 6586.2  # 109.77 min
T0 = datetime(2024, 3, 1, 8, 0, tzinfo=UTC)

NETSPOT = ActivityRule(kind=ActivityRuleKind.PER_KG, per_kg_mbq=2.0, max_mbq=200.0)
DOTATOC_CHILD = ActivityRule(
    kind=ActivityRuleKind.PER_KG, per_kg_mbq=1.59, min_mbq=11.1, max_mbq=111.0
)
MIBG_ADULT = ActivityRule(kind=ActivityRuleKind.FIXED, fixed_mbq=370.0)
MIBG_CHILD = ActivityRule(
    kind=ActivityRuleKind.PER_KG, per_kg_mbq=5.2, min_mbq=37.0, max_mbq=370.0
)


def test_decay_one_half_life_is_half() -> None:
    # By definition of the half-life.
    np.testing.assert_allclose(
        compute_decay_factor(GA68_HALF_LIFE_S, half_life_s=GA68_HALF_LIFE_S), 0.5, rtol=1e-12
    )


def test_decay_of_ga68_over_60_minutes() -> None:
    # By hand: 2 ** (-3600 / 4062.6) = 0.54106...; 200 MBq -> 108.21 MBq (was 108.14 MBq with the
    # 4057.7 s header value; 4062.6 s is the NNDC/NuDat 3 half-life used everywhere now).
    end = T0 + timedelta(minutes=60)
    got = compute_decayed_activity_mbq(200.0, measured_at=T0, at=end, half_life_s=GA68_HALF_LIFE_S)
    np.testing.assert_allclose(got, 200.0 * 2.0 ** (-3600.0 / GA68_HALF_LIFE_S), rtol=1e-12)
    np.testing.assert_allclose(got, 108.21, atol=0.01)


def test_decay_backwards_in_time_increases_activity() -> None:
    # One F-18 half-life before the measurement the source held twice the activity.
    start = T0 - timedelta(seconds=F18_HALF_LIFE_S)
    got = compute_decayed_activity_mbq(
        100.0, measured_at=T0, at=start, half_life_s=F18_HALF_LIFE_S
    )
    np.testing.assert_allclose(got, 200.0, rtol=1e-12)


@given(a=st.floats(-1e5, 1e5), b=st.floats(-1e5, 1e5))
def test_decay_composes(a: float, b: float) -> None:
    f = compute_decay_factor
    np.testing.assert_allclose(
        f(a + b, half_life_s=GA68_HALF_LIFE_S),
        f(a, half_life_s=GA68_HALF_LIFE_S) * f(b, half_life_s=GA68_HALF_LIFE_S),
        rtol=1e-9,
    )


def test_naive_datetime_refused() -> None:
    with pytest.raises(PhysicsInputError, match="timezone-aware"):
        compute_decayed_activity_mbq(
            100.0, measured_at=datetime(2024, 1, 1), at=T0, half_life_s=GA68_HALF_LIFE_S
        )


@pytest.mark.parametrize("half_life_s", [0.0, -1.0, float("nan")])
def test_impossible_half_life_refused(half_life_s: float) -> None:
    with pytest.raises(PhysicsInputError, match="half_life_s"):
        compute_decay_factor(10.0, half_life_s=half_life_s)


def test_netspot_label_dose_150_mbq() -> None:
    # NETSPOT label: 150 MBq 68Ga-DOTATATE -> 3.15 mSv (0.021 mSv/MBq).
    np.testing.assert_allclose(
        compute_effective_dose_msv(150.0, coefficient_msv_per_mbq=0.021), 3.15, rtol=1e-12
    )


@pytest.mark.parametrize(
    ("weight_kg", "expected_mbq"),
    [(75.0, 150.0), (100.0, 200.0), (130.0, 200.0), (50.0, 100.0)],
    ids=["75kg", "100kg-at-cap", "130kg-capped", "50kg"],
)
def test_netspot_adult_rule(weight_kg: float, expected_mbq: float) -> None:
    # NETSPOT label: 2 MBq/kg up to 200 MBq.
    got = prescribe_activity(NETSPOT, paediatric=NETSPOT, weight_kg=weight_kg, age_years=50)
    np.testing.assert_allclose(got.activity_mbq, expected_mbq, rtol=1e-12)
    assert not got.paediatric


def test_cap_is_reported_in_notes() -> None:
    got = prescribe_activity(NETSPOT, paediatric=None, weight_kg=130.0, age_years=50)
    assert any("capped at 200" in n for n in got.notes)


def test_missing_adult_weight_is_estimated_and_said() -> None:
    got = prescribe_activity(NETSPOT, paediatric=None, weight_kg=None, age_years=None)
    np.testing.assert_allclose(got.activity_mbq, 140.0, rtol=1e-12)  # 2 MBq/kg x 70 kg
    assert any("reference adult" in n for n in got.notes)


@pytest.mark.parametrize(
    ("rule", "weight_kg", "expected_mbq"),
    [
        (DOTATOC_CHILD, 20.0, 31.8),  # label: 1.59 MBq/kg x 20 kg
        (DOTATOC_CHILD, 5.0, 11.1),  # 7.95 MBq raised to the 11.1 MBq minimum
        (DOTATOC_CHILD, 90.0, 111.0),  # 143.1 capped at 111 MBq
        (MIBG_CHILD, 10.0, 52.0),  # North American consensus: 5.2 MBq/kg
        (MIBG_CHILD, 5.0, 37.0),  # 26 MBq raised to the 37 MBq minimum
    ],
    ids=["dotatoc-20kg", "dotatoc-min", "dotatoc-cap", "mibg-10kg", "mibg-min"],
)
def test_paediatric_rules(rule: ActivityRule, weight_kg: float, expected_mbq: float) -> None:
    got = prescribe_activity(MIBG_ADULT, paediatric=rule, weight_kg=weight_kg, age_years=6)
    np.testing.assert_allclose(got.activity_mbq, expected_mbq, rtol=1e-12)
    assert got.paediatric


def test_child_without_paediatric_rule_refused() -> None:
    with pytest.raises(NotComputableError, match="paediatric"):
        prescribe_activity(MIBG_ADULT, paediatric=None, weight_kg=20.0, age_years=8)


def test_child_without_weight_refused() -> None:
    with pytest.raises(NotComputableError, match="weight_kg"):
        prescribe_activity(NETSPOT, paediatric=NETSPOT, weight_kg=None, age_years=8)


def test_negative_weight_refused() -> None:
    with pytest.raises(PhysicsInputError, match="weight_kg"):
        prescribe_activity(NETSPOT, paediatric=None, weight_kg=-70.0, age_years=50)


def test_rule_with_min_above_max_refused() -> None:
    with pytest.raises(PhysicsInputError, match="min_mbq"):
        ActivityRule(kind=ActivityRuleKind.PER_KG, per_kg_mbq=2.0, min_mbq=300.0, max_mbq=200.0)


@given(w1=st.floats(1.0, 200.0), w2=st.floats(1.0, 200.0))
def test_per_kg_prescription_is_monotonic(w1: float, w2: float) -> None:
    lo, hi = sorted((w1, w2))
    a = prescribe_activity(NETSPOT, paediatric=None, weight_kg=lo, age_years=40).activity_mbq
    b = prescribe_activity(NETSPOT, paediatric=None, weight_kg=hi, age_years=40).activity_mbq
    assert a <= b <= 200.0


@pytest.mark.parametrize(
    ("overlap", "expected"), [(True, 175.0), (False, 350.0)], ids=["overlap>30", "overlap<=30"]
)
def test_fdg_eanm_worked_example(overlap: bool, expected: float) -> None:
    # clinical-facts.md §1.3 worked check: 75 kg, 3 min/bed -> 175 MBq (>30 %), 350 MBq (<=30 %).
    got = compute_fdg_activity_eanm_mbq(75.0, minutes_per_bed=3.0, overlap_over_30_percent=overlap)
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_latest_time_two_half_lives() -> None:
    # 600 MBq Ga-68 holds 150 MBq for exactly two half-lives (by hand).
    got = compute_latest_time_with_activity(
        activity_mbq=600.0, measured_at=T0, required_mbq=150.0, half_life_s=GA68_HALF_LIFE_S
    )
    np.testing.assert_allclose((got - T0).total_seconds(), 2 * GA68_HALF_LIFE_S, rtol=1e-12)


def test_latest_time_refuses_insufficient_source() -> None:
    with pytest.raises(PhysicsInputError, match="less than the required"):
        compute_latest_time_with_activity(
            activity_mbq=100.0, measured_at=T0, required_mbq=150.0, half_life_s=GA68_HALF_LIFE_S
        )


def test_schedule_dose_five_years() -> None:
    # SSTR PET (3.15 mSv) yearly and CT (15 mSv) every 6 months for 5 years with baseline:
    # 6 x 3.15 + 11 x 15 = 18.9 + 165 = 183.9 mSv (by hand).
    total, counts = compute_schedule_dose_msv(
        [
            ScheduledExam(name="ga68-sstr-pet", dose_msv=3.15, interval_months=12),
            ScheduledExam(name="ct-cap", dose_msv=15.0, interval_months=6),
        ],
        duration_months=60,
    )
    assert counts == {"ga68-sstr-pet": 6, "ct-cap": 11}
    np.testing.assert_allclose(total, 183.9, rtol=1e-12)


def test_schedule_without_baseline() -> None:
    total, counts = compute_schedule_dose_msv(
        [ScheduledExam(name="x", dose_msv=2.0, interval_months=12)],
        duration_months=36,
        include_baseline=False,
    )
    assert counts == {"x": 3}
    np.testing.assert_allclose(total, 6.0, rtol=1e-12)
