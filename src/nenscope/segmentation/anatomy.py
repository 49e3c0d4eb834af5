"""Anatomy from the images: body, lungs, landmarks and organ zones on the PET grid (pure).

:func:`locate_anatomy` finds, for every tracer, the structures the physiological-uptake rules
and the lesion sites need. Each region is taken from the CT where the CT covers it and from the
PET alone elsewhere; :attr:`Anatomy.sources` says which, per region, for the report.

Method (every constant is a field of :class:`AnatomySettings`):

1. **CT coverage**: an axial slice is covered when at least ``min_slice_coverage`` of its
   voxels have a CT value (the resampled CT is exactly ``CT_OUTSIDE_HU`` outside its field).
2. **Body**: CT > -300 HU on covered slices; elsewhere the smoothed PET above 10 % of the
   median of its positive values; largest connected component, holes filled per slice.
3. **Lungs**: inside the hole-filled body, CT below ``lung_hu`` on covered slices; on PET-only
   slices, voxels at least ``lung_depth_mm`` inside the body whose smoothed SUV is below
   ``lung_uptake_fraction`` × the median SUV of the body's deep tissue (lung is the one large
   low-uptake organ inside the trunk on every tracer), opened with a ball of
   ``lung_opening_mm`` (the fat beside the arms and under the skin joins the lungs by thin
   bridges) and, with a liver estimate, above its dome (:func:`liver_dome_z`: the top of the
   liver's bulk, not of tissue joined to it such as the heart's blood pool). The components
   of at least ``lung_min_ml`` whose lowest slice lies at most ``lung_above_liver_mm`` above
   the dome and whose centre lies within ``lung_max_lateral_mm`` of the midline are lung
   candidates; the two largest are the lungs (the second only when at least a quarter of the
   first, or on the other side of the midline); on PET they are grown back to their low edge.
4. **Landmarks** (patient z, mm): the lung apex (top of the lungs), the diaphragm (per side,
   the lowest slice whose lung area is at least ``diaphragm_area_fraction`` of that lung's
   largest slice), the neck (the narrowest body slice between the lung apex and the top of the
   body) and the head above it. Where the CT does not cover the lung bases the liver dome
   marks the diaphragm, or the lung bases found on PET when they lie below it.
5. **Brain**: with CT over the head, everything inside the skull (> ``bone_hu``, holes filled
   per slice) above the neck; on PET alone, in the head above the neck, the avid structure
   (smoothed SUV above ``brain_fraction`` × its 99.5th percentile) opened with a ball of
   ``organ_opening_mm`` (this cuts a node or a salivary gland joined to it at threshold
   away), the largest part of at least ``brain_min_ml``; where the field of view cuts
   through the brain (a PET from the skull base), the avid structures touching the top
   slice, split at their peaks (only the basins reaching the top slice) and without a
   structure reaching ``myocardium_split_factor`` × the top slice's level (a primary or a
   node joined to the brain). Without avid brain (SSTR, DOPA) no brain mask is made:
   nothing there is then dropped as brain.
6. **Mediastinum and myocardium**: per slice between the diaphragm and the lung apex, the
   convex hull of both lungs minus the lungs is the mediastinum. The myocardium is the avid
   part (above ``myocardium_fraction`` × its 99.5th percentile) of the mediastinum's lower
   ``heart_height_mm``, opened like the brain, the largest part of at least
   ``myocardium_min_ml`` whose centroid lies left of ``heart_right_mm`` from the midline;
   a structure above its level that reaches ``myocardium_split_factor`` × that 99.5th
   percentile (a tumour joined to a heart of low uptake) is cut out of it.
7. **Kidney zone**: posterior of the body centre, ``kidney_lateral_mm`` from the midline,
   from ``kidney_above_diaphragm_mm`` above to ``kidney_below_diaphragm_mm`` below the
   diaphragm (the kidneys lie under the posterior diaphragm, the upper poles at the 11th-12th
   rib).
8. **Bone** (CT only): CT above ``bone_hu``.

Limitations: the heart, brain and kidney zones are found from the lungs and the head; a study
whose field of view holds neither (a pelvis-only PET) has no such zones and says so in
:attr:`Anatomy.notes`; without lungs or a liver dome (a PET of the head, neck and upper thorax)
the heart and kidney zones are reported as not located in :attr:`Anatomy.sources`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import ndimage
from skimage.morphology import convex_hull_image

from nenscope.core import ImageVolume
from nenscope.core.threads import side_by_side
from nenscope.segmentation._labels import bounding_box, label_counts, label_in_box, label_means
from nenscope.segmentation._peaks import split_basins
from nenscope.segmentation.morphology import binary_dilation_in_box, binary_opening_in_box
from nenscope.segmentation.organs import (
    OrganEstimate,
    field_of_view_mm,
    fill_holes_per_slice,
    is_axial,
    largest_component,
    lps_axes,
    pet_body,
)

__all__ = [
    "CT_OUTSIDE_HU",
    "Anatomy",
    "AnatomySettings",
    "liver_dome_z",
    "locate_anatomy",
]

CT_OUTSIDE_HU = -1000.0
"""Value of the resampled CT outside its field of view (``resample_to(..., cval=-1000)``)."""

CT_BODY_HU = -300.0
"""Body outline on CT: voxels above this value (air and lung are below)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AnatomySettings:
    """Constants of :func:`locate_anatomy` (module docstring, by step)."""

    min_slice_coverage: float = 0.9
    min_fov_mm: float = 250.0
    lung_hu: float = -400.0
    lung_depth_mm: float = 15.0
    lung_opening_mm: float = 10.0
    lung_max_lateral_mm: float = 120.0
    lung_uptake_fraction: float = 0.55
    lung_min_ml: float = 150.0
    lung_below_liver_top_mm: float = 30.0
    diaphragm_area_fraction: float = 0.25
    bone_hu: float = 300.0
    brain_fraction: float = 0.35
    brain_min_ml: float = 300.0
    organ_opening_mm: float = 9.0
    myocardium_fraction: float = 0.3
    myocardium_min_ml: float = 40.0
    heart_height_mm: float = 150.0
    heart_right_mm: float = 40.0
    central_thorax_mm: float = 110.0
    heart_below_dome_mm: float = 50.0
    myocardium_max_ml: float = 500.0
    myocardium_split_factor: float = 1.5
    thorax_height_mm: float = 120.0
    head_min_mm: float = 60.0
    head_ct_min_mm: float = 150.0
    brain_body_ratio: float = 5.0
    partial_brain_min_ml: float = 10.0
    brain_split_prominence: float = 0.3
    brain_split_min_suv: float = 1.0
    lung_above_liver_mm: float = 60.0
    kidney_lateral_mm: tuple[float, float] = (20.0, 140.0)
    kidney_above_diaphragm_mm: float = 40.0
    kidney_below_diaphragm_mm: float = 260.0
    liver_dome_area_fraction: float = 0.1


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Anatomy:
    """Structures found by :func:`locate_anatomy`; masks are bool (z, y, x) on the SUV grid.

    Attributes
    ----------
    body
        Body outline.
    masks
        Organ and zone masks by name (``lungs``, ``brain``, ``mediastinum``, ``myocardium``,
        ``kidney zone``, ``bone``), only those found.
    sources
        Region → how it was found: ``"CT"``, ``"PET alone (no CT over this region)"``,
        ``"not in the field of view"``, ...
    midline_x_mm
        Patient x (LPS) of the body midline.
    body_y_centre_mm
        Median patient y of the body (anterior < centre < posterior).
    landmarks_z_mm
        Patient z of ``lung_apex``, ``diaphragm_right``, ``diaphragm_left``, ``diaphragm``
        (the higher of the two), ``neck``, ``body_top``, ``body_bottom`` where found, and
        ``bladder`` (its centroid) once the physiological rules found it.
    ct_slices
        Bool per axial slice: the CT covers it.
    ct_on_pet
        CT (HU) on the PET grid, or None.
    notes
        What was found and how.
    short
        The field of view is too short to locate organs (a slab): sites are not named.
    """

    body: npt.NDArray[np.bool_]
    masks: Mapping[str, npt.NDArray[np.bool_]]
    sources: Mapping[str, str]
    midline_x_mm: float
    body_y_centre_mm: float
    landmarks_z_mm: Mapping[str, float]
    ct_slices: npt.NDArray[np.bool_]
    ct_on_pet: npt.NDArray[np.float64] | None = None
    notes: tuple[str, ...] = field(default=())
    short: bool = False

    def mask(self, name: str) -> npt.NDArray[np.bool_] | None:
        """Return the mask ``name``, or None when it was not found."""
        return self.masks.get(name)


