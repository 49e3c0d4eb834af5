"""Automatic lesion detection by thresholds and semi-automatic segmentation from a seed.

Detection (:func:`threshold_lesions`) runs in four steps:

1. **Candidates**: voxels above the detection threshold — a fixed SUV, a percentage of the image
   SUVmax (outside excluded organs), the PERCIST liver threshold 1.5 × liver SUVmean + 2 SD
   (Wahl et al., J Nucl Med 2009;50 Suppl 1:122S, "measurable lesion"), or a fraction of the
   liver SUVmean (default 0.5: the Krenning grade 1/2 boundary of
   :mod:`nenscope.scoring.krenning`, so SSTR lesions of Krenning ≥ 2 are detected while
   physiological pancreas or blood-pool uptake below half the liver is not). Inside the liver mask,
   when liver-adaptive detection is on, the threshold is raised to the PERCIST liver threshold,
   so that metastases stand out from the normal liver but the liver itself is not reported.
2. **Physiological uptake** masks (given organ masks, or the automatic estimate of
   :func:`nenscope.segmentation.estimate_organs`) are removed.
3. **Connected components** (26-connectivity); components smaller than a quarter of the
   minimum volume are dropped before delineation (noise).
4. **Delineation** of each component on its bounding box: background-corrected contour
   ``B + f (P − B)`` (B = median SUV of a 2–4-voxel shell around the candidate, f = 0.5 by
   default), a plain ``f × P`` contour, or none (the candidate itself); ``P`` is the highest
   3×3×3 local mean in the candidate (robust to single noisy voxels). The region is the
   connected part that holds that peak. Regions below ``min_volume_ml`` are dropped.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from nenscope.core import (
    EmptyRegionError,
    GeometryError,
    ImageVolume,
    NotComputableError,
    parse_option,
)
from nenscope.core.errors import InvalidArgumentError
from nenscope.segmentation._labels import bounding_box, label_counts
from nenscope.segmentation._peaks import split_basins

__all__ = [
    "Delineation",
    "DetectionSettings",
    "LesionSegmentation",
    "SplitGroup",
    "ThresholdMethod",
    "grow_mask_mm",
    "percist_liver_threshold",
    "region_grow_from_seed",
    "threshold_lesions",
]

STRUCTURE_26 = np.ones((3, 3, 3), dtype=bool)
"""Full 3-D neighbourhood: voxels touching by a face, an edge or a corner are connected."""

SHELL_INNER_VOXELS = 2
"""Background shell starts this many dilations outside the candidate (beyond the blur halo)."""

SHELL_OUTER_VOXELS = 4
"""Background shell ends this many dilations outside the candidate."""

SPILL_MARGIN_MM = 10.0
"""Default margin in mm around organ masks that PET blur spills activity into."""

SEED_START_FRACTION = 0.7
"""Seed growing starts from the region above this fraction of the local maximum."""

SEED_ITERATIONS = 5
"""Seed growing re-delineates from the current region's background at most this often."""

CROP_MARGIN_MM = 15.0
"""Margin in mm around a candidate's bounding box within which its contour may grow."""


class ThresholdMethod(StrEnum):
    """How the detection threshold is chosen."""

    FIXED = "fixed"
    PERCENT_MAX = "percent-max"
    PERCIST_LIVER = "percist-liver"
    LIVER_FRACTION = "liver-fraction"


class Delineation(StrEnum):
    """How each detected candidate is delineated."""

    NONE = "none"
    PERCENT_LESION_MAX = "percent-lesion-max"
    BACKGROUND_CORRECTED = "background-corrected"


