"""``nenscope phantom OUT_DIR``: write the synthetic PET/CT study with its ground truth."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from nenscope.cli._common import OutputFormat, console, fail, print_json
from nenscope.cli.app import app
from nenscope.core.errors import WorkbenchError
from nenscope.dicom.synthetic import PhantomSettings, PhantomTruth, write_phantom_study

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
    units: Annotated[str, typer.Option(help="PET units: BQML, or CNTS (Philips).")] = "BQML",
    overwrite: Annotated[bool, typer.Option(help="Replace a phantom already there.")] = False,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="text or json.")
    ] = OutputFormat.TEXT,
) -> None:
    """Write a synthetic PET/CT study (real DICOM) with known organs and lesions to OUT_DIR."""
    try:
        settings = PhantomSettings(
            tracer=tracer,
            vendor=vendor,
            seed=seed,
            fwhm_mm=fwhm_mm,
            noise=noise,
            size=size,
            pet_units=units,
        )
        truth = write_phantom_study(out_dir, settings, overwrite=overwrite)
    except WorkbenchError as err:
        fail(str(err))
    if output_format is OutputFormat.JSON:
        print_json(summary_payload(out_dir, truth))
        return
    acq = truth.to_json_dict()["acquisition"]
    console.print(
        f"Wrote {truth.grid.n_slices} CT and {truth.grid.n_slices} PET slices "
        f"({acq['tracer']}, {acq['vendor']}, {acq['n_beds']} beds) to {out_dir}"
    )
    for les in truth.lesions:
        console.print(
            f"  {les.lesion_id:<16} {les.site:<11} SUVmax {les.suvmax:6.2f}  "
            f"{les.volume_ml:6.2f} mL  at {tuple(round(c, 1) for c in les.centre_mm)} mm"
        )
    console.print(f"Ground truth: {out_dir / 'truth.json'}")
