"""Issue 8 §6: a child's effective dose uses age-specific coefficients, or says it cannot.

Reference: Fahey, Treves & Adelstein, J Nucl Med 2011;52:1240, Table 1 (from ICRP 80 and
ICRP 106): effective dose of the maximum (70 kg) activity scaled by body weight for the ICRP
1-, 5-, 10-, 15-year-old and adult phantoms. The knowledge base stores per-MBq coefficients;
they must reproduce that table.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from nenscope.cli.app import app
from nenscope.core.errors import KnowledgeBaseError
from nenscope.knowledge.calculators import compute_exam_dose, compute_exam_effective_dose
from nenscope.knowledge.kb import _parse_tracer, load_knowledge_base
from nenscope.knowledge.physics import select_dose_coefficient
from nenscope.knowledge.recommender import recommend
from nenscope.knowledge.scenario import parse_scenario

runner = CliRunner()

PHANTOM_MASS_KG = {1.0: 9.7, 5.0: 19.8, 10.0: 33.2, 15.0: 56.8}
"""Phantom masses of the table (adult 70 kg)."""

# exam id: (maximum adult activity MBq, effective dose mSv at 1, 5, 10, 15 years, adult)
FAHEY_2011_TABLE_1 = {
    "bone-scan": (740.0, {1.0: 2.8, 5.0: 2.9, 10.0: 3.9, 15.0: 4.2}, 4.2),
    "mibg-scan": (370.0, {1.0: 3.4, 5.0: 3.8, 10.0: 4.5, 15.0: 5.0}, 4.8),
    "fdg-pet": (370.0, {1.0: 5.2, 5.0: 5.9, 10.0: 6.6, 15.0: 7.3}, 7.4),
}


@pytest.mark.parametrize("exam_id", sorted(FAHEY_2011_TABLE_1))
def test_coefficients_reproduce_the_published_paediatric_doses(exam_id: str) -> None:
    max_mbq, doses, adult_dose = FAHEY_2011_TABLE_1[exam_id]
    tracer = load_knowledge_base().exams[exam_id].radiopharmaceutical  # type: ignore[index]
    assert tracer is not None
    coefficients = dict(tracer.paediatric_dose_coefficients_msv_per_mbq)
    assert sorted(coefficients) == sorted(PHANTOM_MASS_KG)
    for age, mass in PHANTOM_MASS_KG.items():
        dose = coefficients[age] * max_mbq * mass / 70.0
        assert dose == pytest.approx(doses[age], rel=_tolerance(exam_id), abs=0.05), (age, dose)
    assert tracer.dose_coefficient_msv_per_mbq is not None
    assert tracer.dose_coefficient_msv_per_mbq * max_mbq == pytest.approx(
        adult_dose, rel=_tolerance(exam_id), abs=0.05
    )


def _tolerance(exam_id: str) -> float:
    # The table prints one decimal: agree within its rounding plus 4 %. Its FDG doses run 2-6 %
    # above ICRP 106's coefficients, which the knowledge base keeps (adult: 7.4 mSv at 370 MBq
    # is 0.020 mSv/MBq against ICRP's 0.019; 1 year: 5.2 mSv at 51 MBq is 0.10 against 0.095).
    return 0.07 if exam_id == "fdg-pet" else 0.04


@pytest.mark.parametrize(
    ("age", "phantom"),
    [
        (0.5, "1-year-old"),
        (2.9, "1-year-old"),
        (3.1, "5-year-old"),
        (7.4, "5-year-old"),
        (7.6, "10-year-old"),
        (12.6, "15-year-old"),
        (17.4, "15-year-old"),
        (17.6, "adult"),
        (40.0, "adult"),
    ],
)
def test_the_nearest_icrp_phantom_is_chosen(age: float, phantom: str) -> None:
    fdg = {1.0: 0.095, 5.0: 0.056, 10.0: 0.037, 15.0: 0.024}
    chosen = select_dose_coefficient(
        tracer_name="18F-FDG", adult_msv_per_mbq=0.019, paediatric_msv_per_mbq=fdg, age_years=age
    )
    assert chosen.phantom == phantom
    assert chosen.caveat is None


def test_six_year_old_fdg_uses_the_five_year_coefficient() -> None:
    dose = compute_exam_dose(load_knowledge_base(), "fdg", weight_kg=20.0, age_years=6.0)
    assert dose.prescription.activity_mbq == pytest.approx(74.0)
    assert dose.dose_coefficient is not None
    assert dose.dose_coefficient.msv_per_mbq == 0.056
    assert dose.effective_dose_msv == pytest.approx(74.0 * 0.056)
    assert dose.dose_coefficient.caveat is None


def test_adult_dose_is_unchanged_and_has_no_caveat() -> None:
    dose = compute_exam_dose(load_knowledge_base(), "ga68-sstr-pet", weight_kg=75.0)
    assert dose.effective_dose_msv == pytest.approx(3.15)
    assert dose.dose_coefficient is not None
    assert dose.dose_coefficient.caveat is None


def _cli_json(args: list[str]) -> dict[str, Any]:
    result = runner.invoke(app, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    out: dict[str, Any] = json.loads(result.stdout)
    return out


def test_child_without_age_specific_coefficient_gets_the_caveat_everywhere() -> None:
    # The case: 6 years, 20 kg, 68Ga-DOTATATE: 40 MBq, 0.84 mSv with no caveat before.
    args = ["dose", "activity", "ga68-dotatate", "--weight-kg", "20", "--age-years", "6"]
    text = runner.invoke(app, args)
    assert text.exit_code == 0
    assert "CAVEAT" in text.stdout
    assert "UNDERSTATES" in text.stdout
    payload = _cli_json(args)
    assert payload["activity_mbq"] == pytest.approx(40.0)
    assert "adult coefficient" in payload["dose_caveat"]
    exam = _cli_json(["dose", "exam", "ga68-sstr-pet", "--weight-kg", "20", "--age-years", "6"])
    assert "UNDERSTATES" in exam["dose_caveat"]


def test_child_ct_dose_says_it_is_an_adult_figure() -> None:
    result = compute_exam_effective_dose(load_knowledge_base(), "ct-cap", age_years=6.0)
    assert result.caveat is not None
    assert "ADULT" in result.caveat
    assert compute_exam_effective_dose(load_knowledge_base(), "ct-cap").caveat is None


def test_recommendation_for_a_child_carries_the_caveat() -> None:
    plan = recommend(
        parse_scenario(
            {
                "question": "staging",
                "primary_site": "small-intestine",
                "grade": "G1",
                "age_years": 6,
                "weight_kg": 20,
            }
        )
    )
    sstr = next(i for i in plan.items if i.exam.value == "ga68-sstr-pet")
    assert any("UNDERSTATES" in n for n in sstr.notes)
    assert any("ga68-sstr-pet" in w and "UNDERSTATES" in w for w in plan.warnings)


def test_loader_refuses_a_paediatric_coefficient_for_an_unknown_phantom_age() -> None:
    kb = load_knowledge_base()
    fdg = kb.exams["fdg-pet"].radiopharmaceutical  # type: ignore[index]
    assert fdg is not None
    # Name and nuclide come from the tracer table (issue 9: one entry per tracer), so the
    # clinical facts are parsed under a tracer id of that table.
    raw = {
        "targets": ["glucose metabolism"],
        "mechanism": "substrate",
        "status": "routine",
        "activity": {"kind": "fixed", "fixed_mbq": 100.0},
        "typical_uptake_min": 60,
        "dose_coefficient_msv_per_mbq": 0.019,
        "paediatric_dose_coefficients_msv_per_mbq": {"7": 0.05},
        "paediatric_dose_evidence": ["icrp-106"],
    }
    with pytest.raises(KnowledgeBaseError, match="ICRP phantom ages are 1, 5, 10, 15"):
        _parse_tracer("fdg", raw, {"18F": fdg.nuclide})
