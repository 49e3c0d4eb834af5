"""IBSI 2 filter response maps inside the processing chain (IBSI 2 phase 2).

The image is interpolated (if configured) as a whole, re-segmented on its intensities, and
filtered as a whole; the ROI masks then select the response map voxels whose statistics are
the features.
"""

from __future__ import annotations

import re

import numpy as np
import numpy.typing as npt

from nenscope.core.errors import EmptyRegionError, GeometryError, OptionError
from nenscope.radiomics.filters import (
    BoundaryMode,
    Pooling,
    decomposition_filters,
    energy_map,
    gabor_filter,
    laws_filter,
    log_filter,
    mean_filter,
    riesz_transform,
    simoncelli_filter,
    wavelet_filter,
)
from nenscope.radiomics.processing import (
    WHOLE_IMAGE_MM,
    PreparedRoi,
    _bounding_box,
    _processed_crop,
    resegment,
    target_spacing,
)
from nenscope.radiomics.settings import (
    FilterDimension,
    FilterSettings,
    FilterType,
    RadiomicsSettings,
    ResegmentSettings,
)

__all__ = [
    "compute_response_map",
    "gabor_orientations_rad",
    "prepare_filtered_roi",
    "support_radius_voxels",
]

FloatArray = npt.NDArray[np.float64]


def support_radius_voxels(
    settings: FilterSettings, *, spacing_mm: tuple[float, float, float]
) -> int | None:
    """How far (in voxels) a response-map voxel sees; ``None`` for a global filter.

    Parameters
    ----------
    settings
        The filter.
    spacing_mm
        Voxel size in mm ``(z, y, x)`` of the filtered grid.

    Returns
    -------
    int or None
        An upper bound of the kernel radius (energy map included) along any axis; ``None``
        for Gabor (its kernel covers the plane), Simoncelli and Riesz (Fourier domain) and
        the periodic boundary, which need the whole image.

    Examples
    --------
    >>> from nenscope.radiomics.settings import FilterType as T
    >>> support_radius_voxels(FilterSettings(type=T.MEAN, support=5), spacing_mm=(1, 1, 1))
    2
    >>> support_radius_voxels(FilterSettings(type=T.LAWS, kernel="L5E5E5", energy_distance=7),
    ...                       spacing_mm=(1, 1, 1))
    9
    """
    kind = settings.type
    if kind is FilterType.NONE:
        return 0
    if settings.boundary is BoundaryMode.PERIODIC:
        # Wrapping makes the voxels near one edge see the opposite edge.
        return None
    if kind is FilterType.MEAN:
        return int(settings.support or 1) // 2
    if kind is FilterType.LOG:
        sigma_vox = float(settings.sigma_mm or 0.0) / min(spacing_mm)
        return int(np.floor(settings.cutoff * sigma_vox + 0.5))
    if kind is FilterType.LAWS:
        lengths = [int(n[1]) for n in re.findall(r"[A-Z]\d", str(settings.kernel))]
        return max(lengths) // 2 + (settings.energy_distance or 0)
    if kind is FilterType.WAVELET and settings.family is not None:
        # A trous: level l dilates the (n - 1)-tap reach by 2^(l - 1); the levels add up.
        taps = int(decomposition_filters(settings.family)[0].size)
        return (taps - 1) * ((1 << settings.level) - 1) + 1
    return None


def gabor_orientations_rad(theta_step_deg: float) -> list[float]:
    """Orientations ``k · step`` in ``[0, π)`` in rad, pooled by the Gabor filter.

    Examples
    --------
    >>> len(gabor_orientations_rad(22.5)), gabor_orientations_rad(180.0)
    (8, [0.0])
    """
    count = int(np.ceil(180.0 / theta_step_deg - 1e-9))
    return [float(np.deg2rad(k * theta_step_deg)) for k in range(count)]


def _separable_response(
    image: FloatArray, settings: FilterSettings, *, by_slice: bool
) -> FloatArray:
    """Laws (with its energy map) and wavelet responses."""
    if settings.type is FilterType.LAWS:
        response = laws_filter(
            image,
            kernels=str(settings.kernel),
            boundary=settings.boundary,
            rotation_invariant=settings.rotation_invariant,
            pooling=settings.pooling or Pooling.MAX,
            by_slice=by_slice,
        )
        if settings.energy_distance is None:
            return response
        return energy_map(
            response,
            distance=settings.energy_distance,
            boundary=settings.boundary,
            by_slice=by_slice,
        )
    if settings.family is None or settings.sub_band is None:
        raise OptionError("A wavelet filter needs a family and a sub-band.")
    return wavelet_filter(
        image,
        family=settings.family,
        response=settings.sub_band,
        boundary=settings.boundary,
        level=settings.level,
        rotation_invariant=settings.rotation_invariant,
        pooling=settings.pooling or Pooling.MEAN,
        by_slice=by_slice,
    )


