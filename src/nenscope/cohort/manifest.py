"""The cohort manifest: CSV with a ``study`` column (folder), optional ``patient_id``, labels."""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from nenscope.cohort.adapter import LESION_COLUMNS
from nenscope.cohort.errors import CohortError

__all__ = ["RESERVED_COLUMNS", "StudyEntry", "read_manifest"]

RESERVED_COLUMNS = frozenset({"study", "patient_id", "study_key", *LESION_COLUMNS})
"""Columns of lesions.parquet that a manifest label column may not reuse."""


@dataclass(frozen=True, slots=True, kw_only=True)
class StudyEntry:
    """One manifest row.

    Parameters
    ----------
    study
        The manifest's ``study`` value as given (written to the outputs unchanged).
    path
        The study folder (relative values are relative to the manifest's folder).
    patient_id
        The manifest's ``patient_id`` (the study value when the column is absent).
    labels
        Every other column of the row (e.g. grade, ki67), as text.
    """

    study: str
    path: Path
    patient_id: str
    labels: Mapping[str, str] = field(default_factory=dict)


def read_manifest(path: Path) -> list[StudyEntry]:
    """Read and check a manifest.

    Raises
    ------
    CohortError
        Unreadable file, no ``study`` column, an empty or repeated study value, or a label
        column named like an output column.
    """
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            header = list(reader.fieldnames or [])
            rows = list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise CohortError(f"Cannot read the manifest {path}: {err}.") from err
    if "study" not in header:
        raise CohortError(
            f"Manifest {path} has no 'study' column (found: {', '.join(header) or 'nothing'}). "
            "Expected a CSV with a 'study' column of folders, optional 'patient_id' and labels."
        )
    clash = sorted(set(header) & (RESERVED_COLUMNS - {"study", "patient_id"}))
    if clash:
        raise CohortError(
            f"Manifest {path}: column(s) {', '.join(clash)} would overwrite lesion columns of "
            "lesions.parquet; rename them."
        )
    labels = [c for c in header if c not in ("study", "patient_id")]
    entries: list[StudyEntry] = []
    seen: dict[str, int] = {}
    for line, row in enumerate(rows, start=2):
        study = (row.get("study") or "").strip()
        if not study:
            raise CohortError(f"Manifest {path}, line {line}: empty 'study' value.")
        if study in seen:
            raise CohortError(
                f"Manifest {path}, line {line}: study '{study}' is already on line "
                f"{seen[study]}; each study may appear once (nothing is analysed twice)."
            )
        seen[study] = line
        folder = Path(study)
        if not folder.is_absolute():
            folder = path.parent / folder
        patient = (row.get("patient_id") or "").strip() or study
        entries.append(
            StudyEntry(
                study=study,
                path=folder,
                patient_id=patient,
                labels={c: (row.get(c) or "") for c in labels},
            )
        )
    if not entries:
        raise CohortError(f"Manifest {path} lists no study.")
    return entries
