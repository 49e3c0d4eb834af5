"""Read one DICOM image series into an :class:`~nenscope.core.geometry.ImageVolume`.

Handles legacy single-frame objects (one slice per file), enhanced multi-frame objects (per-frame
functional groups, PS3.3 C.7.6.16) and NM multi-frame tomographic images (PS3.3 C.8.4), in any
transfer syntax pydicom can decode. Slices are sorted geometrically and rescaled slice by slice
(see :mod:`nenscope.dicom._sorting`); the unit follows Modality and Units (0054,1001).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from pydicom.dataset import Dataset

from nenscope.core.errors import DicomImportError, MissingAttributeError
from nenscope.core.geometry import ImageVolume
from nenscope.core.units import Unit
from nenscope.dicom._io import (
    attribute_tag,
    decode_frames,
    get_float,
    get_floats,
    get_int,
    get_str,
    paused_gc,
    quiet_pydicom,
    raw_key,
    raw_text,
    read_dataset,
    read_header,
    read_pixels_at,
)
from nenscope.dicom._sorting import StackSettings, stack_slices
from nenscope.dicom.identity import safe_description

__all__ = ["DicomSeries", "list_files", "read_series", "split_frames", "unit_for"]

logger = logging.getLogger(__name__)

_PET_UNITS = {
    "BQML": Unit.BQ_PER_ML,
    "CNTS": Unit.COUNTS,
    "GML": Unit.SUV_BW,
    "CM2ML": Unit.SUV_BSA,
}
"""Units (0054,1001) values nenscope reads (PS3.3 C.8.9.1.1.3) and their internal unit."""

_IMAGE_MODALITIES = ("CT", "MR", "PT", "NM")


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class DicomSeries:
    """One image series read from DICOM.

    Parameters
    ----------
    volume
        float32 ``(z, y, x)`` values after per-slice RescaleSlope/RescaleIntercept, ascending
        along the slice normal, with the LPS affine, unit and FrameOfReferenceUID.
    headers
        One dataset per slice in the volume's z order, pixel data removed. For an enhanced
        multi-frame object, one synthesised dataset per frame that carries the shared and the
        per-frame functional-group attributes at top level (RescaleSlope, ImagePositionPatient,
        FrameAcquisitionDateTime, DiffusionBValue, ...).
    files
        Every file the series was read from, sorted by path.
    series_instance_uid
        SeriesInstanceUID (0020,000E).
    modality
        Modality (0008,0060): "CT", "PT", "NM", "MR".
    provenance
        What the reader accepted or did (skipped files, deviations, resampling, tilt).
    """

    volume: ImageVolume
    headers: tuple[Dataset, ...]
    files: tuple[Path, ...]
    series_instance_uid: str
    modality: str
    provenance: tuple[str, ...]


def list_files(source: Path | Sequence[Path]) -> list[Path]:
    """Return the files of ``source``: a folder (searched recursively), a file, or files.

    Hidden files (name starting with ".") are ignored. Raises :class:`DicomImportError` if a
    path does not exist or the folder holds no file.
    """
    if isinstance(source, str | Path):
        root = Path(source)
        if not root.exists():
            raise DicomImportError(f"{root} does not exist; pass a folder or DICOM files.")
        if root.is_file():
            return [root]
        files = sorted(
            p
            for p in root.rglob("*")
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)
        )
        if not files:
            raise DicomImportError(f"{root} holds no files; expected the DICOM files of a series.")
        return files
    paths = [Path(p) for p in source]
    if not paths:
        raise DicomImportError("No files given; expected the DICOM files of one series.")
    for p in paths:
        if not p.is_file():
            raise DicomImportError(f"{p} is not a file; expected the DICOM files of one series.")
    return sorted(paths)


def read_series(
    source: Path | Sequence[Path],
    *,
    settings: StackSettings | None = None,
    headers: Sequence[tuple[Dataset, tuple[str, ...], int | None]] = (),
) -> DicomSeries:
    """Read a folder holding one image series, or the files of one series.

    Parameters
    ----------
    source
        A folder (searched recursively; non-DICOM files and DICOM objects without an image,
        such as an RTSTRUCT or a DICOMDIR, are skipped and recorded) or a list of files (each
        must be a DICOM image of the series).
    settings
        What to do with irregular slice spacing or gantry tilt; default: refuse both.
    headers
        Headers already parsed by ``scan_folder(..., keep_headers=True)`` (``SeriesRef.headers``),
        in the order of the files given; they are used instead of parsing the files again.

    Returns
    -------
    DicomSeries
        The volume (float32, unit from Modality/Units), per-slice headers and provenance.

    Raises
    ------
    DicomImportError
        No DICOM image, several series (named in the message), damaged files, missing
        geometry, inconsistent spacing or tilt under the refuse policy, unsupported units.
    """
    files = list_files(source)
    from_folder = isinstance(source, str | Path) and Path(source).is_dir()
    known: dict[Path, tuple[Dataset, tuple[str, ...], int | None]] = {}
    if headers and not from_folder and isinstance(source, Sequence):
        if len(headers) != len(source):
            raise ValueError(
                f"read_series: {len(headers)} headers for {len(source)} files; give one per file."
            )
        known = {Path(p): h for p, h in zip(source, headers, strict=True)}
    provenance: list[str] = []
    with paused_gc():
        entries = _read_headers(files, from_folder=from_folder, provenance=provenance, known=known)
    if not entries:
        raise DicomImportError(
            f"{source} holds no DICOM image"
            + (f" ({'; '.join(provenance)})." if provenance else ".")
        )
    by_key: dict[tuple[object, ...], list[_Entry]] = defaultdict(list)
    for entry in entries:
        # Group on the stored bytes first (cheap); UIDs are converted once per group.
        by_key[raw_key(entry.header, ("SeriesInstanceUID",))].append(entry)
    by_series: dict[str, list[_Entry]] = defaultdict(list)
    for members_of_key in by_key.values():
        uid_of_key = get_str(members_of_key[0].header, "SeriesInstanceUID", "<missing>")
        by_series[uid_of_key].extend(members_of_key)
    if len(by_series) > 1:
        raise DicomImportError(_mixed_series_message(source, by_series))
    uid, members = next(iter(by_series.items()))
    if uid == "<missing>":
        raise MissingAttributeError(
            f"{members[0].path}: {attribute_tag('SeriesInstanceUID')} is missing; cannot tell "
            "which series the files belong to."
        )
    return _build_series(uid, members, provenance, settings or StackSettings())


def _read_headers(
    files: Sequence[Path],
    *,
    from_folder: bool,
    provenance: list[str],
    known: dict[Path, tuple[Dataset, tuple[str, ...], int | None]],
) -> list[_Entry]:
    """Read every file's header; in a folder, skip non-DICOM files and non-image objects."""
    entries: list[_Entry] = []
    for path in files:
        try:
            ds, notes, offset = known[path] if path in known else read_header(path)
        except DicomImportError as err:
            if from_folder and "is not a DICOM file" in str(err):
                provenance.append(f"skipped {path.name}: not DICOM")
                continue
            raise
        provenance.extend(notes)
        if from_folder and not _is_image(ds):
            # A DICOMDIR, presentation state, structure set or report beside the images.
            what = get_str(ds, "Modality") or "object"
            provenance.append(
                f"skipped {path.name}: DICOM {what} without an image "
                f"(SOP class {get_str(ds, 'SOPClassUID') or 'unknown'})"
            )
            continue
        entries.append(_Entry(path=path, header=ds, pixel_offset=offset))
    return entries


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class _Entry:
    """One file of a series: its header (no pixel data) and where its pixel data start."""

    path: Path
    header: Dataset
    pixel_offset: int | None


