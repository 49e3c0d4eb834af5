"""``analyze --radiomics CONFIG``: per-lesion IBSI features beside the lesion outputs.

A small noise-free phantom study (dicom.synthetic) is analysed with radiomics settings that do
not resample, so the IBSI mean (Q4LE) of each lesion is the lesion's SUVmean; the mesh volume
(RNU0) and mean must equal an independent ``extract_features`` on the pipeline's SUV image and
lesion mask.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from nenscope.dicom.synthetic import PhantomSettings, write_phantom_study
from nenscope.pipeline import AnalysisOptions, AnalysisResult, analyze_study
from nenscope.radiomics import load_settings
from nenscope.radiomics.extract import extract_features
from tests.cli.conftest import RunCli, nenscope_cli

__all__ = ["nenscope_cli"]  # the CLI fixture of tests/cli, used here too

NATIVE_GRID_YAML = """\
description: SUV on the native PET grid (no resampling), fixed bin size 0.25 SUV
approach: 3d
discretise:
  method: fixed-bin-size
  bin_size: 0.25
  lower_bound: 0.0
"""
"""Settings without resampling or re-segmentation: the ROI is the lesion mask as delineated."""


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("radiomics-phantom") / "study"
    write_phantom_study(root, PhantomSettings(size="small", seed=3))
    return root


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("radiomics-config") / "native.yaml"
    path.write_text(NATIVE_GRID_YAML, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def analysed(study: Path, config: Path) -> tuple[AnalysisResult, Path]:
    out = study.parent / "out"
    options = AnalysisOptions(figures=False, pdf=False, radiomics=load_settings(config))
    return analyze_study(study, out, options), out


def test_files_one_row_per_lesion(analysed: tuple[AnalysisResult, Path]) -> None:
    result, out = analysed
    assert result.is_complete, result.errors
    assert result.files["radiomics"] == out / "radiomics.json"
    assert (out / "radiomics.csv").is_file()
    lesions = json.loads((out / "lesions.json").read_text())
    assert lesions, "the phantom has lesions"
    doc = json.loads((out / "radiomics.json").read_text())
    assert set(doc) == {"settings", "version", "lesions"}
    assert doc["settings"]["name"] == "native"
    assert [les["id"] for les in doc["lesions"]] == [les["id"] for les in lesions]
    with (out / "radiomics.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(row["lesion_id"]) for row in rows] == [les["id"] for les in lesions]
    assert {"RNU0", "Q4LE"} <= set(rows[0])
    notes = " ".join(result.report.notes)
    assert f"settings 'native' for {len(lesions)} of {len(lesions)} lesion(s)" in notes
    assert "Radiomics (IBSI) computed with settings" in (out / "report.html").read_text()


def test_features_match_independent_extraction(
    analysed: tuple[AnalysisResult, Path], config: Path
) -> None:
    result, out = analysed
    assert result.study is not None
    assert result.labels is not None
    lesions = json.loads((out / "lesions.json").read_text())
    lesion = max(lesions, key=lambda les: les["volume_ml"])
    expected = extract_features(
        result.study.suv, result.labels == lesion["id"], load_settings(config)
    ).features
    doc = json.loads((out / "radiomics.json").read_text())
    got = next(les for les in doc["lesions"] if les["id"] == lesion["id"])["features"]
    np.testing.assert_allclose(got["RNU0"], expected["RNU0"], rtol=1e-12)
    np.testing.assert_allclose(got["Q4LE"], expected["Q4LE"], rtol=1e-12)
    np.testing.assert_allclose(got["Q4LE"], lesion["suvmean"], rtol=1e-6)


def test_without_option_nothing_is_written(study: Path, tmp_path: Path) -> None:
    result = analyze_study(
        study, tmp_path / "out", AnalysisOptions(figures=False, pdf=False, dicom_outputs=False)
    )
    assert "radiomics" not in result.files
    assert not (tmp_path / "out" / "radiomics.json").exists()
    assert not any("Radiomics" in note for note in result.report.notes)


def test_failed_lesion_records_reason(study: Path, tmp_path: Path) -> None:
    """A preset made for another unit refuses every lesion; the analysis still completes."""
    options = AnalysisOptions(
        figures=False, pdf=False, dicom_outputs=False, radiomics=load_settings("ct-hu")
    )
    result = analyze_study(study, tmp_path / "out", options)
    assert result.is_complete, result.errors
    doc = json.loads((tmp_path / "out" / "radiomics.json").read_text())
    assert doc["lesions"]
    for les in doc["lesions"]:
        assert les["features"] == {}
        assert "g/mL" in les["not_computable"]["all"]
    assert any("Not computable for lesion(s)" in note for note in result.report.notes)


def test_cli_unknown_preset(nenscope_cli: RunCli, study: Path, tmp_path: Path) -> None:
    run = nenscope_cli("analyze", study, "--out", tmp_path / "out", "--radiomics", "pet-sub")
    assert run.exit_code == 2
    assert "pet-sub" in run.error_line
    assert not (tmp_path / "out").exists()


def test_cli_preset_listed_in_outputs(nenscope_cli: RunCli, study: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ("--radiomics", "pet-suv", "--no-pdf", "--format", "json")
    run = nenscope_cli("analyze", study, "--out", out, *args)
    assert run.exit_code == 0, run.stderr
    assert json.loads(run.stdout)["files"]["radiomics"] == str(out / "radiomics.json")
    doc = json.loads((out / "radiomics.json").read_text())
    assert doc["settings"]["name"] == "pet-suv"
    assert all(les["features"] or les["not_computable"] for les in doc["lesions"])


def test_unreadable_study_removes_old_radiomics(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "radiomics.json").write_text("{}")
    empty = tmp_path / "empty"
    empty.mkdir()
    options = AnalysisOptions(figures=False, pdf=False, radiomics=load_settings("pet-suv"))
    result = analyze_study(empty, out, options)
    assert result.errors
    assert "radiomics" not in result.files
    assert not (out / "radiomics.json").exists()


def test_rerun_without_the_option_removes_earlier_radiomics_files(
    study: Path, tmp_path: Path
) -> None:
    # An earlier run's radiomics files must not pass for the features of this run.
    for name in ("radiomics.json", "radiomics.csv"):
        (tmp_path / name).write_text("from an earlier run", encoding="utf-8")
    analyze_study(study, tmp_path, AnalysisOptions(figures=False, pdf=False))
    assert not (tmp_path / "radiomics.json").exists()
    assert not (tmp_path / "radiomics.csv").exists()
    assert (tmp_path / "lesions.json").exists()
