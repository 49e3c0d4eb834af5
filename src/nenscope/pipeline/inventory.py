"""What a folder holds (``nenscope info``): patients, studies and series.

Each series says what nenscope can do with it (:func:`~nenscope.dicom.discovery.capabilities`).
"""

from __future__ import annotations

from typing import Any

from nenscope.dicom.discovery import Discovery, SeriesRef, capabilities

__all__ = ["inventory_to_dict", "series_to_dict"]


def series_to_dict(ref: SeriesRef) -> dict[str, Any]:
    """One series of the ``info`` JSON output."""
    return {
        "series_instance_uid": ref.series_instance_uid,
        "series_number": ref.series_number,
        "series_description": ref.series_description,
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


def inventory_to_dict(found: Discovery) -> dict[str, Any]:
    """Arrange discovered series as patients → studies → series for the JSON output."""
    patients: dict[str, dict[str, Any]] = {}
    for ref in found.series:
        patient = patients.setdefault(
            ref.patient_id,
            {"patient_id": ref.patient_id, "patient_name": ref.patient_name, "studies": {}},
        )
        study = patient["studies"].setdefault(
            ref.study_instance_uid,
            {
                "study_instance_uid": ref.study_instance_uid,
                "study_date": ref.study_date,
                "study_description": ref.study_description,
                "series": [],
            },
        )
        study["series"].append(series_to_dict(ref))
    for patient in patients.values():
        patient["studies"] = list(patient["studies"].values())
    return {
        "root": str(found.root),
        "patients": list(patients.values()),
        "n_series": len(found.series),
        "skipped_files": [{"path": str(s.path), "reason": s.reason} for s in found.skipped],
    }
