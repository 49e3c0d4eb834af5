"""Shared fixtures: the location of the public test data in ``../shared/data``."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

# No per-example deadline: a loaded 2-core CI machine (or the first numba compile) must not
# turn a correct property into a DeadlineExceeded failure. Under CI the examples are derived
# from each test's name, so a CI run is reproducible; locally they stay random.
settings.register_profile("dev", deadline=None)
settings.register_profile("ci", deadline=None, derandomize=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"


def shared_data_path(*parts: str) -> Path:
    """Path inside ``../shared/data``; fails (not skips) with the missing path named."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.fail(
            f"Test data missing: {path}. The tests read the public data from ../shared/data "
            "beside the project checkout (see shared/data/README.md)."
        )
    return path


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Root of the shared public test data."""
    return shared_data_path()
