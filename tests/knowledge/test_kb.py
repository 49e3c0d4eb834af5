"""The knowledge base loads, covers every exam id, and refuses inconsistent data."""

from __future__ import annotations

import copy
import tomllib
from importlib import resources
from typing import Any

import numpy as np
import pytest

from nenscope.core.errors import KnowledgeBaseError
from nenscope.knowledge.facts import TAGS
from nenscope.knowledge.kb import DATA_FILES, load_knowledge_base, parse_knowledge_base
from nenscope.knowledge.vocab import ClinicalStatus, ExamId, Modality, Target
from nenscope.quantification.radionuclides import RADIONUCLIDES


def _documents() -> dict[str, dict[str, Any]]:
    root = resources.files("nenscope.knowledge") / "data"
    return {n: tomllib.loads((root / f"{n}.toml").read_text(encoding="utf-8")) for n in DATA_FILES}


def test_every_exam_id_has_an_entry() -> None:
    kb = load_knowledge_base()
    assert set(kb.exams) == set(ExamId)


def test_every_nuclear_exam_has_tracer_facts() -> None:
    kb = load_knowledge_base()
    for exam in kb.exams.values():
        if exam.modality in (Modality.PET, Modality.SPECT, Modality.SCINTIGRAPHY):
            if exam.id is ExamId.GIPR_IMAGING:
                assert exam.status is ClinicalStatus.PRECLINICAL
                continue
            t = exam.radiopharmaceutical
            assert t is not None, exam.id
            assert t.targets
            assert t.nuclide.half_life_s > 0
            assert t.uptake_min[0] <= t.typical_uptake_min <= t.uptake_min[1], exam.id
            assert t.evidence, exam.id


def test_targets_cover_the_issue_list() -> None:
    kb = load_knowledge_base()
    targets = {t for tr in kb.radiopharmaceuticals.values() for t in tr.targets}
    wanted = {
        Target.SSTR2, Target.SSTR3, Target.SSTR5, Target.GLP1R, Target.NET_TRANSPORTER,
        Target.LAT1_AADC, Target.GLUCOSE_METABOLISM, Target.FAP, Target.CXCR4, Target.CCK2R,
    }  # fmt: skip
    assert wanted <= targets
    # GIPR has no clinical tracer: it is the preclinical exam gipr-imaging.
    assert kb.exams[ExamId.GIPR_IMAGING].status is ClinicalStatus.PRECLINICAL


def test_default_availability_is_routine_exams_only() -> None:
    kb = load_knowledge_base()
    routine = kb.routine_exams()
    for investigational in ("sstr-antagonist-pet", "fapi-pet", "cxcr4-pet", "cck2r-pet"):
        assert investigational not in routine
    assert "ga68-sstr-pet" in routine
    assert "gipr-imaging" not in routine


def test_label_values() -> None:
    kb = load_knowledge_base()
    ga = kb.radiopharmaceuticals["ga68-dotatate"]
    # NETSPOT label: 2 MBq/kg up to 200 MBq, 40-90 min, 0.021 mSv/MBq (3.15 mSv / 150 MBq).
    assert (ga.activity.per_kg_mbq, ga.activity.max_mbq) == (2.0, 200.0)
    assert ga.uptake_min == (40.0, 90.0)
    np.testing.assert_allclose(150.0 * (ga.dose_coefficient_msv_per_mbq or 0.0), 3.15, rtol=1e-12)
    assert kb.radiopharmaceuticals["i123-mibg"].breastfeeding_interruption_h == 48


def test_performance_likelihood_ratios() -> None:
    kb = load_knowledge_base()
    row = next(r for r in kb.performance if r.id == "ga68-dotatoc-net-meta")
    # clinical-facts §4: sens 0.92, spec 0.82 -> LR+ 5.1, LR- 0.10 (Graham 2017).
    lrs = row.likelihood_ratios
    assert lrs is not None
    np.testing.assert_allclose(lrs, (0.92 / 0.18, 0.08 / 0.82), rtol=1e-12)
    # The table rounds to one (LR+) and two (LR-) decimals.
    np.testing.assert_allclose(lrs, (5.1, 0.10), atol=0.05)


def test_every_rule_has_a_source_and_known_tags() -> None:
    kb = load_knowledge_base()
    assert len(kb.rules) >= 60
    for rule in kb.rules:
        assert rule.source
        assert rule.section
        for key, spec in rule.when.tests:
            if key == "tags":
                for op in ("all", "any", "none"):
                    assert set(spec.get(op, ())) <= set(TAGS), rule.id


def _break(mutate: Any) -> dict[str, dict[str, Any]]:
    docs = copy.deepcopy(_documents())
    mutate(docs)
    return docs


def _exam(d: Any) -> Any:
    return d["exams"]["exam"]


