"""Tests of the synthetic PET/CT study writer (nenscope.dicom.synthetic)."""

from __future__ import annotations

import itertools
import json
import math
from datetime import datetime
from pathlib import Path

import numpy as np
import pydicom
import pytest
from typer.testing import CliRunner

from nenscope.cli.app import app
from nenscope.core.errors import OptionError
from nenscope.core.units import G_PER_KG
from nenscope.dicom.nifti import read_nifti
from nenscope.dicom.pet import compute_suv, suv_volume
from nenscope.dicom.series import read_series
from nenscope.dicom.synthetic import (
    PhantomSettings,
    PhantomTruth,
    read_lesion_file,
    read_phantom_truth,
    write_phantom_study,
)
from nenscope.quantification.phantom_model import TRACERS, LesionSpec, Tracer

PET_SOP = "1.2.840.10008.5.1.4.1.1.128"
CT_SOP = "1.2.840.10008.5.1.4.1.1.2"


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, PhantomTruth]:
    out = tmp_path_factory.mktemp("phantom") / "study"
    truth = write_phantom_study(out, PhantomSettings(size="small"))
    return out, truth


def _headers(folder: Path) -> list[pydicom.Dataset]:
    return [pydicom.dcmread(p) for p in sorted(folder.glob("*.dcm"))]


def _dt(date: str, time: str) -> datetime:
    return datetime.strptime(date + time, "%Y%m%d%H%M%S.%f")


def test_headers_read_back(study: tuple[Path, PhantomTruth]) -> None:
    out, truth = study
    pet, ct = _headers(out / "PET"), _headers(out / "CT")
    assert len(pet) == len(ct) == truth.grid.n_slices
    assert {ds.SOPClassUID for ds in pet} == {PET_SOP}
    assert {ds.SOPClassUID for ds in ct} == {CT_SOP}
    for ds in (*pet, *ct):
        assert ds.StudyInstanceUID == truth.study_instance_uid
        assert ds.FrameOfReferenceUID == truth.frame_of_reference_uid
    first = pet[0]
    assert first.Units == "BQML"
    assert first.DecayCorrection == "START"
    assert {"ATTN", "DECY"} <= set(first.CorrectedImage)
    assert float(first.RescaleIntercept) == 0.0
    item = first.RadiopharmaceuticalInformationSequence[0]
    # By hand: default Ga-68 activity 150 MBq; half-life 4057.7 s (suv-rules.md §4.4).
    assert float(item.RadionuclideTotalDose) == pytest.approx(150e6, rel=1e-12)
    assert float(item.RadionuclideHalfLife) == pytest.approx(4057.7, rel=1e-12)
    assert item.RadionuclideCodeSequence[0].CodeValue == "35337001"  # SNOMED ^68^Gallium
    assert float(first.PatientWeight) == pytest.approx(75.0)
    assert float(first.PatientSize) == pytest.approx(1.75)
    # NM/PET Patient Orientation Module (Type 2): recumbent, supine, head first.
    assert first.PatientOrientationCodeSequence[0].CodeValue == "102538003"
    assert first.PatientGantryRelationshipCodeSequence[0].CodeMeaning == "headfirst"
    assert {int(ds.RescaleIntercept) for ds in ct} == {-1024}
    # GE-style per-slice slopes: neighbouring slices never share one.
    slopes = [float(ds.RescaleSlope) for ds in pet]
    assert all(a != b for a, b in itertools.pairwise(slopes))
    assert len(set(slopes)) >= 16


def test_round_trip_gives_the_painted_suvs(study: tuple[Path, PhantomTruth]) -> None:
    out, truth = study
    series = read_series(out / "PET")
    labels = truth.label_map(series.volume)
    suv = np.asarray(series.volume.array, dtype=np.float64) / truth.settings.bqml_per_suv
    # Without blur and noise every painted value is stored exactly (exact_pet_slope); what is
    # left is the DS slope string (~1e-14) and read_series' float32 volume (2**-24 relative).
    rtol = 2.0**-23
    for lesion in truth.lesions:
        values = suv[labels == lesion.label]
        assert values.size == lesion.voxels
        np.testing.assert_allclose(values.max(), lesion.suvmax, rtol=rtol)
        np.testing.assert_allclose(values.min(), lesion.suvmax, rtol=rtol)
    for organ in truth.organs:
        values = suv[labels == organ.label]
        np.testing.assert_allclose([values.min(), values.max()], organ.suv_mean, rtol=rtol)


