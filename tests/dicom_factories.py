"""DICOM factories for tests: a tiny but complete single-frame PET series written with pydicom."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pydicom
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import (
    ExplicitVRLittleEndian,
    PositronEmissionTomographyImageStorage,
    generate_uid,
)


def write_pet_series(
    folder: Path,
    values: npt.NDArray[np.uint16],
    *,
    slice_spacing_mm: float,
    patient: tuple[str, str] = ("TEST^PET", "PET1"),
) -> list[pydicom.Dataset]:
    """Write ``values`` ((z, y, x) stored values, Bq/mL with slope 1) as PET Image Storage files.

    The grid is axial, 4 × 4 mm pixels, first pixel at (-40, -30, 0) mm LPS. Returns the headers
    (read back without pixels) in slice order.
    """
    folder.mkdir(parents=True, exist_ok=True)
    study, series, frame = generate_uid(), generate_uid(), generate_uid()
    now = datetime(2026, 1, 2, 10, 0, 0)
    n_slices, rows, cols = values.shape
    headers: list[pydicom.Dataset] = []
    for k in range(n_slices):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = PositronEmissionTomographyImageStorage
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = FileDataset(folder / f"{k:03d}.dcm", {}, file_meta=meta, preamble=b"\0" * 128)
        ds.SOPClassUID = meta.MediaStorageSOPClassUID
        ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
        ds.PatientName, ds.PatientID = patient
        ds.PatientBirthDate, ds.PatientSex = "19600101", "F"
        ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
        ds.FrameOfReferenceUID, ds.PositionReferenceIndicator = frame, ""
        ds.StudyDate = ds.SeriesDate = ds.ContentDate = now.strftime("%Y%m%d")
        ds.StudyTime = ds.SeriesTime = ds.ContentTime = now.strftime("%H%M%S")
        ds.AccessionNumber, ds.ReferringPhysicianName, ds.StudyID = "A1", "", "1"
        ds.Modality, ds.SeriesNumber, ds.InstanceNumber = "PT", 1, k + 1
        ds.Manufacturer = "test"
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.ImagePositionPatient = [-40.0, -30.0, slice_spacing_mm * k]
        ds.PixelSpacing, ds.SliceThickness = [4.0, 4.0], slice_spacing_mm
        ds.Rows, ds.Columns = rows, cols
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
        ds.RescaleSlope, ds.RescaleIntercept = 1.0, 0.0
        ds.Units, ds.ImageType = "BQML", ["ORIGINAL", "PRIMARY"]
        ds.PixelData = np.ascontiguousarray(values[k], dtype=np.uint16).tobytes()
        ds.save_as(folder / f"{k:03d}.dcm", enforce_file_format=True)
        headers.append(pydicom.dcmread(folder / f"{k:03d}.dcm", stop_before_pixels=True))
    return headers
