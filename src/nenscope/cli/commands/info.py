"""``nenscope info DIR``: list the patients, studies and series found under a folder.

Patients are shown as ``P1``, ``P2``… and descriptions without the patient's name or ID,
unless ``--show-identity`` is given (consoles end up in tickets and screenshots).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from nenscope.cli._common import OutputFormat, console, fail, print_json
from nenscope.cli.app import app

if TYPE_CHECKING:
    from nenscope.dicom.discovery import Discovery

__all__ = ["info_command"]


def _print_table(found: Discovery, show_identity: bool) -> None:
    from rich.table import Table  # Rich loads only when a table is printed

    from nenscope import api
    from nenscope.dicom.discovery import capabilities

    labels = api.patient_labels(found)
    table = Table(title=f"DICOM series under {found.root}", show_lines=False)
    for column in (
        "Patient",
        "Study",
        "#",
        "Folder",
        "Modality",
        "Vendor",
        "Slices",
        "Units",
        "Description",
        "nenscope can",
    ):
        table.add_column(column, overflow="fold")
    for ref in found.series:
        table.add_row(
            (ref.patient_id or "?") if show_identity else labels[ref.patient_id],
            f"{ref.study_date or '?'}",
            "" if ref.series_number is None else str(ref.series_number),
            api.series_folder(ref, found.root) or "",
            ref.modality,
            ref.manufacturer,
            str(ref.n_frames),
            ref.units or ("HU" if ref.modality == "CT" else ""),
            api.series_description(ref.series_description, ref, show_identity=show_identity),
            "; ".join(capabilities(ref)),
        )
    console.print(table)
    if found.skipped:
        console.print(f"{len(found.skipped)} file(s) skipped (not DICOM or unreadable).")


@app.command("info")
def info_command(
    folder: Annotated[Path, typer.Argument(help="Folder to search recursively for DICOM files.")],
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="text (table) or json.")
    ] = OutputFormat.TEXT,
    show_identity: Annotated[
        bool,
        typer.Option(
            "--show-identity",
            help="Show patient IDs, names and descriptions as stored (default: P1, P2… and "
            "descriptions without the patient's name or ID).",
        ),
    ] = False,
) -> None:
    """List patients, studies and series under FOLDER and what nenscope can do with each."""
    from nenscope import api
    from nenscope.core.errors import WorkbenchError

    try:
        found = api.scan_folder(folder)
    except WorkbenchError as err:
        fail(str(err))
    if not found.series:
        fail(
            f"No DICOM series found under {folder} ({len(found.skipped)} file(s) skipped as "
            "not DICOM or unreadable)."
        )
    if output_format is OutputFormat.JSON:
        print_json(api.inventory_to_dict(found, show_identity=show_identity))
    else:
        _print_table(found, show_identity)