@dataclass(frozen=True, slots=True, kw_only=True)
class DetectionSettings:
    """Options of :func:`threshold_lesions`.

    Attributes
    ----------
    method
        Detection threshold: fixed SUV, percent of the image SUVmax, or PERCIST liver.
    suv_threshold
        SUV for ``FIXED`` (default 2.5, above typical blood pool and soft tissue on SSTR PET).
    percent_of_max
        Percent of SUVmax (outside excluded organs) for ``PERCENT_MAX``, in (0, 100].
    liver_fraction
        Fraction of the liver SUVmean for ``LIVER_FRACTION``, > 0.
    min_volume_ml
        Lesions smaller than this after delineation are dropped, mL.
    delineation
        Contour method (see module docstring).
    delineation_fraction
        ``f`` of the contour, in (0, 1).
    liver_adaptive
        Use the PERCIST liver threshold inside the liver mask (needs liver mean and SD).
    spill_margin_mm
        Excluded organs and the liver mask are grown by this distance (mm) before use, so that
        the blurred edge of an organ (partial-volume spill-out) is not detected as a lesion.
    percist_measurable
        On FDG, keep only candidates whose SUVpeak reaches the PERCIST measurable level
        (1.5 × liver mean + 2 SD). Off for NETPET's FDG study, where every lesion above the
        liver counts as FDG-positive.
    split_prominence
        A component with several peaks (a node joined at threshold to a ureter or an organ)
        is split into the basins of the peaks that rise at least this fraction of their
        height above the detection level over the pass to a higher peak (and at least
        ``SPLIT_MIN_PROMINENCE_SUV``); each basin is delineated on its own. 0 = one contour
        per component (the hottest part only).
    """

    method: ThresholdMethod = ThresholdMethod.FIXED
    suv_threshold: float = 2.5
    percent_of_max: float = 40.0
    liver_fraction: float = 0.5
    min_volume_ml: float = 0.5
    delineation: Delineation = Delineation.BACKGROUND_CORRECTED
    delineation_fraction: float = 0.5
    liver_adaptive: bool = True
    spill_margin_mm: float = SPILL_MARGIN_MM
    percist_measurable: bool = True
    split_prominence: float = 0.3

    def __post_init__(self) -> None:
        # Accept the option strings too ("fixed", "background-corrected", ...).
        object.__setattr__(self, "method", parse_option(self.method, ThresholdMethod))
        object.__setattr__(self, "delineation", parse_option(self.delineation, Delineation))
        if not (self.suv_threshold > 0.0 and math.isfinite(self.suv_threshold)):
            raise InvalidArgumentError(
                f"suv_threshold must be a finite SUV > 0, got {self.suv_threshold}; a threshold "
                "at or below 0 selects the whole body."
            )
        if not self.liver_fraction > 0.0:
            raise InvalidArgumentError(f"liver_fraction must be > 0, got {self.liver_fraction}.")
        if not 0.0 < self.percent_of_max <= 100.0:
            raise InvalidArgumentError(
                f"percent_of_max must be in (0, 100], got {self.percent_of_max}."
            )
        if not (0.0 <= self.split_prominence < 1.0):
            raise InvalidArgumentError(
                f"split_prominence must be in [0, 1), got {self.split_prominence}."
            )
        if not 0.0 < self.delineation_fraction < 1.0:
            raise InvalidArgumentError(
                f"delineation_fraction must be in (0, 1), got {self.delineation_fraction}."
            )
        if self.min_volume_ml < 0:
            raise InvalidArgumentError(f"min_volume_ml must be >= 0, got {self.min_volume_ml}.")
        if self.spill_margin_mm < 0:
            raise InvalidArgumentError(
                f"spill_margin_mm must be >= 0, got {self.spill_margin_mm}."
            )


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class SplitGroup:
    """One thresholded component split into the basins of its peaks.

    Attributes
    ----------
    box
        The component's crop (slices of the image).
    whole
        Bool (crop): the single contour the component would have had without splitting
        (around its hottest peak).
    members
        ``(label, basin)`` of the parts that became lesion labels, hottest first; ``basin`` is
        the bool (crop) part of the component that drained to that peak.
    """

    box: tuple[slice, ...]
    whole: npt.NDArray[np.bool_]
    members: tuple[tuple[int, npt.NDArray[np.bool_]], ...]


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class LesionSegmentation:
    """Result of :func:`threshold_lesions`.

    Attributes
    ----------
    labels
        uint32 label map (z, y, x), 0 = background, lesions 1..n in order of decreasing SUVmax.
    threshold
        Detection threshold used outside the liver, SUV.
    liver_threshold
        Threshold used inside the liver mask, SUV, or None when not liver-adaptive.
    excluded
        Bool mask (z, y, x) of the physiological uptake removed before detection (the organ
        masks grown by the spill margin).
    excluded_organs
        Names of the excluded organ masks.
    method
        Detection threshold method.
    groups
        With ``split=True``: the components that were split into several peaks
        (:class:`SplitGroup`), so that :func:`reunite_split` can join the parts again.
    candidates
        Label map (z, y, x) of the connected regions above the detection threshold (26-
        connected, excluded organs left out) from which the lesions were delineated, or None.
    candidate_voxels
        Number of voxels of each region of ``candidates`` (index = region label), or None.
        A contour that keeps a small part of its region (a large, heterogeneous tumour cut at
        50 % of its peak) likely underestimates the lesion's volume.
    """

    labels: npt.NDArray[np.uint32]
    threshold: float
    liver_threshold: float | None
    excluded: npt.NDArray[np.bool_]
    excluded_organs: tuple[str, ...]
    method: ThresholdMethod
    groups: tuple[SplitGroup, ...] = ()
    candidates: npt.NDArray[np.integer[Any]] | None = None
    candidate_voxels: npt.NDArray[np.integer[Any]] | None = None

    @property
    def n_lesions(self) -> int:
        """Number of lesions in ``labels``."""
        return int(self.labels.max()) if self.labels.size else 0