def _load_stored(entry: _Entry, layouts: dict[tuple[object, ...], Any]) -> npt.NDArray[Any]:
    """Return a single-frame file's stored 2-D pixels: read directly, else by a full parse."""
    pixels = None
    if entry.pixel_offset is not None:
        pixels = read_pixels_at(entry.path, entry.pixel_offset, entry.header, layouts=layouts)
    if pixels is None:
        full, _ = read_dataset(entry.path, headers_only=False)
        pixels = decode_frames(full, path=entry.path)
    return np.asarray(pixels[0])


def _safe_description(ds: Dataset) -> str:
    # Messages reach consoles and logs: no patient name or ID, even inside a description.
    return safe_description(
        get_str(ds, "SeriesDescription"), get_str(ds, "PatientID"), get_str(ds, "PatientName")
    )


def _mixed_series_message(
    source: Path | Sequence[Path], by_series: dict[str, list[_Entry]]
) -> str:
    parts = []
    for uid, members in sorted(by_series.items(), key=lambda kv: -len(kv[1])):
        ds = members[0].header
        parts.append(
            f"#{get_str(ds, 'SeriesNumber', '?')} {get_str(ds, 'Modality', '?')} "
            f"'{_safe_description(ds)}' ({len(members)} files, UID {uid})"
        )
    where = source if isinstance(source, str | Path) else "the given files"
    return (
        f"{where} mixes {len(by_series)} series: {'; '.join(parts)}. read_series needs one "
        "series; use `nenscope info` to list them and pass one series' folder or files."
    )


