"""Issue 8 §5: recommender answers a physician would not question.

Each test fails on the recommender before the change (checked when written): repeated avoid
rows, two contrast CTs for one region, exams already done ranked first again, activities with
no derivation, clinical synonyms refused.
"""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner

from nenscope.cli.app import app
from nenscope.core.errors import ScenarioError
from nenscope.knowledge.kb import load_knowledge_base
from nenscope.knowledge.recommender import Plan, recommend
from nenscope.knowledge.scenario import parse_scenario
from nenscope.knowledge.vocab import Contrast, PrimarySite, TumorType

runner = CliRunner()


def _plan(data: dict[str, Any]) -> Plan:
    return recommend(parse_scenario(data))


def _exams(plan: Plan) -> list[str]:
    return [i.exam.value for i in plan.items]


PREGNANT_PHEO = {
    "question": "staging",
    "tumor_type": "pheochromocytoma",
    "pregnant": True,
    "sex": "female",
    "primary_site": "adrenal",
}


def test_avoid_list_leaves_out_exams_no_one_would_consider() -> None:
    plan = _plan(PREGNANT_PHEO)
    avoided = {a.exam.value for a in plan.avoid}
    # Before: 23 rows, investigational tracers included, the same pregnancy text on each.
    assert not avoided & {"fapi-pet", "cxcr4-pet", "gipr-imaging", "cck2r-pet"}
    assert len(plan.avoid) <= 10
    # Exams this question would use are still named, with the reason.
    assert {"fdopa-pet", "mibg-scan", "ct-cap"} <= avoided


def test_avoid_rows_sharing_a_reason_are_grouped_in_the_text_output(tmp_path: Any) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("\n".join(f"{k}: {str(v).lower()}" for k, v in PREGNANT_PHEO.items()))
    out = runner.invoke(app, ["recommend", str(path)], terminal_width=200).stdout
    assert out.count("Pregnancy: abdominal/pelvic CT") == 1
    assert "ct-cap, ct-multiphase" in out


def test_one_contrast_ct_per_region_and_the_plan_total_dose() -> None:
    plan = _plan({"question": "staging", "primary_site": "small-intestine", "grade": "G2"})
    kb = load_knowledge_base()
    cts = [i for i in plan.items if kb.exams[i.exam].contrast is Contrast.IODINATED]
    assert len(cts) == 1, _exams(plan)  # before: ct-enterography and ct-multiphase, 35 mSv
    assert any("One contrast CT per anatomical region" in n for n in cts[0].notes)
    expected = sum(i.effective_dose_msv or 0.0 for i in plan.items)
    assert plan.total_effective_dose_msv == pytest.approx(expected)
    text = runner.invoke(app, ["recommend", "--example", "si-net-staging"]).stdout
    assert "Total effective dose" in text


def test_prior_positive_sstr_pet_is_not_proposed_first_for_prrt_eligibility() -> None:
    plan = _plan(
        {
            "question": "prrt-eligibility",
            "primary_site": "small-intestine",
            "grade": "G2",
            "metastatic": True,
            "prior": {"ga68-sstr-pet": "positive"},
            "findings": ["sstr-negative-lesion"],
        }
    )
    assert plan.items[0].exam.value == "fdg-pet"
    assert plan.items[0].notes[0].startswith("Builds on the prior ga68-sstr-pet (positive)")
    sstr = next(i for i in plan.items if i.exam.value == "ga68-sstr-pet")
    assert sstr.rank == len(plan.items)
    assert any("already reported" in n for n in sstr.notes)


def test_an_old_prior_result_is_repeated() -> None:
    plan = _plan(
        {
            "question": "prrt-eligibility",
            "primary_site": "small-intestine",
            "grade": "G2",
            "metastatic": True,
            "prior": {"ga68-sstr-pet": {"result": "positive", "months_ago": 14}},
        }
    )
    assert plan.items[0].exam.value == "ga68-sstr-pet"


def test_negative_prior_chest_ct_is_not_proposed_first_in_an_occult_work_up() -> None:
    plan = _plan(
        {
            "question": "localisation",
            "primary_site": "unknown",
            "metastatic": True,
            "metastatic_sites": ["liver"],
            "prior": {"ct-chest": "negative"},
        }
    )
    assert plan.items[0].exam.value != "ct-chest"
    assert "ct-chest" not in _exams(plan)
    assert plan.items[0].notes[0].startswith("Builds on the prior ct-chest (negative)")


