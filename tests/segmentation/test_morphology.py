"""Box-restricted binary morphology equals scipy.ndimage on the whole array."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from nenscope.segmentation.morphology import (
    binary_dilation_in_box,
    binary_erosion_in_box,
    binary_opening_in_box,
)


def _ball(radius: tuple[int, int, int]) -> np.ndarray:
    grids = np.meshgrid(*[np.arange(-r, r + 1) / max(r, 1) for r in radius], indexing="ij")
    return np.asarray(sum(g * g for g in grids) <= 1.0)


@pytest.mark.parametrize("seed", range(6))
def test_box_morphology_equals_whole_array(seed: int) -> None:
    rng = np.random.default_rng(seed)
    shape = (30, 40, 35)
    mask = np.zeros(shape, dtype=bool)
    # Blobs anywhere, including touching the array's faces (border_value 0 matters there).
    for _ in range(4):
        c = rng.integers(0, shape)
        r = rng.integers(2, 9, 3)
        z, y, x = np.ogrid[: shape[0], : shape[1], : shape[2]]
        mask |= ((z - c[0]) / r[0]) ** 2 + ((y - c[1]) / r[1]) ** 2 + ((x - c[2]) / r[2]) ** 2 <= 1
    mask &= rng.random(shape) > 0.03
    structure = _ball(tuple(int(v) for v in rng.integers(1, 4, 3)))
    np.testing.assert_array_equal(
        binary_erosion_in_box(mask, structure), ndimage.binary_erosion(mask, structure)
    )
    np.testing.assert_array_equal(
        binary_dilation_in_box(mask, structure), ndimage.binary_dilation(mask, structure)
    )
    np.testing.assert_array_equal(
        binary_opening_in_box(mask, structure), ndimage.binary_opening(mask, structure)
    )


def test_empty_mask_and_bad_structure() -> None:
    empty = np.zeros((5, 5, 5), dtype=bool)
    assert not binary_opening_in_box(empty, np.ones((3, 3, 3), dtype=bool)).any()
    with pytest.raises(ValueError, match="odd size"):
        binary_erosion_in_box(empty, np.ones((2, 3, 3), dtype=bool))
    with pytest.raises(ValueError, match="dimensions"):
        binary_dilation_in_box(empty, np.ones((3, 3), dtype=bool))
