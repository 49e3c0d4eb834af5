"""Cornerstone SUV header extracts: 8 real vendor headers and their published SUVbw factors.

Also the helper that turns the extracts (keyword → value JSON) into pydicom datasets; other
SUV tests import it.

The extracts (shared/data/dicom/suv-header-fixtures-cornerstone, MIT) are not DICOM JSON model:
they map keywords to values, put the radiopharmaceutical attributes at top level and the Philips
private group under ``PhilipsPETPrivateGroup``. This builds what a scanner writes: the
radiopharmaceutical attributes in RadiopharmaceuticalInformationSequence (0054,0016) and the
Philips values in private block "Philips PET Private Group" of group 7053.
"""

from __future__ import annotations

import json
import math
import warnings
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from nenscope.core.errors import WorkbenchWarning
from nenscope.dicom.pet import SuvOverrides, SuvResult, compute_suv_from_headers
from tests.conftest import shared_data_path

_RADIO = {
    "RadionuclideTotalDose",
    "RadionuclideHalfLife",
    "RadiopharmaceuticalStartTime",
    "RadiopharmaceuticalStartDateTime",
}
_PHILIPS = {"SUVScaleFactor": 0x00, "ActivityConcentrationScaleFactor": 0x09}


def dataset_from_extract(item: dict[str, Any], index: int) -> Dataset:
    ds = Dataset()
    radio = Dataset()
    ds.Modality = "PT"
    ds.SeriesInstanceUID = "1.2.3.4"
    ds.SOPInstanceUID = f"1.2.3.4.{index}"
    for keyword, value in item.items():
        if keyword == "PhilipsPETPrivateGroup":
            if value:
                block = ds.private_block(0x7053, "Philips PET Private Group", create=True)
                for name, offset in _PHILIPS.items():
                    if name in value:
                        block.add_new(offset, "DS", str(value[name]).strip())
        elif keyword in _RADIO:
            setattr(radio, keyword, value)
        else:
            setattr(ds, keyword, value)
    ds.RadiopharmaceuticalInformationSequence = Sequence([radio])
    return ds


def load_extract(path: Path) -> list[Dataset]:
    items = json.loads(path.read_text(encoding="utf-8"))
    return [dataset_from_extract(item, i) for i, item in enumerate(items)]


# --- the eight published factors --------------------------------------------------------------

# Expected SUVbw factors (g/Bq per rescaled stored value) from cornerstonejs/calculate-suv
# test/calculateSUV_SampleData.test.ts @ dc72aa17 (README of the fixture folder).
EXPECTED = {
    "SIEMENS": 0.00042748316187197236,
    "GE_MEDICAL_AND_BQML": 0.0005367387681819742,
    "PHILIPS_BQML": 0.0007463747013889488,
    "PHILIPS_CNTS_AND_BQML_SUV": 0.000551,
    "PHILIPS_CNTS_AND_SUV": 0.000728,
    "BQML_AC_DT_lessThan_S_DT_SIEMENS": 0.0004069156854009332,
    "CPS_AND_BQML_AC_DT_-_S_DT": 0.00026503312764157046,
    "RADIOPHARM_DATETIME_UNDEFINED": 0.0003721089202818729,
}


def fixture_headers(name: str) -> list[Dataset]:
    folder = shared_data_path("dicom", "suv-header-fixtures-cornerstone")
    return load_extract(folder / f"{name}-instances.json")


