"""Radiation physics for choosing a scan: decay, activity prescription, effective dose.

Pure functions over plain numbers and value objects (STYLE 2.1). Activities at this API are in
MBq (the unit of every label and guideline the knowledge base quotes) and carry ``_mbq`` in
their names; times are in s or timezone-aware datetimes; doses are in mSv (STYLE 3.2).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from nenscope.core.errors import ImpossibleValueError, NotComputableError
from nenscope.core.patient import (
    AGE_RANGE_YEARS,
    BODY_WEIGHT_RANGE_KG,
    check_age_years,
    check_body_weight_kg,
)

__all__ = [
    "ADULT_AGE_YEARS",
    "AGE_RANGE_YEARS",
    "BODY_WEIGHT_RANGE_KG",
    "ICRP_PHANTOM_AGES_YEARS",
    "REFERENCE_ADULT_WEIGHT_KG",
    "ActivityRule",
    "ActivityRuleKind",
    "DoseCoefficient",
    "PhysicsInputError",
    "Prescription",
    "ScheduledExam",
    "check_age_years",
    "check_body_weight_kg",
    "compute_activity_after_mbq",
    "compute_decay_factor",
    "compute_decayed_activity_mbq",
    "compute_effective_dose_msv",
    "compute_fdg_activity_eanm_mbq",
    "compute_latest_time_with_activity",
    "compute_schedule_dose_msv",
    "prescribe_activity",
    "select_dose_coefficient",
]

ADULT_AGE_YEARS = 18.0
"""Age in years from which the adult activity rule applies (paediatric rules below it)."""

REFERENCE_ADULT_WEIGHT_KG = 70.0
"""ICRP reference adult body weight, used only when a weight is missing and said so."""


PhysicsInputError = ImpossibleValueError
"""An input to a physics calculator is impossible (negative activity, zero half-life …).

