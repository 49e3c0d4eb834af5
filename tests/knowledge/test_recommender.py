"""The recommender: contract, substitution, safety, trace, post-test probabilities."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from nenscope.knowledge.kb import load_knowledge_base
from nenscope.knowledge.recommender import Plan, recommend
from nenscope.knowledge.rules import TESTING_ADVICE
from nenscope.knowledge.scenario import parse_scenario
from nenscope.knowledge.vocab import ClinicalStatus, Strength


def _plan(**fields: Any) -> Plan:
    return recommend(parse_scenario(fields))


def _exams(plan: Plan) -> list[str]:
    return [i.exam.value for i in plan.items]


def test_contract_keys_and_types() -> None:
    out = _plan(
        question="staging", primary_site="pancreas", grade="G2", weight_kg=80
    ).to_contract()
    assert set(out) == {"plan", "avoid", "warnings"}
    assert [i["rank"] for i in out["plan"]] == list(range(1, len(out["plan"]) + 1))
    for item in out["plan"]:
        assert {"rank", "exam", "strength", "rationale", "evidence"} <= set(item)
        assert item["strength"] in {"recommended", "consider", "investigational"}
        assert item["evidence"]
    first = out["plan"][0]
    # 2 MBq/kg x 80 kg = 160 MBq; 160 x 0.021 = 3.36 mSv (NETSPOT label rule and coefficient).
    assert first["exam"] == "ga68-sstr-pet"
    np.testing.assert_allclose(first["activity_mbq"], 160.0, rtol=1e-12)
    np.testing.assert_allclose(first["effective_dose_msv"], 3.36, rtol=1e-12)
    assert first["uptake_min"] == 60.0
    for avoid in out["avoid"]:
        assert {"exam", "reason"} <= set(avoid)


def test_every_evidence_id_resolves() -> None:
    kb = load_knowledge_base()
    plan = _plan(
        question="staging", tumor_type="paraganglioma", hereditary="sdhb", metastatic=True
    )
    for item in plan.items:
        for ref in item.evidence:
            assert ref in kb.references


def test_substitution_is_reported() -> None:
    plan = _plan(
        question="staging",
        primary_site="small-intestine",
        grade="G1",
        available=["cu64-sstr-pet", "ct-multiphase"],
    )
    assert plan.items[0].exam.value == "cu64-sstr-pet"
    assert plan.items[0].substituted_for is not None
    assert plan.items[0].rationale.startswith("In place of ga68-sstr-pet")
    assert any("cu64-sstr-pet is ranked in its place" in w for w in plan.warnings)


def test_no_alternative_available_warns_to_refer() -> None:
    plan = _plan(
        question="staging", primary_site="small-intestine", grade="G1", available=["ct-cap"]
    )
    assert "ga68-sstr-pet" not in _exams(plan)
    assert any("refer the patient" in w for w in plan.warnings)


def test_octreoscan_only_when_no_pet() -> None:
    with_pet = _plan(question="staging", primary_site="pancreas", grade="G1")
    assert "in111-sstr-spect" in [a.exam.value for a in with_pet.avoid]
    without = _plan(
        question="staging", primary_site="pancreas", grade="G1", available=["in111-sstr-spect"]
    )
    assert _exams(without)[0] == "in111-sstr-spect"


def test_investigational_never_first_and_flagged() -> None:
    plan = _plan(
        question="staging",
        primary_site="small-intestine",
        grade="G2",
        findings=["desmoplastic-mesenteric-mass"],
        available=["ga68-sstr-pet", "fapi-pet", "sstr-antagonist-pet", "ct-enterography"],
    )
    kb = load_knowledge_base()
    assert kb.exams[plan.items[0].exam].status is ClinicalStatus.ROUTINE
    trial = [i for i in plan.items if i.exam.value in ("fapi-pet", "sstr-antagonist-pet")]
    assert len(trial) == 2
    assert all(i.strength is Strength.INVESTIGATIONAL for i in trial)
    assert all(i.rank > 2 for i in trial)
    assert any("clinical trial" in w for w in plan.warnings)


def test_pregnancy_no_gadolinium_and_non_ionising_first() -> None:
    plan = _plan(question="liver-directed-therapy", sex="female", pregnant=True, grade="G2")
    exams = _exams(plan)
    assert exams[0] == "mri-noncontrast"
    assert not {"mri-liver", "mri-liver-hepatobiliary", "mri-pancreas"} & set(exams)
    avoided = {a.exam.value for a in plan.avoid}
    assert {"mri-liver-hepatobiliary", "mibg-scan", "ct-multiphase"} <= avoided
    for item in plan.items:
        if load_knowledge_base().exams[item.exam].ionising:
            assert item.strength is Strength.CONSIDER


def test_breastfeeding_ssa_and_hypoglycaemia_warnings() -> None:
    bf = _plan(question="staging", grade="G1", breastfeeding=True, on_ssa="short-acting")
    text = " ".join(bf.warnings)
    assert "interrupt breastfeeding for 12 h" in text.lower()
    assert "short-acting octreotide 24 h" in text
    ex = _plan(question="localisation", syndrome="insulinoma", prior={"mri-pancreas": "negative"})
    assert any("Hypoglycaemia" in w for w in ex.warnings)


def test_child_gets_paediatric_activity() -> None:
    plan = _plan(
        question="staging", age_years=10, weight_kg=30, primary_site="pancreas", grade="G2"
    )
    first = plan.items[0]
    # NETSPOT label for children: 2 MBq/kg -> 60 MBq for 30 kg.
    assert first.exam.value == "ga68-sstr-pet"
    np.testing.assert_allclose(first.activity_mbq or 0.0, 60.0, rtol=1e-12)
    assert "paediatric weight-based activity" in first.notes


def test_child_without_weight_gets_no_activity_and_a_warning() -> None:
    plan = _plan(question="staging", age_years=10, primary_site="pancreas", grade="G2")
    assert plan.items[0].activity_mbq is None
    assert any("needs the body weight" in w for w in plan.warnings)


def test_explain_trace_lists_every_rule() -> None:
    kb = load_knowledge_base()
    plan = _plan(question="staging", primary_site="rectum", size_cm=0.6, grade="G1")
    assert len(plan.trace) == len(kb.rules)
    fired = {t.rule for t in plan.trace if t.fired}
    assert "rectal-low-risk" in fired
    skipped = next(t for t in plan.trace if t.rule == "nec-staging")
    assert not skipped.fired
    assert "condition not met" in skipped.detail
    explain = plan.to_contract(explain=True)["explain"]
    assert "rectal-low-risk" in {r["rule"] for r in explain["rules"] if r["fired"]}


def test_post_test_probability() -> None:
    plan = _plan(
        question="staging", primary_site="small-intestine", grade="G2", pretest_probability=0.3
    )
    pt = plan.items[0].post_test
    assert pt is not None
    # clinical-facts §4 Bayesian note: pre-test 30 %, LR+ 5.1 -> 69 %; LR- 0.10 -> 4 %.
    np.testing.assert_allclose(pt.positive, 0.69, atol=0.01)
    np.testing.assert_allclose(pt.negative, 0.04, atol=0.01)


def test_scenario_no_rule_matches_says_so() -> None:
    plan = _plan(question="mibg-therapy-eligibility", available=["ct-cap"])
    assert plan.items == ()
    assert any("tumour board" in w for w in plan.warnings)


def test_nuclear_only_availability_assumes_routine_ct_mri() -> None:
    plan = _plan(
        question="staging", primary_site="small-intestine", grade="G2", available=["cu64-sstr-pet"]
    )
    exams = _exams(plan)
    assert exams[0] == "cu64-sstr-pet"
    assert "ct-multiphase" in exams
    assert any("were assumed available" in w for w in plan.warnings)


def test_no_imaging_needs_no_equipment() -> None:
    plan = _plan(
        question="staging",
        primary_site="rectum",
        size_cm=0.5,
        grade="G1",
        resection="complete",
        available=["ga68-sstr-pet", "ct-cap"],
    )
    assert _exams(plan) == ["no-imaging"]


# Advice to test for a hereditary syndrome is never given when that syndrome is already known.
# Each case: the scenario with the syndrome known, the warning fragment that must then be absent
# and present for the same scenario without a known syndrome (so the check is not vacuous).
_TESTING_CASES = {
    "men1-gastrinoma": ({"question": "diagnosis", "syndrome": "gastrinoma"}, "men1", "MEN1"),
    "men2-mtc": ({"question": "staging", "tumor_type": "mtc"}, "men2", "RET testing"),
    "men2-pheo": (
        {"question": "staging", "tumor_type": "pheochromocytoma", "primary_site": "adrenal"},
        "men2",
        "genetic testing",
    ),
    "vhl-pheo": (
        {"question": "staging", "tumor_type": "pheochromocytoma", "primary_site": "adrenal"},
        "vhl",
        "genetic testing",
    ),
    "nf1-pheo": (
        {"question": "localisation", "tumor_type": "pheochromocytoma", "primary_site": "adrenal"},
        "nf1",
        "genetic testing",
    ),
    "sdhb-pgl": (
        {
            "question": "staging",
            "tumor_type": "paraganglioma",
            "primary_site": "thoraco-abdominal-paraganglia",
        },
        "sdhb",
        "genetic testing",
    ),
    "sdhd-hn-pgl": (
        {
            "question": "staging",
            "tumor_type": "paraganglioma",
            "primary_site": "head-neck-paraganglia",
        },
        "sdhd",
        "genetic testing",
    ),
    "sdhx-pgl": (
        {"question": "staging", "tumor_type": "paraganglioma"},
        "sdhx",
        "genetic testing",
    ),
    "epas1-pgl": ({"question": "staging", "tumor_type": "paraganglioma"}, "epas1", "testing"),
}


@pytest.mark.parametrize("case", sorted(_TESTING_CASES))
def test_no_advice_to_test_for_a_known_syndrome(case: str) -> None:
    fields, syndrome, fragment = _TESTING_CASES[case]
    unknown = " ".join(_plan(**fields).warnings)
    assert fragment.lower() in unknown.lower(), f"{case}: no testing advice without {syndrome}"
    known = [w for w in _plan(**fields, hereditary=syndrome).warnings if TESTING_ADVICE.search(w)]
    assert not [w for w in known if fragment.lower() in w.lower()], known


def test_testing_advice_of_fired_rules_respects_the_known_syndrome() -> None:
    # Property over every rule: a fired warning whose test_for holds the scenario's syndrome
    # never reaches the plan.
    kb = load_knowledge_base()
    for fields, syndrome, _ in _TESTING_CASES.values():
        plan = _plan(**fields, hereditary=syndrome)
        fired = {t.rule for t in plan.trace if t.fired}
        for rule in kb.rules:
            for advice in rule.warn:
                if rule.id in fired and syndrome in advice.test_for:
                    assert advice.text not in plan.warnings, (rule.id, syndrome)


def test_ssa_advice_follows_the_tracer_label() -> None:
    # clinical-facts §1.2 / §6.1: Detectnet 28 days (LAR) and 2 days (short-acting); NETSPOT
    # just before the next LAR injection; OctreoScan practice 72 h for short-acting octreotide.
    cu = _plan(question="restaging", primary_site="pancreas", grade="G2", on_ssa="long-acting",
               available=["cu64-sstr-pet"])  # fmt: skip
    cu_text = [w for w in cu.warnings if w.startswith("Somatostatin analogue, cu64-sstr-pet")]
    assert cu_text
    assert "Detectnet" in cu_text[0]
    assert "NETSPOT" not in cu_text[0]
    ind = _plan(question="restaging", primary_site="pancreas", grade="G2", on_ssa="short-acting",
                available=["in111-sstr-spect"])  # fmt: skip
    in_text = [w for w in ind.warnings if w.startswith("Somatostatin analogue, in111-sstr-spect")]
    assert in_text
    assert "72 h" in in_text[0]
    ga = _plan(question="restaging", primary_site="pancreas", grade="G2", on_ssa="long-acting")
    assert any("NETSPOT label" in w for w in ga.warnings)


def test_low_risk_no_imaging_plans_do_not_advise_sstr_pet_in_avoid_reasons() -> None:
    # Small type-1 gastric, appendiceal and rectal NETs (ENETS 2023): no imaging; the FDG avoid
    # reason must not say "Use SSTR PET" when SSTR PET is on the avoid list too.
    for fields in (
        {"primary_site": "stomach", "gastric_type": 1, "grade": "G1", "size_cm": 0.6},
        {"primary_site": "rectum", "grade": "G1", "size_cm": 0.6, "resection": "complete"},
        {"primary_site": "appendix", "grade": "G1", "size_cm": 0.8, "resection": "complete"},
    ):
        plan = _plan(question="staging", **fields)
        assert _exams(plan)[0] == "no-imaging"
        reasons = {a.exam.value: a.reason for a in plan.avoid}
        assert "ga68-sstr-pet" in reasons
        assert "use sstr pet" not in reasons.get("fdg-pet", "").lower(), reasons["fdg-pet"]


def test_substituted_item_says_what_it_replaces_and_why() -> None:
    plan = _plan(question="staging", primary_site="small-intestine", grade="G2", egfr_ml_min=22)
    sub = next(i for i in plan.items if i.substituted_for is not None)
    assert sub.rationale.startswith(f"In place of {sub.substituted_for} (ruled out for this")
    assert "see the avoid list), proposed because: " in sub.rationale


def test_nec_surveillance_rationale_covers_follow_up_after_resection() -> None:
    plan = _plan(question="surveillance", tumor_type="nec", primary_site="colon",
                 resection="complete")  # fmt: skip
    assert _exams(plan)[0] == "ct-cap"
    assert "after resection" in plan.items[0].rationale
