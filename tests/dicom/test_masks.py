"""Tests of dicom/masks.py: RTSTRUCT rasterisation, DICOM SEG and NIfTI masks on a grid."""

from __future__ import annotations

import copy
import shutil
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import highdicom as hd
import numpy as np
import pydicom
import pytest
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import generate_uid

from nenscope.core.errors import (
    DicomDeviationWarning,
    DicomImportError,
    GeometryError,
    WorkbenchError,
)
from nenscope.core.geometry import ImageVolume, affine_from_spacing
from nenscope.core.units import Unit
from nenscope.dicom import DicomSeries, read_mask, read_rtstruct_mask, read_series, write_nifti
from tests.conftest import shared_data_path

CT_PHANTOM = ("ibsi", "ibsi_1_ct_radiomics_phantom")
GE = ("dicom", "tcia-sts-001-ge-petct")
SPECT = ("dicom", "lu177-dotatate-spect-xspect-subset")

# tcia-sts-001-ge-petct/README.md: SUVbw factor (QIBA rules) and MIRP's published SUVbw range
# inside GTV_Mass: max 7.9–8.0, min 0.15–0.20.
GE_SUV_BW_FACTOR = 2.42902977e-4
# lu177 README: SUVbw factor 1.28963e-5 g/Bq (DecayCorrection ADMIN), slab SUVbw max 44.76.
SPECT_SUV_BW_FACTOR = 1.28963e-5


@pytest.fixture(scope="module")
def ct_phantom() -> DicomSeries:
    return read_series(shared_data_path(*CT_PHANTOM, "dicom", "image"))


def test_ibsi_rtstruct_matches_the_ibsi_nifti_mask(ct_phantom: DicomSeries) -> None:
    # IBSI data set: the RTSTRUCT and the NIfTI mask are the same GTV-1 (125,256 voxels).
    # Measured: identical, Dice 1.0, 0 differing voxels, with centre-inside + even-odd.
    contours = read_mask(shared_data_path(*CT_PHANTOM, "dicom", "mask"), ct_phantom.volume)
    reference = read_mask(
        shared_data_path(*CT_PHANTOM, "nifti", "mask", "mask.nii.gz"), ct_phantom.volume
    )
    assert list(contours) == ["GTV-1"]
    mask, truth = contours["GTV-1"], reference["mask"]
    assert mask.dtype == np.bool_
    assert mask.shape == ct_phantom.volume.shape
    assert int(truth.sum()) == 125_256
    dice = 2 * np.count_nonzero(mask & truth) / (mask.sum() + truth.sum())
    assert int(np.count_nonzero(mask ^ truth)) == 0, f"Dice {dice:.5f}"


def test_ge_pet_gtv_mass_gives_the_published_suv_range() -> None:
    pet = read_series(shared_data_path(*GE, "PT_raw_BQML")).volume
    masks = read_mask(shared_data_path(*GE, "RTSTRUCT_on_PT"), pet)
    assert {"GTV_Mass", "GTV_Edema"} <= set(masks)
    values = np.asarray(pet.array, dtype=np.float64)[masks["GTV_Mass"]] * GE_SUV_BW_FACTOR
    assert 7.9 <= float(values.max()) <= 8.0
    assert 0.15 <= float(values.min()) <= 0.20


def test_spect_lesions_lie_in_the_slab() -> None:
    spect = read_series(shared_data_path(*SPECT, "PT_xSPECT_BQML_slab")).volume
    masks = read_mask(shared_data_path(*SPECT, "RTSTRUCT_lesions"), spect)
    assert set(masks) == {"lesion1 liver R lobe", "lesion2 liver L lateral"}
    assert all(m.any() for m in masks.values())
    # README: slab SUVbw max 44.76; a lesion cannot exceed the slab maximum.
    suv_max = max(float(spect.array[m].max()) for m in masks.values()) * SPECT_SUV_BW_FACTOR
    assert suv_max <= 44.76 + 0.005
    assert float(spect.array.max()) * SPECT_SUV_BW_FACTOR == pytest.approx(44.76, abs=0.005)