_PET_ALONE = "PET alone (the CT does not cover it)"
_NO_CT = "PET alone (no CT)"


def liver_dome_z(
    liver: npt.NDArray[np.bool_],
    z_axis: npt.NDArray[np.float64],
    settings: AnatomySettings | None = None,
) -> float | None:
    """Patient z of the liver dome: the top of the liver's bulk, or None without a liver.

    The highest slice of the unbroken run of slices, around the liver's largest cross-section,
    whose cross-section is at least ``liver_dome_area_fraction`` of that largest one. A
    structure joined to the estimate above the dome through a narrow contact (on a real FDG
    PET the heart's blood pool, as homogeneous as the liver, joined at the IVC: a tenth of the
    liver's cross-section) is not taken for the dome.
    """
    settings = AnatomySettings() if settings is None else settings
    area = np.asarray(liver.sum(axis=(1, 2)), dtype=np.float64)
    if area.max() <= 0:
        return None
    wide = area >= settings.liver_dome_area_fraction * area.max()
    peak = int(np.argmax(area))
    # The run of wide slices holding the peak (z is monotonic along axis 0).
    start, stop = peak, peak
    while start > 0 and wide[start - 1]:
        start -= 1
    while stop < area.size - 1 and wide[stop + 1]:
        stop += 1
    return float(max(z_axis[start], z_axis[stop]))


