"""``nenscope dose ...``: decay, activity prescription, exam dose, follow-up dose, latest time."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer

from nenscope.cli._common import OutputFormat, console, fail, print_json
from nenscope.cli.app import app

if TYPE_CHECKING:
    from nenscope.knowledge.payloads import Answer

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


def _emit(answer: Answer, output_format: OutputFormat) -> None:
    if output_format is OutputFormat.JSON:
        print_json(answer.payload)
    else:
        console.print(answer.text, highlight=False)


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
    from nenscope.knowledge.kb import load_knowledge_base
    from nenscope.knowledge.payloads import decay_answer

    if elapsed_min is not None:
        elapsed_s = elapsed_min * S_PER_MIN
    elif start is not None and end is not None:
        t0 = parse_datetime(start, option="--start")
        t1 = parse_datetime(end, option="--end")
        elapsed_s = (t1 - t0).total_seconds()
    else:
        fail("Give --elapsed-min, or both --start and --end.")
    # The API refuses an activity that is not > 0 MBq (PhysicsInputError → one line, exit 2).
    _emit(
        decay_answer(load_knowledge_base(), nuclide, activity_mbq, elapsed_s=elapsed_s),
        output_format,
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
    from nenscope.core.errors import OptionError
    from nenscope.knowledge.kb import load_knowledge_base
    from nenscope.knowledge.payloads import activity_answer

    try:
        answer = activity_answer(
            load_knowledge_base(),
            tracer,
            weight_kg=weight_kg,
            age_years=age_years,
            activity_mbq=activity_mbq,
            fdg_minutes_per_bed=fdg_minutes_per_bed,
            fdg_overlap_over_30=fdg_overlap_over_30,
        )
    except OptionError as err:
        fail(str(err))
    _emit(answer, output_format)


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
    from nenscope.knowledge.kb import load_knowledge_base
    from nenscope.knowledge.payloads import exam_dose_answer

    answer = exam_dose_answer(
        load_knowledge_base(),
        exam_id,
        weight_kg=weight_kg,
        age_years=age_years,
        activity_mbq=activity_mbq,
    )
    _emit(answer, output_format)


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
    from nenscope.knowledge.kb import load_knowledge_base
    from nenscope.knowledge.payloads import schedule_answer

    answer = schedule_answer(
        load_knowledge_base(),
        [parse_schedule_item(i) for i in items],
        years=years,
        weight_kg=weight_kg,
        include_baseline=not no_baseline,
    )
    _emit(answer, output_format)


@dose_app.command("latest")
def latest_command(
    nuclide: Annotated[str, typer.Option(help="Radionuclide, e.g. Ga-68.")],
    activity_mbq: Annotated[float, typer.Option(help="Activity available at --at, MBq.")],
    at: Annotated[str, typer.Option(help="Calibration time (ISO 8601 with offset).")],
    required_mbq: Annotated[float, typer.Option(help="Activity needed, MBq.")],
    output_format: FormatOpt = OutputFormat.TEXT,
) -> None:
    """Latest time at which enough activity remains for the prescription."""
    from nenscope.knowledge.kb import load_knowledge_base
    from nenscope.knowledge.payloads import latest_time_answer

    answer = latest_time_answer(
        load_knowledge_base(),
        nuclide,
        activity_mbq=activity_mbq,
        measured_at=parse_datetime(at, option="--at"),
        required_mbq=required_mbq,
    )
    _emit(answer, output_format)
