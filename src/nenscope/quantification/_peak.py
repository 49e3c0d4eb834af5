"""SUVpeak: the PERCIST 1 cm³ sphere, voxel-centred (one fixed, tested definition).

Definition used throughout nenscope (Wahl et al., J Nucl Med 2009;50 Suppl 1:122S, §"SULpeak";
suv-rules §4.3): the peak sphere has volume 1 cm³, i.e. radius
``r = (3 / (4 π))^(1/3) cm = 6.2035 mm``. It is centred on a voxel centre; the voxels that
belong to it are those whose centres lie within ``r`` of that centre (distances in mm through
the affine, so anisotropic and oblique grids are handled). The sphere value is the plain mean of
the image over those voxels (voxels outside the image are not counted). SUVpeak of a lesion is
the maximum sphere value over the sphere centres that lie inside the lesion mask; the sphere
itself may extend beyond the lesion.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from nenscope.core import EmptyRegionError, ImageVolume
from nenscope.core.errors import GeometryError, InvalidArgumentError
from nenscope.core.units import MM3_PER_ML

__all__ = ["PEAK_SPHERE_RADIUS_MM", "peak_kernel", "suv_peak", "suv_peak_in_box"]

PEAK_SPHERE_RADIUS_MM = (3.0 * MM3_PER_ML / (4.0 * math.pi)) ** (1.0 / 3.0)
"""Radius in mm of a sphere of volume 1 mL (6.2035 mm): the PERCIST SUVpeak sphere."""


def peak_kernel(
    affine: npt.NDArray[np.float64], *, radius_mm: float = PEAK_SPHERE_RADIUS_MM
) -> npt.NDArray[np.bool_]:
    """Voxel offsets whose centres lie within ``radius_mm`` of the central voxel centre.

    Parameters
    ----------
    affine
        4×4 index→LPS affine of the image grid (only its 3×3 part is used).
    radius_mm
        Sphere radius in mm; > 0.

    Returns
    -------
    numpy.ndarray
        Boolean kernel, shape ``(2 hz + 1, 2 hy + 1, 2 hx + 1)`` (z, y, x), centred.

    Examples
    --------
    >>> import numpy as np
    >>> int(peak_kernel(np.diag([5.0, 5.0, 5.0, 1.0])).sum())  # centre + 6 faces; edges at 7.1 mm
    7
    """
    if not radius_mm > 0:
        raise InvalidArgumentError(f"radius_mm must be > 0, got {radius_mm}.")
    linear = np.asarray(affine, dtype=np.float64)[:3, :3]
    # |offset in mm| >= smallest singular value × |index offset|, so this box holds every voxel
    # centre within the radius on any (also oblique) grid; empty outer planes are trimmed below.
    half = math.floor(radius_mm / float(np.linalg.svd(linear, compute_uv=False).min()))
    grids = np.meshgrid(*[np.arange(-half, half + 1)] * 3, indexing="ij")
    offsets = np.stack([g.ravel() for g in grids], axis=1).astype(np.float64)
    dist = np.linalg.norm(offsets @ linear.T, axis=1)
    kernel = (dist <= radius_mm * (1.0 + 1e-12)).reshape(grids[0].shape)
    return _trim(kernel)


def _trim(kernel: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    """Remove all-False outer planes while keeping the kernel centred."""
    for axis in range(3):
        while kernel.shape[axis] > 1:
            first = np.take(kernel, 0, axis=axis)
            last = np.take(kernel, -1, axis=axis)
            if first.any() or last.any():
                break
            kernel = np.take(kernel, np.arange(1, kernel.shape[axis] - 1), axis=axis)
    return kernel


def suv_peak(
    suv: ImageVolume,
    mask: npt.NDArray[np.bool_],
    *,
    radius_mm: float = PEAK_SPHERE_RADIUS_MM,
) -> tuple[float, tuple[int, int, int]]:
    """SUVpeak of a region: max over centres in ``mask`` of the 1 cm³ voxel-centred sphere mean.

    Parameters
    ----------
    suv
        SUV image, (z, y, x).
    mask
        Lesion mask, bool, same shape as ``suv.array``.
    radius_mm
        Sphere radius in mm (default: 1 mL sphere, 6.2035 mm).

    Returns
    -------
    tuple
        SUVpeak (float64, same unit as ``suv``) and the ``(z, y, x)`` index of the sphere centre.

    Raises
    ------
    EmptyRegionError
        If ``mask`` has no voxel.

    Notes
    -----
    Computed on the lesion's bounding box grown by the kernel half-width only, as a normalised
    correlation (sum over the kernel / number of kernel voxels inside the image), so the cost is
    independent of the image size. See the module docstring for the definition.

    Examples
    --------
    >>> import numpy as np
    >>> from nenscope.core import ImageVolume, Unit
    >>> img = np.zeros((5, 5, 5)); img[2, 2, 2] = 7.0
    >>> vol = ImageVolume(array=img, affine=np.diag([5.0, 5.0, 5.0, 1.0]), unit=Unit.SUV_BW)
    >>> peak, centre = suv_peak(vol, img > 0)
    >>> round(peak, 12), centre  # 7 / 7 voxels of the 1 mL sphere at 5 mm spacing
    (1.0, (2, 2, 2))
    """
    region = np.asarray(mask, dtype=bool)
    if region.shape != suv.shape:
        raise GeometryError(f"mask shape {region.shape} differs from image shape {suv.shape}.")
    if not region.any():
        raise EmptyRegionError("Cannot compute SUVpeak: the lesion mask has no voxel.")
    nz = np.nonzero(region)
    lo = np.array([a.min() for a in nz])
    hi = np.array([a.max() for a in nz]) + 1
    box = tuple(slice(int(a), int(b)) for a, b in zip(lo, hi, strict=True))
    return suv_peak_in_box(suv, region[box], box, radius_mm=radius_mm)


def suv_peak_in_box(
    suv: ImageVolume,
    region: npt.NDArray[np.bool_],
    box: tuple[slice, ...],
    *,
    radius_mm: float = PEAK_SPHERE_RADIUS_MM,
) -> tuple[float, tuple[int, int, int]]:
    """:func:`suv_peak` for a mask given on a sub-box ``box`` of the image (no full-size mask).

    Parameters
    ----------
    suv
        SUV image.
    region
        Bool mask with the shape of ``suv.array[box]``; must hold a voxel.
    box
        Three slices (z, y, x) with unit step locating ``region`` in the image.
    radius_mm
        Sphere radius in mm.

    Returns
    -------
    tuple
        SUVpeak and the ``(z, y, x)`` image index of its sphere centre.
    """
    if not region.any():
        raise EmptyRegionError("Cannot compute SUVpeak: the lesion mask has no voxel.")
    kernel = peak_kernel(suv.affine, radius_mm=radius_mm)
    half = np.asarray(kernel.shape) // 2
    start = np.array([s.start for s in box])
    lo = np.maximum(start - half, 0)
    hi = np.minimum(np.array([s.stop for s in box]) + half, np.asarray(suv.shape))
    grown = tuple(slice(int(a), int(b)) for a, b in zip(lo, hi, strict=True))
    values = np.asarray(suv.array[grown], dtype=np.float64)
    inside = np.zeros(values.shape, dtype=bool)
    offset = start - lo
    inside[tuple(slice(int(o), int(o) + n) for o, n in zip(offset, region.shape, strict=True))] = (
        region
    )
    weights = kernel.astype(np.float64)
    sums = ndimage.correlate(values, weights, mode="constant", cval=0.0)
    counts = ndimage.correlate(np.ones_like(values), weights, mode="constant", cval=0.0)
    means = np.where(inside, sums / counts, -np.inf)
    flat = int(np.argmax(means))
    local = np.unravel_index(flat, means.shape)
    centre = tuple(int(i + o) for i, o in zip(local, lo, strict=True))
    return float(means.flat[flat]), (centre[0], centre[1], centre[2])
