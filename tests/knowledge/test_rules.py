"""The rule language (knowledge/rules.py): condition evaluation and rule tracing."""

from __future__ import annotations

from typing import Any

import pytest

from nenscope.knowledge.kb import load_knowledge_base
from nenscope.knowledge.rules import Condition, Context
from nenscope.knowledge.scenario import parse_scenario


def _ctx(
    tags: frozenset[str] = frozenset(), available: frozenset[str] = frozenset(), **f: Any
) -> Context:
    return Context(
        scenario=parse_scenario({"question": "staging", **f}), tags=tags, available=available
    )


@pytest.mark.parametrize(
    ("tests", "fields", "holds"),
    [
        ((("grade", ("G2",)),), {"ki67_percent": 12}, True),  # grade implied by Ki-67
        ((("grade", ("G1",)),), {"ki67_percent": 12}, False),
        ((("ki67_percent", {"gt": 10, "le": 20}),), {"ki67_percent": 12}, True),
        ((("ki67_percent", {"gt": 12}),), {"ki67_percent": 12}, False),
        ((("size_cm", {"lt": 1}),), {}, False),  # unknown value fails a numeric test
        ((("size_cm", {"missing": True}),), {}, True),
        ((("findings", {"any": ["liver-only"]}),), {"findings": ["liver-only"]}, True),
        ((("findings", {"none": ["liver-only"]}),), {"findings": ["liver-only"]}, False),
        ((("findings", {"empty": True}),), {}, True),
        ((("prior.eus", ("negative",)),), {"prior": {"eus": "negative"}}, True),
        ((("prior.eus", {"missing": True}),), {"prior": {"eus": "negative"}}, False),
        ((("presurgical", (True,)),), {"presurgical": True}, True),
        ((("presurgical", (True,)),), {}, False),
        ((), {}, True),
    ],
)
def test_condition(
    tests: tuple[tuple[str, Any], ...], fields: dict[str, Any], holds: bool
) -> None:
    assert (Condition(tests=tests).failing(_ctx(**fields)) is None) is holds


def test_tags_and_available() -> None:
    ctx = _ctx(tags=frozenset({"wd-net", "child"}), available=frozenset({"eus"}))
    assert Condition(tests=(("tags", {"all": ["wd-net"], "none": ["nec"]}),)).failing(ctx) is None
    assert Condition(tests=(("tags", {"any": ["nec", "mtc"]}),)).failing(ctx) is not None
    assert Condition(tests=(("available", {"none": ["ga68-sstr-pet"]}),)).failing(ctx) is None


def test_failing_names_the_condition() -> None:
    failed = Condition(tests=(("grade", ("G1",)),)).failing(_ctx(grade="G3"))
    assert failed == "grade ('G1',)"


def test_rule_why_not_reports_exclusion() -> None:
    kb = load_knowledge_base()
    rule = next(r for r in kb.rules if r.id == "fdg-not-for-g1-staging")
    ctx = _ctx(tags=frozenset({"wd-net"}), grade="G1")
    assert rule.why_not(ctx) is None
    prrt = Context(
        scenario=parse_scenario({"question": "prrt-eligibility", "grade": "G1"}),
        tags=frozenset({"wd-net"}),
        available=frozenset(),
    )
    assert (rule.why_not(prrt) or "").startswith("excluded by")
