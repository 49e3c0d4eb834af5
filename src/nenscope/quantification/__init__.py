"""Quantification: SUV formulas, body size, lesion statistics (pure, no I/O)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nenscope.core.lazy import lazy_exports

if TYPE_CHECKING:
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

_LAZY = {
    "PEAK_SPHERE_RADIUS_MM": "nenscope.quantification._peak",
    "peak_kernel": "nenscope.quantification._peak",
    "suv_peak": "nenscope.quantification._peak",
    "AdcFit": "nenscope.quantification.adc",
    "compute_adc": "nenscope.quantification.adc",
    "LbmFormula": "nenscope.quantification.bodysize",
    "Sex": "nenscope.quantification.bodysize",
    "bsa_dubois_m2": "nenscope.quantification.bodysize",
    "ibw_kg": "nenscope.quantification.bodysize",
    "lbm_james_kg": "nenscope.quantification.bodysize",
    "lbm_janmahasatian_kg": "nenscope.quantification.bodysize",
    "lbm_kg": "nenscope.quantification.bodysize",
    "lbm_morgan_kg": "nenscope.quantification.bodysize",
    "LesionStatistics": "nenscope.quantification.lesions",
    "TumourBurden": "nenscope.quantification.lesions",
    "axial_diameters": "nenscope.quantification.lesions",
    "label_statistics": "nenscope.quantification.lesions",
    "lesion_statistics": "nenscope.quantification.lesions",
    "tumour_burden": "nenscope.quantification.lesions",
    "RADIONUCLIDES": "nenscope.quantification.radionuclides",
    "Radionuclide": "nenscope.quantification.radionuclides",
    "identify_radionuclide": "nenscope.quantification.radionuclides",
    "DecayCorrection": "nenscope.quantification.suv",
    "ReferenceMethod": "nenscope.quantification.suv",
    "ReferenceTime": "nenscope.quantification.suv",
    "choose_reference_time": "nenscope.quantification.suv",
    "decay_factor": "nenscope.quantification.suv",
    "frame_average_offset_s": "nenscope.quantification.suv",
    "frame_decay_correction": "nenscope.quantification.suv",
    "suv_bw_factor": "nenscope.quantification.suv",
    "suv_factor": "nenscope.quantification.suv",
}
"""Public name → module that defines it, imported on first access (PEP 562): importing
``nenscope.quantification`` stays cheap; each command loads only what it uses (issue 9 item 6)."""


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())


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
