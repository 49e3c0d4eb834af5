"""The cohort manifest: CSV with a ``study`` column (folder), optional ``patient_id``, labels.

A row may instead name a study on a PACS: ``pacs_node`` (a node of the PACS TOML or of
``--pacs NAME=URL``) and ``study_instance_uid``; its ``study`` value is then only the user's
identifier, and the worker retrieves the study itself.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from nenscope.cohort.adapter import LESION_COLUMNS
from nenscope.cohort.errors import CohortError

__all__ = ["PACS_COLUMNS", "RESERVED_COLUMNS", "StudyEntry", "read_manifest"]

PACS_COLUMNS = ("pacs_node", "study_instance_uid")
"""Optional manifest columns naming a study on a PACS instead of a folder."""

RESERVED_COLUMNS = frozenset({"study", "patient_id", "study_key", *PACS_COLUMNS, *LESION_COLUMNS})
"""Columns of lesions.parquet (and of the PACS reference) that a label column may not reuse."""


@dataclass(frozen=True, slots=True, kw_only=True)
class StudyEntry:
    """One manifest row.

    Parameters
    ----------
    study
        The manifest's ``study`` value as given (written to the outputs unchanged).
    path
        The study folder (relative values are relative to the manifest's folder); ``None``
        for a study on a PACS.
    patient_id
        The manifest's ``patient_id`` (the study value when the column is absent).
    labels
        Every other column of the row (e.g. grade, ki67), as text.
    pacs_node
        Name of the PACS node holding the study, or ``None`` for a folder.
    study_instance_uid
        The study's StudyInstanceUID on ``pacs_node`` (empty for a folder).
    """

    study: str
    path: Path | None
    patient_id: str
    labels: Mapping[str, str] = field(default_factory=dict)
    pacs_node: str | None = None
    study_instance_uid: str = ""

    def __post_init__(self) -> None:
        if (self.path is None) == (self.pacs_node is None):
            raise CohortError(
                f"Study {self.study!r}: give either a folder or a PACS node with a "
                "StudyInstanceUID, not both or neither."
            )
        if self.pacs_node is not None and not self.study_instance_uid:
            raise CohortError(
                f"Study {self.study!r} is on PACS node {self.pacs_node!r} but has no "
                "study_instance_uid; fill that column."
            )


def _location(
    row: Mapping[str, str | None], study: str, path: Path, line: int
) -> tuple[Path | None, str | None, str]:
    """Return the row's folder, or its PACS node and StudyInstanceUID."""
    node = (row.get("pacs_node") or "").strip() or None
    uid = (row.get("study_instance_uid") or "").strip()
    if node is None:
        folder = Path(study)
        return (folder if folder.is_absolute() else path.parent / folder), None, ""
    if not uid:
        raise CohortError(
            f"Manifest {path}, line {line}: study '{study}' names PACS node '{node}' but "
            "no study_instance_uid; give the StudyInstanceUID of the study on that node."
        )
    return None, node, uid


def read_manifest(path: Path) -> list[StudyEntry]:
    """Read and check a manifest.

    Raises
    ------
    CohortError
        Unreadable file, no ``study`` column, an empty or repeated study value, a label
        column named like an output column, or a PACS reference without its UID.
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
    clash = sorted(set(header) & (RESERVED_COLUMNS - {"study", "patient_id", *PACS_COLUMNS}))
    if clash:
        raise CohortError(
            f"Manifest {path}: column(s) {', '.join(clash)} would overwrite lesion columns of "
            "lesions.parquet; rename them."
        )
    labels = [c for c in header if c not in ("study", "patient_id", *PACS_COLUMNS)]
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
        folder, node, uid = _location(row, study, path, line)
        patient = (row.get("patient_id") or "").strip() or study
        entries.append(
            StudyEntry(
                study=study,
                path=folder,
                patient_id=patient,
                labels={c: (row.get(c) or "") for c in labels},
                pacs_node=node,
                study_instance_uid=uid,
            )
        )
    if not entries:
        raise CohortError(f"Manifest {path} lists no study.")
    return entries