def test_rtstruct_from_another_frame_of_reference_is_refused(
    ct_phantom: DicomSeries, tmp_path: Path
) -> None:
    source = shared_data_path(*CT_PHANTOM, "dicom", "mask", "DCM_RS_00060.dcm")
    ds = pydicom.dcmread(source)
    for roi in ds.StructureSetROISequence:
        roi.ReferencedFrameOfReferenceUID = "1.2.3.999"
    ds.save_as(tmp_path / "rs.dcm")
    with pytest.raises(GeometryError, match=r"frame of reference 1\.2\.3\.999"):
        read_mask(tmp_path / "rs.dcm", ct_phantom.volume)


def small_reference() -> ImageVolume:
    # 3 slices of 10×10 voxels, 2 mm, origin at LPS (0, 0, 0), axial.
    return ImageVolume(
        array=np.zeros((3, 10, 10)),
        affine=affine_from_spacing((2.0, 2.0, 2.0)),
        unit=Unit.HU,
        frame_of_reference_uid="1.2.3.9",
    )


def square(x0: float, x1: float, z: float) -> list[float]:
    return [x0, x0, z, x1, x0, z, x1, x1, z, x0, x1, z]


def rtstruct(contours: Sequence[Sequence[float]], *, frame: str = "1.2.3.9") -> Dataset:
    ds = Dataset()
    ds.Modality = "RTSTRUCT"
    roi = Dataset()
    roi.ROINumber, roi.ROIName = 1, "lesion"
    if frame:
        roi.ReferencedFrameOfReferenceUID = frame
    ds.StructureSetROISequence = DicomSequence([roi])
    items = []
    for data in contours:
        item = Dataset()
        item.ContourGeometricType = "CLOSED_PLANAR"
        item.NumberOfContourPoints = len(data) // 3
        item.ContourData = [float(v) for v in data]
        items.append(item)
    roi_contour = Dataset()
    roi_contour.ReferencedROINumber = 1
    roi_contour.ContourSequence = DicomSequence(items)
    ds.ROIContourSequence = DicomSequence([roi_contour])
    return ds


def test_centre_inside_rule_and_holes_by_hand() -> None:
    # By hand: x, y from 3 to 11 mm = indices 1.5 … 5.5 → centres 2, 3, 4, 5 (4 × 4 = 16).
    # The hole from 5 to 9 mm = indices 2.5 … 4.5 → centres 3, 4 (2 × 2 = 4): 16 − 4 = 12.
    ds = rtstruct([square(3.0, 11.0, 2.0), square(5.0, 9.0, 2.0)])
    mask = read_rtstruct_mask(ds, small_reference(), path=Path("rs.dcm"))["lesion"]
    assert int(mask.sum()) == 12
    assert mask[1].sum() == 12
    assert mask[1, 2, 2]
    assert not mask[1, 3, 3]


def test_contours_outside_the_volume_are_dropped_with_a_warning() -> None:
    ds = rtstruct([square(3.0, 11.0, 2.0), square(3.0, 11.0, 40.0)])
    with pytest.warns(DicomDeviationWarning, match="outside the image volume"):
        mask = read_rtstruct_mask(ds, small_reference(), path=Path("rs.dcm"))["lesion"]
    assert int(mask.sum()) == 16


def test_contour_between_slices_is_snapped_with_a_warning() -> None:
    ds = rtstruct([square(3.0, 11.0, 2.9)])
    with pytest.warns(DicomDeviationWarning, match="nearest contour plane"):
        mask = read_rtstruct_mask(ds, small_reference(), path=Path("rs.dcm"))["lesion"]
    assert int(mask[1].sum()) == 16


def test_contours_on_a_finer_grid_do_not_cancel() -> None:
    # A structure set drawn every 1 mm (e.g. on a CT) applied to 2 mm slices: each slice takes
    # its own plane; neighbouring planes are not XOR-ed into holes. By hand: 16 per slice.
    ds = rtstruct([square(3.0, 11.0, z) for z in (0.0, 1.0, 2.0, 3.0, 4.0)])
    with pytest.warns(DicomDeviationWarning, match="2 × contour between image slices not used"):
        mask = read_rtstruct_mask(ds, small_reference(), path=Path("rs.dcm"))["lesion"]
    np.testing.assert_array_equal(mask.sum(axis=(1, 2)), [16, 16, 16])


