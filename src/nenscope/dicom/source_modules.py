"""Strict copies of the patient and study modules of source images, for the DICOM writers.

highdicom copies every root attribute of the source's Patient and Study information entities
(Patient, Clinical Trial Subject, General Study, Patient Study and Clinical Trial Study modules)
into the objects it creates. Real archives are full of defects there: an empty Type 1
ClinicalTrialSponsorName, a StudyID longer than 16 characters, a PatientName stored with VR LO,
a birth date of ``20231345``. Copied as they are, these make a SEG or SR that a validator (and
a PACS) rejects. :func:`clean_source_headers` therefore gives the writers copies of the source
headers in which those modules hold **only the attributes the derived objects need, each with a
valid value** (tolerant readers, strict writers: STYLE 2.3, highdicom's design).

Policy, attribute by attribute (PS3.3 C.7.1.1, C.7.1.3, C.7.2.1, C.7.2.2, C.7.2.3):

* Only the attributes in :data:`COPIED` are copied; every other root attribute of the five
  modules (sequences, free text such as PatientComments, other IDs) is left out and listed in
  :attr:`CleanSources.not_copied` by keyword.
* A value is valid when its VR is the data dictionary's, its value multiplicity fits, and each
  value passes pydicom's VR checks (character repertoire and maximum length, PS3.5 6.2) plus
  what those checks let through: a real calendar date for DA, hours < 24 for TM, the
  enumerated values of PatientSex (M, F, O) and PatientIdentityRemoved (YES, NO).
* Repairs follow the VR rules only: a value stored with another text VR is re-encoded with the
  dictionary VR when it is valid there; the ACR-NEMA forms ``YYYY.MM.DD`` and ``HH:MM:SS``
  (PS3.5 6.2, note on DA and TM) lose their separators; a single-component person name gets
  its family-name delimiter (``SMITH`` → ``SMITH^``, the same name in the non-retired form,
  PS3.5 6.2.1.1; not reported as a deviation since no component changes). Identifiers are
  **never truncated**: a cut AccessionNumber or StudyID may name another study.
* An invalid Type 2 value is emptied (the attribute stays, zero length, as Type 2 allows); an
  invalid Type 3 value is dropped; a missing Type 2 attribute of a copied module is added empty.
  An invalid StudyInstanceUID (Type 1) makes the source unusable: :class:`WorkbenchError`.
* The Clinical Trial Subject module is copied only when ClinicalTrialSponsorName and
  ClinicalTrialProtocolID (Type 1) have valid values and ClinicalTrialSubjectID or
  ClinicalTrialSubjectReadingID (Type 1C, one of them) has one; the Clinical Trial Study module
  only with it. Otherwise both are left out whole and a deviation says why.
* The de-identification markers (PatientIdentityRemoved, DeidentificationMethod and its code
  sequence) are copied together or not at all, so a de-identified source gives de-identified
  derived objects that say so.

Every deviation names the attribute by keyword and tag and what was done, **never its value**
(the values are patient identity; they must not reach logs or consoles).
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import pydicom
from highdicom._standard_utils import get_module_attribute_map  # pinned highdicom==0.28.2
from pydicom import config
from pydicom.charset import convert_encodings, decode_bytes
from pydicom.datadict import dictionary_VM, dictionary_VR, tag_for_keyword
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.tag import BaseTag, Tag
from pydicom.valuerep import validate_value

from nenscope.core.errors import WorkbenchError

__all__ = [
    "COPIED",
    "IE_MODULES",
    "CleanSources",
    "clean_source_headers",
    "clean_value",
]

IE_MODULES = (
    "patient",
    "clinical-trial-subject",
    "general-study",
    "patient-study",
    "clinical-trial-study",
)
"""Modules of the Patient and Study information entities that highdicom copies from a source."""

COPIED: dict[str, tuple[tuple[str, str], ...]] = {
    "patient": (
        ("PatientName", "2"),
        ("PatientID", "2"),
        ("IssuerOfPatientID", "3"),
        ("PatientBirthDate", "2"),
        ("PatientSex", "2"),
    ),
    "general-study": (
        ("StudyInstanceUID", "1"),
        ("StudyDate", "2"),
        ("StudyTime", "2"),
        ("AccessionNumber", "2"),
        ("ReferringPhysicianName", "2"),
        ("StudyID", "2"),
        ("StudyDescription", "3"),
    ),
    "patient-study": (
        ("PatientAge", "3"),
        ("PatientSize", "3"),
        ("PatientWeight", "3"),
    ),
    "clinical-trial-subject": (
        ("ClinicalTrialSponsorName", "1"),
        ("ClinicalTrialProtocolID", "1"),
        ("ClinicalTrialProtocolName", "2"),
        ("ClinicalTrialSiteID", "2"),
        ("ClinicalTrialSiteName", "2"),
        ("ClinicalTrialSubjectID", "1C"),
        ("ClinicalTrialSubjectReadingID", "1C"),
    ),
    "clinical-trial-study": (
        ("ClinicalTrialTimePointID", "2"),
        ("ClinicalTrialTimePointDescription", "3"),
    ),
}
"""Attributes copied per module, with their type in that module (PS3.3)."""

_DEID_KEYWORDS = (
    "PatientIdentityRemoved",
    "DeidentificationMethod",
    "DeidentificationMethodCodeSequence",
)
"""De-identification markers of the Patient module (PS3.3 C.7.1.1), copied as one group."""

_ENUMERATED = {
    "PatientSex": frozenset({"M", "F", "O"}),
    "PatientIdentityRemoved": frozenset({"YES", "NO"}),
}
"""Enumerated values (PS3.3 C.7.1.1) that pydicom's CS check does not know."""

