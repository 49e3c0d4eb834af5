"""Bad input to analyze_study: a clear reason, and the partial results still written."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import TypedDict

import numpy as np
import pydicom
import pytest

from nenscope.core.errors import OptionError
from nenscope.core.units import Unit
from nenscope.dicom import read_series, write_nifti
from nenscope.dicom.seg_sr import read_sr
from nenscope.dicom.synthetic import PhantomSettings, PhantomTruth, write_phantom_study
from nenscope.pipeline import AnalysisOptions, analyze_study


@pytest.fixture(scope="module")
def phantom(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, PhantomTruth]:
    root = tmp_path_factory.mktemp("bad-input")
    truth = write_phantom_study(root / "study", PhantomSettings(size="small", seed=5))
    return root / "study", truth


def _copy(src: Path, dst: Path, *, with_ct: bool = True, with_pet: bool = True) -> Path:
    dst.mkdir(parents=True)
    if with_ct:
        shutil.copytree(src / "CT", dst / "CT")
    if with_pet:
        shutil.copytree(src / "PET", dst / "PET")
    return dst


class _Fast(TypedDict):
    figures: bool
    pdf: bool


FAST: _Fast = {"figures": False, "pdf": False}


def _read_report(out: Path) -> dict[str, object]:
    data = json.loads((out / "report.json").read_text())
    assert isinstance(data, dict)
    return data


def test_study_without_pet(phantom: tuple[Path, PhantomTruth], tmp_path: Path) -> None:
    study = _copy(phantom[0], tmp_path / "ct-only", with_pet=False)
    result = analyze_study(study, tmp_path / "out", AnalysisOptions(**FAST))
    assert len(result.errors) == 1
    assert "No PET series (Modality PT)" in result.errors[0]
    assert "CT" in result.errors[0]  # says what was found instead
    # Partial results: the reports exist and say why; no lesion table.
    assert json.loads((tmp_path / "out" / "lesions.json").read_text()) == []
    assert "No PET series" in (tmp_path / "out" / "report.html").read_text()
    assert _read_report(tmp_path / "out")["errors"] == list(result.errors)
    assert not (tmp_path / "out" / "seg.dcm").exists()


def test_pet_without_ct(phantom: tuple[Path, PhantomTruth], tmp_path: Path) -> None:
    study = _copy(phantom[0], tmp_path / "pet-only", with_ct=False)
    truth = phantom[1]
    seed = truth.lesion("liver-1").centre_mm
    result = analyze_study(
        study,
        tmp_path / "out",
        AnalysisOptions(auto_detect=False, lesion_seeds_mm=(seed,), **FAST),
    )
    assert result.errors == ()
    assert any("No CT series" in w and "PET alone" in w for w in result.report.warnings)
    assert len(result.report.lesions) == 1
    assert result.report.header is not None
    assert result.report.header.ct_series_uid is None
    assert (tmp_path / "out" / "seg.dcm").is_file()


def test_suv_not_computable(phantom: tuple[Path, PhantomTruth], tmp_path: Path) -> None:
    study = _copy(phantom[0], tmp_path / "no-dose")
    for path in (study / "PET").glob("*.dcm"):
        ds = pydicom.dcmread(path)
        del ds.RadiopharmaceuticalInformationSequence[0].RadionuclideTotalDose
        ds.save_as(path)
    result = analyze_study(study, tmp_path / "out", AnalysisOptions(**FAST))
    assert len(result.errors) == 1
    text = result.errors[0]
    assert "RadionuclideTotalDose" in text
    assert "--injected-mbq" in text  # names the fix
    assert (tmp_path / "out" / "report.html").is_file()
    assert (tmp_path / "out" / "report.json").is_file()


def test_empty_segmentation(phantom: tuple[Path, PhantomTruth], tmp_path: Path) -> None:
    # A lesion mask that holds no voxel, and no automatic detection: nothing to report.
    pet = read_series(phantom[0] / "PET").volume
    empty = pet.with_array(np.zeros(pet.shape, dtype=np.uint8), unit=Unit.LABEL)
    write_nifti(empty, tmp_path / "empty.nii.gz")
    options = AnalysisOptions(auto_detect=False, lesion_masks=(tmp_path / "empty.nii.gz",), **FAST)
    result = analyze_study(phantom[0], tmp_path / "out", options)
    assert result.report.lesions == ()
    assert any("is empty on the PET grid; skipped" in w for w in result.report.warnings)
    assert any("No lesion found" in w and "--lesion-mm" in w for w in result.report.warnings)
    assert json.loads((tmp_path / "out" / "lesions.json").read_text()) == []
    # The SEG and SR still hold the reference regions.
    groups = read_sr(tmp_path / "out" / "sr.dcm")
    assert {g.kind.value for g in groups} == {"liver", "spleen", "blood_pool"}


def test_seed_outside_the_body(phantom: tuple[Path, PhantomTruth], tmp_path: Path) -> None:
    study, truth = phantom
    inside = truth.lesion("liver-1").centre_mm
    outside = (190.0, -190.0, 0.0)  # in the field of view, in air in front of the patient
    options = AnalysisOptions(auto_detect=False, lesion_seeds_mm=(outside, inside), **FAST)
    result = analyze_study(study, tmp_path / "out", options)
    assert len(result.errors) == 1
    assert "Seed point (190, -190, 0) mm lies outside the body" in result.errors[0]
    assert "HU" in result.errors[0]
    # The good seed is still analysed and written.
    assert len(result.report.lesions) == 1
    assert len(json.loads((tmp_path / "out" / "lesions.json").read_text())) == 1


def test_seed_outside_field_of_view(phantom: tuple[Path, PhantomTruth], tmp_path: Path) -> None:
    options = AnalysisOptions(auto_detect=False, lesion_seeds_mm=((0.0, 0.0, 5000.0),), **FAST)
    result = analyze_study(phantom[0], tmp_path / "out", options)
    assert any("outside the PET field of view" in e for e in result.errors)


def test_unknown_options_are_refused_with_the_closest_value() -> None:
    with pytest.raises(OptionError, match="Did you mean 'sstr'"):
        AnalysisOptions(tracer="sst")
    with pytest.raises(OptionError, match="Did you mean 'lbm'"):
        AnalysisOptions(normalisation="lbn")  # type: ignore[arg-type]  # a caller's bad string


def test_missing_study_folder(tmp_path: Path) -> None:
    result = analyze_study(tmp_path / "nope", tmp_path / "out", AnalysisOptions(**FAST))
    assert "does not exist" in result.errors[0]
    assert (tmp_path / "out" / "report.html").is_file()


def test_reference_masks_from_files(phantom: tuple[Path, PhantomTruth], tmp_path: Path) -> None:
    study, truth = phantom
    pet = read_series(study / "PET").volume
    labels = truth.label_map(pet)
    names = {name: label for label, name in truth.label_names.items()}
    for organ in ("liver", "spleen"):
        mask = pet.with_array((labels == names[organ]).astype(np.uint8), unit=Unit.LABEL)
        write_nifti(mask, tmp_path / f"{organ}.nii.gz")
    options = AnalysisOptions(
        auto_detect=False,
        reference_masks={
            "liver": tmp_path / "liver.nii.gz",
            "spleen": tmp_path / "spleen.nii.gz",
            "blood_pool": tmp_path / "missing.nii.gz",
        },
        **FAST,
    )
    result = analyze_study(study, tmp_path / "out", options)
    # Whole-organ masks on a noise-free phantom: the mean is the painted organ SUV (7 and 22;
    # the lesions carry their own labels), within int16 storage (1e-4).
    np.testing.assert_allclose(
        result.references["liver"].mean, truth.organ("liver").suv_mean, rtol=1e-4
    )
    np.testing.assert_allclose(
        result.references["spleen"].mean, truth.organ("spleen").suv_mean, rtol=1e-4
    )
    assert result.references["liver"].description == "user mask"
    assert any("blood_pool reference mask" in e and "missing.nii.gz" in e for e in result.errors)


def test_nac_series_is_not_analysed(phantom: tuple[Path, PhantomTruth], tmp_path: Path) -> None:
    # A non-attenuation-corrected copy of the PET with more slices than the AC series.
    study = _copy(phantom[0], tmp_path / "with-nac")
    series_uid = pydicom.uid.generate_uid()
    (study / "PET_NAC").mkdir()
    for path in sorted((study / "PET").glob("*.dcm")):
        ds = pydicom.dcmread(path)
        ds.SeriesInstanceUID = series_uid
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = pydicom.uid.generate_uid()
        ds.SeriesDescription = "PET WB NAC"
        ds.save_as(study / "PET_NAC" / path.name)
    # The AC series loses its lowest slice, so that size alone would choose the NAC series.
    lowest = min(
        (study / "PET").glob("*.dcm"),
        key=lambda p: float(pydicom.dcmread(p).ImagePositionPatient[2]),
    )
    lowest.unlink()
    result = analyze_study(study, tmp_path / "out", AnalysisOptions(auto_detect=False, **FAST))
    assert result.study is not None
    assert result.study.pet_ref.series_instance_uid != series_uid
    assert any(
        "'PET WB NAC'" in w and "not attenuation-corrected" in w for w in result.report.warnings
    )
