"""Tests of ``nenscope info``: JSON contract, table, refusal of bad input."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from nenscope.cli import app
from tests.conftest import shared_data_path


def test_info_json_lists_patient_study_and_series() -> None:
    folder = shared_data_path("dicom", "tcia-sts-001-ge-petct")
    args = ["info", str(folder), "--format", "json"]
    result = CliRunner().invoke(app, [*args, "--show-identity"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["n_series"] == 4
    (patient,) = payload["patients"]
    assert patient["patient_id"] == "STS_001"
    assert patient["patient"] == "P1"
    # Without --show-identity: the pseudonymous label only.
    (hidden,) = json.loads(CliRunner().invoke(app, args).stdout)["patients"]
    assert hidden["patient"] == "P1"
    assert "patient_id" not in hidden
    assert "patient_name" not in hidden
    (study,) = patient["studies"]
    series = {s["series_description"]: s for s in study["series"]}
    pet = next(s for s in series.values() if s["units"] == "BQML")
    assert pet["modality"] == "PT"
    assert pet["n_frames"] == 267
    assert pet["manufacturer"] == "GE MEDICAL SYSTEMS"
    assert "SUV (nenscope suv)" in pet["can_do"]
    assert any(s["path"].endswith("README.md") for s in payload["skipped_files"])


def test_info_table_names_the_series() -> None:
    folder = shared_data_path("dicom", "lu177-dotatate-spect-xspect-subset")
    result = CliRunner().invoke(app, ["info", str(folder)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "ANON54121" not in result.stdout
    assert "P1" in result.stdout
    shown = CliRunner().invoke(
        app, ["info", str(folder), "--show-identity"], env={"COLUMNS": "200"}
    )
    assert "ANON54121" in shown.stdout
    assert "RTSTRUCT" in result.stdout
    assert "BQML" in result.stdout


def test_info_on_a_folder_without_dicom_fails_cleanly(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("hello")
    result = CliRunner().invoke(app, ["info", str(tmp_path)])
    assert result.exit_code == 2
    assert "No DICOM series found" in result.output
    assert "Traceback" not in result.output


def test_info_on_a_missing_folder_fails_cleanly(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["info", str(tmp_path / "missing")])
    assert result.exit_code == 2
    assert "does not exist" in result.output
