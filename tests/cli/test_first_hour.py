"""Issue 8 §3-4: what a new user meets in the first hour, each point failing on the old CLI.

A refused input writes nothing (one stderr line, exit 2, the output path untouched); ``analyze``
shows its stages and has ``--quiet``; ``--version``; ``info`` shows each series' folder;
``evidence`` prints no Python dict; help texts are plain and complete; the radiomics table has
names and units.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from nenscope import __version__
from nenscope.dicom.synthetic import PhantomTruth
from nenscope.segmentation.lesions import ThresholdMethod
from tests.cli.conftest import RunCli
from tests.conftest import shared_data_path

IBSI_NIFTI = ("ibsi", "ibsi_1_digital_phantom", "nifti")


@pytest.mark.parametrize("kind", ["missing", "empty", "non_dicom"])
def test_analyze_on_a_wrong_folder_writes_nothing(
    kind: str,
    nenscope_cli: RunCli,
    tmp_path: Path,
    empty_folder: Path,
    non_dicom_folder: Path,
) -> None:
    study = {"missing": tmp_path / "does-not-exist", "empty": empty_folder}.get(
        kind, non_dicom_folder
    )
    out = tmp_path / "X"
    run = nenscope_cli("analyze", study, "--out", out)
    assert run.exit_code == 2
    assert "nothing" in run.error_line  # one stderr line that says nothing was written
    assert "Analysed" not in run.stdout
    assert not out.exists()


def test_commands_that_write_refuse_a_missing_input_without_output(
    nenscope_cli: RunCli, tmp_path: Path
) -> None:
    missing = tmp_path / "nope"
    cases = {
        "convert": ("convert", missing, "--to", "suvbw", tmp_path / "a.nii.gz"),
        "adc": ("adc", missing, tmp_path / "b.nii.gz"),
        "radiomics-batch": (
            "radiomics-batch",
            tmp_path / "nope.csv",
            "--out",
            tmp_path / "c.parquet",
            "--config",
            "ibsi-phantom",
        ),
        "deidentify": ("deidentify", missing, tmp_path / "d"),
        "response": ("response", missing, missing, "--out", tmp_path / "e"),
    }
    for name, args in cases.items():
        run = nenscope_cli(*args)
        assert run.exit_code == 2, name
        assert run.error_line.startswith("nenscope: error:"), name
        assert run.stdout.strip() == "", (name, run.stdout)
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_version_option(nenscope_cli: RunCli) -> None:
    run = nenscope_cli("--version")
    assert run.exit_code == 0
    assert run.stdout.strip() == f"nenscope {__version__}"


def test_info_shows_each_series_folder(
    nenscope_cli: RunCli, phantom_study: tuple[Path, PhantomTruth]
) -> None:
    study, _ = phantom_study
    run = nenscope_cli("info", study)
    assert run.exit_code == 0
    lines = run.stdout.splitlines()
    header = next(line for line in lines if "Folder" in line)
    column = [c.strip() for c in header.split("┃")].index("Folder")
    folders = {
        cells[column + 1]: cells[column]
        for line in lines
        if line.startswith("│")
        for cells in [[c.strip() for c in line.split("│")]]
    }
    assert folders == {"CT": "CT", "PT": "PET"}  # modality → the folder of its files


def test_evidence_prints_words_not_a_python_dict(nenscope_cli: RunCli) -> None:
    run = nenscope_cli("evidence", "netspot-label")
    assert run.exit_code == 0
    assert "{'" not in run.stdout
    assert "Cited by: radiopharmaceutical ga68-dotatate" in run.stdout


def test_help_texts_are_plain_and_complete(nenscope_cli: RunCli) -> None:
    radiomics = nenscope_cli("radiomics", "--help")
    assert "``" not in radiomics.stdout
    analyze = nenscope_cli("analyze", "--help")
    flat = " ".join(analyze.stdout.split())
    for method in ThresholdMethod:
        assert method.value in flat, method


def test_phantom_overwrite_refusal_speaks_cli(nenscope_cli: RunCli, tmp_path: Path) -> None:
    first = nenscope_cli("phantom", tmp_path / "p", "--size", "small")
    assert first.exit_code == 0
    again = nenscope_cli("phantom", tmp_path / "p", "--size", "small")
    assert again.exit_code == 2
    assert "overwrite=True" not in again.error_line
    assert "--overwrite" in again.error_line


def test_radiomics_table_has_names_and_units(nenscope_cli: RunCli) -> None:
    root = shared_data_path(*IBSI_NIFTI)
    run = nenscope_cli(
        "radiomics",
        root / "image" / "phantom.nii.gz",
        root / "mask" / "mask.nii.gz",
        "--config",
        "ibsi-phantom",
    )
    assert run.exit_code == 0
    volume = next(line for line in run.stdout.splitlines() if "RNU0" in line)
    assert "morph_volume" in volume
    assert "mm3" in volume


def test_analyze_quiet_prints_nothing_and_progress_stays_off_stdout(
    nenscope_cli: RunCli, phantom_study: tuple[Path, PhantomTruth], tmp_path: Path
) -> None:
    study, _ = phantom_study
    run = nenscope_cli("analyze", study, "--out", tmp_path / "q", "--quiet", "--no-pdf")
    assert run.exit_code == 0, run.stderr
    assert run.stdout == ""
    assert (tmp_path / "q" / "lesions.json").is_file()


def test_analyze_reports_each_stage_to_a_progress_callback(
    phantom_study: tuple[Path, PhantomTruth],
) -> None:
    from nenscope.api import AnalysisOptions, analyze

    seen: list[str] = []
    analyze(phantom_study[0], AnalysisOptions(figures=False), on_stage=seen.append)
    assert seen[0] == "read + SUV"
    assert {"reference regions", "lesions", "report"} <= set(seen)
