"""Imported once by the local cluster's fork server: the modules every study's analysis needs.

The local cluster's worker processes are forked from one server process that has imported
this module (:func:`nenscope.cohort.run.run_cohort`), so each worker starts with the analysis
stack already loaded instead of importing it on its first study (about 1 CPU-s per worker on
the small studies, docs/cohort.md "Measured scaling"). Importing it has no other effect.
"""

from __future__ import annotations

import pyarrow.pandas_compat
import pyarrow.parquet  # noqa: F401

import nenscope.reporting  # noqa: F401
from nenscope.api import analyze  # noqa: F401  (the lazy name loads the pipeline)
from nenscope.cohort.task import run_study  # noqa: F401

try:  # noqa: SIM105  (tests/test_dependencies.py reads `except ImportError`)
    # pyarrow looks for pandas (when installed) as it builds a study's part.
    import pandas  # noqa: F401
except ImportError:  # pragma: no cover - pandas comes with the models extra
    pass

__all__: list[str] = []
