"""Lesion detection with physiological uptake kept out: :func:`detect_lesions`.

With organ masks (``organ_masks``, e.g. from a CT organ segmentation) every mask except
``"liver"`` is excluded before thresholding (grown by the spill margin), and the liver mask
sets the zone of the liver-adaptive threshold. Without masks, the automatic method is:

1. **Liver**: the estimated liver (:func:`nenscope.segmentation.estimate_organs`) gets the PERCIST
   liver threshold (1.5 × liver mean + 2 SD of the liver reference region), so metastases are
   found inside it and the normal liver is not reported.
2. **Spleen**: the estimated spleen is excluded (on SSTR PET it is the most avid organ).
3. After detection, a component is classed as **physiological** and dropped when

   * it is identified as an organ by its **position** (no size cut-off: large tumours exist):
     the **urinary bladder** is the most caudal high-uptake structure on the midline
     (within ``midline_mm``, 40 mm) of the trunk below the liver (below the trunk's middle
     without a liver estimate): among those components whose SUVmax is at least half the
     group's highest, the lowest; where the CT covers it, its core (≥ 50 % of its SUVmax)
     must have a median in ``bladder_hu`` (−10 to 30 HU: urine is water-dense); where no CT
     covers it and the brain is in the image, it lies at least ``bladder_below_brain_mm``
     (350 mm) below the brain's lowest slice (a head-to-thorax PET has no bladder; the CT
     check tells the heart's blood, ~40 HU, from urine). One bladder per study.
     Components of ≥ ``organ_min_ml`` (50 mL) outside the liver zone are
     the **brain** when they lie in the head above the trunk, the **heart** when their
     centroid lies up to 150 mm above the liver dome, 20 mm right to 80 mm left of the
     midline and not posterior, and they cross the midline, and a **kidney**
     when they are paravertebral (30–130 mm from the midline, posterior half) at the level
     of the liver or up to 120 mm below its lower edge. One organ per slot (brain, heart,
     right and left kidney): of several candidates only the largest is dropped. Nothing
     whose centroid lies below the bladder's lower edge (thighs, limbs) is an organ for
     these rules; or
   * it is larger than ``max_lesion_volume_ml`` (100 mL) when there is **no organ
     estimate** at all (no references given: no anatomical frame for the position rules;
     the pipeline always gives one); or
   * it has a **mirror partner** across the body midline (centroids within
     ``pair_distance_mm`` of each other's mirror image, volumes within a factor
     ``pair_volume_ratio`` and SUVmax within ``pair_uptake_ratio``): paired organs such as the
     parotid and submandibular glands, adrenals and kidneys; or
   * more than half of it lies in the estimated spleen; or
   * it is small (≤ ``adrenal_max_ml``, 15 mL), outside the liver zone, at least 25 mm from
     the midline, no more than 20 mm anterior of a component classed as a kidney, with its
     centroid no lower than 15 mm below that kidney's upper pole and within
     ``adrenal_distance_mm`` (40 mm) of the kidney's bounding box (adrenal gland: the adrenals
     sit on the upper poles; on SSTR PET they are avid and the right one often touches the
     liver, so the pair rule alone misses it; para-aortic nodes at the renal hilum are
     medial and lower and are kept); or
   * it is small (≤ ``pituitary_max_ml``, 2 mL), within 10 mm of the midline, in the head
     above the trunk (pituitary gland, avid on SSTR PET); or
   * it is organ-sized (≥ ``faint_organ_min_ml``, 10 mL) and elongated (longest extent ≥
     ``faint_organ_elongation`` × the diameter of a sphere of its volume), outside the liver
     zone, with its SUVmax below the liver reference mean (Krenning ≤ 1): the normal pancreas
     (SUV ~3 on SSTR PET, above a fixed 2.5 threshold) or a bowel loop. A lesion is compact or
     above the liver; small faint lesions (a node at SUV 4) are kept.

4. **FDG without a liver reference** (the liver out of the field of view, a head-and-neck
   PET): the FDG rules (mirror-symmetric glands, bowel/muscle/brown-fat shapes, PERCIST
   measurability) scale with the body's **warm soft tissue** instead of the liver mean
   (:func:`warm_tissue_reference`: the voxels between the 80th and 95th SUV percentile of the
   PET body deeper than 10 mm, brain and heart out; 0.6-0.8 × the liver mean on the real FDG
   studies, so the rules drop less than with a liver); the notes say so and that PERCIST's
   liver-based level was not used. The shape rules then leave a component whose upper half
   (voxels above the midpoint of the detection level and its SUVmax) is a compact focus (a
   node joined at threshold to a muscle). Without lungs or diaphragm, the symmetric-gland
   rule runs down to ``NECK_BELOW_BRAIN_MM`` (200 mm) below a located brain. The kidney
   rules need a liver reference.

   Each dropped component is reported with its reason and a guess of the organ from its
   position (head above the trunk: brain / salivary glands; above the liver dome: heart;
   midline below the liver: bladder; posterior and lateral: kidney; adrenal level: adrenals).

Limitations (documented in docs/analysis.md): lesions inside the kidneys, spleen, bladder or
brain, organ-sized (≥ 50 mL) lesions in the head, above the liver dome anteriorly (mediastinum)
or paravertebral at the kidney level, a midline lesion below the liver taken for the bladder
(lower than the bladder with at least half its uptake, or the bladder empty or out of view;
only where no CT covers it), truly symmetric bilateral lesions, adrenal
metastases, small midline lesions in the head and elongated infiltrating lesions of 10 mL or
more with uptake below the liver are not reported by the automatic method; the
pancreatic uncinate process is not modelled and may be reported (an SSTR-RADS-2 pitfall for
the reader).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from nenscope.core import ImageVolume, parse_option
from nenscope.core.threads import side_by_side
from nenscope.core.units import MM3_PER_ML
from nenscope.segmentation import physiology_rules as rules
from nenscope.segmentation._labels import bounding_box, label_counts, relabel
from nenscope.segmentation.anatomy import Anatomy, locate_anatomy
from nenscope.segmentation.lesions import (
    DetectionSettings,
    LesionSegmentation,
    grow_mask_mm,
    percist_liver_threshold,
    reunite_split,
    threshold_lesions,
)
from nenscope.segmentation.organs import OrganEstimate, lps_axes
from nenscope.segmentation.patterns import PHYSIOLOGICAL_UPTAKE, TracerFamily, not_modelled
from nenscope.segmentation.reference import PlacementMethod, ReferenceRegions
from nenscope.segmentation.sites import NECK_ABOVE_DOME_MM

__all__ = [
    "LesionDetection",
    "PhysiologicalUptake",
    "PhysiologySettings",
    "detect_lesions",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class PhysiologySettings:
    """Constants of the automatic physiological-uptake rules (module docstring).

    Attributes
    ----------
    max_lesion_volume_ml
        Without an organ estimate only (no anatomical frame for the position rules):
        components larger than this are taken as organs, mL.
    organ_min_ml
        Smallest component (mL) the brain, heart and kidney rules consider.
    midline_mm
        Largest distance of a bladder centroid from the body midline, mm.
    kidney_lateral_mm
        Range of the distance of a kidney centroid from the midline, mm.
    kidney_below_liver_mm
        How far below the liver's lower edge a kidney centroid may lie, mm.
    bladder_hu
        CT range (HU) of the median of a bladder's core: urine is water-dense.
    pair_distance_mm
        Tolerance of the mirror-partner rule, mm.
    pair_volume_ratio, pair_uptake_ratio
        Largest volume and SUVmax ratios of mirror partners.
    spleen_fraction
        Components with more than this fraction in the estimated spleen are spleen.
    adrenal_max_ml, adrenal_distance_mm
        Size limit (mL) and distance to a kidney's bounding box (mm) of the adrenal rule.
    pituitary_max_ml
        Size limit (mL) of the pituitary rule.
    faint_organ_min_ml, faint_organ_elongation
        Smallest volume (mL) and longest extent / equivalent-sphere diameter of the faint
        organ rule (normal pancreas, bowel).
    hilum_max_ml
        SSTR: components smaller than this (mL) with their peak on the medial side of a
        kidney are hilum structures (nodes), not kidney.
    """

    max_lesion_volume_ml: float = 100.0
    organ_min_ml: float = 50.0
    midline_mm: float = 40.0
    kidney_lateral_mm: tuple[float, float] = (30.0, 130.0)
    kidney_below_liver_mm: float = 120.0
    bladder_hu: tuple[float, float] = (-10.0, 30.0)
    bladder_below_brain_mm: float = 350.0
    pair_distance_mm: float = 20.0
    pair_volume_ratio: float = 2.0
    pair_uptake_ratio: float = 1.5
    spleen_fraction: float = 0.5
    adrenal_max_ml: float = 15.0
    adrenal_distance_mm: float = 40.0
    pituitary_max_ml: float = 2.0
    faint_organ_min_ml: float = 10.0
    faint_organ_elongation: float = 1.8
    hilum_max_ml: float = 15.0


@dataclass(frozen=True, slots=True, kw_only=True)
class PhysiologicalUptake:
    """A detected component classed as physiological uptake.

    Attributes
    ----------
    organ
        Organ guessed from position (or the mask name when masks were given).
    reason
        The rule that classed it.
    centroid_mm
        LPS ``(x, y, z)`` mm.
    volume_ml
        Volume, mL.
    suvmax
        Maximum SUV.
    """

    organ: str
    reason: str
    centroid_mm: tuple[float, float, float]
    volume_ml: float
    suvmax: float


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class LesionDetection:
    """Result of :func:`detect_lesions`.

    Attributes
    ----------
    labels
        uint32 lesion label map (z, y, x), 1..n by decreasing SUVmax, 0 = background.
    segmentation
        The raw threshold segmentation (before the physiological rules).
    physiological
        Components dropped as physiological uptake, with reasons.
    liver_mask
        The liver zone used for the liver-adaptive threshold, or None.
    method
        ``"organ masks"`` or ``"automatic"``.
    notes
        Thresholds and rules applied, for the report.
    kept_reasons
        Why each kept candidate (label - 1) is a candidate (automatic method only).
    anatomy
        The anatomy found on the images (automatic method with an organ estimate), or None.
    """

    labels: npt.NDArray[np.uint32]
    segmentation: LesionSegmentation
    physiological: tuple[PhysiologicalUptake, ...]
    liver_mask: npt.NDArray[np.bool_] | None
    method: str
    notes: tuple[str, ...] = field(default=())
    kept_reasons: tuple[str, ...] = field(default=())
    anatomy: Anatomy | None = None

    @property
    def n_lesions(self) -> int:
        """Number of lesions kept."""
        return int(self.labels.max()) if self.labels.size else 0


def detect_lesions(
    suv: ImageVolume,
    *,
    references: ReferenceRegions | None = None,
    organ_masks: Mapping[str, npt.NDArray[np.bool_]] | None = None,
    settings: DetectionSettings | None = None,
    physiology: PhysiologySettings | None = None,
    tracer: TracerFamily | str = TracerFamily.OTHER,
) -> LesionDetection:
    """Detect lesions and keep physiological uptake out (method in the module docstring).

    Parameters
    ----------
    suv
        SUV image (z, y, x).
    references
        Result of :func:`nenscope.segmentation.place_reference_regions`; its liver region
        gives the liver-adaptive threshold and its organ estimate the automatic liver/spleen.
    organ_masks
        Optional organ masks on the SUV grid; when given, the automatic rules are not used.
    settings
        Threshold options.
    physiology
        Constants of the automatic rules.
    tracer
        Tracer family (:class:`~nenscope.segmentation.patterns.TracerFamily`): which organs
        show physiological uptake.

    Returns
    -------
    LesionDetection
        Lesion labels and the dropped physiological components.
    """
    settings = DetectionSettings() if settings is None else settings
    physiology = PhysiologySettings() if physiology is None else physiology
    liver_ref = None
    if references is not None and references.liver is not None:
        liver_ref = (references.liver.mean, references.liver.sd)
    organs = None if references is None else references.organs
    if organ_masks is not None:
        masks = dict(organ_masks)
        liver = masks.pop("liver", None)
        seg = threshold_lesions(
            suv, settings=settings, exclude=masks, liver_mask=liver, liver_reference=liver_ref
        )
        notes = (f"organ masks excluded: {', '.join(sorted(masks)) or 'none'}",)
        return LesionDetection(
            labels=seg.labels,
            segmentation=seg,
            physiological=(),
            liver_mask=liver,
            method="organ masks",
            notes=notes + _threshold_notes(seg),
        )
    family = parse_option(tracer, TracerFamily, what="tracer family")
    normal = PHYSIOLOGICAL_UPTAKE[family]
    cool = _cool_liver(suv, family, references, settings.spill_margin_mm)
    # Not a liver: detection goes on as with the liver out of view.
    organs, liver_ref = _without_liver(organs, liver_ref, cool)
    liver = None if organs is None else organs.liver
    exclude: dict[str, npt.NDArray[np.bool_]] = {}
    if organs is not None and organs.spleen is not None and "spleen" in normal:
        exclude["spleen"] = organs.spleen
    anatomy = None
    if organs is not None:
        ct = None if organs.ct_on_pet is None else np.asarray(organs.ct_on_pet.array)
        anatomy = locate_anatomy(
            suv,
            ct,
            avid_brain="brain" in normal,
            avid_myocardium="myocardium" in normal,
            liver=organs.liver,
            smooth=organs.smooth,
            organs=organs,
        )
        for organ in ("brain", "myocardium"):
            mask = anatomy.mask(organ)
            if mask is not None and organ in normal:
                exclude[organ] = mask
    # Split at peaks: a node joined at threshold to an organ is classed apart from it; the
    # parts that are not physiological are joined again below (reunite_split).
    # The liver zone of the rules below does not depend on the detection: found meanwhile.
    seg, liver_zone = side_by_side(
        lambda: threshold_lesions(
            suv,
            settings=settings,
            exclude=exclude,
            liver_mask=liver,
            liver_reference=liver_ref,
            split=True,
            liver_contour_floor=family is TracerFamily.SSTR,
        ),
        lambda: (
            None
            if liver is None
            else grow_mask_mm(liver, suv.spacing_mm, settings.spill_margin_mm)
        ),
    )
    stand_in = _stand_in(suv, family, liver_ref, organs, exclude, settings.spill_margin_mm)
    context = _Context(
        anatomy=anatomy,
        normal=normal,
        family=family,
        liver=liver_ref if stand_in is None else stand_in,
        stand_in=stand_in is not None,
        neck_floor_z=_neck_floor(suv, anatomy),
        detection_level=None if stand_in is None else seg.threshold,
        excluded={k: v for k, v in exclude.items() if k != "spleen"},
        spill_margin_mm=settings.spill_margin_mm,
        measurable=settings.percist_measurable,
        smooth=None if organs is None else organs.smooth,
    )
    dropped, kept, organs_found = _classify(
        suv, seg.labels, organs, liver_zone, physiology, context
    )
    joined, kept = reunite_split(seg, kept, organs=organs_found)
    dropped = _excluded_entries(suv, context.excluded) + dropped
    bladder = [p for p in dropped if p.organ == "urinary bladder"]
    if anatomy is not None and bladder:
        # The pelvic floor: below the bladder lie the thighs (sites of the lesions).
        marks = {**anatomy.landmarks_z_mm, "bladder": min(p.centroid_mm[2] for p in bladder)}
        anatomy = dataclasses.replace(anatomy, landmarks_z_mm=marks)
    lut = np.zeros(int(joined.max()) + 1, dtype=np.uint32)
    lut[kept] = np.arange(1, len(kept) + 1, dtype=np.uint32)
    auto_notes = [f"automatic physiological-uptake rules; {len(dropped)} component(s) dropped"]
    auto_notes.extend(() if cool is None else (cool,))
    auto_notes.extend(_stand_in_note(stand_in))
    missing = not_modelled(family)
    if missing:
        auto_notes.append(
            f"physiological uptake not modelled on {family.value.upper()}: "
            f"{', '.join(missing)} (may be listed as candidates)"
        )
    if organs is None:
        auto_notes.append(
            "no organ estimate: liver-adaptive threshold and spleen exclusion not used"
        )
    return LesionDetection(
        labels=relabel(joined, lut),
        segmentation=seg,
        physiological=tuple(dropped),
        liver_mask=liver,
        method="automatic",
        notes=tuple(auto_notes) + _threshold_notes(seg),
        kept_reasons=tuple(_kept_reason(seg, family, liver_ref, stand_in) for _ in kept),
        anatomy=anatomy,
    )


NECK_BELOW_BRAIN_MM = 200.0
"""The neck's paired glands, tonsils and larynx lie within this distance below the brain's
lowest voxel (skull base to thoracic inlet: about 150-200 mm in an adult), mm."""

WARM_TISSUE_PERCENTILES = (80.0, 95.0)
"""The body's voxels between these SUV percentiles form the warm soft tissue (muscle at work,
blood vessels, glands) that stands in for the liver reference when the liver is not in view."""

WARM_TISSUE_DEPTH_MM = 10.0
"""Only body voxels deeper than this below the PET body outline (the skin's partial volume
lowers the outer ones), mm."""


def warm_tissue_reference(
    suv: ImageVolume,
    body: npt.NDArray[np.bool_],
    excluded: Mapping[str, npt.NDArray[np.bool_]],
    margin_mm: float,
) -> tuple[float, float] | None:
    """Mean and SD of the body's warm soft tissue: the stand-in for a liver out of view.

    The voxels of ``body`` deeper than :data:`WARM_TISSUE_DEPTH_MM`, outside the ``excluded``
    organs grown by ``margin_mm`` (brain, heart, spleen), between the
    :data:`WARM_TISSUE_PERCENTILES` of their SUV. On the two real FDG PET/CTs cropped to the
    head, neck and thorax its mean is 0.6-0.8 x their liver reference mean (docs/analysis.md
    4b): lower,
    so the rules scaled with it drop less than with a liver. None when no such voxel is left.
    """
    inner = np.asarray(
        ndimage.distance_transform_edt(body, sampling=suv.spacing_mm) > WARM_TISSUE_DEPTH_MM
    )
    for mask in excluded.values():
        inner &= ~grow_mask_mm(mask, suv.spacing_mm, margin_mm)
    values = np.asarray(suv.array, dtype=np.float64)[inner]
    if values.size == 0:
        return None
    lo, hi = np.percentile(values, WARM_TISSUE_PERCENTILES)
    band = values[(values >= lo) & (values <= hi)]
    if band.size == 0 or float(band.mean()) <= 0.0:
        return None
    return float(band.mean()), float(band.std())


def _stand_in(
    suv: ImageVolume,
    family: TracerFamily,
    liver_ref: tuple[float, float] | None,
    organs: OrganEstimate | None,
    excluded: Mapping[str, npt.NDArray[np.bool_]],
    margin_mm: float,
) -> tuple[float, float] | None:
    """FDG without a liver reference (a head-and-neck PET): the warm soft tissue, else None."""
    if family is not TracerFamily.FDG or liver_ref is not None or organs is None:
        return None
    return warm_tissue_reference(suv, organs.body, excluded, margin_mm)


def _cool_liver(
    suv: ImageVolume,
    family: TracerFamily,
    references: ReferenceRegions | None,
    margin_mm: float,
) -> str | None:
    """Why an automatic FDG liver estimate on a PET without CT is not a liver, else None.

    On FDG the liver is warmer than the body's warm soft tissue (1.3-1.6 x its mean on the
    real studies); an estimate whose reference mean lies below it is other tissue (the back
    muscles beside a lung of a thorax-only field of view), and its dome would misplace the
    diaphragm, heart and kidneys. A liver reference given by the user is kept.
    """
    if (
        family is not TracerFamily.FDG
        or references is None
        or references.liver is None
        or references.liver.method is not PlacementMethod.AUTOMATIC
        or references.organs is None
        or references.organs.liver is None
        or references.organs.ct_on_pet is not None
    ):
        return None
    warm = warm_tissue_reference(suv, references.organs.body, {}, margin_mm)
    if warm is None or references.liver.mean >= warm[0]:
        return None
    return (
        f"liver estimate not used for detection: its reference mean {references.liver.mean:.2f} "
        f"lies below the body's warm soft tissue ({warm[0]:.2f}); an FDG liver is warmer (the "
        "estimate is other tissue; give the liver with --liver-mm where it is in view)"
    )


def _without_liver(
    organs: OrganEstimate | None, liver_ref: tuple[float, float] | None, why: str | None
) -> tuple[OrganEstimate | None, tuple[float, float] | None]:
    """Drop the liver from the organ estimate and its reference when ``why`` is given."""
    if why is None or organs is None:
        return organs, liver_ref
    return dataclasses.replace(organs, liver=None), None


def _stand_in_note(stand_in: tuple[float, float] | None) -> tuple[str, ...]:
    """Say which reference stood in for the liver, and that PERCIST's level could not be used."""
    if stand_in is None:
        return ()
    return (
        "no liver reference (the liver is not in the field of view or not found): the FDG "
        "rules scale with the body's warm soft tissue (voxels between the "
        f"{WARM_TISSUE_PERCENTILES[0]:g}th and {WARM_TISSUE_PERCENTILES[1]:g}th percentile "
        f"of the body deeper than {WARM_TISSUE_DEPTH_MM:g} mm, brain and heart out: mean "
        f"{stand_in[0]:.2f}, SD {stand_in[1]:.2f}) standing in for the liver mean; "
        "PERCIST's liver-based measurable level could not be used: the level "
        f"{percist_liver_threshold(*stand_in):.2f} (1.5 × stand-in mean + 2 SD) stands in",
    )


