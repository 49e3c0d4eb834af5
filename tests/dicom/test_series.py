"""Tests of dicom/series.py and dicom/_sorting.py: geometric stacking, rescale, bad input."""

from __future__ import annotations

import gc
import gzip
import io
import shutil
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import highdicom as hd
import numpy as np
import pydicom
import pytest
import SimpleITK as _sitk  # noqa: N813  (typed as Any below; the library has no stubs)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydicom.datadict import dictionary_VR
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import (
    DeflatedExplicitVRLittleEndian,
    ExplicitVRLittleEndian,
    PositronEmissionTomographyImageStorage,
    RLELossless,
    generate_uid,
)

from nenscope.core.errors import (
    DicomDeviationWarning,
    DicomImportError,
    MissingAttributeError,
    OptionError,
    WorkbenchError,
)
from nenscope.core.units import Unit
from nenscope.dicom import (
    DicomSeries,
    GeometryPolicy,
    StackSettings,
    read_series,
    stack_slices,
    unit_for,
)
from tests.conftest import shared_data_path

sitk: Any = _sitk  # SimpleITK has no type annotations

GE_PET = ("dicom", "tcia-sts-001-ge-petct", "PT_raw_BQML")
IBSI_CT = ("ibsi", "ibsi_1_ct_radiomics_phantom", "dicom", "image")

# shared/data/dicom/tcia-sts-001-ge-petct/README.md: SUVbw factor with the QIBA rules.
GE_SUV_BW_FACTOR = 2.42902977e-4


