"""ADC map of a diffusion-weighted series (``nenscope adc``): read, fit, write, summarise."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nenscope.core.errors import NotComputableError, WorkbenchError
from nenscope.dicom.mr import AdcMaps, DiffusionSeries, compute_adc_maps, read_dwi_series
from nenscope.dicom.nifti import write_nifti

__all__ = ["AdcRun", "default_mask_path", "run_adc"]


def default_mask_path(out: Path) -> Path:
    """``adc.nii.gz`` → ``adc_mask.nii.gz`` (same folder, same extension)."""
    name = out.name
    for ext in (".nii.gz", ".nii"):
        if name.endswith(ext):
            return out.with_name(name[: -len(ext)] + "_mask" + ext)
    return out.with_name(name + "_mask.nii.gz")


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class AdcRun:
    """An ADC computation: the series, the maps and where they were written."""

    series: DiffusionSeries
    maps: AdcMaps
    out: Path
    mask_out: Path

    def to_payload(self) -> dict[str, Any]:
        """JSON summary of the ADC computation (the ``adc --format json`` output)."""
        series, maps = self.series, self.maps
        valid = maps.mask.array.astype(bool)
        values = np.asarray(maps.adc.array)[valid]
        return {
            "adc": str(self.out),
            "mask": str(self.mask_out),
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


def run_adc(
    dwi_dir: Path,
    out: Path,
    *,
    mask_out: Path | None = None,
    min_b_s_per_mm2: float = 0.0,
    series_instance_uid: str | None = None,
) -> AdcRun:
    """Read a DWI series, fit the ADC map and write it and its mask as NIfTI.

    Raises
    ------
    WorkbenchError
        Unreadable series; :class:`NotComputableError` when the fit is undefined in every
        voxel (nothing is written then); a map that cannot be written (the message names it).
    """
    mask_path = mask_out if mask_out is not None else default_mask_path(out)
    series = read_dwi_series(dwi_dir, series_instance_uid=series_instance_uid)
    maps = compute_adc_maps(series, min_b_s_per_mm2=min_b_s_per_mm2)
    if not np.asarray(maps.mask.array).any():
        raise NotComputableError(_no_voxel_message(dwi_dir, series, maps))
    try:
        write_nifti(maps.adc, out)
        write_nifti(maps.mask, mask_path)
    except OSError as err:
        raise WorkbenchError(
            f"Cannot write the ADC map {out} or its mask {mask_path}: {err}."
        ) from err
    return AdcRun(series=series, maps=maps, out=out, mask_out=mask_path)
