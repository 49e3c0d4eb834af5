"""CT → PET resampling: the axis-aligned fast path gives scipy's values to the bit.

``resample_to`` interpolates an axis-aligned grid plane by plane (two source planes, rows and
columns per output slice) instead of point by point; its results must be the same bytes as
``ndimage.map_coordinates`` (order 1, mode "constant") on the whole volume, at the edges and
outside the source too (where the CT-outside value marks "no CT").
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from scipy import ndimage

from nenscope.core import ImageVolume, Unit, affine_from_spacing
from nenscope.segmentation import resample as resample_module
from nenscope.segmentation import resample_to


def _reference(volume: ImageVolume, target: ImageVolume, cval: float) -> np.ndarray:
    """map_coordinates on every target voxel centre at once (the definition)."""
    mapping = np.linalg.inv(volume.affine) @ target.affine
    index = np.indices(target.shape, dtype=np.float64).reshape(3, -1)
    points = mapping[:3, :3] @ index + mapping[:3, 3:]
    values = ndimage.map_coordinates(
        np.asarray(volume.array),
        points,
        output=np.float64,
        order=1,
        mode="constant",
        cval=cval,
        prefilter=False,
    )
    return values.reshape(target.shape)


@pytest.mark.parametrize(
    ("spacing", "origin"),
    [
        # A coarser grid inside the source, starting between voxels.
        ((2.0, 2.56, 2.56), (0.78, 0.78, 0.0)),
        # Slices between source slices (z weights not 0 or 1), points past every edge.
        ((1.5, 3.3, 2.9), (-4.0, -3.0, -2.2)),
        # Points exactly on the last source plane, row and column (scipy mirrors there).
        ((1.0, 1.0, 1.0), (0.0, 0.0, 0.0)),
    ],
    ids=["inside", "past-the-edges", "on-the-last-voxel"],
)
def test_axis_aligned_resampling_is_map_coordinates_to_the_bit(
    spacing: tuple[float, float, float],
    origin: tuple[float, float, float],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fast: list[bool] = []
    plane_by_plane = resample_module._linear_axis_aligned

    def spy(*args: Any) -> Any:
        result = plane_by_plane(*args)
        fast.append(result is not None)
        return result

    monkeypatch.setattr(resample_module, "_linear_axis_aligned", spy)
    rng = np.random.default_rng(7)
    source = ImageVolume(
        array=rng.normal(0.0, 300.0, (9, 12, 11)).astype(np.float32),
        affine=affine_from_spacing((1.0, 1.0, 1.0)),
        unit=Unit.HU,
    )
    shape = (
        int(np.ceil(9 / spacing[0])) + 1,
        int(np.ceil(12 / spacing[1])) + 1,
        int(np.ceil(11 / spacing[2])) + 1,
    )
    target = ImageVolume(
        array=np.zeros(shape),
        affine=affine_from_spacing(spacing, origin_mm=origin),
        unit=Unit.SUV_BW,
    )
    out = np.asarray(resample_to(source, target, cval=-1000.0).array)
    expected = _reference(source, target, -1000.0)
    assert out.tobytes() == expected.tobytes()
    assert np.any(out == -1000.0)  # the grid runs past the source's far edges
    assert fast == [True] * shape[0]  # every slice went through the plane-by-plane path


def test_oblique_grid_still_interpolates_point_by_point() -> None:
    rng = np.random.default_rng(3)
    source = ImageVolume(
        array=rng.normal(0.0, 100.0, (8, 10, 10)).astype(np.float32),
        affine=affine_from_spacing((1.0, 1.0, 1.0)),
        unit=Unit.HU,
    )
    c, s = np.cos(0.3), np.sin(0.3)
    direction = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    target = ImageVolume(
        array=np.zeros((6, 7, 7)),
        affine=affine_from_spacing(
            (1.2, 1.3, 1.3), origin_mm=(2.0, 1.0, 1.0), direction=direction
        ),
        unit=Unit.SUV_BW,
    )
    out = np.asarray(resample_to(source, target, cval=-1000.0).array)
    assert out.tobytes() == _reference(source, target, -1000.0).tobytes()
