"""Fixtures shared with the CLI tests, and the service's PostgreSQL and Orthanc servers."""

from tests.cli.conftest import nenscope_cli as nenscope_cli
from tests.service_components import (  # noqa: F401  (fixtures)
    orthanc,
    postgres_server,
    postgres_url,
)
