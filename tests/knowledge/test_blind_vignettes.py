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
from typing import Any

import pytest
import yaml

from nenscope.knowledge.kb import load_knowledge_base
from nenscope.knowledge.recommender import recommend
from nenscope.knowledge.scenario import parse_scenario
from nenscope.knowledge.vocab import Strength

BLIND_DIR = Path(__file__).parent / "scenarios_blind"
FILES = sorted(BLIND_DIR.glob("*.yaml"))


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


def test_at_least_forty_blind_vignettes() -> None:
    assert len(FILES) >= 40, f"only {len(FILES)} vignettes in {BLIND_DIR}"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_blind_vignette(path: Path) -> None:
    case = _load(path)
    assert case["id"] == path.stem
    kb = load_knowledge_base()
    for ref in case["source"]:
        assert ref in kb.references, f"{path.name}: source '{ref}' is not a citation id"
    plan = recommend(parse_scenario(case["scenario"], source=path.name))
    expect = case["expect"]
    exams = [item.exam.value for item in plan.items]
    avoided = [a.exam.value for a in plan.avoid]
    assert exams, f"{path.name}: empty plan; warnings: {plan.warnings}"
    assert exams[0] in expect["first"], f"{path.name}: first exam {exams[0]}, plan {exams}"
    assert plan.items[0].strength is Strength.RECOMMENDED
    bad = [e for e in expect.get("absent", []) if e in exams]
    assert not bad, f"{path.name}: {bad} must not be in the plan {exams}"
    missing_avoid = [e for e in expect.get("avoid", []) if e not in avoided]
    assert not missing_avoid, f"{path.name}: {missing_avoid} should be avoided; avoid {avoided}"
    missing = [e for e in expect.get("contains", []) if e not in exams]
    assert not missing, f"{path.name}: {missing} should be in the plan {exams}"
    text = " ".join(plan.warnings)
    for fragment in expect.get("warnings", []):
        assert fragment.lower() in text.lower(), f"{path.name}: no warning with '{fragment}'"
    for fragment in expect.get("absent_warnings", []):
        assert fragment.lower() not in text.lower(), f"{path.name}: a warning has '{fragment}'"
    assert not set(exams) & set(avoided), f"{path.name}: exam both planned and avoided"
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
