"""Real series: GE Discovery ST FDG PET (TCIA STS_001) and Siemens xSPECT 177Lu-DOTATATE.

Sources: shared/data/dicom/tcia-sts-001-ge-petct/README.md (MIRP tests @ d8a6a726: GTV_Mass
SUVbw max 7.9-8.0, min 0.15-0.20, SUVlbm James 5.9-6.1, Janmahasatian 5.8-5.9, IBW 6.6-6.7;
QIBA factor 2.42902977e-4 g/Bq) and lu177-dotatate-spect-xspect-subset/README.md (ADMIN:
factor = 92 987 g / 7 210 425 599.6395 Bq; SUVbw max in the slab 44.76).
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from nenscope.dicom.masks import read_mask
from nenscope.dicom.pet import SuvResult, compute_suv, suv_volume
from nenscope.dicom.series import DicomSeries, read_series
from tests.conftest import shared_data_path

GE = Path("dicom", "tcia-sts-001-ge-petct")
LU = Path("dicom", "lu177-dotatate-spect-xspect-subset")


@cache
def _ge() -> tuple[DicomSeries, SuvResult, dict[str, np.ndarray]]:
    series = read_series(shared_data_path(*GE.parts, "PT_raw_BQML"))
    masks = read_mask(shared_data_path(*GE.parts, "RTSTRUCT_on_PT"), series.volume)
    return series, compute_suv(series), masks


def test_ge_factor_and_reference_time() -> None:
    _, result, _ = _ge()
    np.testing.assert_allclose(result.suv_bw_factor or 0.0, 2.42902977e-4, rtol=1e-6)
    # SeriesTime = AcquisitionTime on every bed; the back-computation spreads by 1215 s.
    assert result.reference_method == "series-datetime"
    assert result.reference_datetime == datetime(2000, 9, 7, 11, 20, 11)
    assert result.injection_datetime == datetime(2000, 9, 7, 10, 35)
    assert "spread 1215.0 s" in result.provenance["reference_time_check"]
    assert result.warnings == ()
    np.testing.assert_allclose(result.suvmax_bw or 0.0, 66.52, atol=0.005)  # README


@pytest.mark.parametrize(
    ("normalisation", "formula", "low", "high"),
    [
        ("bw", "janmahasatian", 7.9, 8.0),
        ("lbm", "janmahasatian", 5.8, 5.9),
        ("lbm", "james", 5.9, 6.1),
        ("ibw", "janmahasatian", 6.6, 6.7),
    ],
    ids=["bw", "lbm-janma", "lbm-james", "ibw"],
)
def test_ge_gtv_mass_suvmax(normalisation: str, formula: str, low: float, high: float) -> None:
    series, result, masks = _ge()
    if formula != "janmahasatian":
        result = compute_suv(series, lbm_formula=formula)
    suv = suv_volume(series, result, normalisation=normalisation)
    gtv = suv.array[masks["GTV_Mass"]]
    assert low <= float(gtv.max()) <= high
    if normalisation == "bw":
        assert 0.15 <= float(gtv.min()) <= 0.20


def test_ge_gml_version_matches_raw_voxelwise_maximum() -> None:
    # MIRP's SUV (GML, SUVType BW, DecayCorrection rewritten to ADMIN) of the same PET, cropped:
    # its maximum equals the raw-derived SUVbw maximum in the same box (README: 25.4123).
    series, result, _ = _ge()
    gml = read_series(shared_data_path(*GE.parts, "PT_cropped_GML"))
    gml_result = compute_suv(gml)
    assert gml_result.stored_to_suv_bw == (1.0,) * len(gml.headers)
    corners = gml.volume.index_to_lps([[0, 0, 0], [n - 1 for n in gml.volume.shape]])
    idx = np.rint(series.volume.lps_to_index(corners)).astype(int)
    lo, hi = idx.min(axis=0), idx.max(axis=0) + 1
    box = suv_volume(series, result).array[lo[0] : hi[0], lo[1] : hi[1], lo[2] : hi[2]]
    np.testing.assert_allclose(gml_result.suvmax_bw or 0.0, 25.4123, atol=5e-5)
    np.testing.assert_allclose(float(box.max()), gml_result.suvmax_bw or 0.0, rtol=1e-4)


def test_lu177_spect_admin_next_day() -> None:
    series = read_series(shared_data_path(*LU.parts, "PT_xSPECT_BQML_slab"))
    result = compute_suv(series)
    np.testing.assert_allclose(result.suv_bw_factor or 0.0, 92987.0 / 7210425599.6395, rtol=1e-12)
    np.testing.assert_allclose(result.suv_bw_factor or 0.0, 1.28963e-5, rtol=1e-5)  # README
    np.testing.assert_allclose(result.suvmax_bw or 0.0, 44.76, atol=0.005)
    assert result.decay_correction == "ADMIN"
    assert result.radionuclide == "177Lu"
    assert result.injection_datetime == datetime(2018, 11, 15, 9, 22)
    assert result.reference_method == "administration"
    masks = read_mask(shared_data_path(*LU.parts, "RTSTRUCT_lesions"), series.volume)
    lesion = suv_volume(series, result).array[masks["lesion2 liver L lateral"]]
    np.testing.assert_allclose(float(lesion.max()), 44.76, atol=0.005)