The same class as :class:`nenscope.core.errors.ImpossibleValueError`, which the patient limits
of :mod:`nenscope.core.patient` raise too."""


def _require_positive(
    value: float, name: str, *, allow_zero: bool = False, unit: str = "", why: str = ""
) -> None:
    ok = value >= 0 if allow_zero else value > 0
    if not (math.isfinite(value) and ok):
        bound = ">= 0" if allow_zero else "> 0"
        unit_text = f" {unit}" if unit else ""
        reason = f" {why}" if why else ""
        raise PhysicsInputError(
            f"{name} must be finite and {bound}{unit_text}, got {value:g}{unit_text}.{reason}"
        )


def compute_decay_factor(elapsed_s: float, *, half_life_s: float) -> float:
    """Fraction of activity remaining after ``elapsed_s`` seconds.

    Parameters
    ----------
    elapsed_s
        Time since the activity was measured, in s; negative for a time before the measurement.
    half_life_s
        Physical half-life of the radionuclide in s; finite and > 0.

    Returns
    -------
    float
        A(t) / A(0), dimensionless.

    Notes
    -----
    A(t) = A(0) · 2^(−t / T½): physical decay only, no biological clearance.

    Examples
    --------
    >>> compute_decay_factor(4062.6, half_life_s=4062.6)
    0.5
    """
    _require_positive(half_life_s, "half_life_s")
    if not math.isfinite(elapsed_s):
        raise PhysicsInputError(f"elapsed_s must be finite, got {elapsed_s}.")
    return float(2.0 ** (-elapsed_s / half_life_s))


def compute_decayed_activity_mbq(
    activity_mbq: float, *, measured_at: datetime, at: datetime, half_life_s: float
) -> float:
    """Activity in MBq at time ``at`` of a source that held ``activity_mbq`` at ``measured_at``.

    Parameters
    ----------
    activity_mbq
        Activity at ``measured_at``, in MBq; > 0.
    measured_at, at
        Timezone-aware datetimes (STYLE 3.5); ``at`` may precede ``measured_at``.
    half_life_s
        Physical half-life in s.

    Raises
    ------
    PhysicsInputError
        If a datetime is naive or the activity is not positive.

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> t0 = datetime(2024, 1, 1, 8, 0, tzinfo=UTC)
    >>> round(compute_decayed_activity_mbq(200.0, measured_at=t0,
    ...       at=datetime(2024, 1, 1, 9, 49, 48, tzinfo=UTC), half_life_s=6588.0), 6)
    100.0
    """
    _require_positive(
        activity_mbq, "activity_mbq", unit="MBq", why="An activity cannot be zero or negative."
    )
    for name, moment in (("measured_at", measured_at), ("at", at)):
        if moment.tzinfo is None:
            raise PhysicsInputError(
                f"{name} must be timezone-aware (e.g. 2024-01-01T08:00+01:00), got {moment}."
            )
    elapsed_s = (at - measured_at).total_seconds()
    return activity_mbq * compute_decay_factor(elapsed_s, half_life_s=half_life_s)


def compute_activity_after_mbq(
    activity_mbq: float, *, elapsed_s: float, half_life_s: float
) -> float:
    """Activity in MBq ``elapsed_s`` seconds after a source held ``activity_mbq``.

    Parameters
    ----------
    activity_mbq
        Activity at the start, in MBq; finite and > 0 (a source holds a positive activity).
    elapsed_s
        Time since the start, in s; negative for a time before it.
    half_life_s
        Physical half-life in s.

    Raises
    ------
    PhysicsInputError
        If the activity is not positive, or a time is not finite.

    Examples
    --------
    >>> compute_activity_after_mbq(200.0, elapsed_s=3600.0, half_life_s=3600.0)
    100.0
    """
    _require_positive(
        activity_mbq, "activity_mbq", unit="MBq", why="An activity cannot be zero or negative."
    )
    return activity_mbq * compute_decay_factor(elapsed_s, half_life_s=half_life_s)


def compute_latest_time_with_activity(
    *, activity_mbq: float, measured_at: datetime, required_mbq: float, half_life_s: float
) -> datetime:
    """Latest time at which a source measured at ``measured_at`` still holds ``required_mbq``.

    Parameters
    ----------
    activity_mbq
        Activity of the vial or dose at ``measured_at``, in MBq.
    measured_at
        Timezone-aware calibration time.
    required_mbq
        Activity that must still be available (the prescription), in MBq.
    half_life_s
        Physical half-life in s.

    Raises
    ------
    PhysicsInputError
        If the source already holds less than ``required_mbq`` at ``measured_at``.

    Notes
    -----
    Solving A0 · 2^(−t/T½) = A_req gives t = T½ · log2(A0 / A_req).

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> t0 = datetime(2024, 1, 1, 8, 0, tzinfo=UTC)
    >>> compute_latest_time_with_activity(activity_mbq=400.0, measured_at=t0,
    ...     required_mbq=100.0, half_life_s=3600.0).isoformat()
    '2024-01-01T10:00:00+00:00'
    """
    _require_positive(activity_mbq, "activity_mbq")
    _require_positive(required_mbq, "required_mbq")
    _require_positive(half_life_s, "half_life_s")
    if measured_at.tzinfo is None:
        raise PhysicsInputError(f"measured_at must be timezone-aware, got {measured_at}.")
    if required_mbq > activity_mbq:
        raise PhysicsInputError(
            f"The source holds {activity_mbq:g} MBq at {measured_at.isoformat()}, less than the "
            f"required {required_mbq:g} MBq; no later time can satisfy the prescription. "
            "Lower the prescription or order more activity."
        )
    elapsed_s = half_life_s * math.log2(activity_mbq / required_mbq)
    return measured_at + timedelta(seconds=elapsed_s)


class ActivityRuleKind(StrEnum):
    """How an administered activity is prescribed."""

    PER_KG = "per-kg"
    FIXED = "fixed"


@dataclass(frozen=True, slots=True, kw_only=True)
class ActivityRule:
    """One activity prescription rule from a label or guideline.

    Parameters
    ----------
    kind
        ``per-kg`` (``per_kg_mbq`` × weight, clamped to ``[min_mbq, max_mbq]``) or ``fixed``
        (``fixed_mbq``, with ``min_mbq``/``max_mbq`` as the allowed range).
    per_kg_mbq
        MBq per kg body weight for ``per-kg`` rules.
    fixed_mbq
        Standard activity in MBq for ``fixed`` rules.
    min_mbq, max_mbq
        Lower bound and cap in MBq, or None.
    evidence
        Citation ids of the label or guideline.

    Examples
    --------
    >>> ActivityRule(kind=ActivityRuleKind.PER_KG, per_kg_mbq=2.0, max_mbq=200.0).kind
    <ActivityRuleKind.PER_KG: 'per-kg'>
    """

    kind: ActivityRuleKind
    per_kg_mbq: float | None = None
    fixed_mbq: float | None = None
    min_mbq: float | None = None
    max_mbq: float | None = None
    evidence: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind is ActivityRuleKind.PER_KG and self.per_kg_mbq is None:
            raise PhysicsInputError("A per-kg activity rule needs per_kg_mbq.")
        if self.kind is ActivityRuleKind.FIXED and self.fixed_mbq is None:
            raise PhysicsInputError("A fixed activity rule needs fixed_mbq.")
        for name in ("per_kg_mbq", "fixed_mbq", "min_mbq", "max_mbq"):
            value = getattr(self, name)
            if value is not None:
                _require_positive(value, name)
        if self.min_mbq is not None and self.max_mbq is not None and self.min_mbq > self.max_mbq:
            raise PhysicsInputError(
                f"Activity rule has min_mbq {self.min_mbq} above max_mbq {self.max_mbq}."
            )


@dataclass(frozen=True, slots=True, kw_only=True)
class Prescription:
    """An administered activity for one patient, with how it was obtained.

    Attributes
    ----------
    activity_mbq
        Activity to administer, MBq.
    rule
        The rule applied.
    paediatric
        Whether the paediatric rule was used.
    notes
        Plain-language notes: clamping to a minimum or cap, an assumed reference weight.
    """

    activity_mbq: float
    rule: ActivityRule
    paediatric: bool
    notes: tuple[str, ...] = ()
    derivation: str = ""
    """How the activity was obtained, e.g. ``"2 MBq/kg × 82 kg = 164 MBq"`` (with the cap or
    floor applied, and the label or guideline the rule comes from)."""


def _apply_rule(rule: ActivityRule, weight_kg: float | None) -> tuple[float, list[str], str]:
    notes: list[str] = []
    source = f" ({', '.join(rule.evidence)})" if rule.evidence else ""
    if rule.kind is ActivityRuleKind.FIXED:
        value = float(rule.fixed_mbq or 0.0)
        return value, notes, f"fixed activity {value:g} MBq{source}"
    if weight_kg is None:
        weight_kg = REFERENCE_ADULT_WEIGHT_KG
        notes.append(
            f"weight not given: estimated for the {REFERENCE_ADULT_WEIGHT_KG:g} kg reference adult"
        )
    per_kg = float(rule.per_kg_mbq or 0.0)
    raw = per_kg * weight_kg
    value = raw
    derivation = f"{per_kg:g} MBq/kg × {weight_kg:g} kg = {raw:.4g} MBq"
    if rule.max_mbq is not None and value > rule.max_mbq:
        value = rule.max_mbq
        notes.append(f"capped at {rule.max_mbq:g} MBq (rule gives {raw:.0f} MBq)")
        derivation += f", capped at {rule.max_mbq:g} MBq"
    if rule.min_mbq is not None and value < rule.min_mbq:
        value = rule.min_mbq
        notes.append(f"raised to the minimum {rule.min_mbq:g} MBq (rule gives {raw:.1f} MBq)")
        derivation += f", raised to the minimum {rule.min_mbq:g} MBq"
    return value, notes, derivation + source


def prescribe_activity(
    adult: ActivityRule,
    *,
    paediatric: ActivityRule | None,
    weight_kg: float | None,
    age_years: float | None,
) -> Prescription:
    """Prescribe an administered activity for one patient.

    Parameters
    ----------
    adult
        Rule for patients aged :data:`ADULT_AGE_YEARS` or more (or of unknown age).
    paediatric
        Rule for children, or None where no paediatric rule is established.
    weight_kg
        Body weight in kg; required for children, estimated (and said so) for adults.
    age_years
        Age in years, or None (treated as adult).

    Raises
    ------
    PhysicsInputError
        For a weight outside :data:`BODY_WEIGHT_RANGE_KG` or an age outside
        :data:`AGE_RANGE_YEARS` (refused, never capped).
    NotComputableError
        For a child when the tracer has no established paediatric rule or no weight is given.

    Examples
    --------
    >>> rule = ActivityRule(kind=ActivityRuleKind.PER_KG, per_kg_mbq=2.0, max_mbq=200.0)
    >>> prescribe_activity(rule, paediatric=rule, weight_kg=75.0, age_years=60).activity_mbq
    150.0
    >>> prescribe_activity(rule, paediatric=rule, weight_kg=120.0, age_years=60).activity_mbq
    200.0
    """
    if weight_kg is not None:
        check_body_weight_kg(weight_kg)
    if age_years is not None:
        check_age_years(age_years)
    is_child = age_years is not None and age_years < ADULT_AGE_YEARS
    if not is_child:
        value, notes, how = _apply_rule(adult, weight_kg)
        return Prescription(
            activity_mbq=value, rule=adult, paediatric=False, notes=tuple(notes), derivation=how
        )
    if paediatric is None:
        raise NotComputableError(
            f"no paediatric activity rule for this tracer in the knowledge base (age "
            f"{age_years:g} years; no label or guideline rule for children was found). Consult "
            "the EANM paediatric dosage card or choose a tracer with a paediatric rule."
        )
    if weight_kg is None:
        raise NotComputableError(
            f"A paediatric activity (age {age_years:g} years) needs the body weight; "
            "give weight_kg."
        )
    value, notes, how = _apply_rule(paediatric, weight_kg)
    return Prescription(
        activity_mbq=value,
        rule=paediatric,
        paediatric=True,
        notes=tuple(notes),
        derivation=f"paediatric rule: {how}",
    )


def compute_effective_dose_msv(activity_mbq: float, *, coefficient_msv_per_mbq: float) -> float:
    """Effective dose in mSv of an administered activity.

    Parameters
    ----------
    activity_mbq
        Administered activity, MBq; >= 0.
    coefficient_msv_per_mbq
        Effective-dose coefficient of the radiopharmaceutical for an adult, mSv/MBq.

    Notes
    -----
    E = A · e(adult). Children receive a higher dose per MBq; adult coefficients understate it.

    Examples
    --------
    NETSPOT label: 150 MBq 68Ga-DOTATATE gives 3.15 mSv.

    >>> round(compute_effective_dose_msv(150.0, coefficient_msv_per_mbq=0.021), 10)
    3.15
    """
    _require_positive(activity_mbq, "activity_mbq", allow_zero=True)
    _require_positive(coefficient_msv_per_mbq, "coefficient_msv_per_mbq", allow_zero=True)
    return activity_mbq * coefficient_msv_per_mbq


ICRP_PHANTOM_AGES_YEARS = (1.0, 5.0, 10.0, 15.0)
"""Ages of the ICRP paediatric reference phantoms for which effective-dose coefficients are
published (ICRP 53/80/106/128: 1, 5, 10 and 15 years; the adult above them)."""

_ICRP_ADULT_FROM_YEARS = 17.5
"""Age from which the adult phantom is the nearest ICRP reference (midway between 15 y and
the adult phantom's 20 y)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DoseCoefficient:
    """The effective-dose coefficient used for one patient, and why that one.

    Attributes
    ----------
    msv_per_mbq
        Effective dose per administered activity, mSv/MBq.
    phantom
        The ICRP reference person it belongs to: ``"adult"`` or ``"5-year-old"`` …
    basis
        One sentence for reports: which coefficient and from which source.
    caveat
        For a child without an age-specific coefficient: the adult coefficient was used and
        understates the dose. None otherwise. Every output that shows the dose shows it.
    evidence
        Citation ids of the coefficient.
    """

    msv_per_mbq: float
    phantom: str
    basis: str
    caveat: str | None
    evidence: tuple[str, ...]


def _nearest_phantom_age(age_years: float) -> float:
    return min(ICRP_PHANTOM_AGES_YEARS, key=lambda phantom: (abs(phantom - age_years), phantom))


def select_dose_coefficient(
    *,
    tracer_name: str,
    adult_msv_per_mbq: float,
    adult_evidence: Sequence[str] = (),
    paediatric_msv_per_mbq: dict[float, float] | None = None,
    paediatric_evidence: Sequence[str] = (),
    age_years: float | None = None,
) -> DoseCoefficient:
    """Choose the effective-dose coefficient for a patient's age.

    A child (age below 17.5 years, the midpoint between the ICRP 15-year-old and adult
    phantoms) gets the coefficient of the nearest ICRP paediatric phantom (1, 5, 10 or 15
    years) where the knowledge base has one for the tracer. Where none is published, the
    adult coefficient is used and the result carries a caveat: per MBq a child's effective
    dose is higher (for 18F-FDG, ICRP 106 gives 0.056 mSv/MBq at 5 years against 0.019 for
    an adult), so the number understates it.

    Parameters
    ----------
    tracer_name
        For the basis and caveat sentences.
    adult_msv_per_mbq
        Adult coefficient, mSv/MBq.
    paediatric_msv_per_mbq
        Phantom age in years (1, 5, 10, 15) → coefficient, mSv/MBq; None or empty when no
        age-specific coefficient is published.
    age_years
        The patient's age; None is taken as an adult (and the basis says "adult").

    Examples
    --------
    >>> fdg = {1.0: 0.095, 5.0: 0.056, 10.0: 0.037, 15.0: 0.024}
    >>> c = select_dose_coefficient(tracer_name="18F-FDG", adult_msv_per_mbq=0.019,
    ...     paediatric_msv_per_mbq=fdg, age_years=6)
    >>> c.msv_per_mbq, c.phantom, c.caveat
    (0.056, '5-year-old', None)
    >>> c = select_dose_coefficient(tracer_name="68Ga-DOTATATE", adult_msv_per_mbq=0.021,
    ...     age_years=6)
    >>> c.msv_per_mbq, c.caveat is not None
    (0.021, True)
    """
    _require_positive(adult_msv_per_mbq, "adult_msv_per_mbq", allow_zero=True)
    adult = DoseCoefficient(
        msv_per_mbq=adult_msv_per_mbq,
        phantom="adult",
        basis=f"{tracer_name}: adult coefficient {adult_msv_per_mbq:g} mSv/MBq",
        caveat=None,
        evidence=tuple(adult_evidence),
    )
    if age_years is None or age_years >= _ICRP_ADULT_FROM_YEARS:
        return adult
    table = paediatric_msv_per_mbq or {}
    phantom_age = _nearest_phantom_age(age_years)
    if phantom_age in table:
        value = table[phantom_age]
        phantom = f"{phantom_age:g}-year-old"
        return DoseCoefficient(
            msv_per_mbq=value,
            phantom=phantom,
            basis=(
                f"{tracer_name}: coefficient of the ICRP {phantom} reference phantom "
                f"{value:g} mSv/MBq (nearest to age {age_years:g} years; adult "
                f"{adult_msv_per_mbq:g})"
            ),
            caveat=None,
            evidence=tuple(paediatric_evidence),
        )
    return DoseCoefficient(
        msv_per_mbq=adult_msv_per_mbq,
        phantom="adult",
        basis=adult.basis,
        caveat=(
            f"Child ({age_years:g} years): no age-specific effective-dose coefficient for "
            f"{tracer_name} in the knowledge base; the adult "
            f"coefficient {adult_msv_per_mbq:g} mSv/MBq was used and UNDERSTATES the child's "
            "dose (per MBq, a 5-year-old receives 2.5-3 times the adult effective dose for the "
            "tracers where ICRP gives both)."
        ),
        evidence=tuple(adult_evidence),
    )


def compute_fdg_activity_eanm_mbq(
    weight_kg: float, *, minutes_per_bed: float, overlap_over_30_percent: bool
) -> float:
    """FDG activity by the linear EANM v2.0 rule for whole-body tumour PET.

    Parameters
    ----------
    weight_kg
        Body weight, kg.
    minutes_per_bed
        Emission acquisition time per bed position, min.
    overlap_over_30_percent
        Whether consecutive bed positions overlap by more than 30 %.

    Notes
    -----
    A [MBq] = k · weight [kg] / t_bed [min], with k = 7 MBq·min·kg⁻¹ for bed overlap > 30 % and
    k = 14 for overlap ≤ 30 % (Boellaard et al., EJNMMI 2015;42:328-354; constants marked [R]
    in clinical-facts.md §1.3: recalled, to be checked against the guideline table).

    Examples
    --------
    >>> compute_fdg_activity_eanm_mbq(75.0, minutes_per_bed=3.0, overlap_over_30_percent=True)
    175.0
    """
    check_body_weight_kg(weight_kg)
    _require_positive(minutes_per_bed, "minutes_per_bed", unit="min")
    k = 7.0 if overlap_over_30_percent else 14.0
    return k * weight_kg / minutes_per_bed


@dataclass(frozen=True, slots=True, kw_only=True)
class ScheduledExam:
    """One exam repeated at a fixed interval in a follow-up schedule.

    Attributes
    ----------
    name
        Label shown in the output (an exam id).
    dose_msv
        Effective dose of one exam, mSv.
    interval_months
        Months between two exams; > 0.
    """

    name: str
    dose_msv: float
    interval_months: float

    def __post_init__(self) -> None:
        _require_positive(self.dose_msv, "dose_msv", allow_zero=True)
        _require_positive(self.interval_months, "interval_months")


def compute_schedule_dose_msv(
    schedule: Sequence[ScheduledExam], *, duration_months: float, include_baseline: bool = True
) -> tuple[float, dict[str, int]]:
    """Cumulative effective dose of a follow-up schedule.

    Parameters
    ----------
    schedule
        The repeated exams.
    duration_months
        Length of follow-up, months.
    include_baseline
        Whether each exam is also done at month 0.

    Returns
    -------
    tuple of (float, dict)
        Total effective dose in mSv and the number of times each exam is done.

    Notes
    -----
    An exam with interval Δ is done at Δ, 2Δ, … ≤ duration (plus month 0 with the baseline):
    n = floor(duration / Δ) (+ 1). A tolerance of 1e-9 months absorbs rounding.

    Examples
    --------
    SSTR PET (3.15 mSv) every 12 months and CT (10 mSv) every 6 months for 24 months, baseline
    included: 3 × 3.15 + 5 × 10 = 59.45 mSv.

    >>> total, counts = compute_schedule_dose_msv(
    ...     [ScheduledExam(name="ga68-sstr-pet", dose_msv=3.15, interval_months=12),
    ...      ScheduledExam(name="ct-cap", dose_msv=10.0, interval_months=6)],
    ...     duration_months=24)
    >>> round(total, 10), counts
    (59.45, {'ga68-sstr-pet': 3, 'ct-cap': 5})
    """
    _require_positive(duration_months, "duration_months", allow_zero=True)
    counts: dict[str, int] = {}
    total = 0.0
    for item in schedule:
        n = math.floor(duration_months / item.interval_months + 1e-9) + int(include_baseline)
        counts[item.name] = counts.get(item.name, 0) + n
        total += n * item.dose_msv
    return total, counts
