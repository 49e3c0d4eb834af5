"""Blind clinical vignettes written independently from the guidelines by a clinical reviewer.

Each file in ``tests/knowledge/scenarios_blind/`` gives a scenario as a referring clinician would
fill it in, the guideline-preferred first exam(s) (comment at the top of each file names the
clinical-facts.md section), the exams that must not be in the plan, and optionally exams that must
be avoided or included, warning fragments and fragments no warning may contain
(``absent_warnings``). The checks are those of ``test_scenarios.py``, plus
the plan content a clinician reads: activities, uptake times and doses of tracer exams.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.knowledge._scenario_checks import check_case, load_case

BLIND_DIR = Path(__file__).parent / "scenarios_blind"
FILES = sorted(BLIND_DIR.glob("*.yaml"))


def test_at_least_forty_blind_vignettes() -> None:
    assert len(FILES) >= 40, f"only {len(FILES)} vignettes in {BLIND_DIR}"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_blind_vignette(path: Path) -> None:
    case = load_case(path)
    assert case["id"] == path.stem
    plan = check_case(path, case)
    expect = case["expect"]
    first = plan.items[0]
    for key, value in (
        ("first_activity_mbq", first.activity_mbq),
        ("first_uptake_min", first.uptake_min),
        ("first_dose_msv", first.effective_dose_msv),
    ):
        if key in expect:
            low, high = expect[key]
            assert value is not None, f"{path.name}: {first.exam} has no {key}"
            assert low <= value <= high, (
                f"{path.name}: {first.exam} {key} {value}, expected {low}-{high}"
            )
    for avoid in plan.avoid:
        assert avoid.reason.strip(), f"{path.name}: avoid {avoid.exam} without a reason"
    for item in plan.items:
        assert item.rationale.strip(), f"{path.name}: {item.exam} without a rationale"
        assert item.evidence, f"{path.name}: {item.exam} without evidence"
