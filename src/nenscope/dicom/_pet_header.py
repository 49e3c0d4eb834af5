"""Read the SUV-relevant attributes of a PET series' slice headers into plain values.

Tolerant reader (STYLE 2.3): values are read by keyword; dates and times are parsed from the
DICOM DA/TM/DT encodings (PS3.5 §6.2) without pydicom's optional datetime conversion; what the
reader had to accept is returned as notes. Private attributes are read by (group, element)
inside the block of their private creator:

* Philips ``"Philips PET Private Group"`` (7053,xx00) SUV scale factor and (7053,xx09)
  activity-concentration scale factor (Philips conformance statements, quoted by the IBSI SUV
  manual); used only when Units is CNTS.
* GE ``"GEMS_PETD_01"`` (0009,xx0D) scan_datetime (GE Discovery ST/RX/STE conformance
  statement; QIBA SUV pseudo-code); used only when SeriesTime is after the acquisition.
* Siemens ``"SIEMENS MED PT"`` (0071,xx22) Decay Correction DateTime (Siemens Biograph
  TruePoint conformance statement); used after the GE value under the same condition, and
  compared with SeriesTime otherwise.

A private element without any creator in its group (as in the IBSI DROs) is accepted with a
deviation note; one in a block of another creator is ignored.

Speed: pydicom converts an element on first access (tens of µs each), and the slices of a
series mostly store the same bytes. Values are therefore converted once per distinct stored
value (:class:`_StoredValues`), and a slice whose series-level attributes are stored exactly
as on a slice already found consistent is not converted again; anything stored differently
(other bytes, padding or formatting, or an element pydicom has converted already) is converted
and compared as a value, as before.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

import pydicom.datadict
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.tag import BaseTag, Tag
from pydicom.uid import UID

from nenscope.core.errors import DicomImportError

__all__ = [
    "GE_PETD_CREATOR",
    "PHILIPS_CREATOR",
    "SIEMENS_PT_CREATOR",
    "PetHeader",
    "PrivateValue",
    "SliceFacts",
    "attribute_tag",
    "parse_da",
    "parse_dt",
    "parse_tm",
    "read_pet_header",
]

PHILIPS_CREATOR = "Philips PET Private Group"
"""Private creator of the Philips PET group 7053."""

GE_PETD_CREATOR = "GEMS_PETD_01"
"""Private creator of the GE PET group 0009."""

SIEMENS_PT_CREATOR = "SIEMENS MED PT"
"""Private creator of the Siemens PET group 0071."""

_SERIES_KEYWORDS = (
    "SeriesInstanceUID",
    "Modality",
    "Manufacturer",
    "Units",
    "DecayCorrection",
    "SUVType",
    "CorrectedImage",
    "PatientWeight",
    "PatientSize",
    "PatientSex",
    "SeriesDate",
    "SeriesTime",
    "DecayCorrectionDateTime",
    "TimezoneOffsetFromUTC",
)
"""PET Series attributes that must be identical on every slice (PS3.3 C.8.9.1)."""

_RADIO_KEYWORDS = (
    "RadionuclideTotalDose",
    "RadionuclideHalfLife",
    "RadiopharmaceuticalStartTime",
    "RadiopharmaceuticalStartDateTime",
    "Radiopharmaceutical",
)


_SERIES_TAGS = tuple(Tag(keyword) for keyword in _SERIES_KEYWORDS)
_RADIO_TAGS = tuple(Tag(keyword) for keyword in _RADIO_KEYWORDS)
_RADIO_SEQUENCE_TAG = Tag("RadiopharmaceuticalInformationSequence")
_CHARSET_TAG = Tag("SpecificCharacterSet")
_SLICE_TAGS = {
    keyword: Tag(keyword)
    for keyword in (
        "FrameReferenceTime",
        "ActualFrameDuration",
        "FrameAcquisitionDuration",
        "RescaleIntercept",
        "RescaleSlope",
        "AcquisitionDateTime",
        "FrameAcquisitionDateTime",
        "AcquisitionDate",
        "SeriesDate",
        "AcquisitionTime",
    )
}
"""Tags of the per-slice attributes, looked up once (a keyword look-up costs ~10 × more)."""


def attribute_tag(keyword: str) -> str:
    """Return ``"Keyword (gggg,eeee)"`` for messages (STYLE 5.2).

    Examples
    --------
    >>> attribute_tag("PatientWeight")
    'PatientWeight (0010,1030)'
    """
    tag = pydicom.datadict.tag_for_keyword(keyword)
    if tag is None:
        return keyword
    return f"{keyword} ({tag >> 16:04X},{tag & 0xFFFF:04X})"


_TM = re.compile(r"^(\d{2})(?::?(\d{2}))?(?::?(\d{2}))?(?:\.(\d{1,6}))?$")
_DA = re.compile(r"^(\d{4})\.?(\d{2})\.?(\d{2})$")
_DT = re.compile(r"^(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:\.(\d{1,6}))?([+-]\d{4})?$")


def parse_tm(value: object) -> time | None:
    """Parse a DICOM TM (``HHMMSS.FFFFFF``, shorter forms, or ACR-NEMA ``HH:MM:SS``).

    Returns ``None`` for an empty or unparsable value.

    Examples
    --------
    >>> parse_tm("103500.00")
    datetime.time(10, 35)
    >>> parse_tm("12:35:14.999995")
    datetime.time(12, 35, 14, 999995)
    """
    text = str(value).strip() if value is not None else ""
    m = _TM.match(text)
    if not m:
        return None
    hh, mm, ss, frac = m.groups()
    try:
        return time(int(hh), int(mm or 0), int(ss or 0), int((frac or "0").ljust(6, "0")))
    except ValueError:
        return None


def parse_da(value: object) -> date | None:
    """Parse a DICOM DA (``YYYYMMDD`` or ACR-NEMA ``YYYY.MM.DD``); ``None`` if unparsable.

    Examples
    --------
    >>> parse_da("20250102")
    datetime.date(2025, 1, 2)
    """
    text = str(value).strip() if value is not None else ""
    m = _DA.match(text)
    if not m:
        return None
    try:
        return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None


def parse_dt(value: object) -> tuple[datetime | None, str]:
    """Parse a DICOM DT; return the naive local datetime and the UTC offset text ("" if none).

    SUV needs a time of day: a DT without hours and minutes (a legal partial DT such as
    ``"20250101"``) gives ``None`` rather than midnight.

    Examples
    --------
    >>> parse_dt("20181115092200.000000 ")
    (datetime.datetime(2018, 11, 15, 9, 22), '')
    >>> parse_dt("20181115")
    (None, '')
    """
    text = str(value).strip() if value is not None else ""
    m = _DT.match(text)
    if not m or m[5] is None:
        return None, ""
    parts = [int(p) if p else 0 for p in m.groups()[:6]]
    micro = int((m[7] or "0").ljust(6, "0"))
    try:
        return datetime(parts[0], parts[1], parts[2], parts[3], parts[4], parts[5], micro), (
            m[8] or ""
        )
    except ValueError:
        return None, ""


@dataclass(frozen=True, slots=True, kw_only=True)
class PrivateValue:
    """A private attribute's value and whether its private creator was absent."""

    value: str
    creator_missing: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class SliceFacts:
    """Per-slice timing and scaling facts (one per slice, in volume z order)."""

    acquisition: datetime | None
    frame_reference_s: float | None
    rescale_slope: float | None
    frame_duration_s: float | None
    rescale_intercept: float
    philips_suv_factor: PrivateValue | None
    philips_activity_factor: PrivateValue | None
    ge_scan_datetime: PrivateValue | None
    siemens_decay_datetime: PrivateValue | None = None
    acquisition_problem: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class PetHeader:
    """Series-level SUV attributes as read (strings/numbers, not yet interpreted).

    Parameters
    ----------
    label
        Human name of the series for messages ("series 1.2.3").
    values
        Raw series-level values by keyword (``None`` if absent or empty), identical on every
        slice; radiopharmaceutical values come from the first item of
        RadiopharmaceuticalInformationSequence (0054,0016).
    radionuclide_meaning
        CodeMeaning of RadionuclideCodeSequence (0054,0300), "" if absent.
    slices
        Per-slice facts.
    notes
        Deviations the reader accepted.
    """

    label: str
    values: dict[str, Any]
    radionuclide_meaning: str
    slices: tuple[SliceFacts, ...]
    notes: tuple[str, ...]


