"""Form text → scenario: the CLI's messages, one per field, and the same plan as the CLI."""

from __future__ import annotations

import pytest

from nenscope.core.errors import ScenarioError
from nenscope.knowledge.scenario import parse_scenario
from nenscope.web.pages.recommend_form import FORM_FIELDS, parse_form, plan_view


def _cli_message(data: dict[str, object]) -> str:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(data, source="form")
    return str(info.value)


def test_every_design_field_is_on_the_form() -> None:
    design = {
        "question", "presurgical", "age_years", "sex", "weight_kg", "height_cm", "pregnant",
        "gestational_weeks", "breastfeeding", "egfr_ml_min", "primary_site", "tumor_type",
        "differentiation", "grade", "ki67_percent", "size_cm", "syndrome", "suspected_malignant",
        "hereditary", "gastric_type", "metastatic", "metastatic_sites", "resection",
        "risk_factors", "on_ssa", "calcitonin_pg_ml", "calcitonin_doubling_months",
        "cea_doubling_months", "prior", "findings", "available",
    }  # fmt: skip
    assert design <= {f.name for f in FORM_FIELDS}


def test_each_mistake_gets_the_cli_message_beside_its_field() -> None:
    r = parse_form({"question": ["stagin"], "weight_kg": ["7o"], "primary_site": ["pancreass"]})
    assert r.scenario is None
    assert r.errors == {
        "question": _cli_message({"question": "stagin"}),
        "weight_kg": _cli_message({"question": "staging", "weight_kg": "7o"}),
        "primary_site": _cli_message({"question": "staging", "primary_site": "pancreass"}),
    }
    assert "Did you mean 'pancreas'?" in r.errors["primary_site"]


def test_out_of_range_number_and_missing_question() -> None:
    r = parse_form({"weight_kg": ["900"]})
    assert "outside the possible range" in r.errors["weight_kg"]
    assert "'question' is required" in r.errors["question"]


def test_contradiction_between_fields_is_shown_at_the_field() -> None:
    r = parse_form({"question": ["staging"], "sex": ["male"], "pregnant": ["true"]})
    assert r.scenario is None
    assert r.errors["pregnant"] == _cli_message(
        {"question": "staging", "sex": "male", "pregnant": True}
    )


def test_text_becomes_the_yaml_types() -> None:
    r = parse_form(
        {
            "question": ["restaging"],
            "age_years": ["61.5"],
            "presurgical": ["false"],
            "metastatic_sites": ["liver", "bone"],
            "available": ["ga68-sstr-pet, fdg-pet,ct-cap"],
            "prior": ["ga68-sstr-pet: positive\nfdg-pet:liver: negative"],
            "gastric_type": [""],
        }
    )
    assert r.errors == {}
    assert r.scenario == parse_scenario(
        {
            "question": "restaging",
            "age_years": 61.5,
            "presurgical": False,
            "metastatic_sites": ["liver", "bone"],
            "available": ["ga68-sstr-pet", "fdg-pet", "ct-cap"],
            "prior": {"ga68-sstr-pet": "positive", "fdg-pet:liver": "negative"},
        }
    )


def test_prior_line_without_result_is_refused() -> None:
    r = parse_form({"question": ["staging"], "prior": ["fdg-pet"]})
    assert "is not 'exam: result'" in r.errors["prior"]


def test_unknown_field_is_named() -> None:
    r = parse_form({"question": ["staging"], "wieght_kg": ["70"]})
    assert r.scenario is None
    assert "Did you mean 'weight_kg'?" in r.general_errors[0]


def test_plan_view_total_dose_and_citations() -> None:
    scenario = parse_form({"question": ["staging"], "primary_site": ["pancreas"]}).scenario
    assert scenario is not None
    view = plan_view(scenario)
    doses = [i.effective_dose_msv for i in view.plan.items if i.effective_dose_msv is not None]
    assert doses
    assert view.total_dose_msv == pytest.approx(sum(doses))
    cited = {e for i in view.plan.items for e in i.evidence}
    assert {c.id for c in view.citations} == cited
    assert all(c.text and c.text != "(not in the knowledge base)" for c in view.citations)
