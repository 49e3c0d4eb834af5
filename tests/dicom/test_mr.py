"""Tests of the DWI reader and ADC maps (nenscope.dicom.mr, nenscope adc)."""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import UID, ExplicitVRLittleEndian, generate_uid
from typer.testing import CliRunner

from nenscope.cli.app import app
from nenscope.core.errors import DicomImportError, MissingAttributeError
from nenscope.dicom.mr import (
    DiffusionSeries,
    compute_adc_maps,
    read_b_value,
    read_dwi_series,
)
from nenscope.dicom.nifti import read_nifti
from tests.conftest import shared_data_path

MR_SOP = UID("1.2.840.10008.5.1.4.1.1.4")
S0 = 2000.0
ADC_LEFT, ADC_RIGHT = 1.0e-3, 2.0e-3  # mm²/s: x < 4 and x >= 4 of the synthetic series
SHAPE = (4, 8, 8)  # z, y, x
# b = 0 once, b = 500 once, b = 1000 in three orthogonal directions (a trace acquisition).
ACQUISITIONS: tuple[tuple[float, tuple[float, float, float] | None], ...] = (
    (0.0, None),
    (500.0, (1.0, 0.0, 0.0)),
    (1000.0, (1.0, 0.0, 0.0)),
    (1000.0, (0.0, 1.0, 0.0)),
    (1000.0, (0.0, 0.0, 1.0)),
)


def _true_adc() -> np.ndarray:
    adc = np.full(SHAPE, ADC_LEFT)
    adc[:, :, 4:] = ADC_RIGHT
    return adc


def _stored(b: float) -> np.ndarray:
    signal = np.rint(S0 * np.exp(-b * _true_adc())).astype(np.uint16)
    signal[:, :2, :2] = 0  # background corner: no signal, fit undefined
    return signal


Tagger = Callable[[Dataset, float, tuple[float, float, float] | None], None]


def _standard(ds: Dataset, b: float, d: tuple[float, float, float] | None) -> None:
    ds.DiffusionBValue = b
    ds.DiffusionDirectionality = "NONE" if d is None else "DIRECTIONAL"
    if d is not None:
        ds.DiffusionGradientOrientation = list(d)


def _philips(ds: Dataset, b: float, d: tuple[float, float, float] | None) -> None:
    ds.private_block(0x2001, "Philips Imaging DD 001", create=True).add_new(0x03, "FL", b)


def _siemens(ds: Dataset, b: float, d: tuple[float, float, float] | None) -> None:
    block = ds.private_block(0x0019, "SIEMENS MR HEADER", create=True)
    block.add_new(0x0C, "IS", str(int(b)))
    block.add_new(0x0D, "CS", "NONE" if d is None else "DIRECTIONAL")
    if d is not None:
        block.add_new(0x0E, "FD", list(d))


def _ge(ds: Dataset, b: float, d: tuple[float, float, float] | None) -> None:
    # GE adds 10^9 to the b-value on some software versions (dcm2niix, dicom2nifti).
    block = ds.private_block(0x0043, "GEMS_PARM_01", create=True)
    block.add_new(0x39, "IS", [str(int(b) + 1_000_000_000), "8", "0", "0"])
    acqu = ds.private_block(0x0019, "GEMS_ACQU_01", create=True)
    for offset, v in zip((0xBB, 0xBC, 0xBD), d or (0.0, 0.0, 0.0), strict=True):
        acqu.add_new(offset, "DS", str(v))


