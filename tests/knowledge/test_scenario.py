"""Scenario validation: every DESIGN.md field accepted, bad input refused with the fix named."""

from __future__ import annotations

from typing import Any

import pytest

from nenscope.core.errors import ScenarioError
from nenscope.knowledge.recommender import recommend
from nenscope.knowledge.scenario import grade_from_ki67, grade_warnings, parse_scenario
from nenscope.knowledge.vocab import (
    ExamId,
    Finding,
    Grade,
    Hereditary,
    MetastaticSite,
    PrimarySite,
    PriorResult,
    Question,
    RiskFactor,
    Syndrome,
    TumorType,
)

FULL: dict[str, Any] = {
    "question": "staging",
    "presurgical": True,
    "age_years": 44,
    "sex": "female",
    "weight_kg": 61.5,
    "height_cm": 168,
    "pregnant": True,
    "gestational_weeks": 12,
    "breastfeeding": False,
    "egfr_ml_min": 88,
    "primary_site": "small-intestine",
    "tumor_type": "net",
    "differentiation": "well",
    "grade": "G2",
    "ki67_percent": 7,
    "size_cm": 2.1,
    "syndrome": "carcinoid",
    "suspected_malignant": False,
    "hereditary": "none",
    "metastatic": True,
    "metastatic_sites": ["liver", "mesentery"],
    "resection": "none",
    "risk_factors": ["lymphovascular-invasion"],
    "on_ssa": "long-acting",
    "calcitonin_pg_ml": 5,
    "calcitonin_doubling_months": 30,
    "cea_doubling_months": 40,
    "prior": {"ct-cap": "positive", "fdg-pet:liver": "negative"},
    "findings": ["desmoplastic-mesenteric-mass"],
    "available": ["ga68-sstr-pet", "ct-multiphase"],
}


def test_every_design_field_is_accepted() -> None:
    s = parse_scenario(FULL)
    assert s.question is Question.STAGING
    assert s.metastatic_sites == (MetastaticSite.LIVER, MetastaticSite.MESENTERY)
    assert s.prior["fdg-pet:liver"] is PriorResult.NEGATIVE
    assert s.available == (ExamId.GA68_SSTR_PET, ExamId.CT_MULTIPHASE)
    assert s.risk_factors == (RiskFactor.LYMPHOVASCULAR_INVASION,)


@pytest.mark.parametrize(
    ("field", "enum"),
    [
        ("question", Question),
        ("primary_site", PrimarySite),
        ("tumor_type", TumorType),
        ("syndrome", Syndrome),
        ("hereditary", Hereditary),
        ("grade", Grade),
    ],
)
def test_every_vocabulary_value_is_accepted(field: str, enum: type[Any]) -> None:
    for member in enum:
        data: dict[str, Any] = {"question": "staging", field: member.value}
        assert getattr(parse_scenario(data), field) is member


def test_every_list_value_is_accepted() -> None:
    s = parse_scenario(
        {
            "question": "restaging",
            "findings": [f.value for f in Finding],
            "metastatic_sites": [m.value for m in MetastaticSite],
            "available": [e.value for e in ExamId],
            "risk_factors": [r.value for r in RiskFactor],
        }
    )
    assert len(s.findings) == len(Finding)
    assert len(s.available or ()) == len(ExamId)


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (
            {"question": "staging", "weigth_kg": 70},
            "unknown field 'weigth_kg'. Did you mean 'weight_kg'",
        ),
        ({"question": "stagin"}, "Did you mean 'staging'"),
        ({"question": "staging", "grade": "G4"}, "field 'grade'.*Did you mean 'G"),
        # 'ileum' is a synonym now (issue 8); a misspelling is suggested by meaning.
        (
            {"question": "staging", "primary_site": "ilium"},
            "primary_site.*Did you mean 'small-intestine' \\('ileum'\\)",
        ),
        ({"question": "staging", "findings": ["rising-marker"]}, "Did you mean 'rising-markers'"),
        ({"question": "staging", "available": ["ga68-pet"]}, "Did you mean 'ga68-sstr-pet'"),
        (
            {"question": "staging", "prior": {"dotatate": "positive"}},
            "unknown value 'dotatate'. Did you mean 'ga68-sstr-pet'",
        ),
        ({"question": "staging", "prior": {"fdg-pet": "postive"}}, "Did you mean 'positive'"),
        ({"question": "staging", "gastric_type": 4}, "1, 2 or 3"),
        ({"question": "staging", "pregnant": "yes"}, "true or false"),
        ({"question": "staging", "weight_kg": "70"}, "expected a number"),
    ],
    ids=[
        "field-typo",
        "question-typo",
        "grade",
        "site",
        "finding",
        "available",
        "prior-exam",
        "prior-result",
        "gastric-type",
        "bool-string",
        "number-string",
    ],
)
def test_unknown_or_mistyped_input_refused(data: dict[str, Any], match: str) -> None:
    with pytest.raises(ScenarioError, match=match):
        parse_scenario(data)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("weight_kg", -70),
        ("weight_kg", 0),
        ("egfr_ml_min", 900),
        ("age_years", 150),
        ("ki67_percent", 120),
        ("size_cm", -1),
        ("pretest_probability", 1.5),
        ("height_cm", float("nan")),
    ],
)
def test_impossible_values_refused_with_range(field: str, value: float) -> None:
    with pytest.raises(ScenarioError, match=f"field '{field}'.*outside the possible range"):
        parse_scenario({"question": "staging", field: value})


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ({"question": "staging", "sex": "male", "pregnant": True}, "pregnant"),
        (
            {"question": "staging", "sex": "male", "breastfeeding": True},
            r"field 'breastfeeding': is true but sex is 'male'",
        ),
        ({"question": "staging", "pregnant": False, "gestational_weeks": 10}, "pregnant"),
        (
            {"question": "staging", "metastatic": False, "metastatic_sites": ["liver"]},
            "metastatic",
        ),
        ({"question": "staging", "primary_site": "pancreas", "gastric_type": 1}, "gastric"),
        ({"grade": "G1"}, "'question' is required"),
    ],
    ids=[
        "male-pregnant",
        "male-breastfeeding",
        "weeks-not-pregnant",
        "sites-not-metastatic",
        "gastric",
        "no-question",
    ],
)
def test_contradictions_refused(data: dict[str, Any], match: str) -> None:
    with pytest.raises(ScenarioError, match=match):
        parse_scenario(data)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"grade": "G1", "ki67_percent": 15}, Grade.G2),  # WHO: the higher grade applies
        ({"grade": "G2", "ki67_percent": 1}, Grade.G2),  # mitotic grade may exceed Ki-67 grade
        (
            {"grade": "G2", "ki67_percent": 30, "primary_site": "lung"},
            Grade.G2,
        ),  # no Ki-67 grading
        ({"ki67_percent": 30}, Grade.G3),
        ({}, None),
    ],
    ids=["raised", "mitotic", "lung", "ki67-only", "none"],
)
def test_effective_grade(data: dict[str, Any], expected: Grade | None) -> None:
    assert parse_scenario({"question": "staging", **data}).effective_grade is expected


