"""Importing DICOM instances into the store (uploads, PACS retrievals, Storage SCP pushes).

Files are given as ``(name, bytes)`` pairs: the name is only ever used in messages, never as
a path, so an upload cannot write outside the store whatever it is called. Zip archives are
opened in memory with limits on member count, total uncompressed size and compression ratio
(a zip bomb is refused before it is inflated).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from nenscope.core.errors import DicomImportError, WorkbenchError
from nenscope.core.safe_yaml import MAX_UPLOAD_BYTES
from nenscope.dicom.instances import InstanceHeader, read_instance_header
from nenscope.store.audit import record_event
from nenscope.store.db import Store
from nenscope.store.models import Instance, Patient, Series, Study, StudyState, User

__all__ = [
    "ImportLimits",
    "ImportResult",
    "UploadError",
    "expand_upload",
    "import_instances",
]

ZIP_MAGIC = b"PK\x03\x04"
"""First bytes of a zip archive (local file header)."""


class UploadError(WorkbenchError, ValueError):
    """An upload is refused (too large, a zip bomb, no DICOM in it, several studies)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportLimits:
    """Limits of one upload.

    Parameters
    ----------
    max_total_bytes
        Most bytes of DICOM accepted in one upload after unzipping.
    max_members
        Most files in one zip archive.
    max_ratio
        Highest compression ratio of a zip member (DICOM compresses ~2-10x; a bomb ~1000x).
    """

    max_total_bytes: int = MAX_UPLOAD_BYTES
    max_members: int = 100_000
    max_ratio: float = 200.0


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportResult:
    """Outcome of an import: the study, whether it is new, and what was added or skipped.

    ``linked`` counts the added files stored as hard links to local files (``paths``).
    """

    study_id: int
    created: bool
    added: int
    already_stored: int
    skipped: tuple[str, ...] = field(default_factory=tuple)
    linked: int = 0


def _zip_members(name: str, data: bytes, limits: ImportLimits) -> Iterator[tuple[str, bytes]]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as err:
        raise UploadError(f"{name}: not a readable zip archive ({err}).") from err
    infos = [i for i in archive.infolist() if not i.is_dir()]
    if len(infos) > limits.max_members:
        raise UploadError(
            f"{name}: {len(infos)} files in the archive, at most {limits.max_members} accepted."
        )
    declared = sum(i.file_size for i in infos)
    if declared > limits.max_total_bytes:
        raise UploadError(
            f"{name}: unpacks to {declared} bytes, more than the limit of "
            f"{limits.max_total_bytes}; upload the study in parts or raise --max-upload-mb."
        )
    for info in infos:
        if info.compress_size and info.file_size / info.compress_size > limits.max_ratio:
            raise UploadError(
                f"{name}: member {info.filename!r} is compressed {info.file_size}:"
                f"{info.compress_size}, above the {limits.max_ratio:.0f}:1 ratio a DICOM "
                "file reaches; the archive looks like a zip bomb and is refused."
            )
        with archive.open(info) as handle:
            # Read one byte past the declared size: a member lying about its size is caught.
            content = handle.read(info.file_size + 1)
        if len(content) != info.file_size:
            raise UploadError(f"{name}: member {info.filename!r} is not the size it declares.")
        yield f"{name}:{info.filename}", content


def expand_upload(
    files: Iterable[tuple[str, bytes]], limits: ImportLimits = ImportLimits()
) -> list[tuple[str, bytes]]:
    """Turn uploaded files into DICOM file candidates, unpacking zip archives safely."""
    out: list[tuple[str, bytes]] = []
    total = 0
    for name, data in files:
        members = _zip_members(name, data, limits) if data[:4] == ZIP_MAGIC else [(name, data)]
        for member_name, content in members:
            total += len(content)
            if total > limits.max_total_bytes:
                raise UploadError(
                    f"The upload holds more than {limits.max_total_bytes} bytes of files; "
                    "send the study in parts."
                )
            out.append((member_name, content))
    return out


def _patient(session: Session, header: InstanceHeader) -> Patient:
    key = header.patient_id or f"(no PatientID) {header.study_instance_uid}"
    patient = session.scalar(select(Patient).where(Patient.patient_key == key))
    if patient is None:
        patient = Patient(
            patient_key=key,
            name=header.patient_name,
            birth_date=header.patient_birth_date,
            sex=header.patient_sex,
        )
        session.add(patient)
        session.flush()
    return patient


