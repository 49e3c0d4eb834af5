"""The synthetic study read back through the SUV reader gives the ground-truth SUVs.

Cross-check of two independent parts: the phantom writer (which knows the truth) and
``nenscope.dicom.pet.compute_suv`` (which only sees the headers), for every vendor style.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nenscope.dicom.pet import compute_suv, suv_volume
from nenscope.dicom.series import read_series
from nenscope.dicom.synthetic import PhantomSettings, write_phantom_study


@pytest.mark.parametrize(
    ("vendor", "units", "tracer"),
    [
        ("siemens", "BQML", "ga68-dotatate"),
        ("ge", "BQML", "ga68-dotatate"),
        ("philips", "BQML", "fdg"),
        ("philips", "CNTS", "cu64-dotatate"),
    ],
    ids=["siemens", "ge", "philips-bqml", "philips-cnts"],
)
def test_suv_reader_recovers_truth(tmp_path: Path, vendor: str, units: str, tracer: str) -> None:
    truth = write_phantom_study(
        tmp_path, PhantomSettings(size="small", vendor=vendor, pet_units=units, tracer=tracer)
    )
    series = read_series(tmp_path / "PET")
    result = compute_suv(series)
    contract = result.to_contract()
    # By construction 1 SUV = A_ref / W Bq/mL with A_ref decayed to the series start.
    np.testing.assert_allclose(
        float(str(contract["suv_bw_factor"])), 1.0 / truth.settings.bqml_per_suv, rtol=1e-9
    )
    assert str(contract["reference_datetime"]).startswith("2026-01-15T10:30:00")
    suv = np.asarray(suv_volume(series, result).array, dtype=np.float64)
    labels = truth.label_map(series.volume)
    slopes = np.array([float(h.RescaleSlope) for h in series.headers])
    # int16 storage: half the largest slope, converted to SUV (CNTS: via the count factor).
    tol = 0.5 * slopes.max() * float(np.max(suv) / np.max(series.volume.array)) + 1e-5
    for lesion in truth.lesions:
        values = suv[labels == lesion.label]
        np.testing.assert_allclose(values.max(), lesion.suvmax, atol=tol)
        np.testing.assert_allclose(values.min(), lesion.suvmean, atol=tol)
