"""``--organs``: TotalSegmentator output (per-organ files or multi-label) and label maps."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from nenscope.core import DicomImportError, GeometryError, ImageVolume, Unit
from nenscope.dicom.nifti import write_nifti
from nenscope.dicom.organ_masks import TOTALSEGMENTATOR_TOTAL, read_organ_masks
from tests.factories import grid


def _ct_grid() -> ImageVolume:
    # TotalSegmentator writes its masks on the CT grid: 2 mm here, the PET has 4 mm.
    return grid((40, 40, 40), (2.0, 2.0, 2.0), unit=Unit.LABEL)


def _pet_grid() -> ImageVolume:
    return grid((20, 20, 20), (4.0, 4.0, 4.0))


def _box(volume: ImageVolume, lo: int, hi: int) -> np.ndarray:
    mask = np.zeros(volume.shape, dtype=np.uint8)
    mask[lo:hi, lo:hi, lo:hi] = 1
    return mask


def test_per_organ_files_named_as_totalsegmentator_names_them(tmp_path: Path) -> None:
    ct = _ct_grid()
    for name, (lo, hi) in {
        "liver": (2, 10),
        "kidney_left": (12, 18),
        "urinary_bladder": (20, 26),
        "lung_upper_lobe_left": (28, 32),
        "lung_lower_lobe_left": (32, 36),
        "vertebrae_L1": (36, 40),  # a structure nenscope does not use
    }.items():
        write_nifti(
            ImageVolume(array=_box(ct, lo, hi), affine=ct.affine, unit=Unit.LABEL),
            tmp_path / f"{name}.nii.gz",
        )
    masks = read_organ_masks(tmp_path, _pet_grid())
    assert sorted(masks) == ["bladder", "kidney_left", "liver", "lungs"]
    # CT voxels 2..9 (2 mm, centres 4..18 mm) hold PET voxel centres 4, 8, 12, 16 mm: 1..4.
    liver = masks["liver"]
    assert liver.shape == (20, 20, 20)
    np.testing.assert_array_equal(np.flatnonzero(liver.any(axis=(1, 2))), [1, 2, 3, 4])
    # The lung lobes are one "lungs" mask: CT 28..35 -> PET 14..17.
    np.testing.assert_array_equal(
        np.flatnonzero(masks["lungs"].any(axis=(1, 2))), [14, 15, 16, 17]
    )


def test_multilabel_file_uses_totalsegmentator_v2_label_ids(tmp_path: Path) -> None:
    ct = _ct_grid()
    labels = np.zeros(ct.shape, dtype=np.uint8)
    labels[2:10, 2:10, 2:10] = 5  # liver in TotalSegmentator v2 "total"
    labels[12:18, 12:18, 12:18] = 90  # brain
    labels[20:26, 20:26, 20:26] = 51  # heart
    write_nifti(
        ImageVolume(array=labels, affine=ct.affine, unit=Unit.LABEL),
        tmp_path / "segmentations.nii.gz",
    )
    assert TOTALSEGMENTATOR_TOTAL[5] == "liver"
    masks = read_organ_masks(tmp_path, _pet_grid())
    assert sorted(masks) == ["brain", "heart", "liver"]
    assert int(masks["brain"].sum()) == 27  # CT 12..17 -> PET 6, 7, 8 on each axis


def test_any_label_map_with_a_name_table(tmp_path: Path) -> None:
    ct = _ct_grid()
    labels = np.zeros(ct.shape, dtype=np.uint8)
    labels[2:10, 2:10, 2:10] = 1
    labels[20:26, 20:26, 20:26] = 2
    path = tmp_path / "organs.nii.gz"
    write_nifti(ImageVolume(array=labels, affine=ct.affine, unit=Unit.LABEL), path)
    (tmp_path / "organs.json").write_text(json.dumps({"1": "spleen", "2": "kidney_right"}))
    masks = read_organ_masks(path, _pet_grid())
    assert sorted(masks) == ["kidney_right", "spleen"]
    (tmp_path / "organs.json").write_text("not json")
    with pytest.raises(DicomImportError, match=r"organs\.json: name table not readable"):
        read_organ_masks(path, _pet_grid())


def test_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(DicomImportError, match="no such file"):
        read_organ_masks(tmp_path / "missing", _pet_grid())
    (tmp_path / "a.nii.gz").write_bytes(b"")
    (tmp_path / "b.nii.gz").write_bytes(b"")
    with pytest.raises(DicomImportError, match="TotalSegmentator structure"):
        read_organ_masks(tmp_path, _pet_grid())
    far = grid((10, 10, 10), (2.0, 2.0, 2.0), origin_mm=(500.0, 500.0, 500.0), unit=Unit.LABEL)
    path = tmp_path / "far.nii.gz"
    write_nifti(
        ImageVolume(
            array=np.full(far.shape, 5, dtype=np.uint8), affine=far.affine, unit=Unit.LABEL
        ),
        path,
    )
    with pytest.raises(GeometryError, match="no known organ label on the PET grid"):
        read_organ_masks(path, _pet_grid())
