"""Laws kernels and energy maps, IBSI 2 section 2.6 (JTXT)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

import numpy as np
import numpy.typing as npt

from nenscope.core.enums import parse_option
from nenscope.core.errors import NotComputableError
from nenscope.radiomics.filters._common import (
    BoundaryMode,
    Pooling,
    as_image,
    distinct_rotations,
    filtered_axes,
    pool,
    separable_convolve,
)

__all__ = ["LAWS_KERNELS", "energy_map", "laws_filter"]

FloatArray = npt.NDArray[np.float64]

LAWS_KERNELS: Mapping[str, FloatArray] = {
    "L3": np.array([1.0, 2.0, 1.0]) / np.sqrt(6.0),
    "E3": np.array([-1.0, 0.0, 1.0]) / np.sqrt(2.0),
    "S3": np.array([-1.0, 2.0, -1.0]) / np.sqrt(6.0),
    "L5": np.array([1.0, 4.0, 6.0, 4.0, 1.0]) / np.sqrt(70.0),
    "E5": np.array([-1.0, -2.0, 0.0, 2.0, 1.0]) / np.sqrt(10.0),
    "S5": np.array([-1.0, 0.0, 2.0, 0.0, -1.0]) / np.sqrt(6.0),
    "W5": np.array([-1.0, 2.0, 0.0, -2.0, 1.0]) / np.sqrt(10.0),
    "R5": np.array([1.0, -4.0, 6.0, -4.0, 1.0]) / np.sqrt(70.0),
}
"""The normalised 1-D Laws kernels of IBSI 2 (unit L2 norm)."""


def _parse_kernels(kernels: str, *, by_slice: bool) -> list[FloatArray]:
    names = re.findall(r"[A-Z]\d", kernels.upper())
    n_axes = len(filtered_axes(by_slice=by_slice))
    if (
        "".join(names) != kernels.upper()
        or len(names) != n_axes
        or any(n not in LAWS_KERNELS for n in names)
    ):
        raise NotComputableError(
            f"Laws kernels '{kernels}' must name {n_axes} of {', '.join(LAWS_KERNELS)} "
            f"(e.g. {'L5S5' if by_slice else 'E5L5S5'}), one per "
            f"{'in-plane ' if by_slice else ''}axis, x first."
        )
    return [LAWS_KERNELS[n] for n in names]


def laws_filter(
    image: npt.ArrayLike,
    *,
    kernels: str,
    boundary: BoundaryMode,
    rotation_invariant: bool = False,
    pooling: Pooling = Pooling.MAX,
    by_slice: bool = False,
) -> FloatArray:
    """Convolve with a separable Laws kernel such as ``E5L5S5``.

    Parameters
    ----------
    image
        ``(z, y, x)`` intensities.
    kernels
        One 1-D kernel name per filtered axis, in the order x, y (, z): ``"E5L5S5"`` applies
        E5 along x (columns), L5 along y (rows) and S5 along z (slices).
    boundary
        Padding at the image edge.
    rotation_invariant
        Pool the responses to the kernel rotated by every right angle (24 in 3D, 4 in 2D).
    pooling
        How to pool rotated responses (IBSI 2 tests use ``max``).
    by_slice
        Filter each ``(y, x)`` slice (2D) instead of the volume (3D).

    Returns
    -------
    numpy.ndarray
        float64 response map, shape of ``image``.

    Raises
    ------
    NotComputableError
        If ``kernels`` does not name one known kernel per filtered axis.

    Examples
    --------
    >>> img = np.zeros((1, 1, 5))
    >>> img[0, 0, 2] = 1.0
    >>> out = laws_filter(img, kernels="E3L3", boundary=BoundaryMode.ZERO, by_slice=True)
    >>> np.round(out[0, 0] * np.sqrt(12.0), 6).tolist()  # E3 (x) · L3 centre (y) = 2/√12
    [0.0, -2.0, 0.0, 2.0, 0.0]
    """
    boundary = parse_option(boundary, BoundaryMode, what="boundary mode")
    pooling = parse_option(pooling, Pooling, what="pooling")
    factors = _parse_kernels(kernels, by_slice=by_slice)
    array = as_image(image, name="Laws")
    # Kernel factor i acts on x, y, z in turn: array axes 2, 1, 0.
    axes = tuple(reversed(filtered_axes(by_slice=by_slice)))
    if not rotation_invariant:
        return separable_convolve(array, factors, axes, boundary)

    def rotated() -> Iterator[tuple[FloatArray, int]]:
        for (turned,), multiplicity in distinct_rotations([factors]):
            yield separable_convolve(array, turned, axes, boundary), multiplicity

    return pool(rotated(), pooling)


def energy_map(
    response: npt.ArrayLike,
    *,
    distance: int,
    boundary: BoundaryMode,
    by_slice: bool = False,
) -> FloatArray:
    """Laws texture energy: the mean absolute response within Chebyshev distance ``distance``.

    Parameters
    ----------
    response
        ``(z, y, x)`` response map (e.g. of :func:`laws_filter`).
    distance
        Neighbourhood radius δ in voxels; the window has ``2δ + 1`` voxels per side.
    boundary
        Padding at the image edge.
    by_slice
        Average within each ``(y, x)`` slice only.

    Returns
    -------
    numpy.ndarray
        float64 energy map, shape of ``response``.

    Raises
    ------
    NotComputableError
        If ``distance`` is negative.

    Examples
    --------
    >>> energy_map(np.full((3, 3, 3), -2.0), distance=1, boundary=BoundaryMode.NEAREST)[1, 1, 1]
    np.float64(2.0)
    """
    boundary = parse_option(boundary, BoundaryMode, what="boundary mode")
    if distance < 0:
        raise NotComputableError(f"Energy map distance must be >= 0, got {distance}.")
    array = np.abs(as_image(response, name="energy map"))
    axes = filtered_axes(by_slice=by_slice)
    window = np.full(2 * distance + 1, 1.0 / (2 * distance + 1))
    return separable_convolve(array, [window] * len(axes), axes, boundary)
