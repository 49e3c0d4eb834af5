"""DICOM SEG and SR (TID 1500) writers and readers-back, built with highdicom.

``write_seg`` stores the lesion and reference-region label map as a binary DICOM Segmentation
that references the source PET series (its patient and study modules copied strictly: only
valid values of the attributes derived objects need, see :mod:`nenscope.dicom.source_modules`;
each deviation is warned as :class:`DicomDeviationWarning`); ``write_sr`` stores the
per-lesion measurements (SUVmax, SUVpeak, SUVmean, volume, TLG, Krenning score) and the
reference-region means as a Comprehensive 3D SR measurement report (TID 1500) that references
the SEG segments and the PET images. The readers give the numbers back so that a test can
check the round trip.

References
----------
DICOM PS3.3 A.51 (Segmentation IOD); PS3.16 TID 1500 (Measurement Report), TID 1411 (Volumetric
ROI Measurements), CID 7180/7181 (SUV quantities and UCUM units).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import highdicom as hd
import numpy as np
import numpy.typing as npt
import pydicom
from pydicom.sr.codedict import codes
from pydicom.sr.coding import Code

from nenscope import __version__
from nenscope.core.errors import DicomDeviationWarning, DicomImportError, WorkbenchError
from nenscope.dicom._io import paused_gc
from nenscope.dicom.source_modules import CleanSources, clean_source_headers
from nenscope.dicom.tracer import read_radiopharmaceutical  # defined there, kept importable here

__all__ = [
    "KRENNING_CODE",
    "SegInfo",
    "SegmentKind",
    "SegmentSpec",
    "SrMeasurementGroup",
    "read_radiopharmaceutical",
    "read_seg",
    "read_sr",
    "write_seg",
    "write_sr",
]

MANUFACTURER = "nenscope"
"""Manufacturer (0008,0070) of the objects nenscope writes."""

KRENNING_CODE = Code("KRENNING", "99NENSCOPE", "Krenning score")
"""Private code for the Krenning score (no standard code exists; PS3.16 8.2 allows 99-schemes)."""

_SCORE_UNIT = Code("{score}", "UCUM", "score")
_ML = Code("mL", "UCUM", "milliliter")
_GRAM = Code("g", "UCUM", "gram")

_SUV_CODES: dict[str, tuple[Code, Code]] = {
    "bw": (codes.DCM.Suvbw, codes.UCUM.StandardizedUptakeValueBodyWeight),
    "lbm": (codes.DCM.Suvlbm, codes.UCUM.StandardizedUptakeValueLeanBodyMassJames),
    "bsa": (codes.DCM.Suvbsa, codes.UCUM.StandardizedUptakeValueBodySurfaceArea),
    "ibw": (codes.DCM.Suvibw, codes.UCUM.StandardizedUptakeValueIdealBodyWeight),
}
"""SUV quantity (CID 7180) and UCUM unit (CID 7181) for each normalisation."""


class SegmentKind(StrEnum):
    """What a segment represents; decides its SNOMED category and type codes."""

    LESION = "lesion"
    LIVER = "liver"
    SPLEEN = "spleen"
    BLOOD_POOL = "blood_pool"


_SEGMENT_CODES: dict[SegmentKind, tuple[Code, Code]] = {
    SegmentKind.LESION: (codes.SCT.MorphologicallyAbnormalStructure, codes.SCT.Lesion),
    SegmentKind.LIVER: (codes.SCT.AnatomicalStructure, codes.SCT.Liver),
    SegmentKind.SPLEEN: (codes.SCT.AnatomicalStructure, codes.SCT.Spleen),
    SegmentKind.BLOOD_POOL: (codes.SCT.AnatomicalStructure, codes.SCT.Aorta),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class SegmentSpec:
    """One segment of the label map.

    Parameters
    ----------
    number
        Label value in the label map and DICOM SegmentNumber (0062,0004); 1..N consecutive.
    label
        SegmentLabel (0062,0005), e.g. ``"Lesion 1"``.
    kind
        What the segment represents.
    tracking_uid
        TrackingUID (0062,0021) to follow the finding across studies; generated if ``None``.
    """

    number: int
    label: str
    kind: SegmentKind
    tracking_uid: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SegInfo:
    """Identity of a written SEG, as the SR needs it, and what was left out of the source.

    ``deviations`` and ``not_copied`` are those of
    :func:`nenscope.dicom.source_modules.clean_source_headers` (attribute names, never values);
    ``sources`` are the cleaned source headers the SEG was written from: given to
    :func:`write_sr` as its ``source_images``, they are not cleaned a second time.
    """

    sop_instance_uid: str
    series_instance_uid: str
    sop_class_uid: str
    tracking_uids: dict[int, str]
    deviations: tuple[str, ...] = ()
    not_copied: tuple[str, ...] = ()
    sources: CleanSources | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SrMeasurementGroup:
    """Measurements of one segment (a lesion or a reference region), as written to or read from SR.

    Parameters
    ----------
    segment_number
        The SEG segment the measurements belong to.
    tracking_id
        Human-readable tracking identifier (``"Lesion 1"``).
    tracking_uid
        Tracking UID shared with the SEG segment.
    kind
        What the segment represents.
    suvmax, suvpeak, suvmean
        SUV in g/mL (or the normalisation's unit); ``None`` when not measured.
    volume_ml
        Volume in mL.
    tlg
        Total lesion glycolysis (SUVmean × volume) in g.
    krenning
        Krenning score 0–4 (lesions only).
    finding_site
        SNOMED CT anatomic location ``(code value, meaning)`` of a lesion, or ``None``.
    """

    segment_number: int
    tracking_id: str
    tracking_uid: str
    kind: SegmentKind
    suvmax: float | None = None
    suvpeak: float | None = None
    suvmean: float | None = None
    volume_ml: float | None = None
    tlg: float | None = None
    krenning: int | None = None
    finding_site: tuple[str, str] | None = None


def _finding_sites(site: tuple[str, str] | None) -> list[hd.sr.FindingSite] | None:
    """TID 1419 Finding Site of a lesion from its SNOMED CT (value, meaning), or None."""
    if site is None:
        return None
    value, meaning = site
    return [hd.sr.FindingSite(anatomic_location=Code(value, "SCT", meaning))]


def _algorithm() -> hd.AlgorithmIdentificationSequence:
    return hd.AlgorithmIdentificationSequence(
        name="nenscope analyze",
        # CID 7162: thresholding and region growing are histogram/neighbourhood methods.
        family=codes.cid7162.NeighborhoodAnalysis,
        version=__version__,
    )


def _clean_sources(headers: Sequence[pydicom.Dataset]) -> CleanSources:
    """Source copies whose patient/study modules are valid; each deviation is warned once."""
    clean = clean_source_headers(headers)
    for text in clean.deviations:
        warnings.warn(f"Derived DICOM object: source {text}", DicomDeviationWarning, stacklevel=3)
    return clean


def _check_labels(
    labels: npt.NDArray[np.integer], segments: Sequence[SegmentSpec], n_source: int
) -> None:
    numbers = [s.number for s in segments]
    if numbers != list(range(1, len(numbers) + 1)):
        raise WorkbenchError(
            f"Cannot write DICOM SEG: segment numbers must be 1..N in order, got {numbers}."
        )
    if labels.ndim != 3 or labels.shape[0] != n_source:
        raise WorkbenchError(
            f"Cannot write DICOM SEG: label map shape {labels.shape} does not match the "
            f"{n_source} source slices (expected (slices, rows, columns))."
        )
    if labels.size and int(labels.max()) > len(segments):
        raise WorkbenchError(
            f"Cannot write DICOM SEG: label value {int(labels.max())} has no segment "
            f"description ({len(segments)} given)."
        )


@paused_gc()  # thousands of new elements and frame items: see paused_gc
def write_seg(
    path: Path,
    labels: npt.NDArray[np.integer],
    segments: Sequence[SegmentSpec],
    source_images: Sequence[pydicom.Dataset],
    *,
    series_number: int = 900,
) -> SegInfo:
    """Write a binary DICOM SEG of a label map drawn on the source PET images.

    Parameters
    ----------
    path
        Output file.
    labels
        Unsigned integer label map ``(slices, rows, columns)``, slice ``k`` drawn on
        ``source_images[k]``; 0 is background, value ``n`` is segment ``n``.
    segments
        One description per label value 1..N.
    source_images
        Headers of the source PET slices (pixel data not needed), in the label map's order.
    series_number
        SeriesNumber (0020,0011) of the new series.

    Returns
    -------
    SegInfo
        UIDs of the written object and the tracking UID of each segment.

    Raises
    ------
    WorkbenchError
        If the label map and segments do not fit together or there is no segment to write.
    """
    _check_labels(labels, segments, len(source_images))
    if not segments or not np.any(labels):
        raise WorkbenchError(
            "Cannot write DICOM SEG: the segmentation is empty (no lesion or reference region). "
            "Check the thresholds or pass seed points / masks."
        )
    tracking = {s.number: s.tracking_uid or hd.UID() for s in segments}
    descriptions = [
        hd.seg.SegmentDescription(
            segment_number=s.number,
            segment_label=s.label,
            segmented_property_category=_SEGMENT_CODES[s.kind][0],
            segmented_property_type=_SEGMENT_CODES[s.kind][1],
            algorithm_type=hd.seg.SegmentAlgorithmTypeValues.SEMIAUTOMATIC,
            algorithm_identification=_algorithm(),
            tracking_uid=tracking[s.number],
            tracking_id=s.label,
        )
        for s in segments
    ]
    dtype = np.uint8 if len(segments) < 256 else np.uint16
    clean = _clean_sources(source_images)
    seg = hd.seg.Segmentation(
        source_images=clean.datasets,
        pixel_array=np.ascontiguousarray(labels, dtype=dtype),
        segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=descriptions,
        series_instance_uid=hd.UID(),
        series_number=series_number,
        sop_instance_uid=hd.UID(),
        instance_number=1,
        manufacturer=MANUFACTURER,
        manufacturer_model_name="nenscope",
        software_versions=__version__,
        device_serial_number="0",
        series_description="nenscope lesions and reference regions",
        specific_character_set=clean.character_set,
    )
    seg.save_as(path)
    return SegInfo(
        sop_instance_uid=str(seg.SOPInstanceUID),
        series_instance_uid=str(seg.SeriesInstanceUID),
        sop_class_uid=str(seg.SOPClassUID),
        tracking_uids=tracking,
        deviations=clean.deviations,
        not_copied=clean.not_copied,
        sources=clean,
    )


def _segment_sources(
    seg: pydicom.Dataset,
) -> dict[int, tuple[list[int], list[tuple[str, str]]]]:
    """Per segment number: its SEG frame numbers and the (SOP class, instance) of its sources.

    Read from the SEG's per-frame functional groups: Segment Identification Sequence
    (0062,000A) and Derivation Image Sequence (0008,9124) of every frame.
    """
    out: dict[int, tuple[list[int], list[tuple[str, str]]]] = {}
    shared = seg.SharedFunctionalGroupsSequence[0]
    for number, frame in enumerate(seg.PerFrameFunctionalGroupsSequence, start=1):
        # With one segment, highdicom puts the segment identification (and possibly the
        # derivation) in the shared functional groups instead of each frame.
        ident = frame.get("SegmentIdentificationSequence") or shared.SegmentIdentificationSequence
        segment = int(ident[0].ReferencedSegmentNumber)
        frames, sources = out.setdefault(segment, ([], []))
        frames.append(number)
        derivations = frame.get("DerivationImageSequence") or shared.get(
            "DerivationImageSequence", []
        )
        for derivation in derivations:
            for source in derivation.get("SourceImageSequence", []):
                key = (str(source.ReferencedSOPClassUID), str(source.ReferencedSOPInstanceUID))
                if key not in sources:
                    sources.append(key)
    return out


def _referenced_segment(
    seg: pydicom.Dataset,
    number: int,
    sources: dict[int, tuple[list[int], list[tuple[str, str]]]],
    series_uid: str,
) -> hd.sr.ReferencedSegment:
    _, images = sources.get(number, ([], []))
    source_images = [hd.sr.SourceImageForSegmentation(c, i) for c, i in images] or None
    return hd.sr.ReferencedSegment(
        sop_class_uid=str(seg.SOPClassUID),
        sop_instance_uid=str(seg.SOPInstanceUID),
        # Referenced Frame Number and Referenced Segment Number are mutually exclusive in the
        # IMAGE content item (PS3.3 C.18.3.1.1); the segment number identifies the region.
        segment_number=number,
        source_images=source_images,
        source_series=None if source_images else hd.sr.SourceSeriesForSegmentation(series_uid),
    )


def _measurements(
    group: SrMeasurementGroup, suv_name: Code, suv_unit: Code
) -> list[hd.sr.Measurement]:
    out: list[hd.sr.Measurement] = []
    for value, derivation in (
        (group.suvmax, codes.SCT.Maximum),
        (group.suvpeak, codes.DCM.PeakValueWithinROI),
        (group.suvmean, codes.SCT.Mean),
    ):
        if value is not None:
            out.append(
                hd.sr.Measurement(
                    name=suv_name, value=float(value), unit=suv_unit, derivation=derivation
                )
            )
    if group.volume_ml is not None:
        out.append(hd.sr.Measurement(name=codes.SCT.Volume, value=group.volume_ml, unit=_ML))
    if group.tlg is not None:
        out.append(
            hd.sr.Measurement(name=codes.DCM.TotalLesionGlycolysis, value=group.tlg, unit=_GRAM)
        )
    if group.krenning is not None:
        out.append(
            hd.sr.Measurement(name=KRENNING_CODE, value=float(group.krenning), unit=_SCORE_UNIT)
        )
    return out


@paused_gc()  # the evidence of every source slice: see paused_gc
def write_sr(
    path: Path,
    groups: Sequence[SrMeasurementGroup],
    *,
    seg_path: Path,
    source_images: Sequence[pydicom.Dataset] | CleanSources,
    suv_normalisation: str = "bw",
    series_number: int = 901,
) -> str:
    """Write a TID 1500 measurement report (Comprehensive 3D SR) for the SEG at ``seg_path``.

    Parameters
    ----------
    path
        Output file.
    groups
        One measurement group per SEG segment to report.
    seg_path
        The SEG written by :func:`write_seg`; it is referenced and listed as evidence.
    source_images
        Headers of the source PET slices (listed as evidence), or the cleaned headers the SEG
        was written from (:attr:`SegInfo.sources`: not cleaned again).
    suv_normalisation
        ``"bw"``, ``"lbm"``, ``"bsa"`` or ``"ibw"``: chooses the SUV concept and unit codes.
    series_number
        SeriesNumber (0020,0011) of the new series.

    Returns
    -------
    str
        SOPInstanceUID of the SR.

    Raises
    ------
    WorkbenchError
        If the normalisation is unknown.
    """
    if suv_normalisation not in _SUV_CODES:
        raise WorkbenchError(
            f"Cannot write SR: unknown SUV normalisation {suv_normalisation!r}; "
            f"valid: {', '.join(sorted(_SUV_CODES))}."
        )
    suv_name, suv_unit = _SUV_CODES[suv_normalisation]
    seg = pydicom.dcmread(seg_path, stop_before_pixels=True)
    if isinstance(source_images, CleanSources):
        given: CleanSources | None = source_images
        headers: Sequence[pydicom.Dataset] = source_images.datasets
    else:
        given, headers = None, source_images
    pet_series_uid = str(headers[0].SeriesInstanceUID)
    sources = _segment_sources(seg)
    roi_groups = []
    for group in groups:
        kind_codes = _SEGMENT_CODES[group.kind]
        roi_groups.append(
            hd.sr.VolumetricROIMeasurementsAndQualitativeEvaluations(
                tracking_identifier=hd.sr.TrackingIdentifier(
                    uid=group.tracking_uid, identifier=group.tracking_id
                ),
                referenced_segment=_referenced_segment(
                    seg, group.segment_number, sources, pet_series_uid
                ),
                finding_type=kind_codes[1],
                finding_category=kind_codes[0],
                finding_sites=_finding_sites(group.finding_site),
                measurements=_measurements(group, suv_name, suv_unit),
            )
        )
    observer = hd.sr.ObserverContext(
        observer_type=codes.DCM.Device,
        observer_identifying_attributes=hd.sr.DeviceObserverIdentifyingAttributes(
            uid=hd.UID(), name="nenscope", manufacturer_name=MANUFACTURER
        ),
    )
    report = hd.sr.MeasurementReport(
        observation_context=hd.sr.ObservationContext(observer_device_context=observer),
        procedure_reported=codes.SCT.PositronEmissionTomographyOfWholeBody,
        imaging_measurements=roi_groups,
    )
    clean = _clean_sources(headers) if given is None else given
    sr = hd.sr.Comprehensive3DSR(
        evidence=[*clean.datasets, seg],
        content=report[0],
        series_instance_uid=hd.UID(),
        series_number=series_number,
        sop_instance_uid=hd.UID(),
        instance_number=1,
        manufacturer=MANUFACTURER,
        is_complete=True,
        series_description="nenscope measurement report",
        specific_character_set=clean.character_set,
    )
    sr.save_as(path)
    return str(sr.SOPInstanceUID)


def read_seg(
    path: Path, source_sop_instance_uids: Sequence[str]
) -> tuple[npt.NDArray[np.uint16], dict[int, str]]:
    """Read a SEG back as a label map on the given source slices.

    Parameters
    ----------
    path
        SEG file.
    source_sop_instance_uids
        SOPInstanceUIDs of the source slices, in the order wanted for axis 0.

    Returns
    -------
    labels
        uint16 ``(slices, rows, columns)`` label map (0 background).
    segment_labels
        SegmentLabel of each segment number.

    Raises
    ------
    DicomImportError
        If the file is not a segmentation of those images.
    """
    try:
        seg = hd.seg.segread(path)
        labels = seg.get_pixels_by_source_instance(
            source_sop_instance_uids=list(source_sop_instance_uids),
            combine_segments=True,
            skip_overlap_checks=True,
            ignore_spatial_locations=True,
            assert_missing_frames_are_empty=True,
        )
    except (ValueError, KeyError, AttributeError, RuntimeError) as err:
        raise DicomImportError(
            f"Cannot read {path} as a segmentation of the given {len(source_sop_instance_uids)} "
            f"source images: {err}"
        ) from err
    names = {int(d.SegmentNumber): str(d.SegmentLabel) for d in seg.SegmentSequence}
    return np.asarray(labels, dtype=np.uint16), names


def _value(
    group: hd.sr.VolumetricROIMeasurementsAndQualitativeEvaluations,
    name: Code,
    derivation: Code | None = None,
) -> float | None:
    for measurement in group.get_measurements(name=name):
        if derivation is None or measurement.derivation == derivation:
            return float(measurement.value)
    return None


def _kind(group: hd.sr.VolumetricROIMeasurementsAndQualitativeEvaluations) -> SegmentKind:
    finding = group.finding_type
    for kind, (_, type_code) in _SEGMENT_CODES.items():
        if finding is not None and finding == type_code:
            return kind
    raise DicomImportError(f"SR measurement group has an unknown finding type {finding}.")


def read_sr(path: Path) -> list[SrMeasurementGroup]:
    """Read the volumetric measurement groups of a TID 1500 SR written by :func:`write_sr`.

    Parameters
    ----------
    path
        SR file.

    Returns
    -------
    list of SrMeasurementGroup
        One per group, in document order; SUV values in the unit they were written with.

    Raises
    ------
    DicomImportError
        If the file is not a TID 1500 measurement report of segments.
    """
    try:
        sr = hd.sr.srread(path)
        report = hd.sr.MeasurementReport.from_sequence([sr])
        groups = report.get_volumetric_roi_measurement_groups()
    except (ValueError, KeyError, AttributeError, RuntimeError, TypeError) as err:
        raise DicomImportError(
            f"Cannot read {path} as a TID 1500 measurement report: {err}"
        ) from err
    out: list[SrMeasurementGroup] = []
    for group in groups:
        segment = group.referenced_segment
        numbers = None if segment is None else segment.referenced_segment_numbers
        if not numbers:
            raise DicomImportError(f"{path}: a measurement group references no SEG segment.")
        suv_name = next(
            (n for n, _ in _SUV_CODES.values() if group.get_measurements(name=n)),
            codes.DCM.Suvbw,
        )
        krenning = _value(group, KRENNING_CODE)
        out.append(
            SrMeasurementGroup(
                segment_number=int(numbers[0]),
                tracking_id=str(group.tracking_identifier),
                tracking_uid=str(group.tracking_uid),
                kind=_kind(group),
                suvmax=_value(group, suv_name, codes.SCT.Maximum),
                suvpeak=_value(group, suv_name, codes.DCM.PeakValueWithinROI),
                suvmean=_value(group, suv_name, codes.SCT.Mean),
                volume_ml=_value(group, codes.SCT.Volume),
                tlg=_value(group, codes.DCM.TotalLesionGlycolysis),
                krenning=None if krenning is None else round(krenning),
            )
        )
    return out
