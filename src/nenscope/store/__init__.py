"""The service store: SQLAlchemy models, migrations and the DICOM file store.

The operations the web service performs on them (import, analyses, review, audit) live in
the modules beside these.
"""

from nenscope.store.db import Store, StoreError, resolve_data_dir
from nenscope.store.models import AnalysisState, JobState, Role, StudyState

__all__ = [
    "AnalysisState",
    "JobState",
    "Role",
    "Store",
    "StoreError",
    "StudyState",
    "resolve_data_dir",
]
