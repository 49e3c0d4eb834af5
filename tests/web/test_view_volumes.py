"""The viewer's compact volumes (pipeline/viewer.py): one display grid for CT and PET, small
enough for a software WebGL renderer, written from the study in memory."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nenscope.core.geometry import ImageVolume, affine_from_spacing
from nenscope.core.units import Unit
from nenscope.dicom.nifti import read_nifti
from nenscope.pipeline import load_study
from nenscope.pipeline.viewer import (
    VIEW_MAX_VOXELS,
    display_grid,
    prepare_view_volumes,
    write_view_volumes,
)
from tests.service_components import phantom_study  # noqa: F401  (fixture)


def _pet(shape: tuple[int, int, int], spacing: tuple[float, float, float]) -> ImageVolume:
    return ImageVolume(
        array=np.zeros(shape, np.float32),
        affine=affine_from_spacing(spacing, origin_mm=(-300.0, -250.0, -800.0)),
        unit=Unit.SUV_BW,
    )


def _box(volume: ImageVolume) -> tuple[np.ndarray, np.ndarray]:
    lo = volume.affine @ np.array([-0.5, -0.5, -0.5, 1.0])
    hi = volume.affine @ np.array([*(np.asarray(volume.shape) - 0.5), 1.0])
    return lo[:3], hi[:3]


def test_a_small_pet_grid_is_kept() -> None:
    pet = _pet((135, 128, 128), (3.27, 4.69, 4.69))
    grid = display_grid(pet)
    assert grid.shape == pet.shape
    np.testing.assert_array_equal(grid.affine, pet.affine)


def test_a_large_pet_grid_gets_cubic_voxels_over_the_same_box() -> None:
    pet = _pet((300, 200, 200), (3.0, 3.0, 3.0))
    grid = display_grid(pet)
    assert np.prod(grid.shape) <= VIEW_MAX_VOXELS
    assert np.prod(grid.shape) > 0.9 * VIEW_MAX_VOXELS  # not coarser than needed
    assert max(grid.spacing_mm) - min(grid.spacing_mm) < 0.1
    for a, b in zip(_box(grid), _box(pet), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-6)


def test_volumes_written_from_memory_share_the_display_grid(
    phantom_study: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    study = load_study(phantom_study)
    files = write_view_volumes(study, tmp_path / "viewer")
    assert files.ct is not None
    pet, ct = read_nifti(files.pet), read_nifti(files.ct)
    assert pet.shape == ct.shape
    np.testing.assert_allclose(pet.affine, ct.affine, atol=1e-4)
    # the small phantom's PET grid is kept: the SUV is the analysis's, voxel for voxel
    assert pet.shape == study.suv.shape
    assert float(pet.array.max()) == pytest.approx(float(study.suv.array.max()), rel=1e-5)
    # CT in HU, air outside the body, soft tissue inside
    assert ct.array.min() <= -900
    assert np.median(ct.array[ct.array > -500]) == pytest.approx(40, abs=80)
    assert (tmp_path / "viewer" / "mip.png").exists()
    # the page's loader finds the complete set and does not read the study again
    again = prepare_view_volumes(tmp_path / "no-such-study", tmp_path / "viewer")
    assert again.pet == files.pet
