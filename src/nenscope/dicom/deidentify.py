"""De-identified copies of DICOM studies for research export (DICOM PS3.15 Annex E).

:func:`deidentify_folder` copies every DICOM file under a folder, de-identified with the Basic
Application Level Confidentiality Profile and the options a quantitative research export
needs. The work is done by `dicognito <https://github.com/blairconrad/dicognito>`_ (pinned),
which replaces every person name, identifier, address and institution with a pseudonym, maps
every UID through a keyed hash (so the same UID gets the same new UID in every series, and a
SEG or SR still references its images) and shifts dates. On top of it, for what dicognito does
not do:

* **Retain Longitudinal Temporal Information with Modified Dates Option** (PS3.15 E.3.6):
  dicognito shifts dates by a whole number of *hours* and shifts a time only together with its
  date, so a time without a date (RadiopharmaceuticalStartTime beside AcquisitionTime) would
  move against the others and change the decay interval and the SUV. Here every DA and DT is
  shifted by a whole number of **days** (62–730, from the seed), and no TM changes: every
  interval stays exact, including across midnight. LongitudinalTemporalInformationModified
  (0028,0303) is set to ``MODIFIED``.
* **Retain Patient Characteristics Option** (E.3.8): PatientSex, PatientAge, PatientSize and
  PatientWeight (and the other characteristics dicognito leaves) are kept; SUV needs them.
* **Clean Descriptors Option** (E.3.5): descriptors that stay useful (StudyDescription,
  SeriesDescription, ProtocolName, …) are kept after every identifying value of the same file
  (name parts, IDs, accession, birth date in common spellings, institution, physicians) is
  replaced by ``X``; free-text comments and histories, which cannot be cleaned reliably, are
  removed (:data:`REMOVED_ATTRIBUTES`).
* **Retain Safe Private Option** (E.3.10), limited to the private attributes nenscope's SUV
  reader needs (GE (0009,xx0D) scan datetime, Siemens (0071,xx22) decay correction datetime,
  Philips (7053,xx00/xx09) scale factors) with their creators; their datetimes get the same
  shift. Every other private attribute, overlay (60xx) and curve (50xx) is removed.
* **Burned-in annotation**: images with BurnedInAnnotation (0028,0301) ``YES``, and secondary
  captures that do not say ``NO``, hold identity in their pixels, which no header edit removes.
  They are refused (nothing is written) unless the caller asks to copy and flag them.

PatientIdentityRemoved is set to ``YES``; DeidentificationMethod and
DeidentificationMethodCodeSequence (CID 7050) name the profile and the options.

References
----------
DICOM PS3.15 Annex E (Attribute Confidentiality Profiles), Table E.1-1; PS3.16 CID 7050.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from importlib.metadata import version
from pathlib import Path

import pydicom
from dicognito.anonymizer import Anonymizer
from dicognito.datetimeanonymizer import DateTimeAnonymizer
from dicognito.randomizer import Randomizer
from pydicom.dataelem import DataElement
from pydicom.errors import InvalidDicomError
from pydicom.tag import BaseTag

from nenscope.core.diagnostics import record_library_warnings
from nenscope.core.errors import WorkbenchError
from nenscope.dicom.identity import identity_tokens, redact_text

__all__ = [
    "DEIDENTIFICATION_CODES",
    "REMOVED_ATTRIBUTES",
    "BurnedInPolicy",
    "DeidentificationError",
    "DeidentifiedStudy",
    "DeidentifySettings",
    "date_shift_days",
    "deidentify_folder",
]

MIN_SHIFT_DAYS, MAX_SHIFT_DAYS = 62, 730
"""Range of the date shift into the past, days (dicognito's range, in whole days)."""

DESCRIPTORS = (
    "StudyDescription",
    "SeriesDescription",
    "ProtocolName",
    "PerformedProcedureStepDescription",
    "RequestedProcedureDescription",
    "AcquisitionDeviceProcessingDescription",
    "DerivationDescription",
    "ImageComments",
    "BodyPartExamined",
)
"""Descriptors kept after cleaning (PS3.15 Table E.1-1 rows with a C in the Clean Descriptors
column, restricted to those useful for research; ImageComments is C there too)."""

REMOVED_ATTRIBUTES = (
    # Free text: cannot be cleaned reliably.
    "AcquisitionComments",
    "AdditionalPatientHistory",
    "AdmittingDiagnosesDescription",
    "Allergies",
    "IdentifyingComments",
    "ImagingServiceRequestComments",
    "InterpretationText",
    "MedicalAlerts",
    "PatientComments",
    "PatientState",
    "PerformedProcedureStepComments",
    "ReasonForStudy",
    "ReasonForTheRequestedProcedure",
    "RequestedProcedureComments",
    "ScheduledProcedureStepDescription",
    "SpecialNeeds",
    "StudyComments",
    "TextComments",
    "VisitComments",
    # Identifying attributes outside dicognito's lists (institution codes, contact details,
    # person identification items with addresses and telephone numbers).
    "InstitutionCodeSequence",
    "InstitutionalDepartmentTypeCodeSequence",
    "IssuerOfPatientID",
    "OperatorIdentificationSequence",
    "OrderCallbackPhoneNumber",
    "OrderEntererLocation",
    "PatientInstitutionResidence",
    "PerformingPhysicianIdentificationSequence",
    "PersonAddress",
    "PersonTelephoneNumbers",
    "PhysiciansOfRecordIdentificationSequence",
    "PhysiciansReadingStudyIdentificationSequence",
    "ReferringPhysicianIdentificationSequence",
    "VerifyingOrganization",
)
"""Attributes dicognito leaves that the Basic Profile removes (action X, or X/Z where Type 3
in the IODs nenscope reads, PS3.15 Table E.1-1): free text, which cannot be cleaned reliably,
and identifying items outside dicognito's lists. Checked by the fake-identity test, which looks
for every identifying string in every byte of the copy."""

DUMMY_VALUES = {"DeviceSerialNumber": "DEIDENTIFIED"}
"""Attributes dicognito leaves whose Basic Profile action is X/Z/D: replaced by a dummy value
(D), since they are Type 1 in some IODs (DeviceSerialNumber in Enhanced General Equipment)."""

_SAFE_PRIVATE = {
    0x0009: ("GEMS_PETD_01", (0x0D,)),
    0x0071: ("SIEMENS MED PT", (0x22,)),
    0x7053: ("Philips PET Private Group", (0x00, 0x09)),
}
"""Private attributes the SUV reader uses: group -> (creator, element offsets in the block)."""

DEIDENTIFICATION_CODES = (
    ("113100", "Basic Application Confidentiality Profile"),
    ("113106", "Retain Longitudinal Temporal Information Modified Dates Option"),
    ("113105", "Clean Descriptors Option"),
    ("113108", "Retain Patient Characteristics Option"),
    ("113111", "Retain Safe Private Option"),
)
"""CID 7050 codes (scheme DCM) written to DeidentificationMethodCodeSequence (0012,0064)."""

_SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7"


class DeidentificationError(WorkbenchError, ValueError):
    """A study cannot be de-identified as asked (e.g. burned-in annotation)."""


class BurnedInPolicy(StrEnum):
    """What to do with images that may carry identity in their pixels."""

    REFUSE = "refuse"
    FLAG = "flag"


@dataclass(frozen=True, slots=True, kw_only=True)
class DeidentifySettings:
    """How to de-identify.

    Parameters
    ----------
    seed
        Secret key of the pseudonyms, UID mapping and date shift. The same seed gives the same
        mapping in every run (so objects de-identified later still reference the earlier
        ones); ``None`` draws a fresh key. Whoever holds the seed can link the pseudonyms to
        the originals given the source files: keep it with the same care as the key list.
    burned_in
        ``refuse`` (default): write nothing if an image may carry burned-in annotation;
        ``flag``: copy such images and list them in the result.
    """

    seed: str | None = None
    burned_in: BurnedInPolicy = BurnedInPolicy.REFUSE


@dataclass(frozen=True, slots=True, kw_only=True)
class DeidentifiedStudy:
    """What :func:`deidentify_folder` wrote.

    Attributes
    ----------
    files
        Written files, relative to the output folder (named by new UIDs only).
    sources
        The source file of each of ``files``, relative to the source folder (for the caller's
        own checks; never print them: source paths may hold names).
    flagged_burned_in
        Those of ``files`` that may carry burned-in annotation (``flag`` policy).
    skipped
        Number of files under the input folder that are not DICOM (not copied).
    nonconforming_values
        Number of source values pydicom found not to conform to their VR while reading (they
        are de-identified like the others; pydicom's messages are not passed on, as they
        quote the values).
    method
        The DeidentificationMethod (0012,0063) values written.
    """

    files: tuple[Path, ...]
    sources: tuple[Path, ...]
    flagged_burned_in: tuple[Path, ...]
    skipped: int
    nonconforming_values: int
    method: tuple[str, ...]


def _method() -> tuple[str, ...]:
    return (
        "PS3.15 E Basic Application Confidentiality Profile",
        "Options: Retain Longitudinal Modified Dates",
        "Clean Descriptors; Retain Patient Characteristics",
        "Retain Safe Private (SUV attributes only)",
        f"nenscope deidentify with dicognito {version('dicognito')}",
    )


def date_shift_days(seed: str | None) -> int:
    """Return the whole-day shift into the past that a de-identification with ``seed`` uses.

    Research tables made outside DICOM (the service's lesion export) shift their dates by the
    same rule, so that a study keeps the same modified date in both.
    """
    return _shift_days(seed)


def _shift_days(seed: str | None) -> int:
    return MIN_SHIFT_DAYS + Randomizer(seed).to_int("date_offset_days") % (
        MAX_SHIFT_DAYS - MIN_SHIFT_DAYS + 1
    )


def _anonymizer(seed: str | None, shift_days: int) -> Anonymizer:
    anonymizer = Anonymizer(seed=seed)
    # Handlers added later run first: this whole-day shift takes every DA/DT (with its TM
    # unchanged) before dicognito's own hour-based DateTimeAnonymizer sees it.
    anonymizer.add_element_handler(DateTimeAnonymizer(-24 * shift_days))
    return anonymizer


def _read(path: Path, *, headers_only: bool) -> pydicom.Dataset | None:
    try:
        return pydicom.dcmread(path, stop_before_pixels=headers_only)
    except (InvalidDicomError, EOFError, OSError, ValueError, TypeError, KeyError):
        return None


def _may_be_burned_in(ds: pydicom.Dataset) -> bool:
    stated = str(ds.get("BurnedInAnnotation", "") or "").strip().upper()
    if stated == "YES":
        return True
    return stated != "NO" and str(ds.get("SOPClassUID", "")).startswith(_SECONDARY_CAPTURE)


def _identity_values(ds: pydicom.Dataset) -> list[str]:
    """Return the identifying values of one file, as tokens for cleaning its descriptors."""
    values: list[str] = []
    for element in ds.iterall():
        if not element.value or element.VR == "SQ":
            continue
        if element.VR == "PN" or element.keyword in _IDENTIFYING_TEXT:
            values.extend(str(v) for v in (element.value if element.VM > 1 else [element.value]))
    return identity_tokens(*values)


_IDENTIFYING_TEXT = frozenset(
    {
        "PatientID",
        "OtherPatientIDs",
        "PatientBirthDate",
        "AccessionNumber",
        "StudyID",
        "InstitutionName",
        "InstitutionAddress",
        "InstitutionalDepartmentName",
        "StationName",
        "PatientAddress",
        "MedicalRecordLocator",
        "ClinicalTrialSubjectID",
        "ClinicalTrialSubjectReadingID",
        "AdmissionID",
        "IssuerOfPatientID",
    }
)
"""Text attributes whose values are identity (besides every PN)."""


def _clean_descriptors_and_free_text(ds: pydicom.Dataset, identity: list[str]) -> None:
    removed = set(REMOVED_ATTRIBUTES)
    descriptors = set(DESCRIPTORS)

    def visit(dataset: pydicom.Dataset, element: DataElement) -> None:
        if element.keyword in removed:
            del dataset[element.tag]
        elif element.keyword in DUMMY_VALUES:
            element.value = DUMMY_VALUES[element.keyword]
        elif element.keyword in descriptors and isinstance(element.value, str):
            element.value = redact_text(element.value, identity)

    ds.walk(visit)


def _safe_private_tags(ds: pydicom.Dataset) -> set[BaseTag]:
    """Tags of the SUV-relevant private attributes (and their creators) present in ``ds``."""
    keep: set[BaseTag] = set()
    for group, (creator, offsets) in _SAFE_PRIVATE.items():
        creators = {
            tag.element: str(ds[tag].value).strip()
            for tag in (BaseTag((group << 16) | e) for e in range(0x10, 0x100))
            if tag in ds
        }
        if not creators:
            # The SUV reader accepts a creator-less block at 0x10 (as in the IBSI DROs).
            keep.update(BaseTag((group << 16) | 0x1000 | o) for o in offsets)
        for block, name in creators.items():
            if name == creator:
                keep.add(BaseTag((group << 16) | block))
                keep.update(BaseTag((group << 16) | (block << 8) | o) for o in offsets)
    return {tag for tag in keep if tag in ds}


def _strip_private_overlays_curves(ds: pydicom.Dataset) -> set[BaseTag]:
    keep = _safe_private_tags(ds)
    for tag in list(ds.keys()):
        group = tag.group
        curve_or_overlay = 0x5000 <= group <= 0x50FF or 0x6000 <= group <= 0x60FF
        if (tag.is_private and tag not in keep) or curve_or_overlay:
            del ds[tag]
    for element in ds.iterall():
        if element.VR == "SQ":
            for item in element.value:
                item.remove_private_tags()
    return keep


def _shift_private_datetimes(ds: pydicom.Dataset, kept: set[BaseTag], shift_days: int) -> None:
    """Shift kept private datetimes that dicognito could not see as DT (VR UN, implicit VR)."""
    for tag in kept:
        element = ds[tag]
        if element.VR != "UN" or not isinstance(element.value, bytes):
            continue
        text = element.value.decode("ascii", errors="replace").strip(" \x00")
        if re.fullmatch(r"\d{14}(\.\d{1,6})?", text) is None:
            del ds[tag]  # a private value we cannot shift must not leak the true date
            continue
        when = datetime.strptime(text[:14], "%Y%m%d%H%M%S") - timedelta(days=shift_days)
        shifted = when.strftime("%Y%m%d%H%M%S") + text[14:]
        element.value = shifted.encode("ascii") + (b" " if len(shifted) % 2 else b"")


def _mark(ds: pydicom.Dataset) -> None:
    ds.PatientIdentityRemoved = "YES"
    ds.LongitudinalTemporalInformationModified = "MODIFIED"
    ds.DeidentificationMethod = list(_method())
    items = []
    for value, meaning in DEIDENTIFICATION_CODES:
        item = pydicom.Dataset()
        item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, "DCM", meaning
        items.append(item)
    ds.DeidentificationMethodCodeSequence = pydicom.Sequence(items)


def _dicom_files(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            yield path


def _deidentify_one(
    ds: pydicom.Dataset, anonymizer: Anonymizer, shift_days: int
) -> pydicom.Dataset:
    identity = _identity_values(ds)
    _clean_descriptors_and_free_text(ds, identity)
    kept = _strip_private_overlays_curves(ds)
    anonymizer.anonymize(ds)
    _shift_private_datetimes(ds, kept, shift_days)
    _mark(ds)
    return ds


@dataclass(slots=True)
class _Copies:
    written: list[Path]
    sources: list[Path]
    nonconforming: int


def _write_copies(
    source: Path,
    stage: Path,
    headers: Mapping[Path, pydicom.Dataset],
    settings: DeidentifySettings,
    on_file: Callable[[int, int], None] | None,
) -> _Copies:
    shift_days = _shift_days(settings.seed)
    anonymizer = _anonymizer(settings.seed, shift_days)
    copies = _Copies(written=[], sources=[], nonconforming=0)
    for done, path in enumerate(headers, start=1):
        # pydicom warns about malformed values quoting them (identity): count, never show.
        with record_library_warnings() as caught:
            ds = _read(path, headers_only=False)
            if ds is None:
                continue
            ds = _deidentify_one(ds, anonymizer, shift_days)
        copies.nonconforming += len(caught)
        relative = Path(str(ds.StudyInstanceUID), str(ds.SeriesInstanceUID))
        relative = relative / f"{ds.SOPInstanceUID}.dcm"
        (stage / relative).parent.mkdir(parents=True, exist_ok=True)
        ds.save_as(stage / relative)
        copies.written.append(relative)
        copies.sources.append(path.relative_to(source))
        if on_file is not None:
            on_file(done, len(headers))
    return copies


def deidentify_folder(
    source: Path,
    out_dir: Path,
    settings: DeidentifySettings = DeidentifySettings(),
    *,
    on_file: Callable[[int, int], None] | None = None,
) -> DeidentifiedStudy:
    """Write a de-identified copy of every DICOM file under ``source`` into ``out_dir``.

    Parameters
    ----------
    source
        Folder with the study (any layout; non-DICOM files are counted and left out).
    out_dir
        Output folder; must not exist or be empty. Files are written as
        ``<new StudyInstanceUID>/<new SeriesInstanceUID>/<new SOPInstanceUID>.dcm``, so no
        name of the source tree (which may hold a patient name) reaches the copy. Written in
        a staging folder beside it and renamed into place when complete.
    settings
        Seed and burned-in annotation policy.
    on_file
        Called with (files done, files total) after each file, for progress display.

    Returns
    -------
    DeidentifiedStudy
        What was written.

    Raises
    ------
    DeidentificationError
        If ``source`` holds no DICOM file, ``out_dir`` is not empty, or an image may carry
        burned-in annotation under the ``refuse`` policy (then nothing is written).
    """
    out_dir = out_dir.absolute()
    if not source.is_dir():
        raise DeidentificationError(f"Cannot de-identify {source}: not a folder.")
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise DeidentificationError(
            f"Cannot de-identify into {out_dir}: it exists and is not an empty folder. "
            "Choose a new output folder (a copy is never mixed with other files)."
        )
    candidates = list(_dicom_files(source))
    headers = {p: ds for p in candidates if (ds := _read(p, headers_only=True)) is not None}
    if not headers:
        raise DeidentificationError(f"Cannot de-identify {source}: it holds no DICOM file.")
    burned = [p for p, ds in headers.items() if _may_be_burned_in(ds)]
    if burned and settings.burned_in is BurnedInPolicy.REFUSE:
        raise DeidentificationError(
            f"Cannot de-identify {source}: {len(burned)} image(s) may carry burned-in "
            "annotation (BurnedInAnnotation (0028,0301) YES, or a secondary capture that does "
            "not say NO); header de-identification cannot remove identity from pixels. "
            "Remove them, or pass --burned-in flag to copy them and review them by eye."
        )
    # Written to a staging folder renamed into place at the end: an interrupted run never
    # leaves a folder that looks like a complete copy.
    stage = out_dir.with_name(f".{out_dir.name}.partial-{os.getpid()}")
    shutil.rmtree(stage, ignore_errors=True)
    try:
        copies = _write_copies(source, stage, headers, settings, on_file)
        if out_dir.exists():
            out_dir.rmdir()  # empty, checked above
        stage.rename(out_dir)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return DeidentifiedStudy(
        files=tuple(copies.written),
        sources=tuple(copies.sources),
        flagged_burned_in=tuple(
            w for w, s in zip(copies.written, copies.sources, strict=True) if source / s in burned
        ),
        skipped=len(candidates) - len(headers),
        nonconforming_values=copies.nonconforming,
        method=_method(),
    )