StoredKey = tuple[object, ...]

_ABSENT: StoredKey = ()
"""Stored-value key of an absent element."""


def _stored_key(elem: Any) -> StoredKey | None:
    """Identity of an element's stored value, or ``None`` where it is not cheap to tell.

    ``elem`` is what ``Dataset.get_item`` returns. Two raw elements with equal keys, read
    with the same character set, convert to equal values; an element that pydicom has
    converted already (``Modality``, read by the series reader) is keyed by its value when
    that is a plain string (``str`` or ``UID``). ``None`` (any other converted value): the
    caller converts and compares values instead.
    """
    if elem is None:
        return _ABSENT
    value = elem.value
    if isinstance(elem, RawDataElement):
        if isinstance(value, bytes):
            return (
                elem.VR,
                value,
                elem.is_implicit_VR,
                elem.is_little_endian,
                elem.length,  # 0xFFFFFFFF: undefined length
            )
        return None
    if type(value) in (str, UID):
        return ("converted", elem.VR, type(value).__name__, value)
    return None


def _charset_key(ds: Dataset) -> StoredKey:
    """Identity of a dataset's SpecificCharacterSet (0008,0005), stored or converted."""
    elem: Any = ds.get_item(_CHARSET_TAG)
    key = _stored_key(elem)
    return key if key is not None else ("converted", str(elem.value))


