"""Reference regions for the pipeline: user points, user masks, or automatic placement.

A user point gives the PERCIST-style VOI centred on it: a 3 cm sphere in the liver, a 2 cm
sphere in the spleen, a 1 cm × 2 cm cylinder (axis along z) in the descending aorta for the
blood pool (Wahl et al., J Nucl Med 2009;50 Suppl 1:122S). A user mask is used as given.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from nenscope.core.errors import EmptyRegionError, GeometryError, WorkbenchError
from nenscope.core.geometry import ImageVolume

__all__ = [
    "REFERENCE_NAMES",
    "REFERENCE_VOI_MM",
    "ReferenceRegion",
    "place_references",
    "reference_from_mask",
    "voi_at_point",
]

REFERENCE_NAMES: tuple[str, ...] = ("liver", "spleen", "blood_pool")
"""Reference regions the pipeline places, in report order."""

REFERENCE_VOI_MM: dict[str, tuple[float, float]] = {
    "liver": (30.0, 30.0),
    "spleen": (20.0, 20.0),
    "blood_pool": (10.0, 20.0),
}
"""(diameter, length along z) in mm of the VOI put at a user point; equal = sphere."""


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class ReferenceRegion:
    """A placed reference region.

    Parameters
    ----------
    name
        ``liver``, ``spleen`` or ``blood_pool``.
    mask
        VOI, bool ``(z, y, x)`` on the PET grid.
    mean, sd
        Mean and population SD of the SUV in the VOI (g/mL for SUVbw).
    volume_ml
        VOI volume in mL.
    centre_mm
        VOI centroid, LPS ``(x, y, z)`` mm.
    placement
        How it was placed (rule or user input).
    organ_mask
        The whole organ where known (for liver-adaptive detection), else ``None``.
    """

    name: str
    mask: npt.NDArray[np.bool_]
    mean: float
    sd: float
    volume_ml: float
    centre_mm: tuple[float, float, float]
    placement: str
    organ_mask: npt.NDArray[np.bool_] | None = None


def reference_from_mask(
    suv: ImageVolume,
    name: str,
    mask: npt.NDArray[np.bool_],
    placement: str,
    *,
    organ_mask: npt.NDArray[np.bool_] | None = None,
) -> ReferenceRegion:
    """Measure a reference VOI given as a mask on the SUV grid.

    Raises
    ------
    EmptyRegionError
        If the mask holds no voxel.
    """
    region = np.asarray(mask, dtype=bool)
    if region.shape != suv.shape:
        raise GeometryError(
            f"The {name} reference mask has shape {region.shape}; the PET has {suv.shape}."
        )
    values = np.asarray(suv.array, dtype=np.float64)[region]
    if values.size == 0:
        raise EmptyRegionError(f"The {name} reference region holds no PET voxel ({placement}).")
    centre = suv.index_to_lps(np.argwhere(region).mean(axis=0))[0]
    return ReferenceRegion(
        name=name,
        mask=region,
        mean=float(values.mean()),
        sd=float(values.std()),
        volume_ml=float(values.size * suv.voxel_volume_ml),
        centre_mm=(float(centre[0]), float(centre[1]), float(centre[2])),
        placement=placement,
        organ_mask=organ_mask,
    )


def voi_at_point(
    volume: ImageVolume, point_mm: Sequence[float], *, diameter_mm: float, length_mm: float
) -> npt.NDArray[np.bool_]:
    """Voxels whose centres lie in a z-aligned cylinder (a sphere when length = diameter).

    Parameters
    ----------
    volume
        Grid to draw on.
    point_mm
        Centre ``(x, y, z)`` LPS mm.
    diameter_mm
        Diameter in mm.
    length_mm
        Length along patient z in mm; equal to ``diameter_mm`` for a sphere.

    Returns
    -------
    numpy.ndarray
        Bool ``(z, y, x)`` mask.

    Raises
    ------
    GeometryError
        If the point is outside the grid.

    Examples
    --------
    >>> from nenscope.core.geometry import affine_from_spacing
    >>> from nenscope.core.units import Unit
    >>> vol = ImageVolume(array=np.zeros((9, 9, 9)), affine=affine_from_spacing((1, 1, 1)),
    ...                   unit=Unit.SUV_BW)
    >>> int(voi_at_point(vol, (4, 4, 4), diameter_mm=3.0, length_mm=3.0).sum())
    7
    """
    centre_idx = volume.lps_to_index(point_mm)[0]
    if np.any(centre_idx < -0.5) or np.any(centre_idx > np.asarray(volume.shape) - 0.5):
        raise GeometryError(
            f"Point ({', '.join(f'{v:g}' for v in point_mm)}) mm lies outside the PET grid."
        )
    radius = diameter_mm / 2.0
    reach = [int(np.ceil(max(radius, length_mm / 2.0) / s)) + 1 for s in volume.spacing_mm]
    lo = [max(int(np.floor(c)) - r, 0) for c, r in zip(centre_idx, reach, strict=True)]
    hi = [
        min(int(np.ceil(c)) + r + 1, n)
        for c, r, n in zip(centre_idx, reach, volume.shape, strict=True)
    ]
    grid = np.stack(
        np.meshgrid(*[np.arange(a, b) for a, b in zip(lo, hi, strict=True)], indexing="ij"),
        axis=-1,
    ).reshape(-1, 3)
    offset = volume.index_to_lps(grid) - np.asarray(point_mm, dtype=np.float64)
    if np.isclose(length_mm, diameter_mm):
        inside = np.sum(offset**2, axis=1) <= radius**2
    else:
        inside = (offset[:, 0] ** 2 + offset[:, 1] ** 2 <= radius**2) & (
            np.abs(offset[:, 2]) <= length_mm / 2.0
        )
    mask = np.zeros(volume.shape, dtype=bool)
    mask[tuple(grid[inside].T)] = True
    return mask


def _point_text(point: Sequence[float]) -> str:
    return f"({', '.join(f'{v:g}' for v in point)}) mm"


def place_references(
    suv: ImageVolume,
    ct: ImageVolume | None,
    *,
    points_mm: Mapping[str, Sequence[float]],
    masks: Mapping[str, Mapping[str, npt.NDArray[np.bool_]]],
) -> tuple[dict[str, ReferenceRegion], dict[str, npt.NDArray[np.bool_]], list[str]]:
    """Place the liver, spleen and blood-pool references.

    Parameters
    ----------
    suv
        SUV image.
    ct
        CT in the same frame of reference, or ``None``.
    points_mm
        User points by reference name.
    masks
        User masks by reference name (each a mapping ROI name → mask on the SUV grid; their
        union is used).

    Returns
    -------
    references
        Placed regions by name.
    exclude
        Organ masks of physiological uptake to keep out of lesion detection.
    errors
        Why a region could not be placed.
    """
    unknown = sorted((set(points_mm) | set(masks)) - set(REFERENCE_NAMES))
    errors: list[str] = []
    if unknown:
        errors.append(f"Unknown reference regions {unknown}; valid: {list(REFERENCE_NAMES)}.")
    references: dict[str, ReferenceRegion] = {}
    for name in REFERENCE_NAMES:
        try:
            if name in masks:
                union = np.zeros(suv.shape, dtype=bool)
                for part in masks[name].values():
                    union |= part
                references[name] = reference_from_mask(suv, name, union, "user mask")
            elif name in points_mm:
                diameter, length = REFERENCE_VOI_MM[name]
                shape = (
                    f"{diameter:g} mm sphere"
                    if diameter == length
                    else f"{diameter:g} mm x {length:g} mm cylinder"
                )
                voi = voi_at_point(suv, points_mm[name], diameter_mm=diameter, length_mm=length)
                references[name] = reference_from_mask(
                    suv, name, voi, f"user point {_point_text(points_mm[name])}, {shape}"
                )
        except WorkbenchError as err:
            errors.append(f"{name} reference not placed: {err}")
    return references, {}, errors
