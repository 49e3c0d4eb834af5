"""Anatomy in the report: lesion sites, physiological uptake, sources and plausibility.

:func:`add_anatomy` fills the report fields that the automatic analysis of issue 10 provides:
each lesion's ``site`` and the reason an automatic candidate was kept, the physiological uptake
with its organ (``Report.physiological``, never among the lesions), how each region was located
(CT or PET alone) and, at the top, why an automatic result may not be a finding.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from nenscope.core.geometry import ImageVolume
from nenscope.quantification.lesions import LesionStatistics
from nenscope.reporting.model import PhysiologicalEntry, Report
from nenscope.segmentation import LesionDetection, ReferenceRegions
from nenscope.segmentation.lesions import LesionSegmentation
from nenscope.segmentation.sites import lesion_site

__all__ = ["MAX_CANDIDATES", "MIN_KEPT_FRACTION", "add_anatomy", "volume_warnings"]

MAX_CANDIDATES = 30
"""More automatic candidates than this is implausible for a finding list (issue 10)."""

MIN_KEPT_FRACTION = 0.40
"""An automatic contour keeping less than this part of the connected region above the
detection threshold it was drawn in likely underestimates the lesion's volume. On 51 real
sarcoma lesions with reference contours (IBSI validation PET) the 50 % background-corrected
contour kept a median 33 % of the reference volume (issue 10); the contour itself is not
changed, the lesion is flagged."""

_ORGANS_FOUND = ("brain", "heart")
"""Sites that are organs with physiological uptake: a candidate there is flagged."""


def add_anatomy(
    report: Report,
    *,
    suv: ImageVolume,
    labels: npt.NDArray[np.uint16] | None,
    statistics: Sequence[LesionStatistics],
    detection: LesionDetection | None,
    regions: ReferenceRegions | None,
    organ_masks: Mapping[str, npt.NDArray[np.bool_]] | None = None,
) -> Report:
    """Return ``report`` with sites, candidate reasons, physiology, sources and warnings."""
    if detection is None and labels is None:
        return report
    organs = None if regions is None else regions.organs
    masks = {}
    if organs is not None:
        for name in ("liver", "spleen"):
            mask = getattr(organs, name)
            if mask is not None:
                masks[name] = mask
    # Organ masks from outside (--organs) name the sites first.
    masks = {**dict(organ_masks or {}), **masks}
    anatomy = None if detection is None else detection.anatomy
    lesions = list(report.lesions)
    if labels is not None:
        automatic = [e.id for e in lesions if e.detection.startswith("automatic")]
        warnings = (
            {}
            if detection is None
            else volume_warnings(suv, labels, automatic, detection.segmentation)
        )
        for n, entry in enumerate(lesions):
            site = lesion_site(suv, labels == entry.id, anatomy, organs=masks) or entry.site
            reason = None
            if detection is not None and entry.detection.startswith("automatic"):
                reason = detection.kept_reasons[0] if detection.kept_reasons else None
            lesions[n] = dataclasses.replace(
                entry,
                site=site,
                candidate_reason=reason,
                volume_warning=warnings.get(entry.id),
            )
    physiological: tuple[PhysiologicalEntry, ...] = ()
    if detection is not None:
        physiological = tuple(
            PhysiologicalEntry(
                organ=p.organ,
                reason=p.reason,
                centroid_mm=p.centroid_mm,
                volume_ml=p.volume_ml,
                suvmax=p.suvmax,
            )
            for p in detection.physiological
        )
    flags = _implausible(lesions, statistics, detection, masks.get("liver"), suv)
    return dataclasses.replace(
        report,
        lesions=tuple(lesions),
        physiological=physiological,
        anatomy=() if anatomy is None else tuple(anatomy.sources.items()),
        implausible=flags,
        warnings=(*flags, *report.warnings),
    )


def volume_warnings(
    suv: ImageVolume,
    labels: npt.NDArray[np.integer[Any]],
    ids: Sequence[int],
    segmentation: LesionSegmentation,
) -> dict[int, str]:
    """Say for which lesions of ``labels`` the automatic volume is likely underestimated.

    A lesion's region is the connected region above the detection threshold that holds the
    lesion's hottest voxel (the candidate its contour was drawn in); the warning is given when
    the contour keeps less than :data:`MIN_KEPT_FRACTION` of it. Each lesion is read on its
    bounding box only.

    Returns
    -------
    dict
        The warning text by lesion id, for the flagged lesions only.
    """
    regions, voxels = segmentation.candidates, segmentation.candidate_voxels
    if regions is None or voxels is None or not ids:
        return {}
    values = np.asarray(suv.array)
    boxes = ndimage.find_objects(labels, max_label=max(ids))
    out: dict[int, str] = {}
    for lesion_id in ids:
        box = boxes[lesion_id - 1] if 0 < lesion_id <= len(boxes) else None
        if box is None:
            continue
        mask = labels[box] == lesion_id
        inside = values[box][mask]
        region = int(regions[box][mask][int(np.argmax(inside))])
        if region == 0 or voxels[region] == 0:
            continue
        kept = inside.size / float(voxels[region])
        if kept < MIN_KEPT_FRACTION:
            region_ml = float(voxels[region]) * suv.voxel_volume_ml
            out[lesion_id] = (
                f"volume likely underestimated: the contour keeps {100 * kept:.0f} % of the "
                f"{region_ml:.1f} mL connected region above the detection threshold "
                f"(< {100 * MIN_KEPT_FRACTION:.0f} %)"
            )
    return out


def _implausible(
    lesions: Sequence[object],
    statistics: Sequence[LesionStatistics],
    detection: LesionDetection | None,
    liver: npt.NDArray[np.bool_] | None,
    suv: ImageVolume,
) -> tuple[str, ...]:
    if detection is None:
        return ()
    flags = []
    n = detection.n_lesions
    if n > MAX_CANDIDATES:
        flags.append(
            f"Implausible automatic result: {n} candidates (more than {MAX_CANDIDATES}); "
            "physiological uptake is probably among them. Review before reporting any number."
        )
    total = sum(s.volume_ml for s in statistics)
    if liver is not None:
        liver_ml = float(liver.sum()) * suv.voxel_volume_ml
        if total > liver_ml:
            flags.append(
                f"Implausible automatic result: the candidates' total volume {total:.0f} mL "
                f"is larger than the liver found ({liver_ml:.0f} mL)."
            )
    for entry in lesions:
        site = getattr(entry, "site", None)
        if site in _ORGANS_FOUND:
            flags.append(
                f"Lesion {getattr(entry, 'id', '?')} lies in the {site} found on the images: "
                "it may be physiological uptake."
            )
    return tuple(flags)