@dataclass(slots=True)
class _StoredValues:
    """Converted values of one series' elements, each distinct stored value converted once.

    Local to one :func:`read_pet_header` call; the headers are not modified beyond what
    pydicom's own conversion of the values it converts does.
    """

    memo: dict[StoredKey, Any] = field(default_factory=dict)

    def get(self, ds: Dataset, tag: BaseTag, context: StoredKey) -> Any:
        """``ds[tag].value`` (``None`` if absent), as ``ds.get(keyword)`` returns it.

        ``context`` is what else the conversion depends on: the dataset's character set
        and, for a private element, its private creator (which gives its VR when the file
        does not).
        """
        elem: Any = ds.get_item(tag)
        if elem is None:
            return None
        if not isinstance(elem, RawDataElement):
            return elem.value
        key = _stored_key(elem)
        if key is None:
            return _converted(ds, tag)
        memo_key = (tag, context, *key)
        if memo_key in self.memo:
            return self.memo[memo_key]
        value = _converted(ds, tag)
        self.memo[memo_key] = value
        return value


def _converted(ds: Dataset, tag: BaseTag) -> Any:
    """``ds[tag].value``; a value pydicom cannot convert is refused naming the attribute."""
    try:
        return ds[tag].value
    except (ValueError, TypeError, OverflowError) as err:
        keyword = pydicom.datadict.keyword_for_tag(tag) or f"({tag >> 16:04X},{tag & 0xFFFF:04X})"
        raise DicomImportError(
            f"{attribute_tag(keyword)} cannot be read as its VR: {err}. Correct the header."
        ) from err


def _radio_key(ds: Dataset) -> StoredKey | None:
    """Stored-value key of the radiopharmaceutical values that :func:`_radio_item` gives."""
    elem: Any = ds.get_item(_RADIO_SEQUENCE_TAG)
    key = _stored_key(elem)
    if key is not None:  # absent, or the whole sequence still as stored bytes
        return key
    if isinstance(elem, RawDataElement):
        return None
    items = elem.value  # parsed when read (undefined length, as in GE files)
    if not items:
        return ("no item",)
    item = items[0]
    if not isinstance(item, Dataset):
        return None
    keys = [_charset_key(item)]
    for tag in _RADIO_TAGS:
        key = _stored_key(item.get_item(tag))
        if key is None:
            return None
        keys.append(key)
    return ("first item", *keys)


