"""The NumPy replacements of the one-lesion SciPy calls give SciPy's results bit for bit.

``nenscope radiomics`` does not import :mod:`scipy.ndimage` nor :mod:`scipy.special` (issue 9,
item 6); the features must not move by one ulp. Random images and masks of several shapes
(flat, single voxel, full, empty), both connectivities, the real peak-sphere kernels.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest
from scipy import ndimage, special

from nenscope.core.errors import InvalidArgumentError
from nenscope.radiomics._ndimage_np import (
    city_block_distance,
    correlate_ones,
    legendre_series,
    zone_roots,
)
from nenscope.radiomics._texture_kernels import neighbour_offsets
from nenscope.radiomics.local_intensity import peak_sphere_kernel

CASES = range(30)


def _shape(rng: np.random.Generator) -> tuple[int, int, int]:
    return (int(rng.integers(1, 9)), int(rng.integers(1, 12)), int(rng.integers(1, 12)))


def _mask(case: int) -> npt.NDArray[np.bool_]:
    rng = np.random.default_rng(case)
    mask = rng.random(_shape(rng)) < rng.uniform(0.3, 0.95)
    if case % 5 == 0:
        mask[:] = True  # no background at all: SciPy's -1
    if case % 5 == 1:
        mask[:] = False
    return mask


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize(
    "spacing", [(2.0, 2.0, 2.0), (3.27, 2.0, 2.0), (1.0, 4.0, 4.0), (5.0, 1.5, 2.5)]
)
def test_correlate_ones_is_scipys_correlate(
    case: int, spacing: tuple[float, float, float]
) -> None:
    rng = np.random.default_rng(case)
    image = rng.normal(3.0, 2.0, size=_shape(rng)) * rng.choice([1.0, 1e-3, 1e4])
    kernel = peak_sphere_kernel(spacing)
    expected = ndimage.correlate(image, kernel, mode="constant", cval=0.0)
    got = correlate_ones(image, kernel)
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, expected)  # exact: the same sums in the same order
    ones = np.ones_like(image)
    np.testing.assert_array_equal(
        correlate_ones(ones, kernel), ndimage.correlate(ones, kernel, mode="constant", cval=0.0)
    )


def test_correlate_ones_refuses_other_kernels() -> None:
    image = np.zeros((3, 3, 3))
    with pytest.raises(InvalidArgumentError, match="odd sides"):
        correlate_ones(image, np.ones((2, 3, 3)))
    with pytest.raises(InvalidArgumentError, match="zeros and ones"):
        correlate_ones(image, np.full((3, 3, 3), 0.5))


@pytest.mark.parametrize("case", CASES)
def test_city_block_distance_is_scipys_chamfer(case: int) -> None:
    mask = _mask(case)
    expected_3d = ndimage.distance_transform_cdt(mask, metric="taxicab")
    np.testing.assert_array_equal(city_block_distance(mask, in_plane=False), expected_3d)
    structure = np.zeros((3, 3, 3), dtype=bool)
    structure[1] = ndimage.generate_binary_structure(2, 1)
    expected_2d = ndimage.distance_transform_cdt(mask, metric=structure)
    got = city_block_distance(mask, in_plane=True)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, expected_2d)


def _canonical(labels: npt.NDArray[np.integer]) -> npt.NDArray[np.int64]:
    """Labels renumbered by first appearance in raster order (0 stays 0)."""
    flat = labels.ravel()
    _, first = np.unique(flat, return_index=True)
    order = np.argsort(first)
    values = np.unique(flat)[order]
    rank = {int(v): i for i, v in enumerate(v for v in values if v != 0)}
    return np.array([0 if v == 0 else rank[int(v)] + 1 for v in flat]).reshape(labels.shape)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("in_plane", [False, True], ids=["3d", "2d"])
def test_zone_roots_are_scipys_labels(case: int, in_plane: bool) -> None:
    rng = np.random.default_rng(case)
    n_levels = int(rng.integers(1, 5))
    levels = rng.integers(0, n_levels + 1, size=_shape(rng)).astype(np.int64)
    if case % 3 == 0:
        levels = np.maximum(levels, 1)
    offsets = neighbour_offsets(in_plane=in_plane)
    structure = np.zeros((3, 3, 3), dtype=bool)
    structure[1, 1, 1] = True
    structure[tuple((offsets + 1).T)] = True
    position, root = zone_roots(levels, offsets)
    np.testing.assert_array_equal(position, np.flatnonzero(levels))
    assert (root <= np.arange(root.size)).all()
    assert (root[root] == root).all()
    zones = np.zeros(levels.size, dtype=np.int64)
    zones[position] = position[root] + 1  # label = first voxel + 1
    zones = zones.reshape(levels.shape)
    for grey in range(1, n_levels + 1):
        expected, _ = ndimage.label(levels == grey, structure=structure)
        ours = np.where(levels == grey, zones, 0)
        np.testing.assert_array_equal(_canonical(ours), _canonical(expected))


def test_zone_roots_of_a_spiral_need_many_links() -> None:
    """A long thin zone (one voxel wide, winding) is still one zone."""
    levels = np.zeros((1, 9, 9), dtype=np.int64)
    levels[0, ::2, :] = 1
    levels[0, 1::4, -1] = 1
    levels[0, 3::4, 0] = 1
    position, root = zone_roots(levels, neighbour_offsets(in_plane=True))
    assert (root == 0).all()
    assert position.size == int(levels.sum())


@pytest.mark.parametrize("x", [1.0, 1.0 + 1e-12, 1.0000001, 1.3, 2.5, 17.0, 1e5, 0.3, -0.7, 1e-6])
def test_legendre_series_is_scipys_eval_legendre(x: float) -> None:
    expected = special.eval_legendre(np.arange(21), x)
    np.testing.assert_array_equal(legendre_series(20, x), expected)
    np.testing.assert_array_equal(legendre_series(0, x), expected[:1])
    np.testing.assert_array_equal(legendre_series(1, x), expected[:2])


def test_legendre_series_on_random_arguments() -> None:
    rng = np.random.default_rng(7)
    for x in np.concatenate([1.0 + rng.exponential(0.01, 200), rng.uniform(1, 50, 200)]):
        expected = special.eval_legendre(np.arange(21), float(x))
        np.testing.assert_array_equal(legendre_series(20, float(x)), expected)


def test_sphere_means_are_the_same_on_both_sides_of_the_scipy_threshold(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from nenscope.radiomics import local_intensity

    image = np.random.default_rng(3).gamma(2.0, 1.5, size=(9, 14, 13))
    numpy_means = local_intensity.sphere_means(image, (2.5, 2.0, 2.0))
    monkeypatch.setattr(local_intensity, "SCIPY_MIN_VOXELS", 1)
    scipy_means = local_intensity.sphere_means(image, (2.5, 2.0, 2.0))
    np.testing.assert_array_equal(scipy_means, numpy_means)
