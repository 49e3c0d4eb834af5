"""Stage bookkeeping of the pipeline: wall time per stage, captured warnings, recorded errors."""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["Stages"]


class Stages:
    """Timing, warnings and errors of the pipeline stages of one analysis.

    Warnings raised inside a stage (SUV estimates, DICOM deviations) are caught and kept as
    report text instead of being printed; errors are reasons why a part of the analysis is
    missing.

    Examples
    --------
    >>> stages = Stages()
    >>> with stages.stage("demo"):
    ...     warnings.warn("height estimated", UserWarning, stacklevel=1)
    >>> stages.warnings, sorted(stages.timings)
    (['height estimated'], ['demo'])
    """

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self.warnings: list[str] = []
        self.errors: list[str] = []
        self.notes: list[str] = []

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time the block as stage ``name`` and keep the warnings it raises."""
        start = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                yield
            finally:
                self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - start
                for item in caught:
                    self.warn(str(item.message))

    def warn(self, text: str) -> None:
        """Record a warning once."""
        if text and text not in self.warnings:
            self.warnings.append(text)

    def note(self, text: str) -> None:
        """Record what the analysis did or left out (not a problem: report notes)."""
        if text and text not in self.notes:
            self.notes.append(text)

    def error(self, text: str) -> None:
        """Record why a part of the analysis is missing."""
        if text and text not in self.errors:
            self.errors.append(text)
