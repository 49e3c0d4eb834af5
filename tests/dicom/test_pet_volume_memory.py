"""SUV volume in float32 (the benchmark's memory budget) and the SUVmax scan without copies."""

from __future__ import annotations

import warnings

import numpy as np

from nenscope.dicom.pet import _suvmax, compute_suv, suv_volume
from nenscope.dicom.series import read_series
from tests.conftest import shared_data_path


def test_float32_suv_volume_equals_float64_to_float32_precision() -> None:
    series = read_series(shared_data_path("dicom", "ibsi-suv-dro", "DRO_0_0", "PT"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the DRO's deviations are tested in test_pet_dro.py
        result = compute_suv(series)
    wide = suv_volume(series, result)
    narrow = suv_volume(series, result, dtype=np.float32)
    assert wide.array.dtype == np.float64
    assert narrow.array.dtype == np.float32
    assert narrow.same_grid(wide)
    assert narrow.unit is wide.unit
    # float32 keeps 24 bits of mantissa: relative error <= 2**-24 ~ 6e-8 per voxel.
    np.testing.assert_allclose(narrow.array, wide.array, rtol=1.2e-7, atol=0.0)


def test_suvmax_skips_non_finite_voxels_per_slice() -> None:
    values = np.array(
        [
            [[1.0, np.nan], [2.0, 3.0]],  # NaN skipped: 3
            [[np.inf, 5.0], [1.0, 0.0]],  # +inf skipped: 5
            [[np.nan, np.nan], [np.nan, np.nan]],  # nothing finite: slice ignored
        ],
        dtype=np.float32,
    )
    # By hand: max(3 * 2.0, 5 * 1.0) = 6.0; the all-NaN slice and the inf voxel do not count.
    assert _suvmax(values, (2.0, 1.0, 100.0)) == 6.0
    assert _suvmax(np.full((1, 2, 2), np.nan, dtype=np.float32), (1.0,)) is None
