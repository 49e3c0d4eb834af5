"""Undecimated separable wavelets, IBSI 2 section 2.8 (25BO), with own coefficient tables."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from enum import StrEnum

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

__all__ = ["WaveletFamily", "decomposition_filters", "wavelet_filter"]

FloatArray = npt.NDArray[np.float64]


class WaveletFamily(StrEnum):
    """Orthogonal wavelet families with built-in coefficients."""

    HAAR = "haar"
    DB2 = "db2"
    DB3 = "db3"
    COIF1 = "coif1"


def _scaling_filters() -> Mapping[WaveletFamily, FloatArray]:
    """Reconstruction low-pass (scaling) filters from their closed forms.

    Haar; Daubechies 2 and 3 (Daubechies 1988, "Orthonormal bases of compactly supported
    wavelets", Table 1); Coiflet 1 (Daubechies 1993, "Orthonormal bases of compactly
    supported wavelets II"). Each sums to √2 and has unit norm (tested).
    """
    s2, s3, s10 = np.sqrt(2.0), np.sqrt(3.0), np.sqrt(10.0)
    a = np.sqrt(5.0 + 2.0 * s10)
    s7 = np.sqrt(7.0)
    return {
        WaveletFamily.HAAR: np.array([1.0, 1.0]) / s2,
        WaveletFamily.DB2: np.array([1 + s3, 3 + s3, 3 - s3, 1 - s3]) / (4.0 * s2),
        WaveletFamily.DB3: s2
        / 32.0
        * np.array(
            [
                1 + s10 + a,
                5 + s10 + 3 * a,
                10 - 2 * s10 + 2 * a,
                10 - 2 * s10 - 2 * a,
                5 + s10 - 3 * a,
                1 + s10 - a,
            ]
        ),
        WaveletFamily.COIF1: s2
        / 32.0
        * np.array([1 - s7, 5 + s7, 14 + 2 * s7, 14 - 2 * s7, 1 - s7, -3 + s7]),
    }


_SCALING = _scaling_filters()


def decomposition_filters(family: WaveletFamily) -> tuple[FloatArray, FloatArray]:
    """Decomposition low- and high-pass filters (the time-reversed reconstruction filters).

    The reconstruction high-pass is the quadrature mirror ``g[k] = (-1)^k h[N-1-k]``.

    Examples
    --------
    >>> low, high = decomposition_filters(WaveletFamily.HAAR)
    >>> np.round(low * np.sqrt(2.0), 12).tolist(), np.round(high * np.sqrt(2.0), 12).tolist()
    ([1.0, 1.0], [-1.0, 1.0])
    """
    rec_lo = _SCALING[parse_option(family, WaveletFamily, what="wavelet family")]
    n = rec_lo.size
    rec_hi = np.array([(-1.0) ** k * rec_lo[n - 1 - k] for k in range(n)])
    return rec_lo[::-1].copy(), rec_hi[::-1].copy()


def _centred(kernel: FloatArray) -> FloatArray:
    """Give an even-length kernel a trailing zero so that ``convolve1d`` centres it as IBSI 2."""
    return kernel if kernel.size % 2 else np.append(kernel, 0.0)


def _dilated(kernel: FloatArray, level: int) -> FloatArray:
    """À trous: insert ``2^(level-1) - 1`` zeros between the taps."""
    step = 2 ** (level - 1)
    out = np.zeros((kernel.size - 1) * step + 1)
    out[::step] = kernel
    return out


def wavelet_filter(
    image: npt.ArrayLike,
    *,
    family: WaveletFamily,
    response: str,
    boundary: BoundaryMode,
    level: int = 1,
    rotation_invariant: bool = False,
    pooling: Pooling = Pooling.MEAN,
    by_slice: bool = False,
) -> FloatArray:
    """Undecimated (stationary, à trous) separable wavelet response map.

    Parameters
    ----------
    image
        ``(z, y, x)`` intensities.
    family
        Wavelet family.
    response
        One letter per filtered axis, x first: ``"LHL"`` = low-pass along x, high-pass along
        y, low-pass along z (``"LH"`` by slice).
    boundary
        Padding at the image edge.
    level
        Decomposition level >= 1; levels below ``level`` apply the all-low-pass filter.
    rotation_invariant
        Pool the responses to the filter bank rotated by every right angle.
    pooling
        How to pool rotated responses (IBSI 2 tests use ``mean``).
    by_slice
        Filter each ``(y, x)`` slice (2D) instead of the volume (3D).

    Returns
    -------
    numpy.ndarray
        float64 response map, shape of ``image``.

    Raises
    ------
    NotComputableError
        If ``response`` or ``level`` is invalid.

    Notes
    -----
    Level ``j`` convolves with the decomposition filters dilated by ``2^(j-1)`` (zeros
    inserted), after the low-pass cascade of levels ``1 .. j-1``; even-length filters are
    aligned as in the IBSI 2 consensus (checked on test 5.a.1). Under rotation, the same
    rotation applies to every level of the cascade.

    Examples
    --------
    >>> img = np.ones((4, 4, 4))
    >>> out = wavelet_filter(img, family=WaveletFamily.HAAR, response="LLL",
    ...                      boundary=BoundaryMode.PERIODIC)
    >>> round(float(out[0, 0, 0]), 12)  # each low-pass sums to √2: (√2)^3
    2.828427124746
    """
    boundary = parse_option(boundary, BoundaryMode, what="boundary mode")
    pooling = parse_option(pooling, Pooling, what="pooling")
    axes = tuple(reversed(filtered_axes(by_slice=by_slice)))
    letters = response.upper()
    if len(letters) != len(axes) or set(letters) - {"L", "H"}:
        raise NotComputableError(
            f"Wavelet response '{response}' must have one L or H per filtered axis "
            f"({len(axes)}), x first, e.g. {'LH' if by_slice else 'LHL'}."
        )
    if level < 1:
        raise NotComputableError(f"Wavelet level must be >= 1, got {level}.")
    low, high = (_centred(k) for k in decomposition_filters(family))
    array = as_image(image, name="wavelet")
    stages = ["L" * len(axes)] * (level - 1) + [letters]

    bank = [[low if c == "L" else high for c in stage] for stage in stages]

    def cascade(turned: list[list[FloatArray]]) -> FloatArray:
        out = array
        for depth, kernels in enumerate(turned, start=1):
            dilated = [_dilated(kernel, depth) for kernel in kernels]
            out = separable_convolve(out, dilated, axes, boundary)
        return out

    if not rotation_invariant:
        return cascade(bank)

    def rotated() -> Iterator[tuple[FloatArray, int]]:
        for turned, multiplicity in distinct_rotations(bank):
            yield cascade(turned), multiplicity

    return pool(rotated(), pooling)
