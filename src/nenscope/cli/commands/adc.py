"""``nenscope adc DWI_SERIES_DIR OUT.nii.gz``: apparent diffusion coefficient map (mm²/s)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer

from nenscope.cli._common import OutputFormat, console, fail, print_json
from nenscope.cli.app import app
from nenscope.core.errors import WorkbenchError
from nenscope.dicom.mr import AdcMaps, DiffusionSeries, compute_adc_maps, read_dwi_series
from nenscope.dicom.nifti import write_nifti

__all__ = ["adc_command", "default_mask_path", "to_payload"]


def default_mask_path(out: Path) -> Path:
    """``adc.nii.gz`` → ``adc_mask.nii.gz`` (same folder, same extension)."""
    name = out.name
    for ext in (".nii.gz", ".nii"):
        if name.endswith(ext):
            return out.with_name(name[: -len(ext)] + "_mask" + ext)
    return out.with_name(name + "_mask.nii.gz")


def to_payload(
    series: DiffusionSeries, maps: AdcMaps, out: Path, mask_out: Path
) -> dict[str, Any]:
    """JSON summary of an ADC computation."""
    valid = maps.mask.array.astype(bool)
    values = np.asarray(maps.adc.array)[valid]
    return {
        "adc": str(out),
        "mask": str(mask_out),
        "unit": maps.adc.unit.value,
        "method": "mono-exponential, log-linear least squares over every image",
        "series_instance_uid": series.series_instance_uid,
        "manufacturer": series.manufacturer,
        "images": [
            {
                "b_value_s_per_mm2": im.b_value_s_per_mm2,
                "direction": None if im.direction is None else list(im.direction),
                "b_value_source": im.b_value_source,
            }
            for im in series.images
        ],
        "b_values_used_s_per_mm2": list(maps.b_values_s_per_mm2),
        "shape_zyx": list(maps.adc.shape),
        "spacing_mm_zyx": list(maps.adc.spacing_mm),
        "voxels_defined": int(valid.sum()),
        "voxels_undefined": int(valid.size - valid.sum()),
        "adc_median_mm2_per_s": float(np.median(values)) if values.size else None,
        "provenance": list(series.provenance),
    }


def _no_voxel_message(dwi_dir: Path, series: DiffusionSeries, maps: AdcMaps) -> str:
    """Why the fit is undefined everywhere (an empty map is refused, not written)."""
    used = set(maps.b_values_s_per_mm2)
    images = [im for im in series.images if im.b_value_s_per_mm2 in used]
    blank = [im for im in images if not (np.asarray(im.volume.array) > 0).any()]
    b_text = ", ".join(f"{b:g}" for b in sorted(used))
    found = (
        f"{len(blank)} of {len(images)} images hold no positive signal (every pixel <= 0)"
        if blank
        else "no voxel has a positive signal at two different b-values"
    )
    return (
        f"Cannot compute an ADC map from {dwi_dir}: the fit is undefined in every voxel; "
        f"it needs a positive signal at two or more different b-values (b = {b_text} s/mm²), "
        f"and {found}. Check that the series holds image data (an export or anonymisation may "
        "have blanked the pixels) and that --min-b leaves two b-values."
    )


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
    mask_path = mask_out if mask_out is not None else default_mask_path(out)
    try:
        series = read_dwi_series(dwi_dir, series_instance_uid=series_uid)
        maps = compute_adc_maps(series, min_b_s_per_mm2=min_b)
        if not np.asarray(maps.mask.array).any():
            fail(_no_voxel_message(dwi_dir, series, maps))
        write_nifti(maps.adc, out)
        write_nifti(maps.mask, mask_path)
    except WorkbenchError as err:
        fail(str(err))
    except OSError as err:
        fail(f"Cannot write the ADC map {out} or its mask {mask_path}: {err}.")
    payload = to_payload(series, maps, out, mask_path)
    if output_format is OutputFormat.JSON:
        print_json(payload)
        return
    b_text = ", ".join(f"{b:g}" for b in sorted(set(payload["b_values_used_s_per_mm2"])))
    console.print(
        f"ADC from {len(series.images)} images (b = {b_text} s/mm²): {out}; "
        f"defined in {payload['voxels_defined']} voxels, mask {mask_path}"
    )
