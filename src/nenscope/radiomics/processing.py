"""The IBSI 1 image-processing chain (reference manual chapter 2), pure NumPy/SciPy.

Interpolation of image and ROI mask onto an IBSI-aligned grid, intensity rounding,
re-segmentation by range and by outliers, and discretisation. The result of the chain is a
:class:`PreparedRoi`: the crop around the ROI that every feature family works on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from nenscope.core.errors import EmptyRegionError, GeometryError, NotComputableError
from nenscope.radiomics.settings import (
    Approach,
    DiscretisationMethod,
    DiscretisationSettings,
    RadiomicsSettings,
    ResampleSettings,
    ResegmentSettings,
)

__all__ = [
    "LOCAL_PEAK_RADIUS_MM",
    "PreparedRoi",
    "discretise",
    "ivh_discretise",
    "prepare_roi",
    "resample_to_grid",
    "resegment",
    "target_spacing",
]


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class PreparedRoi:
    """A processed ROI, cropped to the bounding box of the morphological mask (plus margin).

    Parameters
    ----------
    image
        Processed intensities, float64, shape ``(z, y, x)`` (crop of the whole image, so the
        local-intensity peaks can look beyond the ROI).
    morph_mask
        Morphological mask (after interpolation, before re-segmentation), bool, same shape.
    int_mask
        Intensity mask (after re-segmentation), bool, same shape.
    levels
        Discretised grey levels for the intensity histogram and textures, int64, 0 outside
        ``int_mask`` and ``1..n_levels`` inside.
    n_levels
        Number of grey levels ``N_g`` of ``levels``.
    ivh_levels
        Discretised values for the intensity-volume histogram, float64, same shape
        (meaningful inside ``int_mask`` only), with ``ivh_min``/``ivh_max``/``ivh_step``.
    spacing_mm
        Voxel size in mm, ``(z, y, x)``.
    approach
        Texture aggregation approach.
    """

    image: npt.NDArray[np.float64]
    morph_mask: npt.NDArray[np.bool_]
    int_mask: npt.NDArray[np.bool_]
    levels: npt.NDArray[np.int64]
    n_levels: int
    ivh_values: npt.NDArray[np.float64]
    ivh_min: float
    ivh_max: float
    ivh_step: float
    spacing_mm: tuple[float, float, float]
    approach: Approach


LOCAL_PEAK_RADIUS_MM = float((3.0 / (4.0 * np.pi)) ** (1.0 / 3.0) * 10.0)
"""Radius in mm of the 1 cm³ sphere of the local and global intensity peaks (IBSI 1, 3.2)."""

WHOLE_IMAGE_MM = 1e6
"""A crop margin (1 km) that keeps the whole image of any scanner."""

MASK_DECIMALS = 6
"""Decimals kept of interpolated mask values before the partial-volume threshold."""

SPLINE_MARGIN_VOXELS = 12
"""Extra source voxels kept around the ROI before interpolation.