def _compact_foci(
    suv: ImageVolume,
    labels: npt.NDArray[np.uint32],
    shapes: Mapping[int, rules.ComponentShape],
    level: float,
    midline_x_mm: float,
) -> set[int]:
    """Components whose upper half is a compact focus (neither elongated nor sprawling).

    The upper half: the voxels at or above the midpoint of the detection ``level`` and the
    component's SUVmax. A muscle's or a bowel loop's upper half is elongated or sprawling too;
    a node's is a ball, whatever low-level tissue joined it at threshold.
    """
    values = np.asarray(suv.array, dtype=np.float64)
    mids = np.full(int(labels.max()) + 1, np.inf)
    for label, s in shapes.items():
        mids[label] = 0.5 * (level + s.suvmax)
    core = np.where(values >= mids[labels], labels, 0).astype(np.uint32)
    settings = rules.RuleSettings()
    return {
        label
        for label, c in rules.measure_shapes(suv, core, midline_x_mm).items()
        if c.elongation < settings.elongation and c.fill >= settings.sprawling_fill
    }


def _neck_floor(suv: ImageVolume, anatomy: Anatomy | None) -> float | None:
    """Lowest z of the neck's glands: :data:`NECK_BELOW_BRAIN_MM` below a located brain."""
    brain = None if anatomy is None else anatomy.mask("brain")
    if brain is None or not brain.any():
        return None
    z_axis = np.broadcast_to(lps_axes(suv)[2], suv.shape)[:, 0, 0]
    return float(z_axis[brain.any(axis=(1, 2))].min()) - NECK_BELOW_BRAIN_MM


