"""DICOM instances as bytes for the service layer (store, PACS): headers, encoding, sign-off.

The service keeps DICOM files as opaque bytes in a content-addressed store and moves pydicom
datasets between PACS libraries; this module is the one place where it looks inside them, so
that ``store`` and ``pacs`` never import pydicom themselves (STYLE 1.1).
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.errors import InvalidDicomError
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from nenscope.core.errors import DicomImportError
from nenscope.dicom.tracer import read_radiopharmaceutical

__all__ = [
    "Dataset",
    "InstanceHeader",
    "dataset_from_bytes",
    "dataset_to_bytes",
    "dataset_values",
    "header_of",
    "make_query",
    "read_instance_header",
    "sign_structured_report",
]

_REQUIRED = ("SOPInstanceUID", "SOPClassUID", "StudyInstanceUID", "SeriesInstanceUID")


@dataclass(frozen=True, slots=True, kw_only=True)
class InstanceHeader:
    """The attributes the service indexes an instance by (strings, ``""`` when absent)."""

    sop_instance_uid: str
    sop_class_uid: str
    study_instance_uid: str
    series_instance_uid: str
    modality: str
    patient_id: str
    patient_name: str
    patient_birth_date: str
    patient_sex: str
    study_date: str
    study_description: str
    accession_number: str
    series_description: str
    radiopharmaceutical: str


def _text(ds: Dataset, keyword: str) -> str:
    value = ds.get(keyword, "")
    return "" if value is None else str(value).strip()


def header_of(ds: Dataset, *, name: str) -> InstanceHeader:
    """Index attributes of a dataset; ``name`` (file or source) is used in messages."""
    missing = [k for k in _REQUIRED if not _text(ds, k)]
    if missing:
        raise DicomImportError(
            f"{name}: not a storable DICOM instance, {', '.join(missing)} missing. "
            "Upload image files of the study (not DICOMDIR or reports without UIDs)."
        )
    return InstanceHeader(
        sop_instance_uid=_text(ds, "SOPInstanceUID"),
        sop_class_uid=_text(ds, "SOPClassUID"),
        study_instance_uid=_text(ds, "StudyInstanceUID"),
        series_instance_uid=_text(ds, "SeriesInstanceUID"),
        modality=_text(ds, "Modality"),
        patient_id=_text(ds, "PatientID"),
        patient_name=_text(ds, "PatientName"),
        patient_birth_date=_text(ds, "PatientBirthDate"),
        patient_sex=_text(ds, "PatientSex"),
        study_date=_text(ds, "StudyDate"),
        study_description=_text(ds, "StudyDescription"),
        accession_number=_text(ds, "AccessionNumber"),
        series_description=_text(ds, "SeriesDescription"),
        radiopharmaceutical=read_radiopharmaceutical([ds]),
    )


def read_instance_header(data: bytes, *, name: str) -> InstanceHeader:
    """Parse the header of one DICOM file given as bytes.

    Parameters
    ----------
    data
        The file's bytes (Part 10, or a bare data set without preamble).
    name
        The file's name for messages.

    Raises
    ------
    DicomImportError
        If the bytes are not DICOM or lack the UIDs an instance needs.
    """
    try:
        ds = pydicom.dcmread(io.BytesIO(data), stop_before_pixels=True, force=True)
    except (InvalidDicomError, ValueError, EOFError, OSError, KeyError) as err:
        raise DicomImportError(f"{name}: cannot be read as DICOM ({err}).") from err
    return header_of(ds, name=name)


def dataset_from_bytes(data: bytes) -> Dataset:
    """Parse a whole DICOM file (pixel data included) from bytes."""
    return pydicom.dcmread(io.BytesIO(data), force=True)


def dataset_to_bytes(ds: Dataset) -> bytes:
    """Encode a dataset as a Part 10 file (adds file meta information when it has none)."""
    if not hasattr(ds, "file_meta") or "TransferSyntaxUID" not in ds.file_meta:
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = ds.SOPClassUID
        meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.file_meta = meta
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def sign_structured_report(
    data: bytes, *, observer_name: str, organisation: str, signed_at: datetime
) -> bytes:
    """Return a new SR instance verified by a person: the physician who signed it.

    The copy gets a new SOPInstanceUID, ``CompletionFlag`` COMPLETE, ``VerificationFlag``
    VERIFIED with one VerifyingObserverSequence (0040,A073) item, and a person observer
    context (TID 1002) at the start of the content tree, so a PACS shows who signed.

    Parameters
    ----------
    data
        The SR file as written by the analysis.
    observer_name
        The signing physician, as a DICOM person name (``Family^Given`` or a user name).
    organisation
        VerifyingOrganization (0040,A027).
    signed_at
        Time of signing (timezone-aware).

    References
    ----------
    DICOM PS3.3 C.17.2 (SR Document General Module); PS3.16 TID 1002 (Observer Context).
    """
    ds = dataset_from_bytes(data)
    if ds.get("Modality") != "SR":
        raise DicomImportError("Only an SR document can be signed; this instance is not SR.")
    stamp = signed_at.strftime("%Y%m%d%H%M%S%z")
    verifier = Dataset()
    verifier.VerifyingObserverName = observer_name
    verifier.VerifyingOrganization = organisation
    verifier.VerificationDateTime = stamp
    verifier.VerifyingObserverIdentificationCodeSequence = DicomSequence()
    ds.VerifyingObserverSequence = DicomSequence([verifier])
    ds.CompletionFlag = "COMPLETE"
    ds.VerificationFlag = "VERIFIED"
    content = list(ds.get("ContentSequence", []))
    # TID 1500 starts with the language (HAS CONCEPT MOD); the observer context follows it.
    at = 0
    while at < len(content) and content[at].get("RelationshipType") == "HAS CONCEPT MOD":
        at += 1
    ds.ContentSequence = DicomSequence(
        [*content[:at], *_person_observer(observer_name), *content[at:]]
    )
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.InstanceCreationDate = signed_at.strftime("%Y%m%d")
    ds.InstanceCreationTime = signed_at.strftime("%H%M%S")
    return dataset_to_bytes(ds)


def _code(value: str, scheme: str, meaning: str) -> Dataset:
    item = Dataset()
    item.CodeValue = value
    item.CodingSchemeDesignator = scheme
    item.CodeMeaning = meaning
    return item


def _person_observer(name: str) -> list[Dataset]:
    observer_type = Dataset()
    observer_type.RelationshipType = "HAS OBS CONTEXT"
    observer_type.ValueType = "CODE"
    observer_type.ConceptNameCodeSequence = DicomSequence(
        [_code("121005", "DCM", "Observer Type")]
    )
    observer_type.ConceptCodeSequence = DicomSequence([_code("121006", "DCM", "Person")])
    person = Dataset()
    person.RelationshipType = "HAS OBS CONTEXT"
    person.ValueType = "PNAME"
    person.ConceptNameCodeSequence = DicomSequence(
        [_code("121008", "DCM", "Person Observer Name")]
    )
    person.PersonName = name
    return [observer_type, person]


def make_query(level: str, keys: Mapping[str, str], returned: Iterable[str]) -> Dataset:
    """Build a C-FIND identifier: query level, matching keys and empty return keys."""
    ds = Dataset()
    ds.QueryRetrieveLevel = level
    for keyword in returned:
        setattr(ds, keyword, "")
    for keyword, value in keys.items():
        setattr(ds, keyword, value)
    return ds


def dataset_values(ds: Dataset, keywords: Iterable[str]) -> dict[str, str]:
    """Return keyword → text of the attributes (``""`` if absent; multi-values joined)."""
    out: dict[str, str] = {}
    for keyword in keywords:
        value = ds.get(keyword, "")
        if isinstance(value, list | tuple) or type(value).__name__ == "MultiValue":
            out[keyword] = "\\".join(str(v) for v in value)
        else:
            out[keyword] = "" if value is None else str(value)
    return out
