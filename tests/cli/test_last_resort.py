"""Issue 14 part 2: no traceback reaches the user, whatever the input or the defect.

Bad input that used to end in a traceback now ends in one ``nenscope: error:`` line and exit
status 2; a defect (any other exception) in one ``nenscope: internal error:`` line with a
bug-report hint and status 3; a refusal of the system (disk full) in one line and status 4.
"""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

import pydicom
import pytest

import nenscope.cli
from nenscope.cli import EXIT_ENVIRONMENT, EXIT_INTERNAL_ERROR
from nenscope.knowledge import scenario_io as scenario_module
from tests.cli.conftest import RunCli
from tests.conftest import shared_data_path

DRO = ("dicom", "ibsi-suv-dro", "DRO_0_0", "PT")


def _no_traceback(stderr: str) -> None:
    assert "Traceback" not in stderr, stderr
    assert len(stderr.strip().splitlines()) == 1, stderr


def test_unexpected_exception_is_one_line_with_bug_hint(
    nenscope_cli: RunCli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError("an invariant broke")

    monkeypatch.setattr(scenario_module, "load_scenario", broken)
    scenario = tmp_path / "s.yaml"
    scenario.write_text("question: staging\n", encoding="utf-8")
    run = nenscope_cli("recommend", scenario)
    assert run.exit_code == EXIT_INTERNAL_ERROR == 3
    _no_traceback(run.stderr)
    assert run.error_line.startswith("nenscope: internal error: RuntimeError: an invariant broke")
    assert "bug in nenscope" in run.error_line
    assert "NENSCOPE_DEBUG" in run.error_line


def test_debug_variable_shows_the_traceback(
    nenscope_cli: RunCli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError("an invariant broke")

    monkeypatch.setattr(scenario_module, "load_scenario", broken)
    monkeypatch.setenv(nenscope.cli.DEBUG_ENV, "1")
    scenario = tmp_path / "s.yaml"
    scenario.write_text("question: staging\n", encoding="utf-8")
    run = nenscope_cli("recommend", scenario)
    assert run.exit_code == EXIT_INTERNAL_ERROR
    assert "Traceback" in run.stderr


def test_disk_full_is_one_line(
    nenscope_cli: RunCli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def full(*args: object, **kwargs: object) -> object:
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "out"))

    monkeypatch.setattr(scenario_module, "load_scenario", full)
    scenario = tmp_path / "s.yaml"
    scenario.write_text("question: staging\n", encoding="utf-8")
    run = nenscope_cli("recommend", scenario)
    assert run.exit_code == EXIT_ENVIRONMENT
    _no_traceback(run.stderr)
    assert "No space left on device" in run.error_line
    assert "Free disk space" in run.error_line


def _pet_copy(tmp_path: Path, edit: object) -> Path:
    folder = tmp_path / "pet"
    folder.mkdir()
    for src in sorted(shared_data_path(*DRO).glob("*.dcm")):
        ds = pydicom.dcmread(src)
        edit(ds)  # type: ignore[operator]
        ds.save_as(folder / src.name, enforce_file_format=False)
    return folder


def _sequence_as_text(ds: pydicom.Dataset) -> None:
    ds[0x00540016] = pydicom.DataElement(0x00540016, "LO", "F-18 FDG")


def _corrected_image_fd(ds: pydicom.Dataset) -> None:
    ds[0x00280051] = pydicom.DataElement(0x00280051, "FD", 2.0)


def _rows_zero(ds: pydicom.Dataset) -> None:
    ds.Rows = 0


@pytest.mark.parametrize(
    ("edit", "words"),
    [
        (_sequence_as_text, "RadiopharmaceuticalInformationSequence"),
        (_corrected_image_fd, "CorrectedImage"),
        (_rows_zero, "Rows (0028,0010)"),
    ],
    ids=["radiopharmaceutical-sequence-text", "corrected-image-fd", "rows-zero"],
)
def test_former_tracebacks_of_suv_are_one_line(
    nenscope_cli: RunCli, tmp_path: Path, edit: object, words: str
) -> None:
    run = nenscope_cli("suv", _pet_copy(tmp_path, edit))
    assert run.exit_code == 2
    _no_traceback(run.stderr)
    assert words in run.error_line


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("question: d\xe9j\xe0\n".encode("latin-1"), "not UTF-8"),
        (("[" * 4000 + "]" * 4000).encode(), "nests deeper"),
        (b"question: staging\nquestion: staging\n", "given twice"),
    ],
    ids=["latin-1", "nested-4000", "duplicate-key"],
)
def test_former_tracebacks_of_config_files_are_one_line(
    nenscope_cli: RunCli, tmp_path: Path, content: bytes, words: str
) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_bytes(content)
    run = nenscope_cli("recommend", scenario)
    assert run.exit_code == 2
    _no_traceback(run.stderr)
    assert words in run.error_line
    config = tmp_path / "r.yaml"
    shutil.copy(scenario, config)
    image = shared_data_path("ibsi", "ibsi_1_digital_phantom", "nifti", "image", "phantom.nii.gz")
    mask = shared_data_path("ibsi", "ibsi_1_digital_phantom", "nifti", "mask", "mask.nii.gz")
    run = nenscope_cli("radiomics", image, mask, "--config", config)
    assert run.exit_code == 2
    _no_traceback(run.stderr)
