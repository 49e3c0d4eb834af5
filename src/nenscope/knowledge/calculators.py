"""Dose calculators over the knowledge base: the API behind ``nenscope dose``.

These functions look up tracers, nuclides and exams by id and call the pure formulas of
:mod:`nenscope.knowledge.physics`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from nenscope.core.enums import suggest
from nenscope.core.errors import OptionError
from nenscope.knowledge.kb import Exam, KnowledgeBase, Nuclide, Radiopharmaceutical
from nenscope.knowledge.physics import (
    ADULT_AGE_YEARS,
    DoseCoefficient,
    PhysicsInputError,
    Prescription,
    ScheduledExam,
    check_age_years,
    check_body_weight_kg,
    compute_effective_dose_msv,
    compute_schedule_dose_msv,
    prescribe_activity,
)
from nenscope.knowledge.vocab import ExamId

__all__ = [
    "ExamDose",
    "ExamEffectiveDose",
    "ScheduleDose",
    "compute_exam_dose",
    "compute_exam_effective_dose",
    "compute_follow_up_dose",
    "find_nuclide",
    "find_tracer",
]


def find_tracer(kb: KnowledgeBase, name: str) -> tuple[Radiopharmaceutical, Exam | None]:
    """Find a radiopharmaceutical by its id or by the id of the exam that uses it.

    Raises
    ------
    OptionError
        If ``name`` is neither; the message names the closest id.

    Examples
    --------
    >>> from nenscope.knowledge.kb import load_knowledge_base
    >>> find_tracer(load_knowledge_base(), "fdg-pet")[0].id
    'fdg'
    """
    if name in kb.radiopharmaceuticals:
        return kb.radiopharmaceuticals[name], None
    if name in {e.value for e in kb.exams}:
        exam = kb.exams[ExamId(name)]
        if exam.radiopharmaceutical is None:
            raise OptionError(
                f"Exam '{name}' uses no radiopharmaceutical; give a nuclear-medicine exam or a "
                f"tracer id. Tracers: {', '.join(sorted(kb.radiopharmaceuticals))}."
            )
        return exam.radiopharmaceutical, exam
    valid = [*kb.radiopharmaceuticals, *(e.value for e in kb.exams)]
    raise OptionError(f"Unknown tracer or exam '{name}'. {suggest(name, valid)}")


def find_nuclide(kb: KnowledgeBase, name: str) -> Nuclide:
    """Find a nuclide by id (``Ga-68``; case-insensitive, ``ga68``/``68Ga`` accepted)."""
    canon = {n.lower().replace("-", ""): n for n in kb.nuclides}
    key = name.lower().replace("-", "")
    if key not in canon and len(key) > 2:
        digits = "".join(c for c in key if c.isdigit())
        letters = "".join(c for c in key if not c.isdigit())
        key = letters + digits
    if key not in canon:
        raise OptionError(f"Unknown nuclide '{name}'. {suggest(name, list(kb.nuclides))}")
    return kb.nuclides[canon[key]]


def _check_patient(weight_kg: float | None, age_years: float | None) -> None:
    """Refuse an impossible weight or age, whether or not the calculation needs it."""
    if weight_kg is not None:
        check_body_weight_kg(weight_kg)
    if age_years is not None:
        check_age_years(age_years)


@dataclass(frozen=True, slots=True, kw_only=True)
class ExamDose:
    """Prescribed activity and effective dose of one exam for one patient."""

    tracer: Radiopharmaceutical
    exam: Exam | None
    prescription: Prescription
    effective_dose_msv: float | None
    dose_coefficient: DoseCoefficient | None = None
    """The coefficient used (age-specific for a child where published), or None."""


def compute_exam_dose(
    kb: KnowledgeBase,
    name: str,
    *,
    weight_kg: float | None = None,
    age_years: float | None = None,
    activity_mbq: float | None = None,
) -> ExamDose:
    """Activity (prescribed, or given) and effective dose of a nuclear-medicine exam.

    Examples
    --------
    NETSPOT label: 150 MBq 68Ga-DOTATATE → 3.15 mSv.

    >>> from nenscope.knowledge.kb import load_knowledge_base
    >>> d = compute_exam_dose(load_knowledge_base(), "ga68-sstr-pet", weight_kg=75)
    >>> d.prescription.activity_mbq, round(d.effective_dose_msv, 2)
    (150.0, 3.15)

    Raises
    ------
    OptionError
        For an unknown tracer or exam.
    PhysicsInputError
        For an impossible weight or age (the limits of
        :data:`~nenscope.knowledge.physics.BODY_WEIGHT_RANGE_KG`, shared with the scenario
        reader; refused, never capped) or a given activity that is not > 0 MBq.
    """
    _check_patient(weight_kg, age_years)
    if activity_mbq is not None and not (math.isfinite(activity_mbq) and activity_mbq > 0):
        raise PhysicsInputError(
            f"activity_mbq must be finite and > 0 MBq, got {activity_mbq:g} MBq. "
            "Give the administered activity in MBq."
        )
    tracer, exam = find_tracer(kb, name)
    if activity_mbq is None:
        prescription = prescribe_activity(
            tracer.activity,
            paediatric=tracer.paediatric_activity,
            weight_kg=weight_kg,
            age_years=age_years,
        )
    else:
        prescription = Prescription(
            activity_mbq=activity_mbq,
            rule=tracer.activity,
            paediatric=False,
            notes=("activity given by the user",),
        )
    dose = None
    coefficient = tracer.dose_coefficient(age_years)
    if coefficient is not None:
        dose = compute_effective_dose_msv(
            prescription.activity_mbq, coefficient_msv_per_mbq=coefficient.msv_per_mbq
        )
    return ExamDose(
        tracer=tracer,
        exam=exam,
        prescription=prescription,
        effective_dose_msv=dose,
        dose_coefficient=coefficient,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class ExamEffectiveDose:
    """Effective dose of any exam, with how it was obtained."""

    exam: Exam
    effective_dose_msv: float
    activity_mbq: float | None
    basis: str
    caveat: str | None = None
    """For a child whose dose can only be estimated with adult figures: says so (else None)."""


def compute_exam_effective_dose(
    kb: KnowledgeBase,
    exam_id: str,
    *,
    weight_kg: float | None = None,
    age_years: float | None = None,
    activity_mbq: float | None = None,
) -> ExamEffectiveDose:
    """Effective dose of an exam: computed for a tracer, typical for CT, 0 without radiation.

    Raises
    ------
    OptionError
        For an unknown exam id, or a tracer without a dose coefficient.

    Examples
    --------
    >>> from nenscope.knowledge.kb import load_knowledge_base
    >>> kb = load_knowledge_base()
    >>> compute_exam_effective_dose(kb, "ct-chest").effective_dose_msv
    7.5
    >>> compute_exam_effective_dose(kb, "mri-pancreas").effective_dose_msv
    0.0
    """
    exam_ids = {e.value for e in kb.exams}
    if exam_id not in exam_ids:
        raise OptionError(f"Unknown exam '{exam_id}'. {suggest(exam_id, sorted(exam_ids))}")
    exam = kb.exams[ExamId(exam_id)]
    if exam.radiopharmaceutical is not None:
        result = compute_exam_dose(
            kb, exam_id, weight_kg=weight_kg, age_years=age_years, activity_mbq=activity_mbq
        )
        coefficient = result.dose_coefficient
        if result.effective_dose_msv is None or coefficient is None:
            raise OptionError(
                f"{exam.radiopharmaceutical.name} has no effective-dose coefficient in the "
                "knowledge base."
            )
        return ExamEffectiveDose(
            exam=exam,
            effective_dose_msv=result.effective_dose_msv,
            activity_mbq=result.prescription.activity_mbq,
            basis=f"activity × {coefficient.basis}; " + "; ".join(result.prescription.notes),
            caveat=coefficient.caveat,
        )
    if exam.ionising and exam.typical_effective_dose_msv is not None:
        child = age_years is not None and age_years < ADULT_AGE_YEARS
        return ExamEffectiveDose(
            exam=exam,
            effective_dose_msv=exam.typical_effective_dose_msv,
            activity_mbq=None,
            basis="typical adult effective dose (order of magnitude), "
            + ", ".join(exam.dose_evidence),
            caveat=(
                f"Child ({age_years:g} years): this is a typical ADULT dose; a child's dose "
                "depends on the paediatric protocol (tube current, kV, length) and on size, "
                "and per unit exposure a child's organs receive more: ask the CT team for the "
                "protocol's dose."
                if child
                else None
            ),
        )
    return ExamEffectiveDose(
        exam=exam, effective_dose_msv=0.0, activity_mbq=None, basis="no ionising radiation"
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class ScheduleDose:
    """Cumulative effective dose of a follow-up schedule."""

    total_msv: float
    per_exam_msv: dict[str, float]
    counts: dict[str, int]


def compute_follow_up_dose(
    kb: KnowledgeBase,
    schedule: Sequence[tuple[str, float]],
    *,
    duration_months: float,
    weight_kg: float | None = None,
    include_baseline: bool = True,
) -> ScheduleDose:
    """Cumulative effective dose of exams repeated at fixed intervals.

    Parameters
    ----------
    schedule
        ``(exam id, interval in months)`` pairs.
    duration_months
        Length of follow-up.
    weight_kg
        Adult weight for per-kg activity rules (the reference adult if None, said so by the
        prescription notes).

    Examples
    --------
    SSTR PET every 12 months and contrast CT chest/abdomen/pelvis every 6 months for 2 years
    (baseline included), 75 kg: 3 × 3.15 + 5 × 15 = 84.45 mSv.

    >>> from nenscope.knowledge.kb import load_knowledge_base
    >>> r = compute_follow_up_dose(load_knowledge_base(),
    ...     [("ga68-sstr-pet", 12), ("ct-cap", 6)], duration_months=24, weight_kg=75)
    >>> round(r.total_msv, 2), r.counts
    (84.45, {'ga68-sstr-pet': 3, 'ct-cap': 5})
    """
    _check_patient(weight_kg, None)
    items: list[ScheduledExam] = []
    for name, interval in schedule:
        exam_ids = {e.value for e in kb.exams}
        if name not in exam_ids:
            raise OptionError(f"Unknown exam '{name}'. {suggest(name, sorted(exam_ids))}")
        exam = kb.exams[ExamId(name)]
        if exam.radiopharmaceutical is not None:
            dose = compute_exam_dose(kb, name, weight_kg=weight_kg).effective_dose_msv
        else:
            dose = exam.typical_effective_dose_msv if exam.ionising else 0.0
        if dose is None:
            raise OptionError(
                f"Exam '{name}' has no effective dose in the knowledge base; leave it out."
            )
        items.append(ScheduledExam(name=name, dose_msv=dose, interval_months=interval))
    total, counts = compute_schedule_dose_msv(
        items, duration_months=duration_months, include_baseline=include_baseline
    )
    per_exam = {i.name: counts[i.name] * i.dose_msv for i in items}
    return ScheduleDose(total_msv=total, per_exam_msv=per_exam, counts=counts)
