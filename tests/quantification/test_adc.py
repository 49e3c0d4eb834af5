"""Tests of the pure ADC fit (nenscope.quantification.adc)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nenscope.core.errors import NotComputableError
from nenscope.quantification.adc import compute_adc

B = np.array([0.0, 50.0, 400.0, 800.0])


def _signal(s0: float, adc: float | np.ndarray, b: np.ndarray = B) -> np.ndarray:
    return s0 * np.exp(-b * adc)


def test_known_coefficient_exact() -> None:
    # By hand: S = 1000 exp(-b * 1e-3) is fitted exactly by ln S = ln 1000 - 1e-3 b.
    signals = _signal(1000.0, 1.0e-3)[:, None, None, None] * np.ones((1, 2, 3, 4))
    fit = compute_adc(signals, B)
    np.testing.assert_allclose(fit.adc_mm2_per_s, 1.0e-3, rtol=1e-12)
    np.testing.assert_allclose(fit.s0, 1000.0, rtol=1e-12)
    assert fit.is_defined.all()
    assert fit.adc_mm2_per_s.dtype == np.float64
    assert fit.adc_mm2_per_s.shape == (2, 3, 4)
    np.testing.assert_array_equal(fit.n_points, 4)


def test_matches_independent_polyfit() -> None:
    # Reference (c): numpy.polyfit of ln S on b, voxel by voxel, on noisy data.
    rng = np.random.default_rng(3)
    true_adc = rng.uniform(0.5e-3, 3.0e-3, size=20)
    signals = _signal(800.0, true_adc[None, :], B[:, None]) + rng.normal(0, 5.0, (4, 20))
    fit = compute_adc(signals, B)
    for v in range(20):
        slope, intercept = np.polyfit(B, np.log(signals[:, v]), 1)
        np.testing.assert_allclose(fit.adc_mm2_per_s[v], -slope, rtol=1e-9)
        np.testing.assert_allclose(fit.s0[v], np.exp(intercept), rtol=1e-9)


def test_directions_average_to_the_trace() -> None:
    # By hand: with one b=0 image and three directions at b=1000 with D = 0.5, 1.0, 2.1e-3,
    # ln S averages over the directions, so the fitted ADC is the mean diffusivity 1.2e-3.
    b = np.array([0.0, 1000.0, 1000.0, 1000.0])
    d = np.array([0.5e-3, 1.0e-3, 2.1e-3])
    signals = np.concatenate([[500.0], 500.0 * np.exp(-1000.0 * d)])
    fit = compute_adc(signals[:, None], b)
    np.testing.assert_allclose(fit.adc_mm2_per_s[0], 1.2e-3, rtol=1e-12)


def test_non_positive_signal_is_left_out_or_masked() -> None:
    signals = np.stack(
        [
            _signal(100.0, 1e-3),  # all valid
            np.array([100.0, 0.0, 100.0 * np.exp(-0.4), 100.0 * np.exp(-0.8)]),  # one zero
            np.array([0.0, 0.0, 0.0, 5.0]),  # one usable point: undefined
            np.zeros(4),  # background: undefined
            np.array([np.nan, 10.0, 0.0, -1.0]),  # one usable point: undefined
        ],
        axis=1,
    )
    fit = compute_adc(signals, B)
    np.testing.assert_array_equal(fit.is_defined, [True, True, False, False, False])
    np.testing.assert_array_equal(fit.n_points, [4, 3, 1, 0, 1])
    # The voxel with a zero at b=50 is fitted exactly on its three other points.
    np.testing.assert_allclose(fit.adc_mm2_per_s[:2], 1e-3, rtol=1e-12)
    np.testing.assert_array_equal(fit.adc_mm2_per_s[2:], 0.0)


def test_all_points_at_one_b_value_is_undefined() -> None:
    # Only the b=800 image is positive in voxel 1: no slope can be fitted.
    signals = np.array([[10.0, 0.0], [8.0, 0.0], [6.0, 0.0], [4.0, 3.0], [4.1, 3.1]])
    fit = compute_adc(signals, [0.0, 50.0, 400.0, 800.0, 800.0])
    np.testing.assert_array_equal(fit.is_defined, [True, False])


def test_min_b_leaves_out_low_b_values() -> None:
    # Bi-exponential signal: with b < 200 left out only the slow component (1e-3) remains.
    b = np.array([0.0, 50.0, 200.0, 500.0, 1000.0])
    signals = 0.8 * np.exp(-b * 1e-3) + 0.2 * np.exp(-b * 50e-3)
    fit_all = compute_adc(signals[:, None], b)
    fit_high = compute_adc(signals[:, None], b, min_b_s_per_mm2=200.0)
    # By hand: at b = 200 the fast part 0.2 e^-10 = 9.1e-6 is 1.4e-5 of the signal (0.655), so
    # ln S is off by <= 1.4e-5 there; over b-values 200-1000 that moves the slope by < 3e-8,
    # i.e. < 3e-5 of 1e-3.
    np.testing.assert_allclose(fit_high.adc_mm2_per_s[0], 1e-3, rtol=3e-5)
    assert fit_all.adc_mm2_per_s[0] > 1.05e-3  # perfusion raises the all-b ADC


def test_input_not_modified() -> None:
    signals = np.stack([_signal(100.0, 1e-3)] * 3, axis=1)
    before = signals.copy()
    compute_adc(signals, B)
    np.testing.assert_array_equal(signals, before)


@pytest.mark.parametrize(
    ("b", "kwargs", "match"),
    [
        ([0.0, 50.0, 400.0], {}, "one b-value per image"),
        ([0.0, -50.0, 400.0, 800.0], {}, ">= 0"),
        ([0.0, 0.0, 0.0, 0.0], {}, "two different b-values"),
        ([0.0, 50.0, 400.0, 800.0], {"min_b_s_per_mm2": 500.0}, "two different b-values"),
        ([0.0, 50.0, 400.0, 800.0], {"min_b_s_per_mm2": -1.0}, "min_b"),
    ],
    ids=["count", "negative", "single-b", "min-b-too-high", "negative-min-b"],
)
def test_bad_b_values_refused(b: list[float], kwargs: dict[str, float], match: str) -> None:
    signals = np.ones((4, 3))
    with pytest.raises(NotComputableError, match=match):
        compute_adc(signals, b, **kwargs)


@settings(max_examples=50, deadline=None)
@given(
    adc=st.floats(1e-5, 5e-3),
    s0=st.floats(1.0, 1e5),
    k=st.floats(0.01, 100.0),
)
def test_adc_does_not_depend_on_signal_scale(adc: float, s0: float, k: float) -> None:
    # ln(k S) = ln k + ln S: scaling moves only the intercept.
    signals = _signal(s0, adc)[:, None]
    a = compute_adc(signals, B).adc_mm2_per_s
    b = compute_adc(signals * k, B).adc_mm2_per_s
    np.testing.assert_allclose(a, adc, rtol=1e-9)
    np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-15)
