"""Reference regions: liver (PERCIST 3 cm sphere), spleen, blood pool (descending aorta).

Each region is placed automatically (method below), at a point given by the user in LPS mm,
or from a user mask; the result records which and where, and its statistics.

Automatic placement (uses :func:`nenscope.segmentation.estimate_organs`):

* **Liver**: a sphere of 30 mm diameter (PERCIST 1.0: Wahl RL et al. J Nucl Med 2009;50 Suppl
  1:122S, "3-cm-diameter spherical ROI in the normal right lobe") whose centre lies at least
  ``radius + edge_margin_mm`` inside the estimated liver; among those centres, the one whose
  sphere has the lowest coefficient of variation (most homogeneous, which avoids lesions and
  edges) among those whose mean lies within 15 % of the median SUV of the estimated liver
  (normal parenchyma, never the uniform inside of a large lesion). The candidates are
  restricted to the lateral (right-lobe) half of the liver when that half holds any.
* **Spleen**: the same search with a 20 mm sphere (default) in the estimated spleen.
* **Blood pool**: a cylinder of 10 mm diameter and 20 mm length along the patient axis in the
  descending aorta (PERCIST 1.0). Needs the CT: in the lower thorax (the 20–80 mm above the
  liver dome), the vertebral body is the bone (> 200 HU) nearest the posterior midline; the
  aorta is searched 5–60 mm to its left and 0–50 mm anterior of it, at the soft-tissue voxel
  (0–400 HU) whose 10 mm disc has the highest mean SUV below the liver mean (blood is less
  avid than liver for SSTR and FDG tracers).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
import numpy.typing as npt
from scipy import fft as sfft
from scipy import ndimage

from nenscope.core import EmptyRegionError, GeometryError, ImageVolume, NotComputableError
from nenscope.core.enums import ReferenceKind
from nenscope.core.errors import InvalidArgumentError, OptionError
from nenscope.segmentation._labels import bounding_box
from nenscope.segmentation.anatomy import CT_OUTSIDE_HU
from nenscope.segmentation.organs import (
    OrganEstimate,
    OrganSettings,
    estimate_organs,
    is_axial,
    lps_axes,
)

__all__ = [
    "BLOOD_POOL_DIAMETER_MM",
    "BLOOD_POOL_LENGTH_MM",
    "LIVER_SPHERE_DIAMETER_MM",
    "PlacementMethod",
    "PlacementSettings",
    "ReferenceRegion",
    "ReferenceRegions",
    "cylinder_mask_mm",
    "place_reference_regions",
    "reference_region_at",
    "reference_region_from_mask",
    "reference_region_from_point",
    "sphere_mask_mm",
]

LIVER_SPHERE_DIAMETER_MM = 30.0
"""PERCIST liver reference sphere diameter (Wahl 2009)."""

BLOOD_POOL_DIAMETER_MM = 10.0
"""PERCIST blood-pool cylinder diameter in the descending aorta (Wahl 2009)."""

BLOOD_POOL_LENGTH_MM = 20.0
"""PERCIST blood-pool cylinder length along the aorta (Wahl 2009)."""

NORMAL_TOLERANCE = 0.15
"""Automatic spheres must have a mean within this fraction of the organ's median SUV."""

CV_TIE = 1e-6
"""Sphere CVs closer than this to the minimum count as ties (uniform organs)."""

REGION_NAMES: tuple[str, ...] = tuple(ReferenceKind)
"""Names of the reference regions."""


