"""Find the DICOM series in a folder tree (headers only, no pixel data).

Walks a folder recursively, parses every file's header, skips (and records) files that are not
DICOM or cannot be parsed, and groups the rest by SeriesInstanceUID (0020,000E). Nested folders,
mixed modalities, several patients and stray files are all fine.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from pydicom.dataset import Dataset

from nenscope.core.errors import DicomImportError
from nenscope.dicom._io import (
    get_float,
    get_floats,
    get_int,
    get_str,
    paused_gc,
    quiet_pydicom,
    read_dataset,
    read_header,
)

__all__ = [
    "Discovery",
    "Header",
    "SeriesRef",
    "SkippedFile",
    "capabilities",
    "discover_series",
    "scan_folder",
]

logger = logging.getLogger(__name__)

ENHANCED_SOP_CLASSES = {
    "1.2.840.10008.5.1.4.1.1.2.1": "Enhanced CT",
    "1.2.840.10008.5.1.4.1.1.4.1": "Enhanced MR",
    "1.2.840.10008.5.1.4.1.1.130": "Enhanced PET",
    "1.2.840.10008.5.1.4.1.1.2.2": "Legacy Converted Enhanced CT",
    "1.2.840.10008.5.1.4.1.1.4.4": "Legacy Converted Enhanced MR",
    "1.2.840.10008.5.1.4.1.1.128.1": "Legacy Converted Enhanced PET",
}
"""SOP classes with per-frame functional groups (PS3.4 B.5)."""


Header = tuple[Dataset, tuple[str, ...], int | None]
"""A file's header as the series reader reads it: dataset (no pixel data), deviations accepted
while reading, and the byte offset of its PixelData (``None``: must be read whole)."""

_DISCOVERY_KEYWORDS = (
    "SOPClassUID",
    "StudyDate",
    "Modality",
    "Manufacturer",
    "StudyDescription",
    "SeriesDescription",
    "PatientName",
    "PatientID",
    "StudyInstanceUID",
    "SeriesInstanceUID",
    "SeriesNumber",
    "FrameOfReferenceUID",
    "NumberOfFrames",
    "ImageType",
    "Units",
    "ImagePositionPatient",
    "DiffusionBValue",
)
"""The attributes discovery reads; everything else in a header is skipped unparsed."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SeriesRef:
    """One series found on disk (headers only were read).

    Parameters
    ----------
    patient_id, patient_name
        PatientID (0010,0020), PatientName (0010,0010).
    study_instance_uid, study_date
        StudyInstanceUID (0020,000D), StudyDate (0008,0020) as ``YYYYMMDD`` or "".
    series_instance_uid, series_number, series_description
        SeriesInstanceUID (0020,000E), SeriesNumber (0020,0011), SeriesDescription (0008,103E).
    modality
        Modality (0008,0060): "PT", "CT", "MR", "NM", "SEG", "RTSTRUCT", ...
    manufacturer
        Manufacturer (0008,0070).
    frame_of_reference_uid
        FrameOfReferenceUID (0020,0052) of the first instance, if any.
    files
        Every file of the series, sorted by path.
    n_instances
        Number of files (instances).
    units
        Units (0054,1001) for PT/NM ("BQML", "CNTS", "GML", ...), else "".
    n_frames
        Total number of frames (slices) over all instances.
    sop_class_uid
        SOPClassUID (0008,0016) of the first instance.
    study_description
        StudyDescription (0008,1030).
    image_type
        ImageType (0008,0008) values of the first instance.
    n_positions
        Number of distinct ImagePositionPatient (0020,0032) values of single-frame instances;
        fewer than ``n_instances`` means several volumes share the slice positions.
    b_values
        Distinct DiffusionBValue (0018,9087) values in s/mm², sorted (MR diffusion).
    """

    patient_id: str
    patient_name: str
    study_instance_uid: str
    study_date: str
    series_instance_uid: str
    series_number: int | None
    series_description: str
    modality: str
    manufacturer: str
    frame_of_reference_uid: str | None
    files: tuple[Path, ...]
    n_instances: int
    units: str = ""
    n_frames: int = 0
    sop_class_uid: str = ""
    study_description: str = ""
    image_type: tuple[str, ...] = ()
    n_positions: int = 0
    b_values: tuple[float, ...] = ()
    headers: tuple[Header, ...] = field(default=(), repr=False, compare=False)
    """With ``scan_folder(..., keep_headers=True)``: each file's whole header, in ``files``
    order, for :func:`nenscope.dicom.read_series` to reuse (each header is parsed once)."""

    @property
    def is_enhanced(self) -> bool:
        """Whether the series is stored as enhanced multi-frame objects."""
        return self.sop_class_uid in ENHANCED_SOP_CLASSES


