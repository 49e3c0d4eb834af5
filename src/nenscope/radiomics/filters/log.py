"""Laplacian-of-Gaussian filter, IBSI 2 section 2.5 (L6PA)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from nenscope.core.enums import parse_option
from nenscope.core.errors import NotComputableError
from nenscope.radiomics.filters._common import (
    BoundaryMode,
    as_image,
    filtered_axes,
    isotropic_spacing,
    separable_convolve,
)

__all__ = ["DEFAULT_TRUNCATION", "log_filter"]

DEFAULT_TRUNCATION = 4.0
"""Kernel half-width in units of σ used by the IBSI 2 tests (radius ``⌊4σ + 0.5⌋`` voxels)."""


def log_filter(
    image: npt.ArrayLike,
    *,
    sigma_mm: float,
    spacing_mm: Sequence[float],
    boundary: BoundaryMode,
    truncation: float = DEFAULT_TRUNCATION,
    by_slice: bool = False,
) -> npt.NDArray[np.float64]:
    """Convolve with the Laplacian of a Gaussian of scale ``sigma_mm``.

    Parameters
    ----------
    image
        ``(z, y, x)`` intensities.
    sigma_mm
        Gaussian scale σ in mm (> 0).
    spacing_mm
        Voxel spacing ``(z, y, x)`` in mm; isotropic on the filtered axes.
    boundary
        Padding at the image edge.
    truncation
        Kernel radius in σ: ``⌊truncation · σ_vox + 0.5⌋`` voxels.
    by_slice
        Filter each ``(y, x)`` slice (2D) instead of the volume (3D).

    Returns
    -------
    numpy.ndarray
        float64 response map, shape of ``image``.

    Raises
    ------
    NotComputableError
        If ``sigma_mm`` or ``truncation`` is not positive.
    GeometryError
        If the filtered axes are not isotropic.

    Notes
    -----
    IBSI 2: ``h(k) = -1/σ² (1 / (2πσ²))^{d/2} (d - |k|²/σ²) exp(-|k|²/(2σ²))`` with σ and
    ``k`` in voxels and ``d`` = 2 or 3, not renormalised. Since the sampled Gaussian is a
    product of 1-D factors ``g``, ``h = Σ_a g''(k_a) Π_{b≠a} g(k_b)``, so the kernel is applied
    as ``d`` separable convolutions.

    Examples
    --------
    >>> img = np.zeros((9, 9, 9))
    >>> img[4, 4, 4] = 1.0
    >>> out = log_filter(img, sigma_mm=1.0, spacing_mm=(1.0, 1.0, 1.0),
    ...                  boundary=BoundaryMode.ZERO)
    >>> round(float(out[4, 4, 4]), 6)  # -3 / (2π)^{3/2}: the kernel centre
    -0.190481
    """
    boundary = parse_option(boundary, BoundaryMode, what="boundary mode")
    if not sigma_mm > 0 or not truncation > 0:
        raise NotComputableError(
            f"LoG needs sigma_mm > 0 and truncation > 0, got {sigma_mm} and {truncation}."
        )
    spacing = isotropic_spacing(spacing_mm, by_slice=by_slice, name="LoG")
    array = as_image(image, name="LoG")
    sigma = sigma_mm / spacing
    radius = int(np.floor(truncation * sigma + 0.5))
    k = np.arange(-radius, radius + 1, dtype=np.float64)
    gauss = np.exp(-(k**2) / (2.0 * sigma**2)) / np.sqrt(2.0 * np.pi * sigma**2)
    second = gauss * (k**2 / sigma**4 - 1.0 / sigma**2)
    axes = filtered_axes(by_slice=by_slice)
    out = np.zeros_like(array)
    for derived in axes:
        kernels = [second if axis == derived else gauss for axis in axes]
        out += separable_convolve(array, kernels, axes, boundary)
    return out