def percist_liver_threshold(liver_mean: float, liver_sd: float) -> float:
    """PERCIST 1.0 minimum measurable SULpeak: ``1.5 × liver mean + 2 × liver SD``.

    Parameters
    ----------
    liver_mean, liver_sd
        Mean and SD in the 3 cm right-lobe liver sphere (same unit as the image).

    References
    ----------
    Wahl RL, Jacene H, Kasamon Y, Lodge MA. J Nucl Med 2009;50 Suppl 1:122S-150S (Table 6).

    Examples
    --------
    >>> percist_liver_threshold(2.0, 0.3)
    3.6
    """
    if liver_mean <= 0 or liver_sd < 0:
        raise InvalidArgumentError(
            f"Liver mean must be > 0 and SD >= 0, got {liver_mean}, {liver_sd}."
        )
    return 1.5 * liver_mean + 2.0 * liver_sd


def _check_masks(
    shape: tuple[int, ...], masks: Mapping[str, npt.NDArray[np.bool_]]
) -> dict[str, npt.NDArray[np.bool_]]:
    out = {}
    for name, mask in masks.items():
        arr = np.asarray(mask, dtype=bool)
        if arr.shape != shape:
            raise GeometryError(f"Mask '{name}' has shape {arr.shape}; the image has {shape}.")
        out[name] = arr
    return out


def grow_mask_mm(
    mask: npt.NDArray[np.bool_], spacing_mm: Sequence[float], margin_mm: float
) -> npt.NDArray[np.bool_]:
    """Voxels within ``margin_mm`` (Euclidean, in mm) of ``mask``; computed on its bounding box.

    Parameters
    ----------
    mask
        Bool mask (z, y, x).
    spacing_mm
        Voxel size (z, y, x) in mm.
    margin_mm
        Growth distance in mm, >= 0.

    Returns
    -------
    numpy.ndarray
        New bool mask, same shape.

    Examples
    --------
    >>> import numpy as np
    >>> m = np.zeros((1, 1, 7), dtype=bool); m[0, 0, 3] = True
    >>> grow_mask_mm(m, (1.0, 1.0, 2.0), 4.0).astype(int).tolist()
    [[[0, 1, 1, 1, 1, 1, 0]]]
    """
    region = np.asarray(mask, dtype=bool)
    if margin_mm <= 0 or not region.any():
        return region.copy()
    margin = [int(np.ceil(margin_mm / s)) for s in spacing_mm]
    box = _crop(region.shape, bounding_box(region), margin)
    distance = ndimage.distance_transform_edt(~region[box], sampling=spacing_mm)
    out = np.zeros_like(region)
    out[box] = np.asarray(distance) <= margin_mm
    return out


