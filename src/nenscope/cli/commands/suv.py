"""``nenscope suv SERIES_DIR``: SUV factors of a PET series, with provenance and warnings."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from nenscope.cli._common import OutputFormat, console, fail, print_json
from nenscope.cli._options import (
    DoseOpt,
    HeightOpt,
    InjectionOpt,
    LbmOpt,
    PatientIdOpt,
    PetSeriesOpt,
    SexOpt,
    WeightOpt,
    parse_injection_time,
)
from nenscope.cli.app import app

if TYPE_CHECKING:
    from nenscope.api import SuvRun

__all__ = ["parse_injection_time", "suv_command"]


def _print_table(run: SuvRun) -> None:
    from rich.markup import escape  # Rich loads only when a table is printed
    from rich.table import Table

    r = run.result
    table = Table(title=f"SUV of series {r.series_instance_uid}", show_header=False)
    table.add_column("quantity")
    table.add_column("value", overflow="fold")
    rows = [
        ("Units / DecayCorrection", f"{r.units} / {r.decay_correction}"),
        ("Radionuclide, half-life", f"{r.radionuclide or '?'}, {r.half_life_s} s"),
        ("Injected activity", f"{r.injected_activity_bq} Bq"),
        ("Injection time", str(r.injection_datetime)),
        ("Decay reference time", f"{r.reference_datetime} ({r.reference_method})"),
        ("Weight / height / sex", f"{_num(r.weight_kg)} kg / {_num(r.height_cm)} cm / {r.sex}"),
        ("SUVbw factor, g/Bq", _num(r.suv_bw_factor)),
        (f"SUVlbm factor, g/Bq ({r.lbm_formula})", _num(r.suv_lbm_factor)),
        ("SUVbsa factor, cm²/Bq", _num(r.suv_bsa_factor)),
        ("SUVibw factor, g/Bq", _num(r.suv_ibw_factor)),
        ("SUVmax (bw)", _num(r.suvmax_bw)),
    ]
    rows += [(f"why: {k}", v) for k, v in r.provenance.items()]
    for label, value in rows:
        table.add_row(escape(label), escape(value))
    console.print(table)
    for message in run.warnings:
        console.print(f"[yellow]warning:[/yellow] {message}", highlight=False)


def _num(value: float | None) -> str:
    return "not given" if value is None else f"{value:.6g}"


@app.command("suv")
def suv_command(  # noqa: PLR0913 - one parameter per CLI option (Typer)
    series_dir: Annotated[
        Path, typer.Argument(help="Folder of a PET series, or of a study (DICOM).")
    ],
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="text (table) or json.")
    ] = OutputFormat.TEXT,
    weight_kg: WeightOpt = None,
    height_cm: HeightOpt = None,
    injected_mbq: DoseOpt = None,
    injection_time: InjectionOpt = None,
    sex: SexOpt = None,
    lbm_formula: LbmOpt = "janmahasatian",
    pet_series: PetSeriesOpt = None,
    patient_id: PatientIdOpt = None,
) -> None:
    """SUV factors of a PET series: bw, lbm, bsa, with the reasons for every choice."""
    from nenscope.api import SuvOverrides, run_suv
    from nenscope.core.errors import WorkbenchError

    try:
        overrides = SuvOverrides(
            weight_kg=weight_kg,
            height_cm=height_cm,
            injected_mbq=injected_mbq,
            injection_time=parse_injection_time(injection_time),
            sex=sex,
        )
        run = run_suv(
            series_dir,
            overrides=overrides,
            lbm_formula=lbm_formula,
            pet_series_uid=pet_series,
            patient_id=patient_id,
        )
    except WorkbenchError as err:
        fail(str(err))
    if output_format is OutputFormat.JSON:
        print_json(run.to_contract())
    else:
        _print_table(run)
