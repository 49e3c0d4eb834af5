"""The analysis over many studies on dask.distributed (``nenscope cohort run``).

A local cluster by default, or any Dask scheduler; workers read the studies themselves and
write one part per study; the parts are gathered into ``lesions.parquet``. Resumable by
content hash. Needs the ``cohort`` extra.

The names load on first use (PEP 562): ``nenscope cohort run`` imports
:mod:`nenscope.cohort.cluster` and starts the workers' fork server before anything else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nenscope.core.lazy import lazy_exports

if TYPE_CHECKING:
    from nenscope.cohort.cluster import ClusterSpec, worker_fork_server
    from nenscope.cohort.errors import CohortError, StudyFailedError
    from nenscope.cohort.manifest import StudyEntry, read_manifest
    from nenscope.cohort.run import CohortSummary, StoreTarget, gather_lesions, run_cohort
    from nenscope.cohort.task import StudyOutcome, StudyTask, run_study, study_key

_LAZY = {
    "ClusterSpec": "nenscope.cohort.cluster",
    "worker_fork_server": "nenscope.cohort.cluster",
    "CohortError": "nenscope.cohort.errors",
    "StudyFailedError": "nenscope.cohort.errors",
    "StudyEntry": "nenscope.cohort.manifest",
    "read_manifest": "nenscope.cohort.manifest",
    "CohortSummary": "nenscope.cohort.run",
    "StoreTarget": "nenscope.cohort.run",
    "gather_lesions": "nenscope.cohort.run",
    "run_cohort": "nenscope.cohort.run",
    "StudyOutcome": "nenscope.cohort.task",
    "StudyTask": "nenscope.cohort.task",
    "run_study": "nenscope.cohort.task",
    "study_key": "nenscope.cohort.task",
}
"""Public name → module that defines it, imported on first access."""

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())

__all__ = [
    "ClusterSpec",
    "CohortError",
    "CohortSummary",
    "StoreTarget",
    "StudyEntry",
    "StudyFailedError",
    "StudyOutcome",
    "StudyTask",
    "gather_lesions",
    "read_manifest",
    "run_cohort",
    "run_study",
    "study_key",
    "worker_fork_server",
]