def test_contours_on_a_coarser_grid_leave_slices_empty_and_say_so() -> None:
    # Planes at 0 and 4 mm on 2 mm slices: slice 1 (2 mm) has no plane within half a slice;
    # nothing is interpolated.
    ds = rtstruct([square(3.0, 11.0, 0.0), square(3.0, 11.0, 4.0)])
    with pytest.warns(DicomDeviationWarning, match="left empty"):
        mask = read_rtstruct_mask(ds, small_reference(), path=Path("rs.dcm"))["lesion"]
    np.testing.assert_array_equal(mask.sum(axis=(1, 2)), [16, 0, 16])


def test_reference_without_frame_of_reference_warns() -> None:
    reference = ImageVolume(
        array=np.zeros((3, 10, 10)), affine=affine_from_spacing((2.0, 2.0, 2.0)), unit=Unit.HU
    )
    with pytest.warns(DicomDeviationWarning, match="aligned by geometry only"):
        read_rtstruct_mask(rtstruct([square(3.0, 11.0, 2.0)]), reference, path=Path("rs.dcm"))


def test_nifti_mask_on_another_grid_is_refused(tmp_path: Path) -> None:
    reference = small_reference()
    shifted = ImageVolume(
        array=np.ones((3, 10, 10), dtype=np.uint8),
        affine=affine_from_spacing((2.0, 2.0, 2.0), origin_mm=(1.0, 0.0, 0.0)),
        unit=Unit.LABEL,
    )
    write_nifti(shifted, tmp_path / "mask.nii.gz")
    with pytest.raises(GeometryError, match="does not match the image"):
        read_mask(tmp_path / "mask.nii.gz", reference)


def test_nifti_label_map_gives_one_mask_per_label(tmp_path: Path) -> None:
    labels = np.zeros((3, 10, 10), dtype=np.uint8)
    labels[0, :2] = 1
    labels[2, 5:] = 3
    reference = small_reference()
    write_nifti(reference.with_array(labels, unit=Unit.LABEL), tmp_path / "labels.nii.gz")
    masks = read_mask(tmp_path / "labels.nii.gz", reference)
    assert set(masks) == {"label_1", "label_3"}
    assert int(masks["label_1"].sum()) == 20
    assert int(masks["label_3"].sum()) == 50


def test_fractional_nifti_is_refused(tmp_path: Path) -> None:
    reference = small_reference()
    write_nifti(reference.with_array(np.full((3, 10, 10), 0.5)), tmp_path / "p.nii.gz")
    with pytest.raises(DicomImportError, match="must be integers"):
        read_mask(tmp_path / "p.nii.gz", reference)


def _highdicom_seg(ct_phantom: DicomSeries, mask: np.ndarray, frame: str | None) -> Dataset:
    files = sorted(shared_data_path(*CT_PHANTOM, "dicom", "image").iterdir())
    sources = sorted(
        (pydicom.dcmread(p, stop_before_pixels=False) for p in files),
        key=lambda ds: float(ds.ImagePositionPatient[2]),
    )
    # highdicom pairs mask frame i with source image i; ct_phantom is ascending in z too.
    assert [float(s.ImagePositionPatient[2]) for s in sources] == [
        float(h.ImagePositionPatient[2]) for h in ct_phantom.headers
    ]
    description = hd.seg.SegmentDescription(
        segment_number=1,
        segment_label="GTV",
        segmented_property_category=hd.sr.CodedConcept(
            "49755003", "SCT", "Morphologically Altered Structure"
        ),
        segmented_property_type=hd.sr.CodedConcept("108369006", "SCT", "Neoplasm"),
        algorithm_type=hd.seg.SegmentAlgorithmTypeValues.MANUAL,
    )
    seg = hd.seg.Segmentation(
        source_images=sources,
        pixel_array=mask,
        segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=[description],
        series_instance_uid=generate_uid(),
        series_number=5,
        sop_instance_uid=generate_uid(),
        instance_number=1,
        manufacturer="nenscope tests",
        manufacturer_model_name="test",
        software_versions="0",
        device_serial_number="0",
    )
    if frame is not None:
        seg.FrameOfReferenceUID = frame
    return seg


