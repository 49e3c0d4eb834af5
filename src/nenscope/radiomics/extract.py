"""Feature extraction: the processing chain and every registered family on one ROI."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from nenscope import __version__
from nenscope.core.errors import GeometryError, NotComputableError, UnitError
from nenscope.core.geometry import ImageVolume
from nenscope.core.units import Unit
from nenscope.radiomics.processing import PreparedRoi, prepare_roi
from nenscope.radiomics.registry import FAMILY_COMPUTE, Family
from nenscope.radiomics.response_map import prepare_filtered_roi
from nenscope.radiomics.settings import RadiomicsSettings

__all__ = [
    "FILTERED_FAMILIES",
    "FILTERED_SKIP_REASON",
    "FeatureResult",
    "compute_families",
    "extract_features",
]

FILTERED_FAMILIES: tuple[Family, ...] = (Family.STATISTICS,)
"""Families computed on a filter response map: IBSI 2 phase 2 defines intensity statistics."""

FILTERED_SKIP_REASON = (
    "not computed on a {filter} filter response map: IBSI 2 validates the intensity "
    "statistics of response maps only (no morphology, histogram or texture)"
)
"""Reason recorded in ``not_computable`` for the other families when a filter is set."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FeatureResult:
    """Features of one ROI with the settings and software version that produced them.

    Parameters
    ----------
    features
        ``{KEY: value}``; KEY is the IBSI id, with the DESIGN.md aggregation suffix for the
        texture families; values are float64 (NaN where a feature is undefined for the ROI,
        e.g. Moran's I of a single voxel).
    settings
        The settings used.
    version
        nenscope version.
    n_voxels
        Number of voxels of the morphological mask after processing.
    spacing_mm
        Voxel size after processing, ``(z, y, x)``.
    families
        Families that were asked for.
    not_computable
        Family → reason, for families that cannot be computed on this ROI (e.g. texture
        matrices of a single voxel); their features are absent from ``features``.
    """

    features: dict[str, float]
    settings: RadiomicsSettings
    version: str = __version__
    n_voxels: int = 0
    spacing_mm: tuple[float, float, float] = (1.0, 1.0, 1.0)
    families: tuple[str, ...] = field(default=())
    not_computable: dict[str, str] = field(default_factory=dict)

    def to_contract(self) -> dict[str, Any]:
        """Return the DESIGN.md output: ``{"features": …, "settings": …, "version": …}``.

        ``"not_computable"`` (family → reason) is added when a family could not be computed.
        """
        out: dict[str, Any] = {
            "features": dict(self.features),
            "settings": self.settings.to_mapping(),
            "version": self.version,
        }
        if self.not_computable:
            out["not_computable"] = dict(self.not_computable)
        return out


def compute_families(
    roi: PreparedRoi, families: Sequence[Family] | None = None
) -> tuple[dict[str, float], dict[str, str]]:
    """Compute the given families (default: all registered) on a prepared ROI.

    Returns
    -------
    features, not_computable
        ``{KEY: value}`` and, for each family that raised
        :class:`~nenscope.core.errors.NotComputableError` on this ROI, its reason.
    """
    chosen = list(FAMILY_COMPUTE) if families is None else list(families)
    out: dict[str, float] = {}
    reasons: dict[str, str] = {}
    for family in chosen:
        try:
            out.update(FAMILY_COMPUTE[family](roi))
        except NotComputableError as err:
            reasons[str(family)] = " ".join(str(err).split())
    return out, reasons


def extract_features(
    image: ImageVolume,
    mask: npt.NDArray[np.bool_],
    settings: RadiomicsSettings,
    *,
    families: Sequence[Family] | None = None,
) -> FeatureResult:
    """Extract IBSI 1 features of one ROI, or IBSI 2 features of a filter response map.

    With ``settings.filter`` set, the whole (interpolated) image is filtered and the
    intensity statistics (IBSI ids of the statistics family) of the response map in the ROI
    are returned; the other families are listed in ``not_computable`` with the reason.

    Parameters
    ----------
    image
        The image; its affine gives the voxel spacing.
    mask
        ROI mask, bool, with the image's shape.
    settings
        Processing chain and discretisation.
    families
        Families to compute; default all registered families.

    Returns
    -------
    FeatureResult
        Features keyed by IBSI id, with settings and version.

    Raises
    ------
    GeometryError
        If the mask does not have the image's shape.
    UnitError
        If the settings are made for another unit than the image's (unknown units pass).
    EmptyRegionError
        If the ROI is empty (before or after processing).

    Examples
    --------
    >>> from nenscope.core import Unit, affine_from_spacing
    >>> from nenscope.radiomics.settings import load_settings
    >>> img = ImageVolume(array=np.arange(64.0).reshape(4, 4, 4) % 5 + 1,
    ...                   affine=affine_from_spacing((2.0, 2.0, 2.0)), unit=Unit.HU)
    >>> res = extract_features(img, img.array > 0, load_settings("ibsi-phantom"))
    >>> res.features["YEKZ"], res.features["84IY"]  # 64 voxels of 8 mm3; max of 1..5
    (512.0, 5.0)
    """
    if settings.unit is not None and image.unit not in (settings.unit, Unit.UNITLESS):
        raise UnitError(
            f"Radiomics settings '{settings.name}' are made for images in {settings.unit}, "
            f"but the image is in {image.unit}. Convert the image first (PET: SUV via "
            "'nenscope convert'), or use settings without 'unit' / for this unit."
        )
    roi_mask = np.asarray(mask)
    if roi_mask.shape != image.shape:
        raise GeometryError(
            f"The mask shape {roi_mask.shape} differs from the image shape {image.shape}."
        )
    chosen = list(FAMILY_COMPUTE) if families is None else list(families)
    skipped: dict[str, str] = {}
    if settings.filter is None:
        roi = prepare_roi(
            image.array,
            np.asarray(roi_mask, dtype=bool),
            spacing_mm=image.spacing_mm,
            settings=settings,
        )
    else:
        roi = prepare_filtered_roi(
            image.array,
            np.asarray(roi_mask, dtype=bool),
            spacing_mm=image.spacing_mm,
            settings=settings,
        )
        skipped = {
            str(f): FILTERED_SKIP_REASON.format(filter=settings.filter.type)
            for f in chosen
            if f not in FILTERED_FAMILIES
        }
        chosen = [f for f in chosen if f in FILTERED_FAMILIES]
    features, reasons = compute_families(roi, chosen)
    reasons = {**skipped, **reasons}
    return FeatureResult(
        features=features,
        not_computable=reasons,
        settings=settings,
        n_voxels=int(roi.morph_mask.sum()),
        spacing_mm=roi.spacing_mm,
        families=tuple(str(f) for f in (families or list(FAMILY_COMPUTE))),
    )
