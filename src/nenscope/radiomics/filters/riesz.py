"""Riesz transform of a response map, IBSI 2 section 2.10 (AYRS)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from nenscope.core.errors import NotComputableError
from nenscope.radiomics.filters._common import as_image, filtered_axes

__all__ = ["riesz_transform"]

FloatArray = npt.NDArray[np.float64]


def riesz_transform(
    image: npt.ArrayLike, *, order_xyz: Sequence[int], by_slice: bool = False
) -> FloatArray:
    """Apply the Riesz transform of order ``order_xyz`` (real part), e.g. to a LoG response.

    Parameters
    ----------
    image
        ``(z, y, x)`` image or response map.
    order_xyz
        Non-negative derivative orders along x, y (and z): 3 values, or 2 with ``by_slice``;
        e.g. ``(1, 0, 0)`` is the first-order transform along x.
    by_slice
        Transform each ``(y, x)`` slice (2D) instead of the volume (3D).

    Returns
    -------
    numpy.ndarray
        float64 response map (real part), shape of ``image``.

    Raises
    ------
    NotComputableError
        If ``order_xyz`` has the wrong length, a negative entry or total order 0.

    Notes
    -----
    IBSI 2: in the Fourier domain the transform multiplies by
    ``sqrt(|l|! / Π l_i!) Π (-j ω_i)^{l_i} / ‖ω‖^{|l|}`` (0 at ω = 0), an all-pass
    higher-order derivative; being applied by FFT, the image is periodic. Checked on IBSI 2
    phase-1 tests 9.a (order (1, 0, 0) of a LoG), 9.b.1 (order (0, 2, 0) of a LoG) and 10.b.1
    (order (0, 2, 0) of a Simoncelli wavelet).

    Examples
    --------
    >>> wave = np.sin(2 * np.pi * np.arange(8) / 8)
    >>> image = np.broadcast_to(wave, (4, 4, 8))
    >>> np.allclose(riesz_transform(image, order_xyz=(2, 0, 0)), -image)  # (-jω_x)²/ω_x²
    True
    """
    axes = filtered_axes(by_slice=by_slice)
    orders = [int(o) for o in order_xyz]
    if len(orders) != len(axes) or min(orders) < 0 or sum(orders) == 0:
        raise NotComputableError(
            f"Riesz order must be {len(axes)} non-negative integers (x, y"
            f"{'' if by_slice else ', z'}) with a positive sum, got {tuple(order_xyz)}."
        )
    array = as_image(image, name="Riesz")
    # order_xyz lists x first; array axes are (z,) y, x.
    per_axis = dict(zip(reversed(axes), orders, strict=True))
    grids = np.meshgrid(
        *[np.fft.fftfreq(array.shape[a]) * 2.0 * np.pi for a in axes], indexing="ij", sparse=True
    )
    radius = np.sqrt(sum(g**2 for g in grids))
    total = sum(orders)
    scale = math.sqrt(math.factorial(total) / math.prod(math.factorial(o) for o in orders))
    transfer = np.full(radius.shape, scale, dtype=np.complex128)
    for axis, grid in zip(axes, grids, strict=True):
        transfer = transfer * (-1j * grid) ** per_axis[axis]
    with np.errstate(divide="ignore", invalid="ignore"):
        transfer = np.where(radius > 0.0, transfer / radius**total, 0.0)
    if by_slice:
        transfer = transfer[None, :, :]
    spectrum = np.fft.fftn(array, axes=axes) * transfer
    return np.asarray(np.fft.ifftn(spectrum, axes=axes).real, dtype=np.float64)
