"""Lesion detection, seed-based segmentation and reference regions on PET (pure, no I/O)."""

from nenscope.segmentation.lesions import (
    Delineation,
    DetectionSettings,
    LesionSegmentation,
    ThresholdMethod,
    grow_mask_mm,
    percist_liver_threshold,
    region_grow_from_seed,
    threshold_lesions,
)
from nenscope.segmentation.organs import (
    OrganEstimate,
    OrganSettings,
    estimate_organs,
    is_axial,
    lps_axes,
)
from nenscope.segmentation.physiology import (
    LesionDetection,
    PhysiologicalUptake,
    PhysiologySettings,
    detect_lesions,
)
from nenscope.segmentation.reference import (
    BLOOD_POOL_DIAMETER_MM,
    BLOOD_POOL_LENGTH_MM,
    LIVER_SPHERE_DIAMETER_MM,
    PlacementMethod,
    PlacementSettings,
    ReferenceRegion,
    ReferenceRegions,
    cylinder_mask_mm,
    place_reference_regions,
    reference_region_from_mask,
    reference_region_from_point,
    sphere_mask_mm,
)
from nenscope.segmentation.resample import resample_to

__all__ = [
    "BLOOD_POOL_DIAMETER_MM",
    "BLOOD_POOL_LENGTH_MM",
    "LIVER_SPHERE_DIAMETER_MM",
    "Delineation",
    "DetectionSettings",
    "LesionDetection",
    "LesionSegmentation",
    "OrganEstimate",
    "OrganSettings",
    "PhysiologicalUptake",
    "PhysiologySettings",
    "PlacementMethod",
    "PlacementSettings",
    "ReferenceRegion",
    "ReferenceRegions",
    "ThresholdMethod",
    "cylinder_mask_mm",
    "detect_lesions",
    "estimate_organs",
    "grow_mask_mm",
    "is_axial",
    "lps_axes",
    "percist_liver_threshold",
    "place_reference_regions",
    "reference_region_from_mask",
    "reference_region_from_point",
    "region_grow_from_seed",
    "resample_to",
    "sphere_mask_mm",
    "threshold_lesions",
]
