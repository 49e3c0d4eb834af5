"""The checks every scenario file gets (author scenarios and blind vignettes alike)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from nenscope.knowledge.kb import load_knowledge_base
from nenscope.knowledge.recommender import Plan, recommend
from nenscope.knowledge.scenario import parse_scenario
from nenscope.knowledge.vocab import Strength


def load_case(path: Path) -> dict[str, Any]:
    """One scenario file: ``scenario``, ``expect`` and ``source``."""
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


def check_case(path: Path, case: dict[str, Any]) -> Plan:
    """Run the scenario and assert its expectations; return the plan for further checks.

    ``expect`` holds the acceptable first exam(s) (``first``), exams that must not be in the plan
    (``absent``), exams that must be avoided (``avoid``) or planned (``contains``), warning
    fragments that must (``warnings``) or must not (``absent_warnings``) appear.
    """
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
    return plan