def test_stored_integers_are_exact(study: tuple[Path, PhantomTruth]) -> None:
    # In float64 straight from pydicom: stored x slope = painted SUV x Bq/mL per SUV, 1e-12.
    out, truth = study
    ds = pydicom.dcmread(out / "PET" / "PT0040.dcm")
    values = ds.pixel_array.astype(np.float64) * float(ds.RescaleSlope)
    suv = values / truth.settings.bqml_per_suv
    painted = {round(r.suv, 6) for r in truth.model.regions} | {0.0}
    nearest = np.array([min(painted, key=lambda p: abs(p - v)) for v in np.unique(suv)])
    np.testing.assert_allclose(np.unique(suv), nearest, rtol=1e-12, atol=1e-12)


def test_written_values_equal_painted_without_blur(study: tuple[Path, PhantomTruth]) -> None:
    _, truth = study
    # No blur, no noise: every voxel of a region holds exactly its painted SUV.
    for organ in truth.organs:
        np.testing.assert_allclose(organ.suv_mean_written, organ.suv_mean, rtol=1e-12)
    for lesion in truth.lesions:
        np.testing.assert_allclose(
            [lesion.suvmax_written, lesion.suvmean_written], lesion.suvmax, rtol=1e-12
        )


def test_bqml_follows_the_suv_definition(study: tuple[Path, PhantomTruth]) -> None:
    _, truth = study
    s = truth.settings
    # By hand: A_ref = 150 MBq * 2**(-3600 / 4057.7); 1 SUV = A_ref / 75 000 g.
    a_ref = 150e6 * 2.0 ** (-3600.0 / 4057.7)
    np.testing.assert_allclose(s.reference_activity_bq, a_ref, rtol=1e-12)
    np.testing.assert_allclose(s.bqml_per_suv, a_ref / (75.0 * G_PER_KG), rtol=1e-12)


def test_ct_and_pet_share_geometry(study: tuple[Path, PhantomTruth]) -> None:
    out, truth = study
    pet = read_series(out / "PET").volume
    ct = read_series(out / "CT").volume
    np.testing.assert_allclose(pet.affine, truth.grid.pet_affine, atol=1e-6)
    np.testing.assert_allclose(ct.affine, truth.grid.ct_affine, atol=1e-6)
    # Same slice positions and the same field-of-view centre (x = y = 0).
    np.testing.assert_allclose(pet.affine[:3, 3][2], ct.affine[:3, 3][2], atol=1e-9)
    for vol in (pet, ct):
        centre = vol.index_to_lps([[0, (vol.shape[1] - 1) / 2, (vol.shape[2] - 1) / 2]])[0]
        np.testing.assert_allclose(centre[:2], [0.0, 0.0], atol=1e-9)


def test_ct_values_are_the_model_hu(study: tuple[Path, PhantomTruth]) -> None:
    out, truth = study
    ct = read_series(out / "CT").volume
    labels = truth.label_map(ct)
    hu = np.asarray(ct.array, dtype=np.float64)
    for name in ("liver", "spleen", "lung_left", "spine"):
        organ = truth.organ(name)
        values = hu[labels == organ.label]
        np.testing.assert_array_equal(np.unique(values), [organ.hu])  # exact: integer HU


def test_label_nifti_matches_rebuilt_label_map(study: tuple[Path, PhantomTruth]) -> None:
    out, truth = study
    nifti = read_nifti(out / "labels_pet.nii.gz")
    pet = read_series(out / "PET").volume
    np.testing.assert_allclose(nifti.affine, pet.affine, atol=1e-4)
    np.testing.assert_array_equal(np.asarray(nifti.array), truth.label_map(pet))


