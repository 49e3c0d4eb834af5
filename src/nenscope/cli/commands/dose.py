"""``nenscope dose ...``: decay, activity prescription, exam dose, follow-up dose, latest time."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any

import typer

from nenscope.cli._common import OutputFormat, console, fail, print_json
from nenscope.cli.app import app

if TYPE_CHECKING:
    from nenscope.knowledge.physics import DoseCoefficient

__all__ = ["dose_app", "parse_datetime", "parse_schedule_item"]

dose_app = typer.Typer(
    help="Radiation physics: decay, activity prescription, effective and cumulative dose.",
    no_args_is_help=True,
)
app.add_typer(dose_app, name="dose")

FormatOpt = Annotated[OutputFormat, typer.Option("--format", help="text or json.")]


def parse_datetime(text: str, *, option: str) -> datetime:
    """Parse an ISO 8601 date-time with a UTC offset.

    Examples
    --------
    >>> parse_datetime("2024-05-01T08:30+02:00", option="--at").isoformat()
    '2024-05-01T08:30:00+02:00'
    """
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        fail(f"{option}: '{text}' is not an ISO 8601 date-time (e.g. 2024-05-01T08:30+02:00).")
    if moment.tzinfo is None:
        fail(f"{option}: '{text}' has no UTC offset; add one, e.g. {text}+00:00.")
    return moment


def parse_schedule_item(text: str) -> tuple[str, float]:
    """Parse ``EXAM:MONTHS`` (e.g. ``ga68-sstr-pet:12``).

    Examples
    --------
    >>> parse_schedule_item("ct-cap:6")
    ('ct-cap', 6.0)
    """
    exam, _, months = text.partition(":")
    try:
        return exam.strip(), float(months)
    except ValueError:
        fail(f"Schedule item '{text}' must be EXAM:MONTHS, e.g. ga68-sstr-pet:12.")


def _emit(payload: dict[str, Any], output_format: OutputFormat, text: str) -> None:
    if output_format is OutputFormat.JSON:
        print_json(payload)
    else:
        console.print(text, highlight=False)


@dose_app.command("decay")
def decay_command(
    nuclide: Annotated[str, typer.Option(help="Radionuclide, e.g. Ga-68, F-18, Cu-64.")],
    activity_mbq: Annotated[float, typer.Option(help="Activity at --start, MBq.")],
    start: Annotated[str | None, typer.Option(help="Measurement time (ISO 8601).")] = None,
    end: Annotated[str | None, typer.Option(help="Time of interest (ISO 8601).")] = None,
    elapsed_min: Annotated[
        float | None, typer.Option(help="Minutes elapsed (instead of --start/--end).")
    ] = None,
    output_format: FormatOpt = OutputFormat.TEXT,
) -> None:
    """Activity remaining after physical decay between two times."""
    from nenscope.core.units import S_PER_MIN
    from nenscope.knowledge.calculators import find_nuclide
    from nenscope.knowledge.kb import load_knowledge_base
    from nenscope.knowledge.physics import compute_activity_after_mbq, compute_decay_factor

    nuc = find_nuclide(load_knowledge_base(), nuclide)
    if elapsed_min is not None:
        elapsed_s = elapsed_min * S_PER_MIN
    elif start is not None and end is not None:
        t0 = parse_datetime(start, option="--start")
        t1 = parse_datetime(end, option="--end")
        elapsed_s = (t1 - t0).total_seconds()
    else:
        fail("Give --elapsed-min, or both --start and --end.")
    # The API refuses an activity that is not > 0 MBq (PhysicsInputError → one line, exit 2).
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
    _emit(
        payload,
        output_format,
        f"{activity_mbq:g} MBq {nuc.id} after {elapsed_s / S_PER_MIN:.1f} min: "
        f"{remaining:.1f} MBq (factor {factor:.4f})",
    )


@dose_app.command("activity")
def activity_command(
    tracer: Annotated[str, typer.Argument(help="Exam id (e.g. ga68-sstr-pet) or tracer id.")],
    weight_kg: Annotated[float | None, typer.Option(help="Body weight, kg.")] = None,
    age_years: Annotated[float | None, typer.Option(help="Age, years (paediatric < 18).")] = None,
    activity_mbq: Annotated[
        float | None, typer.Option(help="Use this activity instead of the rule, MBq.")
    ] = None,
    fdg_minutes_per_bed: Annotated[
        float | None,
        typer.Option(help="FDG only: use the EANM 2015 rule for this time per bed (min)."),
    ] = None,
    fdg_overlap_over_30: Annotated[
        bool, typer.Option(help="FDG EANM rule: bed positions overlap by more than 30 %.")
    ] = True,
    output_format: FormatOpt = OutputFormat.TEXT,
) -> None:
    """Prescribed activity and effective dose of a nuclear-medicine exam for a patient."""
    from nenscope.knowledge.calculators import compute_exam_dose
    from nenscope.knowledge.kb import load_knowledge_base
    from nenscope.knowledge.physics import compute_fdg_activity_eanm_mbq

    if fdg_minutes_per_bed is not None:
        if tracer not in ("fdg", "fdg-pet"):
            fail("--fdg-minutes-per-bed applies to fdg-pet only.")
        if weight_kg is None:
            fail("The EANM FDG rule needs --weight-kg.")
        activity_mbq = compute_fdg_activity_eanm_mbq(
            weight_kg,
            minutes_per_bed=fdg_minutes_per_bed,
            overlap_over_30_percent=fdg_overlap_over_30,
        )
    result = compute_exam_dose(
        load_knowledge_base(),
        tracer,
        weight_kg=weight_kg,
        age_years=age_years,
        activity_mbq=activity_mbq,
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
    _emit(
        payload,
        output_format,
        f"{t.name}: {result.prescription.activity_mbq:.0f} MBq{notes}, scan "
        f"{t.uptake_min[0]:g}-{t.uptake_min[1]:g} min after injection, {dose}"
        + (f"\nCAVEAT: {caveat}" if caveat else ""),
    )


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


@dose_app.command("exam")
def exam_command(
    exam_id: Annotated[str, typer.Argument(help="Exam id, e.g. ct-cap or fdg-pet.")],
    weight_kg: Annotated[float | None, typer.Option(help="Body weight, kg.")] = None,
    age_years: Annotated[float | None, typer.Option(help="Age, years.")] = None,
    activity_mbq: Annotated[
        float | None, typer.Option(help="Administered activity, MBq (nuclear medicine).")
    ] = None,
    output_format: FormatOpt = OutputFormat.TEXT,
) -> None:
    """Effective dose of one exam (computed for a tracer, typical for CT)."""
    from nenscope.knowledge.calculators import compute_exam_effective_dose
    from nenscope.knowledge.kb import load_knowledge_base

    result = compute_exam_effective_dose(
        load_knowledge_base(),
        exam_id,
        weight_kg=weight_kg,
        age_years=age_years,
        activity_mbq=activity_mbq,
    )
    payload = {
        "exam": result.exam.id.value,
        "effective_dose_msv": result.effective_dose_msv,
        "activity_mbq": result.activity_mbq,
        "basis": result.basis,
        "dose_caveat": result.caveat,
    }
    _emit(
        payload,
        output_format,
        f"{result.exam.id}: {result.effective_dose_msv:.2f} mSv ({result.basis})"
        + (f"\nCAVEAT: {result.caveat}" if result.caveat else ""),
    )


@dose_app.command("schedule")
def schedule_command(
    items: Annotated[list[str], typer.Argument(help="EXAM:MONTHS items, e.g. ga68-sstr-pet:12.")],
    years: Annotated[float, typer.Option(help="Length of follow-up, years.")] = 5.0,
    weight_kg: Annotated[float | None, typer.Option(help="Body weight, kg.")] = None,
    no_baseline: Annotated[
        bool, typer.Option("--no-baseline", help="Do not count a baseline exam at month 0.")
    ] = False,
    output_format: FormatOpt = OutputFormat.TEXT,
) -> None:
    """Cumulative effective dose of a follow-up schedule."""
    from nenscope.knowledge.calculators import compute_follow_up_dose
    from nenscope.knowledge.kb import load_knowledge_base

    schedule = [parse_schedule_item(i) for i in items]
    result = compute_follow_up_dose(
        load_knowledge_base(),
        schedule,
        duration_months=years * 12.0,
        weight_kg=weight_kg,
        include_baseline=not no_baseline,
    )
    payload = {
        "duration_months": years * 12.0,
        "include_baseline": not no_baseline,
        "counts": result.counts,
        "per_exam_msv": result.per_exam_msv,
        "total_msv": result.total_msv,
    }
    parts = ", ".join(
        f"{k} ×{result.counts[k]} = {v:.1f} mSv" for k, v in result.per_exam_msv.items()
    )
    _emit(payload, output_format, f"{years:g} years: {parts}; total {result.total_msv:.1f} mSv")


@dose_app.command("latest")
def latest_command(
    nuclide: Annotated[str, typer.Option(help="Radionuclide, e.g. Ga-68.")],
    activity_mbq: Annotated[float, typer.Option(help="Activity available at --at, MBq.")],
    at: Annotated[str, typer.Option(help="Calibration time (ISO 8601 with offset).")],
    required_mbq: Annotated[float, typer.Option(help="Activity needed, MBq.")],
    output_format: FormatOpt = OutputFormat.TEXT,
) -> None:
    """Latest time at which enough activity remains for the prescription."""
    from nenscope.core.units import S_PER_MIN
    from nenscope.knowledge.calculators import find_nuclide
    from nenscope.knowledge.kb import load_knowledge_base
    from nenscope.knowledge.physics import compute_latest_time_with_activity

    nuc = find_nuclide(load_knowledge_base(), nuclide)
    t0 = parse_datetime(at, option="--at")
    latest = compute_latest_time_with_activity(
        activity_mbq=activity_mbq,
        measured_at=t0,
        required_mbq=required_mbq,
        half_life_s=nuc.half_life_s,
    )
    payload = {
        "nuclide": nuc.id,
        "half_life_s": nuc.half_life_s,
        "latest_time": latest.isoformat(),
        "minutes_after_calibration": (latest - t0).total_seconds() / S_PER_MIN,
    }
    # The text rounds down to the whole minute: a later printed time would already hold less
    # than the required activity (JSON keeps the exact time).
    minutes = math.floor((latest - t0).total_seconds() / S_PER_MIN)
    until = (t0 + timedelta(minutes=minutes)).isoformat(timespec="minutes")
    _emit(
        payload,
        output_format,
        f"{activity_mbq:g} MBq {nuc.id} at {t0.isoformat(timespec='minutes')} still holds "
        f"{required_mbq:g} MBq until {until} ({minutes} min after calibration)",
    )
