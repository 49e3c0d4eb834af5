"""DICOM datasets of the synthetic PET/CT study (headers per vendor; used by ``synthetic.py``).

Writers are strict (STYLE 2.3): every value written here is computed, never guessed. The PET
timing follows DICOM PS3.3 C.8.9.4 and the vendor conventions summarised in
``shared/reference/suv-rules.md`` §4.2:

* Siemens / Philips: AcquisitionTime is the start of each bed; FrameReferenceTime is the offset
  in ms from the series reference time (SeriesTime) to the decay-weighted mean time of the frame,
  so ``t_ref = t_acq + T_ave - FrameReferenceTime / 1000`` holds on every slice.
* GE: AcquisitionTime equals SeriesTime on every slice and FrameReferenceTime is the offset of
  the bed start from it; the private scan_datetime (0009,100D) in "GEMS_PETD_01" repeats the
  series start.
* Philips CNTS: the pixel values are counts; the private "Philips PET Private Group" factors
  (7053,1000) (SUV scale factor) and (7053,1009) (activity concentration scale factor) convert
  them to SUVbw and Bq/mL.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import numpy as np
import numpy.typing as npt
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.sr.codedict import codes
from pydicom.sr.coding import Code
from pydicom.uid import PYDICOM_IMPLEMENTATION_UID, UID, ExplicitVRLittleEndian

from nenscope.core.units import CM_PER_M
from nenscope.quantification.phantom_model import Tracer, TracerInfo

__all__ = [
    "CT_IMAGE_STORAGE",
    "EXACT_MAX_VALUES",
    "EXACT_SLOPE_VARIANTS",
    "INT16_MAX",
    "PET_IMAGE_STORAGE",
    "PHILIPS_PRIVATE_CREATOR",
    "SLOPE_SPREAD",
    "SLOPE_STEP",
    "SUV_QUANTUM",
    "BedTiming",
    "PetUnits",
    "SeriesContext",
    "Vendor",
    "ct_dataset",
    "exact_pet_slope",
    "format_ds",
    "pet_dataset",
    "pet_slope",
]

CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
"""SOP Class UID of CT Image Storage."""

PET_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.128"
"""SOP Class UID of Positron Emission Tomography Image Storage."""

INT16_MAX = 32767
"""Largest stored PET pixel value (signed 16-bit storage, as scanners write)."""

SLOPE_SPREAD = 4096
"""The stored maximum of a PET slice lies in (INT16_MAX - SLOPE_SPREAD, INT16_MAX]."""

SLOPE_STEP = 2473
"""Step (coprime with SLOPE_SPREAD) that varies the stored maximum from slice to slice."""

SUV_QUANTUM = 1e-6
"""Finest SUV step :func:`exact_pet_slope` looks for (painted SUVs with up to 6 decimals)."""

EXACT_MAX_VALUES = 256
"""More distinct values than this on a slice: not piecewise constant, use :func:`pet_slope`."""

EXACT_SLOPE_VARIANTS = 16
"""Number of different slopes :func:`exact_pet_slope` cycles through from slice to slice."""

PHILIPS_PRIVATE_CREATOR = "Philips PET Private Group"
"""Private creator of the Philips PET scale factors in group 7053."""

GE_PRIVATE_CREATOR = "GEMS_PETD_01"
"""Private creator of the GE PET group 0009 (scan_datetime at element 0x0D)."""

MS_PER_S = 1000.0
"""Milliseconds per second (FrameReferenceTime and ActualFrameDuration are in ms; core/units.py
has no such constant yet)."""

SIEMENS_PRIVATE_CREATOR = "SIEMENS MI RECON"
"""Private creator of the Siemens group 0071 (decay correction datetime at element 0x22)."""


class Vendor(StrEnum):
    """Scanner vendor whose header conventions the synthetic PET series follows."""

    SIEMENS = "siemens"
    GE = "ge"
    PHILIPS = "philips"


class PetUnits(StrEnum):
    """Units (0054,1001) of the synthetic PET pixel values."""

    BQML = "BQML"
    CNTS = "CNTS"


_MANUFACTURER = {
    Vendor.SIEMENS: ("SIEMENS", "Biograph Vision 600"),
    Vendor.GE: ("GE MEDICAL SYSTEMS", "Discovery MI"),
    Vendor.PHILIPS: ("Philips Medical Systems", "Vereos PET/CT"),
}

_RADIONUCLIDE_CODE = {
    Tracer.GA68_DOTATATE: codes.SCT._68Gallium,
    Tracer.FDG: codes.SCT._18Fluorine,
    Tracer.CU64_DOTATATE: codes.SCT._64Copper,
}

# SNOMED CT codes of the radiopharmaceutical where pydicom's code dictionary has one.
_RADIOPHARMACEUTICAL_CODE = {
    Tracer.GA68_DOTATATE: codes.SCT.DotatateGa68,
    Tracer.FDG: codes.SCT.FluorodeoxyglucoseF18,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class SeriesContext:
    """Values shared by every slice of one series (patient, study, series identity)."""

    vendor: Vendor
    study_uid: str
    series_uid: str
    frame_of_reference_uid: str
    series_number: int
    series_description: str
    patient_id: str
    sex: str
    weight_kg: float
    height_cm: float
    study_datetime: datetime
    series_datetime: datetime
    rows: int
    columns: int
    pixel_spacing_mm: tuple[float, float]
    slice_thickness_mm: float


@dataclass(frozen=True, slots=True, kw_only=True)
class BedTiming:
    """Timing of one PET bed position.

    Parameters
    ----------
    start
        Real-world start of the bed acquisition.
    duration_s
        Frame duration in s.
    offset_s
        Bed start minus series reference time, in s.
    decay_factor
        DecayFactor (0054,1321): decay from the bed to the reference time times the
        frame-average factor.
    mean_time_offset_s
        Offset from the bed start to the decay-weighted mean time of the frame, s.
    """

    start: datetime
    duration_s: float
    offset_s: float
    decay_factor: float
    mean_time_offset_s: float


def format_ds(value: float) -> str:
    """Format a float as a DICOM DS string (at most 16 characters, full usable precision).

    Examples
    --------
    >>> format_ds(1.0 / 3.0)
    '0.33333333333333'
    >>> format_ds(1.2345678901234e-5)
    '1.2345678901e-05'
    """
    for digits in range(14, 0, -1):
        text = f"{value:.{digits}g}"
        if "e" in text:
            mantissa, exponent = text.split("e")
            text = f"{mantissa}e{int(exponent):+03d}"
        if len(text) <= 16:
            return text
    raise ValueError(f"Cannot format {value} as a DICOM DS.")


def pet_slope(slice_max: float, *, k: int = 0) -> float:
    """Per-slice RescaleSlope for int16 storage whose DS string reproduces it exactly.

    The slice maximum maps to a stored value a little below :data:`INT16_MAX` that differs
    from slice to slice (``k`` is the slice index), so every slice gets its own slope even
    where two slices hold the same values. A reader that applies one slope to the whole series
    therefore fails the round trip, as it would on GE data. A slice without positive values
    gets slope 1.

    Examples
    --------
    >>> pet_slope(32767.0)
    1.0
    >>> pet_slope(0.0)
    1.0
    """
    if not (math.isfinite(slice_max) and slice_max > 0):
        return 1.0
    target = INT16_MAX - (k * SLOPE_STEP) % SLOPE_SPREAD
    return float(format_ds(slice_max / target))


def exact_pet_slope(
    suv: npt.NDArray[np.float64], *, unit_per_suv: float, k: int = 0
) -> float | None:
    """RescaleSlope that stores every value of a piecewise-constant slice exactly, or None.

    Noise-free, unblurred slices hold a few distinct SUVs that are multiples of a decimal
    quantum (e.g. 0.1). If all of them are integer multiples ``n·g`` of a common step ``g``
    (a multiple of :data:`SUV_QUANTUM`) with ``n <= INT16_MAX``, the slope
    ``g · unit_per_suv / m`` (``m`` the largest integer that keeps ``n·m`` in int16, lowered a
    little from slice to slice so that slopes differ) stores each value as an exact integer, and
    ``stored × slope`` gives the value back to the precision of the DS string (about 1e-14).

    Parameters
    ----------
    suv
        SUV values of one slice (any shape).
    unit_per_suv
        Stored unit (Bq/mL or counts) per SUV.
    k
        Slice index, to vary the slope.

    Returns
    -------
    float or None
        The slope (its own DS-string value), or None if the slice is not piecewise constant on
        such a grid (blurred or noisy data), has more than :data:`EXACT_MAX_VALUES` distinct
        values, or holds no positive value.

    Examples
    --------
    >>> s = exact_pet_slope(np.array([0.0, 0.3, 7.0, 45.0]), unit_per_suv=1.0)
    >>> s  # step 0.1 SUV, 45 SUV = 450 steps, m = 32767 // 450 = 72: slope 0.1 / 72
    0.00138888888889
    >>> [round(v / s) for v in (0.3, 7.0, 45.0)]
    [216, 5040, 32400]
    """
    values = np.unique(np.asarray(suv, dtype=np.float64))
    if values.size > EXACT_MAX_VALUES or values[0] < 0:
        return None
    ints = np.rint(values / SUV_QUANTUM)
    if np.any(np.abs(ints * SUV_QUANTUM - values) > 1e-9 * np.maximum(1.0, values)):
        return None
    positive = ints[ints > 0].astype(np.int64)
    if positive.size == 0:
        return None
    step = int(np.gcd.reduce(positive))
    n_max = int(positive.max()) // step
    if n_max > INT16_MAX:
        return None
    m = INT16_MAX // n_max
    m_k = m - (k % min(m, EXACT_SLOPE_VARIANTS))
    return float(format_ds(step * SUV_QUANTUM * unit_per_suv / m_k))


def _da(when: datetime) -> str:
    return when.strftime("%Y%m%d")


def _tm(when: datetime) -> str:
    return when.strftime("%H%M%S.%f")


def _dt(when: datetime) -> str:
    return when.strftime("%Y%m%d%H%M%S.%f")


def _file_meta(sop_class: str, sop_instance: str) -> FileMetaDataset:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = UID(sop_class)
    meta.MediaStorageSOPInstanceUID = UID(sop_instance)
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    return meta


def _common(ctx: SeriesContext, *, sop_class: str, sop_instance: str, modality: str) -> Dataset:
    """Patient, study, series, frame-of-reference and equipment modules."""
    ds = Dataset()
    ds.file_meta = _file_meta(sop_class, sop_instance)
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = sop_instance
    ds.StudyDate = _da(ctx.study_datetime)
    ds.StudyTime = _tm(ctx.study_datetime)
    ds.SeriesDate = _da(ctx.series_datetime)
    ds.SeriesTime = _tm(ctx.series_datetime)
    ds.AccessionNumber = ""
    ds.Modality = modality
    manufacturer, model = _MANUFACTURER[ctx.vendor]
    ds.Manufacturer = manufacturer
    ds.ManufacturerModelName = model
    ds.InstitutionName = "nenscope synthetic phantom"
    ds.ReferringPhysicianName = ""
    ds.StudyDescription = "PET/CT synthetic phantom"
    ds.SeriesDescription = ctx.series_description
    ds.PatientName = "NENSCOPE^PHANTOM"
    ds.PatientID = ctx.patient_id
    ds.PatientBirthDate = ""
    ds.PatientSex = ctx.sex
    ds.PatientWeight = format_ds(ctx.weight_kg)
    ds.PatientSize = format_ds(ctx.height_cm / CM_PER_M)
    ds.StudyInstanceUID = ctx.study_uid
    ds.SeriesInstanceUID = ctx.series_uid
    ds.StudyID = "1"
    ds.SeriesNumber = ctx.series_number
    ds.FrameOfReferenceUID = ctx.frame_of_reference_uid
    ds.PositionReferenceIndicator = ""
    ds.PatientPosition = "HFS"
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.PixelSpacing = [format_ds(v) for v in ctx.pixel_spacing_mm]
    ds.SliceThickness = format_ds(ctx.slice_thickness_mm)
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = ctx.rows
    ds.Columns = ctx.columns
    ds.BitsAllocated = 16
    ds.BitsStored = 16
    ds.HighBit = 15
    return ds


def _place(ds: Dataset, *, instance: int, position_mm: tuple[float, float, float]) -> None:
    ds.InstanceNumber = instance
    ds.ImagePositionPatient = [format_ds(v) for v in position_mm]
    ds.SliceLocation = format_ds(position_mm[2])


def ct_dataset(
    ctx: SeriesContext,
    *,
    sop_instance: str,
    instance: int,
    position_mm: tuple[float, float, float],
    stored: npt.NDArray[np.uint16],
) -> Dataset:
    """One CT slice: HU = stored - 1024 (RescaleIntercept -1024, slope 1), unsigned 16-bit."""
    ds = _common(ctx, sop_class=CT_IMAGE_STORAGE, sop_instance=sop_instance, modality="CT")
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.AcquisitionDate = ds.SeriesDate
    ds.AcquisitionTime = ds.SeriesTime
    ds.ContentDate = ds.SeriesDate
    ds.ContentTime = ds.SeriesTime
    ds.KVP = "120"
    ds.ConvolutionKernel = "B30f" if ctx.vendor is Vendor.SIEMENS else "STANDARD"
    ds.PixelRepresentation = 0
    ds.RescaleIntercept = "-1024"
    ds.RescaleSlope = "1"
    ds.RescaleType = "HU"
    ds.WindowCenter = "40"
    ds.WindowWidth = "400"
    _place(ds, instance=instance, position_mm=position_mm)
    ds.PixelData = np.ascontiguousarray(stored, dtype="<u2").tobytes()
    return ds


@dataclass(frozen=True, slots=True, kw_only=True)
class PetDose:
    """Injection facts written into RadiopharmaceuticalInformationSequence (0054,0016)."""

    tracer: Tracer
    info: TracerInfo
    injected_bq: float
    injection: datetime


def _radiopharmaceutical_item(dose: PetDose) -> Dataset:
    item = Dataset()
    item.Radiopharmaceutical = dose.info.radiopharmaceutical
    item.RadiopharmaceuticalStartTime = _tm(dose.injection)
    item.RadiopharmaceuticalStartDateTime = _dt(dose.injection)
    item.RadionuclideTotalDose = format_ds(dose.injected_bq)
    item.RadionuclideHalfLife = format_ds(dose.info.half_life_s)
    item.RadionuclidePositronFraction = format_ds(dose.info.positron_fraction)
    item.RadionuclideCodeSequence = DicomSequence([_code_item(_RADIONUCLIDE_CODE[dose.tracer])])
    pharma = _RADIOPHARMACEUTICAL_CODE.get(dose.tracer)
    if pharma is not None:
        item.RadiopharmaceuticalCodeSequence = DicomSequence([_code_item(pharma)])
    return item


@dataclass(frozen=True, slots=True, kw_only=True)
class PetSlice:
    """Per-slice values of one PET image."""

    sop_instance: str
    instance: int
    image_index: int
    n_slices: int
    position_mm: tuple[float, float, float]
    stored: npt.NDArray[np.int16]
    slope: float
    bed: BedTiming
    units: PetUnits
    philips_factors: tuple[float, float] | None
    """(SUV scale factor, activity concentration scale factor) for Philips, else None."""


def pet_dataset(ctx: SeriesContext, dose: PetDose, sl: PetSlice) -> Dataset:
    """One PET slice with the vendor's timing conventions (module docstring)."""
    ds = _common(ctx, sop_class=PET_IMAGE_STORAGE, sop_instance=sl.sop_instance, modality="PT")
    ds.ImageType = ["ORIGINAL", "PRIMARY"]
    acq = ctx.series_datetime if ctx.vendor is Vendor.GE else sl.bed.start
    if ctx.vendor is Vendor.GE:
        frame_reference_ms = sl.bed.offset_s * MS_PER_S
    else:
        frame_reference_ms = (sl.bed.offset_s + sl.bed.mean_time_offset_s) * MS_PER_S
    ds.AcquisitionDate = _da(acq)
    ds.AcquisitionTime = _tm(acq)
    ds.ContentDate = ds.SeriesDate
    ds.ContentTime = ds.SeriesTime
    ds.SeriesType = ["WHOLE BODY", "IMAGE"]
    ds.Units = sl.units.value
    ds.CountsSource = "EMISSION"
    ds.DecayCorrection = "START"
    ds.CorrectedImage = ["DECY", "ATTN", "SCAT", "DTIM", "RAN", "NORM"]
    ds.RandomsCorrectionMethod = "DLYD"
    ds.AttenuationCorrectionMethod = "CT-based"
    ds.ScatterCorrectionMethod = "Model-based"
    ds.ReconstructionMethod = "OSEM"
    ds.CollimatorType = "NONE"
    ds.FrameReferenceTime = format_ds(frame_reference_ms)
    ds.ActualFrameDuration = round(sl.bed.duration_s * MS_PER_S)
    ds.DecayFactor = format_ds(sl.bed.decay_factor)
    ds.SliceSensitivityFactor = "1"
    # CorrectedImage lists SCAT and DTIM, which make these factors required (PS3.3 C.8.9.4);
    # the phantom simulates neither, so the values are nominal.
    ds.ScatterFractionFactor = "0.3"
    ds.DeadTimeFactor = "1"
    ds.NumberOfSlices = sl.n_slices
    ds.NumberOfTimeSlices = 1
    ds.ImageIndex = sl.image_index
    ds.RadiopharmaceuticalInformationSequence = DicomSequence([_radiopharmaceutical_item(dose)])
    ds.PixelRepresentation = 1
    ds.RescaleIntercept = "0"
    ds.RescaleSlope = format_ds(sl.slope)
    ds.SmallestImagePixelValue = int(sl.stored.min())
    ds.LargestImagePixelValue = int(sl.stored.max())
    _place(ds, instance=sl.instance, position_mm=sl.position_mm)
    _patient_orientation(ds)
    _vendor_private(ds, ctx, dose)
    if sl.philips_factors is not None:
        block = ds.private_block(0x7053, PHILIPS_PRIVATE_CREATOR, create=True)
        block.add_new(0x00, "DS", format_ds(sl.philips_factors[0]))
        block.add_new(0x09, "DS", format_ds(sl.philips_factors[1]))
    ds.PixelData = np.ascontiguousarray(sl.stored, dtype="<i2").tobytes()
    return ds


