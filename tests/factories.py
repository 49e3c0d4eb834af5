"""Factories for synthetic test images (STYLE 9.1): spheres of known volume, a small body.

Geometry is LPS mm: +x patient left, +y posterior, +z superior. Arrays are (z, y, x). Volumes are
built on axial grids from :func:`nenscope.core.affine_from_spacing`; the true volume of a
digitised shape is its voxel count × voxel volume, which the tests compare against.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from nenscope.core import ImageVolume, Unit, affine_from_spacing

FWHM_PER_SIGMA = 2.0 * np.sqrt(2.0 * np.log(2.0))


def grid(
    shape: Sequence[int],
    spacing_mm: Sequence[float],
    *,
    origin_mm: Sequence[float] = (0.0, 0.0, 0.0),
    unit: Unit = Unit.SUV_BW,
    fill: float = 0.0,
) -> ImageVolume:
    """A constant axial volume of ``shape`` (z, y, x); origin is LPS (x, y, z) of voxel 0."""
    affine = affine_from_spacing(spacing_mm, origin_mm=origin_mm)
    return ImageVolume(
        array=np.full(tuple(shape), fill, dtype=np.float64), affine=affine, unit=unit
    )


def lps_coordinates(volume: ImageVolume) -> tuple[npt.NDArray[np.float64], ...]:
    """Broadcastable LPS x, y, z arrays (mm) of the voxel centres of an axis-aligned volume."""
    z, y, x = (np.arange(n, dtype=np.float64) for n in volume.shape)
    a = volume.affine
    xs = a[0, 3] + a[0, 2] * x[np.newaxis, np.newaxis, :]
    ys = a[1, 3] + a[1, 1] * y[np.newaxis, :, np.newaxis]
    zs = a[2, 3] + a[2, 0] * z[:, np.newaxis, np.newaxis]
    return xs, ys, zs


def ellipsoid_mask(
    volume: ImageVolume, centre_mm: Sequence[float], semi_axes_mm: Sequence[float]
) -> npt.NDArray[np.bool_]:
    """Voxels whose centres lie in the axis-aligned ellipsoid; centre and axes LPS (x, y, z)."""
    xs, ys, zs = lps_coordinates(volume)
    cx, cy, cz = centre_mm
    ax, ay, az = semi_axes_mm
    return np.asarray(((xs - cx) / ax) ** 2 + ((ys - cy) / ay) ** 2 + ((zs - cz) / az) ** 2 <= 1.0)


def sphere_mask(
    volume: ImageVolume, centre_mm: Sequence[float], radius_mm: float
) -> npt.NDArray[np.bool_]:
    """Voxels whose centres lie within ``radius_mm`` of ``centre_mm`` (LPS x, y, z)."""
    return ellipsoid_mask(volume, centre_mm, (radius_mm, radius_mm, radius_mm))


def cylinder_mask(
    volume: ImageVolume,
    centre_xy_mm: Sequence[float],
    radius_mm: float,
    z_range_mm: Sequence[float],
) -> npt.NDArray[np.bool_]:
    """Vertical cylinder (along z) with LPS centre (x, y), radius and (z_min, z_max) in mm."""
    xs, ys, zs = lps_coordinates(volume)
    inside = (xs - centre_xy_mm[0]) ** 2 + (ys - centre_xy_mm[1]) ** 2 <= radius_mm**2
    return np.asarray(inside & (zs >= z_range_mm[0]) & (zs <= z_range_mm[1]))


def blur(volume: ImageVolume, fwhm_mm: float) -> ImageVolume:
    """Gaussian blur with an isotropic FWHM in mm (PET resolution model)."""
    sigma = [fwhm_mm / FWHM_PER_SIGMA / s for s in volume.spacing_mm]
    return volume.with_array(ndimage.gaussian_filter(np.asarray(volume.array, float), sigma))


@dataclass(frozen=True, slots=True, kw_only=True)
class PhantomLesion:
    """A spherical lesion: LPS centre (x, y, z) mm, radius mm, SUV and host organ."""

    centre_mm: tuple[float, float, float]
    radius_mm: float
    suv: float
    organ: str


@dataclass(frozen=True, slots=True, kw_only=True)
class OrganSpec:
    """An organ painted into the body phantom (ellipsoid or vertical cylinder)."""

    name: str
    centre_mm: tuple[float, float, float]
    semi_axes_mm: tuple[float, float, float]
    suv: float
    hu: float


# SSTR (68Ga-DOTATATE-like) uptake: liver ~8, spleen ~22, kidneys ~14, urine ~40 (typical
# SUVmean ranges of normal organs); only the ordering liver < kidney < spleen matters here.
SSTR_ORGANS: tuple[OrganSpec, ...] = (
    OrganSpec(
        name="lung_right", centre_mm=(-80, 0, 420), semi_axes_mm=(55, 70, 65), suv=0.3, hu=-800
    ),
    OrganSpec(
        name="lung_left", centre_mm=(80, 0, 420), semi_axes_mm=(55, 70, 65), suv=0.3, hu=-800
    ),
    OrganSpec(name="liver", centre_mm=(-70, -10, 310), semi_axes_mm=(75, 70, 70), suv=8.0, hu=60),
    OrganSpec(name="spleen", centre_mm=(95, 30, 320), semi_axes_mm=(35, 50, 50), suv=22.0, hu=50),
    OrganSpec(
        name="kidney_right", centre_mm=(-75, 55, 200), semi_axes_mm=(30, 30, 55), suv=14.0, hu=35
    ),
    OrganSpec(
        name="kidney_left", centre_mm=(75, 55, 200), semi_axes_mm=(30, 30, 55), suv=14.0, hu=35
    ),
    OrganSpec(name="bladder", centre_mm=(0, -30, 60), semi_axes_mm=(35, 35, 35), suv=40.0, hu=10),
)

DEFAULT_LESIONS: tuple[PhantomLesion, ...] = (
    PhantomLesion(centre_mm=(-45, -40, 300), radius_mm=13.0, suv=30.0, organ="liver"),
    PhantomLesion(centre_mm=(30, -60, 150), radius_mm=9.0, suv=12.0, organ="soft_tissue"),
    PhantomLesion(centre_mm=(-40, -50, 420), radius_mm=8.0, suv=30.0, organ="lung_right"),
    PhantomLesion(centre_mm=(60, -40, 240), radius_mm=11.0, suv=5.0, organ="soft_tissue"),
)

AORTA_XY_MM = (25.0, 40.0)
"""Descending aorta centre: left (+x) and anterior of the spine centre (0, 70)."""


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class BodyPhantom:
    """A small SSTR PET/CT body: SUV and CT volumes on one grid, organ masks, lesion truth."""

    suv: ImageVolume
    ct: ImageVolume
    organs: dict[str, npt.NDArray[np.bool_]]
    lesions: tuple[PhantomLesion, ...]
    lesion_masks: tuple[npt.NDArray[np.bool_], ...]
    organ_suv: dict[str, float] = field(default_factory=dict)


def make_body_phantom(
    *,
    spacing_mm: Sequence[float] = (4.0, 4.0, 4.0),
    lesions: Sequence[PhantomLesion] = DEFAULT_LESIONS,
    organs: Sequence[OrganSpec] = SSTR_ORGANS,
    background_suv: float = 0.8,
    blood_suv: float = 1.5,
    fwhm_mm: float = 0.0,
    noise_cv: float = 0.0,
    rng: np.random.Generator | None = None,
) -> BodyPhantom:
    """Elliptic-cylinder trunk (x ±160 mm, y ±110 mm, z 0–480 mm) with organs, spine, aorta.

    The grid covers x -200..200, y -140..140, z -20..500 mm. Organs are painted in order (later
    ones win), then the spine and aorta, then the lesions. ``noise_cv`` adds multiplicative
    Gaussian noise (needs ``rng``); ``fwhm_mm`` > 0 blurs the SUV image.
    """
    sz, sy, sx = spacing_mm
    shape = (int(520 // sz), int(280 // sy), int(400 // sx))
    suv = grid(shape, spacing_mm, origin_mm=(-200 + sx / 2, -140 + sy / 2, -20 + sz / 2))
    xs, ys, zs = lps_coordinates(suv)
    body = np.asarray(((xs / 160) ** 2 + (ys / 110) ** 2 <= 1) & (zs >= 0) & (zs <= 480))
    pet = np.where(body, background_suv, 0.0)
    ct = np.where(body, 30.0, -1000.0)
    masks: dict[str, npt.NDArray[np.bool_]] = {}
    for spec in organs:
        m = ellipsoid_mask(suv, spec.centre_mm, spec.semi_axes_mm) & body
        for other in masks.values():
            other &= ~m
        masks[spec.name] = m
        pet[m], ct[m] = spec.suv, spec.hu
    spine = cylinder_mask(suv, (0.0, 70.0), 18.0, (0.0, 480.0))
    aorta = cylinder_mask(suv, AORTA_XY_MM, 12.0, (150.0, 470.0))
    pet[spine], ct[spine] = 1.0, 400.0
    pet[aorta], ct[aorta] = blood_suv, 40.0
    for m in masks.values():
        m &= ~(spine | aorta)
    masks["aorta"] = aorta
    lesion_masks = []
    for lesion in lesions:
        m = sphere_mask(suv, lesion.centre_mm, lesion.radius_mm)
        pet[m], ct[m] = lesion.suv, 45.0
        lesion_masks.append(m)
    for m in masks.values():
        for lm in lesion_masks:
            m &= ~lm
    truth = suv.with_array(pet)
    if fwhm_mm > 0:
        truth = blur(truth, fwhm_mm)
    if noise_cv > 0:
        if rng is None:
            raise ValueError("noise_cv > 0 needs an rng.")
        noisy = np.asarray(truth.array) * (1 + noise_cv * rng.standard_normal(truth.shape))
        truth = truth.with_array(np.clip(noisy, 0, None))
    return BodyPhantom(
        suv=truth,
        ct=suv.with_array(ct, unit=Unit.HU),
        organs=masks,
        lesions=tuple(lesions),
        lesion_masks=tuple(lesion_masks),
        organ_suv={spec.name: spec.suv for spec in organs},
    )
