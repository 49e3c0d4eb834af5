"""IBSI 1 radiomics: image-processing chain, one module per feature family, registry (pure).

Use :func:`extract_features` with an :class:`~nenscope.core.ImageVolume`, a bool mask and
settings from :func:`load_settings` (a preset name or a YAML file). See ``docs/radiomics.md``.

The settings are imported eagerly; the extraction machinery (numba texture kernels,
scikit-image, SciPy's spatial module) is imported on first use, so that reading settings —
and every ``nenscope`` command that is not about radiomics — does not pay for it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:
    from nenscope.radiomics.batch import BatchCase, BatchRow, run_batch
    from nenscope.radiomics.extract import FeatureResult, compute_families, extract_features
    from nenscope.radiomics.processing import PreparedRoi, prepare_roi
    from nenscope.radiomics.registry import FEATURES, Family, FeatureSpec, features_of

_LAZY = {
    "BatchCase": "nenscope.radiomics.batch",
    "BatchRow": "nenscope.radiomics.batch",
    "run_batch": "nenscope.radiomics.batch",
    "FeatureResult": "nenscope.radiomics.extract",
    "compute_families": "nenscope.radiomics.extract",
    "extract_features": "nenscope.radiomics.extract",
    "PreparedRoi": "nenscope.radiomics.processing",
    "prepare_roi": "nenscope.radiomics.processing",
    "FEATURES": "nenscope.radiomics.registry",
    "Family": "nenscope.radiomics.registry",
    "FeatureSpec": "nenscope.radiomics.registry",
    "features_of": "nenscope.radiomics.registry",
}
"""Public name → module that defines it, imported on first access (PEP 562)."""


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'nenscope.radiomics' has no attribute '{name}'")
    return getattr(importlib.import_module(module), name)


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