@pytest.mark.parametrize("sex", ["female", None])
def test_breastfeeding_without_male_sex_is_accepted(sex: str | None) -> None:
    data: dict[str, Any] = {"question": "staging", "breastfeeding": True}
    if sex is not None:
        data["sex"] = sex
    assert parse_scenario(data).breastfeeding is True


def test_gestational_weeks_imply_pregnancy() -> None:
    assert parse_scenario({"question": "staging", "gestational_weeks": 12}).pregnant


def test_metastatic_sites_imply_metastatic() -> None:
    assert parse_scenario({"question": "staging", "metastatic_sites": ["bone"]}).metastatic


@pytest.mark.parametrize(
    ("ki67", "grade"),
    [(0.5, Grade.G1), (2.9, Grade.G1), (3.0, Grade.G2), (20.0, Grade.G2), (20.1, Grade.G3)],
)
def test_who_grade_from_ki67(ki67: float, grade: Grade) -> None:
    # WHO 2019: G1 < 3 %, G2 3-20 %, G3 > 20 %.
    assert grade_from_ki67(ki67) is grade


def test_poorly_differentiated_nec_may_have_any_ki67_grade_pair() -> None:
    s = parse_scenario(
        {"question": "staging", "differentiation": "poor", "grade": "G3", "ki67_percent": 15}
    )
    assert s.effective_grade is Grade.G3


@pytest.mark.parametrize(
    ("fields", "fragments"),
    [
        ({"grade": "G1", "ki67_percent": 50}, ["Ki-67 50 % is G3", "the plan uses G3"]),
        ({"grade": "G2", "ki67_percent": 25}, ["Ki-67 25 % is G3", "the plan uses G3"]),
        ({"grade": "G3", "ki67_percent": 2}, ["Ki-67 2 % is G1", "the plan uses G3"]),
        (
            {"grade": "G1", "ki67_percent": 12, "primary_site": "lung"},
            ["not Ki-67", "the plan uses the given grade G1"],
        ),
        ({"grade": "G1", "differentiation": "poor"}, ["differentiation 'poor'", "as NEC"]),
        ({"grade": "G2", "differentiation": "poor"}, ["differentiation 'poor'", "as NEC"]),
        ({"grade": "G2", "tumor_type": "nec"}, ["tumour type 'nec'", "as NEC"]),
        ({"tumor_type": "nec", "differentiation": "well"}, ["differentiation 'well'", "as NEC"]),
    ],
    ids=[
        "g1-ki67-50",
        "g2-ki67-25",
        "g3-ki67-2",
        "lung",
        "poor-g1",
        "poor-g2",
        "nec-g2",
        "nec-well",
    ],
)
def test_grade_contradictions_are_warned(fields: dict[str, object], fragments: list[str]) -> None:
    # WHO 2019/2022: G1 < 3 %, G2 3-20 %, G3 > 20 %; poorly differentiated = NEC (high grade).
    warnings = grade_warnings(parse_scenario({"question": "staging", **fields}))
    assert len(warnings) == 1, warnings
    for fragment in fragments:
        assert fragment in warnings[0]


@pytest.mark.parametrize(
    "fields",
    [
        {"grade": "G1", "ki67_percent": 2.9},
        {"grade": "G2", "ki67_percent": 20},
        {"grade": "G3", "ki67_percent": 21, "differentiation": "well"},
        {"grade": "G3", "differentiation": "poor"},
        {"ki67_percent": 50},
    ],
    ids=["g1", "g2-boundary", "g3-well", "g3-poor", "ki67-only"],
)
def test_consistent_grades_raise_no_warning(fields: dict[str, object]) -> None:
    assert grade_warnings(parse_scenario({"question": "staging", **fields})) == ()


def test_plan_carries_the_grade_warning_first() -> None:
    plan = recommend(parse_scenario({"question": "staging", "grade": "G1", "ki67_percent": 50}))
    assert "the plan uses G3" in plan.warnings[0]
    assert "g3-net" in plan.tags