def test_truth_json_round_trip(study: tuple[Path, PhantomTruth]) -> None:
    out, truth = study
    data = json.loads((out / "truth.json").read_text(encoding="utf-8"))
    again = read_phantom_truth(out / "truth.json")
    assert again.to_json_dict() == data
    ids = [x["id"] for x in data["lesions"]]
    assert ids == [x.lesion_id for x in truth.lesions]
    liver1 = data["lesions"][0]
    assert set(liver1) >= {"centre_mm", "volume_ml", "volume_nominal_ml", "suvmax", "suvmean"}
    assert data["acquisition"]["weight_kg"] == 75.0
    beds = data["acquisition"]["beds"]
    # Small preset: 96 slices x 4 mm from z = -230, 160 mm per bed -> 40 + 40 + 16 slices.
    assert [(b["z_min_mm"], b["z_max_mm"]) for b in beds] == [
        (-230.0, -74.0),
        (-70.0, 86.0),
        (90.0, 150.0),
    ]
    assert [b["start"][11:19] for b in beds] == ["10:30:00", "10:32:30", "10:35:00"]


def test_organ_points_lie_inside_their_organ(study: tuple[Path, PhantomTruth]) -> None:
    out, truth = study
    pet = read_series(out / "PET").volume
    labels = truth.label_map(pet)
    for organ in truth.organs:
        idx = np.rint(pet.lps_to_index([organ.point_mm])[0]).astype(int)
        assert labels[tuple(idx)] == organ.label, organ.name


def test_lesion_volume_is_voxel_count(study: tuple[Path, PhantomTruth]) -> None:
    _, truth = study
    voxel_ml = 4.0**3 / 1000.0  # small preset: 4 mm isotropic PET voxels
    for lesion in truth.lesions:
        np.testing.assert_allclose(lesion.volume_ml, lesion.voxels * voxel_ml, rtol=1e-12)
        # Digitised sphere vs closed form 4/3 pi r^3: within 40 % at 3-9 voxels radius.
        np.testing.assert_allclose(lesion.volume_ml, lesion.volume_nominal_ml, rtol=0.4)


def test_anatomy_sides_in_lps(study: tuple[Path, PhantomTruth]) -> None:
    _, truth = study
    # LPS: +x is patient left, so the liver (patient right) has negative x.
    assert truth.organ("liver").point_mm[0] < 0 < truth.organ("spleen").point_mm[0]
    aorta, spine = truth.organ("aorta").point_mm, truth.organ("spine").point_mm
    assert aorta[0] > spine[0]  # left of the spine
    assert aorta[1] < spine[1]  # anterior of the spine


def _pet_bytes(folder: Path) -> list[bytes]:
    return [pydicom.dcmread(p).PixelData for p in sorted((folder / "PET").glob("*.dcm"))]


def test_seed_reproducible_and_seed_dependent(tmp_path: Path) -> None:
    lesion = LesionSpec(
        lesion_id="l1", centre_mm=(-75.0, -15.0, 40.0), diameter_mm=20.0, suv=20.0, site="liver"
    )
    kwargs = {"size": "small", "noise": 0.2, "fwhm_mm": 6.0, "lesions": (lesion,)}
    a = write_phantom_study(tmp_path / "a", PhantomSettings(seed=7, **kwargs))  # type: ignore[arg-type]
    b = write_phantom_study(tmp_path / "b", PhantomSettings(seed=7, **kwargs))  # type: ignore[arg-type]
    c = write_phantom_study(tmp_path / "c", PhantomSettings(seed=8, **kwargs))  # type: ignore[arg-type]
    assert _pet_bytes(tmp_path / "a") == _pet_bytes(tmp_path / "b")
    assert _pet_bytes(tmp_path / "a") != _pet_bytes(tmp_path / "c")
    assert a.to_json_dict() == b.to_json_dict()
    assert c.study_instance_uid != a.study_instance_uid