def _build_series(
    uid: str,
    members: list[_Entry],
    provenance: list[str],
    settings: StackSettings,
) -> DicomSeries:
    members.sort(key=lambda m: str(m.path))
    first_path, first = members[0].path, members[0].header
    modality = get_str(first, "Modality")
    if modality not in _IMAGE_MODALITIES:
        raise DicomImportError(
            f"{first_path}: Modality (0008,0060) is '{modality or 'missing'}'; read_series reads "
            f"image series of modality {', '.join(_IMAGE_MODALITIES)}. Masks (SEG, RTSTRUCT) "
            "are read with read_mask."
        )
    headers: list[Dataset] = []
    names: list[str] = []
    frames: list[npt.NDArray[Any]] | None = None
    loader = None
    if any(_is_multiframe(m.header, m.path) for m in members):
        frames = []
        for member in members:
            full, _ = read_dataset(member.path, headers_only=False)
            frame_headers, frame_pixels = split_frames(full, path=member.path)
            if "PixelData" in full:
                del full.PixelData
            headers.extend(frame_headers)
            frames.extend(frame_pixels)
            names.extend(f"{member.path} frame {i + 1}" for i in range(len(frame_headers)))
        provenance.append(f"multi-frame: {len(headers)} frames from {len(members)} file(s)")
        if modality == "NM" and "PerFrameFunctionalGroupsSequence" not in first:
            provenance.append(
                "NM frames placed from DetectorInformationSequence (0054,0022), stepping by "
                "SpacingBetweenSlices (0018,0088) along row × column cosine"
            )
    else:
        headers = [m.header for m in members]
        names = [str(m.path) for m in members]

        layouts: dict[tuple[object, ...], Any] = {}

        def loader(index: int) -> npt.NDArray[Any]:
            return _load_stored(members[index], layouts)

    _check_consistent(headers, names)
    stacked = stack_slices(headers, names=names, frames=frames, loader=loader, settings=settings)
    provenance.extend(stacked.provenance)
    # The first slice's header: for multi-frame objects the per-frame header carries the
    # attributes of the functional groups (Units of a legacy-converted enhanced PET).
    unit, notes = unit_for(headers[0], path=first_path)
    provenance.extend(notes)
    ordered = tuple(headers[i] for i in stacked.order)
    volume = ImageVolume(
        array=stacked.array,
        affine=stacked.affine,
        unit=unit,
        frame_of_reference_uid=get_str(first, "FrameOfReferenceUID") or None,
    )
    return DicomSeries(
        volume=volume,
        headers=ordered,
        files=tuple(m.path for m in members),
        series_instance_uid=uid,
        modality=modality,
        provenance=tuple(provenance),
    )