def _kept_reason(
    seg: LesionSegmentation,
    family: TracerFamily,
    liver: tuple[float, float] | None,
    stand_in: tuple[float, float] | None = None,
) -> str:
    """Why an automatic candidate was kept."""
    text = f"uptake above the detection threshold SUV {seg.threshold:.2f}"
    liver = liver if stand_in is None else stand_in
    if family is TracerFamily.FDG and liver is not None:
        text += (
            f" with SUVpeak at or above the PERCIST measurable level "
            f"{percist_liver_threshold(*liver):.2f}"
        )
        if stand_in is not None:
            text += " (warm soft tissue standing in for the liver, not in view)"
    return text + f"; outside the organs with normal uptake on {family.value.upper()}"


def _threshold_notes(seg: LesionSegmentation) -> tuple[str, ...]:
    text = f"detection threshold ({seg.method}): SUV {seg.threshold:.2f}"
    if seg.liver_threshold is not None:
        text += f"; inside the liver: SUV {seg.liver_threshold:.2f} (1.5 × mean + 2 SD)"
    return (text,)


@dataclass(frozen=True, slots=True)
class _Component:
    label: int
    centroid: npt.NDArray[np.float64]
    volume_ml: float
    suvmax: float
    in_liver: float
    in_spleen: float
    box_lo: npt.NDArray[np.float64]
    box_hi: npt.NDArray[np.float64]


