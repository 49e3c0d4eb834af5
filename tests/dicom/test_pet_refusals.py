"""Bad or incomplete headers: a clean refusal naming attribute and override, or a recorded fix."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from datetime import datetime

import numpy as np
import pytest
from pydicom.datadict import dictionary_VR
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.tag import Tag

from nenscope.core.errors import (
    DicomImportError,
    MissingAttributeError,
    NotComputableError,
    UnitError,
    WorkbenchError,
    WorkbenchWarning,
)
from nenscope.dicom.pet import SuvOverrides, SuvResult, compute_suv_from_headers
from tests.dicom.test_pet_fixtures import BASE_FACTOR, synthetic_headers

Mutation = Callable[[Dataset], None]


def _radio(ds: Dataset) -> Dataset:
    item: Dataset = ds.RadiopharmaceuticalInformationSequence[0]
    return item


def _mutated(mutate: Mutation) -> list[Dataset]:
    headers = synthetic_headers()
    for ds in headers:
        mutate(ds)
    return headers


def _quiet(headers: list[Dataset], **kwargs: object) -> SuvResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", WorkbenchWarning)
        return compute_suv_from_headers(headers, **kwargs)  # type: ignore[arg-type]  # kwargs


def _del(keyword: str, radio: bool = False) -> Mutation:
    def mutate(ds: Dataset) -> None:
        delattr(_radio(ds) if radio else ds, keyword)

    return mutate


def _set(keyword: str, value: object, radio: bool = False) -> Mutation:
    def mutate(ds: Dataset) -> None:
        setattr(_radio(ds) if radio else ds, keyword, value)

    return mutate


def _raw(keyword: str, text: str) -> Mutation:
    """Store ``text`` undecoded, as a file with an invalid value reads (pydicom keeps the str)."""

    def mutate(ds: Dataset) -> None:
        tag = Tag(keyword)
        data = (text + " " * (len(text) % 2)).encode("ascii")
        ds[tag] = RawDataElement(tag, dictionary_VR(tag), len(data), data, 0, True, True)

    return mutate


def _drop_injection(ds: Dataset) -> None:
    del _radio(ds).RadiopharmaceuticalStartTime
    del _radio(ds).RadiopharmaceuticalStartDateTime


def _gallium_code(ds: Dataset) -> None:
    _radio(ds).RadionuclideCodeSequence[0].CodeMeaning = "^68^Gallium"


def _ge_style_none(ds: Dataset) -> None:
    ds.DecayCorrection = "NONE"
    ds.CorrectedImage = ["ATTN", "SCAT"]
    ds.AcquisitionTime = "110000.000000"
    # GE writes the bed offset in FrameReferenceTime: beds 0 s and 900 s apart (> frame 300 s).
    ds.FrameReferenceTime = f"{3 * float(ds.FrameReferenceTime):.3f}"


def _gml_lbm_no_sex(ds: Dataset) -> None:
    ds.Units = "GML"
    ds.SUVType = "LBMJAMES128"
    del ds.PatientSex


REFUSALS: list[tuple[str, Mutation, type[WorkbenchError], str]] = [
    ("no-weight", _del("PatientWeight"), MissingAttributeError, r"PatientWeight.*--weight-kg"),
    ("zero-weight", _set("PatientWeight", "0"), MissingAttributeError, r"0010,1030.*--weight-kg"),
    ("text-weight", _raw("PatientWeight", "n/a"), MissingAttributeError, "--weight-kg"),
    ("no-dose", _del("RadionuclideTotalDose", True), NotComputableError, r"0018,1074.*--injected"),
    ("zero-dose", _set("RadionuclideTotalDose", "0", True), NotComputableError, "--injected-mbq"),
    ("no-injection", _drop_injection, NotComputableError, r"0018,1072.*--injection-time"),
    ("propcnts", _set("Units", "PROPCNTS"), UnitError, "PROPCNTS.*not an activity"),
    ("cps", _set("Units", "CPS"), UnitError, "CPS"),
    ("no-units", _del("Units"), UnitError, r"Units \(0054,1001\) is missing"),
    ("cnts-uncalibrated", _set("Units", "CNTS"), UnitError, r"\(7053,1000\).*calibration"),
    ("no-attn", _set("CorrectedImage", ["DECY", "SCAT"]), NotComputableError, "lacks ATTN"),
    ("no-decy", _set("CorrectedImage", ["ATTN"]), NotComputableError, "lacks DECY"),
    ("bad-dc", _set("DecayCorrection", "SOMETIMES"), UnitError, r"DecayCorrection \(0054,1102\)"),
    ("nuclide-mismatch", _gallium_code, NotComputableError, r"6586.2 s does not match.*68Ga"),
    ("no-half-life", _del("RadionuclideHalfLife", True), NotComputableError, "unused"),
    ("frt-text", _raw("FrameReferenceTime", "later"), DicomImportError, "FrameReferenceTime"),
    ("none-ge-style", _ge_style_none, NotComputableError, "GE-style"),
    ("gml-lbm-no-sex", _gml_lbm_no_sex, NotComputableError, r"needs the sex.*--sex"),
]


@pytest.mark.parametrize(
    ("mutate", "error", "pattern"),
    [r[1:] for r in REFUSALS if r[0] != "no-half-life"],
    ids=[r[0] for r in REFUSALS if r[0] != "no-half-life"],
)
def test_refusal_names_attribute_and_fix(
    mutate: Mutation, error: type[WorkbenchError], pattern: str
) -> None:
    with pytest.raises(error, match=pattern) as info:
        _quiet(_mutated(mutate))
    assert "series 1.2.826.0.1.3680043.8.498.1" in str(info.value)


def test_missing_half_life_falls_back_to_named_nuclide_with_warning() -> None:
    headers = _mutated(_del("RadionuclideHalfLife", True))
    with pytest.warns(WorkbenchWarning, match="nominal 18F half-life"):
        result = compute_suv_from_headers(headers)
    np.testing.assert_allclose(result.suv_bw_factor or 0.0, BASE_FACTOR, rtol=1e-12)


def test_missing_half_life_and_nuclide_refused() -> None:
    def mutate(ds: Dataset) -> None:
        del _radio(ds).RadionuclideHalfLife
        del _radio(ds).RadionuclideCodeSequence
        _radio(ds).Radiopharmaceutical = "DOTATATE"

    with pytest.raises(NotComputableError, match=r"RadionuclideHalfLife \(0018,1075\)"):
        _quiet(_mutated(mutate))


def test_slices_disagreeing_on_weight_refused() -> None:
    headers = synthetic_headers()
    headers[2].PatientWeight = "71"
    with pytest.raises(DicomImportError, match=r"PatientWeight \(0010,1030\) differs"):
        _quiet(headers)


def test_injection_after_scan_refused() -> None:
    headers = _mutated(_set("RadiopharmaceuticalStartDateTime", "20250101120000", True))
    with pytest.raises(NotComputableError, match=r"before the injection.*--injection-time"):
        _quiet(headers)


@pytest.mark.parametrize(
    ("mutate", "overrides", "recorded"),
    [
        (_del("PatientWeight"), SuvOverrides(weight_kg=70.0), ("weight", "--weight-kg")),
        (
            _del("RadionuclideTotalDose", True),
            SuvOverrides(injected_mbq=368.08),
            ("dose", "--injected-mbq"),
        ),
        (
            _drop_injection,
            SuvOverrides(injection_time=datetime(2025, 1, 1, 10, 0)),
            ("injection_time", "--injection-time"),
        ),
    ],
    ids=["weight", "dose", "injection"],
)
def test_override_fixes_and_is_recorded(
    mutate: Mutation, overrides: SuvOverrides, recorded: tuple[str, str]
) -> None:
    result = _quiet(_mutated(mutate), overrides=overrides)
    np.testing.assert_allclose(result.suv_bw_factor or 0.0, BASE_FACTOR, rtol=1e-12)
    key, flag = recorded
    assert flag in result.provenance[key]


def test_override_replaces_header_value() -> None:
    # A header weight of 70 kg overridden to 80 kg scales the factor by 80/70.
    result = _quiet(synthetic_headers(), overrides=SuvOverrides(weight_kg=80.0))
    np.testing.assert_allclose(result.suv_bw_factor or 0.0, BASE_FACTOR * 80 / 70, rtol=1e-12)
    assert "header PatientWeight: 70" in result.provenance["weight"]


def test_weight_in_grams_is_converted_with_warning() -> None:
    headers = _mutated(_set("PatientWeight", "70000"))
    with pytest.warns(WorkbenchWarning, match="taken as grams"):
        result = compute_suv_from_headers(headers)
    np.testing.assert_allclose(result.suv_bw_factor or 0.0, BASE_FACTOR, rtol=1e-12)


def test_admin_needs_no_injection_time() -> None:
    # DecayCorrection ADMIN: no decay of the dose, so no time is needed: 70000 / 368.08e6.
    def mutate(ds: Dataset) -> None:
        ds.DecayCorrection = "ADMIN"
        _drop_injection(ds)

    result = _quiet(_mutated(mutate))
    np.testing.assert_allclose(result.suv_bw_factor or 0.0, 70000 / 368.08e6, rtol=1e-12)
    assert result.reference_datetime is None


def _lutetium_time_only(ds: Dataset) -> None:
    _radio(ds).RadionuclideHalfLife = "574300"
    _radio(ds).RadionuclideCodeSequence[0].CodeMeaning = "177 Lutetium"
    del _radio(ds).RadiopharmaceuticalStartDateTime


def test_time_only_injection_for_lutetium_is_refused() -> None:
    # suv-rules.md §4.2: multi-day protocols require RadiopharmaceuticalStartDateTime.
    with pytest.raises(NotComputableError, match=r"0018,1078.*--injection-time"):
        _quiet(_mutated(_lutetium_time_only))
    # With the date given, it is computed: 70 kg / (368.08 MBq * 2^(-3600/574300)).
    result = _quiet(
        _mutated(_lutetium_time_only),
        overrides=SuvOverrides(injection_time=datetime(2025, 1, 1, 10, 0)),
    )
    expected = 70000 / (368.08e6 * 2 ** (-3600 / 574300))
    np.testing.assert_allclose(result.suv_bw_factor or 0.0, expected, rtol=1e-12)


def test_time_only_injection_for_lutetium_admin_needs_no_date() -> None:
    def mutate(ds: Dataset) -> None:
        _lutetium_time_only(ds)
        ds.DecayCorrection = "ADMIN"

    result = _quiet(_mutated(mutate))
    np.testing.assert_allclose(result.suv_bw_factor or 0.0, 70000 / 368.08e6, rtol=1e-12)


def test_private_group_of_other_creator_is_not_read() -> None:
    # A (7053,xx00) value in another creator's block is not Philips' SUV scale factor.
    def mutate(ds: Dataset) -> None:
        ds.Units = "CNTS"
        ds.private_block(0x7053, "Other Vendor", create=True).add_new(0x00, "DS", "0.0005")

    with pytest.raises(UnitError, match="7053,1000"):
        _quiet(_mutated(mutate))


def test_philips_counts_with_creator_is_used_without_warning() -> None:
    def mutate(ds: Dataset) -> None:
        ds.Units = "CNTS"
        block = ds.private_block(0x7053, "Philips PET Private Group", create=True)
        block.add_new(0x09, "DS", "2.0")

    result = compute_suv_from_headers(_mutated(mutate))
    assert result.stored_to_bq_per_ml == (2.0,) * 3
    np.testing.assert_allclose(result.stored_to_suv_bw, [2.0 * BASE_FACTOR] * 3, rtol=1e-12)


def test_nm_counts_refused() -> None:
    def mutate(ds: Dataset) -> None:
        ds.Modality = "NM"
        del ds.Units

    with pytest.raises(UnitError, match="calibration"):
        _quiet(_mutated(mutate))


def test_values_and_headers_must_match() -> None:
    with pytest.raises(NotComputableError, match="2 slices of values but 3 headers"):
        _quiet(synthetic_headers(), values=np.ones((2, 4, 4)))


def test_suvmax_uses_per_slice_scale() -> None:
    values = np.zeros((3, 2, 2))
    values[1, 0, 0] = 3600.0  # Bq/mL
    result = _quiet(synthetic_headers(), values=values)
    np.testing.assert_allclose(result.suvmax_bw or 0.0, 3600.0 * BASE_FACTOR, rtol=1e-12)


def test_contract_has_design_keys() -> None:
    contract = _quiet(synthetic_headers()).to_contract()
    for key in (
        "series_instance_uid",
        "units",
        "decay_correction",
        "injected_activity_bq",
        "injection_datetime",
        "reference_datetime",
        "half_life_s",
        "weight_kg",
        "suv_bw_factor",
        "suv_lbm_factor",
        "suv_bsa_factor",
        "suvmax_bw",
        "warnings",
        "provenance",
    ):
        assert key in contract
    assert contract["injection_datetime"] == "2025-01-01T10:00:00"
    assert contract["reference_datetime"] == "2025-01-01T11:00:00"


def test_suvmax_ignores_non_finite_voxels() -> None:
    values = np.full((3, 2, 2), np.nan)
    values[2, 1, 1] = 1000.0
    result = _quiet(synthetic_headers(), values=values)
    np.testing.assert_allclose(result.suvmax_bw or 0.0, 1000.0 * BASE_FACTOR, rtol=1e-12)


def test_enhanced_decay_correction_datetime_is_the_reference() -> None:
    # SeriesTime after the acquisition would send QIBA elsewhere; the explicit Enhanced PET
    # DecayCorrectionDateTime (0018,9701) = 11:00 gives the hand factor.
    def mutate(ds: Dataset) -> None:
        ds.SeriesTime = "113000"
        ds.DecayCorrectionDateTime = "20250101110000"

    result = _quiet(_mutated(mutate))
    assert result.reference_method == "decay-correction-datetime"
    np.testing.assert_allclose(result.suv_bw_factor or 0.0, BASE_FACTOR, rtol=1e-12)


def test_none_with_enhanced_frame_duration() -> None:
    # DecayCorrection NONE with FrameAcquisitionDuration (0018,9220) instead of
    # ActualFrameDuration gives the same per-slice corrections.
    def none(ds: Dataset) -> None:
        ds.DecayCorrection = "NONE"
        ds.CorrectedImage = ["ATTN", "SCAT"]

    def enhanced(ds: Dataset) -> None:
        none(ds)
        ds.FrameAcquisitionDuration = float(ds.ActualFrameDuration)
        del ds.ActualFrameDuration

    classic = _quiet(_mutated(none))
    frames = _quiet(_mutated(enhanced))
    assert classic.stored_to_bq_per_ml is not None
    assert frames.stored_to_bq_per_ml == classic.stored_to_bq_per_ml
    # Bed 2 (11:05, 300 s frame) by hand: lambda T / (1 - e^-lambda T) * e^(lambda 3900 s).
    lam = np.log(2) / 6586.2
    expected = lam * 300 / (1 - np.exp(-lam * 300)) * np.exp(lam * 3900)
    np.testing.assert_allclose(classic.stored_to_bq_per_ml[-1], expected, rtol=1e-12)
    np.testing.assert_allclose(classic.suv_bw_factor or 0.0, 70000 / 368.08e6, rtol=1e-12)


def test_date_only_injection_datetime_is_not_midnight() -> None:
    # DT "20250101" is a legal partial DT; read as midnight it would add 10 h of decay.
    headers = _mutated(_set("RadiopharmaceuticalStartDateTime", "20250101", True))
    with pytest.warns(WorkbenchWarning, match="time of day"):
        result = compute_suv_from_headers(headers)
    np.testing.assert_allclose(result.suv_bw_factor or 0.0, BASE_FACTOR, rtol=1e-12)
    assert "0018,1072" in result.provenance["injection_time"]


def test_injection_days_before_an_fdg_scan_refused() -> None:
    # 18F injected the day before (24 h = 13 half-lives): a wrong date, not a protocol.
    headers = _mutated(_set("RadiopharmaceuticalStartDateTime", "20241231100000", True))
    with pytest.raises(NotComputableError, match=r"13\.\d half-lives.*--injection-time"):
        _quiet(headers)


def test_missing_corrected_image_refused_for_activity_but_not_for_stored_suv() -> None:
    with pytest.raises(NotComputableError, match=r"CorrectedImage \(0028,0051\) is missing"):
        _quiet(_mutated(_del("CorrectedImage")))

    def gml(ds: Dataset) -> None:
        del ds.CorrectedImage
        ds.Units = "GML"

    with pytest.warns(WorkbenchWarning, match="already SUV"):
        result = compute_suv_from_headers(_mutated(gml))
    assert result.stored_to_suv_bw == (1.0,) * 3


def _siemens_private(value: str, *, series_time: str = "110000") -> Mutation:
    def mutate(ds: Dataset) -> None:
        ds.SeriesTime = series_time
        block = ds.private_block(0x0071, "SIEMENS MED PT", create=True)
        block.add_new(0x22, "DT", value)

    return mutate


def test_siemens_private_decay_datetime_used_after_reexport() -> None:
    # SeriesTime 11:30 after the 11:00 acquisition; Siemens (0071,1022) names 11:00.
    headers = _mutated(_siemens_private("20250101110000", series_time="113000"))
    result = _quiet(headers)
    assert result.reference_method == "siemens-private-decay-datetime"
    np.testing.assert_allclose(result.suv_bw_factor or 0.0, BASE_FACTOR, rtol=1e-12)


def test_siemens_private_date_shift_is_not_used_and_warned() -> None:
    # De-identification shifted the private date by one day: SeriesTime stays the reference.
    headers = _mutated(_siemens_private("20241231110000"))
    with pytest.warns(WorkbenchWarning, match=r"\(0071,1022\).*differs by -86400 s"):
        result = compute_suv_from_headers(headers)
    assert result.reference_method == "series-datetime"
    np.testing.assert_allclose(result.suv_bw_factor or 0.0, BASE_FACTOR, rtol=1e-12)


def test_siemens_private_equal_to_series_time_is_silent() -> None:
    result = compute_suv_from_headers(_mutated(_siemens_private("20250101110000")))
    assert result.warnings == ()
    assert "+0.0 s" in result.provenance["siemens_private_check"]