def _detection_threshold(
    values: npt.NDArray[np.float64],
    allowed: npt.NDArray[np.bool_],
    settings: DetectionSettings,
    liver: tuple[float, float] | None,
) -> float:
    if settings.method is ThresholdMethod.FIXED:
        return settings.suv_threshold
    if settings.method is ThresholdMethod.PERCENT_MAX:
        if not allowed.any():
            raise EmptyRegionError("Every voxel is excluded; no SUVmax to take a percentage of.")
        return float(values[allowed].max()) * settings.percent_of_max / 100.0
    if liver is None:
        raise NotComputableError(
            f"The {settings.method} threshold needs the liver reference mean and SD; place the "
            "liver reference region first or choose a fixed threshold."
        )
    if settings.method is ThresholdMethod.LIVER_FRACTION:
        return settings.liver_fraction * liver[0]
    return percist_liver_threshold(*liver)


def _crop(
    shape: Sequence[int], box: tuple[slice, ...], margin: Sequence[int]
) -> tuple[slice, ...]:
    return tuple(
        slice(max(s.start - m, 0), min(s.stop + m, n))
        for s, m, n in zip(box, margin, shape, strict=True)
    )


def _bounding_box(mask: npt.NDArray[np.bool_], margin: int) -> tuple[slice, ...]:
    """Bounding box of the True voxels grown by ``margin`` voxels, clipped to the array."""
    box = []
    for axis in range(mask.ndim):
        others = tuple(a for a in range(mask.ndim) if a != axis)
        hits = np.flatnonzero(mask.any(axis=others))
        if hits.size == 0:
            return tuple(slice(0, n) for n in mask.shape)
        box.append(
            slice(max(int(hits[0]) - margin, 0), min(int(hits[-1]) + margin + 1, mask.shape[axis]))
        )
    return tuple(box)


def _delineate(
    values: npt.NDArray[np.float64],
    candidate: npt.NDArray[np.bool_],
    allowed: npt.NDArray[np.bool_],
    settings: DetectionSettings,
    grow: npt.NDArray[np.bool_] | None = None,
) -> npt.NDArray[np.bool_]:
    """Contour of one candidate on its crop; returns the connected part holding its max.

    ``grow`` (optional) limits where the contour may extend, not where its background shell
    is measured (the normal liver is background, never contour).
    """
    if settings.delineation is Delineation.NONE:
        return candidate
    # The contour level uses a noise-robust peak: the 3×3×3 local mean, highest in the
    # candidate (a single noisy voxel would raise the level and shrink the contour).
    smooth = ndimage.uniform_filter(values, size=3, mode="nearest")
    inside = np.where(candidate, smooth, -np.inf)
    peak_index = np.unravel_index(int(np.argmax(inside)), values.shape)
    peak = float(smooth[peak_index])
    f = settings.delineation_fraction
    if settings.delineation is Delineation.PERCENT_LESION_MAX:
        level = f * peak
    else:
        # The shell lies within SHELL_INNER + SHELL_OUTER voxels of the candidate: dilate on
        # the candidate's bounding box grown by that much (the same voxels as on the whole
        # crop, at a fraction of the cost for a small lesion in a large crop).
        box = _bounding_box(candidate, SHELL_INNER_VOXELS + SHELL_OUTER_VOXELS + 1)
        near = ndimage.binary_dilation(candidate[box], STRUCTURE_26, iterations=SHELL_INNER_VOXELS)
        far = ndimage.binary_dilation(near, STRUCTURE_26, iterations=SHELL_OUTER_VOXELS)
        shell = far & ~near & allowed[box]
        background = float(np.median(values[box][shell])) if shell.any() else 0.0
        level = background + f * (peak - background)
    above = (values >= level) & allowed
    if grow is not None:
        above &= grow | candidate
    labels, _ = ndimage.label(above, STRUCTURE_26)
    return np.asarray(labels == labels[peak_index])


LIVER_CONTOUR_SD = 3.0
"""In the liver zone a contour keeps voxels above liver mean + this many liver SDs only."""

SPLIT_MIN_PROMINENCE_SUV = 1.0
"""Smallest rise (SUV) of a peak over its pass for it to be split off (noise bumps are not)."""