def _components(
    suv: ImageVolume,
    labels: npt.NDArray[np.uint32],
    liver_zone: npt.NDArray[np.bool_] | None,
    spleen: npt.NDArray[np.bool_] | None,
) -> list[_Component]:
    n = int(labels.max())
    if n == 0:
        return []
    index = np.arange(1, n + 1)
    # Work on the labelled voxels only (a few per cent of a whole-body image).
    where = np.nonzero(labels)
    lab = labels[where].astype(np.intp)
    values = np.asarray(suv.array, dtype=np.float64)[where]
    counts = np.bincount(lab, minlength=n + 1)[1:].astype(np.float64)
    maxima = np.full(n + 1, -np.inf)
    np.maximum.at(maxima, lab, values)
    maxima = maxima[1:]
    coords = np.stack(where, axis=1).astype(np.float64)
    sums = np.stack([np.bincount(lab, weights=coords[:, a], minlength=n + 1) for a in range(3)], 1)
    centres = suv.index_to_lps(sums[1:] / np.maximum(counts, 1.0)[:, None])
    lps = suv.index_to_lps(coords)
    lo = np.full((n + 1, 3), np.inf)
    hi = np.full((n + 1, 3), -np.inf)
    np.minimum.at(lo, lab, lps)
    np.maximum.at(hi, lab, lps)

    def fraction(mask: npt.NDArray[np.bool_] | None) -> npt.NDArray[np.float64]:
        if mask is None:
            return np.zeros(n)
        inside = label_counts(labels[mask], minlength=n + 1)[1:]
        return np.asarray(inside / np.maximum(counts, 1.0))

    in_liver, in_spleen = fraction(liver_zone), fraction(spleen)
    return [
        _Component(
            label=int(i),
            centroid=centres[i - 1],
            volume_ml=float(counts[i - 1]) * suv.voxel_volume_ml,
            suvmax=float(maxima[i - 1]),
            in_liver=float(in_liver[i - 1]),
            in_spleen=float(in_spleen[i - 1]),
            box_lo=lo[i],
            box_hi=hi[i],
        )
        for i in index
        if counts[i - 1] > 0
    ]


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class _Context:
    """What the anatomy- and tracer-aware rules need."""

    anatomy: Anatomy | None = None
    normal: tuple[str, ...] = PHYSIOLOGICAL_UPTAKE[TracerFamily.OTHER]
    family: TracerFamily = TracerFamily.OTHER
    liver: tuple[float, float] | None = None
    excluded: Mapping[str, npt.NDArray[np.bool_]] = field(default_factory=dict)
    spill_margin_mm: float = 10.0
    measurable: bool = True
    smooth: npt.NDArray[np.float64] | None = None
    """The SUV smoothed with a 1-voxel Gaussian (the organ estimate's), or None."""
    stand_in: bool = False
    """``liver`` is the warm soft tissue standing in for a liver out of view (FDG rules only)."""
    neck_floor_z: float | None = None
    detection_level: float | None = None
    """The detection threshold (SUV) where a stand-in reference is used, else None."""
    """Lowest patient z of the neck's paired glands below a located brain, mm, or None."""


