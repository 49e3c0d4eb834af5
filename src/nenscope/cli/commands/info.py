"""``nenscope info DIR``: list the patients, studies and series found under a folder.

Patients are shown as ``P1``, ``P2``… and descriptions without the patient's name or ID,
unless ``--show-identity`` is given (consoles end up in tickets and screenshots).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from nenscope.cli._common import OutputFormat, console, fail, print_json
from nenscope.cli.app import app
from nenscope.core.errors import WorkbenchError
from nenscope.dicom.discovery import Discovery, SeriesRef, capabilities, scan_folder
from nenscope.dicom.identity import identity_tokens, pseudonymous_labels, redact_text

__all__ = ["info_command", "to_payload"]


def _description(text: str, ref: SeriesRef, show_identity: bool) -> str:
    if show_identity:
        return text
    return redact_text(text, identity_tokens(ref.patient_id, ref.patient_name))


def _series_payload(ref: SeriesRef, show_identity: bool) -> dict[str, Any]:
    return {
        "series_instance_uid": ref.series_instance_uid,
        "series_number": ref.series_number,
        "series_description": _description(ref.series_description, ref, show_identity),
        "modality": ref.modality,
        "manufacturer": ref.manufacturer,
        "units": ref.units or None,
        "n_instances": ref.n_instances,
        "n_frames": ref.n_frames,
        "n_positions": ref.n_positions,
        "b_values": list(ref.b_values),
        "enhanced": ref.is_enhanced,
        "frame_of_reference_uid": ref.frame_of_reference_uid,
        "folder": str(ref.files[0].parent) if ref.files else None,
        "can_do": list(capabilities(ref)),
    }


def to_payload(found: Discovery, *, show_identity: bool = False) -> dict[str, Any]:
    """Arrange discovered series as patients → studies → series for the JSON output.

    Each patient has a ``patient`` label (``P1``…); ``patient_id`` and ``patient_name`` only
    with ``show_identity``, and descriptions are redacted of them otherwise.
    """
    labels = pseudonymous_labels(ref.patient_id for ref in found.series)
    patients: dict[str, dict[str, Any]] = {}
    for ref in found.series:
        identity = (
            {"patient_id": ref.patient_id, "patient_name": ref.patient_name}
            if show_identity
            else {}
        )
        patient = patients.setdefault(
            ref.patient_id, {"patient": labels[ref.patient_id], **identity, "studies": {}}
        )
        study = patient["studies"].setdefault(
            ref.study_instance_uid,
            {
                "study_instance_uid": ref.study_instance_uid,
                "study_date": ref.study_date,
                "study_description": _description(ref.study_description, ref, show_identity),
                "series": [],
            },
        )
        study["series"].append(_series_payload(ref, show_identity))
    for patient in patients.values():
        patient["studies"] = list(patient["studies"].values())
    return {
        "root": str(found.root),
        "patients": list(patients.values()),
        "n_series": len(found.series),
        "skipped_files": [{"path": str(s.path), "reason": s.reason} for s in found.skipped],
    }


def _print_table(found: Discovery, show_identity: bool) -> None:
    labels = pseudonymous_labels(ref.patient_id for ref in found.series)
    table = Table(title=f"DICOM series under {found.root}", show_lines=False)
    for column in (
        "Patient",
        "Study",
        "#",
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
            ref.modality,
            ref.manufacturer,
            str(ref.n_frames),
            ref.units or ("HU" if ref.modality == "CT" else ""),
            _description(ref.series_description, ref, show_identity),
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
    try:
        found = scan_folder(folder)
    except WorkbenchError as err:
        fail(str(err))
    if not found.series:
        fail(
            f"No DICOM series found under {folder} ({len(found.skipped)} file(s) skipped as "
            "not DICOM or unreadable)."
        )
    if output_format is OutputFormat.JSON:
        print_json(to_payload(found, show_identity=show_identity))
    else:
        _print_table(found, show_identity)
