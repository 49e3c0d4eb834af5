"""One PET-series policy for ``analyze``, ``suv`` and ``convert`` (issue 9, part 3).

The GE study of TCIA STS_001 holds two PET series (README of tcia-sts-001-ge-petct): the raw
whole-body series (267 files, Bq/mL) and a cropped SUV copy (PT_cropped_GML). Before, ``suv``
refused the folder ("holds 4 series and 2 of them are PET") while ``analyze`` took the raw
series; now both take the raw series with the same note, and ``--pet-series`` chooses in both.
"""

from __future__ import annotations

import json
from pathlib import Path

import pydicom
import pytest
from typer.testing import CliRunner

from nenscope.cli.app import app
from nenscope.core.errors import DicomImportError
from nenscope.pipeline.study import choose_pet_series, discover_study, one_patient
from nenscope.pipeline.suv import load_pet_series, run_suv
from tests.conftest import shared_data_path

GE = ("dicom", "tcia-sts-001-ge-petct")


def _uid(folder: Path) -> str:
    first = next(folder.glob("*.dcm"))
    return str(pydicom.dcmread(first, stop_before_pixels=True).SeriesInstanceUID)


@pytest.fixture(scope="module")
def study() -> Path:
    return shared_data_path(*GE)


def test_suv_takes_the_series_analyze_takes(study: Path) -> None:
    ref, note = choose_pet_series(one_patient(discover_study(study), str(study)), str(study))
    assert ref.n_instances == 267
    assert ref.series_instance_uid == _uid(study / "PT_raw_BQML")
    series, notes = load_pet_series(study)
    assert series.series_instance_uid == ref.series_instance_uid
    # The same note (the choice, the alternatives and the option) in both commands.
    assert notes == [note]
    assert note.startswith("2 PET series found; analysed")
    assert "Use --pet-series to choose." in note


def test_pet_series_option_chooses_in_suv(study: Path) -> None:
    cropped = _uid(study / "PT_cropped_GML")
    run = run_suv(study, pet_series_uid=cropped)
    assert run.series.series_instance_uid == cropped
    assert f"PET series {cropped} chosen by the user." in run.warnings


def test_unknown_pet_series_refused_with_the_same_words(study: Path) -> None:
    with pytest.raises(DicomImportError, match=r"PET series 1\.2\.3 is not in .*PET series there"):
        load_pet_series(study, pet_series_uid="1.2.3")
    with pytest.raises(DicomImportError, match=r"PET series 1\.2\.3 is not in .*PET series there"):
        choose_pet_series(discover_study(study), str(study), "1.2.3")


def test_study_without_pet_refused(study: Path) -> None:
    others = [s for s in discover_study(study) if s.modality != "PT"]
    with pytest.raises(
        DicomImportError, match=r"No PET series \(Modality PT\) in x: found RTSTRUCT"
    ):
        choose_pet_series(others, "x")
    with pytest.raises(DicomImportError, match=r"No PET or SPECT series \(Modality PT or NM\)"):
        choose_pet_series(others, "x", spect=True)


def test_suv_command_on_the_study_folder(study: Path) -> None:
    result = CliRunner().invoke(app, ["suv", str(study), "--format", "json"])
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["series_instance_uid"] == _uid(study / "PT_raw_BQML")
    assert any(w.startswith("2 PET series found") for w in payload["warnings"])
