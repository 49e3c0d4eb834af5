"""Registry of the IBSI 1 features: one frozen :class:`FeatureSpec` per feature (STYLE 4.8).

Features are plain functions grouped by family; each family function computes every feature
of its family at once (the matrices are shared), and the registry lists, per feature, its
IBSI identifier, family, unit and the family function that produces it. Nothing is
discovered by reflection.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nenscope.radiomics.processing import PreparedRoi

__all__ = ["Family", "FamilyCompute", "FeatureSpec"]


class Family(StrEnum):
    """IBSI 1 feature families (reference manual chapter 3)."""

    MORPHOLOGY = "morphology"
    LOCAL_INTENSITY = "local_intensity"
    STATISTICS = "statistics"
    INTENSITY_HISTOGRAM = "intensity_histogram"
    IVH = "intensity_volume_histogram"
    GLCM = "glcm"
    GLRLM = "glrlm"
    GLSZM = "glszm"
    GLDZM = "gldzm"
    NGTDM = "ngtdm"
    NGLDM = "ngldm"


FamilyCompute = Callable[["PreparedRoi"], dict[str, float]]
"""A family function: prepared ROI in, ``{KEY: value}`` out (KEY = IBSI id [+ suffix])."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FeatureSpec:
    """One IBSI feature.

    Parameters
    ----------
    name
        snake_case name, e.g. ``"intensity_mean"``.
    ibsi_id
        IBSI 4-character identifier (e.g. ``"Q4LE"``); ``None`` marks a non-IBSI feature.
    family
        Feature family.
    unit
        Unit in words: ``"mm3"``, ``"image unit"``, ``"1"`` (dimensionless) …
    compute
        The family function whose output holds this feature (under ``ibsi_id``, with the
        DESIGN.md aggregation suffix for GLCM/GLRLM/GLSZM/GLDZM/NGTDM/NGLDM).
    """

    name: str
    ibsi_id: str | None
    family: Family
    unit: str
    compute: FamilyCompute
