"""``nenscope phantom OUT_DIR``: write the synthetic PET/CT study with its ground truth."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from nenscope.cli._common import OutputFormat, console, fail, print_json
from nenscope.cli.app import app
from nenscope.core.errors import WorkbenchError

if TYPE_CHECKING:
    from nenscope.dicom.synthetic import (
        PhantomTruth,
    )

__all__ = ["phantom_command", "summary_payload"]


def summary_payload(out_dir: Path, truth: PhantomTruth) -> dict[str, Any]:
    """Short JSON summary of a written phantom (the full truth is in ``truth.json``)."""
    data = truth.to_json_dict()
    return {
        "out_dir": str(out_dir),
        "ct_dir": str(out_dir / "CT"),
        "pet_dir": str(out_dir / "PET"),
        "truth": str(out_dir / "truth.json"),
        "labels_pet": str(out_dir / "labels_pet.nii.gz"),
        "acquisition": data["acquisition"],
        "lesions": data["lesions"],
        "organs": [
            {"name": o["name"], "suv_mean": o["suv_mean"], "point_mm": o["point_mm"]}
            for o in data["organs"]
        ],
    }


@app.command("phantom")
def phantom_command(  # noqa: PLR0913 - one parameter per CLI option (Typer)
    out_dir: Annotated[Path, typer.Argument(help="Folder to write CT/, PET/ and truth.json.")],
    tracer: Annotated[
        str, typer.Option(help="ga68-dotatate, fdg or cu64-dotatate.")
    ] = "ga68-dotatate",
    vendor: Annotated[str, typer.Option(help="Header style: siemens, ge or philips.")] = "siemens",
    seed: Annotated[int, typer.Option(help="Seed of the noise and of the UIDs.")] = 0,
    fwhm_mm: Annotated[float, typer.Option(help="PET resolution (Gaussian FWHM, mm).")] = 0.0,
    noise: Annotated[
        float, typer.Option(help="PET noise: coefficient of variation at SUV 1.")
    ] = 0.0,
    size: Annotated[str, typer.Option(help="small, default or clinical.")] = "default",
    anatomy: Annotated[
        str,
        typer.Option(
            help="basic (ellipsoid organs) or detailed (adds myocardial ring, brain cortex, "
            "renal pelves and ureters, bowel loops, muscles, uncinate focus). A unit-test tool."
        ),
    ] = "basic",
    units: Annotated[str, typer.Option(help="PET units: BQML, or CNTS (Philips).")] = "BQML",
    lesions: Annotated[
        Path | None,
        typer.Option(
            help="JSON/YAML list of lesions (id, centre_mm, diameter_mm|volume_ml, "
            "suv, organ[, hu]) instead of the built-in ones."
        ),
    ] = None,
    weight_kg: Annotated[float, typer.Option(help="Patient weight, kg.")] = 75.0,
    height_cm: Annotated[float, typer.Option(help="Patient height, cm.")] = 175.0,
    sex: Annotated[str, typer.Option(help="Patient sex: M, F or O.")] = "M",
    injected_mbq: Annotated[
        float | None, typer.Option(help="Injected activity, MBq (default: per tracer).")
    ] = None,
    uptake_min: Annotated[float, typer.Option(help="Injection to scan start, min.")] = 60.0,
    ct_noise_hu: Annotated[float, typer.Option(help="CT noise SD, HU.")] = 0.0,
    overwrite: Annotated[bool, typer.Option(help="Replace a phantom already there.")] = False,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="text or json.")
    ] = OutputFormat.TEXT,
) -> None:
    """Write a synthetic PET/CT study (real DICOM) with known organs and lesions to OUT_DIR."""
    from nenscope.dicom.synthetic import PhantomSettings, read_lesion_file, write_phantom_study

    try:
        settings = PhantomSettings(
            tracer=tracer,
            vendor=vendor,
            seed=seed,
            fwhm_mm=fwhm_mm,
            noise=noise,
            size=size,
            anatomy=anatomy,
            pet_units=units,
            lesions=None if lesions is None else read_lesion_file(lesions),
            weight_kg=weight_kg,
            height_cm=height_cm,
            sex=sex,
            injected_mbq=injected_mbq,
            uptake_min=uptake_min,
            ct_noise_hu=ct_noise_hu,
        )
        truth = write_phantom_study(out_dir, settings, overwrite=overwrite)
    except WorkbenchError as err:
        hint = " (--overwrite)" if "allow replacing the phantom" in str(err) else ""
        fail(f"{err}{hint}")
    if output_format is OutputFormat.JSON:
        print_json(summary_payload(out_dir, truth))
        return
    acq = truth.to_json_dict()["acquisition"]
    console.print(
        f"Wrote {truth.grid.n_slices} CT and {truth.grid.n_slices} PET slices "
        f"({acq['tracer']}, {acq['vendor']}, {acq['n_beds']} beds) to {out_dir}",
        soft_wrap=True,
    )
    for les in truth.lesions:
        console.print(
            f"  {les.lesion_id:<16} {les.site:<11} SUVmax {les.suvmax:6.2f}  "
            f"{les.volume_ml:6.2f} mL  at {tuple(round(c, 1) for c in les.centre_mm)} mm",
            soft_wrap=True,
        )
    console.print(f"Ground truth: {out_dir / 'truth.json'}")
