"""IBSI 1 radiomics: image-processing chain, one module per feature family, registry (pure).

Use :func:`extract_features` with an :class:`~nenscope.core.ImageVolume`, a bool mask and
settings from :func:`load_settings` (a preset name or a YAML file). See ``docs/radiomics.md``.
"""

from nenscope.radiomics.batch import BatchCase, BatchRow, run_batch
from nenscope.radiomics.extract import FeatureResult, compute_families, extract_features
from nenscope.radiomics.processing import PreparedRoi, prepare_roi
from nenscope.radiomics.registry import FEATURES, Family, FeatureSpec, features_of
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
    "FEATURES",
    "Approach",
    "BatchCase",
    "BatchRow",
    "DiscretisationMethod",
    "DiscretisationSettings",
    "Family",
    "FeatureResult",
    "FeatureSpec",
    "Interpolation",
    "PreparedRoi",
    "RadiomicsSettings",
    "ResampleSettings",
    "ResegmentSettings",
    "compute_families",
    "extract_features",
    "features_of",
    "list_presets",
    "load_settings",
    "prepare_roi",
    "run_batch",
    "settings_from_mapping",
]