def compute_response_map(
    image: npt.ArrayLike,
    *,
    spacing_mm: tuple[float, float, float],
    settings: FilterSettings,
) -> FloatArray:
    """Response map of one configured IBSI 2 filter.

    Parameters
    ----------
    image
        Intensities, ``(z, y, x)`` (not modified).
    spacing_mm
        Voxel size in mm, ``(z, y, x)`` (LoG and Gabor scales are in mm).
    settings
        The filter.

    Returns
    -------
    numpy.ndarray
        float64 response map, shape of ``image``.

    Raises
    ------
    GeometryError
        If a filter that needs isotropic voxels gets anisotropic ones.
    NotComputableError
        For parameters the filter refuses.

    Examples
    --------
    >>> from nenscope.radiomics.settings import FilterType as T
    >>> img = np.ones((3, 4, 4))
    >>> out = compute_response_map(img, spacing_mm=(1.0, 1.0, 1.0),
    ...                            settings=FilterSettings(type=T.MEAN, support=3))
    >>> float(out.min()), float(out.max())
    (1.0, 1.0)
    """
    by_slice = settings.dimension is FilterDimension.D2
    kind = settings.type
    if kind is FilterType.NONE:
        return np.array(image, dtype=np.float64)
    if kind is FilterType.MEAN:
        return mean_filter(
            image,
            support=int(settings.support or 1),
            boundary=settings.boundary,
            by_slice=by_slice,
        )
    if kind is FilterType.LOG:
        return log_filter(
            image,
            sigma_mm=float(settings.sigma_mm or 0.0),
            spacing_mm=spacing_mm,
            boundary=settings.boundary,
            truncation=settings.cutoff,
            by_slice=by_slice,
        )
    if kind is FilterType.GABOR:
        return gabor_filter(
            image,
            sigma_mm=float(settings.sigma_mm or 0.0),
            wavelength_mm=float(settings.lambda_mm or 0.0),
            aspect_ratio=float(settings.gamma or 0.0),
            orientations_rad=gabor_orientations_rad(float(settings.theta_step_deg or 180.0)),
            spacing_mm=spacing_mm,
            boundary=settings.boundary,
            orthogonal_planes=not by_slice,
        )
    if kind is FilterType.SIMONCELLI:
        return simoncelli_filter(image, level=settings.level, by_slice=by_slice)
    if kind is FilterType.RIESZ:
        return riesz_transform(image, order_xyz=settings.order or (), by_slice=by_slice)
    return _separable_response(np.asarray(image, dtype=np.float64), settings, by_slice=by_slice)


def prepare_filtered_roi(
    image: npt.NDArray[np.generic],
    mask: npt.NDArray[np.bool_],
    *,
    spacing_mm: tuple[float, float, float],
    settings: RadiomicsSettings,
) -> PreparedRoi:
    """Run the IBSI 2 phase-2 chain on one ROI; ``image`` of the result is the response map.

    Parameters
    ----------
    image
        Intensities, ``(z, y, x)``, any real dtype (not modified).
    mask
        ROI mask, bool, same shape.
    spacing_mm
        Voxel size in mm, ``(z, y, x)``.
    settings
        Processing settings with a ``filter``.

    Returns
    -------
    PreparedRoi
        Response map (float64) cropped to the ROI's bounding box, the morphological and
        intensity masks; the grey levels are not discretised (``levels`` is 0, ``n_levels``
        1): only the intensity statistics are defined on a response map here.

    Raises
    ------
    GeometryError
        If image and mask shapes differ, or the filter needs isotropic voxels.
    EmptyRegionError
        If the ROI is empty before or after interpolation or re-segmentation.

    Notes
    -----
    IBSI 2 (phase 2 of the validation, and the reference manual's processing scheme): the
    image is interpolated and rounded, the ROI is re-segmented on the *unfiltered*
    intensities, the filter acts on the image (its boundary condition applies at the image
    edge, never at the ROI edge), and the features are computed on the response map
    inside the intensity mask. Filters of finite support (mean, LoG, Laws, wavelets) act on a
    crop with their support around the ROI, which gives the same response in the ROI as the
    whole image; Gabor, Simoncelli and Riesz act on the whole image.
    """
    if settings.filter is None:
        raise GeometryError("prepare_filtered_roi needs settings with a filter.")
    img = np.asarray(image)
    roi = np.asarray(mask, dtype=bool)
    if img.shape != roi.shape or img.ndim != 3:
        raise GeometryError(
            f"Image and mask must be 3-D arrays of the same shape, got {img.shape} and "
            f"{roi.shape}."
        )
    if not roi.any():
        raise EmptyRegionError("The ROI mask is empty: no voxel to compute features on.")
    radius = support_radius_voxels(
        settings.filter, spacing_mm=target_spacing(spacing_mm, settings.resample)
    )
    # A finite kernel needs its support around the ROI (the crop edge is then either beyond
    # the kernel's reach or the image edge itself), plus 2 voxels of slack.
    margin = WHOLE_IMAGE_MM if radius is None else (radius + 2) * max(spacing_mm)
    whole, morph_mask, new_spacing = _processed_crop(
        img, roi, spacing_mm, settings.resample, margin_mm=margin
    )
    if not morph_mask.any():
        raise EmptyRegionError(
            "The ROI is empty after interpolation to the configured grid; use a finer spacing "
            "or no resampling."
        )
    reseg = settings.resegment or ResegmentSettings()
    int_mask = resegment(whole, morph_mask, reseg)
    if not int_mask.any():
        raise EmptyRegionError(
            f"No ROI voxel is left after re-segmentation to range "
            f"[{reseg.range_min}, {reseg.range_max}] (outlier_sigma {reseg.outlier_sigma})."
        )
    response = compute_response_map(whole, spacing_mm=new_spacing, settings=settings.filter)
    box = _bounding_box(morph_mask, (0, 0, 0))
    crop = np.ascontiguousarray(response[box])
    return PreparedRoi(
        image=crop,
        morph_mask=morph_mask[box].copy(),
        int_mask=int_mask[box].copy(),
        levels=np.zeros(crop.shape, dtype=np.int64),
        n_levels=1,
        ivh_values=np.zeros(crop.shape, dtype=np.float64),
        ivh_min=0.0,
        ivh_max=0.0,
        ivh_step=1.0,
        spacing_mm=new_spacing,
        approach=settings.approach,
    )
