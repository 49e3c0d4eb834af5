"""Gabor filter, IBSI 2 section 2.7 (Q88H)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from nenscope.core.enums import parse_option
from nenscope.core.errors import NotComputableError
from nenscope.radiomics.filters._common import (
    BoundaryMode,
    as_image,
    isotropic_spacing,
    numpy_pad_mode,
)

__all__ = ["ENVELOPE_TRUNCATION", "SLICES_PER_CHUNK", "gabor_filter", "gabor_kernel"]

FloatArray = npt.NDArray[np.float64]
ComplexArray = npt.NDArray[np.complex128]

SLICES_PER_CHUNK = 16
"""Slices convolved per FFT call; bounds memory for large images."""

ENVELOPE_TRUNCATION = 7.0
"""Kernel radius in units of the envelope's longer axis ``σ·max(1, 1/γ)``, where the envelope
has fallen to ``exp(-24.5) ≈ 2e-11``; smaller planes use a kernel covering the whole plane."""


def gabor_kernel(
    *, sigma: float, wavelength: float, aspect_ratio: float, orientation_rad: float, size: int
) -> ComplexArray:
    """Build the complex 2-D Gabor kernel on a ``size × size`` grid (``size`` odd), voxel units.

    Rows are the plane's first axis (``y`` in an axial slice), columns its second (``x``);
    ``orientation_rad`` turns the carrier from ``+x`` towards ``+y``.

    Notes
    -----
    IBSI 2: ``h(x, y) = exp(-(x̃² + γ² ỹ²) / (2σ²)) exp(i 2π x̃ / λ)`` with
    ``x̃ = x cos θ + y sin θ`` and ``ỹ = -x sin θ + y cos θ``; no normalisation constant
    (that of the IBSI 2 consensus response maps).

    Examples
    --------
    >>> k = gabor_kernel(sigma=2.0, wavelength=4.0, aspect_ratio=1.0, orientation_rad=0.0,
    ...                  size=5)
    >>> complex(k[2, 2]), k.shape
    ((1+0j), (5, 5))
    """
    radius = size // 2
    y, x = np.mgrid[-radius : radius + 1, -radius : radius + 1].astype(np.float64)
    cos, sin = np.cos(orientation_rad), np.sin(orientation_rad)
    x_rot = x * cos + y * sin
    y_rot = -x * sin + y * cos
    envelope = np.exp(-(x_rot**2 + aspect_ratio**2 * y_rot**2) / (2.0 * sigma**2))
    return np.asarray(envelope * np.exp(2j * np.pi * x_rot / wavelength), dtype=np.complex128)


def gabor_filter(
    image: npt.ArrayLike,
    *,
    sigma_mm: float,
    wavelength_mm: float,
    aspect_ratio: float,
    orientations_rad: Sequence[float],
    spacing_mm: Sequence[float],
    boundary: BoundaryMode,
    orthogonal_planes: bool = False,
) -> FloatArray:
    """Modulus of the in-plane Gabor response, averaged over orientations (and planes).

    Parameters
    ----------
    image
        ``(z, y, x)`` intensities.
    sigma_mm, wavelength_mm
        Envelope scale σ and carrier wavelength λ in mm (> 0).
    aspect_ratio
        Spatial aspect ratio γ (> 0).
    orientations_rad
        Orientations θ; the moduli are averaged (a single θ gives a single response; an
        even grid over ``[0, π)`` gives the rotation-invariant response of IBSI 2).
    spacing_mm
        Voxel spacing ``(z, y, x)`` in mm; isotropic in each filtered plane.
    boundary
        Padding at the image edge.
    orthogonal_planes
        Average the axial, coronal and sagittal responses (IBSI 2 "2D + orthogonal planes")
        instead of filtering the axial ``(y, x)`` slices only.

    Returns
    -------
    numpy.ndarray
        float64 response map, shape of ``image``.

    Raises
    ------
    NotComputableError
        If a scale is not positive or no orientation is given.
    GeometryError
        If a filtered plane is anisotropic.

    Notes
    -----
    The kernel covers the whole plane (its side is the larger in-plane image size, made odd),
    or :data:`ENVELOPE_TRUNCATION` times the envelope's longer axis if that is smaller, and is
    applied by (overlap-add) FFT convolution of the padded image, an exact linear convolution.
    """
    boundary = parse_option(boundary, BoundaryMode, what="boundary mode")
    thetas = [float(t) for t in orientations_rad]
    if min(sigma_mm, wavelength_mm, aspect_ratio) <= 0 or not thetas:
        raise NotComputableError(
            "Gabor needs sigma_mm, wavelength_mm and aspect_ratio > 0 and one orientation or "
            f"more; got {sigma_mm}, {wavelength_mm}, {aspect_ratio} and {orientations_rad}."
        )
    spacing = isotropic_spacing(spacing_mm, by_slice=not orthogonal_planes, name="Gabor")
    array = as_image(image, name="Gabor")
    total = np.zeros_like(array)
    planes = (0, 1, 2) if orthogonal_planes else (0,)
    for normal in planes:
        stack = np.moveaxis(array, normal, 0)
        size = _kernel_size(max(stack.shape[1:]), sigma_mm / spacing, aspect_ratio)
        for theta in thetas:
            kernel = gabor_kernel(
                sigma=sigma_mm / spacing,
                wavelength=wavelength_mm / spacing,
                aspect_ratio=aspect_ratio,
                orientation_rad=theta,
                size=size,
            )
            total += np.moveaxis(_modulus_by_plane(stack, kernel, boundary), 0, normal)
    return np.asarray(total / (len(planes) * len(thetas)), dtype=np.float64)


def _kernel_size(plane_size: int, sigma: float, aspect_ratio: float) -> int:
    """Odd kernel side: the whole plane, or the truncated envelope if smaller.

    Examples
    --------
    >>> _kernel_size(200, 5.0, 1.5), _kernel_size(64, 10.0, 2.5)
    (71, 65)
    """
    whole = 1 + 2 * (plane_size // 2)
    radius = int(np.ceil(ENVELOPE_TRUNCATION * sigma * max(1.0, 1.0 / aspect_ratio)))
    return min(whole, 1 + 2 * radius)


def _modulus_by_plane(
    stack: FloatArray, kernel: ComplexArray, boundary: BoundaryMode
) -> FloatArray:
    """``|slice * kernel|`` for every slice of ``stack`` (axis 0), padded per ``boundary``."""
    # Imported here: scipy.signal (with scipy.stats) takes about 1 s to import, and every
    # analysis imports this module through the radiomics settings without filtering.
    from scipy import signal

    radius = kernel.shape[0] // 2
    out = np.empty(stack.shape, dtype=np.float64)
    for start in range(0, stack.shape[0], SLICES_PER_CHUNK):
        chunk = stack[start : start + SLICES_PER_CHUNK]
        padded = np.pad(
            chunk, ((0, 0), (radius, radius), (radius, radius)), mode=numpy_pad_mode(boundary)
        )
        response = signal.oaconvolve(padded, kernel[None], mode="valid", axes=(1, 2))
        out[start : start + chunk.shape[0]] = np.abs(response)
    return out
