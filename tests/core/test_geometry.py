from __future__ import annotations

import numpy as np
import pytest

from nenscope.core import GeometryError, ImageVolume, Unit, affine_from_dicom, affine_from_spacing


def test_affine_from_dicom_axial_matches_pixel_formula() -> None:
    # DICOM PS3.3 C.7.6.2.1.1 by hand: pixel (c=3, r=2) of slice 1 with 0.5/0.8 mm spacing.
    affine = affine_from_dicom(
        [1, 0, 0, 0, 1, 0],
        [-10.0, -20.0, 5.0],
        pixel_spacing_mm=[0.8, 0.5],
        slice_vector_mm=[0, 0, 2.5],
    )
    vol = ImageVolume(array=np.zeros((4, 5, 6)), affine=affine, unit=Unit.HU)
    np.testing.assert_allclose(vol.index_to_lps([1, 2, 3]), [[-10 + 1.5, -20 + 1.6, 7.5]])
    assert vol.spacing_mm == pytest.approx((2.5, 0.8, 0.5))
    np.testing.assert_allclose(vol.voxel_volume_ml, 2.5 * 0.8 * 0.5 / 1000, rtol=1e-12)


def test_lps_round_trip() -> None:
    rng = np.random.default_rng(0)
    direction = np.linalg.qr(rng.normal(size=(3, 3)))[0]
    affine = affine_from_spacing((3.0, 1.2, 0.7), origin_mm=(5, -4, 100), direction=direction)
    vol = ImageVolume(array=np.zeros((3, 3, 3)), affine=affine, unit=Unit.BQ_PER_ML)
    idx = rng.uniform(0, 3, size=(10, 3))
    np.testing.assert_allclose(vol.lps_to_index(vol.index_to_lps(idx)), idx, atol=1e-9)


def test_bad_shapes_are_refused() -> None:
    with pytest.raises(GeometryError, match="3-D"):
        ImageVolume(array=np.zeros((3, 3)), affine=np.eye(4), unit=Unit.HU)
    with pytest.raises(GeometryError, match="spacing_mm"):
        affine_from_spacing((1.0, 0.0, 1.0))


def test_with_array_keeps_grid_and_refuses_other_shapes() -> None:
    vol = ImageVolume(array=np.zeros((2, 2, 2)), affine=np.eye(4), unit=Unit.HU)
    other = vol.with_array(np.ones((2, 2, 2)), unit=Unit.LABEL)
    assert other.same_grid(vol)
    assert other.unit is Unit.LABEL
    with pytest.raises(GeometryError, match="shape"):
        vol.with_array(np.ones((1, 2, 2)))
