"""The IBSI processing chain: grid alignment, interpolation, re-segmentation, discretisation."""

from __future__ import annotations

import numpy as np
import pytest

from nenscope.core.errors import EmptyRegionError, GeometryError, NotComputableError
from nenscope.radiomics.processing import (
    discretise,
    ivh_discretise,
    prepare_roi,
    resample_to_grid,
    resegment,
)
from nenscope.radiomics.settings import (
    DiscretisationMethod,
    DiscretisationSettings,
    Interpolation,
    RadiomicsSettings,
    ResampleSettings,
    ResegmentSettings,
)

FBN = DiscretisationMethod.FIXED_BIN_NUMBER
FBS = DiscretisationMethod.FIXED_BIN_SIZE


def test_grid_is_centre_aligned() -> None:
    # IBSI 1 section 2.4: 10 voxels of 3 mm -> ceil(30/2) = 15 voxels of 2 mm, centred: the
    # first new voxel sits at old index (9 - 14 * 2/3) / 2 = -0.1667, so on a linear ramp
    # (value = old index) the interpolated values are that position (edge clamped at 0).
    image = np.broadcast_to(np.arange(10.0)[:, None, None], (10, 3, 3)).copy()
    mask = np.ones_like(image, dtype=bool)
    out, roi, origin = resample_to_grid(
        image,
        mask,
        spacing_mm=(3.0, 1.0, 1.0),
        new_spacing_mm=(2.0, 1.0, 1.0),
        interpolation="linear",
        mask_interpolation="linear",
        mask_threshold=0.5,
        margin_mm=0.0,
    )
    positions = (9.0 - 14 * 2.0 / 3.0) / 2.0 + np.arange(15) * 2.0 / 3.0
    assert out.shape == (15, 3, 3)
    np.testing.assert_allclose(origin[0], positions[0], rtol=1e-12)
    np.testing.assert_allclose(out[:, 1, 1], np.clip(positions, 0, 9), atol=1e-12)
    # Mask voxels whose centre lies within half a voxel of the old grid are kept.
    assert roi[:, 1, 1].all()


@pytest.mark.parametrize("interp", ["nearest", "linear", "cubic"])
def test_constant_image_stays_constant(interp: str) -> None:
    image = np.full((8, 9, 10), 7.0)
    mask = np.zeros_like(image, dtype=bool)
    mask[2:6, 2:7, 3:8] = True
    out, roi, _ = resample_to_grid(
        image,
        mask,
        spacing_mm=(3.0, 1.0, 1.0),
        new_spacing_mm=(1.5, 2.0, 2.0),
        interpolation=interp,
        mask_interpolation="linear",
        mask_threshold=0.5,
        margin_mm=0.0,
    )
    np.testing.assert_allclose(out, 7.0, atol=1e-9)
    assert roi.any()


def test_fixed_bin_number_by_hand() -> None:
    # IBSI 2.7.1: floor(Ng (x - min) / (max - min)) + 1, the maximum goes to Ng.
    levels, n = discretise(
        np.array([10.0, 12.5, 15.0, 20.0]), DiscretisationSettings(method=FBN, bins=4)
    )
    assert levels.tolist() == [1, 2, 3, 4]
    assert n == 4
    assert levels.dtype == np.int64


def test_fixed_bin_size_uses_range_lower_bound() -> None:
    # IBSI 2.7.2: floor((x - X_min) / w) + 1 with X_min the re-segmentation lower bound.
    values = np.array([-500.0, -476.0, -475.0, 399.0])
    levels, n = discretise(
        values, DiscretisationSettings(method=FBS, bin_size=25.0), range_min=-500.0
    )
    assert levels.tolist() == [1, 1, 2, 36]
    assert n == 36


def test_none_discretisation_refuses_non_integers() -> None:
    with pytest.raises(NotComputableError, match="integer"):
        discretise(np.array([1.0, 1.5]), DiscretisationSettings(method=DiscretisationMethod.NONE))


def test_ivh_fixed_bin_size_uses_bin_centres() -> None:
    # IBSI 3.5 (continuous case): X_d,gl = X_min + (X_d - 0.5) w, G = [X_min + w/2, X_max - w/2].
    vals, g_min, g_max, step = ivh_discretise(
        np.array([0.05, 0.31]),
        DiscretisationSettings(method=FBS, bin_size=0.1),
        range_min=0.0,
        range_max=1.0,
    )
    np.testing.assert_allclose(vals, [0.05, 0.35], rtol=1e-12)
    np.testing.assert_allclose((g_min, g_max, step), (0.05, 0.95, 0.1), rtol=1e-12)


def test_resegment_range_then_outliers() -> None:
    image = np.array([0.0] * 20 + [1.0] * 20 + [100.0, -50.0]).reshape(1, 1, -1)
    mask = np.ones_like(image, dtype=bool)
    before = mask.copy()
    out = resegment(image, mask, ResegmentSettings(range_min=-10.0, outlier_sigma=3.0))
    # -50 leaves by range; then mean/sd of the remaining 41 values puts 100 beyond 3 sd.
    assert out.sum() == 40
    assert not out[0, 0, -1]
    assert not out[0, 0, -2]
    np.testing.assert_array_equal(mask, before)


def test_prepare_roi_contract() -> None:
    rng = np.random.default_rng(1)
    image = rng.normal(size=(12, 12, 12))
    mask = np.zeros(image.shape, dtype=bool)
    mask[3:9, 4:10, 2:8] = True
    image_before = image.copy()
    settings = RadiomicsSettings(
        resample=ResampleSettings(spacing_mm=(1.5, 1.5, 1.5), interpolation=Interpolation.CUBIC),
        discretise=DiscretisationSettings(method=FBN, bins=8),
    )
    roi = prepare_roi(image, mask, spacing_mm=(1.0, 1.0, 1.0), settings=settings)
    np.testing.assert_array_equal(image, image_before)
    assert roi.image.dtype == np.float64
    assert roi.levels.dtype == np.int64
    assert roi.spacing_mm == (1.5, 1.5, 1.5)
    assert roi.levels[~roi.int_mask].max() == 0
    assert roi.levels[roi.int_mask].min() >= 1
    assert roi.levels.max() <= 8


def test_empty_masks_are_refused() -> None:
    settings = RadiomicsSettings()
    image = np.ones((4, 4, 4))
    with pytest.raises(EmptyRegionError):
        prepare_roi(
            image, np.zeros((4, 4, 4), dtype=bool), spacing_mm=(1, 1, 1), settings=settings
        )
    with pytest.raises(EmptyRegionError, match="re-segmentation"):
        prepare_roi(
            image,
            np.ones((4, 4, 4), dtype=bool),
            spacing_mm=(1, 1, 1),
            settings=RadiomicsSettings(resegment=ResegmentSettings(range_min=5.0)),
        )


def test_shape_mismatch_is_refused() -> None:
    with pytest.raises(GeometryError, match="same shape"):
        prepare_roi(
            np.ones((4, 4, 4)),
            np.ones((4, 4, 3), dtype=bool),
            spacing_mm=(1, 1, 1),
            settings=RadiomicsSettings(),
        )
