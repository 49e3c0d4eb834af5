"""Imported once by the local cluster's fork server: the modules every study's analysis needs.

The local cluster's worker processes are forked from one server process that has imported
this module (:func:`nenscope.cohort.run.run_cohort`), so each worker starts with the analysis
stack already loaded instead of importing it on its first study (about 1 CPU-s per worker on
the small studies, docs/cohort.md "Measured scaling"). Importing it has no other effect.

Not here: pyarrow (and pandas, which it loads), which the worker imports when it writes its
first part (0.2 CPU-s). Importing pyarrow starts a native thread (jemalloc's background
thread), and a process that forks must have no thread but the one that forks.
"""

from __future__ import annotations

import nenscope.reporting  # noqa: F401
from nenscope.api import analyze  # noqa: F401  (the lazy name loads the pipeline)
from nenscope.cohort.task import run_study  # noqa: F401

__all__: list[str] = []
