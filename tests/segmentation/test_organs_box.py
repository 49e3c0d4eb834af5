"""Labelling on a mask's bounding box equals labelling the whole grid (organ estimate, anatomy).

The speed-ups label only the bounding box of a mask; these tests compare them with the
whole-grid computations they replaced, including ties between equal components (the first
in raster order wins on both) and masks that touch the array's faces.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest
from scipy import ndimage

from nenscope.segmentation.organs import fill_holes_per_slice, largest_component


def _largest_whole_grid(mask: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    labels, n = ndimage.label(mask)
    if n == 0:
        return np.zeros_like(mask)
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    return np.asarray(labels == int(np.argmax(sizes)))


def _fill_whole_grid(mask: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    structure = np.zeros((3, 3, 3), dtype=bool)
    structure[1] = ndimage.generate_binary_structure(2, 1)
    labels, _ = ndimage.label(~mask, structure)
    border = np.unique(
        np.concatenate(
            [
                labels[:, 0, :].ravel(),
                labels[:, -1, :].ravel(),
                labels[:, :, 0].ravel(),
                labels[:, :, -1].ravel(),
            ]
        )
    )
    return np.asarray(~np.isin(labels, border[border > 0]))


def _blobs(seed: int, shape: tuple[int, int, int]) -> npt.NDArray[np.bool_]:
    rng = np.random.default_rng(seed)
    mask = np.zeros(shape, dtype=bool)
    z, y, x = np.ogrid[: shape[0], : shape[1], : shape[2]]
    for _ in range(5):
        c = rng.integers(0, shape)
        r = rng.integers(2, 8, 3)
        shell = ((z - c[0]) / r[0]) ** 2 + ((y - c[1]) / r[1]) ** 2 + ((x - c[2]) / r[2]) ** 2
        mask |= (shell <= 1) & (shell >= 0.3 * rng.random())  # some hollow: holes to fill
    return mask & (rng.random(shape) > 0.05)


@pytest.mark.parametrize("seed", range(8))
def test_box_labelling_equals_whole_grid(seed: int) -> None:
    mask = _blobs(seed, (24, 36, 30))
    np.testing.assert_array_equal(largest_component(mask), _largest_whole_grid(mask))
    np.testing.assert_array_equal(fill_holes_per_slice(mask), _fill_whole_grid(mask))


def test_tie_keeps_the_first_component_in_raster_order() -> None:
    mask = np.zeros((10, 12, 12), dtype=bool)
    mask[6:8, 2:4, 2:4] = True  # same size, later in raster order
    mask[2:4, 7:9, 7:9] = True
    got = largest_component(mask)
    np.testing.assert_array_equal(got, _largest_whole_grid(mask))
    assert got[2, 7, 7]
    assert not got[6, 2, 2]


def test_ring_hole_is_filled_and_open_notch_is_not() -> None:
    mask = np.zeros((3, 9, 9), dtype=bool)
    mask[1, 2:7, 2:7] = True
    mask[1, 3:6, 3:6] = False  # a hole inside the ring
    mask[1, 4, 6] = False  # a notch through the wall joins it to the outside
    np.testing.assert_array_equal(fill_holes_per_slice(mask), _fill_whole_grid(mask))
    assert not fill_holes_per_slice(mask)[1, 4, 4]
    closed = mask.copy()
    closed[1, 4, 6] = True
    assert fill_holes_per_slice(closed)[1, 4, 4]


def test_empty_mask_gives_empty_results() -> None:
    mask = np.zeros((4, 5, 6), dtype=bool)
    assert not largest_component(mask).any()
    assert not fill_holes_per_slice(mask).any()
