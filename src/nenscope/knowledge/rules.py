"""Rules as data: parsing ``data/rules.toml`` into frozen rules and evaluating their conditions.

A rule has an id, a source (citation id + section), a ``when`` condition, optional ``unless``
conditions, and actions: ``propose`` exams with a priority and strength, ``avoid`` exams with a
reason, ``adjust`` exams already proposed, and ``warn``. A ``warn`` entry is a string, or a
table ``{ text = "...", test_for = ["men1"] }`` for advice to test for a hereditary syndrome:
that advice is left out when the scenario's ``hereditary`` is already one of ``test_for``, and
the loader refuses testing advice without ``test_for``. A condition is a table whose keys must
all hold:

- a scenario field → list of allowed values (``question = ["staging"]``); a list field
  (``findings``, ``metastatic_sites``, ``risk_factors``) → ``{any|all|none = [...]}``; a numeric
  field → ``{lt|le|gt|ge = x}``; any field → ``{missing = true|false}``. ``grade`` is the given
  grade or the grade implied by Ki-67. An unknown value fails the test (nothing is guessed).
- ``tags`` → ``{all|any|none = [...]}`` over the derived facts of :mod:`nenscope.knowledge.facts`.
- ``available`` → ``{all|any|none = [...]}`` over the exams the centre offers.
- ``"prior.<exam>"`` → list of results.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from nenscope.core.enums import suggest
from nenscope.core.errors import KnowledgeBaseError
from nenscope.knowledge.facts import TAGS
from nenscope.knowledge.scenario import ENUM_FIELDS, FIELD_NAMES, NUMERIC_LIMITS, Scenario
from nenscope.knowledge.scenario import LIST_FIELDS as SCENARIO_LIST_FIELDS
from nenscope.knowledge.vocab import ExamId, Hereditary, PriorResult, Strength

__all__ = [
    "SELECTORS",
    "TESTING_ADVICE",
    "Adjustment",
    "Advice",
    "Avoidance",
    "Condition",
    "Context",
    "Proposal",
    "Rule",
    "parse_rules",
]

SELECTORS = ("@ionising", "@ct", "@iodinated", "@gadolinium", "@nuclear", "@radioiodine")
"""Exam groups a rule may name instead of exam ids (resolved from the exam data)."""

TESTING_ADVICE = re.compile(
    r"\btest(?:ing)? for\b|\b(?:germline|genetic)\b[^.;]*\btest", re.IGNORECASE
)
"""Wording of advice to test for a hereditary syndrome; such a warning needs ``test_for``."""

_SET_OPS = ("any", "all", "none")
_NUM_OPS = ("lt", "le", "gt", "ge")
_LIST_FIELDS = ("findings", "metastatic_sites", "risk_factors", "available")


@dataclass(frozen=True, slots=True, kw_only=True)
class Context:
    """What a condition is evaluated against: the scenario, its tags, the available exams."""

    scenario: Scenario
    tags: frozenset[str]
    available: frozenset[str]


def _value_of(ctx: Context, key: str) -> Any:
    s = ctx.scenario
    if key == "grade":
        grade = s.effective_grade
        return None if grade is None else grade.value
    if key.startswith("prior."):
        result = s.prior.get(key.removeprefix("prior."))
        return None if result is None else result.value
    if key == "available":
        return ctx.available
    if key == "tags":
        return ctx.tags
    value = getattr(s, key)
    if isinstance(value, tuple):
        return {str(v) for v in value}
    return value


def _test_set(spec: Mapping[str, Any], values: set[str] | frozenset[str]) -> bool:
    ok = True
    if "any" in spec:
        ok = ok and bool(values & set(spec["any"]))
    if "all" in spec:
        ok = ok and set(spec["all"]) <= values
    if "none" in spec:
        ok = ok and not (values & set(spec["none"]))
    if "empty" in spec:
        ok = ok and (not values) == bool(spec["empty"])
    return ok


def _test_number(spec: Mapping[str, Any], value: float) -> bool:
    checks = {
        "lt": value < spec.get("lt", float("inf")),
        "le": value <= spec.get("le", float("inf")),
        "gt": value > spec.get("gt", float("-inf")),
        "ge": value >= spec.get("ge", float("-inf")),
    }
    return all(checks[op] for op in _NUM_OPS if op in spec)


def _test(key: str, spec: Any, ctx: Context) -> bool:
    value = _value_of(ctx, key)
    if isinstance(spec, Mapping) and "missing" in spec:
        empty = value is None or (isinstance(value, set | frozenset) and not value)
        return empty == bool(spec["missing"])
    if isinstance(value, set | frozenset):
        return _test_set(spec, value)
    if value is None:
        return False
    if isinstance(spec, Mapping):
        return _test_number(spec, float(value))
    allowed = [v.lower() if isinstance(v, str) else v for v in spec]
    probe = value.lower() if isinstance(value, str) else value
    return probe in allowed


@dataclass(frozen=True, slots=True, kw_only=True)
class Condition:
    """A conjunction of key tests (see module docstring); empty = always true."""

    tests: tuple[tuple[str, Any], ...] = ()

    def failing(self, ctx: Context) -> str | None:
        """Return the first key whose test fails (with its spec), or None when all hold."""
        for key, spec in self.tests:
            if not _test(key, spec, ctx):
                return f"{key} {spec!r}"
        return None

    def describe(self) -> str:
        """Human-readable form for ``--explain``."""
        return " and ".join(f"{k}={v!r}" for k, v in self.tests) or "always"


@dataclass(frozen=True, slots=True, kw_only=True)
class Proposal:
    """An exam a rule puts on the plan."""

    exam: ExamId
    priority: int
    strength: Strength
    rationale: str
    evidence: tuple[str, ...] = ()
    substitutes: tuple[ExamId, ...] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Avoidance:
    """An exam (or selector) a rule puts on the avoid list."""

    exams: tuple[str, ...]
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Adjustment:
    """A change to exams already proposed (demotion in pregnancy, for example)."""

    exams: tuple[str, ...]
    priority_delta: int = 0
    strength: Strength | None = None
    note: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Advice:
    """A warning of a rule; ``test_for`` marks advice to test for those hereditary syndromes."""

    text: str
    test_for: tuple[Hereditary, ...] = ()

    def applies(self, scenario: Scenario) -> bool:
        """Return False when the advice is to test for a syndrome the scenario already has."""
        return scenario.hereditary is None or scenario.hereditary not in self.test_for


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    """One clinical rule with its source and actions."""

    id: str
    title: str
    source: tuple[str, ...]
    section: str
    when: Condition
    unless: tuple[Condition, ...] = ()
    propose: tuple[Proposal, ...] = ()
    avoid: tuple[Avoidance, ...] = ()
    adjust: tuple[Adjustment, ...] = ()
    warn: tuple[Advice, ...] = ()

    def why_not(self, ctx: Context) -> str | None:
        """None when the rule fires; otherwise the reason it does not."""
        failed = self.when.failing(ctx)
        if failed is not None:
            return f"condition not met: {failed}"
        for exclusion in self.unless:
            if exclusion.failing(ctx) is None:
                return f"excluded by: {exclusion.describe()}"
        return None


# ----------------------------------------------------------------------------- parsing


def _bad(rule_id: str, message: str) -> KnowledgeBaseError:
    return KnowledgeBaseError(f"rules.toml, rule '{rule_id}': {message}")


def _check_values(rule_id: str, key: str, values: Sequence[Any], valid: Sequence[str]) -> None:
    lowered = {v.lower() for v in valid}
    for v in values:
        if str(v).lower() not in lowered:
            raise _bad(rule_id, f"{key}: unknown value '{v}'. {suggest(str(v), list(valid))}")


def _valid_values(key: str) -> Sequence[str] | None:
    if key == "tags":
        return list(TAGS)
    if key == "available" or key.startswith("prior."):
        return [e.value for e in ExamId] if key == "available" else [r.value for r in PriorResult]
    if key in ENUM_FIELDS:
        return [m.value for m in ENUM_FIELDS[key]]
    if key in SCENARIO_LIST_FIELDS:
        return [m.value for m in SCENARIO_LIST_FIELDS[key]]
    return None


def _check_key(rule_id: str, key: str) -> None:
    base = key.removeprefix("prior.")
    if key.startswith("prior.") and base.split(":")[0] not in {e.value for e in ExamId}:
        raise _bad(rule_id, f"unknown exam in '{key}'. {suggest(base, [e.value for e in ExamId])}")
    if key not in (*FIELD_NAMES, "tags") and not key.startswith("prior."):
        raise _bad(rule_id, f"unknown condition key '{key}'. {suggest(key, list(FIELD_NAMES))}")


def _parse_test(rule_id: str, key: str, spec: Any) -> tuple[str, Any]:
    _check_key(rule_id, key)
    valid = _valid_values(key)
    if isinstance(spec, Mapping):
        ops = set(spec) - {*_SET_OPS, *_NUM_OPS, "missing", "empty"}
        if ops:
            raise _bad(rule_id, f"{key}: unknown operator(s) {sorted(ops)}.")
        if key in NUMERIC_LIMITS and set(spec) & set(_SET_OPS):
            raise _bad(rule_id, f"{key} is numeric; use lt/le/gt/ge.")
        for op in _SET_OPS:
            if op in spec and valid is not None:
                _check_values(rule_id, key, spec[op], valid)
        return key, dict(spec)
    if key in (*_LIST_FIELDS, "tags"):
        raise _bad(rule_id, f"{key} needs a table such as {{ any = [...] }}.")
    if not isinstance(spec, list):
        raise _bad(rule_id, f"{key}: expected a list of allowed values, got {spec!r}.")
    if valid is not None:
        _check_values(rule_id, key, spec, valid)
    return key, tuple(spec)


def _parse_condition(rule_id: str, table: Any) -> Condition:
    if not isinstance(table, Mapping):
        raise _bad(rule_id, f"a condition must be a table, got {table!r}.")
    return Condition(tests=tuple(_parse_test(rule_id, k, v) for k, v in table.items()))


def _exam(rule_id: str, value: Any) -> ExamId:
    valid = [e.value for e in ExamId]
    if value not in valid:
        raise _bad(rule_id, f"unknown exam '{value}'. {suggest(str(value), valid)}")
    return ExamId(value)


def _exam_or_selector(rule_id: str, value: Any) -> str:
    if isinstance(value, str) and value.startswith("@"):
        if value not in SELECTORS:
            raise _bad(rule_id, f"unknown selector '{value}'. {suggest(value, list(SELECTORS))}")
        return value
    return _exam(rule_id, value).value


def _strength(rule_id: str, value: Any) -> Strength:
    valid = [s.value for s in Strength]
    if value not in valid:
        raise _bad(rule_id, f"unknown strength '{value}'. {suggest(str(value), valid)}")
    return Strength(value)


def _parse_proposal(rule_id: str, item: Mapping[str, Any]) -> Proposal:
    subs = item.get("substitutes")
    return Proposal(
        exam=_exam(rule_id, item.get("exam")),
        priority=int(item.get("priority", 50)),
        strength=_strength(rule_id, item.get("strength", "recommended")),
        rationale=str(item.get("rationale", "")),
        evidence=tuple(item.get("evidence", ())),
        substitutes=None if subs is None else tuple(_exam(rule_id, e) for e in subs),
    )


def _parse_advice(rule_id: str, item: Any) -> Advice:
    if isinstance(item, Mapping):
        unknown = set(item) - {"text", "test_for"}
        if unknown or "text" not in item:
            raise _bad(
                rule_id, f"warn entry needs 'text' (and optional 'test_for'), got {item!r}."
            )
        valid = [h.value for h in Hereditary if h is not Hereditary.NONE]
        test_for = _listify(item.get("test_for", ()))
        _check_values(rule_id, "warn.test_for", test_for, valid)
        advice = Advice(text=str(item["text"]), test_for=tuple(Hereditary(v) for v in test_for))
    else:
        advice = Advice(text=str(item))
    if TESTING_ADVICE.search(advice.text) and not advice.test_for:
        raise _bad(
            rule_id,
            f"warning '{advice.text[:60]}…' advises testing for a hereditary syndrome: write it "
            'as { text = "...", test_for = [...] } so it is left out when the syndrome is '
            "already known.",
        )
    return advice


def _listify(value: Any) -> list[Any]:
    return [value] if isinstance(value, str) else list(value)


def _parse_rule(raw: Mapping[str, Any]) -> Rule:
    rule_id = str(raw.get("id", "<no id>"))
    for required in ("id", "title", "source", "section", "when"):
        if required not in raw:
            raise _bad(rule_id, f"missing key '{required}'.")
    propose = tuple(_parse_proposal(rule_id, p) for p in raw.get("propose", ()))
    for p in propose:
        if not p.rationale:
            raise _bad(rule_id, f"proposal of {p.exam} has no rationale.")
    avoid = tuple(
        Avoidance(
            exams=tuple(_exam_or_selector(rule_id, e) for e in _listify(a["exam"])),
            reason=str(a["reason"]),
        )
        for a in raw.get("avoid", ())
    )
    adjust = tuple(
        Adjustment(
            exams=tuple(_exam_or_selector(rule_id, e) for e in _listify(a["exams"])),
            priority_delta=int(a.get("priority_delta", 0)),
            strength=None if "strength" not in a else _strength(rule_id, a["strength"]),
            note=str(a.get("note", "")),
        )
        for a in raw.get("adjust", ())
    )
    return Rule(
        id=rule_id,
        title=str(raw["title"]),
        source=tuple(_listify(raw["source"])),
        section=str(raw["section"]),
        when=_parse_condition(rule_id, raw["when"]),
        unless=tuple(_parse_condition(rule_id, u) for u in raw.get("unless", ())),
        propose=propose,
        avoid=avoid,
        adjust=adjust,
        warn=tuple(_parse_advice(rule_id, w) for w in raw.get("warn", ())),
    )


def parse_rules(document: Mapping[str, Any]) -> tuple[Rule, ...]:
    """Parse the ``[[rule]]`` array of a rules document into validated rules.

    Raises
    ------
    KnowledgeBaseError
        For a missing key, an unknown condition key, value, exam, selector or strength, or a
        duplicate rule id; the message names the rule and the closest valid value.
    """
    rules = tuple(_parse_rule(r) for r in document.get("rule", ()))
    seen: set[str] = set()
    for rule in rules:
        if rule.id in seen:
            raise _bad(rule.id, "duplicate rule id.")
        seen.add(rule.id)
    return rules