The cubic B-spline prefilter is global, but the influence of a voxel decays as 0.268^k with
its distance k, so 12 voxels bound the error of cropping by ~1e-7 of the intensity range.
"""


def _bounding_box(
    mask: npt.NDArray[np.bool_], margin: tuple[int, int, int]
) -> tuple[slice, slice, slice]:
    # One pass over the (possibly whole-body) mask finds the occupied slices; the in-plane
    # extent is then taken from that slab only.
    zs = np.flatnonzero(np.any(mask.reshape(mask.shape[0], -1), axis=1))
    plane = np.any(mask[zs[0] : zs[-1] + 1], axis=0)
    ys = np.flatnonzero(np.any(plane, axis=1))
    xs = np.flatnonzero(np.any(plane, axis=0))
    out = []
    for axis, hits in enumerate((zs, ys, xs)):
        lo = int(hits[0]) - margin[axis]
        hi = int(hits[-1]) + margin[axis] + 1
        out.append(slice(max(lo, 0), min(hi, mask.shape[axis])))
    return (out[0], out[1], out[2])


def _new_axis_grid(n_old: int, old_mm: float, new_mm: float) -> tuple[int, float, float]:
    """Return size, first position (old index units) and step of the IBSI-aligned axis.

    IBSI 1 section 2.4: the new grid has ``ceil(n·s_old/s_new)`` points and its centre
    coincides with the centre of the old grid.
    """
    n_new = int(np.ceil(np.round(n_old * old_mm / new_mm, 6)))
    step = new_mm / old_mm
    first = (n_old - 1) / 2.0 - (n_new - 1) / 2.0 * step
    return n_new, first, step


_ORDER: dict[str, Literal[0, 1, 3]] = {"nearest": 0, "linear": 1, "cubic": 3}


def resample_to_grid(
    image: npt.NDArray[np.float64],
    mask: npt.NDArray[np.bool_],
    *,
    spacing_mm: tuple[float, float, float],
    new_spacing_mm: tuple[float, float, float],
    interpolation: str,
    mask_interpolation: str,
    mask_threshold: float,
    margin_mm: float,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_], npt.NDArray[np.float64]]:
    """Interpolate image and mask onto the IBSI grid-centre-aligned grid, near the ROI only.

    Parameters
    ----------
    image
        Intensities, ``(z, y, x)``.
    mask
        ROI mask, bool, same shape.
    spacing_mm, new_spacing_mm
        Old and new voxel size in mm, ``(z, y, x)``.
    interpolation, mask_interpolation
        ``nearest``, ``linear`` or ``cubic`` (B-spline).
    mask_threshold
        Partial-volume threshold of the interpolated mask.
    margin_mm
        Distance around the ROI that the returned crop covers.

    Returns
    -------
    image, mask, origin
        Interpolated crop (float64), thresholded mask (bool), and the position of the crop's
        first voxel in old index units ``(z, y, x)`` (float64).

    Notes
    -----
    Image values outside the old grid take the nearest edge value; mask values outside it
    are 0. IBSI 1 section 2.4 (interpolation) and 2.4.1 (ROI mask interpolation).
    """
    firsts, steps, sizes = [], [], []
    for n_old, s_old, s_new in zip(image.shape, spacing_mm, new_spacing_mm, strict=True):
        n_new, first, step = _new_axis_grid(int(n_old), s_old, s_new)
        firsts.append(first)
        steps.append(step)
        sizes.append(n_new)
    margin_old = tuple(int(np.ceil(margin_mm / s)) + SPLINE_MARGIN_VOXELS for s in spacing_mm)
    box = _bounding_box(mask, (margin_old[0], margin_old[1], margin_old[2]))
    # New-grid indices whose positions fall inside the ROI box (plus the wanted margin).
    new_lo, new_hi = [], []
    for axis in range(3):
        roi_lo = box[axis].start + SPLINE_MARGIN_VOXELS if box[axis].start > 0 else 0
        roi_hi = box[axis].stop - 1 - SPLINE_MARGIN_VOXELS
        if box[axis].stop == image.shape[axis]:
            roi_hi = image.shape[axis] - 1
        lo = int(np.ceil((roi_lo - firsts[axis]) / steps[axis] - 1e-9))
        hi = int(np.floor((roi_hi - firsts[axis]) / steps[axis] + 1e-9))
        if box[axis].start == 0:
            lo = 0
        if box[axis].stop == image.shape[axis]:
            hi = sizes[axis] - 1
        new_lo.append(max(lo, 0))
        new_hi.append(min(hi, sizes[axis] - 1))
    shape = (new_hi[0] - new_lo[0] + 1, new_hi[1] - new_lo[1] + 1, new_hi[2] - new_lo[2] + 1)
    origin = np.array([firsts[a] + new_lo[a] * steps[a] for a in range(3)], dtype=np.float64)
    offset = origin - np.array([b.start for b in box], dtype=np.float64)
    import scipy.ndimage as ndi  # ~0.2 s to import: only when resampling

    src = np.asarray(image[box], dtype=np.float64)
    out_image = ndi.affine_transform(
        src,
        np.asarray(steps),
        offset=offset,
        output_shape=shape,
        order=_ORDER[interpolation],
        mode="nearest",
    )
    src_mask = np.asarray(mask[box], dtype=np.float64)
    out_mask = ndi.affine_transform(
        src_mask,
        np.asarray(steps),
        offset=offset,
        output_shape=shape,
        order=_ORDER[mask_interpolation],
        mode="grid-constant",
        cval=0.0,
    )
    # Mask values of exactly 0.5 are common (e.g. 3 mm slices onto a 2 mm grid); rounding keeps
    # float noise in the geometry (3.0 vs 2.9999999999998 mm) from flipping them.
    in_roi = np.round(out_mask, MASK_DECIMALS) >= mask_threshold
    return out_image, in_roi, origin


def discretise(
    values: npt.NDArray[np.float64],
    settings: DiscretisationSettings,
    *,
    range_min: float | None = None,
) -> tuple[npt.NDArray[np.int64], int]:
    """Discretise ROI intensities into grey levels ``1..N_g`` (IBSI 1 section 2.7).

    Parameters
    ----------
    values
        Intensities of the ROI voxels (any shape).
    settings
        Discretisation method and its parameter.
    range_min
        Lower bound of the re-segmentation range, the default lower edge of fixed-bin-size
        discretisation.

    Returns
    -------
    levels, n_levels
        Grey levels (int64, same shape) and ``N_g``: the bin number for fixed bin number,
        the highest occupied bin for fixed bin size and no discretisation.

    Raises
    ------
    NotComputableError
        For ``none`` when the values are not integers >= 1.

    Examples
    --------
    >>> from nenscope.radiomics.settings import DiscretisationMethod as M
    >>> lv, n = discretise(np.array([0.0, 0.5, 1.0]), DiscretisationSettings(
    ...     method=M.FIXED_BIN_NUMBER, bins=4))
    >>> lv.tolist(), n
    ([1, 3, 4], 4)
    """
    x = np.asarray(values, dtype=np.float64)
    if settings.method is DiscretisationMethod.FIXED_BIN_NUMBER:
        n_bins = int(settings.bins or 1)
        lo, hi = float(x.min()), float(x.max())
        d = np.floor(n_bins * (x - lo) / (hi - lo)) + 1.0 if hi > lo else np.ones_like(x)
        return np.clip(d, 1, n_bins).astype(np.int64), n_bins
    if settings.method is DiscretisationMethod.FIXED_BIN_SIZE:
        lower = settings.lower_bound
        if lower is None:
            lower = range_min if range_min is not None else float(x.min())
        width = float(settings.bin_size or 1.0)
        d = np.maximum(np.floor((x - lower) / width) + 1.0, 1.0)
        levels = d.astype(np.int64)
        return levels, int(levels.max())
    if not np.all(np.mod(x, 1.0) == 0.0) or float(x.min()) < 1.0:
        raise NotComputableError(
            "Discretisation 'none' needs integer intensities >= 1 in the ROI (found "
            f"min {float(x.min())}); configure fixed-bin-size or fixed-bin-number."
        )
    levels = x.astype(np.int64)
    return levels, int(levels.max())


def ivh_discretise(
    values: npt.NDArray[np.float64],
    settings: DiscretisationSettings,
    *,
    range_min: float | None = None,
    range_max: float | None = None,
) -> tuple[npt.NDArray[np.float64], float, float, float]:
    """Discretised values, total range and interval of the intensity-volume histogram.

    Parameters
    ----------
    values
        ROI intensities (1-D).
    settings
        IVH discretisation.
    range_min, range_max
        Re-segmentation range (``None`` = open).

    Returns
    -------
    values, g_min, g_max, step
        Discretised values ``X_d,gl`` (float64), the total range ``G = [g_min, g_max]`` and
        the discretisation interval ``w_d``.

    Notes
    -----
    IBSI 1 section 3.5: the discrete case (``none``, e.g. CT in HU) uses the intensities with
    ``w_d = 1`` and ``G`` the re-segmentation range (open ends from the ROI); fixed bin size
    replaces each value by its bin centre and ``G = [X_min + w/2, X_max - w/2]``; fixed bin
    number uses the bin numbers with ``G = [1, N_g]``.
    """
    x = np.asarray(values, dtype=np.float64)
    if settings.method is DiscretisationMethod.FIXED_BIN_NUMBER:
        levels, n_bins = discretise(x, settings)
        return levels.astype(np.float64), 1.0, float(n_bins), 1.0
    if settings.method is DiscretisationMethod.FIXED_BIN_SIZE:
        width = float(settings.bin_size or 1.0)
        x_min = settings.lower_bound
        if x_min is None:
            x_min = range_min if range_min is not None else float(x.min())
        x_max = range_max if range_max is not None else float(x.max())
        d = np.maximum(np.floor((x - x_min) / width) + 1.0, 1.0)
        centres = x_min + (d - 0.5) * width
        return centres, x_min + 0.5 * width, x_max - 0.5 * width, width
    g_min = range_min if range_min is not None else float(x.min())
    g_max = range_max if range_max is not None else float(x.max())
    return x.copy(), g_min, g_max, 1.0


def resegment(
    image: npt.NDArray[np.float64],
    mask: npt.NDArray[np.bool_],
    settings: ResegmentSettings,
) -> npt.NDArray[np.bool_]:
    """Intensity mask after re-segmentation by range, then by outliers (IBSI 1 section 2.5).

    Parameters
    ----------
    image
        Intensities, ``(z, y, x)``.
    mask
        Morphological mask, bool, same shape.
    settings
        Range and outlier settings.

    Returns
    -------
    numpy.ndarray
        New bool mask; the inputs are not modified.

    Notes
    -----
    Outliers are voxels outside ``mean ± k·sd`` (population standard deviation) of the ROI
    after the range step.

    Examples
    --------
    >>> img = np.arange(5.0).reshape(1, 1, 5)
    >>> resegment(img, img >= 0, ResegmentSettings(range_min=1.0, range_max=3.0)).sum()
    np.int64(3)
    """
    out = mask.copy()
    if settings.range_min is not None:
        out &= image >= settings.range_min
    if settings.range_max is not None:
        out &= image <= settings.range_max
    if settings.outlier_sigma is not None and out.any():
        vals = image[out]
        mean, sd = float(vals.mean()), float(vals.std())
        k = settings.outlier_sigma
        out &= (image >= mean - k * sd) & (image <= mean + k * sd)
    return out


def target_spacing(
    spacing_mm: tuple[float, float, float], resample: ResampleSettings | None
) -> tuple[float, float, float]:
    """Voxel size ``(z, y, x)`` in mm after the configured interpolation (if any).

    Examples
    --------
    >>> target_spacing((3.0, 0.8, 0.8), ResampleSettings(spacing_mm=(2.0, 2.0, None)))
    (3.0, 2.0, 2.0)
    """
    if resample is None:
        return spacing_mm
    sx, sy, sz = resample.spacing_mm
    return (
        sz if sz is not None else spacing_mm[0],
        sy if sy is not None else spacing_mm[1],
        sx if sx is not None else spacing_mm[2],
    )


def _processed_crop(
    image: npt.NDArray[np.float64],
    mask: npt.NDArray[np.bool_],
    spacing_mm: tuple[float, float, float],
    resample: ResampleSettings | None,
    *,
    margin_mm: float = LOCAL_PEAK_RADIUS_MM,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_], tuple[float, float, float]]:
    """Interpolate (if configured) and crop around the ROI with ``margin_mm`` around it.

    The default margin leaves room for the peak sphere; IBSI 2 filters need their support
    (:data:`WHOLE_IMAGE_MM` keeps the whole image, for filters that depend on its size).
    """
    if resample is None:
        margin = tuple(int(np.ceil(margin_mm / s)) + 1 for s in spacing_mm)
        box = _bounding_box(mask, (margin[0], margin[1], margin[2]))
        return np.array(image[box], dtype=np.float64), mask[box].copy(), spacing_mm
    new_spacing = target_spacing(spacing_mm, resample)
    out_image, out_mask, _ = resample_to_grid(
        image,
        mask,
        spacing_mm=spacing_mm,
        new_spacing_mm=new_spacing,
        interpolation=resample.interpolation.value,
        mask_interpolation=resample.mask_interpolation.value,
        mask_threshold=resample.mask_threshold,
        margin_mm=margin_mm + 2.0 * max(new_spacing),
    )
    if resample.round_intensities:
        out_image = np.round(out_image)
    return out_image, out_mask, new_spacing


def prepare_roi(
    image: npt.NDArray[np.generic],
    mask: npt.NDArray[np.bool_],
    *,
    spacing_mm: tuple[float, float, float],
    settings: RadiomicsSettings,
) -> PreparedRoi:
    """Run the IBSI processing chain on one ROI.

    Parameters
    ----------
    image
        Intensities, ``(z, y, x)``, any real dtype (converted to float64; not modified).
    mask
        ROI mask, bool, same shape.
    spacing_mm
        Voxel size in mm, ``(z, y, x)``.
    settings
        Processing settings.

    Returns
    -------
    PreparedRoi
        The processed crop.

    Raises
    ------
    GeometryError
        If image and mask shapes differ.
    EmptyRegionError
        If the ROI is empty before or after interpolation or re-segmentation.
    """
    # Converted to float64 only after cropping: a whole PET volume is ~100 MB in float64.
    img = np.asarray(image)
    roi = np.asarray(mask, dtype=bool)
    if img.shape != roi.shape or img.ndim != 3:
        raise GeometryError(
            f"Image and mask must be 3-D arrays of the same shape, got {img.shape} and "
            f"{roi.shape}."
        )
    if not roi.any():
        raise EmptyRegionError("The ROI mask is empty: no voxel to compute features on.")
    crop, morph_mask, new_spacing = _processed_crop(img, roi, spacing_mm, settings.resample)
    if not morph_mask.any():
        raise EmptyRegionError(
            "The ROI is empty after interpolation to the configured grid (it is smaller than "
            "the partial-volume threshold allows); use a finer spacing or no resampling."
        )
    reseg = settings.resegment or ResegmentSettings()
    int_mask = resegment(crop, morph_mask, reseg)
    if not int_mask.any():
        raise EmptyRegionError(
            f"No ROI voxel is left after re-segmentation to range "
            f"[{reseg.range_min}, {reseg.range_max}] (outlier_sigma {reseg.outlier_sigma})."
        )
    values = crop[int_mask]
    lv, n_levels = discretise(values, settings.texture_discretisation, range_min=reseg.range_min)
    levels = np.zeros(crop.shape, dtype=np.int64)
    levels[int_mask] = lv
    ivh_vals, g_min, g_max, step = ivh_discretise(
        values,
        settings.ivh_discretisation,
        range_min=reseg.range_min,
        range_max=reseg.range_max,
    )
    ivh_values = np.zeros(crop.shape, dtype=np.float64)
    ivh_values[int_mask] = ivh_vals
    return PreparedRoi(
        image=crop,
        morph_mask=morph_mask,
        int_mask=int_mask,
        levels=levels,
        n_levels=n_levels,
        ivh_values=ivh_values,
        ivh_min=g_min,
        ivh_max=g_max,
        ivh_step=step,
        spacing_mm=new_spacing,
        approach=settings.approach,
    )
