"""The analysis over many studies on dask.distributed (``nenscope cohort run``).

A local cluster by default, or any Dask scheduler; workers read the studies themselves and
write one Parquet part per study; the parts are gathered into ``lesions.parquet``. Resumable
by content hash. Needs the ``cohort`` extra.
"""

from nenscope.cohort.errors import CohortError, StudyFailedError
from nenscope.cohort.manifest import StudyEntry, read_manifest
from nenscope.cohort.run import (
    ClusterSpec,
    CohortSummary,
    StoreTarget,
    gather_lesions,
    run_cohort,
)
from nenscope.cohort.task import StudyOutcome, StudyTask, run_study, study_key

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
]
