"""Fixtures of the end-to-end CLI tests: run ``nenscope`` in-process, and shared study data.

``nenscope.cli.main`` is the console-script entry point: it turns an escaped
:class:`~nenscope.core.errors.WorkbenchError` into exit status 2 and one line on stderr. The
fixture :func:`nenscope_cli` calls it in-process (no interpreter start-up per call) with a patched
``sys.argv`` and returns what a user would see: exit status, stdout and stderr.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pydicom
import pytest
from typer.testing import CliRunner

import nenscope.cli
from nenscope.cli import app
from nenscope.dicom.synthetic import PhantomSettings, PhantomTruth, write_phantom_study
from tests.conftest import shared_data_path

TCIA_PET = ("dicom", "tcia-sts-001-ge-petct", "PT_raw_BQML")
TCIA_CT = ("dicom", "tcia-sts-001-ge-petct", "CT_cropped")


@dataclass(frozen=True, slots=True)
class CliRun:
    """What one ``nenscope`` call showed the user."""

    exit_code: int
    stdout: str
    stderr: str

    @property
    def error_line(self) -> str:
        """The single stderr line of a refused call (fails the test if there are more)."""
        lines = self.stderr.strip().splitlines()
        assert len(lines) == 1, f"expected one stderr line, got {len(lines)}:\n{self.stderr}"
        return lines[0]


RunCli = Callable[..., CliRun]


@pytest.fixture
def nenscope_cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> RunCli:
    """Run ``nenscope ARGS...`` through ``nenscope.cli.main`` in this process."""
    # main() configures logging for a terminal; keep pytest's capture handlers in charge.
    monkeypatch.setattr(nenscope.cli.logging, "basicConfig", lambda **_: None)
    monkeypatch.setenv("COLUMNS", "400")  # rich must not wrap long paths

    def run(*args: str | Path) -> CliRun:
        capsys.readouterr()
        monkeypatch.setattr(sys, "argv", ["nenscope", *(str(a) for a in args)])
        code: int | str | None = 0
        try:
            nenscope.cli.main()
        except SystemExit as stop:
            code = stop.code
        captured = capsys.readouterr()
        return CliRun(int(code or 0), captured.out, captured.err)

    return run


@dataclass(frozen=True, slots=True)
class AnalyzedStudy:
    """A small synthetic PET/CT study, its ground truth, and one ``analyze`` run on it."""

    study: Path
    truth: PhantomTruth
    out: Path
    stdout_json: dict[str, object]


@pytest.fixture(scope="session")
def phantom_study(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, PhantomTruth]:
    """``nenscope phantom --size small`` equivalent (noise-free, so the truth is exact)."""
    root = tmp_path_factory.mktemp("e2e-phantom") / "study"
    truth = write_phantom_study(root, PhantomSettings(size="small", seed=3))
    return root, truth


@pytest.fixture(scope="session")
def analyzed_study(
    phantom_study: tuple[Path, PhantomTruth], tmp_path_factory: pytest.TempPathFactory
) -> AnalyzedStudy:
    """``nenscope analyze STUDY --out OUT --format json`` with the PDF (the full contract)."""
    study, truth = phantom_study
    out = tmp_path_factory.mktemp("e2e-analyze") / "out"
    result = CliRunner().invoke(
        app, ["analyze", str(study), "--out", str(out), "--format", "json"], env={"COLUMNS": "400"}
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 0, result.stderr
    return AnalyzedStudy(study, truth, out, json.loads(result.stdout))


@pytest.fixture(scope="session")
def pet_without_weight(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three slices of the real GE FDG PET with PatientWeight (0010,1030) removed."""
    folder = tmp_path_factory.mktemp("e2e-noweight") / "pet"
    folder.mkdir()
    for src in sorted(shared_data_path(*TCIA_PET).glob("*.dcm"))[:3]:
        ds = pydicom.dcmread(src)
        del ds.PatientWeight
        ds.save_as(folder / src.name)
    return folder


@pytest.fixture(scope="session")
def truncated_dicom(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding one real PET slice cut in half (pixel data incomplete)."""
    folder = tmp_path_factory.mktemp("e2e-trunc") / "series"
    folder.mkdir()
    src = sorted(shared_data_path(*TCIA_PET).glob("*.dcm"))[0]
    data = src.read_bytes()
    (folder / src.name).write_bytes(data[: len(data) // 2])
    return folder


@pytest.fixture(scope="session")
def non_dicom_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of files that are not DICOM (one of them named .dcm)."""
    folder = tmp_path_factory.mktemp("e2e-nondicom") / "notes"
    folder.mkdir()
    (folder / "readme.txt").write_text("not an image\n")
    (folder / "scan.dcm").write_text("x\n")
    return folder


@pytest.fixture(scope="session")
def empty_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("e2e-empty") / "empty"
    folder.mkdir()
    return folder