def _series_key(ds: Dataset) -> StoredKey | None:
    """Stored-value key of all series-level values of a slice; ``None`` if any is converted.

    Slices with equal keys have equal :func:`_series_values`.
    """
    keys: list[object] = [_charset_key(ds)]
    for tag in _SERIES_TAGS:
        key = _stored_key(ds.get_item(tag))
        if key is None:
            return None
        keys.append(key)
    radio = _radio_key(ds)
    if radio is None:
        return None
    keys.append(radio)
    return tuple(keys)


def _raw(ds: Dataset, keyword: str) -> Any:
    value = ds.get(keyword)
    if value is None or value == "":
        return None
    if keyword == "CorrectedImage":
        # A CS value or values; anything else (a number stored with VR FD) becomes its text,
        # which then lacks ATTN and is refused naming the attribute.
        items = list(value) if isinstance(value, list | tuple | MultiValue) else [value]
        return tuple(str(v).strip().upper() for v in items if str(v).strip())
    if isinstance(value, str):
        return value.strip() or None
    return value


def _radio_item(ds: Dataset) -> Dataset:
    seq = ds.get("RadiopharmaceuticalInformationSequence")
    if not seq:
        return Dataset()
    item = seq[0] if isinstance(seq, Sequence) and not isinstance(seq, str | bytes) else None
    if not isinstance(item, Dataset):
        raise DicomImportError(
            f"{attribute_tag('RadiopharmaceuticalInformationSequence')} is not a sequence of "
            f"items (found {str(seq)[:40]!r}), so the injected dose, half-life and injection "
            "time cannot be read. Correct the header (PS3.3 C.8.9.2: an SQ of items)."
        )
    return item


_PRIVATE_GROUPS = frozenset({0x0009, 0x0071, 0x7053})
"""Groups of the vendor private elements read here (GE, Siemens, Philips)."""


_CREATOR_TAGS = frozenset(
    BaseTag((group << 16) | element) for group in _PRIVATE_GROUPS for element in range(0x10, 0x100)
)
"""Tags of the private creator elements (gggg,0010-00FF) of those groups."""


def _private_creators(
    ds: Dataset, values: _StoredValues, charset: StoredKey
) -> dict[int, dict[int, str]]:
    """Private creator strings by group and block number, for the groups read here.

    A set intersection with the dataset's tags finds them: ``Dataset.group_dataset`` sorts
    every tag on each call, and even a Python loop over the tags of every slice was a large
    part of the SUV header read. Several creators keep the dataset's element order.
    """
    found = _CREATOR_TAGS.intersection(ds.keys())
    tags = list(found)
    if len(found) > 1:  # iterating a Dataset itself would convert and sort every element
        tags = [tag for tag in ds.keys() if tag in found]  # noqa: SIM118
    creators: dict[int, dict[int, str]] = {}
    for tag in tags:
        value = values.get(ds, tag, charset)
        creators.setdefault(tag >> 16, {})[tag & 0xFFFF] = str(value).strip()
    return creators


@dataclass(frozen=True, slots=True)
class _PrivateReader:
    """Reads one slice's vendor private elements inside their creators' blocks."""

    ds: Dataset
    values: _StoredValues
    charset: StoredKey
    creators_by_group: dict[int, dict[int, str]]

    def get(self, group: int, offset: int, creator: str) -> PrivateValue | None:
        """Value of private element ``offset`` in ``creator``'s block of ``group``, or None."""
        creators = self.creators_by_group.get(group, {})
        for block, name in creators.items():
            if name == creator:
                return self._value(Tag(group, (block << 8) | offset), creator)
        if creators:
            return None  # the group belongs to another creator: not this vendor's element
        return self._value(Tag(group, 0x1000 | offset), None)

    def _value(self, tag: BaseTag, creator: str | None) -> PrivateValue | None:
        if tag not in self.ds:
            return None
        value = self.values.get(self.ds, tag, (*self.charset, creator))
        return _private_value(value, creator is None)


