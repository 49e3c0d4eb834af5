"""Errors of the PACS layer."""

from __future__ import annotations

from nenscope.core.errors import WorkbenchError

__all__ = ["PacsError", "UnknownNodeError"]


class PacsError(WorkbenchError, RuntimeError):
    """A PACS operation failed (unreachable, refused, partial answer); the message says which."""


class UnknownNodeError(WorkbenchError, KeyError):
    """No PACS node of that name is configured."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""