@dataclass(frozen=True, slots=True, kw_only=True)
class SkippedFile:
    """A file that discovery did not use, and why."""

    path: Path
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Discovery:
    """Everything found under a folder: the series and the files skipped."""

    root: Path
    series: tuple[SeriesRef, ...]
    skipped: tuple[SkippedFile, ...]


def discover_series(root: Path) -> list[SeriesRef]:
    """Return the series under ``root``, sorted by patient, study date, study and series number.

    Files that are not DICOM (or are damaged) are skipped; :func:`scan_folder` returns them
    with the reason, and they are logged at INFO level.

    Raises
    ------
    DicomImportError
        If ``root`` does not exist.
    """
    return list(scan_folder(root).series)


def scan_folder(root: Path, *, keep_headers: bool = False) -> Discovery:
    """Walk ``root`` recursively, group DICOM files by series and record skipped files.

    Parameters
    ----------
    root
        Folder (or a single file) to search. Hidden files and folders are ignored.
    keep_headers
        Parse each file's whole header (not only the attributes discovery needs) and keep it
        in :attr:`SeriesRef.headers`, so that reading the series afterwards
        (``read_series(ref.files, headers=ref.headers)``) does not parse it again.

    Returns
    -------
    Discovery
        The series (sorted as in :func:`discover_series`) and the skipped files.

    Raises
    ------
    DicomImportError
        If ``root`` does not exist.
    """
    root = Path(root)
    if not root.exists():
        raise DicomImportError(f"{root} does not exist; pass a folder holding DICOM files.")
    paths = (
        [root]
        if root.is_file()
        else sorted(
            p
            for p in root.rglob("*")
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)
        )
    )
    groups: dict[str, list[tuple[Path, Dataset]]] = defaultdict(list)
    kept: dict[Path, Header] = {}
    skipped: list[SkippedFile] = []
    with paused_gc():  # thousands of live headers: see paused_gc
        for path in paths:
            try:
                if keep_headers:
                    header = read_header(path)
                    ds = header[0]
                    _check_keywords(ds, path)
                    kept[path] = header
                else:
                    ds, _ = read_dataset(path, headers_only=True, keywords=_DISCOVERY_KEYWORDS)
            except DicomImportError as err:
                skipped.append(SkippedFile(path=path, reason=str(err)))
                logger.info("skipped %s: %s", path, err)
                continue
            uid = get_str(ds, "SeriesInstanceUID")
            if not uid:
                sop_class = get_str(ds, "SOPClassUID")
                reason = (
                    f"DICOM file without SeriesInstanceUID (0020,000E) (SOP class {sop_class}, "
                    "e.g. a DICOMDIR)"
                    if sop_class
                    else "DICOM file without SOPClassUID (0008,0016) or SeriesInstanceUID "
                    "(0020,000E): truncated, or not a DICOM object"
                )
                skipped.append(SkippedFile(path=path, reason=reason))
                continue
            groups[uid].append((path, ds))
    series = sorted(
        (_series_ref(uid, members, kept) for uid, members in groups.items()), key=_order
    )
    return Discovery(root=root, series=tuple(series), skipped=tuple(skipped))


def _order(ref: SeriesRef) -> tuple[str, str, str, int, str]:
    number = ref.series_number if ref.series_number is not None else 1 << 30
    return (ref.patient_id, ref.study_date, ref.study_instance_uid, number, ref.series_description)


def _check_keywords(ds: Dataset, path: Path) -> None:
    """Convert the attributes discovery reads, so that a damaged one fails here (named)."""
    try:
        with quiet_pydicom():
            for keyword in _DISCOVERY_KEYWORDS:
                _ = ds.get(keyword)
    except Exception as err:  # pydicom raises many types on damaged bytes
        raise DicomImportError(
            f"Cannot parse {path} as DICOM: {type(err).__name__}: {err}. The file is probably "
            "truncated or damaged; re-export it from the PACS or remove it."
        ) from err


