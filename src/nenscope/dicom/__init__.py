"""DICOM and NIfTI input/output: the only package that uses pydicom, highdicom and nibabel.

Discovery of series in folder trees, series reading into :class:`~nenscope.core.ImageVolume`,
NIfTI images in and out, and masks (NIfTI, DICOM SEG, RTSTRUCT) on an image grid.
"""

from nenscope.dicom._sorting import (
    GeometryPolicy,
    SliceGeometry,
    StackedSlices,
    StackSettings,
    slice_geometry,
    sort_slices,
    stack_slices,
)
from nenscope.dicom.discovery import (
    Discovery,
    SeriesRef,
    SkippedFile,
    capabilities,
    discover_series,
    scan_folder,
)
from nenscope.dicom.masks import (
    read_mask,
    read_nifti_mask,
    read_rtstruct_mask,
    read_seg_mask,
)
from nenscope.dicom.mr import DiffusionSeries, compute_adc_maps, read_dwi_series
from nenscope.dicom.nifti import lps_to_ras_affine, ras_to_lps_affine, read_nifti, write_nifti
from nenscope.dicom.pet import (
    Normalisation,
    SuvOverrides,
    SuvResult,
    compute_suv,
    compute_suv_from_headers,
    suv_volume,
)
from nenscope.dicom.series import DicomSeries, read_series, split_frames, unit_for
from nenscope.dicom.synthetic import (
    PhantomSettings,
    PhantomTruth,
    read_phantom_truth,
    write_phantom_study,
)

__all__ = [
    "DicomSeries",
    "DiffusionSeries",
    "Discovery",
    "GeometryPolicy",
    "Normalisation",
    "PhantomSettings",
    "PhantomTruth",
    "SeriesRef",
    "SkippedFile",
    "SliceGeometry",
    "StackSettings",
    "StackedSlices",
    "SuvOverrides",
    "SuvResult",
    "capabilities",
    "compute_adc_maps",
    "compute_suv",
    "compute_suv_from_headers",
    "discover_series",
    "lps_to_ras_affine",
    "ras_to_lps_affine",
    "read_dwi_series",
    "read_mask",
    "read_nifti",
    "read_nifti_mask",
    "read_phantom_truth",
    "read_rtstruct_mask",
    "read_seg_mask",
    "read_series",
    "scan_folder",
    "slice_geometry",
    "sort_slices",
    "split_frames",
    "stack_slices",
    "suv_volume",
    "unit_for",
    "write_nifti",
    "write_phantom_study",
]