def _private_value(value: Any, creator_missing: bool) -> PrivateValue | None:
    if isinstance(value, bytes):
        value = value.decode("ascii", errors="replace")
    text = str(value).strip().strip("\x00").strip()
    return PrivateValue(value=text, creator_missing=creator_missing) if text else None


def _float_or_none(value: Any, keyword: str, label: str) -> float | None:
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError) as err:
        raise DicomImportError(
            f"{label}: {attribute_tag(keyword)} must be a number, not {value!r}."
        ) from err
    if not math.isfinite(number):
        raise DicomImportError(
            f"{label}: {attribute_tag(keyword)} must be a finite number, not {value!r}."
        )
    return number


def _acquisition(get: Callable[[str], Any]) -> tuple[datetime | None, str]:
    """Return the slice's acquisition start and, if unknown or unreadable, why (for a warning).

    Returns the naive datetime (or ``None``) and "" or a phrase naming the attribute.
    """
    problems = []
    for keyword in ("AcquisitionDateTime", "FrameAcquisitionDateTime"):
        raw = get(keyword)
        when, _ = parse_dt(raw)
        if when is not None:
            return when, ""
        if raw is not None and str(raw).strip():
            problems.append(f"{attribute_tag(keyword)} {str(raw).strip()!r} is not a DICOM DT")
    raw_day, raw_time = get("AcquisitionDate"), get("AcquisitionTime")
    day = parse_da(raw_day) or parse_da(get("SeriesDate"))
    tod = parse_tm(raw_time)
    if raw_time is None or not str(raw_time).strip():
        problems.append(f"{attribute_tag('AcquisitionTime')} is missing")
    elif tod is None:
        text = str(raw_time).strip()
        problems.append(f"{attribute_tag('AcquisitionTime')} {text!r} is not a TM")
    if raw_day is not None and str(raw_day).strip() and parse_da(raw_day) is None:
        text = str(raw_day).strip()
        problems.append(f"{attribute_tag('AcquisitionDate')} {text!r} is not a DA")
    if day is None or tod is None:
        return None, "; ".join(problems)
    return datetime.combine(day, tod), "; ".join(problems)


def _slice_facts(ds: Dataset, label: str, values: _StoredValues) -> SliceFacts:
    charset = _charset_key(ds)

    def get(keyword: str) -> Any:
        return values.get(ds, _SLICE_TAGS[keyword], charset)

    def number(keyword: str) -> float | None:
        return _float_or_none(get(keyword), keyword, label)

    frt = number("FrameReferenceTime")
    dur = number("ActualFrameDuration")
    if dur is None:  # Enhanced PET: FrameContentSequence FrameAcquisitionDuration (0018,9220), ms
        dur = number("FrameAcquisitionDuration")
    intercept = number("RescaleIntercept")
    acquisition, acquisition_problem = _acquisition(get)
    private = _PrivateReader(
        ds=ds,
        values=values,
        charset=charset,
        creators_by_group=_private_creators(ds, values, charset),
    )
    return SliceFacts(
        acquisition=acquisition,
        acquisition_problem=acquisition_problem,
        frame_reference_s=None if frt is None else frt / 1000.0,
        rescale_slope=number("RescaleSlope"),
        frame_duration_s=None if dur is None else dur / 1000.0,
        rescale_intercept=intercept or 0.0,
        philips_suv_factor=private.get(0x7053, 0x00, PHILIPS_CREATOR),
        philips_activity_factor=private.get(0x7053, 0x09, PHILIPS_CREATOR),
        ge_scan_datetime=private.get(0x0009, 0x0D, GE_PETD_CREATOR),
        siemens_decay_datetime=private.get(0x0071, 0x22, SIEMENS_PT_CREATOR),
    )


def _series_values(ds: Dataset) -> dict[str, Any]:
    values = {kw: _raw(ds, kw) for kw in _SERIES_KEYWORDS}
    item = _radio_item(ds)
    values.update({kw: _raw(item, kw) for kw in _RADIO_KEYWORDS})
    return values