def _series_ref(
    uid: str, members: list[tuple[Path, Dataset]], kept: dict[Path, Header]
) -> SeriesRef:
    members.sort(key=lambda m: str(m[0]))
    ds = members[0][1]
    number_text = get_str(ds, "SeriesNumber")
    try:
        number: int | None = int(float(number_text)) if number_text else None
    except ValueError:
        number = None
    n_frames = sum(_frames(path, ds) for path, ds in members)
    image_type = ds.get("ImageType")
    positions, b_values = _positions_and_b_values(members)
    return SeriesRef(
        patient_id=get_str(ds, "PatientID"),
        patient_name=get_str(ds, "PatientName"),
        study_instance_uid=get_str(ds, "StudyInstanceUID"),
        study_date=get_str(ds, "StudyDate"),
        series_instance_uid=uid,
        series_number=number,
        series_description=get_str(ds, "SeriesDescription"),
        modality=get_str(ds, "Modality"),
        manufacturer=get_str(ds, "Manufacturer"),
        frame_of_reference_uid=get_str(ds, "FrameOfReferenceUID") or None,
        files=tuple(p for p, _ in members),
        n_instances=len(members),
        units=get_str(ds, "Units"),
        n_frames=n_frames,
        sop_class_uid=get_str(ds, "SOPClassUID"),
        study_description=get_str(ds, "StudyDescription"),
        image_type=tuple(str(v) for v in image_type) if image_type else (),
        n_positions=positions,
        b_values=b_values,
        headers=tuple(kept[p] for p, _ in members) if kept else (),
    )


def _positions_and_b_values(members: list[tuple[Path, Dataset]]) -> tuple[int, tuple[float, ...]]:
    """Count distinct slice positions and collect b-values; unreadable values are ignored."""
    positions: set[tuple[float, ...]] = set()
    b_values: set[float] = set()
    for path, ds in members:
        try:
            if "ImagePositionPatient" in ds:
                xyz = get_floats(ds, "ImagePositionPatient", 3, path=path)
                positions.add(tuple(round(v, 2) for v in xyz))
            b_value = get_float(ds, "DiffusionBValue", -1.0, path=path)
        except DicomImportError:
            continue
        if b_value >= 0:
            b_values.add(round(b_value, 3))
    return len(positions), tuple(sorted(b_values))


def _frames(path: Path, ds: Dataset) -> int:
    """Return the number of frames of one instance; 1 when absent or unreadable."""
    try:
        return max(get_int(ds, "NumberOfFrames", 1, path=path), 1)
    except DicomImportError:
        return 1


def capabilities(ref: SeriesRef) -> tuple[str, ...]:
    """Say what nenscope can do with a series, in words, for ``nenscope info``.

    Examples
    --------
    >>> ref = SeriesRef(patient_id="P", patient_name="", study_instance_uid="1",
    ...     study_date="", series_instance_uid="2", series_number=1, series_description="",
    ...     modality="CT", manufacturer="", frame_of_reference_uid=None, files=(),
    ...     n_instances=1)
    >>> capabilities(ref)
    ('volume (HU)', 'radiomics', 'CT enhancement')
    """
    if ref.modality in ("PT", "NM"):
        found = _nuclear_capabilities(ref)
    elif ref.modality == "MR" and len(ref.b_values) > 1:
        bs = ", ".join(f"{b:g}" for b in ref.b_values)
        found = (f"diffusion, b = {bs} s/mm²: ADC map (nenscope adc)",)
    else:
        found = _CAPABILITIES.get(ref.modality, ("not supported",))
    if 0 < ref.n_positions < ref.n_instances and ref.n_frames == ref.n_instances:
        per = round(ref.n_instances / ref.n_positions)
        found = (
            *found,
            f"about {per} images per slice position: split (time points, b-values, echoes) "
            "before reading as one volume",
        )
    return found


_CAPABILITIES: dict[str, tuple[str, ...]] = {
    "CT": ("volume (HU)", "radiomics", "CT enhancement"),
    "MR": ("volume (MR signal)", "ADC map if diffusion-weighted", "radiomics"),
    "SEG": ("mask (DICOM SEG) for its referenced series",),
    "RTSTRUCT": ("mask (RTSTRUCT contours) for its referenced series",),
    "SR": ("structured report (not read)",),
}


def _nuclear_capabilities(ref: SeriesRef) -> tuple[str, ...]:
    units = ref.units.upper()
    if units == "BQML":
        return ("volume (Bq/mL)", "SUV (nenscope suv)", "lesion analysis", "radiomics")
    if units == "CNTS":
        return ("volume (counts)", "SUV if a vendor scale factor is present", "radiomics")
    if units in ("GML", "CM2ML"):
        return ("volume (SUV)", "lesion analysis", "radiomics")
    if ref.modality == "NM" and not units:
        return ("volume (counts), if tomographic", "not quantitative (no Units)")
    return (f"not readable: Units '{ref.units}' unknown",)