def test_blur_lowers_small_lesion_maximum(tmp_path: Path) -> None:
    lesion = LesionSpec(
        lesion_id="l1", centre_mm=(-75.0, -15.0, 40.0), diameter_mm=12.0, suv=20.0, site="liver"
    )
    truth = write_phantom_study(
        tmp_path, PhantomSettings(size="small", fwhm_mm=8.0, lesions=(lesion,))
    )
    # Partial-volume loss: a 12 mm sphere at FWHM 8 mm keeps well under its painted maximum,
    # and stays above the liver background it sits in (SUV 7).
    assert 7.0 < truth.lesions[0].suvmax_written < 0.9 * truth.lesions[0].suvmax
    assert truth.lesions[0].suvmean_written < truth.lesions[0].suvmax_written
    # Blurred data use the max-based slope: read back within half a rescale step.
    series = read_series(tmp_path / "PET")
    labels = truth.label_map(series.volume)
    suv = np.asarray(series.volume.array, dtype=np.float64) / truth.settings.bqml_per_suv
    half_step = 0.5 * max(float(h.RescaleSlope) for h in series.headers)
    read_max = suv[labels == truth.lesions[0].label].max()
    tol = half_step / truth.settings.bqml_per_suv + 2.0**-23 * read_max
    np.testing.assert_allclose(read_max, truth.lesions[0].suvmax_written, atol=tol)


def _times(ds: pydicom.Dataset) -> tuple[datetime, datetime]:
    return _dt(ds.SeriesDate, ds.SeriesTime), _dt(ds.AcquisitionDate, ds.AcquisitionTime)


def _t_ave_s(ds: pydicom.Dataset) -> float:
    lam = math.log(2.0) / float(ds.RadiopharmaceuticalInformationSequence[0].RadionuclideHalfLife)
    t = float(ds.ActualFrameDuration) / 1000.0
    return math.log(lam * t / (1.0 - math.exp(-lam * t))) / lam


def _write(factory: pytest.TempPathFactory, **kwargs: object) -> tuple[Path, PhantomTruth]:
    out = factory.mktemp("phantom") / "study"
    return out, write_phantom_study(out, PhantomSettings(size="small", **kwargs))  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def ge_study(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, PhantomTruth]:
    return _write(tmp_path_factory, vendor="ge")


@pytest.fixture(scope="module")
def philips_fdg(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, PhantomTruth]:
    return _write(tmp_path_factory, vendor="philips", tracer="fdg")


@pytest.fixture(scope="module")
def philips_cnts(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, PhantomTruth]:
    return _write(tmp_path_factory, vendor="philips", pet_units="CNTS", tracer="cu64-dotatate")


@pytest.mark.parametrize("fixture", ["study", "philips_fdg"], ids=["siemens", "philips"])
def test_frame_back_computation_gives_series_time(
    fixture: str, request: pytest.FixtureRequest
) -> None:
    out, _ = request.getfixturevalue(fixture)
    pet = _headers(out / "PET")
    assert len({ds.AcquisitionTime for ds in pet}) == 3  # three beds, own start times
    for ds in pet:
        series, acq = _times(ds)
        # suv-rules.md §4.2 (4): t_ref = t_acq + T_ave - FrameReferenceTime / 1000.
        back = (acq - series).total_seconds() + _t_ave_s(ds) - float(ds.FrameReferenceTime) / 1e3
        assert back == pytest.approx(0.0, abs=1e-3)


def test_ge_semantics(ge_study: tuple[Path, PhantomTruth]) -> None:
    out, truth = ge_study
    pet = _headers(out / "PET")
    assert {ds.AcquisitionTime for ds in pet} == {pet[0].SeriesTime}
    frame_refs = sorted({float(ds.FrameReferenceTime) for ds in pet})
    # Bed starts 0, 150, 300 s after the series start (150 s per bed, feet first).
    assert frame_refs == [0.0, 150000.0, 300000.0]
    scan_dt = pet[0].get_private_item(0x0009, 0x0D, "GEMS_PETD_01").value
    assert scan_dt.startswith(pet[0].SeriesDate + pet[0].SeriesTime[:6])
    lam = math.log(2.0) / TRACERS[Tracer.GA68_DOTATATE].half_life_s
    for ds in pet:
        # DecayFactor = exp(lambda * bed offset) * frame-average factor (GE example, §4.2).
        t = float(ds.ActualFrameDuration) / 1000.0
        expected = (
            math.exp(lam * float(ds.FrameReferenceTime) / 1e3) * lam * t / (1 - math.exp(-lam * t))
        )
        assert float(ds.DecayFactor) == pytest.approx(expected, rel=1e-9)
    assert truth.n_beds == 3