_TEXT_VRS = frozenset(
    {"AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "LT", "PN", "SH", "ST", "TM", "UC", "UI"}
)
_ACR_NEMA_DATE = re.compile(r"^(\d{4})\.(\d{2})\.(\d{2})$")
_ACR_NEMA_TIME = re.compile(r"^(\d{2}):(\d{2})(?::(\d{2}(?:\.\d{1,6})?))?$")
_TM = re.compile(r"^([01]\d|2[0-3])([0-5]\d([0-5]\d(\.\d{1,6})?)?)?$")


@dataclass(frozen=True, slots=True, kw_only=True)
class CleanSources:
    """Source headers whose patient and study modules are safe to copy.

    Attributes
    ----------
    datasets
        Shallow copies of the source headers, in the given order; their patient and study
        modules hold only valid values of the attributes in :data:`COPIED`. The sources are
        not modified.
    deviations
        What was emptied, dropped, repaired or left out, by keyword and tag; never a value.
    not_copied
        Keywords of the patient/study attributes present in the source that derived objects
        do not need and that were therefore not copied.
    character_set
        SpecificCharacterSet (0008,0005) the writers must declare: ``"ISO_IR 192"`` (UTF-8)
        when a copied value is not ASCII, else ``None`` (the default repertoire).
    """

    datasets: tuple[pydicom.Dataset, ...]
    deviations: tuple[str, ...]
    not_copied: tuple[str, ...]
    character_set: str | None


def _label(keyword: str) -> str:
    tag = Tag(keyword)
    return f"{keyword} ({tag.group:04X},{tag.element:04X})"


@functools.cache
def _ie_keywords() -> frozenset[str]:
    # highdicom parses its module table (JSON) on every call: 0.45 s, once per process here.
    modules = get_module_attribute_map()
    return frozenset(
        str(item["keyword"])
        for key in IE_MODULES
        for item in modules[key]
        if len(item["path"]) == 0
    )


def _texts(element: DataElement | RawDataElement, encodings: Sequence[str]) -> list[str] | None:
    """Return the stored values of a text element as strings, without pydicom's conversion.

    Reading the raw bytes avoids pydicom's value validation on access (a warning, an error under
    strict settings) for exactly the malformed values this module exists to catch.
    """
    value = element.value
    if value is None:
        return []
    if isinstance(value, bytes):
        try:
            text = decode_bytes(value, encodings, {0x5C})
        except (UnicodeDecodeError, LookupError):
            return None
        text = text.rstrip(" \x00")
        return [] if text == "" else text.split("\\")
    if isinstance(value, str | pydicom.valuerep.PersonName):
        text = str(value)
        return [] if text == "" else text.split("\\")
    if isinstance(value, Iterable) and not isinstance(value, pydicom.Sequence):
        return [str(v) for v in value]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return [str(value)]
    return None


def clean_value(keyword: str, texts: Sequence[str]) -> tuple[list[str] | None, str | None]:
    """Check (and where the VR rules allow, repair) the values of one attribute.

    Parameters
    ----------
    keyword
        The attribute's keyword; its VR and VM are the data dictionary's.
    texts
        Its values as strings (one per value; empty for a zero-length attribute).

    Returns
    -------
    values
        The valid (possibly repaired) values, or ``None`` when they cannot be made valid.
    repair
        What was repaired, or ``None``.

    Examples
    --------
    >>> clean_value("StudyDate", ["2020.01.31"])
    (['20200131'], 'ACR-NEMA date form without separators')
    >>> clean_value("StudyID", ["12345678901234567"])
    (None, None)
    >>> clean_value("PatientSex", ["male"])
    (None, None)
    """
    vr = dictionary_VR(keyword)
    repair = None
    values = list(texts)
    if vr == "DA":
        fixed = [_ACR_NEMA_DATE.sub(r"\1\2\3", v) for v in values]
        if fixed != values:
            values, repair = fixed, "ACR-NEMA date form without separators"
    elif vr == "TM":
        fixed = [_ACR_NEMA_TIME.sub(_join_groups, v) for v in values]
        if fixed != values:
            values, repair = fixed, "ACR-NEMA time form without separators"
    elif vr == "PN":
        # A single-component name is the ACR-NEMA form that validators flag as retired; its
        # family-name delimiter makes it the equivalent DICOM form (PS3.5 6.2.1.1: trailing
        # empty components may be left out), so this repair changes no component.
        values = [v if ("^" in v or "=" in v or v == "") else f"{v}^" for v in values]
    if not _fits_vm(len(values), dictionary_VM(keyword)):
        return None, None
    if all(_is_valid(keyword, vr, v) for v in values):
        return values, repair
    return None, None


def _join_groups(match: re.Match[str]) -> str:
    return "".join(group or "" for group in match.groups())


def _fits_vm(n: int, vm: str) -> bool:
    if n == 0:
        return True
    low, _, high = vm.partition("-")
    if not low.isdigit():
        return False
    if high == "":
        return n == int(low)
    return n >= int(low) and (high == "n" or n <= int(high))


def _is_valid(keyword: str, vr: str, value: str) -> bool:
    try:
        validate_value(vr, value, config.RAISE)
    except ValueError:
        return False
    if keyword in _ENUMERATED:
        return value in _ENUMERATED[keyword]
    if vr == "DA":
        try:
            datetime.strptime(value, "%Y%m%d")
        except ValueError:
            return False
    elif vr == "TM":
        return _TM.match(value) is not None
    elif vr == "DS":
        try:
            return math.isfinite(float(value))
        except ValueError:
            return False
    return True


@dataclass(slots=True)
class _Builder:
    """Collects the clean attributes of one source and what happened to the others."""

    source: pydicom.Dataset
    encodings: Sequence[str]
    out: pydicom.Dataset
    deviations: list[str]

    def checked(self, keyword: str) -> tuple[list[str] | None, str | None]:
        """Return the valid values of ``keyword`` (``[]`` if absent or empty) or None and why."""
        tag = tag_for_keyword(keyword)
        if tag is None or tag not in self.source:
            return [], None
        element = self.source.get_item(BaseTag(tag))
        expected = dictionary_VR(keyword)
        stored = element.VR or expected
        if stored != expected and not (stored in _TEXT_VRS and expected in _TEXT_VRS):
            return None, f"stored with VR {stored} where {expected} is required"
        texts = _texts(element, self.encodings)
        if texts is None:
            return None, f"its value cannot be read as VR {expected} text"
        values, repair = clean_value(keyword, texts)
        if values is None:
            return None, f"its value does not conform to VR {expected} (PS3.5 6.2) or VM"
        if stored != expected:
            repair = f"re-encoded from VR {stored} to {expected}"
        if repair is not None:
            self.deviations.append(f"{_label(keyword)} repaired: {repair}.")
        return values, None

    def put(self, keyword: str, values: Sequence[str]) -> None:
        """Add ``keyword`` with ``values`` (zero length when empty)."""
        vr = dictionary_VR(keyword)
        value: str | list[str] = list(values)
        if len(values) <= 1:
            value = values[0] if values else ""
        self.out.add(DataElement(Tag(keyword), vr, value))

    def copy(self, keyword: str, type_: str) -> bool:
        """Copy one attribute by its type's rule; returns whether it has a non-empty value."""
        values, problem = self.checked(keyword)
        if values is None:
            if type_ == "2":
                self.put(keyword, [])
                self.deviations.append(f"{_label(keyword)} emptied: {problem}.")
            else:
                self.deviations.append(f"{_label(keyword)} not copied: {problem}.")
            return False
        present = keyword in self.source
        if present or type_ == "2":
            self.put(keyword, values)
        return bool(values)


def _copy_study(builder: _Builder) -> None:
    for keyword, type_ in (*COPIED["patient"], *COPIED["general-study"], *COPIED["patient-study"]):
        if type_ == "1":
            values, problem = builder.checked(keyword)
            if not values:
                raise WorkbenchError(
                    f"Cannot write a derived DICOM object: the source's {_label(keyword)} "
                    f"is {'missing or empty' if problem is None else problem}. It identifies "
                    "the study the object belongs to; correct the source header."
                )
            builder.put(keyword, values)
        else:
            builder.copy(keyword, type_)


def _copy_deidentification(builder: _Builder) -> None:
    source = builder.source
    if "PatientIdentityRemoved" not in source:
        return
    removed, _ = builder.checked("PatientIdentityRemoved")
    methods, _ = builder.checked("DeidentificationMethod")
    codes = _valid_codes(source.get("DeidentificationMethodCodeSequence"))
    if removed is None or (removed == ["YES"] and not methods and not codes):
        builder.deviations.append(
            "De-identification markers (PatientIdentityRemoved (0012,0062), "
            "DeidentificationMethod (0012,0063) and its code sequence (0012,0064)) not copied: "
            "incomplete or invalid."
        )
        return
    builder.put("PatientIdentityRemoved", removed)
    if methods:
        builder.put("DeidentificationMethod", methods)
    if codes is not None:
        builder.out.DeidentificationMethodCodeSequence = codes


def _valid_codes(items: object) -> pydicom.Sequence | None:
    """Return a fresh copy of a code sequence whose items all hold valid code attributes."""
    if not isinstance(items, pydicom.Sequence) or len(items) == 0:
        return None
    out = []
    for item in items:
        code = pydicom.Dataset()
        for keyword in ("CodeValue", "CodingSchemeDesignator", "CodeMeaning"):
            element = item.get_item(keyword) if keyword in item else None
            texts = None if element is None else _texts(element, ["iso8859"])
            values = None if texts is None else clean_value(keyword, texts)[0]
            if not values:
                return None
            setattr(code, keyword, values[0])
        out.append(code)
    return pydicom.Sequence(out)


def _trial_subject_gaps(builder: _Builder) -> tuple[list[str], list[str]]:
    """Why the Clinical Trial Subject module cannot be copied, and its valid subject IDs."""
    subject = COPIED["clinical-trial-subject"]
    missing = [
        f"{_label(keyword)} (Type 1) is missing, empty or invalid"
        for keyword, _ in subject[:2]
        if not builder.checked(keyword)[0]
    ]
    ids = [k for k, _ in subject[5:] if builder.checked(k)[0]]
    if not ids:
        missing.append(
            "neither ClinicalTrialSubjectID (0012,0040) nor ClinicalTrialSubjectReadingID "
            "(0012,0042) (Type 1C, one required) has a valid value"
        )
    return missing, ids


def _copy_trial(builder: _Builder) -> None:
    subject = COPIED["clinical-trial-subject"]
    study = COPIED["clinical-trial-study"]
    source = builder.source
    if not any(k in source for k, _ in (*subject, *study)):
        return
    missing, ids = _trial_subject_gaps(builder)
    if missing:
        builder.deviations.append(
            "Clinical Trial Subject and Clinical Trial Study modules not copied: "
            + "; ".join(missing)
            + "."
        )
        return
    for keyword, type_ in subject:
        if type_ == "1C":
            if keyword in ids:
                builder.copy(keyword, "3")
        else:
            builder.copy(keyword, type_)
    if any(k in source for k, _ in study):
        for keyword, type_ in study:
            builder.copy(keyword, type_)


def _clean_modules(source: pydicom.Dataset) -> tuple[pydicom.Dataset, list[str]]:
    charset = source.get("SpecificCharacterSet") if "SpecificCharacterSet" in source else None
    try:
        encodings = convert_encodings(charset or "ISO_IR 6")
    except LookupError:
        encodings = ["iso8859"]
    builder = _Builder(source=source, encodings=encodings, out=pydicom.Dataset(), deviations=[])
    _copy_study(builder)
    _copy_deidentification(builder)
    _copy_trial(builder)
    return builder.out, builder.deviations


def _is_ascii(dataset: pydicom.Dataset) -> bool:
    for element in dataset.iterall():
        if element.VR != "SQ" and not str(element.value).isascii():
            return False
    return True


def clean_source_headers(headers: Sequence[pydicom.Dataset]) -> CleanSources:
    """Return copies of the source headers whose patient and study modules a writer may copy.

    Parameters
    ----------
    headers
        Headers of the source images (pixel data not needed), e.g. the slices of a PET series.
        The patient and study attributes are taken from the first; all copies get the same.

    Returns
    -------
    CleanSources
        The copies and what was emptied, dropped, repaired or not copied (module docstring).

    Raises
    ------
    WorkbenchError
        If there is no header, or the first has no valid StudyInstanceUID (0020,000D).
    """
    if not headers:
        raise WorkbenchError("Cannot write a derived DICOM object: no source image was given.")
    clean, deviations = _clean_modules(headers[0])
    frame = headers[0].get("FrameOfReferenceUID") if "FrameOfReferenceUID" in headers[0] else None
    if frame is not None and str(frame) == str(clean.StudyInstanceUID):
        # Neither UID can be replaced: a derived object must share the source's study and,
        # for a SEG, its frame of reference. Validators that want distinct UIDs report it.
        deviations.append(
            "FrameOfReferenceUID (0020,0052) equals StudyInstanceUID (0020,000D) in the source "
            "(a source defect); both kept, as the derived object must share them."
        )
    ie_keywords = _ie_keywords() | set(_DEID_KEYWORDS)
    kept = {element.keyword for element in clean}
    not_copied = sorted(k for k in ie_keywords if k in headers[0] and k not in kept)
    ie_tags = {BaseTag(t) for k in ie_keywords if (t := tag_for_keyword(k)) is not None}
    copies = []
    for header in headers:
        # Dataset(header) would share the element dict: a new dict of the same (raw, not yet
        # converted) elements. update() would do the same through __setitem__, 20x slower.
        # (Iterating a Dataset yields converted elements; its keys are the tags.)
        tags = header.keys()
        copy = pydicom.Dataset({tag: header.get_item(tag) for tag in tags})
        if hasattr(header, "file_meta"):
            copy.file_meta = header.file_meta
        # The IE attributes this header holds (one set operation, not a lookup per keyword).
        for tag in ie_tags.intersection(tags):
            del copy[tag]
        copy.update(clean)
        copies.append(copy)
    return CleanSources(
        datasets=tuple(copies),
        deviations=tuple(deviations),
        not_copied=tuple(not_copied),
        character_set=None if _is_ascii(clean) else "ISO_IR 192",
    )
