"""``nenscope deidentify IN OUT``: a de-identified copy of a study for research export.

Parsing and printing only; the work is :func:`nenscope.dicom.deidentify.deidentify_folder`.
Nothing identifying is printed: not the source paths (folder names often hold patient names),
not the seed, not the date shift.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from nenscope.cli._common import OutputFormat, console, fail, print_json
from nenscope.cli.app import app
from nenscope.core.errors import WorkbenchError

if TYPE_CHECKING:
    from nenscope.dicom.deidentify import (
        DeidentifiedStudy,
    )

__all__ = ["deidentify_command", "summary_payload"]


def summary_payload(out_dir: Path, study: DeidentifiedStudy) -> dict[str, Any]:
    """JSON summary of a de-identified copy (output paths only; they hold new UIDs only)."""
    return {
        "out_dir": str(out_dir),
        "n_files": len(study.files),
        "n_skipped_not_dicom": study.skipped,
        "n_nonconforming_values": study.nonconforming_values,
        "flagged_burned_in": [str(p) for p in study.flagged_burned_in],
        "deidentification_method": list(study.method),
    }


@app.command("deidentify")
def deidentify_command(
    source: Annotated[Path, typer.Argument(help="Folder with the DICOM study to copy.")],
    out_dir: Annotated[Path, typer.Argument(help="New (or empty) folder for the copy.")],
    seed: Annotated[
        str | None,
        typer.Option(
            "--seed",
            envvar="NENSCOPE_DEID_SEED",
            help="Secret key: the same key gives the same pseudonyms, UIDs and date shift in "
            "every run (needed to add objects later). Keep it secret. Default: a new key.",
        ),
    ] = None,
    burned_in: Annotated[
        str,
        typer.Option(
            "--burned-in",
            help="Images that may carry burned-in annotation: refuse (default) or flag "
            "(copy them and list them for review).",
        ),
    ] = "refuse",
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="text or json.")
    ] = OutputFormat.TEXT,
) -> None:
    """Copy a study de-identified (DICOM PS3.15 Annex E Basic Profile + research options)."""
    from nenscope.api import BurnedInPolicy, DeidentifySettings, deidentify_folder
    from nenscope.core.enums import parse_option

    try:
        settings = DeidentifySettings(
            seed=seed, burned_in=parse_option(burned_in, BurnedInPolicy, what="--burned-in")
        )
        study = deidentify_folder(source, out_dir, settings)
    except WorkbenchError as err:
        fail(str(err))
    if output_format is OutputFormat.JSON:
        print_json(summary_payload(out_dir, study))
        return
    console.print(f"De-identified {len(study.files)} file(s) into {out_dir}.", highlight=False)
    if study.skipped:
        console.print(f"{study.skipped} non-DICOM file(s) not copied.", highlight=False)
    if study.nonconforming_values:
        console.print(
            f"{study.nonconforming_values} source value(s) did not conform to their VR "
            "(de-identified like the others; values not shown).",
            highlight=False,
        )
    if study.flagged_burned_in:
        console.print(
            f"[bold]Review by eye[/bold]: {len(study.flagged_burned_in)} image(s) may carry "
            "burned-in annotation:",
        )
        for path in study.flagged_burned_in:
            console.print(f"  {path}", highlight=False, markup=False)