def test_philips_counts_with_private_factors(philips_cnts: tuple[Path, PhantomTruth]) -> None:
    out, truth = philips_cnts
    pet = _headers(out / "PET")
    assert {ds.Units for ds in pet} == {"CNTS"}
    best = 0.0
    for ds in pet:
        suv_factor = float(ds.get_private_item(0x7053, 0x00, "Philips PET Private Group").value)
        acf = float(ds.get_private_item(0x7053, 0x09, "Philips PET Private Group").value)
        counts = ds.pixel_array.astype(np.float64) * float(ds.RescaleSlope)
        # The two factors agree: SUV = counts * f_suv = counts * f_bqml / (Bq/mL per SUV).
        np.testing.assert_allclose(suv_factor, acf / truth.settings.bqml_per_suv, rtol=1e-9)
        best = max(best, float((counts * suv_factor).max()))
    # Largest Cu-64 SUV anywhere is liver-1 (40; spleen 18, bladder 8), stored exactly; the DS
    # strings of slope and factor keep 12-14 significant digits.
    assert best == pytest.approx(truth.lesion("liver-1").suvmax, rel=1e-10)


def test_fdg_uses_fluorine(philips_fdg: tuple[Path, PhantomTruth]) -> None:
    out, truth = philips_fdg
    ds = _headers(out / "PET")[0]
    item = ds.RadiopharmaceuticalInformationSequence[0]
    assert float(item.RadionuclideHalfLife) == pytest.approx(6586.2)
    assert item.RadionuclideCodeSequence[0].CodeMeaning == "^18^Fluorine"
    assert truth.organ("liver").suv_mean == pytest.approx(2.2)