class PlacementMethod(StrEnum):
    """How a reference region was placed."""

    AUTOMATIC = "automatic"
    POINT = "point"
    MASK = "mask"


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class ReferenceRegion:
    """One reference region and its SUV statistics (float64, unit of the SUV image).

    Attributes
    ----------
    name
        ``"liver"``, ``"spleen"`` or ``"blood_pool"`` (or a user name).
    method
        Automatic, user point or user mask.
    centre_mm
        LPS ``(x, y, z)`` mm of the region centre (mask centroid for masks).
    mask
        Bool (z, y, x) on the SUV grid.
    mean, sd, suvmax
        Mean, population SD (ddof = 0) and maximum SUV in the region.
    n_voxels
        Number of voxels.
    sul_mean
        SUVmean × ``sul_factor`` (SUL, lean-body-mass SUV) when a factor was given, else None.
    description
        How and where it was placed, for the report.
    """

    name: str
    method: PlacementMethod
    centre_mm: tuple[float, float, float]
    mask: npt.NDArray[np.bool_]
    mean: float
    sd: float
    suvmax: float
    n_voxels: int
    sul_mean: float | None = None
    description: str = ""


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class ReferenceRegions:
    """Reference regions of one study; a region is None when it could not be placed.

    Attributes
    ----------
    liver, spleen, blood_pool
        The regions.
    organs
        The automatic organ estimate (None when every region was given by the user).
    notes
        Why a region is missing, and what the automatic method found.
    """

    liver: ReferenceRegion | None
    spleen: ReferenceRegion | None
    blood_pool: ReferenceRegion | None
    organs: OrganEstimate | None = None
    notes: tuple[str, ...] = field(default=())


@dataclass(frozen=True, slots=True, kw_only=True)
class PlacementSettings:
    """Options of :func:`place_reference_regions`.

    Attributes
    ----------
    liver_radius_mm, spleen_radius_mm
        Sphere radii in mm (liver: PERCIST 15 mm).
    edge_margin_mm
        Extra distance in mm between the sphere surface and the estimated organ edge.
    blood_pool_diameter_mm, blood_pool_length_mm
        Aorta cylinder, mm.
    organs
        Settings of the organ estimate.
    """

    liver_radius_mm: float = LIVER_SPHERE_DIAMETER_MM / 2.0
    spleen_radius_mm: float = 10.0
    edge_margin_mm: float = 5.0
    blood_pool_diameter_mm: float = BLOOD_POOL_DIAMETER_MM
    blood_pool_length_mm: float = BLOOD_POOL_LENGTH_MM
    organs: OrganSettings = field(default_factory=OrganSettings)


