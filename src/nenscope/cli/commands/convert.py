"""``nenscope convert SERIES_DIR --to suvbw OUT.nii.gz``: write a series as an SUV NIfTI volume."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

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

__all__ = ["ConvertTarget", "convert_command"]


class ConvertTarget(StrEnum):
    """What ``convert`` writes: an SUV normalisation of the series."""

    SUVBW = "suvbw"
    SUVLBM = "suvlbm"
    SUVBSA = "suvbsa"
    SUVIBW = "suvibw"


@app.command("convert")
def convert_command(  # noqa: PLR0913 - one parameter per CLI option (Typer)
    series_dir: Annotated[
        Path, typer.Argument(help="Folder of a PET series, or of a study (DICOM).")
    ],
    out: Annotated[Path, typer.Argument(help="Output NIfTI file (.nii or .nii.gz).")],
    to: Annotated[
        ConvertTarget, typer.Option("--to", help="suvbw, suvlbm, suvbsa (cm²/mL) or suvibw.")
    ] = ConvertTarget.SUVBW,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="text or json (summary of what was written).")
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
    """Convert a PET series to an SUV volume (float32 NIfTI, LPS geometry kept)."""
    from nenscope import api
    from nenscope.core.errors import WorkbenchError

    try:
        overrides = api.SuvOverrides(
            weight_kg=weight_kg,
            height_cm=height_cm,
            injected_mbq=injected_mbq,
            injection_time=parse_injection_time(injection_time),
            sex=sex,
        )
        done = api.convert_to_suv_nifti(
            series_dir,
            out,
            normalisation=to.value.removeprefix("suv"),
            overrides=overrides,
            lbm_formula=lbm_formula,
            pet_series_uid=pet_series,
            patient_id=patient_id,
        )
    except WorkbenchError as err:
        fail(str(err))
    run, volume, maximum = done.run, done.volume, done.maximum
    if output_format is OutputFormat.JSON:
        print_json(
            {
                "output": str(out),
                "to": to.value,
                "unit": volume.unit.value,
                "shape_zyx": list(volume.shape),
                "max": maximum,
                "suv": run.to_contract(),
            }
        )
        return
    console.print(f"wrote {out}: {to.value} ({volume.unit.value}), max {maximum:.4g}")
    for message in run.warnings:
        console.print(f"[yellow]warning:[/yellow] {message}", highlight=False)
