"""Local intensity features (IBSI 1 section 3.2): local and global intensity peaks."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from nenscope.radiomics._fft import next_fast_len
from nenscope.radiomics._ndimage_np import correlate_ones
from nenscope.radiomics.processing import LOCAL_PEAK_RADIUS_MM, PreparedRoi

__all__ = ["compute_local_intensity_features", "peak_sphere_kernel", "sphere_means"]

DIRECT_KERNEL_MAX = 200
"""Largest sphere (in voxels) summed directly; larger ones (fine grids) use FFT convolution."""

SCIPY_MIN_VOXELS = 2_000_000
"""From this crop size on, the direct sum is ``scipy.ndimage.correlate`` (the same values):
it is about twice as fast as NumPy's shifted slices there (4 million voxels: 0.26 vs 0.53 s
CPU), which outweighs its import (~0.2 s). Smaller crops, every lesion of a one-lesion
process, use :func:`~nenscope.radiomics._ndimage_np.correlate_ones` without SciPy."""


def peak_sphere_kernel(spacing_mm: tuple[float, float, float]) -> npt.NDArray[np.float64]:
    """Voxels whose centres lie within the 1 cm³ peak sphere, as a 0/1 float64 kernel.

    Parameters
    ----------
    spacing_mm
        Voxel size in mm, ``(z, y, x)``.

    Examples
    --------
    >>> int(peak_sphere_kernel((2.0, 2.0, 2.0)).sum())
    123
    """
    half = [int(np.floor(LOCAL_PEAK_RADIUS_MM / s)) for s in spacing_mm]
    axes = [np.arange(-h, h + 1) * s for h, s in zip(half, spacing_mm, strict=True)]
    dz, dy, dx = np.meshgrid(*axes, indexing="ij")
    inside = dz**2 + dy**2 + dx**2 <= LOCAL_PEAK_RADIUS_MM**2
    return np.asarray(inside, dtype=np.float64)


def _fft_correlate_same(
    image: npt.NDArray[np.float64], kernel: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """``ndi.correlate(image, kernel, mode="constant")`` for a symmetric odd kernel, by FFT.

    (scipy.signal.fftconvolve does the same but importing scipy.signal costs ~1 s.)
    """
    shape = tuple(next_fast_len(n + k - 1) for n, k in zip(image.shape, kernel.shape, strict=True))
    axes = tuple(range(image.ndim))
    spectrum = np.fft.rfftn(image, shape, axes=axes) * np.fft.rfftn(kernel, shape, axes=axes)
    full = np.fft.irfftn(spectrum, shape, axes=axes)
    start = [k // 2 for k in kernel.shape]
    crop = tuple(slice(s, s + n) for s, n in zip(start, image.shape, strict=True))
    return np.asarray(full[crop], dtype=np.float64)


def _scipy_correlate(
    image: npt.NDArray[np.float64], kernel: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    import scipy.ndimage as ndi  # large crops only (SCIPY_MIN_VOXELS)

    return np.asarray(ndi.correlate(image, kernel, mode="constant", cval=0.0), dtype=np.float64)


def sphere_means(
    image: npt.NDArray[np.float64], spacing_mm: tuple[float, float, float]
) -> npt.NDArray[np.float64]:
    """Mean intensity in the 1 cm³ sphere around every voxel (float64, image's shape).

    Voxels of the sphere outside the array do not count (the mean is over those inside).
    """
    kernel = peak_sphere_kernel(spacing_mm)
    if kernel.sum() <= DIRECT_KERNEL_MAX:
        correlate = correlate_ones if image.size < SCIPY_MIN_VOXELS else _scipy_correlate
        total = correlate(image, kernel)
        count = correlate(np.ones_like(image), kernel)
    else:
        total = _fft_correlate_same(image, kernel)
        count = np.round(_fft_correlate_same(np.ones_like(image), kernel))
    return np.asarray(total / count, dtype=np.float64)


def compute_local_intensity_features(roi: PreparedRoi) -> dict[str, float]:
    """Local (VJGA) and global (0F91) intensity peak, in image units.

    Notes
    -----
    IBSI 1 section 3.2: the mean of the image (not only the ROI) in a sphere of 1 cm³
    (radius 6.2 mm) centred on a voxel. The local peak is centred on the voxel(s) of highest
    intensity in the ROI (the highest mean when several); the global peak is the highest
    mean over all ROI voxels.
    """
    means = sphere_means(roi.image, roi.spacing_mm)
    values = roi.image[roi.int_mask]
    roi_means = means[roi.int_mask]
    local = float(roi_means[values == values.max()].max())
    return {"VJGA": local, "0F91": float(roi_means.max())}
