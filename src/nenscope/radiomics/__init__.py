"""IBSI 1 radiomics: image-processing chain, one module per feature family, registry (pure)."""

from nenscope.radiomics.registry import Family, FeatureSpec
from nenscope.radiomics.settings import (
    Approach,
    DiscretisationMethod,
    DiscretisationSettings,
    Interpolation,
    RadiomicsSettings,
    ResampleSettings,
    ResegmentSettings,
    list_presets,
    load_settings,
    settings_from_mapping,
)

__all__ = [
    "Approach",
    "DiscretisationMethod",
    "DiscretisationSettings",
    "Family",
    "FeatureSpec",
    "Interpolation",
    "RadiomicsSettings",
    "ResampleSettings",
    "ResegmentSettings",
    "list_presets",
    "load_settings",
    "settings_from_mapping",
]
