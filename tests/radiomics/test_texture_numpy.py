"""The NumPy texture kernels give the numba kernels' tables exactly (issue 9, item 6).

Small ROIs (up to ``NUMPY_MAX_VOXELS``) use ``_texture_numpy`` so that one extraction does not
pay numba's import; every table must be bit-identical to the numba kernel's (the loop bodies
``_*_py`` compiled), which the IBSI tests validate. Random volumes with empty and full ROIs,
one or several slices, both connectivities and per-slice tables.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from nenscope.radiomics import _texture_kernels as kernels
from nenscope.radiomics import _texture_numpy as vectorised

CASES = range(24)


def _levels(case: int) -> tuple[npt.NDArray[np.int64], int, npt.NDArray[np.int64]]:
    rng = np.random.default_rng(case)
    shape = (int(rng.integers(1, 7)), int(rng.integers(1, 8)), int(rng.integers(1, 8)))
    n_levels = int(rng.integers(1, 6))
    levels = rng.integers(0, n_levels + 1, size=shape).astype(np.int64)
    if case % 4 == 0:
        levels[rng.random(shape) < 0.5] = 0
    if case % 4 == 1:
        levels = np.maximum(levels, 1)  # the whole box is ROI
    distance = rng.integers(1, 5, size=shape).astype(np.int64)
    return np.ascontiguousarray(levels), n_levels, distance


def _same(a: tuple[npt.NDArray[np.generic], ...], b: tuple[npt.NDArray[np.generic], ...]) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        assert x.dtype == y.dtype
        np.testing.assert_array_equal(x, y)  # exact: no tolerance


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("per_slice", [False, True], ids=["volume", "per-slice"])
def test_direction_kernels_match_numba(case: int, per_slice: bool) -> None:
    levels, n_levels, _ = _levels(case)
    for d in kernels.DIRECTIONS_3D:
        _same(
            (vectorised.cooccurrence_np(levels, *d, n_levels, per_slice),),
            (kernels._compiled("cooccurrence")(levels, *d, n_levels, per_slice),),
        )
        _same(
            (vectorised.run_length_np(levels, *d, n_levels, per_slice),),
            (kernels._compiled("run_length")(levels, *d, n_levels, per_slice),),
        )
        _same(vectorised.pairs_np(levels, *d), kernels._compiled("pairs")(levels, *d))


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("in_plane", [False, True], ids=["3d", "2d"])
def test_neighbourhood_kernels_match_numba(case: int, in_plane: bool) -> None:
    levels, n_levels, distance = _levels(case)
    offsets = kernels.neighbour_offsets(in_plane=in_plane)
    grey = np.sort(np.random.default_rng(case).random(n_levels) * 10.0)
    _same(
        vectorised.zone_table_np(levels, distance, offsets),
        kernels._compiled("zone_table")(levels, distance, offsets),
    )
    for per_slice in (False, True):
        _same(
            vectorised.grey_tone_np(levels, offsets, grey, per_slice),
            kernels._compiled("grey_tone")(levels, offsets, grey, per_slice),
        )
        for alpha in (0.0, 1.0):
            whole = np.arange(1.0, n_levels + 1)
            _same(
                (vectorised.dependence_np(levels, offsets, whole, alpha, per_slice),),
                (kernels._compiled("dependence")(levels, offsets, whole, alpha, per_slice),),
            )


def test_public_kernels_switch_on_the_roi_size() -> None:
    # One voxel more than the limit goes to numba; both give the same table.
    n = kernels.NUMPY_MAX_VOXELS + 1
    side = int(np.ceil(n ** (1 / 3)))
    flat = np.zeros(side**3, dtype=np.int64)
    flat[:n] = np.arange(n) % 3 + 1
    levels = flat.reshape(side, side, side)
    big = kernels.cooccurrence_counts(levels, (0, 0, 1), n_levels=3, per_slice=False)
    np.testing.assert_array_equal(big, vectorised.cooccurrence_np(levels, 0, 0, 1, 3, False))
    assert not kernels._small(levels)
    at_limit = levels.copy()
    at_limit.flat[0] = 0
    assert kernels._small(at_limit)
