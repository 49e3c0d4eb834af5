"""Apparent diffusion coefficient (ADC) from diffusion-weighted signals (pure).

The mono-exponential model ``S(b) = S0 · exp(-b · ADC)`` is fitted per voxel by linear least
squares on ``ln S`` over every image whose b-value is at least ``min_b_s_per_mm2`` and whose
signal is positive and finite. b-values are in s/mm², so the ADC is in mm²/s.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from nenscope.core.errors import NotComputableError

__all__ = ["DENOMINATOR_RTOL", "AdcFit", "compute_adc"]

DENOMINATOR_RTOL = 1e-9
"""A voxel's fit is undefined when the spread of its usable b-values,
``n·Σb² - (Σb)²``, is at most this fraction of ``n·Σb²`` (all usable points at one b)."""


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class AdcFit:
    """Result of :func:`compute_adc`; every array has the spatial shape of the input.

    Parameters
    ----------
    adc_mm2_per_s
        Fitted ADC in mm²/s, float64; 0 where :attr:`is_defined` is false. May be negative
        where the signal rises with b (noise), which the fit does not hide.
    s0
        Fitted signal at b = 0 (same unit as the input), float64; 0 where undefined.
    is_defined
        True where at least two usable points at two different b-values entered the fit.
    n_points
        Number of usable points per voxel (int64).
    """

    adc_mm2_per_s: npt.NDArray[np.float64]
    s0: npt.NDArray[np.float64]
    is_defined: npt.NDArray[np.bool_]
    n_points: npt.NDArray[np.int64]


def compute_adc(
    signals: npt.ArrayLike,
    b_values_s_per_mm2: npt.ArrayLike,
    *,
    min_b_s_per_mm2: float = 0.0,
) -> AdcFit:
    """Fit the mono-exponential ADC per voxel by log-linear least squares.

    Parameters
    ----------
    signals
        Diffusion-weighted signals, shape ``(n_images, ...)`` (e.g. ``(n, z, y, x)``); any
        real dtype; not modified.
    b_values_s_per_mm2
        b-value of each image in s/mm² (finite, >= 0), length ``n_images``. Repeated
        b-values (several directions or averages) are separate points of the fit.
    min_b_s_per_mm2
        Images with a smaller b-value are left out (e.g. 50 to leave out b = 0 and most of
        the perfusion component); 0 uses every image.

    Returns
    -------
    AdcFit
        float64 ADC (mm²/s) and S0, the validity mask and the number of points per voxel.

    Raises
    ------
    NotComputableError
        If the b-values do not match the images, are negative or not finite, or fewer than
        two different b-values remain after ``min_b_s_per_mm2``.

    Notes
    -----
    With ``y = ln S`` and the ``n`` usable points of a voxel, the least-squares slope is
    ``(n·Σby - Σb·Σy) / (n·Σb² - (Σb)²)`` and ADC = -slope; ``ln S0`` is the intercept
    ``(Σy + ADC·Σb) / n``. Points with ``S <= 0`` (log undefined) are left out per voxel.
    Le Bihan et al., Radiology 1986;161:401-407 (DOI 10.1148/radiology.161.2.3763909).

    Examples
    --------
    >>> b = [0.0, 500.0, 1000.0]
    >>> s = np.exp(-np.asarray(b) * 1.0e-3)[:, None] * 100.0
    >>> fit = compute_adc(s, b)
    >>> round(float(fit.adc_mm2_per_s[0]), 12), bool(fit.is_defined[0])
    (0.001, True)
    """
    data = np.asarray(signals, dtype=np.float64)
    b_all = np.asarray(b_values_s_per_mm2, dtype=np.float64)
    _check_inputs(data, b_all, min_b_s_per_mm2)
    keep = b_all >= min_b_s_per_mm2
    b = b_all[keep]
    s = data[keep]
    b_col = b.reshape((-1,) + (1,) * (s.ndim - 1))
    usable = np.isfinite(s) & (s > 0)
    y = np.log(np.where(usable, s, 1.0))
    w = usable.astype(np.float64)
    n = w.sum(axis=0)
    sb = (w * b_col).sum(axis=0)
    sbb = (w * b_col**2).sum(axis=0)
    sy = (w * y).sum(axis=0)
    sby = (w * b_col * y).sum(axis=0)
    denominator = n * sbb - sb**2
    defined = (n >= 2) & (denominator > DENOMINATOR_RTOL * np.maximum(n * sbb, 1e-300))
    safe = np.where(defined, denominator, 1.0)
    adc = np.where(defined, -(n * sby - sb * sy) / safe, 0.0)
    log_s0 = np.where(defined, (sy + adc * sb) / np.where(n > 0, n, 1.0), 0.0)
    s0 = np.where(defined, np.exp(log_s0), 0.0)
    return AdcFit(
        adc_mm2_per_s=np.asarray(adc, dtype=np.float64),
        s0=np.asarray(s0, dtype=np.float64),
        is_defined=np.asarray(defined, dtype=np.bool_),
        n_points=np.asarray(n, dtype=np.int64),
    )


def _check_inputs(data: npt.NDArray[np.float64], b: npt.NDArray[np.float64], min_b: float) -> None:
    if data.ndim < 1 or b.ndim != 1 or data.shape[0] != b.shape[0]:
        raise NotComputableError(
            f"ADC fit needs one b-value per image: signals have {data.shape[:1]} images, "
            f"b-values {b.shape}."
        )
    if not np.all(np.isfinite(b)) or np.any(b < 0):
        raise NotComputableError(f"b-values must be finite and >= 0 s/mm², got {b.tolist()}.")
    if not np.isfinite(min_b) or min_b < 0:
        raise NotComputableError(f"min_b_s_per_mm2 must be finite and >= 0, got {min_b}.")
    distinct = np.unique(b[b >= min_b])
    if distinct.size < 2:
        raise NotComputableError(
            f"ADC fit needs at least two different b-values >= {min_b:g} s/mm²; the series has "
            f"{sorted(set(b.tolist()))}. Lower the minimum b-value or add a b-value."
        )
