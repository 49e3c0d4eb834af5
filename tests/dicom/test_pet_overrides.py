"""SUV overrides: impossible weights and UTC offsets are refused or converted, never trusted."""

from __future__ import annotations

import warnings
from datetime import datetime

import pytest

from nenscope.core.errors import NotComputableError, WorkbenchError, WorkbenchWarning
from nenscope.dicom.pet import SuvOverrides, SuvResult, compute_suv_from_headers
from nenscope.knowledge.physics import PhysicsInputError
from tests.dicom.test_pet_fixtures import synthetic_headers


def _suv(overrides: SuvOverrides, tz: str | None = None) -> SuvResult:
    headers = synthetic_headers()
    if tz is not None:
        for ds in headers:
            ds.TimezoneOffsetFromUTC = tz
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", WorkbenchWarning)
        return compute_suv_from_headers(headers, overrides=overrides)


@pytest.mark.parametrize("weight", [5000.0, 0.1, 351.0])
def test_impossible_weight_override_is_refused(weight: float) -> None:
    with pytest.raises(PhysicsInputError) as caught:
        _suv(SuvOverrides(weight_kg=weight))
    message = str(caught.value)
    assert "--weight-kg" in message
    assert f"{weight:g}" in message
    assert "0.5 to 350 kg" in message
    assert isinstance(caught.value, WorkbenchError)


def test_possible_weight_override_scales_suvbw() -> None:
    base = _suv(SuvOverrides(weight_kg=70.0))
    heavy = _suv(SuvOverrides(weight_kg=140.0))
    assert base.suv_bw_factor is not None
    assert heavy.suv_bw_factor == pytest.approx(2.0 * base.suv_bw_factor, rel=1e-12)


def test_naive_injection_time_is_scanner_local_time() -> None:
    naive = _suv(SuvOverrides(injection_time=datetime(2025, 1, 1, 10, 0)))
    assert naive.provenance["injection_time"] == "2025-01-01T10:00:00 from --injection-time"


def test_injection_time_with_offset_is_converted_with_the_header_zone() -> None:
    given = datetime.fromisoformat("2025-01-01T11:00:00+02:00")  # 10:00 at UTC+1
    converted = _suv(SuvOverrides(injection_time=given), tz="+0100")
    naive = _suv(SuvOverrides(injection_time=datetime(2025, 1, 1, 10, 0)), tz="+0100")
    assert converted.suv_bw_factor == pytest.approx(naive.suv_bw_factor, rel=1e-12)
    said = converted.provenance["injection_time"]
    assert said.startswith("2025-01-01T10:00:00 from --injection-time 2025-01-01T11:00:00+02:00")
    assert "TimezoneOffsetFromUTC (0008,0201) +0100" in said


def test_injection_time_with_offset_is_refused_without_a_header_zone() -> None:
    given = datetime.fromisoformat("2025-01-01T10:00:00+02:00")
    with pytest.raises(NotComputableError) as caught:
        _suv(SuvOverrides(injection_time=given))
    message = str(caught.value)
    assert "--injection-time 2025-01-01T10:00:00+02:00 has a UTC offset" in message
    assert "TimezoneOffsetFromUTC (0008,0201)" in message
    assert "2025-01-01T10:00:00)" in message
