"""Quantification: SUV formulas, body size, lesion statistics (pure, no I/O)."""

from nenscope.quantification._peak import PEAK_SPHERE_RADIUS_MM, peak_kernel, suv_peak
from nenscope.quantification.adc import AdcFit, compute_adc
from nenscope.quantification.bodysize import (
    LbmFormula,
    Sex,
    bsa_dubois_m2,
    ibw_kg,
    lbm_james_kg,
    lbm_janmahasatian_kg,
    lbm_kg,
    lbm_morgan_kg,
)
from nenscope.quantification.lesions import (
    LesionStatistics,
    TumourBurden,
    axial_diameters,
    label_statistics,
    lesion_statistics,
    tumour_burden,
)
from nenscope.quantification.radionuclides import (
    RADIONUCLIDES,
    Radionuclide,
    identify_radionuclide,
)
from nenscope.quantification.suv import (
    DecayCorrection,
    ReferenceMethod,
    ReferenceTime,
    choose_reference_time,
    decay_factor,
    frame_average_offset_s,
    frame_decay_correction,
    suv_bw_factor,
    suv_factor,
)

__all__ = [
    "PEAK_SPHERE_RADIUS_MM",
    "RADIONUCLIDES",
    "AdcFit",
    "DecayCorrection",
    "LbmFormula",
    "LesionStatistics",
    "Radionuclide",
    "ReferenceMethod",
    "ReferenceTime",
    "Sex",
    "TumourBurden",
    "axial_diameters",
    "bsa_dubois_m2",
    "choose_reference_time",
    "compute_adc",
    "decay_factor",
    "frame_average_offset_s",
    "frame_decay_correction",
    "ibw_kg",
    "identify_radionuclide",
    "label_statistics",
    "lbm_james_kg",
    "lbm_janmahasatian_kg",
    "lbm_kg",
    "lbm_morgan_kg",
    "lesion_statistics",
    "peak_kernel",
    "suv_bw_factor",
    "suv_factor",
    "suv_peak",
    "tumour_burden",
]
