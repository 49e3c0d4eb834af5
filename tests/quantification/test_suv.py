"""Pure SUV arithmetic: decay, frame timing, reference-time choice, factors."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from functools import partial

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.integrate import quad

from nenscope.core.errors import NotComputableError
from nenscope.quantification.suv import (
    ReferenceMethod,
    back_computed_reference_times,
    choose_reference_time,
    decay_factor,
    frame_average_offset_s,
    frame_decay_correction,
    none_slice_corrections,
    resolve_injection_time,
    suv_bw_factor,
)

T_HALF_S = 4062.6  # Ga-68, 67.71 min; the first test only needs elapsed == half-life
F18_S = 6586.2  # 18F half-life written by Siemens and the IBSI DROs


def test_suv_factor_after_one_half_life() -> None:
    # By hand: 200 MBq decays to 100 MBq; 70 kg = 70,000 g -> 70,000 / 1e8 = 7e-4 g/Bq.
    factor = suv_bw_factor(
        weight_kg=70, injected_activity_bq=2e8, injection_to_scan_s=T_HALF_S, half_life_s=T_HALF_S
    )
    np.testing.assert_allclose(factor, 7e-4, rtol=1e-12)


@given(activity=st.floats(1e6, 1e10), k=st.floats(0.1, 10.0))
def test_suv_factor_inversely_proportional_to_activity(activity: float, k: float) -> None:
    f = partial(suv_bw_factor, weight_kg=70, injection_to_scan_s=3600.0, half_life_s=T_HALF_S)
    scaled, base = f(injected_activity_bq=activity * k), f(injected_activity_bq=activity)
    np.testing.assert_allclose(scaled, base / k, rtol=1e-12)


@given(weight=st.floats(1.0, 300.0), k=st.floats(0.1, 10.0))
def test_suv_factor_proportional_to_weight(weight: float, k: float) -> None:
    f = partial(
        suv_bw_factor, injected_activity_bq=3e8, injection_to_scan_s=3600.0, half_life_s=F18_S
    )
    np.testing.assert_allclose(f(weight_kg=weight * k), f(weight_kg=weight) * k, rtol=1e-12)


def test_ibsi_dro_factor_by_hand() -> None:
    # IBSI DRO: 70 kg, 368.08 MBq 18F, 3600 s -> 70000 / (368.08e6 * 2^(-3600/6586.2)).
    expected = 70000.0 / (368.08e6 * 2.0 ** (-3600.0 / F18_S))
    factor = suv_bw_factor(
        weight_kg=70, injected_activity_bq=368.08e6, injection_to_scan_s=3600, half_life_s=F18_S
    )
    np.testing.assert_allclose(factor, expected, rtol=1e-12)
    np.testing.assert_allclose(factor, 2.7777812e-4, rtol=1e-7)  # DRO designed for 1/3600


@pytest.mark.parametrize("bad", [0.0, -5.0, math.nan, math.inf])
def test_suv_factor_refuses_bad_inputs(bad: float) -> None:
    with pytest.raises(NotComputableError, match="weight"):
        suv_bw_factor(
            weight_kg=bad, injected_activity_bq=1e8, injection_to_scan_s=0, half_life_s=1
        )
    with pytest.raises(NotComputableError, match="activity"):
        suv_bw_factor(weight_kg=70, injected_activity_bq=bad, injection_to_scan_s=0, half_life_s=1)
    with pytest.raises(NotComputableError, match="Half-life"):
        decay_factor(10.0, half_life_s=bad)


@pytest.mark.parametrize("duration", [1.0, 120.0, 300.0, 603.0, 1507.255])
def test_frame_decay_correction_matches_numerical_mean(duration: float) -> None:
    # Oracle: 1 / mean of exp(-lambda t) over [0, T] by quadrature.
    lam = math.log(2) / F18_S
    mean, _ = quad(lambda t: math.exp(-lam * t), 0.0, duration)
    expected = duration / mean
    np.testing.assert_allclose(
        frame_decay_correction(duration, half_life_s=F18_S), expected, rtol=1e-12
    )
    t_ave = frame_average_offset_s(duration, half_life_s=F18_S)
    # At T_ave the instantaneous activity equals the frame mean: exp(-lam T_ave) = mean / T.
    np.testing.assert_allclose(math.exp(-lam * t_ave), mean / duration, rtol=1e-12)
    assert 0 < t_ave < duration / 2


def test_frame_decay_correction_zero_duration_is_one() -> None:
    assert frame_decay_correction(0.0, half_life_s=F18_S) == 1.0


def test_back_computation_on_dro_3_2_timing() -> None:
    # IBSI DRO_3_2: beds start 11:02:30 and 11:05:00, FrameReferenceTime 450 s and 600 s,
    # frame 603 s; both give 11:00:00 - 0.094 s (T_ave = 301.4 - 0.09 s vs 301.5 s).
    acq = [datetime(2025, 1, 1, 11, 2, 30), datetime(2025, 1, 1, 11, 5, 0)]
    got = back_computed_reference_times(acq, [450.0, 600.0], [603.0, 603.0], half_life_s=F18_S)
    for when in got:
        assert abs((when - datetime(2025, 1, 1, 11, 0, 0)).total_seconds()) < 0.2


def _choose(
    series: datetime | None,
    acq: list[datetime],
    back: list[datetime] | None = None,
    ge: datetime | None = None,
    injection: datetime | None = datetime(2025, 1, 1, 10, 0),
) -> tuple[datetime, ReferenceMethod]:
    ref = choose_reference_time(
        series_datetime=series,
        acquisition_datetimes=acq,
        back_computed=back,
        ge_scan_datetime=ge,
        injection_datetime=injection,
    )
    return ref.when, ref.method


T11 = datetime(2025, 1, 1, 11, 0)


def test_reference_series_time_when_not_after_acquisition() -> None:
    # GE Discovery semantics: AcquisitionTime = SeriesTime on every bed; back-computed times
    # spread by the bed offsets and must not be used.
    back = [T11 - timedelta(seconds=s) for s in (0, 240, 1215)]
    assert _choose(T11, [T11, T11, T11], back) == (T11, ReferenceMethod.SERIES_TIME)


def test_reference_ge_private_before_back_computation() -> None:
    later = T11 + timedelta(minutes=30)
    back = [T11 - timedelta(minutes=5)] * 2
    acq = [T11 + timedelta(minutes=5)]
    assert _choose(later, acq, back, ge=T11) == (T11, ReferenceMethod.GE_PRIVATE)


def test_reference_back_computed_when_series_time_after_acquisition() -> None:
    series = T11 + timedelta(minutes=30)
    acq = [T11 + timedelta(seconds=150), T11 + timedelta(seconds=300)]
    assert _choose(series, acq, [T11, T11 + timedelta(seconds=0.5)])[1] is (
        ReferenceMethod.FRAME_BACK_COMPUTED
    )


@pytest.mark.parametrize(
    ("back_offsets_s", "why"),
    [((0.0, 5.0), "inconsistent"), ((200.0, 200.0), "after first acquisition")],
    ids=["spread", "after-acquisition"],
)
def test_reference_earliest_acquisition_last(back_offsets_s: tuple[float, ...], why: str) -> None:
    series = T11 + timedelta(minutes=30)
    acq = [T11 + timedelta(seconds=150), T11 + timedelta(seconds=300)]
    back = [T11 + timedelta(seconds=s) for s in back_offsets_s]
    ref = choose_reference_time(
        series_datetime=series,
        acquisition_datetimes=acq,
        back_computed=back,
        ge_scan_datetime=None,
        injection_datetime=datetime(2025, 1, 1, 10, 0),
    )
    assert ref.method is ReferenceMethod.EARLIEST_ACQUISITION, why
    assert ref.when == acq[0]
    assert ref.warnings


def test_reference_back_computed_before_injection_is_rejected() -> None:
    series = T11 + timedelta(minutes=30)
    acq = [T11]
    back = [datetime(2025, 1, 1, 9, 0)] * 2
    assert _choose(series, acq, back)[1] is ReferenceMethod.EARLIEST_ACQUISITION


def test_reference_refused_without_any_time() -> None:
    with pytest.raises(NotComputableError, match="SeriesDate/SeriesTime"):
        _choose(None, [])


def test_injection_midnight_crossing() -> None:
    # IBSI DRO_4_2: injection 23:30 (time only), scan 00:30 on 2 January.
    when, how = resolve_injection_time(
        injection_datetime=None,
        injection_date_from_series=datetime(2025, 1, 2, 23, 30),
        scan_datetime=datetime(2025, 1, 2, 0, 30),
    )
    assert when == datetime(2025, 1, 1, 23, 30)
    assert "midnight" in how


def test_injection_datetime_preferred() -> None:
    full = datetime(2018, 11, 15, 9, 22)
    when, how = resolve_injection_time(
        injection_datetime=full,
        injection_date_from_series=datetime(2018, 11, 16, 9, 22),
        scan_datetime=datetime(2018, 11, 16, 13, 5),
    )
    assert when == full
    assert "0018,1078" in how


def test_none_slice_corrections_by_hand() -> None:
    # DRO_3_4 bed 2: 11:05 start, 603 s frame, injection 10:00 ->
    # lambda T / (1 - exp(-lambda T)) * exp(lambda * 3900 s).
    lam = math.log(2) / F18_S
    expected = lam * 603 / (1 - math.exp(-lam * 603)) * math.exp(lam * 3900)
    got = none_slice_corrections(
        [datetime(2025, 1, 1, 11, 5)],
        [603.0],
        injection_datetime=datetime(2025, 1, 1, 10, 0),
        half_life_s=F18_S,
    )
    np.testing.assert_allclose(got, [expected], rtol=1e-12)


def test_none_slice_before_injection_refused() -> None:
    with pytest.raises(NotComputableError, match="before the injection"):
        none_slice_corrections(
            [datetime(2025, 1, 1, 9, 0)],
            [300.0],
            injection_datetime=datetime(2025, 1, 1, 10, 0),
            half_life_s=F18_S,
        )


def test_reference_implausible_private_times_are_skipped() -> None:
    # A GE/Siemens private time a day before the injection (date shift) or after the first
    # acquisition is not a decay reference; the next rule decides.
    series = T11 + timedelta(minutes=30)
    acq = [T11 + timedelta(seconds=150)]
    day_before = T11 - timedelta(days=1)
    ref = choose_reference_time(
        series_datetime=series,
        acquisition_datetimes=acq,
        back_computed=None,
        ge_scan_datetime=day_before,
        siemens_decay_datetime=T11 + timedelta(hours=1),
        injection_datetime=datetime(2025, 1, 1, 10, 0),
    )
    assert ref.method is ReferenceMethod.EARLIEST_ACQUISITION
    ref = choose_reference_time(
        series_datetime=series,
        acquisition_datetimes=acq,
        back_computed=None,
        ge_scan_datetime=day_before,
        siemens_decay_datetime=T11,
        injection_datetime=datetime(2025, 1, 1, 10, 0),
    )
    assert (ref.when, ref.method) == (T11, ReferenceMethod.SIEMENS_PRIVATE)
