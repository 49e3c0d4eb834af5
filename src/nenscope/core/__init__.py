"""Core value objects shared by every layer: units, geometry, vocabularies, errors. No I/O.

The geometry names (numpy) load on first access, so that importing the errors (every command
line start does) does not import numpy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from nenscope.core.enums import parse_option, suggest
from nenscope.core.errors import (
    DicomDeviationWarning,
    DicomImportError,
    EmptyRegionError,
    EstimatedValueWarning,
    GeometryError,
    ImpossibleValueError,
    InputLimitError,
    KnowledgeBaseError,
    MissingAttributeError,
    NotComputableError,
    OptionError,
    ScenarioError,
    UnitError,
    WorkbenchError,
    WorkbenchWarning,
)
from nenscope.core.units import Unit

if TYPE_CHECKING:
    from nenscope.core.geometry import (
        AFFINE_ATOL_MM,
        ORTHOGONALITY_ATOL,
        ImageVolume,
        affine_from_dicom,
        affine_from_spacing,
    )

_GEOMETRY_NAMES = (
    "AFFINE_ATOL_MM",
    "ORTHOGONALITY_ATOL",
    "ImageVolume",
    "affine_from_dicom",
    "affine_from_spacing",
)
_LAZY = dict.fromkeys(_GEOMETRY_NAMES, "nenscope.core.geometry")
"""Public name → module that defines it, imported on first access (PEP 562)."""


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'nenscope.core' has no attribute '{name}'")
    return getattr(importlib.import_module(module), name)


__all__ = [
    "AFFINE_ATOL_MM",
    "ORTHOGONALITY_ATOL",
    "DicomDeviationWarning",
    "DicomImportError",
    "EmptyRegionError",
    "EstimatedValueWarning",
    "GeometryError",
    "ImageVolume",
    "ImpossibleValueError",
    "InputLimitError",
    "KnowledgeBaseError",
    "MissingAttributeError",
    "NotComputableError",
    "OptionError",
    "ScenarioError",
    "Unit",
    "UnitError",
    "WorkbenchError",
    "WorkbenchWarning",
    "affine_from_dicom",
    "affine_from_spacing",
    "parse_option",
    "suggest",
]
