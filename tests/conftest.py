"""Shared fixtures: the location of the public test data in ``../shared/data``."""

from __future__ import annotations

from pathlib import Path

import pytest

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