@pytest.mark.filterwarnings("ignore:The string .* is unlikely to represent:UserWarning")
def test_dicom_seg_from_highdicom_round_trips(ct_phantom: DicomSeries, tmp_path: Path) -> None:
    # Independent writer (highdicom) of the IBSI NIfTI mask: reading it back must give it.
    truth = read_mask(
        shared_data_path(*CT_PHANTOM, "nifti", "mask", "mask.nii.gz"), ct_phantom.volume
    )["mask"]
    seg = _highdicom_seg(ct_phantom, truth, None)
    seg.save_as(tmp_path / "seg.dcm")
    masks = read_mask(tmp_path / "seg.dcm", ct_phantom.volume)
    assert list(masks) == ["GTV"]
    np.testing.assert_array_equal(masks["GTV"], truth)


@pytest.mark.filterwarnings("ignore:The string .* is unlikely to represent:UserWarning")
def test_dicom_seg_from_another_frame_of_reference_is_refused(
    ct_phantom: DicomSeries, tmp_path: Path
) -> None:
    truth = np.zeros(ct_phantom.volume.shape, dtype=bool)
    truth[30, 100:110, 100:110] = True
    seg = _highdicom_seg(ct_phantom, truth, "1.2.3.999")
    seg.save_as(tmp_path / "seg.dcm")
    with pytest.raises(GeometryError, match="FrameOfReferenceUID"):
        read_mask(tmp_path / "seg.dcm", ct_phantom.volume)


def test_dicom_seg_on_a_cropped_image_is_refused(ct_phantom: DicomSeries, tmp_path: Path) -> None:
    # The same SEG against an image whose grid starts one column later: not on its grid.
    truth = np.zeros(ct_phantom.volume.shape, dtype=bool)
    truth[30, 100:110, 100:110] = True
    with pytest.warns(UserWarning, match="single component"):
        seg = _highdicom_seg(ct_phantom, truth, None)
    seg.save_as(tmp_path / "seg.dcm")
    shifted_affine = ct_phantom.volume.affine.copy()
    shifted_affine[:3, 3] += shifted_affine[:3, 2]
    cropped = ImageVolume(
        array=ct_phantom.volume.array,
        affine=shifted_affine,
        unit=Unit.HU,
        frame_of_reference_uid=ct_phantom.volume.frame_of_reference_uid,
    )
    with pytest.raises(GeometryError, match="not the first voxel of an image slice"):
        read_mask(tmp_path / "seg.dcm", cropped)


def test_folder_with_two_masks_is_refused(tmp_path: Path) -> None:
    source = shared_data_path(*CT_PHANTOM, "dicom", "mask", "DCM_RS_00060.dcm")
    shutil.copy(source, tmp_path / "a.dcm")
    shutil.copy(source, tmp_path / "b.dcm")
    with pytest.raises(DicomImportError, match="holds 2 mask files"):
        read_mask(tmp_path, small_reference())


def test_image_file_is_not_a_mask(ct_phantom: DicomSeries) -> None:
    first = sorted(shared_data_path(*CT_PHANTOM, "dicom", "image").iterdir())[0]
    with pytest.raises(DicomImportError, match="must be NIfTI, a DICOM SEG or an RTSTRUCT"):
        read_mask(first, ct_phantom.volume)


def test_rtstruct_without_frame_of_reference_warns_and_uses_geometry() -> None:
    ds = rtstruct([square(3.0, 11.0, 2.0)], frame="")
    with pytest.warns(DicomDeviationWarning, match="names no FrameOfReferenceUID"):
        mask = read_rtstruct_mask(ds, small_reference(), path=Path("rs.dcm"))["lesion"]
    assert int(mask.sum()) == 16


def test_rtstruct_frame_of_reference_from_the_structure_set() -> None:
    ds = rtstruct([square(3.0, 11.0, 2.0)], frame="")
    item = Dataset()
    item.FrameOfReferenceUID = "1.2.3.999"
    ds.ReferencedFrameOfReferenceSequence = DicomSequence([item])
    with pytest.raises(GeometryError, match=r"1\.2\.3\.999"):
        read_rtstruct_mask(ds, small_reference(), path=Path("rs.dcm"))