def _code_item(code: Code) -> Dataset:
    item = Dataset()
    item.CodeValue = code.value
    item.CodingSchemeDesignator = code.scheme_designator
    item.CodeMeaning = code.meaning
    return item


def _patient_orientation(ds: Dataset) -> None:
    """NM/PET Patient Orientation Module (PS3.3 C.8.4.6): supine, head first (HFS)."""
    orientation = _code_item(codes.SCT.Recumbent)
    orientation.PatientOrientationModifierCodeSequence = DicomSequence(
        [_code_item(codes.SCT.Supine)]
    )
    ds.PatientOrientationCodeSequence = DicomSequence([orientation])
    ds.PatientGantryRelationshipCodeSequence = DicomSequence([_code_item(codes.SCT.Headfirst)])


def _vendor_private(ds: Dataset, ctx: SeriesContext, dose: PetDose) -> None:
    if ctx.vendor is Vendor.GE:
        block = ds.private_block(0x0009, GE_PRIVATE_CREATOR, create=True)
        block.add_new(0x0D, "DT", _dt(ctx.series_datetime))
        block.add_new(0x3B, "DT", _dt(dose.injection))
    elif ctx.vendor is Vendor.SIEMENS:
        block = ds.private_block(0x0071, SIEMENS_PRIVATE_CREATOR, create=True)
        block.add_new(0x22, "DT", _dt(ctx.series_datetime))