def write_dwi(folder: Path, tagger: Tagger, *, series_uid: str | None = None) -> None:
    """One file per slice per acquisition, InstanceNumbers scrambled, plus a non-image file."""
    folder.mkdir(parents=True, exist_ok=True)
    series_uid = series_uid or generate_uid(entropy_srcs=[str(folder)])
    rng = np.random.default_rng(0)
    n = len(ACQUISITIONS) * SHAPE[0]
    numbers = rng.permutation(n) + 1
    i = 0
    for acq, (b, d) in enumerate(ACQUISITIONS):
        pixels = _stored(b)
        for z in range(SHAPE[0]):
            ds = Dataset()
            sop = generate_uid(entropy_srcs=[series_uid, str(acq), str(z)])
            ds.file_meta = FileMetaDataset()
            ds.file_meta.MediaStorageSOPClassUID = MR_SOP
            ds.file_meta.MediaStorageSOPInstanceUID = sop
            ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
            ds.SOPClassUID, ds.SOPInstanceUID = MR_SOP, sop
            ds.Modality, ds.Manufacturer = "MR", "TEST"
            ds.StudyInstanceUID = "1.2.3.4"
            ds.SeriesInstanceUID = series_uid
            ds.FrameOfReferenceUID = "1.2.3.5"
            ds.ImageType = ["ORIGINAL", "PRIMARY", "DIFFUSION", "NONE"]
            ds.InstanceNumber = int(numbers[i])
            ds.AcquisitionNumber = acq + 1
            ds.ImagePositionPatient = [-7.0, -7.0, 5.0 * z]
            ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
            ds.PixelSpacing = [2.0, 2.0]
            ds.SliceThickness = 5.0
            ds.Rows, ds.Columns = SHAPE[1], SHAPE[2]
            ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
            ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
            tagger(ds, b, d)
            ds.PixelData = pixels[z].tobytes()
            ds.save_as(folder / f"IM{i:04d}.dcm", enforce_file_format=True)
            i += 1
    (folder / "README.txt").write_text("not DICOM\n", encoding="utf-8")


def _quantisation_bound(b: np.ndarray, s_min: float) -> float:
    # Rounding moves ln S by at most 0.5 / S_min; the least-squares slope then moves by at
    # most that times sum|b - mean b| / sum (b - mean b)^2.
    centred = b - b.mean()
    return float(0.5 / s_min * np.abs(centred).sum() / (centred**2).sum())


@pytest.mark.parametrize(
    "tagger", [_standard, _philips, _siemens, _ge], ids=["standard", "philips", "siemens", "ge"]
)
def test_known_adc_from_every_b_value_source(tmp_path: Path, tagger: Tagger) -> None:
    write_dwi(tmp_path, tagger)
    series = read_dwi_series(tmp_path)
    assert series.b_values_s_per_mm2 == (0.0, 500.0, 1000.0, 1000.0, 1000.0)
    assert any("README.txt: skipped" in p for p in series.provenance)
    maps = compute_adc_maps(series)
    b = np.array(series.b_values_s_per_mm2)
    tol = _quantisation_bound(b, S0 * np.exp(-1000.0 * ADC_RIGHT))
    body = np.ones(SHAPE, dtype=bool)
    body[:, :2, :2] = False
    np.testing.assert_array_equal(maps.mask.array.astype(bool), body)
    adc = np.asarray(maps.adc.array)
    np.testing.assert_allclose(adc[body], _true_adc()[body], rtol=0, atol=tol)
    np.testing.assert_array_equal(adc[~body], 0.0)
    assert maps.adc.unit.value == "mm2/s"
    # Independent reference: numpy.polyfit of ln(stored signal) on b for one voxel per half.
    for x in (1, 6):
        signal = np.array([_stored(bv)[2, 5, x] for bv, _ in ACQUISITIONS], dtype=np.float64)
        slope = np.polyfit(b, np.log(signal), 1)[0]
        np.testing.assert_allclose(adc[2, 5, x], -slope, rtol=1e-9)


def test_directions_and_geometry_of_synthetic_series(tmp_path: Path) -> None:
    write_dwi(tmp_path, _standard)
    series = read_dwi_series(tmp_path)
    # Sorted by b-value, then direction.
    assert [im.direction for im in series.images] == [
        None,
        (1.0, 0.0, 0.0),
        (0.0, 0.0, 1.0),
        (0.0, 1.0, 0.0),
        (1.0, 0.0, 0.0),
    ]
    assert series.reference.shape == SHAPE
    np.testing.assert_allclose(series.reference.spacing_mm, (5.0, 2.0, 2.0))
    np.testing.assert_allclose(series.reference.origin_mm, (-7.0, -7.0, 0.0))


