"""Clinical scenarios written from the guidelines (tests/knowledge/scenarios/*.yaml).

Each file gives a scenario, the acceptable first exam(s) (the guideline-preferred first test),
the exams that must not appear in the plan, and optionally exams that must be on the avoid list,
exams that must be in the plan, warning substrings and substrings no warning may contain
(``absent_warnings``). Sources are named in each file.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.knowledge._scenario_checks import check_case, load_case

SCENARIO_DIR = Path(__file__).parent / "scenarios"
FILES = sorted(SCENARIO_DIR.glob("*.yaml"))


def test_at_least_thirty_scenarios() -> None:
    assert len(FILES) >= 30, f"only {len(FILES)} scenarios in {SCENARIO_DIR}"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_scenario(path: Path) -> None:
    check_case(path, load_case(path))
