"""SUV of the synthetic PET/CT phantom (dicom.synthetic) in each vendor's header style.

The phantom writer computes its SUVbw factor from its own settings (weight, activity,
uptake time, tracer half-life) and paints known SUVs; an independent implementation of the
same physics (STYLE 9.3 c). Siemens writes per-bed AcquisitionTime, GE the series start on
every bed with FrameReferenceTime = bed offset, Philips CNTS the private scale factors.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nenscope.dicom.pet import compute_suv
from nenscope.dicom.series import read_series
from nenscope.dicom.synthetic import PhantomSettings, write_phantom_study


@pytest.mark.slow
@pytest.mark.parametrize(
    ("vendor", "tracer", "units"),
    [
        ("siemens", "ga68-dotatate", "BQML"),
        ("ge", "fdg", "BQML"),
        ("philips", "cu64-dotatate", "CNTS"),
    ],
    ids=["siemens-ga68", "ge-fdg", "philips-cnts-cu64"],
)
def test_phantom_suv_matches_truth(tmp_path: Path, vendor: str, tracer: str, units: str) -> None:
    settings = PhantomSettings(vendor=vendor, tracer=tracer, size="small", pet_units=units)
    truth = write_phantom_study(tmp_path, settings).to_json_dict()
    result = compute_suv(read_series(tmp_path / "PET"))
    acquisition = truth["acquisition"]
    np.testing.assert_allclose(
        result.suv_bw_factor or 0.0, acquisition["suv_bw_factor_g_per_bq"], rtol=1e-9
    )
    assert result.reference_method == "series-datetime"
    painted = [o["suv_mean"] for o in truth["organs"]] + [x["suvmax"] for x in truth["lesions"]]
    # Noise-free phantom: the hottest voxel is the hottest painted value; the stored integers
    # quantise it (RescaleSlope per slice), 1e-4 relative covers that.
    np.testing.assert_allclose(result.suvmax_bw or 0.0, max(painted), rtol=1e-4)
    assert result.warnings == ()
