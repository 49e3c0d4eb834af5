"""Reference regions for the pipeline: user mask files read, then placed by segmentation.

:func:`nenscope.segmentation.place_reference_regions` handles user masks, user points and the
automatic placement.

The placement methods (PERCIST 3 cm liver sphere, spleen sphere, aorta cylinder) are defined in
:mod:`nenscope.segmentation.reference`; this module only reads the user's mask files and turns
failures into report text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from nenscope.core.enums import ReferenceKind
from nenscope.core.errors import WorkbenchError
from nenscope.core.geometry import ImageVolume
from nenscope.dicom import read_mask
from nenscope.segmentation import ReferenceRegion, ReferenceRegions, place_reference_regions

__all__ = [
    "REFERENCE_NAMES",
    "ReferenceRegion",
    "ReferenceRegions",
    "place_references",
    "references_by_name",
]

REFERENCE_NAMES: tuple[str, ...] = tuple(ReferenceKind)
"""Reference regions the pipeline places, in report order."""


def references_by_name(regions: ReferenceRegions | None) -> dict[str, ReferenceRegion]:
    """Return the placed regions keyed by name (regions that could not be placed are left out)."""
    if regions is None:
        return {}
    found = {"liver": regions.liver, "spleen": regions.spleen, "blood_pool": regions.blood_pool}
    return {name: region for name, region in found.items() if region is not None}


def _union(
    masks: Mapping[str, npt.NDArray[np.bool_]], shape: tuple[int, ...]
) -> npt.NDArray[np.bool_]:
    out = np.zeros(shape, dtype=bool)
    for mask in masks.values():
        out |= mask
    return out


def place_references(
    suv: ImageVolume,
    ct: ImageVolume | None,
    *,
    points_mm: Mapping[str, Sequence[float]],
    mask_files: Mapping[str, Path],
    sul_factor: float | None = None,
) -> tuple[ReferenceRegions | None, list[str], list[str]]:
    """Place the liver, spleen and blood-pool references.

    Parameters
    ----------
    suv
        SUV image.
    ct
        CT in the same frame of reference, or ``None``.
    points_mm
        User points ``(x, y, z)`` LPS mm by reference name.
    mask_files
        User mask files by reference name (the union of the ROIs in a file is used).
    sul_factor
        SUL/SUV ratio (lean body mass / body weight) for the liver SULmean, if known.

    Returns
    -------
    regions
        The regions (``None`` if placement failed as a whole).
    notes
        What the automatic method did and which region is missing (report warnings).
    errors
        Why user input could not be used (report errors).
    """
    errors: list[str] = []
    masks: dict[str, npt.NDArray[np.bool_]] = {}
    for name, path in mask_files.items():
        try:
            masks[name] = _union(read_mask(Path(path), suv), suv.shape)
        except WorkbenchError as err:
            errors.append(f"{name} reference mask {path} not used: {err}")
    try:
        regions = place_reference_regions(
            suv, ct, points=dict(points_mm), masks=masks, sul_factor=sul_factor
        )
    except WorkbenchError as err:
        errors.append(f"Reference regions not placed: {err}")
        return None, [], errors
    notes = [note for note in regions.notes if "not placed" in note or "not found" in note]
    return regions, notes, errors