_IMAGE_SOP_CLASSES = frozenset(
    {
        "1.2.840.10008.5.1.4.1.1.128",  # PET Image
        "1.2.840.10008.5.1.4.1.1.128.1",  # Legacy Converted Enhanced PET Image
        "1.2.840.10008.5.1.4.1.1.130",  # Enhanced PET Image
        "1.2.840.10008.5.1.4.1.1.2",  # CT Image
        "1.2.840.10008.5.1.4.1.1.2.1",  # Enhanced CT Image
        "1.2.840.10008.5.1.4.1.1.2.2",  # Legacy Converted Enhanced CT Image
        "1.2.840.10008.5.1.4.1.1.4",  # MR Image
        "1.2.840.10008.5.1.4.1.1.4.1",  # Enhanced MR Image
        "1.2.840.10008.5.1.4.1.1.4.4",  # Legacy Converted Enhanced MR Image
        "1.2.840.10008.5.1.4.1.1.20",  # NM Image
    }
)
"""SOP classes (PS3.4 B.5) whose instances are always images, with Rows and Columns."""


def _is_image(ds: Dataset) -> bool:
    """Whether a header (read up to the pixel data) belongs to an image of a series.

    Objects of a private SOP class without plane geometry (Philips stores series data as
    private "MR" objects with Rows but no pixels) are not images; standard image objects with
    missing geometry are, and are refused later with the attribute named.
    """
    if raw_text(ds, "SOPClassUID") in _IMAGE_SOP_CLASSES:
        # An object of a standard image class is an image even if it lost SeriesInstanceUID,
        # Modality, Rows or Columns: a damaged slice of the series, refused later naming the
        # attribute, never silently dropped (20 slices would become 19).
        return True
    if "SeriesInstanceUID" not in ds or "Rows" not in ds or "Columns" not in ds:
        return False
    if raw_text(ds, "Modality") not in _IMAGE_MODALITIES:
        return False  # SEG, RTDOSE, OT, ...: not an image series read_series can stack
    private = not raw_text(ds, "SOPClassUID").startswith("1.2.840.10008.")
    has_geometry = any(
        k in ds
        for k in (
            "ImagePositionPatient",
            "PerFrameFunctionalGroupsSequence",
            "DetectorInformationSequence",
        )
    )
    return has_geometry or not private


def _is_multiframe(ds: Dataset, path: Path) -> bool:
    frames = get_int(ds, "NumberOfFrames", 1, path=path)
    return "PerFrameFunctionalGroupsSequence" in ds or frames > 1


def _check_consistent(headers: Sequence[Dataset], names: Sequence[str]) -> None:
    """Refuse slices of one series that disagree on modality or frame of reference."""
    for keyword in ("Modality", "FrameOfReferenceUID", "Units"):
        if len({raw_key(ds, (keyword,)) for ds in headers}) == 1:
            continue  # identical stored bytes: no need to convert every slice's value
        values = {get_str(ds, keyword) for ds in headers}
        if len(values) > 1:
            example = {get_str(ds, keyword): name for ds, name in zip(headers, names, strict=True)}
            listing = "; ".join(f"'{v}' in {n}" for v, n in sorted(example.items()))
            raise DicomImportError(
                f"The slices of one series disagree on {attribute_tag(keyword)}: {listing}. "
                "They cannot form one volume; check the export."
            )


