"""IBSI SUV digital reference objects: all 17 must give SUVbw 0.20 / 1.00 / 4.00 in their mask.

Source: oncoray/suv_computation @ bf11a080 (shared/data/dicom/ibsi-suv-dro, CC BY 4.0);
expected values from the publisher's DRO_list.csv (min, median, max inside the mask, two
decimals). Tolerance 0.005 (the publisher's two-decimal rounding); DRO_2_3 0.03 because its
SUVbsa values are stored truncated to 0.01 (README; an independent reference gets 3.977).
"""

from __future__ import annotations

import csv
import warnings
from pathlib import Path

import numpy as np
import pytest

from nenscope.core.errors import WorkbenchWarning
from nenscope.core.units import Unit
from nenscope.dicom.masks import read_mask
from nenscope.dicom.pet import compute_suv, suv_volume
from nenscope.dicom.series import read_series
from tests.conftest import shared_data_path

ROOT = Path("dicom", "ibsi-suv-dro")

# Expected reference-time rule per DRO (what the case is built to exercise).
METHOD = {
    "DRO_3_1": "administration",
    "DRO_3_2": "frame-back-computed",
    "DRO_3_4": "administration",
}


def _cases() -> list[tuple[str, float, float, float]]:
    listing = shared_data_path(*ROOT.parts, "DRO_list.csv")
    with listing.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return [
        (
            row["ID"],
            float(row["SUVmin_expected"]),
            float(row["SUVmed_expected"]),
            float(row["SUVmax_expected"]),
        )
        for row in rows
    ]


@pytest.mark.parametrize(("dro", "smin", "smed", "smax"), _cases(), ids=lambda v: str(v))
def test_dro_suvbw_in_mask(dro: str, smin: float, smed: float, smax: float) -> None:
    folder = shared_data_path(*ROOT.parts, dro)
    series = read_series(folder / "PT")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = compute_suv(series)
    suv = suv_volume(series, result)
    masks = read_mask(folder / "mask" / "DRO_mask.nii.gz", series.volume)
    assert len(masks) == 1
    inside = np.asarray(suv.array, dtype=np.float64)[next(iter(masks.values()))]
    tol = 0.03 if dro == "DRO_2_3" else 0.005
    got = (float(inside.min()), float(np.median(inside)), float(inside.max()))
    np.testing.assert_allclose(got, (smin, smed, smax), atol=tol, rtol=0)
    assert suv.unit is Unit.SUV_BW
    assert suv.array.dtype == np.float64
    assert result.reference_method == METHOD.get(dro, "series-datetime")
    # Every warning is one of ours and is also recorded in the result.
    assert all(issubclass(w.category, WorkbenchWarning) for w in caught)
    assert len(caught) == len(result.warnings)
    np.testing.assert_allclose(result.suvmax_bw or 0.0, float(suv.array.max()), rtol=1e-12)


def test_dro_3_0_dose_in_mbq_is_warned_and_recorded() -> None:
    series = read_series(shared_data_path(*ROOT.parts, "DRO_3_0", "PT"))
    with pytest.warns(WorkbenchWarning, match="taken as MBq"):
        result = compute_suv(series)
    assert result.injected_activity_bq == pytest.approx(368.08e6, rel=1e-12)
    assert "MBq" in result.provenance["dose"]


def test_dro_2_4_private_without_creator_is_warned() -> None:
    series = read_series(shared_data_path(*ROOT.parts, "DRO_2_4", "PT"))
    with pytest.warns(WorkbenchWarning, match="no private creator"):
        result = compute_suv(series)
    # (7053,1000) = 0.0005 SUV per count (README), slope 1.
    assert result.stored_to_suv_bw == (0.0005,) * 20


def test_dro_4_2_midnight_injection_on_previous_day() -> None:
    series = read_series(shared_data_path(*ROOT.parts, "DRO_4_2", "PT"))
    result = compute_suv(series)
    assert result.injection_datetime is not None
    assert result.injection_datetime.isoformat() == "2025-01-01T23:30:00"
    assert "midnight" in result.provenance["injection_time"]


def test_dro_5_0_uses_gallium_half_life() -> None:
    series = read_series(shared_data_path(*ROOT.parts, "DRO_5_0", "PT"))
    result = compute_suv(series)
    assert result.half_life_s == 4057.7
    assert result.radionuclide == "68Ga"