def _peak_parts(
    values: npt.NDArray[np.float64],
    candidate: npt.NDArray[np.bool_],
    allowed: npt.NDArray[np.bool_],
    floor: float,
    settings: DetectionSettings,
    min_voxels: float,
) -> list[tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]]:
    """Return the candidate's peak basins, each with where its contour may grow."""
    if settings.split_prominence <= 0 or np.count_nonzero(candidate) < 2 * min_voxels:
        return [(candidate, allowed)]
    parts = split_basins(
        ndimage.uniform_filter(values, size=3, mode="nearest"),
        candidate,
        floor=floor,
        prominence_fraction=settings.split_prominence,
        min_prominence=SPLIT_MIN_PROMINENCE_SUV,
    )
    if len(parts) == 1:
        return [(candidate, allowed)]
    return [(part, allowed & ~(candidate & ~part)) for part in parts]


def threshold_lesions(
    suv: ImageVolume,
    *,
    settings: DetectionSettings | None = None,
    exclude: Mapping[str, npt.NDArray[np.bool_]] | None = None,
    liver_mask: npt.NDArray[np.bool_] | None = None,
    liver_reference: tuple[float, float] | None = None,
    split: bool = False,
    liver_contour_floor: bool = False,
) -> LesionSegmentation:
    """Detect lesions on an SUV image (see the module docstring for the method).

    Parameters
    ----------
    suv
        SUV image (z, y, x).
    settings
        Detection options; defaults to :class:`DetectionSettings()`.
    exclude
        Physiological-uptake masks (name → bool (z, y, x)) removed before detection: kidneys,
        bladder, spleen, brain, heart, ... Lesions inside them are not detected.
    liver_mask
        Liver organ mask (bool, z, y, x). With ``liver_reference`` and ``liver_adaptive`` the
        PERCIST liver threshold applies inside it; the liver is never excluded as a whole.
    liver_reference
        ``(mean, sd)`` of the liver reference region (SUV).
    liver_contour_floor
        Inside the liver zone, let contours grow only into voxels above the liver reference
        mean + ``LIVER_CONTOUR_SD`` SD (an avid liver, SSTR: a faint structure on its edge has
        a contour level close to the liver's uptake). Not used on FDG: on the real ACRIN study
        it turned 7 candidates into 11.
    split
        Split components with several prominent peaks (``settings.split_prominence``) into
        one lesion label per peak and record them in ``groups``; the caller decides which
        parts are physiological and joins the rest again with :func:`reunite_split`.

    Returns
    -------
    LesionSegmentation
        Label map (uint32) with lesions ordered by decreasing SUVmax, and the thresholds used.

    Raises
    ------
    NotComputableError
        If the PERCIST method is chosen without a liver reference.
    GeometryError
        If a mask does not have the image's shape.
    """
    settings = DetectionSettings() if settings is None else settings
    values = np.asarray(suv.array, dtype=np.float64)
    masks = _check_masks(suv.shape, exclude or {})
    excluded = np.zeros(suv.shape, dtype=bool)
    for mask in masks.values():
        excluded |= grow_mask_mm(mask, suv.spacing_mm, settings.spill_margin_mm)
    allowed = ~excluded
    threshold = _detection_threshold(values, allowed, settings, liver_reference)
    liver_threshold = None
    liver_zone = None
    # Each voxel's detection level: ``threshold``, ``liver_threshold`` in the liver zone (no
    # float64 grid of levels: compared here, and built on each candidate's box below).
    candidates = values > threshold
    if settings.liver_adaptive and liver_mask is not None and liver_reference is not None:
        liver = _check_masks(suv.shape, {"liver": liver_mask})["liver"]
        liver_zone = grow_mask_mm(liver, suv.spacing_mm, settings.spill_margin_mm)
        liver_threshold = max(threshold, percist_liver_threshold(*liver_reference))
        candidates[liver_zone] = values[liver_zone] > liver_threshold
    candidates &= allowed
    # With liver_contour_floor, inside the liver zone a contour never takes in normal liver:
    # its voxels must lie above the liver reference mean + LIVER_CONTOUR_SD SD.
    liver_floor = (
        None
        if liver_zone is None or liver_reference is None or not liver_contour_floor
        else liver_reference[0] + LIVER_CONTOUR_SD * liver_reference[1]
    )
    labels, groups, components, voxels = _label_and_delineate(
        suv,
        values,
        candidates,
        allowed,
        (threshold, liver_threshold),
        settings,
        liver_zone=liver_zone,
        liver_floor=liver_floor,
        split=split,
    )
    return LesionSegmentation(
        groups=groups,
        labels=labels,
        threshold=threshold,
        liver_threshold=liver_threshold,
        excluded=excluded,
        excluded_organs=tuple(masks),
        method=settings.method,
        candidates=components,
        candidate_voxels=voxels,
    )


