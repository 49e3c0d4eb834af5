"""DICOM and NIfTI input/output: the only package that uses pydicom, highdicom and nibabel.

Discovery of series in folder trees, series reading into :class:`~nenscope.core.ImageVolume`,
NIfTI images in and out, and masks (NIfTI, DICOM SEG, RTSTRUCT) on an image grid.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nenscope.core.lazy import lazy_exports

if TYPE_CHECKING:
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

_LAZY = {
    "GeometryPolicy": "nenscope.dicom._sorting",
    "SliceGeometry": "nenscope.dicom._sorting",
    "StackedSlices": "nenscope.dicom._sorting",
    "StackSettings": "nenscope.dicom._sorting",
    "slice_geometry": "nenscope.dicom._sorting",
    "sort_slices": "nenscope.dicom._sorting",
    "stack_slices": "nenscope.dicom._sorting",
    "Discovery": "nenscope.dicom.discovery",
    "SeriesRef": "nenscope.dicom.discovery",
    "SkippedFile": "nenscope.dicom.discovery",
    "capabilities": "nenscope.dicom.discovery",
    "discover_series": "nenscope.dicom.discovery",
    "scan_folder": "nenscope.dicom.discovery",
    "read_mask": "nenscope.dicom.masks",
    "read_nifti_mask": "nenscope.dicom.masks",
    "read_rtstruct_mask": "nenscope.dicom.masks",
    "read_seg_mask": "nenscope.dicom.masks",
    "DiffusionSeries": "nenscope.dicom.mr",
    "compute_adc_maps": "nenscope.dicom.mr",
    "read_dwi_series": "nenscope.dicom.mr",
    "lps_to_ras_affine": "nenscope.dicom.nifti",
    "ras_to_lps_affine": "nenscope.dicom.nifti",
    "read_nifti": "nenscope.dicom.nifti",
    "write_nifti": "nenscope.dicom.nifti",
    "Normalisation": "nenscope.dicom.pet",
    "SuvOverrides": "nenscope.dicom.pet",
    "SuvResult": "nenscope.dicom.pet",
    "compute_suv": "nenscope.dicom.pet",
    "compute_suv_from_headers": "nenscope.dicom.pet",
    "suv_volume": "nenscope.dicom.pet",
    "DicomSeries": "nenscope.dicom.series",
    "read_series": "nenscope.dicom.series",
    "split_frames": "nenscope.dicom.series",
    "unit_for": "nenscope.dicom.series",
    "PhantomSettings": "nenscope.dicom.synthetic",
    "PhantomTruth": "nenscope.dicom.synthetic",
    "read_phantom_truth": "nenscope.dicom.synthetic",
    "write_phantom_study": "nenscope.dicom.synthetic",
}
"""Public name → module that defines it, imported on first access (PEP 562): importing
``nenscope.dicom`` stays cheap and each command loads only what it uses (issue 9 item 6)."""


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())


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
