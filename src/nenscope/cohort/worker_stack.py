"""Imported once, by the local cluster's fork server only: what every study's analysis needs.

The local cluster's worker processes are forked from one server process that has imported
this module (:func:`nenscope.cohort.cluster.worker_fork_server`), so each worker starts with
Dask's worker and the analysis stack already loaded instead of importing them on its first
study (about 1 CPU-s per worker on the small studies, docs/cohort.md "Measured scaling").
A worker never imports pyarrow: its parts are JSON (:mod:`nenscope.cohort.task`).

The cycle collector is off while the modules load (the import's 10^5 new objects would
otherwise trigger full collections: ~8 % of the import), and the loaded objects are then
frozen (:func:`gc.freeze`), as Python's documentation advises for a process that forks
without exec: the workers' collections skip them, so they neither spend time on them nor
write to (and so copy) the memory pages they share with the server.
"""

from __future__ import annotations

import gc

gc.disable()
try:
    import distributed  # noqa: F401

    import nenscope.reporting.tables  # noqa: F401  (lesion_to_dict: the cohort's lesion rows)
    from nenscope.api import analyze  # noqa: F401  (the lazy name loads the pipeline)
    from nenscope.cohort.task import run_study  # noqa: F401
finally:
    gc.enable()
gc.freeze()

__all__: list[str] = []
