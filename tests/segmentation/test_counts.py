"""label_counts: numpy.bincount of a label map, counting only the labelled voxels."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from nenscope.segmentation._counts import label_counts


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
