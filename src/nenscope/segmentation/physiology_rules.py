"""Anatomy- and tracer-aware physiological-uptake rules (used by :mod:`.physiology`; pure).

Each rule looks at one detected component (after the organ masks of
:func:`nenscope.segmentation.anatomy.locate_anatomy` were excluded) and, where it matches,
returns the reason it is physiological. Rules run only for the organs that show normal uptake
on the study's tracer family (:data:`nenscope.segmentation.patterns.PHYSIOLOGICAL_UPTAKE`).

* **Kidneys** (FDG so far: validated on the real FDG studies only): in the kidney zone of the
  anatomy, per side, the region whose smoothed SUV is at least ``kidney_level_liver`` × the
  liver mean, opened with a ball of ``kidney_opening_mm`` (this cuts the thin joins to the
  bowel and the spleen), the largest part of at least ``kidney_min_ml``; a component with at
  least half its voxels in that region (grown by the spill margin), or a quarter there and
  half in the kidney zone (a pole the opening cut off), is kidney / renal collecting system.
  On SSTR, where the liver is avid too, the level is ``kidney_level_liver_sstr`` × the liver
  mean (SSTR kidneys are about twice the liver), so the liver is not taken for a kidney.
* **Urinary tract**: starting from the kidneys and the bladder, a component is a ureter when
  it lies within ``ureter_gap_mm`` of a urinary component (peristalsis leaves gaps), between
  the kidneys' upper edge and the bladder's lower edge, and is tubular (its narrower in-plane
  extent at most ``ureter_width_mm`` and its longest extent at least twice that); repeated
  until no component is added (renal pelvis → ureter → bladder is one structure).
* **Spill from an excluded organ**: a component touching an excluded organ mask (brain,
  myocardium, spleen, kidneys) whose maximum lies on that border and whose SUVmax is below
  ``spill_fraction`` × the organ's SUVmax is the blurred edge of that organ (partial-volume
  spill-out); a lesion beside an organ has its own maximum inside.
* **Symmetric structure on the midline** (FDG: Waldeyer's ring, tonsils), in the neck and
  head only (above the lung apex): a component crossing the midline whose mirror image
  overlaps it by at least ``symmetry_overlap`` (intersection over union), whose hottest voxel
  lies ``symmetric_peak_mm`` or more off the midline (one peak each side, not a midline
  lesion) and whose SUVmax is below ``symmetric_max_liver`` × the liver mean.
* **Elongated moderate uptake** (FDG: bowel and muscle): a component of at least
  ``elongated_min_ml`` whose longest extent is at least ``elongation`` × the diameter of a
  sphere of its volume and whose SUVmax is below ``elongated_max_liver`` × the liver mean.
* **Sprawling moderate uptake** (FDG: bowel loops, muscle, brown fat, oesophagus): a
  component of at most ``sprawling_max_ml`` filling less than ``sprawling_fill`` of its
  bounding box (holes filled; a sphere fills 52 %) with SUVmax below ``sprawling_max_liver`` ×
  the liver mean; nodes are compact, tumours larger or hotter. Not below the bladder (limbs).
* **Uncinate process** (SSTR): a focus of at most ``uncinate_max_ml`` below
  ``uncinate_max_liver`` × the liver mean, right of the midline, joined at
  ``uncinate_link_liver`` × the liver mean (smoothed, outside the liver zone, not above the
  focus) to a band of uptake that reaches ``uncinate_across_mm`` left of the midline (the
  pancreatic body), the focus at the band's right end: the pancreatic head (SSTR-RADS 2
  pitfall). Without such a band nothing is marked.
* **Measurable** (FDG): a component whose SUVpeak (highest 3×3×3 local mean) is below the
  PERCIST measurability level 1.5 × liver mean + 2 SD is not a candidate (Wahl et al., J Nucl
  Med 2009;50 Suppl 1:122S).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from nenscope.core import ImageVolume
from nenscope.core.units import MM3_PER_ML
from nenscope.segmentation._labels import bounding_box, label_counts
from nenscope.segmentation.anatomy import Anatomy
from nenscope.segmentation.lesions import grow_mask_mm, percist_liver_threshold
from nenscope.segmentation.organs import lps_axes

__all__ = ["ComponentShape", "RuleSettings", "kidney_masks", "measure_shapes", "uncinate"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleSettings:
    """Constants of the rules (module docstring)."""

    kidney_level_liver: float = 1.0
    kidney_level_liver_sstr: float = 1.3
    kidney_opening_mm: float = 7.0
    kidney_min_ml: float = 30.0
    ureter_gap_mm: float = 30.0
    ureter_width_mm: float = 20.0
    spill_fraction: float = 0.5
    symmetry_overlap: float = 0.5
    symmetric_max_liver: float = 4.0
    symmetric_peak_mm: float = 8.0
    elongated_min_ml: float = 3.0
    elongation: float = 2.0
    elongated_max_liver: float = 3.0
    sprawling_fill: float = 0.25
    sprawling_max_liver: float = 3.5
    sprawling_max_ml: float = 60.0
    uncinate_max_ml: float = 8.0
    uncinate_max_liver: float = 1.5
    uncinate_link_liver: float = 0.3
    uncinate_across_mm: float = 20.0


@dataclass(frozen=True, slots=True, kw_only=True)
class ComponentShape:
    """Shape and uptake of one component (LPS mm)."""

    label: int
    lo: npt.NDArray[np.float64]
    hi: npt.NDArray[np.float64]
    volume_ml: float
    suvmax: float
    suvpeak: float
    max_lps: npt.NDArray[np.float64]
    symmetry: float
    filled_ml: float = 0.0

    @property
    def width_mm(self) -> float:
        """Largest in-plane extent."""
        return float(max(self.hi[0] - self.lo[0], self.hi[1] - self.lo[1]))

    def tubular(self, width_mm: float) -> bool:
        """Thin across (the narrower in-plane extent at most ``width_mm``) and twice as long."""
        extent = self.hi - self.lo
        thin = float(min(extent[0], extent[1]))
        return thin <= width_mm and float(extent.max()) >= 2.0 * thin

    @property
    def height_mm(self) -> float:
        """Craniocaudal extent."""
        return float(self.hi[2] - self.lo[2])

    @property
    def fill(self) -> float:
        """Volume with holes filled / bounding-box volume (0.52 for a sphere; low if sprawling)."""
        box_ml = float(np.prod(self.hi - self.lo)) / MM3_PER_ML
        return max(self.volume_ml, self.filled_ml) / max(box_ml, 1e-9)

    @property
    def elongation(self) -> float:
        """Longest extent / diameter of a sphere of the same volume."""
        sphere = float((6.0 * self.volume_ml * MM3_PER_ML / np.pi) ** (1.0 / 3.0))
        return float(np.max(self.hi - self.lo)) / max(sphere, 1e-9)


def measure_shapes(
    suv: ImageVolume, labels: npt.NDArray[np.uint32], midline_x_mm: float
) -> dict[int, ComponentShape]:
    """Shape, SUVmax, SUVpeak (3×3×3 local mean) and mirror symmetry of every component."""
    values = np.asarray(suv.array, dtype=np.float64)
    out: dict[int, ComponentShape] = {}
    spacing = np.asarray(suv.spacing_mm)
    boxes: list[tuple[slice, ...] | None] = list(ndimage.find_objects(labels))
    for index, box in enumerate(boxes, start=1):
        if box is None:  # a label number without voxels
            continue
        region = labels[box] == index
        if not region.any():
            continue
        sub = values[box]
        local = ndimage.uniform_filter(sub, size=3, mode="nearest")
        where = np.argwhere(region).astype(np.float64)
        offset = np.array([s.start for s in box], dtype=np.float64)
        lps = suv.index_to_lps(where + offset)
        peak_at = np.unravel_index(int(np.argmax(np.where(region, sub, -np.inf))), sub.shape)
        out[index] = ComponentShape(
            label=index,
            lo=lps.min(axis=0) - 0.5 * spacing[::-1],
            hi=lps.max(axis=0) + 0.5 * spacing[::-1],
            volume_ml=float(region.sum()) * suv.voxel_volume_ml,
            suvmax=float(sub[region].max()),
            suvpeak=float(local[region].max()),
            max_lps=suv.index_to_lps(np.asarray(peak_at, dtype=np.float64) + offset)[0],
            symmetry=_symmetry(lps, midline_x_mm, float(spacing[2])),
            filled_ml=float(ndimage.binary_fill_holes(region).sum()) * suv.voxel_volume_ml,
        )
    return out


def _symmetry(lps: npt.NDArray[np.float64], midline: float, step: float) -> float:
    """Intersection over union of a component with its mirror image across the midline."""
    if not (lps[:, 0].min() < midline < lps[:, 0].max()):
        return 0.0
    keys = np.round(lps / step).astype(np.int64)
    mirrored = keys.copy()
    mirrored[:, 0] = np.round((2.0 * midline - lps[:, 0]) / step).astype(np.int64)
    # The sets of (x, y, z) cells, each cell packed into one integer (sets of tuples took
    # seconds on a large component).
    both = np.concatenate([keys, mirrored])
    low = both.min(axis=0)
    size = both.max(axis=0) - low + 1
    packed = ((both - low) * np.array([size[1] * size[2], size[2], 1])).sum(axis=1)
    cells = int(np.prod(size))
    if cells <= 4 * packed.size + 1_000_000:
        # Cells as flags on the bounding grid: no sort.
        own_grid = np.zeros(cells, dtype=bool)
        own_grid[packed[: len(keys)]] = True
        other_grid = np.zeros(cells, dtype=bool)
        other_grid[packed[len(keys) :]] = True
        common = int(np.count_nonzero(own_grid & other_grid))
        union = int(np.count_nonzero(own_grid | other_grid))
    else:
        own = np.unique(packed[: len(keys)])
        other = np.unique(packed[len(keys) :])
        common = np.intersect1d(own, other, assume_unique=True).size
        union = own.size + other.size - common
    return common / union if union else 0.0


def kidney_masks(
    suv: ImageVolume,
    anatomy: Anatomy,
    liver_mean: float,
    settings: RuleSettings,
    *,
    smooth: npt.NDArray[np.float64] | None = None,
) -> dict[str, npt.NDArray[np.bool_]]:
    """Right and left kidney (with the collecting system) in the anatomy's kidney zone.

    ``smooth`` is the SUV smoothed with a 1-voxel Gaussian where the caller has it (the organ
    estimate's); otherwise it is computed here.
    """
    zone = anatomy.mask("kidney zone")
    if zone is None or not zone.any():
        return {}
    values = _smoothed(suv, smooth)
    # Everything below happens inside the zone's box (the same voxels, the same operations):
    # about a tenth of a whole-body grid.
    zone_box = bounding_box(zone)
    x = np.broadcast_to(lps_axes(suv)[0], suv.shape)[zone_box]
    avid = zone[zone_box] & (values[zone_box] >= settings.kidney_level_liver * liver_mean)
    out = {}
    ball = _ball(settings.kidney_opening_mm, suv.spacing_mm)
    for side, sel in (
        ("right kidney", x < anatomy.midline_x_mm),
        ("left kidney", x >= anatomy.midline_x_mm),
    ):
        part = avid & sel
        if not part.any():
            continue
        inner = bounding_box(part)
        part = part[inner]
        box = tuple(
            slice(a.start + b.start, a.stop + b.start)
            for a, b in zip(inner, zone_box, strict=True)
        )
        opened = ndimage.binary_opening(part, structure=ball)
        lab, n = ndimage.label(opened)
        if n == 0:
            continue
        sizes = np.bincount(lab.ravel())
        sizes[0] = 0
        best = lab == int(np.argmax(sizes))
        if best.sum() * suv.voxel_volume_ml < settings.kidney_min_ml:
            continue
        mask = np.zeros(suv.shape, dtype=bool)
        mask[box] = ndimage.binary_dilation(best, structure=ball) & part
        out[side] = mask
    return out


def _smoothed(suv: ImageVolume, smooth: npt.NDArray[np.float64] | None) -> npt.NDArray[np.float64]:
    """Return the SUV smoothed with a 1-voxel Gaussian: the caller's copy, or computed here."""
    if smooth is not None and smooth.shape == suv.shape:
        return smooth
    return np.asarray(ndimage.gaussian_filter(np.asarray(suv.array, dtype=np.float64), 1.0))


def _ball(radius_mm: float, spacing: tuple[float, float, float]) -> npt.NDArray[np.bool_]:
    half = [max(1, int(radius_mm // s)) for s in spacing]
    grids = np.ogrid[tuple(slice(-h, h + 1) for h in half)]
    dist = sum((g * s) ** 2 for g, s in zip(grids, spacing, strict=True))
    return np.asarray(dist <= radius_mm**2)


def in_mask_fraction(
    labels: npt.NDArray[np.uint32], mask: npt.NDArray[np.bool_], n: int
) -> npt.NDArray[np.float64]:
    """Fraction of each component's voxels (1..n) inside ``mask``."""
    counts = label_counts(labels, minlength=n + 1)[1:].astype(np.float64)
    inside = label_counts(labels[mask], minlength=n + 1)[1:]
    return np.asarray(inside / np.maximum(counts, 1.0))


def ureters(
    shapes: Mapping[int, ComponentShape],
    urinary: Sequence[int],
    reasons: dict[int, str],
    settings: RuleSettings,
    *,
    craniocaudal: bool = False,
) -> None:
    """Mark the tubular components that continue the urinary tract (in place).

    With ``craniocaudal`` (SSTR, where the pancreas is a faint horizontal tube beside the
    kidneys) a ureter must also run head to foot: its height at least its in-plane width.
    """
    found = [shapes[u] for u in urinary if u in shapes]
    if len(found) < 2:
        return
    top = max(float(s.hi[2]) for s in found)
    bottom = min(float(s.lo[2]) for s in found)
    changed = True
    while changed:
        changed = False
        for label, s in shapes.items():
            if label in reasons or not (bottom <= float(s.max_lps[2]) <= top):
                continue
            if not s.tubular(settings.ureter_width_mm):
                continue
            if craniocaudal and s.height_mm < s.width_mm:
                continue
            if any(_gap(s, u) <= settings.ureter_gap_mm for u in found):
                reasons[label] = "tubular uptake continuing the urinary tract (ureter)"
                found.append(s)
                changed = True


def same_organ(
    shapes: Mapping[int, ComponentShape],
    organ_labels: Sequence[int],
    reasons: dict[int, str],
    gap_mm: float,
    min_fraction: float = 0.2,
) -> list[int]:
    """Mark cooler components touching a urinary organ as parts of it (in place).

    The background-corrected contour of a very hot organ (bladder, renal pelvis) keeps only
    its hottest part; the rest of the organ, still hot (at least ``min_fraction`` of the
    organ's SUVmax), becomes separate components that touch it. Not transitive: only what
    touches the organ itself. Returns every label of the organ group.
    """
    seeds = [u for u in organ_labels if u in shapes]
    group = list(seeds)
    for label, s in shapes.items():
        if label in reasons:
            continue
        for u in seeds:
            organ = shapes[u]
            if (
                min_fraction * organ.suvmax <= s.suvmax <= organ.suvmax
                and _gap(s, organ) <= gap_mm
            ):
                name = _organ_name(reasons[u])
                reasons[label] = f"cooler part touching the {name} ({name})"
                group.append(label)
                break
    return group


def _organ_name(reason: str) -> str:
    if "bladder" in reason:
        return "urinary bladder"
    if reason.endswith(")") and "(" in reason:
        return reason[reason.rindex("(") + 1 : -1]
    return "organ"


def _gap(a: ComponentShape, b: ComponentShape) -> float:
    d = np.maximum(np.maximum(a.lo - b.hi, b.lo - a.hi), 0.0)
    return float(np.linalg.norm(d))


def spill(
    shapes: Mapping[int, ComponentShape],
    organs: Mapping[str, npt.NDArray[np.bool_]],
    suv: ImageVolume,
    margin_mm: float,
    reasons: dict[int, str],
    settings: RuleSettings,
) -> None:
    """Mark the blurred edges of excluded organs (in place)."""
    values = np.asarray(suv.array, dtype=np.float64)
    for name, mask in organs.items():
        if not mask.any():
            continue
        organ_max = float(values[mask].max())
        border = grow_mask_mm(mask, suv.spacing_mm, margin_mm + 1.5 * max(suv.spacing_mm))
        for label, s in shapes.items():
            if label in reasons or s.suvmax >= settings.spill_fraction * organ_max:
                continue
            k, j, i = np.round(np.linalg.solve(suv.affine, np.append(s.max_lps, 1.0))[:3])
            if border[int(k), int(j), int(i)]:
                reasons[label] = f"blurred edge (partial-volume spill-out) of the {name} ({name})"


def symmetric(
    shapes: Mapping[int, ComponentShape],
    liver_mean: float,
    reasons: dict[int, str],
    settings: RuleSettings,
    organ: str,
    *,
    midline_x_mm: float,
    floor_z: float | None,
) -> None:
    """Mark mirror-symmetric moderate uptake crossing the midline in the neck (in place)."""
    for label, s in shapes.items():
        if label in reasons or (floor_z is not None and float(s.max_lps[2]) < floor_z):
            continue
        # Two peaks, one each side (tonsils), not one on the midline (a midline lesion is
        # symmetric too).
        bilateral = abs(float(s.max_lps[0]) - midline_x_mm) >= settings.symmetric_peak_mm
        if (
            bilateral
            and s.symmetry >= settings.symmetry_overlap
            and s.suvmax < settings.symmetric_max_liver * liver_mean
        ):
            reasons[label] = (
                f"mirror-symmetric uptake across the midline ({100 * s.symmetry:.0f} % overlap), "
                f"SUVmax below {settings.symmetric_max_liver:g} × liver mean ({organ})"
            )


def elongated(
    shapes: Mapping[int, ComponentShape],
    liver_mean: float,
    reasons: dict[int, str],
    settings: RuleSettings,
    organ: str,
) -> None:
    """Mark elongated moderate uptake (bowel, muscle) (in place)."""
    for label, s in shapes.items():
        if label in reasons or s.volume_ml < settings.elongated_min_ml:
            continue
        if (
            s.elongation >= settings.elongation
            and s.suvmax < settings.elongated_max_liver * liver_mean
        ):
            reasons[label] = (
                f"elongated uptake ({s.elongation:.1f} × the diameter of a sphere of its "
                f"volume), SUVmax {s.suvmax:.1f} below {settings.elongated_max_liver:g} × "
                f"liver mean ({organ})"
            )


def sprawling(
    shapes: Mapping[int, ComponentShape],
    liver_mean: float,
    reasons: dict[int, str],
    settings: RuleSettings,
    organ: str,
) -> None:
    """Mark irregular, sprawling moderate uptake (bowel, muscle, brown fat) (in place)."""
    for label, s in shapes.items():
        if label in reasons or s.volume_ml < settings.elongated_min_ml:
            continue
        if (
            s.fill < settings.sprawling_fill
            and s.suvmax < settings.sprawling_max_liver * liver_mean
        ):
            reasons[label] = (
                f"irregular uptake filling {100 * s.fill:.0f} % of its bounding box, SUVmax "
                f"{s.suvmax:.1f} below {settings.sprawling_max_liver:g} × liver mean ({organ})"
            )


def not_measurable(
    shapes: Mapping[int, ComponentShape],
    liver: tuple[float, float],
    reasons: dict[int, str],
) -> None:
    """Mark components whose SUVpeak is below the PERCIST measurability level (in place)."""
    level = percist_liver_threshold(*liver)
    for label, s in shapes.items():
        if label not in reasons and s.suvpeak < level:
            reasons[label] = (
                f"SUVpeak {s.suvpeak:.1f} below the PERCIST measurable level {level:.1f} "
                "(1.5 × liver mean + 2 SD): background"
            )


UNCINATE_BOX_MM = ((-20.0, 90.0), (-25.0, 25.0), (-15.0, 35.0))
"""Where the pancreatic band next to an uncinate focus is looked for, around the focus's peak:
x towards the patient's left (LPS +x), y, and z (the body and tail rise), mm."""


def uncinate(
    suv: ImageVolume,
    shapes: Mapping[int, ComponentShape],
    reasons: dict[int, str],
    settings: RuleSettings,
    liver_mean: float,
    liver_zone: npt.NDArray[np.bool_] | None,
    midline_x_mm: float,
    *,
    smooth: npt.NDArray[np.float64] | None = None,
) -> None:
    """Mark a small moderate focus at the right end of the pancreatic uptake (in place).

    See the module docstring. A pancreatic-head or duodenal lesion of the same uptake looks
    alike; the reason says so, and the entry stays in the report's physiological list.
    """
    todo = [
        s
        for label, s in shapes.items()
        if label not in reasons
        and s.volume_ml <= settings.uncinate_max_ml
        and s.suvmax < settings.uncinate_max_liver * liver_mean
        and float(s.max_lps[0]) < midline_x_mm
    ]
    if not todo:
        return
    smooth = _smoothed(suv, smooth)
    x, y, z = (np.broadcast_to(a, suv.shape) for a in lps_axes(suv))
    (x0, x1), (y0, y1), (z0, z1) = UNCINATE_BOX_MM
    for s in todo:
        px, py, pz = (float(v) for v in s.max_lps)
        band = (
            (x >= px + x0) & (x <= px + x1) & (y >= py + y0) & (y <= py + y1)
            & (z >= pz + z0) & (z <= pz + z1)
            & (smooth >= settings.uncinate_link_liver * liver_mean) & (smooth <= s.suvmax)
        )  # fmt: skip
        if liver_zone is not None:
            band &= ~liver_zone
        k, j, i = (int(v) for v in np.round(suv.lps_to_index(s.max_lps[None])[0]))
        if not band[k, j, i]:
            continue
        # Labelled on the band's bounding box (a few cm around the focus), which holds every
        # component of the band: the focus's component is that of the whole grid.
        box = bounding_box(band)
        labels, _ = ndimage.label(band[box], np.ones((3, 3, 3), dtype=bool))
        own = int(labels[k - box[0].start, j - box[1].start, i - box[2].start])
        part = np.zeros(suv.shape, dtype=bool)
        part[box] = labels == own
        if (
            float(x[part].max()) >= midline_x_mm + settings.uncinate_across_mm
            and px <= float(x[part].min()) + 30.0
        ):
            reasons[s.label] = (
                f"small focus at the right end of the pancreatic uptake, SUVmax {s.suvmax:.1f} "
                f"below {settings.uncinate_max_liver:g} × liver mean: physiological uptake of "
                "the pancreatic head; a head or duodenal lesion of this uptake looks alike, "
                "check on CT (uncinate process)"
            )