def test_ibsi_suv_dro_rtstruct_gives_the_published_suv_statistics() -> None:
    # IBSI SUV DRO README: inside the mask SUVbw min 0.20, median 1.00, max 4.00 (two
    # decimals). DRO_0_0: BQML, DecayCorrection START, 368.08 MBq 18F at 10:00, scan 11:00,
    # 70 kg → SUV = v · 70000 g / (368.08e6 Bq · 2^(−3600 s / 6586.2 s)).
    folder = shared_data_path("dicom", "ibsi-suv-dro", "DRO_0_0")
    pet = read_series(folder / "PT").volume
    factor = 70000.0 / (368.08e6 * 2 ** (-3600.0 / 6586.2))
    contours = read_mask(folder / "RS", pet)
    nifti = read_mask(folder / "mask" / "DRO_mask.nii.gz", pet)["mask"]
    (roi,) = contours.values()
    for mask in (roi, nifti):
        suv = np.asarray(pet.array, dtype=np.float64)[mask] * factor
        assert round(float(suv.min()), 2) == 0.20
        assert round(float(np.median(suv)), 2) == 1.00
        assert round(float(suv.max()), 2) == 4.00
    # Measured, not a defect of either reader: the RTSTRUCT has contours on 16 of the 18
    # slices the NIfTI mask covers and traces the phantom edge inside the outermost,
    # partial-volume ring of voxels, so it holds 174,691 of the NIfTI mask's 203,202 voxels.
    assert int(roi.sum()) == 174_691
    assert int(nifti.sum()) == 203_202
    assert not np.any(roi & ~nifti)


_RTSTRUCT_TARGETS: dict[str, Callable[[Dataset], Dataset]] = {
    "ROIName": lambda d: d.StructureSetROISequence[0],
    "ROINumber": lambda d: d.StructureSetROISequence[0],
    "ReferencedFrameOfReferenceUID": lambda d: d.StructureSetROISequence[0],
    "ReferencedROINumber": lambda d: d.ROIContourSequence[0],
    "ContourData": lambda d: d.ROIContourSequence[0].ContourSequence[5],
    "ContourGeometricType": lambda d: d.ROIContourSequence[0].ContourSequence[5],
    "ContourSequence": lambda d: d.ROIContourSequence[0],
    "ROIContourSequence": lambda d: d,
    "StructureSetROISequence": lambda d: d,
    "Modality": lambda d: d,
}


@pytest.fixture(scope="module")
def ibsi_rtstruct() -> Dataset:
    return pydicom.dcmread(shared_data_path(*CT_PHANTOM, "dicom", "mask", "DCM_RS_00060.dcm"))


@pytest.mark.parametrize("action", ["delete", "garbage", "empty"])
@pytest.mark.parametrize("keyword", sorted(_RTSTRUCT_TARGETS))
def test_damaged_rtstruct_gives_a_workbench_error_or_masks(
    ct_phantom: DicomSeries, ibsi_rtstruct: Dataset, tmp_path: Path, keyword: str, action: str
) -> None:
    ds = copy.deepcopy(ibsi_rtstruct)
    item = _RTSTRUCT_TARGETS[keyword](ds)
    with warnings.catch_warnings():
        # pydicom warns when told to store an invalid value; storing it is the point here.
        warnings.simplefilter("ignore")
        if action == "delete":
            delattr(item, keyword)
        elif action == "empty":
            item[keyword].value = [] if item[keyword].VR == "SQ" else None
        elif item[keyword].VR in ("DS", "IS"):
            item[keyword] = DataElement(item[keyword].tag, "LO", ["abc", "2"])
        elif item[keyword].VR == "SQ":
            item[keyword].value = [Dataset()]
        else:
            item[keyword].value = "garbage"
        ds.save_as(tmp_path / "rs.dcm")
    message = ""
    masks: dict[str, np.ndarray] = {}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DicomDeviationWarning)  # reported deviations are fine
            masks = read_mask(tmp_path / "rs.dcm", ct_phantom.volume)
    except WorkbenchError as err:
        message = str(err)
    assert message or masks  # either a named refusal or masks, never another exception
    assert all(m.shape == ct_phantom.volume.shape for m in masks.values())