def _label_in_box(
    candidates: npt.NDArray[np.bool_],
) -> tuple[npt.NDArray[np.integer[Any]], int, list[tuple[slice, ...]]]:
    """``ndimage.label(candidates, STRUCTURE_26)`` and ``find_objects`` of it, on the box only.

    The candidates' bounding box holds every component and keeps the raster order of their
    voxels, so the labels and their numbering are those of the whole grid; each component's
    box is given in the grid's indices.
    """
    if not candidates.any():
        components, n = ndimage.label(candidates, STRUCTURE_26)
        return components, int(n), []
    box = bounding_box(candidates)
    sub, n = ndimage.label(candidates[box], STRUCTURE_26)
    components = np.zeros(candidates.shape, dtype=sub.dtype)
    components[box] = sub
    # ndimage.label numbers 1..n without gaps: every label has a box.
    boxes = [
        tuple(
            slice(inner.start + outer.start, inner.stop + outer.start)
            for inner, outer in zip(found, box, strict=True)
        )
        for found in ndimage.find_objects(sub)
    ]
    return components, int(n), boxes


def _label_and_delineate(  # noqa: C901, PLR0913 - one pass: label, split, delineate, number
    suv: ImageVolume,
    values: npt.NDArray[np.float64],
    candidates: npt.NDArray[np.bool_],
    allowed: npt.NDArray[np.bool_],
    thresholds: tuple[float, float | None],
    settings: DetectionSettings,
    *,
    liver_zone: npt.NDArray[np.bool_] | None = None,
    liver_floor: float | None = None,
    split: bool = False,
) -> tuple[
    npt.NDArray[np.uint32],
    tuple[SplitGroup, ...],
    npt.NDArray[np.integer[Any]],
    npt.NDArray[np.integer[Any]],
]:
    """Label the lesions: label map, split groups, candidate regions and their voxel counts.

    ``thresholds``: the detection threshold and the one inside ``liver_zone`` (or None).
    """
    components, n, boxes = _label_in_box(candidates)
    voxels = label_counts(components, minlength=n + 1)
    sizes_ml = voxels * suv.voxel_volume_ml
    keep = np.flatnonzero(sizes_ml >= settings.min_volume_ml / 4.0)
    keep = keep[keep > 0]
    margin = [int(np.ceil(CROP_MARGIN_MM / s)) for s in suv.spacing_mm]
    regions: list[tuple[float, tuple[slice, ...], npt.NDArray[np.bool_], float]] = []
    # Split components: (box, whole contour, [(index in regions, basin)]).
    split_parts: list[tuple[tuple[slice, ...], npt.NDArray[np.bool_], list[tuple[int, Any]]]] = []
    min_voxels = settings.min_volume_ml / suv.voxel_volume_ml
    for index in keep:
        box = _crop(suv.shape, boxes[index - 1], margin)
        # A contour may grow only into voxels whose own detection threshold is not stricter
        # than the lowest one in the candidate (so a kidney contour never spreads into the
        # liver zone), and never into excluded organs.
        candidate = components[box] == index
        level = np.full(candidate.shape, thresholds[0])
        if liver_zone is not None and thresholds[1] is not None:
            level[liver_zone[box]] = thresholds[1]
        lowest = float(level[candidate].min())
        local_allowed = allowed[box] & ((level <= lowest) | candidate)
        if liver_zone is not None:
            # The same rule when one threshold holds everywhere (PERCIST liver method): a
            # candidate that lies mostly outside the liver zone (a kidney touching the liver)
            # does not grow into it, whatever the levels.
            zone = liver_zone[box]
            if np.count_nonzero(zone & candidate) * 2 < np.count_nonzero(candidate):
                local_allowed &= ~zone | candidate
        grow = None
        if liver_zone is not None and liver_floor is not None:
            grow = ~liver_zone[box] | (values[box] > liver_floor)
        parts = (
            _peak_parts(values[box], candidate, local_allowed, lowest, settings, min_voxels)
            if split
            else [(candidate, local_allowed)]
        )
        members: list[tuple[int, Any]] = []
        for part, part_allowed in parts:
            region = _delineate(values[box], part, part_allowed, settings, grow)
            if region.sum() >= min_voxels and region.any():
                members.append((len(regions), part))
                regions.append((float(values[box][region].max()), box, region, lowest))
        if len(parts) > 1 and members:
            whole = _delineate(values[box], candidate, local_allowed, settings, grow)
            split_parts.append((box, whole, members))
    labels = np.zeros(suv.shape, dtype=np.uint32)
    # Number by decreasing SUVmax; paint the coolest first so that where two contours overlap
    # the hotter lesion keeps the voxels.
    order = sorted(range(len(regions)), key=lambda i: -regions[i][0])
    number_of = {i: k + 1 for k, i in enumerate(order)}
    regions = [regions[i] for i in order]
    for number in range(len(regions), 0, -1):
        _, box, region, _ = regions[number - 1]
        labels[box][region] = number
    # What a hotter contour left of a cooler one is kept only if it is still a lesion: at least
    # the minimum volume and a voxel above its detection threshold (else it is the shoulder of
    # the hotter lesion, e.g. 0.1 mL remnants with SUVmax 0.4 under a 2.5 threshold).
    where = np.nonzero(labels)
    painted = labels[where].astype(np.intp)
    counts = np.bincount(painted, minlength=len(regions) + 1)
    maxima = np.full(len(regions) + 1, -np.inf)
    np.maximum.at(maxima, painted, values[where])
    survivors = [
        number
        for number in range(1, len(regions) + 1)
        if counts[number] >= min_voxels and maxima[number] > regions[number - 1][3]
    ]
    survivors.sort(key=lambda number: -maxima[number])
    lut = np.arange(len(regions) + 1, dtype=np.uint32)
    if survivors != list(range(1, len(regions) + 1)):
        lut = np.zeros(len(regions) + 1, dtype=np.uint32)
        lut[survivors] = np.arange(1, len(survivors) + 1, dtype=np.uint32)
        labels = lut[labels]
    groups = []
    for box, whole, found in split_parts:
        named = [(int(lut[number_of[i]]), basin) for i, basin in found]
        named = sorted((m for m in named if m[0] > 0), key=lambda m: m[0])
        if named:
            groups.append(SplitGroup(box=box, whole=whole, members=tuple(named)))
    return labels, tuple(groups), components, voxels