def _classify(
    suv: ImageVolume,
    labels: npt.NDArray[np.uint32],
    organs: OrganEstimate | None,
    liver_zone: npt.NDArray[np.bool_] | None,
    settings: PhysiologySettings,
    context: _Context | None = None,
) -> tuple[list[PhysiologicalUptake], list[int], set[int]]:
    """Class the components: physiological (with reasons), kept, and identified organs.

    The labels identified as an organ matter for split components: a part split off one of
    them at a peak of its own may be a lesion beside it.
    """
    context = _Context() if context is None else context
    # A stand-in reference (no liver in view) scales the FDG rules only.
    liver_mean = None if context.liver is None or context.stand_in else context.liver[0]
    spleen = None if organs is None else organs.spleen
    comps = _components(suv, labels, liver_zone, spleen)
    midline = 0.0 if organs is None else organs.midline_x_mm
    reasons: dict[int, str] = {}
    for c in comps:
        if c.in_spleen > settings.spleen_fraction:
            reasons[c.label] = "lies in the spleen"
        elif organs is None and c.volume_ml > settings.max_lesion_volume_ml:
            # No body, trunk or liver estimate: the position rules cannot run.
            reasons[c.label] = (
                f"larger than {settings.max_lesion_volume_ml:g} mL without an organ estimate "
                "(organ)"
            )
    frame = _Frame.build(suv, organs)
    ct = (
        None
        if organs is None or organs.ct_on_pet is None
        else np.asarray(organs.ct_on_pet.array, dtype=np.float64)
    )
    shapes = rules.measure_shapes(suv, labels, midline)
    bladder = _urinary_tract(suv, labels, comps, shapes, frame, reasons, settings, context, ct)
    limb_z = None if bladder is None else float(bladder.box_lo[2])
    # Below the bladder lie the thighs: nothing physiological with high uptake (STYLE: rule
    # documented in docs/analysis.md), so no organ rule may drop what lies there.
    below = {c.label for c in comps if limb_z is not None and c.centroid[2] < limb_z}
    _large_organs(comps, frame, reasons, settings, below)
    rules.spill(
        {k: v for k, v in shapes.items() if k not in below},
        context.excluded,
        suv,
        context.spill_margin_mm,
        reasons,
        rules.RuleSettings(),
    )
    for a, b in _mirror_pairs(comps, midline, settings):
        for c in (a, b):
            reasons.setdefault(c.label, "paired with its mirror image across the midline")
    if "adrenal glands" in context.normal:
        _adrenals(comps, frame, reasons, settings, None if organs is None else organs.liver)
    if "pituitary gland" in context.normal:
        _pituitary(comps, frame, reasons, settings)
    _faint_organs(comps, reasons, settings, liver_mean)
    if "uncinate process" in context.normal and liver_mean is not None:
        rules.uncinate(
            suv,
            shapes,
            reasons,
            rules.RuleSettings(),
            liver_mean,
            liver_zone,
            midline,
            smooth=context.smooth,
        )
    focal = set()
    if context.stand_in and context.detection_level is not None:
        focal = _compact_foci(suv, labels, shapes, context.detection_level, midline)
    _fdg_rules(shapes, context, reasons, below, focal)
    dropped = [
        PhysiologicalUptake(
            organ=_named_organ(reasons[c.label]) or _guessed(frame.guess(c), context.family),
            reason=reasons[c.label],
            centroid_mm=(float(c.centroid[0]), float(c.centroid[1]), float(c.centroid[2])),
            volume_ml=c.volume_ml,
            suvmax=c.suvmax,
        )
        for c in comps
        if c.label in reasons
    ]
    kept = [c.label for c in comps if c.label not in reasons]
    organs_found = {label for label, why in reasons.items() if _named_organ(why) in _ORGANS}
    return dropped, kept, organs_found


def _urinary_tract(  # noqa: PLR0913 - the rules need the image, its components and anatomy
    suv: ImageVolume,
    labels: npt.NDArray[np.uint32],
    comps: list[_Component],
    shapes: Mapping[int, rules.ComponentShape],
    frame: _Frame,
    reasons: dict[int, str],
    settings: PhysiologySettings,
    context: _Context,
    ct: npt.NDArray[np.float64] | None,
) -> _Component | None:
    """Mark kidneys, bladder and ureters (in place); return the bladder.

    Kidneys and ureters from the anatomy on FDG (validated on the real FDG studies) and SSTR
    (generated studies only), where a small structure at the renal hilum is not kidney.
    """
    fdg = context.family is TracerFamily.FDG
    urinary = fdg or context.family is TracerFamily.SSTR
    kidneys = (
        _kidneys(suv, labels, context, shapes, reasons, settings, hilum=not fdg) if urinary else []
    )
    brain = None if context.anatomy is None else context.anatomy.mask("brain")
    ceiling = None
    if brain is not None and brain.any():
        z_axis = np.broadcast_to(lps_axes(suv)[2], suv.shape)[:, 0, 0]
        ceiling = float(z_axis[brain.any(axis=(1, 2))].min()) - settings.bladder_below_brain_mm
    bladder = _bladder(comps, frame, reasons, settings, ct, labels, ceiling)
    if urinary and "urinary tract" in context.normal:
        seeds = kidneys + ([] if bladder is None else [bladder.label])
        if fdg:
            # FDG: the background-corrected contour of a hot pelvis or bladder leaves its
            # cooler rest as separate components touching it (SSTR: the hot renal cortex is
            # one component with its pelvis; a cooler neighbour there may be a hilum node).
            seeds = rules.same_organ(shapes, seeds, reasons, 1.5 * max(suv.spacing_mm))
        rules.ureters(shapes, seeds, reasons, rules.RuleSettings(), craniocaudal=not fdg)
    return bladder