def test_nifti_mask_in_another_axis_order_is_reindexed(
    ct_phantom: DicomSeries, tmp_path: Path
) -> None:
    # The IBSI mask stored with z reversed and y/x swapped (same voxel centres, another
    # axis order, as other tools write): image index i = R·r + t with
    # R = [[-1, 0, 0], [0, 0, 1], [0, 1, 0]], t = (n_z − 1, 0, 0).
    truth = read_mask(
        shared_data_path(*CT_PHANTOM, "nifti", "mask", "mask.nii.gz"), ct_phantom.volume
    )["mask"]
    rot = np.array([[-1.0, 0, 0], [0, 0, 1], [0, 1, 0]])
    shift = np.array([truth.shape[0] - 1.0, 0, 0])
    to_image = np.eye(4)
    to_image[:3, :3], to_image[:3, 3] = rot, shift
    affine = ct_phantom.volume.affine @ np.linalg.inv(to_image)
    stored = np.ascontiguousarray(truth[::-1].transpose(0, 2, 1)).astype(np.uint8)
    write_nifti(ImageVolume(array=stored, affine=affine, unit=Unit.LABEL), tmp_path / "m.nii")
    back = read_mask(tmp_path / "m.nii", ct_phantom.volume)["mask"]
    np.testing.assert_array_equal(back, truth)


def test_dicom_seg_with_other_frame_size_is_refused(
    ct_phantom: DicomSeries, tmp_path: Path
) -> None:
    truth = np.zeros(ct_phantom.volume.shape, dtype=bool)
    truth[30, 100:110, 100:110] = True
    with pytest.warns(UserWarning, match="single component"):
        seg = _highdicom_seg(ct_phantom, truth, None)
    seg.save_as(tmp_path / "seg.dcm")
    small = ImageVolume(
        array=np.zeros((60, 100, 204), dtype=np.float32),
        affine=ct_phantom.volume.affine,
        unit=Unit.HU,
        frame_of_reference_uid=ct_phantom.volume.frame_of_reference_uid,
    )
    with pytest.raises(GeometryError, match="segmentation frames are 201×204"):
        read_mask(tmp_path / "seg.dcm", small)


_SEG_TARGETS: dict[str, Callable[[Dataset], Dataset]] = {
    "SegmentSequence": lambda d: d,
    "PerFrameFunctionalGroupsSequence": lambda d: d,
    "SegmentationType": lambda d: d,
    "NumberOfFrames": lambda d: d,
    "PixelData": lambda d: d,
    "SegmentNumber": lambda d: d.SegmentSequence[0],
    "ImagePositionPatient": lambda d: d.PerFrameFunctionalGroupsSequence[0].PlanePositionSequence[
        0
    ],
    "PixelSpacing": lambda d: d.SharedFunctionalGroupsSequence[0].PixelMeasuresSequence[0],
}


@pytest.fixture(scope="module")
def small_seg(ct_phantom: DicomSeries) -> Dataset:
    truth = np.zeros(ct_phantom.volume.shape, dtype=bool)
    truth[30, 100:110, 100:110] = True
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # highdicom's person-name advice about "PAT1"
        return _highdicom_seg(ct_phantom, truth, None)


@pytest.mark.parametrize("action", ["delete", "garbage"])
@pytest.mark.parametrize("keyword", sorted(_SEG_TARGETS))
def test_damaged_seg_gives_a_workbench_error_or_masks(
    ct_phantom: DicomSeries, small_seg: Dataset, tmp_path: Path, keyword: str, action: str
) -> None:
    ds = copy.deepcopy(small_seg)
    item = _SEG_TARGETS[keyword](ds)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # storing invalid values is the point here
        if action == "delete":
            delattr(item, keyword)
        elif item[keyword].VR in ("DS", "IS"):
            item[keyword] = DataElement(item[keyword].tag, "LO", ["abc", "2"])
        elif item[keyword].VR == "SQ":
            item[keyword].value = [Dataset()]
        elif keyword == "PixelData":
            item[keyword].value = b"\x00\x01"
        elif item[keyword].VR in ("US", "UL"):
            item[keyword].value = 7
        else:
            item[keyword].value = "garbage"
        ds.save_as(tmp_path / "seg.dcm")
    message = ""
    masks: dict[str, np.ndarray] = {}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DicomDeviationWarning)
            masks = read_mask(tmp_path / "seg.dcm", ct_phantom.volume)
    except WorkbenchError as err:
        message = str(err)
    assert message or masks


