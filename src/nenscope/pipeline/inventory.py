"""What a folder holds (``nenscope info``): patients, studies and series.

Each series says what nenscope can do with it (:func:`~nenscope.dicom.discovery.capabilities`).
Patients are labelled ``P1``, ``P2``… and descriptions are redacted of the patient's name and
ID unless ``show_identity`` is asked for (consoles end up in tickets and screenshots).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nenscope.dicom.discovery import Discovery, SeriesRef, capabilities
from nenscope.dicom.identity import identity_tokens, pseudonymous_labels, redact_text

__all__ = [
    "inventory_to_dict",
    "patient_labels",
    "series_description",
    "series_folder",
    "series_to_dict",
]


def patient_labels(found: Discovery) -> dict[str, str]:
    """Return the pseudonymous label (``P1``…) of each patient ID, in the order found."""
    return pseudonymous_labels(ref.patient_id for ref in found.series)


def series_description(text: str, ref: SeriesRef, *, show_identity: bool) -> str:
    """Return a study or series description without the patient's name or ID (unless asked)."""
    if show_identity:
        return text
    return redact_text(text, identity_tokens(ref.patient_id, ref.patient_name))


def series_folder(ref: SeriesRef, root: Path | None = None) -> str | None:
    """Return the folder of a series' files, relative to ``root`` where it lies under it."""
    if not ref.files:
        return None
    folder = ref.files[0].parent
    if root is not None and folder.is_relative_to(root):
        relative = folder.relative_to(root)
        return "." if str(relative) == "." else str(relative)
    return str(folder)


def series_to_dict(ref: SeriesRef, *, show_identity: bool = False) -> dict[str, Any]:
    """One series of the ``info`` JSON output."""
    return {
        "series_instance_uid": ref.series_instance_uid,
        "series_number": ref.series_number,
        "series_description": series_description(
            ref.series_description, ref, show_identity=show_identity
        ),
        "modality": ref.modality,
        "manufacturer": ref.manufacturer,
        "units": ref.units or None,
        "n_instances": ref.n_instances,
        "n_frames": ref.n_frames,
        "n_positions": ref.n_positions,
        "b_values": list(ref.b_values),
        "enhanced": ref.is_enhanced,
        "frame_of_reference_uid": ref.frame_of_reference_uid,
        "folder": series_folder(ref),
        "can_do": list(capabilities(ref)),
    }


def inventory_to_dict(found: Discovery, *, show_identity: bool = False) -> dict[str, Any]:
    """Arrange discovered series as patients → studies → series for the JSON output.

    Each patient has a ``patient`` label (``P1``…); ``patient_id`` and ``patient_name`` only
    with ``show_identity``, and descriptions are redacted of them otherwise.
    """
    labels = patient_labels(found)
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
                "study_description": series_description(
                    ref.study_description, ref, show_identity=show_identity
                ),
                "series": [],
            },
        )
        study["series"].append(series_to_dict(ref, show_identity=show_identity))
    for patient in patients.values():
        patient["studies"] = list(patient["studies"].values())
    return {
        "root": str(found.root),
        "patients": list(patients.values()),
        "n_series": len(found.series),
        "skipped_files": [{"path": str(s.path), "reason": s.reason} for s in found.skipped],
    }
