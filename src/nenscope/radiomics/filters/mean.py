"""Mean filter, IBSI 2 section 2.4 (S60F)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from nenscope.core.enums import parse_option
from nenscope.core.errors import NotComputableError
from nenscope.radiomics.filters._common import (
    BoundaryMode,
    as_image,
    filtered_axes,
    separable_convolve,
)

__all__ = ["mean_filter"]


def mean_filter(
    image: npt.ArrayLike,
    *,
    support: int,
    boundary: BoundaryMode,
    by_slice: bool = False,
) -> npt.NDArray[np.float64]:
    """Average over a cube (or square, slice by slice) of ``support`` voxels per side.

    Parameters
    ----------
    image
        ``(z, y, x)`` intensities.
    support
        Filter size ``M`` in voxels; odd and >= 1.
    boundary
        Padding at the image edge.
    by_slice
        Filter each ``(y, x)`` slice (2D) instead of the volume (3D).

    Returns
    -------
    numpy.ndarray
        float64 response map, shape of ``image``.

    Raises
    ------
    NotComputableError
        If ``support`` is not a positive odd integer.

    Notes
    -----
    IBSI 2: ``h = 1 / M^d`` on an ``M^d`` support, applied as a convolution.

    Examples
    --------
    >>> img = np.zeros((1, 3, 5))
    >>> img[0, :, 2] = 3.0
    >>> mean_filter(img, support=3, boundary=BoundaryMode.ZERO, by_slice=True)[0, 1].tolist()
    [0.0, 1.0, 1.0, 1.0, 0.0]
    """
    boundary = parse_option(boundary, BoundaryMode, what="boundary mode")
    if support < 1 or support % 2 == 0:
        raise NotComputableError(
            f"Mean filter support must be a positive odd integer, got {support}."
        )
    array = as_image(image, name="mean")
    axes = filtered_axes(by_slice=by_slice)
    kernel = np.full(support, 1.0 / support)
    return separable_convolve(array, [kernel] * len(axes), axes, boundary)
