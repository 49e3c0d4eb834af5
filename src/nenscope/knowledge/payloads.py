"""JSON payloads and text lines of the knowledge base: exams, evidence and dose (API callable).

What ``nenscope exams``, ``nenscope evidence`` and ``nenscope dose ...`` print, built here so
that the web service and scripts get the very same contract (issue 9: a CLI command is
argument parsing + one call + printing). Each dose function returns a :class:`Answer`: the
JSON payload and the one-line text of the command.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from nenscope.core.enums import parse_option, suggest
from nenscope.core.errors import OptionError
from nenscope.core.units import S_PER_MIN
from nenscope.knowledge.calculators import (
    compute_exam_dose,
    compute_exam_effective_dose,
    compute_follow_up_dose,
    find_nuclide,
)
from nenscope.knowledge.kb import (
    Exam,
    KnowledgeBase,
    PerformanceRow,
    Radiopharmaceutical,
    Reference,
)
from nenscope.knowledge.physics import (
    ActivityRule,
    DoseCoefficient,
    compute_activity_after_mbq,
    compute_decay_factor,
    compute_fdg_activity_eanm_mbq,
    compute_latest_time_with_activity,
)
from nenscope.knowledge.vocab import ExamId

__all__ = [
    "Answer",
    "activity_answer",
    "decay_answer",
    "evidence_payload",
    "exam_dose_answer",
    "exam_to_dict",
    "exams_payload",
    "latest_time_answer",
    "lookup_evidence",
    "reference_to_dict",
    "schedule_answer",
    "tracer_to_dict",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Answer:
    """A computed answer: its JSON payload and the line(s) of text that say it."""

    payload: dict[str, Any]
    text: str


# ------------------------------------------------------------------------------ exams


def _rule_to_dict(rule: ActivityRule | None) -> dict[str, Any] | None:
    if rule is None:
        return None
    return {
        "kind": rule.kind.value,
        "per_kg_mbq": rule.per_kg_mbq,
        "fixed_mbq": rule.fixed_mbq,
        "min_mbq": rule.min_mbq,
        "max_mbq": rule.max_mbq,
        "evidence": list(rule.evidence),
    }


def tracer_to_dict(t: Radiopharmaceutical) -> dict[str, Any]:
    """JSON form of a radiopharmaceutical."""
    return {
        "id": t.id,
        "name": t.name,
        "targets": [x.value for x in t.targets],
        "mechanism": t.mechanism.value,
        "nuclide": t.nuclide.id,
        "half_life_s": t.nuclide.half_life_s,
        "status": t.status.value,
        "status_note": t.status_note or None,
        "activity": _rule_to_dict(t.activity),
        "paediatric_activity": _rule_to_dict(t.paediatric_activity),
        "paediatric_note": t.paediatric_note or None,
        "uptake_min": list(t.uptake_min),
        "typical_uptake_min": t.typical_uptake_min,
        "dose_coefficient_msv_per_mbq": t.dose_coefficient_msv_per_mbq,
        "dose_evidence": list(t.dose_evidence),
        "dose_note": t.dose_note or None,
        "preparation": list(t.preparation),
        "breastfeeding": t.breastfeeding or None,
        "breastfeeding_interruption_h": t.breastfeeding_interruption_h,
        "evidence": list(t.evidence),
    }


def _performance_to_dict(r: PerformanceRow) -> dict[str, Any]:
    return {
        "id": r.id,
        "population": r.population,
        "sensitivity": r.sensitivity,
        "specificity": r.specificity,
        "detection_rate": r.detection_rate,
        "accuracy": r.accuracy,
        "n": r.n,
        "level": r.level,
        "evidence": list(r.evidence),
    }


def exam_to_dict(exam: Exam, performance: list[PerformanceRow]) -> dict[str, Any]:
    """JSON form of an exam with its tracer and performance rows."""
    return {
        "id": exam.id.value,
        "name": exam.name,
        "modality": exam.modality.value,
        "status": exam.status.value,
        "contrast": exam.contrast.value,
        "ionising": exam.ionising,
        "protocol": list(exam.protocol),
        "typical_effective_dose_msv": exam.typical_effective_dose_msv,
        "dose_evidence": list(exam.dose_evidence),
        "radiopharmaceutical": None
        if exam.radiopharmaceutical is None
        else tracer_to_dict(exam.radiopharmaceutical),
        "alternative_radiopharmaceuticals": list(exam.alternatives),
        "substitutes": [s.value for s in exam.substitutes],
        "performance": [_performance_to_dict(r) for r in performance],
        "evidence": list(exam.evidence),
    }


def exams_payload(kb: KnowledgeBase, exam_id: str | None = None) -> dict[str, Any]:
    """Build the ``nenscope exams`` contract: every exam (or one), tracer and performance.

    Raises
    ------
    OptionError
        If ``exam_id`` is not an exam id; the message names the closest.
    """
    exams = list(kb.exams.values())
    if exam_id is not None:
        exams = [kb.exams[parse_option(exam_id, ExamId, what="exam id")]]
    return {
        "knowledge_base_version": kb.version,
        "exams": [exam_to_dict(e, [r for r in kb.performance if r.exam is e.id]) for e in exams],
    }


# ------------------------------------------------------------------------------ evidence


def reference_to_dict(r: Reference) -> dict[str, Any]:
    """JSON form of a reference."""
    return {
        "id": r.id,
        "citation": r.citation,
        "kind": r.kind,
        "year": r.year,
        "confidence": r.confidence,
        "doi": r.doi,
        "url": r.url,
    }


def _cited_by(kb: KnowledgeBase, ref_id: str) -> list[str]:
    users = [f"rule {r.id}" for r in kb.rules if ref_id in r.source]
    users += [f"exam {e.id}" for e in kb.exams.values() if ref_id in e.evidence]
    users += [
        f"radiopharmaceutical {t.id}"
        for t in kb.radiopharmaceuticals.values()
        if ref_id in (*t.evidence, *t.dose_evidence, *t.activity.evidence)
    ]
    users += [f"performance {p.id}" for p in kb.performance if ref_id in p.evidence]
    return users


def lookup_evidence(kb: KnowledgeBase, item_id: str) -> dict[str, Any]:
    """Resolve a citation id, rule id, performance id or exam id.

    Raises
    ------
    OptionError
        If the id is none of these; the message names the closest id.
    """
    if item_id in kb.references:
        return {
            "reference": reference_to_dict(kb.references[item_id]),
            "cited_by": _cited_by(kb, item_id),
        }
    rules = {r.id: r for r in kb.rules}
    if item_id in rules:
        rule = rules[item_id]
        return {
            "rule": {"id": rule.id, "title": rule.title, "section": rule.section},
            "references": [reference_to_dict(kb.references[s]) for s in rule.source],
        }
    rows = {p.id: p for p in kb.performance}
    if item_id in rows:
        row = rows[item_id]
        return {
            "performance": {"id": row.id, "exam": row.exam.value, "population": row.population},
            "references": [reference_to_dict(kb.references[s]) for s in row.evidence],
        }
    if item_id in {e.value for e in ExamId}:
        exam = kb.exams[ExamId(item_id)]
        ids = list(dict.fromkeys([*exam.evidence, *exam.dose_evidence]))
        if exam.radiopharmaceutical is not None:
            t = exam.radiopharmaceutical
            ids = list(dict.fromkeys([*ids, *t.evidence, *t.dose_evidence, *t.activity.evidence]))
        ids += [e for p in kb.performance if p.exam is exam.id for e in p.evidence if e not in ids]
        return {
            "exam": exam.id.value,
            "references": [reference_to_dict(kb.references[i]) for i in ids],
        }
    valid = [*kb.references, *rules, *rows, *(e.value for e in ExamId)]
    raise OptionError(f"Unknown evidence, rule or exam id '{item_id}'. {suggest(item_id, valid)}")


def evidence_payload(kb: KnowledgeBase, item_id: str | None = None) -> dict[str, Any]:
    """Build the ``nenscope evidence`` contract: every reference, or what one id resolves to."""
    if item_id is None:
        return {"references": [reference_to_dict(r) for r in kb.references.values()]}
    return lookup_evidence(kb, item_id)


# ------------------------------------------------------------------------------ dose


def decay_answer(
    kb: KnowledgeBase, nuclide: str, activity_mbq: float, *, elapsed_s: float
) -> Answer:
    """Activity left after physical decay (``nenscope dose decay``).

    Raises
    ------
    WorkbenchError
        For an unknown nuclide or an activity that is not > 0 MBq.
    """
    nuc = find_nuclide(kb, nuclide)
    remaining = compute_activity_after_mbq(
        activity_mbq, elapsed_s=elapsed_s, half_life_s=nuc.half_life_s
    )
    factor = compute_decay_factor(elapsed_s, half_life_s=nuc.half_life_s)
    payload = {
        "nuclide": nuc.id,
        "half_life_s": nuc.half_life_s,
        "elapsed_s": elapsed_s,
        "decay_factor": factor,
        "activity_start_mbq": activity_mbq,
        "activity_end_mbq": remaining,
    }
    text = (
        f"{activity_mbq:g} MBq {nuc.id} after {elapsed_s / S_PER_MIN:.1f} min: "
        f"{remaining:.1f} MBq (factor {factor:.4f})"
    )
    return Answer(payload=payload, text=text)


def _coefficient_payload(coefficient: DoseCoefficient | None) -> dict[str, Any]:
    """Describe the dose coefficient used: value, phantom, source, caveat (for a child)."""
    if coefficient is None:
        return {
            "dose_coefficient_msv_per_mbq": None,
            "dose_coefficient_phantom": None,
            "dose_evidence": [],
            "dose_caveat": None,
        }
    return {
        "dose_coefficient_msv_per_mbq": coefficient.msv_per_mbq,
        "dose_coefficient_phantom": coefficient.phantom,
        "dose_evidence": list(coefficient.evidence),
        "dose_caveat": coefficient.caveat,
    }


def activity_answer(
    kb: KnowledgeBase,
    tracer: str,
    *,
    weight_kg: float | None = None,
    age_years: float | None = None,
    activity_mbq: float | None = None,
    fdg_minutes_per_bed: float | None = None,
    fdg_overlap_over_30: bool = True,
) -> Answer:
    """Prescribed activity and effective dose of a nuclear-medicine exam (``dose activity``).

    Raises
    ------
    OptionError
        If the EANM FDG rule is asked for another tracer or without a weight.
    WorkbenchError
        As :func:`~nenscope.knowledge.calculators.compute_exam_dose`.
    """
    if fdg_minutes_per_bed is not None:
        if tracer not in ("fdg", "fdg-pet"):
            raise OptionError("--fdg-minutes-per-bed applies to fdg-pet only.")
        if weight_kg is None:
            raise OptionError("The EANM FDG rule needs --weight-kg.")
        activity_mbq = compute_fdg_activity_eanm_mbq(
            weight_kg,
            minutes_per_bed=fdg_minutes_per_bed,
            overlap_over_30_percent=fdg_overlap_over_30,
        )
    result = compute_exam_dose(
        kb, tracer, weight_kg=weight_kg, age_years=age_years, activity_mbq=activity_mbq
    )
    t = result.tracer
    payload = {
        "tracer": t.id,
        "name": t.name,
        "activity_mbq": result.prescription.activity_mbq,
        "paediatric": result.prescription.paediatric,
        "notes": list(result.prescription.notes),
        "rule_evidence": list(result.prescription.rule.evidence),
        "uptake_min": list(t.uptake_min),
        "effective_dose_msv": result.effective_dose_msv,
        **_coefficient_payload(result.dose_coefficient),
    }
    dose = (
        "no dose coefficient"
        if result.effective_dose_msv is None or result.dose_coefficient is None
        else f"{result.effective_dose_msv:.2f} mSv ({result.dose_coefficient.basis})"
    )
    notes = f" ({'; '.join(result.prescription.notes)})" if result.prescription.notes else ""
    caveat = result.dose_coefficient.caveat if result.dose_coefficient else None
    text = (
        f"{t.name}: {result.prescription.activity_mbq:.0f} MBq{notes}, scan "
        f"{t.uptake_min[0]:g}-{t.uptake_min[1]:g} min after injection, {dose}"
        + (f"\nCAVEAT: {caveat}" if caveat else "")
    )
    return Answer(payload=payload, text=text)


def exam_dose_answer(
    kb: KnowledgeBase,
    exam_id: str,
    *,
    weight_kg: float | None = None,
    age_years: float | None = None,
    activity_mbq: float | None = None,
) -> Answer:
    """Effective dose of one exam (``nenscope dose exam``)."""
    result = compute_exam_effective_dose(
        kb, exam_id, weight_kg=weight_kg, age_years=age_years, activity_mbq=activity_mbq
    )
    payload = {
        "exam": result.exam.id.value,
        "effective_dose_msv": result.effective_dose_msv,
        "activity_mbq": result.activity_mbq,
        "basis": result.basis,
        "dose_caveat": result.caveat,
    }
    text = f"{result.exam.id}: {result.effective_dose_msv:.2f} mSv ({result.basis})" + (
        f"\nCAVEAT: {result.caveat}" if result.caveat else ""
    )
    return Answer(payload=payload, text=text)


def schedule_answer(
    kb: KnowledgeBase,
    schedule: list[tuple[str, float]],
    *,
    years: float,
    weight_kg: float | None = None,
    include_baseline: bool = True,
) -> Answer:
    """Cumulative effective dose of a follow-up schedule (``nenscope dose schedule``).

    ``schedule`` holds ``(exam id, interval in months)`` pairs.
    """
    result = compute_follow_up_dose(
        kb,
        schedule,
        duration_months=years * 12.0,
        weight_kg=weight_kg,
        include_baseline=include_baseline,
    )
    payload = {
        "duration_months": years * 12.0,
        "include_baseline": include_baseline,
        "counts": result.counts,
        "per_exam_msv": result.per_exam_msv,
        "total_msv": result.total_msv,
    }
    parts = ", ".join(
        f"{k} ×{result.counts[k]} = {v:.1f} mSv" for k, v in result.per_exam_msv.items()
    )
    return Answer(
        payload=payload, text=f"{years:g} years: {parts}; total {result.total_msv:.1f} mSv"
    )


def latest_time_answer(
    kb: KnowledgeBase,
    nuclide: str,
    *,
    activity_mbq: float,
    measured_at: datetime,
    required_mbq: float,
) -> Answer:
    """Latest time at which enough activity remains (``nenscope dose latest``)."""
    nuc = find_nuclide(kb, nuclide)
    latest = compute_latest_time_with_activity(
        activity_mbq=activity_mbq,
        measured_at=measured_at,
        required_mbq=required_mbq,
        half_life_s=nuc.half_life_s,
    )
    payload = {
        "nuclide": nuc.id,
        "half_life_s": nuc.half_life_s,
        "latest_time": latest.isoformat(),
        "minutes_after_calibration": (latest - measured_at).total_seconds() / S_PER_MIN,
    }
    # The text rounds down to the whole minute: a later printed time would already hold less
    # than the required activity (JSON keeps the exact time).
    minutes = math.floor((latest - measured_at).total_seconds() / S_PER_MIN)
    until = (measured_at + timedelta(minutes=minutes)).isoformat(timespec="minutes")
    text = (
        f"{activity_mbq:g} MBq {nuc.id} at {measured_at.isoformat(timespec='minutes')} still "
        f"holds {required_mbq:g} MBq until {until} ({minutes} min after calibration)"
    )
    return Answer(payload=payload, text=text)