_EXCLUDED_ORGAN = {"brain": "brain", "myocardium": "heart"}
"""Anatomy masks excluded before detection → the organ named in the physiological list."""


def _excluded_entries(
    suv: ImageVolume, excluded: Mapping[str, npt.NDArray[np.bool_]]
) -> list[PhysiologicalUptake]:
    """One physiological entry per organ mask excluded before detection (brain, myocardium)."""
    values = np.asarray(suv.array, dtype=np.float64)
    out = []
    for name, mask in excluded.items():
        if not mask.any():
            continue
        organ = _EXCLUDED_ORGAN.get(name, name)
        centre = suv.index_to_lps(np.argwhere(mask).mean(axis=0)[None])[0]
        out.append(
            PhysiologicalUptake(
                organ=organ,
                reason=f"{name} located on the images and excluded before detection ({organ})",
                centroid_mm=(float(centre[0]), float(centre[1]), float(centre[2])),
                volume_ml=float(mask.sum()) * suv.voxel_volume_ml,
                suvmax=float(values[mask].max()),
            )
        )
    return out


def _guessed(organ: str, family: TracerFamily) -> str:
    """Name a dropped component by position; on FDG say it is the region, not the organ."""
    if family is TracerFamily.FDG:
        return f"{organ} region (position only)"
    return organ


def _kidneys(
    suv: ImageVolume,
    labels: npt.NDArray[np.uint32],
    context: _Context,
    shapes: Mapping[int, rules.ComponentShape],
    reasons: dict[int, str],
    settings: PhysiologySettings,
    *,
    hilum: bool = False,
) -> list[int]:
    """Mark the components in the kidneys found on the anatomy (in place); their labels.

    A kidney smaller than ``settings.organ_min_ml`` is not used (the organ-size rules are off
    when that setting is larger than any organ). With ``hilum`` (SSTR, where the renal cortex
    is as avid as a node and the kidney mask takes in what touches it): a component smaller
    than ``settings.hilum_max_ml`` whose peak lies medial of the kidney's medial quarter
    (:data:`HILUM_QUANTILE` of the mask's distances from the midline) is a structure at the
    renal hilum (a node, vessels), not kidney; and the kidney level is
    ``kidney_level_liver_sstr`` × the liver mean, above the avid liver.
    """
    organ_min_ml = settings.organ_min_ml
    if (
        "kidneys" not in context.normal
        or context.anatomy is None
        or context.liver is None
        or context.stand_in
        or not shapes
    ):
        return []
    found = []
    n = int(labels.max())
    rule_settings = rules.RuleSettings()
    if hilum:
        # SSTR: the liver is avid too; the kidney level must lie above it.
        rule_settings = dataclasses.replace(
            rule_settings, kidney_level_liver=rule_settings.kidney_level_liver_sstr
        )
    zone: npt.NDArray[np.float64] | None = None
    for side, mask in rules.kidney_masks(
        suv, context.anatomy, context.liver[0], rule_settings, smooth=context.smooth
    ).items():
        if float(mask.sum()) * suv.voxel_volume_ml < organ_min_ml:
            continue
        grown = grow_mask_mm(mask, suv.spacing_mm, context.spill_margin_mm)
        fraction = rules.in_mask_fraction(labels, grown, n)
        # Also what mostly lies in the kidney zone and overlaps the kidney (a pole that the
        # opening cut off the kidney's mask); the same for both kidneys.
        if zone is None:
            zone = rules.in_mask_fraction(labels, context.anatomy.masks["kidney zone"], n)
        medial_mm = None
        if hilum:
            # The mask's voxel indices in C order, found on its box (the same array).
            box = bounding_box(mask)
            where = np.argwhere(mask[box]) + np.array([b.start for b in box], dtype=np.intp)
            x = suv.index_to_lps(where.astype(np.float64))[:, 0]
            medial_mm = float(
                np.quantile(np.abs(x - context.anatomy.midline_x_mm), HILUM_QUANTILE)
            )
        for label in shapes:
            inside = fraction[label - 1] >= 0.5 or (
                fraction[label - 1] >= 0.25 and zone[label - 1] >= 0.5
            )
            s = shapes[label]
            if (
                medial_mm is not None
                and s.volume_ml < settings.hilum_max_ml
                and abs(float(s.max_lps[0]) - context.anatomy.midline_x_mm) < medial_mm
            ):
                continue  # at the renal hilum: may be a node (kept for the reader)
            if label not in reasons and inside:
                reasons[label] = f"lies in the {side}, with its collecting system (kidney)"
                found.append(label)
    return found


def _fdg_rules(
    shapes: Mapping[int, rules.ComponentShape],
    context: _Context,
    reasons: dict[int, str],
    protected: set[int],
    focal: set[int] = frozenset(),  # type: ignore[assignment]
) -> None:
    """FDG: Waldeyer's ring, bowel and muscle, and the PERCIST measurability level.

    ``focal``: components whose upper half is a compact focus; the bowel, muscle and brown fat
    shape rules leave them (a node joined at threshold to a muscle, with a stand-in reference).
    """
    if context.family is not TracerFamily.FDG or context.liver is None:
        return
    open_shapes = {k: v for k, v in shapes.items() if k not in protected}
    before = set(reasons)
    settings = rules.RuleSettings()
    marks = {} if context.anatomy is None else context.anatomy.landmarks_z_mm
    floor = marks.get("lung_apex")
    if floor is None and "diaphragm" in marks:
        floor = marks["diaphragm"] + NECK_ABOVE_DOME_MM
    if floor is None:
        # Neither lungs nor diaphragm (a head-and-neck field): the glands and Waldeyer's ring
        # lie within NECK_BELOW_BRAIN_MM below the brain, where it is in view.
        floor = context.neck_floor_z
    if floor is not None and context.anatomy is not None:
        rules.symmetric(
            open_shapes,
            context.liver[0],
            reasons,
            settings,
            "Waldeyer's ring / paired glands",
            midline_x_mm=context.anatomy.midline_x_mm,
            floor_z=floor,
        )
    shaped = {k: v for k, v in open_shapes.items() if k not in focal}
    rules.elongated(shaped, context.liver[0], reasons, settings, "bowel or muscle")
    rules.sprawling(shaped, context.liver[0], reasons, settings, "bowel, muscle or brown fat")
    if context.measurable:
        rules.not_measurable(shapes, context.liver, reasons)
    if context.stand_in:
        for label in set(reasons) - before:
            reasons[label] = reasons[label].replace(
                "liver mean", "warm soft tissue mean (standing in for the liver, not in view)"
            )


HILUM_QUANTILE = 0.25
"""Kidney voxels nearer the midline than this quantile of their distances form its medial side."""

