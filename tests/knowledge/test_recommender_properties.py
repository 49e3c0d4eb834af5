"""Property tests: any valid scenario gets a consistent plan (Hypothesis over DESIGN.md fields)."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nenscope.knowledge.kb import load_knowledge_base
from nenscope.knowledge.recommender import recommend
from nenscope.knowledge.scenario import parse_scenario
from nenscope.knowledge.vocab import (
    ClinicalStatus,
    Differentiation,
    ExamId,
    Finding,
    Grade,
    Hereditary,
    MetastaticSite,
    Modality,
    OnSsa,
    PrimarySite,
    PriorResult,
    Question,
    Resection,
    RiskFactor,
    Strength,
    Syndrome,
    TumorType,
)

NUCLEAR_MODALITIES = (Modality.PET, Modality.SPECT, Modality.SCINTIGRAPHY, Modality.NONE)


def _values(enum: Any) -> Any:
    return st.sampled_from([m.value for m in enum])


OPTIONAL: dict[str, Any] = {
    "presurgical": st.booleans(),
    "age_years": st.floats(0.1, 95),
    "weight_kg": st.floats(3, 180),
    "egfr_ml_min": st.floats(5, 140),
    "primary_site": _values(PrimarySite),
    "tumor_type": _values(TumorType),
    "differentiation": _values(Differentiation),
    "grade": _values(Grade),
    "ki67_percent": st.floats(0, 100),
    "size_cm": st.floats(0.1, 12),
    "syndrome": _values(Syndrome),
    "suspected_malignant": st.booleans(),
    "hereditary": _values(Hereditary),
    "metastatic_sites": st.lists(_values(MetastaticSite), max_size=3, unique=True),
    "resection": _values(Resection),
    "risk_factors": st.lists(_values(RiskFactor), max_size=2, unique=True),
    "on_ssa": _values(OnSsa),
    "calcitonin_pg_ml": st.floats(0, 5000),
    "calcitonin_doubling_months": st.floats(1, 120),
    "prior": st.dictionaries(_values(ExamId), _values(PriorResult), max_size=3),
    "findings": st.lists(_values(Finding), max_size=3, unique=True),
    "available": st.lists(_values(ExamId), min_size=1, max_size=12, unique=True),
    "breastfeeding": st.booleans(),
    "pretest_probability": st.floats(0.01, 0.99),
}


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    data: dict[str, Any] = {"question": draw(_values(Question))}
    for name in draw(st.lists(st.sampled_from(sorted(OPTIONAL)), max_size=8, unique=True)):
        data[name] = draw(OPTIONAL[name])
    if draw(st.booleans()):
        data["sex"] = "female"
        data["pregnant"] = draw(st.booleans())
    return data


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=scenarios())
def test_any_valid_scenario_gets_a_consistent_plan(data: dict[str, Any]) -> None:
    kb = load_knowledge_base()
    plan = recommend(parse_scenario(data), kb=kb)
    exams = [i.exam for i in plan.items]
    assert [i.rank for i in plan.items] == list(range(1, len(exams) + 1))
    assert len(set(exams)) == len(exams)
    assert not set(exams) & {a.exam for a in plan.avoid}
    if plan.items:
        first = kb.exams[plan.items[0].exam]
        only_trial = all(kb.exams[e].status is not ClinicalStatus.ROUTINE for e in exams)
        assert first.status is ClinicalStatus.ROUTINE or only_trial
    available = data.get("available")
    for item in plan.items:
        assert item.evidence
        assert all(ref in kb.references for ref in item.evidence)
        if kb.exams[item.exam].status is not ClinicalStatus.ROUTINE:
            assert item.strength is Strength.INVESTIGATIONAL
        if available is not None and item.exam is not ExamId.NO_IMAGING:
            only_nuclear = all(
                kb.exams[ExamId(e)].modality in NUCLEAR_MODALITIES for e in available
            )
            offered = item.exam.value in available
            assumed = only_nuclear and kb.exams[item.exam].modality not in NUCLEAR_MODALITIES
            assert offered or assumed
        if data.get("pregnant"):
            assert not kb.exams[item.exam].contrast.value.startswith("gado")
    if ExamId.NO_IMAGING in exams:
        assert exams[0] is ExamId.NO_IMAGING
        assert set(exams) <= {ExamId.NO_IMAGING, ExamId.ENDOSCOPY}
    for avoid in plan.avoid:
        assert avoid.reason