def _ball(radius_mm: float, spacing: tuple[float, float, float]) -> npt.NDArray[np.bool_]:
    half = [max(1, int(radius_mm // s)) for s in spacing]
    grids = np.ogrid[tuple(slice(-h, h + 1) for h in half)]
    dist = sum((g * s) ** 2 for g, s in zip(grids, spacing, strict=True))
    return np.asarray(dist <= radius_mm**2)


def _lookup(labels: npt.NDArray[np.integer[Any]], keep: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """``np.isin(labels, keep)`` by a lookup table: one gather over the volume, no sort."""
    table = np.zeros(int(labels.max()) + 1, dtype=bool)
    table[np.asarray(keep, dtype=np.int64)] = True
    return np.asarray(table[labels])


def _ct_slices(
    ct: npt.NDArray[np.float64] | None, pet_body: npt.NDArray[np.bool_], fraction: float
) -> npt.NDArray[np.bool_]:
    """Slices where the CT has a value on at least ``fraction`` of the body's voxels."""
    if ct is None:
        return np.zeros(pet_body.shape[0], dtype=bool)
    has_ct = ct != CT_OUTSIDE_HU
    # The body is the PET's, or the CT's where the PET shows little (a faint end slice).
    reference = pet_body | (has_ct & (ct > CT_BODY_HU))
    inside = (has_ct & reference).sum(axis=(1, 2))
    total = reference.sum(axis=(1, 2))
    return np.asarray((total > 0) & (inside >= fraction * np.maximum(total, 1)))


def _body(
    smooth: npt.NDArray[np.float64],
    ct: npt.NDArray[np.float64] | None,
    covered: npt.NDArray[np.bool_],
    from_pet: npt.NDArray[np.bool_],
    ct_body: npt.NDArray[np.bool_] | None = None,
) -> npt.NDArray[np.bool_]:
    if ct is not None and ct_body is not None:
        rest = ~covered
        if not from_pet[rest].any() and not (ct[rest] > CT_BODY_HU).any():
            # The slices without CT are empty on both: the outline below is then made of
            # ``ct > CT_BODY_HU`` throughout, which the caller has already outlined.
            return ct_body.copy()
    raw = from_pet.copy()
    if ct is not None and covered.any():
        raw[covered] = ct[covered] > CT_BODY_HU
    return fill_holes_per_slice(largest_component(raw))


def _low_on_pet(
    smooth: npt.NDArray[np.float64],
    body: npt.NDArray[np.bool_],
    spacing: tuple[float, float, float],
    settings: AnatomySettings,
    z_axis: npt.NDArray[np.float64],
    liver_top: float | None,
) -> npt.NDArray[np.bool_]:
    """Low-uptake voxels deep inside the body: lung candidates on PET alone."""
    # Depth inside the body, in-plane (per slice), so that skin and subcutaneous fat are left.
    depth = np.zeros(body.shape)
    for k in np.flatnonzero(body.any(axis=(1, 2))):
        depth[k] = ndimage.distance_transform_edt(body[k], sampling=spacing[1:])
    deep = depth >= settings.lung_depth_mm
    low = np.zeros(body.shape, dtype=bool)
    if deep.any():
        level = settings.lung_uptake_fraction * float(np.median(smooth[deep]))
        low = deep & (smooth < level)
    if liver_top is not None:
        # On PET the lungs lie above the liver dome (the bowel and fat below are low too).
        low &= (z_axis > liver_top - settings.lung_below_liver_top_mm)[:, None, None]
    return low


def _lungs(  # noqa: PLR0913 - the image, its CT and the landmarks the rule needs
    smooth: npt.NDArray[np.float64],
    body: npt.NDArray[np.bool_],
    ct: npt.NDArray[np.float64] | None,
    covered: npt.NDArray[np.bool_],
    spacing: tuple[float, float, float],
    settings: AnatomySettings,
    z_axis: npt.NDArray[np.float64],
    liver_top: float | None,
    offset: npt.NDArray[np.float64] | None = None,
) -> npt.NDArray[np.bool_]:
    """Find the lungs (module docstring, step 3).

    ``offset`` is x - midline (mm), of any shape that broadcasts to the grid.
    """
    has_ct = ct is not None and bool(covered.any())
    # The PET rule only decides on the slices without CT: with CT over every body slice, its
    # depth map (a distance transform per slice) would be computed for nothing.
    pet_low = None
    if not has_ct or body[~covered].any():
        low = _low_on_pet(smooth, body, spacing, settings, z_axis, liver_top)
        if low.any():
            # The fat between the arms and the chest wall, and the subcutaneous fat, are low
            # and deep too, joined to the lungs by thin bridges: an opening cuts them; the
            # lungs chosen below come back to their low edge.
            pet_low = low & ~covered[:, None, None]
            low = binary_opening_in_box(low, _ball(settings.lung_opening_mm, spacing))
    else:
        low = np.zeros(body.shape, dtype=bool)
    if ct is not None and has_ct:
        # Slice by slice: a boolean-indexed assignment would copy the covered slices twice.
        for k in np.flatnonzero(covered):
            low[k] = body[k] & (ct[k] < settings.lung_hu)
    labels, n = label_in_box(low)
    if n == 0:
        return low
    sizes = label_counts(labels) * float(np.prod(spacing)) / 1000.0
    sizes[0] = 0.0
    big = np.flatnonzero(sizes >= settings.lung_min_ml)
    if big.size == 0:
        return np.zeros_like(low)
    big = _in_chest(big, labels, z_axis, liver_top, offset, settings)
    if big.size == 0:
        return np.zeros_like(low)
    # The lungs are the two largest low regions (or one when joined).
    big = big[np.argsort(-sizes[big])][:2]
    if big.size == 2 and sizes[big[1]] < 0.25 * sizes[big[0]]:
        # A small second region is a lung only on the other side of the midline (on PET the
        # left lung, beside the heart, can be a fifth of the right one).
        side = None if offset is None else np.sign(label_means(offset, labels, big))
        if side is None or side[0] == side[1]:
            big = big[:1]
    return _regrown(_lookup(labels, big), pet_low, spacing, settings.lung_opening_mm)


def _in_chest(
    big: npt.NDArray[np.intp],
    labels: npt.NDArray[np.integer[Any]],
    z_axis: npt.NDArray[np.float64],
    liver_top: float | None,
    offset: npt.NDArray[np.float64] | None,
    settings: AnatomySettings,
) -> npt.NDArray[np.intp]:
    """Keep the low regions ``big`` (labels) that can be lungs: above the liver, in the chest."""
    if liver_top is not None:
        # On PET the lung bases rest on the liver dome. The lowest z of a region is that of
        # the first or last row of its bounding box (z is monotonic along the array's axis 0).
        boxes = ndimage.find_objects(labels, max_label=int(big.max()))
        lowest = np.array(
            [
                min(z_axis[rows.start], z_axis[rows.stop - 1])
                for rows in (boxes[int(b) - 1][0] for b in big)
            ]
        )
        big = big[lowest <= liver_top + settings.lung_above_liver_mm]
    if offset is not None and big.size:
        # The lungs lie in the chest, on either side of the midline: a low region centred
        # further out is outside the chest (on PET the fat beside the arms, ~145 mm out on
        # the real ACRIN torso, whose lungs' centres lie 72-77 mm out).
        centre = np.abs(label_means(offset, labels, big))
        big = big[centre <= settings.lung_max_lateral_mm]
    return big


def _regrown(
    lungs: npt.NDArray[np.bool_],
    pet_low: npt.NDArray[np.bool_] | None,
    spacing: tuple[float, float, float],
    radius_mm: float,
) -> npt.NDArray[np.bool_]:
    """Grow the lungs back to their low edge on the PET-only slices (the opening shaved it)."""
    if pet_low is None or not lungs.any():
        return lungs
    return np.asarray(lungs | (binary_dilation_in_box(lungs, _ball(radius_mm, spacing)) & pet_low))


def _diaphragm(
    lungs: npt.NDArray[np.bool_],
    x: npt.NDArray[np.float64],
    z_axis: npt.NDArray[np.float64],
    midline: float,
    fraction: float,
) -> dict[str, float]:
    out: dict[str, float] = {}
    for side, sel in (("right", x < midline), ("left", x >= midline)):
        area = (lungs & sel).sum(axis=(1, 2))
        if area.max() == 0:
            continue
        rows = np.flatnonzero(area >= fraction * area.max())
        out[f"diaphragm_{side}"] = float(z_axis[rows].min())
    if out:
        out["diaphragm"] = max(out.values())
    return out


def _opened_largest(
    mask: npt.NDArray[np.bool_],
    spacing: tuple[float, float, float],
    radius_mm: float,
    min_ml: float,
    voxel_ml: float,
) -> npt.NDArray[np.bool_]:
    """Open ``mask`` with a ball (cuts thin joins), keep the largest part, back on ``mask``."""
    if not mask.any():
        return mask
    box = bounding_box(mask)
    sub = mask[box]
    opened = ndimage.binary_opening(sub, structure=_ball(radius_mm, spacing))
    part = largest_component(opened)
    if part.sum() * voxel_ml < min_ml:
        return np.zeros_like(mask)
    # Back to the organ's own extent: the opened part grown by the ball, within the mask.
    grown = ndimage.binary_dilation(part, structure=_ball(radius_mm, spacing)) & sub
    out = np.zeros_like(mask)
    out[box] = grown
    return out


def locate_anatomy(  # noqa: C901 - one step per region, in order
    suv: ImageVolume,
    ct_on_pet: npt.NDArray[np.float64] | None = None,
    *,
    avid_brain: bool = True,
    avid_myocardium: bool = True,
    liver: npt.NDArray[np.bool_] | None = None,
    settings: AnatomySettings | None = None,
    smooth: npt.NDArray[np.float64] | None = None,
    organs: OrganEstimate | None = None,
) -> Anatomy:
    """Find body, lungs, landmarks and organ zones (method in the module docstring).

    Parameters
    ----------
    suv
        SUV image (z, y, x) on an axial grid.
    ct_on_pet
        CT (HU) resampled onto the SUV grid with ``cval=CT_OUTSIDE_HU``, or None.
    avid_brain, avid_myocardium
        Whether the tracer shows the brain / the myocardium (FDG: both; MIBG: myocardium).
    liver
        The liver estimate, if any: its dome marks the diaphragm where the CT does not cover
        the lung bases, and PET-only lungs must lie above it.
    settings
        Constants.
    smooth
        ``suv`` smoothed with a Gaussian of 1 voxel (sigma), if already computed (the organ
        estimate's); computed here otherwise.
    organs
        The organ estimate of ``suv`` with ``ct_on_pet`` and ``smooth``, if any: the body
        outlines it found are used instead of being found again (its PET outline; its CT
        outline, ``fill_holes_per_slice(largest_component(ct_on_pet > CT_BODY_HU))``, which
        is the body wherever the CT covers every slice that has body).

    Returns
    -------
    Anatomy
        The structures found, with their source per region.
    """
    settings = AnatomySettings() if settings is None else settings
    values = np.asarray(suv.array, dtype=np.float64)
    if not is_axial(suv):
        body = values > 0
        return Anatomy(
            body=body,
            masks={},
            sources={"all regions": "not located (the PET grid is not axial)"},
            midline_x_mm=0.0,
            body_y_centre_mm=0.0,
            landmarks_z_mm={},
            ct_slices=np.zeros(suv.shape[0], dtype=bool),
            notes=("anatomy not located: the PET grid is not axial",),
        )
    spacing = suv.spacing_mm
    voxel_ml = suv.voxel_volume_ml
    if smooth is None or smooth.shape != values.shape:
        smooth = ndimage.gaussian_filter(values, 1.0)
    ct = None if ct_on_pet is None else np.asarray(ct_on_pet, dtype=np.float64)
    # The organ estimate's outlines, when it worked on these very arrays.
    same = organs is not None and organs.smooth is smooth
    known = organs.pet_body if organs is not None and same else None
    from_pet = pet_body(smooth) if known is None else known
    covered = _ct_slices(ct, from_pet, settings.min_slice_coverage)
    ct_body = None
    if organs is not None and same and organs.body_from_ct and organs.ct_on_pet is not None:
        ct_body = organs.body if ct is organs.ct_on_pet.array else None
    body = _body(smooth, ct, covered, from_pet, ct_body)
    x, y, z = lps_axes(suv)
    xf = np.broadcast_to(x, suv.shape)
    yf = np.broadcast_to(y, suv.shape)
    z_axis = np.broadcast_to(z, suv.shape)[:, 0, 0]
    midline = float(np.median(xf[body])) if body.any() else 0.0
    y_centre = float(np.median(yf[body])) if body.any() else 0.0
    notes: list[str] = []
    masks: dict[str, npt.NDArray[np.bool_]] = {}
    sources: dict[str, str] = {}

    def source(region_slices: npt.ArrayLike) -> str:
        region_slices = np.asarray(region_slices, dtype=bool)
        if ct is None:
            return _NO_CT
        share = covered[region_slices].mean() if region_slices.any() else 0.0
        if share >= 0.99:
            return "CT"
        if share <= 0.01:
            return _PET_ALONE
        return f"CT over {100 * share:.0f} % of its slices, PET alone elsewhere"

    body_rows = body.any(axis=(1, 2))
    landmarks: dict[str, float] = {}
    if body_rows.any():
        landmarks["body_top"] = float(z_axis[body_rows].max())
        landmarks["body_bottom"] = float(z_axis[body_rows].min())
    sources["body outline"] = source(body_rows)
    fov = field_of_view_mm(body, suv)
    if fov < settings.min_fov_mm:
        text = (
            f"not located: the field of view ({fov:.0f} mm craniocaudally) is too short to "
            "tell the organs by their position"
        )
        # The avid brain filling the top of the field (or cut by it) needs no position: a
        # head-and-neck PET shorter than min_fov_mm still has its brain located.
        brain = (
            _brain(smooth, body, None, covered, z_axis, {}, spacing, voxel_ml, True, settings)
            if avid_brain and ct is None
            else None
        )
        short_masks = {} if brain is None else {"brain": brain}
        if brain is not None:
            sources["head (brain)"] = source(brain.any(axis=(1, 2)))
            text = text.replace("the organs", "the other organs")
        return Anatomy(
            body=body,
            masks=short_masks,
            sources={**sources, "organs": text},
            midline_x_mm=midline,
            body_y_centre_mm=y_centre,
            landmarks_z_mm=landmarks,
            ct_slices=covered,
            ct_on_pet=ct,
            notes=(f"anatomy {text}",),
            short=True,
        )
    liver_top = None if liver is None else liver_dome_z(liver, z_axis, settings)
    lungs = _lungs(smooth, body, ct, covered, spacing, settings, z_axis, liver_top, x - midline)
    lung_rows = lungs.any(axis=(1, 2))
    if lungs.any():
        masks["lungs"] = lungs
        sources["thorax (lungs)"] = source(lung_rows)
        # The apex: the highest slice with a real lung cross-section (the trachea, joined to
        # the lungs on CT, is narrow).
        area = lungs.sum(axis=(1, 2))
        landmarks["lung_apex"] = float(z_axis[area >= 0.05 * area.max()].max())
        landmarks.update(_diaphragm(lungs, xf, z_axis, midline, settings.diaphragm_area_fraction))
    if liver_top is not None and (
        "diaphragm" not in landmarks or not covered[np.argmin(np.abs(z_axis - liver_top))]
    ):
        # Where the CT does not cover the lung bases, the liver dome marks the diaphragm; the
        # lung bases found on PET, when lower (the dome is the diaphragm's top, the bases,
        # as on CT, its level), mark it there.
        lung_base = landmarks.get("diaphragm")
        if lung_base is not None and lung_base < liver_top:
            notes.append("diaphragm from the lung bases (PET), below the liver dome")
        else:
            landmarks["diaphragm"] = liver_top
            notes.append("diaphragm from the liver dome (PET)")
    if not lungs.any():
        sources["thorax (lungs)"] = "lungs not found (PET alone cannot separate them here)"
        notes.append("no lungs found: the thorax is located from the liver dome, if any")
    _neck_and_head(body, z_axis, spacing, landmarks, settings)
    if ct is not None and covered.any():
        masks["bone"] = body & covered[:, None, None] & (ct > settings.bone_hu)

    def thorax() -> tuple[npt.NDArray[np.bool_] | None, npt.NDArray[np.bool_] | None]:
        """Find the mediastinum and the myocardium (None where not found)."""
        if "diaphragm" not in landmarks:
            return None, None
        if lungs.any():
            mediastinum = _mediastinum(lungs, body, z_axis, landmarks, settings)
        else:
            mediastinum = _central_thorax(body, xf, z_axis, midline, landmarks, settings)
        if not avid_myocardium:
            return mediastinum, None
        myo = _myocardium(
            smooth, mediastinum, xf, z_axis, midline, landmarks, spacing, voxel_ml, settings
        )
        return mediastinum, myo

    # The head and the thorax are found independently (each reads the landmarks only): side
    # by side on 2 cores; their masks are entered in the same order as before.
    brain, (mediastinum, myo) = side_by_side(
        lambda: _brain(
            smooth, body, ct, covered, z_axis, landmarks, spacing, voxel_ml, avid_brain, settings
        ),
        thorax,
    )
    head_rows = z_axis > landmarks.get("neck", np.inf)
    if brain is not None:
        masks["brain"] = brain
        sources["head (brain)"] = source(brain.any(axis=(1, 2)))
    elif head_rows.any():
        sources["head (brain)"] = (
            "brain not located (not avid on this tracer and no CT over the head)"
            if not avid_brain
            else "brain not located"
        )
    if mediastinum is not None:  # wherever there is a diaphragm
        masks["mediastinum"] = mediastinum
        if myo is not None:
            masks["myocardium"] = myo
            sources["heart (myocardium)"] = source(myo.any(axis=(1, 2)))
        low, high = settings.kidney_lateral_mm
        top = landmarks["diaphragm"] + settings.kidney_above_diaphragm_mm
        bottom = landmarks["diaphragm"] - settings.kidney_below_diaphragm_mm
        rows = (z_axis <= top) & (z_axis >= bottom)
        # On the thin coordinate arrays, broadcast by ``&``: the same value per voxel without
        # two float64 grids of the PET's size.
        offset = np.abs(x - midline)
        masks["kidney zone"] = (
            body & rows[:, None, None] & (y > y_centre) & (offset >= low) & (offset <= high)
        )
        sources["abdomen (kidneys, liver)"] = source(rows & body_rows)
    else:
        # No lungs and no liver: the heart and kidney zones hang on the diaphragm; say so
        # rather than guess (a PET of the head, neck and upper thorax).
        text = "not located (neither the lungs nor the liver dome found to place the diaphragm)"
        sources["heart (myocardium)"] = text
        sources["abdomen (kidneys, liver)"] = text
        notes.append("heart and kidney zones not located: no diaphragm found on the images")
    return Anatomy(
        body=body,
        masks=masks,
        sources=sources,
        midline_x_mm=midline,
        body_y_centre_mm=y_centre,
        landmarks_z_mm=landmarks,
        ct_slices=covered,
        ct_on_pet=ct,
        notes=tuple(notes),
    )


def _neck_and_head(
    body: npt.NDArray[np.bool_],
    z_axis: npt.NDArray[np.float64],
    spacing: tuple[float, float, float],
    landmarks: dict[str, float],
    settings: AnatomySettings,
) -> None:
    """Find the neck: the smallest body cross-section between the thorax and the body top."""
    area = body.sum(axis=(1, 2)).astype(np.float64) * spacing[1] * spacing[2]
    if "lung_apex" in landmarks:
        floor = landmarks["lung_apex"]
    elif "diaphragm" in landmarks:
        floor = landmarks["diaphragm"] + settings.thorax_height_mm
    else:
        return
    rows = np.flatnonzero((z_axis > floor) & (area > 0))
    # The head needs ``head_min_mm`` of body above the neck to be in the field of view.
    rows = rows[z_axis[rows] <= landmarks.get("body_top", np.inf) - settings.head_min_mm]
    if rows.size < 3:
        return
    k = rows[int(np.argmin(area[rows]))]
    landmarks["neck"] = float(z_axis[k])


def _brain(  # noqa: C901, PLR0913
    smooth: npt.NDArray[np.float64],
    body: npt.NDArray[np.bool_],
    ct: npt.NDArray[np.float64] | None,
    covered: npt.NDArray[np.bool_],
    z_axis: npt.NDArray[np.float64],
    landmarks: Mapping[str, float],
    spacing: tuple[float, float, float],
    voxel_ml: float,
    avid: bool,
    settings: AnatomySettings,
) -> npt.NDArray[np.bool_] | None:
    """Find the brain: the avid blob at the top of the head (PET), else inside the skull (CT)."""
    rows = np.flatnonzero(body.any(axis=(1, 2)))
    if rows.size == 0:
        return None
    top = float(z_axis[rows].max())
    if "diaphragm" in landmarks:
        floor = landmarks["diaphragm"] + settings.thorax_height_mm
    elif "neck" in landmarks:
        floor = landmarks["neck"]
    elif "lung_apex" in landmarks:
        floor = landmarks["lung_apex"]
    else:
        # No trunk in view (head-and-neck PET): the upper half of the field of view.
        floor = float(np.median(z_axis[rows]))
    head_rows = z_axis > floor
    head = body & head_rows[:, None, None]
    if not head.any():
        return None
    if avid:
        level = settings.brain_fraction * float(np.percentile(smooth[head], 99.5))
        brain = _opened_largest(
            head & (smooth > level),
            spacing,
            settings.organ_opening_mm,
            settings.brain_min_ml,
            voxel_ml,
        )
        # The brain fills the top of the head and is far more avid than the body.
        if (
            brain.any()
            and float(z_axis[brain.any(axis=(1, 2))].max()) >= top - 40.0
            and float(smooth[brain].mean())
            >= settings.brain_body_ratio * float(np.median(smooth[body]))
        ):
            return np.asarray(fill_holes_per_slice(brain) & head)
        partial = _brain_cut_by_field(smooth, body, head, z_axis, top, voxel_ml, settings, spacing)
        if partial is not None:
            return partial
    if ct is None or covered[head_rows].mean() < 0.9 or top - floor < settings.head_ct_min_mm:
        return None
    skull = head & (ct > settings.bone_hu)
    inside = fill_holes_per_slice(skull) & ~skull & head
    brain = _opened_largest(
        inside, spacing, settings.organ_opening_mm, settings.brain_min_ml, voxel_ml
    )
    if brain.any() and float(z_axis[brain.any(axis=(1, 2))].max()) >= top - 40.0:
        return brain
    return None


def _brain_cut_by_field(
    smooth: npt.NDArray[np.float64],
    body: npt.NDArray[np.bool_],
    head: npt.NDArray[np.bool_],
    z_axis: npt.NDArray[np.float64],
    top: float,
    voxel_ml: float,
    settings: AnatomySettings,
    spacing: tuple[float, float, float],
) -> npt.NDArray[np.bool_] | None:
    """Find the lower brain where the field of view cuts through it (PET from the skull base).

    The avid structures (mean SUV at least ``brain_body_ratio`` × the body median) whose
    upper edge is the top slice of the body in the image: temporal lobes and cerebellum. Of
    their separate peaks' basins (``brain_split_prominence``, ``brain_split_min_suv``: as the
    lesion split), those that do not reach the top slice are not brain (a primary tumour or
    a node of the neck joined to the brain at this level).
    """
    level = settings.brain_body_ratio * float(np.median(smooth[body]))
    labels, n = ndimage.label(head & (smooth > level))
    if n == 0:
        return None
    top_row = int(np.flatnonzero(np.abs(z_axis - top) < 1e-6)[0])
    touching = np.unique(labels[top_row])
    touching = touching[touching > 0]
    if touching.size == 0:
        return None
    sizes = label_counts(labels)
    keep = [t for t in touching if sizes[t] * voxel_ml >= settings.partial_brain_min_ml]
    if not keep:
        return None
    brain = _lookup(labels, keep)
    # A structure joined to the brain at this level with a peak of its own (a primary or a
    # node below the skull base) is split from it: of the basins of the brain's separate
    # peaks, only those that reach the top slice are brain.
    box = ndimage.find_objects(brain.astype(np.uint8))[0]
    parts = split_basins(
        smooth[box],
        brain[box],
        floor=level,
        prominence_fraction=settings.brain_split_prominence,
        min_prominence=settings.brain_split_min_suv,
    )
    row = top_row - box[0].start
    out = np.zeros_like(brain)
    out[box] = np.any([part for part in parts if part[row].any()], axis=0)
    # A structure far hotter than the brain in the top slice (where only brain is) and joined
    # to it above that level is cut out of it, as from the myocardium.
    cortex = float(np.percentile(smooth[top_row][out[top_row]], 99.0))
    return _without_hotter(
        out,
        smooth,
        cortex,
        settings.myocardium_split_factor,
        margin=_ball(settings.organ_opening_mm, spacing),
    )


def _mediastinum(
    lungs: npt.NDArray[np.bool_],
    body: npt.NDArray[np.bool_],
    z_axis: npt.NDArray[np.float64],
    landmarks: Mapping[str, float],
    settings: AnatomySettings,
) -> npt.NDArray[np.bool_]:
    out = np.zeros_like(lungs)
    low = landmarks["diaphragm"] - settings.heart_below_dome_mm
    for k in np.flatnonzero(lungs.any(axis=(1, 2))):
        if z_axis[k] < low:
            continue
        # The hull of the slice's lung pixels lies within their bounding box: computed there.
        rows, cols = np.flatnonzero(lungs[k].any(axis=1)), np.flatnonzero(lungs[k].any(axis=0))
        box = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
        hull = np.asarray(convex_hull_image(lungs[k][box])) > 0  # type: ignore[no-untyped-call]
        out[k][box] = hull & ~lungs[k][box] & body[k][box]
    # Below the lung bases the heart still sits on the diaphragm: extend the lowest hull.
    return out


def _central_thorax(
    body: npt.NDArray[np.bool_],
    x: npt.NDArray[np.float64],
    z_axis: npt.NDArray[np.float64],
    midline: float,
    landmarks: Mapping[str, float],
    settings: AnatomySettings,
) -> npt.NDArray[np.bool_]:
    """Without lungs: the body within ``central_thorax_mm`` of the midline above the dome."""
    low = landmarks["diaphragm"] - settings.heart_below_dome_mm
    rows = (z_axis >= low) & (z_axis <= low + settings.heart_height_mm)
    return np.asarray(
        body & rows[:, None, None] & (np.abs(x - midline) <= settings.central_thorax_mm)
    )


def _myocardium(  # noqa: PLR0913
    smooth: npt.NDArray[np.float64],
    mediastinum: npt.NDArray[np.bool_],
    x: npt.NDArray[np.float64],
    z_axis: npt.NDArray[np.float64],
    midline: float,
    landmarks: Mapping[str, float],
    spacing: tuple[float, float, float],
    voxel_ml: float,
    settings: AnatomySettings,
) -> npt.NDArray[np.bool_] | None:
    # The heart's apex lies on the left dome, which may be lower than the right one.
    base = landmarks["diaphragm"] - settings.heart_below_dome_mm
    rows = (z_axis >= base) & (z_axis <= base + settings.heart_height_mm)
    zone = mediastinum & rows[:, None, None]
    if not zone.any():
        return None
    # The level from the left half (the left ventricle): a hilar tumour on the right must not
    # set it.
    left = zone & (x > midline)
    top = float(np.percentile(smooth[left if left.any() else zone], 99.5))
    # Raise the level until the avid part is heart-sized (blood pool and a tumour nearby
    # would join at a low level).
    fraction = settings.myocardium_fraction
    avid = zone & (smooth > fraction * top)
    while avid.sum() * voxel_ml > settings.myocardium_max_ml and fraction < 0.9:
        fraction += 0.1
        avid = zone & (smooth > fraction * top)
    # On the avid part's box only (the same result as on the whole grid).
    labels, _ = ndimage.label(
        binary_opening_in_box(avid, _ball(settings.organ_opening_mm / 2.0, spacing))
    )
    best_index = 0
    best_size = 0.0
    x_full = np.broadcast_to(x, labels.shape)
    # Each part on its own box (same voxels in the same order as on the whole grid).
    # (``label`` numbers its parts 1..n without gaps: every box is found.)
    for index, box in enumerate(ndimage.find_objects(labels), start=1):
        part = labels[box] == index
        size = float(part.sum()) * voxel_ml
        if size < settings.myocardium_min_ml:
            continue
        if float(x_full[box][part].mean()) < midline - settings.heart_right_mm:
            continue
        if size > best_size:
            best_index, best_size = index, size
    if best_index == 0:
        return None
    best = labels == best_index
    grown = binary_dilation_in_box(best, _ball(settings.organ_opening_mm, spacing))
    # The avid myocardium is the left ventricle's: nothing far right of the midline.
    myocardium = grown & avid & (x >= midline - settings.heart_right_mm)
    # A structure far hotter than the myocardium joined to it at its level (a hilar tumour on
    # a heart of low uptake) is split from it: the parts above the myocardium's level that
    # reach ``myocardium_split_factor`` times it are not myocardium.
    return _without_hotter(myocardium, smooth, top, settings.myocardium_split_factor, zone)


def _without_hotter(
    organ: npt.NDArray[np.bool_],
    smooth: npt.NDArray[np.float64],
    level: float,
    factor: float,
    region: npt.NDArray[np.bool_] | None = None,
    margin: npt.NDArray[np.bool_] | None = None,
) -> npt.NDArray[np.bool_]:
    """Cut out of ``organ`` the parts above ``level`` that reach ``factor`` × ``level``.

    The parts are the connected regions above ``level`` within ``region`` (the organ itself
    when None): a tumour joined to an organ of lower uptake at the organ's own level; with
    ``margin`` (a structuring element) they are cut out grown by it.
    """
    region = organ if region is None else region
    hot = region & (smooth > factor * level)
    if not (hot & organ).any():
        return organ
    parts, _ = ndimage.label(region & (smooth > level))
    keep = np.unique(parts[hot])
    cut = _lookup(parts, keep[keep > 0])
    if margin is not None:
        # With its edge, where its uptake falls to the organ's level and below.
        cut = binary_dilation_in_box(cut, margin)
    return np.asarray(organ & ~cut)
