"""The recommender as a web form: form text → :class:`Scenario` → plan for display (pure).

Each scenario field of DESIGN.md ("Scenario fields") is one form control whose ``name`` is the
scenario field name. The text a browser sends is turned into the value types of a YAML scenario
(numbers, true/false, lists, the ``prior`` map) and then validated by
:func:`nenscope.knowledge.scenario.parse_scenario`, so the messages are the CLI's own
("unknown value 'stagin'. Did you mean 'staging'? ..."). Every field is checked on its own first,
so a form with three mistakes shows three messages, each beside its field; then the whole
scenario is checked for contradictions between fields (pregnant but male, ...).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from nenscope.core.errors import ScenarioError
from nenscope.knowledge.kb import KnowledgeBase, load_knowledge_base
from nenscope.knowledge.recommender import Plan, recommend
from nenscope.knowledge.scenario import (
    ENUM_FIELDS,
    LIST_FIELDS,
    NUMERIC_LIMITS,
    Scenario,
    parse_scenario,
)
from nenscope.knowledge.vocab import PriorResult

__all__ = [
    "FORM_FIELDS",
    "FormField",
    "FormResult",
    "PlanView",
    "Widget",
    "parse_form",
    "plan_view",
]

SOURCE = "form"
"""The name parse_scenario gives the input in its messages ("Scenario form: field ...")."""


class Widget(StrEnum):
    """How a field is shown."""

    TEXT = "text"  # free text with a list of suggestions (datalist); any value can be typed
    NUMBER = "number"  # text box with decimal keyboard; checked by the scenario parser
    BOOLEAN = "boolean"  # unknown / yes / no
    CHECKBOXES = "checkboxes"  # a short list of values, several may be ticked
    TEXTAREA = "textarea"


@dataclass(frozen=True, slots=True, kw_only=True)
class FormField:
    """One scenario field as a form control."""

    name: str
    label: str
    widget: Widget
    group: str
    choices: tuple[str, ...] = ()
    unit: str = ""
    hint: str = ""


def _choices(name: str) -> tuple[str, ...]:
    enum = ENUM_FIELDS.get(name) or LIST_FIELDS.get(name)
    return tuple(m.value for m in enum) if enum is not None else ()


def _f(name: str, label: str, widget: Widget, group: str, hint: str = "") -> FormField:
    unit = NUMERIC_LIMITS[name][2] if name in NUMERIC_LIMITS else ""
    return FormField(
        name=name,
        label=label,
        widget=widget,
        group=group,
        choices=_choices(name),
        unit=unit,
        hint=hint,
    )


_T, _N, _B, _C, _A = Widget.TEXT, Widget.NUMBER, Widget.BOOLEAN, Widget.CHECKBOXES, Widget.TEXTAREA

FORM_FIELDS: tuple[FormField, ...] = (
    _f("question", "Clinical question", _T, "Question", "required"),
    _f("presurgical", "Result decides an operation", _B, "Question"),
    _f("description", "Description (free text)", _A, "Question"),
    _f("age_years", "Age", _N, "Patient"),
    _f("sex", "Sex", _T, "Patient"),
    _f("weight_kg", "Weight", _N, "Patient"),
    _f("height_cm", "Height", _N, "Patient"),
    _f("pregnant", "Pregnant", _B, "Patient"),
    _f("gestational_weeks", "Gestational age", _N, "Patient"),
    _f("breastfeeding", "Breastfeeding", _B, "Patient"),
    _f("egfr_ml_min", "eGFR", _N, "Patient"),
    _f("primary_site", "Primary site", _T, "Tumour"),
    _f("tumor_type", "Tumour type", _T, "Tumour"),
    _f("differentiation", "Differentiation", _T, "Tumour"),
    _f("grade", "WHO grade", _T, "Tumour"),
    _f("ki67_percent", "Ki-67 index", _N, "Tumour"),
    _f("size_cm", "Size of the primary", _N, "Tumour"),
    _f("syndrome", "Hormonal syndrome", _T, "Tumour"),
    _f("suspected_malignant", "Suspected malignant", _B, "Tumour"),
    _f("hereditary", "Hereditary syndrome", _T, "Tumour"),
    _f("gastric_type", "Gastric NET type", _T, "Tumour", "1, 2 or 3 (gastric NETs only)"),
    _f("metastatic", "Metastatic", _B, "Disease"),
    _f("metastatic_sites", "Metastatic sites", _C, "Disease"),
    _f("resection", "Resection of the primary", _T, "Disease"),
    _f("risk_factors", "Risk factors", _C, "Disease"),
    _f("on_ssa", "Somatostatin analogue", _T, "Disease"),
    _f("calcitonin_pg_ml", "Calcitonin", _N, "Markers"),
    _f("calcitonin_doubling_months", "Calcitonin doubling time", _N, "Markers"),
    _f("cea_doubling_months", "CEA doubling time", _N, "Markers"),
    _f("findings", "Findings", _C, "Imaging so far"),
    _f(
        "prior",
        "Prior exams and results",
        _A,
        "Imaging so far",
        "one per line: exam: result (e.g. ga68-sstr-pet: negative, fdg-pet:liver: positive)",
    ),
    _f(
        "available",
        "Exams available at this centre",
        _T,
        "Imaging so far",
        "comma-separated exam ids; empty = every exam in routine clinical use",
    ),
    _f("pretest_probability", "Pre-test probability", _N, "Imaging so far", "0-1, optional"),
)
"""Every field of DESIGN.md's scenario table, plus the parser's extras (description, pre-test
probability), in the order the form shows them."""

_BY_NAME = {f.name: f for f in FORM_FIELDS}
_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_FIELD_IN_MESSAGE = re.compile(r"field '([a-z0-9_]+)")


@dataclass(frozen=True, slots=True, kw_only=True)
class FormResult:
    """What the form held: the values as typed, the messages per field, the scenario if valid."""

    values: Mapping[str, tuple[str, ...]]
    errors: Mapping[str, str]
    scenario: Scenario | None
    general_errors: tuple[str, ...] = ()

    def text(self, name: str) -> str:
        """Return the value of a single-valued field as typed ('' when empty)."""
        got = self.values.get(name, ())
        return ", ".join(got)

    def ticked(self, name: str, choice: str) -> bool:
        """Return whether a checkbox value was sent."""
        return choice in self.values.get(name, ())


def _convert_text(name: str, raw: Sequence[str]) -> Any:
    """Turn the typed text into the value a YAML scenario would hold (None = not given)."""
    widget = _BY_NAME[name].widget
    if name in LIST_FIELDS:
        items = [p.strip() for r in raw for p in r.split(",") if p.strip()]
        return items or None
    text = " ".join(r.strip() for r in raw if r.strip())
    if not text:
        return None
    if name == "prior":
        return _prior_text(text)
    if widget is Widget.BOOLEAN:
        low = text.lower()
        return True if low in _TRUE else False if low in _FALSE else text
    if widget is Widget.NUMBER:
        return float(text) if _NUMBER.match(text) else text
    if name == "gastric_type":
        return int(text) if text.isdigit() else text
    return text


def _prior_text(text: str) -> Any:
    """Turn ``exam: result`` lines (or ``exam=result``) into the ``prior`` map."""
    out: dict[str, str] = {}
    for line in re.split(r"[\n;]+", text):
        line = line.strip()
        if not line:
            continue
        sep = "=" if "=" in line else ":"
        key, _, result = line.rpartition(sep)
        if not key.strip() or not result.strip():
            valid = ", ".join(r.value for r in PriorResult)
            raise ScenarioError(
                f"Scenario {SOURCE}: field 'prior': line '{line}' is not 'exam: result'. "
                f"Write one exam per line with its result ({valid})."
            )
        out[key.strip()] = result.strip()
    return out


def _message_field(message: str) -> str | None:
    match = _FIELD_IN_MESSAGE.search(message)
    if match is None:
        return None
    name = match.group(1)
    return name if name in _BY_NAME else None


def _check_fields(
    values: Mapping[str, tuple[str, ...]],
) -> tuple[dict[str, Any], dict[str, str], list[str]]:
    """Convert and check each field on its own: (valid values, messages per field, others)."""
    data: dict[str, Any] = {}
    errors: dict[str, str] = {}
    general: list[str] = []
    for name, raw in values.items():
        if name not in _BY_NAME:
            try:
                parse_scenario({"question": "staging", name: "x"}, source=SOURCE)
            except ScenarioError as exc:
                general.append(str(exc))
            continue
        try:
            value = _convert_text(name, raw)
            if value is None:
                continue
            probe = {name: value} if name == "question" else {"question": "staging", name: value}
            parse_scenario(probe, source=SOURCE)
        except ScenarioError as exc:
            errors[name] = str(exc)
            continue
        data[name] = value
    return data, errors, general


def parse_form(form: Mapping[str, Sequence[str]]) -> FormResult:
    """Validate the submitted form.

    Parameters
    ----------
    form
        Field name → the values sent (a query string or form body as multi-map). Names that are
        not scenario fields are refused with the parser's message (closest field named).

    Returns
    -------
    FormResult
        ``scenario`` is None when any message was found; ``errors`` maps a field to its message.

    Examples
    --------
    >>> r = parse_form({"question": ["stagin"]})
    >>> r.scenario is None, r.errors["question"].split(". ")[1]
    (True, "Did you mean 'staging'? Valid: diagnosis, liver-directed-therapy, localisation, \
mibg-therapy-eligibility, prrt-eligibility, recurrence, response, restaging, staging, \
surveillance")
    >>> parse_form({"question": ["staging"], "grade": ["G2"]}).scenario.grade
    <Grade.G2: 'G2'>
    """
    values = {k: tuple(v) for k, v in form.items()}
    data, errors, general = _check_fields(values)
    if "question" not in data and "question" not in errors:
        try:
            parse_scenario({}, source=SOURCE)
        except ScenarioError as exc:
            errors["question"] = str(exc)
    scenario: Scenario | None = None
    if not errors and not general:
        try:
            scenario = parse_scenario(data, source=SOURCE)
        except ScenarioError as exc:  # a contradiction between fields
            where = _message_field(str(exc))
            if where is None:
                general.append(str(exc))
            else:
                errors[where] = str(exc)
    return FormResult(
        values=values, errors=errors, scenario=scenario, general_errors=tuple(general)
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Citation:
    """A cited reference, resolved for display."""

    id: str
    text: str
    url: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanView:
    """A plan ready for the template: the items, what to avoid, citations and the total dose."""

    plan: Plan
    citations: tuple[Citation, ...]
    total_dose_msv: float
    dosed_exams: tuple[str, ...]
    knowledge_base_version: str
    contract: Mapping[str, Any] = field(default_factory=dict)


def plan_view(scenario: Scenario, kb: KnowledgeBase | None = None) -> PlanView:
    """Run the recommender and resolve what the page shows.

    The total effective dose adds the dose of every plan item that has one (the exams with
    ionising radiation); it is the dose of doing the whole plan as listed, which the page says.

    Examples
    --------
    >>> view = plan_view(parse_form({"question": ["staging"], "primary_site": ["pancreas"],
    ...                              "grade": ["G2"]}).scenario)
    >>> view.plan.items[0].rank, view.total_dose_msv > 0
    (1, True)
    """
    kb = kb if kb is not None else load_knowledge_base()
    plan = recommend(scenario)
    cited: list[str] = []
    for item in plan.items:
        cited += [e for e in item.evidence if e not in cited]
    citations = []
    for ref_id in cited:
        ref = kb.references.get(ref_id)
        if ref is None:
            citations.append(Citation(id=ref_id, text="(not in the knowledge base)", url=None))
            continue
        url = ref.url or (f"https://doi.org/{ref.doi}" if ref.doi else None)
        citations.append(Citation(id=ref_id, text=ref.citation, url=url))
    dosed = [i for i in plan.items if i.effective_dose_msv is not None]
    total = sum(float(i.effective_dose_msv or 0.0) for i in dosed)
    return PlanView(
        plan=plan,
        citations=tuple(citations),
        total_dose_msv=total,
        dosed_exams=tuple(i.exam.value for i in dosed),
        knowledge_base_version=plan.knowledge_base_version,
        contract=plan.to_contract(),
    )