def unit_for(ds: Dataset, *, path: Path | str) -> tuple[Unit, tuple[str, ...]]:
    """Return the unit of the rescaled pixel values of an image series.

    CT → HU; MR → MR signal; PT → from Units (0054,1001): BQML → Bq/mL, CNTS → counts,
    GML → the SUV that SUVType (0054,1006) names (BW, or absent → SUVbw; LBM*, IBW, BSA),
    CM2ML → cm²/mL (SUVbsa); NM → from Units where present (quantitative SPECT), else counts
    (the NM image IOD stores counts).

    Raises
    ------
    MissingAttributeError
        A PT image without Units.
    DicomImportError
        Units that nenscope does not interpret, or an unsupported modality.

    Examples
    --------
    >>> ds = Dataset()
    >>> ds.Modality, ds.Units = "PT", "BQML"
    >>> unit_for(ds, path="x.dcm")
    (<Unit.BQ_PER_ML: 'Bq/mL'>, ())
    """
    modality = get_str(ds, "Modality")
    units = get_str(ds, "Units").upper()
    notes: tuple[str, ...] = ()
    if not units and modality in ("PT", "NM"):
        units = _units_from_real_world_mapping(ds)
        if units:
            notes = (f"Units from RealWorldValueMappingSequence (0040,9096): {units}",)
    if modality == "CT":
        return Unit.HU, ()
    if modality == "MR":
        return Unit.MR_SIGNAL, ()
    if modality in ("PT", "NM"):
        if not units:
            if modality == "NM":
                return Unit.COUNTS, ("NM image without Units (0054,1001): values read as counts",)
            raise MissingAttributeError(
                f"{path}: {attribute_tag('Units')} is missing on a PT image, so the pixel unit "
                "is unknown (expected BQML, CNTS, GML or CM2ML). Correct the header."
            )
        if units == "GML":
            return _suv_unit(ds, notes)
        if units in _PET_UNITS:
            return _PET_UNITS[units], notes
        raise DicomImportError(
            f"{path}: {attribute_tag('Units')} is '{units}'; nenscope reads "
            f"{', '.join(sorted(_PET_UNITS))}. Convert the series to one of these."
        )
    raise DicomImportError(f"{path}: Modality (0008,0060) '{modality}' is not an image modality.")


_SUV_TYPES = {
    "BW": Unit.SUV_BW,
    "LBM": Unit.SUV_LBM,
    "LBMJAMES128": Unit.SUV_LBM,
    "LBMJANMA": Unit.SUV_LBM,
    "IBW": Unit.SUV_IBW,
    "BSA": Unit.SUV_BSA,
}
"""SUVType (0054,1006) defined terms (PS3.3 C.8.9.1.1.3) and the unit of such g/mL values."""


def _suv_unit(ds: Dataset, notes: tuple[str, ...]) -> tuple[Unit, tuple[str, ...]]:
    """Return the unit of a Units GML series: the SUV that SUVType names."""
    suv_type = get_str(ds, "SUVType").upper()
    if not suv_type:
        return Unit.SUV_BW, (*notes, "Units GML without SUVType (0054,1006): read as SUVbw")
    if suv_type in _SUV_TYPES:
        return _SUV_TYPES[suv_type], notes
    raise DicomImportError(
        f"SUVType (0054,1006) is '{suv_type}'; nenscope reads {', '.join(sorted(_SUV_TYPES))} "
        "for Units GML."
    )


_UCUM_TO_UNITS = {
    "BQ/ML": "BQML",
    "{COUNTS}": "CNTS",
    "{COUNTS}/S": "CNTS",
    "G/ML": "GML",
    "{SUVBW}G/ML": "GML",
    "CM2/ML": "CM2ML",
}
"""UCUM codes of MeasurementUnitsCodeSequence (PS3.16 CID 84) and the equivalent Units."""


def _units_from_real_world_mapping(ds: Dataset) -> str:
    """Return the Units equivalent of the first real-world value mapping's UCUM code, or ""."""
    mappings = ds.get("RealWorldValueMappingSequence")
    if not mappings:
        return ""
    codes = mappings[0].get("MeasurementUnitsCodeSequence")
    if not codes:
        return ""
    return _UCUM_TO_UNITS.get(get_str(codes[0], "CodeValue").upper(), "")


_FRAME_SKIP = {
    "PixelData",
    "PerFrameFunctionalGroupsSequence",
    "SharedFunctionalGroupsSequence",
    "NumberOfFrames",
    "DetectorInformationSequence",
}