def sphere_mask_mm(
    volume: ImageVolume, centre_mm: Sequence[float], radius_mm: float
) -> npt.NDArray[np.bool_]:
    """Voxels whose centres lie within ``radius_mm`` of the LPS point ``centre_mm``.

    Examples
    --------
    >>> import numpy as np
    >>> from nenscope.core import ImageVolume, Unit
    >>> v = ImageVolume(array=np.zeros((5, 5, 5)), affine=np.diag([2.0, 2, 2, 1]), unit=Unit.HU)
    >>> int(sphere_mask_mm(v, (4.0, 4.0, 4.0), 2.0).sum())
    7
    """
    x, y, z = lps_axes(volume)
    cx, cy, cz = (float(c) for c in centre_mm)
    terms = [(x - cx) ** 2, (y - cy) ** 2, (z - cz) ** 2]
    limit = radius_mm**2
    # Every term is >= 0, so a voxel can only be inside where each term alone is <= r²: the
    # sum is evaluated on that box only (same arithmetic, far fewer voxels than the grid).
    box = [slice(0, n) for n in volume.shape]
    for term in terms:
        for axis in range(3):
            if term.shape[axis] == 1:
                continue
            other = tuple(a for a in range(3) if a != axis)
            hit = np.flatnonzero(np.any(term <= limit, axis=other))
            if hit.size == 0:
                return np.zeros(volume.shape, dtype=bool)
            start = max(box[axis].start, int(hit[0]))
            stop = min(box[axis].stop, int(hit[-1]) + 1)
            if start >= stop:
                return np.zeros(volume.shape, dtype=bool)
            box[axis] = slice(start, stop)

    def part(term: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        return term[tuple(b if term.shape[a] > 1 else slice(None) for a, b in enumerate(box))]

    out = np.zeros(volume.shape, dtype=bool)
    out[tuple(box)] = part(terms[0]) + part(terms[1]) + part(terms[2]) <= limit
    return out


def cylinder_mask_mm(
    volume: ImageVolume, centre_mm: Sequence[float], diameter_mm: float, length_mm: float
) -> npt.NDArray[np.bool_]:
    """Voxels in a cylinder along the patient z axis, centred at the LPS point ``centre_mm``."""
    x, y, z = lps_axes(volume)
    cx, cy, cz = (float(c) for c in centre_mm)
    radial = (x - cx) ** 2 + (y - cy) ** 2 <= (diameter_mm / 2.0) ** 2
    return np.asarray(radial & (np.abs(z - cz) <= length_mm / 2.0))


def _region(
    suv: ImageVolume,
    mask: npt.NDArray[np.bool_],
    *,
    name: str,
    method: PlacementMethod,
    centre_mm: Sequence[float] | None,
    sul_factor: float | None,
    description: str,
) -> ReferenceRegion:
    if not mask.any():
        where = ""
        if centre_mm is not None:
            corners = suv.index_to_lps([[0, 0, 0], [n - 1 for n in suv.array.shape]])
            low, high = corners.min(axis=0), corners.max(axis=0)
            span = ", ".join(
                f"{axis} {lo:.0f}..{hi:.0f}" for axis, lo, hi in zip("xyz", low, high, strict=True)
            )
            centre_text = ", ".join(f"{float(c):g}" for c in centre_mm)
            where = (
                f" Its centre ({centre_text}) mm lies outside the image (LPS mm; the image spans "
                f"{span}). Give the centre in patient coordinates (LPS mm) inside the image."
            )
        raise EmptyRegionError(f"Reference region '{name}' holds no voxel of the image.{where}")
    values = np.asarray(suv.array, dtype=np.float64)[mask]
    if centre_mm is None:
        centre = suv.index_to_lps(np.argwhere(mask).mean(axis=0))[0]
    else:
        centre = np.asarray(centre_mm, dtype=np.float64)
    mean = float(values.mean())
    return ReferenceRegion(
        name=name,
        method=method,
        centre_mm=(float(centre[0]), float(centre[1]), float(centre[2])),
        mask=mask,
        mean=mean,
        sd=float(values.std()),
        suvmax=float(values.max()),
        n_voxels=int(values.size),
        sul_mean=None if sul_factor is None else mean * sul_factor,
        description=description,
    )


def reference_region_from_point(
    suv: ImageVolume,
    point_mm: Sequence[float],
    *,
    name: str = "liver",
    radius_mm: float = LIVER_SPHERE_DIAMETER_MM / 2.0,
    sul_factor: float | None = None,
) -> ReferenceRegion:
    """Build a spherical reference region centred at a user point.

    Parameters
    ----------
    suv
        SUV image (z, y, x).
    point_mm
        Centre, LPS ``(x, y, z)`` mm.
    name
        Region name.
    radius_mm
        Sphere radius in mm (default 15 mm, the PERCIST liver sphere).
    sul_factor
        SUL/SUV ratio (lean body mass / body weight) to report SULmean; None to omit.

    Returns
    -------
    ReferenceRegion
        Method ``POINT``.

    Raises
    ------
    EmptyRegionError
        If the sphere holds no voxel (point outside the image).
    """
    mask = sphere_mask_mm(suv, point_mm, radius_mm)
    return _region(
        suv,
        mask,
        name=name,
        method=PlacementMethod.POINT,
        centre_mm=point_mm,
        sul_factor=sul_factor,
        description=f"sphere of radius {radius_mm:g} mm at the user point {_fmt(point_mm)} mm",
    )


def reference_region_from_mask(
    suv: ImageVolume,
    mask: npt.NDArray[np.bool_],
    *,
    name: str = "liver",
    sul_factor: float | None = None,
) -> ReferenceRegion:
    """Build a reference region from a user mask on the SUV grid.

    Raises
    ------
    GeometryError
        If the mask shape differs from the image.
    EmptyRegionError
        If the mask is empty.
    """
    region = np.asarray(mask, dtype=bool)
    if region.shape != suv.shape:
        raise GeometryError(f"Mask for '{name}' has shape {region.shape}; image {suv.shape}.")
    return _region(
        suv,
        region,
        name=name,
        method=PlacementMethod.MASK,
        centre_mm=None,
        sul_factor=sul_factor,
        description="user mask",
    )


def _fmt(point: Sequence[float]) -> str:
    return "(" + ", ".join(f"{float(v):.1f}" for v in point) + ")"


def _ball(spacing: Sequence[float], radius_mm: float) -> npt.NDArray[np.float64]:
    half = [int(np.floor(radius_mm / s)) for s in spacing]
    grids = np.meshgrid(
        *[np.arange(-h, h + 1) * s for h, s in zip(half, spacing, strict=True)], indexing="ij"
    )
    return np.asarray(sum(g * g for g in grids) <= radius_mm**2, dtype=np.float64)


def _convolve_same(
    *images: npt.NDArray[np.float64], kernel: npt.NDArray[np.float64]
) -> list[npt.NDArray[np.float64]]:
    """``scipy.signal.fftconvolve(image, kernel, mode="same")`` of each image, kernel FFT once.

    The same steps as SciPy's (real FFTs of the fast length of the full convolution, the
    centred part of it), so the values are those of ``fftconvolve``; the kernel's spectrum is
    computed once for all images, and ``scipy.signal`` (about 1 s to import, with
    ``scipy.stats``) is not needed.
    """
    full = [a + b - 1 for a, b in zip(images[0].shape, kernel.shape, strict=True)]
    fshape = [sfft.next_fast_len(n, True) for n in full]
    spectrum = sfft.rfftn(kernel, fshape)
    out = []
    for image in images:
        result = sfft.irfftn(sfft.rfftn(image, fshape) * spectrum, fshape)
        start = [(f - n) // 2 for f, n in zip(full, image.shape, strict=True)]
        crop = tuple(slice(a, a + n) for a, n in zip(start, image.shape, strict=True))
        out.append(np.asarray(result[tuple(slice(0, f) for f in full)][crop], dtype=np.float64))
    return out


def _most_homogeneous_sphere(
    suv: ImageVolume,
    organ: npt.NDArray[np.bool_],
    radius_mm: float,
    margin_mm: float,
    prefer: npt.NDArray[np.bool_] | None = None,
) -> tuple[npt.NDArray[np.bool_], tuple[float, float, float], str]:
    """Centre of the lowest-CV sphere inside ``organ`` (see the module docstring)."""
    box = bounding_box(organ)
    local = organ[box]
    depth = np.asarray(ndimage.distance_transform_edt(np.pad(local, 1), sampling=suv.spacing_mm))
    depth = depth[1:-1, 1:-1, 1:-1]
    r = radius_mm
    allowed = depth >= r + margin_mm
    note = ""
    if not allowed.any():
        r = max(float(depth.max()) - margin_mm, min(suv.spacing_mm))
        allowed = (
            depth >= r + margin_mm if float(depth.max()) > margin_mm else depth >= depth.max()
        )
        note = f"; the organ is too small for the sphere: radius reduced to {r:.1f} mm"
    if prefer is not None and (allowed & prefer[box]).any():
        allowed &= prefer[box]
    values = np.asarray(suv.array[box], dtype=np.float64)
    ball = _ball(suv.spacing_mm, r)
    n = float(ball.sum())
    mean, sq = (s / n for s in _convolve_same(values, values * values, kernel=ball))
    cv = np.sqrt(np.clip(sq - mean * mean, 0.0, None)) / np.maximum(mean, 1e-12)
    # Normal parenchyma: the sphere mean must be near the organ's median SUV, so that the
    # uniform inside of a large lesion is never chosen.
    typical = float(np.median(values[local]))
    normal = np.abs(mean - typical) <= NORMAL_TOLERANCE * typical
    if (allowed & normal).any():
        allowed &= normal
    cv = np.where(allowed, cv, np.inf)
    # Ties (uniform organs) are broken in patient space, not by array order: the deepest
    # candidate, then the smallest LPS (x, y, z).
    ties = np.argwhere(cv <= float(cv.min()) + CV_TIE)
    deepest = ties[depth[tuple(ties.T)] >= float(depth[tuple(ties.T)].max()) - 1e-9]
    offset = np.array([s.start for s in box], dtype=np.float64)
    candidates = suv.index_to_lps(deepest + offset)
    pick = np.lexsort(np.round(candidates, 6).T[::-1])[0]
    centre = candidates[pick]
    c = (float(centre[0]), float(centre[1]), float(centre[2]))
    return sphere_mask_mm(suv, c, r), c, f"sphere of radius {r:.1f} mm{note}"


def place_reference_regions(
    suv: ImageVolume,
    ct: ImageVolume | None = None,
    *,
    points: Mapping[str, Sequence[float]] | None = None,
    masks: Mapping[str, npt.NDArray[np.bool_]] | None = None,
    sul_factor: float | None = None,
    settings: PlacementSettings | None = None,
) -> ReferenceRegions:
    """Place the liver, spleen and blood-pool reference regions (see the module docstring).

    Parameters
    ----------
    suv
        SUV image (z, y, x), axial.
    ct
        CT in HU in the same frame of reference (any grid), or None. Without CT the blood pool
        is not placed automatically.
    points
        User centres, LPS ``(x, y, z)`` mm, keyed ``"liver"``, ``"spleen"``, ``"blood_pool"``;
        they override the automatic placement (spheres for liver/spleen, the PERCIST cylinder
        for the blood pool).
    masks
        User masks on the SUV grid, same keys; they override points and automatic placement.
    sul_factor
        SUL/SUV ratio (lean body mass / body weight); gives the liver SULmean.
    settings
        Sizes and constants.

    Returns
    -------
    ReferenceRegions
        Each region with its method, centre, mask and statistics; notes say what is missing.

    Raises
    ------
    ValueError
        For an unknown region name in ``points`` or ``masks``.
    """
    settings = PlacementSettings() if settings is None else settings
    points, masks = dict(points or {}), dict(masks or {})
    for key in (*points, *masks):
        if key not in REGION_NAMES:
            raise OptionError(
                f"Unknown reference region '{key}'. Valid: {', '.join(REGION_NAMES)}."
            )
    found: dict[str, ReferenceRegion | None] = {}
    for name in REGION_NAMES:
        factor = sul_factor if name == "liver" else None
        if name in masks:
            found[name] = reference_region_from_mask(
                suv, masks[name], name=name, sul_factor=factor
            )
        elif name in points:
            found[name] = _from_point(suv, name, points[name], factor, settings)
    notes: list[str] = []
    organs = None
    if any(name not in found for name in REGION_NAMES):
        organs = estimate_organs(suv, ct, settings=settings.organs)
        notes.extend(organs.notes)
        _automatic(suv, organs, found, notes, sul_factor, settings)
    return ReferenceRegions(
        liver=found.get("liver"),
        spleen=found.get("spleen"),
        blood_pool=found.get("blood_pool"),
        organs=organs,
        notes=tuple(notes),
    )


def reference_region_at(
    suv: ImageVolume,
    name: str,
    point_mm: Sequence[float],
    *,
    radius_mm: float | None = None,
    sul_factor: float | None = None,
) -> ReferenceRegion:
    """Place one reference region at a user point, as :func:`place_reference_regions` does.

    The liver and spleen get a sphere (default radius: PERCIST 15 mm for the liver, 10 mm for
    the spleen), the blood pool the PERCIST cylinder (default diameter 10 mm, length 20 mm
    along the patient axis); ``radius_mm`` replaces the sphere radius or half the cylinder
    diameter. Used to move a region in review without placing the others again.

    Raises
    ------
    OptionError, InvalidArgumentError
        For an unknown region name or a radius that is not positive.
    EmptyRegionError
        If the region holds no voxel (point outside the image).
    """
    if name not in REGION_NAMES:
        raise OptionError(f"Unknown reference region '{name}'. Valid: {', '.join(REGION_NAMES)}.")
    settings = PlacementSettings()
    if radius_mm is not None:
        if not radius_mm > 0:
            raise InvalidArgumentError(f"Reference radius must be > 0 mm, not {radius_mm}.")
        settings = PlacementSettings(
            liver_radius_mm=radius_mm,
            spleen_radius_mm=radius_mm,
            blood_pool_diameter_mm=2.0 * radius_mm,
        )
    return _from_point(suv, name, point_mm, sul_factor if name == "liver" else None, settings)


def _from_point(
    suv: ImageVolume,
    name: str,
    point: Sequence[float],
    factor: float | None,
    settings: PlacementSettings,
) -> ReferenceRegion:
    if name == "blood_pool":
        mask = cylinder_mask_mm(
            suv, point, settings.blood_pool_diameter_mm, settings.blood_pool_length_mm
        )
        desc = (
            f"cylinder {settings.blood_pool_diameter_mm:g} mm × {settings.blood_pool_length_mm:g}"
            f" mm at the user point {_fmt(point)} mm"
        )
        return _region(
            suv,
            mask,
            name=name,
            method=PlacementMethod.POINT,
            centre_mm=point,
            sul_factor=None,
            description=desc,
        )
    radius = settings.liver_radius_mm if name == "liver" else settings.spleen_radius_mm
    return reference_region_from_point(suv, point, name=name, radius_mm=radius, sul_factor=factor)


def _automatic(
    suv: ImageVolume,
    organs: OrganEstimate,
    found: dict[str, ReferenceRegion | None],
    notes: list[str],
    sul_factor: float | None,
    settings: PlacementSettings,
) -> None:
    x, _, _ = lps_axes(suv)
    for name, organ, radius in (
        ("liver", organs.liver, settings.liver_radius_mm),
        ("spleen", organs.spleen, settings.spleen_radius_mm),
    ):
        if name in found:
            continue
        if organ is None:
            found[name] = None
            notes.append(f"{name} reference not placed: organ not found; give a point or a mask")
            continue
        prefer = None
        if name == "liver":
            # Right lobe: the lateral half of the liver (patient right = -x in LPS).
            xs = np.broadcast_to(x, suv.shape)
            prefer = xs <= float(np.median(xs[organ]))
        mask, centre, how = _most_homogeneous_sphere(
            suv, organ, radius, settings.edge_margin_mm, prefer
        )
        found[name] = _region(
            suv,
            mask,
            name=name,
            method=PlacementMethod.AUTOMATIC,
            centre_mm=centre,
            sul_factor=sul_factor if name == "liver" else None,
            description=f"automatic: most homogeneous {how} inside the estimated {name}",
        )
    if "blood_pool" not in found:
        try:
            found["blood_pool"] = _blood_pool(suv, organs, found.get("liver"), settings)
        except NotComputableError as err:
            found["blood_pool"] = None
            notes.append(f"blood pool reference not placed: {err}")


SPINE_HU = 200.0
"""CT number above which a voxel is taken as bone when locating the vertebral body."""


def _blood_pool(
    suv: ImageVolume,
    organs: OrganEstimate,
    liver: ReferenceRegion | None,
    settings: PlacementSettings,
) -> ReferenceRegion:
    if organs.ct_on_pet is None:
        raise NotComputableError("the automatic aorta search needs the CT; give a point")
    if liver is None:
        raise NotComputableError(
            "the liver reference (whose mean bounds the blood pool) was not placed"
        )
    if not is_axial(suv):
        raise NotComputableError("the automatic aorta search needs an axial grid")
    x, y, z = (np.broadcast_to(a, suv.shape) for a in lps_axes(suv))
    # Where the liver was given (a point or a mask) but not estimated, the lung bases on CT
    # mark the diaphragm, i.e. the liver dome.
    top = float(z[organs.liver].max()) if organs.liver is not None else _lung_base_z(organs, z)
    # Work on the slab's slices only (axial grid: z is constant within a slice).
    z_slices = z[:, 0, 0]
    keep = np.flatnonzero((z_slices >= top + 20.0) & (z_slices <= top + 80.0))
    if keep.size == 0:
        raise NotComputableError("the image ends less than 20 mm above the liver dome")
    rows = slice(int(keep.min()), int(keep.max()) + 1)
    ct = np.asarray(organs.ct_on_pet.array[rows])
    x, y = x[rows], y[rows]
    slab = organs.body[rows]
    if not slab.any():
        raise NotComputableError("the image ends less than 20 mm above the liver dome")
    posterior = y > float(np.median(y[slab]))
    bone = slab & (ct > SPINE_HU) & (np.abs(x - organs.midline_x_mm) < 40.0) & posterior
    labels, n = ndimage.label(bone)
    if n == 0:
        raise NotComputableError("no vertebral body (> 200 HU, posterior midline) in the thorax")
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    spine = labels == int(np.argmax(sizes))
    sx, sy = float(x[spine].mean()), float(y[spine].mean())
    window = (
        slab
        & (x >= sx + 5.0)
        & (x <= sx + 60.0)
        & (y >= sy - 50.0)
        & (y <= sy)
        & (ct >= 0.0)
        & (ct <= 400.0)
    )
    return _aorta_in_window(suv, window, slab, rows, liver, settings)


LUNG_HU = -400.0
"""CT number below which a voxel inside the body is lung."""


def _lung_base_z(organs: OrganEstimate, z: npt.NDArray[np.float64]) -> float:
    """Patient z of the lung bases: the lowest slice with a quarter of the largest lung area."""
    assert organs.ct_on_pet is not None
    ct = np.asarray(organs.ct_on_pet.array)
    area = (organs.body & (ct < LUNG_HU) & (ct > CT_OUTSIDE_HU)).sum(axis=(1, 2))
    if area.max() == 0:
        raise NotComputableError(
            "neither the liver nor the lungs were found on the CT to mark the lower thorax"
        )
    return float(z[:, 0, 0][area >= 0.25 * area.max()].min())


def _aorta_in_window(
    suv: ImageVolume,
    window: npt.NDArray[np.bool_],
    slab: npt.NDArray[np.bool_],
    rows: slice,
    liver: ReferenceRegion,
    settings: PlacementSettings,
) -> ReferenceRegion:
    slices = np.flatnonzero(slab.any(axis=(1, 2)))
    values = np.asarray(suv.array[rows], dtype=np.float64)[slices]
    disc = _ball((1.0, *suv.spacing_mm[1:]), settings.blood_pool_diameter_mm / 2.0)
    disc = disc[disc.shape[0] // 2][np.newaxis]
    disc /= disc.sum()
    disc_mean = ndimage.correlate(values, disc, mode="nearest").mean(axis=0)
    # A column qualifies when soft tissue in at least 80 % of the slab slices.
    inside = window[slices].mean(axis=0) >= 0.8
    score = np.where(inside & (disc_mean < liver.mean), disc_mean, -np.inf)
    if not np.isfinite(score).any():
        raise NotComputableError("no soft-tissue column left-anterior of the spine")
    j, i = np.unravel_index(int(np.argmax(score)), score.shape)
    k = float(slices.mean()) + rows.start
    centre = suv.index_to_lps([k, float(j), float(i)])[0]
    mask = cylinder_mask_mm(
        suv, centre, settings.blood_pool_diameter_mm, settings.blood_pool_length_mm
    )
    return _region(
        suv,
        mask,
        name="blood_pool",
        method=PlacementMethod.AUTOMATIC,
        centre_mm=centre,
        sul_factor=None,
        description=(
            f"automatic: cylinder {settings.blood_pool_diameter_mm:g} mm × "
            f"{settings.blood_pool_length_mm:g} mm in the descending aorta, found on CT "
            "left-anterior of the vertebral body 20-80 mm above the liver dome"
        ),
    )
