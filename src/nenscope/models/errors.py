"""Errors of the modelling part (all derive from ``WorkbenchError``)."""

from __future__ import annotations

from nenscope.core.errors import WorkbenchError

__all__ = ["ModelInputError", "OutOfDistributionError"]


class ModelInputError(WorkbenchError, ValueError):
    """A table, target or option that a model cannot be trained or applied on."""


class OutOfDistributionError(WorkbenchError, ValueError):
    """Cases outside the training distribution that a strict prediction refuses."""