def _iso_date(dicom_date: str) -> str:
    if len(dicom_date) == 8 and dicom_date.isdigit():
        return f"{dicom_date[:4]}-{dicom_date[4:6]}-{dicom_date[6:]}"
    return ""


def _study(session: Session, header: InstanceHeader, source: str) -> tuple[Study, bool]:
    study = session.scalar(
        select(Study).where(Study.study_instance_uid == header.study_instance_uid)
    )
    if study is not None:
        return study, False
    study = Study(
        study_instance_uid=header.study_instance_uid,
        patient_id=_patient(session, header).id,
        study_date=_iso_date(header.study_date),
        description=header.study_description[:256],
        accession_number=header.accession_number[:64],
        status=StudyState.STORED.value,
        source=source[:128],
    )
    session.add(study)
    session.flush()
    return study, True


def _series(session: Session, study: Study, header: InstanceHeader) -> Series:
    series = session.scalar(
        select(Series).where(Series.series_instance_uid == header.series_instance_uid)
    )
    if series is None:
        series = Series(
            study_id=study.id,
            series_instance_uid=header.series_instance_uid,
            modality=header.modality[:16],
            description=header.series_description[:256],
            radiopharmaceutical=header.radiopharmaceutical[:128],
        )
        session.add(series)
        session.flush()
        modalities = {m for m in study.modalities.split(",") if m} | {header.modality}
        study.modalities = ",".join(sorted(m for m in modalities if m))
    return series


def import_instances(
    store: Store,
    files: Iterable[tuple[str, bytes]],
    *,
    user: User | None,
    source: str,
    paths: Mapping[str, Path] | None = None,
) -> ImportResult:
    """Store DICOM files of ONE study and index them; re-importing adds only what is new.

    Parameters
    ----------
    store
        The service store.
    files
        ``(name, bytes)`` of each DICOM file (zips already expanded by :func:`expand_upload`).
    user
        Who imports (audit); ``None`` for the service (Storage SCP).
    source
        Where the files come from (``upload``, ``pacs:NAME``, ``scp:AE``) for the record.
    paths
        File name → the local file its bytes were read from (``cohort run --db``): such a
        file is stored as a hard link where the store is on the same file system
        (:meth:`~nenscope.store.files.FileStore.put_from`; a copy otherwise).
        ``ImportResult.linked`` counts the links.

    Raises
    ------
    UploadError
        If no file is DICOM, or the files belong to more than one study.
    """
    parsed: list[tuple[InstanceHeader, bytes, Path | None]] = []
    skipped: list[str] = []
    local = paths or {}
    for name, data in files:
        try:
            parsed.append((read_instance_header(data, name=name), data, local.get(name)))
        except DicomImportError as err:
            skipped.append(str(err))
    if not parsed:
        detail = f" First problem: {skipped[0]}" if skipped else ""
        raise UploadError(f"No DICOM instance found in the upload.{detail}")
    studies = sorted({h.study_instance_uid for h, _, _ in parsed})
    if len(studies) > 1:
        raise UploadError(
            f"The upload holds {len(studies)} studies ({', '.join(studies[:3])}…); "
            "upload one study at a time."
        )
    added = already = linked = 0
    with store.session() as session:
        study, created = _study(session, parsed[0][0], source)
        for header, data, path in parsed:
            known = session.scalar(
                select(Instance.id).where(Instance.sop_instance_uid == header.sop_instance_uid)
            )
            if known is not None:
                already += 1
                continue
            if path is None:
                digest = store.files.put(data)
            else:
                digest, was_linked = store.files.put_from(path, data)
                linked += was_linked
            series = _series(session, study, header)
            session.add(
                Instance(
                    series_id=series.id,
                    sop_instance_uid=header.sop_instance_uid,
                    sha256=digest,
                    size_bytes=len(data),
                )
            )
            added += 1
        session.flush()
        record_event(
            session,
            user=user,
            action="study.import" if created else "study.reimport",
            object_type="study",
            object_id=study.id,
            after={"source": source, "added": added, "already_stored": already}
            | ({"hard_linked": linked} if paths else {}),
        )
        study_id = study.id
    return ImportResult(
        study_id=study_id,
        created=created,
        added=added,
        already_stored=already,
        skipped=tuple(skipped),
        linked=linked,
    )
