"""Stage bookkeeping of the pipeline: wall time per stage, collected warnings, recorded errors.

Warnings are collected through :func:`nenscope.core.diagnostics.collect_warnings` (a
per-thread / per-task collector), never through the process-global
``warnings.catch_warnings``: analyses in several threads keep their own warnings.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from nenscope.core.diagnostics import collect_warnings

__all__ = ["Stages"]


class Stages:
    """Timing, warnings and errors of the pipeline stages of one analysis.

    Warnings reported inside a stage through :func:`nenscope.core.diagnostics.warn` (SUV
    estimates, DICOM deviations) are kept as report text instead of being printed; errors are
    reasons why a part of the analysis is missing.

    Examples
    --------
    >>> from nenscope.core.diagnostics import warn
    >>> stages = Stages()
    >>> with stages.stage("demo"):
    ...     warn("height estimated")
    >>> stages.warnings, sorted(stages.timings)
    (['height estimated'], ['demo'])
    """

    def __init__(self, on_stage: Callable[[str], None] | None = None) -> None:
        self.timings: dict[str, float] = {}
        self.warnings: list[str] = []
        self.errors: list[str] = []
        self.notes: list[str] = []
        self._on_stage = on_stage

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time the block as stage ``name`` and keep the warnings reported in it.

        The ``on_stage`` callback given to the constructor (a progress display) is told the
        stage's name when it starts.
        """
        if self._on_stage is not None:
            self._on_stage(name)
        start = time.perf_counter()
        with collect_warnings() as caught:
            try:
                yield
            finally:
                self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - start
                for text in caught:
                    self.warn(text)

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
