"""Tests of dicom/nifti.py: RAS/LPS conversion, IBSI phantoms, round trip."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nibabel as _nib
import numpy as np
import pytest

from nenscope.core.errors import DicomImportError, GeometryError, WorkbenchWarning
from nenscope.core.geometry import ImageVolume, affine_from_spacing
from nenscope.core.units import Unit
from nenscope.dicom import read_nifti, read_series, write_nifti
from tests.conftest import shared_data_path

nib: Any = _nib  # nibabel's image classes are only partly annotated

CT_PHANTOM = ("ibsi", "ibsi_1_ct_radiomics_phantom")


def test_ibsi_ct_phantom_nifti_equals_its_dicom_voxel_for_voxel() -> None:
    # The same phantom in two formats (IBSI data set): every voxel must hold the same HU at
    # the same LPS point. Affine tolerance 1e-3 mm (float32 NIfTI header vs DICOM strings).
    nifti = read_nifti(shared_data_path(*CT_PHANTOM, "nifti", "image", "phantom.nii.gz"))
    dicom = read_series(shared_data_path(*CT_PHANTOM, "dicom", "image")).volume
    assert nifti.shape == dicom.shape == (60, 201, 204)
    np.testing.assert_allclose(nifti.affine, dicom.affine, atol=1e-3)
    np.testing.assert_array_equal(nifti.array, dicom.array)


def test_ibsi_ct_phantom_point_lookup_agrees() -> None:
    nifti = read_nifti(shared_data_path(*CT_PHANTOM, "nifti", "image", "phantom.nii.gz"))
    dicom = read_series(shared_data_path(*CT_PHANTOM, "dicom", "image")).volume
    points = dicom.index_to_lps([[10, 50, 60], [30, 100, 150], [59, 200, 203]])
    back = np.round(nifti.lps_to_index(points)).astype(int)
    for (z, y, x), (zz, yy, xx) in zip(
        back, [[10, 50, 60], [30, 100, 150], [59, 200, 203]], strict=True
    ):
        assert nifti.array[z, y, x] == dicom.array[zz, yy, xx]


def test_ibsi_ct_phantom_mask_voxel_count() -> None:
    # IBSI README: GTV-1 mask has 125,256 voxels; spacing 0.977 × 0.977 × 3.0 mm.
    mask = read_nifti(shared_data_path(*CT_PHANTOM, "nifti", "mask", "mask.nii.gz"))
    assert int(np.count_nonzero(mask.array)) == 125_256
    np.testing.assert_allclose(mask.spacing_mm, (3.0, 0.977, 0.977), atol=1e-3)


def test_ibsi_digital_phantom_axes() -> None:
    # IBSI README: 5×4×4 voxels (x, y, z), 2.0 mm isotropic, 74 ROI voxels.
    folder = shared_data_path("ibsi", "ibsi_1_digital_phantom", "nifti")
    image = read_nifti(next((folder / "image").glob("*.nii*")))
    mask = read_nifti(next((folder / "mask").glob("*.nii*")))
    assert image.shape == (4, 4, 5)
    np.testing.assert_allclose(image.spacing_mm, (2.0, 2.0, 2.0), atol=1e-9)
    assert int(np.count_nonzero(mask.array)) == 74


def test_known_ras_point_maps_to_lps(tmp_path: Path) -> None:
    # By hand: NIfTI voxel (i=1, j=2, k=3) with affine diag(2, 3, 4) + (10, 20, 30) is at
    # RAS (12, 26, 42) = LPS (−12, −26, 42); nenscope indexes it as (z=3, y=2, x=1).
    affine = np.diag([2.0, 3.0, 4.0, 1.0])
    affine[:3, 3] = (10.0, 20.0, 30.0)
    data = np.zeros((5, 6, 7), dtype=np.int16)
    data[1, 2, 3] = 7
    path = tmp_path / "known.nii.gz"
    nib.save(nib.Nifti1Image(data, affine), path)
    volume = read_nifti(path)
    assert volume.shape == (7, 6, 5)
    assert volume.array[3, 2, 1] == 7
    np.testing.assert_allclose(volume.index_to_lps([[3, 2, 1]])[0], (-12.0, -26.0, 42.0))


def test_round_trip_keeps_values_geometry_and_unit(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    theta = np.deg2rad(20.0)
    rotation = np.array(
        [[np.cos(theta), -np.sin(theta), 0.0], [np.sin(theta), np.cos(theta), 0.0], [0, 0, 1]]
    )
    affine = affine_from_spacing(
        (3.0, 1.5, 0.8), origin_mm=(-120.5, 33.25, 410.0), direction=rotation
    )
    array = rng.normal(size=(6, 7, 8)).astype(np.float32)
    volume = ImageVolume(array=array, affine=affine, unit=Unit.BQ_PER_ML)
    path = tmp_path / "round.nii.gz"
    write_nifti(volume, path)
    back = read_nifti(path)
    np.testing.assert_array_equal(back.array, array)
    # sform is stored as float32: ~1e-7 relative of 410 mm → < 1e-4 mm.
    np.testing.assert_allclose(back.affine, affine, atol=1e-4)
    assert back.unit is Unit.BQ_PER_ML
    # Independent reading with nibabel: voxel (x=1, y=2, z=3) at RAS = flip of our LPS.
    img = nib.load(path)
    ras = nib.affines.apply_affine(img.affine, [1, 2, 3])
    lps = volume.index_to_lps([[3, 2, 1]])[0]
    np.testing.assert_allclose(ras, lps * [-1, -1, 1], atol=1e-4)
    assert np.asarray(img.dataobj)[1, 2, 3] == array[3, 2, 1]


def test_bool_mask_written_as_uint8(tmp_path: Path) -> None:
    mask = np.zeros((2, 3, 4), dtype=bool)
    mask[1, 2, 3] = True
    write_nifti(ImageVolume(array=mask, affine=np.eye(4), unit=Unit.LABEL), tmp_path / "m.nii")
    back = read_nifti(tmp_path / "m.nii")
    assert back.array.dtype == np.uint8
    assert back.array[1, 2, 3] == 1
    assert int(back.array.sum()) == 1


def test_four_d_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "four.nii.gz"
    nib.save(nib.Nifti1Image(np.zeros((2, 2, 2, 3), dtype=np.float32), np.eye(4)), path)
    with pytest.raises(DicomImportError, match="3-D scalar images"):
        read_nifti(path)


def test_missing_orientation_warns(tmp_path: Path) -> None:
    path = tmp_path / "noform.nii"
    img = nib.Nifti1Image(np.zeros((2, 2, 2), dtype=np.float32), None)
    img.set_sform(None, code=0)
    img.set_qform(None, code=0)
    nib.save(img, path)
    with pytest.warns(WorkbenchWarning, match="no position in space"):
        read_nifti(path)


def test_unreadable_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "broken.nii.gz"
    path.write_bytes(b"not a nifti file")
    with pytest.raises(DicomImportError, match=r"broken\.nii\.gz"):
        read_nifti(path)


def test_wrong_suffix_is_refused(tmp_path: Path) -> None:
    volume = ImageVolume(array=np.zeros((1, 1, 1)), affine=np.eye(4), unit=Unit.HU)
    with pytest.raises(GeometryError, match=r"\.nii"):
        write_nifti(volume, tmp_path / "image.png")