def reunite_split(
    segmentation: LesionSegmentation, kept: Sequence[int], *, organs: Collection[int] = ()
) -> tuple[npt.NDArray[np.uint32], list[int]]:
    """Join the kept parts of split components again; physiological parts stay out.

    A component split into peaks (``threshold_lesions(..., split=True)``) is one lesion again
    when its hottest part is kept: the contour it would have had whole, less the basins of the
    parts classed as physiological, under the hottest part's label (a lobulated tumour keeps
    its single contour). When its hottest part was identified as an organ (``organs``), the
    kept parts stay apart, each with its own contour (a node beside a ureter). When its
    hottest part is physiological for another reason (a shape or uptake-level rule: bowel,
    background), the other parts go with it, as without splitting.

    Parameters
    ----------
    segmentation
        The split segmentation.
    kept
        Labels of the parts that are not physiological.
    organs
        Labels of the parts identified as an organ.

    Returns
    -------
    tuple
        The new label map (uint32, labels of ``segmentation``) and the kept labels left.
    """
    labels = segmentation.labels.copy()
    kept_set = set(kept)
    for group in segmentation.groups:
        main = group.members[0][0]
        if main not in kept_set:
            if main not in organs:
                kept_set.difference_update(label for label, _ in group.members)
            continue
        dropped = np.zeros(group.whole.shape, dtype=bool)
        for label, basin in group.members[1:]:
            if label not in kept_set:
                dropped |= basin
        region = group.whole & ~dropped
        sub = labels[group.box]
        joined = {main}
        for label, basin in group.members[1:]:
            if label in kept_set and (basin & region).any():
                joined.add(label)
                kept_set.discard(label)
        paint = region & ((sub == 0) | np.isin(sub, sorted(joined)))
        sub[np.isin(sub, sorted(joined))] = 0
        sub[paint] = main
    return labels, [k for k in kept if k in kept_set]


