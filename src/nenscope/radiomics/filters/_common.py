"""Shared parts of the IBSI 2 filters: boundary conditions, input checks, rotations, pooling."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from enum import StrEnum
from typing import Literal

import numpy as np
import numpy.typing as npt

from nenscope.core.errors import GeometryError, NotComputableError

__all__ = [
    "ISOTROPY_RTOL",
    "BoundaryMode",
    "Pooling",
    "as_image",
    "distinct_rotations",
    "filtered_axes",
    "isotropic_spacing",
    "numpy_pad_mode",
    "pool",
    "right_angle_rotations",
    "scipy_mode",
    "separable_convolve",
]

FloatArray = npt.NDArray[np.float64]

ISOTROPY_RTOL = 1e-3
"""Max relative difference between the spacings of the filtered axes to call them isotropic."""


class BoundaryMode(StrEnum):
    """Image padding of IBSI 2 (section 2.3, "Boundary conditions").

    ``zero`` pads with 0; ``nearest`` repeats the edge voxel; ``periodic`` wraps around;
    ``mirror`` reflects about the edge, repeating the edge voxel (``c b a | a b c``).
    """

    ZERO = "zero"
    NEAREST = "nearest"
    PERIODIC = "periodic"
    MIRROR = "mirror"


class Pooling(StrEnum):
    """Pooling of the responses to rotated kernels (IBSI 2, rotation invariance)."""

    MAX = "max"
    MEAN = "mean"


_SCIPY_MODE: dict[BoundaryMode, Literal["constant", "nearest", "wrap", "reflect"]] = {
    BoundaryMode.ZERO: "constant",
    BoundaryMode.NEAREST: "nearest",
    BoundaryMode.PERIODIC: "wrap",
    BoundaryMode.MIRROR: "reflect",
}
_NUMPY_MODE: dict[BoundaryMode, Literal["constant", "edge", "wrap", "symmetric"]] = {
    BoundaryMode.ZERO: "constant",
    BoundaryMode.NEAREST: "edge",
    BoundaryMode.PERIODIC: "wrap",
    BoundaryMode.MIRROR: "symmetric",
}


def scipy_mode(mode: BoundaryMode) -> Literal["constant", "nearest", "wrap", "reflect"]:
    """Return the ``scipy.ndimage`` name of a boundary mode (``mirror`` is scipy's ``reflect``).

    Examples
    --------
    >>> scipy_mode(BoundaryMode.MIRROR)
    'reflect'
    """
    return _SCIPY_MODE[mode]


def numpy_pad_mode(mode: BoundaryMode) -> Literal["constant", "edge", "wrap", "symmetric"]:
    """Return the ``numpy.pad`` name of a boundary mode (``mirror`` is numpy's ``symmetric``).

    Examples
    --------
    >>> numpy_pad_mode(BoundaryMode.NEAREST)
    'edge'
    """
    return _NUMPY_MODE[mode]


def as_image(image: npt.ArrayLike, *, name: str) -> FloatArray:
    """Validate a ``(z, y, x)`` image and return it as a float64 array (never the input).

    Raises
    ------
    GeometryError
        If the image is not 3-D, is empty or holds non-finite values.
    """
    array = np.array(image, dtype=np.float64, copy=True)
    if array.ndim != 3 or array.size == 0:
        raise GeometryError(
            f"The {name} filter needs a non-empty 3-D (z, y, x) image, got shape {array.shape}."
        )
    if not np.all(np.isfinite(array)):
        raise GeometryError(
            f"The {name} filter needs finite intensities; the image holds NaN/inf."
        )
    return array


def filtered_axes(*, by_slice: bool) -> tuple[int, ...]:
    """Array axes a filter acts on: ``(y, x)`` slice by slice (2D) or ``(z, y, x)`` (3D)."""
    return (1, 2) if by_slice else (0, 1, 2)


def isotropic_spacing(spacing_mm: Sequence[float], *, by_slice: bool, name: str) -> float:
    """Return the common spacing (mm) of the filtered axes; refuse anisotropic grids.

    IBSI 2 filters are defined on isotropic grids; resample first.

    Raises
    ------
    GeometryError
        If the spacing is not 3 positive values or differs between the filtered axes.

    Examples
    --------
    >>> isotropic_spacing((3.0, 2.0, 2.0), by_slice=True, name="LoG")
    2.0
    """
    spacing = np.asarray(spacing_mm, dtype=np.float64)
    if spacing.shape != (3,) or not np.all(spacing > 0):
        raise GeometryError(f"spacing_mm must be 3 positive values (z, y, x), got {spacing_mm}.")
    used = spacing[list(filtered_axes(by_slice=by_slice))]
    if np.ptp(used) > ISOTROPY_RTOL * used.max():
        raise GeometryError(
            f"The {name} filter needs isotropic spacing on the filtered axes, got {spacing_mm} "
            "mm (z, y, x). Resample the image to an isotropic grid first"
            + ("." if by_slice else ", or filter slice by slice.")
        )
    return float(used.max())


def right_angle_rotations(n_axes: int) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    """List the proper right-angle rotations of a kernel: 24 in 3D, 4 in 2D.

    Each is ``(perm, flips)``: the kernel factor that acted on filtered axis ``perm[i]`` now
    acts on axis ``i``, reversed where ``flips[i] == -1``; only signed permutations with
    determinant +1 (rotations, no reflections) are kept.

    Examples
    --------
    >>> len(right_angle_rotations(3)), len(right_angle_rotations(2))
    (24, 4)
    """
    found = []
    for perm in itertools.permutations(range(n_axes)):
        for flips in itertools.product((1, -1), repeat=n_axes):
            matrix = np.zeros((n_axes, n_axes))
            for row, (col, sign) in enumerate(zip(perm, flips, strict=True)):
                matrix[row, col] = sign
            if round(float(np.linalg.det(matrix))) == 1:
                found.append((perm, flips))
    return found


def separable_convolve(
    image: FloatArray,
    kernels: Sequence[FloatArray],
    axes: Sequence[int],
    mode: BoundaryMode,
) -> FloatArray:
    """Convolve ``image`` with one 1-D kernel per axis.

    True convolution with the kernel centre at index ``len // 2``, padded per ``mode``.
    """
    from scipy import ndimage  # ~0.2 s to import: only when a filter runs, not with the settings

    out = image
    for kernel, axis in zip(kernels, axes, strict=True):
        out = ndimage.convolve1d(out, kernel, axis=axis, mode=scipy_mode(mode), cval=0.0)
    return out


def distinct_rotations(
    stages: Sequence[Sequence[FloatArray]],
) -> list[tuple[list[list[FloatArray]], int]]:
    """Rotate a separable filter bank by every right angle and merge identical copies.

    Parameters
    ----------
    stages
        ``stages[s][i]`` is the 1-D kernel of stage ``s`` along filtered axis ``i``.

    Returns
    -------
    list
        ``(bank, multiplicity)`` per distinct rotated bank: ``bank[s][i]`` as in ``stages``,
        and how many of the right-angle rotations produce it. Symmetric kernels make many
        rotations coincide (e.g. 8 distinct banks of 24 for an all-high-pass wavelet).

    Examples
    --------
    >>> even = np.array([1.0, 2.0, 1.0])
    >>> [m for _, m in distinct_rotations([[even, even, even]])]
    [24]
    """
    n_axes = len(stages[0])
    found: dict[tuple[bytes, ...], tuple[list[list[FloatArray]], int]] = {}
    for perm, flips in right_angle_rotations(n_axes):
        bank = [
            [np.ascontiguousarray(stage[perm[i]][:: flips[i]]) for i in range(n_axes)]
            for stage in stages
        ]
        key = tuple(k.tobytes() for stage in bank for k in stage)
        previous = found.get(key)
        found[key] = (bank, 1 if previous is None else previous[1] + 1)
    return list(found.values())


def pool(responses: Iterable[tuple[FloatArray, int]], method: Pooling) -> FloatArray:
    """Voxel-wise maximum or (weighted) mean of response maps, consumed one at a time.

    Parameters
    ----------
    responses
        ``(response, multiplicity)`` pairs; the multiplicity weights the mean.
    method
        Maximum or mean.

    Raises
    ------
    ValueError
        If ``responses`` is empty.

    Examples
    --------
    >>> pool(iter([(np.zeros(2), 1), (np.array([1.0, -1.0]), 3)]), Pooling.MAX).tolist()
    [1.0, 0.0]
    >>> pool(iter([(np.zeros(2), 1), (np.array([1.0, -1.0]), 3)]), Pooling.MEAN).tolist()
    [0.75, -0.75]
    """
    total: FloatArray | None = None
    count = 0
    for response, weight in responses:
        count += weight
        if total is None:
            total = response * (1.0 if method is Pooling.MAX else float(weight))
        elif method is Pooling.MAX:
            np.maximum(total, response, out=total)
        else:
            total += weight * response
    if total is None:
        raise NotComputableError("Nothing to pool: no response map was given.")
    return total if method is Pooling.MAX else total / count
