"""Core value objects shared by every layer: units, geometry, vocabularies, errors. No I/O."""

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
from nenscope.core.geometry import (
    AFFINE_ATOL_MM,
    ORTHOGONALITY_ATOL,
    ImageVolume,
    affine_from_dicom,
    affine_from_spacing,
)
from nenscope.core.units import Unit

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
