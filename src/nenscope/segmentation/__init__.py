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

__all__ = [
    "Delineation",
    "DetectionSettings",
    "LesionSegmentation",
    "ThresholdMethod",
    "grow_mask_mm",
    "percist_liver_threshold",
    "region_grow_from_seed",
    "threshold_lesions",
]