def test_one_rtstruct_on_the_pet_and_the_ct_grid_gives_the_same_volume() -> None:
    # GTV_Mass rasterised on the PET (4.69 × 4.69 × 3.27 mm) and on the CT of the same
    # PET/CT (0.98 × 0.98 × 3.27 mm, cropped around the lesion, same frame of reference).
    # Measured 366.1 vs 365.3 mL; 1 % allows for the coarser PET voxels at the edge.
    pet = read_series(shared_data_path(*GE, "PT_raw_BQML")).volume
    ct = read_series(shared_data_path(*GE, "CT_cropped")).volume
    on_pet = read_mask(shared_data_path(*GE, "RTSTRUCT_on_PT"), pet)["GTV_Mass"]
    on_ct = read_mask(shared_data_path(*GE, "RTSTRUCT_on_PT"), ct)["GTV_Mass"]
    volume_pet = float(on_pet.sum()) * pet.voxel_volume_ml
    volume_ct = float(on_ct.sum()) * ct.voxel_volume_ml
    assert volume_ct == pytest.approx(volume_pet, rel=0.01)


def test_two_segment_seg_agrees_with_highdicoms_own_reader(
    ct_phantom: DicomSeries, tmp_path: Path
) -> None:
    # Independent reader: highdicom's Segmentation.get_volume (its own geometry and slice
    # order). Every voxel it marks, mapped through LPS onto the image, must be in our mask.
    files = sorted(shared_data_path(*CT_PHANTOM, "dicom", "image").iterdir())
    sources = sorted(
        (pydicom.dcmread(p) for p in files), key=lambda ds: float(ds.ImagePositionPatient[2])
    )
    truth = np.zeros((*ct_phantom.volume.shape, 2), dtype=bool)
    truth[30, 100:110, 100:110, 0] = True
    truth[31:33, 90:95, 60:70, 1] = True
    descriptions = [
        hd.seg.SegmentDescription(
            segment_number=n,
            segment_label=label,
            segmented_property_category=hd.sr.CodedConcept("49755003", "SCT", "Abnormal"),
            segmented_property_type=hd.sr.CodedConcept("108369006", "SCT", "Neoplasm"),
            algorithm_type=hd.seg.SegmentAlgorithmTypeValues.MANUAL,
        )
        for n, label in ((1, "primary"), (2, "node"))
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # highdicom's person-name advice about "PAT1"
        seg = hd.seg.Segmentation(
            source_images=sources,
            pixel_array=truth,
            segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
            segment_descriptions=descriptions,
            series_instance_uid=generate_uid(),
            series_number=5,
            sop_instance_uid=generate_uid(),
            instance_number=1,
            manufacturer="nenscope tests",
            manufacturer_model_name="test",
            software_versions="0",
            device_serial_number="0",
        )
    seg.save_as(tmp_path / "seg.dcm")
    ours = read_mask(tmp_path / "seg.dcm", ct_phantom.volume)
    theirs = hd.seg.segread(tmp_path / "seg.dcm").get_volume()
    for k, label in enumerate(("primary", "node")):
        voxels = np.argwhere(np.asarray(theirs.array)[..., k] > 0)
        lps = voxels @ np.asarray(theirs.affine)[:3, :3].T + np.asarray(theirs.affine)[:3, 3]
        index = np.round(ct_phantom.volume.lps_to_index(lps)).astype(int)
        expected = np.zeros(ct_phantom.volume.shape, dtype=bool)
        expected[tuple(index.T)] = True
        np.testing.assert_array_equal(ours[label], expected)
        np.testing.assert_array_equal(ours[label], truth[..., k])
