"""``nenscope deidentify``: PS3.15 Annex E copy that keeps SUV, references and validity.

Checked on the shared data: the SUV factors and SUVmax of every PET series are unchanged (GE
study, ACRIN study, IBSI DROs that exercise the GE and Philips private attributes, midnight
and radiopharmaceutical-time-only cases); dciodvfy reports no error on a copy that it did not
report on the source; the ACRIN SEG and a SEG/SR written by nenscope still reference the
copied images. On a phantom filled with a fake identity no identifying string is left in any
byte of any output file.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pydicom
import pytest
from typer.testing import CliRunner

from nenscope.cli import app
from nenscope.core.errors import DicomDeviationWarning
from nenscope.dicom.deidentify import (
    DEIDENTIFICATION_CODES,
    MAX_SHIFT_DAYS,
    MIN_SHIFT_DAYS,
    BurnedInPolicy,
    DeidentificationError,
    DeidentifiedStudy,
    DeidentifySettings,
    deidentify_folder,
)
from nenscope.dicom.discovery import discover_series
from nenscope.dicom.pet import compute_suv, suv_volume
from nenscope.dicom.seg_sr import read_seg, read_sr
from nenscope.dicom.series import read_series
from tests.conftest import shared_data_path
from tests.dicom.test_writers_matrix import write_and_check
from tests.dicom_validation import dciodvfy
from tests.fake_identity import FAKE_IDENTITY, leaks, write_identified_study

SEED = "test-secret-not-for-production"
SUV_DROS = ("DRO_0_0", "DRO_2_4", "DRO_2_5", "DRO_3_2", "DRO_3_3", "DRO_4_1", "DRO_4_2")
"""DROs whose SUV depends on what de-identification touches: Philips private scale factors
(2_4, 2_5), SeriesTime after AcquisitionTime (3_2), GE private datetime (3_3), time without
date (4_1), scan across midnight (4_2)."""


def _suv_by_series(root: Path) -> dict[tuple[int | None, int], tuple[float, float]]:
    """(SeriesNumber, slices) -> (SUVbw factor, SUVmax) of every PET series nenscope reads."""
    out = {}
    for ref in discover_series(root):
        if ref.modality != "PT" or ref.units not in ("BQML", "CNTS", "GML"):
            continue
        # The DROs' deviations (creator-less private blocks ...) are warned, for both copies.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DicomDeviationWarning)
            series = read_series(ref.files)
            result = compute_suv(series)
        assert result.suv_bw_factor is not None
        suv_max = float(suv_volume(series, result).array.max())
        out[(ref.series_number, ref.n_instances)] = (result.suv_bw_factor, suv_max)
    return out


def _new_errors(source: Path, copy: Path) -> list[str]:
    """dciodvfy errors of ``copy`` that ``source`` does not have (values in <> ignored)."""

    def errors(path: Path) -> set[str]:
        return {re.sub(r"<[^>]*>", "<>", e) for e in dciodvfy(path) if e.startswith("Error")}

    return sorted(errors(copy) - errors(source))


def _one_file_per_series(study: DeidentifiedStudy) -> list[tuple[Path, Path]]:
    seen: dict[Path, tuple[Path, Path]] = {}
    for copy, source in zip(study.files, study.sources, strict=True):
        seen.setdefault(copy.parent, (source, copy))
    return list(seen.values())


@pytest.fixture(scope="module")
def ge(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, DeidentifiedStudy]:
    source = shared_data_path("dicom", "tcia-sts-001-ge-petct")
    out = tmp_path_factory.mktemp("ge") / "copy"
    return source, out, deidentify_folder(source, out, DeidentifySettings(seed=SEED))


@pytest.fixture(scope="module")
def acrin(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, DeidentifiedStudy]:
    source = shared_data_path("dicom", "tcia-acrin-nsclc-fdg-042")
    out = tmp_path_factory.mktemp("acrin") / "copy"
    return source, out, deidentify_folder(source, out, DeidentifySettings(seed=SEED))


@pytest.mark.slow
@pytest.mark.parametrize("name", ["ge", "acrin"])
def test_suv_of_deidentified_study_equals_original(
    name: str, request: pytest.FixtureRequest
) -> None:
    source, out, _ = request.getfixturevalue(name)
    original, copy = _suv_by_series(source), _suv_by_series(out)
    assert original, "no PET series read"
    assert copy.keys() == original.keys()
    for key, (factor, suv_max) in original.items():
        # Same stored pixels and the same intervals: the same floating-point operations.
        np.testing.assert_allclose(copy[key], (factor, suv_max), rtol=1e-12)


@pytest.mark.parametrize("dro", SUV_DROS)
def test_suv_of_deidentified_dro_equals_original(dro: str, tmp_path: Path) -> None:
    source = shared_data_path("dicom", "ibsi-suv-dro", dro)
    deidentify_folder(source, tmp_path / "copy", DeidentifySettings(seed=SEED))
    original, copy = _suv_by_series(source), _suv_by_series(tmp_path / "copy")
    assert len(original) == 1
    np.testing.assert_allclose(list(copy.values()), list(original.values()), rtol=1e-12)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["ge", "acrin"])
def test_deidentified_study_has_no_new_dciodvfy_error(
    name: str, request: pytest.FixtureRequest
) -> None:
    source, out, study = request.getfixturevalue(name)
    pairs = _one_file_per_series(study)
    assert len(pairs) >= 4
    for source_file, copy_file in pairs:
        assert _new_errors(source / source_file, out / copy_file) == [], copy_file


@pytest.mark.slow
def test_acrin_seg_references_resolve_after_deidentification(
    acrin: tuple[Path, Path, DeidentifiedStudy],
) -> None:
    _, out, study = acrin
    headers = [pydicom.dcmread(out / f, stop_before_pixels=True) for f in study.files]
    series = {str(ds.SeriesInstanceUID) for ds in headers}
    segs = [ds for ds in headers if ds.Modality == "SEG"]
    assert len(segs) == 3
    frames = {str(ds.get("FrameOfReferenceUID")) for ds in headers if ds.Modality != "SEG"}
    for seg in segs:
        # The mock SEGs reference slices of the full TCIA series, which shared/ holds only in
        # part (0 of their ~40 instances): series and frame of reference must resolve.
        referenced = seg.ReferencedSeriesSequence[0]
        assert str(referenced.SeriesInstanceUID) in series
        assert str(seg.FrameOfReferenceUID) in frames


def test_nenscope_seg_and_sr_still_resolve_and_read_back(tmp_path: Path) -> None:
    # A study as a research export gets it: the PET plus nenscope's SEG and SR beside it.
    study = tmp_path / "study"
    pet_source = shared_data_path("dicom", "ibsi-suv-dro", "DRO_3_3")
    headers = list(read_series(pet_source).headers)
    (study / "PT").mkdir(parents=True)
    for ref in discover_series(pet_source):
        for path in ref.files:
            (study / "PT" / path.name).write_bytes(path.read_bytes())
    with pytest.warns(DicomDeviationWarning, match="FrameOfReferenceUID"):
        write_and_check(
            headers,
            study / "derived",
            accepted=("StudyInstanceUID has same value as FrameOfReferenceUID",),
        )
    groups = read_sr(study / "derived" / "sr.dcm")
    result = deidentify_folder(study, tmp_path / "copy", DeidentifySettings(seed=SEED))
    copies = [pydicom.dcmread(tmp_path / "copy" / f) for f in result.files]
    seg_file = next(f for f, ds in zip(result.files, copies, strict=True) if ds.Modality == "SEG")
    sr_file = next(f for f, ds in zip(result.files, copies, strict=True) if ds.Modality == "SR")
    pet = [ds for ds in copies if ds.Modality == "PT"]
    original_order = [str(h.SOPInstanceUID) for h in headers]
    original_labels, _ = read_seg(study / "derived" / "seg.dcm", original_order)
    # The copied PET in the original slice order: the UID map is consistent across series.
    by_position = {float(ds.ImagePositionPatient[2]): str(ds.SOPInstanceUID) for ds in pet}
    new_order = [by_position[float(h.ImagePositionPatient[2])] for h in headers]
    labels, _ = read_seg(tmp_path / "copy" / seg_file, new_order)
    np.testing.assert_array_equal(labels, original_labels)
    copied_groups = read_sr(tmp_path / "copy" / sr_file)
    # Tracking UIDs are remapped like every UID, and consistently in SEG and SR.
    assert [replace(g, tracking_uid="") for g in copied_groups] == [
        replace(g, tracking_uid="") for g in groups
    ]
    seg = copies[result.files.index(seg_file)]
    seg_tracking = {int(s.SegmentNumber): str(s.TrackingUID) for s in seg.SegmentSequence}
    assert {g.segment_number: g.tracking_uid for g in copied_groups} == seg_tracking
    assert seg_tracking[1] != groups[0].tracking_uid
    sr = pydicom.dcmread(tmp_path / "copy" / sr_file)
    evidence = {
        str(i.ReferencedSOPInstanceUID)
        for s in sr.CurrentRequestedProcedureEvidenceSequence
        for r in s.ReferencedSeriesSequence
        for i in r.ReferencedSOPSequence
    }
    assert str(copies[result.files.index(seg_file)].SOPInstanceUID) in evidence
    assert set(new_order) <= evidence


@pytest.fixture(scope="module")
def identified(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_identified_study(tmp_path_factory.mktemp("fake") / "study")


@pytest.fixture(scope="module")
def identified_copy(
    identified: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, DeidentifiedStudy]:
    out = tmp_path_factory.mktemp("fake-copy") / "copy"
    return out, deidentify_folder(identified, out, DeidentifySettings(seed=SEED))


def test_no_identifying_byte_left(identified_copy: tuple[Path, DeidentifiedStudy]) -> None:
    out, study = identified_copy
    assert len(study.files) > 100
    found = {
        secret
        for path in out.rglob("*")
        if path.is_file()
        for secret in leaks(path.read_bytes().decode("latin-1") + str(path))
    }
    assert found == set()


def test_patient_characteristics_descriptors_and_markers(
    identified: Path, identified_copy: tuple[Path, DeidentifiedStudy]
) -> None:
    out, study = identified_copy
    source = pydicom.dcmread(identified / study.sources[0])
    copy = pydicom.dcmread(out / study.files[0])
    # Retain Patient Characteristics: what SUV and body-size formulas need.
    for keyword in ("PatientSex", "PatientWeight", "PatientSize", "PatientAge"):
        assert copy.get(keyword) == source.get(keyword), keyword
    # Clean Descriptors: the identifying part replaced, the rest kept; free text removed.
    assert copy.SeriesDescription == "PET WB X"
    assert copy.StudyDescription == "NET staging X"
    assert "PatientComments" not in copy
    assert copy.PatientIdentityRemoved == "YES"
    assert copy.LongitudinalTemporalInformationModified == "MODIFIED"
    assert [c.CodeValue for c in copy.DeidentificationMethodCodeSequence] == [
        c for c, _ in DEIDENTIFICATION_CODES
    ]
    assert copy.PatientName != FAKE_IDENTITY["PatientName"]
    assert copy.PatientID not in ("", FAKE_IDENTITY["PatientID"])


def test_dates_shift_by_whole_days_and_times_stay(
    identified: Path, identified_copy: tuple[Path, DeidentifiedStudy]
) -> None:
    out, study = identified_copy
    for source_file, copy_file in _one_file_per_series(study):
        source = pydicom.dcmread(identified / source_file, stop_before_pixels=True)
        copy = pydicom.dcmread(out / copy_file, stop_before_pixels=True)
        shift = _days(source.StudyDate) - _days(copy.StudyDate)
        assert MIN_SHIFT_DAYS <= shift <= MAX_SHIFT_DAYS
        for date in ("SeriesDate", "AcquisitionDate", "PatientBirthDate"):
            if date in source:
                assert _days(source[date].value) - _days(copy[date].value) == shift, date
        for time in ("StudyTime", "SeriesTime", "AcquisitionTime"):
            assert copy.get(time) == source.get(time), time
        for key in ("RadiopharmaceuticalInformationSequence",):
            if key in source:
                before, after = source[key][0], copy[key][0]
                assert after.RadiopharmaceuticalStartTime == before.RadiopharmaceuticalStartTime


def _days(date: str) -> int:
    return int(np.datetime64(f"{date[:4]}-{date[4:6]}-{date[6:8]}").astype(int))


def test_same_seed_same_mapping_other_seed_other(identified: Path, tmp_path: Path) -> None:
    first = deidentify_folder(identified, tmp_path / "a", DeidentifySettings(seed=SEED))
    again = deidentify_folder(identified, tmp_path / "b", DeidentifySettings(seed=SEED))
    other = deidentify_folder(identified, tmp_path / "c", DeidentifySettings(seed="other"))
    assert first.files == again.files
    assert set(first.files).isdisjoint(other.files)


def test_burned_in_annotation_refused_or_flagged(identified: Path, tmp_path: Path) -> None:
    study = tmp_path / "study"
    pet = sorted((identified / "PET").glob("*.dcm"))[:3]
    study.mkdir()
    for path in pet:
        (study / path.name).write_bytes(path.read_bytes())
    marked = pydicom.dcmread(study / pet[1].name)
    marked.BurnedInAnnotation = "YES"
    marked.save_as(study / pet[1].name)
    with pytest.raises(DeidentificationError, match=r"1 image\(s\) may carry burned-in"):
        deidentify_folder(study, tmp_path / "refused", DeidentifySettings(seed=SEED))
    assert not (tmp_path / "refused").exists()
    flagged = deidentify_folder(
        study, tmp_path / "flagged", DeidentifySettings(seed=SEED, burned_in=BurnedInPolicy.FLAG)
    )
    assert len(flagged.files) == 3
    assert flagged.flagged_burned_in == (flagged.files[flagged.sources.index(Path(pet[1].name))],)


def test_refuses_non_empty_output_and_empty_input(identified: Path, tmp_path: Path) -> None:
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "x.txt").write_text("x")
    with pytest.raises(DeidentificationError, match="not an empty folder"):
        deidentify_folder(identified, tmp_path / "busy")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DeidentificationError, match="holds no DICOM file"):
        deidentify_folder(tmp_path / "empty", tmp_path / "out")


def test_cli_prints_no_identifier_and_refuses_bad_input(identified: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "copy"
    result = runner.invoke(app, ["deidentify", str(identified), str(out), "--seed", SEED])
    assert result.exit_code == 0, result.output
    assert "De-identified" in result.stdout
    assert leaks(result.stdout + result.stderr) == []
    again = runner.invoke(app, ["deidentify", str(identified), str(out), "--format", "json"])
    assert again.exit_code == 2
    assert "not an empty folder" in again.stderr
    bad = runner.invoke(
        app, ["deidentify", str(identified), str(tmp_path / "x"), "--burned-in", "flg"]
    )
    assert bad.exit_code == 2
    assert "flag" in bad.stderr


@pytest.mark.slow
def test_lu177_spect_keeps_suv_and_validity(tmp_path: Path) -> None:
    source = shared_data_path("dicom", "lu177-dotatate-spect-xspect-subset")
    study = deidentify_folder(source, tmp_path / "copy", DeidentifySettings(seed=SEED))
    original, copy = _suv_by_series(source), _suv_by_series(tmp_path / "copy")
    assert len(original) == 1
    np.testing.assert_allclose(list(copy.values()), list(original.values()), rtol=1e-12)
    for source_file, copy_file in _one_file_per_series(study):
        assert _new_errors(source / source_file, tmp_path / "copy" / copy_file) == []


def test_interrupted_run_leaves_nothing(identified: Path, tmp_path: Path) -> None:
    class InterruptedRunError(Exception):
        pass

    def stop_after_three(done: int, total: int) -> None:
        if done == 3:
            raise InterruptedRunError

    with pytest.raises(InterruptedRunError):
        deidentify_folder(
            identified, tmp_path / "copy", DeidentifySettings(seed=SEED), on_file=stop_after_three
        )
    assert list(tmp_path.iterdir()) == []
