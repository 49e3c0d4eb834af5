"""Binary morphology on a mask's bounding box only: the same result as ``scipy.ndimage``.

Whole-body masks are large (a PET grid of 200 × 200 × 600 voxels), while a morphological
operation only changes voxels within the structure's reach of the mask. These functions run
``scipy.ndimage`` on the mask's bounding box grown by that reach and put the result back into
an all-``False`` array, which is exactly what the operation on the whole array gives (with the
default ``border_value=0``: outside the box every voxel is ``False`` in both cases).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from nenscope.core.errors import GeometryError

__all__ = ["binary_dilation_in_box", "binary_erosion_in_box", "binary_opening_in_box"]


def _box(mask: npt.NDArray[np.bool_], reach: tuple[int, ...]) -> tuple[slice, ...] | None:
    """Bounding box of ``mask`` grown by ``reach`` voxels per axis, or None when empty."""
    box = []
    for axis, grow in enumerate(reach):
        other = tuple(a for a in range(mask.ndim) if a != axis)
        hit = np.flatnonzero(np.any(mask, axis=other))
        if hit.size == 0:
            return None
        start = max(0, int(hit[0]) - grow)
        stop = min(mask.shape[axis], int(hit[-1]) + 1 + grow)
        box.append(slice(start, stop))
    return tuple(box)


def _reach(structure: npt.NDArray[np.bool_]) -> tuple[int, ...]:
    return tuple(n // 2 + 1 for n in structure.shape)


def _check(mask: npt.NDArray[np.bool_], structure: npt.NDArray[np.bool_]) -> None:
    if mask.ndim != structure.ndim:
        raise GeometryError(
            f"The structure must have the mask's {mask.ndim} dimensions, not {structure.ndim}."
        )
    if any(n % 2 == 0 for n in structure.shape):
        raise GeometryError(
            f"The structure needs an odd size on every axis (centred), not {structure.shape}."
        )


def binary_erosion_in_box(
    mask: npt.NDArray[np.bool_], structure: npt.NDArray[np.bool_]
) -> npt.NDArray[np.bool_]:
    """``ndimage.binary_erosion(mask, structure)``, computed on the mask's box only.

    Parameters
    ----------
    mask
        Boolean array (any dimension).
    structure
        Centred structuring element with an odd size on every axis.

    Returns
    -------
    numpy.ndarray
        Boolean array of ``mask``'s shape.

    Examples
    --------
    >>> m = np.zeros((7, 7), dtype=bool); m[1:6, 1:6] = True
    >>> s = np.ones((3, 3), dtype=bool)
    >>> bool((binary_erosion_in_box(m, s) == ndimage.binary_erosion(m, s)).all())
    True
    """
    _check(mask, structure)
    out = np.zeros(mask.shape, dtype=bool)
    box = _box(mask, _reach(structure))
    if box is not None:
        out[box] = ndimage.binary_erosion(mask[box], structure)
    return out


def binary_dilation_in_box(
    mask: npt.NDArray[np.bool_], structure: npt.NDArray[np.bool_]
) -> npt.NDArray[np.bool_]:
    """``ndimage.binary_dilation(mask, structure)``, computed on the mask's grown box only.

    Examples
    --------
    >>> m = np.zeros((7, 7), dtype=bool); m[3, 3] = True
    >>> s = np.ones((3, 3), dtype=bool)
    >>> int(binary_dilation_in_box(m, s).sum())
    9
    """
    _check(mask, structure)
    out = np.zeros(mask.shape, dtype=bool)
    box = _box(mask, _reach(structure))
    if box is not None:
        out[box] = ndimage.binary_dilation(mask[box], structure)
    return out


def binary_opening_in_box(
    mask: npt.NDArray[np.bool_], structure: npt.NDArray[np.bool_]
) -> npt.NDArray[np.bool_]:
    """``ndimage.binary_opening(mask, structure)`` (erosion then dilation) on the box only.

    Examples
    --------
    >>> m = np.zeros((9, 9), dtype=bool); m[1:8, 1:8] = True; m[0, 4] = True
    >>> s = np.ones((3, 3), dtype=bool)
    >>> bool((binary_opening_in_box(m, s) == ndimage.binary_opening(m, s)).all())
    True
    """
    return binary_dilation_in_box(binary_erosion_in_box(mask, structure), structure)
