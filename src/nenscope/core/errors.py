"""Exception and warning hierarchy of nenscope (STYLE 8.1).

Every exception derives from :class:`WorkbenchError` and from the matching builtin, so that
callers can catch either. Messages say what failed, on which input, what was expected, what was
found and how to fix it (STYLE 8.2).
"""

from __future__ import annotations

__all__ = [
    "DicomDeviationWarning",
    "DicomImportError",
    "EmptyRegionError",
    "EstimatedValueWarning",
    "GeometryError",
    "ImpossibleValueError",
    "InputLimitError",
    "InvalidArgumentError",
    "KnowledgeBaseError",
    "MissingAttributeError",
    "NotComputableError",
    "OptionError",
    "ScenarioError",
    "StoredResultError",
    "TracerTableError",
    "UnitError",
    "WorkbenchError",
    "WorkbenchWarning",
]


class WorkbenchError(Exception):
    """Base class of every error raised by nenscope."""


class OptionError(WorkbenchError, ValueError):
    """An option or vocabulary value is unknown; the message names the closest valid value."""


class UnitError(WorkbenchError, ValueError):
    """A value has the wrong unit or a unit cannot be interpreted."""


class GeometryError(WorkbenchError, ValueError):
    """Image geometry is invalid or two geometries do not match."""


class ImpossibleValueError(WorkbenchError, ValueError):
    """A value is physically or clinically impossible (a negative activity, a 7000 kg patient)."""


class InvalidArgumentError(WorkbenchError, ValueError):
    """A parameter or setting is out of its valid range; the message names it and the range."""


class InputLimitError(WorkbenchError, ValueError):
    """An input is larger or deeper than nenscope accepts (a file size, a YAML nesting depth)."""


class EmptyRegionError(WorkbenchError, ValueError):
    """A region of interest contains no voxel (STYLE 4.5)."""


class NotComputableError(WorkbenchError, ValueError):
    """A quantity cannot be computed from the given inputs; the message says why."""


class DicomImportError(WorkbenchError, ValueError):
    """A DICOM file or series cannot be read or interpreted."""


class MissingAttributeError(DicomImportError, KeyError):
    """A required DICOM attribute is missing or empty.

    ``KeyError`` quotes its message with ``repr``; ``__str__`` is overridden so that the
    message reads as plain text.
    """

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class ScenarioError(WorkbenchError, ValueError):
    """A clinical scenario has an unknown field, an unknown value or an impossible value."""


class KnowledgeBaseError(WorkbenchError, ValueError):
    """The knowledge-base data files are inconsistent (raised at load time)."""


class TracerTableError(WorkbenchError, ValueError):
    """The tracer table (``core/data/tracers.toml`` or a site's copy) is invalid or lacks an id."""


class StoredResultError(WorkbenchError, ValueError):
    """A stored (serialised) result cannot be restored: wrong format, version or field."""


class WorkbenchWarning(UserWarning):
    """Base class of every warning emitted by nenscope."""


class DicomDeviationWarning(WorkbenchWarning):
    """A DICOM object deviates from the standard; the reader accepted it and said how."""


class EstimatedValueWarning(WorkbenchWarning):
    """A value was estimated rather than read (for example a default patient height)."""
