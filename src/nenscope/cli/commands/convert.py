"""``nenscope convert SERIES_DIR --to suvbw OUT.nii.gz``: write a series as an SUV NIfTI volume."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from nenscope.cli._common import OutputFormat, console, fail, print_json
from nenscope.cli.app import app
from nenscope.cli.commands.suv import (
    DoseOpt,
    HeightOpt,
    InjectionOpt,
    LbmOpt,
    SexOpt,
    WeightOpt,
    contract_payload,
    parse_injection_time,
    run_suv,
)
from nenscope.core.errors import WorkbenchError
from nenscope.dicom.nifti import write_nifti
from nenscope.dicom.pet import SuvOverrides, suv_volume

__all__ = ["ConvertTarget", "convert_command"]


class ConvertTarget(StrEnum):
    """What ``convert`` writes: an SUV normalisation of the series."""

    SUVBW = "suvbw"
    SUVLBM = "suvlbm"
    SUVBSA = "suvbsa"
    SUVIBW = "suvibw"


@app.command("convert")
def convert_command(  # noqa: PLR0913 - one parameter per CLI option (Typer)
    series_dir: Annotated[Path, typer.Argument(help="Folder of one PET series (DICOM).")],
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
) -> None:
    """Convert a PET series to an SUV volume (float32 NIfTI, LPS geometry kept)."""
    if not (out.name.endswith(".nii") or out.name.endswith(".nii.gz")):
        fail(f"Output {out} must end in .nii or .nii.gz.")
    try:
        overrides = SuvOverrides(
            weight_kg=weight_kg,
            height_cm=height_cm,
            injected_mbq=injected_mbq,
            injection_time=parse_injection_time(injection_time),
            sex=sex,
        )
        run = run_suv(series_dir, overrides=overrides, lbm_formula=lbm_formula)
        volume = suv_volume(run.series, run.result, normalisation=to.value.removeprefix("suv"))
        out.parent.mkdir(parents=True, exist_ok=True)
        write_nifti(volume.with_array(volume.array.astype(np.float32)), out)
    except (WorkbenchError, OSError) as err:
        fail(str(err))
    maximum = float(np.nanmax(volume.array))
    if output_format is OutputFormat.JSON:
        print_json(
            {
                "output": str(out),
                "to": to.value,
                "unit": volume.unit.value,
                "shape_zyx": list(volume.shape),
                "max": maximum,
                "suv": contract_payload(run),
            }
        )
        return
    console.print(f"wrote {out}: {to.value} ({volume.unit.value}), max {maximum:.4g}")
    for message in run.warnings:
        console.print(f"[yellow]warning:[/yellow] {message}", highlight=False)
