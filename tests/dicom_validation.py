"""dciodvfy (dicom3tools) as a test oracle: run it, split its report into errors and warnings."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

SOURCE_DEFECT_FRAME_EQUALS_STUDY = "StudyInstanceUID has same value as FrameOfReferenceUID"
"""dciodvfy's error for a source whose frame of reference UID is its study UID (IBSI DROs).

A derived object must share both UIDs with its source (same study; a SEG in the same frame of
reference), so this source defect cannot be repaired by a writer without breaking a reference.
Tests accept it only where the source itself carries the defect (checked by the test).
"""


def dciodvfy(path: Path) -> list[str]:
    """The Error and Warning lines dciodvfy reports for ``path``; fails if it is not installed."""
    if shutil.which("dciodvfy") is None:
        pytest.fail("dciodvfy missing: install dicom3tools (.ci/run does).")
    result = subprocess.run(
        ["dciodvfy", str(path)], capture_output=True, text=True, timeout=300, check=False
    )
    lines = (result.stdout + result.stderr).splitlines()
    return [line for line in lines if line.startswith(("Error", "Warning"))]


def errors(report: list[str], *, accepted: tuple[str, ...] = ()) -> list[str]:
    """The Error lines of a dciodvfy report, less those containing an ``accepted`` text."""
    return [
        line
        for line in report
        if line.startswith("Error") and not any(text in line for text in accepted)
    ]
