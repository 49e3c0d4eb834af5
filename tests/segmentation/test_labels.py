"""label_counts, label_means and relabel: numpy.bincount, ndimage.mean and lut[labels], exactly,
reading only the labelled voxels."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from nenscope.core.errors import InvalidArgumentError
from nenscope.segmentation._labels import label_counts, label_in_box, label_means, relabel


@pytest.mark.parametrize("dtype", [np.int32, np.uint32, np.uint16, np.int64])
@pytest.mark.parametrize("minlength", [0, 1, 5, 500])
def test_same_as_bincount(dtype: type[np.integer], minlength: int) -> None:
    rng = np.random.default_rng(3)
    labels, _ = ndimage.label(rng.random((12, 20, 30)) > 0.8)
    labels = labels.astype(dtype)
    expected = np.bincount(labels.ravel(), minlength=minlength)
    got = label_counts(labels, minlength=minlength)
    assert got.dtype == expected.dtype
    assert np.array_equal(got, expected)


@pytest.mark.parametrize("minlength", [0, 1, 3])
def test_no_label(minlength: int) -> None:
    labels = np.zeros((4, 5), dtype=np.int32)
    assert np.array_equal(
        label_counts(labels, minlength=minlength), np.bincount(labels.ravel(), minlength=minlength)
    )


def test_negative_label_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        label_counts(np.array([0, -1, 2]))


@pytest.mark.parametrize("dtype", [np.uint16, np.uint32])
def test_relabel_is_the_table_lookup(dtype: type[np.integer]) -> None:
    rng = np.random.default_rng(5)
    labels, n = ndimage.label(rng.random((10, 16, 16)) > 0.85)
    lut = np.zeros(n + 1, dtype=dtype)
    kept = rng.choice(np.arange(1, n + 1), size=n // 2, replace=False)
    lut[kept] = np.arange(1, kept.size + 1)
    got = relabel(labels.astype(np.uint32), lut)
    expected = lut[labels]
    assert got.dtype == expected.dtype
    assert np.array_equal(got, expected)


def test_relabel_refuses_a_table_that_moves_the_background() -> None:
    with pytest.raises(InvalidArgumentError, match="label 0 as 0"):
        relabel(np.zeros((2, 2), dtype=np.uint32), np.array([1, 2], dtype=np.uint32))


def test_candidates_labelled_on_their_box_are_labelled_as_on_the_grid() -> None:
    from nenscope.segmentation.lesions import STRUCTURE_26, _label_in_box

    rng = np.random.default_rng(2)
    for _ in range(10):
        candidates = np.zeros((30, 40, 50), dtype=bool)
        box = tuple(slice(int(rng.integers(0, 8)), int(rng.integers(15, 30))) for _ in range(3))
        candidates[box] = ndimage.gaussian_filter(rng.random(candidates[box].shape), 1.5) > 0.55
        expected, n = ndimage.label(candidates, STRUCTURE_26)
        components, m, boxes = _label_in_box(candidates)
        assert m == n
        assert components.dtype == expected.dtype
        assert np.array_equal(components, expected)
        assert boxes == ndimage.find_objects(expected)
    components, m, boxes = _label_in_box(np.zeros((3, 4, 5), dtype=bool))
    assert (m, boxes, components.any()) == (0, [], False)


@pytest.mark.parametrize("dtype", [np.int32, np.uint16, np.int64])
def test_label_means_are_ndimage_means_bit_for_bit(dtype: type[np.integer]) -> None:
    rng = np.random.default_rng(7)
    labels, n = ndimage.label(rng.random((14, 25, 31)) > 0.55)
    labels = labels.astype(dtype)
    # Values whose sums depend on the order of addition: the same order gives the same bits.
    values = rng.normal(size=labels.shape) * 10.0 ** rng.integers(-3, 6, size=labels.shape)
    index = rng.choice(np.arange(1, n + 1), size=min(n, 9), replace=False)
    expected = np.asarray(ndimage.mean(values, labels, index), dtype=np.float64)
    got = label_means(values, labels, index)
    assert got.tobytes() == expected.tobytes()


def test_label_means_of_an_absent_label_are_nan_as_in_scipy() -> None:
    labels = np.array([[0, 1], [1, 0]])
    values = np.array([[5.0, 1.0], [2.0, 7.0]])
    got = label_means(values, labels, [1, 4])
    assert got[0] == 1.5
    assert np.isnan(got[1])


def test_label_means_refuse_the_background_and_other_shapes() -> None:
    labels = np.array([[0, 1], [1, 0]])
    with pytest.raises(InvalidArgumentError, match="1 or more"):
        label_means(np.ones((2, 2)), labels, [0, 1])
    with pytest.raises(InvalidArgumentError, match="do not broadcast"):
        label_means(np.ones((2, 3)), labels, [1])


def test_label_means_of_a_broadcast_coordinate_equal_those_of_its_whole_grid() -> None:
    rng = np.random.default_rng(11)
    labels, n = ndimage.label(rng.random((9, 17, 23)) > 0.5)
    x = rng.normal(size=(1, 1, 23)) * 37.0 - 0.1
    whole = np.ascontiguousarray(np.broadcast_to(x, labels.shape))
    index = np.arange(1, n + 1)
    expected = np.asarray(ndimage.mean(whole, labels, index), dtype=np.float64)
    assert label_means(x, labels, index).tobytes() == expected.tobytes()
    assert label_means(np.broadcast_to(x, labels.shape), labels, index).tobytes() == (
        expected.tobytes()
    )


@pytest.mark.parametrize("connectivity", [1, 3])
def test_label_in_box_is_ndimage_label(connectivity: int) -> None:
    rng = np.random.default_rng(13)
    structure = ndimage.generate_binary_structure(3, connectivity)
    for _ in range(12):
        mask = np.zeros((20, 24, 28), dtype=bool)
        lo = rng.integers(0, 10, 3)
        hi = lo + rng.integers(1, 12, 3)
        box = tuple(slice(int(a), int(b)) for a, b in zip(lo, hi, strict=True))
        mask[box] = rng.random(mask[box].shape) > 0.6
        expected, n_expected = ndimage.label(mask, structure)
        got, n = label_in_box(mask, structure)
        assert n == n_expected
        assert got.dtype == expected.dtype
        assert np.array_equal(got, expected)


def test_label_in_box_of_an_empty_mask() -> None:
    labels, n = label_in_box(np.zeros((3, 4, 5), dtype=bool))
    assert n == 0
    assert labels.dtype == np.int32
    assert not labels.any()