def compute_quietly(headers: list[Dataset], **kwargs: Any) -> SuvResult:
    """compute_suv_from_headers with its (expected, recorded) warnings silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", WorkbenchWarning)
        return compute_suv_from_headers(headers, **kwargs)


@pytest.mark.parametrize(("name", "expected"), list(EXPECTED.items()), ids=list(EXPECTED))
def test_published_suvbw_factor(name: str, expected: float) -> None:
    result = compute_quietly(fixture_headers(name))
    # Acceptance: relative error <= 1e-6 (upstream uses 1e-6 absolute, far looser).
    np.testing.assert_allclose(result.stored_to_suv_bw, [expected] * 3, rtol=1e-6)


@pytest.mark.parametrize(
    "name",
    ["SIEMENS", "GE_MEDICAL_AND_BQML", "PHILIPS_BQML", "RADIOPHARM_DATETIME_UNDEFINED"],
)
def test_bqml_factor_is_the_g_per_bq_factor(name: str) -> None:
    result = compute_quietly(fixture_headers(name))
    assert result.stored_to_bq_per_ml == (1.0, 1.0, 1.0)
    np.testing.assert_allclose(result.suv_bw_factor or 0.0, EXPECTED[name], rtol=1e-6)


def test_philips_bqml_ignores_private_suv_factor() -> None:
    # PHILIPS_BQML carries (7053,1000) = 0.003515736, which must not be used for BQML.
    result = compute_quietly(fixture_headers("PHILIPS_BQML"))
    assert abs(result.stored_to_suv_bw[0] - 0.003515736) > 1e-3
    assert "BQML" in result.provenance["conversion"]


def test_philips_counts_with_both_factors_cross_checked() -> None:
    # (7053,1009) 1.602563 Bq/mL per count x header SUVbw factor agrees with (7053,1000).
    result = compute_quietly(fixture_headers("PHILIPS_CNTS_AND_BQML_SUV"))
    assert result.stored_to_bq_per_ml == (1.602563,) * 3
    assert result.suv_bw_factor is not None
    np.testing.assert_allclose(1.602563 * result.suv_bw_factor, 0.000551, rtol=0.02)
    assert "(7053,1000)" in result.provenance["conversion"]


def test_cps_fixture_uses_earliest_acquisition_with_warning() -> None:
    headers = fixture_headers("CPS_AND_BQML_AC_DT_-_S_DT")
    with pytest.warns(WorkbenchWarning, match="earliest AcquisitionTime"):
        result = compute_suv_from_headers(headers, overrides=SuvOverrides(height_cm=180.0))
    assert result.reference_method == "earliest-acquisition-datetime"
    assert result.reference_datetime == datetime(2020, 12, 17, 13, 3, 48, 234000)


def test_missing_height_gives_null_lbm_with_reason() -> None:
    headers = fixture_headers("SIEMENS")
    with pytest.warns(WorkbenchWarning, match="--height-cm"):
        result = compute_suv_from_headers(headers)
    assert result.suv_lbm_factor is None
    assert result.suv_bsa_factor is None
    assert result.suv_bw_factor is not None
    contract = result.to_contract()
    assert contract["suv_lbm_factor"] is None
    assert any("--height-cm" in w for w in result.warnings)


def test_height_and_sex_give_janmahasatian_lbm() -> None:
    # GE fixture: 52 kg, 1.65 m, F -> Janmahasatian LBM = 9270*52/(8780+244*BMI).
    result = compute_quietly(fixture_headers("GE_MEDICAL_AND_BQML"))
    bmi = 52 / 1.65**2
    lbm = 9270 * 52 / (8780 + 244 * bmi)
    assert result.lbm_formula == "LBMJANMA"
    np.testing.assert_allclose(
        result.suv_lbm_factor or 0.0, EXPECTED["GE_MEDICAL_AND_BQML"] * lbm / 52, rtol=1e-9
    )
    bsa_cm2 = 0.007184 * 52**0.425 * 165**0.725 * 1e4
    np.testing.assert_allclose(
        result.suv_bsa_factor or 0.0, EXPECTED["GE_MEDICAL_AND_BQML"] * bsa_cm2 / 52000, rtol=1e-9
    )


# --- a synthetic valid series for refusal and fuzz tests ---------------------------------------

BASE_FACTOR = 70000.0 / (368.08e6 * 2.0 ** (-3600.0 / 6586.2))
"""By hand: 70 kg, 368.08 MBq 18F at 10:00, reference 11:00 (the IBSI DRO design), g/Bq."""


_LAMBDA = math.log(2.0) / 6586.2
T_AVE_300_S = math.log(_LAMBDA * 300.0 / -math.expm1(-_LAMBDA * 300.0)) / _LAMBDA
"""Frame-average time of a 300 s 18F frame, by hand (QIBA), s."""


def synthetic_headers(n_slices: int = 3) -> list[Dataset]:
    """A valid Siemens-like two-bed BQML/START series of ``n_slices`` headers (no pixels).

    SeriesTime 11:00 = first bed start; later slices are on a second bed starting 11:05
    (FrameReferenceTime = bed start offset + frame-average time, as Siemens writes it).
    """
    out = []
    for i in range(n_slices):
        bed2 = i >= (n_slices + 1) // 2
        ds = Dataset()
        ds.Modality = "PT"
        ds.Manufacturer = "SIEMENS"
        ds.SeriesInstanceUID = "1.2.826.0.1.3680043.8.498.1"
        ds.SOPInstanceUID = f"1.2.826.0.1.3680043.8.498.1.{i}"
        ds.Units = "BQML"
        ds.DecayCorrection = "START"
        ds.CorrectedImage = ["NORM", "DTIM", "ATTN", "SCAT", "DECY", "RAN"]
        ds.PatientWeight = "70"
        ds.PatientSize = "1.75"
        ds.PatientSex = "M"
        ds.SeriesDate = "20250101"
        ds.SeriesTime = "110000.000000"
        ds.AcquisitionDate = "20250101"
        ds.AcquisitionTime = "110500.000000" if bed2 else "110000.000000"
        ds.ActualFrameDuration = 300000
        # FrameReferenceTime = bed offset + frame-average time, in ms to the nanosecond, so
        # the IBSI back-computation reproduces 11:00:00 exactly (T_ave = ln(lT/(1-e^-lT))/l).
        ds.FrameReferenceTime = f"{1000.0 * ((300.0 if bed2 else 0.0) + T_AVE_300_S):.6f}"
        ds.RescaleSlope = "1"
        ds.RescaleIntercept = "0"
        radio = Dataset()
        radio.Radiopharmaceutical = "FDG"
        radio.RadionuclideTotalDose = "368080000.0"
        radio.RadionuclideHalfLife = "6586.2"
        radio.RadiopharmaceuticalStartTime = "100000.000000"
        radio.RadiopharmaceuticalStartDateTime = "20250101100000.000000"
        code = Dataset()
        code.CodeValue = "C-111A1"
        code.CodingSchemeDesignator = "SRT"
        code.CodeMeaning = "^18^Fluorine"
        radio.RadionuclideCodeSequence = Sequence([code])
        ds.RadiopharmaceuticalInformationSequence = Sequence([radio])
        out.append(ds)
    return out


def test_synthetic_series_gives_the_hand_factor() -> None:
    result = compute_suv_from_headers(synthetic_headers())
    np.testing.assert_allclose(result.suv_bw_factor or 0.0, BASE_FACTOR, rtol=1e-12)
    assert result.warnings == ()