def test_min_b_leaves_out_b0(tmp_path: Path) -> None:
    write_dwi(tmp_path, _standard)
    maps = compute_adc_maps(read_dwi_series(tmp_path), min_b_s_per_mm2=100.0)
    assert maps.b_values_s_per_mm2 == (500.0, 1000.0, 1000.0, 1000.0)
    b = np.array(maps.b_values_s_per_mm2)
    tol = _quantisation_bound(b, S0 * np.exp(-1000.0 * ADC_RIGHT))
    np.testing.assert_allclose(maps.adc.array[1, 4, 1], ADC_LEFT, atol=tol)


def test_read_b_value_prefers_the_standard_attribute() -> None:
    ds = Dataset()
    ds.DiffusionBValue = 800.0
    _siemens(ds, 1000.0, (1.0, 0.0, 0.0))
    value, source, notes = read_b_value(ds, path="x.dcm")
    assert (value, source) == (800.0, "DiffusionBValue (0018,9087)")
    assert len(notes) == 1
    assert "differs" in notes[0]


def test_missing_b_value_names_the_attributes(tmp_path: Path) -> None:
    write_dwi(tmp_path, lambda ds, b, d: None)
    with pytest.raises(MissingAttributeError, match=r"DiffusionBValue \(0018,9087\)"):
        read_dwi_series(tmp_path)


def test_two_series_are_refused_unless_one_is_chosen(tmp_path: Path) -> None:
    write_dwi(tmp_path / "a", _standard, series_uid="1.2.3.100")
    write_dwi(tmp_path / "b", lambda ds, b, d: None, series_uid="1.2.3.200")  # not DWI
    with pytest.raises(DicomImportError, match=r"mixes 2 series: 1\.2\.3\.100 .*--series-uid"):
        read_dwi_series(tmp_path)
    chosen = read_dwi_series(tmp_path, series_instance_uid="1.2.3.100")
    assert chosen.series_instance_uid == "1.2.3.100"
    assert len(chosen.images) == len(ACQUISITIONS)
    with pytest.raises(DicomImportError, match=r"1\.2\.3\.999 is not among"):
        read_dwi_series(tmp_path, series_instance_uid="1.2.3.999")
    result = CliRunner().invoke(
        app,
        ["adc", str(tmp_path), str(tmp_path / "adc.nii"), "--series-uid", "1.2.3.100"],
    )
    assert result.exit_code == 0, result.output


def test_scanner_adc_map_is_skipped(tmp_path: Path) -> None:
    write_dwi(tmp_path, _standard)
    # Re-label one acquisition as a scanner-computed ADC map: the reader drops its slices.
    for path in sorted(tmp_path.glob("IM*.dcm")):
        f = pydicom.dcmread(path)
        if float(f.DiffusionBValue) == 500.0:
            f.ImageType = ["DERIVED", "PRIMARY", "ADC"]
            f.save_as(path)
    series = read_dwi_series(tmp_path)
    assert series.b_values_s_per_mm2 == (0.0, 1000.0, 1000.0, 1000.0)
    assert sum("scanner-computed map" in p for p in series.provenance) == SHAPE[0]