def region_grow_from_seed(
    suv: ImageVolume,
    seed_mm: Sequence[float],
    *,
    search_radius_mm: float = 15.0,
    fraction: float = 0.5,
    background_corrected: bool = True,
    max_radius_mm: float = 100.0,
) -> npt.NDArray[np.bool_]:
    """Semi-automatic lesion segmentation from a seed point (local % of SUVmax).

    The hottest voxel within ``search_radius_mm`` of the seed is found; the lesion is the
    connected region (26-connectivity) of voxels ``>= B + fraction × (P − B)`` that holds
    the peak, within ``max_radius_mm`` of it (``P``: highest 3×3×3 local mean). ``B`` is the
    median of a shell 2–4 voxels around the current region when ``background_corrected``
    (else 0); the region starts as the voxels above 70 % of the maximum connected to it and is
    re-delineated until it no longer changes (at most 5 times), so a lesion inside a warm
    organ (a liver lesion at twice the liver uptake) is not grown into the whole organ.

    Parameters
    ----------
    suv
        SUV image (z, y, x).
    seed_mm
        Seed point LPS ``(x, y, z)`` mm.
    search_radius_mm
        Radius in mm around the seed in which the local maximum is searched.
    fraction
        Contour level in (0, 1).
    background_corrected
        Subtract the local background before taking the fraction.
    max_radius_mm
        The region is confined to a box of this half-width around the maximum, mm.

    Returns
    -------
    numpy.ndarray
        Bool mask (z, y, x) on the SUV grid.

    Raises
    ------
    GeometryError
        If the seed lies outside the image.
    """
    if not 0.0 < fraction < 1.0:
        raise InvalidArgumentError(f"fraction must be in (0, 1), got {fraction}.")
    seed = suv.lps_to_index(seed_mm)[0]
    if np.any(seed < -0.5) or np.any(seed > np.asarray(suv.shape) - 0.5):
        raise GeometryError(f"Seed {list(seed_mm)} mm lies outside the image grid {suv.shape}.")
    values = np.asarray(suv.array, dtype=np.float64)
    centre = np.rint(seed).astype(int)
    half = [int(np.ceil(search_radius_mm / s)) for s in suv.spacing_mm]
    box = _crop(suv.shape, tuple(slice(c, c + 1) for c in centre), half)
    peak_local = np.unravel_index(int(np.argmax(values[box])), values[box].shape)
    peak = np.array([p + b.start for p, b in zip(peak_local, box, strict=True)])
    reach = [int(np.ceil(max_radius_mm / s)) for s in suv.spacing_mm]
    crop = _crop(suv.shape, tuple(slice(p, p + 1) for p in peak), reach)
    local = values[crop]
    settings = DetectionSettings(
        delineation=Delineation.BACKGROUND_CORRECTED
        if background_corrected
        else Delineation.PERCENT_LESION_MAX,
        delineation_fraction=fraction,
    )
    at_peak = tuple(peak - [c.start for c in crop])
    # First guess at 70 % of the peak (tight, so that a lesion in a warm organ such as the
    # liver does not start as the whole organ), then re-delineate from the background of the
    # current region until the contour no longer changes.
    first = local >= SEED_START_FRACTION * local[at_peak]
    seed_labels, _ = ndimage.label(first, STRUCTURE_26)
    region = seed_labels == seed_labels[at_peak]
    everywhere = np.ones_like(region)
    for _ in range(SEED_ITERATIONS):
        grown = _delineate(local, region, everywhere, settings)
        if np.array_equal(grown, region):
            break
        region = grown
    out = np.zeros(suv.shape, dtype=bool)
    out[crop] = region
    return out