def test_response_repeats_the_prior_exam_on_purpose() -> None:
    plan = _plan(
        {
            "question": "response",
            "primary_site": "small-intestine",
            "grade": "G2",
            "prior": {"ga68-sstr-pet": "positive"},
        }
    )
    assert not any("already reported" in n for i in plan.items for n in i.notes)


def test_prior_date_and_months_are_validated() -> None:
    s = parse_scenario(
        {"question": "staging", "prior": {"fdg-pet": {"result": "negative", "date": "2020-01-01"}}}
    )
    assert s.prior_months_ago["fdg-pet"] > 60
    with pytest.raises(ScenarioError, match="not both"):
        parse_scenario(
            {
                "question": "staging",
                "prior": {
                    "fdg-pet": {"result": "negative", "date": "2020-01-01", "months_ago": 3}
                },
            }
        )
    future = {"result": "negative", "date": "2999-01-01"}
    with pytest.raises(ScenarioError, match="in the future"):
        parse_scenario({"question": "staging", "prior": {"fdg-pet": future}})
    with pytest.raises(ScenarioError, match="ISO date"):
        parse_scenario({"question": "staging", "prior": {"fdg-pet": {**future, "date": "May"}}})


def test_activity_derivation_is_shown() -> None:
    plan = _plan(
        {"question": "staging", "primary_site": "small-intestine", "grade": "G1", "weight_kg": 82}
    )
    item = next(i for i in plan.items if i.exam.value == "ga68-sstr-pet")
    assert item.activity_derivation is not None
    assert item.activity_derivation.startswith("2 MBq/kg × 82 kg = 164 MBq")
    heavy = _plan(
        {"question": "staging", "primary_site": "small-intestine", "grade": "G1", "weight_kg": 130}
    )
    capped = next(i for i in heavy.items if i.exam.value == "ga68-sstr-pet")
    assert capped.activity_derivation is not None
    assert "= 260 MBq, capped at 200 MBq" in capped.activity_derivation
    assert capped.to_contract()["activity_derivation"] == capped.activity_derivation


@pytest.mark.parametrize(
    ("field", "word", "expected"),
    [
        ("primary_site", "ileum", PrimarySite.SMALL_INTESTINE),
        ("primary_site", "Jejunum", PrimarySite.SMALL_INTESTINE),
        ("primary_site", "small bowel", PrimarySite.SMALL_INTESTINE),
        ("tumor_type", "phaeochromocytoma", TumorType.PHEOCHROMOCYTOMA),
        ("tumor_type", "Pheochromocytoma", TumorType.PHEOCHROMOCYTOMA),
        ("tumor_type", "NET", TumorType.NET),
        ("tumor_type", "neuroendocrine carcinoma", TumorType.NEC),
    ],
)
def test_clinical_synonyms_are_accepted_and_the_plan_says_how(
    field: str, word: str, expected: object
) -> None:
    scenario = parse_scenario({"question": "staging", field: word})
    assert getattr(scenario, field) is expected
    if word.lower() != str(expected):
        plan = recommend(scenario)
        assert any(f"'{word}' read as '{expected}'" in w for w in plan.warnings)


def test_ileum_is_never_suggested_as_rectum_and_nen_is_explained() -> None:
    with pytest.raises(ScenarioError, match="Did you mean 'small-intestine'"):
        parse_scenario({"question": "staging", "primary_site": "ileun"})
    with pytest.raises(ScenarioError, match=r"ambiguous.*'net'.*'nec'"):
        parse_scenario({"question": "staging", "tumor_type": "NEN"})


def test_every_synonym_maps_to_a_valid_value() -> None:
    from nenscope.knowledge.scenario import ENUM_FIELDS, LIST_FIELDS
    from nenscope.knowledge.synonyms import load_synonyms
    from nenscope.knowledge.vocab import ExamId, PriorResult

    vocabularies = {**ENUM_FIELDS, **LIST_FIELDS, "exam": ExamId, "prior_result": PriorResult}
    table = load_synonyms()
    for name, synonyms in table.synonyms.items():
        valid = {m.value for m in vocabularies[name]}
        assert set(synonyms.values()) <= valid, name
    assert set(table.ambiguous) <= set(vocabularies)