def _first_difference(
    headers: Sequence[Dataset], first: dict[str, Any], first_key: StoredKey | None
) -> tuple[str, int, Any] | None:
    """First (keyword, slice index, value) whose value differs from slice 0's ``first``.

    ``first_key`` is slice 0's :func:`_series_key`, taken before its values were converted.
    A slice stored exactly as one already found equal to slice 0 is skipped unconverted;
    the others are converted and compared as values (so "75" and "75.0" are equal).
    """
    consistent = {first_key} if first_key is not None else set()
    for index, ds in enumerate(headers[1:], start=1):
        key = _series_key(ds)
        if key is not None and key in consistent:
            continue
        values = _series_values(ds)
        for keyword, value in first.items():
            if values[keyword] != value and str(values[keyword]) != str(value):
                return keyword, index, values[keyword]
        if key is not None:
            consistent.add(key)
    return None


def _nuclide_meaning(ds: Dataset) -> str:
    seq = _radio_item(ds).get("RadionuclideCodeSequence")
    if not seq:
        return ""
    return str(seq[0].get("CodeMeaning", "")).strip()


def read_pet_header(headers: Sequence[Dataset], *, label: str = "") -> PetHeader:
    """Read the SUV attributes of a series from its per-slice headers.

    Parameters
    ----------
    headers
        One dataset per slice, in volume z order (``DicomSeries.headers``).
    label
        Name of the series in messages; defaults to "series <SeriesInstanceUID>".

    Returns
    -------
    PetHeader

    Raises
    ------
    DicomImportError
        If there are no headers, if a PET Series attribute differs between slices, or if a
        numeric attribute is not a number.
    """
    if not headers:
        raise DicomImportError(f"{label or 'PET series'}: no slice headers to read.")
    first_key = _series_key(headers[0])  # before _series_values converts slice 0's values
    try:
        first = _series_values(headers[0])
    except DicomImportError as err:
        raise DicomImportError(f"{label or 'PET series'}: {err}") from err
    label = label or f"series {first.get('SeriesInstanceUID') or '(no SeriesInstanceUID)'}"
    diff = _first_difference(headers, first, first_key)
    if diff is not None:
        keyword, index, value = diff
        raise DicomImportError(
            f"{label}: {attribute_tag(keyword)} differs between slices ({first[keyword]!r} on "
            f"slice 0, {value!r} on slice {index}); a PET series must carry one value. "
            "Split or correct the series."
        )
    values = _StoredValues()
    return PetHeader(
        label=label,
        values=first,
        radionuclide_meaning=_nuclide_meaning(headers[0]),
        slices=tuple(_slice_facts(ds, label, values) for ds in headers),
        notes=_vr_notes(headers, label),
    )


_CHECKED_VR_TAGS = (*_SERIES_TAGS, *_SLICE_TAGS.values())
"""Tags whose stored VR is compared with the data dictionary's."""


def _vr_notes(headers: Sequence[Dataset], label: str) -> tuple[str, ...]:
    """Say which SUV attributes are stored with a VR other than the dictionary's.

    A RescaleSlope stored as FD (binary) instead of DS (text) is read as a number all the
    same, but it is a sign of a corrupt or hand-edited header, so the attribute is named.
    """
    notes: dict[BaseTag, str] = {}
    for ds in headers:
        for tag in _CHECKED_VR_TAGS:
            elem: Any = ds.get_item(tag)
            vr = getattr(elem, "VR", None)
            if vr is None or vr == "UN" or tag in notes:
                continue
            expected = pydicom.datadict.dictionary_VR(tag)
            if vr not in expected.split(" or "):
                keyword = pydicom.datadict.keyword_for_tag(tag)
                notes[tag] = (
                    f"{label}: {attribute_tag(keyword)} is stored with VR {vr}, expected "
                    f"{expected} (PS3.6); its value was read all the same. Check the header."
                )
    return tuple(notes.values())
