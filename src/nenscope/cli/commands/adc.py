"""``nenscope adc DWI_SERIES_DIR OUT.nii.gz``: apparent diffusion coefficient map (mm²/s)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from nenscope.cli._common import OutputFormat, console, fail, print_json
from nenscope.cli.app import app

__all__ = ["adc_command"]


@app.command("adc")
def adc_command(
    dwi_dir: Annotated[Path, typer.Argument(help="Folder (or file) of one DWI series.")],
    out: Annotated[Path, typer.Argument(help="ADC map to write (.nii or .nii.gz), mm²/s.")],
    min_b: Annotated[
        float,
        typer.Option(help="Leave out images with a smaller b-value (s/mm²); 0 uses all."),
    ] = 0.0,
    series_uid: Annotated[
        str | None,
        typer.Option(help="SeriesInstanceUID to read when the folder holds several series."),
    ] = None,
    mask_out: Annotated[
        Path | None,
        typer.Option(help="Mask of voxels where the fit is defined (default OUT_mask.nii.gz)."),
    ] = None,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="text or json.")
    ] = OutputFormat.TEXT,
) -> None:
    """Compute the ADC map of a diffusion-weighted series and write it as NIfTI."""
    from nenscope import api
    from nenscope.core.errors import WorkbenchError

    try:
        run = api.run_adc(
            dwi_dir, out, mask_out=mask_out, min_b_s_per_mm2=min_b, series_instance_uid=series_uid
        )
    except WorkbenchError as err:
        fail(str(err))
    payload = run.to_payload()
    if output_format is OutputFormat.JSON:
        print_json(payload)
        return
    b_text = ", ".join(f"{b:g}" for b in sorted(set(payload["b_values_used_s_per_mm2"])))
    console.print(
        f"ADC from {len(run.series.images)} images (b = {b_text} s/mm²): {out}; "
        f"defined in {payload['voxels_defined']} voxels, mask {run.mask_out}"
    )