def _tracer(d: Any) -> Any:
    return d["radiopharmaceuticals"]["radiopharmaceutical"]


def _rule0(d: Any) -> Any:
    return d["rules"]["rule"][0]


BROKEN = {
    "citation": (
        lambda d: _exam(d)["ct-cap"].update(evidence=["sundin-2071"]),
        "sundin-2071.*Did you mean 'sundin-2017'",
    ),
    "missing-exam": (lambda d: _exam(d).pop("eus"), r"no entry for exam id\(s\) \['eus'\]"),
    "tracer-ref": (
        lambda d: _exam(d)["fdg-pet"].update(radiopharmaceutical="fdgg"),
        "unknown radiopharmaceutical 'fdgg'",
    ),
    # The name and nuclide of a tracer live in the tracer table (core/data/tracers.toml) only.
    "nuclide": (
        lambda d: _tracer(d)["fdg"].update(nuclide="F18"),
        r"\['nuclide'\] are tracer facts and live in the tracer table",
    ),
    "name": (
        lambda d: _tracer(d)["fdg"].update(name="FDG"),
        r"\['name'\] are tracer facts",
    ),
    "tracer-id": (
        lambda d: _tracer(d).update({"fdgg": dict(_tracer(d)["fdg"])}),
        "no tracer 'fdgg' in the tracer table.*Did you mean 'fdg'",
    ),
    "half-life-copy": (
        lambda d: d["radiopharmaceuticals"]["nuclide"]["Ga-68"].update(half_life_s=4057.7),
        "half_life_s is not accepted",
    ),
    "radionuclide": (
        lambda d: d["radiopharmaceuticals"]["nuclide"]["Ga-68"].update(radionuclide="Ga68"),
        "unknown radionuclide 'Ga68'",
    ),
    "testing-advice": (
        lambda d: _rule0(d).update(warn=["Test for MEN1 in every patient."]),
        "advises testing for a hereditary syndrome",
    ),
    "test-for-value": (
        lambda d: _rule0(d).update(warn=[{"text": "Test for MEN1.", "test_for": ["men3"]}]),
        "unknown value 'men3'",
    ),
    "target": (lambda d: _tracer(d)["fdg"].update(targets=["glucose"]), "unknown value 'glucose'"),
    "tag": (
        lambda d: _rule0(d).update(when={"tags": {"all": ["wd-nett"]}}),
        "Did you mean 'wd-net'",
    ),
    "value": (lambda d: _rule0(d).update(when={"grade": ["G4"]}), "unknown value 'G4'"),
    "condition-key": (
        lambda d: _rule0(d).update(when={"weigth_kg": {"lt": 3}}),
        "Did you mean 'weight_kg'",
    ),
    "avoid-exam": (
        lambda d: _rule0(d).update(avoid=[{"exam": "ga68-pet", "reason": "x"}]),
        "Did you mean 'ga68-sstr-pet'",
    ),
    "selector": (
        lambda d: _rule0(d).update(avoid=[{"exam": "@ionizing", "reason": "x"}]),
        "Did you mean '@ionising'",
    ),
    "duplicate": (lambda d: d["rules"]["rule"].append(dict(_rule0(d))), "duplicate rule id"),
    "strength": (
        lambda d: _rule0(d).update(propose=[{"exam": "eus", "priority": 1, "strength": "must"}]),
        "unknown strength",
    ),
    "proportion": (
        lambda d: d["performance"]["performance"][0].update(sensitivity=92),
        "not a proportion",
    ),
    "source": (lambda d: _rule0(d).pop("source"), "missing key 'source'"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_inconsistent_data_refused(case: str) -> None:
    mutate, match = BROKEN[case]
    with pytest.raises(KnowledgeBaseError, match=match):
        parse_knowledge_base(_break(mutate))


def test_every_routine_or_trial_tracer_has_preparation_and_breastfeeding_advice() -> None:
    kb = load_knowledge_base()
    for tracer in kb.radiopharmaceuticals.values():
        assert tracer.preparation, tracer.id
        assert tracer.breastfeeding, tracer.id
        if tracer.dose_coefficient_msv_per_mbq is not None:
            assert tracer.dose_evidence, tracer.id


def test_nuclide_half_lives_come_from_the_suv_nuclide_table() -> None:
    # One source of truth (NNDC/NuDat 3 in nenscope.quantification.radionuclides): the dose
    # calculator and the SUV decay correction use the same Ga-68 half-life, 67.71 min.
    table = {n.label: n.half_life_s for n in RADIONUCLIDES}
    kb = load_knowledge_base()
    assert kb.nuclides["Ga-68"].half_life_s == table["68Ga"] == 4062.6
    for nid, nuclide in kb.nuclides.items():
        mass, symbol = nid.split("-")[1], nid.split("-")[0]
        assert nuclide.half_life_s == table[f"{mass}{symbol}"], nid