BLADDER_CORE_FRACTION = 0.5
"""Voxels at or above this fraction of a component's SUVmax form its core for the CT check."""

CT_OUTSIDE_HU = -1000.0
"""Value of the resampled CT outside its field of view (``resample_to(..., cval=-1000)``)."""


def _median_core_hu(
    c: _Component,
    ct: npt.NDArray[np.float64],
    suv: npt.NDArray[np.float64],
    labels: npt.NDArray[np.uint32],
) -> float | None:
    """Median CT (HU) of the component's core, or None when the CT does not cover it."""
    inside = labels == c.label
    core = inside & (suv >= BLADDER_CORE_FRACTION * c.suvmax)
    hu = ct[core]
    covered = hu != CT_OUTSIDE_HU
    if hu.size == 0 or covered.mean() < 0.8:
        return None
    return float(np.median(hu[covered]))


def _bladder(
    comps: list[_Component],
    frame: _Frame,
    reasons: dict[int, str],
    settings: PhysiologySettings,
    ct: npt.NDArray[np.float64] | None,
    labels: npt.NDArray[np.uint32],
    below_brain_z: float | None = None,
) -> _Component | None:
    """Mark the urinary bladder (in place) and return it.

    The bladder is the most caudal high-uptake structure on the midline of the trunk, below the
    liver: among components within ``midline_mm`` of the midline, inside the trunk and below
    the liver (below the trunk's middle without a liver estimate) whose SUVmax is at least half
    the highest SUVmax of that group, the most caudal one; where the CT covers it, its core
    must be water-dense (urine). Only one component is marked. Where no CT covers it and the
    brain is in the image, the bladder lies below ``below_brain_z`` (``bladder_below_brain_mm``
    below the brain's lowest slice): a PET of the head, neck and thorax holds no bladder.
    """
    if frame.trunk_z is None:
        return None
    low, high = frame.trunk_z
    ceiling = (low + high) / 2.0 if frame.liver_z is None else frame.liver_z[0]
    group = [
        c
        for c in comps
        if c.label not in reasons
        and c.in_liver < 0.5
        and abs(float(c.centroid[0]) - frame.midline) < settings.midline_mm
        and low <= c.centroid[2] < ceiling
    ]

    def core_hu(c: _Component) -> float | None:
        if ct is None or frame.suv is None:
            return None
        return _median_core_hu(c, ct, frame.suv, labels)

    if below_brain_z is not None:
        # PET alone: too near the brain for a bladder (the heart, on a PET of the upper body).
        group = [c for c in group if c.centroid[2] < below_brain_z or core_hu(c) is not None]
    if not group:
        return None
    hottest = max(c.suvmax for c in group)
    for c in sorted(group, key=lambda c: float(c.centroid[2])):
        if c.suvmax < 0.5 * hottest:
            continue
        hu = core_hu(c)
        if hu is not None and not settings.bladder_hu[0] <= hu <= settings.bladder_hu[1]:
            continue
        reasons[c.label] = (
            "most caudal high-uptake midline structure of the trunk, below the liver "
            "(urinary bladder)"
        )
        return c
    return None


def _large_organs(
    comps: list[_Component],
    frame: _Frame,
    reasons: dict[int, str],
    settings: PhysiologySettings,
    protected: set[int],
) -> None:
    """Mark brain, heart and kidneys by their position (in place); see the module docstring.

    One organ per slot (brain, heart, right kidney, left kidney): where several components
    fit a slot, only the largest is the organ, so a lesion beside an organ is kept.
    """
    slots: dict[str, list[_Component]] = {}
    for c in comps:
        if (
            c.label in reasons
            or c.label in protected
            or c.in_liver >= 0.5
            or c.volume_ml < settings.organ_min_ml
        ):
            continue
        slot = _organ_slot(c, frame, settings)
        if slot is not None:
            slots.setdefault(slot, []).append(c)
    for slot, found in slots.items():
        organ = max(found, key=lambda c: c.volume_ml)
        reasons[organ.label] = _SLOT_REASONS[slot.split("-")[0]]


_SLOT_REASONS = {
    "brain": "organ-sized uptake in the head above the trunk (brain)",
    "heart": "organ-sized uptake just above the liver dome, left-anterior (heart)",
    "kidney": "organ-sized paravertebral uptake at the liver level (kidney)",
}

HEART_ABOVE_LIVER_MM = 150.0
"""Largest height of the heart's centroid above the liver dome, mm (heart ~12 cm long)."""


def _organ_slot(c: _Component, frame: _Frame, settings: PhysiologySettings) -> str | None:
    """Return the organ whose position ``c`` has: brain, heart, kidney-right/-left, or None."""
    x, y, z = (float(v) for v in c.centroid)
    offset = x - frame.midline  # > 0: patient's left (LPS)
    if frame.trunk_z is not None and z > frame.trunk_z[1]:
        return "brain"
    if frame.liver_z is None:
        return None
    low, high = frame.liver_z
    # The heart lies on the dome, across the midline and mostly to the left, anterior.
    if (
        high < z <= high + HEART_ABOVE_LIVER_MM
        and -20.0 <= offset <= 80.0
        and c.box_lo[0] < frame.midline < c.box_hi[0]
        and y < frame.body_y_centre + 20.0
    ):
        return "heart"
    lo_lat, hi_lat = settings.kidney_lateral_mm
    if (
        lo_lat <= abs(offset) <= hi_lat
        and y > frame.body_y_centre
        and low - settings.kidney_below_liver_mm <= z <= high
    ):
        return "kidney-left" if offset > 0 else "kidney-right"
    return None


_ORGANS = frozenset(
    {"urinary bladder", "brain", "heart", "kidney", "ureter", "myocardium", "spleen"}
)
"""Organs identified as such (by position, anatomy or the urinary tract), not by a shape or
uptake-level rule: a structure split off one of them at a peak of its own is classed apart."""

_NAMED_BY_RULE = (
    "urinary bladder",
    "brain",
    "heart",
    "kidney",
    "ureter",
    "myocardium",
    "spleen",
    "Waldeyer's ring / paired glands",
    "bowel or muscle",
    "bowel, muscle or brown fat",
    "normal pancreas or bowel",
    "uncinate process",
)
"""Organs that a rule names in its reason (last parenthesis)."""


def _named_organ(reason: str) -> str | None:
    """Return the organ a rule named in ``reason`` ("... (kidney)"), or None."""
    if reason.endswith(": background"):
        return "background (below the measurable level)"
    for organ in _NAMED_BY_RULE:
        if reason.endswith(f"({organ})"):
            return organ
    return None