def test_cli_adc_writes_map_and_mask(tmp_path: Path) -> None:
    write_dwi(tmp_path / "dwi", _standard)
    out = tmp_path / "adc.nii.gz"
    result = CliRunner().invoke(app, ["adc", str(tmp_path / "dwi"), str(out), "--format", "json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["b_values_used_s_per_mm2"] == [0.0, 500.0, 1000.0, 1000.0, 1000.0]
    assert payload["voxels_undefined"] == SHAPE[0] * 4
    adc = read_nifti(out)
    mask = read_nifti(tmp_path / "adc_mask.nii.gz")
    assert adc.unit.value == "mm2/s"
    np.testing.assert_allclose(adc.affine, read_dwi_series(tmp_path / "dwi").reference.affine)
    tol = _quantisation_bound(np.array([0, 500, 1000, 1000, 1000.0]), S0 * np.exp(-2.0))
    np.testing.assert_allclose(np.asarray(adc.array)[0, 5, 6], ADC_RIGHT, atol=tol)
    assert int(np.asarray(mask.array).sum()) == payload["voxels_defined"]


def test_cli_adc_single_b_value_exits_2(tmp_path: Path) -> None:
    write_dwi(tmp_path / "dwi", _standard)
    for path in sorted((tmp_path / "dwi").glob("IM*.dcm")):
        if float(pydicom.dcmread(path).DiffusionBValue) != 0.0:
            path.unlink()
    result = CliRunner().invoke(app, ["adc", str(tmp_path / "dwi"), str(tmp_path / "a.nii")])
    assert result.exit_code == 2
    assert "two different b-values" in result.stderr


# ---- public data: the published b-values of two vendors ---------------------------------


@pytest.fixture(scope="module")
def philips() -> DiffusionSeries:
    return read_dwi_series(
        shared_data_path("dicom", "mr-dwi", "philips-ingenia-classic-dcm_qa", "DICOM")
    )


def test_philips_published_b_values(philips: DiffusionSeries) -> None:
    ref = shared_data_path("dicom", "mr-dwi", "philips-ingenia-classic-dcm_qa", "Ref").glob(
        "*_cl.bval"
    )
    published = sorted(float(v) for v in next(iter(ref)).read_text().split())
    # Source: dcm2niix reference output Ref/701_DTI_Biobank_2mm_MB3S2_EPI_cl.bval (17 volumes).
    # The header stores the b-values as FD from float32 (0.001 -> 0.0010000000475).
    np.testing.assert_allclose(sorted(philips.b_values_s_per_mm2), published, atol=1e-6)
    assert philips.reference.shape == (32, 112, 112)
    assert all(im.b_value_source.startswith("DiffusionBValue") for im in philips.images)
    # The private Philips b-value (2001,1003) is present too and agrees on every slice
    # (a disagreement would be noted in the provenance).
    assert not [p for p in philips.provenance if "differs" in p]
    directions = {im.direction for im in philips.images if im.b_value_s_per_mm2 > 500}
    assert len(directions) == 12


def test_philips_adc_is_defined_inside_the_head(philips: DiffusionSeries) -> None:
    maps = compute_adc_maps(philips, min_b_s_per_mm2=0.0)
    defined = maps.mask.array.astype(bool)
    assert 0.2 < defined.mean() < 0.95
    # Sanity, not a reference: brain tissue ADC lies around 0.7-0.9e-3 mm²/s and CSF ~3e-3.
    median = float(np.median(np.asarray(maps.adc.array)[defined]))
    assert 0.5e-3 < median < 1.5e-3


def test_siemens_mosaic_b_values_direction_and_geometry() -> None:
    series = read_dwi_series(shared_data_path("dicom", "mr-dwi", "siemens-trio-mosaic-nibabel"))
    assert series.b_values_s_per_mm2 == (0.0, 1000.0)
    assert series.images[1].b_value_source.startswith("(0019,100C)")
    # Header (0019,100E) DiffusionGradientDirection, also asserted by nibabel's tests.
    direction = series.images[1].direction
    assert direction is not None
    np.testing.assert_allclose(direction, (0.99997449, 0.00505012, -0.00505012), atol=1e-7)
    vol = series.reference
    assert vol.shape == (48, 128, 128)  # 896 x 896 mosaic of 7 x 7 tiles, 48 images
    # nibabel tests/test_dicomwrappers.py EXPECTED_AFFINE (SPM-checked; RAS, columns
    # x-index, y-index, slice), converted here to LPS and (z, y, x) columns.
    ras = np.array(
        [
            [-1.796875, 0, 0, 115],
            [0, -1.79684984, -0.01570896, 135.028779],
            [0, -0.00940843750, 2.99995887, -78.710481],
            [0, 0, 0, 1],
        ]
    )
    lps = np.diag([-1.0, -1.0, 1.0, 1.0]) @ ras
    expected = lps[:, [2, 1, 0, 3]]
    np.testing.assert_allclose(vol.affine, expected, atol=1e-4)
    # nibabel's copies of these files carry no pixel signal (all zero): nothing to fit.
    maps = compute_adc_maps(series)
    assert not maps.mask.array.any()


def _item(**attrs: object) -> Dataset:
    item = Dataset()
    for key, value in attrs.items():
        setattr(item, key, value)
    return item


def test_enhanced_mr_multiframe(tmp_path: Path) -> None:
    # Enhanced MR Image Storage: b-values and directions in per-frame MRDiffusionSequence.
    sop_class = UID("1.2.840.10008.5.1.4.1.1.4.1")
    frames, per_frame = [], []
    for b, d in ((0.0, None), (1000.0, (0.0, 1.0, 0.0))):
        pixels = _stored(b)
        for z in range(SHAPE[0]):
            diffusion = _item(
                DiffusionBValue=b, DiffusionDirectionality="NONE" if d is None else "DIRECTIONAL"
            )
            if d is not None:
                diffusion.DiffusionGradientDirectionSequence = [
                    _item(DiffusionGradientOrientation=list(d))
                ]
            per_frame.append(
                _item(
                    PlanePositionSequence=[_item(ImagePositionPatient=[-7.0, -7.0, 5.0 * z])],
                    MRDiffusionSequence=[diffusion],
                )
            )
            frames.append(pixels[z])
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = sop_class
    ds.file_meta.MediaStorageSOPInstanceUID = UID("1.2.3.4.5.6")
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID, ds.SOPInstanceUID = sop_class, UID("1.2.3.4.5.6")
    ds.Modality, ds.SeriesInstanceUID, ds.StudyInstanceUID = "MR", "1.2.3.9", "1.2.3.8"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "DIFFUSION", "NONE"]
    ds.Rows, ds.Columns, ds.NumberOfFrames = SHAPE[1], SHAPE[2], len(frames)
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
    ds.SharedFunctionalGroupsSequence = [
        _item(
            PixelMeasuresSequence=[_item(PixelSpacing=[2.0, 2.0], SliceThickness=5.0)],
            PlaneOrientationSequence=[_item(ImageOrientationPatient=[1, 0, 0, 0, 1, 0])],
        )
    ]
    ds.PerFrameFunctionalGroupsSequence = per_frame
    ds.PixelData = np.stack(frames).astype(np.uint16).tobytes()
    ds.save_as(tmp_path / "enhanced.dcm", enforce_file_format=True)
    series = read_dwi_series(tmp_path)
    assert series.b_values_s_per_mm2 == (0.0, 1000.0)
    assert series.images[1].direction == (0.0, 1.0, 0.0)
    assert series.reference.shape == SHAPE
    maps = compute_adc_maps(series)
    # Two points: the fit passes through both, so ADC = ln(S0 / S1000) / 1000 of the stored
    # integers exactly (by hand), voxel (z=1, y=5, x=6) in the 2.0e-3 half.
    s0, s1 = float(_stored(0.0)[1, 5, 6]), float(_stored(1000.0)[1, 5, 6])
    np.testing.assert_allclose(maps.adc.array[1, 5, 6], np.log(s0 / s1) / 1000.0, rtol=1e-12)


def test_synthetic_mosaic_tiles_become_slices(tmp_path: Path) -> None:
    # The nibabel mosaic with known pixel values: tile k (row-major) holds the value k + 1.
    src = shared_data_path(
        "dicom", "mr-dwi", "siemens-trio-mosaic-nibabel", "siemens_dwi_0.dcm.gz"
    )
    ds = pydicom.dcmread(io.BytesIO(gzip.decompress(src.read_bytes())))
    tiles = np.zeros((896, 896), dtype=np.uint16)
    for k in range(48):
        r, c = divmod(k, 7)
        tiles[r * 128 : (r + 1) * 128, c * 128 : (c + 1) * 128] = k + 1
    ds.PixelData = tiles.tobytes()
    ds.save_as(tmp_path / "mosaic.dcm")
    series = read_dwi_series(tmp_path)
    vol = np.asarray(series.reference.array)
    assert vol.shape == (48, 128, 128)
    np.testing.assert_array_equal(vol[:, 0, 0], np.arange(1, 49))
    assert np.all(vol == vol[:, :1, :1])
