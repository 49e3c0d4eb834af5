"""Quantification: SUV formulas, body size, lesion statistics (pure, no I/O)."""

from nenscope.quantification._peak import PEAK_SPHERE_RADIUS_MM, peak_kernel, suv_peak
from nenscope.quantification.lesions import (
    LesionStatistics,
    TumourBurden,
    axial_diameters,
    label_statistics,
    lesion_statistics,
    tumour_burden,
)

__all__ = [
    "PEAK_SPHERE_RADIUS_MM",
    "LesionStatistics",
    "TumourBurden",
    "axial_diameters",
    "label_statistics",
    "lesion_statistics",
    "peak_kernel",
    "suv_peak",
    "tumour_burden",
]
