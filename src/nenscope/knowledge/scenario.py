"""Clinical scenarios: the input of the recommender (DESIGN.md, "Scenario fields").

:func:`parse_scenario` turns a plain mapping (from YAML or JSON) into a frozen, validated
:class:`Scenario`. Unknown fields and values are refused with the closest valid one named;
impossible values (negative weight, eGFR 900) are refused with the reason (STYLE 8.2, 8.4).
Besides the DESIGN.md fields the parser accepts ``pretest_probability`` (for post-test
probabilities) and ``description`` (free text).
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, TypeVar

from nenscope.core.errors import ScenarioError
from nenscope.knowledge.physics import AGE_RANGE_YEARS, BODY_WEIGHT_RANGE_KG
from nenscope.knowledge.synonyms import resolve_term
from nenscope.knowledge.vocab import (
    Differentiation,
    ExamId,
    Finding,
    Grade,
    Hereditary,
    MetastaticSite,
    OnSsa,
    PrimarySite,
    PriorResult,
    Question,
    Resection,
    RiskFactor,
    Sex,
    Syndrome,
    TumorType,
)

__all__ = [
    "ENUM_FIELDS",
    "FIELD_NAMES",
    "LIST_FIELDS",
    "NUMERIC_LIMITS",
    "Scenario",
    "grade_from_ki67",
    "grade_warnings",
    "parse_scenario",
]

E = TypeVar("E", bound=StrEnum)

NUMERIC_LIMITS: dict[str, tuple[float, float, str]] = {
    "age_years": (*AGE_RANGE_YEARS, "years"),
    "weight_kg": (*BODY_WEIGHT_RANGE_KG, "kg"),  # the same range as the dose calculators
    "height_cm": (30.0, 250.0, "cm"),
    "gestational_weeks": (0.0, 43.0, "weeks"),
    "egfr_ml_min": (0.0, 200.0, "mL/min/1.73 m²"),
    "ki67_percent": (0.0, 100.0, "%"),
    "size_cm": (0.0, 40.0, "cm"),
    "calcitonin_pg_ml": (0.0, 1.0e6, "pg/mL"),
    "calcitonin_doubling_months": (0.0, 1200.0, "months"),
    "cea_doubling_months": (0.0, 1200.0, "months"),
    "pretest_probability": (0.0, 1.0, "(probability)"),
}
"""Physiologically possible range (inclusive) and unit of each numeric field."""

LIST_FIELDS: dict[str, type[StrEnum]] = {
    "metastatic_sites": MetastaticSite,
    "risk_factors": RiskFactor,
    "findings": Finding,
    "available": ExamId,
}
ENUM_FIELDS: dict[str, type[StrEnum]] = {
    "question": Question,
    "sex": Sex,
    "primary_site": PrimarySite,
    "tumor_type": TumorType,
    "differentiation": Differentiation,
    "grade": Grade,
    "syndrome": Syndrome,
    "hereditary": Hereditary,
    "resection": Resection,
    "on_ssa": OnSsa,
}
_BOOL_FIELDS = ("presurgical", "pregnant", "breastfeeding", "suspected_malignant", "metastatic")


def grade_from_ki67(ki67_percent: float) -> Grade:
    """WHO 2019/2022 grade of a well-differentiated GEP NET from its Ki-67 index.

    Notes
    -----
    G1 < 3 %, G2 3-20 %, G3 > 20 % (WHO classification of digestive system tumours, 2019).

    Examples
    --------
    >>> grade_from_ki67(2.0), grade_from_ki67(15.0), grade_from_ki67(25.0)
    (<Grade.G1: 'G1'>, <Grade.G2: 'G2'>, <Grade.G3: 'G3'>)
    """
    if ki67_percent < 3.0:
        return Grade.G1
    if ki67_percent <= 20.0:
        return Grade.G2
    return Grade.G3


@dataclass(frozen=True, slots=True, kw_only=True)
class Scenario:
    """A validated clinical scenario. Every field but ``question`` is optional (None = unknown).

    ``prior`` maps an exam id (or ``<exam>:<finding>``) to its result. ``available`` is None
    when the centre did not say (then every exam in routine clinical use is assumed).

    Examples
    --------
    >>> s = parse_scenario({"question": "staging", "grade": "G2"})
    >>> s.question, s.grade
    (<Question.STAGING: 'staging'>, <Grade.G2: 'G2'>)
    """

    question: Question
    description: str | None = None
    presurgical: bool | None = None
    age_years: float | None = None
    sex: Sex | None = None
    weight_kg: float | None = None
    height_cm: float | None = None
    pregnant: bool | None = None
    gestational_weeks: float | None = None
    breastfeeding: bool | None = None
    egfr_ml_min: float | None = None
    primary_site: PrimarySite | None = None
    tumor_type: TumorType | None = None
    differentiation: Differentiation | None = None
    grade: Grade | None = None
    ki67_percent: float | None = None
    size_cm: float | None = None
    syndrome: Syndrome | None = None
    suspected_malignant: bool | None = None
    hereditary: Hereditary | None = None
    gastric_type: int | None = None
    metastatic: bool | None = None
    metastatic_sites: tuple[MetastaticSite, ...] = ()
    resection: Resection | None = None
    risk_factors: tuple[RiskFactor, ...] = ()
    on_ssa: OnSsa | None = None
    calcitonin_pg_ml: float | None = None
    calcitonin_doubling_months: float | None = None
    cea_doubling_months: float | None = None
    prior: Mapping[str, PriorResult] = field(default_factory=dict)
    findings: tuple[Finding, ...] = ()
    available: tuple[ExamId, ...] | None = None
    pretest_probability: float | None = None
    prior_months_ago: Mapping[str, float] = field(default_factory=dict)
    """Age of each prior result in months, where the input gave ``months_ago`` or ``date``
    (``prior: {ga68-sstr-pet: {result: positive, months_ago: 14}}``); set by
    :func:`parse_scenario` from ``prior``."""
    read_as: tuple[str, ...] = ()
    """How synonyms in the input were read (``"primary_site: 'ileum' read as
    'small-intestine'"``); set by :func:`parse_scenario`, not a scenario field."""

    @property
    def effective_grade(self) -> Grade | None:
        """The grade the rules use.

        WHO grades GEP NETs by the higher of the Ki-67 and the mitotic grade, so a given grade
        below the Ki-67 grade is raised to it; thoracic carcinoids are graded without Ki-67, so
        there the given grade stands. Without a grade, the Ki-67 grade; else None.
        """
        ki67_grade = None if self.ki67_percent is None else grade_from_ki67(self.ki67_percent)
        if self.grade is None:
            return ki67_grade
        if ki67_grade is None or self.primary_site in (PrimarySite.LUNG, PrimarySite.THYMUS):
            return self.grade
        return max(self.grade, ki67_grade, key=lambda g: g.value)


_DERIVED_FIELDS = ("read_as", "prior_months_ago")
"""Attributes of :class:`Scenario` that the parser derives; not fields a user writes."""

FIELD_NAMES: tuple[str, ...] = tuple(
    f.name for f in fields(Scenario) if f.name not in _DERIVED_FIELDS
)

PRIOR_MAX_MONTHS = 600.0
"""Oldest prior result accepted, months (50 years)."""

_WHO_GRADES = "WHO 2019/2022: G1 Ki-67 < 3 %, G2 3-20 %, G3 > 20 %"
_LOW_GRADES = (Grade.G1, Grade.G2)


def _ki67_grade_warning(s: Scenario) -> str | None:
    if s.grade is None or s.ki67_percent is None:
        return None
    ki67_grade = grade_from_ki67(s.ki67_percent)
    if ki67_grade is s.grade:
        return None
    given = f"Grade {s.grade} and Ki-67 {s.ki67_percent:g} % disagree ({_WHO_GRADES}: Ki-67 "
    given += f"{s.ki67_percent:g} % is {ki67_grade})"
    if s.primary_site in (PrimarySite.LUNG, PrimarySite.THYMUS):
        return (
            f"{given}; lung and thymic carcinoids are graded by mitoses and necrosis, not Ki-67: "
            f"the plan uses the given grade {s.grade}. Check the pathology report."
        )
    if ki67_grade.value > s.grade.value:
        return (
            f"{given}; WHO takes the higher of the Ki-67 and mitotic grades: the plan uses "
            f"{ki67_grade}. Check the pathology report."
        )
    return (
        f"{given}; the given {s.grade} is kept (a mitotic count can set the higher grade): "
        f"the plan uses {s.grade}. Check the pathology report."
    )


def grade_warnings(s: Scenario) -> tuple[str, ...]:
    """Warnings for grade, Ki-67 and differentiation that contradict each other.

    The plan still follows :attr:`Scenario.effective_grade` and the derived tags (a poorly
    differentiated tumour is planned as NEC); each warning names the contradiction and the
    value the plan used.

    Notes
    -----
    WHO 2019/2022 (digestive, and endocrine/neuroendocrine tumours): NET G1 Ki-67 < 3 %, G2
    3-20 %, G3 > 20 %; NET G3 is well differentiated, a poorly differentiated neoplasm is a
    neuroendocrine carcinoma (NEC), high grade by definition.

    Examples
    --------
    >>> grade_warnings(parse_scenario({"question": "staging", "grade": "G1", "ki67_percent": 50}))
    ('Grade G1 and Ki-67 50 % disagree (WHO 2019/2022: G1 Ki-67 < 3 %, G2 3-20 %, G3 > 20 %: \
Ki-67 50 % is G3); WHO takes the higher of the Ki-67 and mitotic grades: the plan uses G3. \
Check the pathology report.',)
    """
    out: list[str] = []
    ki67 = _ki67_grade_warning(s)
    if ki67 is not None:
        out.append(ki67)
    poor = s.differentiation is Differentiation.POOR
    nec_type = s.tumor_type in (TumorType.NEC, TumorType.MINEN)
    low = s.grade if s.grade in _LOW_GRADES else None
    if (poor or nec_type) and low is not None:
        what = "differentiation 'poor'" if poor else f"tumour type '{s.tumor_type}'"
        out.append(
            f"Grade {low} with {what} is contradictory (WHO 2019/2022: G1/G2 are "
            "well-differentiated NETs; a poorly differentiated neoplasm is a neuroendocrine "
            "carcinoma, high grade by definition): the plan treats the tumour as NEC. "
            "Check the pathology report."
        )
    elif nec_type and s.differentiation is Differentiation.WELL:
        out.append(
            f"Tumour type '{s.tumor_type}' with differentiation 'well' is contradictory (WHO "
            "2019/2022: NEC is poorly differentiated; a well-differentiated G3 tumour is a NET "
            "G3): the plan treats the tumour as NEC. Check the pathology report."
        )
    return tuple(out)


def _err(source: str, name: str, message: str) -> ScenarioError:
    return ScenarioError(f"Scenario {source}: field '{name}': {message}")


def _enum(
    value: Any,
    enum_type: type[E],
    *,
    source: str,
    name: str,
    table: str | None = None,
    read_as: list[str] | None = None,
) -> E:
    """Convert one value of a closed vocabulary, accepting the synonyms of ``table``.

    ``table`` is the synonym table (default: the field ``name``); how a synonym was read is
    appended to ``read_as`` so the plan can say it.
    """
    if isinstance(value, enum_type):
        return value
    if not isinstance(value, str):
        valid = ", ".join(m.value for m in enum_type)
        raise _err(source, name, f"expected one of {valid}, got {value!r}.")
    try:
        member, note = resolve_term(value, enum_type, table=table or name)
    except ValueError as err:
        raise _err(source, name, f"{err} Correct the value.") from None
    if note is not None and read_as is not None:
        read_as.append(f"{name}: {note}")
    return member


def _number(value: Any, *, source: str, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _err(source, name, f"expected a number, got {value!r}.")
    number = float(value)
    low, high, unit = NUMERIC_LIMITS[name]
    if not math.isfinite(number) or not low <= number <= high:
        raise _err(
            source,
            name,
            f"{value} {unit} is outside the possible range {low:g}-{high:g} {unit}. "
            "Check the value and its unit.",
        )
    return number


def _bool(value: Any, *, source: str, name: str) -> bool:
    if not isinstance(value, bool):
        raise _err(source, name, f"expected true or false, got {value!r}.")
    return value


def _list(
    value: Any, enum_type: type[E], *, source: str, name: str, read_as: list[str]
) -> tuple[E, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        raise _err(source, name, f"expected a list, got {value!r}.")
    table = "exam" if enum_type is ExamId else name
    return tuple(
        _enum(v, enum_type, source=source, name=name, table=table, read_as=read_as) for v in items
    )


_PRIOR_DETAIL_KEYS = ("result", "months_ago", "date")
_DAYS_PER_MONTH = 365.25 / 12.0


def _prior_age_months(detail: Mapping[str, Any], *, source: str, name: str) -> float | None:
    """Age of a prior result in months, from ``months_ago`` or an ISO ``date`` (or None)."""
    if "months_ago" in detail and "date" in detail:
        raise _err(source, name, "give 'months_ago' or 'date', not both.")
    if "months_ago" in detail:
        months = detail["months_ago"]
        if isinstance(months, bool) or not isinstance(months, int | float):
            raise _err(source, name, f"months_ago: expected a number, got {months!r}.")
        if not (math.isfinite(months) and 0 <= months <= PRIOR_MAX_MONTHS):
            raise _err(source, name, f"months_ago must be 0-{PRIOR_MAX_MONTHS:g}, got {months}.")
        return float(months)
    if "date" in detail:
        raw = detail["date"]
        try:
            when = raw if isinstance(raw, date) else date.fromisoformat(str(raw))
        except ValueError:
            raise _err(
                source, name, f"date: expected an ISO date such as 2026-03-01, got {raw!r}."
            ) from None
        today = datetime.now(UTC).date()
        if when > today:
            raise _err(source, name, f"date {when.isoformat()} is in the future.")
        return (today - when).days / _DAYS_PER_MONTH
    return None


def _prior(
    value: Any, *, source: str, read_as: list[str]
) -> tuple[dict[str, PriorResult], dict[str, float]]:
    if not isinstance(value, Mapping):
        raise _err(source, "prior", f"expected a map of exam id to result, got {value!r}.")
    results: dict[str, PriorResult] = {}
    ages: dict[str, float] = {}
    for key, given in value.items():
        exam_text, _, finding = str(key).partition(":")
        exam = _enum(exam_text, ExamId, source=source, name="prior", table="exam", read_as=read_as)
        if ":" in str(key) and not finding:
            raise _err(source, "prior", f"key '{key}' needs a finding after ':'.")
        canonical_key = f"{exam.value}:{finding}" if finding else exam.value
        name = f"prior.{key}"
        result = given
        if isinstance(given, Mapping):
            unknown = [k for k in given if k not in _PRIOR_DETAIL_KEYS]
            if unknown or "result" not in given:
                raise _err(
                    source,
                    name,
                    "expected a result (positive, negative, equivocal) or a map with 'result' "
                    f"and optionally 'months_ago' or 'date', got {dict(given)!r}.",
                )
            result = given["result"]
            age = _prior_age_months(given, source=source, name=name)
            if age is not None:
                ages[canonical_key] = age
        results[canonical_key] = _enum(
            result, PriorResult, source=source, name=name, table="prior_result"
        )
    return results, ages


def _convert(name: str, value: Any, source: str, read_as: list[str]) -> Any:
    if name in ENUM_FIELDS:
        return _enum(value, ENUM_FIELDS[name], source=source, name=name, read_as=read_as)
    if name in LIST_FIELDS:
        return _list(value, LIST_FIELDS[name], source=source, name=name, read_as=read_as)
    if name in _BOOL_FIELDS:
        return _bool(value, source=source, name=name)
    if name in NUMERIC_LIMITS:
        return _number(value, source=source, name=name)
    if name == "gastric_type":
        if isinstance(value, bool) or value not in (1, 2, 3):
            raise _err(source, name, f"expected the integer 1, 2 or 3, got {value!r}.")
        return int(value)
    if name == "description":
        return str(value)
    raise _err(source, name, "is not a scenario field.")  # unreachable with FIELD_NAMES


def _check_consistency(values: dict[str, Any], source: str) -> None:
    if values.get("pregnant") and values.get("sex") is Sex.MALE:
        raise _err(source, "pregnant", "is true but sex is 'male'. Correct one of them.")
    if values.get("breastfeeding") and values.get("sex") is Sex.MALE:
        # Refused like 'pregnant': the advice to interrupt breastfeeding cannot apply.
        raise _err(source, "breastfeeding", "is true but sex is 'male'. Correct one of them.")
    if values.get("gestational_weeks") is not None and values.get("pregnant") is False:
        raise _err(source, "gestational_weeks", "is given but 'pregnant' is false.")
    if values.get("metastatic") is False and values.get("metastatic_sites"):
        raise _err(
            source,
            "metastatic_sites",
            "lists sites but 'metastatic' is false. Remove the sites or set metastatic: true.",
        )
    if values.get("gastric_type") is not None and values.get("primary_site") not in (
        None,
        PrimarySite.STOMACH,
    ):
        raise _err(source, "gastric_type", "applies to gastric NETs only (primary_site: stomach).")


def parse_scenario(data: Mapping[str, Any], *, source: str = "<input>") -> Scenario:
    """Validate a mapping (parsed YAML/JSON) into a :class:`Scenario`.

    Parameters
    ----------
    data
        Field name → value, as in DESIGN.md.
    source
        Name of the input (file name) used in error messages.

    Raises
    ------
    ScenarioError
        For an unknown field or value (naming the closest valid one), a missing ``question``,
        an impossible number, or contradictory fields.

    Examples
    --------
    >>> parse_scenario({"question": "stagin"})
    Traceback (most recent call last):
    ...
    nenscope.core.errors.ScenarioError: Scenario <input>: field 'question': unknown value \
'stagin'. Did you mean 'staging'? ...
    """
    if not isinstance(data, Mapping):
        raise ScenarioError(
            f"Scenario {source}: expected a map of fields (YAML or JSON object), "
            f"got {type(data).__name__}."
        )
    values: dict[str, Any] = {}
    read_as: list[str] = []
    for key, value in data.items():
        name = str(key)
        if name not in FIELD_NAMES:
            close = difflib.get_close_matches(name, FIELD_NAMES, n=1, cutoff=0.5)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            raise ScenarioError(
                f"Scenario {source}: unknown field '{name}'.{hint} "
                f"Valid fields: {', '.join(sorted(FIELD_NAMES))}."
            )
        if value is None:
            continue
        if name == "prior":
            values["prior"], values["prior_months_ago"] = _prior(
                value, source=source, read_as=read_as
            )
            continue
        values[name] = _convert(name, value, source, read_as)
    if "question" not in values:
        raise ScenarioError(
            f"Scenario {source}: field 'question' is required. "
            f"Valid: {', '.join(q.value for q in Question)}."
        )
    if values.get("metastatic_sites") and "metastatic" not in values:
        values["metastatic"] = True
    if values.get("gestational_weeks") is not None and "pregnant" not in values:
        values["pregnant"] = True
    _check_consistency(values, source)
    return Scenario(**values, read_as=tuple(read_as))
