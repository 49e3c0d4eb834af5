"""Errors of the cohort part (all derive from ``WorkbenchError``)."""

from __future__ import annotations

from nenscope.core.errors import WorkbenchError

__all__ = ["CohortError", "StudyFailedError"]


class CohortError(WorkbenchError, ValueError):
    """A manifest, output folder or cluster option the cohort cannot run with."""


class StudyFailedError(WorkbenchError, RuntimeError):
    """One study could not be analysed (recorded in failures.csv; the cohort goes on)."""
