"""Property test: mutated headers of a valid series give the correct SUV or a clean refusal.

Hypothesis draws a combination of header mutations, each with a known effect on the SUVbw
factor of a valid series: :func:`tests.dicom.test_pet_fixtures.synthetic_headers` or the real
files of IBSI DRO_0_0 (both 70 kg, 368.08 MBq 18F at 10:00, reference 11:00; factor by hand in
``BASE_FACTOR``):

* harmless re-encodings (dose in MBq, weight in g, StartTime or StartDateTime dropped, Philips
  private factor on a BQML series, height/sex dropped, garbage in attributes with a fallback)
  must leave the factor unchanged;
* scalings of dose, weight and injection time must scale it by the known amount;
* breaking mutations (missing/zero/garbled weight or dose, non-quantitative Units, no ATTN,
  unknown DecayCorrection, a half-life contradicting the named nuclide, no injection time)
  must raise a :class:`~nenscope.core.errors.WorkbenchError`.

Anything else (another exception, a different factor, a non-nenscope warning) fails.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

import numpy as np
import pydicom
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydicom.datadict import dictionary_VR
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.tag import Tag

from nenscope.core.errors import WorkbenchError, WorkbenchWarning
from nenscope.dicom.pet import compute_suv_from_headers
from tests.conftest import shared_data_path
from tests.dicom.test_pet_fixtures import BASE_FACTOR, synthetic_headers

F18_S = 6586.2

Breaker = Callable[[Dataset, Dataset, str], None]


# Attributes whose garbling has a fallback that gives the same factor: SeriesTime -> earliest
# AcquisitionTime (= SeriesTime here); AcquisitionTime -> SeriesTime; StartDateTime ->
# StartTime; size/sex only affect LBM/BSA.
RECOVERABLE = (
    "SeriesTime",
    "AcquisitionTime",
    "RadiopharmaceuticalStartDateTime",
    "PatientSize",
    "PatientSex",
    "Manufacturer",
)

GARBAGE = st.text(alphabet="abxyz?/-_ ", min_size=1, max_size=8).filter(lambda t: t.strip() != "")


@dataclass(frozen=True)
class Plan:
    dose_k: float
    weight_k: float
    shift_s: float
    dose_in_mbq: bool
    weight_in_g: bool
    drop_start_datetime: bool
    drop_start_time: bool
    philips_on_bqml: bool
    drop_height: bool
    drop_sex: bool
    breaking: str | None
    garble: str | None
    garbage: str


def _raw(ds: Dataset, keyword: str, text: str) -> None:
    tag = Tag(keyword)
    data = (text + " " * (len(text) % 2)).encode("ascii")
    ds[tag] = RawDataElement(tag, dictionary_VR(tag), len(data), data, 0, True, True)


def _injection_text(shift_s: float) -> str:
    """DICOM DT of 2025-01-01 10:00 minus ``shift_s`` seconds (to the microsecond)."""
    when = datetime(2025, 1, 1, 10, 0) - timedelta(seconds=shift_s)
    return when.strftime("%Y%m%d%H%M%S.%f")


def _apply_scalings(ds: Dataset, radio: Dataset, plan: Plan) -> None:
    dose = 368.08e6 * plan.dose_k
    radio.RadionuclideTotalDose = f"{dose / 1e6 if plan.dose_in_mbq else dose:.10g}"
    weight = 70.0 * plan.weight_k
    ds.PatientWeight = f"{weight * 1000 if plan.weight_in_g else weight:.10g}"
    start = _injection_text(plan.shift_s)
    radio.RadiopharmaceuticalStartTime = start[8:]
    radio.RadiopharmaceuticalStartDateTime = start
    if plan.drop_start_datetime:
        del radio.RadiopharmaceuticalStartDateTime
    if plan.drop_start_time:
        del radio.RadiopharmaceuticalStartTime
    if plan.philips_on_bqml:
        ds.private_block(0x7053, "Philips PET Private Group", create=True).add_new(0, "DS", "0.1")
    if plan.drop_height:
        del ds.PatientSize
    if plan.drop_sex:
        del ds.PatientSex
    if plan.garble is not None:
        target = radio if plan.garble.startswith("Radiopharmaceutical") else ds
        if plan.garble in target:
            _raw(target, plan.garble, plan.garbage)


def _drop_injection(ds: Dataset, radio: Dataset, garbage: str) -> None:
    radio.pop("RadiopharmaceuticalStartTime", None)
    radio.pop("RadiopharmaceuticalStartDateTime", None)


def _inject_after_scan(ds: Dataset, radio: Dataset, garbage: str) -> None:
    radio.RadiopharmaceuticalStartDateTime = "20250101113000"
    radio.RadiopharmaceuticalStartTime = "113000"


def _set(keyword: str, value: object, *, radio: bool = False) -> Breaker:
    def apply(ds: Dataset, item: Dataset, garbage: str) -> None:
        setattr(item if radio else ds, keyword, value)

    return apply


def _delete(keyword: str, *, radio: bool = False) -> Breaker:
    def apply(ds: Dataset, item: Dataset, garbage: str) -> None:
        delattr(item if radio else ds, keyword)

    return apply


def _garble(keyword: str) -> Breaker:
    def apply(ds: Dataset, item: Dataset, garbage: str) -> None:
        _raw(ds, keyword, garbage)

    return apply


BREAKERS: dict[str, Breaker] = {
    "drop-weight": _delete("PatientWeight"),
    "zero-weight": _set("PatientWeight", "0"),
    "garble-weight": _garble("PatientWeight"),
    "drop-dose": _delete("RadionuclideTotalDose", radio=True),
    "negative-dose": _set("RadionuclideTotalDose", "-3.6e8", radio=True),
    "drop-units": _delete("Units"),
    "no-attn": _set("CorrectedImage", ["DECY", "SCAT"]),
    "no-corrected-image": _delete("CorrectedImage"),
    "garble-dc": _garble("DecayCorrection"),
    "halflife-of-68ga": _set("RadionuclideHalfLife", "4057.7", radio=True),
    "drop-injection": _drop_injection,
    "injection-after-scan": _inject_after_scan,
    **{f"units-{u}": _set("Units", u) for u in ("PROPCNTS", "PROPCPS", "1CM", "CPS", "CNTS")},
}
BREAKING = tuple(BREAKERS)


PLANS = st.builds(
    Plan,
    dose_k=st.floats(0.1, 10.0),
    weight_k=st.floats(0.5, 3.0),
    shift_s=st.floats(0.0, 7200.0),
    dose_in_mbq=st.booleans(),
    weight_in_g=st.booleans(),
    drop_start_datetime=st.booleans(),
    drop_start_time=st.booleans(),
    philips_on_bqml=st.booleans(),
    drop_height=st.booleans(),
    drop_sex=st.booleans(),
    breaking=st.none() | st.sampled_from(BREAKING),
    garble=st.none() | st.sampled_from(RECOVERABLE),
    garbage=GARBAGE,
)


@cache
def _dro_headers() -> tuple[Dataset, ...]:
    """Headers of the real files of IBSI DRO_0_0 (same design values as the synthetic one)."""
    folder = shared_data_path("dicom", "ibsi-suv-dro", "DRO_0_0", "PT")
    # Every 5th of the 20 slices keeps each example fast (deep copies of real headers).
    files = sorted(folder.glob("*.dcm"))[::5]
    return tuple(pydicom.dcmread(p, stop_before_pixels=True) for p in files)


def _base(name: str) -> list[Dataset]:
    if name == "synthetic":
        return synthetic_headers()
    return [copy.deepcopy(ds) for ds in _dro_headers()]


def _headers(plan: Plan, base: str) -> list[Dataset]:
    headers = _base(base)
    for ds in headers:
        radio = ds.RadiopharmaceuticalInformationSequence[0]
        _apply_scalings(ds, radio, plan)
        if plan.breaking is not None:
            BREAKERS[plan.breaking](ds, radio, plan.garbage)
    return headers


def _must_refuse(plan: Plan) -> bool:
    datetime_unusable = plan.drop_start_datetime or (
        plan.garble == "RadiopharmaceuticalStartDateTime"
    )
    no_injection = datetime_unusable and plan.drop_start_time
    # Units CNTS on a series whose only Philips value is (7053,1000) is a valid Philips series.
    philips_cnts = plan.breaking == "units-CNTS" and plan.philips_on_bqml
    if philips_cnts:  # SUV = counts x (7053,1000): needs no dose, weight or time
        return False
    return plan.breaking is not None or no_injection


@pytest.mark.parametrize("base", ["synthetic", "ibsi-dro-0-0"])
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan=PLANS)
def test_mutated_header_gives_correct_suv_or_clean_refusal(base: str, plan: Plan) -> None:
    headers = _headers(plan, base)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if _must_refuse(plan):
            with pytest.raises(WorkbenchError):
                compute_suv_from_headers(headers)
            return
        result = compute_suv_from_headers(headers)
    assert all(issubclass(w.category, WorkbenchWarning) for w in caught), [
        str(w.message) for w in caught
    ]
    if plan.breaking == "units-CNTS":  # Philips SUV scale factor 0.1 per count, used as is
        assert result.stored_to_suv_bw == (0.1,) * len(headers)
        return
    # weight x k, dose x k, injection earlier by shift -> decay over 3600 + shift seconds.
    expected = BASE_FACTOR * plan.weight_k / plan.dose_k * 2.0 ** (plan.shift_s / F18_S)
    # Without SeriesTime the DRO falls back to the frame back-computation, and the DRO writes
    # FrameReferenceTime = T/2 (150 s), not the frame-average time (149.8 s): 0.2 s early,
    # 2e-5 relative. Everything else is exact arithmetic.
    rtol = 1e-4 if plan.garble == "SeriesTime" else 1e-9
    np.testing.assert_allclose(result.suv_bw_factor or 0.0, expected, rtol=rtol)
    np.testing.assert_allclose(result.stored_to_suv_bw, [expected] * len(headers), rtol=rtol)
    if plan.drop_height or plan.drop_sex or plan.garble in ("PatientSize", "PatientSex"):
        assert result.suv_lbm_factor is None
