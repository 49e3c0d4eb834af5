"""Fixtures of the service tests (real PostgreSQL, Orthanc, a synthetic study)."""

from tests.service_components import (  # noqa: F401  (fixtures)
    db_url,
    orthanc,
    other_phantom_study,
    phantom_study,
    postgres_server,
    postgres_url,
)
