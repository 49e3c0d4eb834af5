"""Tests of dicom/discovery.py: series in nested, mixed folder trees with stray files."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest

from nenscope.core.errors import DicomImportError
from nenscope.dicom import capabilities, discover_series, scan_folder
from tests.conftest import shared_data_path

GE = ("dicom", "tcia-sts-001-ge-petct")


def test_ge_petct_study_has_four_series() -> None:
    # README: PT_raw_BQML (267), PT_cropped_GML (59), CT_cropped (59), RTSTRUCT_on_PT (1).
    found = scan_folder(shared_data_path(*GE))
    counts = sorted((ref.modality, ref.units, ref.n_instances) for ref in found.series)
    assert counts == [("CT", "", 59), ("PT", "BQML", 267), ("PT", "GML", 59), ("RTSTRUCT", "", 1)]
    assert {ref.patient_id for ref in found.series} == {"STS_001"}
    assert len({ref.study_instance_uid for ref in found.series}) == 1
    pet = next(ref for ref in found.series if ref.units == "BQML")
    assert pet.manufacturer == "GE MEDICAL SYSTEMS"
    assert pet.frame_of_reference_uid is not None
    assert len(pet.files) == 267
    assert all(p.parent.name == "PT_raw_BQML" for p in pet.files)
    skipped = {s.path.name for s in found.skipped}
    assert {"README.md", "LICENSE-TCIA-CC-BY-3.0.txt"} <= skipped


def test_nested_tree_with_patients_stray_and_damaged_files(tmp_path: Path) -> None:
    # Two patients in a nested tree, one series split over two folders, a text file, an
    # empty file, a truncated DICOM header and a gzip-compressed DICOM file.
    ct = sorted(
        shared_data_path("ibsi", "ibsi_1_ct_radiomics_phantom", "dicom", "image").iterdir()
    )
    pet = sorted(shared_data_path(*GE, "PT_raw_BQML").iterdir())
    (tmp_path / "a" / "deep" / "er").mkdir(parents=True)
    (tmp_path / "b").mkdir()
    for p in ct[:3]:
        shutil.copy(p, tmp_path / "a" / p.name)
    for p in ct[3:5]:
        shutil.copy(p, tmp_path / "a" / "deep" / "er" / p.name)
    for p in pet[:4]:
        shutil.copy(p, tmp_path / "b" / p.name)
    (tmp_path / "b" / "extra.dcm.gz").write_bytes(gzip.compress(pet[4].read_bytes()))
    (tmp_path / "notes.txt").write_text("scan notes")
    (tmp_path / "empty").write_bytes(b"")
    (tmp_path / "a" / "broken.dcm").write_bytes(ct[5].read_bytes()[:200])
    (tmp_path / ".hidden").write_text("ignored")
    found = scan_folder(tmp_path)
    by_modality = {ref.modality: ref for ref in found.series}
    assert set(by_modality) == {"CT", "PT"}
    assert by_modality["CT"].n_instances == 5
    assert by_modality["PT"].n_instances == 5
    assert len({ref.patient_id for ref in found.series}) == 2
    reasons = {s.path.name: s.reason for s in found.skipped}
    assert set(reasons) == {"notes.txt", "empty", "broken.dcm"}
    assert "truncated" in reasons["broken.dcm"]
    assert discover_series(tmp_path) == list(found.series)


def test_missing_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DicomImportError, match="does not exist"):
        discover_series(tmp_path / "nope")


def test_dicomdir_is_skipped_with_reason() -> None:
    # The Philips folder has a DICOMDIR (no SeriesInstanceUID) beside the image folder.
    found = scan_folder(
        shared_data_path("dicom", "mr-dwi", "philips-ingenia-classic-dcm_qa", "DICOMDIR")
    )
    assert found.series == ()
    assert "SeriesInstanceUID" in found.skipped[0].reason


def test_capabilities_follow_modality_and_units() -> None:
    found = scan_folder(shared_data_path(*GE))
    by_units = {(ref.modality, ref.units): capabilities(ref) for ref in found.series}
    assert "SUV (nenscope suv)" in by_units[("PT", "BQML")]
    assert "volume (SUV)" in by_units[("PT", "GML")]
    assert "volume (HU)" in by_units[("CT", "")]
    assert by_units[("RTSTRUCT", "")] == ("mask (RTSTRUCT contours) for its referenced series",)


def test_diffusion_series_is_recognised_with_its_b_values() -> None:
    # mr-dwi README: Philips DTI, 17 volumes of 32 slices: b = 0 and four near-zero b
    # (0.001 … 0.004) and twelve b = 1000 s/mm², in DiffusionBValue (0018,9087).
    folder = shared_data_path("dicom", "mr-dwi", "philips-ingenia-classic-dcm_qa", "DICOM")
    dti = next(ref for ref in discover_series(folder) if ref.n_instances > 500)
    assert dti.b_values == (0.0, 0.001, 0.002, 0.003, 0.004, 1000.0)
    assert dti.n_positions == 32
    can = capabilities(dti)
    assert any("ADC map (nenscope adc)" in c for c in can)
    assert any("about 17 images per slice position" in c for c in can)