def make_slice(
    *,
    position: Sequence[float],
    stored: np.ndarray,
    slope: float = 1.0,
    intercept: float = 0.0,
    orientation: Sequence[float] = (1, 0, 0, 0, 1, 0),
    series_uid: str = "1.2.3.4",
    instance: int = 1,
    units: str = "BQML",
    spacing: Sequence[float] = (2.0, 2.0),
) -> Dataset:
    """One single-frame PET slice with the given geometry and stored int16 pixels."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = PositronEmissionTomographyImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = "PT"
    ds.PatientID = "P1"
    ds.StudyInstanceUID = "1.2.3"
    ds.SeriesInstanceUID = series_uid
    ds.FrameOfReferenceUID = "1.2.3.9"
    ds.SeriesNumber = 1
    ds.InstanceNumber = instance
    ds.Units = units
    ds.ImageOrientationPatient = [float(v) for v in orientation]
    ds.ImagePositionPatient = [float(v) for v in position]
    ds.PixelSpacing = [float(v) for v in spacing]
    ds.Rows, ds.Columns = stored.shape
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 1
    ds.RescaleSlope = f"{slope:.8g}"
    ds.RescaleIntercept = f"{intercept:.8g}"
    ds.PixelData = stored.astype(np.int16).tobytes()
    return ds


def write_stack(
    folder: Path,
    z_positions: Sequence[float],
    *,
    shape: tuple[int, int] = (4, 5),
    x_shift_per_slice: float = 0.0,
    orientation: Sequence[float] = (1, 0, 0, 0, 1, 0),
    series_uid: str = "1.2.3.4",
) -> list[Path]:
    """Write slices whose stored value is 10·k + column and slope 0.5 + k/10 for slice k.

    Files are named and numbered in the reverse of the geometric order, so that sorting by
    name or InstanceNumber gives the wrong answer.
    """
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    n = len(z_positions)
    for k, z in enumerate(z_positions):
        stored = np.tile(10 * k + np.arange(shape[1]), (shape[0], 1))
        ds = make_slice(
            position=(k * x_shift_per_slice, 0.0, z),
            stored=stored,
            slope=0.5 + k / 10,
            orientation=orientation,
            series_uid=series_uid,
            instance=n - k,
        )
        path = folder / f"{n - k:04d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


def expected_values(k: int, shape: tuple[int, int] = (4, 5)) -> np.ndarray:
    # By hand: stored 10·k + column, times slope 0.5 + k/10, intercept 0.
    return np.tile(10 * k + np.arange(shape[1]), (shape[0], 1)) * (0.5 + k / 10)


@pytest.fixture(scope="module")
def ge_pet() -> DicomSeries:
    return read_series(shared_data_path(*GE_PET))


def test_ge_pet_geometry_unit_and_headers(ge_pet: DicomSeries) -> None:
    vol = ge_pet.volume
    # README: 267 slices of 128×128 at 4.6875 mm, 3.27 mm slice spacing, Units BQML.
    assert vol.shape == (267, 128, 128)
    np.testing.assert_allclose(vol.spacing_mm, (3.27, 4.6875, 4.6875), atol=1e-6)
    assert vol.unit is Unit.BQ_PER_ML
    assert vol.array.dtype == np.float32
    assert len(ge_pet.headers) == 267
    assert len(ge_pet.files) == 267
    assert all("PixelData" not in h for h in ge_pet.headers)
    assert ge_pet.modality == "PT"
    assert any("3.19" in note for note in ge_pet.provenance)  # the one short bed gap


def test_ge_pet_every_slice_lies_where_its_header_says(ge_pet: DicomSeries) -> None:
    # Independent source: each header's own ImagePositionPatient. 0.05 mm = the largest
    # rounding of bed positions in this series (README: gaps 3.19/3.27/3.29 mm).
    positions = np.array([[float(v) for v in h.ImagePositionPatient] for h in ge_pet.headers])
    predicted = ge_pet.volume.index_to_lps(np.c_[np.arange(267), np.zeros((267, 2))])
    np.testing.assert_allclose(predicted, positions, atol=0.05)


def test_ge_pet_values_are_rescaled_per_slice(ge_pet: DicomSeries) -> None:
    # Independent: pydicom's own pixel_array × the file's RescaleSlope, for three files.
    for name in ("1-001.dcm", "1-134.dcm", "1-267.dcm"):
        ds = pydicom.dcmread(shared_data_path(*GE_PET, name))
        z = int(
            np.argmin(
                [
                    abs(float(h.ImagePositionPatient[2]) - ds.ImagePositionPatient[2])
                    for h in ge_pet.headers
                ]
            )
        )
        expected = ds.pixel_array * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
        np.testing.assert_allclose(ge_pet.volume.array[z], expected, rtol=2e-7)


def test_ge_pet_suv_max_matches_published(ge_pet: DicomSeries) -> None:
    # README (computed with the QIBA rules): whole-volume SUVbw max 66.52.
    suv_max = float(ge_pet.volume.array.max()) * GE_SUV_BW_FACTOR
    assert suv_max == pytest.approx(66.52, abs=0.005)


def test_ge_pet_matches_simpleitk(ge_pet: DicomSeries) -> None:
    # Independent implementation (ITK/GDCM) on the same files; float32 rounding only.
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(shared_data_path(*GE_PET))))
    reader.SetOutputPixelType(sitk.sitkFloat32)
    reader.SetGlobalWarningDisplay(False)
    image = reader.Execute()
    np.testing.assert_allclose(
        np.asarray(ge_pet.volume.array, dtype=np.float64),
        sitk.GetArrayFromImage(image),
        rtol=2e-7,
    )
    np.testing.assert_allclose(ge_pet.volume.origin_mm, image.GetOrigin(), atol=1e-4)


def test_ibsi_ct_phantom_reads_in_hu_like_simpleitk() -> None:
    series = read_series(shared_data_path(*IBSI_CT))
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(shared_data_path(*IBSI_CT))))
    image = reader.Execute()
    assert series.volume.unit is Unit.HU
    # Integer HU: exact.
    np.testing.assert_array_equal(series.volume.array, sitk.GetArrayFromImage(image))
    np.testing.assert_allclose(series.volume.spacing_mm[::-1], image.GetSpacing(), atol=1e-4)


def test_sorting_ignores_file_names_and_instance_numbers(tmp_path: Path) -> None:
    write_stack(tmp_path, [10.0, 12.5, 15.0, 17.5])
    series = read_series(tmp_path)
    for k in range(4):
        np.testing.assert_allclose(series.volume.array[k], expected_values(k), rtol=1e-6)
    np.testing.assert_allclose(series.volume.origin_mm, (0.0, 0.0, 10.0), atol=1e-9)
    np.testing.assert_allclose(series.volume.spacing_mm, (2.5, 2.0, 2.0), atol=1e-9)
    assert [int(h.InstanceNumber) for h in series.headers] == [4, 3, 2, 1]


def test_reversed_normal_sorts_along_the_normal(tmp_path: Path) -> None:
    # Column cosine (0, -1, 0): normal = row × col = (0, 0, -1), so ascending along the
    # normal means descending z; the affine must still map index k to slice k's position.
    write_stack(tmp_path, [10.0, 12.5, 15.0], orientation=(1, 0, 0, 0, -1, 0))
    series = read_series(tmp_path)
    z_of_slices = [float(h.ImagePositionPatient[2]) for h in series.headers]
    assert z_of_slices == [15.0, 12.5, 10.0]
    np.testing.assert_allclose(series.volume.affine[:3, 0], (0.0, 0.0, -2.5), atol=1e-9)
    np.testing.assert_allclose(series.volume.array[0], expected_values(2), rtol=1e-6)


def test_missing_slice_is_refused_with_the_reason(tmp_path: Path) -> None:
    write_stack(tmp_path, [0.0, 2.0, 4.0, 8.0, 10.0])
    with pytest.raises(DicomImportError, match=r"irregular slice spacing.*slices may be missing"):
        read_series(tmp_path)


def test_missing_slice_resampled_on_request(tmp_path: Path) -> None:
    write_stack(tmp_path, [0.0, 2.0, 4.0, 8.0, 10.0])
    policy = StackSettings(irregular_spacing=GeometryPolicy.RESAMPLE)
    with pytest.warns(DicomDeviationWarning, match="resampled linearly"):
        series = read_series(tmp_path, settings=policy)
    assert series.volume.shape[0] == 6
    np.testing.assert_allclose(series.volume.spacing_mm[0], 2.0, atol=1e-9)
    # By hand: the slice at z = 6 is the mean of the slices at z = 4 (k=2) and z = 8 (k=3).
    np.testing.assert_allclose(
        series.volume.array[3], (expected_values(2) + expected_values(3)) / 2, rtol=1e-6
    )
    assert any("resampled" in note for note in series.provenance)


def test_gantry_tilt_is_refused_by_default(tmp_path: Path) -> None:
    write_stack(tmp_path, [0.0, 2.0, 4.0, 6.0], x_shift_per_slice=0.5)
    with pytest.raises(DicomImportError, match="gantry tilt"):
        read_series(tmp_path)


def test_gantry_tilt_resampled_onto_an_orthogonal_grid(tmp_path: Path) -> None:
    # Slice k is shifted +1 mm·k in x (= half a 2 mm column). Resampled, voxel (k, r, c) is at
    # x = 2c; in slice k that is column c − k/2, whose value is 10·k + c − k/2 (linear in c).
    write_stack(tmp_path, [0.0, 2.0, 4.0, 6.0], x_shift_per_slice=1.0, shape=(3, 8))
    policy = StackSettings(gantry_tilt=GeometryPolicy.RESAMPLE)
    with pytest.warns(DicomDeviationWarning, match="gantry tilt"):
        series = read_series(tmp_path, settings=policy)
    np.testing.assert_allclose(series.volume.affine[:3, 0], (0.0, 0.0, 2.0), atol=1e-9)
    k, c = 2, 5
    expected = (10 * k + c - k / 2) * (0.5 + k / 10)
    np.testing.assert_allclose(series.volume.array[k, 1, c], expected, rtol=1e-6)


def test_mixed_series_in_one_folder_are_named(tmp_path: Path) -> None:
    write_stack(tmp_path / "a", [0.0, 2.0], series_uid="1.2.3.4")
    write_stack(tmp_path / "b", [0.0, 2.0], series_uid="1.2.3.5")
    with pytest.raises(DicomImportError, match=r"mixes 2 series.*1\.2\.3\.4.*1\.2\.3\.5|mixes 2"):
        read_series(tmp_path)


def test_duplicate_positions_are_refused(tmp_path: Path) -> None:
    paths = write_stack(tmp_path, [0.0, 2.0, 4.0])
    ds = pydicom.dcmread(paths[0])
    ds.SOPInstanceUID = generate_uid()
    ds.save_as(tmp_path / "copy.dcm", enforce_file_format=True)
    with pytest.raises(DicomImportError, match="same position"):
        read_series(tmp_path)


def test_truncated_pixel_data_is_named(tmp_path: Path) -> None:
    paths = write_stack(tmp_path, [0.0, 2.0, 4.0])
    data = paths[1].read_bytes()
    paths[1].write_bytes(data[:-10])
    with pytest.raises(DicomImportError, match=rf"{paths[1].name}.*(truncated|damaged)"):
        read_series(tmp_path)


def test_missing_pixel_data_is_named(tmp_path: Path) -> None:
    paths = write_stack(tmp_path, [0.0, 2.0, 4.0])
    ds = pydicom.dcmread(paths[2])
    del ds.PixelData
    ds.save_as(paths[2], enforce_file_format=True)
    with pytest.raises(MissingAttributeError, match=r"PixelData \(7FE0,0010\) is missing"):
        read_series(tmp_path)


def test_missing_position_is_named(tmp_path: Path) -> None:
    paths = write_stack(tmp_path, [0.0, 2.0, 4.0])
    ds = pydicom.dcmread(paths[0])
    del ds.ImagePositionPatient
    ds.save_as(paths[0], enforce_file_format=True)
    with pytest.raises(MissingAttributeError, match=r"ImagePositionPatient \(0020,0032\)"):
        read_series(tmp_path)


def test_stray_files_in_the_folder_are_skipped_and_recorded(tmp_path: Path) -> None:
    write_stack(tmp_path, [0.0, 2.0, 4.0])
    (tmp_path / "notes.txt").write_text("not a DICOM file")
    series = read_series(tmp_path)
    assert series.volume.shape == (3, 4, 5)
    assert "skipped notes.txt: not DICOM" in series.provenance


def test_non_dicom_file_given_explicitly_is_refused(tmp_path: Path) -> None:
    paths = write_stack(tmp_path, [0.0, 2.0])
    stray = tmp_path / "notes.txt"
    stray.write_text("hello")
    with pytest.raises(DicomImportError, match=r"notes\.txt is not a DICOM file"):
        read_series([*paths, stray])


def test_gzip_compressed_files_are_read(tmp_path: Path) -> None:
    paths = write_stack(tmp_path / "plain", [0.0, 2.0, 4.0])
    gz_dir = tmp_path / "gz"
    gz_dir.mkdir()
    for p in paths:
        (gz_dir / (p.name + ".gz")).write_bytes(gzip.compress(p.read_bytes()))
    plain, packed = read_series(tmp_path / "plain"), read_series(gz_dir)
    np.testing.assert_array_equal(plain.volume.array, packed.volume.array)
    assert any("gzip" in note for note in packed.provenance)


def test_rle_compressed_ct_equals_uncompressed(tmp_path: Path) -> None:
    source = sorted(shared_data_path(*IBSI_CT).iterdir())[:6]
    for path in source:
        ds = pydicom.dcmread(path)
        ds.compress(RLELossless)
        ds.save_as(tmp_path / path.name)
    compressed = read_series(tmp_path)
    plain = read_series(source)
    np.testing.assert_array_equal(compressed.volume.array, plain.volume.array)


@pytest.mark.filterwarnings("ignore:The string .* is unlikely to represent:UserWarning")
def test_enhanced_multiframe_equals_legacy_slices(tmp_path: Path) -> None:
    # Independent converter: highdicom's Legacy Converted Enhanced CT (shared + per-frame
    # functional groups) from the same 60 IBSI CT slices.
    files = sorted(shared_data_path(*IBSI_CT).iterdir())
    datasets = [pydicom.dcmread(p) for p in files]
    enhanced = hd.legacy.LegacyConvertedEnhancedCTImage(
        datasets,
        series_instance_uid=generate_uid(),
        series_number=99,
        sop_instance_uid=generate_uid(),
        instance_number=1,
    )
    enhanced.save_as(tmp_path / "enhanced.dcm")
    multi = read_series(tmp_path)
    legacy = read_series(files)
    np.testing.assert_array_equal(multi.volume.array, legacy.volume.array)
    np.testing.assert_allclose(multi.volume.affine, legacy.volume.affine, atol=1e-4)
    assert len(multi.headers) == 60
    assert "ImagePositionPatient" in multi.headers[0]


def test_philips_dwi_folder_is_refused_with_the_reason() -> None:
    # README: the folder holds the DTI series (17 volumes sharing slice positions), a
    # presentation state and Philips private objects; only the repeated positions are an error.
    folder = shared_data_path("dicom", "mr-dwi", "philips-ingenia-classic-dcm_qa", "DICOM")
    with pytest.raises(DicomImportError, match=r"same position.*b-values"):
        read_series(folder)


def test_non_image_objects_beside_a_series_are_skipped() -> None:
    # The IBSI CT folder holds the 60 slices and, one level down, the RTSTRUCT.
    series = read_series(shared_data_path(*IBSI_CT[:-1]))
    assert series.volume.shape == (60, 201, 204)
    assert any("DCM_RS_00060.dcm: DICOM RTSTRUCT without an image" in p for p in series.provenance)


@pytest.mark.parametrize(
    ("modality", "units", "expected"),
    [
        ("PT", "BQML", Unit.BQ_PER_ML),
        ("PT", "CNTS", Unit.COUNTS),
        ("PT", "GML", Unit.SUV_BW),
        ("NM", "BQML", Unit.BQ_PER_ML),
        ("NM", "", Unit.COUNTS),
        ("CT", "", Unit.HU),
        ("MR", "", Unit.MR_SIGNAL),
    ],
    ids=["pt-bqml", "pt-cnts", "pt-gml", "nm-bqml", "nm-none", "ct", "mr"],
)
def test_unit_by_modality_and_units(modality: str, units: str, expected: Unit) -> None:
    ds = Dataset()
    ds.Modality = modality
    if units:
        ds.Units = units
    assert unit_for(ds, path="x.dcm")[0] is expected


@pytest.mark.parametrize(
    ("dro", "expected"),
    [
        ("DRO_2_0", Unit.SUV_BW),
        ("DRO_2_1", Unit.SUV_LBM),
        ("DRO_2_2", Unit.SUV_IBW),
        ("DRO_2_3", Unit.SUV_BSA),
    ],
    ids=["gml-bw", "gml-lbmjames128", "gml-ibw", "cm2ml-bsa"],
)
def test_suv_series_unit_follows_suv_type(dro: str, expected: Unit) -> None:
    # IBSI SUV DRO README: 2_0 GML (SUVbw), 2_1 GML SUVType LBMJAMES128, 2_2 GML SUVType
    # IBW, 2_3 CM2ML SUVType BSA.
    series = read_series(shared_data_path("dicom", "ibsi-suv-dro", dro, "PT"))
    assert series.volume.unit is expected


def test_pet_without_units_is_refused() -> None:
    ds = Dataset()
    ds.Modality = "PT"
    with pytest.raises(MissingAttributeError, match=r"Units \(0054,1001\)"):
        unit_for(ds, path="x.dcm")


def test_unknown_pet_units_are_refused() -> None:
    ds = Dataset()
    ds.Modality, ds.Units = "PT", "PROPCNTS"
    with pytest.raises(DicomImportError, match="PROPCNTS"):
        unit_for(ds, path="x.dcm")


def test_stack_slices_does_not_modify_inputs() -> None:
    slices = [
        make_slice(position=(0.0, 0.0, z), stored=np.full((2, 2), k), slope=2.0)
        for k, z in enumerate([4.0, 0.0, 2.0])
    ]
    before = [bytes(ds.PixelData) for ds in slices]
    stacked = stack_slices(slices)
    assert stacked.order == (1, 2, 0)
    # By hand: slice order by z is k = 1, 2, 0; values k·2.
    np.testing.assert_allclose(stacked.array[:, 0, 0], [2.0, 4.0, 0.0])
    assert [bytes(ds.PixelData) for ds in slices] == before


_KEYWORDS = [
    "ImagePositionPatient",
    "ImageOrientationPatient",
    "PixelSpacing",
    "Rows",
    "Columns",
    "RescaleSlope",
    "BitsAllocated",
    "PixelData",
    "SeriesInstanceUID",
    "Units",
    "Modality",
    "NumberOfFrames",
    "SamplesPerPixel",
]


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    slice_index=st.integers(0, 2),
    keyword=st.sampled_from(_KEYWORDS),
    action=st.sampled_from(["delete", "garbage", "empty", "truncate"]),
    cut=st.integers(1, 400),
)
def test_mutated_headers_give_a_workbench_error_or_a_volume(
    tmp_path_factory: pytest.TempPathFactory,
    slice_index: int,
    keyword: str,
    action: str,
    cut: int,
) -> None:
    folder = tmp_path_factory.mktemp("mutant")
    paths = write_stack(folder, [0.0, 2.0, 4.0])
    target = paths[slice_index]
    if action == "truncate":
        data = target.read_bytes()
        target.write_bytes(data[: max(0, len(data) - cut)])
    else:
        _mutate(target, keyword, action)
    message = ""
    try:
        series = read_series(folder)
    except WorkbenchError as err:
        message = str(err)
        assert message  # a message, never an empty error
    else:
        assert series.volume.array.ndim == 3
    finally:
        shutil.rmtree(folder)


def _mutate(target: Path, keyword: str, action: str) -> None:
    ds = pydicom.dcmread(target)
    with warnings.catch_warnings():
        # pydicom warns when told to store an invalid value; storing it is the point here.
        warnings.simplefilter("ignore")
        if keyword not in ds:
            ds.add_new(keyword, dictionary_VR(keyword), None)
        if action == "delete":
            delattr(ds, keyword)
        elif action == "empty":
            ds[keyword].value = None if ds[keyword].VR != "OW" else b""
        elif ds[keyword].VR in ("DS", "IS"):
            # Non-numbers cannot be stored as DS/IS; store them under a text VR instead.
            ds[keyword] = DataElement(ds[keyword].tag, "LO", ["abc", "1e999", "2"])
        else:
            ds[keyword].value = _garbage(ds[keyword].VR)
        ds.save_as(target, enforce_file_format=False)


def _garbage(vr: str) -> object:
    return {
        "US": 0,
        "UI": "not-a-uid",
        "CS": "ZZ",
        "OW": b"\x00\x01",
        "OB": b"\x00\x01",
    }.get(vr, "garbage")


def test_stack_settings_accept_strings_and_name_the_choices() -> None:
    assert StackSettings(irregular_spacing="resample").irregular_spacing is (  # type: ignore[arg-type]  # strings are accepted at runtime on purpose
        GeometryPolicy.RESAMPLE
    )
    with pytest.raises(OptionError, match="Did you mean 'resample'"):
        StackSettings(gantry_tilt="resampel")  # type: ignore[arg-type]  # the typo is the test


def test_nm_multiframe_tomogram_is_stacked_along_the_detector_normal(tmp_path: Path) -> None:
    # NM tomographic image (PS3.3 C.8.4): frames step by SpacingBetweenSlices along the normal
    # of DetectorInformationSequence's orientation; frame k holds value k + 1 (slope 1).
    frames = np.stack([np.full((3, 4), k + 1, dtype=np.uint16) for k in range(5)])
    ds = make_slice(position=(0.0, 0.0, 0.0), stored=np.zeros((3, 4)))
    ds.Modality = "NM"
    del ds.ImagePositionPatient, ds.ImageOrientationPatient, ds.Units
    ds.NumberOfFrames = 5
    ds.PixelRepresentation = 0
    ds.SpacingBetweenSlices = 4.5
    detector = Dataset()
    detector.ImagePositionPatient = [-10.0, -20.0, 100.0]
    detector.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    ds.DetectorInformationSequence = [detector]
    ds.PixelData = frames.tobytes()
    ds.save_as(tmp_path / "nm.dcm", enforce_file_format=True)
    series = read_series(tmp_path)
    assert series.volume.unit is Unit.COUNTS
    assert series.volume.shape == (5, 3, 4)
    np.testing.assert_allclose(
        np.asarray(series.volume.array[:, 0, 0], dtype=np.float64), [1, 2, 3, 4, 5]
    )
    # By hand: frame 4 is at z = 100 + 4 · 4.5 = 118 mm.
    np.testing.assert_allclose(series.volume.index_to_lps([[4, 0, 0]])[0], (-10, -20, 118))
    assert any("NM image without Units" in note for note in series.provenance)


@pytest.mark.filterwarnings("ignore:The string .* is unlikely to represent:UserWarning")
def test_enhanced_pet_keeps_per_frame_slopes_and_units(tmp_path: Path) -> None:
    # highdicom's Legacy Converted Enhanced PET of 40 GE slices, each with its own
    # RescaleSlope (per-frame PixelValueTransformationSequence) and Units in the
    # unassigned shared attributes: same values, geometry and unit as the legacy files.
    files = sorted(shared_data_path(*GE_PET).iterdir())[:40]
    enhanced = hd.legacy.LegacyConvertedEnhancedPETImage(
        [pydicom.dcmread(p) for p in files],
        series_instance_uid=generate_uid(),
        series_number=99,
        sop_instance_uid=generate_uid(),
        instance_number=1,
    )
    enhanced.save_as(tmp_path / "enhanced_pet.dcm")
    multi, legacy = read_series(tmp_path), read_series(files)
    assert multi.volume.unit is Unit.BQ_PER_ML
    np.testing.assert_array_equal(multi.volume.array, legacy.volume.array)
    np.testing.assert_allclose(multi.volume.affine, legacy.volume.affine, atol=1e-4)
    slopes = [float(h.RescaleSlope) for h in multi.headers]
    assert slopes == [float(h.RescaleSlope) for h in legacy.headers]
    assert len(set(slopes)) > 1


def test_philips_dwi_b0_volume_reads_as_mr() -> None:
    # The 32 files with DiffusionBValue (0018,9087) exactly 0 form one volume (README: 112×112,
    # 2 mm; 5 near-zero b-values 0 … 0.004 are separate volumes). Files are gzip'd.
    folder = shared_data_path("dicom", "mr-dwi", "philips-ingenia-classic-dcm_qa", "DICOM")
    b0 = []
    for path in sorted(folder.glob("IM_*.gz")):
        ds = pydicom.dcmread(
            io.BytesIO(gzip.decompress(path.read_bytes())),
            stop_before_pixels=True,
            specific_tags=["DiffusionBValue"],
        )
        if float(ds.get("DiffusionBValue", -1)) == 0.0:
            b0.append(path)
    series = read_series(b0)
    assert series.volume.unit is Unit.MR_SIGNAL
    assert series.volume.shape == (32, 112, 112)
    np.testing.assert_allclose(series.volume.spacing_mm[1:], (2.0, 2.0), atol=1e-3)
    positions = np.array([[float(v) for v in h.ImagePositionPatient] for h in series.headers])
    predicted = series.volume.index_to_lps(np.c_[np.arange(32), np.zeros((32, 2))])
    np.testing.assert_allclose(predicted, positions, atol=1e-3)


@pytest.mark.parametrize(
    ("signed", "raw", "expected"),
    [
        (0, [0xF001, 0x0FFF, 5, 0x1000], [1, 4095, 5, 0]),
        (1, [0x0FFF, 0x0800, 0xF800, 0x07FF], [-1, -2048, -2048, 2047]),
    ],
    ids=["unsigned-masked", "signed-extended"],
)
def test_bits_stored_below_bits_allocated(
    tmp_path: Path, signed: int, raw: list[int], expected: list[int]
) -> None:
    # 12 of 16 bits (common in CT): bits above HighBit are not part of the value (PS3.5
    # 8.1.1). By hand for 12 bits: 0xF001 → 1 when unsigned; 0x0800 → −2048 when signed.
    for k, z in enumerate([0.0, 2.0]):
        ds = make_slice(position=(0.0, 0.0, z), stored=np.zeros((1, 4)), instance=k + 1)
        ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 12, 11, signed
        ds.PixelData = np.array(raw, dtype=np.uint16).tobytes()
        ds.save_as(tmp_path / f"{k}.dcm", enforce_file_format=True)
    series = read_series(tmp_path)
    np.testing.assert_array_equal(series.volume.array[0, 0], expected)
    # Independent: pydicom's own decoder on the same file.
    np.testing.assert_array_equal(pydicom.dcmread(tmp_path / "0.dcm").pixel_array[0], expected)


def test_single_slice_takes_its_thickness(tmp_path: Path) -> None:
    ds = make_slice(position=(1.0, 2.0, 3.0), stored=np.ones((2, 3)))
    ds.SliceThickness = 5.0
    ds.save_as(tmp_path / "one.dcm", enforce_file_format=True)
    series = read_series(tmp_path)
    assert series.volume.shape == (1, 2, 3)
    np.testing.assert_allclose(series.volume.spacing_mm, (5.0, 2.0, 2.0))
    assert any("SliceThickness" in note for note in series.provenance)


def test_reading_leaves_the_garbage_collector_as_it_was(tmp_path: Path) -> None:
    write_stack(tmp_path, [0.0, 2.0])
    assert gc.isenabled()
    read_series(tmp_path)
    assert gc.isenabled()
    gc.disable()
    try:
        read_series(tmp_path)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_tilted_ct_is_resampled_onto_the_orthogonal_grid(tmp_path: Path) -> None:
    # A CT gantry tilted by 10° about x: column cosine (0, cos θ, sin θ), slices stepping
    # 2 mm along z. Each pixel stores 100 × its LPS y (slope 0.01, so values = y in mm).
    # After resampling, voxel (k, r, c) must hold the y of its own LPS position: a linear
    # function is reproduced exactly by linear interpolation (edges excluded).
    theta = np.deg2rad(10.0)
    col = (0.0, float(np.cos(theta)), float(np.sin(theta)))
    rows = np.arange(20)[:, None] * np.ones((1, 4))
    for k in range(5):
        y_mm = rows * col[1]
        ds = make_slice(
            position=(0.0, 0.0, 2.0 * k),
            stored=np.round(100 * y_mm),
            slope=0.01,
            orientation=(1.0, 0.0, 0.0, *col),
            spacing=(1.0, 1.0),
            instance=k + 1,
        )
        ds.save_as(tmp_path / f"{k}.dcm", enforce_file_format=True)
    with pytest.warns(DicomDeviationWarning, match="gantry tilt"):
        series = read_series(tmp_path, settings=StackSettings(gantry_tilt="resample"))  # type: ignore[arg-type]  # strings accepted
    vol = series.volume
    # The slice axis is now the normal (row × column cosine), 2 mm · cos θ long.
    normal = np.cross((1.0, 0.0, 0.0), col)
    np.testing.assert_allclose(vol.affine[:3, 0], normal * 2.0 * np.cos(theta), atol=1e-9)
    grid = np.meshgrid(np.arange(5), np.arange(3, 17), np.arange(4), indexing="ij")
    kk, rr, cc = (g.ravel() for g in grid)
    points = vol.index_to_lps(np.c_[kk, rr, cc])
    values = np.asarray(vol.array, dtype=np.float64)[kk, rr, cc]
    # Tolerance: stored values are rounded to 0.01 mm.
    np.testing.assert_allclose(values, points[:, 1], atol=0.011)


def test_deflated_transfer_syntax_equals_uncompressed(tmp_path: Path) -> None:
    paths = write_stack(tmp_path / "plain", [0.0, 2.0, 4.0])
    (tmp_path / "deflated").mkdir()
    for path in paths:
        ds = pydicom.dcmread(path)
        ds.file_meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian
        ds.save_as(tmp_path / "deflated" / path.name, enforce_file_format=True)
    plain, deflated = read_series(tmp_path / "plain"), read_series(tmp_path / "deflated")
    np.testing.assert_array_equal(deflated.volume.array, plain.volume.array)


def test_overlong_header_values_do_not_warn_later() -> None:
    # MIRP's re-export stores StudyID "IBSI_1_STS_001_PET" (18 characters; SH allows 16).
    # pydicom would warn on first access; the reader converts such values quietly (the
    # suite turns warnings into errors, so this access would fail otherwise).
    series = read_series(shared_data_path("dicom", "tcia-sts-001-ge-petct", "PT_cropped_GML"))
    assert series.headers[0].StudyID == "IBSI_1_STS_001_PET"