def split_frames(ds: Dataset, *, path: Path | str) -> tuple[list[Dataset], list[npt.NDArray[Any]]]:
    """Split a multi-frame object into per-frame headers and stored 2-D pixel arrays.

    Enhanced objects (PerFrameFunctionalGroupsSequence (5200,9230)) get every attribute of
    the shared and of their own functional groups copied to top level. NM tomographic images
    get ImagePositionPatient stepped by SpacingBetweenSlices (0018,0088) along the normal of
    DetectorInformationSequence (0054,0022) (PS3.3 C.8.4.14). Single-frame objects come back
    unchanged as one frame.

    Returns
    -------
    tuple
        Headers (new datasets; ``ds`` is not modified) and ``(rows, columns)`` stored arrays.
    """
    pixels = decode_frames(ds, path=path)
    n = pixels.shape[0]
    if n == 1 and "PerFrameFunctionalGroupsSequence" not in ds:
        return [ds], [pixels[0]]
    with quiet_pydicom():  # copying converts every element; odd values are kept as read
        base = Dataset()
        for elem in ds:
            if elem.keyword not in _FRAME_SKIP:
                base.add(elem)
        if "PerFrameFunctionalGroupsSequence" in ds:
            headers = _split_enhanced(ds, base, n, path=path)
        elif get_str(ds, "Modality") == "NM":
            headers = _split_nm(ds, base, n, path=path)
        else:
            headers = []
    if not headers:
        raise DicomImportError(
            f"{path}: {n} frames without PerFrameFunctionalGroupsSequence (5200,9230) or NM "
            "detector geometry; nenscope cannot place the frames in space."
        )
    return headers, [pixels[i] for i in range(n)]


def _flatten_groups(target: Dataset, groups: Dataset) -> None:
    """Copy the attributes inside each functional-group macro item to ``target``."""
    for macro in groups:
        if macro.VR != "SQ" or not macro.value:
            continue
        for elem in macro.value[0]:
            target.add(elem)


def _split_enhanced(ds: Dataset, base: Dataset, n: int, *, path: Path | str) -> list[Dataset]:
    per_frame = ds.PerFrameFunctionalGroupsSequence
    if len(per_frame) != n:
        raise DicomImportError(
            f"{path}: PerFrameFunctionalGroupsSequence (5200,9230) has {len(per_frame)} items "
            f"but NumberOfFrames (0028,0008) is {n}."
        )
    shared = ds.get("SharedFunctionalGroupsSequence")
    headers = []
    for i in range(n):
        frame = Dataset()
        for elem in base:
            frame.add(elem)
        if shared:
            _flatten_groups(frame, shared[0])
        _flatten_groups(frame, per_frame[i])
        frame.NumberOfFrames = 1
        headers.append(frame)
    return headers


def _split_nm(ds: Dataset, base: Dataset, n: int, *, path: Path | str) -> list[Dataset]:
    detectors = ds.get("DetectorInformationSequence")
    if not detectors:
        raise MissingAttributeError(
            f"{path}: {attribute_tag('DetectorInformationSequence')} is missing; an NM "
            "multi-frame image needs it for ImagePositionPatient/ImageOrientationPatient."
        )
    det = detectors[0]
    ipp = np.asarray(get_floats(det, "ImagePositionPatient", 3, path=path))
    iop = np.asarray(get_floats(det, "ImageOrientationPatient", 6, path=path))
    step = get_float(ds, "SpacingBetweenSlices", 0.0, path=path) or get_float(
        ds, "SliceThickness", 0.0, path=path
    )
    if step <= 0:
        raise MissingAttributeError(
            f"{path}: neither {attribute_tag('SpacingBetweenSlices')} nor "
            f"{attribute_tag('SliceThickness')} gives the distance between NM frames."
        )
    normal = np.cross(iop[:3], iop[3:])
    headers = []
    for i in range(n):
        frame = Dataset()
        for elem in base:
            frame.add(elem)
        frame.ImageOrientationPatient = [float(v) for v in iop]
        frame.ImagePositionPatient = [float(v) for v in ipp + i * step * normal]
        frame.NumberOfFrames = 1
        headers.append(frame)
    return headers