@pytest.mark.parametrize(
    "fixture",
    ["study", "ge_study", "philips_fdg", "philips_cnts"],
    ids=["siemens", "ge", "philips-bqml", "philips-cnts"],
)
def test_suv_reader_recovers_truth(fixture: str, request: pytest.FixtureRequest) -> None:
    # Cross-check of two independent parts: the writer (which knows the truth) and
    # nenscope.dicom.pet.compute_suv (which only sees the headers).
    out, truth = request.getfixturevalue(fixture)
    series = read_series(out / "PET")
    result = compute_suv(series)
    contract = result.to_contract()
    # By construction 1 SUV = A_ref / W Bq/mL with A_ref decayed to the series start.
    np.testing.assert_allclose(
        float(str(contract["suv_bw_factor"])), 1.0 / truth.settings.bqml_per_suv, rtol=1e-9
    )
    assert str(contract["reference_datetime"]).startswith("2026-01-15T10:30:00")
    suv = np.asarray(suv_volume(series, result).array, dtype=np.float64)
    labels = truth.label_map(series.volume)
    # Exact storage; the reader's float32 volume limits the agreement to ~2**-24 relative.
    for lesion in truth.lesions:
        values = suv[labels == lesion.label]
        np.testing.assert_allclose(values.max(), lesion.suvmax, rtol=2.0**-22)
        np.testing.assert_allclose(values.min(), lesion.suvmean, rtol=2.0**-22)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"tracer": "fgd"}, "Did you mean 'fdg'"),
        ({"vendor": "siemns"}, "Did you mean 'siemens'"),
        ({"pet_units": "CNTS"}, "Philips"),
        ({"weight_kg": 0.0}, "weight_kg"),
        ({"sex": "X"}, "sex"),
        ({"noise": -1.0}, "noise"),
    ],
    ids=["tracer", "vendor", "cnts-not-philips", "weight", "sex", "noise"],
)
def test_bad_settings_are_refused(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(OptionError, match=match):
        PhantomSettings(**kwargs)  # type: ignore[arg-type]


def test_lesion_outside_its_organ_is_refused(tmp_path: Path) -> None:
    bad = LesionSpec(
        lesion_id="x", centre_mm=(80.0, 0.0, 0.0), diameter_mm=10, suv=5, site="liver"
    )
    with pytest.raises(OptionError, match="not inside its site 'liver'"):
        write_phantom_study(tmp_path, PhantomSettings(size="small", lesions=(bad,)))


def test_lesion_id_clashing_with_organ_is_refused(tmp_path: Path) -> None:
    bad = LesionSpec(
        lesion_id="liver", centre_mm=(-75, -15, 40), diameter_mm=10, suv=5, site="liver"
    )
    with pytest.raises(OptionError, match="name of a phantom region"):
        write_phantom_study(tmp_path, PhantomSettings(size="small", lesions=(bad,)))


def test_overlapping_lesions_are_refused(tmp_path: Path) -> None:
    a = LesionSpec(
        lesion_id="a", centre_mm=(-75.0, -15.0, 40.0), diameter_mm=20, suv=5, site="liver"
    )
    b = LesionSpec(
        lesion_id="b", centre_mm=(-70.0, -15.0, 40.0), diameter_mm=20, suv=5, site="liver"
    )
    with pytest.raises(OptionError, match="overlap"):
        write_phantom_study(tmp_path, PhantomSettings(size="small", lesions=(a, b)))


def test_lesion_outside_field_of_view_is_refused(tmp_path: Path) -> None:
    # The small preset stops at z = 150 mm; a node at z = 400 mm is outside it.
    far = LesionSpec(
        lesion_id="neck-node", centre_mm=(0, 0, 400), diameter_mm=10, suv=5, site="lymph-node"
    )
    with pytest.raises(OptionError, match="outside the field of view"):
        write_phantom_study(tmp_path, PhantomSettings(size="small", lesions=(far,)))


def test_existing_output_needs_overwrite(study: tuple[Path, PhantomTruth]) -> None:
    out, _ = study
    with pytest.raises(OptionError, match="allow replacing the phantom"):
        write_phantom_study(out, PhantomSettings(size="small"))


def test_cli_phantom_json(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["phantom", str(tmp_path / "p"), "--size", "small", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["acquisition"]["tracer"] == "ga68-dotatate"
    assert len(payload["lesions"]) == 7
    assert (tmp_path / "p" / "truth.json").is_file()


def test_cli_phantom_bad_option_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["phantom", str(tmp_path / "p"), "--tracer", "fgd"])
    assert result.exit_code == 2
    assert "Did you mean 'fdg'" in result.stderr


def test_cli_phantom_lesion_file_and_patient_options(tmp_path: Path) -> None:
    lesion_file = tmp_path / "lesions.yaml"
    lesion_file.write_text(
        "- {id: hot, centre_mm: [-75, -15, 40], volume_ml: 4.0, suv: 30, organ: liver}\n"
        "- {id: node, centre_mm: [0, -60, -60], diameter_mm: 15, suv: 5, organ: lymph-node}\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        app,
        [
            "phantom", str(tmp_path / "p"), "--size", "small", "--lesions", str(lesion_file),
            "--weight-kg", "60", "--sex", "F", "--injected-mbq", "120", "--format", "json",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert [x["id"] for x in payload["lesions"]] == ["hot", "node"]
    # By hand: a 4 mL sphere has diameter 2 * (3 * 4000 / (4 pi))**(1/3) = 19.6949 mm.
    assert payload["lesions"][0]["diameter_mm"] == pytest.approx(19.6949, abs=1e-4)
    ds = pydicom.dcmread(sorted((tmp_path / "p" / "PET").glob("*.dcm"))[0])
    assert (float(ds.PatientWeight), ds.PatientSex) == (60.0, "F")
    dose = float(ds.RadiopharmaceuticalInformationSequence[0].RadionuclideTotalDose)
    assert dose == pytest.approx(120e6, rel=1e-12)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("- {id: a, centre_mm: [0, 0, 0], suv: 3, organ: liver}\n", "exactly one of"),
        ("- {id: a, centre_mm: [0, 0], diameter_mm: 9, suv: 3, organ: x}\n", "3 values"),
        ("- {id: a, centre: [0, 0, 0], diameter_mm: 9, suv: 3, organ: x}\n", "unknown key"),
        ("- {centre_mm: [0, 0, 0], diameter_mm: 9, suv: 3, organ: x}\n", "missing key 'id'"),
        ("lesions: 3\n", "non-empty list"),
        ("- [1, 2]\n", "not a mapping"),
    ],
    ids=["size", "centre", "unknown", "missing", "not-list", "not-mapping"],
)
def test_bad_lesion_file_is_refused(tmp_path: Path, text: str, match: str) -> None:
    path = tmp_path / "lesions.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(OptionError, match=match):
        read_lesion_file(path)