def _adrenals(
    comps: list[_Component],
    frame: _Frame,
    reasons: dict[int, str],
    settings: PhysiologySettings,
    liver: npt.NDArray[np.bool_] | None = None,
) -> None:
    """Mark small posterior-lateral uptake on a kidney's upper pole as adrenal (in place).

    The right adrenal touches the liver: a component in the liver zone counts when its
    centroid lies outside the liver estimate itself (a liver lesion's lies inside).
    """
    kidneys = [c for c in comps if c.label in reasons and frame.guess(c) == "kidney"]
    for c in comps:
        if c.label in reasons or c.volume_ml > settings.adrenal_max_ml:
            continue
        if c.in_liver >= 0.5 and (liver is None or _inside(frame, liver, c.centroid)):
            continue
        if abs(float(c.centroid[0]) - frame.midline) < 25.0:
            continue
        for k in kidneys:
            gap = np.maximum(np.maximum(k.box_lo - c.centroid, c.centroid - k.box_hi), 0.0)
            high = c.centroid[2] >= k.box_hi[2] - 15.0
            posterior = c.centroid[1] >= k.centroid[1] - 20.0
            if high and posterior and float(np.linalg.norm(gap)) <= settings.adrenal_distance_mm:
                reasons[c.label] = "small uptake on the upper pole of a kidney (adrenal)"
                break


def _inside(frame: _Frame, mask: npt.NDArray[np.bool_], point_mm: npt.NDArray[np.float64]) -> bool:
    """Whether the voxel holding ``point_mm`` (LPS) is in ``mask`` (outside the grid: no)."""
    if frame.affine is None:
        return True
    k, j, i = (
        int(v) for v in np.round(np.linalg.solve(frame.affine, np.append(point_mm, 1.0))[:3])
    )
    inside = all(0 <= a < n for a, n in zip((k, j, i), mask.shape, strict=True))
    return bool(inside and mask[k, j, i])


def _pituitary(
    comps: list[_Component],
    frame: _Frame,
    reasons: dict[int, str],
    settings: PhysiologySettings,
) -> None:
    """Mark small midline uptake in the head above the trunk as pituitary (in place)."""
    if frame.trunk_top_z is None:
        return
    for c in comps:
        if c.label in reasons or c.volume_ml > settings.pituitary_max_ml:
            continue
        if c.centroid[2] > frame.trunk_top_z and abs(c.centroid[0] - frame.midline) < 10.0:
            reasons[c.label] = "small midline uptake in the head (pituitary)"


def _faint_organs(
    comps: list[_Component],
    reasons: dict[int, str],
    settings: PhysiologySettings,
    liver_mean: float | None,
) -> None:
    """Mark organ-sized, elongated uptake below the liver as a normal organ (in place)."""
    if liver_mean is None:
        return
    for c in comps:
        if (
            c.label in reasons
            or c.in_liver >= 0.5
            or c.volume_ml < settings.faint_organ_min_ml
            or c.suvmax >= liver_mean
        ):
            continue
        sphere_mm = (6.0 * c.volume_ml * MM3_PER_ML / np.pi) ** (1.0 / 3.0)
        extent_mm = float(np.max(c.box_hi - c.box_lo))
        if extent_mm >= settings.faint_organ_elongation * sphere_mm:
            reasons[c.label] = (
                f"elongated {c.volume_ml:.0f} mL uptake ({extent_mm:.0f} mm) below the liver "
                f"mean {liver_mean:.2f} (normal pancreas or bowel)"
            )


def _mirror_pairs(
    comps: list[_Component], midline: float, settings: PhysiologySettings
) -> list[tuple[_Component, _Component]]:
    pairs = []
    for i, a in enumerate(comps):
        for b in comps[i + 1 :]:
            mirrored = b.centroid.copy()
            mirrored[0] = 2.0 * midline - mirrored[0]
            far_from_midline = abs(a.centroid[0] - midline) > settings.pair_distance_mm / 2.0
            close = float(np.linalg.norm(a.centroid - mirrored)) <= settings.pair_distance_mm
            vol = max(a.volume_ml, b.volume_ml) / max(min(a.volume_ml, b.volume_ml), 1e-12)
            up = max(a.suvmax, b.suvmax) / max(min(a.suvmax, b.suvmax), 1e-12)
            if (
                far_from_midline
                and close
                and vol <= settings.pair_volume_ratio
                and up <= settings.pair_uptake_ratio
            ):
                pairs.append((a, b))
    return pairs


@dataclass(frozen=True, slots=True)
class _Frame:
    """Coarse anatomical frame for naming dropped components."""

    midline: float
    liver_z: tuple[float, float] | None
    trunk_top_z: float | None
    body_y_centre: float
    trunk_z: tuple[float, float] | None = None
    suv: npt.NDArray[np.float64] | None = None
    affine: npt.NDArray[np.float64] | None = None

    @staticmethod
    def build(suv: ImageVolume, organs: OrganEstimate | None) -> _Frame:
        if organs is None or not organs.trunk_slices.any():
            # No trunk (no organ estimate, or a field of view too short to find one).
            midline = 0.0 if organs is None else organs.midline_x_mm
            return _Frame(midline=midline, liver_z=None, trunk_top_z=None, body_y_centre=0.0)
        _, y, z = (np.broadcast_to(a, suv.shape) for a in lps_axes(suv))
        liver_z = None
        if organs.liver is not None:
            liver_z = (float(z[organs.liver].min()), float(z[organs.liver].max()))
        trunk = np.flatnonzero(organs.trunk_slices)
        z_axis = z[:, 0, 0]
        trunk_top = float(z_axis[trunk].max()) if trunk.size else None
        trunk_z = (float(z_axis[trunk].min()), float(z_axis[trunk].max())) if trunk.size else None
        return _Frame(
            midline=organs.midline_x_mm,
            liver_z=liver_z,
            trunk_top_z=trunk_top,
            body_y_centre=float(np.median(y[organs.body])),
            trunk_z=trunk_z,
            suv=np.asarray(suv.array, dtype=np.float64),
            affine=np.asarray(suv.affine, dtype=np.float64),
        )

    def guess(self, c: _Component) -> str:
        x, y, z = (float(v) for v in c.centroid)
        lateral = abs(x - self.midline)
        if self.trunk_top_z is not None and z > self.trunk_top_z:
            if c.volume_ml > 200.0:
                return "brain"
            return "pituitary gland" if lateral < 10.0 else "salivary gland / head and neck"
        if self.liver_z is None:
            return "organ"
        low, high = self.liver_z
        if z > high:
            return "heart" if c.volume_ml > 100.0 else "thoracic structure"
        if lateral < 40.0 and z < low:
            return "urinary bladder" if c.volume_ml > 20.0 else "midline abdominal structure"
        if y > self.body_y_centre and lateral >= 30.0:
            return "kidney" if c.volume_ml > 50.0 else "adrenal gland"
        if y > self.body_y_centre and c.volume_ml <= 15.0:
            return "adrenal gland"
        return "organ"
